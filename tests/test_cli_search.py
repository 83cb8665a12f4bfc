"""`diary search` end to end, in-process."""

import json

import pytest

from conftest import file_bytes


@pytest.fixture
def filled(run, made):
    """Four entries added through the CLI; returns their ids by name."""
    def add(*argv, stdin=""):
        r = run("add", *argv, stdin=stdin)
        assert r.code == 0, r
        return int(r.out)

    return dict(
        cafe=add("--title", "Café Zoë", "--date", "2024-03-02 10:00",
                 "We met at the café near the station."),
        run=add("--title", "Long run", "--date", "2024-03-03 08:00", "--star",
                "Ran by the river to the cafe and back."),
        work=add("--title", "Standup", "--date", "2023-05-01 09:00", "--tag", "work/acme",
                 "Talked about the river project."),
        old=add("--date", "2001-01-01 12:00", "A cafe that closed long ago."),
    )


def lines(out):
    return [line.split("\t") for line in out.splitlines()]


def test_plain_output_one_tab_separated_line_per_hit(run, filled):
    r = run("search", "cafe")
    assert r.code == 0
    rows = lines(r.out)
    assert [int(row[0]) for row in rows][0] == filled["cafe"]     # the title match first
    assert {int(row[0]) for row in rows} == {filled["cafe"], filled["run"], filled["old"]}
    first = rows[0]
    assert first[1] == "2024-03-02 10:00" and first[3] == "[Café] Zoë"
    assert first[4] == "We met at the [café] near the station."
    assert r.err == "3 matches.\n"


def test_words_given_as_several_arguments_are_one_query(run, filled):
    r = run("search", "-n", "5", "river", "title:standup")
    assert [int(row[0]) for row in lines(r.out)] == [filled["work"]]


def test_json_has_score_snippet_and_offsets(run, filled):
    r = run("search", "station cafe", "--json")
    assert r.code == 0
    (hit,) = json.loads(r.out)
    assert hit["id"] == filled["cafe"] and hit["title"] == "Café Zoë"
    assert hit["score"] > 0
    assert [hit["snippet"][a:b] for a, b in hit["matches"]] == ["café", "station"]
    assert [hit["title"][a:b] for a, b in hit["title_matches"]] == ["Café"]
    assert r.err == "1 match.\n"


def test_sort_and_paging(run, filled):
    def got(*argv):
        r = run("search", "cafe OR river", *argv)
        assert r.code == 0, r
        return [int(row[0]) for row in lines(r.out)], r.err

    newest, _ = got("--sort", "newest")
    assert newest == [filled[k] for k in ("run", "cafe", "work", "old")]
    oldest, _ = got("--sort", "oldest")
    assert oldest == newest[::-1]
    page, err = got("--sort", "newest", "-n", "2", "--offset", "1")
    assert page == newest[1:3]
    assert err == "4 matches, showing 2-3.\n"
    everything, _ = got("-n", "0")
    assert sorted(everything) == sorted(newest)
    assert run("search", "cafe", "--sort", "best").code == 2


def test_filters_alone_list_entries(run, filled):
    r = run("search", "is:starred")
    assert [int(row[0]) for row in lines(r.out)] == [filled["run"]]
    r = run("search", "from:2023-01-01", "to:2024-03-02")
    assert [int(row[0]) for row in lines(r.out)] == [filled["cafe"], filled["work"]]
    r = run("search", "on:2001-01-01")
    assert [int(row[0]) for row in lines(r.out)] == [filled["old"]]
    assert r.err == "1 match.\n"


def test_tag_filter(run, filled):
    r = run("search", "tag:work")
    assert [int(row[0]) for row in lines(r.out)] == [filled["work"]]
    r = run("search", "river -tag:work/acme")
    assert [int(row[0]) for row in lines(r.out)] == [filled["run"]]
    r = run("search", "tag:nothing/here")
    assert (r.code, r.out, r.err) == (0, "", "0 matches.\n")


def test_negation_after_double_dash(run, filled):
    r = run("search", "--", "-cafe")
    assert [int(row[0]) for row in lines(r.out)] == [filled["work"]]
    r = run("search", "cafe -river")
    assert {int(row[0]) for row in lines(r.out)} == {filled["cafe"], filled["old"]}


@pytest.mark.parametrize("query, message", [
    ("*", "nothing to search for"),
    ("from:whenever-ish", "not a date"),
    ("cats OR is:starred", "next to OR"),
    ("is:sad", "is:starred"),
])
def test_bad_queries_fail_in_one_line_before_unlocking(run, made, query, message):
    r = run("search", query, environ={"DIARY_PASSPHRASE": None})
    assert r.code == 1 and r.out == "" and r.asked == []
    assert r.err.startswith("diary: ") and message in r.err and r.err.count("\n") == 1


@pytest.mark.parametrize("query", ['dog"', "AND", "NEAR(", "(((", "a OR", "\x1b[2J",
                                   "x" * 5000])
def test_odd_queries_never_traceback(run, filled, query):
    r = run("search", query)
    assert r.code in (0, 1)
    assert "Traceback" not in r.err and "internal error" not in r.err
    # one line, and the hint for an operator out of place ("AND", "a OR")
    assert len([line for line in r.err.splitlines() if "no word on one side" not in line]) == 1


def test_terminal_output_styles_matches_and_never_obeys_user_text(run, made):
    run("add", "--title", "[bold]Café[/bold]", "evil \x1b]52;c;aGk=\x07 café [link=x]y[/link]")
    r = run("search", "cafe", tty=True)
    assert r.code == 0
    assert "\x1b]52" not in r.out and "\\x1b]52" in r.out   # escape shown, not sent
    assert "[bold]" in r.out and "[link=x]y[/link]" in r.out  # markup shown as text
    assert "\x1b[1;30;43mcafé" in r.out                        # the match highlighted


def test_no_color_keeps_the_text(run, made):
    run("add", "a quiet café")
    r = run("search", "cafe", tty=True, environ={"NO_COLOR": "1"})
    assert "café" in r.out and "\x1b[1;30;43m" not in r.out


def test_search_is_read_only(run, filled, path):
    before = file_bytes(path)
    assert run("search", "cafe").code == 0
    assert run("--read-only", "search", "cafe", "--json").code == 0
    assert run("search", "-n", "1", "is:starred", "--read-only").code == 0
    assert file_bytes(path) == before


def test_missing_diary(run, tmp_path):
    r = run("search", "cafe", diary_path=str(tmp_path / "none.db"))
    assert r.code == 1 and "no diary" in r.err


def test_help_teaches_the_query_language(run):
    r = run("search", "--help")
    assert r.code == 0
    for text in ('"exact phrase"', "walk*", "OR", "-work", "title:", "tag:work/acme",
                 "from:", "on:", "is:starred", 'from:"last monday"', "example:",
                 "--sort", "--offset", "--json"):
        assert text in r.out, text


def test_huge_results_say_how_they_are_ordered(run, filled, monkeypatch):
    from diary import search

    monkeypatch.setattr(search, "DEFAULT", search.Tuning(cap=2))
    r = run("search", "cafe OR river")
    assert r.err == "more than 2 matches, showing 1-2; ranked among the 2 newest " \
        "(add words to narrow).\n"
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(cap=2, rank_limit=1))
    r = run("search", "cafe OR river")
    assert r.err == "more than 2 matches, showing 1-4; too many to rank, newest first " \
        "(add words to narrow).\n"
    assert [int(line.split("\t")[0]) for line in r.out.splitlines()] == [
        filled[k] for k in ("run", "cafe", "work", "old")]
    r = run("search", "is:starred", "--sort", "oldest")
    assert r.err == "1 match.\n"


def test_a_big_diary_says_the_latest_were_searched_first(run, filled, monkeypatch):
    from diary import search

    monkeypatch.setattr(search, "DEFAULT", search.Tuning(window=2))  # the two written last
    r = run("search", "cafe OR river", "-n", "2")
    assert r.err == "2 matches in the latest 2 entries, showing 1-2; older entries " \
        "follow them (--offset 2).\n"
    assert {int(line[0]) for line in lines(r.out)} == {filled["work"], filled["old"]}
    r = run("search", "cafe OR river", "-n", "2", "--offset", "2")
    assert r.err == "4 matches, showing 3-4.\n"
    assert {int(line[0]) for line in lines(r.out)} == {filled["cafe"], filled["run"]}


def test_by_date_the_latest_entries_say_the_older_come_on_later_pages(run, made, monkeypatch):
    from diary import search

    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        assert run("add", "--date", day, "tea on " + day).code == 0
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(window=2))
    r = run("search", "tea", "--sort", "newest", "-n", "1")
    assert r.err == "2 matches in the latest 2 entries, showing 1-1; older entries on " \
        "later pages (--offset 1).\n"
    r = run("search", "tea", "--sort", "newest", "-n", "2", "--offset", "1")
    assert r.err == "3 matches, showing 2-3.\n"
    assert [row[1][:10] for row in lines(r.out)] == ["2024-01-02", "2024-01-01"]


@pytest.mark.parametrize("query", ["OR heron", "heron OR", "heron OR OR river", "AND heron"])
def test_a_stray_operator_gets_a_one_line_hint(run, made, query):
    assert run("add", stdin="heron or river and more").code == 0
    r = run("search", query)
    assert r.code == 0, r
    hints = [line for line in r.err.splitlines() if "no word on one side" in line]
    assert len(hints) == 1 and "searched as the word" in hints[0], r.err


def test_no_hint_for_operators_in_place(run, made):
    assert run("add", stdin="heron river").code == 0
    r = run("search", "heron OR river")
    assert r.code == 0 and "no word on one side" not in r.err, r
