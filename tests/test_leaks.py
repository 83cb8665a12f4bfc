"""Nothing leaks: no plaintext on disk, no passphrase in logs, argv or exceptions,
no core dumps while unlocked. Runs the installed program as real processes."""

import logging
import os
import subprocess
import sys
import time

import pytest

from diary import store

DIARY = os.path.join(os.path.dirname(sys.executable), "diary")
MARKER = "plaintext-marker-q8Zx"
SECRET = "passphrase-marker-Kd93"
NEW_SECRET = "new-passphrase-marker-Lp27"


def scan(root, needle):
    """Files under ``root`` holding ``needle`` in UTF-8 or UTF-16."""
    forms = [needle.encode("utf-8"), needle.encode("utf-16-le"), needle.encode("utf-16-be")]
    hits = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = os.path.join(dirpath, name)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if any(form in data for form in forms):
                hits.append(p)
    return hits


@pytest.fixture
def sandbox(tmp_path):
    home, tmp, data = (tmp_path / n for n in ("home", "tmp", "data"))
    for d in (home, tmp, data):
        d.mkdir()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "old").write_text(SECRET + "\n")
    (secrets / "new").write_text(NEW_SECRET + "\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TMPDIR": str(tmp),
           "XDG_DATA_HOME": str(home / ".local/share"), "LANG": "C.UTF-8"}

    def diary(*argv, stdin="", secret="old"):
        r = subprocess.run([DIARY, "--diary", str(data / "diary.db"), "--passphrase-file",
                            str(secrets / secret), *argv], input=stdin, capture_output=True,
                           text=True, env=env, timeout=60)
        assert r.returncode == 0, (argv, r.stderr)
        assert SECRET not in r.stderr + r.stdout and NEW_SECRET not in r.stderr + r.stdout
        return r

    return diary, [home, tmp, data]


def test_a_whole_session_leaves_no_plaintext_anywhere(sandbox):
    diary, roots = sandbox
    diary("init")
    diary("add", "--title", "title " + MARKER, stdin="body " + MARKER + "\n")
    diary("edit", "1", "--stdin", "--star", stdin="edited body " + MARKER + "\n")
    diary("edit", "1", "--tag", "secret/" + MARKER)
    assert MARKER in diary("show", "1").stdout
    assert MARKER in diary("list").stdout
    assert MARKER in diary("search", MARKER).stdout
    assert MARKER in diary("tags").stdout
    assert MARKER in diary("export", "--format", "jsonl").stdout  # to stdout: no file
    assert MARKER in diary("query", "SELECT body FROM entry").stdout
    diary("delete", "1", "--yes")  # the trash holds it, inside the encrypted file
    assert MARKER in diary("trash").stdout
    diary("restore", "1")
    diary("passwd", "--new-passphrase-file", os.path.join(os.path.dirname(roots[0]),
                                                          "secrets", "new"))
    assert MARKER in diary("show", "1", "--json", secret="new").stdout
    backup = os.path.join(str(roots[2]), "backup.db")
    diary("backup", backup, secret="new")
    for root in roots:
        assert scan(root, MARKER) == [], root
        assert scan(root, SECRET) == [] and scan(root, NEW_SECRET) == []
    # nothing but the diary itself was created: no history, cache or config file
    home, tmp, data = roots
    assert sorted(os.listdir(data)) == ["backup.db", "diary.db"]
    assert os.listdir(tmp) == []
    assert os.listdir(home) == []


def test_editor_sessions_leave_no_plaintext_anywhere(sandbox, tmp_path):
    """add and edit -q in an editor (the fake one, on a real terminal), one of
    them killed midway and recovered: the marker only ever in the diary."""
    import signal

    from conftest import needs_tmpfs
    from test_cli_editor import Editor, _drain, _pty_run

    needs_tmpfs()
    diary, roots = sandbox
    home, tmp, data = roots
    diary("init")
    editor = Editor(tmp_path)
    secrets = os.path.join(str(tmp_path), "secrets", "old")
    env = editor.environ(HOME=str(home), TMPDIR=str(tmp), LANG="C.UTF-8",
                         XDG_DATA_HOME=str(home / ".local/share"))

    def session(*argv, answer=None):
        p, master = _pty_run([DIARY, "--diary", str(data / "diary.db"), "--passphrase-file",
                              secrets, *argv], env, cwd=str(tmp))
        out = _drain(master, p, answer=answer)
        os.close(master)
        assert p.returncode == 0, out
        return out

    try:
        editor.act({"append": "body " + MARKER})
        session("add")
        editor.log_path.unlink()
        editor.act({"sub": [["^body ", "edited body "]]})
        session("edit", "-q", MARKER)
        # killed while the editor holds the text, then recovered
        editor.log_path.unlink()
        editor.act({"append": "killed " + MARKER, "sleep": 30})
        p, master = _pty_run([DIARY, "--diary", str(data / "diary.db"), "--passphrase-file",
                              secrets, "add"], env, cwd=str(tmp))
        while not editor.runs():
            time.sleep(0.05)
        time.sleep(0.5)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        os.close(master)
        editor.log_path.unlink()
        editor.act({})
        out = session("add", answer=b"y\n")
        assert "Saved as entry #2" in out, out
        assert os.listdir(editor.runtime) == []
        assert MARKER in diary("show", "1", "2").stdout
        for root in roots + [editor.runtime]:
            assert scan(str(root), MARKER) == [], root
        assert sorted(os.listdir(data)) == ["diary.db"]
        assert os.listdir(tmp) == [] and os.listdir(home) == []
    finally:
        import shutil

        shutil.rmtree(editor.runtime, ignore_errors=True)


def test_core_dumps_are_off_while_unlocked(tmp_path):
    code = (
        "import resource, sys; from diary import cli;"
        "cli.main(['init', '--diary', sys.argv[1]]);"
        "rc = cli.main(['add', 'x', '--diary', sys.argv[1]]);"
        "print(rc, resource.getrlimit(resource.RLIMIT_CORE))")
    env = dict(os.environ, DIARY_PASSPHRASE="a passphrase")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "d.db")], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().splitlines()[-1] == "0 (0, 0)"


def test_passphrase_never_in_the_process_command_line(tmp_path):
    """The passphrase is read from a descriptor; /proc/PID/cmdline never holds it."""
    db = str(tmp_path / "d.db")
    rfd, wfd = os.pipe()
    proc = subprocess.Popen([DIARY, "init", "--diary", db, "--passphrase-fd", str(rfd)],
                            pass_fds=(rfd,), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={k: v for k, v in os.environ.items()
                                 if not k.startswith("DIARY_")})
    os.close(rfd)
    try:
        for _ in range(500):  # until the child has exec'd: it waits on the pipe
            with open("/proc/%d/cmdline" % proc.pid, "rb") as f:
                cmdline = f.read()
            if b"--passphrase-fd" in cmdline:
                break
            time.sleep(0.01)
    finally:
        os.write(wfd, (SECRET + "\n").encode())
        os.close(wfd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert SECRET.encode() not in cmdline and b"--passphrase-fd" in cmdline


def test_nothing_secret_in_debug_logs_or_errors(run, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    new = tmp_path / "new"
    new.write_text(NEW_SECRET + "\n")
    outputs = [run("init", "--debug", environ={"DIARY_PASSPHRASE": SECRET})]
    outputs.append(run("add", "--debug", "body " + MARKER, environ={"DIARY_PASSPHRASE": SECRET}))
    outputs.append(run("list", "--debug", environ={"DIARY_PASSPHRASE": SECRET}))
    outputs.append(run("passwd", "--debug", "--new-passphrase-file", str(new),
                       environ={"DIARY_PASSPHRASE": SECRET}))
    outputs.append(run("list", "--debug", environ={"DIARY_PASSPHRASE": SECRET}))  # wrong now
    assert outputs[-1].code == 3
    for r in outputs:
        assert SECRET not in r.err and NEW_SECRET not in r.err
        assert MARKER not in r.err
    assert SECRET not in caplog.text and NEW_SECRET not in caplog.text
    assert MARKER not in caplog.text


def test_errors_carry_no_passphrase(made):
    from diary.errors import PassphraseError

    with pytest.raises(PassphraseError) as info:
        store.open_diary(made, SECRET)
    text = str(info.value) + repr(info.value) + repr(info.value.__cause__) + repr(
        info.value.__context__)
    assert SECRET not in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the agent: Linux only")
def test_the_agent_leaves_no_key_or_passphrase_on_disk_argv_or_env(sandbox, tmp_path):
    """`diary unlock` as a real process: the agent's argv and environment hold
    neither the passphrase nor the key, nothing is written but its socket,
    and commands after it read the diary without any passphrase given."""
    import shutil
    import tempfile

    from conftest import needs_tmpfs
    from diary import agent_client, raw_key

    needs_tmpfs()
    diary, roots = sandbox
    home, tmp, data = roots
    runtime = tempfile.mkdtemp(prefix="leak-agent-", dir="/dev/shm")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TMPDIR": str(tmp),
           "XDG_RUNTIME_DIR": runtime, "LANG": "C.UTF-8"}
    db = str(data / "diary.db")
    secrets = tmp_path / "secrets" / "old"
    try:
        diary("init")
        diary("add", "body " + MARKER)
        r = subprocess.run([DIARY, "--diary", db, "--passphrase-file", str(secrets), "unlock"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([DIARY, "--diary", db, "list"], capture_output=True, text=True,
                           env=env, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and MARKER in r.stdout, r.stderr
        status = agent_client.status(db, {"XDG_RUNTIME_DIR": runtime})
        pid = status["pid"]
        # The real program derives with SQLCipher's 256,000 iterations.
        key = raw_key.derive(SECRET, raw_key.salt_of(db), raw_key.DEFAULT_KDF_ITER)
        assert agent_client.key_for(db, {"XDG_RUNTIME_DIR": runtime}) == key  # the one held
        forms = [SECRET.encode(), bytes(key), bytes(key).hex().encode(),
                 bytes(key).hex().upper().encode(), MARKER.encode()]
        for name in ("cmdline", "environ"):
            with open("/proc/%d/%s" % (pid, name), "rb") as f:
                text = f.read()
            assert not any(form in text for form in forms), name
        # Nothing on disk: the sandbox's directories and the runtime directory
        # hold no secret (the runtime directory: the socket alone).
        for root in roots + [runtime]:
            for needle in (SECRET, bytes(key).hex(), MARKER):
                assert scan(root, needle) == [], (root, needle)
            for dirpath, _, names in os.walk(root):
                for name in names:
                    with open(os.path.join(dirpath, name), "rb") if not name.endswith(
                            ".sock") else open(os.devnull, "rb") as f:
                        assert bytes(key) not in f.read()
        assert [n for _, _, names in os.walk(runtime) for n in names
                if not n.endswith(".sock")] == []
        assert sorted(os.listdir(data)) == ["diary.db"]
        assert os.listdir(tmp) == [] and os.listdir(home) == []
    finally:
        subprocess.run([DIARY, "--diary", db, "lock"], env=env, timeout=60,
                       capture_output=True)
        shutil.rmtree(runtime, ignore_errors=True)
