"""What sync's data model costs (replica.py, schema migration 11).

Usage, from the repository root::

    python bench/bench_replica.py [--entries 100000] [--changed 10] [--import-entries 20000]
                                  [--rounds 5] [--out bench/RESULTS-replica.md]

Low kdf_iter throughout: the key derivation is not what is measured. In a
temporary directory (on /dev/shm when there is one):

- migration 11 of a schema-10 diary of ``--entries`` entries (the upgrade
  every existing diary pays once);
- import of ``--import-entries`` records (jsonl) into an empty diary as
  shipped (store.index_deferred writes the new rows' lineage in one pass at
  the end), against the same import with that pass skipped, in interleaved
  rounds (A, B, A, B ...): what the lineage adds to the bulk path;
- on a diary of ``--entries`` entries with ``--changed`` of them edited
  since a mark: ``changes(since=mark)``, ``apply`` of those records to a
  copy of the diary that has not seen them, and applying them again
  (nothing to do), each over ``--rounds`` rounds; ``changes(since=0)`` (every
  entry) once, for scale; renaming the tag above every entry (each entry's
  tag paths change: a new version of each) against the same rename with
  the trigger that writes those versions dropped.

Wall time, CPU time of this process, and the load average are printed side
by side: the machine is shared.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time


def clock(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def load():
    return "%.2f" % os.getloadavg()[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--changed", type=int, default=10)
    p.add_argument("--import-entries", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                 "RESULTS-replica.md"))
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from diary import entries, exchange, replica, store, tags

    store.KDF_ITER = 64
    base = tempfile.mkdtemp(prefix="bench-replica-",
                            dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    pw = "bench"
    start = dt.datetime(2014, 1, 1, tzinfo=dt.timezone.utc)
    rows = []

    def row(what, wall, cpu, note=""):
        rows.append("| %s | %.1f ms | %.1f ms | %s | %s |"
                    % (what, wall * 1e3, cpu * 1e3, load(), note))
        print(rows[-1], flush=True)

    try:
        # --- migration 11 on an existing diary
        old = os.path.join(base, "v10.db")
        store.create(old, pw, schema_version=10)
        conn = store.keyed_connection(old, pw, store.KDF_ITER)
        with conn:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO entry (uuid, created_at, updated_at, body) VALUES (?, ?, ?, ?)",
                (("u%d" % i, (start + dt.timedelta(hours=i)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000000Z"),
                  (start + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                  "entry %d of the old diary" % i) for i in range(args.entries)))
            conn.execute("COMMIT")
        conn.close()
        wall, cpu, d = clock(lambda: store.open_diary(old, pw))
        d.close()
        row("migration 11 of a schema-10 diary of %d entries (once)" % args.entries, wall, cpu)

        # --- import with and without the lineage insert trigger
        src = os.path.join(base, "in.jsonl")
        with open(src, "w") as f:
            for i in range(args.import_entries):
                f.write(json.dumps({"created_at": (start + dt.timedelta(hours=i)).isoformat(),
                                    "title": "t%d" % i, "body": "imported entry %d" % i,
                                    "tags": ["tag/%d" % (i % 20)]}) + "\n")
        walls = {True: [], False: []}
        cpus = {True: [], False: []}
        for n in range(args.rounds):
            for lineage in (True, False):
                path = os.path.join(base, "imp-%d-%d.db" % (n, lineage))
                store.create(path, pw)
                shipped = store.LINEAGE_OF_INSERTED
                if not lineage:  # index_deferred then writes no lineage at all
                    store.LINEAGE_OF_INSERTED = ()
                try:
                    with store.open_diary(path, pw) as d:
                        wall, cpu, _ = clock(lambda: exchange.import_file(d, src, "jsonl"))
                finally:
                    store.LINEAGE_OF_INSERTED = shipped
                walls[lineage].append(wall)
                cpus[lineage].append(cpu)
                os.unlink(path)
        for lineage, what in ((True, "lineage written in one pass at the end (as shipped)"),
                              (False, "no lineage written (the pass skipped)")):
            row("import of %d jsonl records, %s (median of %d)"
                % (args.import_entries, what, args.rounds),
                statistics.median(walls[lineage]), statistics.median(cpus[lineage]))

        # --- changes and apply at scale
        big = os.path.join(base, "big.db")
        bulk = os.path.join(base, "big.jsonl")
        with open(bulk, "w") as f:
            for i in range(args.entries):
                f.write(json.dumps({"created_at": (start + dt.timedelta(hours=i)).isoformat(),
                                    "title": "t%d" % i, "body": "entry %d" % i,
                                    "tags": ["tag/%d" % (i % 20)]}) + "\n")
        store.create(big, pw)
        with store.open_diary(big, pw) as d:
            wall, cpu, _ = clock(lambda: exchange.import_file(d, bulk, "jsonl"))
        row("building: import of %d records (lineage on)" % args.entries, wall, cpu)
        other = os.path.join(base, "other.db")
        shutil.copy(big, other)  # a copy: it takes its own device id when opened

        with store.open_diary(big, pw) as d, store.open_diary(other, pw) as o:
            ids = [e.id for e in entries.list_entries(d, limit=args.changed)]
            marks = []
            ch, ap, again = ([], []), ([], []), ([], [])
            for n in range(args.rounds):
                mark = replica.mark(d)
                with d.bound():
                    for i in ids:
                        entries.edit(d, i, body="edited in round %d" % n)
                wall, cpu, (records, m) = clock(lambda: replica.changes(d, mark))
                assert len(records) == args.changed, len(records)
                ch[0].append(wall), ch[1].append(cpu)
                wall, cpu, rep = clock(lambda: replica.apply(o, records))
                assert rep.taken == args.changed, rep
                ap[0].append(wall), ap[1].append(cpu)
                before = replica.mark(o)
                wall, cpu, rep = clock(lambda: replica.apply(o, records))
                assert rep.changed == 0 and replica.mark(o) == before, rep
                again[0].append(wall), again[1].append(cpu)
                marks.append(m)
            note = "%d entries, median of %d" % (args.entries, args.rounds)
            row("changes(since=mark), %d changed" % args.changed,
                statistics.median(ch[0]), statistics.median(ch[1]), note)
            row("apply of those %d records to a copy" % args.changed,
                statistics.median(ap[0]), statistics.median(ap[1]), note)
            row("apply of them again (nothing to do, nothing written)",
                statistics.median(again[0]), statistics.median(again[1]), note)
            wall, cpu, (records, _) = clock(lambda: replica.changes(d, 0))
            row("changes(since=0): every entry (%d records), once" % len(records), wall, cpu)
            size = len(json.dumps(records))
            # Renaming the tag above every entry: each entry's paths change, so
            # each gets a new version (entry_lineage_retag), against the same
            # rename with that trigger dropped inside the transaction.
            names, timed = ["tag", "label"], {True: [], False: []}
            for n in range(args.rounds):
                for lineage in (True, False):
                    with d.bound(), d.write():
                        if not lineage:
                            d.db.execute_sql("DROP TRIGGER entry_lineage_retag")
                        wall, cpu, _ = clock(lambda: tags.rename(d, names[0], names[1]))
                        if not lineage:
                            d.db.execute_sql(store._trigger_sql("entry_lineage_retag"))
                    timed[lineage].append((wall, cpu))
                    names.reverse()
            for lineage, what in ((True, "new versions of its entries (as shipped)"),
                                  (False, "the retag trigger dropped (no lineage)")):
                row("rename of the tag above all %d entries, %s (median of %d)"
                    % (args.entries, what, args.rounds),
                    statistics.median(w for w, _ in timed[lineage]),
                    statistics.median(c for _, c in timed[lineage]))
        lines = ["# Sync's data model: costs", "",
                 "`python bench/bench_replica.py --entries %d --changed %d "
                 "--import-entries %d --rounds %d`"
                 % (args.entries, args.changed, args.import_entries, args.rounds), "",
                 "Measured on the shared 2-core machine: CPU time is this process's; "
                 "load is the 1-minute load average when the row was taken.", "",
                 "| what | wall | CPU | load | |", "|---|---|---|---|---|", *rows, "",
                 "Every entry as records (changes(since=0)) is %.1f MB of JSON." % (size / 1e6),
                 ""]
        with open(args.out, "w") as f:
            f.write("\n".join(lines))
        print("written to", args.out)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
