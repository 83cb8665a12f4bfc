"""Every way in is bounded (issue 16, defects 2 and 3): only regular files are
opened, what is read is capped per record, foreign databases run under a
watchdog, and a source is read and checked before the diary's write lock.

A test that would hang without the fix is guarded by an alarm (SIGALRM
interrupts a blocking open of a FIFO), so it fails instead of hanging.
"""

import json
import os
import signal
import sqlite3

import pytest
import sqlcipher3

from diary import entries, exchange, foreign, store
from diary.errors import BadInput
from diary.exchange import records

from conftest import PASSPHRASE, file_bytes


class Hung(Exception):
    pass


@pytest.fixture(autouse=True)
def no_hang():
    def alarm(signum, frame):
        raise Hung("the command hung")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def one_line_error(r, code=1):
    assert r.code == code, r
    assert r.err.startswith("diary: ") and r.err.count("\n") == 1, r.err
    assert "internal error" not in r.err


ENTRY = {"created_at": "2024-03-02T21:30:00+01:00", "title": "t", "body": "b"}


# --- only regular files ----------------------------------------------------------

def test_markdown_folder_holding_a_fifo_is_refused_naming_it(run, made, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\ntext\n")
    os.mkfifo(folder / "b.md")
    before = file_bytes(made)
    r = run("import", str(folder))
    one_line_error(r)
    assert "b.md is not a regular file (a FIFO)" in r.err
    assert file_bytes(made) == before


def test_markdown_import_follows_no_symlink_and_says_how_many(run, made, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("# Secret\nfrom outside the folder\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c.md").write_text("# C\nin a linked folder\n")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\ntext\n")
    (folder / "out.md").symlink_to(outside)
    (folder / "zero.md").symlink_to("/dev/zero")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    r = run("import", str(folder))
    assert r.code == 0, r
    assert "Skipped 3 symbolic links" in r.err and "Imported 1 entry" in r.err
    with store.open_diary(made, PASSPHRASE) as d:
        assert [e.title for e in entries.list_entries(d)] == ["A"]


def test_markdown_link_given_as_the_file_itself_is_read(run, made, tmp_path):
    """The one file named on the command line is the user's choice: followed."""
    real = tmp_path / "real.md"
    real.write_text("# R\nx\n")
    (tmp_path / "link.md").symlink_to(real)
    assert run("import", str(tmp_path / "link.md")).code == 0


@pytest.mark.parametrize("fmt", ["jsonl", "json", "jrnl", "jrnl-json", "markdown", "csv",
                                 "dayone"])
def test_import_of_a_device_is_refused(run, made, fmt):
    r = run("import", "/dev/zero", "--format", fmt)
    one_line_error(r)
    assert "/dev/zero is not a regular file (a character device)" in r.err


def test_import_of_a_fifo_is_refused(run, made, tmp_path):
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    for argv in (["import", str(fifo)], ["import", str(fifo), "--format", "jsonl"]):
        r = run(*argv)
        one_line_error(r)
        assert "is not a regular file (a FIFO)" in r.err


def test_diary_that_is_a_fifo_is_refused(run, tmp_path):
    fifo = tmp_path / "diary.db"
    os.mkfifo(fifo)
    for argv in (["list"], ["add", "x"], ["export"], ["check"]):
        r = run(*argv, "--diary", str(fifo))
        one_line_error(r)
        assert "not a regular file" in r.err, r.err


def test_passphrase_file_that_is_a_device_or_too_long(run, made, tmp_path):
    r = run("list", "--passphrase-file", "/dev/zero")
    one_line_error(r)
    assert "not a regular file (a character device)" in r.err
    long = tmp_path / "pw"
    long.write_bytes(b"x" * (70 * 1024) + b"\n")
    r = run("list", "--passphrase-file", str(long))
    one_line_error(r)
    assert "longer than 64 KB" in r.err and "x" * 20 not in r.err


def test_passphrase_file_may_be_a_pipe(run, made):
    rfd, wfd = os.pipe()
    os.write(wfd, (PASSPHRASE + "\n").encode())
    os.close(wfd)
    try:
        r = run("list", "--passphrase-file", "/dev/fd/%d" % rfd,
                environ={"DIARY_PASSPHRASE": "wrong"})
    finally:
        os.close(rfd)
    assert r.code == 0, r


# --- caps per record, not per file --------------------------------------------------

@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD", 4096)
    return 4096


def test_caps_are_per_record_not_per_file(diary, tmp_path, small_cap):
    """Many entries, together far over the cap, each under it: all imported."""
    p = tmp_path / "many.jsonl"
    p.write_text("".join(json.dumps(dict(ENTRY, body="entry %d " % i + "x" * 1000)) + "\n"
                         for i in range(20)))
    assert os.path.getsize(p) > 4 * small_cap
    assert exchange.import_file(diary, str(p), "jsonl").added == 20


@pytest.mark.parametrize("fmt,text", [
    ("jsonl", json.dumps(ENTRY) + "\n" + json.dumps(dict(ENTRY, body="x" * 5000)) + "\n"),
    ("jsonl", json.dumps(ENTRY) + "\n" + "y" * 10000),  # a line without end
    ("json", "[" + json.dumps(ENTRY) + ",\n" + json.dumps(dict(ENTRY, body="x" * 5000)) + "]"),
    ("json", "[" + json.dumps(ENTRY) + ",\n\"" + "x" * 10000),  # a string without end
    ("json", '{"entries": [' + json.dumps(dict(ENTRY, body="x" * 5000)) + "]}"),
    ("jrnl-json", '{"tags": {}, "entries": [{"date": "2024-03-02", "time": "10:00", '
                  '"title": "t", "body": "' + "x" * 5000 + '"}]}'),
    ("jrnl", "[2024-03-02 10:00] a\n" + "line of text\n" * 500),
    ("markdown", "# Big\n" + "x" * 5000),
    ("csv", "uuid,created_at,updated_at,title,body,tags,starred\n"
            ",2024-03-02T10:00:00,,t," + "x" * 5000 + ",,false\n"),
    ("csv", "created_at,body\n2024-03-02T10:00:00,\"" + "x" * 5000),  # a field without end
    ("dayone", '{"metadata": {}, "entries": [{"creationDate": "2024-03-02T10:00:00Z", '
               '"text": "' + "x" * 5000 + '"}]}'),
    ("markdown", '# T\n\n<!-- diary: {"created_at": "2024-03-02T10:00:00+00:00", '
                 '"chars": 5000} -->\n*x*\n\n' + "x" * 5000 + "\n"),
])
def test_a_record_over_the_cap_is_refused(diary, tmp_path, small_cap, fmt, text):
    p = tmp_path / ("big.md" if fmt == "markdown" else "big")
    p.write_text(text)
    with pytest.raises(BadInput, match="longer than 4096 bytes"):
        exchange.import_file(diary, str(p), fmt)
    assert entries.list_entries(diary) == []


def _nested(depth):
    """A JSON entry object whose total nesting depth is ``depth``."""
    return json.dumps(ENTRY)[:-1] + ', "extra": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("fmt,wrap", [
    ("jsonl", lambda e: e + "\n"),
    ("json", lambda e: "[" + e + "]"),
    ("json", lambda e: '{"entries": [' + e + "]}"),
])
def test_json_nesting_is_capped_at_32(diary, tmp_path, fmt, wrap):
    p = tmp_path / "deep"
    p.write_text(wrap(_nested(32)))
    assert exchange.import_file(diary, str(p), fmt).added == 1
    for depth in (33, 100000):  # 100,000 once raised RecursionError: "internal error"
        p.write_text(wrap(_nested(depth)))
        with pytest.raises(BadInput, match="nested more than 32 levels deep"):
            exchange.import_file(diary, str(p), fmt)


def test_jrnl_json_nesting_is_capped(diary, tmp_path):
    p = tmp_path / "deep.json"
    p.write_text('{"tags": ' + "[" * 100000 + "]" * 100000 + ', "entries": []}')
    with pytest.raises(BadInput, match="nested more than 32 levels deep"):
        exchange.import_file(diary, str(p), "jrnl-json")


def test_markdown_front_matter_nesting_is_capped(diary, tmp_path):
    p = tmp_path / "deep.md"
    p.write_text("---\ntags: " + "[" * 100000 + "]" * 100000 + "\n---\ntext\n")
    with pytest.raises(BadInput, match="deep.md, line 2: nested more than 32 levels deep"):
        exchange.import_file(diary, str(p), "markdown")


def test_too_deep_ignores_brackets_inside_strings():
    assert not records.too_deep(json.dumps({"body": "[" * 1000 + "{" * 1000}))
    assert records.too_deep("[" * 33 + "]" * 33)
    assert not records.too_deep("[" * 32 + "]" * 32)


# --- read and checked before the write lock --------------------------------------

def test_a_bad_record_is_found_before_the_write_lock(diary, tmp_path, monkeypatch):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(ENTRY) + "\n" + json.dumps(dict(ENTRY, tags=["a//b"])) + "\n")
    locked = []
    real_write = store.Diary.write
    monkeypatch.setattr(store.Diary, "write", lambda self: locked.append(1) or real_write(self))
    with pytest.raises(BadInput, match="line 2"):
        exchange.import_file(diary, str(p), "jsonl")
    assert locked == []
    p.write_text(json.dumps(ENTRY) + "\n")
    assert exchange.import_file(diary, str(p), "jsonl").added == 1 and locked == [1]


def test_a_large_source_is_streamed_not_held(diary, tmp_path, monkeypatch):
    monkeypatch.setattr(exchange, "KEEP_CHARS", 100)
    p = tmp_path / "many.jsonl"
    p.write_text("".join(json.dumps(dict(ENTRY, body="body %d" % i)) + "\n" for i in range(50)))
    assert exchange.import_file(diary, str(p), "jsonl").added == 50


def test_a_bad_record_past_what_is_read_ahead_leaves_the_diary_unchanged(
        diary, tmp_path, monkeypatch):
    # Beyond KEEP_CHARS the rest is checked under the lock, as it is inserted:
    # a bad record there rolls back the entries inserted before it.
    monkeypatch.setattr(exchange, "KEEP_CHARS", 100)
    p = tmp_path / "many.jsonl"
    good = [json.dumps(dict(ENTRY, body="body %d" % i)) for i in range(40)]
    p.write_text("\n".join(good + [json.dumps(dict(ENTRY, tags=["a//b"]))]) + "\n")
    with pytest.raises(BadInput, match="line 41"):
        exchange.import_file(diary, str(p), "jsonl")
    assert entries.count(diary) == 0


# --- foreign databases: tables only, a watchdog on every statement ------------------

def _endless_view(path):
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE VIEW entry AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
        "SELECT 'text' AS content, '2024-01-01 10:00:00' AS timestamp, x AS id FROM r "
        "ORDER BY x DESC;")
    conn.close()


def test_peewee_diary_whose_entry_is_an_endless_view_is_refused(run, made, tmp_path):
    source = str(tmp_path / "peewee.db")
    _endless_view(source)
    r = run("import", source, "--format", "peewee-diary")
    one_line_error(r)
    assert "its entry is a view, not a table" in r.err


def test_merge_source_whose_entry_is_a_view_is_refused(diary, tmp_path):
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    conn = store.keyed_connection(other, PASSPHRASE, store.KDF_ITER)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")\
            .fetchall():  # a crafted file, as another SQLCipher tool could write it
        conn.execute("DROP TRIGGER %s" % name)
    conn.execute("ALTER TABLE entry RENAME TO entry_real")
    conn.execute("CREATE VIEW entry AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL "
                 "SELECT x + 1 FROM r) SELECT * FROM entry_real, r ORDER BY x DESC")
    conn.close()
    with pytest.raises(BadInput, match="its entry is a view, not a table"):
        exchange.merge(diary, other)


def _endless(conn):
    return ("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
            "SELECT count(*) FROM r")


def test_watchdog_stops_a_statement_that_stalls():
    conn = sqlcipher3.connect(":memory:")
    watchdog = foreign.Watchdog(conn, "other.db", limit=0)
    with pytest.raises(BadInput, match="reading other.db stopped: a query ran 0 s"):
        list(watchdog.execute(_endless(conn)))
    conn.close()


def test_watchdog_lets_ctrl_c_through(monkeypatch):
    """SQLite swallows an exception raised in a progress handler: the watchdog
    keeps a Ctrl-C and raises it again once the statement has stopped."""
    conn = sqlcipher3.connect(":memory:")
    watchdog = foreign.Watchdog(conn, "other.db")
    calls = []

    def interrupting():
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
        return foreign.Watchdog.__call__(watchdog)

    conn.set_progress_handler(interrupting, foreign.STEPS)
    with pytest.raises(KeyboardInterrupt):
        list(watchdog.execute(_endless(conn)))
    conn.close()


# --- stdin is capped too (found by the red team) ---------------------------------

class EndlessStdin:
    """`diary add < /dev/zero`, `yes | diary add`: a stdin that never ends.
    Reading it whole is what exhausted memory (internal error, MemoryError)."""

    def __init__(self):
        self.read_sizes = []

    def read(self, size=-1):
        self.read_sizes.append(size)
        if size is None or size < 0:
            raise MemoryError("read the whole of an endless stdin")
        return "y\n" * (size // 2) + "y" * (size % 2)

    def isatty(self):
        return False


@pytest.mark.parametrize("argv", [["add"], ["edit", "1"], ["query"]])
def test_endless_stdin_is_refused_not_read_whole(made, tmp_path, monkeypatch, argv):
    from diary import cli

    monkeypatch.setattr(entries, "MAX_TEXT", 1000)
    store.open_diary(made, PASSPHRASE).close()
    d = store.open_diary(made, PASSPHRASE)
    entries.add(d, "first", title="t")
    d.close()
    before = file_bytes(made)
    out, err = _Text(), _Text()
    env = cli.Env(stdin=EndlessStdin(), stdout=out, stderr=err,
                  environ={"DIARY_PATH": made, "DIARY_PASSPHRASE": PASSPHRASE,
                           "DIARY_CONFIG": str(tmp_path / "none.toml")})
    code = cli.main(argv, env)
    assert code == 1, err.getvalue()
    assert err.getvalue().startswith("diary: ") and "internal error" not in err.getvalue()
    assert "stdin" in err.getvalue() and "too long" in err.getvalue(), err.getvalue()
    assert file_bytes(made) == before


class _Text:
    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def getvalue(self):
        return "".join(self.parts)
