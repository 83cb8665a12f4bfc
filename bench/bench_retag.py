"""What the sync lineage costs a tag move: bench_tags.py's move200 (a subtree
of ~200 tags over ~13,000 of 100,000 entries, moved between two top-level
tags), on one diary, with three versions of the trigger that gives the
entries under a moved tag a new version, swapped in and out between
interleaved rounds:

  per-tag     MIGRATIONS[10]'s: fired for each tag of the subtree (its path
              rewritten), one UPDATE per tag
  one-stmt    MIGRATIONS[11]'s (as shipped): fired once by the tag renamed or
              moved, one UPDATE for the subtree
  none        no lineage at all: what the move cost before sync

Prints wall and CPU time (this process) per move, median and worst, with the
1-minute load average, and appends them to bench/RESULTS-replica.md.

Run from the worktree:  python bench/bench_retag.py [--keep PATH] [--rounds N]
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from diary import schema, store, tags  # noqa: E402
from diary.store import Tag  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_tags  # noqa: E402


def _trigger(migration):
    (sql,) = [s for s in schema.MIGRATIONS[migration]
              if isinstance(s, str) and "CREATE TRIGGER entry_lineage_retag" in s]
    return sql


VARIANTS = {"per-tag": _trigger(10), "one-stmt": _trigger(11), "none": None}


def use(d, variant):
    with d.write():
        d.db.execute_sql("DROP TRIGGER IF EXISTS entry_lineage_retag")
        if VARIANTS[variant]:
            d.db.execute_sql(VARIANTS[variant])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--tags", type=int, default=2_000)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of 2 moves per variant")
    ap.add_argument("--keep", metavar="PATH", help="build (or reuse) the diary at PATH")
    opts = ap.parse_args()
    store.KDF_ITER = 1000
    with tempfile.TemporaryDirectory() as tmp:
        path = opts.keep or os.path.join(tmp, "bench.db")
        if os.path.exists(path):
            d = store.open_diary(path, "bench passphrase")
        else:
            d = bench_tags.build(path, opts.entries, opts.tags, random.Random(4))
        sizes = dict(d.db.execute_sql(
            "SELECT ancestor_id, count(*) FROM tag_path GROUP BY ancestor_id"))
        sub_id = min(sizes, key=lambda t: abs(sizes[t] - 200))
        tops = [t.name for t in Tag.select().where(Tag.parent.is_null())]
        state = {"path": tags.path_of(sub_id)}
        home = state["path"].rsplit("/", 1)[0] if "/" in state["path"] else None
        there = [t for t in tops if t != state["path"].split("/")[0]][:2]
        n_entries = len(tags._entries_under(sub_id))

        def move():
            target = there[0] if not state["path"].startswith(there[0] + "/") else there[1]
            state["path"] = tags.move(d, state["path"], target).new

        times = {v: ([], []) for v in VARIANTS}
        loads = []
        for _ in range(opts.rounds):
            for variant in VARIANTS:  # interleaved: each round runs every variant
                use(d, variant)
                move()  # warm
                for _ in range(2):
                    w0, c0 = time.perf_counter(), time.process_time()
                    move()
                    times[variant][0].append((time.perf_counter() - w0) * 1000)
                    times[variant][1].append((time.process_time() - c0) * 1000)
            loads.append(os.getloadavg()[0])
        use(d, "one-stmt")
        tags.move(d, state["path"], home)
        d.close()
    lines = ["", "## Tag moves: the lineage trigger, %s" % dt.date.today().isoformat(), "",
             "`python bench/bench_retag.py --rounds %d`: moving a subtree of %d tags over %d "
             "of %d entries (bench_tags.py's move200), the three triggers swapped in turn on "
             "one diary, %d interleaved rounds of 2 moves each; load (1 min) %.1f-%.1f."
             % (opts.rounds, sizes[sub_id], n_entries, opts.entries, opts.rounds,
                min(loads), max(loads)), "",
             "| trigger | wall median | wall worst | CPU median | CPU worst |",
             "|---|---|---|---|---|"]
    for variant, (wall, cpu) in times.items():
        lines.append("| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms |" % (
            variant, statistics.median(wall), max(wall), statistics.median(cpu), max(cpu)))
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS-replica.md"),
              "a", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
