"""A full disk or a file-size limit stops a write with a clear error, the diary as it was."""

import os
import resource
import subprocess
import sys

from diary import entries, health, store
from diary.errors import DiaryError

from conftest import PASSPHRASE, file_bytes

DIARY = os.path.join(os.path.dirname(sys.executable), "diary")
BIG = "many words of text " * 300_000  # ~5.7 MB


def test_max_page_count_reached(diary):
    entries.add(diary, "before")
    conn = diary.db.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute("PRAGMA max_page_count = %d" % (pages + 5))
    try:
        entries.add(diary, BIG)
    except Exception as exc:  # the driver's error, as the library raises it
        mapped = store.translate(exc)
    else:
        raise AssertionError("the write went through a full disk")
    assert isinstance(mapped, DiaryError)
    assert str(mapped).startswith("cannot write the diary") and "nothing was written" in \
        str(mapped)
    assert [e.body for e in entries.list_entries(diary)] == ["before"]
    assert health.problems(diary) == []


def test_file_size_limit_as_a_real_process(tmp_path):
    db = str(tmp_path / "d.db")
    env = dict(os.environ, DIARY_PASSPHRASE=PASSPHRASE, DIARY_PATH=db)
    assert subprocess.run([DIARY, "init"], env=env, capture_output=True,
                          timeout=60).returncode == 0
    assert subprocess.run([DIARY, "add", "before"], env=env, capture_output=True,
                          timeout=60).returncode == 0
    before = file_bytes(db)
    limit = len(before) + 16384

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run([DIARY, "add"], input=BIG, env=env, capture_output=True, text=True,
                       preexec_fn=small_files, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("diary: cannot write the diary") and r.stderr.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == ["d.db"]
    r = subprocess.run([DIARY, "list", "--json"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert '"before"' in r.stdout and r.returncode == 0
    r = subprocess.run([DIARY, "list", "-n", "0"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.stdout.count("\n") == 1


def test_import_hitting_a_file_size_limit_changes_nothing(tmp_path):
    import json

    db = str(tmp_path / "d.db")
    env = dict(os.environ, DIARY_PASSPHRASE=PASSPHRASE, DIARY_PATH=db)
    assert subprocess.run([DIARY, "init"], env=env, capture_output=True,
                          timeout=60).returncode == 0
    assert subprocess.run([DIARY, "add", "before"], env=env, capture_output=True,
                          timeout=60).returncode == 0
    source = tmp_path / "big.jsonl"
    with open(source, "w", encoding="utf-8") as f:
        for i in range(3000):
            f.write(json.dumps({"created_at": "2024-01-01T00:00:00+00:00",
                                "title": "entry %d" % i, "body": "words of text %d " % i * 40,
                                "tags": ["import/t%d" % (i % 50)]}) + "\n")
    before = file_bytes(db)
    limit = len(before) + 65536

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run([DIARY, "import", str(source), "--format", "jsonl"], env=env,
                       capture_output=True, text=True, preexec_fn=small_files, timeout=120)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("diary: cannot write the diary") and r.stderr.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == ["big.jsonl", "d.db"]
    r = subprocess.run([DIARY, "list", "-n", "0", "--json"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert [e["body"] for e in json.loads(r.stdout)] == ["before"]
    r = subprocess.run([DIARY, "check"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_backup_onto_a_full_disk_says_so(tmp_path):
    # The backup API's errors carry no SQLite result code: a full disk under
    # `diary backup` was "internal error (OperationalError)".
    db = str(tmp_path / "d.db")
    env = dict(os.environ, DIARY_PASSPHRASE=PASSPHRASE, DIARY_PATH=db)
    assert subprocess.run([DIARY, "init"], env=env, capture_output=True,
                          timeout=60).returncode == 0
    r = subprocess.run([DIARY, "add"], input=os.urandom(150_000).hex(), env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    limit = len(file_bytes(db)) // 2
    out = tmp_path / "backups"
    out.mkdir()

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run([DIARY, "backup", str(out / "b.db")], env=env, capture_output=True,
                       text=True, preexec_fn=small_files, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "internal error" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "disk is full" in r.stderr or "file-size limit" in r.stderr, r.stderr
    assert os.listdir(out) == []
