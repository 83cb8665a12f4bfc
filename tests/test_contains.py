"""`diary search --contains TEXT` (issue 20 item 2): a literal substring,
ignoring case and accents, with its matches marked."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary import contains, entries, store
from diary.errors import BadInput

from conftest import PASSPHRASE


@pytest.fixture
def texts(run, made):
    for args in (("--title", "Plans", "The ROADMAP for 2025 [draft]"),
                 ("--title", "Café talk", "met Zoë near the station*"),
                 ("한국어 텍스트와 C:\\temp",),
                 ("nothing to see",)):
        assert run("add", *args).code == 0
    return run


@pytest.mark.parametrize("needle, ids, marked", [
    ("oad", [1], "OAD"), ("ROADmap", [1], "ROADMAP"), ("cafe", [2], None),
    ("ZOE", [2], "Zoë"), ("[draft]", [1], "[draft]"), ("n*", [2], "n*"),
    ("국어", [3], "국어"), ("\\temp", [3], "\\temp"), ("e ", [2, 1], None),
    ("xyz", [], None)])
def test_contains_finds_substrings_ignoring_case_and_accents(texts, needle, ids, marked):
    r = texts("search", "--contains", needle, "--json")
    assert r.code == 0, r
    hits = json.loads(r.out)
    assert [h["id"] for h in hits] == ids
    if marked:
        hit = hits[0]
        assert hit["snippet"][slice(*hit["matches"][0])] == marked


def test_contains_in_the_title_is_marked_there(texts):
    (hit,) = json.loads(texts("search", "--contains", "CAFE", "--json").out)
    assert hit["title"][slice(*hit["title_matches"][0])] == "Café"


def test_contains_takes_filters_not_words(texts):
    r = texts("search", "--contains", "e", "on:today", "--json")
    assert r.code == 0 and len(json.loads(r.out)) == 4, r
    r = texts("search", "--contains", "e", "from:2999-01-01", "--json")
    assert r.code == 0 and json.loads(r.out) == [], r
    r = texts("search", "--contains", "e", "heron")
    assert r.code == 2 and "filters only" in r.err and r.err.count("\n") == 1, r


@pytest.mark.parametrize("needle", ["", "   ", "\u0301", "x" * 1001])
def test_contains_refuses_nothing_to_find(texts, needle):
    r = texts("search", "--contains=" + needle)
    assert r.code == 1 and r.err.count("\n") == 1 and "Traceback" not in r.err, r


def test_contains_given_twice_is_a_usage_error(texts):
    # jrnl's `-contains A -contains B` finds either; here the second silently
    # replaced the first, so the results looked like an answer to both.
    r = texts("search", "--contains", "heron", "--contains", "cafe")
    assert r.code == 2 and "--contains" in r.err and r.out == "", r


def test_search_needs_a_query_or_contains(texts):
    r = texts("search")
    assert r.code == 2 and "--contains" in r.err, r


def test_contains_piped_and_paged(texts):
    r = texts("search", "--contains", "E", "-n", "1", "--offset", "1")
    assert r.code == 0 and len(r.out.splitlines()) == 1, r
    assert "4 matches, showing 2-2." in r.err


def test_contains_works_read_only(texts):
    assert texts("--read-only", "search", "--contains", "oad").code == 0


_CHARS = ["a", "A", "é", "É", "e", "\u0301", "[", "]", "*", "?", "-", "^", " ", "한", "ß", "\\",
          "กิ", "İ"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(bodies=st.lists(st.lists(st.sampled_from(_CHARS), min_size=1, max_size=10)
                       .map("".join), min_size=1, max_size=5),
       needle=st.lists(st.sampled_from(_CHARS), min_size=1, max_size=3).map("".join))
def test_contains_equals_a_folded_substring_test(tmp_path_factory, bodies, needle):
    path = str(tmp_path_factory.mktemp("c") / "diary.db")
    store.create(path, PASSPHRASE)
    with store.open_diary(path, PASSPHRASE) as d:
        made = {}
        for body in bodies:
            if body.strip():
                made[entries.add(d, body).id] = body
        try:
            found = contains.search(d, needle, limit=None)
        except BadInput:
            assert not contains.fold(needle).strip()
            return
        fold = contains.fold
        assert {h.entry.id for h in found.hits} == {
            i for i, b in made.items() if fold(needle) in fold(b)}, (bodies, needle)
        for hit in found.hits:
            assert hit.spans and all(fold(needle) in fold(hit.snippet[a:b])
                                     for a, b in hit.spans)
