"""Shared fixtures: small fast diaries and the CLI run in-process.

Test diaries use a low kdf_iter so that each unlock costs microseconds; one
test (test_store.py) uses the real 256,000 iterations.
"""

import asyncio
import io
import os
import shutil

import pytest

from diary import cli, dates, store

TEST_KDF_ITER = 64
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    monkeypatch.setattr(store, "KDF_ITER", TEST_KDF_ITER)
    # A command run in-process sets the date order from its settings: undone
    # after each test, so one test's date_order never reaches the next.
    monkeypatch.setattr(dates, "DATE_ORDER", dates.DATE_ORDER)


@pytest.fixture(autouse=True)
def fresh_event_loop():
    """Each test its own asyncio event loop. prompt_toolkit 3.0.36 (the lowest
    allowed) runs an Application on get_event_loop(), one loop for the whole
    process (the newest start one with asyncio.run):
    what one menu test left on it (callbacks, signal handlers, the exception
    handler) reached later ones, and in a full run with the lowest versions the
    first test of test_menu.py drew one frame and nothing more. The program
    runs one Application per process, so it never shares a loop this way."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def path(tmp_path):
    """Where a test diary lives (not created)."""
    return str(tmp_path / "d" / "diary.db")


@pytest.fixture
def made(path):
    """A created, empty diary at ``path`` with PASSPHRASE."""
    store.create(path, PASSPHRASE)
    return path


@pytest.fixture
def diary(made):
    """The diary at ``made``, unlocked for writing."""
    d = store.open_diary(made, PASSPHRASE)
    yield d
    d.close()


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return "Result(code=%r, out=%r, err=%r)" % (self.code, self.out, self.err)


class _Stream(io.StringIO):
    def __init__(self, value="", tty=False):
        super().__init__(value)
        self._tty = tty

    def isatty(self):
        return self._tty


@pytest.fixture
def run(path, tmp_path):
    """Run ``diary ARGV`` in-process against ``path``; returns a Result.

    ``stdin`` is the piped input; ``tty=True`` pretends stdin and stdout are a
    terminal; ``answers`` feeds the passphrase prompt (an exception instance in
    it is raised there: EOFError for Ctrl-D, KeyboardInterrupt); ``environ`` adds
    variables (DIARY_PASSPHRASE defaults to PASSPHRASE, DIARY_CONFIG to an absent
    file under tmp_path; unset one with None).
    """

    def _run(*argv, stdin="", tty=False, answers=None, environ=None, diary_path=path,
             menu_io=None):
        # DIARY_CONFIG: never the config file of whoever runs the tests
        env_vars = {"DIARY_PATH": diary_path, "DIARY_PASSPHRASE": PASSPHRASE,
                    "DIARY_CONFIG": str(tmp_path / "config" / "config.toml")}
        env_vars.update(environ or {})
        env_vars = {k: v for k, v in env_vars.items() if v is not None}
        prompts = list(answers or [])
        asked = []

        def ask(prompt):
            asked.append(prompt)
            if not prompts:
                raise EOFError
            answer = prompts.pop(0)
            if isinstance(answer, BaseException):  # Ctrl-D (EOFError), Ctrl-C at the prompt
                raise answer
            return answer

        out, err = _Stream(tty=tty), _Stream()
        env = cli.Env(stdin=_Stream(stdin, tty=tty), stdout=out, stderr=err,
                      environ=env_vars, stdin_tty=tty, stdout_tty=tty, can_prompt=tty, getpass=ask,
                      menu_io=menu_io)
        code = cli.main(list(argv), env)
        result = Result(code, out.getvalue(), err.getvalue())
        result.asked = asked
        return result

    return _run


def file_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def dir_listing(d):
    return sorted(os.listdir(d))


def needs_tmpfs():
    """A test of the editor's private directory needs /dev/shm on tmpfs: in CI
    (Linux, where it always is) its absence fails the run; elsewhere the test
    is skipped."""
    from diary import private_dir

    if private_dir.fs_type("/dev/shm") != "tmpfs":
        if os.environ.get("CI"):
            pytest.fail("/dev/shm is not a tmpfs here")
        pytest.skip("no tmpfs at /dev/shm")


def needs_tool(name, package):
    """A test that drives an outside program: in CI (where .ci/run installs it)
    its absence fails the run; on a developer's machine the test is skipped,
    saying what to install."""
    if shutil.which(name) is None:
        message = "%s is not installed (Debian package: %s)" % (name, package)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def pytest_addoption(parser):
    parser.addoption("--trials", type=int, default=3,
                     help="trials for the crash-safety tests (CI runs a few; use more locally)")
    parser.addoption("--ways-in-examples", type=int, default=100,
                     help="examples for the every-way-in property test (test_ways_in.py)")
    parser.addoption("--tmux-seeds", type=int, default=20,
                     help="seeds for the random-key test in a real terminal (CI runs 20)")
    parser.addoption("--seed", type=int, default=None,
                     help="replay one seed of the random-key test exactly")


@pytest.fixture
def trials(request):
    return request.config.getoption("--trials")


@pytest.fixture
def tmux_seeds(request):
    """The seeds the random-key test runs: --seed N alone, else 0 .. --tmux-seeds - 1."""
    seed = request.config.getoption("--seed")
    if seed is not None:
        return [seed]
    return list(range(request.config.getoption("--tmux-seeds")))


@pytest.fixture(scope="session")
def long_diary(tmp_path_factory):
    """A diary for the real-terminal tests (written once, copied by each test): 42
    entries of 200 lines each (longer than any screen), one a day back from
    yesterday, tagged, and three more written on this calendar day 1, 2 and 3
    years ago. Made with the real key derivation, so the program opens it."""
    import datetime

    from diary import dates
    from tmux_driver import body_lines, make_diary

    now = dates.now()
    specs = []
    for i in range(1, 43):
        specs.append({"title": "Entry %02d" % i, "body": body_lines(200, i),
                      "created_at": now - datetime.timedelta(days=i),
                      "tags": [("work/acme", "health/running", "home")[i % 3]]})
    for years in (1, 2, 3):
        day = now.date()
        try:
            day = day.replace(year=day.year - years)
        except ValueError:  # 29 February
            day = day.replace(year=day.year - years, day=28)
        when = now.replace(year=day.year, month=day.month, day=day.day, hour=12, minute=0)
        specs.append({"title": "Anniversary %d" % years, "body": body_lines(200, 90 + years),
                      "created_at": when, "tags": ["memories"]})
    path = str(tmp_path_factory.mktemp("long") / "diary.db")
    make_diary(path, specs)
    return path
