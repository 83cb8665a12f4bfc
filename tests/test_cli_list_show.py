"""`diary list --format ...` and `diary show` with the filters of list (issue 18, item 4)."""

import csv
import io
import json

import pytest

ANSI_ESC = "\x1b["


@pytest.fixture
def filled(run, made):
    """Five entries over three days: 1 and 2 on 2024-03-02 (1 starred, tagged
    work), 3 on 2024-03-03 about a river (tagged people/anna and work), 4 and 5
    on 2024-03-05."""
    for argv in (["--date", "2024-03-02 08:00", "--star", "--tag", "work", "standup"],
                 ["--date", "2024-03-02 20:00", "dinner out"],
                 ["--date", "2024-03-03 09:00", "walk by the river with #people/anna #work"],
                 ["--date", "2024-03-05 09:00", "quiet"],
                 ["--date", "2024-03-05 10:00", "--title", "Later", "the river again"]):
        r = run("add", *argv)
        assert r.code == 0, r
    return run


def ids(result):
    assert result.code == 0, result
    return [int(line.split("\t")[0]) for line in result.out.splitlines() if line]


def records(result):
    assert result.code == 0, result
    return json.loads(result.out)


# --- list --------------------------------------------------------------------------

def test_short_is_the_default_and_json_is_format_json(filled):
    assert ids(filled("list")) == ids(filled("list", "--format", "short")) == [5, 4, 3, 2, 1]
    assert filled("list", "--json").out == filled("list", "--format", "json").out
    assert [e["id"] for e in records(filled("list", "-f", "json", "-n", "2"))] == [5, 4]


def test_json_and_a_different_format_together_is_a_usage_error(filled):
    r = filled("list", "--json", "--format", "csv")
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1


def test_jsonl_is_one_object_per_line_the_same_as_json(filled):
    lines = filled("list", "--format", "jsonl", "--tag", "work").out.splitlines()
    assert [json.loads(line) for line in lines] == records(filled("list", "--json", "--tag",
                                                                  "work"))
    assert len(lines) == 2


def test_csv_has_the_columns_and_cells_of_export(filled):
    listed = list(csv.reader(io.StringIO(filled("list", "--format", "csv", "--since",
                                                "2024-03-03").out)))
    exported = list(csv.reader(io.StringIO(filled("export", "--format", "csv", "--since",
                                                  "2024-03-03").out)))
    assert listed[0] == exported[0] == ["uuid", "created_at", "updated_at", "title", "body",
                                        "tags", "starred"]
    assert listed[1:] == exported[:0:-1]  # the same rows, newest first


def test_full_prints_whole_entries(filled):
    out = filled("list", "--format", "full", "-n", "1").out
    assert out.startswith("#5  2024-03-05 10:00  Later") and "the river again" in out


def test_dates_counts_entries_per_day_over_all_that_pass(run, made):
    for day in range(1, 26):
        run("add", "--date", "2024-01-%02d" % day, "x")
    run("add", "--date", "2024-01-25 18:00", "y")
    lines = run("list", "--format", "dates").out.splitlines()
    assert len(lines) == 25  # every day, not the latest 20
    assert lines[0] == "2024-01-01\t1" and lines[-1] == "2024-01-25\t2"
    assert run("list", "--format", "dates", "-n", "3").out == "2024-01-24\t1\n2024-01-25\t2\n"


def test_tags_counts_entries_per_tag_most_first(filled):
    assert filled("list", "--format", "tags").out == "work\t2\npeople/anna\t1\n"
    assert filled("list", "--format", "tags", "--starred").out == "work\t1\n"


def test_query_filters_list_with_the_search_language(filled):
    assert ids(filled("list", "-q", "river")) == [5, 3]
    assert ids(filled("list", "--query", "river", "--until", "2024-03-04")) == [3]
    assert ids(filled("list", "-q", "river -again")) == [3]
    assert ids(filled("list", "-q", "is:starred")) == [1]
    assert filled("list", "-q", "nothing-like-this", "--format", "dates").out == ""


def test_a_bad_query_fails_before_the_passphrase(run, path):
    r = run("list", "-q", "title:", environ={"DIARY_PASSPHRASE": None})
    assert r.code == 1 and r.err.count("\n") == 1 and r.asked == []


def test_piped_formats_are_plain_text(filled):
    for fmt in ("short", "full", "dates", "tags", "csv", "jsonl"):
        assert ANSI_ESC not in filled("list", "--format", fmt).out


def test_on_a_terminal_data_formats_show_control_characters_escaped(run, made):
    run("add", "--tag", "t", "bad \x1b]52;c;aGk=\x07 text")
    for fmt in ("csv", "jsonl"):
        out = run("list", "--format", fmt, tty=True).out
        assert "\x1b]" not in out and "\x07" not in out


# --- show ---------------------------------------------------------------------------

def shown_ids(result):
    assert result.code == 0, result
    return [int(line.split()[0][1:]) for line in result.out.splitlines()
            if line.startswith("#") and line[1:2].isdigit()]


def test_show_by_ids_as_before(filled):
    assert shown_ids(filled("show", "4", "2")) == [4, 2]


def test_show_with_filters_prints_whole_entries_oldest_first(filled):
    assert shown_ids(filled("show", "--since", "2024-03-03")) == [3, 4, 5]
    assert shown_ids(filled("show", "--tag", "work")) == [1, 3]
    assert shown_ids(filled("show", "--starred")) == [1]
    assert shown_ids(filled("show", "-q", "river")) == [3, 5]
    assert shown_ids(filled("show", "-n", "3")) == [3, 4, 5]  # the newest three
    out = filled("show", "-q", "river").out
    assert "walk by the river" in out and "the river again" in out


def test_show_json_with_filters(filled):
    assert [e["id"] for e in records(filled("show", "--until", "2024-03-02", "--json"))] == [
        1, 2]


def test_show_ids_and_filters_together_is_a_usage_error(filled):
    r = filled("show", "1", "--tag", "work")
    assert (r.code, r.out) == (2, "") and "not both" in r.err


def test_show_with_neither_is_a_usage_error(filled):
    r = filled("show")
    assert (r.code, r.out) == (2, "") and r.err.count("\n") == 1


def test_show_with_filters_that_match_nothing_prints_nothing(filled):
    r = filled("show", "-q", "nothing-like-this")
    assert (r.code, r.out) == (0, "")
