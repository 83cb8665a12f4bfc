"""Literal substrings: ``diary search --contains TEXT`` (jrnl's -contains).

Usage::

    from diary import contains
    found = contains.search(diary, "oad", limit=20)   # finds "roadmap", "Road"
    found.total, found.hits                           # as search.search's Results

Case and accents do not matter (``cafe`` finds ``CAFÉ``); anything else,
spaces and punctuation included, must be there as typed. Title and text are
searched, not tags. The hits come newest first, each with a snippet around
its first match and the matches' spans, as search.search gives them.

How: a scan of every entry (README "Substrings" has the measurements that
chose a scan over an FTS5 trigram index: the index would grow the file by
more than half). SQLite compares each row in C with a GLOB pattern in which
every character is the class of the characters that fold to it (``e``:
``[eEéÉèÈ...]``, highlight.fold), so no row goes through Python; Python
only places the matches of the page's entries. A text stored in decomposed
form (``e`` + a combining accent) is missed where the accent falls inside
the substring. Filters of the query language (from:, tag:, is:starred)
narrow the scan; words do not combine with it.
"""

from peewee import SQL

from . import highlight
from .errors import BadInput
from .search import Hit, Results, _filter, _opening, _window
from .search_query import MAX_QUERY, parse
from .store import Entry, attach_tag_paths


def pattern(text):
    """The GLOB pattern finding ``text`` anywhere, ignoring case and accents;
    BadInput where nothing is left to find."""
    if not isinstance(text, str):
        raise BadInput("--contains needs text")
    if len(text) > MAX_QUERY:
        raise BadInput("the text to find is too long (%d characters; at most %d)"
                       % (len(text), MAX_QUERY))
    if "\x00" in text:
        raise BadInput("the text to find contains a NUL character")
    table = highlight._variants()
    classes = []
    for ch in text:
        folded = highlight.fold(ch)
        if not folded:  # a combining mark: accents do not matter
            continue
        chars = {ch}
        if len(folded) == 1:
            chars.add(folded)
            chars.update(table.get(folded, ()))
        classes.append(_glob_class(chars))
    if not classes or not text.strip():
        raise BadInput("--contains: nothing to find (give some text)")
    return "*%s*" % "".join(classes)


def _glob_class(chars):
    if len(chars) == 1:
        (ch,) = chars
        return "[%s]" % ch if ch in "*?[" else ch
    # GLOB's class syntax: ] first, - last, ^ never first
    inner = sorted(chars - {"]", "-", "^"})
    return "[%s%s%s%s]" % ("]" if "]" in chars else "", "".join(inner),
                           "^" if "^" in chars else "", "-" if "-" in chars else "")


def search(diary, text, *, query=None, limit=20, offset=0, newest=True):
    """Entries whose title or text holds ``text`` (ignoring case and accents),
    newest first (``newest=False``: oldest first), ``limit`` at a time;
    ``query`` is a query of filters only (search_query), or None."""
    if (limit is not None and limit < 0) or offset < 0:
        raise BadInput("limit and offset must be 0 or more")
    glob = pattern(text)
    if isinstance(query, str):
        query = parse(query)
    if query is not None and query.fts is not None:
        raise BadInput("--contains combines with filters only (from:, to:, on:, tag:, "
                       "is:starred), not with words")
    select = Entry.select(Entry.id).where(
        SQL("(title GLOB ? OR body GLOB ?)", [glob, glob]))
    if query is not None:
        select = _filter(select, query, walk=True)
    if newest:
        select = select.order_by(Entry.created_at.desc(), Entry.id.desc())
    else:
        select = select.order_by(Entry.created_at, Entry.id)
    with diary.read():
        ids = [r[0] for r in diary.db.execute(select).fetchall()]
        page = ids[offset:] if limit is None else ids[offset:offset + limit]
        entries = {e.id: e for e in attach_tag_paths(
            list(Entry.select().where(Entry.id.in_(page))))} if page else {}
    hits = []
    needle = highlight.fold(text)
    for i in page:
        entry = entries[i]
        spans = find(entry.body, needle)
        snippet, spans = _window(entry.body, spans) if spans else (_opening(entry.body), [])
        hits.append(Hit(entry, None, snippet, spans, find(entry.title, needle)))
    return Results(len(ids), hits, order="newest" if newest else "oldest")


def find(text, needle):
    """[(start, end)] of ``needle`` (folded: highlight.fold) in ``text``, as
    offsets into ``text`` itself: folding may change lengths (an accent
    dropped, a Hangul syllable in parts), so each character is folded alone."""
    folded, where = [], []
    for i, ch in enumerate(text):
        f = highlight.fold(ch)
        folded.append(f)
        where.extend([i] * len(f))
    folded = "".join(folded)
    spans, at = [], folded.find(needle)
    while at >= 0 and needle:
        start, end = where[at], where[at + len(needle) - 1] + 1
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
        at = folded.find(needle, at + 1)
    return spans
