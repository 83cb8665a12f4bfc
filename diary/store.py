"""The encrypted file: peewee models, unlock/create/rekey, schema and migrations.

A diary is one SQLCipher 4 file with SQLCipher's default settings, so any
SQLCipher 4 tool opens it with ``PRAGMA key``. Usage::

    from diary import store
    store.create("~/diary.db", "correct horse")        # a new, empty diary
    with store.open_diary("~/diary.db", "correct horse") as d:
        with d.write():                                 # BEGIN IMMEDIATE ... COMMIT
            ...                                         # peewee queries on the models

Two diaries may be open at once (merge, sync): the peewee models are bound
to the diary opened last, and ``with d.bound():`` binds them to ``d`` for a
block, then back. ``d.write()`` and ``d.read()`` bind too, so every library
function that opens its transaction with them acts on the diary it was
given, whichever was opened last; a caller holding two diaries wraps in
``d.bound()`` only the few reads that open no transaction (entries.get,
entries.select, entries.count). One binding at a time
for the whole process: the diary does not use the models from two threads.

The rules kept here: the log level is silenced before the
key is given; the key is verified with a read before anything else runs; an
empty passphrase is never handed to SQLCipher (peewee would then silently write
a plaintext file); temporary tables stay in memory; ``rekey`` runs on the raw
connection so that no logger ever sees the new passphrase.
"""

import contextlib
import logging
import os
import re
import stat

import sqlcipher3
from peewee import (BooleanField, CompositeKey, Field, ForeignKeyField,
                    IntegerField, Model, TextField, fn)
from playhouse.sqlcipher_ext import SqlCipherDatabase

from . import dates
from .driver import SQLITE_NOTADB, WRONG_KEY, driver_code, translate
from .errors import (Busy, DamagedFile, DiaryError, DiskFull, NeedsUpgrade, NotFound,
                     PassphraseError, ReadOnly, SchemaTooNew, WeakPassphrase)
from .schema import LINEAGE_OF_INSERTED, MIGRATIONS, SCHEMA_VERSION


APPLICATION_ID = 0x44494152  # "DIAR": marks a file as a diary, not any SQLCipher file
SQLITE_HEADER = b"SQLite format 3\x00"

# peewee logs every statement with its parameters at DEBUG: entry text, and the
# passphrase of its rekey(). Whatever logging a host program configures, that
# logger never runs below INFO.
logging.getLogger("peewee").setLevel(logging.INFO)

# Tests lower the key-derivation cost for speed; the product never sets this.
KDF_ITER = None

# Seconds a connection waits for another process's write lock before "busy".
BUSY_TIMEOUT = 10


def check_new_passphrase(passphrase):
    """Refuse what must never become a key: empty, blank, or holding a NUL."""
    if not passphrase or not passphrase.strip():
        raise WeakPassphrase("the passphrase must not be empty or blank")
    if "\x00" in passphrase:
        raise WeakPassphrase("the passphrase must not contain a NUL character")
    if _RAW_FORM.fullmatch(passphrase):
        raise WeakPassphrase("the passphrase must not have SQLCipher's raw key form x'<hex>' "
                             "(it would be used as a key without derivation)")


# What SQLCipher takes as a raw key instead of a passphrase: 32 key bytes, or
# key and 16 salt bytes, in hex.
_RAW_FORM = re.compile(r"[xX]'([0-9a-fA-F]{64}|[0-9a-fA-F]{96})'")


def _key_literal(passphrase):
    return "'" + passphrase.replace("'", "''") + "'"


class RawKey(str):
    """A derived key in SQLCipher's raw form, x'<key hex><salt hex>' (raw_key.py),
    standing where a passphrase would: keyed with it, SQLCipher skips the
    derivation. Given by the agent (agent.py); only ever in memory."""


def raw(key):
    """The RawKey for the 48 bytes ``key`` (key and salt)."""
    from .raw_key import literal

    return RawKey(literal(key))


def keyed_connection(path, passphrase, kdf_iter=None, *, timeout=10, uri=False,
                     pragmas=(), raw_key=None):
    """A raw sqlcipher3 connection to ``path`` with the key given (not yet verified).

    The one place that keys a connection: the log level is silenced before
    the key, kdf_iter (tests only) and other cipher ``pragmas`` (for foreign
    files) follow it, temporary tables stay in memory. ``raw_key`` (48 bytes)
    stands for the passphrase: no derivation.
    """
    if raw_key is not None:
        passphrase = raw(raw_key)
    if not passphrase or "\x00" in passphrase:
        raise PassphraseError(WRONG_KEY)  # never a key: see check_new_passphrase
    try:
        passphrase.encode("utf-8")
    except UnicodeEncodeError:  # never quote the error: it names a character of it
        raise PassphraseError("the passphrase is not valid UTF-8") from None
    conn = sqlcipher3.connect(path, timeout=timeout, isolation_level=None, uri=uri)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("PRAGMA key = " + _key_literal(passphrase))
        if kdf_iter:
            conn.execute("PRAGMA kdf_iter = %d" % int(kdf_iter))
        for pragma in pragmas:
            conn.execute(pragma)
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


# --- times -----------------------------------------------------------------

class UTCDateTimeField(Field):
    """An aware datetime stored as sortable UTC text: 2024-03-02T20:30:00.000000Z.

    dates.py owns the form: text that does not read as a date in its range
    comes back as a dates.Unreadable (shown raw), never as an exception, so
    one bad row takes no other entry down. The range itself is checked where
    dates come in (dates.stored), not here: query bounds may lie outside it.
    """

    field_type = "TEXT"

    def db_value(self, value):
        if value is None:
            return None
        return dates.text(value)

    def python_value(self, value):
        if value is None:
            return None
        return dates.read_stored(value)


# --- models ------------------------------------------------------------------
# The tables themselves are created by MIGRATIONS below (plain SQL: triggers and
# the FTS5 index are beyond peewee's create_table); these models are for queries.

class BaseModel(Model):
    class Meta:
        database = None  # bound to the open diary (Diary, _bindings below)


class Entry(BaseModel):
    uuid = TextField(unique=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    title = TextField(default="")
    body = TextField(default="")
    starred = BooleanField(default=False)
    version = IntegerField(default=1)
    # Tokens naming the entry's linked tags, "t12 t40" (tags.index_text):
    # derived from entry_tag, kept by tags.py in the same transaction, read by
    # the external-content FTS index (schema.MIGRATIONS[2] says why not paths).
    tags = TextField(default="")
    # Runs of scripts written without spaces, as bigrams (grams.derive):
    # written with title and body by every write path, read by the index.
    grams = TextField(default="")
    # Its sync lineage is in entry_lineage (schema.MIGRATIONS[10]), kept by
    # triggers; only replica.py reads and writes it.

    class Meta:
        table_name = "entry"

    @property
    def tag_list(self):
        """The paths of the entry's tags, in key order: read with the row
        (with_tag_paths), or for many rows at once (attach_tag_paths), or
        else by one query now."""
        if _PATHS_COLUMN not in self.__dict__:
            attach_tag_paths([self])
        return split_paths(self.__dict__[_PATHS_COLUMN])

    def forget_tag_paths(self):
        """After a change of links: tag_list reads the paths anew."""
        self.__dict__.pop(_PATHS_COLUMN, None)


# The attribute holding the paths, newline-joined, as the subquery of
# with_tag_paths names its column (attach_tag_paths fills it the same way).
_PATHS_COLUMN = "tag_paths_text"


def split_paths(text):
    """Tag paths joined by newlines -> tag_list's list, in key order."""
    return sorted(text.split("\n"), key=str.casefold) if text else []


def with_tag_paths(query):
    """An Entry query that also reads each entry's tag paths for tag_list, by
    a correlated subquery: for thousands of rows, cheaper than
    attach_tag_paths (0.25 s against 0.6 s for 100,000 entries)."""
    paths = (EntryTag.select(fn.group_concat(Tag.path, "\n"))
             .join(Tag, on=(Tag.id == EntryTag.tag)).where(EntryTag.entry == Entry.id))
    return query.select_extend(paths.alias(_PATHS_COLUMN))


def attach_tag_paths(entries):
    """Read the tag paths of ``entries`` (a list) in one query per thousand,
    for tag_list; returns ``entries``. Library functions that return entries
    call it (or with_tag_paths), so that tag_list works after the diary is
    closed."""
    todo = [e for e in entries if _PATHS_COLUMN not in e.__dict__]
    for start in range(0, len(todo), 1000):
        chunk = {e.id: e for e in todo[start:start + 1000]}
        found = {}
        # Ids we read ourselves, written in as integers (binding a thousand
        # parameters through peewee costs more than the query).
        for entry_id, path in Entry._meta.database.execute_sql(
                "SELECT et.entry_id, t.path FROM entry_tag et JOIN tag t ON t.id = et.tag_id "
                "WHERE et.entry_id IN (%s)" % ",".join("%d" % i for i in chunk)):
            found.setdefault(entry_id, []).append(path)
        for entry_id, entry in chunk.items():
            entry.__dict__[_PATHS_COLUMN] = "\n".join(found.get(entry_id, ()))
    return entries


class Tag(BaseModel):
    name = TextField()
    key = TextField()  # casefolded name: siblings are unique by key
    parent = ForeignKeyField("self", null=True, backref="children", column_name="parent_id")
    subtree_entries = IntegerField(default=0)  # kept by triggers (MIGRATIONS[0])
    path = TextField(default="")  # the full path, names as stored; kept by triggers

    class Meta:
        table_name = "tag"


class TagPath(BaseModel):
    ancestor = ForeignKeyField(Tag, column_name="ancestor_id")
    descendant = ForeignKeyField(Tag, column_name="descendant_id")
    depth = IntegerField()

    class Meta:
        table_name = "tag_path"
        primary_key = CompositeKey("ancestor", "descendant")


class EntryTag(BaseModel):
    entry = ForeignKeyField(Entry, column_name="entry_id")
    tag = ForeignKeyField(Tag, column_name="tag_id")
    source = IntegerField(default=1)  # tags.EXPLICIT | tags.INLINE

    class Meta:
        table_name = "entry_tag"
        primary_key = CompositeKey("entry", "tag")


MODELS = [Entry, Tag, TagPath, EntryTag]


# --- the database --------------------------------------------------------------

# The page cache of a connection, in KiB (SQLite's default is 2 MB). Ranking
# the matches of a common word at 1,000,000 entries reads more pages than 2 MB
# holds, and each page read again is decrypted again: 16 MB took the warm p95
# of bench_search.py at 1M from 72 to 45 ms. Memory grows only as pages are read.
CACHE_KIB = 16 * 1024


class DiaryDatabase(SqlCipherDatabase):
    """A peewee database whose every connection is keyed, verified and hardened.

    ``authorizer`` (see access.py) is installed on every connection this
    database opens, including reconnects and connections in other threads.
    """

    def __init__(self, path, passphrase, *, kdf_iter=None, authorizer=None, read_only=False,
                 timeout=None, source=None):
        self._passphrase = passphrase
        self._kdf_iter = kdf_iter
        self._authorizer = authorizer
        self._read_only = read_only
        # readonly.Source: how a read-only session opens the file (mode=ro, ...).
        self._source = source
        super().__init__(path, timeout=BUSY_TIMEOUT if timeout is None else timeout,
                         lock_type="IMMEDIATE")

    @property
    def authorizer(self):
        return self._authorizer

    def forget_passphrase(self):
        """Drop the connection and the key (the menu's Lock)."""
        SqlCipherDatabase.close(self)  # a private read-only copy stays, for resume
        self._passphrase = None

    def close(self):
        try:
            return super().close()
        finally:
            if self._source is not None:
                self._source.close()

    def _connect(self):
        if not self._passphrase:
            raise PassphraseError(WRONG_KEY)
        target, uri = self.database, False
        if self._source is not None and self._source.uri is not None:
            target, uri = self._source.uri, True
        try:
            conn = keyed_connection(target, self._passphrase, self._kdf_iter,
                                    timeout=self._timeout, uri=uri)
        except BaseException as exc:
            raise translate(exc) from None
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA cache_size = %d" % -CACHE_KIB)
            if self._read_only:
                # A further layer only: SQL could turn it off, the authorizer
                # installed next cannot be.
                conn.execute("PRAGMA query_only = ON")
            self._add_conn_hooks(conn)
        except BaseException as exc:
            conn.close()
            raise translate(exc) from None
        return conn

    def rollback(self):
        # After an I/O error or a full disk SQLite has already rolled back; a
        # second ROLLBACK would fail and hide the error that matters.
        if self.connection().in_transaction:
            super().rollback()

    def _add_conn_hooks(self, conn):
        super()._add_conn_hooks(conn)
        if self._authorizer is not None:
            conn.set_authorizer(self._authorizer)


# Which open diary the models read and write: the innermost of the diaries
# opened (and not yet closed) and of the ``Diary.bound()`` blocks entered.
# Library code queries the models without naming a diary; this stack says
# whose they are, so that two diaries can be open at once (merge, sync).
_bindings = []


def _rebind():
    db = _bindings[-1] if _bindings else None
    for model in MODELS:
        model.bind(db, bind_refs=False, bind_backrefs=False)


class Diary:
    """An unlocked diary: its database, its path and whether it may write.

    Opening a diary binds the models to it until it closes; with several
    open, ``with d.bound():`` binds them to ``d`` for a block (and binds them
    back after it), so one library function reads and writes any of them::

        with store.open_diary(a, pw) as here, store.open_diary(b, pw) as there:
            with there.bound():
                records, mark = replica.changes(there)   # (changes binds by itself)
            replica.apply(here, records)
    """

    def __init__(self, path, db, read_only):
        self.path = path
        self.db = db
        self.read_only = read_only
        self._open = True
        _bindings.append(db)
        _rebind()

    @contextlib.contextmanager
    def bound(self):
        """The models bound to this diary within the block."""
        _bindings.append(self.db)
        _rebind()
        try:
            yield self
        finally:
            _unbind(self.db)

    def write(self):
        """A write transaction (BEGIN IMMEDIATE), refused in read-only sessions;
        the models are bound to this diary within it."""
        if self.read_only:
            raise ReadOnly()
        return self._bound_atomic()

    def read(self):
        """A read transaction: one consistent snapshot for several queries;
        the models are bound to this diary within it."""
        return self._bound_atomic("DEFERRED")

    @contextlib.contextmanager
    def _bound_atomic(self, *lock):
        # Library functions open their transaction with write() or read():
        # binding there makes tags.rename(d, ...) act on d, whichever diary
        # was opened last.
        with self.bound(), self.db.atomic(*lock) as txn:
            yield txn

    def close(self):
        """Close the connection and drop the passphrase (no key held longer
        than needed); a closed Diary does not reopen."""
        if self._open:
            self._open = False
            while self.db in _bindings:  # closed diaries hold no binding
                _unbind(self.db)
        self.db.close()  # and a private read-only copy with it (readonly.py)
        self.db.forget_passphrase()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _unbind(db):
    """Drop the innermost binding to ``db`` (diaries may close in any order)."""
    for i in range(len(_bindings) - 1, -1, -1):
        if _bindings[i] is db:
            del _bindings[i]
            break
    _rebind()


def _check_path(path):
    """Refuse what cannot be a diary before SQLCipher sees it (and creates files).

    Only a regular file: a FIFO would hang the open, a device is no diary.
    The file is opened without blocking and checked again on the descriptor.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NotFound("no diary at %s (create one with `diary init`)" % path) from None
    except OSError as exc:
        raise DiaryError("cannot open %s: %s" % (path, exc.strerror)) from None
    if stat.S_ISDIR(st.st_mode):
        raise DiaryError("%s is a directory, not a diary file" % path)
    if not stat.S_ISREG(st.st_mode):
        raise DiaryError("%s is not a regular file, so not a diary file" % path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise DiaryError("%s is not a regular file, so not a diary file" % path)
            head = os.read(fd, 16)
        finally:
            os.close(fd)
    except OSError as exc:
        raise DiaryError("cannot read %s: %s" % (path, exc.strerror)) from None
    if len(head) < 16 or head == SQLITE_HEADER:
        # An empty file would be taken as a new database, a plaintext one
        # fails the key anyway: both are simply not a diary.
        raise PassphraseError(WRONG_KEY)


def open_diary(path, passphrase, *, read_only=False, authorizer=None, kdf_iter=None,
               raw_key=None):
    """Unlock the diary at ``path``; migrate an older schema (not when read-only).

    A read-only session always has an authorizer: access.read_only_authorizer
    unless another is given. ``raw_key`` (48 bytes, from the agent) stands for
    the passphrase: a key the file refuses is PassphraseError, as a wrong one.
    """
    path = os.fspath(path)
    if raw_key is not None:
        passphrase = raw(raw_key)
    db = open_database(path, passphrase, read_only=read_only, authorizer=authorizer,
                       kdf_iter=kdf_iter)
    return Diary(path, db, read_only)


def open_database(path, passphrase, *, read_only=False, authorizer=None, kdf_iter=None):
    """The verified, connected DiaryDatabase of ``path``, NOT bound to the
    models (raw reads: a backup's check); open_diary wraps this."""
    path = os.fspath(path)
    _check_path(path)
    if not passphrase:
        raise PassphraseError(WRONG_KEY)
    if read_only and authorizer is None:
        from .access import read_only_authorizer as authorizer
    source = None
    if read_only:  # opened so that not a byte of the file changes, even on read-only media
        from .readonly import Source

        source = Source(path)
    db = DiaryDatabase(path, passphrase, kdf_iter=kdf_iter or KDF_ITER,
                       authorizer=authorizer, read_only=read_only, source=source)
    try:
        db.connect()
        conn = db.connection()
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise PassphraseError(WRONG_KEY)
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                "this diary was written by a newer version of diary (schema %d, this one "
                "knows %d); upgrade diary to open it" % (version, SCHEMA_VERSION))
        if version < SCHEMA_VERSION:
            if read_only:
                raise NeedsUpgrade("this diary is in an older format; open it once without "
                                   "--read-only to upgrade it")
            _migrate(conn, version)
        if not read_only:
            _claim_device(conn, path)
    except BaseException as exc:
        db.close()
        raise _diagnosed(translate(exc), exc, path, passphrase, kdf_iter) from None
    return db


def _home(path):
    return str(os.stat(path).st_ino)


def _claim_device(conn, path):
    """A copied diary file must not keep its source's sync device id
    (replica.py): both would count their edits under one id, and an edit on
    one would pass for a descendant of the other's. The file remembers its
    inode ("replica-home" in memo); opened for writing at another inode, it
    is a copy (or was replaced by one: a restored backup, a file sync tool)
    and takes a new random device id, before anything is written. A needless
    new id (a USB stick's FAT file system renumbers its files at each mount)
    costs a few bytes in each version vector written after it, nothing else.
    """
    home = _home(path)
    row = conn.execute("SELECT value FROM memo WHERE key = 'replica-home'").fetchone()
    if row is not None and row[0] == home:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if row is not None:
            conn.execute("UPDATE memo SET value = lower(hex(randomblob(16))) "
                         "WHERE key = 'replica-device'")
        conn.execute("INSERT INTO memo (key, value) VALUES ('replica-home', ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (home,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


DAMAGED_FIRST_PAGE = ("the diary file is damaged: its first page fails its check, though the "
                      "passphrase is right (later pages verify with it); restore a backup")


def _diagnosed(err, exc, path, passphrase, kdf_iter):
    """"Not a database" from SQLCipher is a wrong passphrase or a damaged
    first page: when later pages verify with the passphrase (pages.py, one
    extra key derivation on this failure path only), it is damage."""
    code = driver_code(exc)
    if isinstance(passphrase, RawKey):
        return err  # an agent's key the file refuses: the caller drops it
    if (isinstance(err, PassphraseError) and code is not None
            and code & 0xFF == SQLITE_NOTADB):
        from . import pages

        if pages.passphrase_fits(path, passphrase, kdf_iter or KDF_ITER):
            return DamagedFile(DAMAGED_FIRST_PAGE)
    return err


def _migrate(conn, version):
    """Run MIGRATIONS[version:] in one transaction: all of them or none.

    Foreign keys are off meanwhile (a table rebuilt must not cascade its
    drop to the rows referring to it) and checked before the commit."""
    conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in MIGRATIONS[version:]:
                _run_step(conn, step)
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise DamagedFile("the diary's links between entries and tags are broken; "
                                  "run `diary check`")
            conn.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _run_step(conn, step):
    """One migration: SQL statements, and functions of the connection for
    what SQL cannot compute (schema._fill_grams)."""
    for statement in step:
        if callable(statement):
            statement(conn)
        else:
            conn.execute(statement)


def create(path, passphrase, *, kdf_iter=None, schema_version=SCHEMA_VERSION):
    """Create a new diary file; refuse to overwrite anything.

    The file is built under a temporary name in the same directory and linked
    into place only when complete, so a failure leaves no half-made diary.
    ``schema_version`` below the current one exists for migration tests.
    """
    path = os.fspath(path)
    check_new_passphrase(passphrase)
    if os.path.lexists(path):
        raise DiaryError("%s already exists" % path)
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise DiaryError("cannot create %s: %s" % (parent, exc.strerror)) from None
    tmp = os.path.join(parent, ".%s.%d.creating" % (os.path.basename(path), os.getpid()))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as exc:
        raise DiaryError("cannot create %s: %s" % (path, exc.strerror)) from None
    try:
        conn = keyed_connection(tmp, passphrase, kdf_iter or KDF_ITER)
        try:
            conn.execute("PRAGMA application_id = %d" % APPLICATION_ID)
            conn.execute("BEGIN IMMEDIATE")
            for step in MIGRATIONS[:schema_version]:
                _run_step(conn, step)
            if schema_version >= 11:  # the file's own inode: not a copy (_claim_device)
                conn.execute("INSERT INTO memo (key, value) VALUES ('replica-home', ?)",
                             (_home(tmp),))
            conn.execute("PRAGMA user_version = %d" % schema_version)
            conn.execute("COMMIT")
            # WAL lets readers (search, list) run while a write is under way.
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        from . import files  # tempfile and shutil: only when a diary is created

        files.fsync(tmp)
        files.move_new(tmp, path)  # fails if the path appeared meanwhile: never clobber
        files.fsync_dir(parent)
    except FileExistsError:
        raise DiaryError("%s already exists" % path) from None
    except sqlcipher3.Error as exc:
        raise translate(exc) from None
    except OSError as exc:
        raise DiaryError("cannot create %s: %s" % (path, exc.strerror)) from None
    finally:
        for leftover in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def change_passphrase(diary, new_passphrase):
    """Re-encrypt every page under a new key; confirmed before it returns.

    SQLCipher's rekey rewrites the pages inside a write transaction, so a
    crash leaves the file under exactly one of the two keys. It runs on the raw
    connection: peewee's own rekey() logs its SQL, passphrase included.

    ``PRAGMA rekey`` can answer "ok" when it failed (a full disk while it
    writes the -wal), so success is only reported once a new connection opens
    the file with the new passphrase. Otherwise the error says whether the old
    passphrase still opens it. The diary's connection is closed either way and
    reopens (with whichever key works) on its next use.
    """
    if diary.read_only:
        raise ReadOnly()
    check_new_passphrase(new_passphrase)
    db = diary.db
    conn = db.connection()
    failure = None
    try:
        # The write lock first: a writer elsewhere is "busy", told by SQLite's
        # own code, not the rekey's catch-all SQLITE_ERROR.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlcipher3.Error as exc:
        raise translate(exc) from None
    try:
        conn.execute("PRAGMA rekey = " + _key_literal(new_passphrase))
        # Make the new key durable in the main file before reporting success.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlcipher3.Error as exc:
        failure = translate(exc)
    db.close()
    if _opens(diary.path, new_passphrase, db._kdf_iter):
        db._passphrase = new_passphrase
        return
    # After a rekey that failed silently the connection reports odd codes (a
    # "locked" table): room to write is checked first.
    kind, reason = DiskFull, _space_shortfall(diary.path)
    if reason is None:
        kind, reason = DiaryError, "SQLCipher could not rewrite the pages"
        if isinstance(failure, Busy):
            kind, reason = Busy, "another process took the diary meanwhile; try again"
    if _opens(diary.path, db._passphrase, db._kdf_iter):
        raise kind("the passphrase was not changed (%s); the old passphrase still works"
                   % reason)
    raise DamagedFile("the passphrase change failed (%s) and the diary opens with neither "
                      "passphrase; restore a backup" % reason)


def _opens(path, passphrase, kdf_iter):
    """Whether a fresh connection reads the diary with ``passphrase``."""
    try:
        conn = keyed_connection(path, passphrase, kdf_iter or KDF_ITER, timeout=BUSY_TIMEOUT)
    except (DiaryError, sqlcipher3.Error):
        return False
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    except sqlcipher3.Error:
        return False
    finally:
        conn.close()


def _space_shortfall(path, target=None):
    """Why a rewrite of every page may not fit, or None: a rekey writes them
    all to the -wal, about the file's size again; a copy writes them beside
    ``target``."""
    try:
        size = os.stat(path).st_size
        fs = os.statvfs(os.path.dirname(os.path.abspath(target or path)))
    except OSError:
        return None
    if fs.f_bavail * fs.f_frsize < size + (1 << 20):
        return "the disk is full: it needs about %d MB free" % (size // (1 << 20) + 1)
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return None
    if soft != resource.RLIM_INFINITY and soft < size + (1 << 20):
        return "a file-size limit (ulimit -f) is smaller than the diary"
    return None


COPY_STEP = 1024  # pages copied between two progress calls (copy_to)


def copy_to(diary, path, progress=None):
    """Copy the diary, page by page, into the new empty file ``path``.

    SQLite's backup API reads one consistent snapshot (other processes may
    keep writing meanwhile) and re-encrypts each page with the destination's
    key; the destination is keyed like the diary (same passphrase, same
    kdf settings) before anything is written to it. The header travels with
    page 1, so user_version, application_id and WAL mode are kept.
    ``progress(done, total)`` counts the pages copied.
    """
    conn = keyed_connection(path, diary.db._passphrase, diary.db._kdf_iter)
    try:
        if progress is None:
            diary.db.connection().backup(conn)
        else:
            diary.db.connection().backup(
                conn, pages=COPY_STEP,
                progress=lambda status, remaining, total: progress(total - remaining, total))
    except sqlcipher3.Error as exc:
        if driver_code(exc) is not None:
            raise translate(exc) from None
        # The backup API's errors carry no result code: tell a full disk by
        # the space left, anything else by SQLite's own words.
        short = _space_shortfall(diary.path, path)
        if short:
            raise DiskFull("cannot write the copy: %s; nothing was kept" % short) from None
        raise DiaryError("cannot write the copy (%s); nothing was kept" % exc) from None
    finally:
        conn.close()


INDEX_HASH_BYTES = 32 * 1024 * 1024  # index_deferred: FTS5 pending terms held in memory
FTS_HASH_BYTES = 1024 * 1024  # FTS5's own default hashsize


# The per-row triggers index_deferred suspends for its block; each is put
# back, as the schema has it, before the block's transaction can commit.
DEFERRED_TRIGGERS = ("entry_fts_insert", "entry_month_insert", "tag_count_link",
                     "entry_lineage_insert")


@contextlib.contextmanager
def index_deferred(diary):
    """Within a write transaction: the entries inserted inside this block (and
    their tag links) are added to the search index, the entries-per-month
    table and the tags' entry counts, and get their sync lineage, in one
    set-based pass each at its end, not row by row by the triggers
    (DEFERRED_TRIGGERS). For inserting new entries and linking them only: an
    update or delete of such a row, or a link to an entry older than the
    block, inside the block would leave the index or the counts out of step.
    The triggers are dropped and created again inside the caller's
    transaction, so a crash or a rollback at any point leaves the schema, the
    rows and every count as they were.
    """
    if not diary.db.in_transaction():
        raise RuntimeError("index_deferred needs a write transaction")
    conn = diary.db.connection()
    (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM entry").fetchone()
    for name in DEFERRED_TRIGGERS:
        conn.execute("DROP TRIGGER %s" % name)
    yield
    # A month gains the new entries of its month, its id bounds widened
    # (what entry_month_insert does row by row).
    conn.execute("""
        INSERT INTO entry_month (month, entries, low_id, high_id)
        SELECT substr(created_at, 1, 7), count(*), min(id), max(id) FROM entry
        WHERE id > ? GROUP BY 1
        ON CONFLICT (month) DO UPDATE SET entries = entries + excluded.entries,
            low_id = min(low_id, excluded.low_id), high_id = max(high_id, excluded.high_id)
        """, (last,))
    # Each ancestor of a tag linked to a new entry counts the new entries
    # linked at or below it, each once (tag_count_link's rule); the new
    # entries had no links before the block.
    conn.execute("""
        UPDATE tag SET subtree_entries = subtree_entries + (
            SELECT count(DISTINCT et.entry_id) FROM tag_path p
            JOIN entry_tag et ON et.tag_id = p.descendant_id
            WHERE p.ancestor_id = tag.id AND et.entry_id > ?1)
        WHERE id IN (SELECT p.ancestor_id FROM tag_path p WHERE p.descendant_id IN (
            SELECT tag_id FROM entry_tag WHERE entry_id > ?1))
        """, (last,))
    # The sync lineage of the new rows (what entry_lineage_insert does row by
    # row): one pass, one change number for all of them.
    for i, statement in enumerate(LINEAGE_OF_INSERTED):
        conn.execute(statement, () if i == 0 else (last,))
    # FTS5 writes its pending terms out as a new segment each time they pass
    # 'hashsize' (1 MB by default), and with automerge 2 merges them again
    # and again: a larger hash for this one pass halves the index's cost
    # (2.9 s -> 1.1-1.7 s at 100,000 entries, measured on a copy; see
    # bench/RESULTS-exchange.md) for INDEX_HASH_BYTES of memory at most. The
    # default is set back before the transaction ends: nothing else writes
    # with it.
    conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', ?)",
                 (INDEX_HASH_BYTES,))
    conn.execute("INSERT INTO entry_fts (rowid, title, body, tags, grams) "
                 "SELECT id, title, body, tags, grams FROM entry WHERE id > ?", (last,))
    conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', ?)",
                 (FTS_HASH_BYTES,))
    for name in DEFERRED_TRIGGERS:
        conn.execute(_trigger_sql(name))


def _trigger_sql(name):
    found = None
    for step in MIGRATIONS:
        for statement in step:
            if isinstance(statement, str) and statement.startswith(
                    "CREATE TRIGGER %s " % name):
                found = statement
    if found is not None:
        return found  # the last migration's: a later one may replace a trigger
    raise LookupError(name)


def open_alongside(diary, path, *, passphrase=None, bound=True, read_only=False):
    """Open another diary file (a backup, a copy to merge) with this diary's key,
    or with ``passphrase``: a Diary, which the models are bound to until it
    closes (``diary.bound()`` for a block bound to ``diary`` meanwhile).
    ``bound=False`` gives a bare database for raw reads."""
    opener = open_diary if bound else open_database
    return opener(path, passphrase or diary.db._passphrase, read_only=read_only,
                  kdf_iter=diary.db._kdf_iter)


def lock(diary):
    """Close the connection and forget the key (the menu's Lock)."""
    diary.db.forget_passphrase()


def resume(diary, passphrase):
    """Unlock a locked diary again; PassphraseError (and still locked) if wrong."""
    if not passphrase:
        raise PassphraseError(WRONG_KEY)
    diary.db._passphrase = passphrase
    try:
        diary.db.connect(reuse_if_open=True)
    except BaseException as exc:
        diary.db.forget_passphrase()
        raise translate(exc) from None


def key_only(diary):
    """Whether ``diary`` was unlocked with a raw key (the agent's) and so holds
    no passphrase: what needs the passphrase itself (sync sealing its keys,
    opening another file) must ask for it."""
    return isinstance(diary.db._passphrase, RawKey)


def check_passphrase(diary, passphrase):
    """Whether ``passphrase`` is the one this diary was unlocked with."""
    import hmac

    known = diary.db._passphrase
    if isinstance(known, RawKey):  # unlocked by the agent: derive, then compare
        from .raw_key import derive

        salt = bytes.fromhex(known[2 + 64:-1])
        return hmac.compare_digest(raw(derive(passphrase, salt, diary.db._kdf_iter)), known)
    return bool(known) and hmac.compare_digest(passphrase.encode(), known.encode())
