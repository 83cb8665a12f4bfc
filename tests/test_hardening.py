"""Core dumps off before any secret or entry text is read; the passphrase
dropped on close and lock."""

import ctypes
import os
import resource
import subprocess
import sys
import time

import pytest

from diary import store

from conftest import PASSPHRASE

DIARY = os.path.join(os.path.dirname(sys.executable), "diary")
PR_GET_DUMPABLE = 3


def _allow_core_dumps():
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, 1 << 20))
    except (ValueError, OSError):
        os._exit(99)


def _core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4]
    raise AssertionError("no core limit line")


def _waiting_for_input(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("argv, reads", [(["add"], "entry text on stdin"),
                                         (["init", "--passphrase-fd", "0"], "a passphrase")])
def test_core_dumps_are_off_while_the_first_input_is_awaited(tmp_path, argv, reads):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env.update(DIARY_PATH=str(tmp_path / "d.db"))
    if argv == ["add"]:
        store.create(env["DIARY_PATH"], PASSPHRASE)
        env["DIARY_PASSPHRASE"] = PASSPHRASE
    p = subprocess.Popen([DIARY, *argv], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=_allow_core_dumps)
    try:
        # Wait until it sleeps on its first read (of entry text or a
        # passphrase, none given): by then core dumps must be off.
        asleep, deadline = 0, time.monotonic() + 30
        while asleep < 5 and time.monotonic() < deadline and p.poll() is None:
            asleep = asleep + 1 if _waiting_for_input(p.pid) else 0
            time.sleep(0.05)
        assert p.poll() is None, p.communicate()
        assert asleep == 5, "never waited for input"
        assert _core_limit(p.pid) == "0", "core dumps allowed while waiting for %s" % reads
    finally:
        p.kill()
        p.communicate()
    assert p.returncode != 99, "could not raise the core limit to test it"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_main_makes_the_process_not_dumpable(run):
    run("--version")
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
    assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0


def test_close_and_lock_drop_the_passphrase(made):
    d = store.open_diary(made, PASSPHRASE)
    store.lock(d)
    assert d.db._passphrase is None
    store.resume(d, PASSPHRASE)
    assert d.db._passphrase == PASSPHRASE
    d.close()
    assert d.db._passphrase is None
