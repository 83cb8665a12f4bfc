"""Full-text search: ranked hits with snippets, fast on decades of entries.

Usage::

    from diary import search
    found = search.search(diary, 'cafe "long run" -work from:2024-01-01', limit=20)
    found.total                 # how many entries match in all
    for hit in found.hits:      # hit.entry, hit.score, hit.snippet, hit.spans
        ...

The query language lives in search_query.py (``parse`` is re-exported here). The
index is the FTS5 table ``entry_fts`` of schema.MIGRATIONS[1]; every query
here is a read, so search works in read-only sessions.
"""

import dataclasses
import re

from peewee import SQL, fn
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from .errors import BadInput
from .search_query import Query, parse  # noqa: F401 (parse is part of this API)
from .store import Entry, attach_tag_paths

SORTS = ("rank", "newest", "oldest")

# Match markers for snippet()/highlight(): control characters, which entries
# practically never contain (a stray one only misplaces a highlight).
START, END = "\x02", "\x03"
SNIPPET_TOKENS = 24


class EntryIndex(FTS5Model):
    """The FTS5 index (schema.MIGRATIONS[1]; ``tags`` holds tag tokens since
    MIGRATIONS[2]); bound per search, not a store model."""

    rowid = RowIDField()
    title = SearchField()
    body = SearchField()
    tags = SearchField()

    class Meta:
        table_name = "entry_fts"
        database = None


# --- searching -------------------------------------------------------------------

@dataclasses.dataclass
class Hit:
    """One found entry. ``snippet`` is plain text around the best match, ``spans``
    the (start, end) offsets of the matched words inside it; ``title_spans`` the
    same inside the entry's title. ``score`` is bm25, higher is better; None
    unless the hits are ranked (Results.order)."""

    entry: Entry
    score: float = None
    snippet: str = ""
    spans: list = dataclasses.field(default_factory=list)
    title_spans: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Results:
    """``total`` matches in all; with ``at_least`` there are more than that
    (counting stops at CAP). ``window`` is set when the query matched more
    than CAP entries and only the newest-written CAP of them were ranked.
    ``order`` is "newest" instead of the "rank" asked for when a query has
    no words to rank by or matches too many entries (RANK_LIMIT)."""

    total: int
    hits: list
    at_least: bool = False
    window: int = None
    order: str = "rank"  # how the hits are ordered: rank, newest or oldest


# bm25 weights of the columns title, body, tags. A title names what an entry
# is about and tags are labels chosen on purpose, so a word there outweighs the
# same word somewhere in the text; bm25 also favours short columns by itself.
# A word found in a tag's path scores as that tag's token, whose rarity is the
# tag's (fewer entries than carry a word, as a rule), hence the lower weight
# that keeps a title match first.
WEIGHTS = (10.0, 1.0, 2.0)
# The bound that keeps a search fast however large the diary (measured with
# bench/bench_search.py): counting and ranking cost time in proportion to the
# matches (~1 us each to count, more for bm25), so a query found in more than
# CAP entries is counted as "more than CAP" and ranked among its CAP
# newest-written matches. A person given 5,000 matches narrows the query.
CAP = 5_000
DENSE = 0.1     # beyond CAP, this share of entries matching makes probing cheap
# bm25 needs each word's document frequency, and FTS5 counts it by reading the
# word's whole list on every query (~50 ns an entry: 45 ms for a word in
# 900,000 entries). A query estimated to match more entries than this is
# listed newest first instead of ranked (Results.order says so).
RANK_LIMIT = 100_000
# A random row read (~30 us) costs about as much as walking 250 entries of an
# index while testing them against a list of matches (~0.12 us each).
ROW_COST = 250
# Listing ids into SQLite's IN-set costs ~0.6 us each, walking an index ~0.1 us:
# of the words' matches and the filters' passing entries, the smaller side is
# listed; SIDES weighs the two (tests set it to force either plan).
SIDES = 1
# The share of matches passing the filters is estimated from the rows of a
# sample of SAMPLE of them (~2 ms); beyond CAP, MARGIN times the matches that
# share implies are read (a range too short costs a second pass).
SAMPLE = 64
MARGIN = 2
FEW = 200  # matches looked up one by one rather than found along the date index
# Tags a query's words may match by path (_TagFinder): FTS5 ORs their tokens,
# ~15 us a tag for the newest CAP matches (bench/bench_tags.py measures it).
MAX_TAGS = 1_000
PROBE_TAGS = 16  # beyond, _by_date lists the matches once rather than probing each entry


def search(diary, text, *, limit=20, offset=0, sort="rank", now=None, snippets=True):
    """Entries matching the query ``text`` (or a parsed Query), ``limit`` at a time.

    ``sort`` is "rank" (bm25, title above tags above body; newest first when
    the query has no words), "newest" or "oldest". Without ``snippets`` the
    hits have none (and no spans): for callers that want only the entries.
    Read-only: never writes.
    """
    if sort not in SORTS:
        raise BadInput("unknown sort %r (use %s)" % (sort, ", ".join(SORTS)))
    if (limit is not None and limit < 0) or offset < 0:
        raise BadInput("limit and offset must be 0 or more")
    query = text if isinstance(text, Query) else parse(text, now=now)
    window, scores, found, word_density = None, {}, None, 0.0
    with EntryIndex.bind_ctx(diary.db), diary.read():
        text_only = query.expression()  # for snippets: tags are not shown
        tagged = _TagFinder()
        rank_fts = None
        if query.tree is not None:  # the words, now with the tags whose paths hold them
            query = dataclasses.replace(query, fts=query.expression(tagged))
            rank_fts = query.expression(tagged, positive=True)
        if query.ranked:
            # One pass over the matches, newest-written first, gives the count,
            # and the ids that ranking and date sorting then work on.
            found, word_density = _newest_matches(query)
            total, at_least = min(len(found), CAP), len(found) > CAP
            found = found[:CAP]
        else:
            total, at_least = _count(query)
        density = _density(found) if at_least else 0.0
        if sort == "rank" and query.ranked and density * _last_id() > RANK_LIMIT:
            sort = "newest"  # too common to rank in time: see RANK_LIMIT
        if query.ranked and sort == "rank":
            scores = _ranked(query, rank_fts, found, at_least, limit, offset)
            window = CAP if at_least else None
            ids = list(scores)
        else:
            # Asking FTS5 entry by entry seeks every tag token each time.
            dense = word_density >= DENSE and tagged.count <= PROBE_TAGS
            ids = _by_date(query, found, at_least, dense, limit, offset,
                           sort != "oldest")
        entries = {e.id: e for e in attach_tag_paths(
            list(Entry.select().where(Entry.id.in_(ids))))} if ids else {}
        marks = _snippets(text_only, ids) if snippets and query.ranked and ids else {}
    hits = [Hit(entries[i], scores.get(i), *marks.get(i, ("", [], []))) for i in ids]
    if snippets and query.ranked:
        for hit in hits:  # found by a tag alone: the text's start, nothing marked
            if hit.entry.id not in marks:
                hit.snippet = _opening(hit.entry.body)
    order = sort if query.ranked or sort != "rank" else "newest"
    return Results(total, hits, at_least, window, order)


class _TagFinder:
    """Query.expression's ``tag_ids``: the tags that have entries and whose
    paths hold a phrase, by the tag index (schema.MIGRATIONS[2]). Each tag
    becomes a term FTS5 ORs, at a cost in proportion to the matches, so a
    query may name at most MAX_TAGS of them."""

    def __init__(self):
        self.count = 0
        self.found = {}

    def __call__(self, phrase):
        if phrase in self.found:
            return self.found[phrase]
        ids = self.found[phrase] = [row[0] for row in EntryIndex._meta.database.execute_sql(
            "SELECT rowid FROM tag_fts WHERE tag_fts MATCH ? AND EXISTS ("
            "SELECT 1 FROM entry_tag WHERE tag_id = tag_fts.rowid) ORDER BY rowid",
            (phrase,))]
        self.count += len(ids)
        if self.count > MAX_TAGS:
            raise BadInput("%s is in the paths of too many tags to search as a word "
                           "(at most %d in one query): search tags with tag:PATH"
                           % (phrase, MAX_TAGS))
        return ids


def _dates(select, query):
    if query.since is not None:
        select = select.where(Entry.created_at >= query.since)
    if query.until is not None:
        select = select.where(Entry.created_at <= query.until)
    return select


def _filter(select, query, walk=False):
    """``select`` narrowed to the entries passing the filters; ``walk``: it
    walks entries in date order with a LIMIT (tags.under)."""
    select = _dates(select, query)
    if query.starred is not None:
        select = select.where(Entry.starred == query.starred)
    if query.tags:
        from . import tags

        for path, negated in query.tags:
            ids, n = tags.entries_under(path)
            if ids is None:  # an unknown tag: nothing is under it
                select = select if negated else select.where(SQL("0"))
            elif negated:
                select = select.where(Entry.id.not_in(ids))
            else:
                select = select.where(tags.under(ids, n, walk=walk))
    return select


def _matching(query):
    return EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(query.fts))


def _ids(ids):
    # Ids we read ourselves, written into the SQL as integers: peewee takes
    # ~40 ms to bind 5,000 parameters, this takes under 1 ms.
    return SQL("(%s)" % ",".join("%d" % i for i in ids))


def _id_set(ids):
    """``ids`` for testing many rows against (x IN ...): as a subquery, SQLite
    puts a Bloom filter in front of the list, and most rows tested are not
    in it (1M: bm25 among 3,575 filtered matches of a word in 270,000
    entries, 140 -> 80 ms). One parameter, a JSON array of integers."""
    return SQL("(SELECT value FROM json_each(?))", ["[%s]" % ",".join("%d" % i for i in ids)])


def _page(select, limit, offset):
    if limit is not None:
        return select.limit(limit).offset(offset)
    return select.limit(-1).offset(offset) if offset else select


def _newest_matches(query):
    """Ids of the matches passing the filters, newest-written first, at most
    CAP + 1; and the share of entries the words alone match (_density), which
    is how often a walk along the dates, filters applied, meets a match.
    """
    select = _matching(query).order_by(EntryIndex.rowid.desc()).limit(CAP + 1)
    every = _fetch(select)
    word_density = _density(every) if len(every) > CAP else 0.0
    return _filtered(query, select, every) if query.filtered else every, word_density


def _filtered(query, select, every):
    """The newest-written matches passing the filters, at most CAP + 1, given
    ``every``: the newest CAP + 1 matches, filters aside (``select`` lists them).

    The plan follows the two sides' sizes: how many entries the words match
    (exact up to CAP, else estimated from the newest CAP) and how many pass
    the filters (counted along their index, ~0.1 us an entry, no further than
    the choice needs), or what share of the matches does, from the rows of a
    sample of SAMPLE of them (~2 ms):
    - filters passing fewer entries than ``every`` holds (on:DATE): the ids
      passing are listed once and each match, newest-written first, tested
      against them (stops after CAP + 1);
    - words matching at most CAP entries, filters passing many more: those
      few rows are checked (cheaper than walking more than ROW_COST
      filtered entries per match);
    - words matching more than CAP: only the newest-written are wanted, so
      both sides are first narrowed to the ids those likely reach
      (_window_start); if that range holds fewer than CAP + 1, the next
      plans run on every id;
    - filters passing more entries than the words match: the matches are
      listed and the filters' index walked, testing each id against them
      (1M entries: a rare word from:2020 in 40 ms instead of listing
      200,000 dates in 180 ms);
    - otherwise, and for tag filters, the passing ids are listed as above.
    """
    if not every:
        return every
    few = len(every) <= CAP
    if _passing(query, int(len(every) * SIDES) + 1) <= len(every) * SIDES:
        return _listed(query, select)  # on:DATE: fewer pass than match
    sample = every[::max(1, len(every) // SAMPLE)]
    kept = _checked(query, sample)
    if few and len(sample) == len(every):
        return kept
    share = len(kept) / len(sample)
    if few and share * _last_id() > len(every) * ROW_COST:
        return _checked(query, every)
    start = None if few else _window_start(every, share)
    if start is not None:
        # A common word from:2020 at a million entries: 35 ms instead of
        # 150 ms listing all 200,000 ids since 2020.
        found = _fetch(select.where(EntryIndex.rowid >= start).where(SQL("+rowid").in_(
            _filter(Entry.select(Entry.id), query).where(Entry.id + 0 >= start))))
        if len(found) > CAP:
            return found
    matches = len(every) if few else _density(every) * _last_id()  # estimated
    if query.tags or not (few or _passing(query, int(matches * SIDES) + 1) > matches * SIDES):
        return _listed(query, select)
    # id + 0: tested against the list of matches, not looked up by id (a row
    # read each); the sort keeps only the newest CAP + 1.
    return _fetch(_filter(Entry.select(Entry.id), query)
                  .where((Entry.id + 0).in_(_matching(query)))
                  .order_by((Entry.id + 0).desc()).limit(CAP + 1))


def _listed(query, select):
    """The matches of ``select`` among the ids passing the filters, listed.

    The unary + keeps SQLite from handing `rowid IN (...)` to FTS5 as an
    equality constraint, which runs the whole MATCH once per listed id
    (100x slower); this way the list is built once and probed per match."""
    return _fetch(select.where(SQL("+rowid").in_(_filter(Entry.select(Entry.id), query))))


def _checked(query, ids):
    """Those of ``ids`` whose rows pass the filters, in the same order."""
    keep = {r[0] for r in _filter(Entry.select(Entry.id), query)
            .where(Entry.id.in_(_ids(ids))).tuples()}
    return [i for i in ids if i in keep]


def _window_start(every, share):
    """The lowest id the newest CAP + 1 matches passing the filters likely
    reach, when a ``share`` of ``every`` (the newest matches, filters aside)
    passes them; None when the range would be (nearly) everything."""
    if not share:
        return None
    need = (CAP + 1) * MARGIN / share  # matches to read
    start = int(every[0] - (every[0] - every[-1] + 1) * need / len(every))
    return start if start > 1 else None


def _fetch(select):
    # The raw cursor: peewee's row wrappers cost ~1 us a row, 5 ms for CAP.
    return [r[0] for r in EntryIndex._meta.database.execute(select).fetchall()]


def _passing(query, at_most):
    """How many entries pass the filters, counting no further than ``at_most``."""
    return _filter(Entry.select(SQL("1")), query).limit(at_most).count()


def _last_id():
    return Entry.select(fn.MAX(Entry.id)).scalar() or 0


def _density(found):
    """The share of entries that match, estimated from the CAP newest-written
    matches and the span of ids they cover."""
    return len(found) / max(1, _last_id() - found[-1] + 1) if found else 0.0


def _count(query):
    """(count, at_least) for queries without ranked words: exact up to CAP."""
    select = _filter(Entry.select(SQL("1")), query)
    if query.fts is not None:  # everything except the matches
        select = select.where(Entry.id.not_in(_matching(query)))
    n = select.limit(CAP + 1).count()
    return min(n, CAP), n > CAP


def _ranked(query, rank_fts, found, windowed, limit, offset):
    """{id: score} in rank order, among the ids ``found`` (all the matches, or
    with ``windowed`` the CAP newest-written).

    An explicit bm25() under ORDER BY ... LIMIT measured twice as fast as
    FTS5's own ``ORDER BY rank`` (which sorts every match, before filters).
    ``rank_fts`` is the query without its negated words
    (Query.expression(positive=True)): bm25 would read their whole lists to
    add nothing (1M: 96 -> 41 ms for a common word less another); the ids
    found keep the negation.
    """
    if not found:
        return {}
    score = fn.bm25(EntryIndex._meta.entity, *WEIGHTS)
    select = (EntryIndex.select(EntryIndex.rowid, score)
              .where(EntryIndex.match(rank_fts)))
    if windowed:  # FTS5 seeks there and reads no older matches
        select = select.where(EntryIndex.rowid >= found[-1])
    if query.filtered or rank_fts != query.fts:
        select = select.where(SQL("+rowid").in_(_id_set(found)))
    select = select.order_by(score, EntryIndex.rowid.desc())
    # bm25 is negative, lower is better: the score shown is its negation.
    return {r[0]: -r[1] for r in _page(select, limit, offset).tuples()}


def _by_date(query, found, many, dense, limit, offset, newest):
    """Ids by date. For words, the plan follows how many entries match:
    a few are looked up and sorted; up to CAP, the date index is walked and
    each entry tested against ``found``, which stops after a page. Beyond CAP
    (``many``) ``found`` is not all of them: the walk tests entries against
    a list of every match, or, when they are ``dense`` (a page comes within a
    few hundred entries), asks FTS5 entry by entry (cheap for a word, ~1 ms
    for a long prefix, so only where few entries are asked)."""
    select = _filter(Entry.select(Entry.id), query, walk=True)
    if query.fts is None:
        pass
    elif query.exclude:
        select = select.where(Entry.id.not_in(_matching(query)))
    elif many and not dense:
        select = select.where((Entry.id + 0).in_(_matching(query)))
    elif many:
        select = select.where(fn.EXISTS(
            EntryIndex.select(SQL("1"))
            .where((EntryIndex.rowid == Entry.id) & EntryIndex.match(query.fts))))
    elif len(found) > FEW:
        # id + 0: an expression, so SQLite cannot use it to look rows up and
        # walks the date index instead (the rows themselves are large); the
        # dates narrow the walk, the other filters are in ``found`` already.
        select = _dates(Entry.select(Entry.id), query).where((Entry.id + 0).in_(_id_set(found)))
    else:
        select = Entry.select(Entry.id).where(Entry.id.in_(_ids(found) if found else []))
    if newest:
        select = select.order_by(Entry.created_at.desc(), Entry.id.desc())
    else:
        select = select.order_by(Entry.created_at, Entry.id)
    return [r[0] for r in _page(select, limit, offset).tuples()]


def _snippets(fts, ids):
    """(snippet, spans, title_spans) by entry id, for the hits found by ``fts``
    (the words in title and text: an entry found by a tag alone is not here).

    No rank here: bm25 recomputes its IDF for each id looked up (1 ms each
    for a common word); the ranking query already gave the scores. Nor tag
    tokens: FTS5 seeks each one for each id (60 ms for 300 tags and 20 ids)."""
    entity = EntryIndex._meta.entity
    select = (EntryIndex.select(
        EntryIndex.rowid,
        fn.snippet(entity, 1, START, END, "…", SNIPPET_TOKENS),
        fn.highlight(entity, 0, START, END))
        .where(EntryIndex.match(fts) & EntryIndex.rowid.in_(ids)))
    out = {}
    for rowid, snippet, title in select.tuples():
        snippet, spans = _spans(snippet or "")
        _, title_spans = _spans(title or "")
        out[rowid] = (snippet, spans, title_spans)
    return out


def _opening(body):
    """The start of a text, as long as a snippet, for an entry no word of the
    query is in (found by its tags)."""
    words = body.split(None, SNIPPET_TOKENS)
    return " ".join(words[:SNIPPET_TOKENS]) + ("…" if len(words) > SNIPPET_TOKENS else "")


_MARKS = re.compile("([%s%s])" % (START, END))


def _spans(marked):
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


def to_record(hit):
    """The JSON shape of a hit: the entry's record (entries.to_record) plus
    ``score``, ``snippet``, ``matches`` and ``title_matches`` ([start, end]
    character offsets into the snippet and the title)."""
    from .entries import to_record as entry_record

    record = entry_record(hit.entry)
    record.update(score=hit.score, snippet=hit.snippet,
                  matches=[list(s) for s in hit.spans],
                  title_matches=[list(s) for s in hit.title_spans])
    return record
