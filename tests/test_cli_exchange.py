"""export, import, backup, check and merge from the command line (in-process)."""

import dataclasses
import io
import json
import os
import shutil
import stat
import sys
import types

import pytest

import diary as diary_pkg
from diary import cli, entries, store

from conftest import PASSPHRASE

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture
def filled(run, made):
    with store.open_diary(made, PASSPHRASE) as d:
        entries.add(d, "Ran 12 km by the river.", title="Long run", tags=["health/running"])
        entries.add(d, "A quiet day.", starred=True)
    return made


def one_line_error(r, code):
    assert r.code == code, r
    assert r.err.startswith("diary: ") and r.err.count("\n") == 1, r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize("name", ["export", "import", "backup", "check", "merge"])
def test_help_has_an_example(run, name):
    r = run(name, "--help")
    assert r.code == 0 and "example:\n  diary " + name in r.out


def test_check_help_says_it_changes_nothing(run):
    assert "changes none of your data" in " ".join(run("check", "--help").out.split())


# --- export ---------------------------------------------------------------------------

def test_export_to_stdout_is_read_only_and_complete(run, filled):
    r = run("export", "--read-only")
    assert r.code == 0 and r.err == ""
    assert [x["title"] for x in json.loads(r.out)] == ["Long run", ""]
    r = run("export", "-f", "jsonl", "--starred")
    assert [json.loads(line)["body"] for line in r.out.splitlines()] == ["A quiet day."]
    r = run("export", "-f", "jsonl", "--tag", "health")
    assert len(r.out.splitlines()) == 1


def test_export_to_a_file(run, filled, tmp_path):
    p = str(tmp_path / "all.json")
    r = run("export", "-o", p)
    assert r.code == 0 and r.out == "" and "Exported 2 entries" in r.err
    assert os.stat(p).st_mode & 0o777 == 0o600
    before = open(p).read()
    r = run("export", "-o", p, "-f", "csv")
    one_line_error(r, 1)
    assert "--force" in r.err and open(p).read() == before
    assert run("export", "-o", p, "-f", "csv", "--force").code == 0
    assert open(p).read().startswith("uuid,created_at")


def _special_files(tmp_path):
    """Names that are not regular files: a FIFO, a symlink, and as root a device node
    (the numbers of /dev/full, made in tmp_path: the real one is never touched)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    found = [fifo, link]
    if os.geteuid() == 0:
        device = tmp_path / "full"
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
        found.append(device)
    return found


@pytest.mark.parametrize("command", [["export", "-o"], ["export", "-f", "txt", "-o"],
                                     ["backup"]])
def test_force_replaces_only_regular_files(run, filled, tmp_path, command):
    """Issue 16, defect 8: --force once turned a FIFO (and as root /dev/full) into a file."""
    specials = _special_files(tmp_path)
    listing = sorted(os.listdir(tmp_path))
    for special in specials:
        before = os.lstat(special)
        r = run(*command, str(special), "--force")
        one_line_error(r, 1)
        assert "not a regular file" in r.err and str(special) in r.err, r.err
        after = os.lstat(special)
        assert (after.st_mode, after.st_ino, after.st_rdev) == \
            (before.st_mode, before.st_ino, before.st_rdev)
    assert sorted(os.listdir(tmp_path)) == listing  # no temporary left behind
    assert (tmp_path / "target.txt").read_text() == "keep"


def test_export_split_force_never_replaces_a_special_file(run, filled, tmp_path):
    d = tmp_path / "notes"
    assert run("export", "--split", str(d)).code == 0
    name = sorted(os.listdir(d))[0]
    os.unlink(d / name)
    os.mkfifo(d / name)
    r = run("export", "--split", str(d), "--force")
    one_line_error(r, 1)
    assert "not a regular file" in r.err
    assert stat.S_ISFIFO(os.lstat(d / name).st_mode)


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_export_output_dash_and_dev_stdout_mean_stdout(run, filled, target):
    r = run("export", "-o", target, "-f", "jsonl")
    assert r.code == 0, r
    assert [json.loads(line)["body"] for line in r.out.splitlines()] == \
        ["Ran 12 km by the river.", "A quiet day."]
    assert not os.path.exists("-")  # never a file named "-"


def test_export_refuses_before_asking_for_the_passphrase(run, filled, tmp_path):
    p = tmp_path / "x.json"
    p.write_text("keep")
    r = run("export", "-o", str(p), tty=True, environ={"DIARY_PASSPHRASE": None})
    one_line_error(r, 1)
    assert r.asked == []


def test_export_split(run, filled, tmp_path):
    d = str(tmp_path / "notes")
    assert run("export", "--split", d).code == 0
    assert len(os.listdir(d)) == 2
    assert run("export", "--split", d, "-f", "csv").code == 2


def test_export_query_runs_under_the_read_only_authorizer(run, filled, monkeypatch):
    """--query pages through search.search (a stand-in here) and filters by id."""
    calls = []

    @dataclasses.dataclass
    class Results:
        total: int
        hits: list

    def search(d, text, *, limit=20, offset=0, sort="rank", snippets=True):
        calls.append((limit, offset, sort, snippets))
        found = [e for e in entries.list_entries(d, newest_first=False) if text in e.body]
        return Results(len(found), [types.SimpleNamespace(entry=e)
                                    for e in found[offset:offset + limit]])

    fake = types.ModuleType("diary.search")
    fake.search = search
    fake.parse = lambda text: text  # a stand-in's query is its text
    monkeypatch.setitem(sys.modules, "diary.search", fake)
    monkeypatch.setattr(diary_pkg, "search", fake, raising=False)
    r = run("export", "-f", "jsonl", "-q", "river")
    assert r.code == 0, r
    assert [json.loads(line)["title"] for line in r.out.splitlines()] == ["Long run"]
    assert calls == [(1000, 0, "oldest", False)]  # no snippets: an export drops them


# The progress bar: tests/test_exchange_progress.py


# --- import ---------------------------------------------------------------------------------

def test_import_reports(run, made):
    r = run("import", os.path.join(FIXTURES, "jrnl", "journal.txt"))
    assert r.code == 0, r
    assert "Imported 9 entries; skipped 0" in r.err
    r = run("import", os.path.join(FIXTURES, "jrnl", "journal.json"), "--json")
    assert json.loads(r.out) == {"added": 0, "skipped": 9, "skipped_empty": 0, "warnings": []}


def test_import_of_a_missing_file_creates_no_diary(run, path, tmp_path):
    r = run("import", str(tmp_path / "nothing.json"))
    one_line_error(r, 1)
    assert not os.path.exists(path)


def test_import_bad_file_is_one_line_and_changes_nothing(run, filled, tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"created_at": "2024-01-01T10:00:00", "body": "fine"}\n{"created_at": }\n')
    r = run("import", str(p))
    one_line_error(r, 1)
    assert r.err == "diary: line 2: invalid JSON (Expecting value)\n"
    assert len(json.loads(run("export").out)) == 2


def test_import_refused_read_only(run, filled):
    one_line_error(run("import", "--read-only", os.path.join(FIXTURES, "jrnl", "journal.txt")),
                   1)


def test_import_peewee_diary_passphrase_sources(run, made, tmp_path):
    src = os.path.join(FIXTURES, "peewee", "diary.db")
    secret = tmp_path / "pw.txt"
    secret.write_text("peewee example passphrase\n")
    r = run("import", src)  # no terminal, no source passphrase: refused
    assert r.code == 3 and "no passphrase" in r.err
    r = run("import", src, tty=True, answers=["wrong"])
    one_line_error(r, 1)
    assert "wrong passphrase for" in r.err and r.asked == ["Passphrase of %s: " % src]
    r = run("import", src, "--source-passphrase-file", str(secret))
    assert r.code == 0 and "Imported 3 entries" in r.err
    fd = os.open(str(secret), os.O_RDONLY)
    try:
        r = run("import", src, "--source-passphrase-fd", str(fd))
    finally:
        os.close(fd)
    assert r.code == 0 and "Imported 0 entries; skipped 3" in r.err


# --- backup, check, merge -----------------------------------------------------------------------

def test_backup(run, filled, tmp_path):
    p = str(tmp_path / "copy.db")
    r = run("backup", p)
    assert r.code == 0 and "Backed up 2 entries" in r.err
    assert json.loads(run("export", diary_path=p).out) == json.loads(run("export").out)
    one_line_error(run("backup", p), 1)


def test_check_reports_ok(run, filled):
    assert run("check").out == "ok\n"


@pytest.fixture
def laptop(filled, tmp_path):
    other = str(tmp_path / "laptop.db")
    shutil.copy(filled, other)
    with store.open_diary(other, PASSPHRASE) as o:
        entries.add(o, "Written on the laptop", title="Train")
    return other


def test_merge_with_the_same_passphrase_asks_nothing(run, laptop):
    r = run("merge", laptop, "--json", tty=True)
    assert r.code == 0 and r.asked == []
    assert json.loads(r.out) == {"taken": 1, "conflicts": 0, "deleted": 0, "kept": 0,
                                 "recorded": 0, "joined": 0, "unchanged": 2,
                                 "kept_uuids": []}
    assert "Merged: 1 taken" in r.err
    assert json.loads(run("merge", laptop, "--json").out)["taken"] == 0


def test_merge_with_another_passphrase(run, laptop, tmp_path):
    with store.open_diary(laptop, PASSPHRASE) as o:
        store.change_passphrase(o, "laptop secret")
    r = run("merge", laptop)  # not on a terminal: cannot ask
    one_line_error(r, 1)
    assert "--source-passphrase-file" in r.err
    r = run("merge", laptop, tty=True, answers=["still wrong"])
    one_line_error(r, 1)
    r = run("merge", laptop, tty=True, answers=["laptop secret"])
    assert r.code == 0 and "1 taken" in r.err
    secret = tmp_path / "laptop.txt"
    secret.write_text("laptop secret\n")
    r = run("merge", laptop, "--source-passphrase-file", str(secret), "--json")
    assert json.loads(r.out)["unchanged"] == 3


def test_merge_refused_read_only(run, laptop):
    one_line_error(run("merge", laptop, "--read-only"), 1)


# --- issue 21: what an import says when it reads little or nothing -------------------------

def test_import_that_reads_nothing_says_so_and_exits_1(run, made, tmp_path):
    # A jrnl folder journal read as Markdown once said "Imported 0 entries", exit 0.
    folder = tmp_path / "journal" / "2024" / "03"
    folder.mkdir(parents=True)
    (folder / "02.txt").write_text("[2024-03-02 21:30] Run.\n")
    r = run("import", "--format", "markdown", str(tmp_path / "journal"))
    one_line_error(r, 1)
    assert "found nothing in" in r.err and "--format jrnl-folder" in r.err
    r = run("import", str(tmp_path / "journal"))  # guessed: jrnl-folder
    assert r.code == 0 and "Imported 1 entry" in r.err, r


def test_really_empty_source_is_0_entries(run, made, tmp_path):
    for name, text in (("e.json", "[]\n"), ("e.txt", ""), ("e.csv",
                       "uuid,created_at,updated_at,title,body,tags,starred\r\n")):
        p = tmp_path / name
        p.write_text(text)
        r = run("import", str(p))
        assert r.code == 0 and r.err == "0 entries in %s\n" % p, r
    (tmp_path / "empty").mkdir()
    r = run("import", str(tmp_path / "empty"))
    assert r.code == 0 and "0 entries in" in r.err, r


def test_import_warnings_are_one_line_each(run, made, tmp_path):
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-01 10:00] First.\n[a long bracket] x\n[2024-01-02 10:00] \n")
    r = run("import", "--format", "jrnl", str(p))
    assert r.code == 0, r
    lines = r.err.splitlines()
    assert lines[0].startswith("diary: warning: line 2: [a long bracket] reads as no date")
    assert lines[1] == "diary: warning: line 3: an entry with no title and no text: skipped"
    assert lines[2].startswith("Imported 1 entry")


@pytest.mark.parametrize("flag, value", [("--time-format", "%Q"), ("--time-format", "plain"),
                                         ("--tag-symbols", "ab"), ("--tag-symbols", "")])
def test_bad_jrnl_options_are_usage_errors(run, made, tmp_path, flag, value):
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-01 10:00] First.\n")
    one_line_error(run("import", flag, value, str(p)), 2)


def test_time_format_reads_another_layout(run, made, tmp_path):
    p = tmp_path / "j.txt"
    p.write_text("[02.03.2024 21:30] Evening.\n\n[03.03.2024 07:15] Morning.\n")
    r = run("import", "--time-format", "%d.%m.%Y %H:%M", str(p), "--json")
    assert r.code == 0 and json.loads(r.out)["added"] == 2, r
