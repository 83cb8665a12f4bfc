"""A diary or a backup on read-only media (issue 16, defect 9): readable by every
command that only reads (`--read-only list`, `export`, `backup`) and as a `merge`
source, and a read-only session changes no byte of the file or of its -wal.

Read-only media is simulated as test_permissions.py does: a 0555 folder holding a
0444 file, the program run without the capabilities that let root write anyway.
A leftover -wal (rows not yet folded into the main file) is made by copying a
diary and its -wal while a connection still holds them open.
"""

import json
import os
import shutil
import subprocess

import pytest

from diary import entries, store

from conftest import PASSPHRASE, file_bytes
from test_permissions import DIARY


def stat_of(path):
    st = os.stat(path)
    return file_bytes(path), st.st_mtime_ns


def with_leftover_wal(source, dest, n):
    """Copy ``source`` to ``dest`` while a connection holds ``n`` new entries in
    its -wal: the copy has rows only its -wal knows."""
    d = store.open_diary(source, PASSPHRASE, kdf_iter=store.KDF_ITER)
    try:
        conn = d.db.connection()
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        for i in range(n):
            entries.add(d, "in the wal %d" % i)
        shutil.copyfile(source, dest)
        shutil.copyfile(source + "-wal", dest + "-wal")
    finally:
        d.close()
    assert os.path.getsize(dest + "-wal") > 0


def test_read_only_session_leaves_main_file_and_wal_unchanged(run, made, tmp_path):
    with store.open_diary(made, PASSPHRASE) as d:
        entries.add(d, "in the main file")
    copy = str(tmp_path / "copy" / "diary.db")
    os.makedirs(os.path.dirname(copy))
    with_leftover_wal(made, copy, 2)
    before = stat_of(copy), stat_of(copy + "-wal")
    r = run("--read-only", "list", "--json", diary_path=copy)
    assert r.code == 0, r
    assert sorted(e["body"] for e in json.loads(r.out)) == \
        ["in the main file", "in the wal 0", "in the wal 1"]
    for argv in (["export"], ["search", "wal"], ["list"]):  # reading commands, without the flag
        assert run(*argv, diary_path=copy).code == 0
    assert (stat_of(copy), stat_of(copy + "-wal")) == before


def _origin(tmp_path):
    p = str(tmp_path / "origin.db")
    store.create(p, PASSPHRASE)
    with store.open_diary(p, PASSPHRASE) as d:
        entries.add(d, "on the stick", title="Stick")
    return p


@pytest.fixture
def media(tmp_path, monkeypatch):
    """(the path of a diary on read-only media, not yet made; a private runtime folder)."""
    monkeypatch.setattr(store, "KDF_ITER", None)  # the subprocesses use the real KDF
    ro = tmp_path / "media"
    ro.mkdir()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    yield str(ro / "diary.db"), str(runtime)
    os.chmod(ro, 0o755)


def lock_down(path):
    os.chmod(path, 0o444)
    if os.path.exists(path + "-wal"):
        os.chmod(path + "-wal", 0o444)
    os.chmod(os.path.dirname(path), 0o555)


def _run(runtime, *argv):
    import shlex

    env = {"PATH": os.environ.get("PATH", ""), "DIARY_PASSPHRASE": PASSPHRASE,
           "HOME": os.environ.get("HOME", "/tmp"), "XDG_RUNTIME_DIR": runtime}
    command = [DIARY, *argv]
    if os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("capsh is not installed (Debian package: libcap2-bin)")
        command = [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                   " ".join(shlex.quote(a) for a in command)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("leftover_wal", [False, True])
def test_every_reading_command_works_on_read_only_media(media, tmp_path, leftover_wal):
    stick, runtime = media
    origin = _origin(tmp_path)
    if leftover_wal:
        with_leftover_wal(origin, stick, 1)  # immutable=1 would lose this row
        expected = ["in the wal 0", "on the stick"]
    else:
        shutil.copyfile(origin, stick)
        expected = ["on the stick"]
    lock_down(stick)
    folder = os.path.dirname(stick)
    files = sorted(os.listdir(folder))
    before = [stat_of(os.path.join(folder, f)) for f in files]

    r = _run(runtime, "--read-only", "list", "--json", "--diary", stick)
    assert r.returncode == 0, r.stderr
    assert sorted(e["body"] for e in json.loads(r.stdout)) == expected
    r = _run(runtime, "export", "-f", "jsonl", "--diary", stick)
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(line)["body"] for line in r.stdout.splitlines()) == expected
    backup = str(tmp_path / "backup.db")
    r = _run(runtime, "backup", backup, "--diary", stick)
    assert r.returncode == 0, r.stderr
    mine = str(tmp_path / "mine.db")
    store.create(mine, PASSPHRASE)
    r = _run(runtime, "merge", stick, "--json", "--diary", mine)  # README: merge /media/usb/...
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["taken"] == len(expected)
    os.chmod(backup, 0o444)
    r = _run(runtime, "merge", backup, "--json", "--diary", mine)  # the backup, as a source
    assert r.returncode == 0 and json.loads(r.stdout)["taken"] == 0, r.stderr

    assert sorted(os.listdir(folder)) == files
    assert [stat_of(os.path.join(folder, f)) for f in files] == before
    assert os.listdir(runtime) == []  # a private copy, if one was made, is gone


# --- a full disk is read-only media too (found by the red team) ---------------------

def test_reading_commands_work_on_a_full_disk(run, made, monkeypatch):
    # On a full disk SQLite cannot make the 32 KB -shm a plain open needs:
    # `list`, `export`, even `--read-only list` all failed with "cannot write the
    # diary", so the one thing a person wants then (export what they have) was
    # impossible. Reading opens such a file as read-only media instead.
    from diary import readonly

    assert run("add", "kept").code == 0
    real = os.statvfs

    class Full:
        def __init__(self, st):
            self.f_frsize, self.f_bavail = st.f_frsize, 0

    monkeypatch.setattr(readonly.os, "statvfs", lambda p: Full(real(p)))
    for name in (made + "-wal", made + "-shm"):
        if os.path.exists(name):
            os.remove(name)
    source = readonly.Source(made)
    assert source.uri is not None and "immutable=1" in source.uri
    before = file_bytes(made)
    r = run("list", "--json")
    assert r.code == 0 and [e["body"] for e in json.loads(r.out)] == ["kept"], r
    assert file_bytes(made) == before
    assert not os.path.exists(made + "-shm")
