"""`diary completion bash|zsh|fish`: the scripts complete commands, flags,
choices, paths and the names of [diaries] in the real shells.

bash: the completion function driven through COMP_WORDS/COMP_CWORD; fish:
`complete -C`, fish's own completion of a command line; zsh: Tab pressed in
a real zsh in tmux (zsh's completion only runs inside its line editor).
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import needs_tool
from diary import cli
from diary.cli_completion import SHELLS, full_parser

BIN = os.path.dirname(sys.executable)  # the `diary` these tests run: this checkout's

# A name with a space, and one that a shell would run if it evaluated it.
CONFIG = """\
[diaries]
work = "/nowhere/work.db"
"my notes" = "/nowhere/notes.db"
"$(touch pwned)" = "/nowhere/p.db"
"""


@pytest.fixture
def place(tmp_path):
    """A directory to complete in, with two files, a folder and a config file."""
    here = tmp_path / "here"
    here.mkdir()
    (here / "journal.txt").write_text("x")
    (here / "export.json").write_text("x")
    (here / "old").mkdir()
    (tmp_path / "config.toml").write_text(CONFIG)
    return here


def shell_env(tmp_path):
    return {"PATH": BIN + os.pathsep + os.environ["PATH"], "HOME": str(tmp_path),
            "DIARY_CONFIG": str(tmp_path / "config.toml"), "LANG": "C.UTF-8",
            "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}


def written(run, tmp_path, shell):
    result = run("completion", shell)
    assert result.code == 0 and result.err == "", result
    path = tmp_path / ("diary." + shell)
    path.write_text(result.out)
    return str(path)


# --- bash ----------------------------------------------------------------------

BASH = """\
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
complete -p diary >&2
_shtab_diary
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.fixture
def bash(run, tmp_path, place):
    needs_tool("bash", "bash")
    script = written(run, tmp_path, "bash")

    def complete(*words):
        """What Tab offers after ``words`` (the last one being completed)."""
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", BASH, "bash", script,
                            "diary", *words], cwd=place, env=shell_env(tmp_path),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and re.fullmatch(r"complete (-o \w+ )*-F _shtab_diary diary\n", r.stderr), r
        return sorted(line for line in r.stdout.splitlines() if line)

    return complete


def test_bash_commands_flags_and_choices(bash):
    assert bash("ad") == ["add"]
    assert bash("ex") == ["export"]
    assert bash("export", "--fo") == ["--force", "--format"]
    assert bash("export", "--format", "") == ["csv", "json", "jsonl", "markdown", "txt"]
    assert bash("search", "--sort", "n") == ["newest"]
    assert bash("completion", "") == ["bash", "fish", "zsh"]
    assert "--read-only" in bash("list", "--re")  # global options after the command too
    assert bash("--ver") == ["--version"]


def test_bash_offers_every_command_of_the_parser(bash):
    # Generated from the parser: a command added to COMMANDS needs no edit.
    assert bash("") == sorted(cli.COMMANDS)


def test_bash_named_diaries_then_files(bash, place):
    files = ["export.json", "journal.txt", "old"]
    assert bash("-d", "") == sorted(["$(touch pwned)", "my notes", "work"] + files)
    assert bash("-d", "w") == ["work"]
    assert bash("list", "--diary", "my") == ["my notes"]  # one word, quoted by bash
    assert bash("--diary", "$") == ["$(touch pwned)"]
    assert not os.path.exists(place / "pwned")  # a name is data, never run


def test_bash_file_arguments_complete_paths_and_others_do_not(bash):
    assert bash("import", "j") == ["journal.txt"]
    assert bash("export", "-o", "e") == ["export.json"]
    assert bash("export", "--split", "") == ["old"]
    assert bash("backup", "o") == ["old"]
    assert bash("--passphrase-file", "jo") == ["journal.txt"]
    assert bash("add", "--tag", "") == []  # a tag path, not a file


def test_bash_without_a_config_file_still_completes_files(bash, tmp_path):
    os.remove(tmp_path / "config.toml")
    assert bash("-d", "j") == ["journal.txt"]
    (tmp_path / "config.toml").write_text("not = = toml")  # a broken one: nothing said
    assert bash("-d", "j") == ["journal.txt"]


# --- fish ----------------------------------------------------------------------

@pytest.fixture
def fish(run, tmp_path, place):
    needs_tool("fish", "fish")
    script = written(run, tmp_path, "fish")

    def complete(line):
        r = subprocess.run(["fish", "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]',
                            script, "diary " + line], cwd=place, env=shell_env(tmp_path),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", r
        return sorted(line.split("\t")[0] for line in r.stdout.splitlines())

    return complete


def test_fish_commands_flags_choices_names_and_files(fish, place):
    assert fish("ad") == ["add"]
    assert fish("") == sorted(cli.COMMANDS)
    assert fish("export --fo") == ["--force", "--format"]
    assert fish("export --format ") == ["csv", "json", "jsonl", "markdown", "txt"]
    assert fish("-d w") == ["work"]
    assert fish("list --diary my") == ["my notes"]
    assert fish("-d ") == sorted(["$(touch pwned)", "my notes", "work", "export.json",
                                  "journal.txt", "old/"])
    assert fish("import j") == ["journal.txt"]
    assert not os.path.exists(place / "pwned")


# --- zsh -----------------------------------------------------------------------

def test_zsh_completes_in_a_real_zsh(run, tmp_path, place):
    needs_tool("zsh", "zsh")
    from tmux_driver import Tmux, needs_tmux

    needs_tmux()
    script = written(run, tmp_path, "zsh")
    r = subprocess.run(["zsh", "-n", script], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r
    # Installed as the README says: a file _diary in a folder of $fpath.
    functions = tmp_path / "zfunc"
    functions.mkdir()
    os.rename(script, functions / "_diary")
    term = Tmux(tmp_path)
    env = dict(shell_env(tmp_path), TERM="xterm-256color", PS1="%% ")
    try:
        term.start(["zsh", "-f", "-i"], env, width=120, height=30)
        term.type("cd %s && fpath=(%s $fpath) && autoload -U compinit && compinit -u && "
                  "echo READY\n" % (place, functions))
        term.wait("READY\n")
        term.type("clear\n")

        def tab(line, *expected):
            """Tab after ``line``: the screen's lines (trailing spaces aside) hold
            ``expected``, in order (a completed line, or the words offered)."""
            term.type(line + "\t")
            try:
                term.wait(lambda screen: [l.split() for l in screen.splitlines()
                                          if l.strip()][:len(expected)] ==
                          [e.split() for e in expected], timeout=20)
            finally:
                term.settle()
                term.press("C-c")  # the line (and any menu) dropped: a new prompt
                term.wait(lambda screen: screen.split()[-1:] == ["%"], timeout=20)
                term.type("clear\n")
                term.wait(lambda screen: screen.strip() == "%", timeout=20)

        tab("diary ad", "% diary add")
        tab("diary export --format ", "% diary export --format",
            "csv json jsonl markdown txt")
        tab("diary -d wo", "% diary -d work")
        tab("diary list --diary my", "% diary list --diary my\\ notes")
        tab("diary -d ", "% diary -d", "\\$\\(touch\\ pwned\\) my\\ notes work",
            "export.json journal.txt old/")
        tab("diary import jo", "% diary import journal.txt")
        tab("diary completion f", "% diary completion fish")
    finally:
        term.kill()
    assert not os.path.exists(place / "pwned")


# --- the command ---------------------------------------------------------------

@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_a_script_for_each_shell(run, shell):
    result = run("completion", shell)
    assert result.code == 0 and result.err == ""
    assert "diary diaries --names" in result.out
    assert all(name in result.out for name in cli.COMMANDS)


def test_completion_prints_its_script_whatever_the_config_file_holds(run, tmp_path):
    # The script is the parser's; the config file is read only by the
    # `diaries --names` it runs at each Tab (which completes no names then).
    broken = tmp_path / "broken.toml"
    broken.write_text("not = = toml")
    result = run("completion", "bash", environ={"DIARY_CONFIG": str(broken)})
    assert result.code == 0 and result.err == "" and "_shtab_diary" in result.out


def test_completion_needs_a_known_shell(run):
    result = run("completion", "tcsh")
    assert result.code == 2 and "invalid choice" in result.err and result.out == ""
    assert run("completion").code == 2


def test_the_full_parser_holds_every_command_and_marks_paths():
    parser = full_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == list(cli.COMMANDS)
    export = sub.choices["export"]
    marks = {a.dest: getattr(a, "complete", None) for a in export._actions}
    assert marks["output"] == "file" and marks["split"] == "directory"
    assert marks["passphrase_file"] == "file" and marks["tags"] is None


def test_shtab_is_imported_by_the_completion_command_alone(tmp_path):
    code = ("import sys; from diary import cli; cli.main(sys.argv[1:]); "
            "sys.stderr.write(' '.join(m for m in ('shtab',) if m in sys.modules))")
    env = dict(shell_env(tmp_path), DIARY_PATH=str(tmp_path / "none.db"))
    for argv, shtab in ((["--help"], False), (["diaries", "--names"], False),
                        (["list", "--help"], False), (["completion", "bash"], True)):
        r = subprocess.run([sys.executable, "-c", code, *argv], env=env,
                           capture_output=True, text=True, timeout=60)
        assert ("shtab" in r.stderr) == shtab, (argv, r.stderr)
