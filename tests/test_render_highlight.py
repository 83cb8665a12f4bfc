"""Search display: snippets cut around their match, titles and whole entries
with the query's words highlighted (highlight.py and render.py)."""

import datetime as dt
import re
import types

import pytest

from diary import highlight, render

SGR = re.compile(r"\x1b\[[0-9;]*m")


def entry(body, title=""):
    return types.SimpleNamespace(
        id=7, title=title, body=body, tag_list=[], starred=False,
        created_at=dt.datetime(2024, 3, 2, 21, 30, tzinfo=dt.timezone.utc))


# --- the query's words --------------------------------------------------------------

def test_query_terms_are_the_words_searched_for():
    assert highlight.query_terms('cafe "long run" -work title:Tea walk* from:2024-01-01') == [
        "cafe", "long", "run", "Tea", "walk*"]
    assert highlight.query_terms("(a OR b) NOT (c d)") == ["a", "b"]
    assert highlight.query_terms("tag:work is:starred") == []
    assert highlight.query_terms('"don\'t stop"') == ["don", "t", "stop"]


@pytest.mark.parametrize("text, terms, found", [
    ("A Café in town, cafe, CAFÉ, cafés", ["cafe"], ["Café", "cafe", "CAFÉ"]),
    ("Cafe\u0301 decomposed", ["café"], ["Cafe\u0301"]),
    ("running runs run, rerun run_x", ["run"], ["run", "run"]),
    ("running runs run, rerun", ["run*"], ["running", "runs", "run"]),
    ("Ölfass and olfass", ["olfass"], ["Ölfass", "olfass"]),
    ("nothing here", [], []),
    ("a.*b (x) [y]", ["x", "a"], ["a", "x"]),
])
def test_term_spans_match_as_search_does(text, terms, found):
    assert [text[a:b] for a, b in highlight.term_spans(text, terms)] == found


# --- snippets in the result list ----------------------------------------------------

SNIPPET = ("we walked along the river for an hour and then the dog wanted to go home, "
           "but I had the long run planned for the afternoon so we kept going…")


def window(text, spans, width):
    pieces = render.snippet_window(text, spans, width)
    return "".join("[%s]" % p if m else p for p, m in pieces)


def test_snippet_window_is_centred_on_the_first_match():
    at = SNIPPET.index("long run")
    spans = [(at, at + 4), (at + 5, at + 8)]
    assert window(SNIPPET, spans, 40) == "…e, but I had the [long] [run] planned for …"
    assert window(SNIPPET, spans, 30) == "…t I had the [long] [run] planned…"
    shown = render.snippet_window(SNIPPET, spans, 40)
    assert sum(len(p) for p, _ in shown) == 40


def test_snippet_window_keeps_what_fits():
    assert window("a short [one]", [(0, 1)], 40) == "[a] short [one]"
    start = window(SNIPPET, [(0, 2)], 30)
    assert start == "[we] walked along the river for…"
    end = window(SNIPPET, [(len(SNIPPET) - 6, len(SNIPPET) - 1)], 30)
    assert end == "…e afternoon so we kept [going]…"
    assert window(SNIPPET, [], 20) == "we walked along the…"


def test_snippet_window_shows_a_long_match_from_its_start():
    text = "before " + "x" * 50 + " after"
    assert window(text, [(7, 57)], 20) == "…[" + "x" * 18 + "]…"


def test_snippet_window_counts_wide_characters_as_two_columns():
    text = "日本語の文章です。" * 6 + "match" + "。日本語" * 6
    at = text.index("match")
    shown = render.snippet_window(text, [(at, at + 5)], 20)
    assert sum(render.cells(p) for p, _ in shown) <= 20
    assert ("match", True) in shown


def test_highlight_fragments_cut_to_a_width():
    at = SNIPPET.index("long run")
    frags = render.highlight_fragments(SNIPPET, [(at, at + 4)], width=40)
    assert ("class:match", "long") in frags
    assert sum(len(t) for _, t in frags) == 40
    assert frags[0] == ("class:dim", "…e, but I had the ")


def test_title_fragments_mark_spans_or_terms():
    assert render.title_fragments("Tea \x1b and cake", spans=[(0, 3)]) == [
        ("class:match", "Tea"), ("class:title", " \\x1b and cake")]
    assert render.title_fragments("Tea and Cakes", terms=["cake*", "tea"]) == [
        ("class:match", "Tea"), ("class:title", " and "), ("class:match", "Cakes")]
    assert render.title_fragments("Tea", style="class:x") == [("class:x", "Tea")]


def test_entry_fragments_mark_the_title_spans():
    e = entry("first line", title="Tea and cake")
    frags = render.entry_fragments(e, 80, title_spans=[(8, 12)])
    assert ("class:match", "cake") in frags
    assert "".join(t for _, t in frags).split("\n")[0].endswith("Tea and cake")


# --- the reader ---------------------------------------------------------------------

BODY = "Morning run.\n\nNothing here.\n\n" + "filler words " * 20 + "\n\nA long RUN, then running."


@pytest.mark.parametrize("width", [40, 80])
def test_entry_ansi_marks_the_terms_and_says_on_which_lines(width):
    page = render.entry_ansi(entry(BODY, title="Run day"), width, terms=["run"])
    lines = SGR.sub("", page).splitlines()
    assert page.matches == [i for i, line in enumerate(lines)
                            if re.search(r"\brun\b", line, re.I)]
    assert page.matches[0] == 0 and len(page.matches) == 3  # the title, twice in the text
    marked = [line for line in page.splitlines() if render.MATCH_SGR in line]
    assert len(marked) == 3
    assert render.MATCH_SGR + "RUN\x1b[0m" in page
    assert SGR.sub("", page) == SGR.sub("", render.entry_ansi(entry(BODY, title="Run day"),
                                                            width))


def test_entry_ansi_marks_inside_styled_text_and_restores_the_style():
    page = render.entry_ansi(entry("**a bold run here**"), 40, terms=["run"])
    line = [line for line in page.splitlines() if "run" in line][0]
    # the match, then bold again for " here"
    assert re.search(re.escape(render.MATCH_SGR) + r"run\x1b\[0m\x1b\[1m here", line), line


def test_entry_ansi_without_colour_marks_in_reverse_video():
    page = render.entry_ansi(entry("a run"), 40, color=False, terms=["run"])
    assert page.matches == [2]
    assert page.splitlines()[2].startswith("a \x1b[7mrun\x1b[0m")
    plain = render.entry_ansi(entry("a run"), 40, color=False)
    assert "\x1b" not in plain and plain.matches == []


def test_marking_text_that_looks_like_an_escape_keeps_it_text():
    page = render.entry_ansi(entry("x \x1b[31m y"), 40, terms=["31m", "x1b"])
    assert SGR.sub("", page).splitlines()[2].rstrip() == "x \\x1b[31m y"
    assert page.matches == [2]
    assert "\x1b" not in SGR.sub("", page)


from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=80, deadline=None)
@given(st.text(st.sampled_from("ab 日\u0301\x1b\u202e\n…"), max_size=80),
       st.lists(st.tuples(st.integers(0, 80), st.integers(1, 6)), max_size=3),
       st.integers(3, 50))
@example("aaa日a", [(3, 1)], 3)  # a wide match, no room for it between two "…" (it vanished)
def test_snippet_window_fits_and_shows_the_first_match(text, starts, width):
    spans = sorted({(a, a + n) for a, n in starts})
    pieces = render.snippet_window(text, spans, width)
    assert sum(render.cells(p) for p, _ in pieces) <= width
    if any(m for _, m in render.marked(text, spans)):
        assert any(m for _, m in pieces)
