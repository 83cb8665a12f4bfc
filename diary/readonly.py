"""Opening a database file read-only, without changing a byte of it, even on
read-only media (a USB stick mounted read-only, a backup in a 0555 folder).

SQLite opened plainly writes beside the file even to read it (the -wal and
-shm, removed again on closing), and on closing the last connection it folds
a -wal into the main file. So:

- in a folder it may write to, with no -wal or an empty one beside the file,
  it is opened plainly (``uri`` is None): there is nothing to fold, and it
  leaves the folder as it found it (read-only sessions still run under the
  read-only authorizer, access.py);
- with a non-empty -wal there (left by a crash, or another process is
  writing), with the URI ``mode=ro``: nothing is written to the file or its
  -wal, and closing folds nothing in;
- when its folder cannot be written, or its disk is full (no -shm can be
  made there either way), and no
  non-empty -wal lies beside it, ``mode=ro&immutable=1``: SQLite then takes
  no locks and needs no -shm;
- a non-empty -wal there holds rows that ``immutable=1`` would silently
  ignore, so then the file and its -wal are copied into a private 0700
  folder (on tmpfs: $XDG_RUNTIME_DIR or /dev/shm; both files are encrypted)
  and the copy is opened; ``Source.close`` removes it.
"""

import os

from .errors import DiaryError

# Every reading command comes here: shutil and tempfile (~5 ms of imports) are
# imported only when a private copy is made.


def uri(path, **params):
    """A SQLite file URI for ``path`` with query ``params``."""
    quoted = os.path.abspath(path)
    for char, escape in (("%", "%25"), ("?", "%3f"), ("#", "%23")):
        quoted = quoted.replace(char, escape)
    query = "&".join("%s=%s" % item for item in params.items())
    return "file:%s?%s" % (quoted, query)


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


SHM_ROOM = 64 * 1024  # a -shm is 32 KB to start with


def _room_for_shm(folder, shm):
    """Whether SQLite can make (or already has) the -shm it needs: on a full
    disk it cannot, and the file is then read as if on read-only media."""
    if _size(shm) >= SHM_ROOM // 2:
        return True
    try:
        fs = os.statvfs(folder)
    except OSError:
        return True
    return fs.f_bavail * fs.f_frsize >= SHM_ROOM


def _private_dir():
    import tempfile

    for base in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if base and os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            return tempfile.mkdtemp(prefix="diary-ro-", dir=base)  # mode 0700
    return tempfile.mkdtemp(prefix="diary-ro-")


class Source:
    """How to open ``path`` read-only: ``uri`` (for sqlcipher3.connect(uri=True)),
    or None to open the path itself; ``close()`` removes a private copy, if
    one was made."""

    def __init__(self, path):
        self.path = path
        self.copy_dir = None
        folder = os.path.dirname(os.path.abspath(path))
        wal, shm = path + "-wal", path + "-shm"
        room = _room_for_shm(folder, shm)
        if room and os.access(folder, os.W_OK):
            self.uri = None if _size(wal) == 0 else uri(path, mode="ro")
        elif room and os.path.exists(wal) and os.access(shm, os.W_OK):
            self.uri = uri(path, mode="ro")
        elif _size(wal) == 0:
            self.uri = uri(path, mode="ro", immutable=1)
        else:
            self.uri = uri(self._copy(path, wal), mode="ro")

    def _copy(self, path, wal):
        import shutil

        self.copy_dir = _private_dir()
        copy = os.path.join(self.copy_dir, "diary.db")
        try:
            shutil.copyfile(path, copy)
            shutil.copyfile(wal, copy + "-wal")
        except OSError as exc:
            where = os.path.dirname(self.copy_dir)
            self.close()
            raise DiaryError("cannot read %s from read-only media: copying it and its -wal "
                             "to %s failed: %s" % (path, where, exc.strerror or exc)) from None
        return copy

    def close(self):
        if self.copy_dir is not None:
            import shutil

            shutil.rmtree(self.copy_dir, ignore_errors=True)
            self.copy_dir = None
