"""Tag tree speed at scale: 100,000 entries, 2,000 tags up to 6 levels deep.

Builds a seeded diary in a temporary directory (key derivation lowered for
the setup: it measures queries, not unlocking) and prints three figures:

  latest50   the newest 50 entries under a top-level tag (warm), target < 20 ms
  tags       `diary tags` in-process (tree, counts, plain rendering), target < 100 ms
  move200    moving a subtree of ~200 tags to another parent, target < 100 ms

and what the move's design costs search: a word naming a top-level tag
(found in every path below it), ranked, 20 hits.

Run from the worktree:  python bench/bench_tags.py [--entries N] [--tags N]
run.py runs it on its own corpus's diary:  bench_tags.py --diary COPY --passfile F
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from diary import entries, search, store, tags  # noqa: E402
from diary.render import Output  # noqa: E402
from diary.store import Tag  # noqa: E402

WORDS = ("morning coffee meeting client budget run river knee doctor book film garden "
         "rain train office design review plan family dinner walk sleep idea draft "
         "letter music piano travel paris code bug release weekend market bread").split()


def build(path, n_entries, n_tags, rng):
    store.create(path, "bench passphrase")
    d = store.open_diary(path, "bench passphrase")
    with d.write():
        made = [tags.ensure(d, "top%02d" % i) for i in range(10)]
        depth = {t.id: 1 for t in made}
        while len(made) < n_tags:
            # A random recursive tree: early tags grow big subtrees, as real
            # ones do; nothing deeper than 6 levels.
            parent = rng.choice(made)
            if depth[parent.id] >= 6:
                continue
            tag = Tag.create(name="t%04d" % len(made), key="t%04d" % len(made),
                             parent=parent.id)
            depth[tag.id] = depth[parent.id] + 1
            made.append(tag)
    tag_ids = [t.id for t in made]
    start = dt.datetime(2015, 1, 1, tzinfo=dt.timezone.utc)
    conn = d.db.connection()
    with d.write():
        rows = []
        for i in range(n_entries):
            when = (start + dt.timedelta(minutes=i * 50 + rng.randrange(40)))
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(10, 60)))
            rows.append(("u%d" % i, stamp, stamp, "", body))
        conn.executemany("INSERT INTO entry (uuid, created_at, updated_at, title, body) "
                         "VALUES (?, ?, ?, ?, ?)", rows)
        links = set()
        for entry_id in range(1, n_entries + 1):
            for tag_id in rng.sample(tag_ids, rng.choice((0, 1, 1, 1, 2, 2, 3))):
                links.add((entry_id, tag_id))
        conn.executemany("INSERT INTO entry_tag (entry_id, tag_id) VALUES (?, ?)",
                         sorted(links))
        tags._refresh(ids=range(1, n_entries + 1))
    conn.execute("PRAGMA optimize")
    return d


def timed(func, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def measure(d):
    """The figures, on an open writable diary with a tag tree. A subtree is
    moved and moved back, so the tree ends as it began."""
    tops = [t for t in Tag.select().where(Tag.parent.is_null())]
    results = {"top_level_tags": len(tops)}

    def latest50():
        for top in tops:
            with d.read():
                list(tags.filter_under(entries.select(), top.name).limit(50))

    latest50()  # warm the page cache
    ms, worst = timed(latest50, 5)
    results.update(latest50_ms=ms / len(tops), latest50_worst_ms=worst / len(tops))

    def tree():
        out = io.StringIO()
        Output(out, terminal=False).tag_tree(tags.tree(d))

    tree()
    results["tags_ms"], results["tags_worst_ms"] = timed(tree, 5)

    # The subtree closest to 200 tags, moved back and forth between two
    # top-level tags other than its own.
    sizes = dict(d.db.execute_sql(
        "SELECT ancestor_id, count(*) FROM tag_path GROUP BY ancestor_id"))
    sub_id = min(sizes, key=lambda t: abs(sizes[t] - 200))
    state = {"path": tags.path_of(sub_id)}
    home = state["path"].rsplit("/", 1)[0] if "/" in state["path"] else None
    there = [t.name for t in tops if t.id != sub_id
             and not state["path"].startswith(t.name + "/")][:2]
    results["move_tags"] = sizes[sub_id]
    results["move_entries"] = len(tags._entries_under(sub_id))

    def move():
        target = there[0] if not state["path"].startswith(there[0] + "/") else there[1]
        state["path"] = tags.move(d, state["path"], target).new

    results["move200_ms"], results["move200_worst_ms"] = timed(move, 6)
    tags.move(d, state["path"], home)

    # What the move's speed costs search (schema.MIGRATIONS[2]): a word
    # that names a top-level tag matches every tag below it, and FTS5
    # ORs one token per tag. Ranked, 20 hits, for each top-level tag.
    def search_tag_words():
        for top in tops:
            search.search(d, top.name, limit=20)

    search_tag_words()
    ms, worst = timed(search_tag_words, 5)
    results["search_top_tag_word_ms"] = ms / len(tops)
    results["search_top_tag_word_worst_ms"] = worst / len(tops)
    results["top_subtree_tags"] = max(sizes[t.id] for t in tops)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--tags", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--keep", metavar="PATH", help="build (or reuse) the diary at PATH")
    ap.add_argument("--diary", metavar="PATH", help="measure this diary (changed, then "
                    "restored: give a copy) instead of building one; with --passfile")
    ap.add_argument("--passfile", help="the passphrase of --diary, on its first line")
    ap.add_argument("--cache-mb", type=int, help="PRAGMA cache_size for the run (default: "
                                                 "SQLCipher's)")
    opts = ap.parse_args()
    if opts.diary:
        with open(opts.passfile, encoding="utf-8") as f:
            d = store.open_diary(opts.diary, f.readline().rstrip("\r\n"))
        print(json.dumps(measure(d)))
        d.close()
        return
    rng = random.Random(opts.seed)
    store.KDF_ITER = 1000
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if opts.keep and os.path.exists(opts.keep):
            d = store.open_diary(opts.keep, "bench passphrase")
        else:
            d = build(opts.keep or os.path.join(tmp, "bench.db"), opts.entries, opts.tags, rng)
        if opts.cache_mb:
            d.db.execute_sql("PRAGMA cache_size = -%d" % (opts.cache_mb * 1024))
        print("built %d entries, %d tags in %.1f s" % (
            opts.entries, opts.tags, time.perf_counter() - t0))
        results = measure(d)
        d.close()
    print(json.dumps({k: round(v, 1) for k, v in results.items()}, indent=2))
    print("targets: latest50 < 20 ms, tags < 100 ms, move200 < 100 ms")


if __name__ == "__main__":
    main()
