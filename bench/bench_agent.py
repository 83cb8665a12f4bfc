"""The agent's speed goal (issue 22): with the agent, `diary search` and
`diary list -n 10` at 100,000 entries within 0.6x the same command deriving
the key, and within 1.5x a floor opening the file with the raw key.

Usage, from the repository root, with the project installed in the Python that
runs this::

    python bench/bench_agent.py                      # 100k entries, 15 rounds
    python bench/bench_agent.py --size 10k --rounds 5
    python bench/bench_agent.py --before /tmp/main   # and a checkout of diary to compare
    python bench/bench_agent.py --python /tmp/venv/bin/python  # another interpreter

Side by side in one run, interleaved: every round runs each variant of each
command once, in a shuffled order, each as a fresh process (launch.py: wall
time, CPU time of the process):

- ``derive``: ``diary --no-agent --passphrase-file P CMD``: the key derived
  (256,000 iterations), as without the agent;
- ``agent``: ``diary CMD`` with no passphrase given: the key from the agent;
- ``floor``: floor.py (sqlcipher3 and the standard library alone) keyed with
  the raw key (SQLCipher's x'...' form, read from a file on tmpfs that the
  run removes), the same SQL as the library;
- ``before`` (with ``--before DIR``): ``diary CMD`` with the key from the
  agent, run from the checkout DIR, to compare a change in the same rounds.

Every diary runs with its bytecode cache (PYTHONDONTWRITEBYTECODE dropped,
one cache in the run's directory, warmed by an untimed first round), as an
installed diary has: compiling diary's modules from source on every run
costs ~40 ms of CPU and is no part of a user's command. ``--python``: the
interpreter to run everything with (default: this one); a venv where
diary was installed with `pip install .` has no editable-install finder for
`site` to import (~15 ms in every process, the floor's too).

The diary is built once (real key derivation) from bench/corpus.py's seeded
corpus with `diary import`, cached in bench/data/. Prints a table and writes
it to bench/RESULTS-agent.md with the load average beside it.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

import corpus  # noqa: E402

PY = sys.executable
PASSPHRASE = "benchmark passphrase"


def run(argv, env, stdin=subprocess.DEVNULL):
    return subprocess.run(argv, env=env, capture_output=True, text=True, stdin=stdin)


def build(n, seed, passfile, env):
    label = corpus.size_label(n)
    cdir = os.path.join(DATA, "corpus", "%d-%s" % (seed, label))
    manifest = corpus.write(n, seed, cdir)
    db = os.path.join(DATA, "agent", "%d-%s.db" % (seed, label))
    if not os.path.exists(db):
        os.makedirs(os.path.dirname(db), exist_ok=True)
        tmp = db + ".building"
        for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        print("building a %s diary (once)..." % label, file=sys.stderr)
        for argv in ([PY, os.path.join(HERE, "load.py"), tmp, passfile, "create"],
                     [PY, "-m", "diary", "--diary", tmp, "--passphrase-file", passfile,
                      "import", os.path.join(cdir, "entries.jsonl"), "--format", "jsonl"]):
            r = run(argv, env)
            if r.returncode:
                raise SystemExit("building failed: %s" % r.stderr)
        os.rename(tmp, db)
    return db, manifest


def launch(argv, env):
    fd, result = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        r = subprocess.run([PY, "-I", "-S", os.path.join(HERE, "launch.py"), result, "120",
                            "--"] + argv, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        with open(result) as f:
            figures = json.load(f)
    finally:
        os.unlink(result)
    if figures["code"] != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(argv), r.stderr.decode()))
    return figures, r.stdout


def key_round_trip(path, runtime, n=200):
    import time

    from diary import agent_client

    environ = {"XDG_RUNTIME_DIR": runtime}
    took = []
    for _ in range(n):
        start = time.perf_counter()
        key = agent_client.key_for(path, environ)
        took.append(time.perf_counter() - start)
        if key is None:
            raise SystemExit("the agent gave no key")
    return statistics.median(took) * 1000, n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="100k")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--out", default=os.path.join(HERE, "RESULTS-agent.md"))
    p.add_argument("--before", help="a checkout of diary to compare with (its agent client)")
    p.add_argument("--python", default=PY, help="the interpreter for every command")
    p.add_argument("--uncached", action="store_true",
                   help="also `agent` without a bytecode cache (diary compiled on each run)")
    args = p.parse_args(argv)
    py = args.python

    from diary import raw_key

    os.makedirs(DATA, exist_ok=True)
    passfile = os.path.join(DATA, "passphrase-agent.txt")
    with open(os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(PASSPHRASE + "\n")
    runtime = tempfile.mkdtemp(prefix="bench-agent-", dir="/dev/shm")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    env.update(XDG_RUNTIME_DIR=runtime, DIARY_CONFIG=os.path.join(runtime, "none.toml"),
               PYTHONPATH=REPO)
    db, manifest = build(corpus.parse_size(args.size), args.seed, passfile, env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # Not the current directory first on sys.path (`-m` puts it there): this
    # checkout would shadow --before.
    env.update(PYTHONPYCACHEPREFIX=os.path.join(runtime, "pycache"), PYTHONSAFEPATH="1")
    envs = {"derive": env, "agent": env, "floor": env}
    if args.before:
        envs["before"] = dict(env, PYTHONPATH=os.path.abspath(args.before))
    if args.uncached:
        # As this benchmark ran before: the bytecode of the standard library
        # and of peewee read from their caches, diary's compiled from source
        # on every run (a copy of it without __pycache__, none written).
        uncached = os.path.join(runtime, "uncached")
        shutil.copytree(os.path.join(REPO, "diary"), os.path.join(uncached, "diary"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        envs["uncached"] = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}
        envs["uncached"].update(PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=uncached)
    for name, e in envs.items():
        where = run([py, "-c", "import diary; print(diary.__file__)"], e).stdout
        if not where.startswith(os.path.join(e["PYTHONPATH"], "diary")):
            raise SystemExit("%s: diary is imported from %s" % (name, where.strip()))
    rawfile = os.path.join(runtime, "raw-key")
    key = raw_key.derive(PASSPHRASE, raw_key.salt_of(db), raw_key.DEFAULT_KDF_ITER)
    with open(os.open(rawfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(raw_key.literal(key) + "\n")
    work = os.path.join(runtime, "work.db")  # a copy on tmpfs: the same for all three
    shutil.copyfile(db, work)
    diary = [py, "-m", "diary", "--diary", work]
    floor = [py, os.path.join(HERE, "floor.py"), work]
    rare = manifest["rare_word"]
    commands = [
        ("search %s" % rare, ["search", rare], ["search", rare, "20"]),
        ("list -n 10", ["list", "-n", "10"], ["list", "10"]),
    ]
    # Where the agent's command spends what the floor does not: the imports
    # before its first query, each as a fresh process (`python -c`), in the
    # same interleaved rounds; with the collector off, as diary's main() has it.
    imports = {name: "import gc; gc.disable(); %s; gc.freeze()" % code for name, code in {
        "python alone": "pass",
        "+ sqlcipher3 (the floor's)": "import sqlcipher3",
        "+ peewee, playhouse": "import sqlcipher3, peewee, playhouse.sqlcipher_ext",
        "+ diary's list and search": "import diary.cli, diary.cli_entries, diary.entries, "
                                     "diary.cli_search, diary.search",
    }.items()}
    variants = {
        "derive": lambda c: diary + ["--no-agent", "--passphrase-file", passfile] + c[1],
        "agent": lambda c: diary + c[1],
        "floor": lambda c: floor + [rawfile] + c[2],
    }
    if args.before:
        variants["before"] = variants["agent"]
    if args.uncached:
        variants["uncached"] = variants["agent"]
    try:
        r = run(diary + ["--passphrase-file", passfile, "unlock", "--for", "1h"], env)
        if r.returncode:
            raise SystemExit("diary unlock failed: %s" % r.stderr)
        outputs = {}
        times = {(c[0], v): [] for c in commands for v in variants}
        cpu = {(c[0], v): [] for c in commands for v in variants}
        rng = random.Random(args.seed)
        import_cpu = {}
        for warm in range(args.rounds + 1):  # the first round fills the bytecode cache
            order = [(c, v) for c in commands for v in variants]
            rng.shuffle(order)
            order += [(None, name) for name in imports]
            rng.shuffle(order)
            for c, v in order:
                if c is None:
                    figures, _ = launch([py, "-c", imports[v]], env)
                    if warm:
                        import_cpu.setdefault(v, []).append(figures["cpu"])
                    continue
                figures, out = launch(variants[v](c), envs[v])
                if not warm:
                    continue
                times[c[0], v].append(figures["seconds"])
                cpu[c[0], v].append(figures["cpu"])
                if v != "floor":
                    outputs.setdefault(c[0], {})[v] = out
        for c in commands:
            if any(outputs[c[0]]["derive"] != outputs[c[0]][v] for v in outputs[c[0]]):
                raise SystemExit("the variants disagree on %s" % c[0])
        round_trip = key_round_trip(work, runtime)
        run(diary + ["lock"], env)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    load = os.getloadavg()
    lines = ["median of %d rounds (interleaved, shuffled); %s entries; wall seconds, CPU "
             "(user + system) seconds; python: %s" % (args.rounds, args.size, py), ""]
    shown = [v for v in ("derive", "uncached", "before", "agent", "floor") if v in variants]
    ratios = [("agent", "derive"), ("agent", "floor")]
    if args.before:
        ratios += [("before", "floor"), ("agent", "before")]
    lines.append("%-22s %-8s " % ("command", "figure") + "".join(
        "%-11s" % ("floor(raw)" if v == "floor" else v) for v in shown) + "".join(
        "%-14s" % ("%s/%s" % r) for r in ratios))
    for c in commands:
        for name, table in (("wall", times), ("cpu", cpu)):
            med = {v: statistics.median(table[c[0], v]) for v in variants}
            lines.append("%-22s %-8s " % (c[0], name) + "".join(
                "%-11.3f" % med[v] for v in shown) + "".join(
                "%-14s" % ("%.2fx" % (med[a] / med[b])) for a, b in ratios))
            lines.append("%-22s %-8s %s" % ("", "min-max", "  ".join(
                "%s %.3f-%.3f" % (v, min(table[c[0], v]), max(table[c[0], v]))
                for v in shown)))
    lines.append("")
    lines.append("imports, CPU seconds (median), each a fresh `python -c` (collector off):")
    for name in imports:
        lines.append("  %-34s %.3f" % (name, statistics.median(import_cpu[name])))
    lines.append("the agent's answer in-process (agent_client.key_for, salt read, connect, "
                 "48 bytes back): median %.2f ms of %d" % round_trip)
    lines.append("")
    lines.append("load average: %.2f %.2f %.2f; %d CPUs" % (load + (os.cpu_count(),)))
    text = "\n".join(lines)
    print(text)
    with open(args.out, "a") as f:
        f.write("\n## `python bench/bench_agent.py %s`\n\n```\n%s\n```\n"
                % (" ".join(argv if argv is not None else sys.argv[1:]), text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
