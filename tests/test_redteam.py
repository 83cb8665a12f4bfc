"""Red-team findings (the redteam branch): each test failed before its fix."""

import json
import os
import stat

import pytest

from diary import private_dir
from test_cli_editor import _entries, editor  # noqa: F401 (the fixture)
from test_private_dir import _mountinfo


def test_a_header_that_lies_about_the_id_reopens_the_file_and_loses_nothing(
        run, made, editor):  # noqa: F811
    run("add", "mine")
    # the person (or a slip of the editor) turns "entry 1" into "entry 7", and
    # then into a number past any integer: the text written must come back
    editor.act({"sub": [["^--- diary entry 1 ", "--- diary entry 7 "],
                        ["^mine$", "precious words"]]},
               {"sub": [["^--- diary entry 7 ", "--- diary entry 99999999999999999999999 "]]},
               {"sub": [["^--- diary entry 9+ ", "--- diary entry %s " % ("9" * 5000)]]},
               {"sub": [["^--- diary entry 9+ ", "--- diary entry 1 "]]})
    r = run("edit", "1", tty=True, environ=editor.environ())
    assert r.code == 0, r
    runs = editor.runs()
    assert len(runs) == 4, [r['text'][:200] for r in runs]
    assert "precious words" in runs[1]["text"] and "entry 7" in runs[1]["text"].split("\n")[0]
    assert "precious words" in runs[2]["text"] and "precious words" in runs[3]["text"]
    assert "no entry has such a number" in runs[3]["text"].split("\n")[0]
    assert [e[2] for e in _entries(made)] == ["precious words"]


# --- the editor's private place --------------------------------------------------------

def _runtime(tmp_path, monkeypatch, mode):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run_dir.chmod(mode)
    monkeypatch.setattr(private_dir, "SHM", str(tmp_path / "no-shm"))
    return str(run_dir), _mountinfo(tmp_path, [("/", "ext4"), (str(run_dir), "tmpfs")])


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o707])
def test_a_runtime_dir_others_can_write_to_without_the_sticky_bit_is_refused(
        tmp_path, monkeypatch, mode):
    """Others who may write to the place may rename our directory away and put
    their own (or a symlink) under its name: the plaintext would go to them."""
    run_dir, info = _runtime(tmp_path, monkeypatch, mode)
    with pytest.raises(private_dir.NoPrivatePlace):
        private_dir.make("edit", {"XDG_RUNTIME_DIR": run_dir}, mountinfo=info)
    assert os.listdir(run_dir) == []


def test_a_runtime_dir_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    run_dir, info = _runtime(tmp_path, monkeypatch, 0o700)
    try:
        os.chown(run_dir, 4242, -1)  # root (with its capabilities) can
    except PermissionError:
        real = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: real + 1)
    with pytest.raises(private_dir.NoPrivatePlace):
        private_dir.make("edit", {"XDG_RUNTIME_DIR": run_dir}, mountinfo=info)
    assert os.listdir(run_dir) == []


def test_a_sticky_shared_place_and_a_private_one_are_used(tmp_path, monkeypatch):
    for mode in (0o1777, 0o700):
        run_dir, info = _runtime(tmp_path, monkeypatch, mode)
        made = private_dir.make("edit", {"XDG_RUNTIME_DIR": run_dir}, mountinfo=info)
        assert os.path.dirname(made) == run_dir and stat.S_IMODE(os.stat(made).st_mode) == 0o700
        private_dir.wipe(made)
        os.rmdir(run_dir)


def test_a_symlinked_runtime_dir_is_resolved_once(tmp_path, monkeypatch):
    """The directory is made in the symlink's target as checked, not through a
    link someone could point elsewhere between the check and the use."""
    run_dir, info = _runtime(tmp_path, monkeypatch, 0o700)
    link = tmp_path / "link"
    link.symlink_to(run_dir)
    made = private_dir.make("edit", {"XDG_RUNTIME_DIR": str(link)}, mountinfo=info)
    try:
        assert os.path.dirname(made) == run_dir
    finally:
        private_dir.wipe(made)


def test_an_editor_setting_holding_a_nul_is_a_clear_error(run, made, editor, tmp_path):  # noqa: F811
    """TOML can spell a NUL ("\\u0000"); running it raised ValueError: 'internal error'."""
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text('editor = "vim\\u0000 -x"\n')
    env = editor.environ()
    del env["EDITOR"]
    r = run("add", tty=True, environ=env)
    assert r.code == 2 and "NUL" in r.err and "internal error" not in r.err, r
    assert editor.runs() == []


def test_an_editor_that_saves_crlf_line_ends_still_saves(run, made, editor):  # noqa: F811
    """vim with fileformat=dos (or any editor set to CRLF) wrote every line
    back with \\r\\n: no entry line matched, the file could never parse, and
    the only way out was to discard what was written."""
    run("add", "--title", "Old", "old text")
    editor.act({"sub": [["^old text$", "new text\nsecond line"], ["\n", "\r\n"]]}, {})
    r = run("edit", "1", tty=True, stdin="d\n", environ=editor.environ())
    assert r.code == 0, r
    assert len(editor.runs()) == 1, r
    [(i, title, body, tags, starred, version)] = _entries(made)
    assert (title, body) == ("Old", "new text\nsecond line")


# --- imports -------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["ZIP_DEFLATED", "ZIP_BZIP2", "ZIP_LZMA"])
def test_a_dayone_zip_with_damaged_compressed_data_is_a_clear_error(run, made, tmp_path,
                                                                    method):
    """zlib.error and lzma.LZMAError are no OSError: 'internal error' before."""
    import io
    import zipfile

    journal = json.dumps({"metadata": {"version": "1.0"}, "entries": [
        {"creationDate": "2024-01-01T00:00:00Z", "text": "hello %d %s" % (i, "x" * 50)}
        for i in range(2000)]}).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", getattr(zipfile, method)) as z:
        z.writestr("Journal.json", journal)
    data = bytearray(buf.getvalue())
    for k in range(200, 400):
        data[k] ^= 0x5A
    p = tmp_path / "damaged.zip"
    p.write_bytes(bytes(data))
    r = run("import", "-f", "dayone", str(p))
    assert r.code == 1 and "cannot unpack" in r.err and "internal" not in r.err, r
    assert _entries(made) == []


_SURROGATE_CASES = {
    "jsonl": '{"uuid": "11111111-1111-4111-8111-111111111111", "created_at": '
             '"2024-01-01T00:00:00+00:00", "title": "%s", "body": "%s", "tags": [%s], '
             '"starred": false}\n',
    "dayone": '{"metadata": {}, "entries": [{"creationDate": "2024-01-01T00:00:00Z", '
              '"text": "%s\\n%s", "tags": [%s]}]}',
    "markdown": '---\ntitle: "%s"\ntags: [%s]\n---\n%s\n',
}


@pytest.mark.parametrize("fmt, where", [
    (fmt, where) for fmt in sorted(_SURROGATE_CASES) for where in ("title", "body", "tag")
    if (fmt, where) != ("markdown", "body")])  # a Markdown body is no YAML: no \u escapes
def test_an_import_holding_a_lone_surrogate_is_a_clear_error(run, made, tmp_path, fmt, where):
    """JSON and YAML spell a lone surrogate (\\ud800), which no UTF-8 can hold:
    SQLite's bind raised UnicodeEncodeError, 'internal error'."""
    bad = "x\\ud800y"
    title, body, tag = (bad if where == "title" else "t", bad if where == "body" else "b",
                        '"%s"' % bad if where == "tag" else '"a"')
    text = _SURROGATE_CASES[fmt]
    if fmt == "markdown":
        text = text % (title, tag, body)
    else:
        text = text % (title, body, tag)
    p = tmp_path / ("in." + fmt)
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    r = run("import", "-f", fmt, str(p))
    assert r.code == 1 and "surrogate" in r.err and "internal" not in r.err, r
    assert _entries(made) == []


def test_a_lone_surrogate_in_an_entry_is_refused_by_the_library(diary):
    from diary import entries
    from diary.errors import BadInput

    for kwargs in ({"body": "a\ud800"}, {"body": "a", "title": "\udfff"},
                   {"body": "a", "tags": ["t\ud800"]}):
        with pytest.raises(BadInput, match="surrogate"):
            entries.add(diary, **kwargs)


@pytest.mark.parametrize("fmt", ["%Y%Y", "%d %d.%m.%Y %H:%M", "%H:%M %H"])
def test_a_time_format_naming_a_field_twice_is_a_usage_error(run, made, tmp_path, fmt):
    """strptime raises re.error (no ValueError) for a directive given twice:
    'internal error' before."""
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-05 09:00] Hello there.\nbody\n")
    r = run("import", "-f", "jrnl", "--time-format", fmt, str(p))
    assert r.code == 2 and "--time-format" in r.err and "internal" not in r.err, r


def test_an_entry_deleted_while_in_the_editor_is_not_said_to_be_kept(run, made, editor, path):  # noqa: F811,E501
    """It went to the trash in another session: 'both are kept' was untrue (the
    trash purges it after trash_days)."""
    from test_cli_editor import DIARY, ELSEWHERE

    run("add", "mine")
    other = DIARY + ["--diary", path, "delete", "1", "--yes"]
    # the other session has its own passphrase source: the editor is given none
    editor.act({"run": other, "run_env": ELSEWHERE, "sub": [["^mine$", "my edit"]]})
    r = run("edit", "1", tty=True, environ=editor.environ())
    assert r.code == 0 and "both are kept" not in r.err, r
    assert "deleted in another session" in r.err and "new entry #2" in r.err, r
    assert [(e[0], e[2]) for e in _entries(made)] == [(2, "my edit")]


def test_the_menu_says_an_entry_deleted_while_in_the_editor_was_deleted(diary, made, editor):  # noqa: F811,E501
    """The menu's E key: the same untrue 'both are kept' as `diary edit`."""
    from diary import entries
    from test_cli_editor import DIARY, ELSEWHERE
    from test_menu import CTRL_C, ENTER, drive

    from conftest import PASSPHRASE

    entries.add(diary, "original")
    other = DIARY + ["--diary", made, "delete", "1", "--yes"]
    # the other session has its own passphrase source: the editor is given none
    editor.act({"run": other, "run_env": ELSEWHERE,
                "sub": [["^original$", "original + mine"]]})
    s = drive(diary, ("Write a new entry", "b"), ("All entries", ENTER), ("original", "E"),
              ("in another session", CTRL_C), ("All entries", CTRL_C), ("Write", "q"),
              external={"argv": ["vim"], "tmpdir": None,
                        "environ": editor.environ(DIARY_PASSPHRASE=PASSPHRASE)})
    screen = "".join(next(x for x in s.driver.screens if "in another session" in x).split())
    assert "deletedinanothersession" in screen and "bothare" not in screen, screen
    assert entries.get(diary, 2).body == "original + mine"


def test_text_left_by_a_killed_session_is_offered_only_to_its_own_diary(
        run, made, editor, path, tmp_path):  # noqa: F811
    """A session on one diary killed midway; the next `diary add` on ANOTHER
    diary offered its text to be saved there (the work diary's words in the
    family diary, on one careless 'y'). Offered to its own diary only."""
    import signal
    import time

    from diary import store as _store
    from test_cli_editor import DIARY, _process_env, _pty_run

    other = str(tmp_path / "other" / "other.db")
    _store.create(other, "correct horse battery staple")
    editor.act({"append": "words of the first diary"}, {"write": ""})
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
    os.kill(p.pid, signal.SIGKILL)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    os.close(master)
    [left] = editor.left()
    r = run("add", tty=True, stdin="y\n", environ=editor.environ("vim"), diary_path=other)
    assert "did not finish" not in r.err, r
    assert editor.left() == [left]
    with _store.open_diary(other, "correct horse battery staple") as d:
        from diary import entries as _entries_mod
        assert not any("words of the first diary" in e.body
                       for e in _entries_mod.list_entries(d))
    r = run("add", tty=True, stdin="y\n", environ=editor.environ("vim"))
    assert "did not finish" in r.err and "Saved as entry #1" in r.err, r
    assert "words of the first diary" in _entries(made)[0][2] and editor.left() == []


def test_an_editor_name_that_is_not_utf8_is_a_clear_error(run, made, editor):  # noqa: F811
    """$EDITOR holding bytes that are not UTF-8 reaches Python as a lone
    surrogate (os.environ's surrogateescape): the editor's name written into
    the memo table raised UnicodeEncodeError, 'internal error'."""
    env = editor.environ()
    env["EDITOR"] = b"vi\xff".decode("utf-8", "surrogateescape")
    r = run("add", tty=True, environ=env)
    assert r.code == 2 and "UTF-8" in r.err and "internal" not in r.err, r
    assert editor.runs() == [] and _entries(made) == []
