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
import datetime as _dt
import re

from peewee import SQL, fn
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from .errors import BadInput
from . import grams
from .search_query import Query, every_word, parse, spaceless_runs  # noqa: F401 (parse: API)
from .store import Entry, EntryTag, attach_tag_paths

SORTS = ("rank", "newest", "oldest")

# Match markers for snippet()/highlight(): control characters, which entries
# practically never contain (a stray one only misplaces a highlight).
START, END = "\x02", "\x03"
SNIPPET_TOKENS = 24
SNIPPET_WALK = 200  # matches at most whose snippets a walk takes (_ranked_tiers)


class EntryIndex(FTS5Model):
    """The FTS5 index (schema.MIGRATIONS[1]; ``tags`` holds tag tokens since
    MIGRATIONS[2]); bound per search, not a store model."""

    rowid = RowIDField()
    title = SearchField()
    body = SearchField()
    tags = SearchField()
    grams = SearchField()  # grams.py (MIGRATIONS[9]); bm25 weighs it 1.0, as the text

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
    (counting stops at CAP). ``window`` is set when
    the query matched more than CAP entries and only the newest-written CAP
    of them were ranked. ``scope`` is set when only the latest ``scope``
    entries were searched (_tiers: WINDOW of them, or by dates the newest
    whole months holding at least WINDOW): the page was found among them,
    and ``total`` counts their matches; the older entries' come on later
    pages (ranked: after them; by date: in date order). ``order`` is "newest" instead of the
    "rank" asked for when a query has no words to rank by, or only words
    too common to rank by (RANK_LIMIT)."""

    total: int
    hits: list
    at_least: bool = False
    window: int = None
    order: str = "rank"  # how the hits are ordered: rank, newest or oldest
    scope: int = None


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
# word's whole list on every query (~60 ns an entry: 55 ms for a word in
# 900,000 entries; a phrase walks the entries holding all its words). So
# ranking leaves out the words (and phrases) estimated to be together in more
# entries than this: bm25 weighs a word by its rarity, and gives little weight
# to a word in more than a tenth of the entries (none beyond half). A query
# with nothing left to rank by is listed newest first (Results.order says so).
# A diary of at most RANK_LIMIT entries ranks by every word.
RANK_LIMIT = 100_000
RARITY_PROBE = 256  # matches whose span of ids estimates how many there are
PHRASE_COST = 10  # bm25 over a phrase: ~0.4 us an entry with its words, a word ~0.05
# A diary of more entries (or dates that hold more) is searched in two tiers
# (_tiers): its WINDOW latest entries (written last, or the newest whole
# months of the dates asked for that hold as many), then, where the page
# asked for goes further, the older
# ones. Ranked, the latest entries' matches come first, then the older
# ones'; the count, and CAP, are those of the latest (Results.scope says
# so). By date the order stays exact. So a search of a million entries reads
# about what one of WINDOW does. No person writes WINDOW entries: up to it,
# search is exact.
WINDOW = 100_000
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
    with EntryIndex.bind_ctx(diary.db), diary.read():
        if query.tags:
            query = dataclasses.replace(query, under=_under(query))
        text_only = query.expression()  # for snippets: tags are not shown
        tagged, last = _TagFinder(), _last_id()
        rank_fts = None
        if query.tree is not None:  # the words, now with the tags whose paths hold them
            query = dataclasses.replace(query, fts=query.expression(tagged))
            if query.ranked and sort == "rank":
                rank_fts = query.expression(tagged, weighs=_Rarity(last))
                if rank_fts is None:
                    sort = "newest"  # every word too common to rank by: see RANK_LIMIT
        # Asking FTS5 entry by entry seeks every tag token each time.
        probe = tagged.count <= PROBE_TAGS
        newer, older, held = (_tiers(query, last) if query.ranked and sort != "oldest"
                              else (query, None, None))
        scope = None
        if older is None:
            found = _find(newer, rank_fts, sort, probe, limit, offset)
        else:
            latest = _newest_matches(newer, probe)
            need = None if limit is None else offset + limit
            if (sort == "rank" and len(latest[0]) > CAP) or (
                    need is not None and len(latest[0]) >= min(need, CAP + 1)):
                found = _find(newer, rank_fts, sort, probe, limit, offset, latest)
                if sort == "rank" or (len(found.ids) == limit and (found.final or not (
                        found.ids and _dated_later(older, found.ids[-1])))):
                    scope = held  # the page is among the latest: the older are not searched
                else:  # by date, an older entry belongs on the page
                    found = _find(query, rank_fts, sort, probe, limit, offset)
            elif sort == "rank":  # the page goes on among the older: ranked after the latest
                found = _ranked_tiers(query, older, rank_fts, latest[0], probe, limit, offset,
                                      text_only if snippets else None)
            else:  # by date the tiers interleave: one search of every entry
                found = _find(query, rank_fts, sort, probe, limit, offset)
        ids = found.ids
        entries = {e.id: e for e in attach_tag_paths(
            list(Entry.select().where(Entry.id.in_(ids))))} if ids else {}
        runs = spaceless_runs(query.tree)
        if runs and snippets and query.ranked and ids:
            marks = _spaceless_snippets(text_only, ids, runs)
        else:
            marks = found.marks if found.marks is not None else (
                _snippets(text_only, ids, _lookup_cost(query))
                if snippets and query.ranked and ids else {})
    hits = [Hit(entries[i], found.scores.get(i), *marks.get(i, ("", [], []))) for i in ids]
    if snippets and query.ranked:
        for hit in hits:  # found by a tag alone: the text's start, nothing marked
            if hit.entry.id not in marks:
                hit.snippet = _opening(hit.entry.body)
    order = sort if query.ranked or sort != "rank" else "newest"
    return Results(found.total, hits, found.at_least, found.window, order, scope)


@dataclasses.dataclass
class _Found:
    ids: list
    scores: dict
    total: int
    at_least: bool
    window: int = None
    final: bool = False  # by date: no entry written before the page's is dated after it
    marks: dict = None  # the page's snippets where found with it (_snippets' shape)


def _find(query, rank_fts, sort, probe, limit, offset, matches=None):
    """The page of ids for ``query`` (one tier of _tiers, or all), their
    scores when ranked, and the count of all matches; ``matches`` are its
    _newest_matches where already found."""
    scores, window, found, word_density = {}, None, None, 0.0
    if query.ranked:
        # One pass over the matches, newest-written first, gives the count,
        # and the ids that ranking and date sorting then work on.
        found, word_density = matches or _newest_matches(query, probe)
        total, at_least = min(len(found), CAP), len(found) > CAP
        found = found[:CAP]
    else:
        total, at_least = _count(query)
    if query.ranked and sort == "rank":
        scores = _ranked(query, rank_fts, found, at_least, limit, offset)
        window = CAP if at_least else None
        ids = list(scores)
    else:
        dense = word_density >= DENSE and probe
        ids, final = _by_date(query, found, at_least, dense, limit, offset, sort != "oldest")
        return _Found(ids, scores, total, at_least, window, final)
    return _Found(ids, scores, total, at_least, window)


def _ranked_tiers(query, older, rank_fts, latest, probe, limit, offset, marked=None):
    """The page of both tiers (_tiers), ranked: the ``latest`` tier's matches
    first, then the older's, each part by rank, among the CAP newest-written
    of both. Where nothing is filtered and every word weighs, one walk lists
    the matches with their scores (a phrase read twice, to list and to rank,
    was most of a search that went on among a million entries); and where
    the snippets' expression ``marked`` is that too, and the matches are
    few (at most twice the entries up to the page's end, and SNIPPET_WALK),
    the walk also
    takes their snippets: looked up one by one afterwards, a phrase's cost
    ~0.25 ms each at a million entries. Where they are more, that walk
    stopped early and a second lists them all."""
    if query.filtered or rank_fts != query.fts:
        both = latest + _newest_matches(older, probe)[0]
        at_least, both = len(both) > CAP, both[:CAP]  # as CAP says, of both tiers
        scores = _ranked(query, rank_fts, both, at_least, limit, offset, first=latest)
        return _Found(list(scores), scores, len(both), at_least, CAP if at_least else None)
    entity = EntryIndex._meta.entity
    select = EntryIndex.select(EntryIndex.rowid, fn.bm25(entity, *WEIGHTS)).where(
        EntryIndex.match(rank_fts)).order_by(EntryIndex.rowid.desc())
    scored, marks = None, None
    few = None if limit is None else 2 * (offset + limit)
    if marked == rank_fts and few is not None and few <= SNIPPET_WALK:
        rows = EntryIndex._meta.database.execute(
            select.select_extend(*_mark_columns()).limit(few + 1)).fetchall()
        if len(rows) <= few:
            scored, marks = [r[:2] for r in rows], {r[0]: r[2:] for r in rows}
    if scored is None:
        scored = EntryIndex._meta.database.execute(select.limit(CAP + 1)).fetchall()
    at_least, scored = len(scored) > CAP, scored[:CAP]
    first = set(latest)
    scored.sort(key=lambda row: (row[0] not in first, row[1], -row[0]))
    # bm25 is negative, lower is better: the score shown is its negation.
    scores = {i: -s for i, s in (scored[offset:] if limit is None
                                 else scored[offset:offset + limit])}
    if marks is not None:
        marks = {i: _marked(*marks[i]) for i in scores}
    return _Found(list(scores), scores, len(scored), at_least, CAP if at_least else None,
                  marks=marks)


def _tiers(query, last):
    """(newer, older, held): ``query`` split so that a search of a big diary
    reads little more than WINDOW entries; ``older`` is None where there is
    one tier; the newer holds ``held`` entries. Without dates, the newer are
    the entries written last (the WINDOW highest ids). With dates, whole
    months of them (entry_month, schema.MIGRATIONS[3]): the newest that
    hold at least WINDOW of the entries in the dates, if the dates hold
    more; each tier's months bound the ids FTS5 reads (ids follow the order
    entries were written in, mostly their dates' order)."""
    if query.since is not None or query.until is not None:
        return _date_tiers(query)
    if last <= WINDOW:
        return query, None, None
    low = last - WINDOW
    return (dataclasses.replace(query, id_range=(low + 1, last)),
            dataclasses.replace(query, id_range=(1, low)), WINDOW)


def _date_tiers(query):
    """_tiers for a query with dates. A month is created_at's first seven
    characters, so the entries in the dates are in the months between
    theirs. The newest month is counted up to the last date, along the date
    index (it may go on after it); the others are counted whole. Dates
    holding few entries get the exact bounds of their ids instead of their
    months' (on:DATE: a day's ids, not a month's)."""
    text = Entry.created_at.db_value
    first = text(query.since)[:7] if query.since is not None else ""
    rows = EntryIndex._meta.database.execute_sql(
        "SELECT month, entries, low_id, high_id FROM entry_month WHERE month >= ? AND "
        "month <= ? AND entries > 0 ORDER BY month DESC",
        (first, text(query.until)[:7] if query.until is not None else "\uffff")).fetchall()
    held = 0
    for i, (month, n, _, _) in enumerate(rows):
        start = _month_start(month)
        if start is None:  # not a date SQLite wrote: no split
            break
        if i == 0 and query.until is not None:
            n = _dates(Entry.select(SQL("1")), dataclasses.replace(
                query, since=max(start, query.since or start))).count()
        held += n
        if held >= WINDOW and i + 1 < len(rows):
            newer = dataclasses.replace(query, since=max(start, query.since or start),
                                        id_range=_id_bounds(rows[:i + 1]))
            older = dataclasses.replace(query, until=start - _MICROSECOND,
                                        id_range=_id_bounds(rows[i + 1:]))
            return newer, older, held
    if held <= WINDOW // 10:  # a few (on:DATE): bound them exactly, along the date index
        return _bounded(query), None, None
    return dataclasses.replace(query, id_range=_id_bounds(rows)), None, None


def _bounded(query):
    low, high = _dates(Entry.select(fn.MIN(Entry.id), fn.MAX(Entry.id)), query).scalar(
        as_tuple=True)
    return dataclasses.replace(query, id_range=(low or 0, high or 0))


def _month_start(month):
    """The first moment of an entry_month month ("2024-03"), or None."""
    try:
        start = _dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        return None
    return start if Entry.created_at.db_value(start)[:7] == month else None


def _id_bounds(rows):
    """Bounds of the ids of the entries in entry_month ``rows``."""
    return (min(r[2] for r in rows), max(r[3] for r in rows)) if rows else (0, 0)


_MICROSECOND = _dt.timedelta(microseconds=1)


def _dated_later(older, hit):
    """Whether a match of ``older`` (older-written entries) is dated after
    ``hit``, the last of a page by date (ties go to the higher id, so not
    to it). The entries dated after it are few where ids follow dates:
    listed along the date index first, they are all that is checked."""
    when = Entry.select(Entry.created_at).where(Entry.id == hit).tuples()[0][0]
    since = when + _MICROSECOND if older.since is None else max(older.since, when + _MICROSECOND)
    later = dataclasses.replace(older, since=since)
    near = _dates(Entry.select(Entry.id), later)
    if later.id_range:
        near = near.where((Entry.id + 0).between(*later.id_range))
    near = [r[0] for r in near.limit(CAP + 1).tuples()]
    if len(near) > CAP:  # ids far from dates: taken as yes, the caller's exact search runs
        return True
    return _filter(Entry.select(SQL("1")), later).where(
        Entry.id.in_(_ids(near) if near else []),
        fn.EXISTS(EntryIndex.select(SQL("1")).where(
            (EntryIndex.rowid == Entry.id) & EntryIndex.match(older.fts)))).limit(1).exists()


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


class _Rarity:
    """Query.expression's ``weighs``: whether the words of a phrase are
    together in at most RANK_LIMIT entries (see there); a phrase of several
    words in at most a PHRASE_COST-th of that, as bm25 compares its words'
    positions in each of those entries. A word's count is estimated from the
    span of ids its RARITY_PROBE newest matches cover; the words are
    together in no more entries than the rarest is in, and only where every
    word is common is their count together estimated (finding the newest of
    them is slow where they are few)."""

    def __init__(self, last):
        self.last = last

    def __call__(self, phrase):
        if self.last <= RANK_LIMIT:
            return True
        words = every_word(phrase).split(" AND ")
        limit = RANK_LIMIT if len(words) == 1 else RANK_LIMIT // PHRASE_COST
        if len(words) > 1 and any(self.rare(word, limit) for word in words):
            return True
        return self.rare(" AND ".join(words), limit)

    def rare(self, fts, limit):
        newest = _fetch(EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(fts))
                        .order_by(EntryIndex.rowid.desc()).limit(RARITY_PROBE))
        if len(newest) < RARITY_PROBE:  # all of them
            return len(newest) <= limit
        return RARITY_PROBE * self.last / (self.last - newest[-1] + 1) <= limit


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
    if query.id_range:  # id + 0: checked on the index walked, not a walk by id
        select = select.where((Entry.id + 0).between(*query.id_range))
    if query.starred is not None:
        select = select.where(Entry.starred == query.starred)
    if query.tags:
        from . import tags

        for ids, n, negated in _under(query):
            if ids is None:  # an unknown tag: nothing is under it
                select = select if negated else select.where(SQL("0"))
            elif negated:
                select = select.where(Entry.id.not_in(ids))
            else:
                select = select.where(tags.under(ids, n, walk=walk))
    return select


def _under(query):
    """Each tag filter of ``query`` as (ids, n, negated): tags.entries_under,
    its ids narrowed to ``query.id_range`` on the tag's index (no rows read)."""
    under = query.under
    if under is None:
        from . import tags

        under = [tags.entries_under(path) + (negated,) for path, negated in query.tags]
    if not query.id_range:
        return under
    return [(ids if ids is None else ids.where(EntryTag.entry.between(*query.id_range)),
             n, negated) for ids, n, negated in under]


def _passing_ids(query):
    """(select, id column): the ids of the entries passing the filters. A
    lone tag filter is answered from the tag's index (entry_tag) alone,
    reading no entry's row (~20 us each): at a million entries, a rare word
    in a tag 40 -> 10 ms. (DISTINCT: an entry under two tags of the
    subtree has two links.)"""
    if (len(query.tags) == 1 and not query.tags[0][1] and query.since is None
            and query.until is None and query.starred is None):
        ids, _, _ = _under(query)[0]
        if ids is not None:
            return ids.distinct(), EntryTag.entry
    return _filter(Entry.select(Entry.id), query), Entry.id


def _matching(query):
    return _within(EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(query.fts)), query)


def _within(select, query):
    if query.id_range:
        select = select.where(EntryIndex.rowid.between(*query.id_range))
    return select


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


def _newest_matches(query, probe=True):
    """Ids of the matches passing the filters, newest-written first, at most
    CAP + 1; and the share of entries the words alone match (_density), which
    is how often a walk along the dates, filters applied, meets a match.
    """
    select = _matching(query).order_by(EntryIndex.rowid.desc()).limit(CAP + 1)
    every = _fetch(select)
    word_density = _density(every, query) if len(every) > CAP else 0.0
    return _filtered(query, select, every, probe) if query.filtered else every, word_density


def _filtered(query, select, every, probe=True):
    """The newest-written matches passing the filters, at most CAP + 1, given
    ``every``: the newest CAP + 1 matches, filters aside (``select`` lists them).

    The plan follows the two sides' sizes: how many entries the words match
    (exact up to CAP, else estimated from the newest CAP) and how many pass
    the filters (counted along their index, ~0.1 us an entry, no further than
    the choice needs), or what share of the matches does, from the rows of a
    sample of SAMPLE of them (~2 ms):
    - filters passing fewer entries than ``every`` holds (on:DATE): the ids
      passing are listed once and each match, newest-written first, tested
      against them (stops after CAP + 1); or, where at most FEW pass, the
      words match more than CAP and FTS5 looks them up fast, each passing
      entry is looked up (a few matches are cheaper to walk);
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
    passing = _passing(query, int(len(every) * SIDES) + 1)
    if passing <= len(every) * SIDES:  # on:DATE, a small tag: fewer pass than match
        if passing <= FEW and not few and probe and _lookup_cost(query) is None:
            return _probed(query)
        return _listed(query, select)
    sample = every[::max(1, len(every) // SAMPLE)]
    kept = _checked(query, sample)
    if few and len(sample) == len(every):
        return kept
    share = len(kept) / len(sample)
    low, high = _span(query)
    if few and share * (high - low + 1) > len(every) * ROW_COST:
        return _checked(query, every)
    start = None if few else _window_start(every, share)
    if start is not None:
        # A common word from:2020 at a million entries: 35 ms instead of
        # 150 ms listing all 200,000 ids since 2020.
        passing, id_ = _passing_ids(query)
        found = _fetch(select.where(EntryIndex.rowid >= start).where(SQL("+rowid").in_(
            passing.where(id_ + 0 >= start))))
        if len(found) > CAP:
            return found
    matches = len(every) if few else _density(every, query) * (high - low + 1)  # estimated
    if query.tags or not (few or _passing(query, int(matches * SIDES) + 1) > matches * SIDES):
        return _listed(query, select)
    # id + 0: tested against the list of matches, not looked up by id (a row
    # read each); the sort keeps only the newest CAP + 1.
    return _fetch(_filter(Entry.select(Entry.id), query)
                  .where((Entry.id + 0).in_(_matching(query)))
                  .order_by((Entry.id + 0).desc()).limit(CAP + 1))


def _probed(query):
    """The matches among the entries passing the filters, FTS5 asked entry by
    entry (~15 us each for words): for a few passing, where the words match
    many (a common word in a small tag: 40 -> 5 ms at a million entries)."""
    passing, id_ = _passing_ids(query)
    return _fetch(passing.where(fn.EXISTS(
        EntryIndex.select(SQL("1")).where(
            (EntryIndex.rowid == id_) & EntryIndex.match(query.fts))))
        .order_by(id_.desc()).limit(CAP + 1))


def _listed(query, select):
    """The matches of ``select`` among the ids passing the filters, listed.

    The unary + keeps SQLite from handing `rowid IN (...)` to FTS5 as an
    equality constraint, which runs the whole MATCH once per listed id
    (100x slower); this way the list is built once and probed per match."""
    return _fetch(select.where(SQL("+rowid").in_(_passing_ids(query)[0])))


def _checked(query, ids):
    """Those of ``ids`` whose rows pass the filters, in the same order."""
    passing, id_ = _passing_ids(query)
    keep = {r[0] for r in passing.where(id_.in_(_ids(ids))).tuples()}
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
    return _passing_ids(query)[0].limit(at_most).count()


def _last_id():
    return Entry.select(fn.MAX(Entry.id)).scalar() or 0


def _span(query):
    """The lowest and highest id a match of ``query`` can have."""
    return query.id_range or (1, _last_id())


def _density(found, query):
    """The share of entries that match, estimated from the CAP newest-written
    matches and the span of ids they cover."""
    return len(found) / max(1, _span(query)[1] - found[-1] + 1) if found else 0.0


def _count(query):
    """(count, at_least) for queries without ranked words: exact up to CAP."""
    select = _filter(Entry.select(SQL("1")), query)
    if query.fts is not None:  # everything except the matches
        select = select.where(Entry.id.not_in(_matching(query)))
    n = select.limit(CAP + 1).count()
    return min(n, CAP), n > CAP


def _ranked(query, rank_fts, found, windowed, limit, offset, first=None):
    """{id: score} in rank order, among the ids ``found`` (all the matches, or
    with ``windowed`` the CAP newest-written).

    An explicit bm25() under ORDER BY ... LIMIT measured twice as fast as
    FTS5's own ``ORDER BY rank`` (which sorts every match, before filters).
    ``rank_fts`` is the query without its negated and most common words
    (Query.expression with weighs): bm25 would read their whole lists to add
    nothing, or little (1M: 96 -> 41 ms for a common word less another); the
    ids found keep them. The ids in ``first`` (the latest tier's, _tiers)
    come before the others, each part ranked.
    """
    if not found:
        return {}
    score = fn.bm25(EntryIndex._meta.entity, *WEIGHTS)
    select = _within(EntryIndex.select(EntryIndex.rowid, score)
                     .where(EntryIndex.match(rank_fts)), query)
    if windowed:  # FTS5 seeks there and reads no older matches
        select = select.where(EntryIndex.rowid >= min(found))
    if query.filtered or rank_fts != query.fts or first is not None:
        select = select.where(SQL("+rowid").in_(_id_set(found)))
    order = [score, EntryIndex.rowid.desc()]
    if first is not None:
        order.insert(0, SQL("+rowid").not_in(_id_set(first)))
    select = select.order_by(*order)
    # bm25 is negative, lower is better: the score shown is its negation.
    return {r[0]: -r[1] for r in _page(select, limit, offset).tuples()}


def _by_date(query, found, many, dense, limit, offset, newest):
    """Ids by date. For words, the plan follows how many entries match:
    a few are looked up and sorted; up to CAP, the date index is walked and
    each entry tested against ``found``, which stops after a page. Beyond CAP
    (``many``) ``found`` is not all of them: the walk tests entries against
    a list of every match, or, when they are ``dense`` (a page comes within a
    few hundred entries), asks FTS5 entry by entry (cheap for a word, ~1 ms
    for a long prefix, so only where few entries are asked). Newest first,
    the page among ``found`` (the newest-written) is first checked against
    the older-written matches: none dated after it, as where entries were
    written in the order of their dates, and it is the page. That check
    goes down to the first entry, the older tier's too (_tiers), so
    (ids, True) says no older-written entry belongs on the page; else
    (ids, False)."""
    if many and newest and limit is not None and query.ranked:
        page, _ = _by_date(query, found, False, dense, limit, offset, newest)
        rest = dataclasses.replace(query, id_range=(1, found[-1] - 1))
        if len(page) == limit and (not page or not _dated_later(rest, page[-1])):
            return page, True
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
    return [r[0] for r in _page(select, limit, offset).tuples()], False


def _lookup_cost(query):
    """What makes FTS5 slow to look ``query`` up at one id: "merge" where it
    merges the lists of every word a prefix longer than the prefix indexes
    (3 letters) starts (~5 ms at a million entries), "phrase" where it walks
    a phrase's words to the id to compare their positions (~1.5 ms), or
    None."""
    cost = None
    for phrase in query.phrases():
        words = every_word(phrase).split(" AND ")
        if phrase.endswith("*") and len(words[-1].strip('"*')) > 3:
            return "merge"
        if len(words) > 1:
            cost = "phrase"
    return cost


def _snippets(fts, ids, cost=None):
    """(snippet, spans, title_spans) by entry id, for the hits found by ``fts``
    (the words in title and text: an entry found by a tag alone is not here).

    No rank here: bm25 recomputes its IDF for each id looked up (1 ms each
    for a common word); the ranking query already gave the scores. Nor tag
    tokens: FTS5 seeks each one for each id (60 ms for 300 tags and 20 ids).
    Where looking up each id costs a merge (_lookup_cost), FTS5 walks the
    ids' range once instead (110 -> 11 ms for 20 hits of a 4-letter prefix
    at a million entries); for a phrase, where the range is at most WINDOW
    ids (the matches FTS5 walks there cost less than the lookups)."""
    select = EntryIndex.select(EntryIndex.rowid, *_mark_columns()).where(EntryIndex.match(fts))
    if cost == "merge" or (cost == "phrase" and max(ids) - min(ids) <= WINDOW):
        # +rowid: tested on each row of the range, not looked up
        select = select.where(EntryIndex.rowid.between(min(ids), max(ids)),
                              SQL("+rowid").in_(_ids(ids)))
    else:
        select = select.where(EntryIndex.rowid.in_(ids))
    return {rowid: _marked(snippet, title) for rowid, snippet, title in select.tuples()}


def _spaceless_snippets(fts, ids, runs):
    """_snippets for a query with ``runs`` of scripts without spaces: FTS5
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
        body, spans = _spans(body or "")
        title, title_spans = _spans(title or "")
        marks[rowid] = (*_window(body, _union(spans, grams.spans(body, runs))),
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


def _window(text, spans):
    """(snippet, spans): ``text`` cut to SNIPPET_CHARS around its first match,
    with "…" where it was cut; ``spans`` moved along."""
    if not spans:
        return _opening(text), []
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


def _mark_columns():
    """The text's snippet and the title, matches marked: _marked reads them."""
    entity = EntryIndex._meta.entity
    return (fn.snippet(entity, 1, START, END, "…", SNIPPET_TOKENS),
            fn.highlight(entity, 0, START, END))


def _marked(snippet, title):
    """(snippet, spans, title_spans) from snippet() and highlight()'s text."""
    snippet, spans = _spans(snippet or "")
    return (snippet, spans, _spans(title or "")[1])


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
