"""Drive the real program in a real terminal: a detached tmux session.

    term = Tmux(tmp_path)
    term.start_diary(db, env, width=100, height=30)   # the installed `diary`
    term.wait("Write a new entry")                    # polls the screen
    term.press("Down", "PageDown", "C-c")             # tmux key names
    term.type("literal text")                         # as typed (send-keys -H)
    term.resize(40, 12)
    term.assert_alive()

Every wait polls the screen with a generous timeout (the machine running the
tests may be loaded) and fails at once, showing the screen, when the program
has ended. The program is started through ``env -i`` with only the variables
given, and the shell records its exit status in a file: tmux's own
pane_dead_status is sometimes empty when the pty closes before the process is
reaped.

``make_diary`` writes a diary with the real key derivation (a subprocess
cannot see the tests' low kdf_iter), so every program started here opens it.
"""

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSPHRASE = "tmux test passphrase"
TIMEOUT = 30  # seconds: a loaded machine is slow, a healthy program is never this slow

_names = itertools.count()


def diary_command():
    """The installed program beside this Python (.venv/bin/diary), else ``python -m diary``."""
    script = os.path.join(os.path.dirname(sys.executable), "diary")
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", "diary"]


def clean_env(home, **extra):
    """A minimal environment for the program: no variable of the test run leaks in."""
    env = {"HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ.get("PATH", ""),
           "LANG": "C.UTF-8", "PYTHONPATH": ROOT}
    if "TZ" in os.environ:  # the program's local time is the tests' local time
        env["TZ"] = os.environ["TZ"]
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


class ProgramEnded(AssertionError):
    pass


class Tmux:
    def __init__(self, tmp_path):
        self.dir = str(tmp_path)
        self.socket = os.path.join(self.dir, "tmux-%d-%d.sock" % (os.getpid(), next(_names)))
        self.target = None
        self.status_file = None

    # --- tmux itself ---------------------------------------------------------------

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=TIMEOUT)

    def start(self, argv, env, width=100, height=30):
        """Run ``argv`` in a new session of ``width`` x ``height`` (the old one, if any, ends)."""
        old = self.target
        n = next(_names)
        self.target = "diary-%d" % n
        self.status_file = os.path.join(self.dir, "exit-status-%d" % n)
        if os.path.exists(self.status_file):
            os.remove(self.status_file)
        exports = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env.items())
        command = " ".join(shlex.quote(a) for a in argv)
        r = self.tmux("new-session", "-d", "-s", self.target, "-x", str(width),
                      "-y", str(height),
                      "env -i %s %s; echo $? > %s" % (exports, command,
                                                      shlex.quote(self.status_file)),
                      # In the same breath, before the program can end: keep the pane
                      # (and its last words) when it does, and keep any size set later.
                      ";", "set-option", "-t", self.target, "remain-on-exit", "on",
                      ";", "set-option", "-t", self.target, "window-size", "manual")
        assert r.returncode == 0, r.stderr
        if old:  # only now: a server left without sessions exits, racing a new one
            self.tmux("kill-session", "-t", old)

    def start_diary(self, db, env, *args, width=100, height=30):
        self.start(diary_command() + ["--diary", db, *args], env, width, height)

    def kill(self):
        self.tmux("kill-server")

    # --- seeing --------------------------------------------------------------------

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.target).stdout

    def history(self):
        """Everything the pane showed, its scrollback included (what a program printed
        after leaving the alternate screen), without the blank lines."""
        text = self.tmux("capture-pane", "-p", "-S", "-", "-t", self.target).stdout
        return "\n".join(line for line in text.splitlines() if line.strip())

    def size(self):
        out = self.tmux("display-message", "-p", "-t", self.target,
                        "#{pane_width} #{pane_height}").stdout.split()
        return tuple(int(n) for n in out)

    def cursor(self):
        """(column, row) of the terminal's cursor."""
        out = self.tmux("display-message", "-p", "-t", self.target,
                        "#{cursor_x} #{cursor_y}").stdout.split()
        return tuple(int(n) for n in out)

    def exit_status(self):
        """The program's exit status once it has ended, else None."""
        try:
            with open(self.status_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def alive(self):
        return self.exit_status() is None

    def assert_alive(self, doing=""):
        if not self.alive():
            time.sleep(0.2)  # let the last words reach the pane
            raise ProgramEnded("the program ended (exit status %s)%s; the screen:\n%s"
                               % (self.exit_status(), " " + doing if doing else "",
                                  self.history()))

    def wait(self, text, timeout=TIMEOUT, exited_ok=False):
        """Poll the screen until it shows ``text`` (or a predicate of the screen holds).

        Fails at once if the program ends first (unless ``exited_ok``)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if (text(screen) if callable(text) else text in screen):
                return screen
            if not exited_ok:
                self.assert_alive("while waiting for %r" % (text,))
            if time.monotonic() > deadline:
                raise AssertionError("the screen never showed %r; it shows:\n%s"
                                     % (text, screen))
            time.sleep(0.05)

    def wait_exit(self, timeout=TIMEOUT):
        """The exit status, once the program has ended."""
        deadline = time.monotonic() + timeout
        while self.exit_status() is None:
            if time.monotonic() > deadline:
                raise AssertionError("the program did not end; the screen:\n" + self.screen())
            time.sleep(0.05)
        return self.exit_status()

    def settle(self, quiet=0.08, timeout=TIMEOUT):
        """Wait until the screen stops changing (or the program ends); returns the screen."""
        deadline = time.monotonic() + timeout
        last = self.screen()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            screen = self.screen()
            if screen == last or not self.alive():
                return screen
            last = screen
        return last

    # --- doing ---------------------------------------------------------------------

    def type(self, text):
        """Type ``text`` as it is: sent as bytes (send-keys -H), so that no word of
        it is read by tmux as a flag, a key name or a command separator (';')."""
        self.tmux("send-keys", "-t", self.target, "-H",
                  *("%02x" % b for b in text.encode("utf-8")))

    def press(self, *keys):
        self.tmux("send-keys", "-t", self.target, *keys)

    def resize(self, width, height):
        r = self.tmux("resize-window", "-t", self.target, "-x", str(width), "-y", str(height))
        assert r.returncode == 0, r.stderr


def needs_tmux():
    from conftest import needs_tool

    needs_tool("tmux", "tmux")


# --- screens -------------------------------------------------------------------------

LABELS = ("Write a new entry", "Browse entries", "Search", "Tags", "On this day",
          "Calendar and statistics", "Trash", "Change passphrase", "Lock", "Quit")


def main_menu(screen):
    """The main menu, however few of its rows the window shows, with no question over it."""
    return sum(label in screen for label in LABELS) >= 4 and "[y/N]" not in screen


# --- diaries -------------------------------------------------------------------------

LINE = re.compile(r"line-(\d{3})")


def body_lines(n, entry):
    return "\n".join("line-%03d of entry %02d" % (i, entry) for i in range(1, n + 1))


def visible_lines(screen):
    """The numbers of the body lines (``line-NNN``) on the screen."""
    return sorted(int(m) for m in LINE.findall(screen))


def make_diary(path, specs):
    """A diary at ``path`` with the real key derivation, holding ``specs``: a list of
    dicts of entries.add arguments (body, title, created_at, tags, starred)."""
    from diary import entries, store

    saved = store.KDF_ITER
    store.KDF_ITER = None  # the product's own: the program under test opens it
    try:
        store.create(path, PASSPHRASE)
        with store.open_diary(path, PASSPHRASE) as d:
            for spec in specs:
                spec = dict(spec)
                entries.add(d, spec.pop("body"), **spec)
    finally:
        store.KDF_ITER = saved


def copy_diary(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)


def run_cli(db, *argv, home):
    """``diary ARGV`` as a subprocess on ``db``; returns the CompletedProcess."""
    env = clean_env(home, DIARY_PASSPHRASE=PASSPHRASE)
    return subprocess.run(diary_command() + ["--diary", db, *argv], env=env,
                          capture_output=True, text=True, timeout=120)
