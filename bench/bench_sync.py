"""What a sync through a folder costs (issue #19, item 5): a diary of
``--entries`` entries, ``--changed`` of them edited between syncs.

Usage, from the repository root::

    python bench/bench_sync.py [--entries 100000] [--changed 10] [--rounds 5]
                               [--corpus bench/data/corpus/8-100k/entries.jsonl]
                               [--out bench/RESULTS-sync.md]

Built in a temporary directory (low kdf_iter for the diaries: their key
derivation is not what is measured; the folder's key file follows the
diary's cost, so it is low too: a real first sync adds one derivation,
about 0.1 s): device A with the entries, device B empty. Then:

- A's first sync (a snapshot of everything) and B's first sync (reads it,
  writes its own snapshot), once each: seconds and bytes;
- ``--rounds`` interleaved rounds of: edit ``--changed`` entries on A, sync
  A; sync B; sync A with nothing new (the baseline a sync cannot beat):
  wall and CPU seconds, bytes written, with the load average beside them;
- the folder's size against one diary file, after the rounds and after
  each device compacted (a forced snapshot each, then
  one more sync of A).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--changed", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--corpus", help="a JSONL corpus (bench/corpus.py --size 100k) to import "
                                    "instead of generated entries")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "RESULTS-sync.md"))
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from diary import entries, store, syncfolder
    from diary.store import Entry

    store.KDF_ITER = 64
    tmp = tempfile.mkdtemp(prefix="bench-sync-")
    folder = os.path.join(tmp, "Sync")
    os.mkdir(folder)
    a, b = os.path.join(tmp, "a.db"), os.path.join(tmp, "b.db")
    store.create(a, "bench")
    store.create(b, "bench")
    rnd = random.Random(7)
    words = ["word%d" % i for i in range(5000)]
    t = time.perf_counter()
    if args.corpus:
        from diary import exchange

        with store.open_diary(a, "bench") as d, d.bound():
            exchange.import_file(d, args.corpus, "jsonl")
    else:
        with store.open_diary(a, "bench") as d, d.bound(), d.write():
            for i in range(args.entries):
                entries.add(d, " ".join(rnd.choice(words) for _ in range(rnd.randint(20, 120))),
                            title="entry %d" % i, tags=["t%d/s%d" % (i % 13, i % 5)])
    with store.open_diary(a, "bench") as d, d.bound():
        args.entries = Entry.select().count()
    print("built %d entries in %.1f s" % (args.entries, time.perf_counter() - t), flush=True)

    def sync(path):
        with store.open_diary(path, "bench") as d:
            d.db.connect(reuse_if_open=True)  # the diary's key derivation is not measured
            w, c = time.perf_counter(), time.process_time()
            report = syncfolder.sync(d, folder)
            return time.perf_counter() - w, time.process_time() - c, report

    def folder_bytes():
        return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))

    lines = []
    first = {}
    for who, path in (("A", a), ("B", b)):
        wall, cpu, r = sync(path)
        first[who] = (wall, cpu, r.written, folder_bytes())
        print("first sync %s: %.2f s wall, %.2f s CPU, %d bytes written, folder %d bytes"
              % ((who,) + first[who]), flush=True)
    wall, cpu, r = sync(a)  # A reads B's snapshot, drops its own covered one
    print("A after B joined: %.2f s, folder %d bytes" % (wall, folder_bytes()), flush=True)

    rows = {"A: 10 changed": [], "B: reads them": [], "A: nothing new": []}
    loads = []
    ids = None
    for rnd_i in range(args.rounds):
        with store.open_diary(a, "bench") as d, d.bound():
            if ids is None:
                ids = [e.id for e in Entry.select(Entry.id)]
            for i in rnd.sample(ids, args.changed):
                entries.edit(d, i, body="changed in round %d: %s" % (rnd_i, rnd.random()))
        for label, path in (("A: 10 changed", a), ("B: reads them", b), ("A: nothing new", a)):
            wall, cpu, r = sync(path)
            rows[label].append((wall, cpu, r.written, r.read))
        loads.append(os.getloadavg()[0])
        print("round %d: %s" % (rnd_i + 1, ", ".join(
            "%s %.3f s/%d B" % (k, v[-1][0], v[-1][2]) for k, v in rows.items())), flush=True)

    after_rounds = folder_bytes()
    diary_size = os.path.getsize(a)
    # forced compaction on both: each writes a snapshot, then drops what it covers
    for path in (a, b, a, b):
        with store.open_diary(path, "bench") as d, d.bound():
            state = syncfolder._load(d, syncfolder.STATE)
            state["rewrite"] = True
            syncfolder._save(d, syncfolder.STATE, state)
        sync(path)
    sync(a)  # A drops its snapshot, which B's newer one covers
    compacted = folder_bytes()

    def med(xs):
        return statistics.median(xs)

    lines.append("# Sync through a folder: %d entries, %d changed per round"
                 % (args.entries, args.changed))
    lines.append("")
    lines.append("Run by `python bench/bench_sync.py --entries %d --changed %d --rounds %d%s`; "
                 "machine: %d cores, load average %.2f-%.2f during the rounds (the machine is "
                 "shared)." % (args.entries, args.changed, args.rounds,
                               " --corpus " + args.corpus if args.corpus else "", os.cpu_count(),
                               min(loads), max(loads)))
    lines.append("")
    lines.append("| sync | wall s (median of %d) | CPU s | bytes written | files read |"
                 % args.rounds)
    lines.append("|---|---|---|---|---|")
    for label, v in rows.items():
        lines.append("| %s | %.3f (max %.3f) | %.3f | %d (max %d) | %d |"
                     % (label, med([x[0] for x in v]), max(x[0] for x in v),
                        med([x[1] for x in v]), med([x[2] for x in v]), max(x[2] for x in v),
                        max(x[3] for x in v)))
    lines.append("")
    lines.append("| once | wall s | CPU s | bytes written | folder after |")
    lines.append("|---|---|---|---|---|")
    for who in ("A", "B"):
        lines.append("| first sync of %s | %.2f | %.2f | %d | %d |" % ((who,) + first[who]))
    lines.append("")
    lines.append("| sizes | bytes | x the diary |")
    lines.append("|---|---|---|")
    lines.append("| one diary file (A) | %d | 1.00 |" % diary_size)
    lines.append("| folder after the rounds | %d | %.2f |" % (after_rounds,
                                                              after_rounds / diary_size))
    lines.append("| folder after both compacted | %d | %.2f |" % (compacted,
                                                                   compacted / diary_size))
    lines.append("")
    lines.append("Goals (issue #19): a sync with %d changed under 5 s and 1 MB written; nothing "
                 "written when nothing changed; the folder under 1.5x one diary."
                 % args.changed)
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
