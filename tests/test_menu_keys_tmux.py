"""Every key the README lists, on every screen, in a real terminal (tmux).

The diary's entries are 200 lines long, longer than any screen, so every scroll
key has work to do; the window is resized in the middle of each screen (to
40x12, 45x14 and back to 100x30, the smallest size the menu promises to draw
correctly is 40x12). After each key the program must be alive and the screen
must show what that key promises: the entry's last line after End, the next
entry after `n`, the draft intact after resizes. DummyOutput tests never draw,
so only a real terminal catches a crash in drawing or scrolling.
"""

import calendar
import datetime
import json

import pytest

from tmux_driver import (PASSPHRASE, Tmux, clean_env, copy_diary, main_menu, needs_tmux,
                         run_cli, visible_lines)

SIZES = ((40, 12), (45, 14), (100, 30))


@pytest.fixture
def term(tmp_path):
    needs_tmux()
    t = Tmux(tmp_path)
    yield t
    t.kill()


@pytest.fixture
def menu(term, tmp_path, long_diary):
    """The menu open on a copy of the long diary, at 100x30, never locking by itself."""
    term.db = str(tmp_path / "d" / "diary.db")
    term.home = tmp_path
    copy_diary(long_diary, term.db)
    term.start_diary(term.db, clean_env(tmp_path, DIARY_PASSPHRASE=PASSPHRASE),
                     "--lock-after", "0")
    term.wait(main_menu)
    return term


def first_row(screen):
    return screen.splitlines()[0] if screen.strip() else ""


def selected(screen):
    """The text of the list's selected row (marked ›); "" unless there is exactly one
    (while another screen is still drawn, or when stale rows are left over)."""
    rows = [row for row in screen.splitlines() if row.lstrip().startswith("›")]
    return rows[0] if len(rows) == 1 else ""


def select_row(term, text, key="Down"):
    """Press ``key`` until the selected row shows ``text``."""
    for _ in range(50):
        if text in selected(term.settle()):
            return
        term.press(key)
    raise AssertionError("%s never selected %r:\n%s" % (key, text, term.screen()))


def shows_lines(*numbers):
    return lambda screen: all(n in visible_lines(screen) for n in numbers)


def hides_line(n):
    return lambda screen: visible_lines(screen) and n not in visible_lines(screen)


def scrolled(before, direction):
    """The screen's body lines moved ``direction`` (+1 down the text, -1 up) from ``before``."""
    def done(screen):
        now = visible_lines(screen)
        return now and (max(now) - max(before)) * direction > 0
    return done


def check_reader_scroll_keys(term, entry):
    """Every scroll key of the reader, on entry ``entry`` (its lines say 'of entry NN')."""
    tag = "of entry %02d" % entry
    term.press("Home")
    screen = term.wait(shows_lines(1))
    assert tag in screen
    term.press("End")
    term.wait(shows_lines(200))
    term.wait(hides_line(1))
    term.press("Home")
    term.wait(shows_lines(1))
    term.press("G")
    term.wait(shows_lines(200))
    term.press("g")
    screen = term.wait(shows_lines(1))
    for key, direction in (("Down", 1), ("j", 1), ("PageDown", 1), ("Space", 1),
                           ("Up", -1), ("k", -1), ("PageUp", -1), ("b", -1)):
        if key == "PageUp":  # room to go back a whole page
            for _ in range(2):  # one at a time: the first redraw must not pass for both
                term.press("PageDown")
                screen = term.wait(scrolled(visible_lines(screen), 1))
        term.press(key)
        screen = term.wait(scrolled(visible_lines(screen), direction))
    # A page is (nearly) a screenful, never a line.
    top = min(visible_lines(screen))
    term.press("PageDown")
    screen = term.wait(lambda s: min(visible_lines(s) or [0]) > top)
    assert min(visible_lines(screen)) - top >= 10, screen


def test_reader_every_key_and_resizes(menu):
    term = menu
    term.press("b")
    term.wait("Entry 01")
    term.press("Enter")
    term.wait(shows_lines(1))
    check_reader_scroll_keys(term, 1)

    # Resized while reading: the text is redrawn at the new width, and keys still work.
    for width, height in SIZES:
        term.resize(width, height)
        # Redrawn whole: the header on top (no stale row), the text below it.
        term.wait(lambda s: first_row(s).strip().startswith("All entries")
                  and visible_lines(s) and "of entry 01" in s)
        term.press("End")
        term.wait(shows_lines(200))
        term.press("Home")
        term.wait(shows_lines(1))
    term.resize(40, 12)
    term.press("PageDown")
    term.wait(hides_line(1))
    term.resize(100, 30)
    term.press("End")
    screen = term.wait(shows_lines(200))
    assert "of entry 01" in screen

    # n/→ next (older) entry, p/← previous.
    for key, entry in (("n", 2), ("Right", 3), ("p", 2), ("Left", 1)):
        term.press(key)
        term.wait("of entry %02d" % entry)
    term.press("End")
    term.wait(shows_lines(200))

    # s stars and unstars, t changes tags, e edits, d deletes (asking first).
    term.press("s")
    term.wait("Starred.")
    term.press("s")
    term.wait("Star removed.")
    term.press("t")
    term.wait("Tags:")
    term.press("Escape")
    term.wait("of entry 01")
    term.press("e")
    screen = term.wait("Ctrl-S")
    assert "Entry 01" in screen
    term.press("C-c")  # nothing changed: back without a question
    term.wait(lambda s: "of entry 01" in s and "Ctrl-S" not in s)
    term.press("d")
    term.wait("Move entry")
    term.press("n")
    term.wait(lambda s: "of entry 01" in s and "Move entry" not in s)
    term.press("PageDown")
    term.wait(hides_line(1))

    # Esc back to the list, Ctrl-C back to the menu.
    term.press("Escape")
    screen = term.wait(lambda s: "Entry 02" in s and "Entry 03" in s)
    assert "Entry 01" in selected(screen)
    term.press("C-c")
    term.wait(main_menu)
    term.assert_alive()
    entry = json.loads(run_cli(term.db, "show", "1", "--json", home=term.home).stdout)[0]
    assert entry["starred"] is False and entry["title"] == "Entry 01"


def open_from_search(term):
    term.press("/")
    term.wait("Search:")
    term.type("07")
    term.press("Enter")
    term.wait("1–1 of 1")
    term.press("Enter")
    return 7


def open_from_tag(term):
    term.press("t")
    term.wait("memories")
    select_row(term, "memories")
    term.press("Enter")
    term.wait("Anniversary 1")
    term.press("Enter")
    return 91


def open_from_on_this_day(term):
    term.press("o")
    term.wait("Anniversary 1")
    term.press("Enter")
    return 91


@pytest.mark.parametrize("open_reader", [open_from_search, open_from_tag, open_from_on_this_day],
                         ids=["search-results", "tag-list", "on-this-day"])
def test_reader_scroll_keys_from_every_list(menu, open_reader):
    term = menu
    entry = open_reader(term)
    term.wait("of entry %02d" % entry)
    check_reader_scroll_keys(term, entry)
    term.resize(40, 12)
    term.wait(lambda s: "of entry %02d" % entry in s)
    term.press("End")
    term.wait(shows_lines(200))
    term.resize(100, 30)
    term.wait(shows_lines(200))
    term.press("Escape")  # back to the list it came from
    term.wait(lambda s: selected(s))  # (a list's rows show the start of each entry)
    term.press("C-c")
    term.assert_alive()


def test_lists_every_key_and_resizes(menu):
    term = menu
    term.press("b")
    screen = term.wait("1–20 of 45")
    assert "Entry 01" in selected(screen)
    for key, title in (("Down", "Entry 02"), ("j", "Entry 03"), ("Up", "Entry 02"),
                       ("k", "Entry 01"), ("PageDown", None), ("PageUp", "Entry 01"),
                       ("End", "Entry 20"), ("Home", "Entry 01")):
        term.press(key)
        if title:
            term.wait(lambda s: title in selected(s))
        else:
            term.wait(lambda s: "Entry 01" not in selected(s))
    for key, span in (("n", "21–40 of 45"), ("Right", "41–45 of 45"), ("p", "21–40 of 45"),
                      ("Left", "1–20 of 45"), ("n", "21–40 of 45")):
        term.press(key)
        term.wait(span)
    screen = term.wait(lambda s: "Entry 21" in selected(s))

    # Resized: the selection and the page stay, the list is drawn at the new size.
    for width, height in SIZES:
        term.resize(width, height)
        screen = term.wait(lambda s: "Entry 21" in selected(s))
        assert "21–40 of 45" in screen
        term.press("End")
        term.wait(lambda s: "Entry 40" in selected(s))
        term.press("Home")
        term.wait(lambda s: "Entry 21" in selected(s))
    term.resize(40, 12)
    term.press("End")  # the selection stays on the smaller screen
    term.wait(lambda s: "Entry 40" in selected(s))
    term.resize(100, 30)
    term.press("Enter")
    term.wait(lambda s: "of entry 40" in s)
    term.press("Escape")
    term.wait(lambda s: "Entry 40" in selected(s))
    term.press("Escape")
    term.wait(main_menu)
    term.assert_alive()


def test_editor_keys_keep_the_draft_through_resizes(menu):
    term = menu
    term.press("w")
    term.wait("New entry")
    term.type("Draft title")
    term.press("Tab")  # to Date
    term.type("2024-03-02 21:30")
    term.press("Tab")  # to Tags
    term.type("work/ac")
    term.press("Tab")  # completes the one tag path it can be
    term.wait("work/acme")
    term.type(", home")
    term.press("Tab")  # nothing to complete: on to the text
    body = ["draft line %02d" % i for i in range(1, 6)]
    for n, line in enumerate(body):
        term.type(line)
        if n < len(body) - 1:
            term.press("Enter")
    term.wait("draft line 05")
    term.press("BTab")  # back to Tags
    term.press("Enter")  # Enter in a one-line field jumps to the text
    term.type(" end")

    def intact(screen):
        return all(line in screen for line in body[:-1]) and "draft line 05 end" in screen

    for width, height in SIZES:
        term.resize(width, height)
        # Redrawn whole: the heading on top (no stale row over it), the draft's last line.
        term.wait(lambda s: first_row(s).strip().startswith("New entry")
                  and "line 05 end" in s.split("─")[-1])
    screen = term.wait(intact)
    assert "Draft title" in screen and "work/acme, home" in screen
    assert first_row(screen).strip().startswith("New entry"), screen  # no stale rows

    # Ctrl-C asks before throwing the draft away; Enter (or n) keeps writing.
    term.press("C-c")
    term.wait("Throw away")
    term.press("Enter")
    term.wait(intact)
    term.press("C-c")
    term.wait("Throw away")
    term.press("n")
    term.wait(intact)
    # Esc too (the README: Esc goes back everywhere, the editor asks first).
    term.press("Escape")
    term.wait("Throw away")
    term.press("n")
    screen = term.wait(intact)
    term.resize(45, 14)
    term.settle()
    term.resize(100, 30)
    term.wait(intact)

    term.press("C-s")
    term.wait("Saved entry #46")
    term.wait(main_menu)
    saved = json.loads(run_cli(term.db, "show", "46", "--json", home=term.home).stdout)[0]
    assert saved["title"] == "Draft title"
    assert saved["body"] == "\n".join(body) + " end"
    assert sorted(saved["tags"]) == ["home", "work/acme"]
    when = datetime.datetime.fromisoformat(saved["created_at"]).astimezone()
    assert when.strftime("%Y-%m-%d %H:%M") == "2024-03-02 21:30"
    # q at the menu quits, and the terminal is left as it was.
    term.press("q")
    assert term.wait_exit() == 0
    assert "error" not in term.history()


def test_search_every_key(menu):
    term = menu
    term.press("/")
    term.wait("Search:")
    term.type("entry")
    term.press("Enter")
    screen = term.wait("1–20 of 45")
    for key, span in (("n", "21–40 of 45"), ("Right", "41–45 of 45"), ("p", "21–40 of 45"),
                      ("Left", "1–20 of 45")):
        term.press(key)
        term.wait(span)
    top = selected(screen)
    for key, moved in (("Down", True), ("j", True), ("k", True), ("Up", False),
                       ("End", True), ("Home", False), ("PageDown", True), ("PageUp", False)):
        term.press(key)
        screen = term.wait(lambda s: (selected(s) != top) == moved)
        if key in ("j", "k"):
            term.resize(*((40, 12) if key == "j" else (100, 30)))
            term.wait(selected)
    # / goes back to the query, to refine it; so does Esc.
    term.press("/")
    term.wait("Search: entry")
    term.press("C-u")
    term.type("07")
    term.press("Enter")
    term.wait("1–1 of 1")
    term.press("Enter")
    term.wait("of entry 07")
    term.press("Escape")
    term.wait("1–1 of 1")
    term.press("Escape")
    term.wait("Search: 07")
    term.press("Escape")
    term.wait(main_menu)
    # ↑ recalls earlier queries, newest first.
    term.press("s")
    term.wait("Search:")
    term.press("Up")
    term.wait("Search: 07")
    term.press("Up")
    term.wait("Search: entry")
    term.press("Down")
    term.wait("Search: 07")
    term.press("Enter")
    term.wait("1–1 of 1")
    term.press("C-c")
    term.wait("Search:")
    term.press("C-c")
    term.wait(main_menu)
    term.assert_alive()


def test_tags_and_on_this_day_every_key(menu):
    term = menu
    term.press("t")
    screen = term.wait("memories")
    assert "acme" in screen and "running" in screen
    term.press("Down", "j", "Up", "k", "End", "Home")
    term.settle()
    term.resize(40, 12)
    term.wait(selected)
    term.resize(100, 30)
    term.wait(selected)
    select_row(term, "memories")
    term.press("Enter")
    screen = term.wait("1–3 of 3")
    assert "Anniversary 1" in screen and "Entry 01" not in screen
    term.press("Escape")
    term.wait(lambda s: "memories" in selected(s))
    term.press("Escape")
    term.wait(main_menu)

    term.press("o")
    screen = term.wait("1 year ago")
    assert "2 years ago" in screen and "3 years ago" in screen and "Entry 01" not in screen
    term.resize(45, 14)
    term.wait(selected)
    term.resize(100, 30)
    term.press("Enter")
    term.wait("of entry 91")
    term.press("Escape")
    term.wait("1 year ago")
    term.press("Escape")
    term.wait(main_menu)
    term.assert_alive()


def test_calendar_every_key(menu):
    term = menu
    today = datetime.date.today()
    this_month = calendar.month_name[today.month]
    last_month = calendar.month_name[(today.month - 2) % 12 + 1]
    next_month = calendar.month_name[today.month % 12 + 1]
    term.press("c")
    term.wait(this_month)
    for key, month in (("p", last_month), ("n", this_month), ("PageUp", last_month),
                       ("PageDown", this_month), ("n", next_month), ("t", this_month)):
        term.press(key)
        term.wait(lambda s: month in s and (month == this_month or this_month not in s))
    # The arrows (and h/j/k/l) move the selected day; Enter lists its entries.
    for key in ("Left", "Right", "Up", "Down", "h", "l", "k", "j"):
        term.press(key)
    term.wait(lambda s: this_month in s)
    term.press("Enter")
    term.wait(lambda s: str(today.year) in first_row(s) and "Calendar" not in first_row(s))
    term.press("Escape")
    term.wait(lambda s: first_row(s).strip().startswith("Calendar"))
    term.press("y")
    screen = term.wait(lambda s: all(calendar.month_abbr[m] in s for m in (1, 6, 12)))
    for width, height in SIZES:
        term.resize(width, height)
        term.wait(lambda s: first_row(s).strip().startswith("Calendar")
                  and str(today.year) in s)
    term.press("m")
    term.wait(this_month)
    term.press("Escape")
    term.wait(main_menu)
    term.assert_alive()


def test_passphrase_lock_and_quit_keys(menu):
    term = menu
    # Change passphrase: Ctrl-C at its prompt changes nothing.
    term.press("p")
    term.wait("Current passphrase:")
    term.resize(40, 12)
    term.press("C-c")
    term.wait(main_menu)
    term.resize(100, 30)
    screen = term.wait(main_menu)
    assert "Nothing changed" in screen

    # Lock: the menu is gone from the screen until the passphrase is given.
    term.press("l")
    screen = term.wait("Passphrase:")
    assert "is locked" in screen and not main_menu(screen) and "Entry 01" not in screen
    term.resize(45, 14)
    term.type(PASSPHRASE)
    term.press("Enter")
    term.wait(main_menu)
    term.resize(100, 30)

    # Ctrl-C at the menu asks whether to quit; n stays, Esc asks too.
    term.press("C-c")
    term.wait("Quit diary?")
    term.press("n")
    term.wait(main_menu)
    term.press("Escape")
    term.wait("Quit diary?")
    term.press("Escape")
    term.wait(main_menu)
    # ↑↓ and Enter open the selected action.
    select_row(term, "Browse entries", key="Up")
    term.press("Enter")
    term.wait("1–20 of 45")
    # Ctrl-D quits from anywhere, at once, and the terminal is restored.
    term.press("C-d")
    assert term.wait_exit() == 0
    screen = term.history()
    assert not main_menu(screen) and "Traceback" not in screen and "error" not in screen


def test_E_writes_and_edits_in_the_external_editor(term, tmp_path, long_diary):
    """`E` (shown only when an editor is set): at the main menu a new entry, in the
    reader the entry read, each in the editor (tests/fake_editor.py as vim) on a
    private tmpfs file; back in the menu, saved."""
    from test_cli_editor import Editor

    editor = Editor(tmp_path)
    try:
        db = str(tmp_path / "d" / "diary.db")
        copy_diary(long_diary, db)
        env = clean_env(tmp_path, DIARY_PASSPHRASE=PASSPHRASE, **editor.environ("vim"))
        editor.act({"sub": [["^title:$", "title: Written in vim"]], "append": "From E."},
                   {"sub": [["^From E\\.$", "Edited in vim."]]})
        term.start_diary(db, env, "--lock-after", "0")
        term.wait("Write in your editor")
        term.press("E")
        term.wait("Saved entry #")
        term.wait(main_menu)
        term.press("b")
        term.wait("Written in vim")
        term.press("Enter")  # the newest: the entry just written
        term.wait("E in your editor")
        term.press("E")
        term.wait(lambda s: "Saved entry #" in s and "Edited in vim." in s)
        first, second = editor.runs()
        assert first["fs"] == second["fs"] == "tmpfs" and second["file_mode"] == 0o600
        new_id = json.loads(run_cli(db, "list", "-n", "1", "--json", home=tmp_path).stdout)[0]["id"]
        assert "--- diary entry %d [" % new_id in second["text"]
        assert editor.left() == []
        term.press("Escape")
        term.press("Escape")
        term.wait(main_menu)
        term.press("q")
        term.wait_exit()
        r = run_cli(db, "show", str(new_id), "--json", home=tmp_path)
        record = json.loads(r.stdout)[0]
        assert (record["title"], record["body"]) == ("Written in vim", "\nEdited in vim.")
    finally:
        import shutil

        shutil.rmtree(editor.runtime, ignore_errors=True)
