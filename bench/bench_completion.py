"""Start-up of the commands that open no diary, and of shell completion: two
checkouts of diary side by side.

Usage, from the repository root::

    python bench/bench_completion.py --before /tmp/base-startup [--repeats 21] \
        [--db bench/data/diary/8-1k-*.db --passfile bench/data/passphrase.txt]

Each round runs every command once per checkout, in a shuffled order, so the
machine's noise hits both alike (the first round, untimed, compiles the
bytecode). Commands: `--version`, `--help`, `diaries` with a config file
holding a [diaries] table, `diaries --names` (what the completion scripts run
at each Tab after -d; a command the before checkout may lack is shown as -),
and `completion bash|zsh|fish` (shtab imported and every command's parser
built); with --db, also `list -n 10` and `show 1` (the passphrase read from
a file, the key derived, the diary read). Prints medians (min-max) in
seconds, of wall time and of CPU time (user + system: less moved by the other
processes of a loaded machine).
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run import PY, REPO, capture, diary_env, measure  # noqa: E402

COMMANDS = [
    ("--version", ["--version"]),
    ("--help", ["--help"]),
    ("diaries", ["diaries"]),
    ("diaries --names", ["diaries", "--names"]),
    ("completion bash", ["completion", "bash"]),
    ("completion zsh", ["completion", "zsh"]),
    ("completion fish", ["completion", "fish"]),
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True, help="a checkout of diary to compare with")
    p.add_argument("--repeats", type=int, default=21)
    p.add_argument("--db", help="also time `list -n 10` and `show 1` on a copy of this diary "
                                "(one run.py built)")
    p.add_argument("--passfile", help="its passphrase file (with --db)")
    args = p.parse_args(argv)
    commands = list(COMMANDS)
    tools = {"before": os.path.abspath(args.before), "after": REPO}
    tmp = tempfile.mkdtemp(prefix="bench-completion-")
    if args.db:
        copy = os.path.join(tmp, "diary.db")
        shutil.copyfile(args.db, copy)  # read only: both checkouts read the same copy
        opened = ["--diary", copy, "--passphrase-file", os.path.abspath(args.passfile)]
        commands += [("list -n 10", opened + ["list", "-n", "10"]),
                     ("show 1", opened + ["show", "1"])]
    config = os.path.join(tmp, "config.toml")
    with open(config, "w") as f:
        f.write('[diaries]\nwork = "%s/work.db"\nhome = "%s/home.db"\n' % (tmp, tmp))

    def env_of(tool):
        env = diary_env()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"), PYTHONPATH=tools[tool],
                   PYTHONSAFEPATH="1", DIARY_CONFIG=config)
        return env

    runs = {}  # (label, tool) -> [seconds], or None when the tool lacks the command
    for tool in tools:
        code, out, _ = capture([PY, "-c", "import diary; print(diary.__file__)"], env_of(tool))
        if not out.startswith(os.path.join(tools[tool], "diary")):
            sys.exit("%s: diary is imported from %s, not %s" % (tool, out.strip(), tools[tool]))
        for label, d_args in commands:
            r = measure([PY, "-m", "diary"] + d_args, env_of(tool))
            runs[label, tool] = [] if r.ok else None
    cpu = {key: [] for key in runs}  # CPU seconds: less moved by a loaded machine
    for _ in range(args.repeats):
        for label, d_args in commands:
            order = list(tools)
            random.shuffle(order)
            for tool in order:
                if runs[label, tool] is None:
                    continue
                r = measure([PY, "-m", "diary"] + d_args, env_of(tool))
                if not r.ok:
                    sys.exit("%s %s failed: %s" % (tool, label, r.err))
                runs[label, tool].append(r.seconds)
                cpu[label, tool].append(r.cpu)

    def cell(times):
        if times is None:
            return "-"
        return "%.3f (%.3f-%.3f)" % (statistics.median(times), min(times), max(times))

    for title, table in (("wall", runs), ("CPU (user + system)", cpu)):
        print("%s: median seconds of %d runs (min-max)" % (title, args.repeats))
        print("%-18s %-22s %-22s %s" % ("command", "before", "after", "after - before"))
        for label, _ in commands:
            before, after = table[label, "before"], table[label, "after"]
            if runs[label, "before"] is None:
                before = None
            diff = ("%+.1f ms" % ((statistics.median(after) - statistics.median(before)) * 1000)
                    if before and after else "")
            print("%-18s %-22s %-22s %s" % (label, cell(before), cell(after), diff))
    print("load average: %.2f %.2f %.2f" % os.getloadavg())
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
