"""Tag trees: paths like ``work/acme/meetings``, a closure table, subtree
queries, and reorganising (rename, move, merge, delete). Usage::

    from diary import tags
    with d.write():
        tags.ensure(d, "work/acme/meetings")          # creates work, work/acme too
        tags.set_entry_tags(d, entry, add=["health/running"])
    query = tags.filter_under(Entry.select(), "work")  # work and everything below
    tags.move(d, "work/acme", "clients")               # now clients/acme

The schema (schema.MIGRATIONS[0]): ``tag`` is the adjacency list (name as
first written, ``key`` = casefolded name, ``parent_id``); ``tag_path`` holds
(ancestor, descendant, depth) for every pair, each tag with itself at depth 0,
kept by SQL triggers on insert and on ``parent_id`` updates, so no code path
can forget it; ``entry_tag.source`` records why a link exists (EXPLICIT from
--tag, INLINE from ``#tag`` in the text, or both) so that editing the text
removes only links that came from the text alone.

Two texts derived from the tree feed the search indexes (schema.MIGRATIONS[2]):
``tag.path``, kept by triggers on every insert, rename and move, with its
index ``tag_fts``; and ``entry.tags``, tokens naming the entry's linked tags
(``index_text``), refreshed by ``_refresh`` in the same transaction as every
change of links, with one set-based UPDATE. A rename or move changes no entry.
"""

import json
import re
import unicodedata

from peewee import SQL

from .errors import BadInput, NotFound
from .safe_text import UNSAFE_CHARS
from .store import Entry, EntryTag, Tag, TagPath, attach_tag_paths

EXPLICIT = 1  # entry_tag.source bits
INLINE = 2

MAX_NAME = 100  # characters per name
MAX_DEPTH = 32  # names per path

# Characters that must never be part of a name: what render.clean would
# escape (controls, bidi controls, separators), and tab and newline too.
_FORBIDDEN = re.compile("[\t\n%s]" % UNSAFE_CHARS)


# --- paths -------------------------------------------------------------------

def parse_path(text):
    """``"work / Acme/meetings"`` -> ``("work", "Acme", "meetings")``.

    Names are trimmed and NFC-normalised; one leading ``#`` is allowed (so
    ``--tag '#work'`` means ``work``). Empty names (``a//b``, a leading or
    trailing ``/``) and control characters raise BadInput.
    """
    if isinstance(text, (tuple, list)):
        text = "/".join(text)
    if not isinstance(text, str):
        raise BadInput("a tag path must be text")
    if _FORBIDDEN.search(text):
        raise BadInput("a tag path may not contain control characters")
    if any("\ud800" <= c <= "\udfff" for c in text):  # JSON or YAML's \ud800
        raise BadInput("a tag path may not contain a lone surrogate, which is no character")
    text = unicodedata.normalize("NFC", text).strip()
    if text.startswith("#"):
        text = text[1:].lstrip()
    if not text:
        raise BadInput("empty tag path")
    parts = tuple(part.strip() for part in text.split("/"))
    if "" in parts:
        raise BadInput("bad tag path %r: empty name (a leading, trailing or double '/')"
                       % text)
    if len(parts) > MAX_DEPTH:
        raise BadInput("tag path %r is too deep (over %d levels)" % (text, MAX_DEPTH))
    for part in parts:
        if len(part) > MAX_NAME:
            raise BadInput("tag name %r is too long (over %d characters)"
                           % (part[:20] + "...", MAX_NAME))
    return parts


def parse_name(text):
    """One name (for rename): a path of exactly one part."""
    parts = parse_path(text)
    if len(parts) != 1:
        raise BadInput("a tag name cannot contain '/'; use `diary tag move` to move a tag")
    return parts[0]


def key(name):
    return name.casefold()


def _child(parent_id, name_key):
    cond = Tag.parent.is_null() if parent_id is None else (Tag.parent == parent_id)
    return Tag.get_or_none(cond & (Tag.key == name_key))


def resolve(path):
    """The Tag at ``path`` (case-insensitive), or None."""
    tag = None
    for name in parse_path(path):
        tag = _child(tag.id if tag else None, key(name))
        if tag is None:
            return None
    return tag


def must(path):
    """The Tag at ``path``, or NotFound."""
    tag = resolve(path)
    if tag is None:
        raise NotFound("no tag %s" % "/".join(parse_path(path)))
    return tag


def ensure(diary, path):
    """The Tag at ``path``, creating it and any missing ancestors.

    A new name keeps the case it is given; an existing one keeps its own.
    Call inside ``diary.write()``.
    """
    tag = None
    for name in parse_path(path):
        parent_id = tag.id if tag else None
        found = _child(parent_id, key(name))
        tag = found or Tag.create(name=name, key=key(name), parent=parent_id)
    return tag


def path_of(tag_id):
    """The full path of a tag, names as stored."""
    row = _sql("SELECT path FROM tag WHERE id = ?", (tag_id,)).fetchone()
    return row and row[0]


def index_text(tag_ids):
    """entry.tags for an entry linked to ``tag_ids``: ``"t12 t40"``, as _REFRESH
    and MIGRATIONS[2] write it. The search finds tags by path in tag_fts and
    matches these tokens, so no entry changes when a tag is renamed or moved."""
    return " ".join("t%d" % i for i in sorted(tag_ids))


def _db():
    return Tag._meta.database


def _sql(sql, params=()):
    return _db().execute_sql(sql, params)


# --- inline tags ---------------------------------------------------------------

# A '#' starts a tag only at the start of a word: at the start of the text or
# after whitespace or an opening bracket/quote, so `C#`, `a#b`, `page#anchor`
# and `&#123;` are not tags. The tag runs over letters, digits, `_ - . / + &`;
# anything else (space, `,;:!?)'"`, ...) ends it, and a trailing `.`, `-` or
# `/` is dropped (the end of a sentence). `# Heading` and `## Heading` are
# not tags (no word character right after the '#'); neither is a tag without
# a letter (`#1`, `#2024`, `#3.5`: issue and list numbers). Code is skipped:
# fenced blocks and `inline code` (so `#include` in a snippet is not a tag).
_INLINE = re.compile(r"(?<![^\s(\[{\"'“‘«])#(\w[\w\-./+&]*)")
_CODE = re.compile(r"^(```|~~~).*?(^\1|\Z)|`[^`\n]*`", re.S | re.M)
_LETTER = re.compile(r"[^\W\d_]")


def inline_tags(text):
    """The ``#tag/paths`` written in ``text``, each once, in order of appearance."""
    found = {}
    for match in _INLINE.finditer(_CODE.sub(" ", text or "")):
        word = match.group(1).rstrip(".-/")
        if not _LETTER.search(word):
            continue
        try:
            parts = parse_path(word)
        except BadInput:
            continue  # prose, not a command: a malformed tag is just text
        found.setdefault(keypath(parts), "/".join(parts))
    return list(found.values())


def keypath(path):
    """The key two spellings of one tag share: ``"Work / Cafe\u0301"`` and
    ``"work/café"`` -> ``"work/café"`` (trimmed, NFC, casefolded). ``path`` is
    text or parse_path's parts; a bad path raises BadInput. Compare tag paths
    only by this: a casefold alone misses a decomposed accent."""
    return "/".join(key(p) for p in parse_path(path))


# --- entry links -----------------------------------------------------------------

def _link(entry_id, tag_id, source):
    _sql("INSERT INTO entry_tag (entry_id, tag_id, source) VALUES (?, ?, ?) "
         "ON CONFLICT (entry_id, tag_id) DO UPDATE SET source = source | excluded.source",
         (entry_id, tag_id, source))


def set_entry_tags(diary, entry, add=(), remove=(), *, source=EXPLICIT):
    """Link ``entry`` (an Entry or an id) to the paths in ``add``, unlink ``remove``.

    Missing tags in ``add`` are created. Removing a tag the entry does not
    carry raises BadInput. ``entry.tags`` is refreshed (in the database and
    on ``entry`` when it is an Entry) in the caller's transaction.
    """
    entry_id = entry if isinstance(entry, int) else entry.id
    with diary.write():
        for path in add:
            _link(entry_id, ensure(diary, path).id, source)
        for path in remove:
            tag = resolve(path)
            gone = 0
            if tag is not None:
                gone = (EntryTag.delete()
                        .where((EntryTag.entry == entry_id) & (EntryTag.tag == tag.id))
                        .execute())
            if not gone:
                raise BadInput("entry %s has no tag %s" % (entry_id, "/".join(parse_path(path))))
        _refresh(ids=[entry_id])
        if isinstance(entry, Entry):
            entry.tags = Entry.get_by_id(entry_id).tags
            entry.forget_tag_paths()
    return entry


def sync_inline(diary, entry_id, old_text, new_text):
    """Follow the ``#tags`` of an edited text: link the new ones, unlink the
    ones written no more unless they were also added explicitly.

    Only the difference between the two texts acts, so a text that still
    says ``#run`` after the tag was renamed to ``running`` re-creates
    nothing, and an explicit ``--untag`` is not undone by an unrelated edit.
    Does not refresh ``entry.tags``; the caller does (see entries.py).
    """
    old = {keypath(p): p for p in inline_tags(old_text)}
    new = {keypath(p): p for p in inline_tags(new_text)}
    for k in new.keys() - old.keys():
        _link(entry_id, ensure(diary, new[k]).id, INLINE)
    for k in old.keys() - new.keys():
        tag = resolve(old[k])
        if tag is not None:
            _sql("DELETE FROM entry_tag WHERE entry_id = ? AND tag_id = ? AND source = ?",
                 (entry_id, tag.id, INLINE))
            _sql("UPDATE entry_tag SET source = ? WHERE entry_id = ? AND tag_id = ?",
                 (EXPLICIT, entry_id, tag.id))


# The entry.tags text (index_text) of the chosen entries, recomputed from
# their links in one statement; only rows whose text really changes are
# written (each write re-indexes the entry in FTS).
_REFRESH = """
WITH target(id) AS (%s),
fresh(id, tags) AS (
    SELECT target.id, coalesce((
        SELECT group_concat('t' || et.tag_id, ' ' ORDER BY et.tag_id)
        FROM entry_tag et WHERE et.entry_id = target.id), '')
    FROM target)
UPDATE entry SET tags = fresh.tags FROM fresh
WHERE entry.id = fresh.id AND entry.tags IS NOT fresh.tags
"""
_UNDER = ("SELECT DISTINCT et.entry_id FROM tag_path p "
          "JOIN entry_tag et ON et.tag_id = p.descendant_id WHERE p.ancestor_id = ?")


def _refresh(*, ids):
    """Recompute entry.tags for the entries ``ids``; how many changed."""
    ids = list(ids)
    if not ids:
        return 0
    return _sql(_REFRESH % "SELECT value FROM json_each(?)", (json.dumps(ids),)).rowcount


def _entries_under(tag_id):
    return [row[0] for row in _sql(_UNDER, (tag_id,))]


# --- queries -----------------------------------------------------------------------

def entries_under(path, exact=False):
    """``(ids, n)``: a subquery of the ids of the entries tagged ``path`` or
    anything under it (only ``path`` itself with ``exact``), and how many
    they are; ``(None, 0)`` for an unknown path. A malformed one raises
    BadInput."""
    tag = resolve(path)
    if tag is None:
        return None, 0
    if exact:
        sub = EntryTag.select(EntryTag.entry).where(EntryTag.tag == tag.id)
        return sub, sub.count()
    sub = (EntryTag.select(EntryTag.entry)
           .join(TagPath, on=(TagPath.descendant == EntryTag.tag))
           .where(TagPath.ancestor == tag.id))
    return sub, tag.subtree_entries


# Entries under a tag, beyond which a walk along the dates beats looking each up.
WALK = 2_000


def under(ids, n, *, walk):
    """The condition "Entry.id in ``ids``" (entries_under's), shaped for the
    query's plan. With ``walk`` (a query in date order with a LIMIT) and
    many entries, ``id + 0`` keeps SQLite from fetching every one by id and
    sorting them: it walks the created_at index instead, testing ids against
    the set, and the LIMIT stops it early (5 ms instead of 90 ms for the
    newest 50 of 20,000 entries). A few are looked up, or a walk would cross
    the whole diary to find them (60 ms for a tag of 3 entries among
    1,000,000). Without ``walk`` (counting, listing) SQLite picks."""
    return ((Entry.id + 0) if walk and n > WALK else Entry.id).in_(ids)


def filter_under(query, path, exact=False):
    """Narrow an ``Entry`` query, in date order with a LIMIT, to entries tagged
    ``path`` or anything under it (only ``path`` itself with ``exact``). An
    unknown path gives no rows; a malformed one raises BadInput."""
    ids, n = entries_under(path, exact)
    if ids is None:
        return query.where(SQL("0"))
    return query.where(under(ids, n, walk=True))


class Node:
    """A tag in the tree: ``count`` entries carry it, ``total`` distinct
    entries carry it or a tag below it. (Plain classes here, not dataclasses:
    every command imports this module, and dataclasses costs 10 ms to import.)"""

    __slots__ = ("id", "name", "path", "count", "total", "children")

    def __init__(self, id, name, path, count=0, total=0, children=None):
        self.id, self.name, self.path = id, name, path
        self.count, self.total = count, total
        self.children = children if children is not None else []

    def __repr__(self):
        return "Node(%r, count=%d, total=%d)" % (self.path, self.count, self.total)


def tree(diary):
    """The whole tag tree as a list of top-level Nodes, siblings by name."""
    with diary.read():
        rows = list(_sql("SELECT id, name, key, parent_id, subtree_entries FROM tag"))
        own = dict(_sql("SELECT tag_id, count(*) FROM entry_tag GROUP BY tag_id"))
    kids = {}
    for row in sorted(rows, key=lambda r: r[2]):
        kids.setdefault(row[3], []).append(row)

    def build(parent_id, prefix):
        nodes = []
        for tag_id, name, _, _, total in kids.get(parent_id, ()):
            path = prefix + name
            node = Node(tag_id, name, path, own.get(tag_id, 0), total)
            node.children = build(tag_id, path + "/")
            nodes.append(node)
        return nodes

    return build(None, "")


def to_record(node):
    """The stable JSON shape of a tree node (README: Tags)."""
    return {"name": node.name, "path": node.path, "count": node.count, "total": node.total,
            "children": [to_record(c) for c in node.children]}


# One query for every top-level tag: the distinct entries of each subtree,
# numbered newest first by a window function, cut at n.
_LATEST = """
WITH hits AS (
    SELECT DISTINCT p.ancestor_id AS top_id, et.entry_id
    FROM tag t JOIN tag_path p ON p.ancestor_id = t.id
    JOIN entry_tag et ON et.tag_id = p.descendant_id
    WHERE t.parent_id IS NULL),
ranked AS (
    SELECT h.top_id, e.*, row_number() OVER (
        PARTITION BY h.top_id ORDER BY e.created_at DESC, e.id DESC) AS rank
    FROM hits h JOIN entry e ON e.id = h.entry_id)
SELECT * FROM ranked WHERE rank <= ? ORDER BY top_id, rank
"""


def latest(diary, n):
    """For each top-level tag (by name): ``(name, [its n newest entries under it])``."""
    with diary.read():
        tops = list(Tag.select().where(Tag.parent.is_null()).order_by(Tag.key))
        found = {}
        for entry in attach_tag_paths(list(Entry.raw(_LATEST, n))):
            found.setdefault(entry.top_id, []).append(entry)
    return [(t.name, found.get(t.id, [])) for t in tops]


# --- reorganising ---------------------------------------------------------------------
# Each runs in one write transaction: the tree, the paths, the links and the
# tags text of every entry whose links change, together or not at all.

class Change:
    """What a reorganisation did: the path before and after, how many entries
    it concerned (their tags now read differently), how many tags went."""

    __slots__ = ("old", "new", "entries", "tags")

    def __init__(self, old, new, entries=0, tags=0):
        self.old, self.new, self.entries, self.tags = old, new, entries, tags

    def __eq__(self, other):
        return isinstance(other, Change) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self):
        return "Change(%r -> %r, entries=%d, tags=%d)" % (self.old, self.new, self.entries,
                                                          self.tags)


def _subtree(tag_id):
    return [row[0] for row in _sql(
        "SELECT descendant_id FROM tag_path WHERE ancestor_id = ?", (tag_id,))]


def _is_under(tag_id, ancestor_id):
    return TagPath.select().where((TagPath.ancestor == ancestor_id)
                                  & (TagPath.descendant == tag_id)).exists()


def _refuse_clash(parent_id, name_key, tag_id,
                  message="%s already exists; use `diary tag merge` to combine the two"):
    """Siblings are unique by key: a rename or move never merges silently."""
    other = _child(parent_id, name_key)
    if other is not None and other.id != tag_id:
        raise BadInput(message % path_of(other.id))


def rename(diary, path, new_name):
    """Give the tag at ``path`` a new name (its last part), keeping its place."""
    with diary.write():
        tag = must(path)
        name = parse_name(new_name)
        old = path_of(tag.id)
        if name == tag.name:
            return Change(old, old)
        _refuse_clash(tag.parent_id, key(name), tag.id)
        Tag.update(name=name, key=key(name)).where(Tag.id == tag.id).execute()
        return Change(old, path_of(tag.id), tag.subtree_entries)


def move(diary, path, new_parent):
    """Move the tag at ``path`` (and everything below) under ``new_parent``.

    ``new_parent`` is created when missing; ``""`` or ``"/"`` or None means
    the top level. Moving a tag under itself or one of its descendants, or
    next to a sibling of the same name, is refused.
    """
    with diary.write():
        tag = must(path)
        old = path_of(tag.id)
        top = new_parent is None or new_parent.strip() in ("", "/")
        parent_id = None if top else ensure(diary, new_parent).id
        if parent_id is not None and _is_under(parent_id, tag.id):
            raise BadInput("cannot move %s under %s: that is %s" % (
                old, path_of(parent_id), "itself" if parent_id == tag.id
                else "one of its own descendants"))
        if parent_id == tag.parent_id:
            return Change(old, old)
        _refuse_clash(parent_id, tag.key, tag.id,
                      "cannot move: %s already exists; use `diary tag merge` to combine them")
        Tag.update(parent=parent_id).where(Tag.id == tag.id).execute()
        return Change(old, path_of(tag.id), tag.subtree_entries)


def merge(diary, src, dest):
    """Fold the tag ``src`` into ``dest``: its entries and children move to
    ``dest`` (a child named like one of dest's children merges into it, and
    so on down), an entry carrying both keeps one link, and ``src`` is gone."""
    with diary.write():
        source, target = must(src), must(dest)
        old, new = path_of(source.id), path_of(target.id)
        if source.id == target.id:
            raise BadInput("cannot merge %s into itself" % old)
        if _is_under(target.id, source.id):
            raise BadInput("cannot merge %s into %s: it is one of its own descendants"
                           % (old, new))
        affected = _entries_under(source.id)
        merged = _merge(source.id, target.id)
        _refresh(ids=affected)
        return Change(old, new, len(affected), merged)


def _merge(src_id, dest_id):
    """Merge tag src into dest; return how many tags disappeared."""
    gone = 1
    while True:  # merging a child into src itself can give src new children
        children = list(Tag.select().where(Tag.parent == src_id))
        if not children:
            break
        for child in children:
            twin = _child(dest_id, child.key)
            if twin is None:
                Tag.update(parent=dest_id).where(Tag.id == child.id).execute()
            else:
                gone += _merge(child.id, twin.id)
    _sql("INSERT INTO entry_tag (entry_id, tag_id, source) "
         "SELECT entry_id, ?, source FROM entry_tag WHERE tag_id = ? "
         "ON CONFLICT (entry_id, tag_id) DO UPDATE SET source = source | excluded.source",
         (dest_id, src_id))
    Tag.delete().where(Tag.id == src_id).execute()  # its links and paths cascade
    return gone


def delete(diary, path, *, recursive=False):
    """Delete the tag at ``path``; with ``recursive``, the tags below it too.

    Entries are never deleted, only untagged.
    """
    with diary.write():
        tag = must(path)
        old = path_of(tag.id)
        doomed = _subtree(tag.id)
        if len(doomed) > 1 and not recursive:
            raise BadInput("%s has %d tags below it; use --recursive to delete them too"
                           % (old, len(doomed) - 1))
        affected = _entries_under(tag.id)
        # One statement: a parent and its children go together, so the
        # parent_id foreign key (checked at the statement's end) holds.
        _sql("DELETE FROM tag WHERE id IN (SELECT value FROM json_each(?))",
             (json.dumps(doomed),))
        _refresh(ids=affected)
        return Change(old, "", len(affected), len(doomed))
