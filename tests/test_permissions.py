"""A file without read permission and a read-only directory: one clear line, the file
unchanged. Root reads everything, so as root the program runs without the
capabilities that let it (capsh --drop=cap_dac_override,cap_dac_read_search)."""

import os
import shutil
import subprocess
import sys

import pytest

from diary import store

from conftest import PASSPHRASE, file_bytes, needs_tool

DIARY = os.path.join(os.path.dirname(sys.executable), "diary")


def run_unprivileged(*argv):
    env = {"PATH": os.environ.get("PATH", ""), "DIARY_PASSPHRASE": PASSPHRASE,
           "HOME": os.environ.get("HOME", "/tmp")}
    command = [DIARY, *argv]
    if os.geteuid() == 0:
        needs_tool("capsh", "libcap2-bin")  # root must drop its file capabilities
        capsh = shutil.which("capsh")
        import shlex

        command = [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                   " ".join(shlex.quote(a) for a in command)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def real_diary(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "KDF_ITER", None)  # the subprocess uses the real KDF
    d = tmp_path / "dir"
    d.mkdir()
    p = str(d / "diary.db")
    store.create(p, PASSPHRASE)
    return p


def test_file_without_read_permission(real_diary):
    os.chmod(real_diary, 0)
    try:
        before = file_bytes(real_diary)
        r = run_unprivileged("list", "--diary", real_diary)
        assert r.returncode == 1
        assert r.stderr == "diary: cannot read %s: Permission denied\n" % real_diary
        assert file_bytes(real_diary) == before
    finally:
        os.chmod(real_diary, 0o600)


def test_read_only_directory(real_diary):
    directory = os.path.dirname(real_diary)
    os.chmod(real_diary, 0o644)
    os.chmod(directory, 0o555)
    try:
        before = file_bytes(real_diary)
        r = run_unprivileged("add", "x", "--diary", real_diary)
        assert r.returncode == 1, r.stderr
        assert r.stderr.count("\n") == 1 and "read-only" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        # Reading works there (issue 16, defect 9: tests/test_read_only_media.py).
        assert run_unprivileged("list", "--diary", real_diary).returncode == 0
        assert file_bytes(real_diary) == before
        assert os.listdir(directory) == ["diary.db"]
    finally:
        os.chmod(directory, 0o700)
