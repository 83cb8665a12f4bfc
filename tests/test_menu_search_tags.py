"""The menu's Search and Tags screens and tag editing (over search.py and tags.py)."""

import re

from diary import entries, search

from conftest import PASSPHRASE
from test_menu import CTRL_C, CTRL_S, DOWN, ENTER, ESC, TAB, UP, drive


CTRL_U = "\x15"


def field(screen, label):
    """The text of an editor field on the screen (up to the hint beside it)."""
    found = re.search(r"^ %s +(\S.*?)(\s{2,}|$)" % label, screen, re.M)
    return found.group(1) if found else None


def test_search_ranks_highlights_opens_and_refines(diary):
    entries.add(diary, "We ran by the river at dawn.", title="Morning")
    entries.add(diary, "Budget meeting, nothing else.", title="Work")
    entries.add(diary, "A meeting by the river.", title="Picnic")
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
              ("Search “river” · 1–2 of 2", ENTER), ("Search “river” · 1 of 2", "n"),
              ("Search “river” · 2 of 2", CTRL_C), ("1–2 of 2", "/"),
              ("Search: river", CTRL_U + "meeting -river" + ENTER),
              ("Search “meeting -river” · 1–1 of 1", ESC),
              ("Search: meeting -river", ESC), ("Write a new entry", "q"))
    results = next(x for x in s.driver.screens if "1–2 of 2" in x)
    assert "Morning" in results and "Picnic" in results and "Work" not in results
    assert "river" in s.driver.highlighted(results)
    refined = next(x for x in s.driver.screens if "1–1 of 1" in x)
    assert "Work" in refined and "Morning" not in refined


def test_a_query_search_rejects_is_a_message_and_keeps_the_text(diary):
    entries.add(diary, "x")
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "from:someday" + ENTER),
              (lambda t: "Search: from:someday" in t and "not a date I understand" in t, ESC),
              ("Write a new entry", "q"))
    assert s.code == 0


def test_a_query_the_diary_refuses_is_a_message_and_keeps_the_text(diary, monkeypatch):
    for i in range(3):
        entries.add(diary, "x", tags=["big/t%d" % i])
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(max_tags=2))
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "big" + ENTER),
              (lambda t: "Search: big" in t and "too many tags" in t, ESC),
              ("Write a new entry", "q"))
    assert s.code == 0


def test_up_in_search_recalls_queries_never_the_passphrase(diary):
    entries.add(diary, "river")
    s = drive(diary, ("Write a new entry", "l"), ("Write a new entry", "/"),
              ("Search:", UP + UP), (lambda t: "Search:" in t, "river" + ENTER),
              ("1–1 of 1", ESC), ("Search: river", ESC), ("Write a new entry", "/"),
              ("Search:", UP), ("Search: river", ESC), ("Write", "q"),
              answers=[PASSPHRASE])
    assert not any(PASSPHRASE in x for x in s.driver.screens)
    assert list(s.menu.term.history.get_strings()) == ["river"]


def test_tag_tree_with_counts_and_a_subtree(diary):
    entries.add(diary, "a", tags=["work/acme"])
    entries.add(diary, "b", tags=["work/beta"])
    entries.add(diary, "c", tags=["work/acme", "health"])
    s = drive(diary, ("Write a new entry", "t"), ("Tags", DOWN + DOWN + ENTER),
              ("#work/acme · 1–2 of 2", CTRL_C), ("Enter browse", "\x1b[H" + ENTER),
              ("#health · 1–1 of 1", CTRL_C), ("Tags", CTRL_C), ("Write a new entry", "q"))
    tree = next(x for x in s.driver.screens if "Enter browse" in x)
    lines = [line.strip(" ›") for line in tree.splitlines()]
    assert "health  1" in lines and "work  3 (0 here)" in lines
    assert "acme  2" in lines and "beta  1" in lines
    acme = next(x for x in s.driver.screens if "#work/acme · 1–2 of 2" in x)
    assert "a" in acme and "c" in acme


def test_empty_tag_tree(diary):
    s = drive(diary, ("Write a new entry", "t"), ("No tags yet", CTRL_C), ("Write", "q"))
    assert s.code == 0


def test_write_with_tab_completed_tags(diary):
    entries.add(diary, "old", tags=["work/acme"])
    drive(diary, ("Write a new entry", "w"),
          ("New entry", "Title" + TAB + TAB + "work/a" + TAB),
          (lambda t: field(t, "Tags") == "work/acme", ", fun" + TAB + "the text" + CTRL_S),
          ("Saved entry #2.", "q"))
    new = entries.get(diary, 2)
    assert (new.title, new.body, sorted(new.tag_list)) == ("Title", "the text",
                                                            ["fun", "work/acme"])


def test_several_completions_show_a_menu_and_tab_cycles(diary):
    entries.add(diary, "old", tags=["work/acme", "work/beta"])
    drive(diary, ("Write a new entry", "w"),
          ("New entry", "T" + TAB + TAB + "work/" + TAB),
          (lambda t: "work/acme" in t and "work/beta" in t, TAB),  # the menu; Tab picks
          (lambda t: field(t, "Tags") == "work/acme", ENTER + "x" + CTRL_S), ("Saved", "q"))
    assert entries.get(diary, 2).tag_list == ["work/acme"]


def test_change_tags_in_the_editor_and_from_the_reader(diary):
    entries.add(diary, "text", tags=["work/acme", "health"])
    drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("text", "e"),
          ("Entry #1", TAB + TAB + TAB + CTRL_U + "health, travel" + CTRL_S),
          ("Saved entry #1.", "t"), ("Tags:", CTRL_U + "travel/japan" + ENTER),
          ("Saved entry #1.", CTRL_C), ("All entries", CTRL_C), ("Write", "q"))
    assert entries.get(diary, 1).tag_list == ["travel/japan"]


def test_a_bad_tag_path_stays_in_the_editor(diary):
    s = drive(diary, ("Write a new entry", "w"),
              ("New entry", "T" + TAB + TAB + "a//b" + TAB + "text" + CTRL_S),
              ("empty name", CTRL_C), ("Throw away", "y"), ("Write", "q"))
    assert entries.count(diary) == 0 and s.code == 0


def test_retag_with_a_decomposed_spelling_keeps_the_tag(diary):
    """"café" typed as e + combining acute is the same tag (NFC): the retag
    must not read it as a new tag and unlink the stored one."""
    entries.add(diary, "text", tags=["café", "work"])
    drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("text", "t"),
          ("Tags:", CTRL_U + "cafe\u0301, work" + ENTER),
          ("Saved entry #1.", CTRL_C), ("All entries", CTRL_C), ("Write", "q"))
    assert entries.get(diary, 1).tag_list == ["café", "work"]


def test_a_search_runs_once_per_page(diary, monkeypatch):
    from diary import search

    entries.add(diary, "river")
    queries = []
    real = search.search
    monkeypatch.setattr(search, "search", lambda d, q, **kw: queries.append(q) or real(d, q, **kw))
    drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
          ("1–1 of 1", ESC), ("Search: river", ESC), ("Write", "q"))
    assert len(queries) == 1 and isinstance(queries[0], search.Query)


def test_a_malformed_tag_filter_is_a_message(diary):
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "tag:a//b" + ENTER),
              (lambda t: "empty name" in t, ESC), ("Write a new entry", "q"))
    assert s.code == 0


def test_reading_search_hits_goes_on_past_the_latest_entries(diary, monkeypatch):
    for i in range(3):
        entries.add(diary, "river %d" % i)
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(window=2))  # the latest two, then the first
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
              ("Search “river” · 1–3 of 3", ENTER), ("Search “river” · 1 of 2+", "n"),
              ("Search “river” · 2 of 2+", "n"), ("Search “river” · 3 of 3", "n"),
              ("That was the last one.", ESC), ("1–3 of 3", ESC), ("Search: river", ESC),
              ("Write a new entry", "q"))
    assert s.code == 0


def test_the_end_of_the_latest_entries_hits_is_the_last_one_when_no_older_match(
        diary, monkeypatch):
    entries.add(diary, "nothing here")
    entries.add(diary, "river a")
    entries.add(diary, "river b")
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(window=2))
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
              ("Search “river” · 1–2 of 2", ENTER), ("Search “river” · 1 of 2+", "n"),
              ("Search “river” · 2 of 2+", "n"), ("That was the last one.", ESC),
              ("1–2 of 2", ESC), ("Search: river", ESC), ("Write a new entry", "q"))
    assert s.code == 0


def test_search_results_say_what_was_searched_as_the_cli_does(diary, monkeypatch):
    # The CLI prints Coverage.describe() under the hits; the menu's results show
    # the same sentence, without the CLI's --offset pointers (n pages on).
    def results(header):
        s = drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
                  (header, ESC), ("Search: river", ESC), ("Write a new entry", "q"))
        # the message line wraps at the screen's width: joined again
        return next(x for x in s.driver.screens if header in x).replace("\n", "")

    for i in range(3):
        entries.add(diary, "river %d" % i)
    entries.add(diary, "nothing here")
    assert " 3 matches. ↑↓" in results("Search “river” · 1–3 of 3")
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(cap=2))  # counted and ranked to 2
    assert (" more than 2 matches, showing 1-2; ranked among the 2 newest (add words to "
            "narrow). ↑↓") in results("Search “river” · 1–2 of 2")
    for i in range(3, 25):
        entries.add(diary, "river %d" % i)
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(window=22, exact=2))  # latest 22 first
    shown = results("Search “river” · 1–20 of 22+")
    assert (" 22 matches in the latest 22 entries, showing 1-20; older entries follow "
            "them. ↑↓") in shown
    assert "--offset" not in shown


def test_the_coverage_line_gives_way_to_news_of_what_was_just_done(diary):
    entries.add(diary, "river")
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
              ("1–1 of 1", ENTER), ("Search “river” · 1 of 1", "d"), ("trash?", "y"),
              (lambda t: "Search “river” · none" in t, ESC), ("Search: river", ESC),
              ("Write a new entry", "q"))
    assert s.code == 0
    assert " 1 match." in next(x for x in s.driver.screens if "1–1 of 1" in x)
    emptied = next(x for x in s.driver.screens if "Search “river” · none" in x)
    assert "Moved entry #1 to the trash" in emptied and "0 matches" not in emptied


# --- reorganising tags from the Tags screen (issue 15, defect 11) ----------------------------

def tag_tree(diary):
    from diary import tags

    def walk(nodes):
        for node in nodes:
            yield node.path
            yield from walk(node.children)
    return list(walk(tags.tree(diary)))


def test_tags_screen_renames_moves_merges_and_deletes_after_asking(diary):
    entries.add(diary, "a", tags=["health/jogging", "work/acme"])
    entries.add(diary, "b", tags=["health/running"])
    # Rows: health, jogging, running, work, acme.
    s = drive(diary, ("Write a new entry", "t"), ("jogging", DOWN + "r"),
              ("New name:", CTRL_U + "walking" + ENTER),
              ("Rename #health/jogging to walking? [y/N]", "n"),
              (lambda t: "running" in t and "Rename" not in t, DOWN + "r"),
              ("New name: running", CTRL_U + "runs" + ENTER), ("Rename", "y"),
              ("Renamed health/running to health/runs (1 entry updated).", UP + "M"),
              ("Merge into:", "runs" + TAB + ENTER),
              ("Merge #health/jogging into health/runs?", "y"),
              ("Merged health/jogging into health/runs (1 entry updated).", DOWN + DOWN + "m"),
              ("Move under:", "/" + ENTER), ("Move #work/acme under /?", "y"),
              ("Moved work/acme to acme", "\x1b[H" + DOWN + "d"),  # acme, health
              ("Delete the tag #health and the tag below it? Its entries stay", "y"),
              ("Deleted health", ESC), ("Write a new entry", "q"))
    assert s.code == 0
    assert tag_tree(diary) == ["acme", "work"]
    assert entries.count(diary) == 2


def test_a_refused_tag_change_is_a_message(diary):
    entries.add(diary, "a", tags=["a/b"])
    s = drive(diary, ("Write a new entry", "t"), ("a", "M"), ("Merge into:", "a/b" + ENTER),
              ("Merge #a into a/b?", "y"), ("cannot merge a into a/b", ESC), ("Write", "q"))
    assert s.code == 0 and tag_tree(diary) == ["a", "a/b"]


# --- search display (issue 15, defect 10) --------------------------------------------------

def test_results_at_40_columns_centre_the_snippet_mark_the_title_and_fit_the_row(diary):
    from test_menu import SizedOutput

    entries.add(diary, "filler words " * 30 + "and then a long run by the sea " + "more " * 30,
                title="A long day", tags=["walks"])
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "long run" + ENTER),
              ("1–1 of 1", ESC), ("Search:", ESC), ("Write", "q"), output=SizedOutput(40, 20))
    results = next(x for x in s.driver.screens if "1–1 of 1" in x)
    marked = s.driver.highlighted(results)
    # the title's match and the snippet's, far into the text, both show
    # (one word per row: the marked letters of a row, joined)
    assert marked == ["long", "longrun"]
    assert "#walks" in results  # the row is laid out at 40 columns, not 80


def test_an_opened_result_marks_the_words_and_brackets_jump_between_matches(diary):
    body = "\n\n".join("paragraph %03d%s" % (i, " with the river" if i in (30, 90) else "")
                       for i in range(120))
    entries.add(diary, body, title="River walks")  # a match on the first line: ] goes past
    s = drive(diary, ("Write a new entry", "/"), ("Search:", "river" + ENTER),
              ("1–1 of 1", ENTER), ("paragraph 000", "]"),
              (lambda t: "paragraph 030 with the river" in t and "paragraph 010" not in t, "]"),
              (lambda t: "paragraph 090 with the river" in t, "]"),
              (lambda t: "no more matches" in t and "paragraph 090 with" in t, "["),
              (lambda t: "paragraph 030 with the river" in t and "paragraph 090" not in t, "["),
              (lambda t: "River walks" in t and "no more" not in t, "["),
              (lambda t: "no more matches" in t, ESC), ("1–1 of 1", ESC), ("Search:", ESC),
              ("Write", "q"))
    assert s.code == 0
    jumped = next(x for x in s.driver.screens if "paragraph 030 with the river" in x
                  and "· 1 of 1" in x)
    assert s.driver.highlighted(jumped) == ["river"], jumped
    # near the top: the match line is among the first lines of the text
    lines = jumped.splitlines()
    assert next(i for i, l in enumerate(lines) if "paragraph 030" in l) <= 6
