"""A process doing real work on a diary, for the crash and concurrency tests.

    python tests/worker.py MODE PATH PASSPHRASE [ARG]

It prints one line per acknowledged (committed) step and flushes, so the
parent knows exactly what was promised before it kills the process.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from diary import entries, store  # noqa: E402

store.KDF_ITER = int(os.environ.get("WORKER_KDF_ITER", "64"))


def ack(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def add(path, passphrase, count="1000000", tag=""):
    with store.open_diary(path, passphrase) as d:
        for i in range(int(count)):
            e = entries.add(d, "worker %d entry %d body words " % (os.getpid(), i) * 5,
                            title="w%d-%d" % (os.getpid(), i))
            ack("ADDED", e.uuid)


def passwd(path, passphrase, other):
    """Switch the key back and forth; ack each passphrase once it is committed."""
    current, nxt = passphrase, other
    d = store.open_diary(path, current)
    while True:
        store.change_passphrase(d, nxt)
        ack("KEY", nxt)
        current, nxt = nxt, current


def import_(path, passphrase, source):
    """Import a file in one transaction; ack once it is committed."""
    from diary import exchange

    with store.open_diary(path, passphrase) as d:
        stats = exchange.import_file(d, source, "jsonl")
        ack("IMPORTED", stats.added)


def tagmove(path, passphrase):
    """Move a subtree back and forth between two parents; ack each committed move."""
    from diary import tags

    with store.open_diary(path, passphrase) as d:
        where = "a" if tags.resolve("a/sub") is not None else "b"
        while True:
            target = "b" if where == "a" else "a"
            tags.move(d, where + "/sub", target)
            where = target
            ack("MOVED", where)


def read(path, passphrase, rounds="100"):
    """List and count over and over while others write."""
    with store.open_diary(path, passphrase, read_only=True) as d:
        for _ in range(int(rounds)):
            with d.read():
                entries.list_entries(d, limit=20)
                entries.count(d)
    ack("READ", rounds)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"add": add, "passwd": passwd, "read": read, "import": import_,
     "tagmove": tagmove}[mode](*args)
