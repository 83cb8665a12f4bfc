"""Writing in your editor (issue 17): `diary add` / `diary edit` open $VISUAL or
$EDITOR on a private tmpfs file, with each known editor's leak-off options, and
save what comes back in one transaction. The editor here is tests/fake_editor.py
installed on PATH under the real editors' names; test_editor_vim.py runs the real vim."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from diary import entries, external_editor, private_dir, store

from conftest import needs_tmpfs, PASSPHRASE, TEST_KDF_ITER

FAKE = os.path.join(os.path.dirname(__file__), "fake_editor.py")
# The program as a process, on test diaries (their low kdf_iter, as tests/worker.py).
DIARY = [sys.executable, "-c", "import sys; from diary import store; store.KDF_ITER = %d; "
         "from diary.cli import main; sys.exit(main())" % TEST_KDF_ITER]
# the environment of another session run from the fake editor (`run`)
ELSEWHERE = {"DIARY_PASSPHRASE": PASSPHRASE}
NAMES = ("vim", "nvim", "nano", "emacs", "micro", "hx", "kak", "code", "myed")


class Editor:
    def __init__(self, tmp_path):
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        source = open(FAKE).read()
        for name in NAMES:
            p = self.bin / name
            p.write_text("#!%s\n%s" % (sys.executable, source))
            p.chmod(0o755)
        needs_tmpfs()
        self.runtime = tempfile.mkdtemp(prefix="test-editor-", dir="/dev/shm")
        self.log_path = tmp_path / "editor.log"
        self.actions_path = tmp_path / "actions.json"
        self.act({})

    def act(self, *actions):
        self.actions_path.write_text(json.dumps(list(actions)))

    def environ(self, name="vim", **more):
        env = {"PATH": "%s:%s" % (self.bin, os.environ.get("PATH", "")),
               "EDITOR": name, "XDG_RUNTIME_DIR": self.runtime,
               "FAKE_LOG": str(self.log_path), "FAKE_ACTIONS": str(self.actions_path),
               "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(FAKE)))}
        env.update(more)
        return env

    def runs(self):
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def left(self):
        return os.listdir(self.runtime)


@pytest.fixture
def editor(tmp_path):
    e = Editor(tmp_path)
    yield e
    shutil.rmtree(e.runtime, ignore_errors=True)


def _entries(path):
    with store.open_diary(path, PASSPHRASE) as d:
        return [(e.id, e.title, e.body, sorted(e.tag_list), bool(e.starred), e.version)
                for e in entries.list_entries(d, newest_first=False)]


def test_add_opens_vim_with_its_leak_off_options_on_a_private_tmpfs_file(run, made, editor):
    editor.act({"sub": [["^title:$", "title: Long run"], ["^tags: a$", "tags: a, b/c"],
                        ["^star: no$", "star: yes"]],
                "append": "Ran 12 km.\ntitle: not a header\n"})
    r = run("add", "--tag", "a", tty=True, environ=editor.environ("vim"))
    assert r.code == 0, r
    [seen] = editor.runs()
    assert seen["file_mode"] == 0o600 and seen["dir_mode"] == 0o700 and seen["fs"] == "tmpfs"
    assert os.path.dirname(seen["dir"]) == editor.runtime
    argv = seen["argv"]
    assert argv[-1].endswith("/entry.txt") and argv[:-1] == external_editor.LEAK_OFF["vim"]
    # -c (after the vimrc) carries the settings; --cmd (before it) only the autocommand
    assert "noswapfile" in argv[argv.index("-c") + 1] and "viminfo=" in argv[argv.index("-c") + 1]
    assert "-n" in argv and argv[argv.index("-i") + 1] == "NONE"
    assert editor.left() == []  # wiped and removed
    [(i, title, body, tags, starred, version)] = _entries(made)
    assert (title, body, tags, starred) == ("Long run", "\nRan 12 km.\ntitle: not a header",
                                            ["a", "b/c"], True)
    assert r.out == "%d\n" % i


def test_dash_e_opens_the_editor_on_the_text_given(run, made, editor):
    # -e/--editor forces the editor even with text given (which starts the
    # file); without a terminal it is a usage error, nothing saved.
    editor.act({"sub": [["^given text$", "given text, edited"]]})
    r = run("add", "-e", "given", "text", "--tag", "t", tty=True, environ=editor.environ())
    assert r.code == 0, r
    [seen] = editor.runs()
    assert seen["text"].endswith("tags: t\nstar: no\n\ngiven text\n")
    assert [(e[2], e[3]) for e in _entries(made)] == [("given text, edited", ["t"])]
    r = run("add", "--editor", stdin="piped", environ=editor.environ())
    assert r.code == 2 and "needs a terminal" in r.err, r
    assert len(editor.runs()) == 1 and len(_entries(made)) == 1


@pytest.mark.parametrize("name", ["nvim", "nano", "emacs", "micro", "hx", "kak"])
def test_each_known_editor_gets_its_options_and_no_warning(run, made, editor, name):
    editor.act({"append": "text"})
    r = run("add", tty=True, environ=editor.environ(name))
    assert r.code == 0 and "warning" not in r.err, r
    [seen] = editor.runs()
    assert seen["argv"][:-1] == external_editor.LEAK_OFF[name]
    assert seen["fs"] == "tmpfs" and seen["file_mode"] == 0o600
    assert editor.left() == []
    assert [e[2] for e in _entries(made)] == ["\ntext"]


def test_visual_wins_and_its_own_arguments_come_first(run, made, editor):
    editor.act({"append": "x"})
    r = run("add", tty=True, environ=editor.environ("nano", VISUAL="vim -u NONE"))
    assert r.code == 0, r
    argv = editor.runs()[0]["argv"]
    assert editor.runs()[0]["name"] == "vim" and argv[:2] == ["-u", "NONE"]
    assert argv[2:-1] == external_editor.LEAK_OFF["vim"]


def test_an_unknown_editor_is_warned_about_once_per_diary(run, made, editor):
    editor.act({"append": "x"})
    r = run("add", tty=True, environ=editor.environ("code --wait"))
    assert r.code == 0 and "VS Code keeps unsaved text" in r.err and "shown once" in r.err, r
    r = run("add", tty=True, environ=editor.environ("code --wait"))
    assert r.code == 0 and "warning" not in r.err, r
    r = run("add", tty=True, environ=editor.environ("myed"))
    assert "myed is not one this diary knows" in r.err
    with store.open_diary(made, PASSPHRASE) as d:  # remembered inside the diary
        from diary import memo

        assert memo.get(d, "editor-warned:code") == "shown"


def _typed(run, *argv, keys, **kw):
    """``run(*argv)`` with the menu's input already typed (``keys``)."""
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as inp:
        inp.send_text(keys)
        return run(*argv, tty=True, menu_io=(inp, DummyOutput()), **kw)


def test_no_editor_set_opens_the_built_in_editor(run, made, editor):
    # "$VISUAL, then $EDITOR, then the configured one, else the built-in
    # editor": add and edit ID said "no editor set" (exit 2) instead.
    env = editor.environ()
    del env["EDITOR"]
    r = _typed(run, "add", "--tag", "t", "--star", environ=env,
               keys="My title\rwritten in the built-in editor\x13")  # Enter, Ctrl-S
    assert (r.code, r.out) == (0, "1\n"), r
    assert _entries(made) == [(1, "My title", "written in the built-in editor", ["t"], True, 1)]
    r = _typed(run, "edit", "1", environ=env, keys=" again\x13")  # the text has the cursor
    assert (r.code, r.out) == (0, "1\n"), r
    [(_, title, body, _, _, version)] = _entries(made)
    assert (title, body, version) == ("My title", "written in the built-in editor again", 2)
    r = _typed(run, "add", environ=env, keys="\x1b")  # Esc, nothing written: nothing saved
    assert r.code == 0 and "Nothing saved" in r.err and len(_entries(made)) == 1, r
    # what a killed editor session left is offered here too (the editor since unset)
    left = os.path.join(editor.runtime, "diary-edit-%d-abc" % (2 ** 22 + 4321))  # no such pid
    os.mkdir(left, 0o700)
    with open(os.path.join(left, "entry.txt"), "w") as f:
        f.write("left by a killed vim")
    r = _typed(run, "add", environ=env, stdin="y\n", keys="\x1b")
    assert r.code == 0 and "Saved as entry #2" in r.err and editor.left() == [], r
    assert _entries(made)[1][2] == "left by a killed vim"
    # several entries in one file need an editor
    r = run("edit", "-q", "written", tty=True, environ=env)
    assert r.code == 2 and "no editor set" in r.err and "$VISUAL" in r.err, r
    assert editor.runs() == []


def test_the_built_in_editor_of_add_offers_a_draft_a_killed_add_left(run, made, editor):
    # `diary add` with no editor set, killed (SIGTERM, a closed terminal, a
    # crash): its text is a draft in the diary, and the quit question even says
    # "the next start offers it"; the next `diary add` opened a blank entry and
    # said nothing, so one who writes only with `diary add` never saw it again.
    import subprocess

    from diary import drafts
    from diary.editor import Draft

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    with store.open_diary(made, PASSPHRASE) as d:
        drafts.save(d, drafts.new_key(), Draft(title="", body="left by a killed add"),
                    who=drafts.owner(p.pid))
    env = editor.environ()
    del env["EDITOR"]
    # r restores it into the editor, Ctrl-S saves it; then the new entry asked for
    r = _typed(run, "add", environ=env, keys="r\x13New\rthen the new one\x13")
    assert r.code == 0, r
    assert [e[2] for e in _entries(made)] == ["left by a killed add", "then the new one"]
    with store.open_diary(made, PASSPHRASE) as d:
        assert drafts.stored(d) == []
        # `edit ID` offers a draft of that entry: restored and saved, the
        # editor then opens on the entry as saved, not as it was (a conflict)
        e = entries.get(d, 1)
        drafts.save(d, drafts.new_key(), Draft(title="", body="drafted change"),
                    entry_id=1, entry_version=e.version, who=drafts.owner(p.pid))
    r = _typed(run, "edit", "1", environ=env, keys="r\x13 and more\x13")
    assert r.code == 0, r
    assert [e[2] for e in _entries(made)] == ["drafted change and more", "then the new one"]


def test_the_editor_does_not_inherit_the_passphrase_variable(run, made, editor):
    # DIARY_PASSPHRASE set for `diary add`: the editor, and whatever it starts
    # (a `:!` shell, plugins, language servers), had it in its environment.
    editor.act({"append": "x"})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 0, r
    assert editor.runs()[0]["passphrase_env"] is False


def test_the_config_editor_is_used_last(run, made, editor, tmp_path):
    env = editor.environ()
    del env["EDITOR"]
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text('editor = "nano"\n')
    editor.act({"append": "x"})
    assert run("add", tty=True, environ=env).code == 0
    assert editor.runs()[0]["name"] == "nano"


def test_no_memory_backed_place_refuses_and_says_how_to_allow_a_disk(run, made, editor,
                                                                     tmp_path, monkeypatch):
    monkeypatch.setattr(private_dir, "SHM", str(tmp_path))
    r = run("add", tty=True, environ=editor.environ(XDG_RUNTIME_DIR=str(tmp_path)))
    assert r.code == 1 and "editor_tmpdir" in r.err, r
    assert editor.runs() == [] and _entries(made) == []
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    editor.act({"append": "on disk, as asked"})
    r = run("add", tty=True, environ=editor.environ(XDG_RUNTIME_DIR=str(tmp_path),
                                                    DIARY_EDITOR_TMPDIR=str(allowed)))
    assert r.code == 0, r
    assert os.path.dirname(editor.runs()[0]["dir"]) == str(allowed)
    assert os.listdir(allowed) == []


def test_an_empty_or_unchanged_file_saves_nothing(run, made, editor):
    editor.act({})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 0 and "Nothing saved" in r.err and r.out == "", r
    editor.act({"write": ""})
    assert run("add", tty=True, environ=editor.environ()).code == 0
    assert _entries(made) == [] and editor.left() == []


def test_an_editor_that_fails_saves_nothing(run, made, editor):
    editor.act({"append": "x", "exit": 1})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 1 and "exited with status 1" in r.err, r
    assert _entries(made) == [] and editor.left() == []


@pytest.mark.parametrize("crash", ["SIGKILL", "SIGSEGV"])
def test_an_editor_that_crashes_after_saving_keeps_what_it_saved(run, made, editor, crash):
    """Written, saved with :w, then the editor was killed (the OOM killer, a
    crash): what it saved is the person's text, not an abort (that is :cq, a
    status of the editor's own choosing). It was wiped with 'nothing saved'."""
    editor.act({"append": "words saved before the crash", "kill": crash})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 0, r
    assert "words saved before the crash" in _entries(made)[0][2]
    assert editor.left() == []


def test_an_editor_stopped_by_ctrl_c_saves_nothing(run, made, editor):
    """An editor that dies of Ctrl-C was told to stop: nothing is saved."""
    editor.act({"append": "x", "kill": "SIGINT"})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 1 and "SIGINT" in r.err and "nothing saved" in r.err, r
    assert _entries(made) == [] and editor.left() == []


def test_a_bad_header_reopens_the_editor_with_the_error_on_top_and_the_text_kept(
        run, made, editor):
    editor.act({"sub": [["^star: no$", "star: maybe"]], "append": "precious words"},
               {"sub": [["^star: maybe$", "star: yes"]]})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 0, r
    first, second = editor.runs()
    top = second["text"].split("\n")[0]
    assert top.startswith("# diary: line 6: star: write yes or no") and "ignored" in top
    assert second["text"].split("\n")[5] == "star: maybe"  # line 6, as the note says
    assert "precious words" in second["text"] and "star: maybe" in second["text"]
    assert [(e[2], e[4]) for e in _entries(made)] == [("\nprecious words", True)]


def test_a_file_saved_in_another_encoding_reopens_with_its_bytes_kept(run, made, editor):
    # An editor set to Latin-1 saved "é" as the byte E9. Read as UTF-8 with
    # replacement it became U+FFFD in the diary: the letter silently lost.
    editor.act({"append": "Café au lait", "encoding": "latin-1"},
               {"sub": [["\udce9", "é"]]})
    r = run("add", tty=True, environ=editor.environ())
    assert r.code == 0, r
    first, second = editor.runs()
    top = second["text"].split("\n")[0]
    assert top.startswith("# diary: line ") and "not UTF-8" in top, top
    assert "Caf\udce9 au lait" in second["text"]  # the very bytes it saved, to fix
    assert [e[2] for e in _entries(made)] == ["\nCafé au lait"]


def test_a_bad_header_left_unfixed_asks_instead_of_looping(run, made, editor):
    editor.act({"sub": [["^star: no$", "star: maybe"]]}, {})
    r = run("add", tty=True, stdin="d\n", environ=editor.environ())
    assert r.code == 0 and "does not parse" in r.err, r
    assert len(editor.runs()) == 2 and _entries(made) == []


def test_edit_id_opens_that_entry_and_saves_the_changes(run, made, editor):
    run("add", "--title", "Old", "--tag", "keep", "--tag", "drop", "old text #inline")
    editor.act({"sub": [["^title: Old$", "title: New"], ["^old text", "new text"],
                        ["^tags: .*$", "tags: keep, inline, fresh"],
                        ["^date: .*$", "date: 2024-03-02 21:30"]]})
    r = run("edit", "1", tty=True, environ=editor.environ())
    assert r.code == 0 and r.out == "1\n", r
    assert "--- diary entry 1 [" in editor.runs()[0]["text"]
    [(i, title, body, tags, starred, version)] = _entries(made)
    assert (title, body, tags) == ("New", "new text #inline", ["fresh", "inline", "keep"])
    r = run("list", "--json")
    assert json.loads(r.out)[0]["created_at"].startswith("2024-03-02T21:30")


def test_edit_unchanged_changes_nothing(run, made, editor):
    run("add", "text")
    editor.act({})
    r = run("edit", "1", tty=True, environ=editor.environ())
    assert r.code == 0 and "Nothing" in r.err, r
    assert _entries(made)[0][5] == 1  # the version did not move


def test_edit_query_opens_every_match_in_one_file_and_saves_them_together(run, made, editor):
    for text in ("walk one", "walk two", "walk three", "other"):
        run("add", text)
    editor.act({"sub": [["^walk one$", "walk ONE"], ["^walk two$", ""],
                        ["^walk three$", "walk 3"]]})
    r = run("edit", "-q", "walk", tty=True, stdin="y\n", environ=editor.environ())
    assert r.code == 0, r
    assert editor.runs()[0]["text"].count("--- diary entry") == 3
    assert "Delete 1 entry emptied" in r.err and "Deleted 1 entry" in r.err
    assert [(e[0], e[2]) for e in _entries(made)] == [(1, "walk ONE"), (3, "walk 3"),
                                                      (4, "other")]


def test_an_emptied_entry_is_kept_when_the_answer_is_no(run, made, editor):
    run("add", "walk one")
    run("add", "walk two")
    editor.act({"sub": [["^walk two$", ""], ["^walk one$", "walk 1"]]})
    r = run("edit", "-q", "walk", tty=True, stdin="n\n", environ=editor.environ())
    assert r.code == 0 and "Kept them" in r.err, r
    assert [e[2] for e in _entries(made)] == ["walk 1", "walk two"]


def test_edit_filters_choose_the_entries(run, made, editor):
    run("add", "--date", "2024-01-01", "--tag", "work/acme", "--star", "a")
    run("add", "--date", "2024-02-01", "--tag", "work", "b")
    run("add", "--date", "2024-03-01", "--tag", "home", "--star", "c")
    editor.act({})
    for argv, ids in ((["--tagged", "work"], [1, 2]), (["--starred"], [1, 3]),
                      (["--since", "2024-02-01"], [2, 3]), (["--until", "2024-01-31"], [1]),
                      (["--tagged", "work", "--starred", "-q", "a"], [1])):
        editor.log_path.unlink(missing_ok=True)
        r = run("edit", *argv, tty=True, environ=editor.environ())
        assert r.code == 0, (argv, r)
        text = editor.runs()[0]["text"]
        assert [int(line.split()[3]) for line in text.splitlines()
                if line.startswith("--- diary entry")] == ids, argv
    r = run("edit", "-q", "nothing-matches-this", tty=True, environ=editor.environ())
    assert r.code == 1 and "no entry matches" in r.err


def test_edit_usage_errors(run, made, editor):
    run("add", "x")
    r = run("edit", "1", "-q", "x", tty=True, environ=editor.environ())
    assert r.code == 2 and "not both" in r.err
    r = run("edit", tty=True, environ=editor.environ())
    assert r.code == 2 and "give the id of the entry" in r.err
    r = run("edit", "-q", "x", environ=editor.environ())  # not a terminal: say what changes
    assert r.code == 2 and "on a terminal" in r.err and "open in your editor" in r.err
    r = run("edit", "1", environ=editor.environ())  # not a terminal, nothing piped: as before
    assert r.code != 0 and "nothing to change" in r.err
    assert editor.runs() == []


def test_a_conflict_keeps_both_versions(run, made, editor, path):
    run("add", "mine")
    other = DIARY + ["--diary", path, "edit", "1", "--title", "Theirs"]
    editor.act({"run": other, "run_env": ELSEWHERE, "sub": [["^mine$", "my edit"]]})
    r = run("edit", "1", tty=True, environ=editor.environ(DIARY_PASSPHRASE=PASSPHRASE))
    assert r.code == 0 and "both are kept" in r.err, r
    assert [(e[1], e[2]) for e in _entries(made)] == [("Theirs", "mine"), ("", "my edit")]


def test_an_emptied_entry_changed_meanwhile_is_not_deleted(run, made, editor, path):
    run("add", "mine")
    other = DIARY + ["--diary", path, "edit", "1", "--title", "Theirs"]
    editor.act({"run": other, "run_env": ELSEWHERE, "sub": [["^mine$", ""]]})
    r = run("edit", "1", tty=True, stdin="y\n", environ=editor.environ())
    assert r.code == 0 and "not deleted" in r.err, r
    assert [(e[1], e[2]) for e in _entries(made)] == [("Theirs", "mine")]


def test_a_busy_diary_keeps_the_text_and_offers_to_retry(run, made, editor, monkeypatch):
    from diary import cli_editor
    from diary.errors import Busy

    real, calls = cli_editor.apply, []

    def flaky(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise Busy("the diary is busy (another session is writing)")
        return real(*args, **kw)

    monkeypatch.setattr(cli_editor, "apply", flaky)
    editor.act({"append": "kept through a busy diary"})
    r = run("add", tty=True, stdin="\n", environ=editor.environ())
    assert r.code == 0 and "could not save" in r.err and "Try again" in r.err, r
    assert [e[2] for e in _entries(made)] == ["\nkept through a busy diary"]


def test_a_diary_really_busy_at_the_save_keeps_the_text_and_offers_to_retry(
        run, made, editor, monkeypatch):
    # Another connection holding the write lock at the save made the driver
    # raise its own "database is locked", which the retry did not know: the
    # command ended with "the diary is busy" and the text was lost.
    from diary import cli_editor

    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.1)
    holder = store.open_diary(made, PASSPHRASE)
    real_edit, real_ask = cli_editor.edit_in_editor, cli_editor._ask

    def edit_then_hold(*args, **kw):
        parsed = real_edit(*args, **kw)
        holder.db.execute_sql("BEGIN IMMEDIATE")
        return parsed

    def ask(env, question):
        holder.db.execute_sql("ROLLBACK")  # the other session is done when asked
        return real_ask(env, question)

    monkeypatch.setattr(cli_editor, "edit_in_editor", edit_then_hold)
    monkeypatch.setattr(cli_editor, "_ask", ask)
    editor.act({"append": "kept through a locked diary"})
    try:
        r = run("add", tty=True, stdin="\n", environ=editor.environ())
    finally:
        holder.close()
    assert r.code == 0 and "could not save" in r.err and "Try again" in r.err, r
    assert [e[2] for e in _entries(made)] == ["\nkept through a locked diary"]


def test_ctrl_c_while_the_save_waits_keeps_the_text_and_asks(run, made, editor, monkeypatch):
    # After the editor closes, a busy diary makes the save wait (up to the
    # busy timeout, 10 s) with nothing on the screen; Ctrl-C then ended the
    # command ('diary: interrupted') and the text went with it, unasked.
    from diary import cli_editor

    real_apply, calls = cli_editor.apply, []

    def interrupted_once(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt()
        return real_apply(*args, **kw)

    monkeypatch.setattr(cli_editor, "apply", interrupted_once)
    editor.act({"append": "kept through Ctrl-C"})
    r = run("add", tty=True, stdin="\n", environ=editor.environ())
    assert r.code == 0 and "Interrupted" in r.err and "Try again" in r.err, r
    assert [e[2] for e in _entries(made)] == ["\nkept through Ctrl-C"]
    # answered no: nothing saved, said so
    calls.clear()
    r = run("add", tty=True, stdin="n\n", environ=editor.environ())
    assert r.code == 1 and "Nothing saved" in r.err, r
    assert len(_entries(made)) == 1


def test_a_passphrase_changed_while_the_editor_was_open_is_asked_and_the_text_saved(
        run, made, editor, path, tmp_path):
    # `diary passwd` in another terminal while the editor was open: the save
    # met "wrong passphrase, or not a diary file" (exit 3) and the text was lost.
    new = tmp_path / "new-passphrase"
    new.write_text("changed elsewhere\n")
    other = DIARY + ["--diary", path, "passwd", "--new-passphrase-file", str(new)]
    editor.act({"run": other, "run_env": ELSEWHERE, "append": "written while it changed"})
    # wrong tries never end it while the text waits; Enter alone asks before
    # throwing the text away (here: no, keep asking)
    r = run("add", tty=True, answers=["wrong", "wrong", "wrong", "", "changed elsewhere"],
            stdin="n\n", environ=editor.environ())
    assert r.code == 0 and "changed in another session" in r.err, r
    assert r.err.count("Wrong passphrase") == 3 and "Throw away" in r.err and len(r.asked) == 5
    with store.open_diary(made, "changed elsewhere") as d:
        assert [e.body for e in entries.list_entries(d)] == ["\nwritten while it changed"]


def test_ctrl_d_ctrl_c_or_a_bad_byte_at_the_new_passphrase_prompt_keep_the_text(
        run, made, editor, path, tmp_path):
    # Ctrl-D at 'New passphrase of the diary:' threw the text away at once
    # ('no passphrase given', 'Nothing saved.'), as did a typed byte the
    # terminal's encoding could not read, and Ctrl-C ended the command: while
    # Enter alone asks first. Each now asks before throwing the text away.
    new = tmp_path / "new-passphrase"
    new.write_text("changed elsewhere\n")
    other = DIARY + ["--diary", path, "passwd", "--new-passphrase-file", str(new)]
    editor.act({"run": other, "run_env": ELSEWHERE, "append": "kept through Ctrl-D"})
    r = run("add", tty=True, answers=[EOFError(), KeyboardInterrupt(), "bad\udcff",
                                      "changed elsewhere"],
            stdin="n\nn\n", environ=editor.environ())
    assert r.code == 0, r
    assert r.err.count("Throw away") == 2 and "Nothing saved" not in r.err, r.err
    assert len(r.asked) == 4
    with store.open_diary(made, "changed elsewhere") as d:
        assert [e.body for e in entries.list_entries(d)] == ["\nkept through Ctrl-D"]


def test_template_fills_date_weekday_time_and_leaves_other_braces(run, made, editor, tmp_path):
    folder = tmp_path / "config" / "templates"
    folder.mkdir(parents=True)
    (folder / "evening.txt").write_text("{weekday} {date} at {time}\nGood: {}\n{name} {{x}}\n")
    editor.act({"append": "done"})
    r = run("add", "--template", "evening", tty=True, environ=editor.environ())
    assert r.code == 0, r
    text = editor.runs()[0]["text"]
    import re

    assert re.search(r"\n\w+day \d{4}-\d\d-\d\d at \d\d:\d\d\nGood: \{\}\n\{name\} \{\{x\}\}\n",
                     text), text
    # without a terminal the filled template is the text itself
    r = run("add", "--template", "evening", "and more")
    assert r.code == 0, r
    assert _entries(made)[-1][2].endswith("{name} {{x}}\nand more")
    r = run("add", "--template", "nope", tty=True, environ=editor.environ())
    assert r.code == 1 and "no template 'nope'" in r.err and "evening.txt" in r.err


def test_a_template_for_another_day_is_filled_with_that_day(run, made, tmp_path):
    # `add --template evening --date ...` (yesterday's entry, written today)
    # was filled with today's date, weekday and time.
    folder = tmp_path / "config" / "templates"
    folder.mkdir(parents=True)
    (folder / "evening.txt").write_text("{weekday} {date} at {time}\n")
    r = run("add", "--template", "evening", "--date", "2024-03-02 21:30", "x")
    assert r.code == 0, r
    assert _entries(made)[-1][2] == "Saturday 2024-03-02 at 21:30\nx"


def test_a_template_is_filled_with_the_date_a_quick_entry_gives(run, made, tmp_path):
    # `add --template evening '2024-03-02 21:30: a night'`: the entry is
    # dated 2024-03-02 21:30 by its text, but the template said today's date,
    # weekday and time ("the entry's date", the README says).
    folder = tmp_path / "config" / "templates"
    folder.mkdir(parents=True)
    (folder / "evening.txt").write_text("{weekday} {date} at {time}\n")
    r = run("add", "--template", "evening", "2024-03-02 21:30: a night")
    assert r.code == 0, r
    with store.open_diary(made, PASSPHRASE) as d:
        e = entries.list_entries(d)[0]
        assert e.created_at.year == 2024
        assert e.body == "Saturday 2024-03-02 at 21:30\na night"


def _pty_run(argv, env, cwd=None):
    """Start ``argv`` with a pseudo-terminal as its stdin/stdout/stderr."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                         start_new_session=True)
    os.close(slave)
    return p, master


def _drain(master, p, timeout=30, answer=None):
    """Read the terminal until ``p`` ends; type ``answer`` at a [y]es prompt."""
    import select

    seen, deadline = b"", time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            seen += chunk
            if answer and b"[y]es" in seen:
                os.write(master, answer)
                answer = None
        elif p.poll() is not None:
            break
    p.wait(timeout=5)
    return seen.decode("utf-8", "replace")


def _process_env(editor, path, **more):
    env = editor.environ(**more)
    env.update({"DIARY_PATH": path, "DIARY_PASSPHRASE": PASSPHRASE, "HOME": os.environ["HOME"],
                "DIARY_CONFIG": os.path.join(os.path.dirname(path), "none.toml")})
    return env


def test_sigkill_while_editing_leaves_a_file_offered_at_the_next_start(run, made, editor, path):
    # The first editor writes its text, then (the wrapper below) waits until killed.
    editor.act({"append": "written before the crash"}, {"write": ""})
    env = _process_env(editor, path)
    hold = editor.bin / "holding"
    hold.write_text("#!/bin/sh\n%s \"$@\"\nsleep 30\n" % (editor.bin / "vim"))
    hold.chmod(0o755)
    env["EDITOR"] = str(hold)
    p, master = _pty_run(DIARY + ["add"], env)
    deadline = time.time() + 20
    while not editor.runs() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    [left] = editor.left()
    assert "written before the crash" in open(os.path.join(editor.runtime, left,
                                                           "entry.txt")).read()
    os.kill(p.pid, signal.SIGKILL)
    os.killpg(p.pid, signal.SIGKILL)  # the editor too, as a closed terminal would
    p.wait()
    os.close(master)
    assert editor.left() == [left]
    r = run("add", tty=True, stdin="y\n", environ=editor.environ("vim"))
    assert r.code == 0 and "did not finish" in r.err and "Saved as entry #1" in r.err, r
    assert editor.left() == []
    [(i, title, body, tags, starred, version)] = _entries(made)
    assert "written before the crash" in body and tags == ["recovered"]


def test_sigterm_while_editing_wipes_the_file(made, editor, path):
    editor.act({"append": "x", "sleep": 30})
    p, master = _pty_run(DIARY + ["add"], _process_env(editor, path))
    deadline = time.time() + 20
    while not editor.runs() and time.time() < deadline:
        time.sleep(0.05)
    assert editor.left()
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(timeout=10) == 130
    os.close(master)
    assert editor.left() == [] and _entries(made) == []


def test_sighup_while_editing_wipes_the_file_and_gives_the_terminal_back(made, editor, path):
    # A full-screen editor stopped by the diary (the terminal closed: SIGHUP;
    # or SIGTERM) has no time to undo its raw mode: the shell came back with
    # no echo and no line ends. The terminal is now as it was before the editor.
    import pty
    import termios

    editor.act({"raw": True, "append": "x", "sleep": 30})
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen(DIARY + ["add"], stdin=slave, stdout=slave, stderr=slave,
                         env=_process_env(editor, path), start_new_session=True)
    try:
        deadline = time.time() + 20
        while not editor.runs() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert termios.tcgetattr(slave) != before  # the editor's raw mode
        os.kill(p.pid, signal.SIGHUP)
        assert p.wait(timeout=10) == 130
        assert termios.tcgetattr(slave) == before
        assert editor.left() == [] and _entries(made) == []
    finally:
        os.close(slave)
        os.close(master)


def test_ctrl_c_goes_to_the_editor_not_the_diary(made, editor, path):
    editor.act({"append": "survived Ctrl-C", "sleep": 1})
    p, master = _pty_run(DIARY + ["add"], _process_env(editor, path))
    deadline = time.time() + 20
    while not editor.runs() and time.time() < deadline:
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGINT)  # the diary's own Ctrl-C: ignored while the editor runs
    out = _drain(master, p)
    assert p.returncode == 0, out
    assert editor.left() == [] and [e[2] for e in _entries(made)] == ["\nsurvived Ctrl-C"]


def test_a_leftover_longer_than_an_entry_is_saved_whole_in_parts(made, monkeypatch):
    """A leftover past an entry's size cap was cut to the cap, then wiped: the
    rest was lost. It is now saved whole, in parts, in one transaction."""
    import shutil
    import tempfile

    from diary import editsave, entries, store

    needs_tmpfs()
    monkeypatch.setattr(entries, "MAX_TEXT", 100)
    text = "".join("line %03d of what was written\n" % i for i in range(12))  # 360 chars
    runtime = tempfile.mkdtemp(prefix="test-left-", dir="/dev/shm")
    try:
        left = os.path.join(runtime, "diary-edit-%d-abc" % (2 ** 22 + 4321))  # no such pid
        os.mkdir(left, 0o700)
        with open(os.path.join(left, "entry.txt"), "w") as f:
            f.write(text)
        [(directory, found)] = editsave.leftovers({"XDG_RUNTIME_DIR": runtime}, None)
        assert found == text
        with store.open_diary(made, PASSPHRASE) as d:
            first = editsave.recover(d, directory, found)
            saved = entries.list_entries(d, newest_first=False)
        assert not os.path.exists(left)
        assert first.id == saved[0].id and len(saved) == 4
        assert "".join(e.body for e in saved) == text
        assert all(len(e.body) <= 100 and e.body.endswith("\n") for e in saved)
        assert [e.title for e in saved] == ["Recovered from the editor (part %d of 4)" % i
                                            for i in range(1, 5)]
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def test_an_editor_that_returns_at_once_gets_a_hint_to_wait(run, made, editor):
    """`code` without --wait opens a window and returns before a word is
    written: the file comes back untouched, and the message says how to fix it."""
    editor.act({})  # returns without touching the file
    r = run("add", tty=True, environ=editor.environ("code"))
    assert r.code == 0 and "Nothing saved" in r.err and "`code --wait`" in r.err, r
    r = run("add", tty=True, environ=editor.environ("code --wait"))
    assert r.code == 0 and "Nothing saved" in r.err and "--wait`" not in r.err, r
    r = run("add", tty=True, environ=editor.environ("vim"))
    assert "Nothing saved" in r.err and "wait" not in r.err, r
