"""A fresh private directory on memory-backed storage, for plaintext that must
never reach the disk (the external editor's file; later the agent's socket).

    where = private_dir.make("edit", environ, allowed_on_disk=settings.get("editor_tmpdir"))
    ...
    private_dir.wipe(where)

The place is ``$XDG_RUNTIME_DIR``, then (it is often unset: su, cron, ssh
without pam_systemd) ``/run/user/UID`` when it is ours and 0700, then
``/dev/shm``, each only when the file system under it is really tmpfs or ramfs: the type is read from
``/proc/self/mountinfo`` (the mount that holds the path, longest mount point
first), never guessed from a name. With none, ``NoPrivatePlace`` says how to
allow a directory on disk explicitly (the ``editor_tmpdir`` setting); there is
no silent fallback.

A directory is named ``diary-KIND-PID-RANDOM`` and made 0700 (``mkdtemp``);
``leftovers`` finds those of processes that are gone (a crash, SIGKILL), for
the caller to offer and then ``wipe``. tmpfs pages can still reach swap: the
README says so.

``shared(kind, environ)`` is the one directory of ``kind`` for this user,
``diary-KIND.UID``, found again by later processes (the agent's socket).
"""

import os
import re
import stat

from .errors import DiaryError

MEMORY_TYPES = ("tmpfs", "ramfs")
CONFIG_KEY = "editor_tmpdir"
SHM = "/dev/shm"
RUN_USER = "/run/user"  # systemd's runtime directories, /run/user/UID
# A private directory's name (compiled where used: every command that asks
# the agent imports this module, and none of them looks for leftovers).
_NAME = r"^diary-(?P<kind>[a-z]+)-(?P<pid>[0-9]+)-[A-Za-z0-9_]+$"


class NoPrivatePlace(DiaryError):
    """No memory-backed directory here, and none allowed on disk."""


def _unescape(field):
    # mountinfo escapes space, tab, newline and backslash as \ooo
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts(mountinfo="/proc/self/mountinfo"):
    """[(mount point, file system type)] from mountinfo, in file order; [] when unreadable."""
    found = []
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split(" ")
        try:
            dash = fields.index("-")
            found.append((_unescape(fields[4]), fields[dash + 1]))
        except (ValueError, IndexError):
            continue
    return found


def fs_type(path, mountinfo="/proc/self/mountinfo"):
    """The file system type holding ``path`` (symlinks resolved), or None."""
    real = os.path.realpath(path)
    best, kind = -1, None
    for point, fstype in mounts(mountinfo):  # a later mount on the same point hides earlier
        inside = real == point or point == "/" or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best:
            best, kind = len(point), fstype
    return kind


def memory_backed(path, mountinfo="/proc/self/mountinfo"):
    return os.path.isdir(path) and fs_type(path, mountinfo) in MEMORY_TYPES


def candidates(environ):
    """The memory-backed places to try, in order (they may not exist)."""
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    found = [runtime] if os.path.isabs(runtime) else []
    user_run = os.path.join(RUN_USER, str(os.getuid()))
    if not found and _private_of_ours(user_run):
        found.append(user_run)  # systemd's runtime directory, the variable unset
    return found + [SHM]


def _private_of_ours(path):
    """A real directory (no symlink) of ours that no one else may enter."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
            and not st.st_mode & 0o077)


def safe_parent(path):
    """Whether only we (and root) can rename what we make in ``path``: it is
    ours or root's, and others who may write to it are held by the sticky bit.
    Otherwise its owner, or anyone allowed to write to it, could move our
    private directory away and put their own (or a symlink) under its name."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if st.st_uid not in (os.getuid(), 0):
        return False
    return not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)) or bool(st.st_mode & stat.S_ISVTX)


def base(environ, allowed_on_disk=None, mountinfo="/proc/self/mountinfo"):
    """The directory to make private directories in; NoPrivatePlace when none."""
    if allowed_on_disk:
        if not os.path.isdir(allowed_on_disk):
            raise NoPrivatePlace("%s (the %s setting) is not a directory"
                                 % (allowed_on_disk, CONFIG_KEY))
        allowed_on_disk = os.path.realpath(allowed_on_disk)
        if not safe_parent(allowed_on_disk):
            raise NoPrivatePlace("%s (the %s setting) must be owned by you or root, and "
                                 "others who may write to it held by the sticky bit"
                                 % (allowed_on_disk, CONFIG_KEY))
        return allowed_on_disk
    for place in candidates(environ):
        # resolved once: a symlink in the path is not followed again later
        place = os.path.realpath(place)
        if (memory_backed(place, mountinfo) and os.access(place, os.W_OK | os.X_OK)
                and safe_parent(place)):
            return place
    raise NoPrivatePlace(
        "no memory-backed directory for the editor's file (%s: none is a writable tmpfs or "
        "ramfs, owned by you or root, that others cannot write to without the sticky bit); "
        "to allow a directory on disk, set %s = \"/some/dir\" in the config file or "
        "DIARY_EDITOR_TMPDIR=/some/dir (the text is then on that disk until it is wiped)"
        % (" or ".join(candidates(environ)), CONFIG_KEY))


def make(kind, environ, allowed_on_disk=None, mountinfo="/proc/self/mountinfo"):
    """A fresh 0700 directory in ``base``; its path."""
    import tempfile  # not for shared(): the agent's clients start fast

    where = base(environ, allowed_on_disk, mountinfo)
    try:
        made = tempfile.mkdtemp(prefix="diary-%s-%d-" % (kind, os.getpid()), dir=where)
    except OSError as exc:
        raise NoPrivatePlace("cannot make a private directory in %s: %s"
                             % (where, exc.strerror)) from None
    os.chmod(made, 0o700)
    return made


def shared(kind, environ, create=True, mountinfo="/proc/self/mountinfo"):
    """This user's one 0700 directory of ``kind`` in ``base``, made when
    missing (``create``); None when missing and not made. NoPrivatePlace when
    something else holds its name (another user's directory, a symlink, a
    directory others may enter): never used, never changed."""
    try:
        place = base(environ, None, mountinfo)
    except NoPrivatePlace:
        # base's message is the editor's (its editor_tmpdir setting): this
        # directory has no such setting, it is never put on disk
        raise NoPrivatePlace(
            "no memory-backed directory for the %s (%s: none is a writable tmpfs or ramfs, "
            "owned by you or root, that others cannot write to without the sticky bit); "
            "set XDG_RUNTIME_DIR to one" % (kind, " or ".join(candidates(environ)))) from None
    where = os.path.join(place, "diary-%s.%d" % (kind, os.getuid()))
    if create:
        try:
            os.mkdir(where, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise NoPrivatePlace("cannot make %s: %s" % (where, exc.strerror)) from None
    elif not os.path.lexists(where):
        return None
    if not _private_of_ours(where):
        raise NoPrivatePlace("%s is not a private directory of yours (a 0700 directory, "
                             "no symlink): remove it, or find out who made it" % where)
    return where


def find_shared(kind, environ):
    """The directory ``shared`` made earlier, or None; looked for in each
    candidate place without reading the mount table again: ``shared`` checked
    the place when it made the directory, and only a private directory of
    ours (0700, no symlink) is taken."""
    name = "diary-%s.%d" % (kind, os.getuid())
    for place in candidates(environ):
        where = os.path.join(os.path.realpath(place), name)
        if _private_of_ours(where):
            return where
    return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(kind, environ, allowed_on_disk=None):
    """Private directories of ``kind`` left by processes that are gone: [path].
    Looked for where ``make`` would make one now (the same settings find them)."""
    found = []
    try:
        places = [base(environ, allowed_on_disk)]
    except NoPrivatePlace:
        return found
    for place in places:
        try:
            names = sorted(os.listdir(place))
        except OSError:
            continue
        for name in names:
            m = re.match(_NAME, name)
            if not m or m.group("kind") != kind:
                continue
            path = os.path.join(place, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid()
                    or int(m.group("pid")) == os.getpid() or _alive(int(m.group("pid")))):
                continue
            found.append(path)
    return found


def wipe_file(path):
    """Overwrite a regular file with zeros, then remove it (never follows a symlink)."""
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        fd = None
    if fd is not None:
        try:
            size = os.fstat(fd).st_size
            zeros = b"\0" * min(size, 1 << 20)
            left = size
            while left > 0:
                left -= os.write(fd, zeros[:min(left, len(zeros))])
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def wipe(directory):
    """Overwrite and remove everything in ``directory`` (an editor's own files
    too), then the directory itself. Never raises for what is already gone."""
    for root, dirs, files in os.walk(directory, topdown=False):
        for name in files:
            try:
                wipe_file(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            path = os.path.join(root, name)
            try:
                if os.path.islink(path):
                    os.unlink(path)
                else:
                    os.rmdir(path)
            except OSError:
                pass
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        pass
