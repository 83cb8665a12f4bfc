"""What words of scripts without spaces cost (grams.py): file size and write
speed at 100,000 entries of mixed text, before and after, side by side.

    .venv/bin/python bench/bench_grams.py --old /tmp/base-checkout [--entries 100000]

Builds the same seeded diary of mixed text (60% Latin made-up words as
bench_search.py writes them, 15% Chinese, 15% Japanese, 10% Thai) with each
checkout's ``diary`` package (--old: before grams, schema 6; this tree:
after, schema 7, grams.derive called for every row as its write paths do),
in pairs A, B, B, A, each through the bulk insert bench_search.py uses, then
an FTS5 'optimize' and a checkpoint. Prints the file sizes, the build times
(median), grams.derive's own speed, and the speed of a few searches in
those scripts on the new diary; with --out, writes them as Markdown.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import bench_search  # noqa: E402
from compare_search import load  # noqa: E402

PASSPHRASE = bench_search.PASSPHRASE
HAN = [chr(c) for c in range(0x4E00, 0x4E00 + 1500)]
KANA = [chr(c) for c in range(0x3041, 0x3094)] + [chr(c) for c in range(0x30A1, 0x30F5)]
THAI_CONSONANTS = [chr(c) for c in range(0x0E01, 0x0E2F)]
THAI_MARKS = ["\u0e34", "\u0e35", "\u0e31", "\u0e48", "\u0e49", ""]
THAI_VOWELS = ["\u0e32", "\u0e33", "\u0e40", ""]


def _words(rng, alphabet, n, lengths):
    return ["".join(rng.choice(alphabet) for _ in range(rng.choice(lengths))) for _ in range(n)]


def corpus(n, seed=7):
    """n (created_at, title, body) of mixed text, the same for every call."""
    rng = random.Random(seed)
    latin = bench_search.vocabulary(random.Random(bench_search.SEED))[:20000]
    zh = _words(rng, HAN, 8000, (1, 2, 2, 2, 3, 4))
    ja = _words(rng, HAN, 3000, (1, 2, 2)) + _words(rng, KANA, 3000, (1, 2, 3, 4))
    th = ["".join(rng.choice(THAI_CONSONANTS) + rng.choice(THAI_MARKS) + rng.choice(THAI_VOWELS)
                  for _ in range(rng.choice((1, 2, 3)))) for _ in range(4000)]
    start = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.6:
            words, sep, size = latin, " ", rng.randint(60, 140)
        elif kind < 0.75:
            words, sep, size = zh, "", rng.randint(80, 200)
        elif kind < 0.9:
            words, sep, size = ja, "", rng.randint(80, 200)
        else:
            words, sep, size = th, "", rng.randint(60, 150)
        body = [rng.choice(words[:200] if rng.random() < 0.5 else words) for _ in range(size)]
        for cut in range(15, len(body), rng.randint(10, 25)):  # sentences
            body[cut] += "。" if sep == "" and words is not th else (" " if sep == "" else ".")
        created = (start + dt.timedelta(seconds=rng.randrange(25 * 365 * 86400)))
        out.append((created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    sep.join(rng.choice(words) for _ in range(rng.randint(2, 5))),
                    sep.join(body)))
    return out


def build(store_mod, derive, path, rows):
    """The diary at ``path`` from ``rows``; seconds for the inserts and the optimize."""
    store_mod.create(path, PASSPHRASE)
    d = store_mod.open_diary(path, PASSPHRASE)
    conn = d.db.connection()
    rng = random.Random(1)
    t = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    if derive is None:
        conn.executemany(
            "INSERT INTO entry (uuid, created_at, updated_at, title, body) VALUES (?, ?, ?, ?, ?)",
            ((str(uuid.UUID(int=rng.getrandbits(128))), c, c, ti, b) for c, ti, b in rows))
    else:
        conn.executemany(
            "INSERT INTO entry (uuid, created_at, updated_at, title, body, grams) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((str(uuid.UUID(int=rng.getrandbits(128))), c, c, ti, b, derive(ti, b))
             for c, ti, b in rows))
    conn.execute("COMMIT")
    conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('optimize')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    secs = time.perf_counter() - t
    d.close()
    return secs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="a checkout before grams")
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--keep", metavar="DIR", help="leave the diaries here")
    ap.add_argument("--out", help="append the figures as Markdown to this file")
    args = ap.parse_args(argv)
    old_store, _ = load(os.path.abspath(args.old), "diary_old")
    new_store, new_search = load(os.path.dirname(HERE), "diary_new")
    grams = sys.modules["diary_new.grams"]
    for s in (old_store, new_store):
        s.KDF_ITER = 64
    rows = corpus(args.entries)
    text_mb = sum(len(t.encode()) + len(b.encode()) for _, t, b in rows) / 1e6
    t = time.perf_counter()
    derived = [grams.derive(ti, b) for _, ti, b in rows]
    derive_secs = time.perf_counter() - t
    base = args.keep or tempfile.mkdtemp(prefix="bench-grams-")
    times, sizes = {"old": [], "new": []}, {}
    for i, label in enumerate(("old", "new", "new", "old")):
        path = os.path.join(base, "%s-%d-%d.db" % (label, args.entries, i))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        mod, derive = (old_store, None) if label == "old" else (new_store, grams.derive)
        times[label].append(build(mod, derive, path, rows))
        sizes[label] = os.path.getsize(path)
        print("%s build %d: %.1f s, %.1f MB" % (label, i, times[label][-1], sizes[label] / 1e6),
              flush=True)
    # searches in the scripts without spaces, on the last new diary
    new_path = os.path.join(base, "new-%d-2.db" % args.entries)
    qrng = random.Random(3)
    picks = []
    for _, _, body in rows[:3000]:
        runs = [body[a:b] for a, b in grams.runs(body) if b - a >= 4]
        if runs:
            run = qrng.choice(runs)
            at = qrng.randrange(len(run) - 3)
            pick = run[at:at + qrng.choice((1, 2, 3))]
            if pick[0].isalpha():  # not a lone Thai mark: no query
                picks.append(pick)
    picks = picks[:200]
    d = new_store.open_diary(new_path, PASSPHRASE, read_only=True)
    ms = []
    for q in picks:
        new_search.search(d, q)  # warm
        t = time.perf_counter()
        new_search.search(d, q)
        ms.append((time.perf_counter() - t) * 1000)
    d.close()
    ms.sort()
    grams_mb = sum(len(g.encode()) for g in derived) / 1e6
    lines = [
        "entries: %d of mixed text (60%% Latin, 15%% Chinese, 15%% Japanese, 10%% Thai), "
        "%.1f MB of title and text; grams text %.1f MB" % (args.entries, text_mb, grams_mb),
        "file size: before %.1f MB, after %.1f MB (%+.1f%%)" % (
            sizes["old"] / 1e6, sizes["new"] / 1e6,
            100.0 * (sizes["new"] - sizes["old"]) / sizes["old"]),
        "bulk write (insert + optimize, median of 2): before %.1f s, after %.1f s (%+.1f%%); "
        "grams.derive alone %.1f s (%.0f us an entry)" % (
            statistics.median(times["old"]), statistics.median(times["new"]),
            100.0 * (statistics.median(times["new"]) - statistics.median(times["old"]))
            / statistics.median(times["old"]), derive_secs, derive_secs / args.entries * 1e6),
        "searches for 1-3 characters of a run (%d, warm): p50 %.2f ms, p95 %.2f ms, max %.2f ms"
        % (len(ms), statistics.median(ms), ms[int(len(ms) * 0.95) - 1], ms[-1]),
        "load average at the end: %s" % " ".join("%.2f" % x for x in os.getloadavg()),
    ]
    for line in lines:
        print(line)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n".join("- " + line for line in lines) + "\n")
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
