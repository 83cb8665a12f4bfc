"""The interactive diary, driven through prompt_toolkit's pipe input and DummyOutput.

A ``Driver`` types the way a person does: it waits until the screen (read back
from the renderer after every frame, 80x40) shows some text, then types the
next keys. Every test ends by quitting, or by the input running dry (which
quits like a closed terminal); a watchdog closes the input if a test gets
stuck, and the test then fails naming the text it waited for.
"""

import dataclasses
import datetime as dt
import re
import threading

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.application.current import get_app
from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import ANSI, to_formatted_text
from prompt_toolkit.output import DummyOutput

from diary import dates, drafts, entries, menu, pager, render, store, trash, tui
from diary import editor as editor_module
from diary.errors import PassphraseError

from conftest import needs_tmpfs, PASSPHRASE

ENTER, TAB, SHIFT_TAB, ESC = "\r", "\t", "\x1b[Z", "\x1b"
CTRL_C, CTRL_D, CTRL_S, CTRL_E = "\x03", "\x04", "\x13", "\x05"
UP, DOWN, LEFT, RIGHT = "\x1b[A", "\x1b[B", "\x1b[D", "\x1b[C"


# How the reader's marked words (render.MATCH_SGR) are styled once prompt_toolkit parsed them.
READER_MARK = to_formatted_text(ANSI(render.MATCH_SGR + "x"))[0][0]


def screen_text(app):
    screen = app.renderer._last_screen
    size = app.output.get_size()
    return "\n".join("".join(screen.data_buffer[y][x].char for x in range(size.columns)).rstrip()
                     for y in range(size.rows)).rstrip()


class Driver:
    """``steps``: (expect, keys) pairs. ``expect`` is text the screen must show
    (or a predicate on the screen text, or None); ``keys`` a string or a
    function returning one (it may act on the world first)."""

    def __init__(self, inp, steps, answers=None):
        self.input = inp
        self.steps = list(steps)
        self.screens = []
        self._marked = {}
        self.term = None  # the menu's tui.Terminal
        self.answers = answers  # typed at each passphrase prompt, when given
        self.asked = []
        self._answered = None

    def watch(self, app):
        if app.is_done or app.renderer._last_screen is None or self.term.screen is None:
            return
        text = screen_text(app)
        self.screens.append(text)
        if self.answers is not None and self.term.screen.secret:
            if self.term.shows != self._answered:
                self._answered = self.term.shows
                self.asked.append(self.term.screen.secret)
                if not self.answers:
                    self.input.close()
                    return
                answer = self.answers.pop(0)
                self.input.send_text((answer() if callable(answer) else answer) + "\r")
            return
        buffer = app.renderer._last_screen.data_buffer
        self._marked[text] = " ".join(
            "".join(c.char for _, c in sorted(row.items())
                    if "class:match" in c.style or c.style.endswith(READER_MARK))
            for _, row in sorted(buffer.items())).split()
        while self.steps:
            expect, keys = self.steps[0]
            if expect is not None and not (expect(text) if callable(expect) else expect in text):
                return
            self.steps.pop(0)
            if callable(keys):
                keys = keys()
            if keys:
                self.input.send_text(keys)
                return  # the next step waits for the next frame
        self.input.close()

    def saw(self, text):
        return any(text in s for s in self.screens)

    def highlighted(self, screen):
        """The words shown as matches (style class:match) on that screen."""
        return self._marked[screen]


@dataclasses.dataclass
class Session:
    code: int
    driver: Driver
    asked: list
    menu: object

    def saw(self, text):
        return self.driver.saw(text)

    @property
    def last(self):
        return self.driver.screens[-1]


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def advance(self, seconds):
        self.t += seconds


class SizedOutput(DummyOutput):
    """DummyOutput with a size a test can change (a resized terminal)."""

    def __init__(self, columns=80, rows=40):
        self.size = Size(rows=rows, columns=columns)

    def get_size(self):
        return self.size

    def resize(self, columns, rows):
        """Called from a step: the running application redraws at the new size."""
        self.size = Size(rows=rows, columns=columns)
        get_app().invalidate()  # as prompt_toolkit does on SIGWINCH


def drive(diary, *steps, answers=None, timeout=30, output=None, **kw):
    """Run the menu on ``diary`` through ``steps``; ``answers``: what to type at
    each passphrase prompt (when given: the input closes once they run out).
    ``timeout``: a guard against a hang only (the input closes then); the first
    test of a loaded CI run, importing everything cold, once needed over 10 s."""
    with create_pipe_input() as inp:
        driver = Driver(inp, steps, None if answers is None else list(answers))
        m = menu.Menu(diary, input=inp, output=output or DummyOutput(), **kw)
        m.term.watch = driver.watch
        driver.term = m.term
        fired = []
        watchdog = threading.Timer(timeout, lambda: (fired.append(True), inp.close()))
        watchdog.start()
        try:
            code = m.run()
        finally:
            watchdog.cancel()
    assert not driver.steps, "stuck waiting for %r after %d frames%s; the screen showed:\n%s" % (
        driver.steps[0][0], len(driver.screens),
        " (the hang guard closed the input)" if fired else "",
        driver.screens[-1] if driver.screens else "(nothing)")
    return Session(code, driver, driver.asked, m)


def add(diary, body, **kw):
    return entries.add(diary, body, **kw)


# --- the main menu ---------------------------------------------------------------------

def test_main_menu_shows_actions_status_and_quits_with_q(diary):
    add(diary, "one")
    s = drive(diary, ("Write a new entry", "q"))
    assert s.code == 0
    first = s.driver.screens[0]
    for label in ("Write a new entry", "Browse entries", "Search", "Tags", "On this day",
                  "Calendar and statistics", "Trash", "Change passphrase", "Lock", "Quit"):
        assert label in first
    assert "diary.db · 1 entry" in first and "read-only" not in first


def test_ctrl_c_at_the_main_menu_asks_before_quitting(diary):
    s = drive(diary, ("Write a new entry", CTRL_C), ("Quit diary? [y/N]", "n"),
              (lambda t: "Write a new entry" in t and "Quit diary" not in t, CTRL_C),
              ("Quit diary?", "y"))
    assert s.code == 0


def test_ctrl_d_quits_at_once_and_esc_asks(diary):
    assert drive(diary, ("Write a new entry", CTRL_D)).code == 0
    s = drive(diary, ("Write a new entry", ESC), ("Quit diary?", "y"))
    assert s.code == 0


def test_arrow_keys_select_and_enter_opens(diary):
    add(diary, "hello there", title="Greeting")
    s = drive(diary, ("Write a new entry", DOWN + ENTER), ("All entries", CTRL_C),
              ("Write a new entry", UP + UP + ENTER), ("New entry", CTRL_C),
              ("Write a new entry", DOWN * 20 + ENTER))  # the last one: Quit
    assert s.saw("Greeting") and s.code == 0


def test_read_only_session_offers_only_reading(made):
    with store.open_diary(made, PASSPHRASE) as d:
        add(d, "kept as it is", title="Old")
    with store.open_diary(made, PASSPHRASE, read_only=True) as d:
        # w and p (Write, Change passphrase) do nothing; in the reader neither do
        # e, d, s and t (edit, delete, star, tag).
        s = drive(d, ("Browse entries", "wpb"), ("All entries", ENTER),
                  ("kept as it is", "edst" + CTRL_C), ("All entries", CTRL_C),
                  ("Browse entries", "q"))
        first = s.driver.screens[0]
        assert "[read-only]" in first
        assert "Write a new entry" not in first and "Change passphrase" not in first
        assert not s.saw("New entry") and not s.saw("Move entry")
        assert not any("e edit" in screen for screen in s.driver.screens)
        [e] = entries.list_entries(d)
        assert (e.version, e.starred) == (1, False)


# --- writing ----------------------------------------------------------------------------

def test_write_an_entry_with_title_date_and_text(diary):
    s = drive(diary, ("Write a new entry", "w"),
              ("New entry", "Long run" + TAB + "2024-03-02 21:30" + TAB + TAB +
               "Ran 12 km\nby the river." + CTRL_S),
              ("Saved entry #1.", "q"))
    [e] = entries.list_entries(diary)
    assert (e.title, e.body) == ("Long run", "Ran 12 km\nby the river.")
    assert render_when(e.created_at) == "2024-03-02 21:30"
    assert s.code == 0


def render_when(stamp):
    return dates.local(stamp).strftime("%Y-%m-%d %H:%M")


def test_enter_in_the_title_goes_to_the_text_and_the_date_defaults_to_now(diary):
    before = dates.now()
    drive(diary, ("Write a new entry", "w"), ("New entry", "Title" + ENTER + "Body" + CTRL_S),
          ("Saved entry #1.", "q"))
    [e] = entries.list_entries(diary)
    assert (e.title, e.body) == ("Title", "Body")
    assert e.created_at >= before.replace(microsecond=0) - dt.timedelta(seconds=1)


def test_natural_language_date(diary):
    drive(diary, ("Write a new entry", "w"),
          ("New entry", TAB + "yesterday 21:30" + ENTER + "x" + CTRL_S), ("Saved", "q"))
    [e] = entries.list_entries(diary)
    yesterday = dates.now().date() - dt.timedelta(days=1)
    assert render_when(e.created_at) == "%s 21:30" % yesterday.isoformat()


def test_a_bad_date_keeps_the_editor_and_the_text(diary):
    s = drive(diary, ("Write a new entry", "w"),
              ("New entry", "T" + TAB + "the day after never" + ENTER + "precious" + CTRL_S),
              ("cannot understand the date", SHIFT_TAB + SHIFT_TAB + "\x15" + "2024-01-05"
               + CTRL_S),  # Ctrl-U clears the date field
              ("Saved entry #1.", "q"))
    [e] = entries.list_entries(diary)
    assert e.body == "precious" and render_when(e.created_at).startswith("2024-01-05")
    assert s.code == 0


def test_nothing_to_save_and_an_empty_cancel_does_not_ask(diary):
    s = drive(diary, ("Write a new entry", "w"), ("New entry", CTRL_S),
              ("Nothing to save yet", CTRL_C), ("Write a new entry", "q"))
    assert not s.saw("Throw away")
    assert entries.count(diary) == 0


def test_cancel_asks_before_throwing_text_away(diary):
    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "my words" + CTRL_C),
              ("Throw away what you wrote here? [y/N]", "n"),  # back to the editor
              (lambda t: "my words" in t and "Throw" not in t, CTRL_C),
              ("Throw away", ENTER),  # Enter means no
              (lambda t: "my words" in t and "Throw" not in t, " kept" + CTRL_S),
              ("Saved entry #1.", "w"), ("New entry", ENTER + "not wanted" + CTRL_C),
              ("Throw away", "y"), ("Write a new entry", "q"))
    assert [e.body for e in entries.list_entries(diary)] == ["my words kept"]
    assert s.code == 0


def test_ctrl_d_in_the_editor_asks_first(diary):
    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "draft" + CTRL_D),
              ("Quit and throw away", "n"),
              (lambda t: "draft" in t and "Quit and" not in t, CTRL_S),
              ("Saved entry #1.", "w"), ("New entry", ENTER + "gone" + CTRL_D),
              ("Quit and throw away", "y"))
    assert s.code == 0
    assert [e.body for e in entries.list_entries(diary)] == ["draft"]


def test_a_failed_save_keeps_the_text(diary, monkeypatch):
    from diary.errors import Busy

    calls = []
    real_add = entries.add

    def busy_once(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise Busy("the diary is busy: another process is writing to it; try again")
        return real_add(*a, **k)

    monkeypatch.setattr(entries, "add", busy_once)
    drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "keep me" + CTRL_S),
          ("the diary is busy", CTRL_S), ("Saved entry #1.", "q"))
    assert [e.body for e in entries.list_entries(diary)] == ["keep me"]


# --- browsing and reading ------------------------------------------------------------------

def many(diary, n):
    for i in range(n):
        add(diary, "text of entry %d\nsecond line" % i, title="Entry %d" % i,
            created_at=dates.parse("2024-01-01") + dt.timedelta(days=i))


def test_browse_pages_newest_first_and_reads_next_and_previous(diary):
    many(diary, 25)
    s = drive(diary, ("Write a new entry", "b"),
              ("All entries · 1–20 of 25", "n"),
              ("All entries · 21–25 of 25", ENTER),
              ("All entries · 21 of 25", "n"), ("All entries · 22 of 25", "p"),
              ("All entries · 21 of 25", CTRL_C),
              ("All entries · 21–25 of 25", "p"), ("All entries · 1–20 of 25", CTRL_C),
              ("Write a new entry", "q"))
    page = next(x for x in s.driver.screens if "1–20 of 25" in x)
    assert page.index("Entry 24") < page.index("Entry 23")  # newest first
    assert "2024-01-25" in page and "text of entry 24" in page  # date and first line
    entry = next(x for x in s.driver.screens if "21 of 25" in x)
    assert "Entry 4" in entry and "second line" in entry


def test_reading_renders_markdown_and_shows_hostile_text_inert(diary):
    add(diary, "# Heading\n\nSome **bold** and [a link](http://example.com)\n"
               "\x1b]52;c;aGk=\x07 and \u202e and <b>raw html</b>", title="T")
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("All entries · 1 of 1", CTRL_C), ("All entries", CTRL_C), ("Write", "q"))
    page = next(x for x in s.driver.screens if "All entries · 1 of 1" in x)
    assert "a link (http://example.com)" in page
    assert "\\x1b]52;c;aGk=\\x07" in page and "\\u202e" in page
    assert "<b>raw html</b>" in page  # shown, not swallowed
    assert "**" not in page


def test_edit_from_the_reader(diary):
    add(diary, "first text", title="Old title")
    drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("first text", "e"),
          ("Entry #1", CTRL_E + " and more" + CTRL_S), ("Saved entry #1.", CTRL_C),
          ("All entries", CTRL_C), ("Write", "q"))
    e = entries.get(diary, 1)
    assert (e.title, e.body, e.version) == ("Old title", "first text and more", 2)


def test_editing_an_entry_changed_meanwhile_keeps_both(diary, made):
    add(diary, "original", title="Shared")

    def other_session_saves():
        with store.open_diary(made, PASSPHRASE) as other:
            entries.edit(other, 1, body="their version")
        return CTRL_E + " + mine" + CTRL_S

    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("original", "e"),
              ("Entry #1", other_session_saves),
              ("was changed in another session", CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"))
    assert entries.get(diary, 1).body == "their version"
    new = entries.get(diary, 2)
    assert (new.title, new.body) == ("Shared", "original + mine")
    screen = next(x for x in s.driver.screens if "was changed in another session" in x)
    assert "botharekept,yourssavedasanewentry#2." in "".join(screen.split())


def test_unchanged_edit_cancels_without_asking(diary):
    add(diary, "same")
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("same", "e"),
              ("Entry #1", CTRL_C), ("same", CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"))
    assert not s.saw("Throw away") and entries.get(diary, 1).version == 1


def test_delete_asks_first(diary):
    add(diary, "keep")
    add(diary, "drop", title="Drop me")
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("Drop me", "d"),
              ("Move entry #2 (Drop me) to the trash? [y/N]", "n"), ("1 of 2", "d"),
              ("Move entry #2", "y"), ("Moved entry #2 to the trash", CTRL_C),
              ("All entries · 1–1 of 1", CTRL_C), ("Write", "q"))
    assert [e.body for e in entries.list_entries(diary)] == ["keep"]
    assert [i.body for i in trash.items(diary)] == ["drop"]
    assert s.code == 0


def test_delete_for_good_when_trash_days_is_0(diary):
    add(diary, "keep")
    add(diary, "drop", title="Drop me")
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("Drop me", "d"),
              ("Delete entry #2 (Drop me) for good? [y/N]", "y"),
              ("Deleted entry #2 for good.", CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"), trash_days=0)
    assert [e.body for e in entries.list_entries(diary)] == ["keep"]
    assert trash.items(diary) == []
    assert s.code == 0


def test_trash_screen_reads_and_restores(diary):
    add(diary, "keep")
    add(diary, "bring me back", title="Lost")
    entries.delete(diary, [2])
    s = drive(diary, ("Write a new entry", "x"), ("Trash · 1", ENTER),
              ("Trash · entry #2", "r"), ("Restore entry #2 (Lost)? [y/N]", "n"),
              ("Trash · 1", "r"), ("Restore entry #2", "y"), ("Restored entry #2.", ESC),
              ("Write a new entry", "x"), ("The trash is empty", ESC), ("Write", "q"))
    assert s.code == 0
    assert [e.body for e in entries.list_entries(diary)] == ["bring me back", "keep"]
    assert entries.get(diary, 2).version == 2


def test_trash_screen_read_only_has_no_restore(made):
    with store.open_diary(made, PASSPHRASE) as d:
        entries.delete(d, [add(d, "gone").id])
    with store.open_diary(made, PASSPHRASE, read_only=True) as d:
        s = drive(d, ("Browse entries", "x"), ("Trash · 1", "r" + ENTER),
                  ("Trash · entry #1", "r" + ESC), ("Trash · 1", ESC), ("Browse", "q"))
        assert s.code == 0 and not s.saw("Restore entry")
        # no footer offers the key it does not have (the reader's did)
        assert s.saw("↑↓ scroll") and not s.saw("r restore")
        assert trash.count(d) == 1


def test_star_and_unstar(diary):
    add(diary, "shiny")
    drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("shiny", "s"),
          ("Starred.", lambda: "s" if entries.get(diary, 1).starred else None),
          ("Star removed.", CTRL_C), ("All entries", CTRL_C), ("Write", "q"))
    assert entries.get(diary, 1).starred is False


def test_empty_diary_lists(diary):
    s = drive(diary, ("Write a new entry", "b"), ("No entries here.", ENTER + CTRL_C),
              ("Write a new entry", "o"), ("No entries here.", CTRL_C), ("Write", "q"))
    assert s.saw("All entries · none")


# --- days ---------------------------------------------------------------------------------

def test_on_this_day(diary):
    now = dates.parse("2025-06-15 12:00")
    for when, body in (("2024-06-15 08:00", "a year ago"), ("2022-06-15 23:00", "three years"),
                       ("2024-06-14 08:00", "not this day"), ("2025-06-15 07:00", "today")):
        add(diary, body, created_at=dates.parse(when))
    s = drive(diary, ("Write a new entry", "o"), ("On this day, 15 June", ENTER),
              ("a year ago", CTRL_C), ("On this day", CTRL_C), ("Write", "q"),
              now=lambda: now)
    page = next(x for x in s.driver.screens if "On this day, 15 June · 1–2 of 2" in x)
    assert "1 year ago" in page and "3 years ago" in page
    assert "not this day" not in page and "today" not in page


def test_calendar_month_year_and_statistics(diary):
    now = dates.parse("2025-06-15 12:00")
    for day in ("2025-06-13", "2025-06-14", "2025-06-15", "2025-05-01"):
        add(diary, "two words", created_at=dates.parse(day + " 10:00"))
    s = drive(diary, ("Write a new entry", "c"), ("June 2025", "p"), ("May 2025", "y"),
              (lambda t: "Jan" in t and "Mo  " in t, "t"), ("June 2025", CTRL_C),
              ("Write", "q"), now=lambda: now)
    june = next(x for x in s.driver.screens if "June 2025" in x)
    assert "4 entries · 8 words · 4 days written" in june
    assert "current streak 3 days · longest streak 3 days" in june
    assert s.saw("2025\n")  # the year heatmap's heading


# --- passphrase and lock ---------------------------------------------------------------------

def test_change_passphrase(diary, made):
    s = drive(diary, ("Write a new entry", "p"), ("Passphrase changed.", "q"),
              answers=[PASSPHRASE, "a new one", "a new one"])
    assert s.asked == ["Current passphrase:", "New passphrase:", "Repeat it:"]
    diary.close()
    with pytest.raises(PassphraseError):
        store.open_diary(made, PASSPHRASE)
    store.open_diary(made, "a new one").close()


def test_change_passphrase_refuses_a_wrong_current_one_and_a_mismatch(diary, made):
    s = drive(diary, ("Write a new entry", "p"), ("wrong passphrase; nothing changed", "p"),
              ("differ", "q"), answers=["nope", PASSPHRASE, "x1", "x2"])
    assert s.code == 0
    diary.close()
    store.open_diary(made, PASSPHRASE).close()


def test_lock_drops_the_key_and_asks_again(diary):
    add(diary, "secret")
    seen = {}

    def wrong():
        seen["key"] = diary.db._passphrase
        with pytest.raises(PassphraseError):
            entries.count(diary)  # the key is gone: nothing can be read
        return "wrong"

    s = drive(diary, ("Write a new entry", "l"), ("Write a new entry", "q"),
              answers=[wrong, PASSPHRASE])
    assert seen["key"] is None
    assert s.asked == ["Passphrase:", "Passphrase:"]
    assert entries.count(diary) == 1


def test_three_wrong_passphrases_after_a_lock_end_the_session(diary):
    with pytest.raises(menu.LockedOut):
        drive(diary, ("Write a new entry", "l"), answers=["a", "b", "c"])
    assert diary.db._passphrase is None


def test_idle_timer_locks_and_the_draft_survives(diary):
    clock = Clock()
    state = {}

    def away():
        clock.advance(11 * 60)  # the timer (every 10 ms here) notices

    def back():
        state["locked"] = diary.db._passphrase is None
        return PASSPHRASE

    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "half a thought"),
              ("half a thought", away),
              (lambda t: state and "half a thought" in t, ", finished" + CTRL_S),
              ("Saved entry #1.", "q"),
              answers=[back], clock=clock, tick=0.01, lock_after=600)
    assert state["locked"] is True
    assert [e.body for e in entries.list_entries(diary)] == ["half a thought, finished"]
    assert s.asked == ["Passphrase:"]


def test_the_key_that_wakes_an_idle_screen_is_swallowed(diary):
    clock = Clock()
    asked = []
    drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "abc"),
          ("abc", lambda: clock.advance(601) or "X"),  # the timer (every minute) sleeps
          (lambda t: asked, "d" + CTRL_S), ("Saved", "q"),
          answers=[lambda: asked.append(1) or PASSPHRASE], clock=clock, tick=60,
          lock_after=600)
    assert asked and [e.body for e in entries.list_entries(diary)] == ["abcd"]


def test_lock_after_zero_never_locks(diary):
    clock = Clock()
    s = drive(diary, ("Write a new entry", lambda: clock.advance(10 ** 6) or "w"),
              ("New entry", CTRL_C), ("Write", "q"), clock=clock, tick=0.01, lock_after=0)
    assert s.asked == []


def test_up_arrow_never_shows_a_passphrase(diary):
    add(diary, "an entry")
    s = drive(diary, ("Write a new entry", "l"),
              ("Write a new entry", "w"), ("New entry", UP + UP + TAB + UP + TAB + UP),
              (lambda t: "New entry" in t, CTRL_C), ("Write a new entry", "b"),
              ("All entries", ENTER), ("an entry", "t"), ("Tags:", UP + UP + UP),
              (lambda t: "Tags:" in t, CTRL_C), ("an entry", CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"), answers=[PASSPHRASE])
    assert s.asked == ["Passphrase:"]
    assert not any(PASSPHRASE in screen for screen in s.driver.screens)
    assert PASSPHRASE not in list(s.menu.term.history.get_strings())


# --- cli: unlocking before the menu ---------------------------------------------------------

def run_menu(run, *steps, argv=(), **kw):
    """``diary`` with no command, in-process, with the menu on a pipe."""
    with create_pipe_input() as inp:
        driver = Driver(inp, steps)
        monkey = pytest.MonkeyPatch()
        real_init = menu.Menu.__init__

        def init(self, *a, **k):
            real_init(self, *a, **k)
            self.term.watch = driver.watch
            driver.term = self.term

        monkey.setattr(menu.Menu, "__init__", init)
        fired = []
        watchdog = threading.Timer(10, lambda: (fired.append(True), inp.close()))
        watchdog.start()
        try:
            r = run(*argv, tty=True, menu_io=(inp, DummyOutput()), **kw)
        finally:
            watchdog.cancel()
            monkey.undo()
    assert not driver.steps, "stuck waiting for %r after %d frames%s; the screen showed:\n%s" % (
        driver.steps[0][0], len(driver.screens),
        " (the hang guard closed the input)" if fired else "",
        driver.screens[-1] if driver.screens else "(nothing)")
    r.driver = driver
    return r


def test_first_run_welcomes_and_creates_the_diary(run, path):
    r = run_menu(run, ("Write a new entry", "q"), environ={"DIARY_PASSPHRASE": None},
                 answers=["my passphrase", "my passphrase"])
    assert r.code == 0, r
    assert "Welcome to diary" in r.err and r.asked == ["New passphrase: ", "Repeat it: "]
    store.open_diary(path, "my passphrase").close()


def test_three_tries_then_exit_3(run, made):
    r = run_menu(run, environ={"DIARY_PASSPHRASE": None}, answers=["a", "b", "c"])
    assert (r.code, r.asked) == (3, ["Passphrase: "] * 3)
    assert r.err.count("Wrong passphrase, try again.") == 2
    r = run_menu(run, ("Write a new entry", "q"), environ={"DIARY_PASSPHRASE": None},
                 answers=["a", PASSPHRASE])
    assert r.code == 0


def test_a_scripted_wrong_passphrase_is_tried_once(run, made):
    r = run_menu(run, environ={"DIARY_PASSPHRASE": "wrong"})
    assert r.code == 3 and r.asked == []


def test_read_only_flag_opens_a_read_only_menu(run, made):
    r = run_menu(run, ("Write a new entry", "q"))
    assert r.code == 0 and not r.driver.saw("[read-only]")
    r = run_menu(run, ("[read-only]", "q"), argv=["--read-only"])
    assert r.code == 0 and not r.driver.saw("Write a new entry")


def test_needs_a_terminal(run, made):
    r = run()
    assert r.code == 2 and "needs a terminal" in r.err


def test_lock_after_flag_and_variable(run, made, monkeypatch):
    got = []
    monkeypatch.setattr(menu.Menu, "run", lambda self: got.append(self.term.lock_after) or 0)
    assert run("--lock-after", "2.5", tty=True).code == 0
    assert run(tty=True, environ={"DIARY_LOCK_AFTER": "0"}).code == 0
    assert run(tty=True).code == 0
    assert run("--lock-after", "1", tty=True, environ={"DIARY_LOCK_AFTER": "0"}).code == 0
    assert got == [150.0, 0.0, 600.0, 60.0]
    r = run(tty=True, environ={"DIARY_LOCK_AFTER": "soon"})
    assert r.code == 2 and "DIARY_LOCK_AFTER" in r.err
    assert run("--lock-after", "-1", tty=True).code == 2


def test_a_bug_in_a_screen_is_one_line_not_a_traceback(run, made, monkeypatch):
    def boom(self, draft):
        raise RuntimeError("secret entry text")

    monkeypatch.setattr(menu.Menu, "check", boom)
    r = run_menu(run, ("Write a new entry", "w"), ("New entry", "x" + CTRL_S))
    assert r.code == 1
    assert r.err == "diary: internal error (RuntimeError); rerun with --debug for details\n"


# --- the reader's scroll keys (issue 15, defect 1) ------------------------------------------

def long_entry(diary, lines=120):
    return add(diary, "\n\n".join("paragraph %0*d" % (len(str(lines - 1)), i)
                                   for i in range(lines)), title="Long")


def test_every_scroll_key_in_the_reader_scrolls(diary):
    long_entry(diary)
    top = lambda t: "paragraph 000" in t  # noqa: E731
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("paragraph 000", DOWN * 3), (lambda t: not top(t), UP * 3), (top, "jjj"),
              (lambda t: not top(t), "kkk"), (top, "\x1b[6~"),  # PgDn
              ("paragraph 020", "\x1b[5~"), (top, " "), ("paragraph 020", "b"),
              (top, "G"), ("paragraph 119", "g"), (top, "\x1b[F"),  # End
              ("paragraph 119", "\x1b[H"),  # Home
              (top, CTRL_C), ("All entries", CTRL_C), ("Write", "q"))
    assert s.code == 0


def test_resizing_while_reading_keeps_the_text_and_the_keys(diary):
    long_entry(diary)
    out = SizedOutput(80, 40)

    def smaller():
        out.resize(45, 14)
        return "j"

    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("paragraph 000", "G"), ("paragraph 119", smaller),
              # The top line stays where it was; the text is all there at the new size.
              (lambda t: "paragraph 10" in t and len(t.splitlines()) <= 14, "G"),
              ("paragraph 119", "g"), ("paragraph 000", CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"), output=out)
    assert s.code == 0


def test_a_taller_window_fills_with_text_at_once(diary):
    # Found by the real-terminal suite: from 40x12 back to 100x30 the reader drew
    # the few lines the small window had held, the rest of the new window blank,
    # until the next key (it took the last render's height).
    add(diary, "\n".join("line %03d" % i for i in range(200)), title="Long")
    out = SizedOutput(40, 12)

    def taller():
        out.resize(100, 30)
        return ""

    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("line 000", "G"), ("line 199", taller),
              (lambda t: len(t.splitlines()) > 20, CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"), output=out)
    assert s.code == 0
    tall = next(x for x in s.driver.screens if len(x.splitlines()) > 20)
    shown = [line for line in tall.splitlines() if line.startswith("line ")]
    assert len(shown) >= 20, tall


class ResizedMidFrame(SizedOutput):
    """A terminal resized while a frame is drawn: every read of its size after
    ``flicker()`` answers a different width (tmux resizes between two ioctls)."""

    def __init__(self, columns=80, rows=40):
        super().__init__(columns, rows)
        self.widths = None

    def flicker(self, *widths):
        self.widths = list(widths)

    def get_size(self):
        if self.widths:
            self.widths.append(self.widths.pop(0))
            return Size(rows=self.size.rows, columns=self.widths[0])
        return self.size


def test_a_resize_in_the_middle_of_drawing_the_reader_does_not_crash(diary):
    # Found by the random-key suite in CI (seed 12): the reader took the page's
    # lines at one width, then drew each line from a page rendered again at the
    # width the terminal had a moment later, past the end of the shorter page.
    add(diary, "\n\n".join("paragraph %03d %s" % (i, "words " * 9) for i in range(120)),
        title="Long")
    out = ResizedMidFrame(45, 40)

    def flicker():
        out.flicker(45, 100)
        return "k"

    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("paragraph 000", "G"), ("paragraph 119", flicker),
              ("paragraph 11", "kj"), ("paragraph 11", CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"), output=out)
    assert s.code == 0, s.err


def test_resizing_while_reading_keeps_the_place_in_the_text(diary):
    # Each paragraph one line at 80 columns, two or more at 45: the same top line
    # number would be much earlier in the text.
    add(diary, "\n\n".join("paragraph %03d %s" % (i, "words " * 9) for i in range(120)),
        title="Long")
    out = SizedOutput(80, 40)

    def narrower():
        out.resize(45, 14)
        return ""

    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("paragraph 000", "j" * 60), ("paragraph 029", narrower),
              (lambda t: len(t.splitlines()) <= 14, CTRL_C), ("All entries", CTRL_C),
              ("Write", "q"), output=out)
    assert s.code == 0
    before = next(x for x in s.driver.screens if "paragraph 029" in x and "paragraph 028" not in x
                  and "paragraph 000" not in x)
    after = next(x for x in s.driver.screens if len(x.splitlines()) <= 14 and "paragraph" in x)
    shown = [int(n) for n in re.findall(r"paragraph (\d{3})", after)]
    assert before and min(shown) in (28, 29, 30), after


def test_the_reader_parses_only_the_lines_it_draws(diary, monkeypatch):
    # prompt_toolkit's ANSI parser costs ~165 ms a megabyte: a 10 MB entry must not
    # go through it whole on opening or on a key (bench/bench_reader.py measures).
    long_entry(diary, 2000)
    parsed = []
    real = pager.ANSI

    def counting(text):
        parsed.append(len(text))
        return real(text)

    monkeypatch.setattr(pager, "ANSI", counting)
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER),
              ("paragraph 0000", "G"), ("paragraph 1999", "\x1b[5~"), ("paragraph 19", CTRL_C),
              ("All entries", CTRL_C), ("Write", "q"))
    assert s.code == 0
    whole = len(render.entry_ansi(entries.list_entries(diary)[0], 79))
    assert sum(parsed) < whole / 10


# --- one application for the session (issue 15, structure) ----------------------------------

def test_one_application_for_the_whole_session_and_keys_typed_ahead_go_in_order(
        diary, monkeypatch):
    add(diary, "read me", title="Typed ahead")
    shown = []
    real_show = tui.Terminal.show

    def show(term, screen):
        shown.append((term.app, screen.title))
        return real_show(term, screen)

    monkeypatch.setattr(tui.Terminal, "show", show)
    # The keys of four screens at once: Browse, read, back, back; then quit.
    s = drive(diary, ("Write a new entry", "b" + ENTER + CTRL_C + CTRL_C),
              (lambda t: len(shown) == 5, "q"))
    assert s.code == 0
    assert len({id(app) for app, _ in shown}) == 1
    assert [title for _, title in shown] == ["diary", "All entries · 1–1 of 1",
                                             "All entries · 1 of 1", "All entries · 1–1 of 1",
                                             "diary"]


def test_the_unlock_prompt_has_no_history_and_keeps_nothing(diary, monkeypatch):
    secrets = []
    real_init = tui.Secret.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        secrets.append(self.area.buffer)

    monkeypatch.setattr(tui.Secret, "__init__", init)
    drive(diary, ("Write a new entry", "l"), ("Write a new entry", "q"), answers=[PASSPHRASE])
    [buffer] = secrets
    assert buffer.text == "" and list(buffer.history.get_strings()) == []


# --- a draft through the idle lock (issue 15, defect 2) -------------------------------------

def test_ctrl_c_or_ctrl_d_at_the_unlock_prompt_asks_before_losing_a_draft(diary):
    clock = Clock()
    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "kept words"),
              ("kept words", lambda: clock.advance(601) or "x"),  # wakes and locks
              ("Passphrase:", CTRL_C), ("Quit? The draft stays encrypted in the diary", ENTER),
              (lambda t: "Passphrase:" in t and "Quit?" not in t, CTRL_D),
              ("Quit? The draft stays encrypted in the diary", "n"),
              (lambda t: "Passphrase:" in t and "Quit?" not in t, PASSPHRASE + ENTER),
              ("kept words", CTRL_S), ("Saved entry #1.", "q"),
              clock=clock, tick=60, lock_after=600)
    assert s.code == 0 and not s.saw("kept wordsx")
    assert [e.body for e in entries.list_entries(diary)] == ["kept words"]


def test_leaving_at_the_unlock_prompt_when_asked_to(diary):
    clock = Clock()
    wake = lambda: clock.advance(601) or "x"  # noqa: E731
    with pytest.raises(KeyboardInterrupt):  # exit 130; the draft kept in the diary (a lock)
        drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "draft"),
              ("draft", wake), ("Passphrase:", CTRL_C), ("the next start offers it", "y"),
              clock=clock, tick=60, lock_after=600)
    store.resume(diary, PASSPHRASE)
    assert [d.body for d in drafts.stored(diary)] == ["draft"]
    drafts.remove(diary, drafts.stored(diary)[0].key)
    with pytest.raises(menu.LockedOut):  # exit 3; no draft, nothing to ask
        drive(diary, ("Write a new entry", wake), ("Passphrase:", CTRL_D),
              clock=clock, tick=60, lock_after=600)
    store.resume(diary, PASSPHRASE)
    assert entries.count(diary) == 0


def test_esc_at_the_unlock_prompt_only_clears_what_was_typed(diary):
    # Found by the random-key test (seed 31): Esc at the lock's prompt ended
    # the program with exit 130, as if interrupted.
    s = drive(diary, ("Write a new entry", "l"), ("Passphrase:", "not it" + ESC),
              ("Cleared.", PASSPHRASE + ENTER), ("Write a new entry", "q"))
    assert s.code == 0
    assert entries.count(diary) == 0  # unlocked: the diary reads again


# --- a save that meets a database error (issue 15, defect 3) --------------------------------

def test_a_save_while_another_process_holds_the_write_lock_keeps_the_editor(diary, made):
    diary.db.execute_sql("PRAGMA busy_timeout = 50")  # not the default 10 s
    # A raw connection: a second store.Diary would bind the models to itself.
    other = store.keyed_connection(made, PASSPHRASE, store.KDF_ITER)
    other.execute("BEGIN IMMEDIATE")

    def release():
        other.execute("ROLLBACK")
        return " again" + CTRL_S

    try:
        s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "my words" + CTRL_S),
                  ("the diary is busy", release), ("Saved entry #1.", "q"))
    finally:
        other.close()
    assert s.code == 0 and s.saw("my words")
    assert [e.body for e in entries.list_entries(diary)] == ["my words again"]


def test_a_full_disk_keeps_the_editor_and_the_text(diary, monkeypatch):
    import peewee

    real = store.Entry.create

    def full(*a, **k):
        # as the driver raises it: with SQLite's result code (store.translate reads it)
        error = peewee.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13  # SQLITE_FULL
        raise error

    monkeypatch.setattr(store.Entry, "create", full)

    def room_again():
        monkeypatch.setattr(store.Entry, "create", real)
        return CTRL_S

    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "every word" + CTRL_S),
              ("the disk is full", room_again), ("Saved entry #1.", "q"))
    assert s.code == 0
    screen = next(x for x in s.driver.screens if "the disk is full" in x)
    assert "every word" in screen  # the editor, with the text
    assert [e.body for e in entries.list_entries(diary)] == ["every word"]


def test_a_passphrase_changed_elsewhere_is_asked_and_the_draft_saved(diary, made):
    def rekey_elsewhere():
        with store.open_diary(made, PASSPHRASE) as other:
            store.change_passphrase(other, "changed elsewhere")
        return CTRL_S

    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "precious"),
              ("precious", rekey_elsewhere),
              ("changed in another", "wrong" + ENTER), ("Wrong passphrase", CTRL_C),
              ("[y/N]", ENTER),  # the draft kept or not: written within a second or so
              (lambda t: "Passphrase:" in t and "[y/N]" not in t,
               "changed elsewhere" + ENTER),
              ("Saved entry #1.", "q"))
    assert s.code == 0
    assert [e.body for e in entries.list_entries(diary)] == ["precious"]


def test_a_passphrase_changed_while_E_s_editor_was_open_is_asked_and_the_text_saved(
        diary, made, monkeypatch):
    """E (the external editor): `diary passwd` elsewhere while the editor was
    open made every save fail with "wrong passphrase", and "Try again?" could
    only fail again: the text was lost. It is asked for, as Write does."""
    import os
    import tempfile

    from diary import editfile, editsave

    def edited_meanwhile(argv, environ, tmpdir, blocks, again, owner=None):
        with store.open_diary(made, PASSPHRASE) as other:
            store.change_passphrase(other, "changed elsewhere")
        return [editfile.Block(body="written in vim")]

    monkeypatch.setattr(editsave, "edit_until_parsed", edited_meanwhile)
    needs_tmpfs()
    runtime = tempfile.mkdtemp(prefix="test-menu-", dir="/dev/shm")  # no leftovers in it
    # three wrong tries do not end the session while the text waits in memory
    # (they did, and the text went with it); Ctrl-C asks first, and says the
    # text is not kept anywhere
    s = drive(diary, ("Write in your editor", "E"),
              ("changed in another", "wrong" + ENTER),
              ("Wrong passphrase", "wrong" + ENTER), ("Wrong passphrase", "wrong" + ENTER),
              ("Wrong passphrase", CTRL_C), ("Quit and throw away", ENTER),
              (lambda t: "Passphrase:" in t and "[y/N]" not in t,
               "changed elsewhere" + ENTER),
              ("Saved entry #1.", "q"),
              external={"argv": ["vim"], "environ": {"XDG_RUNTIME_DIR": runtime},
                        "tmpdir": None})
    os.rmdir(runtime)
    assert s.code == 0
    assert [e.body for e in entries.list_entries(diary)] == ["written in vim"]


# --- the idle lock at every prompt (issue 15, defect 4) -------------------------------------

def test_the_idle_lock_fires_at_every_prompt(diary):
    clock = Clock()
    away = lambda: clock.advance(601)  # noqa: E731  (the timer ticks every 10 ms here)
    s = drive(diary, ("Write a new entry", "p"), ("Current passphrase:", away),
              ("is locked", PASSPHRASE + ENTER), ("Current passphrase:", CTRL_C),
              ("Nothing changed.", CTRL_C), ("Quit diary? [y/N]", away),
              ("is locked", PASSPHRASE + ENTER), ("Quit diary? [y/N]", "y"),
              clock=clock, tick=0.01, lock_after=600)
    assert s.code == 0
    # Away at the Change passphrase prompt, then Ctrl-C: the locked prompt ends the
    # session (exit 130); the unlocked menu never comes back.
    with pytest.raises(KeyboardInterrupt):
        s = drive(diary, ("Write a new entry", "p"), ("Current passphrase:", away),
                  ("is locked", CTRL_C), clock=clock, tick=0.01, lock_after=600)
    assert diary.db._passphrase is None


# --- resizing (issue 15, defect 7) ----------------------------------------------------------

def test_every_screen_redraws_at_40x12_and_below_asks_for_a_bigger_window(diary):
    long_entry(diary)
    add(diary, "tagged", tags=["health/running"])
    out = SizedOutput(80, 40)

    def size(columns, rows, keys):
        def step():
            out.resize(columns, rows)
            return keys
        return step

    def fits(*words):
        return lambda t: (all(w in t for w in words) and len(t.splitlines()) <= out.size.rows
                          and all(len(line) <= out.size.columns for line in t.splitlines()))

    s = drive(diary, ("Write a new entry", size(40, 12, "j")),
              (fits("diary.db · 2 entries", "Browse entries"), size(39, 12, "j")),
              ("diary needs at least 40x12", size(40, 11, "b")),  # keys do nothing there
              ("diary needs at least 40x12", size(40, 12, None)),
              (fits("Browse entries"), "b"), (fits("All entries · 1–2 of 2"), ENTER),
              (fits("All entries · 1 of 2"), "G"), (fits("Esc back"), CTRL_C),
              (fits("1–2 of 2"), CTRL_C), (fits("Browse"), "w"),
              (fits("New entry", "Title"), "T" + TAB + "2024-03-02 21:30" + TAB),
              (fits("2024-03-02 21:30"), CTRL_C), (fits("Throw away"), "y"),
              (fits("Browse"), "/"), (fits("Search:"), "tagged" + ENTER),
              (fits("1–1 of 1"), ESC), (fits("Search:"), ESC), (fits("Browse"), "t"),
              (fits("health"), CTRL_C), (fits("Browse"), "c"), (fits("Calendar"), "y"),
              (fits("Calendar"), CTRL_C), (fits("c   Calendar"), "q"), output=out)
    assert s.code == 0


def test_a_window_too_small_types_nothing_into_the_editor(diary):
    # The screen's own keys were off below 40x12, but the focused field still
    # took every letter: typed blind into the draft (and Esc, Enter, Tab moved
    # about unseen). Only Ctrl-C and Ctrl-D act there, as the README says.
    out = SizedOutput(80, 40)

    def size(columns, rows, keys):
        def step():
            out.resize(columns, rows)
            return keys
        return step

    s = drive(diary, ("Write a new entry", "w"), ("New entry", "kept" + ENTER + "body"),
              ("body", size(30, 10, "unseen" + TAB + ENTER + "more")),
              ("diary needs at least 40x12", size(80, 40, None)),
              (lambda t: "New entry" in t and "body" in t, CTRL_S),
              ("Saved entry #1.", "q"), output=out)
    assert s.code == 0
    saved = entries.list_entries(diary)[0]
    assert (saved.title, saved.body) == ("kept", "body")


def test_footer_hints_wrap_between_hints_and_the_date_field_keeps_room_at_45(diary):
    out = SizedOutput(45, 14)
    s = drive(diary, ("Write a new entry", "w"),
              ("New entry", TAB + "2024-03-02 21:30" + TAB),
              ("Tags", CTRL_C), ("Throw away", "y"), ("Write", "q"), output=out)
    editor = next(x for x in s.driver.screens if "2024-03-02 21:30" in x)
    assert re.search(r"^ Date +2024-03-02 21:30", editor, re.M)
    lines = editor.splitlines()
    footer = "\n".join(lines[lines.index(next(x for x in lines if "Ctrl-S save" in x)):])
    hints = set(editor_module.FOOTER.split(" · "))
    for line in footer.splitlines():
        assert set(line.strip().split(" · ")) <= hints, line  # never cut inside a hint


# --- lists and the editor (issue 15, defect 9) ----------------------------------------------

def test_down_from_a_pages_last_row_goes_on_to_the_next_page_and_up_comes_back(diary):
    many(diary, 25)
    PGDN, PGUP, HOME, END = "\x1b[6~", "\x1b[5~", "\x1b[H", "\x1b[F"

    def at(span, title):
        return lambda t: span in t and re.search(r"›.*%s$" % title, t, re.M)

    s = drive(diary, ("Write a new entry", "b"), (at("1–20 of 25", "Entry 24"), DOWN * 19),
              (at("1–20 of 25", "Entry 5"), DOWN), (at("21–25 of 25", "Entry 4"), UP),
              (at("1–20 of 25", "Entry 5"), PGDN), (at("21–25 of 25", "Entry 4"), PGUP),
              (at("1–20 of 25", "Entry 5"), HOME + PGUP),  # no page before: stays
              (at("1–20 of 25", "Entry 24"), "n" + END + DOWN),  # no page after: stays
              (at("21–25 of 25", "Entry 0"), CTRL_C), ("Write", "q"))
    assert s.code == 0


def test_tab_in_tags_completes_any_segment_of_a_path(diary):
    add(diary, "x", tags=["health/running", "work/acme/meetings"])
    drive(diary, ("Write a new entry", "w"),
          ("New entry", "T" + TAB + TAB + "running" + TAB + ", meet" + TAB + ENTER + "y"
           + CTRL_S), ("Saved entry #2.", "q"))
    assert entries.get(diary, 2).tag_list == ["health/running", "work/acme/meetings"]


def test_esc_in_the_editor_does_what_ctrl_c_does(diary):
    s = drive(diary, ("Write a new entry", "w"), ("New entry", ESC), ("Write a new entry", "w"),
              ("New entry", ENTER + "words" + ESC), ("Throw away what you wrote here?", "n"),
              (lambda t: "words" in t and "Throw" not in t, ESC), ("Throw away", "y"),
              ("Write a new entry", "q"))
    assert s.code == 0 and entries.count(diary) == 0


def test_enter_on_a_calendar_day_lists_its_entries(diary):
    now = dates.parse("2025-06-15 12:00")
    for when, body in (("2025-06-14 08:00", "the day before"), ("2025-06-15 07:00", "today"),
                       ("2025-05-31 23:00", "end of may")):
        add(diary, body, created_at=dates.parse(when))
    s = drive(diary, ("Write a new entry", "c"), ("June 2025", LEFT + ENTER),
              ("Saturday 14 June 2025 · 1–1 of 1", CTRL_C), ("June 2025", UP + "n"),
              ("July 2025", "p" + "p"), ("May 2025", "t"), ("June 2025", "\x1b[6~"),  # PgDn
              ("July 2025", "t" + RIGHT + ENTER), ("Monday 16 June 2025 · none", CTRL_C),
              ("June 2025", "y"), (lambda t: "Jan" in t and "Mo  " in t, "m"),
              ("June 2025", "t" + "k" * 2 + "h" + ENTER),  # up two weeks, back a day
              ("Saturday 31 May 2025 · 1–1 of 1", CTRL_C), ("May 2025", CTRL_C),
              ("Write", "q"), now=lambda: now)
    assert s.code == 0
    day = next(x for x in s.driver.screens if "Saturday 14 June 2025 · 1–1" in x)
    assert "the day before" in day and "today" not in day.split("─")[-1]


def test_the_calendar_stops_at_the_edges_of_the_diary_range(diary):
    # Paging on past December 9998 drew the year 9999 and then crashed the menu
    # (ValueError: year 10000 is out of range); before year 1000 it went on to
    # years no entry can have. The calendar stays within 1000..9998.
    now = dates.parse("9998-11-15 12:00")
    s = drive(diary, ("Write a new entry", "c"), ("November 9998", "n"),
              ("December 9998", "n" + "n"), ("December 9998", "t" + "j" * 8 + "l" * 7),
              ("December 9998", "y"), (lambda t: "Jan" in t and "Mo  " in t, "n"),
              ("9998\n", "n" + "m"), ("December 9998", ENTER),
              ("Thursday 31 December 9998", CTRL_C), ("December 9998", CTRL_C),
              ("Write", "q"), now=lambda: now)
    assert s.code == 0 and not s.saw("9999")
    now = dates.parse("1000-02-15 12:00")
    s = drive(diary, ("Write a new entry", "c"), ("February 1000", "p"),
              ("January 1000", "p" + "p"), ("January 1000", "y"),
              (lambda t: "Jan" in t and "Mo  " in t, "p" + "p" + "m"), ("January 1000", CTRL_C),
              ("Write", "q"), now=lambda: now)
    assert s.code == 0 and not any(re.search(r"\b999\b", x) for x in s.driver.screens)


def test_a_key_that_follows_esc_at_once_goes_to_the_next_screen(diary):
    # "\x1bn" reads as Esc then n (no binding has both): Esc asks, n answers it.
    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "words"),
              ("words", ESC + "n"), (lambda t: "words" in t and "Throw" not in t, CTRL_S),
              ("Saved entry #1.", "q"))
    assert s.code == 0 and [e.body for e in entries.list_entries(diary)] == ["words"]


def test_a_lock_at_the_throw_away_question_still_knows_the_draft(diary):
    clock = Clock()
    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "behind" + CTRL_C),
              ("Throw away what you wrote here?", lambda: clock.advance(601) or "x"),
              ("Passphrase:", CTRL_C), ("Quit? The draft stays encrypted", "n"),
              (lambda t: "Passphrase:" in t and "Quit" not in t, PASSPHRASE + ENTER),
              ("Throw away what you wrote here?", "n"), ("behind", CTRL_S),
              ("Saved entry #1.", "q"), clock=clock, tick=60, lock_after=600)
    assert s.code == 0 and [e.body for e in entries.list_entries(diary)] == ["behind"]


def test_the_reader_scrolls_from_a_tag_list_search_results_and_on_this_day(diary):
    now = dates.parse("2025-06-15 12:00")
    add(diary, "\n\n".join("paragraph %03d" % i for i in range(120)), title="Long",
        tags=["long/read"], created_at=dates.parse("2024-06-15 08:00"))
    end = "paragraph 119"
    s = drive(diary, ("Write a new entry", "t"), ("long", ENTER), ("#long · 1–1 of 1", ENTER),
              ("paragraph 000", "G"), (end, CTRL_C), ("#long", CTRL_C), ("Tags", CTRL_C),
              ("Write a new entry", "/"), ("Search:", "paragraph" + ENTER),
              ("1–1 of 1", ENTER), ("paragraph 000", " " * 50), (end, ESC), ("1–1 of 1", ESC),
              ("Search:", ESC), ("Write a new entry", "o"), ("On this day", ENTER),
              ("paragraph 000", "\x1b[F"), (end, ESC), ("On this day", ESC), ("Write", "q"),
              now=lambda: now)
    assert s.code == 0


def test_the_calendar_starts_its_weeks_on_the_configured_day(run, made, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('week_start = "sunday"\n')
    r = run_menu(run, ("Write a new entry", "c"), (" Su  Mo  Tu  We  Th  Fr  Sa", "q"),
                 ("Calendar and statistics", "q"), environ={"DIARY_CONFIG": str(config)})
    assert r.code == 0, r


def test_the_menus_mixins_define_no_method_twice():
    """Menu is assembled from mixins (screens, drafts, trash...): a method of one
    name in two of them silently hides one (the trash's restore once hid the
    drafts' restore, so restoring a draft crashed)."""
    seen = {}
    for cls in menu.Menu.__mro__[:-1]:
        for name in vars(cls):
            if not name.startswith("__"):
                assert name not in seen or seen[name] is cls, (
                    "%s is defined by both %s and %s" % (name, seen[name].__name__, cls.__name__))
                seen.setdefault(name, cls)


def test_write_offers_the_templates_when_any_exist(diary, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "evening.txt").write_text("Evening of {weekday}. {name}")
    s = drive(diary, ("Write a new entry", "w"), ("(blank)", DOWN + ENTER),
              ("New entry", CTRL_S), ("Saved entry #1.", "w"), ("(blank)", ENTER),
              ("New entry", "plain" + CTRL_S), ("Saved entry #2.", "q"),
              templates_dir=str(folder))
    assert s.saw("evening.txt")
    first, second = entries.list_entries(diary, newest_first=False)
    assert first.body == "Evening of %s. {name}" % dates.now().strftime("%A")
    assert (second.title, second.body) == ("plain", "")  # typed into the title
    # no templates: Write goes straight to the editor; no editor set: no E
    s = drive(diary, ("Write a new entry", "w"), ("New entry", CTRL_C), ("Write a new", "q"),
              templates_dir=str(tmp_path / "none"))
    assert not s.saw("(blank)") and not s.saw("Write in your editor")


@pytest.mark.parametrize("answers, kept, saved", [("y", False, True), ("nn", True, False),
                                                  ("ny", False, False)])
def test_the_menu_offers_what_a_killed_editor_session_left(diary, answers, kept, saved):
    """At the start (an editor set): save as an entry tagged `recovered`, throw
    away, or keep for later; saved or thrown away, the directory is wiped."""
    import os
    import shutil
    import tempfile

    needs_tmpfs()
    runtime = tempfile.mkdtemp(prefix="test-menu-", dir="/dev/shm")
    try:
        left = os.path.join(runtime, "diary-edit-%d-abc" % (2 ** 22 + 4321))  # no such pid
        os.mkdir(left, 0o700)
        with open(os.path.join(left, "entry.txt"), "w") as f:
            f.write("--- diary entry new [ab12ab12] ---\n\nwritten before a SIGKILL\n")
        steps = [("did not finish", answers[0])]
        if len(answers) > 1:
            steps.append(("Throw that text away?", answers[1]))
        s = drive(diary, *steps, ("Write in your editor", "q"),
                  external={"argv": ["vim"], "environ": {"XDG_RUNTIME_DIR": runtime},
                            "tmpdir": None})
        assert s.code == 0
        assert os.path.exists(left) == kept
        found = entries.list_entries(diary)
        if saved:
            [e] = found
            assert "written before a SIGKILL" in e.body and e.tag_list == ["recovered"]
        else:
            assert found == []
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def test_the_idle_lock_counts_the_time_the_machine_slept(monkeypatch):
    """The idle lock ran on CLOCK_MONOTONIC, which stands still while the
    machine is suspended: a laptop closed for the night with the diary open
    woke showing it, its idle time barely begun, and the first key was not
    taken for the lock."""
    import time

    from diary import tui

    asleep = [0.0]
    real = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda clk: real(clk) + (
        asleep[0] if clk == getattr(time, "CLOCK_BOOTTIME", None) else 0.0))
    terminal = tui.Terminal(lock_after=600)
    assert not terminal.idle()
    asleep[0] = 8 * 3600  # a night suspended
    assert terminal.idle()
