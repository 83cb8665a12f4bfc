"""Create a diary and fill it from a corpus JSONL file through the library.

Usage::

    python bench/load.py DB PASSFILE create            # an empty diary
    python bench/load.py DB PASSFILE library FILE.jsonl

The diary is created with SQLCipher's default key derivation (256,000
iterations): the whole-command benchmarks must pay the real cost.

The runner prefers the product's own `diary import FILE --format jsonl` (after
``create``) and measures it as import throughput; until that command exists it
falls back to ``library``: entries.add for every entry (with tags once
entries.add takes them) inside one write transaction. Either way it runs in a
child process, so that the time and peak memory measured are the load's own.
"""

import datetime as dt
import inspect
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create(db, passphrase):
    from diary import store

    store.create(db, passphrase)


def load_with_library(db, passphrase, jsonl):
    """Add every entry of ``jsonl``; return whether tags were loaded."""
    from diary import entries, store

    with_tags = "tags" in inspect.signature(entries.add).parameters
    with store.open_diary(db, passphrase) as d, open(jsonl, encoding="utf-8") as f:
        with d.write():
            for line in f:
                rec = json.loads(line)
                extra = {"tags": rec["tags"]} if with_tags else {}
                entries.add(d, rec["body"], title=rec["title"],
                            created_at=dt.datetime.fromisoformat(rec["created_at"]),
                            updated_at=dt.datetime.fromisoformat(rec["updated_at"]),
                            starred=rec["starred"], uuid=rec["uuid"], **extra)
    return with_tags


def main(argv):
    db, passfile, mode, *rest = argv
    with open(passfile, encoding="utf-8") as f:
        passphrase = f.readline().rstrip("\r\n")
    create(db, passphrase)
    if mode == "library":
        print(json.dumps({"tags": load_with_library(db, passphrase, rest[0])}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    sys.exit(main(sys.argv[1:]))
