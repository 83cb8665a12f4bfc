"""What the trash costs: the purge check every writable open pays, and bulk
delete, restore and edit of many entries.

Usage, from the repository root::

    python bench/bench_trash.py [--entries 20000] [--trashed 2000] [--repeats 201]
                                [--out bench/RESULTS-trash.md]

A diary of ``--entries`` entries (low kdf_iter: the key derivation is not
what is measured) with ``--trashed`` of them in the trash is built in a
temporary directory. Then:

- the purge check when nothing is due (what every writing command and the
  interactive diary pay on opening), timed in pairs with an empty statement
  on the same connection (A, B, A, B ...), median and p95 in microseconds;
- ``trash.purge_expired`` when everything is due, once;
- one bulk ``entries.matching`` + ``entries.delete`` of every entry matching a
  word held by about ``--bulk`` entries, ``trash.restore`` of them, and
  ``entries.edit_many`` (star) of them: each once, in seconds.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=20_000)
    p.add_argument("--trashed", type=int, default=2_000)
    p.add_argument("--bulk", type=int, default=1_000)
    p.add_argument("--repeats", type=int, default=201)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "RESULTS-trash.md"))
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from diary import entries, store, trash

    store.KDF_ITER = 64
    path = os.path.join(tempfile.mkdtemp(prefix="bench-trash-"), "d.db")
    store.create(path, "bench")
    every = max(1, args.entries // args.bulk)
    start = dt.datetime(2014, 1, 1, tzinfo=dt.timezone.utc)
    t = time.perf_counter()
    with store.open_diary(path, "bench") as d:
        with d.write():
            for i in range(args.entries):
                entries.add(d, "entry %d %s" % (i, "bulkword" if i % every == 0 else "plain"),
                            created_at=start + dt.timedelta(hours=i),
                            tags=["t/%d" % (i % 50)])
        trash.move(d, list(range(args.entries - args.trashed + 1, args.entries + 1)))
    built = time.perf_counter() - t

    lines = ["# The trash: costs", "",
             "`python bench/bench_trash.py --entries %d --trashed %d --bulk %d --repeats %d`"
             % (args.entries, args.trashed, args.bulk, args.repeats), "",
             "A diary of %d entries, %d of them in the trash (built in %.1f s)."
             % (args.entries, args.trashed, built), ""]
    with store.open_diary(path, "bench") as d:
        conn = d.db.connection()
        check, empty = [], []
        for _ in range(args.repeats):  # A, B pairs on one connection
            t = time.perf_counter()
            assert trash.purge_expired(d, 30) == 0
            check.append(time.perf_counter() - t)
            t = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            empty.append(time.perf_counter() - t)

        def us(xs):
            xs = sorted(xs)
            return "%.1f us median, %.1f us p95" % (statistics.median(xs) * 1e6,
                                                     xs[int(len(xs) * 0.95)] * 1e6)

        lines += ["| what | time |", "|---|---|",
                  "| purge check, nothing due (every writable open) | %s |" % us(check),
                  "| `SELECT 1` on the same connection (the floor) | %s |" % us(empty)]

        def once(label, func):
            t = time.perf_counter()
            result = func()
            lines.append("| %s | %.3f s |" % (label, time.perf_counter() - t))
            return result

        ids = once("entries.matching(query='bulkword')",
                   lambda: entries.matching(d, query="bulkword"))
        once("entries.delete of those %d (to the trash)" % len(ids),
             lambda: entries.delete(d, ids))
        once("trash.restore of those %d" % len(ids), lambda: trash.restore(d, ids))
        once("entries.edit_many(starred=True) of those %d" % len(ids),
             lambda: entries.edit_many(d, ids, starred=True))
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)
        n = once("trash.purge_expired, all %d due" % args.trashed,
                 lambda: trash.purge_expired(d, 30, now=later))
        assert n == args.trashed
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
