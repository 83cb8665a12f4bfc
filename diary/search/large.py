"""Search past Tuning.exact entries: the pages core.py would give, found in time.

search/__init__.py sends a diary here when its highest id passes any of
Tuning.exact, window and rank_limit. What changes from core.py, on purpose
and nothing else (tests/test_search_plans.py holds every plan here to it):

- tiers (``_tiers``): past Tuning.window entries, the latest window of them
  (by id, or with dates the newest whole months that hold as many: the
  entry_month table, schema.MIGRATIONS[3]) are searched first. Ranked, their
  matches come first and the older entries' after them (Coverage.scope
  says so); by date the order stays exact;
- rarity (``Rarity``): past Tuning.rank_limit, words estimated to be in more
  entries than that are left out of the ranking (bm25 gives them little
  weight, and reads their whole lists to give it); a query with nothing left
  to rank by is listed newest first;
- plans (``_filtered``, ``_by_date``): which side of words and filters is
  listed, sampled or probed follows their estimated sizes, so that a search
  reads about what one of a window does. Each plan finds the same ids.

Planner state travels with the query as a ``_Planned``: the parsed Query (the
language has no planner hints) plus the id range a tier's dates allow, the
tag filters looked up once, and the Tuning.
"""

import dataclasses
import datetime as _dt

from peewee import SQL, fn

from ..store import Entry, EntryTag
from . import core, snippets
from .core import (EntryIndex, Found as _Found, dates as _dates, fetch as _fetch,
                   id_set as _id_set, ids_sql as _ids, page as _page)
from .query import Query, every_word


@dataclasses.dataclass
class _Planned(Query):
    """A Query with what the plans need: ``id_range``, the (low, high) ids a
    match can have (a tier's, or its dates'), so that FTS5 reads no further;
    ``under``, each tag filter as (ids, n, negated) (core.tags_under); and
    ``t``, the Tuning."""

    id_range: tuple = None
    under: list = None
    t: core.Tuning = core.DEFAULT


def find(query, rank_fts, sort, limit, offset, tuning, under, last, *, probe=True,
         marked=None):
    """core.find's page for a diary past Tuning.exact (its ``last`` id):
    ``probe`` is whether FTS5 may be asked entry by entry (few tag tokens in
    the query), ``marked`` the expression whose snippets a ranked walk of
    both tiers may take along (snippets.marks' ``fts``), or None."""
    query = _Planned(**{f.name: getattr(query, f.name) for f in dataclasses.fields(Query)},
                     under=under, t=tuning)
    cap = tuning.cap
    newer, older, held = (_tiers(query, last) if query.ranked and sort != "oldest"
                          else (query, None, None))
    if older is None:
        return _find(newer, rank_fts, sort, probe, limit, offset)
    latest = _newest_matches(newer, probe)
    need = None if limit is None else offset + limit
    if (sort == "rank" and len(latest[0]) > cap) or (
            need is not None and len(latest[0]) >= min(need, cap + 1)):
        found = _find(newer, rank_fts, sort, probe, limit, offset, latest)
        if sort == "rank" or (len(found.ids) == limit and (found.final or not (
                found.ids and _dated_later(older, found.ids[-1])))):
            found.scope = held  # the page is among the latest: the older are not searched
            return found
        # by date, an older entry belongs on the page
        return _find(query, rank_fts, sort, probe, limit, offset)
    if sort == "rank":  # the page goes on among the older: ranked after the latest
        return _ranked_tiers(query, older, rank_fts, latest[0], probe, limit, offset, marked)
    # by date the tiers interleave: one search of every entry
    return _find(query, rank_fts, sort, probe, limit, offset)


def _find(query, rank_fts, sort, probe, limit, offset, matches=None):
    """The page of ids for ``query`` (one tier of _tiers, or all), their
    scores when ranked, and the count of all matches; ``matches`` are its
    _newest_matches where already found."""
    scores, window, found, word_density = {}, None, None, 0.0
    if query.ranked:
        # One pass over the matches, newest-written first, gives the count,
        # and the ids that ranking and date sorting then work on.
        found, word_density = matches or _newest_matches(query, probe)
        total, at_least = min(len(found), query.t.cap), len(found) > query.t.cap
        found = found[:query.t.cap]
    else:
        total, at_least = _count(query)
    if query.ranked and sort == "rank":
        scores = _ranked(query, rank_fts, found, at_least, limit, offset)
        window = query.t.cap if at_least else None
        ids = list(scores)
    else:
        dense = word_density >= query.t.dense and probe
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
    the walk also takes their snippets (looked up one by one afterwards, a
    phrase is walked again for each). Where they are more, that walk
    stopped early and a second lists them all."""
    if query.filtered or rank_fts != query.fts:
        both = latest + _newest_matches(older, probe)[0]
        cap = query.t.cap
        at_least, both = len(both) > cap, both[:cap]  # as CAP says, of both tiers
        scores = _ranked(query, rank_fts, both, at_least, limit, offset, first=latest)
        return _Found(list(scores), scores, len(both), at_least, cap if at_least else None)
    entity = EntryIndex._meta.entity
    select = EntryIndex.select(EntryIndex.rowid, fn.bm25(entity, *query.t.weights)).where(
        EntryIndex.match(rank_fts)).order_by(EntryIndex.rowid.desc())
    scored, marks = None, None
    few = None if limit is None else 2 * (offset + limit)
    if marked == rank_fts and few is not None and few <= query.t.snippet_walk:
        rows = EntryIndex._meta.database.execute(
            select.select_extend(*snippets.mark_columns()).limit(few + 1)).fetchall()
        if len(rows) <= few:
            scored, marks = [r[:2] for r in rows], {r[0]: r[2:] for r in rows}
    if scored is None:
        scored = EntryIndex._meta.database.execute(select.limit(query.t.cap + 1)).fetchall()
    at_least, scored = len(scored) > query.t.cap, scored[:query.t.cap]
    first = set(latest)
    scored.sort(key=lambda row: (row[0] not in first, row[1], -row[0]))
    # bm25 is negative, lower is better: the score shown is its negation.
    scores = {i: -s for i, s in (scored[offset:] if limit is None
                                 else scored[offset:offset + limit])}
    if marks is not None:
        marks = {i: snippets.marked(*marks[i]) for i in scores}
    return _Found(list(scores), scores, len(scored), at_least,
                  query.t.cap if at_least else None, marks=marks)


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
    if last <= query.t.window:
        return query, None, None
    low = last - query.t.window
    return (dataclasses.replace(query, id_range=(low + 1, last)),
            dataclasses.replace(query, id_range=(1, low)), query.t.window)


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
        if held >= query.t.window and i + 1 < len(rows):
            newer = dataclasses.replace(query, since=max(start, query.since or start),
                                        id_range=_id_bounds(rows[:i + 1]))
            older = dataclasses.replace(query, until=start - _MICROSECOND,
                                        id_range=_id_bounds(rows[i + 1:]))
            return newer, older, held
    if held <= query.t.window // 10:  # a few (on:DATE): bound them exactly, by the date index
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
    near = [r[0] for r in near.limit(older.t.cap + 1).tuples()]
    if len(near) > older.t.cap:  # ids far from dates: taken as yes, the caller's exact search runs
        return True
    return _filter(Entry.select(SQL("1")), later).where(
        Entry.id.in_(_ids(near) if near else []),
        fn.EXISTS(EntryIndex.select(SQL("1")).where(
            (EntryIndex.rowid == Entry.id) & EntryIndex.match(older.fts)))).limit(1).exists()


class Rarity:
    """Query.expression's ``weighs``: whether the words of a phrase are
    together in at most RANK_LIMIT entries (see there); a phrase of several
    words in at most a PHRASE_COST-th of that, as bm25 compares its words'
    positions in each of those entries. A word's count is estimated from the
    span of ids its RARITY_PROBE newest matches cover; the words are
    together in no more entries than the rarest is in, and only where every
    word is common is their count together estimated (finding the newest of
    them is slow where they are few)."""

    def __init__(self, last, tuning):
        self.last, self.t = last, tuning

    def __call__(self, phrase):
        if self.last <= self.t.rank_limit:
            return True
        words = every_word(phrase).split(" AND ")
        limit = self.t.rank_limit
        if len(words) > 1:
            limit //= self.t.phrase_cost
        if len(words) > 1 and any(self.rare(word, limit) for word in words):
            return True
        return self.rare(" AND ".join(words), limit)

    def rare(self, fts, limit):
        newest = _fetch(EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(fts))
                        .order_by(EntryIndex.rowid.desc()).limit(self.t.rarity_probe))
        if len(newest) < self.t.rarity_probe:  # all of them
            return len(newest) <= limit
        return self.t.rarity_probe * self.last / (self.last - newest[-1] + 1) <= limit


def _filter(select, query, walk=False):
    """``select`` narrowed to the entries passing the filters (core.filter_entries)
    and the query's id range; ``walk``: it walks entries in date order with a
    LIMIT (tags.under)."""
    if query.id_range:  # id + 0: checked on the index walked, not a walk by id
        select = select.where((Entry.id + 0).between(*query.id_range))
    return core.filter_entries(select, query, _under(query), walk=walk)


def _under(query):
    """core.tags_under's (ids, n, negated) of ``query``, each tag's ids narrowed
    to ``query.id_range`` on the tag's index (no rows read)."""
    if not query.id_range:
        return query.under
    return [(ids if ids is None else ids.where(EntryTag.entry.between(*query.id_range)),
             n, negated) for ids, n, negated in query.under]


def _passing_ids(query):
    """(select, id column): the ids of the entries passing the filters. A
    lone tag filter is answered from the tag's index (entry_tag) alone,
    reading no entry's row (a random read each). (DISTINCT: an entry under two tags of the
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


def _newest_matches(query, probe=True):
    """Ids of the matches passing the filters, newest-written first, at most
    CAP + 1; and the share of entries the words alone match (_density), which
    is how often a walk along the dates, filters applied, meets a match.
    """
    select = _matching(query).order_by(EntryIndex.rowid.desc()).limit(query.t.cap + 1)
    every = _fetch(select)
    word_density = _density(every, query) if len(every) > query.t.cap else 0.0
    return _filtered(query, select, every, probe) if query.filtered else every, word_density


def _filtered(query, select, every, probe=True):
    """The newest-written matches passing the filters, at most CAP + 1, given
    ``every``: the newest CAP + 1 matches, filters aside (``select`` lists them).

    The plan follows the two sides' sizes: how many entries the words match
    (exact up to CAP, else estimated from the newest CAP) and how many pass
    the filters (counted along their index, no further than the choice
    needs), or what share of the matches does, from the rows of a sample of
    SAMPLE of them:
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
      (rather than listing every passing id);
    - otherwise, and for tag filters, the passing ids are listed as above.
    """
    if not every:
        return every
    few = len(every) <= query.t.cap
    passing = _passing(query, int(len(every) * query.t.sides) + 1)
    if passing <= len(every) * query.t.sides:  # on:DATE, a small tag: fewer pass than match
        if passing <= query.t.few and not few and probe and snippets.lookup_cost(query) is None:
            return _probed(query)
        return _listed(query, select)
    sample = every[::max(1, len(every) // query.t.sample)]
    kept = _checked(query, sample)
    if few and len(sample) == len(every):
        return kept
    share = len(kept) / len(sample)
    low, high = _span(query)
    if few and share * (high - low + 1) > len(every) * query.t.row_cost:
        return _checked(query, every)
    start = None if few else _window_start(query, every, share)
    if start is not None:
        # Only the passing ids in the range are listed, not every one since
        # the dates' start (a common word from:2020 at a million entries).
        passing, id_ = _passing_ids(query)
        found = _fetch(select.where(EntryIndex.rowid >= start).where(SQL("+rowid").in_(
            passing.where(id_ + 0 >= start))))
        if len(found) > query.t.cap:
            return found
    matches = len(every) if few else _density(every, query) * (high - low + 1)  # estimated
    sides = query.t.sides
    if query.tags or not (few or _passing(query, int(matches * sides) + 1) > matches * sides):
        return _listed(query, select)
    # id + 0: tested against the list of matches, not looked up by id (a row
    # read each); the sort keeps only the newest CAP + 1.
    return _fetch(_filter(Entry.select(Entry.id), query)
                  .where((Entry.id + 0).in_(_matching(query)))
                  .order_by((Entry.id + 0).desc()).limit(query.t.cap + 1))


def _probed(query):
    """The matches among the entries passing the filters, FTS5 asked entry by
    entry: for a few passing, where the words match many (a common word in
    a small tag), cheaper than listing the matches."""
    passing, id_ = _passing_ids(query)
    return _fetch(passing.where(fn.EXISTS(
        EntryIndex.select(SQL("1")).where(
            (EntryIndex.rowid == id_) & EntryIndex.match(query.fts))))
        .order_by(id_.desc()).limit(query.t.cap + 1))


def _listed(query, select):
    """The matches of ``select`` among the ids passing the filters, listed.

    The unary + keeps SQLite from handing `rowid IN (...)` to FTS5 as an
    equality constraint, which runs the whole MATCH once per listed id
    (far slower); this way the list is built once and probed per match."""
    return _fetch(select.where(SQL("+rowid").in_(_passing_ids(query)[0])))


def _checked(query, ids):
    """Those of ``ids`` whose rows pass the filters, in the same order."""
    passing, id_ = _passing_ids(query)
    keep = {r[0] for r in passing.where(id_.in_(_ids(ids))).tuples()}
    return [i for i in ids if i in keep]


def _window_start(query, every, share):
    """The lowest id the newest CAP + 1 matches passing the filters likely
    reach, when a ``share`` of ``every`` (the newest matches, filters aside)
    passes them; None when the range would be (nearly) everything."""
    if not share:
        return None
    need = (query.t.cap + 1) * query.t.margin / share  # matches to read
    start = int(every[0] - (every[0] - every[-1] + 1) * need / len(every))
    return start if start > 1 else None


def _passing(query, at_most):
    """How many entries pass the filters, counting no further than ``at_most``."""
    return _passing_ids(query)[0].limit(at_most).count()


def _span(query):
    """The lowest and highest id a match of ``query`` can have."""
    return query.id_range or (1, core.last_id())


def _density(found, query):
    """The share of entries that match, estimated from the CAP newest-written
    matches and the span of ids they cover."""
    return len(found) / max(1, _span(query)[1] - found[-1] + 1) if found else 0.0


def _count(query):
    """(count, at_least) for queries without ranked words: exact up to CAP."""
    select = _filter(Entry.select(SQL("1")), query)
    if query.fts is not None:  # everything except the matches
        select = select.where(Entry.id.not_in(_matching(query)))
    n = select.limit(query.t.cap + 1).count()
    return min(n, query.t.cap), n > query.t.cap


def _ranked(query, rank_fts, found, windowed, limit, offset, first=None):
    """{id: score} in rank order, among the ids ``found`` (all the matches, or
    with ``windowed`` the CAP newest-written).

    An explicit bm25() under ORDER BY ... LIMIT measured twice as fast as
    FTS5's own ``ORDER BY rank`` (which sorts every match, before filters).
    ``rank_fts`` is the query without its negated and most common words
    (Query.expression with weighs): bm25 would read their whole lists to add
    nothing, or little; the
    ids found keep them. The ids in ``first`` (the latest tier's, _tiers)
    come before the others, each part ranked.
    """
    if not found:
        return {}
    score = fn.bm25(EntryIndex._meta.entity, *query.t.weights)
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
    few hundred entries), asks FTS5 entry by entry (cheap for a word, not
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
    elif len(found) > query.t.few:
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


