"""What reading the config file costs a command: config.load() timed inside
fresh processes (so imports are paid as a real run pays them).

Usage, from the repository root::

    python bench/bench_config.py [--repeats 31]

Cases: no file ($DIARY_CONFIG names an absent file), no file in the user
config directory (no $DIARY_CONFIG), the full commented template plus a
[diaries] table, and the same with an escaped quote in a string (tomllib
imported and the file parsed in both). Each process first
imports what every diary command imports anyway (diary.cli), then times the
load. Prints the median and min-max in milliseconds.

With --commands, also whole commands, process start to exit, with no config
file and with the template + [diaries] file, in shuffled pairs per round:
`diaries` (no diary opened) and `list -n 10` and `stats` on a small diary
made for the run (the passphrase from a file, the real key derivation). Wall
and CPU (user + system) medians, and the load average: what reading the file
adds to a command as a person runs it (tomllib's imports overlap with what
the command imports anyway).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import os, sys, time
from diary import cli  # what every command has imported before it needs a setting
t = time.perf_counter()
from diary import config
settings = config.load(os.environ)
settings.diary_path()
print((time.perf_counter() - t) * 1000)
"""


def run(environ, repeats):
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CHILD], env=environ, check=True,
                             capture_output=True, text=True).stdout
        times.append(float(out))
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=31)
    p.add_argument("--commands", action="store_true",
                   help="also time whole commands with and without the file")
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from diary import config

    tmp = tempfile.mkdtemp(prefix="bench-config-")
    full = os.path.join(tmp, "config.toml")
    with open(full, "w") as f:
        f.write(config.template() + '\ncolor = "auto"\n[diaries]\nwork = "~/work.db"\n'
                                    'home = "~/home.db"\n')
    # One bytecode cache for all runs, as an installed diary has (bench_startup.py too).
    escaped = os.path.join(tmp, "escaped.toml")
    with open(full) as f, open(escaped, "w") as g:
        g.write(f.read().replace("\n[diaries]", '\neditor = "vi -c \\"set nu\\""\n[diaries]'))
    base = dict(os.environ, DIARY_PATH=os.path.join(tmp, "d.db"),
                PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
    for var in ("DIARY_CONFIG", "PYTHONDONTWRITEBYTECODE"):
        base.pop(var, None)
    cases = [
        ("no file ($DIARY_CONFIG absent)", dict(base, DIARY_CONFIG=os.path.join(tmp, "none"))),
        ("no file (user config dir)", dict(base, XDG_CONFIG_HOME=os.path.join(tmp, "xdg"))),
        ("template + [diaries]", dict(base, DIARY_CONFIG=full)),
        ("same + an escape", dict(base, DIARY_CONFIG=escaped)),
    ]
    for label, environ in cases:
        run(environ, 1)  # writes the bytecode cache
        times = run(environ, args.repeats)
        print("%-32s median %.2f ms (%.2f-%.2f), %d runs"
              % (label, statistics.median(times), min(times), max(times), len(times)))
    if args.commands:
        commands(base, cases[0][1], cases[2][1], tmp, args.repeats)
    print("load average: %.2f %.2f %.2f" % os.getloadavg())


def commands(base, without, with_file, tmp, repeats):
    import random

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from run import measure

    passfile = os.path.join(tmp, "pass.txt")
    with open(passfile, "w") as f:
        f.write("bench passphrase\n")
    db = os.path.join(tmp, "d.db")
    opened = ["-m", "diary", "--diary", db, "--passphrase-file", passfile]
    subprocess.run([sys.executable] + opened + ["init"], env=without, check=True,
                   capture_output=True)
    for i in range(50):
        subprocess.run([sys.executable] + opened + ["add", "--date", "2024-01-%02d" % (i % 28 + 1),
                        "--tag", "t%d" % (i % 5), "entry number %d" % i],
                       env=without, check=True, capture_output=True)
    cmds = [("diaries", ["-m", "diary", "diaries"]),
            ("list -n 10", opened + ["list", "-n", "10"]),
            ("stats", opened + ["stats"])]
    envs = {"no file": without, "file": with_file}
    wall = {(c, e): [] for c, _ in cmds for e in envs}
    cpu = {(c, e): [] for c, _ in cmds for e in envs}
    for label, argv in cmds:  # untimed: bytecode written, caches warm
        for e in envs:
            r = measure([sys.executable] + argv, envs[e])
            if not r.ok:
                sys.exit("%s (%s) failed: %s" % (label, e, r.err))
    for _ in range(repeats):
        for label, argv in cmds:
            order = list(envs)
            random.shuffle(order)
            for e in order:
                r = measure([sys.executable] + argv, envs[e])
                wall[label, e].append(r.seconds)
                cpu[label, e].append(r.cpu)
    for title, table in (("wall", wall), ("CPU (user + system)", cpu)):
        print("%s, whole commands: median ms of %d runs (min-max)" % (title, repeats))
        print("%-12s %-22s %-22s %s" % ("command", "no file", "template + [diaries]", "difference"))
        for label, _ in cmds:
            a, b = table[label, "no file"], table[label, "file"]
            print("%-12s %-22s %-22s %+.1f ms" % (
                label, "%.1f (%.1f-%.1f)" % (statistics.median(a) * 1000, min(a) * 1000,
                                             max(a) * 1000),
                "%.1f (%.1f-%.1f)" % (statistics.median(b) * 1000, min(b) * 1000, max(b) * 1000),
                (statistics.median(b) - statistics.median(a)) * 1000))


if __name__ == "__main__":
    main()
