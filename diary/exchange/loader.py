"""Records into the open diary: bulk inserts in the caller's one transaction.

``Loader`` is what import and merge share. It writes with raw SQL on the
diary's connection (prepared statements, cached by the driver), resolves each
tag path once per run, and writes an entry's derived ``tags`` text (tag
tokens, tags.index_text) with the row itself, so the full-text trigger
indexes each entry exactly once.

Duplicates: a record with a uuid matches the entry with that uuid; one
without (jrnl, Markdown, peewee's diary) gets a uuid derived from its date,
title and text, and matches an entry with that uuid or with the same date,
title and text. Importing the same file twice therefore adds nothing, and an
entry imported on two laptops from the same journal has the same uuid on
both, so a later merge sees one entry, not two.
"""

import contextlib
import functools
import hashlib
import uuid as _uuid

from .. import dates, entries, tags as _tags
from ..errors import BadInput

# Derived uuids: uuid5 of the entry's stable text under this namespace.
NAMESPACE = _uuid.UUID("6f1d3c52-8f0e-4b7a-9c1e-2d5a7e4b9f30")
CACHE_KIB = 16 * 1024  # 32 MB took 36 MB more memory for no speed (bench_exchange)
_ENDS = " \t\r\n"  # what a text's ends may lose in a foreign layout
# In a SELECT FROM entry: the entry's tag paths, one per line.
TAG_PATHS = ("coalesce((SELECT group_concat(t.path, char(10)) FROM entry_tag et "
             "JOIN tag t ON t.id = et.tag_id WHERE et.entry_id = entry.id), '')")


def stamp(dt):
    """A datetime as the entry table stores it (sortable UTC text), checked
    against the one range (dates.stored: BadInput, which import_file
    prefixes with the record's place)."""
    return dates.stored(dt)


_NAMESPACE_SHA1 = hashlib.sha1(NAMESPACE.bytes)  # copied for each uuid


def derived_uuid(*parts):
    """uuid5(NAMESPACE, parts joined), computed without the uuid module's overhead
    (it shows at 100,000 entries); the same string uuid.uuid5 gives."""
    h = _NAMESPACE_SHA1.copy()
    h.update("\x1f".join(parts).encode("utf-8"))
    h = bytearray(h.digest())
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h[:16].hex()
    return "%s-%s-%s-%s-%s" % (x[:8], x[8:12], x[12:16], x[16:20], x[20:])


def digest(*parts):
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class Loader:
    """Inserts entries into ``diary``; call inside ``diary.write()``."""

    def __init__(self, diary):
        self.diary = diary
        self.conn = diary.db.connection()
        self._tags = {}  # key path -> (tag id, path as stored)
        self._paths = {}  # a path as written -> tag(path)
        self._before = None  # the highest entry id before this run (_known)
        self._trimmed = set()  # _known: uuids of added texts with spaces at their ends

    @contextlib.contextmanager
    def roomy_cache(self, kib=CACHE_KIB):
        """A larger page cache while loading: a long transaction then rewrites
        index pages in memory instead of spilling (and re-encrypting) them."""
        (old,) = self.conn.execute("PRAGMA cache_size").fetchone()
        self.conn.execute("PRAGMA cache_size = %d" % -kib)
        try:
            yield self
        finally:
            self.conn.execute("PRAGMA cache_size = %d" % old)

    # --- tags ------------------------------------------------------------------

    def tag(self, path):
        """(tag id, stored path, key path) of ``path``, created when missing."""
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = self._tag(path)
        return found

    def keypath(self, path):
        """``path`` as its case-insensitive key (``Work/Acme`` -> ``work/acme``)."""
        found = self._paths.get(path)
        if found is not None:
            return found[2]
        return _tags.keypath(path)

    def _tag(self, path):
        parts = _tags.parse_path(path)
        keypath = _tags.keypath(parts)
        found = self._tags.get(keypath)
        if found is None:
            tag = _tags.ensure(self.diary, parts)
            found = self._tags[keypath] = (tag.id, _tags.path_of(tag.id))
        return found[0], found[1], keypath

    def resolve_tags(self, paths, text, *, inline=False, create=True):
        """{key path: (tag id, stored path, source)} for an entry.

        The source bit says why the link exists (tags.EXPLICIT / INLINE): a
        tag the text also writes as ``#tag`` is inline, so that editing the
        text later unlinks it exactly as if it had been typed here.
        With ``create=False``: None when a path is not yet known to this run
        (then nothing is created).
        """
        written = set()
        for path in _tags.inline_tags(text) if "#" in text else ():
            written.add(self.keypath(path))
            if inline:
                paths = (*paths, path)  # after the record's own: its spelling wins
        links = {}
        known = self._paths
        for path in paths:
            if create:
                tag_id, stored, keypath = self.tag(path)
            else:
                found = known.get(path)
                if found is None:
                    return None
                tag_id, stored, keypath = found
            source = _tags.INLINE if keypath in written else _tags.EXPLICIT
            links.setdefault(keypath, (tag_id, stored, source))
        return links

    @staticmethod
    def tags_text(links):
        return _tags.index_text(tag_id for tag_id, _, _ in links.values())

    def link(self, entry_id, links):
        self.conn.executemany(
            "INSERT INTO entry_tag (entry_id, tag_id, source) VALUES (?, ?, ?) "
            "ON CONFLICT (entry_id, tag_id) DO UPDATE SET source = source | excluded.source",
            [(entry_id, tag_id, source) for tag_id, _, source in links.values()])

    # --- entries ---------------------------------------------------------------

    def find(self, uuid):
        """The row (id, created_at, updated_at, title, body, starred, tag paths
        one per line, version) of the entry with ``uuid``, or None."""
        return self.conn.execute(
            "SELECT id, created_at, updated_at, title, body, starred, %s, version "
            "FROM entry WHERE uuid = ?" % TAG_PATHS, (uuid,)).fetchone()

    @staticmethod
    def check(record):
        """Everything about ``record`` that can be checked without the diary:
        import runs this over every record before it reaches ``add``. Its
        stored dates (created, updated), which ``add`` takes."""
        title, body = record.title, record.body
        entries.check_text(body, "text")
        entries.check_text(title, "title")
        if not title.strip() and not body.strip():
            raise BadInput("the entry has no title and no text")
        for path in record.tags:
            _valid_path(path)
        created = stamp(record.created_at)
        updated = created if record.updated_at in (None, record.created_at) \
            else stamp(record.updated_at)
        return created, updated

    def add(self, record, stamps=None):
        """Insert ``record`` unless the diary has it; True when it was added.
        ``stamps``: what ``check(record)`` returned (import checks every
        record first), so it is not run again."""
        created, updated = stamps or self.check(record)
        title, body = record.title, record.body
        text = title + "\n" + body
        uuid = record.uuid
        # Tags this run has already resolved need no look-up; with them, an
        # entry that can only clash by uuid is inserted at once, ON CONFLICT
        # DO NOTHING saying whether it was new: one statement, not two.
        links = self.resolve_tags(record.tags, text, inline=record.inline, create=False)
        if uuid is None:
            uuid = derived_uuid(created, title, body)
            if self._only_by_uuid(title, body):
                if uuid in self._trimmed:  # an earlier text of this run, its ends trimmed
                    return False
                if links is not None:
                    return self.insert(uuid, created, updated, title, body, record.starred,
                                       links, if_new=True) is not None
            if self._known(uuid, created, title, body):
                return False
        elif links is not None:
            return self.insert(uuid, created, updated, title, body, record.starred, links,
                               if_new=True) is not None
        elif self.find(uuid) is not None:
            return False
        if links is None:
            links = self.resolve_tags(record.tags, text, inline=record.inline)
        self.insert(uuid, created, updated, title, body, record.starred, links)
        return True

    def _before_run(self):
        if self._before is None:
            (self._before,) = self.conn.execute(
                "SELECT coalesce(max(id), 0) FROM entry").fetchone()
        return self._before

    def _only_by_uuid(self, title, body):
        """Whether a record without a uuid can match only by uuid: the
        diary was empty before this run, and its text has no spaces at its
        ends (a text with them is matched by _known)."""
        return self._before_run() == 0 and title.strip(_ENDS) == title \
            and body.strip(_ENDS) == body

    def _known(self, uuid, created, title, body):
        """Whether the diary has the entry of a record without a uuid: one
        with its derived ``uuid``, or one of the same date, title and text,
        the text compared without the spaces and line breaks at its ends (a
        layout like jrnl's, our txt export, does not keep them).

        Linear in the entries, whatever their dates: the text is compared
        only with the entries the diary had before this run (an index range
        on the date and id), never with each entry this run added at the
        same time (which was quadratic for entries sharing one timestamp).
        Those are matched instead by uuid: the uuid derived from the trimmed
        text finds an earlier clean one, and ``_trimmed`` the few whose
        text had spaces at its ends.
        """
        before = self._before_run()
        t_title, t_body = title.strip(_ENDS), body.strip(_ENDS)
        clean = t_title == title and t_body == body
        trimmed = uuid if clean else derived_uuid(created, t_title, t_body)
        if self.conn.execute(
                "SELECT 1 FROM entry WHERE uuid IN (?1, ?2) UNION ALL SELECT 1 FROM entry "
                "WHERE created_at = ?3 AND id <= ?4 AND trim(title, ?5) = ?6 "
                "AND trim(body, ?5) = ?7 LIMIT 1",
                (uuid, trimmed, created, before, _ENDS, t_title, t_body)).fetchone():
            return True
        if trimmed in self._trimmed:
            return True
        if not clean:
            self._trimmed.add(trimmed)
        return False

    def insert(self, uuid, created, updated, title, body, starred, links, version=1, *,
               if_new=False):
        """Insert the entry row (entries.row, the one builder of a row) and
        its tag links; its id. ``if_new``: None, and nothing written, when
        the diary has an entry with this uuid."""
        row = entries.row(uuid, created, updated, title, body, starred, version,
                          self.tags_text(links))
        cursor = self.conn.execute(_INSERT_IF_NEW if if_new else _INSERT, row)
        if if_new and cursor.rowcount == 0:
            return None
        entry_id = cursor.lastrowid
        if links:
            self.link(entry_id, links)
        return entry_id


_INSERT = "INSERT INTO entry (%s) VALUES (%s)" % (
    ", ".join(entries.ROW_COLUMNS), ", ".join("?" * len(entries.ROW_COLUMNS)))
_INSERT_IF_NEW = _INSERT + " ON CONFLICT (uuid) DO NOTHING"


@functools.lru_cache(maxsize=4096)
def _valid_path(path):
    """tags.parse_path, once per spelling (an import repeats a few tags often)."""
    return _tags.parse_path(path)
