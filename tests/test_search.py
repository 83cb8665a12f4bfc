"""The search package: the query language end to end, ranking, snippets, bounds, index consistency.

The parser alone (exact FTS5 output, refusals) is tested in test_search_query.py;
the plans of search/large.py against search/core.py in test_search_plans.py.
"""

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary import entries, search, store, tags
from diary.search import snippets
from diary.errors import BadInput

UTC = dt.timezone.utc


def day(y, m, d, h=12):
    return dt.datetime(y, m, d, h, tzinfo=UTC).astimezone()


def found(diary, text, **kw):
    """Ids of the hits, in order."""
    return [h.entry.id for h in search.search(diary, text, **kw).hits]


def ids(diary, text, **kw):
    return set(found(diary, text, limit=None, **kw))


@pytest.fixture
def notes(diary):
    """A small diary that every query-language test searches."""
    add = lambda body, **kw: entries.add(diary, body, **kw).id  # noqa: E731
    e = dict(
        cafe=add("We met at the café near the station.", title="Zoë",
                 created_at=day(2024, 3, 2)),
        coffee=add("Coffee and cake, then a long run by the river.", title="Sunday",
                   created_at=day(2024, 3, 3), starred=True),
        run=add("The long run was hard; my legs hurt after the run.", title="Training",
                created_at=day(2023, 7, 1)),
        email=add("Wrote an e-mail to Zoe about the meeting.", title="Work",
                  created_at=day(2022, 1, 15), starred=True),
        walk=add("Walking in the rain, walked home, a walker passed.", title="Rain",
                 created_at=day(2021, 11, 5)),
    )
    return e


# --- the query language ------------------------------------------------------------

def test_words_must_all_match(diary, notes):
    assert ids(diary, "long run") == {notes["coffee"], notes["run"]}
    assert ids(diary, "long river") == {notes["coffee"]}
    assert ids(diary, "long nowhere") == set()


def test_case_and_accents_fold_both_ways(diary, notes):
    assert ids(diary, "cafe") == {notes["cafe"]}
    assert ids(diary, "CAFÉ") == {notes["cafe"]}
    assert ids(diary, "zoë") == {notes["cafe"], notes["email"]}
    assert ids(diary, "Zoe") == {notes["cafe"], notes["email"]}


def test_exact_phrase(diary, notes):
    assert ids(diary, '"long run"') == {notes["coffee"], notes["run"]}
    assert ids(diary, '"run long"') == set()
    assert ids(diary, '"the run"') == {notes["run"]}


def test_prefix(diary, notes):
    assert ids(diary, "walk*") == {notes["walk"]}
    assert ids(diary, "wa*") == {notes["walk"], notes["run"]}  # 2-char prefix index: "was"
    assert ids(diary, "caf*") == {notes["cafe"]}
    assert ids(diary, "walk") == set()                   # whole words without the star
    assert ids(diary, '"long ru"*') == {notes["coffee"], notes["run"]}


def test_or_not_and_parentheses(diary, notes):
    assert ids(diary, "cafe OR river") == {notes["cafe"], notes["coffee"]}
    assert ids(diary, "run -river") == {notes["run"]}
    assert ids(diary, "run NOT river") == {notes["run"]}
    assert ids(diary, "(cafe OR coffee) -cake") == {notes["cafe"]}
    assert ids(diary, "long AND run") == {notes["coffee"], notes["run"]}
    assert ids(diary, "(rain OR cafe) (station OR home)") == {notes["cafe"], notes["walk"]}


def test_lowercase_operators_are_words(diary, notes):
    entries.add(diary, "this or that", title="choice")
    assert len(ids(diary, "this or that")) == 1
    assert ids(diary, "cafe or river") == set()


def test_only_negations_means_everything_else(diary, notes):
    everyone = set(notes.values())
    assert ids(diary, "-run") == everyone - {notes["coffee"], notes["run"]}
    assert ids(diary, "NOT run -rain") == everyone - {notes["coffee"], notes["run"],
                                                      notes["walk"]}
    assert ids(diary, "-(long run)") == everyone - {notes["coffee"], notes["run"]}
    # a OR not-b: everything except the b entries that lack a
    assert ids(diary, "cake OR -run") == everyone - {notes["run"]}
    res = search.search(diary, "-run")
    assert res.total == 3 and all(h.score is None and h.snippet == "" for h in res.hits)


def test_title_filter(diary, notes):
    assert ids(diary, "title:zoe") == {notes["cafe"]}
    assert ids(diary, "title:rain") == {notes["walk"]}
    assert ids(diary, "title:train*") == {notes["run"]}
    assert ids(diary, 'title:"sunday"') == {notes["coffee"]}
    assert ids(diary, "zoe -title:zoe") == {notes["email"]}
    assert ids(diary, "Title:work") == {notes["email"]}


def test_date_filters(diary, notes):
    assert ids(diary, "run from:2024-01-01") == {notes["coffee"]}
    assert ids(diary, "run to:2023-12-31") == {notes["run"]}
    assert ids(diary, "on:2024-03-02") == {notes["cafe"]}
    assert ids(diary, "from:2022-01-15 to:2023-07-01") == {notes["email"], notes["run"]}
    assert ids(diary, "from:2025-01-01") == set()


def test_natural_dates_quoted(diary, notes):
    now = day(2024, 3, 4)
    assert ids(diary, 'from:"last saturday"', now=now) == {notes["cafe"], notes["coffee"]}
    assert ids(diary, "on:yesterday", now=now) == {notes["coffee"]}


def test_starred_filter_and_negation(diary, notes):
    assert ids(diary, "is:starred") == {notes["coffee"], notes["email"]}
    assert ids(diary, "zoe is:starred") == {notes["email"]}
    assert ids(diary, "zoe -is:starred") == {notes["cafe"]}


def test_filters_combine_with_words_and_each_other(diary, notes):
    assert ids(diary, "run is:starred from:2024-01-01") == {notes["coffee"]}
    assert ids(diary, "run is:starred to:2023-01-01") == set()
    assert ids(diary, "-cake is:starred") == {notes["email"]}
    assert ids(diary, "(zoe OR cake) from:2023-01-01") == {notes["cafe"], notes["coffee"]}


def test_filters_only_list_newest_first(diary, notes):
    res = search.search(diary, "from:2021-01-01")
    assert [h.entry.id for h in res.hits] == [notes[k] for k in
                                               ("coffee", "cafe", "run", "email", "walk")]
    assert res.total == 5 and all(h.snippet == "" and h.score is None for h in res.hits)
    assert found(diary, "from:2021-01-01", sort="oldest")[0] == notes["walk"]


@pytest.mark.parametrize("text", [
    'dog"', '"unbalanced', "AND", "OR", "NOT", "a AND", "OR a", "a OR OR b", "NEAR(",
    "NEAR(a b)", "*", "**", "a*b", "(((", ")))", "()", "-", "--", "- -", "a - b", "^a",
    "title", "col:umn", "10:30", "{title}: a", "\x00\x01\x1b[31m", "a\tb\nc", "x" * 1000,
    "🎉", "🎉 cafe", "'", "\\", '""', '"*"', "a:", "http://example.com", "e-mail",
    "-title:x", "NOT NOT a", "-(-a)", "a OR (-b)", "((a OR b) -c) OR -d", "NOT " * 249 + "a",
    "-NOT " * 199 + "a", "tag:x*", "tag:work/ OR", "title:(a)",
])
def test_odd_queries_never_break_fts(diary, notes, text):
    try:
        search.search(diary, text)
    except BadInput as exc:
        assert "\n" not in str(exc)


def test_lone_operators_are_searched_as_words(diary):
    e = entries.add(diary, "Near the end AND or not", title="x").id
    assert ids(diary, "AND") == {e}
    assert ids(diary, "NEAR(") == {e}
    assert ids(diary, "OR") == {e}


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60) | st.lists(st.sampled_from(
    ['"', "(", ")", "-", "*", "OR", "AND", "NOT", "NEAR", ":", "title:", "tag:x", "is:starred",
     "from:2024-01-01", "on:", "café", "run", " ", "\x00", "^", "{", "}", "+"]),
    max_size=12).map("".join))
def test_any_text_is_searched_or_rejected_with_bad_input(diary, text):
    if not entries.count(diary):  # words that name tags, a few and many (grouped tokens)
        entries.add(diary, "run with café", tags=["sport/run", "café/near"])
        for i in range(20):
            entries.add(diary, "entry %d" % i, tags=["run/title%d" % i, "x/café%d" % i])
    try:
        search.search(diary, text, limit=3)
        search.search(diary, text, limit=3, sort="newest")
    except BadInput:
        pass


@pytest.fixture
def tagged(diary):
    add = lambda body, *paths: entries.add(diary, body, tags=paths).id  # noqa: E731
    return dict(
        acme=add("kickoff with the client", "work/acme"),
        meeting=add("weekly sync, long meeting", "work/acme/meetings", "people/zoë"),
        globex=add("a long client call", "work/globex"),
        home=add("painted the fence, long day", "home"),
        plain=add("nothing tagged, a client mentioned"),
    )


def test_tag_filter_takes_the_subtree(diary, tagged):
    t = tagged
    assert ids(diary, "tag:work") == {t["acme"], t["meeting"], t["globex"]}
    assert ids(diary, "tag:work/acme") == {t["acme"], t["meeting"]}
    assert ids(diary, "tag:Work/ACME/meetings") == {t["meeting"]}
    assert ids(diary, "tag:#home") == {t["home"]}
    assert ids(diary, 'tag:"people/zoë"') == {t["meeting"]}


def test_tag_filter_combines_with_words_dates_and_negation(diary, tagged):
    t = tagged
    assert ids(diary, "client tag:work") == {t["acme"], t["globex"]}
    assert ids(diary, "long tag:work -tag:work/acme") == {t["globex"]}
    assert ids(diary, "long -tag:work") == {t["home"]}
    assert ids(diary, "tag:work tag:people") == {t["meeting"]}
    assert ids(diary, "client tag:work from:2000-01-01 -is:starred") == {t["acme"], t["globex"]}
    assert ids(diary, "-client tag:work") == {t["meeting"]}


def test_unknown_or_bad_tag_paths(diary, tagged):
    assert ids(diary, "tag:nowhere") == set()
    assert ids(diary, "client -tag:nowhere") == {tagged["acme"], tagged["globex"],
                                                 tagged["plain"]}
    with pytest.raises(BadInput):
        search.search(diary, "tag:work//acme")
    with pytest.raises(BadInput, match="empty name"):
        search.parse("tag:work//acme")  # refused by the parser, before any search


def test_tag_paths_are_searchable_words(diary, tagged):
    assert ids(diary, "acme") == {tagged["acme"], tagged["meeting"]}
    assert ids(diary, "zoe") == {tagged["meeting"]}


# --- ranking, snippets, paging -------------------------------------------------------

@pytest.fixture
def many(diary):
    """Enough entries for bm25 to tell them apart: 'heron' once in a title, in bodies elsewhere."""
    with diary.write():
        for i in range(30):
            entries.add(diary, "an ordinary day number %d with nothing much" % i,
                        created_at=day(2020, 1, 1) + dt.timedelta(days=i))
    body = entries.add(diary, "by the lake we saw a heron standing still for an hour "
                       "in the shallow water", title="Lake walk",
                       created_at=day(2021, 1, 1)).id
    title = entries.add(diary, "a quiet afternoon at the lake with a book", title="Heron",
                        created_at=day(2019, 1, 1)).id
    tagged = entries.add(diary, "cold morning on the lake, grey sky", title="Lake",
                         created_at=day(2018, 1, 1), tags=["birds/heron"]).id
    return dict(body=body, title=title, tagged=tagged)


@pytest.mark.parametrize("text", [
    "heron -ordinary", "lake -heron", "(heron OR lake) -cold", "lake (heron OR walk -book)",
    "lake -\"grey sky\" -tag:birds", "lake NOT (cold OR quiet)", "lake -bird*",
])
def test_ranking_without_the_negated_words_gives_the_same_order_and_scores(diary, many, text):
    """The search ranks by Query.expression(weighs=...) among the ids found;
    the reference here ranks by the whole expression, as bm25 is defined."""
    with diary.write():
        entries.add(diary, "lake and heron and book", title="Lake heron", tags=["birds/grey"])
        entries.add(diary, "a cold lake, grey sky over the lake")
    query = search.parse(text)
    with search.EntryIndex.bind_ctx(diary.db), diary.read():
        full = query.expression(search.TagFinder())
        assert full != query.expression(search.TagFinder(), weighs=lambda phrase: True)
        sql = ("SELECT rowid, -bm25(entry_fts, %s) AS s FROM entry_fts WHERE entry_fts MATCH ? "
               "ORDER BY s DESC, rowid DESC" % ", ".join(map(str, search.DEFAULT.weights)))
        want = [(i, round(sc, 9)) for i, sc in diary.db.execute_sql(sql, (full,))]
    if query.tags:  # -tag: narrows after the words
        keep = ids(diary, text)
        want = [w for w in want if w[0] in keep]
    got = [(h.entry.id, round(h.score, 9)) for h in search.search(diary, text, limit=None).hits]
    assert got == want and got


@pytest.mark.parametrize("probe", [256, 4])  # counted, or estimated from the newest 4
def test_words_in_most_entries_are_left_out_of_the_ranking(diary, monkeypatch, probe):
    """Beyond RANK_LIMIT entries, a word in more than RANK_LIMIT of them does not
    weigh in the ranking (bm25 would read its whole list to weigh it little)."""
    t = search.Tuning(exact=0)
    with diary.write():
        for i in range(40):
            heron = " heron" * (1 + i % 3) if i % 10 == 0 else ""
            entries.add(diary, "common" + " common" * (i % 4) + heron + " filler" * (i % 5))
    t = dataclasses.replace(t, rarity_probe=probe)

    def scores(text):
        res = search.search(diary, text, limit=None, tuning=t)
        return res.order, [(h.entry.id, h.score and round(h.score, 9)) for h in res.hits]

    both, rare = scores("common heron"), scores("heron")
    assert both[0] == rare[0] == "rank" and both != rare  # every word weighs
    t = dataclasses.replace(t, rank_limit=10)
    assert scores("common heron") == scores("heron")
    assert scores("heron -filler")[0] == "rank"
    for text in ("common", "common OR heron", "common -heron"):
        order, hits = scores(text)
        assert order == "newest" and hits[0][1] is None
        assert len(hits) == len(ids(diary, text, tuning=t))
    # A phrase weighs where its words are together in at most a PHRASE_COST-th.
    t = dataclasses.replace(t, phrase_cost=2)  # together in at most 5 entries
    assert scores('"common filler"')[0] == "newest"  # together in 32
    assert scores('"common heron"')[0] == "rank"     # heron is in 4: at most that
    t = dataclasses.replace(t, phrase_cost=4)  # at most 2
    assert scores('"common heron"')[0] == "newest"
    t = dataclasses.replace(t, rank_limit=40)  # every entry: the diary is small enough
    assert scores('"common filler"')[0] == "rank"


def test_title_match_ranks_above_tag_above_body(diary, many):
    res = search.search(diary, "heron")
    assert [h.entry.id for h in res.hits] == [many["title"], many["tagged"], many["body"]]
    scores = [h.score for h in res.hits]
    assert scores[0] > scores[1] > scores[2] > 0


def test_sort_by_date(diary, many):
    assert found(diary, "heron", sort="newest") == [many["body"], many["title"], many["tagged"]]
    assert found(diary, "heron", sort="oldest") == [many["tagged"], many["title"], many["body"]]
    with pytest.raises(BadInput):
        search.search(diary, "heron", sort="best")


def test_limit_and_offset_page_through(diary, many):
    every = found(diary, "lake OR day", limit=None)
    assert len(every) == 33
    pages = [found(diary, "lake OR day", limit=10, offset=o) for o in (0, 10, 20, 30)]
    assert sum(pages, []) == every
    res = search.search(diary, "lake OR day", limit=5, offset=30)
    assert res.total == 33 and len(res.hits) == 3
    assert found(diary, "day", limit=None, offset=25, sort="newest") == \
        found(diary, "day", limit=None, sort="newest")[25:]


def test_snippet_marks_the_matched_words(diary, many):
    hit = search.search(diary, "shallow heron").hits[0]
    marked = [hit.snippet[a:b] for a, b in hit.spans]
    assert marked == ["heron", "shallow"]
    assert "\x02" not in hit.snippet and "\x03" not in hit.snippet
    title_hit = search.search(diary, "title:heron").hits[0]
    assert [title_hit.entry.title[a:b] for a, b in title_hit.title_spans] == ["Heron"]


def test_without_snippets_the_same_hits_and_no_snippet_work(diary, many, monkeypatch):
    t = search.Tuning(exact=0)
    found = search.search(diary, "shallow heron", tuning=t)
    monkeypatch.setattr(snippets, "marks", None)  # never called
    bare = search.search(diary, "shallow heron", snippets=False, tuning=t)
    assert [h.entry.id for h in bare.hits] == [h.entry.id for h in found.hits]
    assert bare.total == found.total and all(h.snippet == "" and not h.spans for h in bare.hits)


def test_snippet_offsets_survive_accents_and_prefixes(diary):
    entries.add(diary, "Déjà vu at the Café Zoë, cafés everywhere")
    hit = search.search(diary, "cafe* zoe").hits[0]
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["Café", "Zoë", "cafés"]


def test_to_record_has_score_snippet_and_offsets(diary, many):
    hit = search.search(diary, "heron").hits[0]
    rec = search.to_record(hit)
    assert rec["id"] == many["title"] and rec["score"] == hit.score
    assert rec["title_matches"] == [[0, 5]] and isinstance(rec["matches"], list)


def test_spans_ignore_unbalanced_markers():
    assert snippets.unmark("a\x02b\x03c") == ("abc", [(1, 2)])
    assert snippets.unmark("a\x03b\x02c") == ("abc", [])
    assert snippets.unmark("\x02\x02x\x03") == ("x", [(0, 1)])


def test_big_results_are_capped_and_ranked_among_the_newest(diary, monkeypatch):
    t = search.Tuning()
    t = dataclasses.replace(t, cap=5)
    with diary.write():
        made = [entries.add(diary, "tea %d" % i, title="tea" if i == 0 else "").id
                for i in range(8)]
    res = search.search(diary, "tea", tuning=t)
    assert (res.total, res.at_least, res.window) == (5, True, 5)
    assert {h.entry.id for h in res.hits} == set(made[-5:])   # the oldest-written are out
    # probing the date index
    res = search.search(diary, "tea", sort="newest", limit=None, tuning=t)
    assert [h.entry.id for h in res.hits] == made[::-1] and res.window is None
    res = search.search(diary, "tea -2", tuning=t)
    assert (res.total, res.at_least) == (5, True)
    assert search.search(diary, "tea", tuning=t).order == "rank"
    t = dataclasses.replace(t, rank_limit=6)  # an estimated 8 matches: too many to rank
    res = search.search(diary, "tea", tuning=t)
    assert (res.order, res.window) == ("newest", None)
    assert [h.entry.id for h in res.hits] == made[::-1] and res.hits[0].score is None
    assert res.hits[0].snippet  # still marked
    t = dataclasses.replace(t, few=2)  # the middle plan: walk the date index
    assert found(diary, "tea -1 -2 -3 -4", sort="oldest", tuning=t) == [made[0], *made[5:]]


def test_a_big_diary_is_searched_latest_first_then_further(diary, monkeypatch):
    t = search.Tuning(exact=0)
    with diary.write():  # one to two entries a month, January to August
        made = [entries.add(diary, "walk" + " walk" * (i % 3) + " x" * (i % 4),
                            created_at=day(2020, 1, 1) + dt.timedelta(days=20 * i)).id
                for i in range(12)]
    t = dataclasses.replace(t, window=5)
    res = search.search(diary, "walk", limit=3, tuning=t)
    assert (res.total, res.at_least, res.scope, res.window) == (5, False, 5, None)
    assert {h.entry.id for h in res.hits} < set(made[-5:])
    # By date too, where ids follow the dates.
    res = search.search(diary, "walk", limit=3, sort="newest", tuning=t)
    assert [h.entry.id for h in res.hits] == made[:-4:-1] and res.scope == 5
    assert found(diary, "walk", limit=0, sort="newest", tuning=t) == []
    # Paging on: the five written last (ranked), then the older seven
    # (ranked): every match once, and all of them at once in the same order.
    pages = [found(diary, "walk", limit=3, offset=o, tuning=t) for o in range(0, 15, 3)]
    flat = [i for page in pages for i in page]
    assert sorted(flat) == made and set(flat[:5]) == set(made[-5:])
    assert found(diary, "walk", limit=None, tuning=t) == flat
    res = search.search(diary, "walk", limit=3, offset=3, tuning=t)
    assert (res.total, res.at_least, res.scope) == (12, False, None)
    scores = [h.score for h in search.search(diary, "walk", limit=None, tuning=t).hits]
    assert scores[:5] == sorted(scores[:5], reverse=True)
    assert scores[5:] == sorted(scores[5:], reverse=True)
    # Beyond CAP among the latest: ranked among the newest CAP, no further;
    # and across both tiers, among the newest CAP of both.
    t = dataclasses.replace(t, cap=2)
    res = search.search(diary, "walk", limit=None, tuning=t)
    assert (res.total, res.at_least, res.scope, res.window) == (2, True, 5, 2)
    t = dataclasses.replace(t, cap=7)
    res = search.search(diary, "walk", limit=None, tuning=t)
    assert (res.total, res.at_least, res.scope, res.window) == (7, True, None, 7)
    assert {h.entry.id for h in res.hits} == set(made[-7:])
    assert found(diary, "walk", limit=0, sort="newest", tuning=t) == []
    # Dates holding more than WINDOW entries split at the newest whole months
    # holding at least WINDOW of them (May to August: 5).
    t = dataclasses.replace(t, cap=5000)
    res = search.search(diary, "walk from:2020-01-02", limit=2, tuning=t)
    assert (res.total, res.scope) == (5, 5)
    assert {h.entry.id for h in res.hits} < set(made[-5:])
    assert sorted(found(diary, "walk from:2020-01-02", limit=None, tuning=t)) == made[1:]
    # A page the latest do not fill goes on among the older.
    assert search.search(diary, "walk x", limit=3, tuning=t).scope == 5
    res = search.search(diary, "walk x", limit=5, tuning=t)
    assert (res.total, res.scope, len(res.hits)) == (9, None, 5)


def test_dates_split_at_whole_months_counted_up_to_the_last_date(diary, monkeypatch):
    """The newer tier of a search by dates is the newest months holding at
    least WINDOW entries of the dates; the month of the last date is counted
    only up to it, so the latest held are WINDOW or more, never fewer."""
    t = search.Tuning(exact=0)
    with diary.write():  # 2021: three entries a month; March's last two after the 15th
        made = {(m, d): entries.add(diary, "tea", created_at=day(2021, m, d)).id
                for m in range(1, 7) for d in (5, 18, 25)}
    t = dataclasses.replace(t, window=4)
    res = search.search(diary, "tea to:2021-03-15", limit=2, tuning=t)
    # March holds one entry up to the 15th, February three: 4, split there.
    assert (res.total, res.scope) == (4, 4)
    assert {h.entry.id for h in res.hits} <= {made[2, d] for d in (5, 18, 25)} | {made[3, 5]}
    res = search.search(diary, "tea from:2021-02-20", limit=3, tuning=t)
    # June and May hold six: more than WINDOW, whole months.
    assert (res.total, res.scope) == (6, 6)
    every = found(diary, "tea from:2021-02-20", limit=None, tuning=t)
    assert sorted(every) == sorted(i for (m, d), i in made.items() if (m, d) > (2, 18))
    assert found(diary, "tea to:2021-03-15", sort="newest", limit=None, tuning=t) == [
        made[3, 5], made[2, 25], made[2, 18], made[2, 5], made[1, 25], made[1, 18], made[1, 5]]
    # Dates holding fewer: one tier, bounded by their months.
    t = dataclasses.replace(t, window=100)
    assert search.search(diary, "tea from:2021-02-20", tuning=t).scope is None
    assert found(diary, "tea on:2021-04-18", tuning=t) == [made[4, 18]]
    assert found(diary, "tea on:2021-04-19", tuning=t) == []


@pytest.mark.parametrize("cap, few, sides", [(5000, 200, 1), (4, 200, 10), (4, 0, 10)])
def test_a_tag_filter_read_from_the_tag_index_finds_each_entry_once(
        diary, monkeypatch, cap, few, sides):
    """A lone tag filter lists its entries from entry_tag, where an entry
    under two tags of the subtree comes twice: it is still found and
    counted once, whichever plan runs (every match checked, listed, or
    probed: the last where the word matches more than CAP)."""
    t = search.Tuning(exact=0)
    with diary.write():
        made = [entries.add(diary, "tea %d" % i,
                            tags=["work/a", "work/b"] if i % 4 == 0 else []).id
                for i in range(12)]
    t = dataclasses.replace(t, cap=cap)
    t = dataclasses.replace(t, few=few)
    t = dataclasses.replace(t, sides=sides)
    for text, want in (("tea tag:work", made[::4]), ("tea tag:work/b", made[::4]),
                       ("tag:work tea -8", made[0:5:4])):
        for sort in search.SORTS:
            res = search.search(diary, text, sort=sort, limit=None, tuning=t)
            assert sorted(h.entry.id for h in res.hits) == want, (text, sort)
            assert (res.total, res.at_least) == (len(want), False), (text, sort)


@pytest.mark.parametrize("cap", [5000, 7, 3])
def test_both_tiers_rank_alike_listed_with_scores_or_ranked_apart(diary, monkeypatch, cap):
    """Unfiltered, the page that goes on among the older entries comes from
    one walk of the matches with their scores (and, where they are few,
    their snippets); filtered, from the matches listed, then ranked, then
    looked up for snippets. A filter every entry passes gives the same."""
    t = search.Tuning(exact=0)
    with diary.write():
        for i in range(12):
            entries.add(diary, "walk" + " walk" * (i % 3) + " x" * (i % 4),
                        title="walk" if i % 5 == 0 else "", starred=True)
    t = dataclasses.replace(t, window=5)
    t = dataclasses.replace(t, cap=cap)
    for text in ("walk", "walk x", '"walk walk"'):
        for limit, offset in ((3, 0), (5, 0), (4, 3), (20, 0), (None, 0), (None, 6)):
            plain, starred = (search.search(diary, q, limit=limit, offset=offset, tuning=t)
                              for q in (text, text + " is:starred"))
            assert [(h.entry.id, h.score, h.snippet, h.spans, h.title_spans)
                    for h in plain.hits] \
                == [(h.entry.id, h.score, h.snippet, h.spans, h.title_spans)
                    for h in starred.hits], (text, limit, offset)
            assert (plain.total, plain.at_least, plain.window, plain.scope) \
                == (starred.total, starred.at_least, starred.window, starred.scope)


@pytest.mark.parametrize("window, cap", [(5, 5000), (5, 2), (12, 2), (100, 2)])
def test_the_latest_first_gives_the_exact_order_by_date(diary, monkeypatch, window, cap):
    """By date, the tiers and the capped list of newest-written matches give
    the page only where no older-written entry belongs on it: an entry
    written first and dated last, or dated among the rest, still is."""
    t = search.Tuning(exact=0)
    with diary.write():
        made = [entries.add(diary, "tea %d" % i + " cake" * (i % 2),
                            created_at=day(2020, 1, 1) + dt.timedelta(days=i)).id
                for i in range(12)]
        entries.edit(diary, made[0], created_at=day(2030, 1, 1))
        entries.edit(diary, made[1], created_at=day(2020, 1, 6, 12))
        entries.edit(diary, made[11], created_at=day(2019, 1, 1))
    texts = ["tea", "cake", "tea -cake", "tea from:2020-01-03", "tea to:2020-01-09"]
    want = {(q, s): found(diary, q, sort=s, limit=None, tuning=t)
            for q in texts for s in search.SORTS}
    t = dataclasses.replace(t, window=window)
    t = dataclasses.replace(t, cap=cap)
    for text in texts:
        for sort in ("newest", "oldest"):
            for limit, offset in ((0, 0), (1, 0), (3, 0), (3, 2), (4, 8), (None, 0)):
                end = None if limit is None else offset + limit
                assert found(diary, text, sort=sort, limit=limit, offset=offset, tuning=t) \
                    == want[text, sort][offset:end], (text, sort, limit, offset)
        if cap > window:  # every match once, whatever the tiers
            assert sorted(found(diary, text, limit=None, tuning=t)) == sorted(want[text, "rank"])


@pytest.mark.parametrize("text", ["walki*", '"long walk"', '"long walk" OR river', "walki* -river"])
def test_snippets_read_in_one_pass_are_the_snippets_looked_up(diary, monkeypatch, text):
    t = search.Tuning(exact=0)
    with diary.write():
        for i in range(30):
            entries.add(diary, "a long walking day by the river %d, then a long walk home" % i
                        if i % 3 else "nothing to see %d" % i, title="walking" if i % 5 else "")
    def marks():
        return [(h.entry.id, h.snippet, h.spans, h.title_spans)
                for h in search.search(diary, text, limit=None, tuning=t).hits]
    assert snippets.lookup_cost(search.parse(text)) in ("merge", "phrase")
    one_pass = marks()
    assert one_pass and all(m[2] or m[3] for m in one_pass)
    monkeypatch.setattr(snippets, "lookup_cost", lambda query: None)
    assert marks() == one_pass


# --- the index stays true to the entries ------------------------------------------------

def _check_index(diary, words):
    conn = diary.db.connection()
    conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")
    live = list(store.Entry.select())
    for w in words:
        want = {e.id for e in live if w in (e.title + " " + e.body + " " + " ".join(e.tag_list)).lower()}
        assert ids(diary, w) == want, w


def test_index_follows_adds_edits_and_deletes(diary):
    words = ["apple", "pear", "plum", "fig"]
    a = entries.add(diary, "apple pear", title="fig").id
    b = entries.add(diary, "plum").id
    c = entries.add(diary, "pear plum", title="apple").id
    _check_index(diary, words)
    entries.edit(diary, a, body="plum only")
    entries.edit(diary, b, title="fig tree")
    entries.edit(diary, c, starred=True, created_at=day(2020, 1, 1))  # no text change
    _check_index(diary, words)
    tags.set_entry_tags(diary, b, add=["fruit/pear"])
    _check_index(diary, words)
    tags.set_entry_tags(diary, b, remove=["fruit/pear"])
    tags.set_entry_tags(diary, c, add=["fig/tree"])
    _check_index(diary, words)
    tags.rename(diary, "fig", "plum")    # search follows c's tag by its new path
    _check_index(diary, words)
    tags.delete(diary, "plum", recursive=True)
    _check_index(diary, words)
    entries.delete(diary, [a])
    _check_index(diary, words)
    assert ids(diary, "fig") == {b}
    entries.delete(diary, [b, c])
    _check_index(diary, words)


def test_search_never_writes(made, monkeypatch):
    t = search.Tuning(exact=0)
    with store.open_diary(made, "correct horse battery staple") as d:
        entries.add(d, "hello world")
        before = d.db.connection().execute("PRAGMA data_version").fetchone()
        changes = d.db.connection().total_changes
    t = dataclasses.replace(t, few=0)  # every plan: the id lists too
    with store.open_diary(made, "correct horse battery staple", read_only=True) as d:
        assert found(d, "hello", tuning=t) and found(d, "-nothing", tuning=t)
        assert found(d, "from:2000-01-01", tuning=t)
        for sort in search.SORTS:
            assert found(d, "hello from:2000-01-01", sort=sort, tuning=t)
        assert d.db.connection().total_changes == 0
    assert before and changes


@pytest.mark.parametrize("text", ["heron OR lake", "day -3", "lake from:2019-01-01",
                                  "ordinary to:2020-01-15", "lake tag:birds", "day -tag:birds",
                                  "-lake", "lake OR -day", "from:2019-06-01", "-is:starred",
                                  "day -is:starred from:2020-01-10"])
def test_every_plan_gives_the_same_answer(diary, many, monkeypatch, text):
    sorts = ("rank", "newest", "oldest")
    want = {s: found(diary, text, sort=s, limit=None) for s in sorts}
    # (CAP, FEW, DENSE, ROW_COST, SIDES, SAMPLE): probe FTS5 per entry; list
    # every match and walk the dates; walk against the found ids; look the
    # found ids up; and filters checked on the rows of a sample that is every
    # match, on the rows of the matches, listed, or walked along their index
    # against the list of matches.
    never = 10**9
    for plan in ((1, 0, 0, 0, never, 1), (1, 0, 2, 0, never, 1), (1000, 0, 0, 0, never, 1),
                 (1000, 1000, 0, 0, never, 1), (1000, 0, 0, never, never, 1),
                 (1000, 1000, 0, never, never, 1), (1, 0, 0, never, 0, 1),
                 (1, 0, 2, never, 0, 1), (1000, 0, 0, never, 0, 1),
                 (1000, 1000, 0, never, 0, 1), (1000, 0, 0, never, never, 1000)):
        t = search.Tuning(exact=0, **dict(zip(
            ("cap", "few", "dense", "row_cost", "sides", "sample"), plan)))
        for sort in sorts:
            if sort == "rank" and plan[0] == 1:
                continue  # a window of one: a different answer on purpose
            assert found(diary, text, sort=sort, limit=None, tuning=t) == want[sort], plan
            assert found(diary, text, sort=sort, limit=3, offset=1, tuning=t) \
                == want[sort][1:4], plan


@pytest.mark.parametrize("text", ["day from:2020-01-10", "ordinary to:2020-01-20",
                                  "ordinary OR lake from:2018-06-01", "day is:starred"])
def test_ranked_window_is_the_newest_written_whatever_the_plan(diary, many, monkeypatch, text):
    t = search.Tuning(exact=0)
    with diary.write():
        store.Entry.update(starred=True).where(store.Entry.id % 3 == 0).execute()
    every = ids(diary, text, tuning=t)
    t = dataclasses.replace(t, cap=3)
    # The newest ids first (a range estimated wide enough, or too short: then
    # a second pass); then filters listed and the matches probed against
    # them, or the matches listed and the filters' index walked.
    for margin, sides in ((2, 10**9), (0.01, 10**9), (0.01, 0), (0, 0)):
        t = dataclasses.replace(t, margin=margin)
        t = dataclasses.replace(t, sides=sides)
        res = search.search(diary, text, limit=None, tuning=t)
        assert (res.total, res.at_least, res.window) == (3, True, 3), (margin, sides)
        assert {h.entry.id for h in res.hits} == set(sorted(every)[-3:]), (margin, sides)
