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


if __name__ == "__main__":
    main()
