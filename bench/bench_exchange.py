"""Import and export beside their floors and beside jrnl: wall time, CPU, peak memory.

    python bench/bench_exchange.py [--rounds R] [--no-jrnl] [--out FILE] [SIZES...]
    python bench/bench_exchange.py --same-time 8000 16000 32000

For each size it writes a jrnl journal of that many entries (about 450
characters each, a third with @tags, some starred), then runs, in
subprocesses and in A, B, C pairs repeated ``--rounds`` times (the machine
is shared: side by side, never one series after another):

- floor import: bench/floor.py's raw-sqlcipher3 load of the same journal into
  a diary made by `diary init` (the same rows, tags, tag links and search
  index, in one transaction);
- diary import: `diary import JOURNAL --format jrnl`;
- jrnl import: jrnl 4.6's `jrnl --import` of the same plain journal into an
  encrypted jrnl journal (bench/jrnl_harness.py; $JRNL names its executable,
  else bench/data/jrnl-venv is used when it exists);
- floor export / diary export: the whole diary to a JSON file.

Each figure is the median of the rounds; peak RSS is the child's ru_maxrss
(os.wait4's rusage, the getrusage of that child alone). Diaries use the
product's real key settings (256,000 iterations), floor and diary alike.
Issue 21's targets: import and export within 1.5x their floor, import faster
than jrnl at 100k, import peak memory <= 150 MB at 1M.

``--same-time`` imports journals whose entries all share one timestamp (the
duplicate check made them quadratic: 8,000 took 2.5 s, 32,000 34.5 s) beside
journals of the same size with distinct dates.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench")
sys.path.insert(0, HERE)
import jrnl_harness  # noqa: E402

PASSPHRASE = "bench passphrase"
WORDS = ("the river morning walked quiet coffee meeting project idea garden rain "
         "train book friend evening city light long run dinner tired happy wrote "
         "called mother plan week weekend sea mountain note thought").split()


def journal(path, n, seed=7, same_time=False):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            day = 1_600_000_000 + (0 if same_time else i * 3_600)
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(day))
            title = " ".join(rng.choices(WORDS, k=5)).capitalize() + "."
            body = " ".join(rng.choices(WORDS, k=70))
            if i % 3 == 0:
                body += " @%s @work/%s" % (rng.choice(WORDS), rng.choice(WORDS))
            star = " *" if i % 17 == 0 else ""
            f.write("%s[%s] %s%s\n%s\n" % ("\n" if i else "", stamp, title, star, body))


def measure(argv, env, stdout=subprocess.DEVNULL):
    """(wall s, peak RSS MB, CPU s) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if status:
        raise SystemExit("%s failed: %s" % (" ".join(argv), err))
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def diary(*argv):
    return [sys.executable, "-m", "diary", *argv]


def floor(db, passfile, *argv):
    return [sys.executable, os.path.join(HERE, "floor.py"), db, passfile, *argv]


def fresh(path, env):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    measure(diary("--diary", path, "init"), env)
    return path


def jrnl_executable():
    exe = os.environ.get("JRNL") or jrnl_harness.executable(os.path.join(HERE, "data"))
    return exe if os.path.exists(exe) else None


def jrnl_import(exe, work, name, src):
    data = os.path.join(work, "jrnl-" + name)
    target = os.path.join(data, "journal.jrnl")
    shutil.rmtree(data, ignore_errors=True)
    prefix, env = jrnl_harness.prepare(data, name, target)
    prefix[0] = exe
    return measure(jrnl_harness.import_argv(prefix, src), env)


def bench(n, work, env, passfile, rounds, jrnl_exe):
    src = os.path.join(work, "journal-%d.txt" % n)
    journal(src, n)
    times = {}
    db_floor, db_diary = os.path.join(work, "floor.db"), os.path.join(work, "diary.db")
    out_floor, out_diary = os.path.join(work, "floor.json"), os.path.join(work, "diary.json")
    for r in range(rounds):
        steps = [("floor import", lambda: measure(
                      floor(fresh(db_floor, env), passfile, "import", src), env)),
                 ("diary import", lambda: measure(
                      diary("--diary", fresh(db_diary, env), "import", src, "--format", "jrnl"),
                      env))]
        if jrnl_exe:
            steps.append(("jrnl import", lambda: jrnl_import(jrnl_exe, work, "r%d" % r, src)))
        for name, step in steps:
            times.setdefault(name, []).append(step())
        # Export the diary the last import made, beside the floor on the same file.
        for name, argv, path in (
                ("floor export", floor(db_diary, passfile, "export"), out_floor),
                ("diary export", diary("--diary", db_diary, "export", "-o", out_diary,
                                       "--force"), out_diary)):
            if name == "floor export":
                with open(path, "w") as f:
                    times.setdefault(name, []).append(measure(argv, env, stdout=f))
            else:
                times.setdefault(name, []).append(measure(argv, env))
    rows = {name: tuple(statistics.median(x[i] for x in runs) for i in range(3))
            for name, runs in times.items()}
    lines = ["", "%d entries (journal %.1f MB, diary %.1f MB, JSON export %.1f MB), "
                 "median of %d round%s"
             % (n, os.path.getsize(src) / 1e6, os.path.getsize(db_diary) / 1e6,
                os.path.getsize(out_diary) / 1e6, rounds, "s" * (rounds > 1)),
             "  %-14s %9s %9s %12s %12s %12s" % ("", "wall s", "CPU s", "peak RSS MB",
                                                 "x floor wall", "x floor CPU")]
    for name, (seconds, mb, cpu) in rows.items():
        who, what = name.split()
        base = rows.get("floor " + what) if who != "floor" else None
        wall = "%.2f" % (seconds / base[0]) if base else ""
        cpus = "%.2f" % (cpu / base[2]) if base else ""
        lines.append("  %-14s %9.2f %9.2f %12.1f %12s %12s" % (name, seconds, cpu, mb, wall,
                                                               cpus))
    for s in lines:
        print(s, flush=True)
    os.remove(src)
    return lines


def same_time(sizes, work, env):
    lines = ["", "entries sharing one timestamp beside distinct dates (diary import, wall s)",
             "  %8s %12s %12s" % ("entries", "one time", "distinct")]
    for n in sizes:
        a, b = os.path.join(work, "same-%d.txt" % n), os.path.join(work, "distinct-%d.txt" % n)
        journal(a, n, same_time=True)
        journal(b, n)
        db = os.path.join(work, "same.db")
        one = measure(diary("--diary", fresh(db, env), "import", a, "--format", "jrnl"), env)
        many = measure(diary("--diary", fresh(db, env), "import", b, "--format", "jrnl"), env)
        lines.append("  %8d %12.2f %12.2f" % (n, one[0], many[0]))
        print(lines[-1], flush=True)
    return lines


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sizes", nargs="*", type=int)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-jrnl", action="store_true")
    p.add_argument("--same-time", action="store_true")
    p.add_argument("--out", help="append the figures to this file")
    args = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="bench-exchange-")
    env = dict(os.environ, DIARY_PASSPHRASE=PASSPHRASE, PYTHONPATH=ROOT)
    passfile = os.path.join(work, "pass")
    with open(passfile, "w") as f:
        f.write(PASSPHRASE + "\n")
    jrnl_exe = None if args.no_jrnl else jrnl_executable()
    head = ["`python bench/bench_exchange.py %s` on %s UTC, commit %s, load average %s%s"
            % (" ".join(argv), time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True).stdout.strip(),
               "%.2f %.2f %.2f" % os.getloadavg(),
               "" if jrnl_exe or args.same_time else " (jrnl not run)")]
    print(head[0])
    try:
        if args.same_time:
            lines = same_time(args.sizes or [8000, 16000, 32000], work, env)
        else:
            lines = []
            for n in args.sizes or [10_000, 100_000]:
                lines += bench(n, work, env, passfile, args.rounds, jrnl_exe)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tail = "load average at the end %.2f %.2f %.2f" % os.getloadavg()
    print(tail)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n" + head[0] + "\n\n```\n" + "\n".join(lines).strip("\n") + "\n" + tail
                    + "\n```\n")


if __name__ == "__main__":
    main(sys.argv[1:])
