"""The floor: the least a program can do to answer each benchmarked command.

Usage::

    python bench/floor.py DB PASSFILE list N
    python bench/floor.py DB PASSFILE search WORD N
    python bench/floor.py DB PASSFILE tag PATH N
    python bench/floor.py DB PASSFILE add TEXT
    python bench/floor.py DB PASSFILE export
    python bench/floor.py DB PASSFILE import JOURNAL
    python bench/floor.py - - version

Only sqlcipher3 and the standard library: open the same diary file, derive the
key (SQLCipher's defaults, the same cost the diary pays), run the same SQL
the library runs (the search's capped ranking, tags.py's subtree query) and
print plain rows. Whatever diary spends above this is the price of
Python-level code: argument parsing, peewee, rendering, imports.

The SQL is also used in-process by warm.py, through ``connect`` and ``QUERIES``.
"""

import math
import os
import runpy
import sys

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


# The search's numbers, from the module that holds them (it imports nothing,
# so reading it by its path loads neither peewee nor the diary package).
_TUNING = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                      "diary", "search", "tuning.py"))
CAP = _TUNING["CAP"]  # beyond this many matches, rank the newest CAP only
DENSE = _TUNING["DENSE"]  # this share of entries matching makes probing cheap
RANK_LIMIT = _TUNING["RANK_LIMIT"]  # estimated matches beyond this: newest first, unranked
WEIGHTS = ", ".join(map(str, _TUNING["WEIGHTS"]))  # bm25 weights of title, body, tags (grams 1)
PROBE_TAGS = _TUNING["PROBE_TAGS"]  # with more tag tokens, never probe entry by entry
WINDOW = _TUNING["WINDOW"]  # a bigger diary is searched in its latest WINDOW first


def _expression(conn, phrase):
    """search.query.Query.expression for one word: in the title or text (or
    the grams column, where a word glued to a run of Han, Kana, Hangul or Thai
    is a token), or tagged with a tag whose path holds it (tokens grouped as
    _any_token does). tests/test_search_plans.py checks it is the product's."""
    tokens = ["t%d" % r[0] for r in conn.execute(
        "SELECT rowid FROM tag_fts WHERE tag_fts MATCH ? AND EXISTS ("
        "SELECT 1 FROM entry_tag WHERE tag_id = tag_fts.rowid) ORDER BY rowid", (phrase,))]
    text = "{title body grams} : " + phrase
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
    # The queries search/large.py makes for one word: the newest CAP + 1 matches (the
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
    """The bytes `diary export` writes (JSON, dates in local time, tags in key
    order), as directly as the standard library allows."""
    import datetime
    import json

    encode = json.JSONEncoder(ensure_ascii=False).encode
    cur = conn.execute("SELECT uuid, created_at, updated_at, title, body, starred, "
                       "%s FROM entry ORDER BY created_at, id" % PATHS)
    sep = "[\n"
    iso = datetime.datetime.fromisoformat
    for uuid, created, updated, title, body, starred, tags in cur:
        c = iso(created).astimezone().isoformat()
        u = c if updated == created else iso(updated).astimezone().isoformat()
        out.write(sep + encode({
            "uuid": uuid, "created_at": c, "updated_at": u, "title": title,
            "body": body, "starred": bool(starred),
            "tags": sorted(tags.split("\n"), key=str.casefold) if tags else [],
        }))
        sep = ",\n"
    out.write("[]\n" if sep == "[\n" else "\n]\n")
    return []


def _import(conn, journal):
    """A jrnl plain-text journal into a diary made by `diary init`, as cheaply
    as sqlcipher3 allows, yet the same rows the diary writes: each entry with
    a uuid, its UTC date, title (first line), text, star, its @tags linked
    (tags created with their ancestors) and the tag tokens in its row; the
    search index, the entries-per-month table and the tags' entry counts
    each built in one set-based pass at the end, as store.index_deferred
    does, all in one transaction. The schema's other triggers (the tag
    closure, tag labels) run as they do for the diary."""
    import hashlib
    import re
    import time

    head = re.compile(r"\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)\] ?(.*)")
    tag_word = re.compile(r"(?<!\S)[@#]([-+*#/\w]+)")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("PRAGMA cache_size = -32768")
    (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM entry").fetchone()
    # The per-row triggers store.index_deferred suspends, kept to be put back
    # word for word (the schema's own) before the commit.
    deferred = ("entry_fts_insert", "entry_month_insert", "tag_count_link")
    triggers = [conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                             "AND name = ?", (name,)).fetchone()[0] for name in deferred]
    for name in deferred:
        conn.execute("DROP TRIGGER " + name)
    tags = {}

    def tag(path):
        found = tags.get(path)
        if found is None:
            parent = None
            for depth in range(path.count("/") + 1):
                prefix = "/".join(path.split("/")[:depth + 1])
                found = tags.get(prefix)
                if found is None:
                    name = prefix.rsplit("/", 1)[-1]
                    found = tags[prefix] = conn.execute(
                        "INSERT INTO tag (name, key, parent_id) VALUES (?, ?, ?)",
                        (name, name.casefold(), parent)).lastrowid
                parent = found
        return found

    insert = ("INSERT INTO entry (uuid, created_at, updated_at, title, body, starred, "
              "tags) VALUES (?, ?, ?, ?, ?, ?, ?)")

    def add(date, lines):
        title = lines[0].strip()
        starred = title.endswith("*")
        if starred:
            title = title.rstrip(" *")
        body = "".join(lines[1:]).strip()
        created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",  # local time, as jrnl's
                                time.gmtime(time.mktime(date + (0, 0, -1))))
        ids = sorted({tag(t.lower().strip("/")) for t in tag_word.findall(body)})
        uuid = hashlib.sha1((created + title + body).encode()).hexdigest()
        entry = conn.execute(insert, (uuid, created, created, title, body, int(starred),
                                      " ".join("t%d" % i for i in ids))).lastrowid
        if ids:
            conn.executemany("INSERT INTO entry_tag (entry_id, tag_id, source) "
                             "VALUES (?, ?, 2)", [(entry, i) for i in ids])

    date, lines, n = None, None, 0
    with open(journal, encoding="utf-8") as f:
        for line in f:
            m = head.match(line) if line.startswith("[") else None
            if m:
                if date:
                    add(date, lines)
                    n += 1
                date = tuple(int(x) for x in m.groups()[:5]) + (0,)
                lines = [m.group(6) + "\n"]
            else:
                lines.append(line)
    if date:
        add(date, lines)
        n += 1
    # store.index_deferred's set-based passes: months, tag counts, then the
    # search index with the larger FTS5 hash it uses
    conn.execute("""
        INSERT INTO entry_month (month, entries, low_id, high_id)
        SELECT substr(created_at, 1, 7), count(*), min(id), max(id) FROM entry
        WHERE id > ? GROUP BY 1
        ON CONFLICT (month) DO UPDATE SET entries = entries + excluded.entries,
            low_id = min(low_id, excluded.low_id), high_id = max(high_id, excluded.high_id)
        """, (last,))
    conn.execute("""
        UPDATE tag SET subtree_entries = subtree_entries + (
            SELECT count(DISTINCT et.entry_id) FROM tag_path p
            JOIN entry_tag et ON et.tag_id = p.descendant_id
            WHERE p.ancestor_id = tag.id AND et.entry_id > ?1)
        WHERE id IN (SELECT p.ancestor_id FROM tag_path p WHERE p.descendant_id IN (
            SELECT tag_id FROM entry_tag WHERE entry_id > ?1))
        """, (last,))
    conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', 33554432)")
    conn.execute("INSERT INTO entry_fts (rowid, title, body, tags, grams) "
                 "SELECT id, title, body, tags, grams FROM entry WHERE id > ?", (last,))
    conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', 1048576)")
    for sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    return [(n,)]


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
    elif command == "import":
        _import(conn, *args)
    else:
        for row in QUERIES[command](conn, *args):
            # one line per row, as diary prints when piped (tags joined by commas)
            out.write("\t".join(str(v).replace("\n", ",") for v in row) + "\n")
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
