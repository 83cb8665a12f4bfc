"""The config file and named diaries: precedence (flag > environment > file >
default) for every source, each error, the warnings, the passphrase refusal,
names against paths, `diary diaries`, `diary config` (text, --json, path, edit)."""

import io
import json
import os
import stat
import sys
import tomllib

import pytest

from diary import cli, config


@pytest.fixture
def cfg(tmp_path):
    """The config file the run fixture points DIARY_CONFIG at; call it with TOML."""
    path = tmp_path / "config" / "config.toml"

    def write(text):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return str(path)

    write.path = str(path)
    return write


def settings_json(run, *argv, **kwargs):
    result = run(*argv, "config", "--json", **kwargs)
    assert result.code == 0, result
    return json.loads(result.out)


def one_line_error(result, code=2):
    assert result.code == code, result
    assert result.err.startswith("diary: ") and result.err.count("\n") == 1, result
    assert result.out == ""
    return result.err


# --- precedence ----------------------------------------------------------------

# key: (file value as TOML, its value; environment variable, its text, its value)
SOURCES = {
    "lock_after": ("3", 3, "DIARY_LOCK_AFTER", "2.5", 2.5),
    "default_sort": ('"oldest"', "oldest", "DIARY_DEFAULT_SORT", "newest", "newest"),
    "date_order": ('"mdy"', "mdy", "DIARY_DATE_ORDER", "DMY", "dmy"),
    "week_start": ('"sunday"', "sunday", "DIARY_WEEK_START", "monday", "monday"),
    "color": ('"always"', "always", "DIARY_COLOR", "never", "never"),
    "trash_days": ("7", 7, "DIARY_TRASH_DAYS", "90", 90),
    "quick_title": ("false", False, "DIARY_QUICK_TITLE", "yes", True),
    "at_tags": ("true", True, "DIARY_AT_TAGS", "0", False),
    "editor": ('"nano -w"', "nano -w", "EDITOR", "vi", "vi"),
    "editor_tmpdir": ('"~/tmp"', os.path.expanduser("~/tmp"), "DIARY_EDITOR_TMPDIR",
                      "/dev/shm", "/dev/shm"),
}


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_each_key_default_then_file_then_environment(run, cfg, key):
    toml, from_file, var, text, from_env = SOURCES[key]
    clear = {"EDITOR": None, "VISUAL": None, "NO_COLOR": None}
    got = settings_json(run, environ=clear)[key]
    assert got["source"] == "default"
    assert got["value"] == config.KEYS[key].default
    cfg("%s = %s\n" % (key, toml))
    assert settings_json(run, environ=clear)[key] == {"value": from_file, "source": "file"}
    assert settings_json(run, environ=dict(clear, **{var: text}))[key] == {
        "value": from_env, "source": "environment"}


def test_flags_win_over_environment_and_file(run, cfg, tmp_path):
    cfg('lock_after = 3\ndiary = "%s"\n' % (tmp_path / "file.db"))
    environ = {"DIARY_LOCK_AFTER": "4", "DIARY_PATH": str(tmp_path / "env.db")}
    got = settings_json(run, "--lock-after", "5", "-d", str(tmp_path / "flag.db"),
                        environ=environ)
    assert got["lock_after"] == {"value": 5, "source": "flag"}
    assert got["diary"] == {"value": str(tmp_path / "flag.db"), "source": "flag"}
    got = settings_json(run, environ=environ)
    assert got["diary"] == {"value": str(tmp_path / "env.db"), "source": "environment"}
    got = settings_json(run, environ={"DIARY_PATH": None})
    assert got["diary"] == {"value": str(tmp_path / "file.db"), "source": "file"}


def test_text_shows_every_key_aligned_with_its_source(run, cfg):
    cfg('week_start = "sunday"\n')
    result = run("--lock-after", "1", "config", environ={"EDITOR": "vi", "VISUAL": None})
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == list(config.KEYS)
    assert len({line.index("  ") for line in lines}) >= 1
    columns = {line.rstrip().rfind("  ") for line in lines}
    assert len(columns) == 1  # the source column lines up
    by_key = {line.split()[0]: line for line in lines}
    assert by_key["week_start"].endswith("  file")
    assert by_key["lock_after"].endswith("  flag (--lock-after)")
    assert by_key["editor"].endswith("  environment ($EDITOR)")
    assert by_key["trash_days"].endswith("  default")
    assert "Config file: %s" % cfg.path in result.err


def test_visual_wins_over_editor_and_editor_over_the_file(run, cfg):
    cfg('editor = "nano"\n')
    assert settings_json(run, environ={"VISUAL": "code -w", "EDITOR": "vi"})["editor"][
        "value"] == "code -w"
    assert settings_json(run, environ={"VISUAL": None, "EDITOR": "vi"})["editor"][
        "value"] == "vi"
    assert settings_json(run, environ={"VISUAL": None, "EDITOR": None})["editor"] == {
        "value": "nano", "source": "file"}


def test_lock_after_reaches_the_menu_setting(tmp_path, cfg):
    cfg("lock_after = 0.5\n")

    def minutes(argv, **environ):
        args = cli.build_parser().parse_args(argv)
        env = cli.Env(io.StringIO(), io.StringIO(), io.StringIO(),
                      dict(environ, DIARY_CONFIG=cfg.path))
        return cli.lock_after(args, env)

    assert minutes([]) == 0.5
    assert minutes([], DIARY_LOCK_AFTER="2") == 2
    assert minutes(["--lock-after", "3"], DIARY_LOCK_AFTER="2") == 3


def test_color_setting_and_no_color(run, made, cfg):
    run("add", "--title", "Hello", "text #work")
    colored = run("list", tty=True).out
    plain = run("list").out
    no_color = run("list", tty=True, environ={"NO_COLOR": "1"}).out
    assert "\x1b[" not in plain and colored != no_color  # rich styles, colours
    cfg('color = "always"\n')
    assert run("list").out == colored  # even piped
    assert run("list", environ={"NO_COLOR": "1"}).out != colored  # NO_COLOR wins
    cfg('color = "never"\n')
    assert run("list", tty=True).out == no_color


def test_default_sort_from_the_file_and_the_flag_over_it(run, made, cfg):
    run("add", "--date", "2020-01-01", "river old")
    run("add", "--date", "2024-01-01", "river new")

    def order(*argv, **kwargs):
        result = run("search", "river", "--json", *argv, **kwargs)
        assert result.code == 0, result
        return [e["body"] for e in json.loads(result.out)]

    cfg('default_sort = "oldest"\n')
    assert order() == ["river old", "river new"]
    assert order("--sort", "newest") == ["river new", "river old"]
    assert order(environ={"DIARY_DEFAULT_SORT": "newest"}) == ["river new", "river old"]


# --- errors and warnings -------------------------------------------------------

@pytest.mark.parametrize("toml, key", [
    ('lock_after = "soon"', "lock_after"),
    ("lock_after = -1", "lock_after"),
    ("lock_after = nan", "lock_after"),
    ("lock_after = true", "lock_after"),
    ('default_sort = "random"', "default_sort"),
    ('date_order = "dym"', "date_order"),
    ("week_start = 1", "week_start"),
    ('color = "sometimes"', "color"),
    ("trash_days = 1.5", "trash_days"),
    ("trash_days = -3", "trash_days"),
    ('editor = ""', "editor"),
    ('editor_tmpdir = "relative/dir"', "editor_tmpdir"),
    ('diary = "relative/diary.db"', "diary"),
    ("diary = 3", "diary"),
    ('diaries = "work"', "diaries"),
    ('[diaries]\nwork = "work.db"', "diaries"),
    ('[diaries]\nwork = 1', "diaries"),
    ('[diaries]\n"a/b" = "/x.db"', "diaries"),
    ('[diaries]\n"old.db" = "/x.db"', "diaries"),
])
def test_a_bad_value_is_one_line_naming_the_key_exit_2(run, made, cfg, toml, key):
    cfg(toml + "\n")
    err = one_line_error(run("list"))
    assert "config file %s: %s:" % (cfg.path, key) in err


@pytest.mark.parametrize("toml", ["trash_days = 99999999999999999999",
                                  "trash_days = 9223372036854775808"])
def test_a_number_too_large_says_it_is_too_large(run, made, cfg, toml):
    # It said "must be 0 or more days, not 99999999999999999999": true of the
    # value given, so the person was left to guess what was wrong with it.
    cfg(toml + "\n")
    err = one_line_error(run("list"))
    assert "or more" not in err and "at most" in err, err
    err = one_line_error(run("list", environ={"DIARY_TRASH_DAYS": "99999999999999999999"}))
    assert "or more" not in err and "at most" in err, err


@pytest.mark.parametrize("var, text", [
    ("DIARY_LOCK_AFTER", "soon"), ("DIARY_LOCK_AFTER", "-1"), ("DIARY_LOCK_AFTER", "inf"),
    ("DIARY_COLOR", "pink"), ("DIARY_TRASH_DAYS", "1.5"), ("DIARY_DATE_ORDER", "x"),
])
def test_a_bad_environment_value_names_the_variable(run, made, var, text):
    err = one_line_error(run("list", environ={var: text}))
    assert "$%s:" % var in err


def test_malformed_toml_is_one_line_with_its_line_number(run, made, cfg):
    cfg('color = "auto"\nlock_after = = 3\n')
    err = one_line_error(run("list"))
    assert "not valid TOML" in err and "line 2" in err


@pytest.mark.parametrize("toml", [
    "a = " + "[" * 5000 + "]" * 5000,  # deeper than the TOML reader's recursion
    "diaries = " + "{a = " * 3000 + "1" + "}" * 3000,
    "lock_after = " + "[" * 900 + "]" * 900,  # read, then too deep to show in the error
])
def test_a_config_file_nested_too_deep_names_the_file(run, made, cfg, toml):
    # It said "the input is nested too deeply to read": which input?
    cfg(toml + "\n")
    for argv in (["list"], ["config"], ["diaries", "--names"]):
        err = one_line_error(run(*argv))
        assert cfg.path in err and "nested too deeply" in err, err


def test_a_config_file_that_is_not_text_or_not_a_file(run, made, cfg, tmp_path):
    with open(cfg("x"), "wb") as f:
        f.write(b"color = \"\xff\"\n")
    assert "not valid UTF-8" in one_line_error(run("list"))
    os.remove(cfg.path)
    os.mkdir(cfg.path)
    one_line_error(run("list"))


def test_no_config_file_is_fine_and_nothing_writes_one(run, made, cfg):
    assert run("add", "x").code == 0
    for argv in (["list"], ["config"], ["config", "--json"], ["config", "path"],
                 ["diaries"], ["search", "x"]):
        assert run(*argv).code == 0
    assert not os.path.exists(os.path.dirname(cfg.path))


def test_an_unknown_key_warns_with_the_nearest_and_the_command_runs(run, made, cfg):
    cfg("lok_after = 3\n")
    result = run("list")
    assert result.code == 0
    assert result.err.count("\n") == 1
    assert "warning" in result.err and "lok_after" in result.err
    assert "did you mean lock_after?" in result.err
    cfg("zzz = 1\n[colours]\nx = 1\n")
    result = run("list")
    assert result.code == 0 and result.err.count("\n") == 2
    assert "'zzz'" in result.err and "known keys: diary, diaries" in result.err


@pytest.mark.parametrize("toml", [
    'passphrase = "hunter2"',
    'password = "hunter2"',
    'diary_passphrase = "hunter2"',
    'key = "x"',
    'api_key = "x"',
    '[secrets]\ntoken = "x"',
    '[diaries]\nwork = "/w.db"\npassphrase = "hunter2"',
])
def test_a_passphrase_in_the_file_is_refused(run, made, cfg, toml):
    cfg(toml + "\n")
    err = one_line_error(run("list"))
    assert "refused" in err and "--passphrase-file" in err
    assert "hunter2" not in err


def test_a_word_containing_key_is_only_unknown(run, made, cfg):
    cfg("monkey = 1\n")
    result = run("list")
    assert result.code == 0 and "unknown key 'monkey'" in result.err


# --- named diaries ---------------------------------------------------------------

@pytest.fixture
def named(run, cfg, tmp_path):
    """Two named diaries, work (created, one entry) and home (no file yet)."""
    work, home = tmp_path / "w" / "work.db", tmp_path / "home.db"
    cfg('[diaries]\nwork = "%s"\nhome = "%s"\n' % (work, home))
    assert run("-d", str(work), "init").code == 0
    assert run("-d", str(work), "add", "at work").code == 0
    return str(work), str(home)


def bodies(result):
    assert result.code == 0, result
    return [e["body"] for e in json.loads(result.out)]


def test_a_name_picks_a_diary_from_every_source(run, named, cfg):
    work, _ = named
    assert bodies(run("-d", "work", "list", "--json")) == ["at work"]
    assert bodies(run("list", "--json", "--diary", "work")) == ["at work"]
    assert bodies(run("list", "--json", environ={"DIARY_PATH": "work"})) == ["at work"]
    with open(cfg.path, "a") as f:
        f.write('diary = "work"\n')
    with open(cfg.path) as f:
        text = f.read()
    cfg('diary = "work"\n' + text.replace('diary = "work"\n', ""))  # before the table
    assert bodies(run("list", "--json", environ={"DIARY_PATH": None})) == ["at work"]
    assert settings_json(run, environ={"DIARY_PATH": None})["diary"] == {
        "value": work, "source": "file"}


def test_a_name_wins_over_a_file_here_which_dot_slash_reaches(run, named, tmp_path,
                                                              monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert run("--diary", "./work", "init").code == 0
    assert run("--diary", "./work", "add", "local").code == 0
    assert bodies(run("-d", "work", "list", "--json")) == ["at work"]
    assert bodies(run("-d", "./work", "list", "--json")) == ["local"]
    assert run("-d", "x.db", "init").code == 0  # ends in .db: a path
    assert os.path.exists(here / "x.db")


def test_an_unknown_name_lists_the_known_ones(run, named):
    err = one_line_error(run("-d", "wrok", "list"))
    assert "'wrok'" in err and "home, work" in err and "./wrok" in err
    err = one_line_error(run("list", environ={"DIARY_PATH": "nope"}))
    assert "'nope'" in err


def test_config_still_shows_every_setting_when_the_diary_names_an_unknown_name(run, named):
    # `diary config` is where one looks when a command says "no diary named
    # ...": it must show the settings (the name as given, and where it came
    # from), with the problem as a warning, not stop on the same error.
    result = run("config", environ={"DIARY_PATH": "wrok"})
    assert result.code == 0, result
    assert any(line.split()[:2] == ["diary", "wrok"] and "DIARY_PATH" in line
               for line in result.out.splitlines()), result.out
    assert "lock_after" in result.out and "no diary named 'wrok'" in result.err
    shown = json.loads(run("config", "--json", environ={"DIARY_PATH": "wrok"}).out)
    assert shown["diary"] == {"value": "wrok", "source": "environment"}


def test_an_unknown_name_without_a_config_file(run, made):
    err = one_line_error(run("-d", "work", "list"))
    assert "add a [diaries] table" in err


def test_diaries_lists_names_paths_sizes_without_unlocking(run, named):
    work, home = named
    environ = {"DIARY_PASSPHRASE": None, "DIARY_PATH": "work"}
    result = run("diaries", environ=environ)
    assert result.code == 0 and result.asked == [], result
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["work", work] and lines[0].endswith("default")
    assert "KiB" in lines[0]
    assert lines[1].split() == ["home", home, "missing"]
    records = json.loads(run("diaries", "--json", environ=environ).out)
    assert records == [
        {"name": "work", "path": work, "size": os.path.getsize(work), "default": True},
        {"name": "home", "path": home, "size": None, "default": False}]


def test_diaries_names_alone_for_scripts_and_completion(run, cfg, tmp_path):
    cfg('[diaries]\nwork = "%s"\n"my notes" = "%s"\n"bad\\nname" = "%s"\n'
        '"rlo\\u202ename" = "%s"\n' % ((tmp_path / "w.db",) * 4))
    result = run("diaries", "--names", environ={"DIARY_PASSPHRASE": None})
    assert result.code == 0 and result.asked == [] and result.err == "", result
    # A name that cannot be one printable line is left out.
    assert result.out == "work\nmy notes\n"


def test_diaries_names_and_json_together_is_a_usage_error(run, cfg, tmp_path):
    cfg('[diaries]\nwork = "%s"\n' % (tmp_path / "w.db"))
    result = run("diaries", "--names", "--json", environ={"DIARY_PASSPHRASE": None})
    assert result.code == 2 and result.out == "", result
    assert "not allowed with" in result.err


def test_diaries_says_not_a_file_for_a_fifo_or_a_folder(run, cfg, tmp_path):
    # A named diary that is a FIFO or a folder was listed as "missing": told
    # to create it, a person would find the name taken.
    fifo, folder = tmp_path / "fifo.db", tmp_path / "folder.db"
    os.mkfifo(fifo)
    folder.mkdir()
    cfg('[diaries]\npipe = "%s"\nfolder = "%s"\n' % (fifo, folder))
    result = run("diaries", environ={"DIARY_PASSPHRASE": None})
    assert result.code == 0, result
    assert [line.split("  ")[-1].strip() for line in result.out.splitlines()] == \
        ["not a file", "not a file"], result.out


def test_diaries_without_any(run):
    result = run("diaries")
    assert result.code == 0 and result.out == "" and "No named diaries" in result.err
    assert run("diaries", "--json").out == "[]\n"


# --- config path and config edit -----------------------------------------------------

def test_config_path_whether_or_not_it_exists(run, cfg, tmp_path):
    assert run("config", "path").out == cfg.path + "\n"
    cfg("")
    assert run("config", "path").out == cfg.path + "\n"
    other = tmp_path / "elsewhere.toml"
    assert run("config", "path", environ={"DIARY_CONFIG": str(other)}).out == str(other) + "\n"


@pytest.mark.parametrize("toml", ["lock_after = \n", 'passphrase = "x"\n', "lock_after = -1\n"])
def test_config_path_names_a_broken_file_too(run, cfg, toml):
    # A broken file's error names it; `config path` is what one runs next, to
    # find it: it must not need the file it points at to be valid.
    cfg(toml)
    result = run("config", "path")
    assert (result.code, result.out, result.err) == (0, cfg.path + "\n", "")


def test_config_path_without_diary_config_is_the_user_config_dir(run, tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG_CONFIG_HOME is Linux's")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    result = run("config", "path", environ={"DIARY_CONFIG": None})
    assert result.out == str(tmp_path / "xdg" / "diary" / "config.toml") + "\n"


@pytest.mark.parametrize("xdg", [None, "", "  ", "/elsewhere/conf"])
def test_the_config_dir_is_platformdirs(monkeypatch, xdg):
    import platformdirs

    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    assert config.file_path({}) == os.path.join(
        platformdirs.user_config_dir("diary", appauthor=False), "config.toml")


@pytest.fixture
def recorder(tmp_path):
    """An editor that records its arguments (one per line) and exits with $STATUS."""
    script = tmp_path / "editor.sh"
    log = tmp_path / "editor.log"
    script.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a" >> %s; done\nexit ${STATUS:-0}\n'
                      % log)
    script.chmod(0o700)
    return Recorder(script, log)


class Recorder:
    def __init__(self, script, log):
        self.script, self.log = script, log

    def __str__(self):
        return str(self.script)


def test_config_edit_does_not_give_the_editor_the_passphrase_variable(run, cfg, tmp_path):
    # `config edit` ran the editor with the whole environment, DIARY_PASSPHRASE too
    script, seen = tmp_path / "env-editor.sh", tmp_path / "seen"
    script.write_text('#!/bin/sh\necho "${DIARY_PASSPHRASE-unset}" > %s\n' % seen)
    script.chmod(0o700)
    result = run("config", "edit", environ={"EDITOR": str(script), "VISUAL": None,
                                            "DIARY_PASSPHRASE": "in the environment"})
    assert result.code == 0, result
    assert seen.read_text() == "unset\n"


def test_config_edit_creates_the_template_and_opens_it(run, cfg, recorder):
    result = run("config", "edit", environ={"EDITOR": "%s --wait" % recorder, "VISUAL": None})
    assert result.code == 0, result
    assert recorder.log.read_text().splitlines() == ["--wait", cfg.path]
    assert stat.S_IMODE(os.stat(cfg.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cfg.path)).st_mode) == 0o700
    text = open(cfg.path).read()
    assert tomllib.loads(text) == {}  # all commented out
    for key in config.KEYS:
        assert "# %s = " % key in text or "# [%s]" % key in text
    # Uncommented, each line is a valid setting at its default.
    lines = [line[2:].split("    (")[0] for line in text.splitlines()
             if line.split(" = ")[0][2:] in config.KEYS]
    values, warnings = config.check_file("t", tomllib.loads("\n".join(lines)))
    assert warnings == [] and set(values) == set(config.KEYS) - {"diaries"}
    for key, value in values.items():
        if config.KEYS[key].default is not None:
            assert value == config.KEYS[key].default


def test_config_edit_keeps_an_existing_file_and_checks_it_after(run, cfg, recorder):
    cfg("lock_after = 3\n")
    assert run("config", "edit", environ={"VISUAL": str(recorder)}).code == 0
    assert open(cfg.path).read() == "lock_after = 3\n"
    cfg("lock_after = = 3\n")  # a broken file can still be opened to fix it
    result = run("config", "edit", environ={"VISUAL": str(recorder)})
    assert result.code == 2 and "line 1" in result.err
    assert recorder.log.read_text().splitlines() == [cfg.path, cfg.path]


def test_config_edit_uses_the_editor_setting(run, cfg, recorder):
    cfg('editor = "%s"\n' % recorder)
    assert run("config", "edit", environ={"VISUAL": None, "EDITOR": None}).code == 0
    assert recorder.log.read_text() == cfg.path + "\n"


def test_config_edit_without_an_editor_says_so_and_writes_nothing(run, cfg):
    result = run("config", "edit", environ={"VISUAL": None, "EDITOR": None})
    err = one_line_error(result, code=1)
    assert "no editor set" in err and "$EDITOR" in err
    assert not os.path.exists(cfg.path)


def test_config_edit_reports_a_failing_editor(run, cfg, recorder, tmp_path):
    result = run("config", "edit", environ={"VISUAL": str(recorder), "STATUS": "3"})
    assert result.code == 1 and "exited with status" in result.err
    result = run("config", "edit", environ={"VISUAL": str(tmp_path / "no-such-editor")})
    assert result.code == 1 and "cannot run the editor" in result.err


@pytest.mark.parametrize("name", ["config", "diaries"])
def test_new_commands_have_help_with_an_example(run, name):
    result = run(name, "--help")
    assert result.code == 0 and "example:\n  diary %s" % name in result.out


def test_help_says_a_name_wins_over_a_file_here(run):
    out = " ".join(run("list", "--help").out.split())
    assert "-d PATH|NAME" in out and "./NAME is the file" in out


@pytest.mark.parametrize("setting, code, shown", [
    (None, 0, "2024-04-13"), ('date_order = "dmy"', 0, "2024-04-13"),
    ('date_order = "mdy"', 1, None)])
def test_date_order_reaches_the_date_parser(run, made, cfg, setting, code, shown):
    if setting:
        cfg(setting + "\n")
    result = run("add", "--date", "13/04/2024", "--json", stdin="a day in April")
    assert result.code == code, result
    if shown:
        assert shown in run("list", "--json").out
    else:
        assert "month/day/year" in result.err


def test_date_order_from_the_environment_reads_month_first(run, made):
    assert run("add", "--date", "04/13/2024 10:00", stdin="x",
               environ={"DIARY_DATE_ORDER": "mdy"}).code == 0
    assert "2024-04-13" in run("list", "--json").out
