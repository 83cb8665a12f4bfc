"""Whole commands, process start to exit: two checkouts of diary and the floor, side by side.

Usage, from the repository root::

    python bench/bench_startup.py DB PASSFILE --before /work/main [--repeats 9]

DB is a diary built by run.py (bench/data/diary/*.db); its corpus manifest
(bench/data/corpus/SEED-SIZE/manifest.json, found from DB's name, or
--manifest) gives the rare word and the top tag. Each round runs every
command once per tool, in a shuffled order: the floor (floor.py), diary from
--before (PYTHONPATH) and diary from this checkout, so the machine's noise
hits all three alike. Every tool reads its own copy of DB (`add` writes),
and all use one fresh bytecode cache (PYTHONPYCACHEPREFIX): a checkout
without __pycache__ would otherwise pay for compiling diary on every run.
Prints medians (and min-max) per command and the ratio to the floor.

This is the figure issue #8 sets (a whole command within 1.5x of the floor);
it isolates what a change to start-up costs or saves, where run.py measures
everything against jrnl too.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run import PY, REPO, capture, diary_env, measure, remove_db  # noqa: E402


def commands(manifest):
    """(label, diary argv, floor argv)."""
    rare, top = manifest["rare_word"], manifest["top_tag"]
    text = "Benchmark entry. One more line of text for the benchmark."
    return [
        ("list -n 10", ["list", "-n", "10"], ["list", "10"]),
        ("search %s" % rare, ["search", rare], ["search", rare, "20"]),
        ("list --tag %s -n 50" % top, ["list", "--tag", top, "-n", "50"], ["tag", top, "50"]),
        ("show 1", ["show", "1"], ["list", "1"]),
        ("add", ["add", text], ["add", text]),
        ("--version", ["--version"], ["version"]),
    ]


def find_manifest(db):
    seed, label = os.path.basename(db).split("-")[:2]
    return os.path.join(os.path.dirname(os.path.dirname(db)), "corpus",
                        "%s-%s" % (seed, label), "manifest.json")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("db")
    p.add_argument("passfile")
    p.add_argument("--before", required=True, help="a checkout of diary to compare with")
    p.add_argument("--manifest", help="the corpus manifest (default: found from DB's name)")
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args(argv)
    with open(args.manifest or find_manifest(args.db)) as f:
        manifest = json.load(f)
    tmp = tempfile.mkdtemp(prefix="bench-startup-")
    tools = {"floor": REPO, "before": os.path.abspath(args.before), "after": REPO}
    for tool in ("before", "after"):  # each diary runs from its own checkout
        env = dict(diary_env(), PYTHONPATH=tools[tool], PYTHONSAFEPATH="1")
        code, out, _ = capture([PY, "-c", "import diary; print(diary.__file__)"], env)
        if not out.startswith(os.path.join(tools[tool], "diary")):
            sys.exit("%s: diary is imported from %s, not %s" % (tool, out.strip(), tools[tool]))
    copies = {}
    for tool in tools:
        copies[tool] = os.path.join(tmp, tool + ".db")
        shutil.copyfile(args.db, copies[tool])
    times = {(label, tool): [] for label, _, _ in commands(manifest) for tool in tools}
    try:
        for _ in range(args.repeats + 1):  # the first round warms the page cache, untimed
            for label, d_args, f_args in commands(manifest):
                order = list(tools)
                random.shuffle(order)
                for tool in order:
                    env = diary_env()
                    # Bytecode for every tool alike, compiled in the untimed first
                    # round, whether or not a checkout has a fresh __pycache__.
                    env.pop("PYTHONDONTWRITEBYTECODE", None)
                    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
                    if tool == "floor":
                        cmd = [PY, os.path.join(HERE, "floor.py"), copies[tool], args.passfile]
                        cmd += f_args
                    else:
                        env["PYTHONPATH"] = tools[tool]
                        # Not the current directory first on sys.path (`-m`
                        # puts it there): this checkout would shadow --before.
                        env["PYTHONSAFEPATH"] = "1"
                        cmd = [PY, "-m", "diary"]
                        if not d_args[0].startswith("-"):
                            cmd += ["--diary", copies[tool], "--passphrase-file", args.passfile]
                        cmd += d_args
                    r = measure(cmd, env)
                    if not r.ok:
                        sys.exit("%s %s failed: %s" % (tool, label, r.err))
                    times[label, tool].append(r.seconds)
    finally:
        for path in copies.values():
            remove_db(path)
        shutil.rmtree(tmp, ignore_errors=True)

    print("median seconds of %d runs (min-max); ratio: to the floor" % args.repeats)
    print("%-26s %-20s %-20s %-20s %6s %6s" % ("command", "floor", "before", "after",
                                             "before", "after"))
    for label, _, _ in commands(manifest):
        cells, med = [], {}
        for tool in tools:
            t = times[label, tool][1:]
            med[tool] = statistics.median(t)
            cells.append("%.3f (%.3f-%.3f)" % (med[tool], min(t), max(t)))
        print("%-26s %-20s %-20s %-20s %5.2fx %5.2fx" % (
            label, *cells, med["before"] / med["floor"], med["after"] / med["floor"]))
    print("load average: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
