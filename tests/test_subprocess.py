"""A few runs of the installed program as a real process (real key derivation)."""

import json
import os
import subprocess
import sys

import pytest

DIARY = os.path.join(os.path.dirname(sys.executable), "diary")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*argv, env_extra=None, stdin="", cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env.update(env_extra or {})
    return subprocess.run([DIARY, *argv], input=stdin, capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


@pytest.fixture
def files(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("a real passphrase\n")
    return str(tmp_path / "home" / "diary.db"), str(pw)


def test_installed_command_round_trip(files):
    db, pw = files
    assert run("init", "--diary", db, "--passphrase-file", pw).returncode == 0
    r = run("add", "--diary", db, "--passphrase-file", pw, "--title", "Real", stdin="hello\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1\n"
    r = run("list", "--json", "--diary", db, "--passphrase-file", pw)
    assert r.returncode == 0
    assert [(e["title"], e["body"]) for e in json.loads(r.stdout)] == [("Real", "hello")]
    r = run("show", "1", "--diary", db, "--passphrase-file", pw)
    assert "hello" in r.stdout and "\x1b[" not in r.stdout


def test_wrong_passphrase_as_a_real_process(files, tmp_path):
    db, pw = files
    assert run("init", "--diary", db, "--passphrase-file", pw).returncode == 0
    r = run("list", "--diary", db, env_extra={"DIARY_PASSPHRASE": "not it"})
    assert r.returncode == 3
    assert r.stderr == "diary: wrong passphrase, or not a diary file\n"


def test_no_terminal_no_passphrase(files):
    db, _ = files
    r = run("init", "--diary", db)
    assert r.returncode == 3 and "no passphrase" in r.stderr
    assert "Traceback" not in r.stderr
    assert not os.path.exists(db)


def test_python_dash_m(files):
    r = subprocess.run([sys.executable, "-m", "diary", "--version"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("diary ")


def test_help_and_version_import_no_heavy_stack():
    code = ("import sys; from diary.cli import main; main(['--help']); main(['--version']);"
            "heavy = [m for m in ('peewee', 'sqlcipher3', 'prompt_toolkit', 'rich', "
            "'dateparser') if m in sys.modules]; print('HEAVY', heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.splitlines()[-1] == "HEAVY []"


def test_a_command_imports_only_the_module_that_defines_it():
    code = ("import sys; from diary.cli import main; main(['search', '--help']); "
            "print('CLI', sorted(m for m in sys.modules if m.startswith('diary.cli_')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=REPO)
    assert r.stdout.splitlines()[-1] == "CLI ['diary.cli_search']"


def test_only_the_real_process_pauses_and_freezes_the_collector():
    # cli.main with no Env is the process: the collector is off during start-up
    # and frozen at exit (gc.freeze spares the interpreter's last collections);
    # with an injected Env (tests, in-process callers) it is left alone.
    code = ("import gc, io, os, sys; from diary import cli\n"
            "env = cli.Env(io.StringIO(), io.StringIO(), io.StringIO(), {})\n"
            "cli.main(['--version'], env); print('INJECTED', gc.get_freeze_count())\n"
            "cli.main(['--version'])\n"
            "print('PROCESS', gc.get_freeze_count() > 0, gc.isenabled())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=REPO)
    lines = r.stdout.splitlines()
    assert "INJECTED 0" in lines and lines[-1] == "PROCESS True True", r.stdout + r.stderr


def test_the_collector_is_back_on_before_a_command_opens_the_diary(files):
    # A long command (an export, the menu) must run with the collector on.
    db, pw = files
    assert run("init", "--diary", db, "--passphrase-file", pw).returncode == 0
    code = ("import gc, sys; from diary import cli, errors, store\n"
            "def opened(*a, **k):\n"
            "    print('ENABLED', gc.isenabled()); raise errors.DiaryError('stop')\n"
            "store.open_diary = opened\n"
            "print('EXIT', cli.main(['--diary', sys.argv[1], '--passphrase-file', sys.argv[2],"
            " 'list']))")
    r = subprocess.run([sys.executable, "-c", code, db, pw], capture_output=True, text=True,
                       timeout=60, cwd=REPO)
    assert r.stdout.splitlines() == ["ENABLED True", "EXIT 1"], r.stdout + r.stderr


def test_list_and_search_load_no_more_than_they_use(tmp_path):
    # Every reading command pays for what it imports and builds: `list`
    # without --tag needs neither the tag tree's module nor the CJK bigrams',
    # and a query in a Latin script builds no script tables (grams.py).
    db = str(tmp_path / "d.db")
    make = ("import sys; from diary import entries, store; store.KDF_ITER = 64\n"
            "store.create(sys.argv[1], 'pw')\n"
            "with store.open_diary(sys.argv[1], 'pw') as d:\n"
            "    entries.add(d, 'quetzal text #work')\n")
    code = ("import sys; from diary import cli, store; store.KDF_ITER = 64\n"
            "assert cli.main(['--diary', *sys.argv[1:]]) == 0\n"
            "grams = sys.modules.get('diary.grams')\n"
            "print('LOADED', sorted(m for m in ('diary.tags', 'diary.grams') if m in "
            "sys.modules), 'TABLES', bool(grams and grams._tables.cache_info().currsize))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env.update(DIARY_PASSPHRASE="pw", DIARY_CONFIG=str(tmp_path / "none.toml"))
    subprocess.run([sys.executable, "-c", make, db], check=True, timeout=60, cwd=REPO, env=env)
    for argv, loaded in ((["list", "-n", "1"], "[]"),
                         (["search", "quetzal"], "['diary.grams']")):
        r = subprocess.run([sys.executable, "-c", code, db, *argv], capture_output=True,
                           text=True, timeout=60, cwd=REPO, env=env)
        assert r.stdout.splitlines()[-1] == "LOADED %s TABLES False" % loaded, r.stdout + r.stderr
