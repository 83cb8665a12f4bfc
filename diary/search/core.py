"""Exact search: the page of entries a query finds, in plain SQL.

``find`` is the whole of it, for a diary of at most Tuning.exact entries
(search/__init__.py decides; a bigger one goes to search/large.py, whose
every plan must give the pages this gives: tests/test_search_plans.py):

1. The words become one FTS5 expression (query.py), each word also found in
   the paths of tags (TagFinder): a word matches an entry's title, text,
   grams or one of its tags.
2. The matches passing the filters are listed newest-written first, at most
   Tuning.cap + 1 of them: that gives the count ("more than cap" beyond).
3. Ranked, bm25 orders those (the cap newest-written where there are more);
   by date, the date index is walked over every match.
4. A query without words to rank (filters only, or only negations) is
   counted and listed by date.

Everything here is a read, so search works in read-only sessions.
"""

import dataclasses

from peewee import SQL, fn
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from ..errors import BadInput
from ..store import Entry
from . import tuning as _t


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


@dataclasses.dataclass(frozen=True)
class Tuning:
    """The numbers search is tuned by; each is explained in tuning.py, which
    holds the defaults. Tests pass their own (``Tuning(cap=5)``) to reach
    the plans a big diary takes on a small one."""

    weights: tuple = _t.WEIGHTS
    cap: int = _t.CAP
    exact: int = _t.EXACT
    window: int = _t.WINDOW
    rank_limit: int = _t.RANK_LIMIT
    rarity_probe: int = _t.RARITY_PROBE
    phrase_cost: int = _t.PHRASE_COST
    dense: float = _t.DENSE
    row_cost: int = _t.ROW_COST
    sides: float = _t.SIDES
    sample: int = _t.SAMPLE
    margin: float = _t.MARGIN
    few: int = _t.FEW
    max_tags: int = _t.MAX_TAGS
    probe_tags: int = _t.PROBE_TAGS
    snippet_walk: int = _t.SNIPPET_WALK

    def is_exact_for(self, last):
        """Whether a diary whose highest id is ``last`` is searched here: past
        any of exact, window and rank_limit, large.py's tiers or rarity apply."""
        return last <= min(self.exact, self.window, self.rank_limit)


DEFAULT = Tuning()


@dataclasses.dataclass
class Found:
    """A page of ids, their scores where ranked, and what was covered."""

    ids: list
    scores: dict
    total: int
    at_least: bool
    window: int = None
    final: bool = False  # by date: no entry written before the page's is dated after it
    marks: dict = None  # the page's snippets where found with it (snippets.marks' shape)
    scope: int = None


def find(query, rank_fts, sort, limit, offset, tuning, under, probe=True):
    """The page of ids for ``query`` (its ``fts`` holding the tags' tokens),
    ranked by ``rank_fts`` where ``sort`` is "rank"; ``under`` is tags_under;
    ``probe``: FTS5 may be asked entry by entry (few tag tokens to seek)."""
    cap = tuning.cap
    if not query.ranked:  # filters only, or "every entry without ...": by date
        passing = filter_entries(Entry.select(SQL("1")), query, under)
        if query.fts is not None:
            passing = passing.where(Entry.id.not_in(matching(query.fts)))
        n = passing.limit(cap + 1).count()
        return Found(_by_date(query, under, sort, limit, offset), {}, min(n, cap), n > cap)
    newest = fetch(matching(query.fts).order_by(EntryIndex.rowid.desc()).limit(cap + 1))
    if query.filtered:
        passing = filter_entries(Entry.select(Entry.id), query, under)
        if len(newest) <= min(tuning.few, cap):  # every match, and few: rows checked
            keep = {r[0] for r in passing.where(Entry.id.in_(ids_sql(newest))).tuples()
                    } if newest else set()
            newest = [i for i in newest if i in keep]
        else:  # the passing ids listed, each match tested against them
            newest = fetch(matching(query.fts).where(SQL("+rowid").in_(passing))
                           .order_by(EntryIndex.rowid.desc()).limit(cap + 1))
    total, at_least = min(len(newest), cap), len(newest) > cap
    if sort != "rank":
        # Beyond cap the matches are many: where they are dense too, a page
        # by date comes within a few entries of the date index, each asked of
        # FTS5, rather than after listing every match.
        dense = at_least and probe and \
            len(newest) / max(1, last_id() - newest[-1] + 1) >= tuning.dense
        ids = _by_date(query, under, sort, limit, offset,
                       None if at_least else newest, tuning.few, dense)
        return Found(ids, {}, total, at_least)
    newest = newest[:cap]
    if not newest:
        return Found([], {}, 0, False)
    score = fn.bm25(EntryIndex._meta.entity, *tuning.weights)
    # rowid >= the oldest: FTS5 seeks there and reads no older matches. Those
    # are the matches themselves unless filters or words left out of the
    # ranking (rank_fts) make them fewer: then they are tested against the list.
    select = (EntryIndex.select(EntryIndex.rowid, score)
              .where(EntryIndex.match(rank_fts), EntryIndex.rowid >= newest[-1])
              .order_by(score, EntryIndex.rowid.desc()))
    if query.filtered or rank_fts != query.fts:
        select = select.where(SQL("+rowid").in_(id_set(newest)))
    # bm25 is negative, lower is better: the score shown is its negation.
    scores = {r[0]: -r[1] for r in page(select, limit, offset).tuples()}
    return Found(list(scores), scores, total, at_least, cap if at_least else None)


def _by_date(query, under, sort, limit, offset, found=None, few=0, dense=False):
    """Ids of the entries passing the filters and matching, by date; ``found``:
    every match passing the filters, where already listed; ``dense``: FTS5
    is asked entry by entry."""
    if found is not None and len(found) <= few:  # a few rows read and sorted
        select = Entry.select(Entry.id).where(Entry.id.in_(ids_sql(found) if found else []))
    elif found is not None:
        # id + 0: an expression, so SQLite walks the date index (narrowed by
        # the dates) and tests each entry against the list, rather than
        # reading every match's row to sort them.
        select = dates(Entry.select(Entry.id), query).where((Entry.id + 0).in_(id_set(found)))
    else:
        select = filter_entries(Entry.select(Entry.id), query, under, walk=True)
        if query.exclude:
            select = select.where(Entry.id.not_in(matching(query.fts)))
        elif dense:
            select = select.where(fn.EXISTS(matching(query.fts).where(
                EntryIndex.rowid == Entry.id)))
        elif query.fts is not None:
            select = select.where((Entry.id + 0).in_(matching(query.fts)))
    if sort == "oldest":
        select = select.order_by(Entry.created_at, Entry.id)
    else:
        select = select.order_by(Entry.created_at.desc(), Entry.id.desc())
    return [r[0] for r in page(select, limit, offset).tuples()]


# --- shared by core.py and large.py ------------------------------------------------

class TagFinder:
    """Query.expression's ``tag_ids``: the tags that have entries and whose
    paths hold a phrase, by the tag index (schema.MIGRATIONS[2]). Each tag
    becomes a term FTS5 ORs, at a cost in proportion to the matches, so a
    query may name at most ``max_tags`` of them."""

    def __init__(self, max_tags=_t.MAX_TAGS):
        self.max_tags = max_tags
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
        if self.count > self.max_tags:
            raise BadInput("%s is in the paths of too many tags to search as a word "
                           "(at most %d in one query): search tags with tag:PATH"
                           % (phrase, self.max_tags))
        return ids


def tags_under(query):
    """Each tag filter of ``query`` as (ids, n, negated): tags.entries_under,
    looked up once per search rather than at each use."""
    if not query.tags:
        return []
    from .. import tags

    return [tags.entries_under(path) + (negated,) for path, negated in query.tags]


def dates(select, query):
    if query.since is not None:
        select = select.where(Entry.created_at >= query.since)
    if query.until is not None:
        select = select.where(Entry.created_at <= query.until)
    return select


def filter_entries(select, query, under, walk=False):
    """``select`` narrowed to the entries passing the filters; ``under`` is
    tags_under(query); ``walk``: it walks entries in date order with a LIMIT
    (tags.under)."""
    select = dates(select, query)
    if query.starred is not None:
        select = select.where(Entry.starred == query.starred)
    if under:
        from .. import tags

        for ids, n, negated in under:
            if ids is None:  # an unknown tag: nothing is under it
                select = select if negated else select.where(SQL("0"))
            elif negated:
                select = select.where(Entry.id.not_in(ids))
            else:
                select = select.where(tags.under(ids, n, walk=walk))
    return select


def matching(fts):
    return EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(fts))


def last_id():
    return Entry.select(fn.MAX(Entry.id)).scalar() or 0


def fetch(select):
    """The first column of ``select``'s rows, through the raw cursor (peewee's
    row wrappers cost more than the query for thousands of rows)."""
    return [r[0] for r in EntryIndex._meta.database.execute(select).fetchall()]


def ids_sql(ids):
    # Ids we read ourselves, written into the SQL as integers: peewee binds
    # thousands of parameters far slower than SQLite parses them.
    return SQL("(%s)" % ",".join("%d" % i for i in ids))


def id_set(ids):
    """``ids`` for testing many rows against (x IN ...): as a subquery, SQLite
    puts a Bloom filter in front of the list, and most rows tested are not
    in it. One parameter, a JSON array of integers."""
    return SQL("(SELECT value FROM json_each(?))", ["[%s]" % ",".join("%d" % i for i in ids)])


def page(select, limit, offset):
    if limit is not None:
        return select.limit(limit).offset(offset)
    return select.limit(-1).offset(offset) if offset else select

