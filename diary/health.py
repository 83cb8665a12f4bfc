"""The health of an open diary file: every check ``diary check`` runs, and
backups run on a copy before keeping it.

    from diary import health
    for finding in health.problems(diary):   # empty: healthy
        ...
"""

import sqlcipher3


_CLOSURE_FROM_PARENTS = """
    WITH RECURSIVE walk (ancestor_id, descendant_id, depth) AS (
        SELECT id, id, 0 FROM tag
        UNION ALL
        SELECT walk.ancestor_id, tag.id, walk.depth + 1
        FROM walk JOIN tag ON tag.parent_id = walk.descendant_id
        WHERE walk.depth < 10000)
    SELECT ancestor_id, descendant_id, depth FROM walk"""


_WRONG_PATHS = """
    WITH RECURSIVE walk(id, path) AS (
        SELECT id, name FROM tag WHERE parent_id IS NULL
        UNION ALL
        SELECT t.id, w.path || '/' || t.name FROM tag t JOIN walk w ON t.parent_id = w.id
        WHERE length(w.path) < 100000)
    SELECT count(*) FROM tag LEFT JOIN walk ON walk.id = tag.id
    WHERE walk.path IS NOT tag.path"""
_WRONG_ENTRY_TAGS = """
    SELECT count(*) FROM entry WHERE tags IS NOT coalesce((
        SELECT group_concat('t' || tag_id, ' ' ORDER BY tag_id)
        FROM entry_tag WHERE entry_id = entry.id), '')"""


# A stored date in the stored form and range (dates.readable), as SQL: rows
# failing it are checked one by one in Python, so that the scan of a big
# diary costs one pass of the table, not a million Python calls.
_READABLE = """(%(c)s GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'
    AND substr(%(c)s, 12, 2) < '24' AND date(substr(%(c)s, 1, 10)) = substr(%(c)s, 1, 10)
    AND %(c)s BETWEEN '%(low)s' AND '%(high)s')"""
UNREADABLE_SHOWN = 20  # findings named one by one; the rest are counted


def unreadable_dates(conn):
    """(entry id, column, raw text) of every stored date that does not read
    (dates.readable), in id order."""
    from . import dates

    bounds = {"low": dates.text(dates.EARLIEST), "high": dates.text(dates.LATEST)}
    readable = " AND ".join(_READABLE % dict(bounds, c=c) for c in ("created_at", "updated_at"))
    found = []
    for entry_id, created, updated in conn.execute(
            "SELECT id, created_at, updated_at FROM entry WHERE NOT (%s) ORDER BY id"
            % readable):
        for column, raw in (("created_at", created), ("updated_at", updated)):
            if not isinstance(raw, str) or not dates.readable(raw):
                found.append((entry_id, column, raw))
    return found


def date_findings(conn):
    """check's lines for unreadable dates: each names the entry and the fix."""
    from . import dates

    found = {}
    for entry_id, column, raw in unreadable_dates(conn):
        found.setdefault(entry_id, []).append("%s %s" % (column, dates.shown(raw)))
    ids = list(found)
    lines = ["date: entry %d has an unreadable %s; set it with `diary edit %d --date DATE`"
             % (entry_id, " and ".join(found[entry_id]), entry_id)
             for entry_id in ids[:UNREADABLE_SHOWN]]
    if len(ids) > UNREADABLE_SHOWN:
        lines.append("date: %d more entries with an unreadable date: %s"
                     % (len(ids) - UNREADABLE_SHOWN,
                        ", ".join(str(i) for i in ids[UNREADABLE_SHOWN:])))
    return lines


def trash_findings(conn):
    """check's lines for the trash (trash.py): rows whose deletion date does
    not read (purging goes by it, so such a row would stay for ever) or whose
    tag links are not the JSON restore reads, and rows sharing an id with an
    entry (restore then gives a new id). Only another tool writes these. An
    entry's own dates are kept as they were, readable or not: restored, the
    entry is named by the date check as any other."""
    from . import dates

    bounds = {"low": dates.text(dates.EARLIEST), "high": dates.text(dates.LATEST)}
    lines = []
    bad = [r[0] for r in conn.execute(
        "SELECT id FROM trash WHERE NOT (%s) OR NOT json_valid(tags) "
        "OR json_type(tags) IS NOT 'array' ORDER BY id"
        % (_READABLE % dict(bounds, c="deleted_at")))]
    if bad:
        lines.append("trash: %d deleted entries with an unreadable deletion date or tag "
                     "list (%s); `diary restore ID` brings one back (without the tags it "
                     "cannot read), `diary trash empty` removes them all"
                     % (len(bad), ", ".join(str(i) for i in bad[:10])
                        + (", ..." if len(bad) > 10 else "")))
    (shared,) = conn.execute("SELECT count(*) FROM trash JOIN entry USING (id)").fetchone()
    if shared:
        lines.append("trash: %d deleted entries share an id with an entry of the diary; "
                     "restoring one gives it a new id" % shared)
    return lines


def problems(diary, *, dates=True, progress=None):
    """Every check of the file's health; returns a list of findings (empty: healthy).

    SQLCipher's per-page HMAC check (first: it names the damaged pages),
    SQLite's integrity check, the FTS5 index against its content, the tag
    index against the tags, the tag paths and the entries' tag tokens against
    the tree and the links, the entries' grams against their text (grams.py),
    the closure table against the parent links, the
    stored subtree entry counts against a recount, and the entries per month
    (search's date bounds) against the entries, and every stored date
    (dates.readable: the entries it names are shown raw until fixed; not
    with ``dates=False``), and the trash's rows (trash_findings). Each check runs on its
    own: one that cannot read a damaged page becomes a finding, and the
    others still run. ``progress(done, total)`` is called as checks end.
    """
    conn = diary.db.connection()
    found = []

    def check(label, run):
        try:
            run()
        except sqlcipher3.Error as exc:
            busy = busy_error(exc)
            if busy is not None:
                raise busy from None  # a writer elsewhere is not damage
            found.append("%s: %s" % (label, exc))

    def pages():
        for row in conn.execute("PRAGMA cipher_integrity_check"):
            found.append("page HMAC: " + " ".join(str(v) for v in row))

    def integrity():
        for (line,) in conn.execute("PRAGMA integrity_check"):
            if line != "ok":
                found.append("integrity: " + line)

    def counts():
        wrong = conn.execute("""
            SELECT count(*) FROM tag WHERE subtree_entries <> (
                SELECT count(DISTINCT et.entry_id) FROM tag_path p
                JOIN entry_tag et ON et.tag_id = p.descendant_id WHERE p.ancestor_id = tag.id)
        """).fetchone()[0]
        if wrong:
            found.append("tag entry counts: wrong for %d tag(s)" % wrong)

    def months():
        # Counts exact, bounds holding every id (they may be wider).
        wrong = conn.execute("""
            WITH e AS (SELECT substr(created_at, 1, 7) AS month, count(*) AS n,
                              min(id) AS low, max(id) AS high FROM entry GROUP BY 1)
            SELECT (SELECT count(*) FROM e LEFT JOIN entry_month m USING (month)
                    WHERE m.month IS NULL OR e.n <> m.entries
                       OR e.low < m.low_id OR e.high > m.high_id)
                 + (SELECT count(*) FROM entry_month
                    WHERE entries <> 0 AND month NOT IN (SELECT month FROM e))""").fetchone()[0]
        if wrong:
            found.append("entries per month: wrong for %d month(s)" % wrong)

    def derived():
        # Two texts derived from the tag tree, which the indexes read.
        wrong = conn.execute(_WRONG_PATHS).fetchone()[0]
        if wrong:
            found.append("tag paths: wrong for %d tag(s)" % wrong)
        wrong = conn.execute(_WRONG_ENTRY_TAGS).fetchone()[0]
        if wrong:
            found.append("entry tag tokens: wrong for %d entries" % wrong)

    def grams_in_step():
        wrong = stale_grams(conn)
        if wrong:
            found.append("entry grams: out of step with the text of %d entries (id %s): a "
                         "search for words in Chinese, Japanese, Korean or Thai misses them "
                         "until each one is changed by any `diary edit ID`"
                         % (len(wrong), ", ".join(str(i) for i in wrong[:10])
                            + (", ..." if len(wrong) > 10 else "")))

    def closure():
        have = set(conn.execute("SELECT ancestor_id, descendant_id, depth FROM tag_path"))
        expected = set(conn.execute(_CLOSURE_FROM_PARENTS))
        if have != expected:
            found.append("tag closure table: %d rows wrong, %d missing"
                         % (len(have - expected), len(expected - have)))

    steps = []
    if not diary.read_only:
        # cipher_integrity_check reads the main file only: after a rekey whose
        # pages still sit in the -wal, stale main-file pages would fail the
        # new key's HMAC. Fold the -wal in first when we may write.
        steps.append(("write-ahead log", lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")))
    steps += [
        ("page HMAC", pages),
        ("integrity", integrity),
        ("search index", lambda: conn.execute(
            "INSERT INTO entry_fts (entry_fts, rank) VALUES ('integrity-check', 1)")),
        ("tag index", lambda: conn.execute(
            "INSERT INTO tag_fts (tag_fts, rank) VALUES ('integrity-check', 1)")),
        ("tag paths", derived),
        ("entry grams", grams_in_step),
        ("tag closure table", closure),
        ("tag entry counts", counts),
        ("entries per month", months),
        ("trash", lambda: found.extend(trash_findings(conn))),
        ("drafts", lambda: found.extend(draft_findings(conn))),
    ]
    if dates:  # a backup's copy is faithful to such rows: no reason to refuse it
        steps.append(("dates", lambda: found.extend(date_findings(conn))))
    for done, (label, run) in enumerate(steps, 1):
        check(label, run)
        if progress:
            progress(done, len(steps))
    return found


def draft_findings(conn):
    """check's lines for rows of the editor's drafts (drafts.py) that the editor
    did not write (another tool did): the menu still offers them, as text."""
    from . import drafts

    return ["drafts: the draft %s was not written by diary's editor; start `diary` to "
            "restore or discard it" % key
            for key in drafts.malformed(conn)]


def stale_grams(conn):
    """Ids of the entries whose stored grams column is not grams.derive of
    their title and text (written by another tool, or by hand)."""
    from .grams import derive

    return [entry_id for entry_id, title, body, stored in conn.execute(
        "SELECT id, title, body, grams FROM entry ORDER BY id")
        if isinstance(title, str) and isinstance(body, str) and derive(title, body) != stored]


def busy_error(exc):
    """The Busy error of a driver error that means another process holds the
    diary (SQLITE_BUSY or SQLITE_LOCKED, by code), else None: a check that
    could not get the lock found nothing wrong with the file."""
    from . import store
    from .errors import Busy

    mapped = store.translate(exc)
    return mapped if isinstance(mapped, Busy) else None
