"""Equivalence, the contract of search/large.py: every plan it takes finds
the pages search/core.py finds, on random small diaries with the tuning
shrunk so that a few dozen entries take the plans a million do.

What may differ, on purpose and as documented (search.Coverage):
- past Tuning.window (tiers), ranked: the latest tier's matches come first,
  then the older ones', each part in core's order;
- past Tuning.rank_limit (rarity), words too common to rank by are left out
  of the ranking: with none left the hits are core's newest first.
"""

import dataclasses
import datetime as dt
import random

import pytest

from diary import entries, search

UTC = dt.timezone.utc
WORDS = ["tea", "walk", "river", "heron", "cake", "lake"]
TAGS = ["work", "work/acme", "home", "birds/grey"]
QUERIES = ["tea", "walk river", "tea OR heron", "tea -cake", "-lake", '"tea walk"', "rive*",
           "title:walk", "walk is:starred", "tea from:2020-03-01", "river to:2020-02-15",
           "tea on:2020-02-10", "walk tag:work", "tea -tag:home", "lake OR -river",
           "from:2020-02-01 is:starred", "cake work", "heron tag:birds from:2020-01-20"]
NEVER = 10**9
# (cap, few, dense, row_cost, sides, sample, margin): probe FTS5 entry by
# entry or list every match; walk the dates against the found ids or look
# them up; filters checked on a sample's rows, on every match's rows, listed,
# or walked along their index; a window of the newest ids estimated wide
# enough or too short (a second pass).
PLANS = [(5000, 200, 0.1, 250, 1, 64, 2), (5000, 0, 0, 0, NEVER, 1, 2),
         (5000, 1000, 0, NEVER, NEVER, 1, 2), (5000, 0, 0, NEVER, 0, 1, 2),
         (5000, 1000, 0, NEVER, 0, 1000, 2), (4, 0, 0, 0, NEVER, 1, 2),
         (4, 0, 2, 0, NEVER, 1, 2), (4, 1000, 0, NEVER, 0, 1, 0.01),
         (4, 0, 0, NEVER, 0, 1, 0), (4, 200, 0.1, 250, 1, 64, 2)]


def make(diary, seed):
    """About forty entries of a few words, dated mostly in the order written
    (as people write), some out of it; some starred, some tagged."""
    rng = random.Random(seed)
    start = dt.datetime(2020, 1, 1, 12, tzinfo=UTC)
    with diary.write():
        for i in range(rng.randint(30, 45)):
            when = start + dt.timedelta(days=i * 2 + rng.choice((0, 0, 0, 1, -30, 25)))
            words = rng.choices(WORDS, k=rng.randint(1, 6))
            entries.add(diary, " ".join(words), title=rng.choice(["", "walk", "tea time"]),
                        created_at=when.astimezone(), starred=rng.random() < 0.3,
                        tags=rng.sample(TAGS, rng.choice((0, 0, 1, 2))))


def answer(diary, text, sort, tuning, **kw):
    res = search.search(diary, text, sort=sort, limit=kw.pop("limit", None), tuning=tuning,
                        **kw)
    return (res.total, res.at_least, res.window, res.order,
            [(h.entry.id, h.score and round(h.score, 9), h.snippet, h.spans, h.title_spans)
             for h in res.hits])


@pytest.mark.parametrize("seed", range(4))
def test_every_plan_of_large_finds_the_pages_of_core(diary, seed):
    make(diary, seed)
    for cap in (5000, 4):
        exact = search.Tuning(cap=cap)
        for text in QUERIES:
            for sort in search.SORTS:
                want = answer(diary, text, sort, exact)
                for plan in PLANS:
                    if plan[0] != cap:
                        continue
                    tuning = search.Tuning(exact=0, **dict(zip(
                        ("cap", "few", "dense", "row_cost", "sides", "sample", "margin"),
                        plan)))
                    assert answer(diary, text, sort, tuning) == want, (text, sort, plan)
                    page = answer(diary, text, sort, tuning, limit=3, offset=2)
                    assert page[:4] == want[:4] and page[4] == want[4][2:5], \
                        (text, sort, plan)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window", [5, 12])
def test_tiers_find_core_pages_by_date_and_ranked_the_latest_first(diary, seed, window):
    make(diary, seed)
    last = max(e.id for e in entries.list_entries(diary, limit=None))
    tuning = search.Tuning(window=window)
    for text in QUERIES:
        for sort in ("newest", "oldest"):
            want = answer(diary, text, sort, search.DEFAULT)
            assert answer(diary, text, sort, tuning)[4] == want[4], (text, sort)
            for offset in (0, 3, 7):
                got = answer(diary, text, sort, tuning, limit=3, offset=offset)[4]
                assert got == want[4][offset:offset + 3], (text, sort, offset)
        total, _, _, order, hits = answer(diary, text, "rank", search.DEFAULT)
        got = answer(diary, text, "rank", tuning)
        assert sorted(got[4]) == sorted(hits), text  # every match once, same scores
        if order == "rank" and "from:" not in text and "to:" not in text and "on:" not in text:
            # Without dates the latest tier is the entries written last.
            latest_first = sorted(hits, key=lambda h: h[0] <= last - window)
            assert [h[0] for h in got[4]] == [h[0] for h in latest_first], text


@pytest.mark.parametrize("seed", range(3))
def test_rarity_leaves_common_words_out_or_lists_core_newest_first(diary, seed):
    make(diary, seed)
    for probe in (256, 4):
        tuning = search.Tuning(exact=0, rank_limit=8, rarity_probe=probe)
        for text in QUERIES:
            got = answer(diary, text, "rank", tuning)
            if got[3] == "newest":
                assert got[4] == answer(diary, text, "newest", search.DEFAULT)[4], text
            else:
                want = answer(diary, text, "rank", search.DEFAULT)[4]
                assert sorted(h[0] for h in got[4]) == sorted(h[0] for h in want), text


def test_core_serves_only_up_to_the_smallest_of_exact_window_and_rank_limit():
    t = search.Tuning(exact=10, window=20, rank_limit=30)
    assert t.is_exact_for(10) and not t.is_exact_for(11)
    assert not dataclasses.replace(t, exact=100, window=5).is_exact_for(6)
    assert not dataclasses.replace(t, exact=100, rank_limit=5).is_exact_for(6)
    assert search.DEFAULT.is_exact_for(search.DEFAULT.exact)


def test_tuning_module_imports_nothing_and_floor_reads_the_same_values():
    """bench/floor.py (standard library and sqlcipher3 only) reads the search's
    numbers from search/tuning.py by its path: no copies to fall out of step."""
    import ast
    import os
    import runpy

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "diary", "search", "tuning.py")
    with open(path) as f:
        tree = ast.parse(f.read())
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    floor = runpy.run_path(os.path.join(root, "bench", "floor.py"))
    d = search.DEFAULT
    assert (floor["CAP"], floor["DENSE"], floor["RANK_LIMIT"], floor["PROBE_TAGS"],
            floor["WINDOW"]) == (d.cap, d.dense, d.rank_limit, d.probe_tags, d.window)
    assert floor["WEIGHTS"] == ", ".join(map(str, d.weights))


def test_floor_matches_a_word_where_the_search_does(diary):
    """bench/floor.py's word is the search's expression, the grams column too
    (a word glued to a run of Han is a token there only): the floor measures
    the product's SQL, not an older one."""
    import os
    import runpy

    from diary import entries
    from diary.search.core import EntryIndex, TagFinder

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    floor = runpy.run_path(os.path.join(root, "bench", "floor.py"))
    entries.add(diary, "Pythonでプログラム", tags=["code/python"])
    entries.add(diary, "river", tags=["walks"])
    entries.add(diary, "Rustでプログラム")
    conn = diary.db.connection()
    for word, tagged in (("python", 1), ("river", 0), ("walks", 1)):
        query = search.parse(word)
        got, text, n_tags = floor["_expression"](conn, '"%s"' % word)
        with EntryIndex.bind_ctx(diary.db):
            want = query.expression(TagFinder())
        assert (got, text, n_tags) == (want, query.expression(), tagged), word
    assert [row[0] for row in floor["_search"](conn, "rust", 5)] == [3]
