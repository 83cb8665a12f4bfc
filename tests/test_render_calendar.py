"""render: calendars fit the width they are given (exact output at 40 and 80)."""

import datetime as dt

import pytest

from diary import render

COUNTS = {dt.date(2024, 3, 2): 2, dt.date(2024, 3, 3): 1, dt.date(2024, 12, 31): 5}
TODAY = dt.date(2024, 3, 3)


def shown(renderable, width):
    return [line.rstrip() for line in render.ansi([renderable], width, color=False).splitlines()]


def test_year_at_40_columns_shows_half_a_year_a_row():
    # 1 January 2024 is a Monday, 30 June a Sunday: 26 whole weeks; then
    # 1 July to Tuesday 31 December: 26 weeks and two days
    assert shown(render.calendar_year(2024, COUNTS, TODAY), 40) == [
        "2024",
        "    Jan Feb Mar  Apr May Jun",
        *["%s  %s" % (day, "·" * 26) for day in ("Mo", "Tu", "We", "Th", "Fr")],
        "Sa  " + "·" * 8 + "■" + "·" * 17,  # 2 March, in the ninth week
        "Su  " + "·" * 8 + "■" + "·" * 17,
        "",
        "    Jul Aug Sep  Oct Nov Dec",
        "Mo  " + "·" * 27,
        "Tu  " + "·" * 26 + "■",
        *["%s  %s" % (day, "·" * 26) for day in ("We", "Th", "Fr", "Sa", "Su")],
        "    less ■■■■ more",
    ]


def test_year_at_80_columns_is_one_row():
    lines = shown(render.calendar_year(2024, COUNTS, TODAY), 80)
    assert lines[1] == "    Jan Feb Mar  Apr May Jun  Jul Aug Sep  Oct Nov Dec"
    assert [line[:2] for line in lines[2:9]] == ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    assert lines[2] == "Mo  " + "·" * 53
    assert lines[3] == "Tu  " + "·" * 52 + "■"
    assert len(lines) == 10


@pytest.mark.parametrize("width", [20, 30, 40, 60, 80, 120])
def test_no_calendar_is_wider_than_its_width(width):
    for year in (2024, 2026, 2027):
        for grid in (render.calendar_year(year, COUNTS, TODAY),
                     render.calendar_month(year, 9, COUNTS, TODAY)):
            lines = shown(grid, width)
            assert all(len(line) <= max(20, width) for line in lines), (width, lines)
        year_lines = shown(render.calendar_year(year, COUNTS, TODAY), width)
        # every weekday row is whole: one line each, under its months' labels
        rows = [line for line in year_lines if line[:2] in ("Mo", "Tu", "We", "Th", "Fr",
                                                            "Sa", "Su")]
        assert len(rows) == 7 * sum(1 for line in year_lines if line.startswith("    ")
                                    and not line.startswith("    less"))
        assert sum(line.count("·") + line.count("■") for line in rows) == (
            366 if year == 2024 else 365)


def test_month_at_40_columns():
    assert shown(render.calendar_month(2024, 3, COUNTS, TODAY), 40) == [
        "         March 2024",
        " Mo  Tu  We  Th  Fr  Sa  Su",
        "                  1   2   3",
        "  4   5   6   7   8   9  10",
        " 11  12  13  14  15  16  17",
        " 18  19  20  21  22  23  24",
        " 25  26  27  28  29  30  31",
    ]


def test_month_shows_the_selected_day_reversed():
    plain = render.ansi([render.calendar_month(2024, 3, COUNTS, TODAY)], 40)
    chosen = render.ansi([render.calendar_month(2024, 3, COUNTS, TODAY,
                                                selected=dt.date(2024, 3, 14))], 40)
    assert "\x1b[1;7m14\x1b[0m" in chosen and "\x1b[1;7m" not in plain
    # the rest is as without a selection
    assert chosen.replace("\x1b[1;7m14", "\x1b[2m14") == plain


def test_weeks_start_on_sunday_when_asked():
    # March 2024 begins on a Friday: Sunday-first, the first row ends on 2 March.
    month = shown(render.calendar_month(2024, 3, COUNTS, TODAY, first_weekday=6), 40)
    assert month[1].split() == ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"]
    assert month[2].split() == ["1", "2"] and month[3].split()[0] == "3"
    year = shown(render.calendar_year(2024, COUNTS, TODAY, first_weekday=6), 40)
    assert [line[:2] for line in year[2:9]] == ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"]
    # Sunday 3 March is in the tenth week of a Sunday-first year; its first
    # Sunday, 31 December 2023, is blank.
    assert year[2] == "Su   " + "·" * 8 + "■" + "·" * 17
