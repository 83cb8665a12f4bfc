"""`diary on-this-day` and `diary stats` (issue 18, item 5), through the real CLI."""

import datetime as _dt
import json
import re

import pytest

from diary import dates

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def filled(run, made):
    for when, text in (("2020-06-15 22:00", "four years ago"),
                       ("2023-06-15 09:00", "last year, a b c"),
                       ("2023-06-16 09:00", "not the day"),
                       ("2024-02-29 09:00", "leap"),
                       ("2024-06-15 09:00", "this year")):
        assert run("add", "--date", when, text).code == 0
    return run


def ids(result):
    assert result.code == 0, result
    return [int(line.split("\t")[0]) for line in result.out.splitlines() if line]


# --- on-this-day --------------------------------------------------------------------

def test_earlier_years_of_the_day_newest_first(filled):
    r = filled("on-this-day", "2024-06-15")
    assert ids(r) == [2, 1]
    assert r.err == "2 entries on 15 June in earlier years.\n"
    assert ids(filled("on-this-day", "2030-06-15")) == [5, 2, 1]


def test_the_29th_of_february_on_the_28th_in_other_years(filled):
    assert ids(filled("on-this-day", "2025-02-28")) == [4]
    assert ids(filled("on-this-day", "2028-02-28")) == []  # 2028 has its own 29th
    assert ids(filled("on-this-day", "2028-02-29")) == [4]


def test_json_and_full(filled):
    records = json.loads(filled("on-this-day", "2024-06-15", "--json").out)
    assert [(r["id"], r["body"]) for r in records] == [(2, "last year, a b c"),
                                                      (1, "four years ago")]
    out = filled("on-this-day", "2024-06-15", "--full").out
    assert out.startswith("#2  2023-06-15 09:00") and "four years ago" in out
    assert json.loads(filled("on-this-day", "2024-01-01", "--json").out) == []


def test_today_by_default(run, made):
    today = dates.now().date()
    run("add", "--date", today.replace(year=today.year - 4).isoformat(), "then")  # 29 Feb too
    run("add", "--date", today.isoformat(), "now")
    assert ids(run("on-this-day")) == [1]


def test_a_bad_date_is_one_line(filled):
    r = filled("on-this-day", "the day after never")
    assert r.code == 1 and r.out == "" and r.err.count("\n") == 1


def test_read_only_reads(filled):
    assert ids(filled("--read-only", "on-this-day", "2024-06-15")) == [2, 1]


# --- stats ----------------------------------------------------------------------------

def test_stats_json(filled):
    got = json.loads(filled("stats", "--json").out)
    assert got == {
        "year": None, "entries": 5, "words": 14, "days": 5, "current_streak": 0,
        "longest_streak": 2, "first": "2020-06-15",
        "years": [{"year": 2020, "entries": 1, "words": 3, "days": 1},
                  {"year": 2023, "entries": 2, "words": 8, "days": 2},
                  {"year": 2024, "entries": 2, "words": 3, "days": 2}]}


def test_stats_of_one_year(filled):
    got = json.loads(filled("stats", "--year", "2023", "--json").out)
    assert (got["year"], got["entries"], got["words"], got["days"], got["longest_streak"],
            got["first"]) == (2023, 2, 8, 2, 2, "2023-06-15")
    assert len(got["years"]) == 3  # every year's counts all the same


def test_the_current_streak_counts_up_to_today(run, made):
    today = dates.now().date()
    for back in (1, 2, 3, 5):
        run("add", "--date", (today - _dt.timedelta(days=back)).isoformat(), "x")
    got = json.loads(run("stats", "--json").out)
    assert (got["current_streak"], got["longest_streak"], got["days"]) == (3, 3, 4)


def test_stats_piped_is_plain_lines(filled):
    out = filled("stats").out
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[:7] == ["year\tall", "entries\t5", "words\t14", "days\t5",
                         "current_streak\t0", "longest_streak\t2", "first\t2020-06-15"]
    assert lines[8:] == ["year\tentries\twords\tdays", "2020\t1\t3\t1", "2023\t2\t8\t2",
                         "2024\t2\t3\t2"]


def test_stats_on_a_terminal_draws_the_year_heatmap(filled):
    r = filled("stats", "--year", "2024", tty=True)
    assert r.code == 0, r
    text = ANSI.sub("", r.out)
    assert "\x1b" not in text  # nothing but colour escapes
    assert "2 entries" in text and "2024" in text and "Mo" in text
    assert text.count("■") == 2 + 4  # the two days written, and the legend's four


def test_stats_of_an_empty_diary(run, made):
    got = json.loads(run("stats", "--json").out)
    assert (got["entries"], got["first"], got["years"]) == (0, None, [])
    assert run("stats", tty=True).code == 0


@pytest.mark.parametrize("year", ["999", "9999", "x"])
def test_stats_year_out_of_range_is_a_usage_error(filled, year):
    r = filled("stats", "--year", year)
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1
