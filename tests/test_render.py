"""render: the menu's renderings (ANSI for rich pages, fragments for lists)."""

import datetime as dt
import re

from diary import dates, entries, render, stats

# Everything the menu's pages may contain: text and SGR (colour/style) escapes.
SGR_ONLY = re.compile(r"\x1b(?!\[[0-9;]*m)")

HOSTILE = ("# Title [x](http://evil)\n\n\x1b]52;c;aGk=\x07 \x1b[2J \u202e "
           "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ [link=http://y]z[/link] [/bold]\n\n"
           "<script>alert(1)</script>\n\n```\ncode \x1b[31m\n```\n![img](http://i/x.png)")


def test_entry_ansi_has_no_escape_from_user_text(diary):
    e = entries.add(diary, HOSTILE, title="evil \x1b[5m title \u202e")
    for color in (True, False):
        out = render.entry_ansi(e, 60, color)
        assert not SGR_ONLY.search(out), repr(out)
        out = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert "\x1b]" not in out and "\u202e" not in out
        assert "\\x1b]52;c;aGk=\\x07" in out and "\\u202e" in out
        assert "[link=http://y]z[/link] [/bold]" in out  # text, never markup
        assert "<script>alert(1)</script>" in out  # raw HTML is shown, not dropped
        assert "x (http://evil)" in out  # links spelled out, no OSC 8 hyperlink


def test_entry_ansi_without_colour_is_plain(diary):
    e = entries.add(diary, "**bold** text", title="T")
    assert "\x1b" not in render.entry_ansi(e, 60, color=False)


def test_entry_fragments_are_two_clean_lines(diary):
    e = entries.add(diary, "first \x1b[2J line\nsecond", title="Ti\u202etle", starred=True,
                    created_at=dates.parse("2024-03-02 21:30"))
    frags = render.entry_fragments(e)
    text = "".join(t for _, t in frags)
    assert text.count("\n") == 1
    assert "2024-03-02 21:30" in text and "★" in text
    assert "Ti\\u202etle" in text and "first \\x1b[2J line" in text
    assert all("\x1b" not in t for _, t in frags)


def test_highlight_fragments_marks_spans_after_cleaning():
    frags = render.highlight_fragments("a \x1b b match c", [(6, 11)])
    assert ("class:match", "match") in frags
    assert "".join(t for _, t in frags) == "a \\x1b b match c"
    # the same cutting as search results (render.marked): stale spans are ignored
    assert render.highlight_fragments("abc", [(1, 99)]) == [("class:dim", "abc")]


def test_tag_rows_indent_children():
    class Node:
        def __init__(self, name, path, count, total, children=()):
            self.name, self.path, self.count, self.total = name, path, count, total
            self.children = list(children)

    tree = [Node("work", "work", 1, 3, [Node("acme", "work/acme", 2, 2)])]
    rows = render.tag_rows(tree)
    assert [path for path, _ in rows] == ["work", "work/acme"]
    assert "".join(t for _, t in rows[1][1]).startswith("  acme  2")
    assert "(1 here)" in "".join(t for _, t in rows[0][1])


def test_calendars_and_summary():
    counts = {dt.date(2024, 3, 2): 2, dt.date(2024, 3, 3): 1}
    month = render.ansi([render.calendar_month(2024, 3, counts, dt.date(2024, 3, 3))], 60,
                        color=False)
    assert "March 2024" in month and "Mo" in month and "31" in month
    year = render.ansi([render.calendar_year(2024, counts, dt.date(2024, 3, 3))], 80,
                       color=False)
    assert year.count("■") == 2 + 4  # two days written, and the legend
    assert "Jan" in year and "Dec" in year
    s = stats.Summary(entries=1, words=2, days=1, current_streak=1, longest_streak=1,
                      first=dt.date(2024, 3, 2))
    text = render.ansi([render.summary_text(s)], 80, color=False)
    assert "1 entry · 2 words · 1 day written" in text
    assert "current streak 1 day · longest streak 1 day" in text


def test_entry_list_on_a_narrow_terminal_shows_ids_and_dates_in_full(diary):
    import io

    long_title = "A rather long title that goes on and on about the day " * 3
    made = [entries.add(diary, "text", title=long_title, tags=["work/acme/meetings"],
                        starred=True, created_at=dates.parse("2026-01-%02d 09:30" % day))
            for day in (1, 2, 3)]
    made.append(entries.add(diary, "text", title="short",
                            created_at=dates.parse("2026-01-04 10:00")))
    for width in (40, 60, 80):
        buf = io.StringIO()
        render.Output(buf, terminal=True, color=False, width=width).entry_list(made)
        lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in buf.getvalue().splitlines()]
        assert all(len(line) <= width for line in lines), (width, lines)
        for e, line in zip(made, lines[1:]):
            assert line.split()[:2] == [str(e.id), render.when(e.created_at).split()[0]], \
                (width, line)
            assert render.when(e.created_at) in line, (width, line)
        assert "★" in lines[1]
