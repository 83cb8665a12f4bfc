"""The floor: the least a program can do to answer each benchmarked command.

Usage::

    python bench/floor.py DB PASSFILE list N
    python bench/floor.py DB PASSFILE search WORD N
    python bench/floor.py DB PASSFILE tag PATH N
    python bench/floor.py DB PASSFILE add TEXT
    python bench/floor.py DB PASSFILE export
    python bench/floor.py - - version

Only sqlcipher3 and the standard library: open the same diary file, derive the
key (SQLCipher's defaults, the same cost the diary pays), run the same SQL
the library runs (search.py's capped ranking, tags.py's subtree query) and
print plain rows. Whatever diary spends above this is the price of
Python-level code: argument parsing, peewee, rendering, imports.

The SQL is also used in-process by warm.py, through ``connect`` and ``QUERIES``.
"""

import sys

import math

# Each query takes (connection, arguments) and returns the rows to print.

# An entry's tag paths, one per line (the diary shows them with each entry).
PATHS = ("coalesce((SELECT group_concat(t.path, char(10)) FROM entry_tag et "
         "JOIN tag t ON t.id = et.tag_id WHERE et.entry_id = entry.id), '')")


def _list(conn, n):
    return conn.execute(
        "SELECT id, created_at, starred, title, %s FROM entry "
        "ORDER BY created_at DESC, id DESC LIMIT ?" % PATHS, (int(n),)).fetchall()


def _fts_phrase(word):
    return '"' + word.replace('"', '""') + '"'


CAP = 5_000  # search.py: beyond this many matches, rank the newest CAP only
DENSE = 0.1  # search.py: this share of entries matching makes probing cheap
RANK_LIMIT = 100_000  # search.py: estimated matches beyond this: newest first, unranked
WEIGHTS = "10.0, 1.0, 2.0"  # search.py: bm25 weights of title, body, tags
PROBE_TAGS = 16  # search.py: with more tag tokens, never probe entry by entry
WINDOW = 100_000  # search.py: a bigger diary is searched in its latest WINDOW first


def _expression(conn, phrase):
    """search_query.Query.expression for one word: in the title or text, or
    tagged with a tag whose path holds it (tokens grouped as _any_token does)."""
    tokens = ["t%d" % r[0] for r in conn.execute(
        "SELECT rowid FROM tag_fts WHERE tag_fts MATCH ? AND EXISTS ("
        "SELECT 1 FROM entry_tag WHERE tag_id = tag_fts.rowid) ORDER BY rowid", (phrase,))]
    text = "{title body} : " + phrase
    if not tokens:
        return text, text, 0
    if len(tokens) <= 16:
        group = "(%s)" % " OR ".join(tokens)
    else:
        size = math.isqrt(len(tokens) - 1) + 1
        group = "(%s)" % " OR ".join("((%s) NOT t0)" % " OR ".join(tokens[i:i + size])
                                     for i in range(0, len(tokens), size))
    return "(%s OR tags : %s)" % (text, group), text, len(tokens)


def _search(conn, word, n):
    # The queries search.py makes for one word: the newest CAP + 1 matches (the
    # count, "more than CAP" beyond) among the WINDOW entries written last, or
    # where they do not fill the page among all; then the best n by bm25 among
    # them (the latest first), or, for a word too common to rank (RANK_LIMIT),
    # the newest n along the date index; their entries; a snippet and title
    # highlight for each.
    q, text, n_tags = _expression(conn, _fts_phrase(word))
    n = int(n)
    last = conn.execute("SELECT max(id) FROM entry").fetchone()[0] or 0
    edge = last - WINDOW if last > WINDOW else 0  # the latest: ids above it

    def newest(low):
        return [r[0] for r in conn.execute(
            "SELECT rowid FROM entry_fts WHERE entry_fts MATCH ? AND rowid > ? "
            "ORDER BY rowid DESC LIMIT ?", (q, low, CAP + 1))]
    found = newest(edge)
    older = edge and len(found) < min(n, CAP + 1)
    if older:
        found = newest(0)
    at_least, total, found = len(found) > CAP, min(len(found), CAP), found[:CAP]
    sys.stderr.write("%s%d matches\n" % ("more than " if at_least else "", total))
    if not found:
        return []
    density = len(found) / max(1, last - found[-1] + 1) if at_least else 0.0
    if density * last > RANK_LIMIT:
        probe = ("EXISTS (SELECT 1 FROM entry_fts WHERE entry_fts.rowid = entry.id "
                 "AND entry_fts MATCH ?)" if density >= DENSE and n_tags <= PROBE_TAGS else
                 "id + 0 IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?)")
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM entry WHERE %s ORDER BY created_at DESC, id DESC LIMIT ?" % probe,
            (q, n))]
    else:
        window = " AND rowid >= %d" % (found[-1] if at_least else 1 if older else edge + 1)
        ids = [r[0] for r in conn.execute(
            "SELECT rowid, bm25(entry_fts, %s) AS score FROM entry_fts "
            "WHERE entry_fts MATCH ?%s ORDER BY rowid <= %d, score, rowid DESC LIMIT ?"
            % (WEIGHTS, window, edge), (q, n))]
    listed = ",".join(str(i) for i in ids)
    rows = {r[0]: r for r in conn.execute(
        "SELECT id, created_at, starred, title, %s, body FROM entry WHERE id IN (%s)"
        % (PATHS, listed))}
    snippets = {r[0]: r[1:] for r in conn.execute(
        "SELECT rowid, snippet(entry_fts, 1, '[', ']', '...', 24), "
        "highlight(entry_fts, 0, '[', ']') FROM entry_fts "
        "WHERE entry_fts MATCH ? AND rowid IN (%s)" % listed, (text,))}
    # found by a tag alone: the start of the text
    return [rows[i][:-1] + snippets.get(i, (" ".join(rows[i][-1].split()[:24]), rows[i][3]))
            for i in ids]


def _tag_id(conn, path):
    tag_id = None
    for name in path.split("/"):
        row = conn.execute("SELECT id FROM tag WHERE key = ? AND parent_id IS ?",
                           (name.casefold(), tag_id)).fetchone()
        if row is None:
            return None
        tag_id = row[0]
    return tag_id


def _tag(conn, path, n):
    # Entries tagged with the path or anything below it, newest first.
    # `id + 0`, as tags.filter_under: walk the date index, test each id.
    tag_id = _tag_id(conn, path)
    return conn.execute(
        "SELECT id, created_at, starred, title, " + PATHS + " FROM entry WHERE id + 0 IN ("
        "  SELECT et.entry_id FROM tag_path tp JOIN entry_tag et ON et.tag_id = tp.descendant_id"
        "  WHERE tp.ancestor_id = ?) "
        "ORDER BY created_at DESC, id DESC LIMIT ?", (tag_id, int(n))).fetchall()


def _add(conn, text):
    import datetime
    import uuid

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.execute("BEGIN IMMEDIATE")
    cur = conn.execute("INSERT INTO entry (uuid, created_at, updated_at, body) "
                       "VALUES (?, ?, ?, ?)", (str(uuid.uuid4()), now, now, text))
    conn.execute("COMMIT")
    return [(cur.lastrowid,)]


def _export(conn, out):
    import json

    out.write("[")
    cur = conn.execute("SELECT uuid, created_at, updated_at, title, body, starred, "
                       "%s FROM entry ORDER BY created_at, id" % PATHS)
    sep = "\n"
    for uuid, created, updated, title, body, starred, tags in cur:
        out.write(sep + json.dumps({
            "uuid": uuid, "created_at": created, "updated_at": updated, "title": title,
            "body": body, "starred": bool(starred), "tags": [t for t in tags.split("\n") if t],
        }, ensure_ascii=False))
        sep = ",\n"
    out.write("\n]\n")
    return []


QUERIES = {"list": _list, "search": _search, "tag": _tag, "add": _add}


def connect(path, passphrase):
    import sqlcipher3

    conn = sqlcipher3.connect(path, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute("PRAGMA key = '%s'" % passphrase.replace("'", "''"))
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the key derivation
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def main(argv):
    path, passfile, command, *args = argv
    out = sys.stdout
    if command == "version":
        out.write("floor 1\n")
        return 0
    with open(passfile, encoding="utf-8") as f:
        passphrase = f.readline().rstrip("\r\n")
    conn = connect(path, passphrase)
    if command == "export":
        _export(conn, out)
    else:
        for row in QUERIES[command](conn, *args):
            # one line per row, as diary prints when piped (tags joined by commas)
            out.write("\t".join(str(v).replace("\n", ",") for v in row) + "\n")
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
