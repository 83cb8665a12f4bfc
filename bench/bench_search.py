"""Search speed on large synthetic diaries: p50/p95 of search.search() over mixed queries.

    /tmp/venv/bin/python bench/bench_search.py              # 10k and 100k entries
    /tmp/venv/bin/python bench/bench_search.py 100000 1000000 --keep /tmp/diary-bench

Each diary is built once (seeded, so every run searches the same text) in a
temporary directory, or in --keep DIR where it is reused by later runs. The
entries have ~100 words drawn from a Zipf-like vocabulary of made-up words,
a title of 2-6 words, one or two of a dozen tags, a date spread over 30
years and one star in ten. The queries mix rare
and common words, phrases, prefixes, OR, negation and filters; each is run
once to warm the cache, then timed in-process (the KDF is paid at unlock,
not per search). The goal (issue 3): p50 < 10 ms, p95 < 50 ms at 100k.
"""

import argparse
import bisect
import datetime as dt
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from diary import search, store, tags  # noqa: E402

PASSPHRASE = "bench"
VOCABULARY = 50_000
SEED = 20240302
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai",
                                                          "ou", "é", "ö")]
TAGS = ["work", "work/acme", "work/acme/meetings", "work/globex", "home", "home/garden",
        "health/running", "health/sleep", "travel/2019", "travel/2023", "books", "people/zoë"]
START = dt.datetime(1996, 1, 1, tzinfo=dt.timezone.utc)
SPAN = 30 * 365 * 86400


def vocabulary(rng):
    words, seen = [], set()
    while len(words) < VOCABULARY:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf_weights(n, s=1.07):
    return list(itertools.accumulate(1.0 / (k ** s) for k in range(1, n + 1)))


def build(path, n, rng, words, cum):
    store.create(path, PASSPHRASE)
    d = store.open_diary(path, PASSPHRASE)
    conn = d.db.connection()
    total = cum[-1]
    with d.write():
        tag_ids = {path: tags.ensure(d, path).id for path in TAGS}
    links = []

    def draw(k):
        return [words[bisect.bisect(cum, rng.random() * total)] for _ in range(k)]

    def rows():
        for i in range(n):
            created = START + dt.timedelta(seconds=rng.randrange(SPAN))
            stamp = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            body = draw(rng.randint(60, 140))
            for cut in range(12, len(body), rng.randint(10, 20)):
                body[cut] += "."
            linked = [tag_ids[p] for p in rng.sample(TAGS, rng.choice((1, 2)))]
            links.extend((i + 1, tag_id) for tag_id in linked)  # ids count from 1
            yield (str(uuid.UUID(int=rng.getrandbits(128))), stamp, stamp,
                   " ".join(draw(rng.randint(2, 6))).capitalize(), " ".join(body),
                   int(rng.random() < 0.1), tags.index_text(linked))

    t = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO entry (uuid, created_at, updated_at, title, body, starred, "
                     "tags) VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
    conn.executemany("INSERT INTO entry_tag (entry_id, tag_id) VALUES (?, ?)", links)
    conn.execute("COMMIT")
    # One index segment, as an import should leave it (a bulk insert leaves ~10).
    conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('optimize')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    d.close()
    return time.perf_counter() - t


def queries(rng, words, diary):
    """A few hundred mixed queries, some taken from real entries so that phrases hit."""
    common = words[:60]
    middle = words[200:5000]
    rare = words[5000:]
    sample = [e.body.replace(".", "").split() for e in
              store.Entry.select().order_by(store.Entry.id).limit(300)]
    q = []
    for _ in range(60):
        q.append(rng.choice(rare))
    for _ in range(40):
        q.append(rng.choice(common))
    for _ in range(40):
        q.append("%s %s" % (rng.choice(common), rng.choice(middle)))
    for _ in range(40):
        body = rng.choice(sample)
        i = rng.randrange(len(body) - 3)
        q.append('"%s"' % " ".join(body[i:i + rng.choice((2, 3))]))
    for _ in range(40):
        w = rng.choice(middle + common)
        q.append(w[:rng.choice((2, 3, 4))] + "*")
    for _ in range(20):
        q.append("%s OR %s" % (rng.choice(middle), rng.choice(rare)))
    for _ in range(20):
        q.append("%s -%s" % (rng.choice(common), rng.choice(common)))
    for _ in range(20):
        q.append("title:%s" % rng.choice(middle))
    filters = ["is:starred", "from:2020-01-01", "to:2000-12-31", "on:2011-06-15",
               "from:2015-01-01 to:2015-12-31", "is:starred from:2024-01-01"]
    for _ in range(60):
        word = rng.choice((rng.choice(common), rng.choice(middle), rng.choice(rare)))
        q.append("%s %s" % (word, rng.choice(filters)))
    for f in filters:
        q.append(f)
    return q


def measure(diary, qs, sort):
    search.search(diary, qs[0], sort=sort)
    times = {}
    for q in qs:
        search.search(diary, q, sort=sort)  # warm
        t = time.perf_counter()
        search.search(diary, q, sort=sort)
        times[q] = (time.perf_counter() - t) * 1000
    return times


def measure_baseline(diary, qs):
    """The textbook way, for comparison: count every match and rank all of them
    by bm25 (filters joined). Only the queries with words to rank."""
    conn = diary.db.connection()
    times = {}
    for q in qs:
        parsed = search.parse(q)
        if not parsed.ranked:
            continue
        where, params = "entry_fts MATCH ?", [parsed.fts]
        if parsed.since:
            where += " AND e.created_at >= ?"
            params.append(store.Entry.created_at.db_value(parsed.since))
        if parsed.until:
            where += " AND e.created_at <= ?"
            params.append(store.Entry.created_at.db_value(parsed.until))
        if parsed.starred is not None:
            where += " AND e.starred = %d" % parsed.starred
        join = "FROM entry_fts f JOIN entry e ON e.id = f.rowid WHERE " + where
        sql_rank = "SELECT f.rowid " + join + " ORDER BY bm25(entry_fts, 10, 1, 2) LIMIT 20"
        sql_count = "SELECT count(*) " + join
        for _ in range(2):  # warm, then timed
            t = time.perf_counter()
            conn.execute(sql_count, params).fetchall()
            conn.execute(sql_rank, params).fetchall()
        times[q] = (time.perf_counter() - t) * 1000
    return times


def report(n, sort, times):
    ms = sorted(times.values())
    p50 = statistics.median(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    slow = sorted(times.items(), key=lambda kv: -kv[1])[:5]
    print("%9d entries  sort=%-6s  queries=%d  p50=%6.2f ms  p95=%6.2f ms  max=%7.2f ms"
          % (n, sort, len(ms), p50, p95, ms[-1]))
    print("          slowest: " + ", ".join("%r %.1f" % kv for kv in slow))
    return p50, p95


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--keep", metavar="DIR", help="build the diaries here and reuse them")
    ap.add_argument("--sort", default="rank,newest", help="comma-separated sorts to time")
    ap.add_argument("--cache-mb", type=int,
                    help="SQLCipher page cache for the run (default: the store's)")
    ap.add_argument("--baseline", action="store_true",
                    help="also time the textbook queries (uncapped count, rank all matches)")
    args = ap.parse_args(argv)
    store.KDF_ITER = 64  # setup and unlock speed only; the product never lowers it
    tmp = None
    base = args.keep
    if base is None:
        tmp = tempfile.TemporaryDirectory()
        base = tmp.name
    os.makedirs(base, exist_ok=True)
    rng = random.Random(SEED)
    words = vocabulary(rng)
    cum = zipf_weights(len(words))
    for n in args.sizes:
        path = os.path.join(base, "bench-%d.db" % n)
        if not os.path.exists(path):
            secs = build(path, n, random.Random(SEED + n), words, cum)
            print("built %d entries in %.1f s (%.0f MB)"
                  % (n, secs, os.path.getsize(path) / 1e6), flush=True)
        with store.open_diary(path, PASSPHRASE, read_only=True) as d:
            if args.cache_mb:
                d.db.connection().execute("PRAGMA cache_size = -%d" % (args.cache_mb * 1024))
            qs = queries(random.Random(SEED), words, d)
            for sort in args.sort.split(","):
                report(n, sort, measure(d, qs, sort))
            if args.baseline:
                report(n, "naive", measure_baseline(d, qs))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
