"""Export: the chosen entries, oldest first, streamed to a file or a stream.

Rows come from the cursor, one at a time, inside one read transaction, so the
export is one consistent snapshot and memory stays flat however large the
diary: each writer handles one entry at a time and keeps nothing.
"""

import csv
import json

from peewee import SQL

from .. import dates, entries
from ..errors import DiaryError
from ..formats import EXPORT_FORMATS
from ..store import Entry, split_paths, with_tag_paths
from .. import files
from . import jrnl, markdown
from .records import export_record

SEARCH_PAGE = 1000


def select(diary, *, query=None, since=None, until=None, tags=(), starred=None):
    """The Entry query an export runs: the filters of `diary search`, oldest first."""
    selected = entries.select(since=since, until=until, starred=True if starred else None,
                              newest_first=False, tags=tags)
    if query:
        ids = _matching(diary, query)
        selected = selected.where(Entry.id.in_(SQL("(SELECT value FROM json_each(?))",
                                                   [json.dumps(ids)])))
    return selected


def _matching(diary, text):
    """Ids of the entries the search query ``text`` finds, a page at a time."""
    from .. import search

    query, ids, offset = search.parse(text), [], 0
    while True:
        page = search.search(diary, query, limit=SEARCH_PAGE, offset=offset, sort="oldest",
                             snippets=False)
        ids.extend(hit.entry.id for hit in page.hits)
        if len(page.hits) < SEARCH_PAGE:
            return ids
        offset += SEARCH_PAGE


class _Counted:
    """Rows passed through, counted, with a progress call every few hundred."""

    def __init__(self, rows, progress, total):
        self.rows, self.progress, self.total, self.count = rows, progress, total, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            if self.progress and self.count % 500 == 0:
                self.progress(self.count, self.total)
            yield row
        if self.progress:
            self.progress(self.count, self.total)


class _Row:
    """An entry as the writers read it (the Entry attributes they use), from a
    row of the raw cursor: a peewee model object costs ~10 us to build, a
    second of a 100,000-entry export, and peewee's conversion of a row's
    columns half that again. The dates are converted here, as
    Entry.created_at would (store.UTCDateTimeField); starred stays 0 or 1."""

    __slots__ = ("id", "uuid", "created_at", "updated_at", "title", "body", "starred",
                 "version", "tag_list")
    COLUMNS = __slots__[:-1]

    def __init__(self, row):
        (self.id, self.uuid, created_at, updated_at, self.title, self.body, self.starred,
         self.version, paths) = row
        self.created_at = dates.read_stored(created_at)
        # an entry never edited has one date twice: read once
        self.updated_at = self.created_at if updated_at == created_at \
            else dates.read_stored(updated_at)
        self.tag_list = split_paths(paths)


# json.dumps with any non-default option builds a new encoder for each call
# (0.4 s of a 100,000-entry export); this one is built once.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _record(entry):
    """export_record(entry), the local time computed once when the entry's
    two dates are one (as after an import, or for an entry never edited)."""
    created = dates.local(entry.created_at).isoformat()
    updated = created if entry.updated_at is entry.created_at \
        else dates.local(entry.updated_at).isoformat()
    return {"uuid": entry.uuid, "created_at": created, "updated_at": updated,
            "title": entry.title, "body": entry.body, "starred": bool(entry.starred),
            "tags": entry.tag_list}


def _rows(query):
    columns = [getattr(Entry, name) for name in _Row.COLUMNS]
    cursor = Entry._meta.database.execute(with_tag_paths(query.select(*columns)))
    for row in cursor:
        yield _Row(row)


def _run(diary, write, progress, filters):
    with diary.read():
        query = select(diary, **filters)
        total = query.count() if progress else None
        rows = _Counted(_rows(query), progress, total)
        write(rows)
    return rows.count


# --- formats ---------------------------------------------------------------------

def write_json(out, rows):
    """A JSON array, one entry object per line (greppable, and still one document)."""
    sep = "[\n"
    write = out.write
    for entry in rows:
        write(sep)
        write(_encode(_record(entry)))
        sep = ",\n"
    out.write("[]\n" if sep == "[\n" else "\n]\n")


def write_jsonl(out, rows):
    write = out.write
    for entry in rows:
        write(_encode(_record(entry)))
        write("\n")


CSV_COLUMNS = ("uuid", "created_at", "updated_at", "title", "body", "tags", "starred")


def write_csv(out, rows):
    """RFC 4180 CSV with a header row; tags are joined by newlines (a path has none)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in rows:
        record = export_record(entry)
        record["tags"] = "\n".join(record["tags"])
        record["starred"] = "true" if record["starred"] else "false"
        writer.writerow([record[c] for c in CSV_COLUMNS])


WRITERS = {
    "json": write_json,
    "jsonl": write_jsonl,
    "markdown": markdown.write_document,
    "csv": write_csv,
    "txt": jrnl.write_text,
}
FORMATS = EXPORT_FORMATS  # the names; WRITERS has one writer for each


def export(diary, out, fmt, *, progress=None, **filters):
    """Write the selected entries to the text stream ``out``; returns how many.

    ``filters``: query, since, until, tags, starred (see ``select``).
    ``progress(done, total)`` is called as entries are written.
    """
    if fmt not in WRITERS:
        raise DiaryError("unknown export format %r (use %s)" % (fmt, ", ".join(FORMATS)))
    return _run(diary, lambda rows: WRITERS[fmt](out, rows), progress, filters)


def export_file(diary, path, fmt, *, force=False, progress=None, **filters):
    """Export into the file ``path``, atomically (see files.atomic_file)."""
    if fmt not in WRITERS:
        raise DiaryError("unknown export format %r (use %s)" % (fmt, ", ".join(FORMATS)))
    with files.atomic_file(path, force=force) as out:
        return export(diary, out, fmt, progress=progress, **filters)


def export_split(diary, directory, *, force=False, progress=None, **filters):
    """One Markdown file (with front matter) per entry in ``directory``."""

    def write(rows):
        taken = set()
        for entry in rows:
            name = markdown.file_name(entry, taken)
            files.write_private(tmp, name, markdown.entry_file(entry))

    with files.atomic_directory(directory, force=force) as tmp:
        return _run(diary, write, progress, filters)
