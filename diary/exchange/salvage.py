"""Salvage: export every entry that still reads from a damaged diary.

    from diary.exchange import salvage
    result = salvage.salvage(path, passphrase, out, "json")
    result.saved, result.lost, result.tags_lost

``diary check`` advises "export what still reads"; a normal export stops at
the first damaged page. Salvage never writes to the damaged file: it opens
it read-only and immutable (no lock, no -wal, no -shm), or, when a -wal with
content lies beside it (immutable would ignore its rows), a private copy of
the file and its -wal. It reads the entry table by rowid ranges, never
through an index; a range that meets a damaged page is split in halves down
to single ids, so every entry whose own pages are intact is read. Tags are
read the same way; an entry whose tags cannot be read is exported without
them and counted.

How many were lost comes from the entry counts per month (kept by
triggers), else the search index's document count; when neither reads, it
is the number of ids that could not be read (an upper bound: an id may
never have been used).
"""

import dataclasses
import os
import shutil
import tempfile
import urllib.parse

import sqlcipher3

from .. import driver, store
from ..errors import DamagedFile, DiaryError, PassphraseError
from .exporter import WRITERS, _Row

CHUNK = 1000  # ids per range read


@dataclasses.dataclass
class SalvageResult:
    saved: int = 0
    lost: int = 0  # entries that could not be read
    exact: bool = True  # False: ``lost`` is a lower bound (no count of entries read)
    tags_lost: int = 0  # entries exported without their tags, which could not be read


_ENTRY = ("SELECT id, uuid, created_at, updated_at, title, body, starred, version "
          "FROM entry WHERE id BETWEEN ? AND ? ORDER BY id")
_TAGS = ("SELECT et.entry_id, t.path FROM entry_tag et JOIN tag t ON t.id = et.tag_id "
         "WHERE et.entry_id BETWEEN ? AND ?")
# Where the highest and lowest ids can be learned; any may be damaged.
_BOUNDS = ("SELECT min(id), max(id) FROM entry",
           "SELECT min(low_id), max(high_id) FROM entry_month",
           "SELECT min(rowid), max(rowid) FROM entry_fts_docsize",
           "SELECT 1, seq FROM sqlite_sequence WHERE name = 'entry'")
_TOTALS = ("SELECT sum(entries) FROM entry_month",
           "SELECT count(*) FROM entry_fts_docsize")


def salvage(path, passphrase, out, fmt, *, kdf_iter=None):
    """Write every readable entry of the diary at ``path`` to the text stream
    ``out`` in ``fmt`` (an export format), oldest id first; a SalvageResult."""
    if fmt not in WRITERS:
        raise DiaryError("unknown export format %r" % fmt)
    with _Source(path, passphrase, kdf_iter) as source:
        result = SalvageResult()
        WRITERS[fmt](out, _entries(source, result))
        total = _first_number(source, _TOTALS)
        if total is not None and total >= result.saved:
            result.lost = total - result.saved
        elif source.skipped:
            result.exact = False  # each damaged stretch held one entry at least
        return result


class _Source:
    """The damaged diary, read-only: immutable, or a private copy when a -wal
    with content exists (immutable would ignore its rows).

    A page that fails its HMAC leaves SQLCipher's connection in an error
    state: every later read of an uncached page fails too. So after each
    damaged read the connection is opened again, by the raw key (derived
    once, pages.py), which skips the key derivation: ~1 ms a time.
    """

    def __init__(self, path, passphrase, kdf_iter):
        self.path, self.passphrase = path, passphrase
        self.kdf_iter = kdf_iter or store.KDF_ITER
        self.tmp = self.conn = self.uri = self.raw = None
        self.skipped = 0  # stretches of ids stepped over

    def __enter__(self):
        try:
            self._place()
            self.conn = self._open(self.passphrase)
            salt = _salt(self.source)
            from .. import pages

            key = pages.cipher_key(self.passphrase, salt, self.kdf_iter)
            self.raw = "x'%s'" % bytes(key).hex()
            key[:] = bytes(len(key))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _place(self):
        self.source = os.path.abspath(self.path)
        try:
            wal = os.path.getsize(self.path + "-wal")
        except OSError:
            wal = 0
        try:
            if wal:
                self.tmp = tempfile.mkdtemp(prefix="diary-salvage-")
                self.source = os.path.join(self.tmp, "copy.db")
                shutil.copyfile(self.path, self.source)
                shutil.copyfile(self.path + "-wal", self.source + "-wal")
                self.uri = "file:%s?mode=ro" % urllib.parse.quote(self.source)
            else:
                self.uri = "file:%s?mode=ro&immutable=1" % urllib.parse.quote(self.source)
        except OSError as exc:
            raise DiaryError("cannot copy the diary to salvage it: %s"
                             % (exc.strerror or exc)) from None

    def _open(self, key):
        try:
            conn = store.keyed_connection(self.uri, key, self.kdf_iter, uri=True)
        except sqlcipher3.Error as exc:
            raise driver.translate(exc) from None
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlcipher3.Error as exc:
            conn.close()
            err = driver.translate(exc)
            if isinstance(err, PassphraseError):
                from .. import pages

                if pages.passphrase_fits(self.source, self.passphrase, self.kdf_iter):
                    raise DamagedFile(store.DAMAGED_FIRST_PAGE + "; nothing can be "
                                      "salvaged without it") from None
            raise err from None
        if app_id != store.APPLICATION_ID:
            conn.close()
            raise PassphraseError(driver.WRONG_KEY)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def reopen(self):
        """A fresh connection after a damaged read."""
        self.conn.close()
        self.conn = self._open(self.raw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.raw = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def _salt(path):
    with open(path, "rb") as f:
        return f.read(16)


def _damage(exc):
    """Whether a driver error means a page that cannot be read (corrupt, or
    failing its HMAC); any other error is raised."""
    code = driver.driver_code(exc)
    return code is not None and code & 0xFF in (driver.SQLITE_CORRUPT, driver.SQLITE_NOTADB)


def _fetch(source, sql, args):
    """The rows of ``sql``, or None when a damaged page stops it (the
    connection is then opened again)."""
    try:
        return source.conn.execute(sql, args).fetchall()
    except sqlcipher3.DatabaseError as exc:
        if not _damage(exc):
            raise
        source.reopen()
        return None


_SCAN = _ENTRY.replace("BETWEEN ? AND ?", ">= ? AND id <= ?")


def _scan_entries(source, low, high):
    """Entry rows with ids low..high in id order, stepping over damage: after a
    read that fails at id x, the smallest y > x whose row reads is found by
    bisection (a seek for y lands past the damaged page), and the scan goes
    on from y. A few reopens per damaged page, however many ids it held."""
    x = low
    while x <= high:
        try:
            for row in source.conn.execute(_SCAN, (x, high)):
                yield row
                x = row[0] + 1
            return
        except sqlcipher3.DatabaseError as exc:
            if not _damage(exc):
                raise
            source.reopen()
        # The first row at or after x cannot be read: find where reading resumes.
        bad, good = x, high + 1  # the row of `bad` fails; `good` is past the end
        while good - bad > 1:
            middle = (bad + good) // 2
            if _fetch(source, _SCAN + " LIMIT 1", (middle, high)) is None:
                bad = middle
            else:
                good = middle
        source.skipped += 1
        x = good


def _bounds(source):
    lows, highs = [], []
    for sql in _BOUNDS:
        try:
            rows = _fetch(source, sql, ())
        except sqlcipher3.Error:  # no such table (an older schema): try the next
            continue
        if rows and rows[0][0] is not None and rows[0][1] is not None:
            lows.append(rows[0][0])
            highs.append(rows[0][1])
    return (max(1, min(lows)), max(highs)) if lows else None


def _first_number(source, queries):
    for sql in queries:
        try:
            rows = _fetch(source, sql, ())
        except sqlcipher3.Error:
            continue
        if rows and rows[0][0] is not None:
            return rows[0][0]
    return None


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _entries(source, result):
    """Every readable entry as an export row, counting into ``result``."""
    bounds = _bounds(source)
    if bounds is None:
        return
    unreadable = 0
    for rows in _chunks(_scan_entries(source, *bounds), CHUNK):
        tags, untagged = _tag_paths(source, rows[0][0], rows[-1][0])
        for row in rows:
            try:
                entry = _Row(row + ("\n".join(tags.get(row[0], ())),))
            except (TypeError, ValueError):  # a value no export can hold: lost
                unreadable += 1
                continue
            result.saved += 1
            result.tags_lost += row[0] in untagged
            yield entry
    result.lost = unreadable + source.skipped


def _tag_paths(source, low, high):
    """{entry id: [paths]} for ids low..high, and the ids whose tags could not
    be read: a range that meets a damaged page is split in halves down to
    single ids."""
    found, untagged = {}, set()
    stack = [(low, high)]
    while stack:
        a, b = stack.pop()
        rows = _fetch(source, _TAGS, (a, b))
        if rows is None:
            if a == b:
                untagged.add(a)
            else:
                middle = (a + b) // 2
                stack.extend(((middle + 1, b), (a, middle)))
            continue
        for entry_id, path in rows:
            found.setdefault(entry_id, []).append(path)
    return found, untagged
