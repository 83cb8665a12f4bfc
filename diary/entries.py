"""Entries: add, read, list, edit and delete, on an unlocked diary.

Every function takes a ``store.Diary``; writes run in one IMMEDIATE
transaction each. Edits use optimistic locking: an edit that names the
version it read fails with ``Conflict`` when another session saved meanwhile.
"""

import re
import uuid as _uuid

# tags and grams (and what they import) are imported by the functions that
# use them: reading commands (`diary list`) need neither.
from . import dates
from .errors import BadInput, Conflict, NotFound
from .store import Entry, attach_tag_paths, with_tag_paths

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_TEXT = 50 * 1024 * 1024  # 50 MB of text per field: beyond that, surely a mistake


def _check_text(value, what):
    if not isinstance(value, str):
        raise BadInput("%s must be text" % what)
    if len(value) > MAX_TEXT:
        raise BadInput("the %s is too long (over %d MB)" % (what, MAX_TEXT // (1024 * 1024)))
    if "\x00" in value:
        raise BadInput("the %s contains a NUL character" % what)
    found = None if value.isascii() else _SURROGATE.search(value)
    if found:  # JSON and YAML can spell one (\ud800); no UTF-8 text can hold it
        raise BadInput("the %s contains a lone surrogate (\\u%04x), which is no character"
                       % (what, ord(found.group())))


check_text = _check_text  # for importers, which insert in bulk


# The entry table's columns as every write path fills them (row).
ROW_COLUMNS = ("uuid", "created_at", "updated_at", "title", "body", "starred", "version",
               "tags", "grams")


def row(uuid, created_at, updated_at, title, body, starred, version=1, tags=""):
    """An entry's row, the values of ROW_COLUMNS in order: the one function
    that builds it, for every path that writes an entry whole (add, import,
    merge). The columns derived from the text at write time (grams: the
    bigrams of its CJK and Thai runs, grams.py) are computed here."""
    from . import grams as _grams

    return (uuid, created_at, updated_at, title, body, int(bool(starred)), version, tags,
            _grams.derive(title, body))


def _inline_text(title, body):
    return title + "\n" + body


def add(diary, body, *, title="", created_at=None, starred=False, uuid=None, updated_at=None,
        tags=()):
    """Add an entry and return it. ``uuid``/``updated_at`` are for imports.

    ``tags`` are tag paths to link (created when missing); ``#tags`` written
    in the title or text are linked too (tags.inline_tags).
    """
    from . import tags as _tags

    _check_text(body, "text")
    _check_text(title, "title")
    if not body.strip() and not title.strip():
        raise BadInput("nothing to add: the entry has no title and no text")
    stamp = dates.now()
    if created_at is not None:
        dates.stored(created_at)  # the one range (BadInput)
    if updated_at is not None:
        dates.stored(updated_at)
    with diary.write():
        entry = Entry.create(**dict(zip(ROW_COLUMNS, row(
            uuid or str(_uuid.uuid4()), created_at or stamp,
            updated_at or created_at or stamp, title, body, starred))))
        _tags.sync_inline(diary, entry.id, "", _inline_text(title, body))
        return attach_tag_paths([_tags.set_entry_tags(diary, entry, add=tags)])[0]


def get(diary, entry_id):
    entry = Entry.get_or_none(Entry.id == entry_id)
    if entry is None:
        raise NotFound("no entry with id %s" % entry_id)
    return attach_tag_paths([entry])[0]


def get_many(diary, ids):
    """The entries with these ids, in the order asked; NotFound names the first missing."""
    with diary.read():
        return [get(diary, i) for i in ids]


def select(*, since=None, until=None, starred=None, newest_first=True, tags=(),
           tag_exact=False):
    """A peewee query over entries with the common filters.

    ``tags``: entries under every one of these paths (the tag or any tag
    below it; only the tag itself with ``tag_exact``).
    """
    query = Entry.select()
    if tags:
        from . import tags as _tags

        for path in tags:
            query = _tags.filter_under(query, path, exact=tag_exact)
    if since is not None:
        query = query.where(Entry.created_at >= since)
    if until is not None:
        query = query.where(Entry.created_at <= until)
    if starred is not None:
        query = query.where(Entry.starred == bool(starred))
    if newest_first:
        return query.order_by(Entry.created_at.desc(), Entry.id.desc())
    return query.order_by(Entry.created_at, Entry.id)


def matching_ids(diary, text):
    """Ids of every entry the search query ``text`` (as `diary search` reads it,
    or a parsed search.Query) finds, oldest first, past the search's page cap."""
    from . import search

    query = text if isinstance(text, search.Query) else search.parse(text)
    found = search.search(diary, query, limit=None, sort="oldest", snippets=False)
    return [hit.entry.id for hit in found.hits]


def _only(query, ids):
    import json

    from peewee import SQL

    return query.where(Entry.id.in_(SQL("(SELECT value FROM json_each(?))", [json.dumps(ids)])))


def list_entries(diary, *, limit=None, offset=0, since=None, until=None, starred=None,
                 newest_first=True, tags=(), tag_exact=False, query=None):
    """The entries passing the filters of ``select``, ``limit`` from ``offset``;
    ``query``: only those the search query (text or a parsed search.Query) finds."""
    with diary.read():
        ids = matching_ids(diary, query) if query is not None else None
        return _listed(select(since=since, until=until, starred=starred,
                              newest_first=newest_first, tags=tags, tag_exact=tag_exact),
                       ids, limit, offset)


def _listed(query, ids, limit, offset):
    if ids is not None:
        query = _only(query, ids)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    elif offset:
        query = query.offset(offset)
    return list(with_tag_paths(query))


def matching(diary, *, query=None, since=None, until=None, starred=None, tags=(),
             tag_exact=False):
    """The ids of the entries passing the filters of ``select`` and, with
    ``query`` (the search language, text or a parsed Query), matching it:
    every one of them, oldest first. What bulk delete and edit act on.
    BadInput for a query that cannot be searched."""
    with diary.read():
        ids = [row[0] for row in select(since=since, until=until, starred=starred, tags=tags,
                                        tag_exact=tag_exact, newest_first=False)
               .select(Entry.id).tuples()]
        if query is None or not ids:
            return ids
        hits = set(matching_ids(diary, query))
        return [i for i in ids if i in hits]


def edit_many(diary, ids, *, created_at=None, starred=None, add_tags=(), remove_tags=()):
    """Give every entry of ``ids`` the same new date, star or tags, in ONE
    transaction: all of them or none. An entry without a tag of
    ``remove_tags`` is left without it (no error, unlike ``edit``). Returns
    how many entries there were."""
    from . import tags as _tags

    for path in (*add_tags, *remove_tags):
        _tags.parse_path(path)  # BadInput before anything is written
    if created_at is not None:
        dates.stored(created_at)
    gone = {_tags.keypath(p) for p in remove_tags}
    ids = list(dict.fromkeys(ids))
    with diary.write():
        for entry_id in ids:
            drop = ()
            if gone:
                have = {_tags.keypath(p): p for p in get(diary, entry_id).tag_list}
                drop = [have[k] for k in gone if k in have]
            edit(diary, entry_id, created_at=created_at, starred=starred, add_tags=add_tags,
                 remove_tags=drop)
    return len(ids)


def count(diary, **filters):
    """How many entries pass the filters of ``select``."""
    return select(**filters).order_by().count()


def edit(diary, entry_id, *, body=None, title=None, created_at=None, starred=None,
         expected_version=None, add_tags=(), remove_tags=()):
    """Change the given fields; return the updated entry.

    ``add_tags``/``remove_tags`` are tag paths to link and unlink. A new
    title or text re-derives the inline ``#tags`` (tags.sync_inline).

    With ``expected_version`` the write happens only if the entry is still at
    that version, else Conflict (the caller keeps its text and can save it as
    a new entry).
    """
    from . import grams as _grams, tags as _tags

    changes = {}
    if body is not None:
        _check_text(body, "text")
        changes[Entry.body] = body
    if title is not None:
        _check_text(title, "title")
        changes[Entry.title] = title
    if created_at is not None:
        dates.stored(created_at)  # the one range (BadInput)
        changes[Entry.created_at] = created_at
    if starred is not None:
        changes[Entry.starred] = bool(starred)
    with diary.write():
        entry = get(diary, entry_id)
        if expected_version is not None and entry.version != expected_version:
            raise Conflict("entry %s was changed in another session since you opened it"
                           % entry_id)
        if not changes and not add_tags and not remove_tags:
            return entry
        if _changes_nothing(entry, changes, add_tags, remove_tags):
            # No new date either: a date changed without a new version (sync
            # counts only content) would differ from every other copy's for good.
            return entry
        new_title = changes.get(Entry.title, entry.title)
        new_body = changes.get(Entry.body, entry.body)
        # Only a change of text may not empty an entry: a row written empty by
        # another tool still takes a new date, star or tags (check's repair).
        if ((Entry.title in changes or Entry.body in changes)
                and not new_title.strip() and not new_body.strip()):
            raise BadInput("an entry needs a title or some text")
        # Every edit writes the grams, whatever it changes: a row another tool
        # wrote without them is set right by any edit (health.stale_grams).
        changes[Entry.grams] = _grams.derive(new_title, new_body)
        changes[Entry.updated_at] = dates.now()
        changes[Entry.version] = Entry.version + 1
        updated = (Entry.update(changes)
                   .where((Entry.id == entry.id) & (Entry.version == entry.version))
                   .execute())
        if updated != 1:
            raise Conflict("entry %s was changed in another session" % entry_id)
        if Entry.title in changes or Entry.body in changes:
            _tags.sync_inline(diary, entry.id, _inline_text(entry.title, entry.body),
                              _inline_text(new_title, new_body))
        _tags.set_entry_tags(diary, entry.id, add=add_tags, remove=remove_tags)
        return get(diary, entry_id)


def delete(diary, ids, *, keep=True):
    """Delete these entries, all or none; NotFound if any id is unknown.

    With ``keep`` (the default) they go to the trash (trash.py), from where
    they can be restored; without it they are gone for good. Returns how many.
    """
    if keep:
        from . import trash

        return trash.move(diary, ids)
    with diary.write():
        for i in ids:
            get(diary, i)
        return Entry.delete().where(Entry.id.in_(list(ids))).execute()


def _changes_nothing(entry, changes, add_tags, remove_tags):
    """Whether an edit sets only what the entry already has (its text, title
    and star, tags it already carries); a new date or an untag may change."""
    if remove_tags or Entry.created_at in changes:
        return False
    current = {Entry.body: entry.body, Entry.title: entry.title,
               Entry.starred: bool(entry.starred)}
    if any(current[field] != value for field, value in changes.items()):
        return False
    from . import tags as _tags

    have = {_tags.keypath(t) for t in entry.tag_list}
    return all(_tags.keypath(t) in have for t in add_tags or ())


def to_record(entry):
    """The stable JSON shape of an entry (README: "JSON output")."""
    return {
        "id": entry.id,
        "uuid": entry.uuid,
        "created_at": dates.local(entry.created_at).isoformat(),
        "updated_at": dates.local(entry.updated_at).isoformat(),
        "title": entry.title,
        "body": entry.body,
        "starred": bool(entry.starred),
        "tags": entry.tag_list,
        "version": entry.version,
    }
