"""A verified encrypted copy of the open diary.

The copy is made under a temporary name beside the destination
(store.copy_to: same passphrase, same key settings), opened and put through
every health check (health.problems), and only then renamed into place. A
failure at any point leaves no copy and no temporary behind.
"""

import dataclasses
import os

from .. import health, store
from ..errors import BadInput, DamagedFile
from .. import files


@dataclasses.dataclass
class BackupResult:
    path: str
    entries: int
    size: int


def backup(diary, dest, *, force=False, progress=None):
    """Copy ``diary`` to ``dest``; returns a BackupResult.

    ``progress(done, total)`` counts pages: those copied, then the copy's
    checks as the same number again (they read every page)."""
    dest = files.check_target(dest, force=force)
    if os.path.exists(dest) and os.path.samefile(dest, diary.path):
        raise BadInput("the backup cannot be the diary itself")
    fd, tmp = files.temp_name(dest, ".backup")
    os.close(fd)  # an empty 0600 file: SQLite takes an empty file as a new database
    leftovers = (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal")
    try:
        pages = [0]

        def copied(done, total):
            pages[0] = total
            progress(done, 2 * total)

        store.copy_to(diary, tmp, progress=copied if progress else None)

        def checked(done, total):
            progress(pages[0] + pages[0] * done // total, 2 * pages[0])

        found, count = _verify(diary, tmp, checked if progress and pages[0] else None)
        if found:
            raise DamagedFile("the copy failed its checks, so none was kept: %s" % found[0])
        size = os.path.getsize(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        files.put_in_place(tmp, dest, force=force)
    except BaseException:
        files.remove_quietly(*leftovers)
        raise
    files.remove_quietly(*leftovers[1:])
    return BackupResult(dest, count, size)


def _verify(diary, path, progress=None):
    copy = store.open_alongside(diary, path)
    try:
        found = health.problems(copy, dates=False, progress=progress)  # a bad date is copied as it is
        count = copy.db.connection().execute("SELECT count(*) FROM entry").fetchone()[0]
        return found, count
    finally:
        copy.close()
