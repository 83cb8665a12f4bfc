"""The files of a sync folder (syncfolder.py): their names, writing one
atomically, reading one safely, listing them.

    <tag>.<seq>.dsync   <tag>.<epoch>.dkey   and sync tools' copies of either:
    "<name> (host's conflicted copy 2026-12-06).dsync" (Dropbox),
    "<name>.sync-conflict-20261206-101010-ABCDEFG.dsync" (Syncthing)

A file is written under ``.<name>.tmp-<random>`` in the folder, fsynced, then
renamed to its name, which only its writer ever uses; nothing else is ever
created in the folder.
"""

import contextlib
import errno
import os
import re
import secrets
import time
from dataclasses import dataclass

from . import synccrypt
from .errors import DiaryError, DiskFull, NotFound
from .files import fsync_dir, open_regular

_NAME = re.compile(r"^(?P<tag>[0-9a-f]{16})\.(?P<seq>[0-9]{8,12})(?P<copy>.*)"
                   r"\.(?P<ext>dsync|dkey)$")
STALE = 600  # seconds after which a temporary of ours is a killed sync's


@dataclass
class _File:
    name: str
    tag: str
    seq: int
    copy: str
    ext: str
    size: int

    @property
    def canonical(self):
        return "%s.%08d.%s" % (self.tag, self.seq, self.ext)


def check_folder(folder):
    """The folder's absolute path; an error when it is missing or not writable."""
    folder = os.path.abspath(os.path.expanduser(folder))
    if not os.path.isdir(folder):
        if os.path.lexists(folder):
            raise DiaryError("the sync folder %s is not a directory" % folder)
        raise NotFound("no sync folder %s (create it, or mount the drive that holds it)"
                       % folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DiaryError("the sync folder %s is not writable" % folder)
    return folder


@contextlib.contextmanager
def turn(folder):
    """Within the block, no other sync through ``folder`` runs on this machine
    (an advisory lock on the folder itself, released by the kernel when a sync
    is killed); True when held. Two syncs of one diary at once would number
    their files alike and each take the other's for a copy's. Where the file
    system has no such locks, False: the sync runs as before."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise DiaryError("cannot read the sync folder %s: %s" % (folder, exc.strerror)) from None
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except (BlockingIOError, PermissionError):
            raise DiaryError("another sync through %s is running on this machine; sync again "
                             "when it ends" % folder) from None
        except (ImportError, OSError):
            held = False
        yield held
    finally:
        os.close(fd)


def listing(folder):
    """[_File] of the folder's sync files, temporaries and strangers left out."""
    found = []
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise DiaryError("cannot read the sync folder %s: %s" % (folder, exc.strerror)) from None
    for name in sorted(names):
        m = _NAME.match(name)
        if not m:
            continue
        try:
            size = os.lstat(os.path.join(folder, name)).st_size
        except OSError:
            continue
        found.append(_File(name, m.group("tag"), int(m.group("seq")), m.group("copy"),
                           m.group("ext"), size))
    return found


def _write(folder, name, data):
    """``data`` into ``folder/name``: a temporary name, fsync, rename, fsync the
    folder. The name is new (ours alone); nothing half written stays behind."""
    tmp = os.path.join(folder, ".%s.tmp-%s" % (name, secrets.token_hex(4)))
    final = os.path.join(folder, name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.lexists(final):
            raise DiaryError("%s already exists in the sync folder" % name)
        os.rename(tmp, final)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise DiskFull("no room in the sync folder %s (%s); nothing was written"
                               % (folder, exc.strerror)) from None
            raise DiaryError("cannot write into the sync folder %s: %s"
                             % (folder, exc.strerror)) from None
        raise
    fsync_dir(folder)
    return len(data)


def _remove(folder, name):
    try:
        os.unlink(os.path.join(folder, name))
        return 1
    except (FileNotFoundError, IsADirectoryError):
        return 0  # a directory under a file's name is no file of ours
    except OSError as exc:
        raise DiaryError("cannot remove %s from the sync folder: %s"
                         % (name, exc.strerror)) from None


def _read(folder, f):
    if f.size > synccrypt.MAX_FILE:
        raise synccrypt.Unreadable("too large to be a sync file")
    try:
        with open_regular(os.path.join(folder, f.name), follow=False) as stream:
            # the header first: junk (anyone can drop some) is not read whole
            head = stream.read(len(synccrypt.MAGIC))
            if head != synccrypt.MAGIC:
                raise synccrypt.Unreadable("truncated or not a sync file")
            return head + stream.read(synccrypt.MAX_FILE + 1 - len(head))
    except DiaryError as exc:
        raise synccrypt.Unreadable(str(exc)) from None


def _remove_stale_temporaries(folder, tag, alone=False):
    """What a sync of ours killed half way left (a power cut, SIGKILL): only
    our own; at once when ``alone`` (turn() held: no other sync here is
    writing one), else only old ones (another process may be syncing now)."""
    prefix = ".%s." % tag
    for name in os.listdir(folder):
        if name.startswith(prefix) and ".tmp-" in name:
            path = os.path.join(folder, name)
            try:
                if alone or time.time() - os.lstat(path).st_mtime > STALE:
                    os.unlink(path)
            except OSError:
                pass
