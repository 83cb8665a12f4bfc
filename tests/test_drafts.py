"""Drafts of the built-in editor (drafts.py, the menu's editor): the table, the
migration that makes it, the timer that writes it off the key path, the lock,
the save and the discard that remove it, and the restore at the next start.
Driven through prompt_toolkit's pipe input (test_menu's Driver)."""

import os
import subprocess
import sys
import threading
import time

import pytest
from prompt_toolkit.application.current import get_app

from diary import drafts, entries, health, store
from diary.editor import Draft
from diary.errors import PassphraseError

from conftest import PASSPHRASE
from test_menu import CTRL_C, CTRL_S, ENTER, ESC, Clock, drive


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """Timers in hundredths of seconds, so that tests wait little."""
    monkeypatch.setattr(drafts.Keeper, "QUIET", 0.05)
    monkeypatch.setattr(drafts.Keeper, "LATEST", 0.3)
    monkeypatch.setattr(drafts.Keeper, "RETRY", 0.1)


def dead_owner():
    """The owner of a process that has ended (its pid is gone)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return drafts.owner(p.pid)


def left_draft(diary, body, title="", tags="", date="", entry=None):
    """A draft as a killed session leaves it."""
    key = drafts.new_key()
    drafts.save(diary, key, Draft(title=title, body=body, tags=tags, date=date),
                entry_id=entry.id if entry else None,
                entry_version=entry.version if entry else None, who=dead_owner())
    return key


def bodies(diary):
    return [d.body for d in drafts.stored(diary)]


def eventually(predicate):
    """An ``expect`` of a step: holds once ``predicate()`` does. The screen is
    redrawn every 20 ms meanwhile (``pulse``), so that it is asked again."""
    def holds(screen):
        try:
            return predicate()
        except PassphraseError:  # still locked
            return False
    return holds


def pulse(keys):
    """The keys of a first step that also starts redrawing every 20 ms until the
    session ends: waits on the diary (``eventually``) never block the loop."""
    def start():
        app = get_app()

        def beat():
            while not app.is_done:
                app.invalidate()
                time.sleep(0.02)
        threading.Thread(target=beat, daemon=True).start()
        return keys
    return start


# --- the table and the migration -----------------------------------------------------------

def test_a_draft_is_saved_replaced_and_removed(diary):
    key = drafts.new_key()
    drafts.save(diary, key, Draft(title="T", body="one", tags="a, b", date="yesterday"))
    drafts.save(diary, key, Draft(title="T", body="two", tags="a", date=""))
    [d] = drafts.stored(diary)
    assert (d.key, d.title, d.body, d.tags, d.date, d.entry_id) == (key, "T", "two", "a", "",
                                                                   None)
    assert drafts.orphans(diary) == []  # ours: this process is alive
    drafts.remove(diary, key)
    assert drafts.stored(diary) == [] and drafts.count(diary) == 0


def test_only_drafts_of_ended_processes_are_orphans(diary):
    left_draft(diary, "abandoned")
    drafts.save(diary, drafts.new_key(), Draft(body="mine"))
    assert [d.body for d in drafts.orphans(diary)] == ["abandoned"]
    assert drafts.alive(drafts.owner()) and not drafts.alive(dead_owner())
    assert not drafts.alive("") and not drafts.alive("other-host - 1 -")


def test_migration_8_adds_the_draft_table_to_a_version_7_diary(path):
    store.create(path, PASSPHRASE, schema_version=7)
    with store.open_diary(path, PASSPHRASE) as d:
        assert d.db.execute_sql("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        left_draft(d, "after the upgrade")
        assert bodies(d) == ["after the upgrade"]
        assert health.problems(d) == []


def test_a_read_only_session_keeps_no_draft(made):
    with store.open_diary(made, PASSPHRASE, read_only=True) as d:
        s = drive(d, ("Browse entries", "q"))
        assert s.code == 0 and s.menu.writer is None


# --- the timer ----------------------------------------------------------------------------

def test_typing_writes_the_draft_soon_after_and_saving_removes_it(diary):
    s = drive(diary, ("Write a new entry", pulse("w")),
              ("New entry", "A title" + ENTER + "first words"),
              (eventually(lambda: bodies(diary) == ["first words"]), " and more"),
              (eventually(lambda: bodies(diary) == ["first words and more"]), CTRL_S),
              ("Saved entry #1.", "q"))
    assert s.code == 0
    assert [(e.title, e.body) for e in entries.list_entries(diary)] == [
        ("A title", "first words and more")]
    assert drafts.stored(diary) == []


def test_a_draft_is_written_while_typing_never_pauses(diary, monkeypatch):
    # No pause of QUIET seconds between keys: LATEST after the first change still writes.
    monkeypatch.setattr(drafts.Keeper, "QUIET", 60)
    monkeypatch.setattr(drafts.Keeper, "LATEST", 0.2)
    s = drive(diary, ("Write a new entry", pulse("w")), ("New entry", ENTER + "steady"),
              (eventually(lambda: bodies(diary) == ["steady"]), ESC),
              ("Throw away what you wrote here?", "y"), ("Write a new entry", "q"))
    assert s.code == 0 and drafts.stored(diary) == []  # thrown away: the draft too


def test_an_edit_s_draft_names_its_entry_and_version(diary):
    entry = entries.add(diary, "old text", title="Kept")
    entries.edit(diary, entry.id, body="old text", title="Kept!")  # version 2

    def stored():
        return [(d.entry_id, d.entry_version, d.body) for d in drafts.stored(diary)]

    s = drive(diary, ("Write a new entry", pulse("b")), ("Kept", ENTER), ("old text", "e"),
              ("Entry #1", " changed"),
              (eventually(lambda: stored() == [(1, 2, "old text changed")]), CTRL_S),
              ("Saved entry #1", "q"))
    assert s.code == 0 and drafts.stored(diary) == []
    assert [e.body for e in entries.list_entries(diary)] == ["old text changed"]


def test_a_busy_diary_is_tried_again_and_nothing_is_lost(diary, made, monkeypatch):
    monkeypatch.setattr(drafts, "BUSY_MS", 10)
    holder = store.keyed_connection(made, PASSPHRASE, store.KDF_ITER)
    since = {}

    def hold():
        holder.execute("BEGIN IMMEDIATE")  # another process writing, for a while
        since["t"] = time.monotonic()
        return ENTER + "typed while busy"

    def release():
        assert bodies(diary) == []  # several tries, each given up after 10 ms
        holder.execute("ROLLBACK")
        return None

    s = drive(diary, ("Write a new entry", pulse("w")), ("New entry", hold),
              (lambda t: "typed while busy" in t and time.monotonic() - since["t"] > 0.6,
               release),
              (eventually(lambda: bodies(diary) == ["typed while busy"]), CTRL_S),
              ("Saved entry #1.", "q"))
    holder.close()
    assert s.code == 0
    assert [e.body for e in entries.list_entries(diary)] == ["typed while busy"]
    assert drafts.stored(diary) == []


# --- the lock -------------------------------------------------------------------------------

def test_a_lock_writes_the_draft_before_the_key_goes(diary, made, monkeypatch):
    monkeypatch.setattr(drafts.Keeper, "QUIET", 600)  # only the lock writes it
    monkeypatch.setattr(drafts.Keeper, "LATEST", 600)
    clock = Clock()
    seen = {}

    def at_the_prompt():
        with store.open_diary(made, PASSPHRASE) as other:  # another session reads it
            seen["drafts"] = bodies(other)
        seen["key"] = diary.db._passphrase
        return PASSPHRASE

    s = drive(diary, ("Write a new entry", "w"), ("New entry", ENTER + "at the lock"),
              ("at the lock", lambda: clock.advance(601) or "x"),
              (lambda t: "key" in seen and "at the lock" in t, CTRL_S), ("Saved entry #1.", "q"),
              answers=[at_the_prompt], clock=clock, tick=0.01, lock_after=600)
    assert s.code == 0 and seen == {"drafts": ["at the lock"], "key": None}
    assert drafts.stored(diary) == []


def test_a_lock_on_a_busy_diary_keeps_the_text_and_writes_the_draft_after(diary, made,
                                                                         monkeypatch):
    monkeypatch.setattr(drafts, "BUSY_MS", 10)
    monkeypatch.setattr(drafts.Keeper, "QUIET", 600)  # only the lock, then the retry
    monkeypatch.setattr(drafts.Keeper, "LATEST", 600)
    clock = Clock()
    holder = store.keyed_connection(made, PASSPHRASE, store.KDF_ITER)

    def busy_then_lock():
        holder.execute("BEGIN IMMEDIATE")
        clock.advance(601)
        return "x"

    def release():
        holder.execute("ROLLBACK")
        return PASSPHRASE + ENTER

    s = drive(diary, ("Write a new entry", pulse("w")), ("New entry", ENTER + "unwritten"),
              ("unwritten", busy_then_lock), ("Passphrase:", CTRL_C),
              ("Quit and throw away the draft?", "n"),  # not in the diary: said so
              (lambda t: "Passphrase:" in t and "[y/N]" not in t, release),
              (eventually(lambda: bodies(diary) == ["unwritten"]), CTRL_S),
              ("Saved entry #1.", "q"), clock=clock, tick=0.01, lock_after=600)
    holder.close()
    assert s.code == 0 and [e.body for e in entries.list_entries(diary)] == ["unwritten"]


def test_drafts_are_still_written_after_the_menu_changed_the_passphrase(diary, made):
    # The draft writer's thread kept its connection, keyed with the old
    # passphrase: after 'p' no draft was written any more (each write failed
    # and was retried, silently), so a kill lost what was typed since.
    s = drive(diary, ("Write a new entry", pulse("w")), ("New entry", ENTER + "first"),
              (eventually(lambda: bodies(diary) == ["first"]), CTRL_S),
              ("Saved entry #1.", "p"), ("Passphrase changed.", "w"),
              ("New entry", ENTER + "second"),
              (eventually(lambda: bodies(diary) == ["second"]), CTRL_S),
              ("Saved entry #2.", "q"),
              answers=[PASSPHRASE, "a new one", "a new one"])
    assert s.code == 0
    diary.close()
    with store.open_diary(made, "a new one") as again:
        assert [e.body for e in entries.list_entries(again)] == ["second", "first"]


# --- restoring -------------------------------------------------------------------------------

def test_a_left_draft_is_restored_and_saved(diary):
    left_draft(diary, "lost words", title="Before the crash", tags="work/acme",
               date="2024-03-02 21:30")
    s = drive(diary, ("A draft was not saved", "r"),
              ("lost words", lambda: None), (None, " found" + CTRL_S),
              ("Saved entry #1.", "q"))
    assert s.code == 0 and s.saw("Before the crash")
    [e] = entries.list_entries(diary)
    assert (e.title, e.body, e.tag_list) == ("Before the crash", "lost words found",
                                             ["work/acme"])
    assert e.created_at.strftime("%Y-%m-%d") == "2024-03-02"
    assert drafts.stored(diary) == []


def test_a_left_draft_can_be_kept_for_later_or_discarded(diary):
    left_draft(diary, "maybe later")
    assert drive(diary, ("A draft was not saved", ESC), ("Write a new entry", "q")).code == 0
    assert bodies(diary) == ["maybe later"]
    s = drive(diary, ("A draft was not saved", "d"), ("Throw away this draft", "y"),
              ("Draft discarded.", "q"))
    assert s.code == 0 and drafts.stored(diary) == [] and entries.count(diary) == 0


def test_a_restored_edit_of_an_entry_changed_since_keeps_both(diary):
    entry = entries.add(diary, "version one", title="Shared")
    left_draft(diary, "my edit", title="Shared", entry=entry)
    entries.edit(diary, entry.id, body="their edit")  # saved elsewhere after the draft
    s = drive(diary, ("A draft was not saved", ENTER), ("Entry #1", CTRL_S),
              ("both are kept", "q"))
    assert s.code == 0
    assert sorted(e.body for e in entries.list_entries(diary)) == ["my edit", "their edit"]
    assert drafts.stored(diary) == []


def test_a_restored_edit_of_an_unchanged_entry_saves_in_place(diary):
    entry = entries.add(diary, "version one", title="Mine")
    left_draft(diary, "version two", title="Mine", entry=entry)
    s = drive(diary, ("A draft was not saved", "r"), ("version two", CTRL_S),
              ("Saved entry #1.", "q"))
    assert s.code == 0
    assert [(e.id, e.body) for e in entries.list_entries(diary)] == [(1, "version two")]


def test_a_restored_draft_of_a_deleted_entry_saves_as_new(diary):
    entry = entries.add(diary, "gone", title="Deleted")
    left_draft(diary, "still wanted", title="Deleted", entry=entry)
    entries.delete(diary, [entry.id])
    s = drive(diary, ("A draft was not saved", "r"), ("deleted since", CTRL_S),
              ("Saved entry #", "q"))
    assert s.code == 0
    assert [e.body for e in entries.list_entries(diary)] == ["still wanted"]


def test_a_draft_another_session_restored_meanwhile_is_not_restored_twice(diary):
    # Two menus started on one diary both offer the same left draft; the other
    # one restores it first (it is that live process's now). Restoring it here
    # too made two editors of one draft, and two saves made two entries.
    key = left_draft(diary, "only once")

    def other_session_restores():
        diary.db.execute_sql("UPDATE draft SET owner = ? WHERE id = ?",
                             (drafts.owner(os.getppid()), key))
        return "r"

    s = drive(diary, ("A draft was not saved", other_session_restores),
              ("restored in another session", "q"))
    assert s.code == 0 and not s.saw("Ctrl-S save") and entries.count(diary) == 0
    assert bodies(diary) == ["only once"]  # the other session's, untouched
    # Nor is it discarded under the other session, which is editing it.
    s = drive(diary, ("Write a new entry", "q"))  # not offered: a live session keeps it
    diary.db.execute_sql("UPDATE draft SET owner = ? WHERE id = ?", (dead_owner(), key))
    s = drive(diary, ("A draft was not saved", "d"),
              ("Throw away this draft", lambda: other_session_restores() and "y"),
              ("restored in another session", "q"))
    assert s.code == 0 and bodies(diary) == ["only once"]
    drafts.remove(diary, key)
    # Discarded in the other session meanwhile: gone, nothing to restore.
    key = left_draft(diary, "thrown away elsewhere")

    def other_session_discards():
        drafts.remove(diary, key)
        return "r"

    s = drive(diary, ("A draft was not saved", other_session_discards),
              ("saved or discarded in another session", "q"))
    assert s.code == 0 and entries.count(diary) == 0


def test_claim_takes_only_a_draft_no_live_session_keeps(diary):
    key = left_draft(diary, "mine")
    assert drafts.claim(diary, key) is True
    assert drafts.claim(diary, key) is True  # ours already
    diary.db.execute_sql("UPDATE draft SET owner = ? WHERE id = ?",
                         (drafts.owner(os.getppid()), key))
    assert drafts.claim(diary, key) is False
    assert drafts.claim(diary, "no such draft") is False


def test_a_cancelled_restore_keeps_asking_before_throwing_away(diary):
    left_draft(diary, "do not lose me")
    s = drive(diary, ("A draft was not saved", "r"), ("do not lose me", CTRL_C),
              ("Throw away what you wrote here?", "n"), ("do not lose me", CTRL_C),
              ("Throw away what you wrote here?", "y"), ("Write a new entry", "q"))
    assert s.code == 0 and drafts.stored(diary) == []


# --- the CLI: check, export, backup ------------------------------------------------------------

def test_check_notes_drafts_and_names_a_row_the_editor_did_not_write(run, diary, made, tmp_path):
    left_draft(diary, "a draft text xq")
    r = run("check")
    assert r.code == 0 and r.out.strip() == "ok"
    assert "1 unsaved draft of the editor kept in the diary" in r.err
    # Export: a draft is not an entry. Backup: the file's copy holds it, encrypted.
    assert entries.count(diary) == 0
    assert "xq" not in run("export", "--format", "jsonl").out
    backup = str(tmp_path / "backup.db")
    assert run("backup", backup).code == 0
    with store.open_diary(backup, PASSPHRASE) as copy:
        assert bodies(copy) == ["a draft text xq"]
    # A row another tool wrote (no date, a blob for text): named, and still offered.
    diary.db.execute_sql("INSERT INTO draft (id, body, saved_at) VALUES ('odd', x'00ff', 'x')")
    r = run("check")
    assert r.code == 4 and "drafts: the draft odd was not written by diary's editor" in r.out
    s = drive(diary, ("A draft was not saved", "d"), ("Throw away", "y"),
              ("A draft was not saved", "d"), ("Throw away", "y"), ("Write a new entry", "q"))
    assert s.code == 0 and drafts.stored(diary) == []
    assert run("check").code == 0
