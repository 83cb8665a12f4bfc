"""Applying another replica's versions and tombstones (replica.apply's
engine): each entry's *heads*, and the conflict copies shown for them.

An entry's heads are the versions received (or made here) that no other
one descends from. Usually there is one, the entry itself. After
concurrent edits there are several: they are kept in entry_head
(schema.MIGRATIONS[11]) with their own vectors, the entry shows the latest
(``updated_at``, then the content hash) and every other head whose content
differs is shown as a *conflict copy*: an entry of its own, tagged
``conflict``, whose uuid is derived from the entry's and the head's content,
with the vector ``{}`` while no one touches it.

Every version applied is merged into the heads: the heads it descends from
go, and it joins them unless one of them descends from it. So the heads are
the latest versions of all those ever received, whatever the order they
came in, and so are the entry and its copies: a copy whose version is
overtaken later (its own device edited it again) is taken away again, as if
the later edit had come first. A copy someone touched (edited, retagged,
deleted) is an entry like any other from then on, and a local write to the
entry resolves the conflict: schema.py's triggers make its untouched copies
lasting there, with a version of that device, which travels with the edit.

A tombstone removes the heads it descends from: none left, the entry is
deleted (to the trash); some left (edited concurrently), the latest of those
is the entry and the tombstone stays beside it, overruled.
"""

import dataclasses
import json

from . import dates, entries
from .exchange.loader import TAG_PATHS, derived_uuid
from .errors import BadInput
from .replica import (CONFLICT_TAG, MAX_HEADS, SEQ_KEY, _Tombstone, _Version, _loads, _mark,
                      _vector_text, content_hash, dominates, join)

APPLYING_KEY = "replica-applying"


def copy_uuid(uuid, digest):
    """The uuid of the conflict copy of the version of ``uuid`` whose
    content hash is ``digest``: the same on every replica."""
    return derived_uuid("conflict", uuid, digest)


def head_record(v):
    return json.dumps({"created": v.created, "updated": v.updated, "title": v.title,
                       "body": v.body, "starred": v.starred, "tags": list(v.tags)},
                      sort_keys=True, separators=(",", ":"))


def head_version(uuid, vv_text, record):
    r = json.loads(record)
    tags = tuple(r["tags"])
    return _Version(uuid, r["created"], r["updated"], r["title"], r["body"],
                    bool(r["starred"]), tags, _loads(vv_text),
                    content_hash(r["created"], r["title"], r["body"], r["starred"], tags))


class Run:
    """One apply: the diary's connection, its loader, the report."""

    def __init__(self, diary, loader, report, keep_tags=()):
        self.diary, self.loader, self.report = diary, loader, report
        self.conn = loader.conn
        self.unlinked = set()  # tags an applied change took entries from
        self.keep_tags = set(keep_tags)  # key paths never pruned (merge brings them)
        # the triggers of MIGRATIONS[11] leave these writes alone
        self.conn.execute("INSERT INTO memo (key, value) VALUES (?, '1') "
                          "ON CONFLICT (key) DO NOTHING", (APPLYING_KEY,))

    def close(self):
        self.prune()
        self.conn.execute("DELETE FROM memo WHERE key = ?", (APPLYING_KEY,))

    def unlinking(self, entry_id):
        """The entry's tags are about to be unlinked (replaced, deleted)."""
        self.unlinked.update(tag_id for (tag_id,) in self.conn.execute(
            "SELECT tag_id FROM entry_tag WHERE entry_id = ?", (entry_id,)))

    def prune(self):
        """Remove the tags this apply left without entries and without tags
        below them, and their ancestors left so: a tag renamed or moved on
        another replica, or the last entry under it changed or deleted
        there, leaves no empty tag here. A tag empty before stays."""
        if not self.unlinked:
            return
        from . import tags

        rows = self.conn.execute(
            "SELECT DISTINCT t.id, t.path FROM tag_path p JOIN tag t ON t.id = p.ancestor_id "
            "WHERE p.descendant_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY length(t.path) DESC, t.id", (json.dumps(sorted(self.unlinked)),))
        for tag_id, path in rows.fetchall():
            if tags.keypath(path) in self.keep_tags:
                continue
            if self.conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM entry_tag WHERE tag_id = ?1) "
                    "OR EXISTS (SELECT 1 FROM tag WHERE parent_id = ?1)",
                    (tag_id,)).fetchone()[0]:
                continue
            self.conn.execute("DELETE FROM tag WHERE id = ?", (tag_id,))

    def next_seq(self):
        """A fresh value of the change counter for one write."""
        self.report.changed += 1
        self.conn.execute("UPDATE memo SET value = CAST(value AS INTEGER) + 1 WHERE key = ?",
                          (SEQ_KEY,))
        return _mark(self.conn)

    # --- reading ours

    def ours(self, uuid):
        """((id, version), the entry as a version whose vector is its
        lineage's), or (None, None)."""
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

    def heads(self, uuid, ours):
        """The heads of ``uuid`` here: those kept in entry_head, else the
        entry itself (none when we do not hold it)."""
        rows = self.conn.execute("SELECT vv, record FROM entry_head WHERE uuid = ? "
                                 "ORDER BY vv, hash", (uuid,)).fetchall()
        if rows:
            return [head_version(uuid, vv, record) for vv, record in rows]
        return [] if ours is None else [ours]

    def our_tombstone(self, uuid):
        row = self.conn.execute("SELECT deleted_at, vv, device FROM tombstone WHERE uuid = ?",
                                (uuid,)).fetchone()
        return None if row is None else _Tombstone(uuid, row[0], _loads(row[1]), row[2])

    # --- entries

    def entry(self, theirs):
        where, ours = self.ours(theirs.uuid)
        report = self.report
        tomb = self.our_tombstone(theirs.uuid)
        # A tombstone under the very vector of a version (a copy that kept
        # its device id, edited on one side and deleted on the other) is
        # concurrent with it, as equal vectors of two versions are.
        if tomb is not None and tomb.vv != theirs.vv and dominates(tomb.vv, theirs.vv):
            report.unchanged += 1  # deleted after that version (here, or overruled)
            return
        heads = self.heads(theirs.uuid, ours)
        same = [h for h in heads if h.vv == theirs.vv]
        twin = next((h for h in same if h.hash == theirs.hash), None)
        if twin is not None:
            if theirs.updated > twin.updated:
                # One edit made twice under one device id: the later time, on both.
                self.settle(where, ours, heads,
                            [theirs if h is twin else h for h in heads], ours.vv)
                report.joined += 1
            else:
                report.unchanged += 1
            return
        # We hold it or a version after it: one of the heads descends from
        # it. Not the entry's vector: with several heads it is their join,
        # which a version descending from all of them (an older device's
        # resolution) equals, and that version is new here.
        if not same and any(dominates(h.vv, theirs.vv) for h in heads):
            report.unchanged += 1
            return
        # A new head; equal vectors with different content (a copied diary
        # that kept its device id, edited on both) count as concurrent.
        kept = [h for h in heads if h.vv == theirs.vv or not dominates(theirs.vv, h.vv)]
        new = kept + [theirs]
        if len(new) > MAX_HEADS:
            raise BadInput("%s: more than %d concurrent versions of one entry; nothing "
                           "was applied" % (dates.shown(theirs.uuid), MAX_HEADS))
        vv = join(ours.vv, theirs.vv) if ours is not None else theirs.vv
        self.settle(where, ours, heads, new, vv)
        if ours is None:
            if tomb is not None and (tomb.vv == theirs.vv
                                     or not dominates(theirs.vv, tomb.vv)):
                # Edited there while deleted here: the edit stays, and the
                # deletion stays beside it, overruled (see tombstone()).
                self.write_tombstone(tomb)
                report.kept += 1
                report.kept_uuids.append(theirs.uuid)
            else:
                report.taken += 1
        elif not kept:
            report.taken += 1
        elif all(h.hash == theirs.hash for h in kept):
            report.joined += 1  # the same content: only the lineage joins
        else:
            report.conflicts += 1

    def settle(self, where, ours, old, new, vv):
        """The entry becomes the latest of the heads ``new`` (were ``old``),
        with vector ``vv``; its conflict copies follow."""
        winner = max(new, key=_Version.key)
        uuid = winner.uuid
        if where is None:
            self.insert(winner, vv)
        elif ours.hash != winner.hash or ours.updated != winner.updated:
            self.replace(where, winner, vv)
        else:  # a new seq all the same: changes() sends the heads again
            self.write_lineage(where[0], vv)
        self.conn.execute("DELETE FROM entry_head WHERE uuid = ?", (uuid,))
        if len(new) > 1:
            self.conn.executemany(
                "INSERT OR IGNORE INTO entry_head (uuid, vv, hash, copy, record) "
                "VALUES (?, ?, ?, ?, ?)",
                [(uuid, _vector_text(h.vv), h.hash, copy_uuid(uuid, h.hash), head_record(h))
                 for h in new])
        wanted = {}
        for h in new:
            if h.hash != winner.hash:
                u = copy_uuid(uuid, h.hash)
                if u not in wanted or h.key() > wanted[u].key():
                    wanted[u] = h
        # One head (the entry itself) has no copy of ours to take away: a
        # row of that uuid with vector {} is a copy the older code made.
        for h in old if len(old) > 1 else ():
            u = copy_uuid(uuid, h.hash)
            if u not in wanted:
                self.retract(u)
        for u, h in sorted(wanted.items()):
            self.conflict_copy(u, h)

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

    def replace(self, where, v, vv, *, title=None, extra_tags=()):
        """Our row of ``v.uuid`` becomes ``v`` with vector ``vv`` (its lineage
        written last)."""
        title = v.title if title is None else title
        entry_id, version = where
        loader = self.loader
        links = loader.resolve_tags(v.tags + tuple(extra_tags), title + "\n" + v.body)
        self.unlinking(entry_id)
        self.conn.execute("DELETE FROM entry_tag WHERE entry_id = ?", (entry_id,))
        if links:
            loader.link(entry_id, links)
        row = entries.row(None, v.created, v.updated, title, v.body, v.starred, version + 1,
                          loader.tags_text(links))
        self.conn.execute(
            "UPDATE entry SET %s WHERE id = ?" % ", ".join(
                "%s = ?" % c for c in entries.ROW_COLUMNS[1:]), (*row[1:], entry_id))
        self.write_lineage(entry_id, vv)

    @staticmethod
    def copy_title(v):
        name = v.title if v.title.strip() else "the entry of %s" % (
            dates.local(dates.read_stored(v.created)).strftime("%Y-%m-%d %H:%M"))
        # cut to the limit: past it, every other replica would refuse the copy
        # (and the whole batch holding it)
        return ("Conflict copy of " + name)[:entries.MAX_TEXT]

    def conflict_copy(self, uuid, head):
        """Show ``head`` as the conflict copy ``uuid``, unless this replica
        deleted that copy or someone touched it (its vector is no more {})."""
        where, copy = self.ours(uuid)
        title = self.copy_title(head)
        if copy is None:
            if self.our_tombstone(uuid) is None:
                self.insert(dataclasses.replace(head, uuid=uuid), {},
                            title=title, extra_tags=(CONFLICT_TAG,))
            return
        if copy.vv:
            return
        wanted = content_hash(head.created, title, head.body, head.starred,
                              head.tags + (CONFLICT_TAG,))
        if copy.hash != wanted or copy.updated != head.updated:
            self.replace(where, dataclasses.replace(head, uuid=uuid), {},
                         title=title, extra_tags=(CONFLICT_TAG,))

    def retract(self, uuid):
        """Take away the conflict copy ``uuid`` if no one touched it: its
        version was overtaken (or won). No tombstone, no trash: it was only
        ever a view of a head."""
        where, copy = self.ours(uuid)
        if copy is None or copy.vv:
            return
        self.unlinking(where[0])
        self.conn.execute("DELETE FROM entry WHERE id = ?", (where[0],))
        # what the deletion trigger wrote for a local deletion
        self.conn.execute("DELETE FROM tombstone WHERE uuid = ?", (uuid,))
        self.report.changed += 1

    # --- tombstones

    def tombstone(self, theirs):
        from . import trash

        where, ours = self.ours(theirs.uuid)
        report = self.report
        tomb = self.our_tombstone(theirs.uuid)
        if (tomb is not None and dominates(tomb.vv, theirs.vv)) or (
                ours is not None and ours.vv != theirs.vv and dominates(ours.vv, theirs.vv)):
            report.unchanged += 1  # known here, or older than our version
            return
        if tomb is not None and not dominates(theirs.vv, tomb.vv):
            later = max((tomb.deleted, tomb.device), (theirs.deleted, theirs.device))
            theirs = _Tombstone(theirs.uuid, later[0], join(tomb.vv, theirs.vv), later[1])
        if ours is None:
            self.write_tombstone(theirs)
            report.recorded += 1
            return
        heads = self.heads(theirs.uuid, ours)
        left = [h for h in heads if h.vv == theirs.vv or not dominates(theirs.vv, h.vv)]
        if left:
            # Edited here while deleted there: the edit stays. The deletion
            # is kept beside it, overruled, and not joined into the entry's
            # vector: a deletion made later by a copy that saw this version
            # (and never the overruled one) dominates it and wins.
            self.settle(where, ours, heads, left, ours.vv)
            self.write_tombstone(theirs)
            report.kept += 1
            report.kept_uuids.append(theirs.uuid)
            return
        for h in heads if len(heads) > 1 else ():  # as in settle()
            self.retract(copy_uuid(theirs.uuid, h.hash))
        self.conn.execute("DELETE FROM entry_head WHERE uuid = ?", (theirs.uuid,))
        self.unlinking(where[0])
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
