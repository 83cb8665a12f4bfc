"""Fold another copy of the diary (a second laptop's) into this one.

Entries are matched by uuid. For each entry of the other copy:

- not here: added, as it is (same uuid, dates, tags);
- here with the same date, title, text and star: its tags are joined
  (nothing to do when the other has no tag this one lacks);
- here with different content: the newer edit (``updated_at``; on a tie, a
  fixed order of the two contents) wins the entry, and the other version is
  kept as a *conflict copy*: a new entry titled "Conflict copy of ...", with
  the losing version's text, dates, star and tags, plus the tag
  ``conflict``. Its uuid is derived from the original's uuid and the losing
  content, so both laptops make the same copy, and merging again (either
  way) makes none.

All tags of the other copy are brought over by path, used or not. Nothing is
deleted: an entry deleted on one copy only comes back from the other. The
whole merge is one transaction, and the other file is only read.

The models stay bound to this diary; the other file is read with plain SQL on
its own connection, in one read transaction (a consistent snapshot even if
another process is writing to it), under a watchdog (foreign.py): its tables
must be tables, and its tag paths and entry count are read before this
diary's write lock is taken.
"""

import dataclasses
import os

from .. import dates, entries, foreign, store
from ..errors import BadInput, NotFound, PassphraseError, ReadOnly, SourcePassphraseError
from .loader import TAG_PATHS, Loader, derived_uuid, digest

CONFLICT_TAG = "conflict"

_TAG_PATHS = "SELECT path FROM tag ORDER BY path"
_ENTRIES = ("SELECT uuid, created_at, updated_at, title, body, starred, %s "
            "FROM entry ORDER BY id" % TAG_PATHS)


@dataclasses.dataclass
class MergeStats:
    added: int = 0      # entries new here
    updated: int = 0    # entries here replaced by a newer edit from the other copy
    conflicts: int = 0  # conflict copies made (of whichever version lost)
    retagged: int = 0   # same entry, tags joined
    unchanged: int = 0


@dataclasses.dataclass
class Version:
    """One version of an entry, as stored (UTC timestamp text)."""

    created: str
    updated: str
    title: str
    body: str
    starred: bool
    tags: tuple

    def keys(self):
        return {t.casefold() for t in self.tags}

    def identity(self):
        return digest(self.created, self.title, self.body, str(int(self.starred)),
                      *sorted(self.keys()))

    def same_content(self, other):
        return ((self.created, self.title, self.body, self.starred)
                == (other.created, other.title, other.body, other.starred))


def _version(created, updated, title, body, starred, tags):
    return Version(created, updated, title, body, bool(starred),
                   tuple(t for t in tags.split("\n") if t))


def _theirs(uuid, created, updated, *rest):
    """A version from the other file, its dates checked and in the stored form
    (dates.canonical): text another tool wrote there is refused, naming the entry."""
    where = "entry %s of the other diary" % dates.shown(uuid)
    return _version(dates.canonical(created, where, "created_at"),
                    dates.canonical(updated, where, "updated_at"), *rest)


def merge(diary, other_path, passphrase=None, *, progress=None):
    """Merge the diary at ``other_path`` into ``diary``; returns MergeStats.

    Without ``passphrase`` the other file is opened with this diary's own
    (copies usually share it). A wrong one raises SourcePassphraseError.
    """
    other_path = os.path.abspath(other_path)
    if os.path.exists(other_path) and os.path.samefile(other_path, diary.path):
        raise BadInput("cannot merge a diary into itself")
    try:
        other = store.open_alongside(diary, other_path, passphrase=passphrase, bound=False,
                                     read_only=True)
    except NotFound:
        raise BadInput("no file %s" % other_path) from None
    except PassphraseError:
        raise SourcePassphraseError("wrong passphrase for %s, or not a diary"
                                    % other_path) from None
    except ReadOnly:
        raise BadInput("%s is in an older format: open it once with this version of "
                       "diary, then merge" % other_path) from None
    try:
        return _merge(diary, foreign.Watchdog(other.connection(), other_path), progress)
    finally:
        other.close()


def _merge(diary, watchdog, progress):
    stats = MergeStats()
    src = watchdog.conn
    src.execute("BEGIN")  # one snapshot of the other file
    try:
        # Read before the write lock: a source that hangs or fails keeps no one waiting.
        foreign.require_tables(src, ("entry", "tag", "entry_tag"), watchdog.name)
        paths = [path for (path,) in watchdog.execute(_TAG_PATHS)]
        (total,) = next(watchdog.execute("SELECT count(*) FROM entry"))
        with diary.write(), Loader(diary).roomy_cache() as loader:
            for path in paths:
                loader.tag(path)
            done = 0
            for uuid, *row in watchdog.execute(_ENTRIES):
                _fold(loader, uuid, _theirs(uuid, *row), stats)
                done += 1
                if progress and done % 500 == 0:
                    progress(done, total)
            if progress:
                progress(done, total)
    finally:
        src.execute("COMMIT")
    return stats


def _fold(loader, uuid, theirs, stats):
    found = loader.find(uuid)
    if found is None:
        _insert(loader, uuid, theirs)
        stats.added += 1
        return
    entry_id, *row, version = found
    ours = _version(*row)
    if ours.same_content(theirs):
        if theirs.keys() <= ours.keys():
            stats.unchanged += 1
        else:
            _join_tags(loader, entry_id, ours, theirs)
            stats.retagged += 1
        return
    if (theirs.updated, theirs.identity()) > (ours.updated, ours.identity()):
        stats.conflicts += _conflict_copy(loader, uuid, ours)
        _replace(loader, entry_id, version, theirs)
        stats.updated += 1
    else:
        stats.conflicts += _conflict_copy(loader, uuid, theirs)


def _insert(loader, uuid, v, title=None, extra_tags=()):
    title = v.title if title is None else title
    links = loader.resolve_tags(v.tags + tuple(extra_tags), title + "\n" + v.body)
    loader.insert(uuid, v.created, v.updated, title, v.body, v.starred, links)


def _conflict_copy(loader, uuid, loser):
    """Keep the losing version as its own entry; 1 if made, 0 if it exists already."""
    copy_uuid = derived_uuid("conflict", uuid, loser.identity())
    if loader.find(copy_uuid) is not None:
        return 0
    name = loser.title if loser.title.strip() else "the entry of %s" % (
        dates.local(store.Entry.created_at.python_value(loser.created))
        .strftime("%Y-%m-%d %H:%M"))
    _insert(loader, copy_uuid, loser, title="Conflict copy of " + name,
            extra_tags=(CONFLICT_TAG,))
    return 1


def _replace(loader, entry_id, version, v):
    links = loader.resolve_tags(v.tags, v.title + "\n" + v.body)
    loader.conn.execute("DELETE FROM entry_tag WHERE entry_id = ?", (entry_id,))
    row = entries.row(None, v.created, v.updated, v.title, v.body, v.starred, version + 1,
                      loader.tags_text(links))
    loader.conn.execute(  # the row but its uuid, which stays
        "UPDATE entry SET %s WHERE id = ?" % ", ".join(
            "%s = ?" % c for c in entries.ROW_COLUMNS[1:]), (*row[1:], entry_id))
    if links:
        loader.link(entry_id, links)


def _join_tags(loader, entry_id, ours, theirs):
    links = loader.resolve_tags(ours.tags + theirs.tags, ours.title + "\n" + ours.body)
    have = ours.keys()
    loader.link(entry_id, {k: v for k, v in links.items() if k not in have})
    # The later of the two edit times, so both copies end up alike.
    loader.conn.execute("UPDATE entry SET tags = ?, updated_at = ? WHERE id = ?",
                        (loader.tags_text(links), max(ours.updated, theirs.updated), entry_id))
