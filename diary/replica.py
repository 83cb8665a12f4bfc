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

Applying a version ``theirs`` of an entry we hold as ``ours``:

- theirs descends from ours (its vector dominates): taken, no conflict;
- ours descends from theirs, or they are equal: nothing;
- concurrent (neither dominates), or equal vectors with different content (a
  copied diary that kept its device id, edited on both): if the content is
  the same, only the vectors are joined; otherwise both are kept: the entry
  takes the version with the later ``updated_at`` (on a tie, the higher
  content hash) and the pointwise maximum of both vectors, and the other
  version becomes a *conflict copy* (tagged ``conflict``, uuid derived from
  the entry's uuid and the losing content, vector ``{}``), so every replica
  makes the same copy and applying again makes none;
- a tombstone deletes (moves to the trash) the entry when its vector
  dominates the entry's; an entry edited concurrently is kept and reported
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

Applying the same changes twice changes nothing, and the entries do not
depend on the order in which changes are applied: the winner of a conflict
is the latest version (by updated_at, then hash) whatever met it first, the
joined vector dominates both, and a copy's uuid and content are fixed by
the losing version. Which conflict copies exist can depend on the order in
one case: a version that met a concurrent one before its own later edit
arrived (a replica that synced in between) was a loser then and keeps its
copy, where an order that saw only the later edit makes no copy of it.
Nothing is lost either way; an extra copy can appear. (Avoiding it would
mean keeping every concurrent head of an entry, not one entry and copies.)

Tombstones are never pruned: pruning one is safe only once every replica
that may still send the entry has seen it, and a replica does not know
every other replica (a copy made yesterday on a USB stick counts). A
tombstone is a uuid, a date and a short vector, about 100 bytes.
"""

import dataclasses
import json
import re
import secrets

import sqlcipher3

from . import dates, entries, foreign, memo
from .errors import BadInput
from .exchange.loader import TAG_PATHS, Loader, derived_uuid, digest
from .exchange.records import Record

DEVICE_KEY = "replica-device"
SEQ_KEY = "replica-seq"
CONFLICT_TAG = "conflict"

ENTRY, TOMBSTONE = "entry", "tombstone"
_DEVICE_ID = re.compile(r"\A[0-9A-Za-z_-]{1,64}\Z")
MAX_DEVICES = 10_000  # devices in one vector: far beyond any real diary
MAX_COUNTER = 2 ** 62
MAX_UUID = 200


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
                                          "tombstone", "memo"), foreign_name)
            run = foreign.Watchdog(conn, foreign_name).execute
        upto = _mark(conn)
        whole = foreign_name is not None and since == 0
        span = () if whole else (since, upto)
        records = []
        for uuid, created, updated, title, body, starred, vv, paths in run(
                _ALL_ENTRY_ROWS if whole else _ENTRY_ROWS, span):
            if not all(isinstance(v, str) for v in (uuid, created, updated, title, body)):
                # bytes or a number where text belongs: only a crafted file
                raise BadInput("%s is not a diary one can read: an entry holds a value that "
                               "is not text" % (foreign_name or "this diary"))
            tags = sorted((p for p in paths.split("\n") if p), key=str.casefold)
            records.append({
                "type": ENTRY, "uuid": uuid, "created_at": created, "updated_at": updated,
                "title": title, "body": body, "starred": bool(starred), "tags": tags,
                "vv": _loads(vv), "hash": content_hash(created, title, body, starred, tags)})
        for uuid, deleted, vv, device in run(
                _ALL_TOMBSTONE_ROWS if whole else _TOMBSTONE_ROWS, span):
            if not all(isinstance(v, str) for v in (uuid, deleted, device)):
                raise BadInput("%s is not a diary one can read: a deletion holds a value "
                               "that is not text" % (foreign_name or "this diary"))
            records.append({"type": TOMBSTONE, "uuid": uuid, "deleted_at": deleted,
                            "vv": _loads(vv), "device": device})
        return records, upto


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


def apply(diary, records, *, progress=None, tag_paths=()):
    """Apply another replica's ``records`` (from changes()) to ``diary`` in
    one write transaction; returns a Report. Every record is checked first
    (check()): one that fails raises BadInput naming it, and nothing is
    written. ``progress(done, total)`` counts records applied.
    ``tag_paths``: tags to create too, used or not (merge brings them all)."""
    checked = [check(r, "record %d" % (i + 1)) for i, r in enumerate(records)]
    report = Report()
    total = len(checked)
    with diary.bound(), diary.write(), Loader(diary).roomy_cache() as loader:
        for path in tag_paths:
            loader.tag(path)
        run = _Run(diary, loader, report)
        for done, item in enumerate(checked, 1):
            if isinstance(item, _Tombstone):
                run.tombstone(item)
            else:
                run.entry(item)
            if progress and (done % 500 == 0 or done == total):
                progress(done, total)
    return report


class _Run:
    """One apply: the diary's connection, its loader, the report."""

    def __init__(self, diary, loader, report):
        self.diary, self.loader, self.report = diary, loader, report
        self.conn = loader.conn

    def next_seq(self):
        """A fresh value of the change counter for one write."""
        self.report.changed += 1
        self.conn.execute("UPDATE memo SET value = CAST(value AS INTEGER) + 1 WHERE key = ?",
                          (SEQ_KEY,))
        return _mark(self.conn)

    # --- reading ours

    def ours(self, uuid):
        row = self.conn.execute(
            "SELECT id, created_at, updated_at, title, body, starred, %s, version, "
            "(SELECT vv FROM entry_lineage WHERE entry_id = entry.id) "
            "FROM entry WHERE uuid = ?" % TAG_PATHS, (uuid,)).fetchone()
        if row is None:
            return None, None
        entry_id, created, updated, title, body, starred, paths, version, vv = row
        tags = tuple(sorted((p for p in paths.split("\n") if p), key=str.casefold))
        return (entry_id, version), _Version(
            uuid, created, updated, title, body, bool(starred), tags, _loads(vv),
            content_hash(created, title, body, starred, tags))

    def our_tombstone(self, uuid):
        row = self.conn.execute("SELECT deleted_at, vv, device FROM tombstone WHERE uuid = ?",
                                (uuid,)).fetchone()
        return None if row is None else _Tombstone(uuid, row[0], _loads(row[1]), row[2])

    # --- entries

    def entry(self, theirs):
        where, ours = self.ours(theirs.uuid)
        report = self.report
        tomb = self.our_tombstone(theirs.uuid)
        if tomb is not None and dominates(tomb.vv, theirs.vv):
            report.unchanged += 1  # deleted after that version (here, or overruled)
            return
        if ours is None:
            if tomb is not None and not dominates(theirs.vv, tomb.vv):
                # Edited there while deleted here: the edit stays, and the
                # deletion stays beside it, overruled (see tombstone()).
                self.insert(theirs, theirs.vv)
                self.write_tombstone(tomb)
                report.kept += 1
                report.kept_uuids.append(theirs.uuid)
            else:
                self.insert(theirs, theirs.vv)
                report.taken += 1
            return
        if dominates(ours.vv, theirs.vv) and (ours.vv != theirs.vv or ours.hash == theirs.hash):
            if ours.vv == theirs.vv and theirs.updated > ours.updated:
                # One edit made twice under one device id: the later time, on both.
                self.replace(where, theirs, ours.vv)
                report.joined += 1
            else:
                report.unchanged += 1
            return
        if dominates(theirs.vv, ours.vv) and theirs.vv != ours.vv:
            self.replace(where, theirs, theirs.vv)
            report.taken += 1
            return
        # Concurrent, or equal vectors with different content.
        vv = join(ours.vv, theirs.vv)
        winner, loser = (theirs, ours) if theirs.key() > ours.key() else (ours, theirs)
        if ours.hash == theirs.hash:  # the same content: only the lineage joins
            self.replace(where, winner, vv)
            report.joined += 1
            return
        self.conflict_copy(loser)
        self.replace(where, winner, vv)
        report.conflicts += 1

    def insert(self, v, vv, *, title=None, extra_tags=()):
        title = v.title if title is None else title
        loader = self.loader
        links = loader.resolve_tags(v.tags + tuple(extra_tags), title + "\n" + v.body)
        row = entries.row(v.uuid, v.created, v.updated, title, v.body, v.starred, 1,
                          loader.tags_text(links))
        cursor = self.conn.execute(_INSERT, row)
        if links:
            loader.link(cursor.lastrowid, links)
        self.conn.execute("DELETE FROM tombstone WHERE uuid = ?", (v.uuid,))
        self.write_lineage(cursor.lastrowid, vv)

    def write_lineage(self, entry_id, vv):
        """The entry's vector and a new seq, over what the triggers wrote
        for the entry's row (they take every write for a local edit)."""
        self.conn.execute(
            "INSERT INTO entry_lineage (entry_id, vv, seq) VALUES (?, ?, ?) "
            "ON CONFLICT (entry_id) DO UPDATE SET vv = excluded.vv, seq = excluded.seq",
            (entry_id, _vector_text(vv), self.next_seq()))

    def replace(self, where, v, vv):
        """Our row of ``v.uuid`` becomes ``v`` with vector ``vv`` (its lineage
        written last)."""
        entry_id, version = where
        loader = self.loader
        links = loader.resolve_tags(v.tags, v.title + "\n" + v.body)
        self.conn.execute("DELETE FROM entry_tag WHERE entry_id = ?", (entry_id,))
        if links:
            loader.link(entry_id, links)
        row = entries.row(None, v.created, v.updated, v.title, v.body, v.starred, version + 1,
                          loader.tags_text(links))
        self.conn.execute(
            "UPDATE entry SET %s WHERE id = ?" % ", ".join(
                "%s = ?" % c for c in entries.ROW_COLUMNS[1:]), (*row[1:], entry_id))
        self.write_lineage(entry_id, vv)

    def conflict_copy(self, loser):
        """Keep the losing version as its own entry, unless this replica
        has it (or had it, and deleted it)."""
        uuid = derived_uuid("conflict", loser.uuid, loser.hash)
        if (self.conn.execute("SELECT 1 FROM entry WHERE uuid = ?", (uuid,)).fetchone()
                or self.our_tombstone(uuid) is not None):
            return
        name = loser.title if loser.title.strip() else "the entry of %s" % (
            dates.local(dates.read_stored(loser.created)).strftime("%Y-%m-%d %H:%M"))
        # cut to the limit: past it, every other replica would refuse the copy
        # (and the whole batch holding it)
        title = ("Conflict copy of " + name)[:entries.MAX_TEXT]
        self.insert(dataclasses.replace(loser, uuid=uuid), {},
                    title=title, extra_tags=(CONFLICT_TAG,))

    # --- tombstones

    def tombstone(self, theirs):
        from . import trash

        where, ours = self.ours(theirs.uuid)
        report = self.report
        tomb = self.our_tombstone(theirs.uuid)
        if (tomb is not None and dominates(tomb.vv, theirs.vv)) or (
                ours is not None and dominates(ours.vv, theirs.vv)):
            report.unchanged += 1  # known here, or older than our version
            return
        if tomb is not None and not dominates(theirs.vv, tomb.vv):
            later = max((tomb.deleted, tomb.device), (theirs.deleted, theirs.device))
            theirs = _Tombstone(theirs.uuid, later[0], join(tomb.vv, theirs.vv), later[1])
        if ours is None:
            self.write_tombstone(theirs)
            report.recorded += 1
            return
        if not dominates(theirs.vv, ours.vv):
            # Edited here while deleted there: the edit stays. The deletion
            # is kept beside it, overruled, and not joined into the entry's
            # vector: a deletion made later by a copy that saw this version
            # (and never the overruled one) dominates it and wins.
            self.write_tombstone(theirs)
            report.kept += 1
            report.kept_uuids.append(theirs.uuid)
            return
        trash.move(self.diary, [where[0]])  # recoverable here, as a local deletion is
        self.write_tombstone(theirs)
        report.deleted += 1

    def write_tombstone(self, t):
        self.conn.execute(
            "INSERT INTO tombstone (uuid, deleted_at, vv, device, seq) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (uuid) DO UPDATE SET deleted_at = excluded.deleted_at, "
            "vv = excluded.vv, device = excluded.device, seq = excluded.seq",
            (t.uuid, t.deleted, _vector_text(t.vv), t.device, self.next_seq()))


_INSERT = "INSERT INTO entry (%s) VALUES (%s)" % (
    ", ".join(entries.ROW_COLUMNS), ", ".join("?" * len(entries.ROW_COLUMNS)))
