"""End to end: the real program in a real terminal (tmux), as a new user meets it.

First run creates the diary, two entries are written with tags, a search finds
one, the result is opened, the diary is locked and unlocked, and the program
quits, leaving the terminal as it found it. The key derivation is the real one
(256,000 iterations): every wait polls the screen with a generous timeout.
"""

import os
import subprocess
import sys
import time

import pytest

from conftest import needs_tool

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSPHRASE = "tmux test passphrase"



class Tmux:
    def __init__(self, tmp_path):
        self.socket = str(tmp_path / "tmux.sock")
        self.status_file = str(tmp_path / "exit-status")
        self.target = "diary-e2e"

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=30)

    def start(self, command, env):
        exports = " ".join("%s=%s" % (k, shlex_quote(v)) for k, v in env.items())
        # The shell records the exit status: tmux's own pane_dead_status is
        # sometimes empty when the pty closes before the process is reaped.
        r = self.tmux("new-session", "-d", "-s", self.target, "-x", "100", "-y", "32",
                      "env -i %s %s; echo $? > %s" % (exports, command,
                                                      shlex_quote(self.status_file)))
        assert r.returncode == 0, r.stderr
        self.tmux("set-option", "-t", self.target, "remain-on-exit", "on")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.target).stdout

    def wait(self, text, timeout=20):
        """Poll the screen until it shows ``text`` (or a predicate holds)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if (text(screen) if callable(text) else text in screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError("the screen never showed %r; it shows:\n%s"
                                     % (text, screen))
            time.sleep(0.05)

    def type(self, text):
        self.tmux("send-keys", "-t", self.target, "-l", text)

    def press(self, *keys):
        self.tmux("send-keys", "-t", self.target, *keys)

    def exit_status(self):
        """The program's exit status once it has ended, else None."""
        try:
            with open(self.status_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def kill(self):
        self.tmux("kill-server")


def shlex_quote(s):
    import shlex

    return shlex.quote(s)


@pytest.fixture
def term(tmp_path):
    needs_tool("tmux", "tmux")
    t = Tmux(tmp_path)
    yield t
    t.kill()


def test_a_new_user_in_a_real_terminal(term, tmp_path):
    db = str(tmp_path / "home" / "diary.db")
    env = {"HOME": str(tmp_path), "TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "LANG": "C.UTF-8", "PYTHONPATH": ROOT}
    term.start("%s -m diary --diary %s" % (sys.executable, db), env)

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
