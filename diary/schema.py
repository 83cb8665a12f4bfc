"""The diary's schema, as plain SQL migrations.

MIGRATIONS[i] takes a file from ``PRAGMA user_version`` i to i + 1; store.py
runs them in one transaction, and a new diary runs them all, so creating and
upgrading share one path. A released migration is never edited: a change is
a new migration appended to the list. The peewee models in store.py mirror
these tables for queries; triggers and the FTS5 index are beyond peewee's
create_table, which is why the schema is SQL.
"""

_ENTRY_BY_DATE = "CREATE INDEX entry_created_at ON entry (created_at)"
_ENTRY_STARRED = "CREATE INDEX entry_starred ON entry (starred, created_at)"

# Each migration is a list of statements: sqlite3's executescript would COMMIT
# behind our back.

# Shared by migrations 2 and 3 (3 drops it for a bulk rewrite, then restores it).
_ENTRY_FTS_UPDATE = """CREATE TRIGGER entry_fts_update AFTER UPDATE OF title, body, tags ON entry BEGIN
            INSERT INTO entry_fts (entry_fts, rowid, title, body, tags)
            VALUES ('delete', OLD.id, OLD.title, OLD.body, OLD.tags);
            INSERT INTO entry_fts (rowid, title, body, tags)
            VALUES (NEW.id, NEW.title, NEW.body, NEW.tags);
        END"""

# An entry joins or leaves its month's row (MIGRATIONS[3]).
_MONTH_ADD = """INSERT INTO entry_month (month, entries, low_id, high_id)
            VALUES (substr(NEW.created_at, 1, 7), 1, NEW.id, NEW.id)
            ON CONFLICT (month) DO UPDATE SET entries = entries + 1,
                low_id = min(low_id, excluded.low_id), high_id = max(high_id, excluded.high_id)"""
_MONTH_REMOVE = """UPDATE entry_month SET entries = entries - 1
            WHERE month = substr(OLD.created_at, 1, 7)"""

_ENTRY_FTS_INSERT = """CREATE TRIGGER entry_fts_insert AFTER INSERT ON entry BEGIN
            INSERT INTO entry_fts (rowid, title, body, tags)
            VALUES (NEW.id, NEW.title, NEW.body, NEW.tags);
        END"""
_ENTRY_FTS_DELETE = """CREATE TRIGGER entry_fts_delete AFTER DELETE ON entry BEGIN
            INSERT INTO entry_fts (entry_fts, rowid, title, body, tags)
            VALUES ('delete', OLD.id, OLD.title, OLD.body, OLD.tags);
        END"""
_MONTH_TRIGGERS = (
    """CREATE TRIGGER entry_month_insert AFTER INSERT ON entry BEGIN
            %s;
        END""" % _MONTH_ADD,
    """CREATE TRIGGER entry_month_delete AFTER DELETE ON entry BEGIN
            %s;
        END""" % _MONTH_REMOVE,
    """CREATE TRIGGER entry_month_move AFTER UPDATE OF created_at ON entry
            WHEN substr(OLD.created_at, 1, 7) IS NOT substr(NEW.created_at, 1, 7)
        BEGIN
            %s;
            %s;
        END""" % (_MONTH_REMOVE, _MONTH_ADD),
)
# The entry table's columns after its id (MIGRATIONS[0]; MIGRATIONS[5] rebuilds it).
_ENTRY_COLUMNS = """
            uuid TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            starred INTEGER NOT NULL DEFAULT 0 CHECK (starred IN (0, 1)),
            version INTEGER NOT NULL DEFAULT 1,
            tags TEXT NOT NULL DEFAULT '')"""

MIGRATIONS = [
    # 1: entries, tags, the closure table
    [
        """CREATE TABLE entry (
            id INTEGER PRIMARY KEY,""" + _ENTRY_COLUMNS,
        _ENTRY_BY_DATE,
        """CREATE TABLE tag (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            parent_id INTEGER REFERENCES tag (id),
            -- distinct entries linked to this tag or any tag below it, kept by
            -- the triggers below: counting them on demand costs ~200 ms at
            -- 100,000 entries, reading them costs nothing
            subtree_entries INTEGER NOT NULL DEFAULT 0)""",
        "CREATE UNIQUE INDEX tag_sibling_key ON tag (coalesce(parent_id, 0), key)",
        "CREATE INDEX tag_parent ON tag (parent_id)",
        """CREATE TABLE tag_path (
            ancestor_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
            descendant_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
            depth INTEGER NOT NULL,
            PRIMARY KEY (ancestor_id, descendant_id)) WITHOUT ROWID""",
        "CREATE INDEX tag_path_descendant ON tag_path (descendant_id, depth)",
        """CREATE TABLE entry_tag (
            entry_id INTEGER NOT NULL REFERENCES entry (id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
            -- why the link exists, a bit set: 1 = explicit (--tag), 2 = #inline
            -- in the text; editing the text drops only links that were just 2
            source INTEGER NOT NULL DEFAULT 1 CHECK (source BETWEEN 1 AND 3),
            PRIMARY KEY (entry_id, tag_id)) WITHOUT ROWID""",
        "CREATE INDEX entry_tag_tag ON entry_tag (tag_id, entry_id)",
        # The closure table follows the parent links by trigger, whatever code
        # changes them: a new tag hangs below its parent's ancestors ...
        """CREATE TRIGGER tag_path_insert AFTER INSERT ON tag BEGIN
            INSERT INTO tag_path (ancestor_id, descendant_id, depth)
                SELECT ancestor_id, NEW.id, depth + 1 FROM tag_path
                WHERE descendant_id = NEW.parent_id
                UNION ALL SELECT NEW.id, NEW.id, 0;
        END""",
        # ... a move may not create a cycle ...
        """CREATE TRIGGER tag_path_no_cycle BEFORE UPDATE OF parent_id ON tag
            WHEN NEW.parent_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM tag_path
                WHERE ancestor_id = NEW.id AND descendant_id = NEW.parent_id)
        BEGIN
            SELECT RAISE(ABORT, 'a tag cannot move under itself');
        END""",
        # ... and a moved subtree leaves its old ancestors for the new ones.
        """CREATE TRIGGER tag_path_move AFTER UPDATE OF parent_id ON tag
            WHEN OLD.parent_id IS NOT NEW.parent_id
        BEGIN
            DELETE FROM tag_path
            WHERE descendant_id IN (SELECT descendant_id FROM tag_path WHERE ancestor_id = NEW.id)
              AND ancestor_id NOT IN (SELECT descendant_id FROM tag_path WHERE ancestor_id = NEW.id);
            INSERT INTO tag_path (ancestor_id, descendant_id, depth)
                SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1
                FROM tag_path a, tag_path d
                WHERE a.descendant_id = NEW.parent_id AND d.ancestor_id = NEW.id;
            -- Old and new ancestors recount their entries (the subtree's own
            -- counts do not change).
            UPDATE tag SET subtree_entries = (
                SELECT count(DISTINCT et.entry_id) FROM tag_path p
                JOIN entry_tag et ON et.tag_id = p.descendant_id WHERE p.ancestor_id = tag.id)
            WHERE id IN (SELECT ancestor_id FROM tag_path
                         WHERE descendant_id IN (OLD.parent_id, NEW.parent_id));
        END""",
        # Subtree counts: an entry counts for a tag's ancestors when its first
        # link below each of them appears ...
        """CREATE TRIGGER tag_count_link AFTER INSERT ON entry_tag BEGIN
            UPDATE tag SET subtree_entries = subtree_entries + 1
            WHERE id IN (SELECT ancestor_id FROM tag_path WHERE descendant_id = NEW.tag_id)
              AND NOT EXISTS (
                SELECT 1 FROM entry_tag o JOIN tag_path q ON q.descendant_id = o.tag_id
                WHERE o.entry_id = NEW.entry_id AND o.tag_id <> NEW.tag_id
                  AND q.ancestor_id = tag.id);
        END""",
        # ... and stops when its last one goes (deleting an entry cascades here).
        """CREATE TRIGGER tag_count_unlink AFTER DELETE ON entry_tag BEGIN
            UPDATE tag SET subtree_entries = subtree_entries - 1
            WHERE id IN (SELECT ancestor_id FROM tag_path WHERE descendant_id = OLD.tag_id)
              AND NOT EXISTS (
                SELECT 1 FROM entry_tag o JOIN tag_path q ON q.descendant_id = o.tag_id
                WHERE o.entry_id = OLD.entry_id AND q.ancestor_id = tag.id);
        END""",
        # A deleted tag drops its links first, while its ancestors are still in
        # tag_path (the cascades would run in no promised order).
        """CREATE TRIGGER tag_unlink_on_delete BEFORE DELETE ON tag BEGIN
            DELETE FROM entry_tag WHERE tag_id = OLD.id;
        END""",
    ],
    # 2: the full-text index. External content: the text lives once, in entry;
    # triggers keep the index in step with every insert, update and delete.
    [
        """CREATE VIRTUAL TABLE entry_fts USING fts5 (
            title, body, tags,
            content='entry', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2',
            prefix='2 3')""",
        _ENTRY_FTS_INSERT,
        _ENTRY_FTS_DELETE,
        _ENTRY_FTS_UPDATE,
        "INSERT INTO entry_fts (entry_fts) VALUES ('rebuild')",
        # Merge index segments when two (not four) pile up at a level: every
        # search reads each segment, a diary writes rarely (10 segments made
        # searches ~30% slower than 1 on 100,000 entries; bench_search.py).
        "INSERT INTO entry_fts (entry_fts, rank) VALUES ('automerge', 2)",
        # is:starred in a search (and list --starred) without reading every row.
        _ENTRY_STARRED,
    ],
    # 3: tag words are found through the tag tree at search time. Until now
    # entry.tags held each entry's tag paths, so moving or renaming a tag
    # re-indexed every entry below it (1.4 s for a subtree over 13,000
    # entries). Now a tag's path is kept once, in tag.path, with its own small
    # index tag_fts; entry.tags holds only tokens naming the linked tags
    # ("t12 t40"), which no move or rename changes. The search turns a word
    # into "in the title or text, or linked to a tag whose path has it".
    [
        "ALTER TABLE tag ADD COLUMN path TEXT NOT NULL DEFAULT ''",
        """WITH RECURSIVE walk(id, path) AS (
            SELECT id, name FROM tag WHERE parent_id IS NULL
            UNION ALL
            SELECT t.id, w.path || '/' || t.name FROM tag t JOIN walk w ON t.parent_id = w.id)
        UPDATE tag SET path = walk.path FROM walk WHERE tag.id = walk.id""",
        """CREATE VIRTUAL TABLE tag_fts USING fts5 (
            path,
            content='tag', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2',
            prefix='2 3')""",
        "INSERT INTO tag_fts (tag_fts) VALUES ('rebuild')",
        # A new tag's path is its parent's plus its name (the parent's is
        # final: ancestors are created first). One trigger does both steps in
        # order; two would run in an order SQLite does not promise.
        """CREATE TRIGGER tag_label AFTER INSERT ON tag BEGIN
            UPDATE tag SET path = coalesce(
                (SELECT p.path || '/' FROM tag p WHERE p.id = NEW.parent_id), '') || NEW.name
            WHERE id = NEW.id;
            INSERT INTO tag_fts (rowid, path) SELECT id, path FROM tag WHERE id = NEW.id;
        END""",
        # A rename or move rewrites the paths of the tag's subtree: the new
        # prefix, then each path's part below the tag. The subtree's own
        # closure rows (ancestor = the tag) are the same before and after a
        # move, so this does not depend on tag_path_move having run.
        """CREATE TRIGGER tag_relabel AFTER UPDATE OF name, parent_id ON tag
            WHEN OLD.name IS NOT NEW.name OR OLD.parent_id IS NOT NEW.parent_id
        BEGIN
            INSERT INTO tag_fts (tag_fts, rowid, path)
                SELECT 'delete', id, path FROM tag
                WHERE id IN (SELECT descendant_id FROM tag_path WHERE ancestor_id = NEW.id);
            UPDATE tag SET path = coalesce(
                (SELECT p.path || '/' FROM tag p WHERE p.id = NEW.parent_id), '')
                || NEW.name || substr(path, length(OLD.path) + 1)
            WHERE id IN (SELECT descendant_id FROM tag_path WHERE ancestor_id = NEW.id);
            INSERT INTO tag_fts (rowid, path)
                SELECT id, path FROM tag
                WHERE id IN (SELECT descendant_id FROM tag_path WHERE ancestor_id = NEW.id);
        END""",
        """CREATE TRIGGER tag_unlabel AFTER DELETE ON tag BEGIN
            INSERT INTO tag_fts (tag_fts, rowid, path) VALUES ('delete', OLD.id, OLD.path);
        END""",
        # Every entry's tags text becomes tokens, then the index is rebuilt
        # once (through the trigger it would be re-indexed row by row).
        "DROP TRIGGER entry_fts_update",
        """UPDATE entry SET tags = coalesce((
            SELECT group_concat('t' || tag_id, ' ' ORDER BY tag_id)
            FROM entry_tag WHERE entry_id = entry.id), '')""",
        _ENTRY_FTS_UPDATE,
        "INSERT INTO entry_fts (entry_fts) VALUES ('rebuild')",
    ],
    # 4: how many entries each month of dates holds, and bounds of their ids.
    # A search of a big diary by dates splits them at their newest ~WINDOW
    # entries and bounds the ids FTS5 reads (search/large.py, _tiers): from these few
    # rows, where walking the date index took ~10 ms per 100,000 entries.
    # The month is created_at's first 7 characters (UTC), so it orders as
    # created_at does. The ids are bounds, not the exact lowest and highest:
    # they widen as entries come and never shrink (an entry that leaves keeps
    # within them), which is all a bound needs. The counts are exact.
    [
        """CREATE TABLE entry_month (
            month TEXT PRIMARY KEY,
            entries INTEGER NOT NULL,
            low_id INTEGER NOT NULL,
            high_id INTEGER NOT NULL) WITHOUT ROWID""",
        """INSERT INTO entry_month (month, entries, low_id, high_id)
            SELECT substr(created_at, 1, 7), count(*), min(id), max(id) FROM entry GROUP BY 1""",
        *_MONTH_TRIGGERS,
    ],
]


def _short_year(column):
    """SQL: ``column`` starts with a year of 1 to 3 digits, then -MM-DD:
    what strftime('%Y') stored for the years before 1000."""
    return ("(instr({c}, '-') BETWEEN 2 AND 4 AND substr({c}, 1, instr({c}, '-') - 1) "
            "NOT GLOB '*[^0-9]*' AND substr({c}, instr({c}, '-')) GLOB '-[0-9][0-9]-*')"
            ).format(c=column)


def _padded(column):
    """SQL: ``column`` with its short year padded to four digits."""
    return "substr('000', 1, 5 - instr({c}, '-')) || {c}".format(c=column)


MIGRATIONS.append(
    # 5: dates stored with a year below 1000 were written by strftime('%Y'),
    # which glibc does not zero-pad: "999-05-01T10:00:00.000000Z". Such a
    # date was meant clearly; it is padded ("0999-05-01T..."), which sorts
    # and reads. It stays out of the range dates.py keeps (years 1000 to
    # 9998), so it reads as unreadable and `diary check` names each such
    # entry with `diary edit ID --date DATE`. The created_at update moves the
    # entries to their padded month in entry_month by its trigger; the short
    # months ("999-05-") then hand their id bounds, which must never shrink,
    # to the padded month and go.
    [
        "UPDATE entry SET updated_at = %s WHERE %s" % (_padded("updated_at"),
                                                        _short_year("updated_at")),
        "UPDATE entry SET created_at = %s WHERE %s" % (_padded("created_at"),
                                                        _short_year("created_at")),
        """INSERT INTO entry_month (month, entries, low_id, high_id)
            SELECT substr(%s, 1, 7), 0, low_id, high_id FROM entry_month
            WHERE %s AND entries = 0
            ON CONFLICT (month) DO UPDATE SET low_id = min(low_id, excluded.low_id),
                high_id = max(high_id, excluded.high_id)"""
        % (_padded("month"), _short_year("month || '0'")),
        "DELETE FROM entry_month WHERE %s AND entries = 0" % _short_year("month || '0'"),
    ])

MIGRATIONS.append(
    # 6: an id is never given twice. Without AUTOINCREMENT SQLite gives a new
    # row max(id) + 1, so deleting the newest entry handed its id to the next
    # one, and a script holding the old id reached another entry. SQLite adds
    # AUTOINCREMENT only to a new table: the entry table is rebuilt (ids kept,
    # so the FTS index and the links stay valid), with its indexes and
    # triggers, in the one transaction of the upgrade; store._migrate turns
    # foreign keys off meanwhile (dropping the old table must not cascade to
    # entry_tag) and checks them before committing. The sequence starts at
    # the highest id the diary ever gave: entry_month's id bounds never
    # shrink, so they know ids deleted since. Costs one copy of the table,
    # once per diary.
    [
        "CREATE TABLE entry_new (\n            id INTEGER PRIMARY KEY AUTOINCREMENT,"
        + _ENTRY_COLUMNS,
        """INSERT INTO entry_new (id, uuid, created_at, updated_at, title, body, starred,
                                  version, tags)
            SELECT id, uuid, created_at, updated_at, title, body, starred, version, tags
            FROM entry ORDER BY id""",
        "DROP TABLE entry",
        "ALTER TABLE entry_new RENAME TO entry",
        _ENTRY_BY_DATE,
        _ENTRY_STARRED,
        _ENTRY_FTS_INSERT,
        _ENTRY_FTS_DELETE,
        _ENTRY_FTS_UPDATE,
        *_MONTH_TRIGGERS,
        """INSERT INTO sqlite_sequence (name, seq) SELECT 'entry', 0
            WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'entry')""",
        """UPDATE sqlite_sequence SET seq = max(seq,
                coalesce((SELECT max(high_id) FROM entry_month), 0),
                coalesce((SELECT max(id) FROM entry), 0))
            WHERE name = 'entry'""",
    ])

MIGRATIONS.append(
    # 7: the trash. A deleted entry leaves the entry table (so search, lists,
    # tags, the FTS index and every count know nothing of it) and is kept
    # whole here until restored or purged (trash.py): the id it had, its
    # uuid, dates, text, star and version, its tag links as JSON
    # [[path, source], ...] (the tags may be gone by the time it comes back),
    # and when it was deleted. One row per uuid: deleting an entry again
    # (brought back by a merge, say) replaces its older copy. Purging goes by
    # deleted_at, hence its index.
    [
        """CREATE TABLE trash (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            starred INTEGER NOT NULL DEFAULT 0 CHECK (starred IN (0, 1)),
            version INTEGER NOT NULL DEFAULT 1,
            tags TEXT NOT NULL DEFAULT '[]',
            deleted_at TEXT NOT NULL)""",
        "CREATE INDEX trash_deleted_at ON trash (deleted_at)",
    ])

MIGRATIONS.append(
    # 8: drafts: what the menu's built-in editor holds, kept inside the encrypted
    # diary (drafts.py) so that a crash, a SIGKILL or a power cut loses at
    # most the last seconds of typing. One row per open editor, keyed by a
    # random id; entry_id and entry_version name the entry being edited (NULL
    # for a new one) and the version it was read at, for optimistic locking
    # when the draft is restored and saved. No foreign key: a draft whose
    # entry was deleted meanwhile is restored as a new entry. ``owner`` names
    # the process keeping the draft (host, boot, pid, start time): a draft
    # whose owner is alive belongs to another session and is not offered.
    [
        """CREATE TABLE draft (
            id TEXT PRIMARY KEY,
            entry_id INTEGER,
            entry_version INTEGER,
            title TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '',
            date TEXT NOT NULL DEFAULT '',
            owner TEXT NOT NULL DEFAULT '',
            saved_at TEXT NOT NULL) WITHOUT ROWID""",
    ])

MIGRATIONS.append(
    # 9: a small key-value table for
    # what the diary remembers about itself, inside the encryption (memo.py):
    # which editors' "may keep files elsewhere" warning was already shown.
    # Self-contained: it reads and changes nothing else.
    [
        """CREATE TABLE IF NOT EXISTS memo (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL) WITHOUT ROWID""",
    ])


def _fill_grams(conn):
    """MIGRATIONS[9]'s backfill: each entry's grams (grams.derive), written
    in Python as every write path does, for the entries that have any."""
    from .grams import derive

    rows = conn.execute("SELECT id, title, body FROM entry")
    changed = []
    for entry_id, title, body in rows:
        grams = derive(title, body)
        if grams:
            changed.append((grams, entry_id))
    conn.executemany("UPDATE entry SET grams = ? WHERE id = ?", changed)


# The search index's columns since MIGRATIONS[9]: title, body, tags, grams.
_FTS_COLUMNS = "title, body, tags, grams"
_ENTRY_FTS4_INSERT = """CREATE TRIGGER entry_fts_insert AFTER INSERT ON entry BEGIN
            INSERT INTO entry_fts (rowid, title, body, tags, grams)
            VALUES (NEW.id, NEW.title, NEW.body, NEW.tags, NEW.grams);
        END"""
_ENTRY_FTS4_DELETE = """CREATE TRIGGER entry_fts_delete AFTER DELETE ON entry BEGIN
            INSERT INTO entry_fts (entry_fts, rowid, title, body, tags, grams)
            VALUES ('delete', OLD.id, OLD.title, OLD.body, OLD.tags, OLD.grams);
        END"""
_ENTRY_FTS4_UPDATE = """CREATE TRIGGER entry_fts_update AFTER UPDATE OF title, body, tags, grams
        ON entry BEGIN
            INSERT INTO entry_fts (entry_fts, rowid, title, body, tags, grams)
            VALUES ('delete', OLD.id, OLD.title, OLD.body, OLD.tags, OLD.grams);
            INSERT INTO entry_fts (rowid, title, body, tags, grams)
            VALUES (NEW.id, NEW.title, NEW.body, NEW.tags, NEW.grams);
        END"""

MIGRATIONS.append(
    # 10: words of Chinese, Japanese, Korean and Thai findable (grams.py): the
    # entry row stores its runs of those scripts as bigrams (entry.grams,
    # written by Python at every write, never by a function in a trigger:
    # another SQLCipher tool writing an entry would fail), and the index
    # gains the column. FTS5 cannot add a column to a table: the index is
    # built anew, once per diary. A step that is a function is run with
    # the connection (store._migrate).
    [
        "ALTER TABLE entry ADD COLUMN grams TEXT NOT NULL DEFAULT ''",
        _fill_grams,
        "DROP TRIGGER entry_fts_insert",
        "DROP TRIGGER entry_fts_delete",
        "DROP TRIGGER entry_fts_update",
        "DROP TABLE entry_fts",
        """CREATE VIRTUAL TABLE entry_fts USING fts5 (
            %s,
            content='entry', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2',
            prefix='2 3')""" % _FTS_COLUMNS,
        _ENTRY_FTS4_INSERT,
        _ENTRY_FTS4_DELETE,
        _ENTRY_FTS4_UPDATE,
        "INSERT INTO entry_fts (entry_fts) VALUES ('rebuild')",
        "INSERT INTO entry_fts (entry_fts, rank) VALUES ('automerge', 2)",
    ])


# Version lineage for sync (replica.py). SQL expressions the triggers of
# MIGRATIONS[10] share: this file's device id and its change counter live in
# the memo table; a vector is JSON {device id: counter}.
_DEVICE = "(SELECT value FROM memo WHERE key = 'replica-device')"
_SEQ = "(SELECT CAST(value AS INTEGER) FROM memo WHERE key = 'replica-seq')"
_NEXT_SEQ = ("UPDATE memo SET value = CAST(value AS INTEGER) + 1 "
             "WHERE key = 'replica-seq'")


def _bump(vector):
    """SQL: ``vector`` with this device's counter one higher."""
    slot = "'$.\"' || %s || '\"'" % _DEVICE
    return "json_set(%s, %s, coalesce(json_extract(%s, %s), 0) + 1)" % (
        vector, slot, vector, slot)


_CHANGED = " OR ".join("NEW.%s IS NOT OLD.%s" % (c, c)
                       for c in ("created_at", "title", "body", "starred", "tags"))

MIGRATIONS.append(
    # 11: version lineage, so that sync (replica.py) tells an edit from a
    # conflict and a deletion travels. Each entry has a row in
    # entry_lineage: its version vector (vv: JSON {device id: counter}) and
    # seq, the value of this file's change counter when it last changed here
    # (written or applied from elsewhere): "changes since mark" is a range
    # of the seq index. A narrow table of its own, not columns of entry: a
    # tag renamed above 100,000 entries rewrites 100,000 small rows, not the
    # entries with their text (0.37 s against 4.1 s, bench/RESULTS-replica.md).
    # A deletion leaves a tombstone (uuid, when, the vector the entry had
    # with this device's counter bumped: deleting is an event, so an edit
    # made elsewhere meanwhile is concurrent with it; the device, seq). The
    # device id and the counter live in memo.
    #
    # Triggers keep the lineage on every write path, present and future
    # (add, edit, bulk edit, tag changes through entry.tags, tag renames and
    # moves through tag.path, import, restore, delete): each local change
    # bumps this device's counter in the entry's vector and gives it a new
    # seq. Sync's apply writes the lineage row itself after the entry, over
    # what the triggers wrote. An insert takes over the vector of a
    # tombstone of its uuid (a restore from the trash, an entry imported
    # again: an edit after the deletion, dominating it).
    #
    # An existing diary gets a device id of its own and every entry the
    # vector {device: 1}, all at seq 1.
    [
        """CREATE TABLE entry_lineage (
            entry_id INTEGER PRIMARY KEY,
            vv TEXT NOT NULL,
            seq INTEGER NOT NULL)""",
        "CREATE INDEX entry_lineage_seq ON entry_lineage (seq)",
        """CREATE TABLE tombstone (
            uuid TEXT PRIMARY KEY,
            deleted_at TEXT NOT NULL,
            vv TEXT NOT NULL,
            device TEXT NOT NULL,
            seq INTEGER NOT NULL) WITHOUT ROWID""",
        "CREATE INDEX tombstone_seq ON tombstone (seq)",
        "INSERT INTO memo (key, value) VALUES ('replica-device', lower(hex(randomblob(16)))) "
        "ON CONFLICT (key) DO NOTHING",
        "INSERT INTO memo (key, value) VALUES ('replica-seq', "
        "CASE WHEN EXISTS (SELECT 1 FROM entry) THEN '1' ELSE '0' END) "
        "ON CONFLICT (key) DO NOTHING",
        "INSERT INTO entry_lineage (entry_id, vv, seq) SELECT id, json_object(%s, 1), 1 "
        "FROM entry" % _DEVICE,
        """CREATE TRIGGER entry_lineage_insert AFTER INSERT ON entry BEGIN
            %s;
            INSERT INTO entry_lineage (entry_id, vv, seq) VALUES (NEW.id, %s, %s)
            ON CONFLICT (entry_id) DO UPDATE SET vv = excluded.vv, seq = excluded.seq;
            DELETE FROM tombstone WHERE uuid = NEW.uuid;
        END""" % (_NEXT_SEQ,
                  _bump("coalesce((SELECT vv FROM tombstone WHERE uuid = NEW.uuid), '{}')"),
                  _SEQ),
        """CREATE TRIGGER entry_lineage_update
            AFTER UPDATE OF created_at, title, body, starred, tags ON entry
            WHEN %s
        BEGIN
            %s;
            UPDATE entry_lineage SET seq = %s, vv = %s WHERE entry_id = NEW.id;
        END""" % (_CHANGED, _NEXT_SEQ, _SEQ, _bump("vv")),
        # A tag renamed or moved changes the paths of the entries linked to
        # it and below it (tag_relabel updates each tag of the subtree).
        """CREATE TRIGGER entry_lineage_retag AFTER UPDATE OF path ON tag
            WHEN NEW.path IS NOT OLD.path
                AND EXISTS (SELECT 1 FROM entry_tag WHERE tag_id = NEW.id)
        BEGIN
            %s;
            UPDATE entry_lineage SET seq = %s, vv = %s
            WHERE entry_id IN (SELECT entry_id FROM entry_tag WHERE tag_id = NEW.id);
        END""" % (_NEXT_SEQ, _SEQ, _bump("vv")),
        """CREATE TRIGGER entry_lineage_delete AFTER DELETE ON entry BEGIN
            %s;
            INSERT INTO tombstone (uuid, deleted_at, vv, device, seq)
            VALUES (OLD.uuid, strftime('%%Y-%%m-%%dT%%H:%%M:%%f', 'now') || '000Z',
                    %s, %s, %s)
            ON CONFLICT (uuid) DO UPDATE SET deleted_at = excluded.deleted_at,
                vv = excluded.vv, device = excluded.device, seq = excluded.seq;
            DELETE FROM entry_lineage WHERE entry_id = OLD.id;
        END""" % (_NEXT_SEQ,
                  _bump("coalesce((SELECT vv FROM entry_lineage WHERE entry_id = OLD.id), '{}')"),
                  _DEVICE, _SEQ),
    ])


# Whether a replica.apply is writing (a memo row it adds and removes inside
# its own transaction): the triggers below leave its writes alone.
_APPLYING = "EXISTS (SELECT 1 FROM memo WHERE key = 'replica-applying')"


# The version an untouched conflict copy takes when it becomes lasting: the
# same on every device, so that a copy deleted or edited on one device (a
# write that first gives it this version, then the device's own counter)
# descends from the lasting copy another device made by editing the entry.
# A version of that device made the deletion refused and the edit a
# conflict copy of the conflict copy.
_LASTING = """'{"lasting":1}'"""


def _settle(uuid):
    """SQL: a local write to entry ``uuid`` (or its deletion) makes its
    conflict copies that nobody has touched yet (vector {}) lasting: they get
    the version _LASTING, and the entry's heads are forgotten."""
    return """
            UPDATE entry_lineage SET vv = %s, seq = %s
            WHERE vv = '{}' AND entry_id IN (
                SELECT e.id FROM entry_head h JOIN entry e ON e.uuid = h.copy
                WHERE h.uuid = %s);
            DELETE FROM entry_head WHERE uuid = %s;""" % (_LASTING, _SEQ, uuid, uuid)


def _touch_copy(when):
    """SQL trigger: a local write to an untouched conflict copy that makes a
    new version of it (the condition of MIGRATIONS[10]'s trigger) starts
    from _LASTING (that trigger then adds this device's count)."""
    if when == "UPDATE":
        event, changed = ("UPDATE OF created_at, title, body, starred, tags",
                          "(%s) AND " % _CHANGED)
    else:
        event, changed = when, ""
    return """CREATE TRIGGER entry_copy_touch_%s BEFORE %s ON entry
            WHEN %sNOT %s AND EXISTS (SELECT 1 FROM entry_head WHERE copy = OLD.uuid)
        BEGIN
            UPDATE entry_lineage SET vv = %s WHERE entry_id = OLD.id AND vv = '{}';
        END""" % (when.lower(), event, changed, _APPLYING, _LASTING)


_SUBTREE_ENTRIES = ("SELECT et.entry_id FROM tag_path p JOIN entry_tag et "
                    "ON et.tag_id = p.descendant_id WHERE p.ancestor_id = NEW.id")

MIGRATIONS.append(
    # 12: the heads of an entry, so that which conflict copies exist does not
    # depend on the order of syncs (replica.py). An entry edited concurrently
    # on several copies has several heads: versions none of which descends
    # from another. entry_head keeps every head (its vector, content hash,
    # content as JSON, and the uuid of its conflict copy) while there are
    # two or more; the entry shows the latest, and each other one is shown as
    # a conflict copy whose vector stays {} while no one touches it. Such a
    # copy goes away if its version is overtaken by a later one (the edit
    # its own device made next), as if that later edit had come first.
    #
    # A local write to the entry (an edit, a tag renamed above it, a
    # deletion) resolves the conflict there: the triggers give its untouched
    # copies a version of this device (so they stay, everywhere) and drop
    # the heads. apply() marks its own writes (memo 'replica-applying').
    [
        """CREATE TABLE entry_head (
            uuid TEXT NOT NULL,
            vv TEXT NOT NULL,
            hash TEXT NOT NULL,
            copy TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (uuid, vv, hash)) WITHOUT ROWID""",
        "CREATE INDEX entry_head_copy ON entry_head (copy)",
        # The conflict copies made before keep their vector {}: an ancestor
        # of every version, so that a deletion or an edit of one made on
        # another device (before or after it upgraded) still wins here. A
        # version of this device given to each made every such deletion
        # refused and every such edit a conflict. No head is ever taken
        # away from them: only copies of heads kept in entry_head are
        # (replica_apply.Run.settle).
        # A tag renamed or moved gives every entry under it a new version in
        # one statement, fired once by the tag renamed or moved: the trigger
        # of MIGRATIONS[10] fired once per tag of the subtree (through
        # tag_relabel's path updates), each an UPDATE of its own, and bumped
        # an entry under two of those tags twice (133 ms against 25 ms
        # without lineage for ~200 tags over 13,000 entries,
        # bench/RESULTS-replica.md). The subtree (the tag's own closure rows)
        # is the same before and after a move.
        "DROP TRIGGER entry_lineage_retag",
        """CREATE TRIGGER entry_lineage_retag AFTER UPDATE OF name, parent_id ON tag
            WHEN (OLD.name IS NOT NEW.name OR OLD.parent_id IS NOT NEW.parent_id)
                AND EXISTS (%s)
        BEGIN
            %s;
            -- an untouched conflict copy under it starts from _LASTING, as
            -- any local write to one does (_touch_copy)
            UPDATE entry_lineage SET vv = %s
            WHERE vv = '{}' AND NOT %s AND entry_id IN (%s) AND entry_id IN (
                SELECT e.id FROM entry_head h JOIN entry e ON e.uuid = h.copy);
            UPDATE entry_lineage SET seq = %s, vv = %s WHERE entry_id IN (%s);
        END""" % (_SUBTREE_ENTRIES, _NEXT_SEQ, _LASTING, _APPLYING, _SUBTREE_ENTRIES,
                  _SEQ, _bump("vv"), _SUBTREE_ENTRIES),
        """CREATE TRIGGER entry_head_settle AFTER UPDATE OF vv ON entry_lineage
            WHEN EXISTS (SELECT 1 FROM entry_head) AND NOT %s
                AND EXISTS (SELECT 1 FROM entry_head WHERE uuid =
                    (SELECT uuid FROM entry WHERE id = NEW.entry_id))
        BEGIN%s
        END""" % (_APPLYING, _settle("(SELECT uuid FROM entry WHERE id = NEW.entry_id)")),
        """CREATE TRIGGER entry_head_settle_delete AFTER DELETE ON entry
            WHEN NOT %s AND EXISTS (SELECT 1 FROM entry_head WHERE uuid = OLD.uuid)
        BEGIN%s
        END""" % (_APPLYING, _settle("OLD.uuid")),
        _touch_copy("UPDATE"),
        _touch_copy("DELETE"),
    ])


# What entry_lineage_insert does row by row, for every row inserted after an
# id at once (store.index_deferred: a bulk import). Parameter 1: that id.
LINEAGE_OF_INSERTED = (
    _NEXT_SEQ,
    "INSERT INTO entry_lineage (entry_id, vv, seq) SELECT id, %s, %s FROM entry "
    "WHERE id > ?1 ON CONFLICT (entry_id) DO UPDATE SET vv = excluded.vv, seq = excluded.seq"
    % (_bump("coalesce((SELECT t.vv FROM tombstone t WHERE t.uuid = entry.uuid), '{}')"),
       _SEQ),
    "DELETE FROM tombstone WHERE EXISTS (SELECT 1 FROM entry "
    "WHERE entry.uuid = tombstone.uuid AND entry.id > ?1)",
)

SCHEMA_VERSION = len(MIGRATIONS)
