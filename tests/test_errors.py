"""Every failure named right: driver errors classified by their SQLite code,
output that cannot be written, a passphrase that is not UTF-8, input nested
too deeply. Never an "internal error", never a traceback, never a secret."""

import io
import json
import os
import resource
import subprocess
import sys

import pytest
import sqlcipher3

from diary import cli, entries, store
from diary.errors import (Busy, DamagedFile, DiaryError, DiskFull, PassphraseError,
                          ReadOnly)


from conftest import PASSPHRASE, TEST_KDF_ITER, file_bytes

DIARY = os.path.join(os.path.dirname(sys.executable), "diary")


def raised(func):
    try:
        func()
    except Exception as exc:  # the driver's own error, as a command would meet it
        return exc
    raise AssertionError("nothing was raised")


def keyed(path, passphrase=PASSPHRASE, timeout=0):
    return store.keyed_connection(path, passphrase, TEST_KDF_ITER, timeout=timeout)


# --- classification by SQLite error code ------------------------------------------

def test_busy_is_classified_by_its_code(made):
    holder = keyed(made)
    holder.execute("BEGIN IMMEDIATE")
    other = keyed(made)
    exc = raised(lambda: other.execute("BEGIN IMMEDIATE"))
    assert exc.sqlite_errorname == "SQLITE_BUSY"
    assert isinstance(store.translate(exc), Busy)
    holder.execute("ROLLBACK")


def test_full_is_disk_full_not_busy(diary):
    conn = diary.db.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute("PRAGMA max_page_count = %d" % (pages + 2))
    exc = raised(lambda: entries.add(diary, "many words " * 100_000))
    mapped = store.translate(exc)
    assert isinstance(mapped, DiskFull) and mapped.exit_code == 1
    assert "disk is full" in str(mapped)


def test_not_a_database_and_read_only_and_cannot_open(made, tmp_path):
    exc = raised(lambda: keyed(made, "not it").execute("SELECT count(*) FROM sqlite_master"))
    assert isinstance(store.translate(exc), PassphraseError)
    conn = sqlcipher3.connect("file:%s?mode=ro" % made, uri=True)
    conn.execute("PRAGMA key = '%s'" % PASSPHRASE)
    conn.execute("PRAGMA kdf_iter = %d" % TEST_KDF_ITER)
    exc = raised(lambda: conn.execute("PRAGMA user_version = 9"))
    assert isinstance(store.translate(exc), ReadOnly)
    exc = raised(lambda: sqlcipher3.connect(str(tmp_path / "no" / "such" / "dir.db")))
    mapped = store.translate(exc)
    assert isinstance(mapped, DiaryError) and str(mapped).startswith("cannot open")


def test_the_message_text_alone_classifies_nothing():
    # A message that reads like a lock, without an SQLite code, is not a lock.
    fake = sqlcipher3.OperationalError("database is locked")
    assert store.translate(fake) is fake


def test_peewee_wrapped_errors_keep_their_code(diary):
    conn = diary.db.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute("PRAGMA max_page_count = %d" % (pages + 2))
    exc = raised(lambda: diary.db.execute_sql("INSERT INTO entry (uuid, created_at, "
                                              "updated_at, body) VALUES ('u', 'x', 'x', ?)",
                                              ("w" * 2_000_000,)))
    assert not isinstance(exc, sqlcipher3.Error)  # peewee's own class
    assert isinstance(store.translate(exc), DiskFull)


# --- in-process CLI ------------------------------------------------------------

def test_deeply_nested_json_import_is_one_line(run, made, tmp_path):
    source = tmp_path / "deep.json"
    source.write_text("[" * 100_000 + "]" * 100_000)
    r = run("import", str(source), "--format", "json")
    assert r.code == 1, r
    assert r.err.count("\n") == 1 and "internal error" not in r.err


def test_a_recursion_error_anywhere_is_not_an_internal_error(run, made, monkeypatch):

    def deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(entries, "list_entries", deep)
    r = run("list")
    assert r.code == 1 and "internal error" not in r.err and r.err.count("\n") == 1


SECRET = "pa\udcffss-7e1f"  # a non-UTF-8 byte as os.environ decodes it


def test_non_utf8_passphrase_variable_in_process(run, made):
    r = run("--debug", "list", environ={"DIARY_PASSPHRASE": SECRET})
    assert r.code == 1, r
    assert "DIARY_PASSPHRASE" in r.err and "UTF-8" in r.err
    assert r.err.count("\n") == 1
    for part in ("pa", "ss-7e1f", "\\udcff", "position"):
        assert part not in r.err.replace("passphrase", "").replace("DIARY_PASS", "")


def test_non_utf8_passphrase_variable_as_a_real_process(made):
    env = {k.encode(): v.encode() for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env[b"DIARY_PASSPHRASE"] = b"pa\xffss-7e1f"
    env[b"DIARY_PATH"] = made.encode()
    r = subprocess.run([DIARY, "--debug", "list"], env=env, capture_output=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr
    assert b"\\xff" not in r.stderr and b"\xff" not in r.stderr and b"ss-7e1f" not in r.stderr
    assert b"position" not in r.stderr and b"udcff" not in r.stderr


def test_passwd_while_another_process_writes_is_busy(run, made, tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.05)
    new = tmp_path / "new.txt"
    new.write_text("a new passphrase\n")
    holder = keyed(made)
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = run("passwd", "--new-passphrase-file", str(new))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.code == 5, r
    assert "busy" in r.err and r.err.count("\n") == 1
    assert run("list").code == 0  # the old passphrase still opens it


# --- real processes: output that cannot be written ----------------------------------

@pytest.fixture
def real(tmp_path):
    """A diary made by the real program (real key derivation), with one entry."""
    db = str(tmp_path / "real.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env.update(DIARY_PASSPHRASE=PASSPHRASE, DIARY_PATH=db)
    for argv, text in ((["init"], ""), (["add", "--title", "one"], "first entry\n")):
        r = subprocess.run([DIARY, *argv], input=text, env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    return env


@pytest.mark.parametrize("argv", [["list"], ["export"], ["show", "1"], ["search", "first"],
                                  ["query", "SELECT title FROM entry"]])
def test_output_to_a_full_device(real, argv):
    with open("/dev/full", "w") as full:
        r = subprocess.run([DIARY, *argv], env=real, stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert r.stderr == "diary: cannot write output: No space left on device\n"


def test_closed_stdout(real):
    r = subprocess.run([DIARY, "list"], env=real, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=60,
                       preexec_fn=lambda: os.close(1))
    assert r.returncode == 1
    assert r.stderr == "diary: cannot write output: standard output is closed\n"


def test_closed_stdout_and_stderr_still_exit_1(real):
    def close_both():
        os.close(1)
        os.close(2)

    r = subprocess.run([DIARY, "list"], env=real, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, preexec_fn=close_both)
    assert r.returncode == 1


def test_a_reader_that_goes_away_is_quiet(real):
    body = "a line of an entry\n" * 20000
    r = subprocess.run([DIARY, "add"], input=body, env=real, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    p = subprocess.Popen([DIARY, "export"], env=real, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()  # before the program writes: its first write meets a closed pipe
    err = p.stderr.read()
    assert p.wait(timeout=60) == 0
    assert err == b""


def test_passwd_on_a_full_disk_says_so_and_keeps_the_old_passphrase(real, tmp_path):
    body = os.urandom(150_000).hex()
    r = subprocess.run([DIARY, "add"], input=body, env=real, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    db = real["DIARY_PATH"]
    subprocess.run([DIARY, "check"], env=real, capture_output=True, timeout=60)
    new = tmp_path / "new.txt"
    new.write_text("another passphrase\n")
    limit = len(file_bytes(db)) // 2  # the rekey writes every page to the -wal

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run([DIARY, "passwd", "--new-passphrase-file", str(new)], env=real,
                       capture_output=True, text=True, preexec_fn=small_files, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "busy" not in r.stderr and r.stderr.count("\n") == 1
    assert "file-size limit" in r.stderr or "disk is full" in r.stderr
    assert "old passphrase still works" in r.stderr
    r = subprocess.run([DIARY, "list", "--json"], env=real, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and len(json.loads(r.stdout)) == 2


# --- a passphrase change is confirmed before it is reported ----------------------

class _SilentRekey:
    """A connection whose PRAGMA rekey answers ok and changes nothing, as
    SQLCipher's does when writing the -wal fails."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def execute(self, sql, *args):
        if sql.startswith("PRAGMA rekey"):
            return self._conn.execute("SELECT 'ok'")
        return self._conn.execute(sql, *args)


def test_a_rekey_that_answers_ok_but_failed_is_not_reported_done(diary, monkeypatch):
    real = diary.db.connection()
    with monkeypatch.context() as m:
        m.setattr(diary.db, "connection", lambda: _SilentRekey(real))
        with pytest.raises(DiaryError, match="not changed.*old passphrase still works"):
            store.change_passphrase(diary, "the new one")
    diary.close()
    store.open_diary(diary.path, PASSPHRASE).close()
    with pytest.raises(PassphraseError):
        store.open_diary(diary.path, "the new one")


def test_a_confirmed_change_keeps_the_diary_usable(diary):
    entries.add(diary, "kept")
    store.change_passphrase(diary, "the new one")
    assert [e.body for e in entries.list_entries(diary)] == ["kept"]
    diary.close()
    with pytest.raises(PassphraseError):
        store.open_diary(diary.path, PASSPHRASE)
    store.open_diary(diary.path, "the new one").close()


# --- busy is not damaged, damaged is not a wrong passphrase --------------------------

def test_check_while_another_process_writes_is_busy(run, made, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.05)
    assert run("add", "one").code == 0
    holder = keyed(made)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE entry SET title = 'changing' WHERE id = 1")
    try:
        r = run("check")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.code == 5, r
    assert "busy" in r.err and "damaged" not in r.err + r.out
    assert run("check").code == 0


def test_the_page_format_matches_a_real_file(run, made):
    from diary import pages

    assert run("add", "some text", "--tag", "a/b").code == 0
    data = file_bytes(made)
    assert len(data) % pages.PAGE_SIZE == 0 and len(data) // pages.PAGE_SIZE > 2
    key = pages.hmac_key(PASSPHRASE, data[:16], TEST_KDF_ITER)
    wrong = pages.hmac_key("not it", data[:16], TEST_KDF_ITER)
    for n in range(1, len(data) // pages.PAGE_SIZE + 1):
        page = data[(n - 1) * pages.PAGE_SIZE:n * pages.PAGE_SIZE]
        assert pages.page_verifies(key, page, n), n
        assert not pages.page_verifies(wrong, page, n)
        assert not pages.page_verifies(key, page, n + 1)


def _flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_flipped_byte_in_page_1_is_damage_not_a_wrong_passphrase(run, made):
    assert run("add", "one").code == 0
    _flip(made, 2000)
    before = file_bytes(made)
    r = run("list")
    assert r.code == 4, r
    assert "damaged" in r.err and "first page" in r.err and r.err.count("\n") == 1
    r = run("list", environ={"DIARY_PASSPHRASE": "not it"})
    assert r.code == 3 and "wrong passphrase" in r.err
    assert file_bytes(made) == before


def test_a_damaged_salt_cannot_be_told_from_a_wrong_passphrase(run, made):
    _flip(made, 3)
    r = run("list")
    assert r.code == 3 and "wrong passphrase" in r.err


def test_a_typed_passphrase_the_terminal_cannot_decode(run, made):
    def undecodable(prompt):
        raise UnicodeDecodeError("utf-8", b"pa\xffss", 2, 3, "invalid start byte")

    for ask in (undecodable, lambda prompt: "pa\udcffss"):
        env = cli.Env(io.StringIO(), io.StringIO(), io.StringIO(), {"DIARY_PATH": made},
                      can_prompt=True, getpass=ask)
        code = cli.main(["--debug", "list"], env)
        err = env.stderr.getvalue()
        assert code == 3, err
        assert "not valid" in err and err.count("\n") == 1
        assert "position" not in err and "xff" not in err and "udcff" not in err
