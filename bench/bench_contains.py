"""Substrings (``diary search --contains``): a scan, or an FTS5 trigram index?

    .venv/bin/python bench/bench_contains.py /tmp/diary-bench/bench-100000.db [--out FILE]

On a diary bench_search.py built (in this tree's schema; compare_search.py
--migrate makes one), times contains.search (the scan: each entry folded in C
and tested, contains.fold) for a few substrings, warm, median of 3; then, on copies of the
file, builds an FTS5 trigram index over title and text (detail=full, which
can answer a substring by itself, and detail=none, which needs the scan's
check afterwards) and reports how much each grows the file and how fast a
trigram query finds the same entries. Issue 20's rule: the index only if it
grows the file by at most 50%.
"""

import argparse
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from diary import contains, store  # noqa: E402

PASSPHRASE = "bench"
NEEDLES = ["oad", "zou", "ba", "e b", "kaibo", "xyzzy"]


def timed(fn, repeats=3):
    fn()  # warm
    ms = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    return statistics.median(ms)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--out")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--needles", default=",".join(NEEDLES),
                    help="comma-separated substrings to time (default: %(default)s)")
    ap.add_argument("--no-trigram", action="store_true", help="time the scan only")
    args = ap.parse_args(argv)
    store.KDF_ITER = 64
    lines = []
    with store.open_diary(args.path, PASSPHRASE, read_only=True) as d:
        n = store.Entry.select().count()
        for needle in args.needles.split(","):
            total = contains.search(d, needle).total
            ms = timed(lambda: contains.search(d, needle), args.repeats)
            lines.append("scan %r: %d matches, %.0f ms" % (needle, total, ms))
            print(lines[-1], flush=True)
    base = os.path.getsize(args.path)
    for detail in () if args.no_trigram else ("full", "none"):
        copy = args.path + ".trigram-%s" % detail
        shutil.copyfile(args.path, copy)
        t = time.perf_counter()
        d = store.open_diary(copy, PASSPHRASE)
        conn = d.db.connection()
        conn.execute("CREATE VIRTUAL TABLE entry_tri USING fts5 (title, body, content='entry', "
                     "content_rowid='id', tokenize='trigram remove_diacritics 1', "
                     "detail=%s)" % detail)
        conn.execute("INSERT INTO entry_tri (entry_tri) VALUES ('rebuild')")
        conn.execute("INSERT INTO entry_tri (entry_tri) VALUES ('optimize')")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        secs = time.perf_counter() - t
        size = os.path.getsize(copy)
        lines.append("trigram index detail=%s: file %.1f MB -> %.1f MB (%+.0f%%), built in %.0f s"
                     % (detail, base / 1e6, size / 1e6, 100.0 * (size - base) / base, secs))
        print(lines[-1], flush=True)
        for needle in args.needles.split(","):
            if len(needle) < 3:
                continue
            # detail=none keeps no positions: no phrase, only the entries holding
            # every trigram, which a scan of those entries must then check
            grams = ['"%s"' % needle[i:i + 3] for i in range(len(needle) - 2)]
            text = '"%s"' % needle if detail == "full" else " AND ".join(grams)
            sql = "SELECT count(*) FROM entry_tri WHERE entry_tri MATCH ?"
            found = conn.execute(sql, (text,)).fetchone()[0]
            ms = timed(lambda: conn.execute(sql, (text,)).fetchone(), args.repeats)
            lines.append("  trigram %r: %d entries, %.1f ms" % (needle, found, ms))
        d.close()
        os.remove(copy)
    lines.append("entries: %d; load average at the end: %s"
                 % (n, " ".join("%.2f" % x for x in os.getloadavg())))
    print("\n".join(lines[-1:]))
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n".join("- " + line for line in lines) + "\n")


if __name__ == "__main__":
    main()
