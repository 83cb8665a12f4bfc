"""render: list rows (entry_fragments) use the width they are given."""

import datetime as dt
import types

import pytest

from diary import render

TAGS = ["work/acme/meetings", "health/running", "family"]
ALL_TAGS = "#work/acme/meetings #health/running #family"  # 43 columns


def entry(title, tags=(), body="first line\nsecond", starred=False):
    return types.SimpleNamespace(
        id=7, title=title, body=body, tag_list=list(tags), starred=starred,
        created_at=dt.datetime(2024, 3, 2, 21, 30, tzinfo=dt.timezone.utc))


def rows(e, width, **kw):
    frags = render.entry_fragments(e, width, **kw)
    return "".join(t for _, t in frags).split("\n")


def test_tags_show_in_full_when_the_row_has_room():
    e = entry("Tea", TAGS)
    first = rows(e, 80)[0]
    assert first == render.when(e.created_at) + "   Tea  " + ALL_TAGS
    assert ("class:tags", "  " + ALL_TAGS) in render.entry_fragments(e, 80)


@pytest.mark.parametrize("width, expected", [
    (40, "   Tea  #work/acme/meet…"),
    (60, "   Tea  #work/acme/meetings #health/running…"),
    (67, "   Tea  " + ALL_TAGS),
])
def test_tags_take_what_a_short_headline_leaves(width, expected):
    e = entry("Tea", TAGS)
    first = rows(e, width)[0]
    assert first == render.when(e.created_at) + expected
    assert len(first) <= width


def test_a_long_headline_and_long_tags_share_the_row():
    e = entry("A long title about the whole of a long day at work", TAGS, starred=True)
    assert rows(e, 80)[0] == render.when(e.created_at) + (
        " ★ A long title about the whole…  #work/acme/meetings #health/r…")
    assert rows(e, 40)[0] == render.when(e.created_at) + " ★ A long ti…  #work/ac…"
    short_tags = entry(e.title, ["work"])
    assert rows(short_tags, 80)[0] == render.when(e.created_at) + (
        "   A long title about the whole of a long day at work  #work")


@pytest.mark.parametrize("width", [40, 80, 120])
def test_rows_never_pass_the_width(width):
    for e in (entry("x" * 200, TAGS), entry("", ["t" * 100], body="y" * 300),
              entry("日本語" * 30, TAGS)):
        for line in rows(e, width):
            assert render.cells(line) <= width, (width, line)
