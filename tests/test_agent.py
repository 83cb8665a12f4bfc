"""The agent (`diary unlock` / `diary lock`): one diary's raw key held by a
detached process and served over a Unix socket to the same user only.

The agents these tests start are real processes; each test's runtime
directory is its own, under /dev/shm, and every agent left is stopped."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from diary import agent_client, cli, raw_key, store

from conftest import PASSPHRASE, needs_tmpfs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the agent is offered on Linux only")


def wait_until(predicate, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.fixture
def runtime():
    """A private runtime directory (XDG_RUNTIME_DIR) on tmpfs for one test."""
    needs_tmpfs()
    where = tempfile.mkdtemp(prefix="agent-test-", dir="/dev/shm")
    yield where
    for root, _, names in os.walk(where):
        for name in names:
            if name.endswith(".sock"):
                p = os.path.join(root, name)
                agent_client._ask(p, {"op": "stop"})
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def arun(run, runtime):
    """``run`` with the test's runtime directory and no passphrase in the
    environment unless given."""

    def _run(*argv, environ=None, **kw):
        env = {"XDG_RUNTIME_DIR": runtime, "DIARY_PASSPHRASE": None}
        env.update(environ or {})
        return run(*argv, environ=env, **kw)

    return _run


def unlock(arun, *more):
    r = arun("unlock", *more, environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code == 0, r
    return r


def environ(runtime):
    return {"XDG_RUNTIME_DIR": runtime}


def agent_pid(made, runtime):
    return agent_client.status(made, environ(runtime))["pid"]


def test_unlock_then_commands_need_no_passphrase(arun, made, runtime):
    assert arun("add", "hello agent", environ={"DIARY_PASSPHRASE": PASSPHRASE}).code == 0
    r = unlock(arun)
    assert "Unlocked" in r.err and "diary lock" in r.err
    r = arun("list")  # no passphrase anywhere, no terminal
    assert r.code == 0, r
    assert "hello agent" in r.out
    assert arun("add", "written with the agent's key").code == 0
    assert arun("search", "written").out.count("written with") == 1


def test_without_the_agent_there_is_no_passphrase(arun, made):
    r = arun("list")
    assert r.code == 3 and "no passphrase" in r.err


def test_socket_and_directory_permissions(arun, made, runtime):
    unlock(arun)
    where = os.path.join(runtime, "diary-agent.%d" % os.getuid())
    st = os.lstat(where)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == os.getuid()
    socks = os.listdir(where)
    assert len(socks) == 1
    st = os.lstat(os.path.join(where, socks[0]))
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.getuid()
    # The socket's name is a hash: the diary's path is not shown to others.
    assert os.path.basename(made) not in socks[0]


def test_a_directory_that_is_not_ours_or_not_private_is_refused(arun, made, runtime):
    where = os.path.join(runtime, "diary-agent.%d" % os.getuid())
    os.mkdir(where, 0o755)
    os.chmod(where, 0o755)
    r = arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code == 1 and "not a private directory" in r.err
    os.rmdir(where)
    os.symlink(runtime, where)
    r = arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code == 1 and "not a private directory" in r.err
    assert arun("list").code == 3  # and commands simply ask as usual


def test_explicit_sources_win_over_the_agent_and_no_agent_skips_it(arun, made, tmp_path):
    unlock(arun)
    assert arun("list").code == 0
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    assert arun("list", "--passphrase-file", str(wrong)).code == 3
    assert arun("list", environ={"DIARY_PASSPHRASE": "not it"}).code == 3
    r = arun("list", "--no-agent")
    assert r.code == 3 and "no passphrase" in r.err
    r = arun("--no-agent", "list", tty=True, answers=[PASSPHRASE])
    assert r.code == 0 and r.asked == ["Passphrase: "]


def test_lock_ends_the_agent_and_wipes_the_socket(arun, made, runtime):
    unlock(arun)
    pid = agent_pid(made, runtime)
    r = arun("lock")
    assert r.code == 0 and "Locked" in r.err
    assert wait_until(lambda: not alive(pid))
    assert os.listdir(os.path.join(runtime, "diary-agent.%d" % os.getuid())) == []
    assert arun("list").code == 3
    r = arun("lock")
    assert r.code == 0 and "No agent" in r.err


def test_lock_by_a_symlink_retargeted_since_unlock_still_ends_its_agent(arun, made, runtime,
                                                                        tmp_path):
    # The agent is found by the file's real path: a link pointed elsewhere
    # after `diary unlock` would leave it running, holding the key, while
    # `diary lock` said there was none.
    link = str(tmp_path / "link.db")
    os.symlink(made, link)
    assert arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE}, diary_path=link).code == 0
    pid = agent_pid(made, runtime)
    elsewhere = tmp_path / "elsewhere.db"
    elsewhere.write_bytes(b"")
    os.unlink(link)
    os.symlink(str(elsewhere), link)
    r = arun("lock", diary_path=link)
    assert r.code == 0 and "Locked" in r.err, r
    assert wait_until(lambda: not alive(pid))
    r = arun("lock", diary_path=link)
    assert r.code == 0 and "No agent" in r.err


def test_unlock_through_a_retargeted_symlink_replaces_the_agent_started_through_it(
        arun, made, runtime, tmp_path):
    link = str(tmp_path / "link.db")
    os.symlink(made, link)
    assert arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE}, diary_path=link).code == 0
    old = agent_pid(made, runtime)
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    os.unlink(link)
    os.symlink(other, link)
    assert arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE}, diary_path=link).code == 0
    assert wait_until(lambda: not alive(old))
    assert alive(agent_pid(other, runtime))
    assert arun("list", diary_path=link).code == 0


def test_lock_ends_only_the_agent_of_that_diary(arun, made, runtime, tmp_path):
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    unlock(arun)
    assert arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE}, diary_path=other).code == 0
    pid, kept = agent_pid(made, runtime), agent_pid(other, runtime)
    assert arun("lock").code == 0
    assert wait_until(lambda: not alive(pid))
    assert alive(kept) and arun("list", diary_path=other, environ={}).code == 0


def test_the_client_holds_the_key_only_in_buffers_it_can_wipe(arun, made, runtime,
                                                              monkeypatch):
    # socket.recv returns bytes, which stay in memory until reused: the key
    # is received into a bytearray, which the caller wipes after use.
    unlock(arun)
    received = []

    class Recording(socket.socket):
        def recv(self, *args):
            raise AssertionError("recv makes an immutable copy of what it reads")

        def recv_into(self, buffer, *args):
            received.append(buffer)
            return super().recv_into(buffer, *args)

    monkeypatch.setattr(agent_client.socket, "socket", Recording)
    key = agent_client.key_for(made, environ(runtime))
    assert isinstance(key, bytearray) and len(key) == raw_key.RAW_SIZE
    key[:] = bytes(len(key))
    assert received and not any(any(b) for b in received)
    assert agent_client.status(made, environ(runtime))["pid"]  # other answers as before


def test_idle_timeout_ends_it(arun, made, runtime):
    unlock(arun, "--for", "1s")
    pid = agent_pid(made, runtime)
    assert wait_until(lambda: not alive(pid))
    assert arun("list").code == 3


def test_each_key_served_restarts_the_idle_time(arun, made, runtime):
    unlock(arun, "--for", "3s")
    pid = agent_pid(made, runtime)
    for _ in range(4):
        time.sleep(1)
        assert arun("list").code == 0
    assert alive(pid)


@pytest.mark.parametrize("text", ["0", "-5m", "eight", "8d", "15 minutes", "0.5s",
                                  "0.000001s"])
def test_bad_durations_are_usage_errors(arun, made, text):
    r = arun("unlock", "--for", text, environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code == 2 and "Traceback" not in r.err


def test_unlock_with_a_wrong_passphrase_starts_nothing(arun, made, runtime):
    r = arun("unlock", environ={"DIARY_PASSPHRASE": "wrong"})
    assert r.code == 3
    assert agent_client.status(made, environ(runtime)) is None
    r = arun("unlock", tty=True, answers=["wrong", "wrong", PASSPHRASE])
    assert r.code == 0 and len(r.asked) == 3


def test_passwd_ends_the_agent(arun, made, runtime, tmp_path):
    unlock(arun)
    pid = agent_pid(made, runtime)
    new = tmp_path / "new"
    new.write_text("a new passphrase\n")
    r = arun("passwd", "--new-passphrase-file", str(new),
             environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code == 0 and "agent was ended" in r.err
    assert wait_until(lambda: not alive(pid))


def test_passwd_asks_the_old_passphrase_even_with_the_agent(arun, made, tmp_path):
    unlock(arun)
    new = tmp_path / "new"
    new.write_text("a new passphrase\n")
    r = arun("passwd", "--new-passphrase-file", str(new))
    assert r.code == 3 and "no passphrase" in r.err
    store.open_diary(made, PASSPHRASE).close()  # unchanged


def test_a_key_the_file_refuses_is_dropped_and_the_usual_sources_follow(arun, made, runtime):
    """Another process changed the passphrase (rekey keeps the salt)."""
    unlock(arun)
    pid = agent_pid(made, runtime)
    with store.open_diary(made, PASSPHRASE) as d:
        store.change_passphrase(d, "changed elsewhere")
    r = arun("list", tty=True, answers=["changed elsewhere"])
    assert r.code == 0, r
    assert "no longer opens" in r.err and r.asked == ["Passphrase: "]
    assert wait_until(lambda: not alive(pid))
    r = arun("list")  # no agent now, no terminal: the usual error
    assert r.code == 3 and "no passphrase" in r.err


def test_sigkill_of_the_agent_falls_back_cleanly(arun, made, runtime):
    unlock(arun)
    pid = agent_pid(made, runtime)
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(pid))
    r = arun("list")
    assert r.code == 3 and "no passphrase" in r.err and "Traceback" not in r.err
    r = arun("list", tty=True, answers=[PASSPHRASE])
    assert r.code == 0 and r.asked == ["Passphrase: "]
    assert arun("lock").code == 0  # and the dead agent's socket goes
    assert os.listdir(os.path.join(runtime, "diary-agent.%d" % os.getuid())) == []
    unlock(arun)  # and a new one starts in its place
    assert arun("list").code == 0


def test_an_agent_whose_socket_is_gone_ends(arun, made, runtime, monkeypatch):
    """A runtime directory removed at logout: no one can reach the agent, so
    it ends instead of holding the key until its idle time."""
    unlock(arun)
    pid = agent_pid(made, runtime)
    os.unlink(agent_client.socket_path(made, environ(runtime)))
    assert wait_until(lambda: not alive(pid), timeout=30)


def test_backup_with_the_agents_key_opens_with_the_passphrase(arun, made, tmp_path):
    arun("add", "kept in the copy", environ={"DIARY_PASSPHRASE": PASSPHRASE})
    unlock(arun)
    dest = str(tmp_path / "copy.db")
    r = arun("backup", dest)
    assert r.code == 0, r
    with store.open_diary(dest, PASSPHRASE, read_only=True) as d:
        assert d.db.connection().execute("SELECT count(*) FROM entry").fetchone()[0] == 1


def test_sigterm_and_sighup_end_it(arun, made, runtime):
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        unlock(arun)
        pid = agent_pid(made, runtime)
        os.kill(pid, sig)
        assert wait_until(lambda: not alive(pid)), sig
        assert os.listdir(os.path.join(runtime, "diary-agent.%d" % os.getuid())) == []


def ask_raw(sock_path, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall(json.dumps(request).encode() + b"\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_the_socket_never_serves_another_files_key(arun, made, runtime, tmp_path):
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    unlock(arun)
    sock = agent_client.socket_path(made, environ(runtime))
    real = os.path.realpath(made)
    salt = raw_key.salt_of(real).hex()
    answer = ask_raw(sock, {"op": "key", "path": real, "salt": salt})
    assert answer[:1] == b"K" and len(answer) == 49
    for request in ({"op": "key", "path": os.path.realpath(other),
                     "salt": raw_key.salt_of(other).hex()},
                    {"op": "key", "path": real, "salt": raw_key.salt_of(other).hex()},
                    {"op": "key", "path": os.path.realpath(other), "salt": salt},
                    {"op": "key"}, {"op": "nothing"}):
        answer = ask_raw(sock, request)
        assert answer[:1] == b"E", request
    # The other diary has no agent: it asks as usual.
    assert arun("list", "--diary", other).code == 3
    # A different file put in the diary's place (same path, another salt):
    # the agent's key is not even asked for, and the usual sources follow.
    os.replace(other, made)
    assert agent_client.key_for(made, environ(runtime)) is None
    r = arun("list", tty=True, answers=[PASSPHRASE])
    assert r.code == 0 and r.asked == ["Passphrase: "]


def test_the_agent_is_detached_and_holds_no_inherited_descriptor(arun, made, runtime):
    unlock(arun)
    pid = agent_pid(made, runtime)
    assert os.getsid(pid) not in (os.getsid(0), pid)  # its own session, not its leader
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    assert int(fields[1]) != os.getpid()  # no child of ours
    assert int(fields[4]) == 0  # tty_nr: no controlling terminal
    fds = {int(n): os.readlink("/proc/%d/fd/%s" % (pid, n))
           for n in os.listdir("/proc/%d/fd" % pid)}
    assert all(fds[n] == "/dev/null" for n in (0, 1, 2))
    assert sorted(fds) == [0, 1, 2, 3] and fds[3].startswith("socket:")
    with open("/proc/%d/limits" % pid) as f:
        limits = f.read()
    assert [line.split()[4] for line in limits.splitlines()
            if line.startswith("Max core file size")] == ["0"]
    assert os.readlink("/proc/%d/cwd" % pid) == "/"


def test_the_derivation_follows_the_files_kdf_iter(arun, path, monkeypatch, runtime):
    monkeypatch.setattr(store, "KDF_ITER", 1000)
    store.create(path, PASSPHRASE)
    salt = raw_key.salt_of(path)
    assert raw_key.derive(PASSPHRASE, salt)[:32] != raw_key.derive(PASSPHRASE, salt, 64)[:32]
    unlock(arun)
    assert arun("list").code == 0
    key = agent_client.key_for(path, environ(runtime))
    assert bytes(key) == bytes(raw_key.derive(PASSPHRASE, salt, 1000))


def test_unlock_accepts_a_diary_made_before_the_mark_was_dropped(arun, path, tmp_path):
    store.create(path, "\ufeff" + PASSPHRASE)
    marked = tmp_path / "marked"
    marked.write_bytes(b"\xef\xbb\xbf" + PASSPHRASE.encode() + b"\n")
    assert arun("unlock", "--passphrase-file", str(marked)).code == 0
    assert arun("list").code == 0


# --- another user ----------------------------------------------------------------------------

def as_nobody(code, *args):
    """Run Python ``code`` as uid/gid 65534 (root only: setpriv)."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        if os.environ.get("CI"):
            pytest.fail("this test runs a client as another uid: it needs root and setpriv")
        pytest.skip("needs root and setpriv to run a client as another uid")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # A Python that uid 65534 may run (a venv or pyenv under /root is out of its reach).
    for python in (os.path.realpath(sys.executable), "/usr/bin/python3",
                   "/usr/local/bin/python3"):
        if subprocess.run(nobody + [python, "-I", "-c", "pass"], capture_output=True,
                          timeout=60, cwd="/").returncode == 0:
            break
    else:
        pytest.fail("no Python that uid 65534 can run")
    return subprocess.run(nobody + [python, "-I", "-c", code, *args],
                          capture_output=True, text=True, timeout=60, cwd="/")


CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as exc:
    print("connect", exc.errno); sys.exit()
data = b""
try:  # the agent closes on another uid at once: a send may fail
    s.sendall(json.dumps({"op": "key", "path": sys.argv[2], "salt": sys.argv[3]}).encode()
              + b"\\n")
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print("answer", len(data))
"""


def test_another_user_is_refused(arun, made, runtime):
    unlock(arun)
    sock = agent_client.socket_path(made, environ(runtime))
    real = os.path.realpath(made)
    salt = raw_key.salt_of(real).hex()
    # As set up: the 0700 directory keeps them out.
    r = as_nobody(CLIENT, sock, real, salt)
    assert r.stdout.strip() == "connect 13", r  # EACCES
    # With every permission opened (as if the directory were shared): the
    # agent itself still gives another uid nothing (SO_PEERCRED).
    os.chmod(runtime, 0o755)
    os.chmod(os.path.dirname(sock), 0o755)
    os.chmod(sock, 0o777)
    r = as_nobody(CLIENT, sock, real, salt)
    assert r.stdout.strip() == "answer 0", r
    assert agent_client._ask(sock, {"op": "status"})[:1] == b"I"
    status = json.loads(agent_client._ask(sock, {"op": "status"})[1:])
    assert status["refused"] == 1
    answer = ask_raw(sock, {"op": "key", "path": real, "salt": salt})
    assert len(answer) == 49  # its own user still gets the key


def test_a_client_refuses_an_agent_of_another_user(made, runtime, monkeypatch):
    """A socket whose listener is not our uid is never sent a request."""
    unlock_env = environ(runtime)
    sock = agent_client.socket_path(made, unlock_env, create=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock)
    listener.listen(1)
    try:
        monkeypatch.setattr(agent_client.os, "getuid", lambda: 12345)
        assert agent_client._ask(sock, {"op": "status"}) is None
    finally:
        listener.close()


# --- the menu -------------------------------------------------------------------------------

def test_agent_hooks_follow_the_setting(made, runtime, tmp_path):
    ended = []
    d = store.open_diary(made, PASSPHRASE)
    try:
        for value, expected in (("true", True), ("false", False)):
            env = cli.Env(None, None, None, {"DIARY_LOCK_ENDS_AGENT": value,
                                             "DIARY_CONFIG": str(tmp_path / "none.toml"),
                                             "XDG_RUNTIME_DIR": runtime})
            hooks = cli._agent_hooks(d, env)
            assert ("on_lock" in hooks) is expected
            assert "on_passphrase_changed" in hooks
    finally:
        d.close()
    assert not ended


def test_the_menus_lock_and_passphrase_change_call_their_hooks(made):
    from test_menu import drive

    calls = []
    with store.open_diary(made, PASSPHRASE) as d:
        drive(d, ("Write a new entry", "l"), ("Write a new entry", "q"), answers=[PASSPHRASE],
              on_lock=lambda: calls.append("lock"))
        drive(d, ("Write a new entry", "p"), ("Passphrase changed.", "q"),
              answers=[PASSPHRASE, "another", "another"],
              on_passphrase_changed=lambda: calls.append("changed"))
    assert calls == ["lock", "changed"]


def test_the_menu_opened_with_the_agents_key_checks_a_typed_passphrase(made):
    """Unlocked with the raw key, the menu still knows the passphrase when
    asked for the current one (derived with the file's salt, compared)."""
    key = raw_key.derive(PASSPHRASE, raw_key.salt_of(made))
    with store.open_diary(made, None, raw_key=key) as d:
        assert store.check_passphrase(d, PASSPHRASE)
        assert not store.check_passphrase(d, "something else")


def test_the_menu_opens_with_the_agents_key_and_its_lock_ends_the_agent(arun, made, runtime):
    from test_menu import run_menu

    arun("add", "seen through the agent", environ={"DIARY_PASSPHRASE": PASSPHRASE})
    unlock(arun)
    pid = agent_pid(made, runtime)
    r = run_menu(arun, ("Write a new entry", "l"), ("is locked", None))
    assert r.asked == []  # opened without asking for the passphrase
    assert wait_until(lambda: not alive(pid))


def test_the_menus_lock_keeps_the_agent_when_the_setting_says_so(arun, made, runtime):
    from test_menu import run_menu

    unlock(arun)
    pid = agent_pid(made, runtime)
    r = run_menu(arun, ("Write a new entry", "l"), ("is locked", None),
                 environ={"DIARY_LOCK_ENDS_AGENT": "false"})
    assert r.code in (0, 3)
    assert alive(pid) and agent_client.key_for(made, environ(runtime)) is not None


def test_unlock_reports_whether_the_key_is_locked_in_memory(arun, made, runtime):
    r = unlock(arun)
    locked = agent_client.status(made, environ(runtime))["mlock"]
    if locked == "ok":
        assert "could not be locked" not in r.err
    else:  # here: a memory-lock limit, a VM without mlock
        assert "could not be locked in memory (mlock: %s)" % locked in r.err


def test_the_key_buffer_is_its_own_page_and_wiped():
    import mmap

    from diary.agent import Key

    key = Key()
    key.view()[:] = bytes(range(1, raw_key.RAW_SIZE + 1))
    assert key._address % mmap.PAGESIZE == 0  # a page of its own: mlock takes nothing else
    assert bytes(key.view()) == bytes(range(1, raw_key.RAW_SIZE + 1))
    key.wipe()
    assert bytes(key.view()) == bytes(raw_key.RAW_SIZE)


@pytest.mark.parametrize("kind", ["fifo", "directory", "empty"])
def test_unlock_refuses_what_is_not_a_diary_file_without_hanging(arun, tmp_path, kind):
    where = tmp_path / "not-a-diary"
    if kind == "fifo":
        os.mkfifo(where)
    elif kind == "directory":
        where.mkdir()
    else:
        where.write_bytes(b"")
    r = arun("unlock", "--diary", str(where), environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code in (1, 3) and "Traceback" not in r.err, r
    assert "not a regular file" in r.err or "not a diary" in r.err or "too short" in r.err


# --- sync with the agent ---------------------------------------------------------------------

def test_sync_with_the_agent_seals_the_folder_under_the_passphrase_not_the_raw_key(
        arun, run, made, runtime, tmp_path):
    # Found merging sync beside the agent: sync took the diary's key as opened
    # (the agent's x'...' raw key) for its passphrase, saw it as a changed one,
    # and sealed a new key epoch under that text: every other device was then
    # asked for a "new passphrase" nobody knows.
    folder = tmp_path / "folder"
    folder.mkdir()
    assert arun("add", "laptop entry", environ={"DIARY_PASSPHRASE": PASSPHRASE}).code == 0
    assert arun("sync", str(folder), environ={"DIARY_PASSPHRASE": PASSPHRASE}).code == 0
    unlock(arun)
    assert arun("add", "written through the agent").code == 0
    # On a terminal, sync asks for the passphrase (it seals keys with it) ...
    r = arun("sync", str(folder), tty=True, answers=[PASSPHRASE])
    assert r.code == 0, r
    assert r.asked, r
    # ... off one, with nothing to ask, it says how to give it.
    r = arun("sync", str(folder))
    assert r.code == 3 and "passphrase" in r.err and "\n" not in r.err.strip(), r
    # Another device with the same passphrase reads everything, asking nothing more.
    other = str(tmp_path / "desktop.db")
    assert run("init", diary_path=other, environ={"DIARY_PASSPHRASE": PASSPHRASE}).code == 0
    r = run("sync", str(folder), diary_path=other, environ={"DIARY_PASSPHRASE": PASSPHRASE})
    assert r.code == 0, r
    listed = run("list", diary_path=other, environ={"DIARY_PASSPHRASE": PASSPHRASE}).out
    assert "laptop entry" in listed and "written through the agent" in listed


def test_a_client_that_trickles_its_request_holds_the_agent_no_longer_than_its_timeout(
        arun, made, runtime):
    """A client of the same user that sends its request a byte at a time
    (never a whole line): the agent waited up to PEER_TIMEOUT for each byte,
    not for the request, so it served no one else and outlived its idle time
    for as long as the bytes came (8 KB of them: hours)."""
    unlock(arun, "--for", "1s")
    pid = agent_pid(made, runtime)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(agent_client.socket_path(made, environ(runtime)))
    end = time.monotonic() + 20
    try:
        while alive(pid) and time.monotonic() < end:
            try:
                s.sendall(b" ")
            except OSError:
                pass  # the agent hung up on it
            time.sleep(0.3)
        ended = not alive(pid)  # the client still there, still sending
    finally:
        s.close()
    assert ended


def test_a_deeply_nested_request_is_refused_and_the_agent_keeps_serving(arun, made, runtime):
    """JSON nested past the recursion limit raised RecursionError (not a
    ValueError) out of the agent's loop: the agent ended on a request it was
    meant to answer with E."""
    unlock(arun)
    pid = agent_pid(made, runtime)
    sock = agent_client.socket_path(made, environ(runtime))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(b"[" * 8000 + b"\n")
    answer = s.recv(100)
    s.close()
    assert answer[:1] == b"E"
    assert alive(pid)
    assert arun("list").code == 0


def test_unlock_without_a_memory_backed_place_says_so_for_the_agent(arun, made, tmp_path,
                                                                    monkeypatch):
    """With no tmpfs to put its socket in, `diary unlock` told the user to set
    editor_tmpdir, the editor's setting, which the agent never reads: the
    advice could not help."""
    from diary import private_dir

    monkeypatch.setattr(private_dir, "SHM", str(tmp_path / "no-shm"))
    monkeypatch.setattr(private_dir, "RUN_USER", str(tmp_path / "no-run"))
    r = arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE, "XDG_RUNTIME_DIR": None})
    assert r.code != 0 and "Traceback" not in r.err
    assert "editor" not in r.err and "agent" in r.err, r.err


def test_merge_with_the_agents_key_of_a_diary_made_elsewhere_says_why_it_cannot_open_it(
        arun, made, tmp_path):
    """The agent holds this file's derived key (its salt), which opens a copy
    of this file but no diary made elsewhere with the same passphrase: a
    scripted merge said "wrong passphrase", though none was given and the
    passphrase is the same."""
    other = str(tmp_path / "laptop.db")
    store.create(other, PASSPHRASE)
    unlock(arun)
    r = arun("merge", other)
    assert r.code != 0 and "Traceback" not in r.err
    assert "agent's key" in r.err and "--source-passphrase-file" in r.err, r.err
    # with its passphrase given, it merges
    pw = tmp_path / "pw"
    pw.write_text(PASSPHRASE + "\n")
    assert arun("merge", other, "--source-passphrase-file", str(pw)).code == 0


def test_clients_that_connect_and_never_speak_keep_no_one_else_waiting(arun, made, runtime):
    """The agent answered one connection at a time, waiting up to its
    PEER_TIMEOUT (2 s) on each: three silent connections ahead of a command
    made it wait past its own 5 s, and it asked for the passphrase (exit 3
    without a terminal) while the agent ran."""
    unlock(arun)
    pid = agent_pid(made, runtime)
    sock = agent_client.socket_path(made, environ(runtime))
    silent = []
    try:
        for _ in range(6):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            silent.append(s)
        r = arun("list")
        assert r.code == 0, r
        assert agent_client.key_for(made, environ(runtime)) is not None
    finally:
        for s in silent:
            s.close()
    assert alive(pid)


def test_a_runtime_directory_too_deep_for_a_socket_is_named_in_the_error(arun, made, runtime):
    """A Unix socket's path holds at most 107 bytes: under a long
    XDG_RUNTIME_DIR the agent failed to bind and `diary unlock` said only
    "the agent could not start (error OSError)"."""
    deep = os.path.join(runtime, "x" * 80)
    os.mkdir(deep, 0o700)
    r = arun("unlock", environ={"DIARY_PASSPHRASE": PASSPHRASE, "XDG_RUNTIME_DIR": deep})
    assert r.code != 0 and "Traceback" not in r.err
    assert "too long" in r.err and "XDG_RUNTIME_DIR" in r.err, r.err


def test_the_idle_time_counts_the_time_the_machine_slept(monkeypatch):
    """The idle time ran on CLOCK_MONOTONIC, which stands still while the
    machine is suspended: a laptop unlocked for 15 minutes and closed for
    the night still served the key for most of them in the morning."""
    import threading

    from diary import agent

    asleep = [0.0]
    real = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda clk: real(clk) + (
        asleep[0] if clk == getattr(time, "CLOCK_BOOTTIME", None) else 0.0))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0diary-test-agent-%d" % os.getpid())  # abstract: no file
    listener.listen(1)
    a = agent.Agent(listener, None, "/x", "00", idle=3600)
    asleep[0] = 8 * 3600  # a night suspended
    t = threading.Thread(target=a.serve, kwargs={"still_ours": lambda: False}, daemon=True)
    t.start()
    t.join(5)  # it ends at once; it would otherwise wait for its socket check (10 s)
    ended = not t.is_alive()
    if ended:
        listener.close()  # else the thread still selects on it, and ends by itself
    assert ended


def test_removing_a_dead_agents_socket_spares_a_new_agents(runtime, monkeypatch):
    """`diary lock` (or unlock) removes the socket nothing listens at; an
    agent started meanwhile (a `diary unlock` beside it) binds a new socket at
    the same path between the refused connection and the removal, and the
    removal took that one: the new agent, unreachable, ended."""
    where = os.path.join(runtime, "d")
    os.mkdir(where, 0o700)
    path = os.path.join(where, "a.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # a SIGKILLed agent's: the file stays, nothing listens
    live = []
    real_socket = socket.socket

    class Racing(real_socket):
        def connect(self, address):
            try:
                super().connect(address)
            finally:  # refused; a new agent takes the path right then
                os.unlink(path)
                s = real_socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(path)
                s.listen(1)
                live.append(s)

    monkeypatch.setattr(agent_client.socket, "socket", Racing)
    agent_client._remove_dead(path)
    try:
        assert os.path.exists(path)  # the new agent's socket is still there
    finally:
        for s in live:
            s.close()
