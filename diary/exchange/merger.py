"""Fold another copy of the diary (a second laptop's) into this one.

Merge is sync through a file: ``replica.apply(this, replica.changes(other))``.
Each entry's version vector (replica.py) says which copy holds the later
version:

- an entry new here, or changed on the other copy only (tags too), is taken
  as it is;
- an entry changed on both copies since they parted keeps both versions:
  the later edit keeps the entry, the other becomes a visible *conflict
  copy* tagged ``conflict`` (the same copy on both laptops; merging again
  makes none);
- an entry deleted on the other copy and not edited here since is deleted
  here too (into this diary's trash, where it can be restored); one edited
  here meanwhile is kept, and the merge says so.

All tags of the other copy are brought over by path, used or not.

A copied diary file takes a device id of its own when first opened for
writing (store._claim_device), so the two copies' edits are told apart.
The whole merge is one transaction, and the other file is only read: opened
read-only, its tables checked to be tables, every statement under a
watchdog (foreign.py), read in one snapshot a chunk at a time (never whole
in memory: replica.Source) and every record checked as an import checks it
before this diary's write lock is taken, then read again to be applied.
"""

import os

from .. import dates, store
from ..errors import BadInput, NotFound, PassphraseError, ReadOnly, SourcePassphraseError


def merge(diary, other_path, passphrase=None, *, progress=None):
    """Merge the diary at ``other_path`` into ``diary``; returns a replica.Report.

    Without ``passphrase`` the other file is opened with this diary's own
    (copies usually share it). A wrong one raises SourcePassphraseError.
    """
    from .. import replica  # it builds on exchange.loader: imported when first used

    other_path = os.path.abspath(other_path)
    if os.path.exists(other_path) and os.path.samefile(other_path, diary.path):
        raise BadInput("cannot merge a diary into itself")
    try:
        other = store.open_alongside(diary, other_path, passphrase=passphrase,
                                     read_only=True)
    except NotFound:
        raise BadInput("no file %s" % other_path) from None
    except PassphraseError:
        raise SourcePassphraseError("wrong passphrase for %s, or not a diary"
                                    % other_path) from None
    except ReadOnly:
        raise BadInput("%s is in an older format: open it once with this version of "
                       "diary, then merge" % other_path) from None
    from .. import tags

    # Read a chunk at a time, twice, in one snapshot of the other file:
    # every record checked before this diary's write lock is taken, then
    # applied; never the whole other diary in memory (replica.Source).
    try:
        with replica.Source(other, other_path) as src:
            paths = src.tag_paths()
            for path in paths:  # checked here to name the file: apply would only say why
                try:
                    tags.parse_path(path)
                except BadInput as exc:
                    raise BadInput("%s holds an impossible tag path \"%s\": %s"
                                   % (other_path, dates.shown(path), exc)) from None
            for i, record in enumerate(src.records(), 1):
                replica.check(record, "record %d" % i)
            if diary.read_only:
                raise ReadOnly()
            return replica.apply(diary, src.records(), progress=progress, tag_paths=paths,
                                 total=src.total)
    finally:
        other.close()
