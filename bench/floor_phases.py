"""Where the floor's import spends its time: bench/floor.py's jrnl load in phases (CPU and wall).

    python bench/floor_phases.py JOURNAL [VARIANT,...]

Parses JOURNAL (as floor.py does), then inserts the rows, the tag links,
builds the months and tag counts and the search index, and commits, timing
each phase, into a fresh diary in a temporary directory. Variants, to see
what a choice costs (on a throwaway file; some change its format):

- settrig: the month and tag-count triggers suspended, set-based at the end
  (what store.index_deferred and floor.py now do); without it, per row
- noidx: without the date and star indexes
- noprefix, noprefix3: the search index without prefix indexes, or with '2' only
- nofts: no search index
- cache16, cache128: a 16 or 128 MB page cache (default 32, as floor.py)

Made to find where the time goes, not to compare runs: one run, no rounds.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import floor  # noqa: E402

variant = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else set()
journal = sys.argv[1]
db = os.path.join(tempfile.mkdtemp(prefix="floor-phases-"), "phases.db")
env = dict(os.environ, DIARY_PASSPHRASE="p", PYTHONPATH=os.path.dirname(HERE))
subprocess.run([sys.executable, "-m", "diary", "--diary", db, "init"], env=env, check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=os.path.dirname(HERE))
conn = floor.connect(db, "p")
T = {}
t0 = time.process_time(); w0 = time.perf_counter()
def mark(name):
    global t0, w0
    t, w = time.process_time(), time.perf_counter()
    T[name] = (w - w0, t - t0); t0, w0 = t, w
head = re.compile(r"\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)\] ?(.*)")
tag_word = re.compile(r"(?<!\S)[@#]([-+*#/\w]+)")
conn.execute("BEGIN IMMEDIATE")
cache = 16384 if "cache16" in variant else 131072 if "cache128" in variant else 32768
conn.execute("PRAGMA cache_size = -%d" % cache)
conn.execute("DROP TRIGGER entry_fts_insert")
if "settrig" in variant:
    conn.execute("DROP TRIGGER entry_month_insert")
    conn.execute("DROP TRIGGER tag_count_link")
if "noidx" in variant:
    conn.execute("DROP INDEX entry_created_at"); conn.execute("DROP INDEX entry_starred")
if "noprefix" in variant or "noprefix3" in variant:
    conn.execute("DROP TABLE entry_fts")
    conn.execute("CREATE VIRTUAL TABLE entry_fts USING fts5 (title, body, tags, grams, content='entry', content_rowid='id', tokenize='unicode61 remove_diacritics 2'%s)" % (", prefix='2'" if "noprefix3" in variant else ""))
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
recs = []
date, lines = None, None
with open(journal, encoding="utf-8") as f:
    for line in f:
        m = head.match(line) if line.startswith("[") else None
        if m:
            if date: recs.append((date, lines))
            date = tuple(int(x) for x in m.groups()[:5]) + (0,)
            lines = [m.group(6) + "\n"]
        else:
            lines.append(line)
recs.append((date, lines))
rows = []
for date, lines in recs:
    title = lines[0].strip(); starred = title.endswith("*")
    if starred: title = title.rstrip(" *")
    body = "".join(lines[1:]).strip()
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.mktime(date + (0, 0, -1))))
    ids = sorted({tag(t.lower().strip("/")) for t in tag_word.findall(body)})
    uuid = hashlib.sha1((created + title + body).encode()).hexdigest()
    rows.append((uuid, created, title, body, int(starred), " ".join("t%d" % i for i in ids), ids))
mark("parse (python)")  # and the tags, created as met
ins = "INSERT INTO entry (uuid, created_at, updated_at, title, body, starred, tags) VALUES (?, ?, ?, ?, ?, ?, ?)"
links = []
for uuid, created, title, body, st, tg, ids in rows:
    e = conn.execute(ins, (uuid, created, created, title, body, st, tg)).lastrowid
    for i in ids: links.append((e, i))
mark("entry rows")
conn.executemany("INSERT INTO entry_tag (entry_id, tag_id, source) VALUES (?, ?, 2)", links)
mark("entry_tag rows (%d)" % len(links))
if "settrig" in variant:
    conn.execute("""INSERT INTO entry_month (month, entries, low_id, high_id)
        SELECT substr(created_at, 1, 7), count(*), min(id), max(id) FROM entry WHERE id > 0 GROUP BY 1
        ON CONFLICT (month) DO UPDATE SET entries = entries + excluded.entries,
        low_id = min(low_id, excluded.low_id), high_id = max(high_id, excluded.high_id)""")
    conn.execute("""UPDATE tag SET subtree_entries = subtree_entries + (
        SELECT count(DISTINCT et.entry_id) FROM tag_path p
        JOIN entry_tag et ON et.tag_id = p.descendant_id
        WHERE p.ancestor_id = tag.id AND et.entry_id > 0)
        WHERE id IN (SELECT p.ancestor_id FROM tag_path p WHERE p.descendant_id IN (
        SELECT tag_id FROM entry_tag WHERE entry_id > 0))""")
    mark("set-based month+counts")
if "nofts" not in variant:
    conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', 33554432)")
    conn.execute("INSERT INTO entry_fts (rowid, title, body, tags, grams) SELECT id, title, body, tags, grams FROM entry")
    conn.execute("INSERT INTO entry_fts (entry_fts, rank) VALUES ('hashsize', 1048576)")
    mark("fts build")
conn.execute("COMMIT")
mark("commit")
import resource
tw = sum(v[0] for v in T.values()); tc = sum(v[1] for v in T.values())
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(db + suffix):
        os.remove(db + suffix)
os.rmdir(os.path.dirname(db))
print("variant", sorted(variant), "total wall %.2f cpu %.2f  maxrss %.0f MB  load %.2f" % (tw, tc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, os.getloadavg()[0]))
for k, (w, c) in T.items(): print("  %-28s %6.2f %6.2f" % (k, w, c))
