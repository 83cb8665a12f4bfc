"""Full-text search: ranked hits with snippets, fast on decades of entries.

Usage::

    from diary import search
    found = search.search(diary, 'cafe "long run" -work from:2024-01-01', limit=20)
    found.coverage.describe()   # "12 matches." (what was searched, for a person)
    for hit in found.hits:      # hit.entry, hit.score, hit.snippet, hit.spans
        ...

The package, in the order to read it:

- query.py: the query language (``parse``): a safe FTS5 expression and filters;
- core.py: the exact search, for a diary of up to Tuning.exact entries (every
  diary a person writes by hand);
- large.py: past that, the same pages (or, beyond the window, the latest
  entries' first) found in time: tiers, rarity, the month table, sampling;
- snippets.py: the text around each hit's matches;
- results.py: Hit, Coverage and Results; tuning.py: the numbers (Tuning's
  defaults, also read by bench/floor.py).

The index is the FTS5 table ``entry_fts`` of schema.MIGRATIONS[1]; every
query here is a read, so search works in read-only sessions.
"""

import dataclasses

from ..errors import BadInput
from ..store import Entry, attach_tag_paths
from . import core, large, snippets as _snippets
from .core import DEFAULT, EntryIndex, TagFinder, Tuning  # noqa: F401 (API)
from .query import Query, parse, spaceless_runs  # noqa: F401 (API)
from .results import Coverage, Hit, Results, to_record  # noqa: F401 (API)

SORTS = ("rank", "newest", "oldest")


def search(diary, text, *, limit=20, offset=0, sort="rank", now=None, snippets=True,
           tuning=None):
    """Entries matching the query ``text`` (or a parsed Query), ``limit`` at a time.

    ``sort`` is "rank" (bm25, title above tags above body; newest first when
    the query has no words), "newest" or "oldest". Without ``snippets`` the
    hits have none (and no spans): for callers that want only the entries.
    ``tuning``: a Tuning other than DEFAULT, for tests and benchmarks (tests
    of the CLI and the menu, which cannot pass one, replace DEFAULT).
    Read-only: never writes.
    """
    tuning = tuning or DEFAULT
    if sort not in SORTS:
        raise BadInput("unknown sort %r (use %s)" % (sort, ", ".join(SORTS)))
    if (limit is not None and limit < 0) or offset < 0:
        raise BadInput("limit and offset must be 0 or more")
    query = text if isinstance(text, Query) else parse(text, now=now)
    with EntryIndex.bind_ctx(diary.db), diary.read():
        last = core.last_id()
        exact = tuning.is_exact_for(last)
        under = core.tags_under(query)
        text_only = query.expression()  # for snippets: tags are not shown
        tagged = TagFinder(tuning.max_tags)
        rank_fts = None
        if query.tree is not None:  # the words, now with the tags whose paths hold them
            query = dataclasses.replace(query, fts=query.expression(tagged))
            if query.ranked and sort == "rank":
                weighs = (lambda phrase: True) if exact else large.Rarity(last, tuning)
                rank_fts = query.expression(tagged, weighs=weighs)
                if rank_fts is None:
                    sort = "newest"  # every word too common to rank by: Tuning.rank_limit
        # Asking FTS5 entry by entry seeks every tag token each time.
        if exact:
            found = core.find(query, rank_fts, sort, limit, offset, tuning, under,
                              probe=tagged.count <= tuning.probe_tags)
        else:
            found = large.find(query, rank_fts, sort, limit, offset, tuning, under, last,
                               probe=tagged.count <= tuning.probe_tags,
                               marked=text_only if snippets else None)
        ids = found.ids
        entries = {e.id: e for e in attach_tag_paths(
            list(Entry.select().where(Entry.id.in_(ids))))} if ids else {}
        marks = {}
        if snippets and query.ranked and ids:
            walked = found.marks is not None and not spaceless_runs(query.tree)
            marks = found.marks if walked else \
                _snippets.marks(query, text_only, ids, tuning.window)
    hits = [Hit(entries[i], found.scores.get(i), *marks.get(i, ("", [], []))) for i in ids]
    if snippets and query.ranked:
        for hit in hits:  # found by a tag alone: the text's start, nothing marked
            if hit.entry.id not in marks:
                hit.snippet = _snippets.opening(hit.entry.body)
    order = sort if query.ranked or sort != "rank" else "newest"
    return Results(hits, Coverage(found.total, found.at_least, found.window, order,
                                  found.scope))
