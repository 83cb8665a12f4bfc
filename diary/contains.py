"""Literal substrings: ``diary search --contains TEXT`` (jrnl's -contains).

Usage::

    from diary import contains
    found = contains.search(diary, "oad", limit=20)   # finds "roadmap", "Road"
    found.total, found.hits                           # as search.search's Results

Case and accents do not matter (``cafe`` finds ``CAFÉ``); anything else,
spaces and punctuation included, must be there as typed. Title and text are
searched, not tags. The hits come newest first, each with a snippet around
its first match and the matches' spans, as search.search gives them.

How: a scan of every entry in the order of the table (README "Substrings"
has the measurements that chose a scan over an FTS5 trigram index: the
index would grow the file by more than half). Each title and text is folded
by ``fold``, passes in C (decompose unless ASCII, lower case, drop the
accents), and tested with ``in``; an FTS5 GLOB with a class of every accented form of
each letter measured 40 times slower. Filters of the query language
(from:, tag:, is:starred) narrow the scan; words do not combine with it.
"""

import re
import unicodedata

from .errors import BadInput
from .search.core import filter_entries, tags_under
from .search.query import MAX_QUERY, parse
from .search.results import Coverage, Hit, Results
from .search.snippets import cut, opening
from .store import Entry, attach_tag_paths


# The accents fold drops: the combining diacritical marks of the alphabets
# with cases (as highlight._MARKS); marks that are letters' parts in other
# scripts (Thai vowels, Devanagari signs) stay.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text):
    """``text`` as --contains compares it: decomposed, lower case, accents dropped."""
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFD", text):
        text = unicodedata.normalize("NFD", text)
    return _ACCENTS.sub("", text.lower())


def needle(text):
    """``text`` folded, checked: BadInput where nothing is left to find."""
    if not isinstance(text, str):
        raise BadInput("--contains needs text")
    if len(text) > MAX_QUERY:
        raise BadInput("the text to find is too long (%d characters; at most %d)"
                       % (len(text), MAX_QUERY))
    if "\x00" in text:
        raise BadInput("the text to find contains a NUL character")
    folded = fold(text)
    if not folded.strip():
        raise BadInput("--contains: nothing to find (give some text)")
    return folded


def search(diary, text, *, query=None, limit=20, offset=0, newest=True):
    """Entries whose title or text holds ``text`` (ignoring case and accents),
    newest first (``newest=False``: oldest first), ``limit`` at a time;
    ``query`` is a query of filters only (search.query), or None."""
    if (limit is not None and limit < 0) or offset < 0:
        raise BadInput("limit and offset must be 0 or more")
    wanted = needle(text)
    if isinstance(query, str):
        query = parse(query)
    if query is not None and query.fts is not None:
        raise BadInput("--contains combines with filters only (from:, to:, on:, tag:, "
                       "is:starred), not with words")
    # In the table's order (its pages one after another); the matches are then
    # sorted by their stored dates, as SQL would (the text sorts as the time).
    select = Entry.select(Entry.id, Entry.created_at.cast("TEXT"), Entry.title, Entry.body)
    if query is not None:
        select = filter_entries(select, query, tags_under(query))
    with diary.read():
        found = [(str(when), i) for i, when, title, body
                 in diary.db.execute(select.order_by(Entry.id))
                 if _holds(body, wanted) or _holds(title, wanted)]
        found.sort(reverse=newest)
        ids = [i for _, i in found]
        page = ids[offset:] if limit is None else ids[offset:offset + limit]
        entries = {e.id: e for e in attach_tag_paths(
            list(Entry.select().where(Entry.id.in_(page))))} if page else {}
    hits = []
    for i in page:
        entry = entries[i]
        spans = find(entry.body, wanted)
        snippet, spans = cut(entry.body, spans) if spans else (opening(entry.body), [])
        hits.append(Hit(entry, None, snippet, spans, find(entry.title, wanted)))
    return Results(hits, Coverage(len(ids), order="newest" if newest else "oldest"))


def _holds(text, wanted):
    return isinstance(text, str) and wanted in fold(text)


def find(text, needle):
    """[(start, end)] of ``needle`` (folded: ``fold``) in ``text``, as
    offsets into ``text`` itself: folding may change lengths (an accent
    dropped, a Hangul syllable in parts), so each character is folded alone."""
    folded, where = [], []
    for i, ch in enumerate(text):
        f = fold(ch)
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
