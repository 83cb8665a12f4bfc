"""Export and import at 10,000 and 100,000 entries: wall time and peak memory.

    python bench/bench_exchange.py [SIZES...]        # default: 10000 100000

For each size it writes a jrnl journal of that many entries (about 450
characters each, a third with @tags, some starred), then runs the real
program in subprocesses, each measured alone (wall clock; CPU time and peak
RSS from wait4 — CPU time is the steadier figure on a shared machine):

- baseline: `diary list -n 1` (interpreter start, imports, key derivation);
- import jrnl: the journal into a new diary (one transaction);
- export json: the whole diary to a file;
- export jsonl to stdout (piped to /dev/null);
- import json: that export into another new diary.

Diaries use the product's real key settings (256,000 iterations). Targets
(issue 7): export 100k to JSON < 5 s and < 150 MB; import 100k jrnl < 20 s;
memory flat from 10k to 100k.
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSPHRASE = "bench passphrase"
WORDS = ("the river morning walked quiet coffee meeting project idea garden rain "
         "train book friend evening city light long run dinner tired happy wrote "
         "called mother plan week weekend sea mountain note thought").split()


def journal(path, n, seed=7):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            day = 1_600_000_000 + i * 3_600
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(day))
            title = " ".join(rng.choices(WORDS, k=5)).capitalize() + "."
            body = " ".join(rng.choices(WORDS, k=70))
            if i % 3 == 0:
                body += " @%s @work/%s" % (rng.choice(WORDS), rng.choice(WORDS))
            star = " *" if i % 17 == 0 else ""
            f.write("%s[%s] %s%s\n%s\n" % ("\n" if i else "", stamp, title, star, body))


def run(argv, env, stdout=subprocess.DEVNULL):
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "diary", *argv], env=env, cwd=ROOT,
                            stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if status:
        raise SystemExit("diary %s failed: %s" % (" ".join(argv), err))
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # MB on Linux


def bench(n, work):
    src = os.path.join(work, "journal-%d.txt" % n)
    journal(src, n)
    env = dict(os.environ, DIARY_PASSPHRASE=PASSPHRASE, PYTHONPATH=ROOT)
    a = os.path.join(work, "a-%d.db" % n)
    b = os.path.join(work, "b-%d.db" % n)
    out = os.path.join(work, "out-%d.json" % n)
    rows = []
    for path in (a, b):  # import adds to a diary; only init makes one
        run(["--diary", path, "init"], env)
    rows.append(("import jrnl", run(["--diary", a, "import", src, "--format", "jrnl"], env)))
    rows.append(("baseline: list -n 1", run(["--diary", a, "list", "-n", "1"], env)))
    rows.append(("export json -o", run(["--diary", a, "export", "-o", out], env)))
    rows.append(("export jsonl > null", run(["--diary", a, "export", "-f", "jsonl"], env)))
    rows.append(("import json", run(["--diary", b, "import", out], env)))
    size = os.path.getsize(out) / 1e6
    print("\n%d entries (journal %.1f MB, JSON export %.1f MB, diary %.1f MB)"
          % (n, os.path.getsize(src) / 1e6, size, os.path.getsize(a) / 1e6))
    print("  %-22s %9s %9s %12s" % ("", "wall s", "CPU s", "peak RSS MB"))
    for name, (seconds, mb, cpu) in rows:
        print("  %-22s %9.2f %9.2f %12.1f" % (name, seconds, cpu, mb))
    return dict(rows)


def main(sizes):
    work = tempfile.mkdtemp(prefix="bench-exchange-")
    try:
        results = {n: bench(n, work) for n in sizes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if len(sizes) > 1:
        small, big = results[sizes[0]], results[sizes[-1]]
        print("\npeak RSS from %d to %d entries:" % (sizes[0], sizes[-1]))
        for name in small:
            print("  %-22s %6.1f MB -> %6.1f MB" % (name, small[name][1], big[name][1]))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
