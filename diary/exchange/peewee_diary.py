"""The encrypted diary of peewee's example program (``examples/diary.py``).

That program keeps one table, ``entry (id, content, timestamp)``, in a
SqlCipherDatabase keyed with the user's passphrase; ``timestamp`` is a naive
local time as peewee writes it (``2024-03-02 21:30:00.123456``). Versions of
the example differ in their SQLCipher settings, so the key is tried with
SQLCipher 4's defaults, then with kdf_iter = 64000 (what the example once
set), then with SQLCipher 3's settings (files made before SQLCipher 4). The
file is opened read-only: an import never changes its source. Its ``entry``
must be a table (a view might never end), and every statement runs under a
watchdog (foreign.py): Ctrl-C and a stall stop it.

Each row becomes an entry with the content as its text and no title (the
example has none); ``#tags`` in the text become tags, as in `diary add`.
"""

import sqlcipher3

from .. import dates, files, foreign, readonly, store
from ..errors import SourcePassphraseError
from .records import Record, fail

ATTEMPTS = (
    (),
    ("PRAGMA kdf_iter = 64000",),
    ("PRAGMA cipher_compatibility = 3",),
)


# Our own diary files are SQLCipher files too, and look the same from outside.
_OURS = "a diary of this program is folded in with `diary merge FILE`, not imported"


def _connect(path, uri, passphrase):
    with files.open_regular(path) as f:
        plain = f.read(16) == store.SQLITE_HEADER
    if plain:  # an unencrypted peewee diary: nothing to unlock
        conn = sqlcipher3.connect(uri, uri=True, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    if not passphrase:
        fail("", "a passphrase is needed for %s" % path)
    for pragmas in ATTEMPTS:
        conn = store.keyed_connection(uri, passphrase, uri=True, pragmas=pragmas)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlcipher3.DatabaseError:
            conn.close()
    raise SourcePassphraseError("wrong passphrase for %s, or not a peewee diary (%s)"
                                % (path, _OURS))


def needs_passphrase(path):
    with files.open_regular(path) as f:
        return f.read(16) != store.SQLITE_HEADER


def read(path, passphrase):
    """Records from the peewee diary at ``path``, oldest first."""
    source = readonly.Source(path)  # read-only, even on read-only media
    try:
        try:
            conn = _connect(path, source.uri or readonly.uri(path, mode="ro"), passphrase)
        except OSError as exc:
            fail("", "cannot read %s: %s" % (path, exc.strerror or exc))
        except sqlcipher3.Error as exc:  # a damaged or truncated SQLite file
            fail("", "cannot read %s as a database: %s" % (path, exc))
        try:
            yield from _rows(foreign.Watchdog(conn, path), path)
        except sqlcipher3.Error as exc:
            fail("", "cannot read %s as a database: %s" % (path, exc))
        finally:
            conn.close()
    finally:
        source.close()


def _rows(watchdog, path):
    conn = watchdog.conn
    foreign.require_tables(conn, ("entry",), path)
    columns = {row[1] for row in watchdog.execute("PRAGMA table_info(entry)")}
    if {"uuid", "body"} <= columns:
        fail("", "%s is not a peewee diary (%s)" % (path, _OURS))
    if not {"content", "timestamp"} <= columns:
        fail("", "%s is not a peewee diary: it has no table entry (content, timestamp)"
             % path)
    conn.execute("BEGIN")  # one snapshot, whatever else has the file open
    rows = watchdog.execute("SELECT content, timestamp FROM entry ORDER BY timestamp, id")
    for number, (content, timestamp) in enumerate(rows, 1):
        where = "entry %d" % number
        if not isinstance(content, str):
            fail(where, "content is not text")
        yield Record(created_at=_time(timestamp, where), body=content, inline=True,
                     where=where)


def _time(value, where):
    if isinstance(value, str):
        return dates.parse_iso(value, where, "timestamp")
    fail(where, "timestamp %r is not a date and time" % (value,))
