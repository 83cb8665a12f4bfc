"""Where a bench diary's bytes are: the file, the search index, the grams column.

    .venv/bin/python bench/index_size.py /tmp/s1m/bench-1000000.db /tmp/s1m/bench-1000000-new.db

For each file (a diary bench_search.py built, or a copy of one a later schema
migrated: compare_search.py --migrate): its size on disk, pages and free pages,
schema version, and the bytes of the search index's segments (entry_fts_data),
of its per-row token counts (entry_fts_docsize), of the grams column where
the schema has one, and of sync's version vectors (entry_lineage, schema 11)
which a migrated copy also gained. SQLCipher's build here has no dbstat table, so the index is
measured by its stored blobs, not its pages. Standard library and sqlcipher3
only; the file is opened read-only and never written.
"""

import argparse
import os
import sys

PASSPHRASE = "bench"  # bench_search.PASSPHRASE
KDF_ITER = 64  # as bench_search.py builds them


def measure(path):
    import sqlcipher3

    conn = sqlcipher3.connect("file:%s?mode=ro" % path, uri=True, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute("PRAGMA key = '%s'" % PASSPHRASE)
    conn.execute("PRAGMA kdf_iter = %d" % KDF_ITER)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    columns = [row[1] for row in conn.execute("PRAGMA table_info(entry)")]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    out = {
        "file_bytes": os.path.getsize(path),
        "page_size": int(one("PRAGMA page_size")),  # SQLCipher answers this one as text
        "pages": int(one("PRAGMA page_count")),
        "free_pages": int(one("PRAGMA freelist_count")),
        "user_version": one("PRAGMA user_version"),
        "entries": one("SELECT count(*) FROM entry"),
        "fts_data_bytes": one("SELECT sum(length(block)) FROM entry_fts_data"),
        "fts_data_rows": one("SELECT count(*) FROM entry_fts_data"),
        "fts_docsize_bytes": one("SELECT sum(length(sz)) FROM entry_fts_docsize"),
        "text_bytes": one("SELECT sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB)))"
                          " FROM entry"),
        "grams_bytes": (one("SELECT sum(length(CAST(grams AS BLOB))) FROM entry")
                        if "grams" in columns else None),
        # sync's per-entry version vectors (schema 11), not the search's: named
        # so that a migrated copy's growth is not put down to the grams
        "lineage_bytes": (one("SELECT sum(length(vv)) + 8 * count(*) FROM entry_lineage")
                          if tables & {"entry_lineage"} else None),
    }
    out["used_bytes"] = (out["pages"] - out["free_pages"]) * out["page_size"]
    conn.close()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    rows = [(path, measure(path)) for path in args.paths]
    print("load average: %.2f %.2f %.2f" % os.getloadavg())
    for path, m in rows:
        print(path)
        for key, value in m.items():
            if isinstance(value, int) and key.endswith("bytes"):
                print("  %-18s %15d  (%.1f MB)" % (key, value, value / 1e6))
            else:
                print("  %-18s %15s" % (key, value))
    if len(rows) == 2:
        (_, a), (_, b) = rows
        for key in ("file_bytes", "used_bytes", "fts_data_bytes", "fts_docsize_bytes"):
            print("%-18s %+.2f%%" % (key, 100.0 * (b[key] - a[key]) / a[key]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
