"""Replicas of one diary: version lineage, changes since a mark, and applying
another replica's changes. What merge and sync are built on.

Every entry carries a *version vector* (entry_lineage.vv: JSON ``{device
id: counter}``); a deletion leaves a *tombstone* (uuid, deleted_at, the vector
the entry had, the device). Both are kept by the triggers of
schema.MIGRATIONS[10] on every local write; this module reads them and writes
what comes from elsewhere. Usage::

    from diary import replica
    records, mark = replica.changes(laptop, since=0)      # plain JSON-able dicts
    report = replica.apply(desktop, records)              # one write transaction
    report.taken, report.conflicts, report.deleted, report.kept, report.unchanged
    records, mark2 = replica.changes(laptop, since=mark)  # only what changed since

Applying a version ``theirs`` of an entry we hold (replica_apply.py has
the rules): a version ours descends from changes nothing; one that descends
from ours is taken; concurrent ones are all kept as the entry's *heads*
(entry_head), the latest shown as the entry and each other one as a
*conflict copy* (tagged ``conflict``, uuid derived from the entry's uuid and
that head's content, vector ``{}`` until someone touches it), so that what a
replica shows depends only on the versions it received, not on their order.

- a tombstone deletes (moves to the trash) the entry when its vector
  dominates every head's; an entry edited concurrently is kept and reported
  (``Report.kept``), and the tombstone is kept beside it, *overruled*: a
  version it dominates is not taken, but the entry's vector does not take
  in the deletion's, so a later deletion by a copy that saw the surviving
  version (and never the overruled deletion) dominates it and wins, in
  whichever order the two deletions arrive (tombstones of one entry join).
  A tombstone for an entry we do not hold is recorded, so that an older
  version arriving later is not taken.

The content hash covers created_at, title, body, star and the tag paths
(case-folded): tag changes are edits like any other. It is computed when
read (never stored), and an incoming record's ``hash``, when given, must
match its content.

Applying the same changes twice changes nothing, and the entries and their
conflict copies do not depend on the order in which changes are applied
(tests/test_replica_machine.py applies every record ever sent, shuffled).

Tombstones are never pruned: pruning one is safe only once every replica
that may still send the entry has seen it, and a replica does not know
every other replica (a copy made yesterday on a USB stick counts). A
tombstone is a uuid, a date and a short vector, about 100 bytes.
"""

import contextlib
import dataclasses
import json
import re
import secrets

import sqlcipher3

from . import dates, entries, foreign, memo
from .errors import BadInput
from .exchange.loader import TAG_PATHS, Loader, digest
from .exchange.records import Record

DEVICE_KEY = "replica-device"
SEQ_KEY = "replica-seq"
CONFLICT_TAG = "conflict"

ENTRY, TOMBSTONE = "entry", "tombstone"
_DEVICE_ID = re.compile(r"\A[0-9A-Za-z_-]{1,64}\Z")
MAX_DEVICES = 10_000  # devices in one vector: far beyond any real diary
MAX_COUNTER = 2 ** 62
MAX_UUID = 200
# Concurrent versions (heads) of one entry: one per device editing it at
# once, a handful in real use. Each head is rewritten with every version of
# the entry applied, so a crafted crowd of them cost quadratic time.
MAX_HEADS = 64


# --- the device ---------------------------------------------------------------

def device_id(diary):
    """This file's device id (hex text), made by migration 11 or new_device_id."""
    with diary.bound(), diary.read():
        return memo.get(diary, DEVICE_KEY)


def new_device_id(diary):
    """Give this file a new random device id (a copied diary must not keep
    its source's: both would count edits under one id); returns it.
    Vectors already written keep the old id's counters, as they should."""
    new = secrets.token_hex(16)
    with diary.bound():
        memo.put(diary, DEVICE_KEY, new)
    return new


def mark(diary):
    """The current mark: changes(diary, since=mark(diary)) is empty."""
    with diary.bound(), diary.read():
        return _mark(diary.db.connection())


def _mark(conn):
    row = conn.execute("SELECT CAST(value AS INTEGER) FROM memo WHERE key = ?",
                       (SEQ_KEY,)).fetchone()
    return row[0] if row else 0


# --- vectors ------------------------------------------------------------------

def dominates(a, b):
    """Whether vector ``a`` descends from (or equals) ``b``."""
    return all(a.get(device, 0) >= n for device, n in b.items())


def join(a, b):
    """The pointwise maximum: a vector that dominates both."""
    out = dict(a)
    for device, n in b.items():
        if n > out.get(device, 0):
            out[device] = n
    return out


def _vector_text(vector):
    return json.dumps(vector, sort_keys=True, separators=(",", ":"))


def content_hash(created, title, body, starred, tag_paths):
    """The hash of an entry's content (stored date text, title, text, star,
    tag paths case-folded): the identity the old merge gave conflict copies."""
    return digest(created, title, body, str(int(bool(starred))),
                  *sorted({p.casefold() for p in tag_paths}))


# --- changes ------------------------------------------------------------------

_ENTRY_ROWS = ("SELECT uuid, created_at, updated_at, title, body, starred, l.vv, %s "
               "FROM entry_lineage l JOIN entry ON entry.id = l.entry_id "
               "WHERE l.seq > ? AND l.seq <= ? ORDER BY l.seq, l.entry_id" % TAG_PATHS)
_TOMBSTONE_ROWS = ("SELECT uuid, deleted_at, vv, device FROM tombstone "
                   "WHERE seq > ? AND seq <= ? ORDER BY seq, uuid")
# A merge source is read whole, whatever its counter and lineage say: a file
# whose change counter was reset or whose lineage rows are gone (another
# tool, a crafted file) gave nothing. An entry without lineage reads as {}.
_ALL_ENTRY_ROWS = ("SELECT uuid, created_at, updated_at, title, body, starred, l.vv, %s "
                   "FROM entry LEFT JOIN entry_lineage l ON entry.id = l.entry_id "
                   "ORDER BY entry.id" % TAG_PATHS)
_ALL_TOMBSTONE_ROWS = ("SELECT uuid, deleted_at, vv, device FROM tombstone "
                       "ORDER BY uuid")


def changes(diary, since=0, *, foreign_name=None):
    """(records, mark): every entry version and tombstone that changed in
    ``diary`` (written here or applied from elsewhere) after ``since``, and
    the mark to pass next time. Marks are integers, increasing; 0 is the
    beginning. One read transaction: a consistent snapshot.

    ``foreign_name``: the file is not trusted (a merge source): its tables
    must be tables, each statement runs under a watchdog (foreign.py), and
    from 0 it is read whole, whatever its counter and lineage rows say.
    """
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise BadInput("a mark is a whole number, 0 or more")
    if foreign_name is None:
        return _changes(diary, since, None)
    try:
        return _changes(diary, since, foreign_name)
    except sqlcipher3.DatabaseError as exc:  # a table or column missing, a spoilt page
        raise BadInput("%s is not a diary one can read: %s" % (foreign_name, exc)) from None


def _changes(diary, since, foreign_name):
    with diary.bound(), diary.read():
        conn = diary.db.connection()
        run = conn.execute
        if foreign_name is not None:
            foreign.require_tables(conn, ("entry", "entry_lineage", "tag", "entry_tag",
                                          "tombstone", "memo", "entry_head"), foreign_name)
            run = foreign.Watchdog(conn, foreign_name).execute
        upto = _mark(conn)
        whole = foreign_name is not None and since == 0
        span = () if whole else (since, upto)
        records = [_entry_record(row, foreign_name, conn) for row in run(
            _ALL_ENTRY_ROWS if whole else _ENTRY_ROWS, span)]
        records = _with_heads(records, *_load_heads(run, foreign_name), foreign_name)
        records.extend(_tombstone_record(row, foreign_name) for row in run(
            _ALL_TOMBSTONE_ROWS if whole else _TOMBSTONE_ROWS, span))
        return records, upto


def _entry_record(row, foreign_name, conn=None):
    uuid, created, updated, title, body, starred, vv, paths = row
    if not all(isinstance(v, str) for v in (uuid, created, updated, title, body)):
        if foreign_name is None and conn is not None:
            raise _not_text(conn, row)
        # bytes or a number where text belongs: only a crafted file
        raise BadInput("%s is not a diary one can read: an entry holds a value that "
                       "is not text" % (foreign_name or "this diary"))
    tags = sorted((p for p in paths.split("\n") if p), key=str.casefold)
    return {"type": ENTRY, "uuid": uuid, "created_at": created, "updated_at": updated,
            "title": title, "body": body, "starred": bool(starred), "tags": tags,
            "vv": _loads(vv), "hash": content_hash(created, title, body, starred, tags)}


def _not_text(conn, row):
    """This diary's own entry holding bytes or a number where text belongs (raw
    SQL by another tool: `SET created_at = X'00ff'`): which entry, and the
    command that mends it, as `diary check` says; the diary itself reads."""
    found = conn.execute("SELECT id FROM entry WHERE uuid IS ?", (row[0],)).fetchone()
    which = "entry %d" % found[0] if found else "an entry"
    names = ("uuid", "created_at", "updated_at", "title", "body")
    column = next(n for n, v in zip(names, row) if not isinstance(v, str))
    fix = ""
    if found and column in ("created_at", "updated_at"):
        fix = ": set it with `diary edit %d --date DATE`" % found[0]
    elif found and column == "title":
        fix = ": set it with `diary edit %d --title TITLE`" % found[0]
    elif found and column == "body":
        fix = ": rewrite it with `diary edit %d --stdin`" % found[0]
    return BadInput("%s has a %s that is not text (stored by another tool)%s; `diary check` "
                    "names every such entry" % (which, column, fix))


def _tombstone_record(row, foreign_name):
    uuid, deleted, vv, device = row
    if not all(isinstance(v, str) for v in (uuid, deleted, device)):
        raise BadInput("%s is not a diary one can read: a deletion holds a value "
                       "that is not text" % (foreign_name or "this diary"))
    return {"type": TOMBSTONE, "uuid": uuid, "deleted_at": deleted,
            "vv": _loads(vv), "device": device}


# A merge source's entries, a chunk at a time (Source.records).
_ENTRY_CHUNK = ("SELECT entry.id, uuid, created_at, updated_at, title, body, starred, l.vv, "
                "%s FROM entry LEFT JOIN entry_lineage l ON entry.id = l.entry_id "
                "WHERE entry.id > ? ORDER BY entry.id LIMIT ?" % TAG_PATHS)


class Source:
    """A merge source, read whole as changes(foreign_name=...) reads it, but
    a chunk of entries at a time, all in one read transaction (one
    snapshot), so that a large diary is never held in memory whole: merge
    reads it twice, to check every record before this diary's write lock is
    taken, then to apply them. Usage::

        with replica.Source(other, "laptop.db") as src:
            for i, record in enumerate(src.records(), 1):
                replica.check(record, "record %d" % i)
            replica.apply(diary, src.records(), total=src.total)
    """

    CHUNK = 200

    def __init__(self, diary, name):
        self.diary, self.name = diary, name

    def __enter__(self):
        self.conn = self.diary.db.connection()
        self.conn.execute("BEGIN DEFERRED")
        try:
            with self._readable():
                foreign.require_tables(self.conn, ("entry", "entry_lineage", "tag", "entry_tag",
                                                   "tombstone", "memo", "entry_head"),
                                       self.name)
                self.run = foreign.Watchdog(self.conn, self.name).execute
                (entries_, tombstones, extra), = self.run(
                    "SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM tombstone), "
                    "(SELECT count(*) - count(DISTINCT uuid) FROM entry_head)")
                self.total = entries_ + extra + tombstones  # about: copies stay home
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")  # read only: nothing to keep

    @contextlib.contextmanager
    def _readable(self):
        try:
            yield
        except sqlcipher3.DatabaseError as exc:  # a table or column missing, a spoilt page
            raise BadInput("%s is not a diary one can read: %s" % (self.name, exc)) from None

    def records(self):
        """Every record, entries first, then tombstones (a fresh iterator)."""
        last = -1
        while True:
            with self._readable():
                rows = list(self.run(_ENTRY_CHUNK, (last, self.CHUNK)))
            if not rows:
                break
            last = rows[-1][0]
            records = [_entry_record(row[1:], self.name) for row in rows]
            # the heads of this chunk's entries only: a diary with many open
            # conflicts (a tag renamed on two devices at once) holds many
            with self._readable():
                heads, copies = _load_heads(self.run, self.name,
                                            [r["uuid"] for r in records])
            yield from _with_heads(records, heads, copies, self.name)
        with self._readable():
            tombstones = list(self.run(_ALL_TOMBSTONE_ROWS))
        for row in tombstones:
            yield _tombstone_record(row, self.name)

    def tag_paths(self):
        with self._readable():
            return [p for (p,) in self.run("SELECT path FROM tag ORDER BY path")]


def _load_heads(run, foreign_name, uuids=None):
    """({uuid: [(vv, record)]}, {copy uuid}) of entry_head (only the entries
    whose conflict is still open); with ``uuids``, the heads of those
    entries and which of them are copies."""
    heads, copies = {}, set()
    if uuids is None:
        rows = run("SELECT uuid, vv, record, copy FROM entry_head ORDER BY uuid, vv, hash", ())
    else:
        listed = json.dumps(uuids)
        rows = run("SELECT uuid, vv, record, copy FROM entry_head WHERE uuid IN "
                   "(SELECT value FROM json_each(?1)) ORDER BY uuid, vv, hash", (listed,))
        copies.update(c for (c,) in run(
            "SELECT DISTINCT copy FROM entry_head WHERE copy IN "
            "(SELECT value FROM json_each(?1))", (listed,)))
    for uuid, vv, record, copy in rows:
        if not all(isinstance(v, str) for v in (uuid, vv, record, copy)):
            raise BadInput("%s is not a diary one can read: a head holds a value that "
                           "is not text" % (foreign_name or "this diary"))
        heads.setdefault(uuid, []).append((vv, record))
        if uuids is None:
            copies.add(copy)
    return heads, copies


def _with_heads(records, heads, copies, foreign_name):
    """An entry with several heads (replica_apply.py) travels as all of
    them, each with its own vector; its untouched conflict copies stay home
    (each replica shows its own from the heads)."""
    if not heads:
        return records
    from .replica_apply import head_version

    out = []
    for r in records:
        if r["uuid"] in heads:
            for vv, record in heads[r["uuid"]]:
                try:
                    v = head_version(r["uuid"], vv, record)
                except (TypeError, ValueError, KeyError, RecursionError):
                    raise BadInput("%s is not a diary one can read: a head of %s is "
                                   "damaged" % (foreign_name or "this diary",
                                                dates.shown(r["uuid"]))) from None
                out.append({
                    "type": ENTRY, "uuid": v.uuid, "created_at": v.created,
                    "updated_at": v.updated, "title": v.title, "body": v.body,
                    "starred": v.starred, "tags": sorted(v.tags, key=str.casefold),
                    "vv": v.vv, "hash": v.hash})
        elif not (r["vv"] == {} and r["uuid"] in copies):
            out.append(r)
    return out


def _loads(text):
    """A stored vector; one spoilt by another tool reads as {} (an ancestor
    of every version: it never wins over anything)."""
    try:
        found = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items()
            if isinstance(v, int) and not isinstance(v, bool) and v > 0}


# --- checking what comes in -----------------------------------------------------

@dataclasses.dataclass
class _Version:
    """An entry version, checked, dates in the stored form."""

    uuid: str
    created: str
    updated: str
    title: str
    body: str
    starred: bool
    tags: tuple
    vv: dict
    hash: str

    def key(self):
        """What decides which of two concurrent versions keeps the entry."""
        return (self.updated, self.hash)


@dataclasses.dataclass
class _Tombstone:
    uuid: str
    deleted: str
    vv: dict
    device: str


def _fail(where, message):
    raise BadInput("%s: %s" % (where, message))


def _check_vector(value, where):
    if not isinstance(value, dict) or len(value) > MAX_DEVICES:
        _fail(where, "vv must be an object of device ids and counters")
    out = {}
    for device, n in value.items():
        if not isinstance(device, str) or not _DEVICE_ID.match(device):
            _fail(where, "vv has a device id that is not one")
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            _fail(where, "vv has a counter that is not a whole number above 0")
        # Past the limit counts as the limit: refusing it would lock out for
        # good a diary whose counter one crafted copy set just below it and
        # one local edit then raised (at worst a conflict copy, as for equal
        # vectors with different content).
        out[device] = min(n, MAX_COUNTER - 1)
    return out


def _check_uuid(value, where):
    if not isinstance(value, str) or not value or len(value) > MAX_UUID:
        _fail(where, "uuid must be text of 1 to %d characters" % MAX_UUID)
    entries.check_text(value, "uuid")
    if not value.isprintable():
        _fail(where, "uuid holds a control character")
    return value


def check(record, where="record"):
    """One incoming record, validated as an import validates (the loader's
    checks: dates in range, text caps, tag paths), as _Version/_Tombstone.
    BadInput names ``where``."""
    if not isinstance(record, dict):
        _fail(where, "a record must be an object")
    kind = record.get("type")
    uuid = _check_uuid(record.get("uuid"), where)
    where = "%s (%s)" % (where, dates.shown(uuid))
    vv = _check_vector(record.get("vv"), where)
    if kind == TOMBSTONE:
        device = record.get("device")
        if not isinstance(device, str) or not _DEVICE_ID.match(device):
            _fail(where, "device is not a device id")
        return _Tombstone(uuid, dates.canonical(record.get("deleted_at"), where, "deleted_at"),
                          vv, device)
    if kind != ENTRY:
        _fail(where, "type must be %r or %r" % (ENTRY, TOMBSTONE))
    tags = record.get("tags")
    starred = record.get("starred")
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        _fail(where, "tags must be a list of tag paths")
    if not isinstance(starred, bool):
        _fail(where, "starred must be true or false")
    try:
        checked = Record(created_at=dates.parse_iso(record.get("created_at"), where,
                                                    "created_at"),
                         updated_at=dates.parse_iso(record.get("updated_at"), where,
                                                    "updated_at"),
                         title=record.get("title"), body=record.get("body"),
                         starred=starred, tags=tuple(tags), uuid=uuid, where=where)
        Loader.check(checked)
    except BadInput as exc:
        msg = str(exc)
        raise BadInput(msg if msg.startswith(where) else "%s: %s" % (where, msg)) from None
    created, updated = dates.stored(checked.created_at), dates.stored(checked.updated_at)
    digest_ = content_hash(created, checked.title, checked.body, starred, tags)
    if record.get("hash") is not None and record.get("hash") != digest_:
        _fail(where, "its hash does not match its content")
    return _Version(uuid, created, updated, checked.title, checked.body, starred,
                    tuple(tags), vv, digest_)


# --- applying -----------------------------------------------------------------

@dataclasses.dataclass
class Report:
    """What apply did, record by record."""

    taken: int = 0       # versions new here or descending from ours: taken as they are
    conflicts: int = 0   # concurrent edits of one entry: both kept (a conflict copy)
    deleted: int = 0     # entries deleted by a tombstone (moved to the trash)
    kept: int = 0        # deletions refused: the entry was edited concurrently
    recorded: int = 0    # tombstones of entries not held here, remembered
    joined: int = 0      # the same content edited on both sides: only the vectors joined
    unchanged: int = 0   # nothing new: ours descends from it, or equals it
    kept_uuids: list = dataclasses.field(default_factory=list)  # the entries of ``kept``
    changed: int = 0     # rows written (entries, copies, tombstones): 0, nothing written


def apply(diary, records, *, progress=None, tag_paths=(), total=None):
    """Apply another replica's ``records`` (from changes()) to ``diary`` in
    one write transaction; returns a Report. Every record is checked first
    (check()): one that fails raises BadInput naming it, and nothing is
    written. ``progress(done, total)`` counts records applied.
    ``tag_paths``: tags to create too, used or not (merge brings them all).
    With ``total`` (about how many), ``records`` is an iterator read as it
    is applied (Source.records): each is checked as it comes, inside the
    transaction, and one that fails still leaves nothing written; the
    caller checks them all before, to do so before the write lock."""
    if total is None:
        checked = [check(r, "record %d" % (i + 1)) for i, r in enumerate(records)]
        total = len(checked)
    else:
        checked = (check(r, "record %d" % i) for i, r in enumerate(records, 1))
    report = Report()
    with diary.bound(), diary.write(), Loader(diary).roomy_cache() as loader:
        for path in tag_paths:
            loader.tag(path)
        from .replica_apply import Run

        from . import tags as _tags

        run = Run(diary, loader, report, {_tags.keypath(p) for p in tag_paths})
        done = 0
        for done, item in enumerate(checked, 1):
            if isinstance(item, _Tombstone):
                run.tombstone(item)
            else:
                run.entry(item)
            if progress and (done % 500 == 0 or done == total):
                progress(done, max(done, total))
        if progress and done and done != total:  # an estimate was off: end at done
            progress(done, done)
        run.close()
    return report
