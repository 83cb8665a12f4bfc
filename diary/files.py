"""Reading only regular files, and writing files so that a reader never sees
half of one.

Every file the program reads on a user's behalf (an import, a passphrase
file, a diary) is opened with ``open_regular``: a FIFO would hang the reader,
/dev/zero would fill memory, a device node might act on being opened.

Everything is built under a temporary name in the destination's directory
(same file system, so the final rename is atomic), fsynced, then put in
place: with ``force`` by rename over the old file, without it by a hard link
that fails if the name appeared meanwhile (never clobber). A failure or an
interrupt at any point removes the temporary and leaves the destination as
it was. New files are 0600: an export is plaintext.
"""

import contextlib
import errno
import io
import os
import stat

from .errors import DiaryError


def refuse_special(path):
    """Only a regular file is ever replaced: a FIFO, a device node (``/dev/full``
    as root), a socket or a symlink under the name stays what it is."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DiaryError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise DiaryError("%s is not a regular file (%s); only a regular file is ever "
                         "replaced" % (path, kind(st.st_mode)))


def kind(mode):
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path, *, follow=True, fifo=False, label=None):
    """``path`` opened for reading in binary, refused unless it is a regular file.

    Checked before opening (a device may act on being opened) and again on the
    open descriptor (the name may have changed in between); the open itself
    never blocks. ``follow=False`` refuses a symbolic link; ``fifo=True`` also
    takes a pipe (``--passphrase-file <(pass show diary)``). ``label`` names
    the file in errors (default: its path).
    """
    label = label or path
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError as exc:
        raise DiaryError("cannot read %s: %s" % (label, exc.strerror or exc)) from None
    _refuse_unreadable(label, st.st_mode, fifo)
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if not stat.S_ISFIFO(st.st_mode):
        flags |= os.O_NONBLOCK  # a pipe is opened to be read: waiting for its writer is right
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise DiaryError("%s is not a regular file (a symbolic link)" % label) from None
        raise DiaryError("cannot read %s: %s" % (label, exc.strerror or exc)) from None
    try:
        _refuse_unreadable(label, os.fstat(fd).st_mode, fifo)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _refuse_unreadable(path, mode, fifo):
    if stat.S_ISREG(mode) or (fifo and stat.S_ISFIFO(mode)):
        return
    raise DiaryError("%s is not a regular file (%s)" % (path, kind(mode)))


def check_target(path, *, force=False, directory=False):
    """Fail early (before any work) when ``path`` cannot be written."""
    path = os.path.abspath(os.path.expanduser(path))
    refuse_special(path)
    if os.path.isdir(path) and not directory:
        raise DiaryError("%s is a directory" % path)
    if os.path.lexists(path) and not force:
        if directory and os.path.isdir(path) and not os.listdir(path):
            return path
        raise DiaryError("%s already exists (add --force to replace it)" % path)
    if directory and os.path.lexists(path) and not os.path.isdir(path):
        raise DiaryError("%s exists and is not a directory" % path)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise DiaryError("no directory %s" % parent)
    return path


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every platform can fsync a directory
    finally:
        os.close(fd)


def temp_name(path, suffix):
    import tempfile  # here: open_regular's callers (a passphrase file) need not pay for it

    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix,
                               dir=os.path.dirname(path))
    return fd, tmp


def put_in_place(tmp, path, *, force, exists="%s already exists (add --force to replace it)"):
    """Move the finished ``tmp`` to ``path``: atomically, never clobbering without force."""
    try:
        if force:
            refuse_special(path)  # again: the name may have changed since check_target
            os.replace(tmp, path)
        else:
            move_new(tmp, path)
    except FileExistsError:
        raise DiaryError(exists % path) from None
    fsync_dir(os.path.dirname(path))


def move_new(tmp, path):
    """Rename ``tmp`` to ``path`` unless that name exists (FileExistsError).

    A hard link then an unlink is atomic and never clobbers. Where the file
    system has no hard links (FAT and exFAT sticks, some network shares) a
    check and a rename stand in: a name appearing between the two is the one
    race left there.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.rename(tmp, path)
    else:
        os.unlink(tmp)


def fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(*paths):
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def _os_error(path, exc):
    return DiaryError("cannot write %s: %s" % (path, exc.strerror or exc))


@contextlib.contextmanager
def atomic_file(path, *, force=False):
    """A text stream (UTF-8, no newline translation) that becomes ``path`` on success."""
    path = check_target(path, force=force)
    try:
        fd, tmp = temp_name(path, ".part")
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        with io.open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        put_in_place(tmp, path, force=force)
    except OSError as exc:
        remove_quietly(tmp)
        raise _os_error(path, exc) from None
    except BaseException:
        remove_quietly(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path, *, force=False):
    """A fresh private directory whose files become ``path``'s on success.

    A new (or empty) ``path`` is replaced by the whole directory in one
    rename; into an existing one (``force``) each file is renamed over its
    namesake, each of them atomically.
    """
    import shutil
    import tempfile

    path = check_target(path, force=force, directory=True)
    try:
        tmp = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".part", dir=os.path.dirname(path))
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        yield tmp
        fsync_dir(tmp)
        if os.path.isdir(path) and os.listdir(path):
            names = sorted(os.listdir(tmp))
            for name in names:  # all checked before any is replaced
                refuse_special(os.path.join(path, name))
            for name in names:
                os.replace(os.path.join(tmp, name), os.path.join(path, name))
            fsync_dir(path)
            os.rmdir(tmp)
        else:
            os.rename(tmp, path)  # an empty directory is replaced atomically
            fsync_dir(os.path.dirname(path))
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _os_error(path, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_private(directory, name, text):
    """A new 0600 file ``name`` in ``directory`` holding ``text``, fsynced."""
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with io.open(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
