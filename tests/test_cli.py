"""The command line, run in-process with injected streams."""

import json
import os

import pytest

from diary import cli, entries

from conftest import PASSPHRASE, file_bytes

ANSI_ESC = "\x1b["


def test_add_prints_id_and_list_shows_it(run, made):
    r = run("add", "--title", "First", "some", "words")
    assert (r.code, r.out) == (0, "1\n")
    r = run("list")
    assert r.code == 0
    assert "First" in r.out and ANSI_ESC not in r.out


def test_init_creates_the_diary_private(run, path):
    assert not os.path.exists(path)
    r = run("init")
    assert r.code == 0
    assert os.stat(path).st_mode & 0o777 == 0o600


@pytest.mark.parametrize("argv", [["add", "hello"], ["import", "IMPORT"], ["list"],
                                  ["export"], ["backup", "BACKUP"]])
def test_only_init_creates_a_diary(run, path, tmp_path, argv):
    """A mistyped --diary never becomes a new, empty diary (issue 16, defect 11)."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"created_at": "2024-03-02T21:30:00+01:00", "body": "x"}\n')
    argv = [str(source) if a == "IMPORT" else str(tmp_path / "b.db") if a == "BACKUP" else a
            for a in argv]
    for tty in (False, True):
        r = run(*argv, tty=tty, answers=["s3cret", "s3cret"])
        assert (r.code, r.err) == (1, "diary: no diary at %s (create one with `diary init`)\n"
                                   % path), (argv, r)
        assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))


def test_add_reads_stdin_when_piped(run, made):
    run("add", stdin="from a pipe\nsecond line\n")
    r = run("show", "1", "--json")
    assert json.loads(r.out)[0]["body"] == "from a pipe\nsecond line"


def test_add_with_nothing_is_an_error(run, path):
    r = run("add", stdin="  \n")
    assert r.code == 1 and r.err.startswith("diary: nothing to add")
    assert not os.path.exists(path)


def test_add_natural_date_and_star(run, made):
    run("add", "--date", "2024-03-02 21:30", "--star", "a")
    run("add", "--date", "yesterday 21:30", "b")
    rec = json.loads(run("list", "--json").out)
    by_body = {r["body"]: r for r in rec}
    assert by_body["a"]["created_at"].startswith("2024-03-02T21:30:00")
    assert by_body["a"]["starred"] is True
    assert "T21:30:00" in by_body["b"]["created_at"]


def test_bad_date_is_a_one_line_error(run):
    r = run("add", "--date", "the day after never", "x")
    assert r.code == 1
    assert r.err.count("\n") == 1 and "cannot understand the date" in r.err


def test_list_filters_and_limit(run, made):
    for day, star in (("2024-01-01", False), ("2024-02-01", True), ("2024-03-01", False)):
        args = ["add", "--date", day, "entry " + day] + (["--star"] if star else [])
        assert run(*args).code == 0
    bodies = lambda r: [e["body"] for e in json.loads(r.out)]
    assert bodies(run("list", "--json")) == ["entry 2024-03-01", "entry 2024-02-01",
                                             "entry 2024-01-01"]
    assert bodies(run("list", "--json", "-n", "1")) == ["entry 2024-03-01"]
    assert bodies(run("list", "--json", "--since", "2024-02-01", "--until", "2024-02-01")) == [
        "entry 2024-02-01"]
    assert bodies(run("list", "--json", "--starred")) == ["entry 2024-02-01"]


def test_json_shape_is_stable(run, made):
    run("add", "--title", "T", "--date", "2024-03-02T10:00:00+00:00", "body")
    [rec] = json.loads(run("show", "1", "--json").out)
    assert list(rec) == ["id", "uuid", "created_at", "updated_at", "title", "body", "starred",
                         "tags", "version"]
    assert rec["created_at"][-6] in "+-"  # an explicit offset


def test_show_unknown_entry(run, made):
    run("add", "x")
    r = run("show", "1", "42")
    assert (r.code, r.err) == (1, "diary: no entry with id 42\n")


def test_edit_from_stdin_and_flags(run, made):
    run("add", "--title", "old", "old text")
    assert run("edit", "1", "--title", "new", "--stdin", stdin="new text\n").code == 0
    assert run("edit", "1", "--star").code == 0
    [rec] = json.loads(run("show", "1", "--json").out)
    assert (rec["title"], rec["body"], rec["starred"], rec["version"]) == (
        "new", "new text", True, 3)
    assert run("edit", "1", "--unstar").code == 0
    assert json.loads(run("show", "1", "--json").out)[0]["starred"] is False


def test_edit_with_nothing_to_change(run):
    run("add", "x")
    r = run("edit", "1")
    assert r.code == 1 and "nothing to change" in r.err


def test_delete_needs_yes_off_terminal(run, made):
    run("add", "x")
    r = run("delete", "1")
    assert r.code == 2 and "--yes" in r.err
    assert run("delete", "1", "--yes").code == 0
    assert json.loads(run("list", "--json").out) == []


def test_delete_asks_on_a_terminal(run, made):
    run("add", "keep me")
    r = run("delete", "1", tty=True, stdin="n\n")
    assert r.code == 1 and "Nothing deleted" in r.err
    assert run("delete", "1", tty=True, stdin="y\n").code == 0
    assert run("show", "1").code == 1


# --- passphrase sources ----------------------------------------------------------

def test_no_passphrase_without_terminal(run, path):
    r = run("init", environ={"DIARY_PASSPHRASE": None})
    assert r.code == 3 and "no passphrase" in r.err
    assert not os.path.exists(path)


def test_passphrase_file_wins_over_environment(run, made, tmp_path):
    run("add", "x")
    pw = tmp_path / "pw"
    pw.write_text(PASSPHRASE + "\n")
    r = run("list", "--passphrase-file", str(pw), environ={"DIARY_PASSPHRASE": "wrong"})
    assert r.code == 0, r
    pw.write_text("wrong\r\n" + PASSPHRASE)
    assert run("list", "--passphrase-file", str(pw)).code == 3  # first line only


def test_passphrase_fd(run, made):
    run("add", "x")
    rfd, wfd = os.pipe()
    os.write(wfd, (PASSPHRASE + "\nignored\n").encode())
    os.close(wfd)
    try:
        r = run("list", "--passphrase-fd", str(rfd), environ={"DIARY_PASSPHRASE": "wrong"})
    finally:
        os.close(rfd)
    assert r.code == 0, r


def test_environment_wins_over_prompt(run, made):
    run("add", "x")
    r = run("list", tty=True, answers=["wrong"])
    assert r.code == 0 and r.asked == []


def test_prompt_on_a_terminal(run):
    r = run("init", tty=True, environ={"DIARY_PASSPHRASE": None},
            answers=["s3cret", "s3cret"])
    assert r.code == 0 and r.asked == ["New passphrase: ", "Repeat it: "]
    r = run("list", tty=True, environ={"DIARY_PASSPHRASE": None}, answers=["s3cret"])
    assert r.code == 0 and r.asked == ["Passphrase: "]
    r = run("list", tty=True, environ={"DIARY_PASSPHRASE": None}, answers=["nope"])
    assert r.code == 3


def test_creation_refuses_mismatch_and_blank(run, path):
    r = run("init", tty=True, environ={"DIARY_PASSPHRASE": None}, answers=["a", "b"])
    assert r.code == 1 and "differ" in r.err
    r = run("init", tty=True, environ={"DIARY_PASSPHRASE": None}, answers=[" ", " "])
    assert r.code == 1 and "empty or blank" in r.err
    assert not os.path.exists(path)


def test_there_is_no_passphrase_flag(run):
    r = run("list", "--passphrase", "secret")
    assert r.code == 2 and "secret" not in r.err


def test_wrong_passphrase_exit_3_file_unchanged(run, made, path):
    run("add", "x")
    before = file_bytes(path)
    r = run("list", environ={"DIARY_PASSPHRASE": "wrong"})
    assert (r.code, r.err) == (3, "diary: wrong passphrase, or not a diary file\n")
    assert file_bytes(path) == before


# --- passwd --------------------------------------------------------------------

def test_passwd_with_files(run, made, tmp_path):
    run("add", "kept")
    new = tmp_path / "new"
    new.write_text("brand new passphrase\n")
    assert run("passwd", "--new-passphrase-file", str(new)).code == 0
    assert run("list").code == 3
    r = run("list", "--json", environ={"DIARY_PASSPHRASE": "brand new passphrase"})
    assert [e["body"] for e in json.loads(r.out)] == ["kept"]


def test_passwd_with_prompts(run, made):
    run("add", "kept")
    r = run("passwd", tty=True, answers=["other one", "other one"])
    assert r.code == 0, r
    assert run("list", environ={"DIARY_PASSPHRASE": "other one"}).code == 0
    assert run("list").code == 3
    r = run("passwd", tty=True, environ={"DIARY_PASSPHRASE": "other one"},
            answers=[PASSPHRASE, PASSPHRASE])
    assert r.code == 0
    assert run("list").code == 0


def test_passwd_refuses_blank_and_keeps_the_old(run, made, tmp_path):
    run("add", "kept")
    new = tmp_path / "new"
    new.write_text("   \n")
    r = run("passwd", "--new-passphrase-file", str(new))
    assert r.code == 1 and "empty or blank" in r.err
    assert run("list").code == 0


# --- global behaviour ------------------------------------------------------------

def test_global_options_before_or_after_the_command(run, made, tmp_path):
    other = str(tmp_path / "other.db")
    assert run("init", "--diary", other).code == 0
    assert run("--diary", other, "add", "one").code == 0
    assert run("add", "two", "--diary", other).code == 0
    r = run("list", "--json", "--diary", other)
    assert [e["body"] for e in json.loads(r.out)] == ["two", "one"]


def test_read_only_refuses_writes_before_asking(run, made):
    run("add", "x")
    for argv in (["add", "y"], ["edit", "1", "--star"], ["delete", "1", "--yes"], ["passwd"],
                 ["init"]):
        r = run("--read-only", *argv, tty=True, answers=["should not be asked"])
        assert (r.code, r.err) == (1, "diary: this session is read-only\n"), argv
        assert r.asked == []
    assert run("--read-only", "list").code == 0


def test_usage_errors_exit_2_with_one_line(run):
    for argv in (["frobnicate"], ["list", "-n", "x"], ["show"], ["show", "abc"]):
        r = run(*argv)
        assert r.code == 2, argv
        assert r.err.count("\n") == 1 and r.err.startswith("diary: ")


def test_every_command_has_help_with_an_example(run):
    for name in cli.COMMANDS:
        r = run(name, "--help")
        assert r.code == 0, name
        assert "example:" in r.out and "diary " + name in r.out, name
    r = run("--help")
    assert r.code == 0 and all(name in r.out for name in cli.COMMANDS)


def test_every_command_resolves_to_the_module_that_defines_it():
    # cli.py imports a command's module only when that command runs: the table
    # must name, for every command, the module that registers it, and every
    # command some cli_* module defines must be in the table.
    import importlib
    import pkgutil

    import diary

    for info in pkgutil.iter_modules(diary.__path__):
        if info.name.startswith("cli_"):
            importlib.import_module("diary." + info.name)
    assert set(cli.HANDLERS) == set(cli.COMMANDS)
    for name, (module, _) in cli.COMMANDS.items():
        assert cli.HANDLERS[name][0].__module__ == "diary." + module, name


def test_help_lists_every_command_with_its_help_line_in_order(run):
    out = run("--help").out
    listed = [line.split()[0] for line in out.splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed == list(cli.COMMANDS)
    flat = " ".join(out.split())
    for name, (_, help) in cli.COMMANDS.items():
        assert "%s %s" % (name, " ".join(help.split())) in flat, name


def test_version(run):
    from diary import __version__

    r = run("--version")
    assert (r.code, r.out) == (0, "diary %s\n" % __version__)


def test_internal_errors_never_show_a_traceback(run, made, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret entry text")

    run("add", "x")
    monkeypatch.setattr(entries, "add", boom)
    r = run("add", "x")
    assert r.code == 1
    assert r.err == "diary: internal error (RuntimeError); rerun with --debug for details\n"
    r = run("add", "x", "--debug")
    assert "Traceback" in r.err and r.code == 1


def test_terminal_output_is_rich_and_escapes_hostile_text(run, made):
    run("add", "--title", "evil \x1b]52;c;aGk=\x07 [link=http://x]click[/link] [/bold]",
        "\x1b[2J cleared? \u202e reversed")
    for argv in (["list"], ["show", "1"]):
        for tty in (True, False):
            r = run(*argv, tty=tty)
            assert r.code == 0
            assert "\x1b]" not in r.out and "\x1b[2J" not in r.out and "\u202e" not in r.out
            assert "\\x1b" in r.out
            assert "[link=http://x]" in r.out  # shown as text, not turned into a link
    r = run("show", "1", tty=True, environ={"NO_COLOR": "1"})
    assert "\\u202e" in r.out


def test_plain_output_when_piped(run, made):
    run("add", "--title", "T", "--star", "body")
    r = run("list")
    assert ANSI_ESC not in r.out
    assert r.out.split("\t")[0] == "1"
    r = run("show", "1")
    assert ANSI_ESC not in r.out and "body" in r.out


def test_missing_diary_is_reported_before_asking(run, path):
    r = run("list", tty=True, environ={"DIARY_PASSPHRASE": None}, answers=["x"])
    assert r.code == 1 and r.asked == []
    assert r.err == "diary: no diary at %s (create one with `diary init`)\n" % path


def test_edit_with_flags_never_takes_piped_input_as_text(run, made):
    """`... | while read id; do diary edit $id --star; done` must not eat the loop's input."""
    run("add", "first")
    run("add", "second")
    r = run("edit", "1", "--star", stdin="2\n")
    assert r.code == 0
    [rec] = json.loads(run("show", "1", "--json").out)
    assert (rec["body"], rec["starred"]) == ("first", True)
    assert run("edit", "2", stdin="replaced\n").code == 0  # alone: the pipe is the text
    assert json.loads(run("show", "2", "--json").out)[0]["body"] == "replaced"


def test_invalid_utf8_in_stdin_or_arguments(run):
    run("add", "x")
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")
    r = run("add", stdin=bad)
    assert (r.code, r.err) == (1, "diary: the text on stdin is not valid UTF-8\n")
    r = run("add", "--title", bad, "x")
    assert (r.code, r.err) == (2, "diary: an argument is not valid UTF-8\n")


def test_huge_numbers_are_usage_errors(run):
    run("add", "x")
    for argv in (["show", "99999999999999999999999"], ["list", "--offset", "1" + "0" * 20]):
        r = run(*argv)
        assert r.code == 2 and r.err.count("\n") == 1, (argv, r)


def test_out_of_range_dates_are_one_line_errors(run):
    run("add", "x")
    for argv in (["add", "--date", "0001-01-01", "y"], ["list", "--until", "9999-12-31"],
                 ["list", "--since", "0001-01-01"], ["search", "to:0001-01-01 x"]):
        r = run(*argv)
        assert r.code in (0, 1), (argv, r)
        assert "internal error" not in r.err, (argv, r)


def test_json_on_a_terminal_shows_bidi_and_c1_escaped(run, made):
    run("add", "--title", "a\u202eb\x9bc", "x")
    r = run("show", "1", "--json", tty=True)
    assert "\u202e" not in r.out and "\x9b" not in r.out
    r = run("show", "1", "--json")  # piped: raw data
    assert json.loads(r.out)[0]["title"] == "a\u202eb\x9bc"


def test_reading_commands_upgrade_an_older_diary_once(run, path):
    from diary import store

    store.create(path, PASSPHRASE, schema_version=1)
    r = run("list", "--read-only")
    assert r.code == 1 and "older format" in r.err  # asked for: nothing written
    r = run("list")
    assert r.code == 0, r
    assert run("search", "anything").code == 0


def test_nul_in_a_passphrase_file(run, made, tmp_path):
    run("add", "x")
    pw = tmp_path / "pw"
    pw.write_bytes(b"a\x00b\n")
    r = run("list", "--passphrase-file", str(pw))
    assert (r.code, r.err) == (3, "diary: wrong passphrase, or not a diary file\n")


def test_missing_passphrase_names_the_options_of_that_passphrase(run, made):
    run("add", "x")
    r = run("passwd")
    assert r.code == 3 and "--new-passphrase-file" in r.err and "DIARY_PASSPHRASE" not in r.err


def test_data_formats_on_a_terminal_are_cleaned(run, made):
    run("add", "--title", "evil \x1b]52;c;aGk=\x07 title", "x")
    for argv in (["export", "--format", "txt"], ["export", "--format", "csv"],
                 ["query", "--csv", "SELECT title FROM entry"], ["export"]):
        r = run(*argv, tty=True)
        assert r.code == 0, (argv, r)
        assert "\x1b" not in r.out and "\x07" not in r.out, argv  # no raw escape at all
    r = run("export", "--format", "txt")  # piped: the export is raw data
    assert "\x1b]52" in r.out


def test_help_width_is_the_one_argparse_would_take(monkeypatch):
    # cli._help_width stands in for shutil.get_terminal_size (not imported at start-up).
    import shutil

    for columns in ("120", "57", "0", "-3", "wide", None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert cli._help_width() == shutil.get_terminal_size().columns - 2, columns
