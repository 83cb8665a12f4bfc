"""The jrnl text parser before and after issue 21's changes (tag symbols,
loose headers, --time-format), side by side in one run: A, B, A, B.

    .venv/bin/python bench/bench_parsers.py [--entries 100000] [--base 9177419]

A is diary/exchange/jrnl.py as it was at --base (loaded from git), B as it is
now; both parse the same generated journal (tags, footnote brackets, bare
days) into records, nothing written. Prints seconds per run and writes them
to bench/RESULTS-sources.md.
"""

import argparse
import importlib.util
import io
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def journal(n, seed=7):
    rnd = random.Random(seed)
    words = ["river", "heron", "@work", "#home", "coffee", "[1]", "rain", "@acme/x", "ok."]
    out = []
    for i in range(n):
        day = "2024-%02d-%02d" % (rnd.randint(1, 12), rnd.randint(1, 28))
        clock = "" if i % 50 == 0 else " %02d:%02d" % (rnd.randint(0, 23), rnd.randint(0, 59))
        body = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 60)))
        out.append("[%s%s] Entry %d. %s\n[1] a footnote line\n\n" % (day, clock, i, body))
    return "".join(out).encode()


def load_base(commit):
    source = subprocess.run(["git", "-C", ROOT, "show", "%s:diary/exchange/jrnl.py" % commit],
                            check=True, capture_output=True, text=True).stdout
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "jrnl_base.py")
    with open(path, "w") as f:
        f.write(source.replace("from .. import", "from diary import")
                .replace("from ..errors import", "from diary.errors import")
                .replace("from . import records", "from diary.exchange import records")
                .replace("from .records import", "from diary.exchange.records import"))
    spec = importlib.util.spec_from_file_location("jrnl_base", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(module, data):
    start = time.perf_counter()
    count = sum(1 for _ in module.read_text(io.BytesIO(data)))
    return time.perf_counter() - start, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100000)
    ap.add_argument("--base", default="9177419")
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    from diary.exchange import jrnl as now

    base = load_base(args.base)
    data = journal(args.entries)
    rows = []
    for _ in range(args.pairs):
        a, na = timed(base, data)
        b, nb = timed(now, data)
        assert na == nb, (na, nb)
        rows.append((a, b))
        print("A (base) %.2f s   B (now) %.2f s   %d entries" % (a, b, na))
    best_a, best_b = min(r[0] for r in rows), min(r[1] for r in rows)
    lines = ["# jrnl text parser: before and after issue 21 (branch sources)", "",
             "`%s` (%d entries, %.1f MB; %d A/B pairs, one run, best of each):" % (
                 "bench/bench_parsers.py --entries %d --base %s" % (args.entries, args.base),
                 args.entries, len(data) / 1e6, args.pairs), "",
             "| parser | seconds (best) | runs |", "|---|---|---|",
             "| A: jrnl.py at %s | %.2f | %s |" % (args.base, best_a,
                                                ", ".join("%.2f" % r[0] for r in rows)),
             "| B: jrnl.py now | %.2f | %s |" % (best_b, ", ".join("%.2f" % r[1] for r in rows)),
             "", "B/A: %.2f" % (best_b / best_a), ""]
    with open(os.path.join(HERE, "RESULTS-sources.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
