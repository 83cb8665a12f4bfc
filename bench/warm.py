"""Warm in-process latencies: the diary library against the floor's SQL, same process.

Usage::

    python bench/warm.py DB PASSFILE SEED QUERIES

The diary is opened once (the key derivation is paid once, outside the
timings), then QUERIES searches and QUERIES subtree queries run through the
library and through floor.py's raw SQL on its own sqlcipher3 connection,
interleaved so that noise from the machine hits both alike. Prints one JSON
object: per kind, p50 and p95 in milliseconds for "diary" and "floor", or
"not available" where the library has no such function yet.

Search words are drawn from the corpus vocabulary at ranks spread evenly on a
log scale (from the most frequent words to the rarest) plus the marker words;
subtree queries name random tags of the tree, any level. "mixed" (diary only:
the floor runs one word) is issue 3's workload: rare and common words, two
words, phrases taken from the entries, prefixes, OR, negation, title:, and
words with date, star and tag filters.
"""

import json
import math
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import corpus  # noqa: E402
import floor  # noqa: E402


def percentiles(samples):
    s = sorted(samples)

    def at(q):
        return s[min(len(s) - 1, int(math.ceil(q * len(s))) - 1)] * 1000

    return {"p50": statistics.median(s) * 1000, "p95": at(0.95), "n": len(s)}


def workloads(seed, n):
    c = corpus.Corpus(seed)
    rng = random.Random(("warm", seed).__repr__())
    ranks = [int(math.exp(rng.uniform(math.log(1), math.log(len(c.vocabulary)))))
             for _ in range(n - len(corpus.MARKERS))]
    words = [c.vocabulary[r - 1] for r in ranks] + list(corpus.MARKERS)
    rng.shuffle(words)
    paths = [rng.choice(c.tags) for _ in range(n)]
    return words, paths


def mixed(seed, n, conn):
    """n queries of the kinds issue 3 names, in the proportions of bench_search.py."""
    c = corpus.Corpus(seed)
    rng = random.Random(("mixed", seed).__repr__())
    v = c.vocabulary
    common, middle, rare = v[:60], v[200:5000], v[5000:]
    # Phrases come from 300 entries spread evenly over the whole diary, so
    # that the mix is the same at every size (the first 300 multiples of 97
    # were the oldest 29% of 100k entries but the oldest 3% of a million).
    step = max(1, conn.execute("SELECT max(id) FROM entry").fetchone()[0] // 300)
    bodies = [r[0].replace(".", "").split() for r in conn.execute(
        "SELECT body FROM entry WHERE id %% %d = 0 ORDER BY id LIMIT 300" % step)]
    filters = ["is:starred", "from:2020-01-01", "to:2014-12-31", "on:2019-06-15",
               "from:2016-01-01 to:2016-12-31", "is:starred from:2022-01-01"]
    filters += ["tag:" + rng.choice(c.tags) for _ in range(4)]

    def phrase():
        words = rng.choice(bodies)
        i = rng.randrange(len(words) - 3)
        return '"%s"' % " ".join(words[i:i + rng.choice((2, 3))])

    kinds = [
        (60, lambda: rng.choice(rare)),
        (40, lambda: rng.choice(common)),
        (40, lambda: "%s %s" % (rng.choice(common), rng.choice(middle))),
        (40, phrase),
        (40, lambda: rng.choice(middle + common)[:rng.choice((2, 3, 4))] + "*"),
        (20, lambda: "%s OR %s" % (rng.choice(middle), rng.choice(rare))),
        (20, lambda: "%s -%s" % (rng.choice(common), rng.choice(common))),
        (20, lambda: "title:%s" % rng.choice(middle)),
        (60, lambda: "%s %s" % (rng.choice((rng.choice(common), rng.choice(middle),
                                            rng.choice(rare))), rng.choice(filters))),
    ]
    total = sum(k for k, _ in kinds)
    queries = [make() for k, make in kinds for _ in range(max(1, round(k * n / total)))]
    rng.shuffle(queries)
    return queries[:n]


def diary_functions(d):
    """The library calls for each kind, or None where they do not exist yet."""
    from diary import entries

    found = {}
    try:
        from diary import search as search_mod
        found["search"] = lambda w: [(h.entry.id, h.snippet) for h in
                                     search_mod.search(d, w, limit=20).hits]
    except ImportError:
        found["search"] = None
    try:
        from diary import tags as tags_mod
        found["subtree"] = lambda p: [e.id for e in
                                      tags_mod.filter_under(entries.select(), p).limit(50)]
    except ImportError:
        found["subtree"] = None
    return found


def open_read_only(path, passphrase):
    from diary import store

    try:
        from diary.access import read_only_authorizer
    except ImportError:
        read_only_authorizer = None
    return store.open_diary(path, passphrase, read_only=True,
                            authorizer=read_only_authorizer)


def read_through(path):
    """Read the file once, so that the OS cache holds it as it holds a diary
    in daily use. Warm means that here: this machine's host trims the page
    cache within minutes (a 2.4 GB diary was down to 0.4 GB cached), and
    queries that then read the disk measure the disk, more so the bigger
    the file."""
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass


def main(argv):
    path, passfile, seed, n = argv[0], argv[1], int(argv[2]), int(argv[3])
    with open(passfile, encoding="utf-8") as f:
        passphrase = f.readline().rstrip("\r\n")
    words, paths = workloads(seed, n)
    conn = floor.connect(path, passphrase)
    d = open_read_only(path, passphrase)
    fns = diary_functions(d)
    floor_fns = {"search": lambda w: floor.QUERIES["search"](conn, w, 20),
                 "subtree": lambda p: floor.QUERIES["tag"](conn, p, 50)}
    result = {}
    queries = mixed(seed, n, conn)
    refused = []
    if fns["search"]:
        from diary.errors import DiaryError

        def guarded(q):
            try:
                return fns["search"](q)
            except DiaryError as exc:  # a one-line refusal is an answer too
                refused.append("%s: %s" % (q, exc))
        fns["mixed"] = guarded
        floor_fns["mixed"] = None
    for kind, inputs in (("search", words), ("subtree", paths), ("mixed", queries)):
        if kind not in fns:
            continue
        fn = fns[kind]
        times = {"diary": [], "floor": []}
        read_through(path)
        for x in inputs[:10]:  # warm the page cache and statement caches
            if floor_fns[kind]:
                floor_fns[kind](x)
            if fn:
                fn(x)
        for x in inputs:
            if floor_fns[kind]:
                t = time.perf_counter()
                floor_fns[kind](x)
                times["floor"].append(time.perf_counter() - t)
            if fn:
                t = time.perf_counter()
                fn(x)
                times["diary"].append(time.perf_counter() - t)
        result[kind] = {"floor": percentiles(times["floor"]) if times["floor"] else None,
                        "diary": percentiles(times["diary"]) if fn else "not available"}
    if "mixed" in result:
        result["mixed"]["refused"] = refused
    d.close()
    conn.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
