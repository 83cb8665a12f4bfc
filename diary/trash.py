"""The trash: deleted entries, kept whole until restored or purged.

Deleting an entry (entries.delete) moves it here: the row leaves the entry
table, so search, lists, tags, the FTS index and every count know nothing of
it, and the trash table (schema.MIGRATIONS[6]) keeps it whole, inside the
encrypted file like everything else. Usage::

    from diary import trash
    trash.move(diary, [12, 13])            # what entries.delete does
    for item in trash.items(diary):        # the latest deletion first
        item.id, item.title, item.tag_list, item.deleted_at
    trash.restore(diary, [12])             # [(12, Entry)]: back, as a new edit
    trash.purge_expired(diary, days=30)    # deleted over 30 days ago: gone
    trash.empty(diary)                     # everything in it: gone

Decisions kept here:
- An item is known by the id the entry had; a restored entry gets that id
  back (ids are never given twice, schema.MIGRATIONS[5], so it is free unless
  the file was changed by another tool: then the entry gets a new id, which
  restore returns).
- Restoring is a new edit: version + 1, updated_at now (a later sync sees an
  edit after the deletion). Its tags come back with the links it had, each
  tag created again if it was deleted meanwhile.
- One item per uuid: deleting an entry that is already in the trash under
  its uuid (a merge or import brought it back) replaces the older copy.
- Purging and emptying delete for good. A later sync records deletions as
  tombstones (uuid, time): move() is where an entry leaves the diary, and
  purge/empty are where it leaves the trash.
"""

import datetime as _dt
import json

from . import dates, grams
from .errors import Conflict, DiaryError, NotFound

# The oldest trash_days that can mean anything: beyond, nothing is ever due.
_FOREVER = 3_000_000


class Item:
    """One entry in the trash. It has the fields of an Entry (id, uuid,
    created_at, updated_at, title, body, starred, version, tag_list), so it
    renders like one, plus ``deleted_at`` and ``links`` ([(path, source)])."""

    __slots__ = ("id", "uuid", "created_at", "updated_at", "title", "body", "starred",
                 "version", "links", "deleted_at")

    def __init__(self, row):
        (self.id, self.uuid, created, updated, self.title, self.body, starred,
         self.version, links, deleted) = row
        self.created_at = dates.read_stored(created)
        self.updated_at = dates.read_stored(updated)
        self.deleted_at = dates.read_stored(deleted)
        self.starred = bool(starred)
        self.links = _links(links)

    @property
    def tag_list(self):
        return sorted({path for path, _ in self.links}, key=str.casefold)

    def purge_after(self, days):
        """When purge_expired(days) takes it: None for never (or unreadable)."""
        if days is None or days >= _FOREVER or isinstance(self.deleted_at, dates.Unreadable):
            return None
        try:
            return self.deleted_at + _dt.timedelta(days=days)
        except OverflowError:
            return None


def _links(text):
    """The stored links, [(path, source)]; a row spoilt by another tool gives []."""
    try:
        found = json.loads(text)
        return [(p, int(s)) for p, s in found if isinstance(p, str)]
    except (TypeError, ValueError):
        return []


_COLUMNS = ("id, uuid, created_at, updated_at, title, body, starred, version, tags, "
            "deleted_at")


def _sql(diary, sql, params=()):
    return diary.db.execute_sql(sql, params)


def _id_list(ids):
    """The ids as json_each's argument, each checked to be an integer."""
    ids = [int(i) for i in ids]
    return ids, json.dumps(ids)


def move(diary, ids, *, now=None):
    """Move these entries to the trash, all or none; NotFound names the first
    unknown id. Returns how many moved."""
    ids, listed = _id_list(dict.fromkeys(ids))
    stamp = dates.text(now or dates.now())
    with diary.write():
        present = {r[0] for r in _sql(
            diary, "SELECT id FROM entry WHERE id IN (SELECT value FROM json_each(?))",
            (listed,))}
        for i in ids:
            if i not in present:
                raise NotFound("no entry with id %s" % i)
        # A copy of one of them already there (same uuid) is an older one.
        _sql(diary, "DELETE FROM trash WHERE uuid IN (SELECT uuid FROM entry "
                    "WHERE id IN (SELECT value FROM json_each(?)))", (listed,))
        clash = _sql(diary, "SELECT id FROM trash WHERE id IN (SELECT value FROM json_each(?))",
                     (listed,)).fetchone()
        if clash is not None:  # ids are never given twice: only another tool does this
            raise DiaryError("the trash already holds another entry with id %d; run "
                             "`diary check`, or empty the trash first" % clash[0])
        _sql(diary, """
            INSERT INTO trash (%s)
            SELECT e.id, e.uuid, e.created_at, e.updated_at, e.title, e.body, e.starred,
                   e.version,
                   (SELECT json_group_array(json_array(t.path, et.source) ORDER BY t.path)
                    FROM entry_tag et JOIN tag t ON t.id = et.tag_id
                    WHERE et.entry_id = e.id),
                   ?
            FROM entry e WHERE e.id IN (SELECT value FROM json_each(?))""" % _COLUMNS,
             (stamp, listed))
        return _sql(diary, "DELETE FROM entry WHERE id IN (SELECT value FROM json_each(?))",
                    (listed,)).rowcount


def items(diary):
    """Everything in the trash, the latest deletion first."""
    with diary.read():
        return [Item(r) for r in _sql(
            diary, "SELECT %s FROM trash ORDER BY deleted_at DESC, id DESC" % _COLUMNS)]


def count(diary):
    with diary.read():
        return _sql(diary, "SELECT count(*) FROM trash").fetchone()[0]


def restore(diary, ids, *, now=None):
    """Put these trash items back into the diary, all or none; NotFound names
    the first id not in the trash, Conflict an entry whose uuid is in the
    diary again (an import or merge brought it back: that copy is kept, the
    trash's stays). Returns [(id in the trash, restored Entry)]."""
    from . import entries, tags

    ids, _ = _id_list(dict.fromkeys(ids))
    stamp = dates.text(now or dates.now())
    done = []
    with diary.write():
        for i in ids:
            row = _sql(diary, "SELECT %s FROM trash WHERE id = ?" % _COLUMNS, (i,)).fetchone()
            if row is None:
                raise NotFound("no entry with id %s in the trash (see `diary trash`)" % i)
            item = Item(row)
            again = _sql(diary, "SELECT id FROM entry WHERE uuid = ?", (item.uuid,)).fetchone()
            if again is not None:
                raise Conflict("entry %d is in the diary again as entry %d (an import or merge "
                               "brought it back); nothing was restored" % (i, again[0]))
            taken = _sql(diary, "SELECT 1 FROM entry WHERE id = ?", (i,)).fetchone()
            cursor = _sql(diary, """
                INSERT INTO entry (id, uuid, created_at, updated_at, title, body, starred,
                                   version, grams)
                SELECT CASE WHEN ? THEN NULL ELSE id END, uuid, created_at, ?, title, body,
                       starred, version + 1, ?
                FROM trash WHERE id = ?""",
                          (taken is not None, stamp, grams.derive(item.title, item.body), i))
            new_id = cursor.lastrowid
            for source in (tags.EXPLICIT, tags.INLINE):
                paths = [p for p, s in item.links if s & source]
                if paths:
                    tags.set_entry_tags(diary, new_id, add=paths, source=source)
            _sql(diary, "DELETE FROM trash WHERE id = ?", (i,))
            done.append((i, new_id))
        return [(i, entries.get(diary, new_id)) for i, new_id in done]


def empty(diary):
    """Delete everything in the trash for good; how many went."""
    with diary.write():
        return _sql(diary, "DELETE FROM trash").rowcount


def purge_expired(diary, days, *, now=None):
    """Delete for good what was deleted more than ``days`` days ago; how many.

    Cheap when nothing is due: one look along the deleted_at index, and no
    write lock taken. Nothing in a read-only session. ``days`` None: never.
    """
    if diary.read_only or days is None or days >= _FOREVER:
        return 0
    try:
        cutoff = (now or dates.now()) - _dt.timedelta(days=days)
    except OverflowError:
        return 0
    if cutoff < dates.EARLIEST:
        return 0
    cutoff = dates.text(cutoff)
    due = "FROM trash WHERE deleted_at < ?"
    if _sql(diary, "SELECT 1 %s LIMIT 1" % due, (cutoff,)).fetchone() is None:
        return 0
    with diary.write():
        return _sql(diary, "DELETE " + due, (cutoff,)).rowcount


def to_record(item, days=None):
    """The JSON shape of a trash item: an entry's (entries.to_record; README:
    "JSON output") with ``deleted_at`` and ``purge_after`` (null: never, as
    with no trash_days)."""
    from . import entries

    purge = item.purge_after(days)
    return dict(entries.to_record(item),
                deleted_at=dates.local(item.deleted_at).isoformat(),
                purge_after=dates.local(purge).isoformat() if purge is not None else None)
