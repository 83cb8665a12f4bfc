"""End to end: the real program in a real terminal (tmux), as a new user meets it.

First run creates the diary, two entries are written with tags, a search finds
one, the result is opened, the diary is locked and unlocked, and the program
quits, leaving the terminal as it found it. The key derivation is the real one
(256,000 iterations): every wait polls the screen with a generous timeout.
"""

import pytest

from tmux_driver import Tmux, clean_env, diary_command, needs_tmux

PASSPHRASE = "tmux test passphrase"


@pytest.fixture
def term(tmp_path):
    needs_tmux()
    t = Tmux(tmp_path)
    yield t
    t.kill()


def test_a_new_user_in_a_real_terminal(term, tmp_path):
    db = str(tmp_path / "home" / "diary.db")
    term.start(diary_command() + ["--diary", db], clean_env(tmp_path), width=100, height=32)

    # First run: a welcome, then the passphrase twice.
    screen = term.wait("New passphrase:")
    assert "Welcome to diary" in screen
    term.type(PASSPHRASE)
    term.press("Enter")
    term.wait("Repeat it:")
    term.type(PASSPHRASE)
    term.press("Enter")
    screen = term.wait("Write a new entry")
    assert "diary.db · 0 entries" in screen and PASSPHRASE not in screen

    # Two entries with tags.
    for title, tags, body in (("Morning run", "health/running", "Ran 12 km by the river."),
                              ("Team meeting", "work/acme", "Planned the spring release.")):
        term.type("w")
        term.wait("New entry")
        term.type(title)
        term.press("Tab", "Tab")
        term.type(tags)
        term.press("Tab")
        term.type(body)
        term.press("C-s")
        term.wait("Saved entry #")
    screen = term.wait("2 entries")

    # Search, see the highlighted result, open it.
    term.type("/")
    term.wait("Search:")
    term.type("river")
    term.press("Enter")
    screen = term.wait("1–1 of 1")
    assert "Morning run" in screen and "river" in screen and "Team meeting" not in screen
    assert " 1 match." in screen  # what was searched, as the CLI says it
    term.press("Enter")
    screen = term.wait("Search “river” · 1 of 1")  # the reader
    assert "Ran 12 km by the river." in screen and "#health/running" in screen
    term.press("Escape")
    term.wait("Search “river” · 1–1 of 1")
    term.press("Escape")
    term.wait("Search: river")  # back to the query, to refine it
    term.press("Escape")
    term.wait("Write a new entry")

    # Lock: the screen is cleared and the passphrase asked; unlock.
    term.type("l")
    screen = term.wait("Passphrase:")
    assert "is locked" in screen and "Write a new entry" not in screen
    assert "Morning run" not in screen
    term.type(PASSPHRASE)
    term.press("Enter")
    term.wait("Write a new entry")

    # Quit: exit status 0, and the terminal is back to the normal screen.
    term.type("q")
    term.wait(lambda s: term.exit_status() is not None, timeout=10)
    assert term.exit_status() == 0
    screen = term.screen()
    assert "Write a new entry" not in screen and "Keep your passphrase safe" in screen
    assert "Traceback" not in screen
