"""Benchmarks side by side: diary against the floor and against jrnl (issue 8).

Usage, from the repository root, with the project installed in the Python that
runs this (README "Set up")::

    python bench/run.py                  # 10k and 100k entries, jrnl at both -> bench/RESULTS.md
    python bench/run.py --sizes 10k,100k,1m --jrnl-sizes 10k,100k
    python bench/run.py --quick          # 1k entries, 3 repeats, about a minute (CI)

For each size, on the same files in the same run:

- corpus.py writes a seeded corpus as our JSONL and as a plain jrnl journal;
- a diary is created (real key derivation, 256,000 iterations) and filled from
  the JSONL (`diary import` when it exists, else the library: load.py), and jrnl
  4.6 (own venv under bench/data/) imports the plain journal into an encrypted
  one; both imports are timed;
- every whole command runs as a fresh process, repeated, interleaved with its
  floor (floor.py: sqlcipher3 alone, same file, same key derivation, same SQL)
  and its jrnl equivalent; wall time from process start to exit, and the
  process's own peak RSS (both taken by launch.py);
- warm.py measures in-process latencies (p50/p95) for search and subtree
  queries, library against floor.

Commands that diary does not have yet are reported as "not available". The
exit status is 1 when any run fails or diary and the floor disagree on a result,
so CI catches a broken harness. Corpora, diaries and journals are cached in
bench/data/ (gitignored) and rebuilt when their inputs change; every working
copy is fresh per run, since `add` writes. See report.py for the output.
"""

import argparse
import datetime as dt
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
sys.path.insert(0, HERE)

import corpus  # noqa: E402
import jrnl_harness  # noqa: E402
import report  # noqa: E402

PASSPHRASE = "bench: correct horse battery staple"
PY = sys.executable
HEAVY = ("prompt_toolkit", "peewee", "playhouse", "sqlcipher3", "rich", "dateparser")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# --- running one process --------------------------------------------------------

class Run:
    def __init__(self, seconds, rss_mb, cpu, code, err, timed_out):
        self.seconds, self.rss_mb, self.cpu = seconds, rss_mb, cpu
        self.code, self.err, self.timed_out = code, err, timed_out

    @property
    def ok(self):
        return self.code == 0 and not self.timed_out


def measure(argv, env, *, stdout=None, timeout=None):
    """Run ``argv`` through launch.py: its wall time and its own peak RSS."""
    out = stdout if stdout is not None else subprocess.DEVNULL
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile(suffix=".json") as res:
        p = subprocess.run([PY, "-I", "-S", os.path.join(HERE, "launch.py"), res.name,
                            str(timeout or 0), "--"] + list(argv),
                           cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                           timeout=timeout + 120 if timeout else None)
        err.seek(0)
        text = err.read()[-3000:].decode("utf-8", "replace")
        try:
            r = json.load(res)
        except ValueError:
            return Run(0.0, 0.0, 0.0, p.returncode or 1, text or "launch.py failed", False)
    return Run(r["seconds"], r["rss_mb"], r["cpu"], r["code"], text, r["timed_out"])


def summary(runs):
    times = [r.seconds for r in runs]
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "n": len(times), "rss_mb": max(r.rss_mb for r in runs),
            "cpu": statistics.median(r.cpu for r in runs)}


# --- the environment --------------------------------------------------------------

def diary_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIARY_", "PYTHONPATH"))}
    env.update({"PYTHONPATH": REPO, "TZ": "UTC", "NO_COLOR": "1"})
    return env


def capture(argv, env):
    r = subprocess.run(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr


def probe_commands(env):
    """Which of the benchmarked diary features exist in this checkout."""
    def helptext(*cmd):
        code, out, _ = capture([PY, "-m", "diary", *cmd, "--help"], env)
        return out if code == 0 else ""

    return {
        "search": bool(helptext("search")),
        "tag": "--tag" in helptext("list"),
        "export": "json" in helptext("export"),
        "import": "jsonl" in helptext("import"),
    }


def startup_imports(env):
    """The heavy packages `diary --version` and `diary --help` import (should be none)."""
    found = {}
    for flag in ("--version", "--help"):
        _, _, err = capture([PY, "-X", "importtime", "-m", "diary", flag], env)
        names = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                 for line in err.splitlines() if line.startswith("import time:")}
        found[flag] = sorted(names & set(HEAVY))
    return found


def machine_facts(env):
    facts = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "python": platform.python_version(), "platform": platform.platform(),
             "cores": os.cpu_count(), "load_before": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            facts["cpu"] = next((line.split(":", 1)[1].strip() for line in f
                                 if line.startswith("model name")), platform.processor())
        with open("/proc/meminfo") as f:
            facts["memory_gb"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        facts["cpu"] = platform.processor()
    code, out, _ = capture([PY, "-c", (
        "import sqlcipher3, peewee, importlib.metadata as m\n"
        "c = sqlcipher3.connect(':memory:')\n"
        "print(c.execute('PRAGMA cipher_version').fetchone()[0], sqlcipher3.sqlite_version,"
        " m.version('sqlcipher3'), peewee.__version__, sep='|')")], env)
    if code == 0:
        keys = ("sqlcipher", "sqlite", "sqlcipher3", "peewee")
        facts.update(zip(keys, out.strip().split("|")))
    code, out, _ = capture(["git", "-C", REPO, "describe", "--always", "--dirty"], env)
    facts["commit"] = out.strip() if code == 0 else "unknown"
    code, out, _ = capture([PY, "-c", "import diary, os; print(os.path.dirname(diary.__file__))"],
                           env)
    facts["diary_package"] = out.strip()
    return facts


# --- building the data ---------------------------------------------------------------

def fingerprint(paths, extra):
    h = hashlib.sha1(extra.encode())
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:10]


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)


def build_diary(label, manifest, cdir, passfile, env, available):
    """The pristine diary for this corpus (cached), with the stats of its load."""
    method = "import" if available["import"] else "library"
    sources = [os.path.join(REPO, "diary", m + ".py")
               for m in ("store", "schema", "entries", "tags", "exchange")]
    sources += glob.glob(os.path.join(REPO, "diary", "exchange", "*.py"))
    key = fingerprint(sources + [os.path.join(HERE, "load.py")],
                      "%s %s %s" % (method, manifest["seed"], manifest["entries"]))
    ddir = os.path.join(DATA, "diary")
    os.makedirs(ddir, exist_ok=True)
    db = os.path.join(ddir, "%s-%s-%s.db" % (manifest["seed"], label, key))
    stats_path = db + ".json"
    if os.path.exists(stats_path):
        with open(stats_path) as f:
            return db, json.load(f)
    for old in glob.glob(os.path.join(ddir, "%s-%s-*" % (manifest["seed"], label))):
        os.unlink(old)
    jsonl = os.path.join(cdir, "entries.jsonl")
    log("loading %s entries into a new diary (%s)" % (label, method))
    loader = os.path.join(HERE, "load.py")
    if method == "import":
        made = measure([PY, loader, db, passfile, "create"], env)
        run = measure([PY, "-m", "diary", "--diary", db, "--passphrase-file", passfile,
                       "import", jsonl, "--format", "jsonl"], env) if made.ok else made
    else:
        run = measure([PY, loader, db, passfile, "library", jsonl], env)
    if not run.ok:
        remove_db(db)
        raise RuntimeError("loading the diary failed:\n" + run.err)
    stats = {"method": method, "seconds": run.seconds, "rss_mb": run.rss_mb,
             "entries": manifest["entries"], "bytes": os.path.getsize(db),
             "tags": method == "import" or available["tag"],
             "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    with open(stats_path, "w") as f:
        json.dump(stats, f)
    return db, stats


def build_jrnl(label, manifest, cdir):
    """The pristine encrypted jrnl journal for this corpus (cached), with import stats."""
    jdir = os.path.join(DATA, "jrnl", "%s-%s" % (manifest["seed"], label))
    journal = os.path.join(jdir, "journal.jrnl")
    stats_path = journal + ".json"
    if os.path.exists(stats_path):
        with open(stats_path) as f:
            return journal, json.load(f)
    shutil.rmtree(jdir, ignore_errors=True)
    os.makedirs(jdir)
    prefix, env = jrnl_harness.prepare(DATA, "build-" + label, journal)
    log("importing %s entries into an encrypted jrnl journal" % label)
    run = measure(jrnl_harness.import_argv(prefix, os.path.join(cdir, "journal.txt")), env,
                  timeout=3 * 3600)
    if not run.ok or not os.path.exists(journal):
        raise RuntimeError("jrnl --import failed:\n" + run.err)
    with open(journal, "rb") as f:
        if not f.read(6).startswith(b"JRNLv"):
            raise RuntimeError("jrnl wrote an unencrypted journal")
    stats = {"seconds": run.seconds, "rss_mb": run.rss_mb, "entries": manifest["entries"],
             "bytes": os.path.getsize(journal),
             "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    with open(stats_path, "w") as f:
        json.dump(stats, f)
    return journal, stats


# --- the commands ---------------------------------------------------------------------

def commands(manifest):
    """(key, label, diary argv, floor argv, jrnl argv or None, feature needed or None)."""
    rare, common, top = manifest["rare_word"], manifest["common_word"], manifest["top_tag"]
    text = "Benchmark entry. One more line of text for the benchmark."
    return [
        ("list", "list -n 10", ["list", "-n", "10"], ["list", "10"], ["-n", "10"], None),
        ("search_rare", "search %s (1%%)" % rare, ["search", rare], ["search", rare, "20"],
         ["-contains", rare, "-n", "20"], "search"),
        ("search_common", "search %s -n 20 (10%%)" % common, ["search", common, "-n", "20"],
         ["search", common, "20"], ["-contains", common, "-n", "20"], "search"),
        ("tag", "list --tag %s -n 50" % top, ["list", "--tag", top, "-n", "50"],
         ["tag", top, "50"],
         ["-n", "50"] + jrnl_harness.tag_args(manifest["top_tag_subtree"]), "tag"),
        ("add", "add one entry", ["add", text], ["add", text], [text], None),
        ("export", "export --format json", ["export", "--format", "json"], ["export"],
         ["--format", "json"], "export"),
        ("version", "--version", ["--version"], ["version"], ["--version"], None),
        ("help", "--help", ["--help"], ["version"], None, None),
    ]


def first_column(path):
    """The first tab-separated field of each line (the entry id, as diary prints it)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.split("\t", 1)[0].strip() for line in f if line.strip()]


def count_lines(path):
    # Streamed: an export at 1M entries is a gigabyte, and the runner stays small.
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def bench_size(n, args, env, available, passfile, jrnl_on):
    label = corpus.size_label(n)
    out_dir = os.path.join(DATA, "out", label)
    os.makedirs(out_dir, exist_ok=True)
    cdir = os.path.join(DATA, "corpus", "%d-%s" % (args.seed, label))
    t = time.perf_counter()
    log("corpus %s" % label)
    manifest = corpus.write(n, args.seed, cdir)
    gen_seconds = time.perf_counter() - t
    pristine, load = build_diary(label, manifest, cdir, passfile, env, available)
    work = os.path.join(DATA, "work", label + ".db")
    os.makedirs(os.path.dirname(work), exist_ok=True)
    remove_db(work)
    shutil.copyfile(pristine, work)
    res = {"label": label, "entries": n, "manifest": {k: v for k, v in manifest.items()
                                                       if k != "top_tag_subtree"},
           "corpus_seconds": gen_seconds, "load": load, "commands": {}, "problems": [],
           "load_before": os.getloadavg()}
    jrnl = None
    if jrnl_on:
        pristine_j, res["jrnl_import"] = build_jrnl(label, manifest, cdir)
        work_j = os.path.join(DATA, "jrnl", "work-" + label, "journal.jrnl")
        os.makedirs(os.path.dirname(work_j), exist_ok=True)
        shutil.copyfile(pristine_j, work_j)
        jrnl = jrnl_harness.prepare(DATA, "work-" + label, work_j)

    def argv_for(tool, spec):
        key, _, d_args, f_args, j_args, _ = spec
        if tool == "diary":
            extra = [] if key in ("version", "help") else ["--diary", work, "--passphrase-file",
                                                           passfile]
            return [PY, "-m", "diary"] + extra + d_args, env
        if tool == "floor":
            return [PY, os.path.join(HERE, "floor.py"), work, passfile] + f_args, env
        return jrnl[0] + j_args, jrnl[1]

    plan = []
    for spec in commands(manifest):
        key, name, _, _, j_args, need = spec
        entry = {"name": name, "available": need is None or available[need]}
        res["commands"][key] = entry
        tools = ["floor"] + (["diary"] if entry["available"] else [])
        if jrnl and j_args is not None:
            tools.append("jrnl")
        plan.append((spec, tools))

    # One untimed run of each: warms the page cache, keeps the output for checks,
    # and tells how many timed repeats a slow command gets.
    repeats, runs = {}, {}
    for spec, tools in plan:
        key = spec[0]
        for tool in tools:
            argv, e = argv_for(tool, spec)
            path = os.path.join(out_dir, "%s.%s.out" % (key, tool))
            limit = args.jrnl_timeout if tool == "jrnl" else args.timeout
            with open(path, "wb") as f:
                r = measure(argv, e, stdout=f, timeout=limit)
            entry = res["commands"][key]
            entry.setdefault("output", {})[tool] = {"bytes": os.path.getsize(path),
                                                    "lines": count_lines(path)}
            if not r.ok:
                what = "timed out after %d s" % limit if r.timed_out else "exit %d" % r.code
                entry.setdefault("failed", {})[tool] = what
                if r.timed_out:
                    entry.setdefault("timed_out", {})[tool] = limit
                    entry.setdefault("rss_when_stopped", {})[tool] = r.rss_mb
                if not (tool == "jrnl" and r.timed_out):
                    res["problems"].append("%s %s: %s\n%s" % (tool, spec[1], what, r.err))
                continue
            if r.seconds < 60:
                repeats[key, tool] = args.repeats if r.seconds < 5 else min(args.repeats, 3)
            else:  # a minute or more: this run is the one measurement
                runs.setdefault((key, tool), []).append(r)
        if key in ("list", "tag", "search_rare", "search_common") and "diary" in tools \
                and "diary" not in res["commands"][key].get("failed", {}):
            d, f = (first_column(os.path.join(out_dir, "%s.%s.out" % (key, t)))
                    for t in ("diary", "floor"))
            res["commands"][key]["same_as_floor"] = d == f
            if d != f or not d:
                res["problems"].append("diary and the floor disagree on %s: %s vs %s"
                                       % (spec[1], d[:5], f[:5]))

    log("%s: timing %d commands, up to %d repeats" % (label, len(plan), args.repeats))
    for i in range(args.repeats):
        for spec, tools in plan:
            for tool in tools:
                if repeats.get((spec[0], tool), 0) > i:
                    argv, e = argv_for(tool, spec)
                    r = measure(argv, e, timeout=args.jrnl_timeout if tool == "jrnl"
                                else args.timeout)
                    if not r.ok:
                        if not (tool == "jrnl" and r.timed_out):
                            res["problems"].append("%s %s: exit %s\n%s"
                                                   % (tool, spec[1], r.code, r.err))
                        continue
                    runs.setdefault((spec[0], tool), []).append(r)
    for (key, tool), rs in runs.items():
        res["commands"][key][tool] = summary(rs)

    log("%s: warm in-process latencies (%d queries each)" % (label, args.queries))
    with tempfile.TemporaryFile() as f:
        r = measure([PY, os.path.join(HERE, "warm.py"), work, passfile, str(args.seed),
                     str(args.queries)], env, stdout=f)
        f.seek(0)
        if r.ok:
            res["warm"] = json.loads(f.read())
        else:
            res["problems"].append("warm.py failed:\n" + r.err)
    if available["tag"]:
        log("%s: tag tree (latest 50 per top-level tag, tree, moving ~200 tags)" % label)
        with tempfile.TemporaryFile() as f:
            r = measure([PY, os.path.join(HERE, "bench_tags.py"), "--diary", work,
                         "--passfile", passfile], env, stdout=f)
            f.seek(0)
            if r.ok:
                res["tags"] = json.loads(f.read())
            else:
                res["problems"].append("bench_tags.py failed:\n" + r.err)
    res["load_after"] = os.getloadavg()
    return res


# --- main -------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description="diary benchmarks: against the floor and jrnl")
    p.add_argument("--sizes", default="10k,100k", help="corpus sizes (default 10k,100k)")
    p.add_argument("--jrnl-sizes", help="sizes to run jrnl at (default: the sizes up to 100k)")
    p.add_argument("--no-jrnl", action="store_true", help="skip jrnl altogether")
    p.add_argument("--quick", action="store_true",
                   help="1k entries, 3 repeats, 40 queries: the harness check CI runs")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per command (default 7)")
    p.add_argument("--queries", type=int, default=300, help="warm queries per kind")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--timeout", type=int, default=900,
                   help="seconds before a diary or floor run is killed (default 900)")
    p.add_argument("--jrnl-timeout", type=int, default=300,
                   help="seconds before a jrnl run is stopped and reported as slower "
                        "than that (default 300)")
    p.add_argument("--out", help="report path (default bench/RESULTS.md; "
                                 "bench/data/RESULTS-quick.md with --quick)")
    p.add_argument("--report-only", action="store_true",
                   help="measure nothing: rewrite the report from the last run's results "
                        "(bench/data/results-full.json, or -quick), e.g. after editing "
                        "bench/ANALYSIS.md")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats, args.queries = "1k", 3, 40
    sizes = [corpus.parse_size(s) for s in args.sizes.split(",")]
    if args.no_jrnl:
        jrnl_sizes = set()
    elif args.jrnl_sizes:
        jrnl_sizes = {corpus.parse_size(s) for s in args.jrnl_sizes.split(",")}
    else:
        jrnl_sizes = {n for n in sizes if n <= 100_000}
    out = args.out or (os.path.join(DATA, "RESULTS-quick.md") if args.quick
                       else os.path.join(HERE, "RESULTS.md"))

    saved = os.path.join(DATA, "results-%s.json" % ("quick" if args.quick else "full"))
    if args.report_only:
        with open(saved) as f:
            results = json.load(f)
        with open(out, "w") as f:
            f.write(report.markdown(results))
        log("rewrote %s from %s" % (os.path.relpath(out, REPO), os.path.relpath(saved, REPO)))
        return 0
    os.makedirs(DATA, exist_ok=True)
    env = diary_env()
    facts = machine_facts(env)
    if not facts["diary_package"].startswith(os.path.join(REPO, "diary")):
        print("bench: `import diary` finds %r, not this checkout" % facts["diary_package"],
              file=sys.stderr)
        return 1
    passfile = os.path.join(DATA, "passphrase.txt")
    with open(os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(PASSPHRASE + "\n")
    available = probe_commands(env)
    log("diary features: %s" % ", ".join("%s=%s" % kv for kv in available.items()))
    if jrnl_sizes:
        facts["jrnl"] = jrnl_harness.ensure(DATA, log)
    results = {"facts": facts, "available": available, "startup": startup_imports(env),
               "args": {"sizes": [corpus.size_label(n) for n in sizes],
                        "jrnl_sizes": [corpus.size_label(n) for n in sorted(jrnl_sizes)],
                        "repeats": args.repeats, "queries": args.queries, "seed": args.seed,
                        "jrnl_timeout": args.jrnl_timeout,
                        "quick": args.quick},
               "sizes": []}
    for n in sizes:
        results["sizes"].append(bench_size(n, args, env, available, passfile, n in jrnl_sizes))
    facts["load_after"] = os.getloadavg()
    with open(saved, "w") as f:
        json.dump(results, f, indent=1)
    text = report.markdown(results)
    with open(out, "w") as f:
        f.write(text)
    print(report.console(results))
    problems = [pr for s in results["sizes"] for pr in s["problems"]]
    for pr in problems:
        print("PROBLEM: " + pr, file=sys.stderr)
    log("wrote %s" % os.path.relpath(out, REPO))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
