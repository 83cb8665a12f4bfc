"""Driver errors as the errors a user sees (errors.py), told by SQLite's
result code, never by the wording of a message::

    try:
        conn.execute(...)
    except sqlcipher3.Error as exc:
        raise driver.translate(exc) from None

store re-exports ``translate`` and the codes: ``store.translate`` is what the
rest of the library calls.
"""

import sqlcipher3
from peewee import PeeweeException

from .errors import (BadInput, Busy, DamagedFile, Denied, DiaryError, DiskFull,
                     PassphraseError, ReadOnly)

WRONG_KEY = "wrong passphrase, or not a diary file"

# SQLite's primary result codes (sqlite3.h); the driver reports the extended
# code, whose low byte is the primary one.
SQLITE_OK, SQLITE_ERROR, SQLITE_NOMEM, SQLITE_READONLY, SQLITE_IOERR = 0, 1, 7, 8, 10
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 5, 6, 11, 13, 14
SQLITE_TOOBIG, SQLITE_AUTH, SQLITE_NOTADB = 18, 23, 26
SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ = 266, 522

BUSY = "the diary is busy: another process is writing to it; try again"


def driver_code(exc):
    """The (extended) SQLite result code of a driver error, or None.

    sqlcipher3's exceptions carry it as ``sqlite_errorcode``; peewee wraps
    them in its own classes with the driver's exception as the first
    argument (and as the context).
    """
    todo, seen = [exc], set()
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        code = getattr(e, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code
        todo.extend(a for a in e.args if isinstance(a, BaseException))
        todo.extend((e.__cause__, e.__context__))
    return None


def translate(exc):
    """Map a driver exception to the error a user should see, by its SQLite
    result code, never by its message text; anything else is returned as it
    is (an internal error: a bug of ours)."""
    if isinstance(exc, DiaryError):
        return exc
    if not isinstance(exc, (sqlcipher3.Error, PeeweeException)):
        return exc
    code = driver_code(exc)
    if code is None:
        return exc
    primary = code & 0xFF
    if primary == SQLITE_NOTADB or code == SQLITE_OK:
        # SQLITE_OK raised as an error: SQLCipher failing to set up a key.
        return PassphraseError(WRONG_KEY)
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return Busy(BUSY)
    if primary == SQLITE_CORRUPT:
        return DamagedFile("the diary file is damaged (%s); run `diary check`" % exc)
    if primary in (SQLITE_AUTH, SQLITE_ERROR):
        # The authorizer remembers what it refused: a denied function comes
        # back as a plain SQLITE_ERROR, a denied read as SQLITE_AUTH.
        from .access import take_denial

        what = take_denial()
        if what:
            return Denied("refused in a read-only session: %s" % what)
        if primary == SQLITE_AUTH:
            return ReadOnly()
    if primary == SQLITE_READONLY:
        return ReadOnly("the diary file or its directory is read-only (SQLite keeps its "
                        "-wal and -shm files beside the diary, even to read it)")
    if primary == SQLITE_CANTOPEN:
        return DiaryError("cannot open the diary file (or the -wal and -shm files SQLite "
                          "keeps beside it)")
    if primary == SQLITE_FULL:
        return DiskFull("cannot write the diary: the disk is full; nothing was written")
    if code in (SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ):
        return DiaryError("cannot read the diary file: disk I/O error")
    if primary == SQLITE_IOERR:
        return DiaryError("cannot write the diary (disk I/O error: is the disk full, or a "
                          "file-size limit reached?); nothing was written")
    if primary == SQLITE_NOMEM:
        return DiaryError("not enough memory")
    if primary == SQLITE_TOOBIG:
        return BadInput("a text or value is too large for the diary")
    return exc
