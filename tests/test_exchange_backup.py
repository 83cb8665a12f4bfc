"""Backup: a verified encrypted copy, even while another process writes; and check."""

import os
import subprocess
import sys

import pytest

from diary import entries, exchange, health, store
from diary.errors import DamagedFile, DiaryError, PassphraseError

from conftest import PASSPHRASE, TEST_KDF_ITER

WORKER = os.path.join(os.path.dirname(__file__), "worker.py")


@pytest.fixture
def dest(tmp_path):
    d = tmp_path / "backups"
    d.mkdir()
    return d


def test_backup_is_an_encrypted_verified_copy(diary, dest):
    for i in range(30):
        entries.add(diary, "entry %d" % i, tags=["t/%d" % (i % 3)])
    target = str(dest / "copy.db")
    done = exchange.backup(diary, target)
    assert done.entries == 30 and done.path == target
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert os.listdir(dest) == ["copy.db"]
    with open(target, "rb") as f:
        assert f.read(16) != store.SQLITE_HEADER
    conn = store.keyed_connection(target, PASSPHRASE, TEST_KDF_ITER)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with store.open_diary(target, PASSPHRASE) as copy:
        assert [e.to_record() if hasattr(e, "to_record") else entries.to_record(e)
                for e in entries.list_entries(copy)] == \
            [entries.to_record(e) for e in entries.list_entries(diary)]
    with pytest.raises(PassphraseError):
        store.open_diary(target, "another passphrase")


def test_backup_keeps_an_existing_file_without_force(diary, dest):
    entries.add(diary, "x")
    target = dest / "copy.db"
    target.write_bytes(b"older backup")
    with pytest.raises(DiaryError, match="already exists"):
        exchange.backup(diary, str(target))
    assert target.read_bytes() == b"older backup"
    exchange.backup(diary, str(target), force=True)
    with store.open_diary(str(target), PASSPHRASE) as copy:
        assert entries.count(copy) == 1
    assert os.listdir(dest) == ["copy.db"]


def test_a_copy_failing_its_checks_is_not_kept(diary, dest, monkeypatch):
    entries.add(diary, "x")
    monkeypatch.setattr(health, "problems", lambda d, **kwargs: ["page HMAC: injected"])
    with pytest.raises(DamagedFile, match="injected"):
        exchange.backup(diary, str(dest / "copy.db"))
    assert os.listdir(dest) == []


def test_backup_refuses_the_diary_itself(diary):
    with pytest.raises(DiaryError):
        exchange.backup(diary, diary.path, force=True)
    assert entries.count(diary) == 0


def test_backup_while_another_process_writes(made, dest):
    env = dict(os.environ, WORKER_KDF_ITER=str(TEST_KDF_ITER))
    worker = subprocess.Popen([sys.executable, WORKER, "add", made, PASSPHRASE, "100000"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        acked = []
        while len(acked) < 20:
            line = worker.stdout.readline()
            assert line, worker.stderr.read()
            acked.append(line.split()[1])
        with store.open_diary(made, PASSPHRASE, read_only=True) as d:
            for i in range(3):
                before = set(acked)
                target = str(dest / ("copy%d.db" % i))
                exchange.backup(d, target)  # opens the copy and runs every check
                with store.open_diary(target, PASSPHRASE) as copy:
                    got = {e.uuid for e in entries.list_entries(copy)}
                    assert health.problems(copy) == []
                assert before <= got  # everything committed before the backup is in it
                acked.append(worker.stdout.readline().split()[1])  # the worker goes on
        assert worker.poll() is None  # it really was writing all along
    finally:
        worker.kill()
        worker.communicate()


# --- check (health.problems through the command) ---------------------------------------

def test_check_healthy(run, made):
    r = run("add", "hello")
    r = run("check")
    assert (r.code, r.out) == (0, "ok\n")


def test_check_names_the_damaged_page(run, made):
    with store.open_diary(made, PASSPHRASE) as d:
        with d.write():
            for i in range(60):
                entries.add(d, ("entry %d " % i) * 80, title="t%d" % i)
    page = 4096
    with open(made, "r+b") as f:
        f.seek(5 * page + 1000)
        b = f.read(1)
        f.seek(5 * page + 1000)
        f.write(bytes([b[0] ^ 1]))
    r = run("check")
    assert r.code == 4, r
    assert "page 6" in r.out or "page 5" in r.out, r.out
    assert r.err.startswith("diary: the diary file is damaged") and r.err.count("\n") == 1


def test_check_refuses_read_only_flag(run, made):
    r = run("check", "--read-only")
    assert r.code == 1 and "read-only" in r.err
