"""Two checkouts' search side by side, per query class, on one kept bench diary.

    /tmp/venv/bin/python bench/compare_search.py /tmp/diary-bench/bench-1000000.db \
        --old /work/main --new . --repeats 3

Loads each tree's ``diary`` package under its own name in this one process,
opens the diary (read-only) once per side, and times every query of
bench_search.py warm, old and new interleaved (the order alternating each
repeat), reporting medians: p50/p95 over all queries (wall time, and CPU time
beside it, with the load average at the start and end: the machine may be
shared), then p50 and max per
class (rare, common, phrase, prefixN, word+FILTER, ...) and the slowest
queries. It also checks that both sides give the same totals, order, hits,
snippets and scores: a plan change must not change an answer.

The diary is one bench_search.py builds with --keep; it is never written.
Where the new side has a later schema, --migrate COPY makes a migrated copy
of it for the new side (the old one refuses a newer file): the same entries.
--new-cache-mb opens the new side read-write, since the read-only authorizer
refuses a cache_size with a value (the file is still only read).
"""

import argparse
import importlib
import importlib.util
import json
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import bench_search  # noqa: E402


def load(tree, name):
    """The ``diary`` package of ``tree``, imported as ``name``."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(tree, "diary", "__init__.py"),
        submodule_search_locations=[os.path.join(tree, "diary")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return importlib.import_module(name + ".store"), importlib.import_module(name + ".search")


def migrate(path, copy, tree):
    """``path`` copied to ``copy`` and brought to ``tree``'s schema."""
    import shutil
    import subprocess

    shutil.copyfile(path, copy)
    code = ("import sys; sys.path.insert(0, %r); from diary import store; store.KDF_ITER = 64; "
            "d = store.open_diary(%r, %r); c = d.db.connection(); "
            "c.execute(\"INSERT INTO entry_fts (entry_fts) VALUES ('optimize')\"); "
            "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); d.close()"
            % (os.path.abspath(tree), copy, bench_search.PASSPHRASE))
    subprocess.run([sys.executable, "-c", code], check=True)


def classes(queries):
    """The class of each query, from the order bench_search.queries builds them in."""
    names = (["rare"] * 60 + ["common"] * 40 + ["common+mid"] * 40 + ["phrase"] * 40
             + ["prefix"] * 40 + ["OR"] * 20 + ["neg"] * 20 + ["title:"] * 20)
    out = []
    for i, q in enumerate(queries):
        if i < len(names):
            out.append("prefix%d" % (len(q) - 1) if names[i] == "prefix" else names[i])
        elif i < len(names) + 60:
            out.append("word+" + q.split(" ", 1)[1])
        else:
            out.append("filter-only")
    return out


def answer(search, diary, q, sort):
    r = search.search(diary, q, sort=sort)
    return (r.total, r.at_least, r.window, r.order, [h.entry.id for h in r.hits],
            [h.snippet for h in r.hits],
            [None if h.score is None else round(h.score, 6) for h in r.hits])


def p95(values):
    values = sorted(values)
    return values[int(len(values) * 0.95) - 1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="a diary bench_search.py built (--keep)")
    ap.add_argument("--old", required=True, help="the checkout timed as 'old'")
    ap.add_argument("--new", required=True, help="the checkout timed as 'new'")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sort", default="rank,newest")
    ap.add_argument("--only", help="time only the classes whose name contains this")
    ap.add_argument("--new-cache-mb", type=int, help="page cache of the new side")
    ap.add_argument("--new-path", help="the new side's diary, where a migration made it "
                                       "another file (see --migrate): the same entries")
    ap.add_argument("--migrate", metavar="COPY",
                    help="first copy PATH to COPY and open it with the new side, which "
                         "migrates it (then an FTS5 'optimize', as bench_search.py builds), "
                         "unless COPY exists; implies --new-path COPY")
    ap.add_argument("--json", help="write every query's figures here")
    args = ap.parse_args(argv)
    from diary import store
    store.KDF_ITER = 64  # as bench_search.py builds them
    if args.migrate:
        args.new_path = args.migrate
        if not os.path.exists(args.migrate):
            migrate(args.path, args.migrate, args.new)
    rng = random.Random(bench_search.SEED)
    words = bench_search.vocabulary(rng)
    # this tree's store: the new side's file (the same entries as the old one's)
    with store.open_diary(args.new_path or args.path, bench_search.PASSPHRASE,
                          read_only=True) as d:
        queries = bench_search.queries(random.Random(bench_search.SEED), words, d)
    sides = {}
    for label, tree in (("old", args.old), ("new", args.new)):
        side_store, side_search = load(os.path.abspath(tree), "diary_" + label)
        side_store.KDF_ITER = 64
        cache = label == "new" and args.new_cache_mb
        path = args.new_path if label == "new" and args.new_path else args.path
        d = side_store.open_diary(path, bench_search.PASSPHRASE, read_only=not cache)
        if cache:
            d.db.connection().execute("PRAGMA cache_size = -%d" % (cache * 1024))
        sides[label] = (side_search, d)
    rows, differ = {}, []
    print("load average at the start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    for sort in args.sort.split(","):
        for q, c in zip(queries, classes(queries)):
            if args.only and args.only not in c:
                continue
            out = {label: answer(s, d, q, sort) for label, (s, d) in sides.items()}  # warm
            if out["old"] != out["new"]:
                differ.append((sort, q))
            times = {"old": [], "new": []}
            cpu = {"old": [], "new": []}
            for i in range(args.repeats):
                for label in ("old", "new") if i % 2 == 0 else ("new", "old"):
                    s, d = sides[label]
                    c0, t = time.process_time(), time.perf_counter()
                    s.search(d, q, sort=sort)
                    times[label].append((time.perf_counter() - t) * 1000)
                    cpu[label].append((time.process_time() - c0) * 1000)
            rows.setdefault(sort, []).append(dict(
                q=q, c=c, total=out["new"][0], at_least=out["new"][1], order=out["new"][3],
                old=statistics.median(times["old"]), new=statistics.median(times["new"]),
                old_cpu=statistics.median(cpu["old"]), new_cpu=statistics.median(cpu["new"])))
    print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())
    for sort, rs in rows.items():
        for label in ("old", "new"):
            ms = [r[label] for r in rs]
            cpu = [r[label + "_cpu"] for r in rs]
            print("sort=%-6s %s  p50=%7.2f ms  p95=%7.2f ms  max=%7.2f ms  (%d queries)"
                  "  cpu p50=%7.2f ms  p95=%7.2f ms"
                  % (sort, label, statistics.median(ms), p95(ms), max(ms), len(ms),
                     statistics.median(cpu), p95(cpu)))
        by = {}
        for r in rs:
            by.setdefault(r["c"], []).append(r)
        print("  %-36s %4s %8s %8s %8s %8s" % ("class", "n", "old p50", "new p50",
                                             "old max", "new max"))
        for c, cr in sorted(by.items()):
            print("  %-36s %4d %8.2f %8.2f %8.2f %8.2f" % (
                c, len(cr), statistics.median(r["old"] for r in cr),
                statistics.median(r["new"] for r in cr),
                max(r["old"] for r in cr), max(r["new"] for r in cr)))
        print("  slowest (new):")
        for r in sorted(rs, key=lambda r: -r["new"])[:15]:
            print("    %-42r total=%5d%s %-6s old=%7.1f new=%7.1f" % (
                r["q"], r["total"], "+" if r["at_least"] else " ", r["order"],
                r["old"], r["new"]))
    print("answers that differ: %d %s" % (len(differ), differ[:10]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f)
    for _, d in sides.values():
        d.close()
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
