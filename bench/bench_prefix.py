"""What the search index's prefix indexes (prefix='2 3') cost at import and buy at search.

    python bench/bench_prefix.py [--rounds R] [--out FILE] [SIZE]

Builds one diary of SIZE entries (default 100,000; bench_search.py's Zipf
vocabulary and texts, so prefixes fan out as in prose), then copies of it
whose entry_fts differs only in its prefix option: '2 3' (the schema's),
'2', and none. Copies only: the shipped format keeps '2 3'; changing it
would need a migration (issue 21's import-speed brief asks for the figures,
not the change).

For each copy, in interleaved rounds (the machine is shared): the time to
build the whole index in one pass as an import does (the 'rebuild' command
with index_deferred's 32 MB hash; wall and CPU), the index's size, and
search.search() over prefix queries of 2, 3 and 4 letters and over plain
words (p50 and max in ms, each query warmed once, then timed).
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import bench_search  # noqa: E402
from diary import search, store  # noqa: E402

VARIANTS = (("2 3", "prefix='2 3'"), ("2", "prefix='2'"), ("none", None))


def fts_sql(prefix):
    return ("CREATE VIRTUAL TABLE entry_fts USING fts5 (title, body, tags, grams, "
            "content='entry', content_rowid='id', tokenize='unicode61 remove_diacritics 2'"
            + (", " + prefix if prefix else "") + ")")


def rebuild(path, prefix):
    """(wall s, CPU s) of building the index of every entry in one pass."""
    with store.open_diary(path, bench_search.PASSPHRASE) as d:
        conn = d.db.connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DROP TABLE entry_fts")
        conn.execute(fts_sql(prefix))
        conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('automerge', 2)")
        conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', ?)",
                     (store.INDEX_HASH_BYTES,))
        wall, cpu = time.perf_counter(), time.process_time()
        conn.execute("INSERT INTO entry_fts (rowid, title, body, tags, grams) "
                     "SELECT id, title, body, tags, grams FROM entry")
        conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', ?)",
                     (store.FTS_HASH_BYTES,))
        conn.execute("COMMIT")
        result = time.perf_counter() - wall, time.process_time() - cpu
        (size,) = conn.execute("SELECT sum(length(block)) FROM entry_fts_data").fetchone()
    return result + (size / 1e6,)


def prefix_queries(rng, words):
    qs = {2: [], 3: [], 4: [], "word": []}
    pool = words[:5000]
    for _ in range(30):
        w = rng.choice(pool)
        for k in (2, 3, 4):
            qs[k].append(w[:k] + "*")
        qs["word"].append(w)
    return qs


def timed(path, qs):
    out = {}
    with store.open_diary(path, bench_search.PASSPHRASE, read_only=True) as d:
        for kind, queries in qs.items():
            ms = []
            for q in queries:
                search.search(d, q)  # warm
                t = time.perf_counter()
                search.search(d, q)
                ms.append((time.perf_counter() - t) * 1000)
            out[kind] = ms
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", nargs="?", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", help="append the figures to this file")
    args = ap.parse_args(argv)
    store.KDF_ITER = 64  # setup and unlock only; the product never lowers it
    work = tempfile.mkdtemp(prefix="bench-prefix-")
    head = ("`python bench/bench_prefix.py %s` on %s UTC, load average %s"
            % (" ".join(argv), time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               "%.2f %.2f %.2f" % os.getloadavg()))
    print(head, flush=True)
    try:
        rng = random.Random(bench_search.SEED)
        words = bench_search.vocabulary(rng)
        cum = bench_search.zipf_weights(len(words))
        base = os.path.join(work, "base.db")
        bench_search.build(base, args.size, random.Random(bench_search.SEED + args.size),
                           words, cum)
        paths = {}
        for name, _ in VARIANTS:
            paths[name] = os.path.join(work, "prefix-%s.db" % name.replace(" ", ""))
            shutil.copy(base, paths[name])
        qs = prefix_queries(random.Random(1), words)
        builds, searches = {}, {}
        for _ in range(args.rounds):
            for name, prefix in VARIANTS:
                builds.setdefault(name, []).append(rebuild(paths[name], prefix))
                for kind, ms in timed(paths[name], qs).items():
                    searches.setdefault(name, {}).setdefault(kind, []).extend(ms)
        lines = ["", "%d entries, median of %d rounds" % (args.size, args.rounds),
                 "  %-7s %8s %8s %9s   %s" % ("prefix", "build s", "CPU s", "index MB",
                                             "search p50 / max ms: 2*, 3*, 4*, word")]
        for name, _ in VARIANTS:
            b = [statistics.median(x[i] for x in builds[name]) for i in range(3)]
            s = "  ".join("%.1f / %.1f" % (statistics.median(searches[name][k]),
                                           max(searches[name][k]))
                          for k in (2, 3, 4, "word"))
            lines.append("  %-7s %8.2f %8.2f %9.1f   %s" % (name, *b, s))
        tail = "load average at the end %.2f %.2f %.2f" % os.getloadavg()
        for line in lines + [tail]:
            print(line, flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write("\n" + head + "\n\n```\n" + "\n".join(lines).strip("\n") + "\n"
                        + tail + "\n```\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
