"""Drafts in a real terminal (tmux): text typed into the built-in editor
survives a SIGKILL of the program, is offered at the next start, and saves
exactly. The key derivation is the real one."""

import json
import os
import signal

import pytest

from diary import drafts, store

from test_leaks import scan
from tmux_driver import (PASSPHRASE, Tmux, clean_env, main_menu, make_diary, needs_tmux,
                         run_cli)

TITLE = "Before the crash"
TAGS = "health/running, work/acme"
MARKER = "draft-marker-Wq7Kz"  # must never reach a file in plaintext
LINES = ["First line of the draft, déjà vu.", "", "Third line — %s" % MARKER]


@pytest.fixture
def term(tmp_path):
    needs_tmux()
    t = Tmux(tmp_path)
    yield t
    t.kill()


def program_pid(term):
    """The diary process: the child of the pane's shell."""
    shell = int(term.tmux("display-message", "-p", "-t", term.target, "#{pane_pid}")
                .stdout.strip())
    with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
        children = [int(p) for p in f.read().split()]
    assert len(children) == 1, children
    return children[0]


def stored_drafts(db):
    """The drafts in the file, read the way another session would."""
    saved = store.KDF_ITER
    store.KDF_ITER = None  # the product's own, as make_diary wrote it
    try:
        with store.open_diary(db, PASSPHRASE) as d:
            return drafts.stored(d)
    finally:
        store.KDF_ITER = saved


def wait_for_draft(db, body, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = stored_drafts(db)
        if [d.body for d in found] == [body]:
            return found[0]
        assert time.monotonic() < deadline, "no draft %r in the file; found %r" % (body, found)
        time.sleep(0.3)


def test_a_draft_survives_sigkill_and_is_restored_and_saved_exactly(term, tmp_path):
    db = str(tmp_path / "home" / "diary.db")
    make_diary(db, [{"body": "an older entry"}])
    # Every place a program may write to, inside tmp_path: scanned for the marker.
    places = {name: tmp_path / name.lower() for name in (
        "TMPDIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
        "XDG_RUNTIME_DIR")}
    for place in places.values():
        place.mkdir(mode=0o700)
    env = clean_env(tmp_path / "home", DIARY_PASSPHRASE=PASSPHRASE, **places)

    def no_plaintext_anywhere():
        assert scan(str(tmp_path), MARKER) == []
        assert scan("/dev/shm", MARKER) == []

    term.start_diary(db, env)
    term.wait(main_menu)
    term.type("w")
    term.wait("New entry")
    term.type(TITLE)
    term.press("Tab", "Tab")
    term.type(TAGS)
    term.press("Tab")
    for n, line in enumerate(LINES):
        if n:
            term.press("Enter")
        term.type(line)
    body = "\n".join(LINES)
    term.wait(LINES[-1])
    draft = wait_for_draft(db, body)  # written within seconds, by the program itself
    assert (draft.title, draft.tags, draft.entry_id) == (TITLE, TAGS, None)

    os.kill(program_pid(term), signal.SIGKILL)
    assert term.wait_exit() == 128 + signal.SIGKILL
    no_plaintext_anywhere()  # the draft is in the diary, encrypted, and nowhere else

    term.start_diary(db, env)
    screen = term.wait("A draft was not saved")
    assert "new entry" in screen and TITLE in screen
    term.type("r")
    term.wait(LINES[-1])
    term.press("C-s")
    term.wait("Saved entry #2.")
    term.type("q")
    assert term.wait_exit() == 0

    r = run_cli(db, "show", "2", "--json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    shown = shown[0] if isinstance(shown, list) else shown
    assert (shown["title"], shown["body"], sorted(shown["tags"])) == (
        TITLE, body, ["health/running", "work/acme"])
    assert stored_drafts(db) == []
    no_plaintext_anywhere()
