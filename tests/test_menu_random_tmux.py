"""Random keys in a real terminal (tmux): the menu survives whatever a person presses.

Each seed drives the installed program with about 300 keys drawn from every
screen's keys (the README's keys table), random printable text and random
window sizes between 40x12 and 120x40. After each small group of keys, once
the screen has settled: the program is alive, the screen is not blank, and
when Ctrl-S in the editor said "Saved entry #N", entry N holds every piece of
text typed into that editor (checked with `diary show N --json`).

Quitting is allowed (q, Ctrl-D, y to "Quit diary?"; Ctrl-C or Ctrl-D at a
passphrase prompt): the program is started again and the sequence goes on.
Now and then the test kills the program (SIGKILL) while its editor holds
typed text, so that the next start offers the draft (r restore, d discard,
l/Esc later: keys of the alphabet).
Any other exit, or "internal error" or a traceback on the screen, fails the
test with its seed. Replay one seed exactly with ``pytest
tests/test_menu_random_tmux.py --seed N``; run more with ``--tmux-seeds 200``.

Like a person, the test answers the lock screen with the passphrase (the idle
lock is off: --lock-after 0), cancels the Change passphrase prompt, and does
not type text into the editor's Date or Tags field (where a random word is
refused, not saved). Several seeds run side by side, each in its own tmux
server and its own copy of the diary.
"""

import json
import os
import random
import re
import signal
import string
import time

from tmux_driver import (PASSPHRASE, Tmux, clean_env, copy_diary, main_menu, needs_tmux,
                         run_cli)

KEYS_PER_SEED = 300
PARALLEL = 6          # seeds driven side by side
QUIET = 0.08          # seconds without a change: the screen has settled
EDITOR_QUIET = 0.25   # before typing into the editor: be sure it is the editor
BLANK_GRACE = 30.0    # a blank screen for longer than this fails (a start may be slow)

# The README's keys, every screen's (tmux key names), with a weight: quitting
# costs a restart, so q and Ctrl-D come less often.
KEYS = {
    # everywhere
    "C-c": 1, "C-d": 0.2, "Escape": 1,
    # main menu
    "w": 1, "b": 1, "/": 1, "s": 1, "t": 1, "o": 1, "c": 1, "p": 1, "l": 0.5, "q": 0.15,
    "x": 1, "E": 0.5,
    # lists and the reader
    "Up": 1, "Down": 1, "j": 1, "k": 1, "PageUp": 1, "PageDown": 1, "Home": 1, "End": 1,
    "Enter": 1, "n": 1, "Right": 1, "Left": 1, "Space": 1, "g": 1, "G": 1, "e": 1, "d": 1,
    # editor
    "Tab": 1, "BTab": 1, "C-s": 0.5,
    # calendar, questions, the trash, the draft offer (r restore, d discard, l later)
    "h": 1, "y": 1, "m": 1, "r": 1,
}
NAMES, WEIGHTS = list(KEYS), list(KEYS.values())
# Keys that can leave a screen: each ends its group, so that no two screens'
# keys blur (and Esc is never read as Alt with the key after it).
LEAVING = {"C-c", "C-d", "Escape", "C-s", "Enter", "q"}
TEXT = string.ascii_letters + string.digits + string.punctuation + "  "
SAVED = re.compile(r"[Ss]aved\b[^#]*#\s*(\d+)")


class Failed(AssertionError):
    pass


def subsequence(needle, haystack):
    it = iter(haystack)
    return all(c in it for c in needle)


def squeeze(text):
    return "".join(text.split())


class Seed:
    """One seed's run: a state machine stepped by the scheduler."""

    def __init__(self, seed, tmp_path, template):
        self.seed = seed
        self.rng = random.Random(seed)
        self.dir = tmp_path / ("seed-%d" % seed)
        self.dir.mkdir()
        self.db = str(self.dir / "diary.db")
        copy_diary(template, self.db)
        self.term = Tmux(self.dir)
        self.keys = 0          # keys sent so far
        self.log = []          # what was sent, for the failure message
        self.typed = []        # text typed into the editor open now
        self.saving = False    # Ctrl-S was just pressed in the editor
        self.saves = 0
        self.restarts = 0
        self.killed = False    # the test sent SIGKILL: the exit that follows is no crash
        self.kills = 0
        self.offers = 0        # draft offers seen at a start
        self.start()

    # --- the program -----------------------------------------------------------------

    def start(self):
        width, height = self.rng.randint(40, 120), self.rng.randint(12, 40)
        # Odd seeds have an external editor that exits at once (E runs it and
        # gets the file back untouched); even seeds have none (E is not offered).
        editor = "true" if self.seed % 2 else None
        self.term.start_diary(self.db, clean_env(self.dir, DIARY_PASSPHRASE=PASSPHRASE,
                                                 EDITOR=editor),
                              "--lock-after", "0", width=width, height=height)
        self.log.append("start %dx%d" % (width, height))
        self.typed, self.saving = [], False
        self.last_screen, self.changed = None, time.monotonic()
        self.previous = "start"  # what the last settled screen was
        self.seen = ""
        self.blank_since = None
        self.offer_seen = None

    def fail(self, why):
        raise Failed("seed %d: %s\nthe last keys: %s\nthe screen before them:\n%s\n"
                     "the terminal now:\n%s\n"
                     "replay: pytest tests/test_menu_random_tmux.py --seed %d"
                     % (self.seed, why, " ".join(self.log[-60:]), self.seen.rstrip(),
                        self.term.history(), self.seed))

    def close(self):
        self.term.kill()

    # --- one step --------------------------------------------------------------------

    def step(self):
        """Look at the screen; when it has settled, check it and send the next keys.
        Returns False once this seed is done."""
        status = self.term.exit_status()
        if status is not None:
            return self.ended(status)
        screen = self.term.screen()
        now = time.monotonic()
        if screen != self.last_screen:
            self.last_screen, self.changed = screen, now
            return True
        quiet = EDITOR_QUIET if self.in_editor(screen) else QUIET
        if now - self.changed < quiet:
            return True
        return self.settled(screen)

    def ended(self, status):
        time.sleep(0.2)
        history = self.term.history()
        if "internal error" in history or "Traceback" in history:
            self.fail("the program crashed (exit status %d)" % status)
        last = self.log[-1] if self.log else ""
        if self.killed:
            if status != 128 + signal.SIGKILL:
                self.fail("killed, the program exited with status %d" % status)
            self.killed = False
            self.restarts += 1
            self.start()
            return True
        # Ctrl-C or Ctrl-D at a passphrase prompt (the lock, or just after 'l')
        # ends the session: a quit, like q.
        quit_at_prompt = (status in (3, 130) and self.previous in ("main", "locked")
                          and ("C-c" in last or "C-d" in last))
        if status != 0 and not quit_at_prompt:
            self.fail("the program exited with status %d, not by a quit key" % status)
        if self.keys >= KEYS_PER_SEED:
            return False
        self.restarts += 1
        self.start()
        return True

    def in_editor(self, screen):
        return "Ctrl-S" in screen and "[y/N]" not in screen

    def settled(self, screen):
        if not screen.strip():
            self.blank_since = self.blank_since or time.monotonic()
            if time.monotonic() - self.blank_since > BLANK_GRACE:
                self.fail("the screen stayed blank")
            return True
        self.blank_since = None
        self.seen = screen
        flat = " ".join(screen.split())
        editor = self.in_editor(screen)
        if self.saving:
            self.saving = False
            saved = SAVED.search(flat)
            if saved:
                self.check_saved(int(saved.group(1)))
            elif not editor:
                self.fail("Ctrl-S left the editor without saying what was saved")
        if not editor and "[y/N]" not in screen:
            self.typed = []
        if self.keys >= KEYS_PER_SEED:
            return False

        # A person at a passphrase prompt: unlock, or cancel the change.
        if "is locked" in screen and "Passphrase:" in screen:
            self.previous = "locked"
            self.send_text(PASSPHRASE, keys=("C-u",), after=("Enter",), log="<passphrase>")
            return True
        if "Current passphrase:" in screen or "New passphrase:" in screen:
            self.previous = "passwd"
            self.send(["C-c"])
            return True
        self.previous = "main" if main_menu(screen) else "other"
        if "A draft was not saved" in screen and screen != self.offer_seen:
            self.offers += 1
        self.offer_seen = screen

        r = self.rng.random()
        if editor and self.typed and r < 0.03:
            self.kill()
        elif r < 0.06:
            self.resize()
        elif editor:
            self.in_editor_step(screen)
        elif r < 0.18:
            self.send_text(self.text())
        else:
            self.send(self.group())
        return True

    def in_editor_step(self, screen):
        r = self.rng.random()
        if r < 0.4:
            field = self.field(screen)
            if field in ("Date", "Tags"):
                self.send(["Tab"])
            else:
                text = self.text()
                self.typed.append(text)
                self.send_text(text)
        elif r < 0.5:
            self.saving = True
            self.send(["C-s"])
        else:  # one key at a time here: any of them may leave the editor
            self.send([self.key()])

    def field(self, screen):
        """The label of the editor row the cursor is on ("Title", "Date", "Tags"), or ""."""
        _, row = self.term.cursor()
        rows = screen.splitlines()
        words = rows[row].split() if row < len(rows) else []
        return words[0] if words else ""

    # --- drawing keys ----------------------------------------------------------------

    def key(self):
        return self.rng.choices(NAMES, WEIGHTS)[0]

    def group(self):
        keys = []
        for _ in range(self.rng.randint(1, 5)):
            keys.append(self.key())
            if keys[-1] in LEAVING:
                break
        return keys

    def text(self):
        return "".join(self.rng.choice(TEXT) for _ in range(self.rng.randint(1, 8)))

    # --- sending ---------------------------------------------------------------------

    def send(self, keys):
        self.term.press(*keys)
        self.keys += len(keys)
        self.log.append("+".join(keys))
        self.sent()

    def send_text(self, text, keys=(), after=(), log=None):
        if keys:
            self.term.press(*keys)
        self.term.type(text)
        if after:
            self.term.press(*after)
        if log is None:
            self.keys += len(text)
        self.log.append(log or repr(text))
        self.sent()

    def resize(self):
        width, height = self.rng.randint(40, 120), self.rng.randint(12, 40)
        self.term.resize(width, height)
        self.log.append("resize %dx%d" % (width, height))
        self.sent()

    def sent(self):
        self.last_screen, self.changed = None, time.monotonic()

    def kill(self):
        """SIGKILL the program with text in its editor (a draft is due or written)."""
        shell = int(self.term.tmux("display-message", "-p", "-t", self.term.target,
                                   "#{pane_pid}").stdout.strip())
        with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
            children = [int(p) for p in f.read().split()]
        if len(children) != 1:
            return  # ending by itself already
        time.sleep(self.rng.random() * 2)  # before, during or after a draft write
        os.kill(children[0], signal.SIGKILL)
        self.killed = True
        self.kills += 1
        self.log.append("SIGKILL")
        self.sent()

    # --- what was saved --------------------------------------------------------------

    def check_saved(self, entry_id):
        result = run_cli(self.db, "show", str(entry_id), "--json", home=self.dir)
        if result.returncode != 0:
            self.fail("entry #%d, just saved, cannot be shown: %s" % (entry_id, result.stderr))
        entry = json.loads(result.stdout)[0]
        text = squeeze(entry["title"] + entry["body"] + "".join(entry.get("tags", [])))
        for typed in self.typed:
            if not subsequence(squeeze(typed), text):
                self.fail("entry #%d was saved without %r, typed into its editor:\n%r"
                          % (entry_id, typed, entry))
        self.saves += 1
        self.typed = []


def test_random_keys_in_a_real_terminal(tmux_seeds, tmp_path, long_diary):
    needs_tmux()
    waiting, running, failures, done = list(tmux_seeds), [], [], []
    try:
        while waiting or running:
            while waiting and len(running) < PARALLEL:
                running.append(Seed(waiting.pop(0), tmp_path, long_diary))
            for seed in list(running):
                try:
                    if seed.step():
                        continue
                    done.append(seed)
                except Failed as exc:
                    failures.append(str(exc))
                running.remove(seed)
                seed.close()
            time.sleep(0.01)
    finally:
        for seed in running:
            seed.close()
    print("random keys: %d seeds, %d saves checked, %d restarts after a quit, %d kills, "
          "%d draft offers" % (len(done), sum(s.saves for s in done),
                               sum(s.restarts for s in done), sum(s.kills for s in done),
                               sum(s.offers for s in done)))
    assert not failures, "\n\n".join(failures)
