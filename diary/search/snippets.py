"""Snippets: the text around a hit's matches, and where the matches are in it.

FTS5's snippet() and highlight() mark the matches with START and END (control
characters, which entries practically never contain: a stray one only
misplaces a highlight); ``spans`` turns the marked text into plain text and
(start, end) offsets. Runs of scripts without spaces are found in the grams
column (grams.py), whose positions are not the text's: those are marked here.
"""

import re

from peewee import SQL, fn

from .. import grams
from .core import EntryIndex, ids_sql
from .query import every_word, spaceless_runs
from .tuning import SNIPPET_TOKENS

START, END = "\x02", "\x03"


def marks(query, fts, ids, window):
    """{id: (snippet, spans, title_spans)} for the hits ``ids`` of ``query``
    found by ``fts`` (its words in title and text: an entry found by a tag
    alone is not here); ``window`` is Tuning.window."""
    runs = spaceless_runs(query.tree)
    if runs:
        return _spaceless_snippets(fts, ids, runs)
    return _snippets(fts, ids, lookup_cost(query), window)


def opening(body):
    """The start of a text, as long as a snippet, for an entry no word of the
    query is in (found by its tags)."""
    words = body.split(None, SNIPPET_TOKENS)
    return " ".join(words[:SNIPPET_TOKENS]) + ("…" if len(words) > SNIPPET_TOKENS else "")


def lookup_cost(query):
    """What makes FTS5 slow to look ``query`` up at one id: "merge" where it
    merges the lists of every word a prefix longer than the prefix indexes
    (3 letters) starts, "phrase" where it walks a phrase's words to the id
    to compare their positions, or None."""
    cost = None
    for phrase in query.phrases():
        words = every_word(phrase).split(" AND ")
        if phrase.endswith("*") and len(words[-1].strip('"*')) > 3:
            return "merge"
        if len(words) > 1:
            cost = "phrase"
    return cost


def _snippets(fts, ids, cost, window):
    """(snippet, spans, title_spans) by entry id, for the hits found by ``fts``
    (the words in title and text: an entry found by a tag alone is not here).

    No rank here: bm25 recomputes its IDF for each id looked up; the ranking
    query already gave the scores. Nor tag tokens: FTS5 seeks each one for
    each id. Where looking up each id costs a merge (lookup_cost), FTS5 walks
    the ids' range once instead; for a phrase, where the range is at most
    ``window`` ids (the matches FTS5 walks there cost less than the lookups)."""
    select = EntryIndex.select(EntryIndex.rowid, *mark_columns()).where(EntryIndex.match(fts))
    if cost == "merge" or (cost == "phrase" and max(ids) - min(ids) <= window):
        # +rowid: tested on each row of the range, not looked up
        select = select.where(EntryIndex.rowid.between(min(ids), max(ids)),
                              SQL("+rowid").in_(ids_sql(ids)))
    else:
        select = select.where(EntryIndex.rowid.in_(ids))
    return {rowid: marked(snippet, title) for rowid, snippet, title in select.tuples()}


def _spaceless_snippets(fts, ids, runs):
    """_snippets' for a query with ``runs`` of scripts without spaces: FTS5
    finds those in the grams column (grams.py), whose positions are not
    the text's, so snippet() cannot place them. The title and text are
    highlighted whole by FTS5 (its other words), the runs marked where
    they are in them, and the snippet cut around the first match here."""
    entity = EntryIndex._meta.entity
    select = EntryIndex.select(EntryIndex.rowid, fn.highlight(entity, 1, START, END),
                               fn.highlight(entity, 0, START, END)).where(
        EntryIndex.match(fts), EntryIndex.rowid.in_(ids))
    marks = {}
    for rowid, body, title in select.tuples():
        body, spans = unmark(body or "")
        title, title_spans = unmark(title or "")
        marks[rowid] = (*cut(body, _union(spans, grams.spans(body, runs))),
                        _union(title_spans, grams.spans(title, runs)))
    return marks


def _union(spans, more):
    merged = []
    for start, end in sorted(spans + more):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


SNIPPET_CHARS = 100  # a snippet cut here: about what SNIPPET_TOKENS words of text hold
SNIPPET_BEFORE = 16  # characters kept before the first match


def cut(text, spans):
    """(snippet, spans): ``text`` cut to SNIPPET_CHARS around its first match,
    with "…" where it was cut; ``spans`` moved along."""
    if not spans:
        return opening(text), []
    start = max(0, spans[0][0] - SNIPPET_BEFORE)
    if 0 < start and not text[start - 1].isspace():  # a word cut in two: begin after it
        space = text.find(" ", start, spans[0][0])
        if space >= 0:
            start = space + 1
    end = min(len(text), start + SNIPPET_CHARS)
    head = "…" if start > 0 else ""
    shift = len(head) - start
    kept = [(max(a, start) + shift, min(b, end) + shift) for a, b in spans if a < end]
    return head + text[start:end] + ("…" if end < len(text) else ""), kept


def mark_columns():
    """The text's snippet and the title, matches marked: ``marked`` reads them."""
    entity = EntryIndex._meta.entity
    return (fn.snippet(entity, 1, START, END, "…", SNIPPET_TOKENS),
            fn.highlight(entity, 0, START, END))


def marked(snippet, title):
    """(snippet, spans, title_spans) from snippet() and highlight()'s text."""
    snippet, spans = unmark(snippet or "")
    return (snippet, spans, unmark(title or "")[1])


_MARKS = re.compile("([%s%s])" % (START, END))


def unmark(marked):
    """Strip the START/END markers; return the text and the marked (start, end) spans."""
    text, spans, start, length = [], [], None, 0
    for piece in _MARKS.split(marked):
        if piece == START:
            start = length
        elif piece == END:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            text.append(piece)
            length += len(piece)
    return "".join(text), spans

