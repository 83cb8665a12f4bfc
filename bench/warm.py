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
subtree queries name random tags of the tree, any level.
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
    for kind, inputs in (("search", words), ("subtree", paths)):
        fn = fns[kind]
        times = {"diary": [], "floor": []}
        for x in inputs[:10]:  # warm the page cache and statement caches
            floor_fns[kind](x)
            if fn:
                fn(x)
        for x in inputs:
            t = time.perf_counter()
            floor_fns[kind](x)
            times["floor"].append(time.perf_counter() - t)
            if fn:
                t = time.perf_counter()
                fn(x)
                times["diary"].append(time.perf_counter() - t)
        result[kind] = {"floor": percentiles(times["floor"]),
                        "diary": percentiles(times["diary"]) if fn else "not available"}
    d.close()
    conn.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
