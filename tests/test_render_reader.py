"""render: what the reader shows of an entry's text (exact output at 40 and 80 columns)."""

import datetime as dt
import re
import types

import pytest

from diary import render

SGR = re.compile(r"\x1b\[[0-9;]*m")
# Everything render.clean escapes, as the characters themselves.
UNSAFE = re.compile("[%s]" % render.UNSAFE_CHARS)
BIDI_AND_SEPARATORS = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                       "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029")


def entry(body, title="", tags=(), starred=False):
    return types.SimpleNamespace(
        id=7, title=title, body=body, tag_list=list(tags), starred=starred,
        created_at=dt.datetime(2024, 3, 2, 21, 30, tzinfo=dt.timezone.utc))


def lines(text):
    """Rendered text as lines, SGR escapes and the padding to the width removed."""
    return [SGR.sub("", line).rstrip() for line in text.splitlines()]


def md_lines(text, width):
    return lines(render.ansi([render.markdown(text)], width, color=False))


# --- 1. nothing from user text acts on the terminal ---------------------------------

REFERENCES = " ".join("&#x%x;" % ord(ch) for ch in BIDI_AND_SEPARATORS)


@pytest.mark.parametrize("body", [
    "plain " + REFERENCES,
    "# heading " + REFERENCES,
    "*em " + REFERENCES + "*",
    "[link " + REFERENCES + "](http://x/&#x202e;)",
    "![alt " + REFERENCES + "](http://x/&#x202e;.png)",
    "![](http://x/&#x202e;&#x2028;.png)",
    "| a &#x202e; | b |\n|---|---|\n| " + REFERENCES + " | c |",
    "```py&#x202e;\ncode\n```",
    "- item " + REFERENCES,
    "> quote " + REFERENCES,
    "esc &#27;[2J &#x1b;]52;c;aGk= &#x9b;31m &#0; &#x7f;",
])
def test_character_references_never_reach_the_terminal(body):
    for width in (40, 80):
        out = render.entry_ansi(entry(body, title="t &#x202e;"), width)
        assert not UNSAFE.search(SGR.sub("", out)), repr(out)


def test_bidi_references_show_as_visible_escapes():
    assert md_lines("a &#x202E; b &#x2066;c&#x2069; &#x2028;d", 40) == [
        "a \\u202e b \\u2066c\\u2069 \\u2028d"]


def test_raw_bidi_and_separators_show_as_visible_escapes():
    body = "x".join(BIDI_AND_SEPARATORS)
    out = "".join(lines(render.entry_ansi(entry(body), 80, color=False))[2:])
    assert out == "x".join("\\u%04x" % ord(ch) for ch in BIDI_AND_SEPARATORS)


def test_any_renderable_is_made_safe_by_ansi():
    """The last line of defence: whatever a renderable holds, ansi() lets only
    SGR escapes through (calendars, summaries, anything rendered for the menu)."""
    from rich.text import Text

    out = render.ansi([Text("a\u202eb\x1b[2Jc\x9bd\u2028e")], 40)
    assert not UNSAFE.search(SGR.sub("", out)), repr(out)
    assert lines(out) == ["a\\u202eb\\x1b[2Jc\\x9bd\\u2028e"]


def test_clean_covers_the_bidi_and_line_separator_set():
    for ch in BIDI_AND_SEPARATORS:
        assert render.clean("a%sb" % ch) == "a\\u%04xb" % ord(ch)


def test_terminal_output_lets_only_sgr_through():
    """``diary show`` on a terminal: the console's stream itself refuses escapes."""
    import io

    buf = io.StringIO()
    out = render.Output(buf, terminal=True, color=True, width=40)
    out.console.print("x\u202ey\x1b]52;c;aGk=\x07")  # as if a path forgot clean()
    assert not UNSAFE.search(SGR.sub("", buf.getvalue())), repr(buf.getvalue())
    assert "x\\u202ey\\x1b]52;c;aGk=" in lines(buf.getvalue())


def test_safe_fragments_show_unsafe_characters_as_styled_escapes():
    frags = [("class:text", "ab\u202ec\u2028"), ("", "\x1b[2J"), ("class:x", "plain")]
    assert render.safe_fragments(frags) == [
        ("class:text", "ab"), ("class:text class:escape", "\\u202e"), ("class:text", "c"),
        ("class:text class:escape", "\\u2028"), ("class:escape", "\\x1b"), ("", "[2J"),
        ("class:x", "plain")]
    assert "".join(t for _, t in render.safe_fragments(frags)) == render.clean(
        "ab\u202ec\u2028\x1b[2Jplain")


# --- 2. the line breaks a person typed are kept ------------------------------------

def test_typed_line_breaks_are_kept():
    assert md_lines("eggs\nmilk\nbread", 40) == ["eggs", "milk", "bread"]
    poem = "Roses are red,\nviolets are blue,\n*sugar* is sweet"
    assert md_lines(poem, 80) == ["Roses are red,", "violets are blue,", "sugar is sweet"]


def test_markdown_still_renders_around_kept_breaks():
    text = "# Shopping\n\n- eggs\n- milk\n\n**note** one\ntwo\n\n    code\n    block"
    out = md_lines(text, 40)
    assert out[0].strip() == "Shopping"
    assert out[1:] == ["", " • eggs", " • milk", "", "note one", "two", "", "", " code",
                       " block", ""]
    styled = render.ansi([render.markdown("**note** one\ntwo")], 40)
    assert "\x1b[1m" in styled  # bold still bold


# --- 3. text however deeply quoted stays visible -------------------------------------

@pytest.mark.parametrize("width", [40, 80])
@pytest.mark.parametrize("depth", [1, 5, 20, 40])
def test_deeply_quoted_text_stays_visible(width, depth):
    out = md_lines("> " * depth + "deep text here", width)
    shown = min(depth, (width - 20) // 4)
    assert out == ["", "▌ " * shown + "deep text here"]  # rich starts a quote with a blank


def test_quote_levels_past_the_cap_flatten_into_the_deepest_shown():
    text = "> " * 6 + "six\n\n" + "> " * 8 + "eight\n\n" + "> " * 5 + "five"
    assert md_lines(text, 40) == ["", "▌ " * 5 + "six", "", "▌ " * 5 + "eight", "",
                                  "▌ " * 5 + "five"]


@pytest.mark.parametrize("width", [40, 80])
def test_deeply_nested_lists_stay_visible(width):
    shown = (width - 20) // 4
    assert md_lines("- " * 30 + "deep", width) == ["", " • " * shown + "deep"]
    assert md_lines("> - " * 10 + "deep", 40) == ["", "▌  • ▌  • ▌ deep"]


def test_text_nested_past_what_the_parser_reads_is_shown_plain():
    out = md_lines("para\n\n" + "> " * 150 + "deep\n\nafter", 80)
    assert out[:2] == ["para", ""] and out[-2:] == ["", "after"]
    assert all(len(line) <= 80 for line in out)
    assert " ".join(out[2:-2]).split() == [">"] * 150 + ["deep"]


# --- a very long entry: plain text, wrapped at words -----------------------------------

def test_an_entry_past_the_markdown_limit_is_shown_plain(monkeypatch):
    monkeypatch.setattr(render, "MARKDOWN_LIMIT", 50)
    body = ("# not a heading\n**not bold** \x1b[2J &#x202e;\n\n"
            + "word " * 12 + "\n" + "x" * 45 + "\n\tend \u202e")
    out = lines(render.entry_ansi(entry(body), 40, color=False))
    assert out[2:] == [
        "# not a heading",
        "**not bold** \\x1b[2J &#x202e;",
        "",
        "word word word word word word word word",
        "word word word word",
        "x" * 40,
        "x" * 5,
        "        end \\u202e",
    ]
    assert "\x1b" not in render.entry_ansi(entry(body), 40, color=False)
    page = render.entry_ansi(entry(body), 40, terms=["end"])
    assert page.matches == [9]


def test_a_wide_text_past_the_limit_wraps_by_columns(monkeypatch):
    monkeypatch.setattr(render, "MARKDOWN_LIMIT", 10)
    out = lines(render.entry_ansi(entry("日本語" * 10 + " ok"), 40, color=False))
    assert out[2:] == ["日本語" * 6 + "日本", "語" + "日本語" * 3 + " ok"]


def test_wrapped_breaks_at_the_last_space_that_fits():
    assert render.wrapped("a" * 20 + " " + "b" * 5, 20) == ["a" * 20, "b" * 5]
    assert render.wrapped("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]
    assert render.wrapped("", 20) == [""]
    assert render.wrapped("x" * 45, 20) == ["x" * 20, "x" * 20, "x" * 5]


def wrapped_by_cutting(text, width):
    """render.wrapped as it was (each piece cut off the line's rest): the reference."""
    out = []
    for line in text.expandtabs(8).split("\n"):
        while True:
            fit = line[:width]
            if fit and max(fit) >= "\u0300":
                fit = render._fit(line, width) or line[:1]
            if len(fit) == len(line):
                out.append(line)
                break
            cut = line.rfind(" ", 0, len(fit) + 1)
            if cut > 0:
                out.append(line[:cut].rstrip(" "))
                line = line[cut + 1:]
            else:
                out.append(fit)
                line = line[len(fit):]
    return out


def test_wrapped_walks_a_line_the_way_it_cut_it():
    # A 10 MB entry of one line (no line break) took two minutes to open in the
    # reader, and as long again on each resize: wrapped copied the rest of the
    # line after every piece. Speed: bench/bench_wrap_line.py; here
    # the walk must give the same lines as the cutting did.
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.text(st.sampled_from(list("ab  \t\n日本\u0301\u200b\u202e")), max_size=80),
           st.integers(1, 12))
    def same(text, width):
        assert render.wrapped(text, width) == wrapped_by_cutting(text, width)

    same()
    line = "\u202e" + "y" * 100 + " " + "z" * 50
    assert render.wrapped(line, 20) == wrapped_by_cutting(line, 20)


def test_however_wide_the_window_quotes_nest_at_most_30_deep():
    assert md_lines("> " * 60 + "deep", 400) == ["", "▌ " * 30 + "deep"]


# --- any text, every rendering of the menu ------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(
    ["&#x202e;", "&#x2028;", "&#27;", "&#x9b;", "&#x61c;", "&#8206;", "&amp;", "\x1b[2J",
     "\x1b]8;;x\x1b\\", "\u202e", "\u2029", "\x9b", "\x00", "\t", "\n", "\n\n", "> ", "- ",
     "1. ", "# ", "**", "*", "`", "```", "[a](b)", "![c](d)", "<b>", "|", "---", "\\", " ",
     "word", "café", "日本"])


@settings(max_examples=60, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join), st.sampled_from([40, 80]))
def test_nothing_unsafe_reaches_the_terminal_from_any_text(text, width):
    e = entry(text, title=text[:50], tags=[text[:20] or "t"])
    outputs = [render.entry_ansi(e, width), render.entry_ansi(e, width, terms=["word"])]
    outputs += ["".join(t for _, t in render.entry_fragments(e, width))]
    outputs += ["".join(t for _, t in render.highlight_fragments(text, [(0, 3)], width=width))]
    for out in outputs:
        assert not UNSAFE.search(SGR.sub("", out)), repr(out)
    assert all(render.cells(line) <= width for line in lines(outputs[0])), lines(outputs[0])
    assert all(render.cells(line) <= width
               for line in "".join(t for _, t in render.entry_fragments(e, width)).split("\n"))
