"""No character of user text acts on the terminal, on any screen of the menu
(issue 15, defect 5): the menu drawn through a real Vt100 output into a
buffer, with bidi controls, line separators, C1 and escape sequences in an
entry's title and text and typed into the editor and the one-line inputs."""

import io
import re

from prompt_toolkit.data_structures import Size
from prompt_toolkit.output.vt100 import Vt100_Output

from diary import entries
from diary.safe_text import UNSAFE_CHARS

from test_menu import CTRL_C, ENTER, ESC, TAB, drive

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HOSTILE = BIDI + "\u2028\u2029\x9b31m\x1b]52;c;aGk=\x07\x1b[2J"
TYPED = BIDI + "\u2028\u2029\x85"  # what a keyboard can send as text (ESC is a key)


class Terminal(Vt100_Output):
    """A real VT100 output writing into a string."""

    def __init__(self, columns=80, rows=30):
        self.written = io.StringIO()
        super().__init__(self.written, lambda: Size(rows=rows, columns=columns),
                         term="xterm-256color", enable_cpr=False)


# What the renderer itself sends: CSI sequences (cursor, SGR, modes), CR, LF,
# and a backspace to move the cursor one column back.
CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
OWN = re.compile(r"%s|\r|\n|\x08" % CSI.pattern)


def acting(written):
    """What in ``written`` could act on a terminal besides the renderer's own."""
    return sorted(set(re.findall("[%s]" % UNSAFE_CHARS, OWN.sub("", written))))


def test_no_unsafe_character_reaches_the_terminal_on_any_screen(diary):
    entries.add(diary, "first line " + HOSTILE + "\n\nsecond &#x202e; &#x2028; &#8238;",
                title="Title " + HOSTILE, tags=["work"])
    out = Terminal()
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),   # list, reader
              ("second", "e"), ("Entry #1", TYPED),                         # editor, body
              ("Entry #1", TAB + TAB + TAB + TYPED),                        # title
              ("Entry #1", TAB + TYPED + ESC),                              # date
              ("Throw away", "y"), ("second", "d"),                         # a question
              ("Move entry #1", "n"), ("second", "t"),                      # tags input
              ("Tags of entry #1", TYPED + ESC), ("second", CTRL_C),
              ("All entries", CTRL_C), ("Write a new entry", "/"),         # search input
              ("Search:", "first " + TYPED + ENTER),
              (lambda t: "Search" in t, ESC), ("Search:", ESC),
              ("Write a new entry", "w"), ("New entry", TYPED + "x"),      # a new entry
              ("New entry", ESC), ("Throw away", "y"), ("Write", "q"), output=out)
    assert s.code == 0
    written = out.written.getvalue()
    for shown in ("Move entry #1", "Tags of entry #1", "Search “first"):
        assert s.saw(shown)  # every screen was drawn
    assert acting(written) == []


def test_the_editor_shows_each_such_character_as_its_escape_and_keeps_the_text(diary):
    s = drive(diary, ("Write a new entry", "w"), ("New entry", "a\u202eb\u2028c" + "\x1b[D"),
              (lambda t: "a\\u202eb\\u2028c" in t, "X" + "\x13"),
              ("Saved entry #1.", "q"))
    assert s.code == 0
    assert [e.title for e in entries.list_entries(diary)] == ["a\u202eb\u2028Xc"]


def test_show_unsafe_maps_positions_over_each_escape():
    from prompt_toolkit.layout.processors import TransformationInput

    from diary.safe_input import ShowUnsafe

    ti = TransformationInput(buffer_control=None, document=None, lineno=0,
                             source_to_display=lambda i: i,
                             fragments=[("", "a\u202eb")], width=80, height=1)
    t = ShowUnsafe().apply_transformation(ti)
    assert "".join(text for _, text, *_ in t.fragments) == "a\\u202eb"
    assert ("class:escape", "\\u202e") in t.fragments
    assert [t.source_to_display(i) for i in range(5)] == [0, 1, 7, 8, 9]
    assert [t.display_to_source(j) for j in (0, 1, 3, 6, 7, 8, 9)] == [0, 1, 1, 1, 2, 3, 4]


def test_a_passphrase_typed_is_never_drawn_not_even_its_length(diary, made):
    out = Terminal()
    s = drive(diary, ("Write a new entry", "p"), ("Current passphrase:", "hunter2-secret"),
              (lambda t: "Current passphrase:" in t, CTRL_C), ("Write a new entry", "q"),
              output=out)
    assert s.code == 0
    written = OWN.sub("", out.written.getvalue())
    assert "hunter2" not in written and "*" * 3 not in written
    assert not any("*" in screen for screen in s.driver.screens if "passphrase:" in screen)
