"""Progress: the library reports through a callback (it never prints); an
interrupt (Ctrl-C) raised midway leaves nothing half done."""

import io
import json
import os
import pty
import re
import shutil
import threading

import pytest

from conftest import PASSPHRASE
from diary import cli, entries, exchange

ENTRY = {"created_at": "2024-03-02T10:00:00Z", "title": "T", "tags": ["a/b"]}


def _source(tmp_path, n):
    p = tmp_path / "many.jsonl"
    p.write_text("".join(json.dumps(dict(ENTRY, body="body %d" % i)) + "\n"
                         for i in range(n)))
    return str(p)


@pytest.mark.parametrize("keep", [exchange.KEEP_CHARS, 2000])
def test_import_reports_progress_with_a_total(diary, tmp_path, monkeypatch, keep):
    monkeypatch.setattr(exchange, "KEEP_CHARS", keep)  # read whole ahead, or streamed
    calls = []
    stats = exchange.import_file(diary, _source(tmp_path, 1200), "jsonl",
                                 progress=lambda done, total: calls.append((done, total)))
    assert stats.added == 1200
    assert [d for d, _ in calls] == [500, 1000, 1200]
    assert calls[-1] == (1200, 1200)
    # a total (exact, or estimated from the file's position) while it runs
    assert all(t is not None and t >= d for d, t in calls)


@pytest.mark.parametrize("keep", [exchange.KEEP_CHARS, 2000])
def test_ctrl_c_midway_through_an_import_leaves_the_diary_unchanged(
        diary, tmp_path, monkeypatch, keep):
    # keep=2000: most records are read as they are inserted
    monkeypatch.setattr(exchange, "KEEP_CHARS", keep)

    def interrupt(done, total):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        exchange.import_file(diary, _source(tmp_path, 1200), "jsonl", progress=interrupt)
    assert entries.count(diary) == 0
    assert exchange.import_file(diary, _source(tmp_path, 1200), "jsonl").added == 1200


# --- the bar the CLI draws ------------------------------------------------------------

def _cli(made, argv, *, out_tty, err_tty, stdout=None, stderr=None):
    out = stdout or io.StringIO()
    err = stderr or io.StringIO()
    env = cli.Env(stdin=io.StringIO(), stdout=out, stderr=err,
                  environ={"DIARY_PATH": made, "DIARY_PASSPHRASE": PASSPHRASE},
                  stdout_tty=out_tty, stderr_tty=err_tty)
    code = cli.main(argv, env)
    return code, (out.getvalue() if stdout is None else ""), \
        (err.getvalue() if stderr is None else "")


@pytest.fixture
def filled(made, tmp_path):
    src = _source(tmp_path, 1200)
    assert _cli(made, ["import", src], out_tty=False, err_tty=False)[0] == 0
    return made


@pytest.mark.parametrize("argv", [
    ["import", "SRC"], ["export", "-o", "OUT"], ["backup", "OUT"], ["check"],
    ["merge", "COPY"]])
def test_the_bar_appears_on_a_terminal_once_the_work_is_long(
        filled, tmp_path, monkeypatch, argv):
    from diary import cli_exchange

    monkeypatch.setattr(cli_exchange, "SHOW_AFTER", 0.0)  # every run is "long"
    copy = str(tmp_path / "copy.db")
    shutil.copy(filled, copy)
    src = tmp_path / "more"
    src.mkdir()
    names = {"SRC": _source(src, 1200), "OUT": str(tmp_path / "out"),
             "COPY": copy}
    argv = [names.get(a, a) for a in argv]
    code, _, err = _cli(filled, argv, out_tty=True, err_tty=True)
    assert code == 0, err
    label = {"import": "Importing", "export": "Exporting", "backup": "Backing up",
             "check": "Checking", "merge": "Merging"}[argv[0]]
    assert label in err and "/s" in err
    # the same on a pipe (either stream), with --json, or when it is quick: no bar
    os.remove(names["OUT"]) if os.path.exists(names["OUT"]) else None
    for out_tty, err_tty in ((False, True), (True, False)):
        code, _, err = _cli(filled, argv, out_tty=out_tty, err_tty=err_tty)
        assert code == 0 and label not in err, err
        os.remove(names["OUT"]) if os.path.exists(names["OUT"]) else None
    if argv[0] in ("import", "merge"):
        code, out, err = _cli(filled, argv + ["--json"], out_tty=True, err_tty=True)
        assert code == 0 and label not in err and label not in out
    monkeypatch.setattr(cli_exchange, "SHOW_AFTER", 3600.0)
    code, _, err = _cli(filled, argv, out_tty=True, err_tty=True)
    assert code == 0 and label not in err


def test_the_bar_is_drawn_on_a_pseudo_terminal(made, tmp_path, monkeypatch):
    from diary import cli_exchange

    monkeypatch.setattr(cli_exchange, "SHOW_AFTER", 0.0)
    monkeypatch.setattr(exchange, "KEEP_CHARS", 2000)  # streamed: an estimated total
    master, slave = pty.openpty()
    tty = os.fdopen(slave, "w", encoding="utf-8", closefd=True)
    chunks = []
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
    reader.start()
    try:
        code, _, _ = _cli(made, ["import", _source(tmp_path, 3000)], out_tty=tty.isatty(),
                          err_tty=tty.isatty(), stdout=tty, stderr=tty)
        tty.flush()
    finally:
        tty.close()
        reader.join(10)
        os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert code == 0
    assert "Importing" in shown and "entries/s" in shown
    assert re.search(r"\d entries/s", shown), shown  # a measured rate, not "?"
    assert "\x1b[" in shown  # drawn as a terminal bar, cursor moves and all
    assert "Imported 3000 entries" in shown


def _drain(fd, chunks):
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        chunks.append(data)


def test_a_real_import_on_a_terminal_shows_the_bar_and_ctrl_c_leaves_nothing(tmp_path):
    # The installed program on a pseudo-terminal, with the real one-second
    # threshold: an import long enough to draw its bar, interrupted (SIGINT,
    # as Ctrl-C sends) as soon as the bar shows: exit 130, nothing imported.
    import signal
    import subprocess
    import sys
    import time

    diary_exe = os.path.join(os.path.dirname(sys.executable), "diary")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env.update(DIARY_PASSPHRASE="a real passphrase", DIARY_PATH=str(tmp_path / "d.db"),
               DIARY_CONFIG=str(tmp_path / "none.toml"), TERM="xterm", COLUMNS="100")
    assert subprocess.run([diary_exe, "init"], env=env, capture_output=True).returncode == 0
    src = tmp_path / "big.jsonl"
    with open(src, "w") as f:
        for i in range(150_000):
            f.write('{"created_at": "2024-03-02T10:00:00Z", "body": "entry %d #t%d"}\n'
                    % (i, i % 50))
    master, slave = pty.openpty()
    proc = subprocess.Popen([diary_exe, "import", str(src)], env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while b"Importing" not in b"".join(chunks) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "Importing" in shown and "entries/s" in shown, shown
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130
    reader.join(5)
    os.close(master)
    r = subprocess.run([diary_exe, "list", "--json"], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout) == []
