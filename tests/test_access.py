"""The read-only session: what it refuses, what it still reads, where it holds.

Every refused statement is thrown at a real SQLCipher diary twice, through the
library (query.run and peewee's execute_sql) and through `diary query`; after
each the main file is byte-identical, the -wal never grew, no file appeared
next to the diary and the original passphrase still opens it.
"""

import datetime as dt
import hashlib
import os
import shutil
import threading

import pytest
import sqlcipher3

from conftest import PASSPHRASE, TEST_KDF_ITER, dir_listing, file_bytes
from diary import access, entries, query, store
from diary.errors import Denied
from diary.store import Entry

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def stocked_file(tmp_path_factory):
    """A diary with three entries and a tag tree (work/Acme/meetings, sport), made once."""
    made = str(tmp_path_factory.mktemp("stock") / "diary.db")
    saved, store.KDF_ITER = store.KDF_ITER, TEST_KDF_ITER
    try:
        store.create(made, PASSPHRASE)
        with store.open_diary(made, PASSPHRASE) as d:
            _stock(d)
    finally:
        store.KDF_ITER = saved
    assert dir_listing(os.path.dirname(made)) == ["diary.db"]  # checkpointed, no -wal
    return made


def _stock(d):
    entries.add(d, "Ran 12 km by the river.", title="Long run",
                created_at=dt.datetime(2024, 3, 1, 7, 0, tzinfo=UTC))
    entries.add(d, "Meeting with the Acme team about the roadmap.", title="Acme kickoff",
                created_at=dt.datetime(2024, 3, 2, 10, 0, tzinfo=UTC))
    entries.add(d, "Café au lait and a quiet morning.", title="Sunday",
                created_at=dt.datetime(2024, 3, 3, 9, 0, tzinfo=UTC), starred=True)
    with d.write():
        sql = d.db.execute_sql
        sql("INSERT INTO tag (id, name, key, parent_id) VALUES (1, 'work', 'work', NULL)")
        sql("INSERT INTO tag (id, name, key, parent_id) VALUES (2, 'Acme', 'acme', 1)")
        sql("INSERT INTO tag (id, name, key, parent_id) VALUES (3, 'meetings', 'meetings', 2)")
        sql("INSERT INTO tag (id, name, key, parent_id) VALUES (4, 'sport', 'sport', NULL)")
        sql("INSERT INTO entry_tag (entry_id, tag_id) VALUES (2, 3), (1, 4)")
        Entry.update(tags="work/Acme/meetings").where(Entry.id == 2).execute()
        Entry.update(tags="sport").where(Entry.id == 1).execute()


@pytest.fixture
def stocked(stocked_file, path):
    """A fresh copy of the stocked diary at ``path`` (where `run` looks)."""
    os.makedirs(os.path.dirname(path), mode=0o700)
    shutil.copyfile(stocked_file, path)
    return path


def snapshot(path):
    return hashlib.sha256(file_bytes(path)).hexdigest(), dir_listing(os.path.dirname(path))


def assert_intact(path):
    """The original passphrase opens the diary, and everything is still there."""
    with store.open_diary(path, PASSPHRASE, read_only=True) as d:
        conn = d.db.connection()
        assert conn.execute("SELECT count(*) FROM entry").fetchone() == (3,)
        assert conn.execute("PRAGMA user_version").fetchone() == (store.SCHEMA_VERSION,)
        assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
        hits = conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'river'")
        assert hits.fetchall() == [(1,)]


def read_only(path):
    return store.open_diary(path, PASSPHRASE, read_only=True,
                            authorizer=access.read_only_authorizer)


# --- what a read-only session refuses ---------------------------------------------------
# Each case is a sequence of (statement, what the error names). {dir} is the
# diary's folder (so a copy made there would show), {passphrase} the real one.

def case(sql, refused, id=None):
    return pytest.param([(sql, refused)], id=id or sql[:60])


def fn(name):
    return "function " + name


SCHEMA = "a schema change (CREATE, DROP or ALTER)"
TEMP = "a temporary table, view, index or trigger (CREATE TEMP)"
ATTACH = "ATTACH (also used by VACUUM)"

DENIED = [
    # writes, however they are spelled
    case("INSERT INTO entry (uuid, created_at, updated_at, body) "
         "VALUES ('u', '2024-01-01', '2024-01-01', 'x')", "write to table entry"),
    case("UPDATE entry SET title = 'owned'", "write to table entry"),
    case("DELETE FROM entry", "write to table entry"),
    case("DELETE FROM entry_tag", "write to table entry_tag"),
    case("INSERT INTO tag_path VALUES (4, 1, 1)", "write to table tag_path"),
    case("INSERT INTO tag (id, name, key) VALUES (1, 'x', 'x') "
         "ON CONFLICT (id) DO UPDATE SET name = 'owned'", "write to table tag", id="upsert"),
    case("REPLACE INTO tag (id, name, key) VALUES (1, 'x', 'x')", "write to table tag"),
    case("INSERT OR REPLACE INTO tag (id, name, key) VALUES (1, 'x', 'x')",
         "write to table tag"),
    case("WITH doomed AS (SELECT id FROM entry) DELETE FROM entry WHERE id IN doomed",
         "write to table entry", id="cte-delete"),
    case("WITH t(v) AS (SELECT 'owned') UPDATE entry SET title = (SELECT v FROM t)",
         "write to table entry", id="cte-update"),
    case("WITH t AS (SELECT * FROM entry) INSERT INTO entry SELECT * FROM t",
         "write to table entry", id="cte-insert"),
    case("UPDATE entry SET title = 'x' RETURNING id", "write to table entry"),
    # the FTS5 index: special commands, config, shadow tables
    case("INSERT INTO entry_fts (entry_fts) VALUES ('optimize')", "write to table entry_fts"),
    case("INSERT INTO entry_fts (entry_fts) VALUES ('rebuild')", "write to table entry_fts"),
    case("INSERT INTO entry_fts (entry_fts) VALUES ('delete-all')", "write to table entry_fts"),
    case("INSERT INTO entry_fts (entry_fts, rank) VALUES ('automerge', 2)",
         "write to table entry_fts"),
    case("INSERT INTO entry_fts (entry_fts, rank) VALUES ('rank', 'bm25(10.0, 5.0)')",
         "write to table entry_fts"),
    case("INSERT INTO entry_fts (entry_fts, rowid, title, body, tags) "
         "VALUES ('delete', 1, 'Long run', 'Ran 12 km by the river.', 'sport')",
         "write to table entry_fts"),
    case("DELETE FROM entry_fts_data", "write to table entry_fts_data"),
    case("UPDATE entry_fts_config SET v = 0", "write to table entry_fts_config"),
    # schema changes, TEMP included
    case("CREATE TABLE loot (x)", SCHEMA),
    case("CREATE TABLE loot AS SELECT * FROM entry", SCHEMA),
    case("CREATE VIEW v AS SELECT 1", SCHEMA),
    case("CREATE INDEX entry_title ON entry (title)", SCHEMA),
    case("CREATE TRIGGER t AFTER INSERT ON entry BEGIN SELECT 1; END", "CREATE TRIGGER t"),
    case("CREATE VIRTUAL TABLE loot USING fts5 (a)", SCHEMA),
    case("CREATE TEMP TABLE loot (x)", TEMP),
    case("CREATE TEMP TABLE loot AS SELECT body FROM entry", TEMP),
    case("CREATE TEMP VIEW v AS SELECT 1", TEMP),
    case("CREATE TEMP TRIGGER t AFTER INSERT ON entry BEGIN SELECT 1; END",
         "CREATE TEMP TRIGGER t"),
    case("CREATE TEMP TRIGGER t BEFORE DELETE ON entry BEGIN SELECT 1; END",
         "CREATE TEMP TRIGGER t"),
    case("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab (main, entry_fts, row)", TEMP),
    case("DROP TABLE entry", SCHEMA),
    case("DROP TABLE entry_fts", SCHEMA),
    case("DROP TRIGGER entry_fts_insert", "DROP TRIGGER entry_fts_insert"),
    case("DROP INDEX entry_created_at", SCHEMA),
    case("ALTER TABLE entry ADD COLUMN loot TEXT", "ALTER TABLE entry"),
    case("ALTER TABLE entry RENAME TO old_entry", "ALTER TABLE entry"),
    case("ANALYZE", "ANALYZE *"),
    case("ANALYZE entry", "ANALYZE entry"),
    case("REINDEX", "REINDEX *"),
    case("REINDEX entry_created_at", "REINDEX entry_created_at"),
    # copies out: ATTACH, sqlcipher_export, VACUUM
    pytest.param([("ATTACH DATABASE '{dir}/plain.db' AS plain KEY ''", ATTACH),
                  ("SELECT sqlcipher_export('plain')", fn("sqlcipher_export")),
                  ("DETACH DATABASE plain", "DETACH plain")], id="attach-export-plaintext"),
    case("ATTACH DATABASE ':memory:' AS m", ATTACH),
    case("ATTACH DATABASE '{dir}/other.db' AS o KEY 'other'", ATTACH),
    case("SELECT sqlcipher_export('main')", fn("sqlcipher_export")),
    case("SELECT sqlcipher_export('main', 'temp')", fn("sqlcipher_export")),
    case("VACUUM", ATTACH),
    case("VACUUM INTO '{dir}/copy.db'", ATTACH),
    case("VACUUM main INTO '{dir}/copy.db'", ATTACH),
    case("DETACH DATABASE temp", "DETACH temp"),
    # keys and cipher settings
    case("PRAGMA rekey = 'new passphrase'", "PRAGMA rekey"),
    case("PRAGMA rekey = ''", "PRAGMA rekey"),
    case("PRAGMA key = 'another passphrase'", "PRAGMA key"),
    case("PRAGMA key = '{passphrase}'", "PRAGMA key", id="key-replayed"),
    case("PRAGMA hexrekey = '00'", "PRAGMA hexrekey"),
    case("PRAGMA cipher_compatibility = 3", "PRAGMA cipher_compatibility"),
    case("PRAGMA cipher_compatibility", "PRAGMA cipher_compatibility"),
    case("PRAGMA cipher_page_size = 1024", "PRAGMA cipher_page_size"),
    case("PRAGMA kdf_iter = 1", "PRAGMA kdf_iter"),
    case("PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA1", "PRAGMA cipher_kdf_algorithm"),
    case("PRAGMA cipher_hmac_algorithm = HMAC_SHA1", "PRAGMA cipher_hmac_algorithm"),
    case("PRAGMA cipher_use_hmac = OFF", "PRAGMA cipher_use_hmac"),
    case("PRAGMA cipher_plaintext_header_size = 32", "PRAGMA cipher_plaintext_header_size"),
    case("PRAGMA cipher_memory_security = OFF", "PRAGMA cipher_memory_security"),
    case("PRAGMA cipher_default_kdf_iter = 1", "PRAGMA cipher_default_kdf_iter"),
    case("PRAGMA cipher_migrate", "PRAGMA cipher_migrate"),
    case("PRAGMA cipher_log_level = DEBUG", "PRAGMA cipher_log_level"),
    # the connection's own setup statements, replayed word for word: prepared
    # before the authorizer went on, they must be judged again, not reused
    case("PRAGMA cipher_log_level = NONE", "PRAGMA cipher_log_level"),
    case("PRAGMA kdf_iter = 64", "PRAGMA kdf_iter"),
    case("PRAGMA cipher_log = '{dir}/log.txt'", "PRAGMA cipher_log"),
    # settings that weaken or write: the setup pragmas replayed included
    case("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode"),
    case("PRAGMA journal_mode = OFF", "PRAGMA journal_mode"),
    case("PRAGMA query_only = OFF", "PRAGMA query_only"),
    case("PRAGMA query_only = 0", "PRAGMA query_only"),
    case("PRAGMA writable_schema = ON", "PRAGMA writable_schema"),
    case("PRAGMA writable_schema", "PRAGMA writable_schema"),
    case("PRAGMA user_version = 99", "PRAGMA user_version"),
    case("PRAGMA main.user_version = 99", "PRAGMA user_version"),
    case("PRAGMA application_id = 1", "PRAGMA application_id"),
    case("PRAGMA schema_version = 1", "PRAGMA schema_version"),
    case("PRAGMA temp_store = FILE", "PRAGMA temp_store"),
    case("PRAGMA temp_store = MEMORY", "PRAGMA temp_store"),
    case("PRAGMA temp_store_directory = '{dir}'", "PRAGMA temp_store_directory"),
    case("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys"),
    case("PRAGMA foreign_keys = ON", "PRAGMA foreign_keys"),
    case("PRAGMA secure_delete = OFF", "PRAGMA secure_delete"),
    case("PRAGMA synchronous = OFF", "PRAGMA synchronous"),
    case("PRAGMA locking_mode = EXCLUSIVE", "PRAGMA locking_mode"),
    case("PRAGMA trusted_schema = ON", "PRAGMA trusted_schema"),
    case("PRAGMA auto_vacuum = FULL", "PRAGMA auto_vacuum"),
    case("PRAGMA incremental_vacuum", "PRAGMA incremental_vacuum"),
    case("PRAGMA optimize", "PRAGMA optimize"),
    case("PRAGMA wal_checkpoint", "PRAGMA wal_checkpoint"),
    case("PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint"),
    case("PRAGMA wal_autocheckpoint = 1", "PRAGMA wal_autocheckpoint"),
    case("PRAGMA journal_size_limit = 0", "PRAGMA journal_size_limit"),
    case("PRAGMA mmap_size = 268435456", "PRAGMA mmap_size"),
    # functions that are dangerous, or simply not on the list
    case("SELECT load_extension('/tmp/evil.so')", fn("load_extension")),
    case("SELECT fts3_tokenizer('simple')", fn("fts3_tokenizer")),
    case("SELECT fts3_tokenizer('simple', x'0000000000000000')", fn("fts3_tokenizer")),
    case("SELECT fts5(NULL)", fn("fts5")),
    case("SELECT sqlite_log(1, 'x')", fn("sqlite_log")),
    case("SELECT rtreenode(1, x'00')", fn("rtreenode")),
    case("SELECT matchinfo(entry_fts) FROM entry_fts", fn("matchinfo")),
    case("SELECT id FROM entry WHERE title = 'x' OR load_extension('x')",
         fn("load_extension"), id="function-in-where"),
]


def _statements(steps, path):
    folder = os.path.dirname(path)
    return [(sql.format(dir=folder, passphrase=PASSPHRASE), refused) for sql, refused in steps]


def _assert_names(message, refused):
    """``refused`` ending in * names only the start (REINDEX names its first index)."""
    expected = "refused in a read-only session: " + refused
    if refused.endswith("*"):
        assert message.startswith(expected[:-1]), message
    else:
        assert message == expected, message


def _wal_size(path):
    return os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0


@pytest.mark.parametrize("steps", DENIED)
def test_refused_through_the_library(stocked, steps):
    before = snapshot(stocked)
    d = read_only(stocked)
    try:
        for sql, refused in _statements(steps, stocked):
            with pytest.raises(Denied) as info:
                query.run(d, sql)
            _assert_names(str(info.value), refused)
            # the same statement through peewee, the way library code runs SQL
            with pytest.raises(Exception) as raw:
                d.db.execute_sql(sql)
            assert any(m in str(raw.value) for m in
                       ("not authorized", "authorization denied", "prohibited")), raw.value
            assert _wal_size(stocked) == 0
    finally:
        d.close()
    assert snapshot(stocked) == before
    assert_intact(stocked)


@pytest.mark.parametrize("steps", DENIED)
def test_refused_through_diary_query(stocked, run, steps):
    before = snapshot(stocked)
    for sql, refused in _statements(steps, stocked):
        result = run("query", sql)
        assert (result.code, result.out) == (1, "")
        assert result.err.startswith("diary: ") and result.err.count("\n") == 1
        _assert_names(result.err[len("diary: "):-1], refused)
        assert snapshot(stocked) == before
    assert_intact(stocked)


def test_a_refused_temp_view_cannot_shadow_a_real_table(stocked, run):
    before = snapshot(stocked)
    with read_only(stocked) as d:
        with pytest.raises(Denied, match="CREATE TEMP"):
            query.run(d, "CREATE TEMP VIEW entry AS SELECT 999 AS id, 'fake' AS title")
        assert query.run(d, "SELECT id, title FROM entry ORDER BY id").rows == [
            (1, "Long run"), (2, "Acme kickoff"), (3, "Sunday")]
        assert query.run(d, "SELECT count(*) FROM sqlite_temp_master").rows == [(0,)]
        assert [e.id for e in entries.list_entries(d)] == [3, 2, 1]
    shadow = run("query", "CREATE TEMP TABLE tag AS SELECT 1 AS id")
    assert shadow.code == 1
    names = run("query", "SELECT name FROM tag ORDER BY id").out
    assert names == "name\nwork\nAcme\nmeetings\nsport\n"
    assert snapshot(stocked) == before


def test_an_allowed_function_that_the_policy_does_not_know_is_refused(stocked):
    """A function registered on the connection (say a writefile) is still refused."""
    called = []
    with read_only(stocked) as d:
        d.db.connection().create_function("writefile", 2, lambda *a: called.append(a))
        with pytest.raises(Denied, match="function writefile"):
            query.run(d, "SELECT writefile('{}/out', body) FROM entry".format(stocked))
    assert called == []


def test_an_error_inside_the_policy_denies(stocked, monkeypatch):
    def broken(*args):
        raise RuntimeError("bug in the policy")

    monkeypatch.setattr(access, "_allowed", broken)
    assert access.read_only_authorizer(sqlcipher3.SQLITE_SELECT, None, None, None, None) \
        == sqlcipher3.SQLITE_DENY
    with pytest.raises(Denied, match="PRAGMA application_id"):  # the first read on open
        read_only(stocked)


ALLOWED_ACTIONS = {sqlcipher3.SQLITE_READ, sqlcipher3.SQLITE_SELECT,
                   sqlcipher3.SQLITE_RECURSIVE, sqlcipher3.SQLITE_FUNCTION,
                   sqlcipher3.SQLITE_PRAGMA, sqlcipher3.SQLITE_TRANSACTION,
                   sqlcipher3.SQLITE_SAVEPOINT}


@pytest.mark.parametrize("action", [a for a in range(0, 40) if a not in ALLOWED_ACTIONS])
def test_every_other_action_is_denied_whatever_its_arguments(action):
    for arg1, arg2, db in [(None, None, None), ("entry", None, "main"),
                           ("entry", "body", "temp"), ("count", "count", None)]:
        assert access.read_only_authorizer(action, arg1, arg2, db, None) == access.DENY


def test_reads_of_other_schemas_and_odd_arguments_are_denied():
    auth = access.read_only_authorizer
    assert auth(sqlcipher3.SQLITE_READ, "entry", "body", "plain", None) == access.DENY
    assert auth(sqlcipher3.SQLITE_PRAGMA, "user_version", None, "plain", None) == access.DENY
    assert auth(sqlcipher3.SQLITE_PRAGMA, None, None, None, None) == access.DENY
    assert auth(sqlcipher3.SQLITE_FUNCTION, None, None, None, None) == access.DENY
    assert auth(sqlcipher3.SQLITE_TRANSACTION, "SOMETHING", None, None, None) == access.DENY
    assert auth(sqlcipher3.SQLITE_FUNCTION, None, "COUNT", None, None) == access.OK


def test_a_refused_name_is_shortened_and_a_pragma_value_never_shown():
    name = access.describe(sqlcipher3.SQLITE_INSERT, "x" * 500, None)
    assert len(name) < 100
    assert "secret" not in access.describe(sqlcipher3.SQLITE_PRAGMA, "rekey", "secret")


# --- what a read-only session still reads ----------------------------------------------------

WORK_SUBTREE = """
    SELECT DISTINCT e.id FROM entry e
    JOIN entry_tag et ON et.entry_id = e.id
    JOIN tag_path tp ON tp.descendant_id = et.tag_id
    JOIN tag t ON t.id = tp.ancestor_id
    WHERE t.key = 'work' AND t.parent_id IS NULL ORDER BY e.id"""

TAG_PATHS = """
    WITH RECURSIVE up(id, path) AS (
        SELECT id, name FROM tag WHERE parent_id IS NULL
        UNION ALL
        SELECT t.id, up.path || '/' || t.name FROM tag t JOIN up ON t.parent_id = up.id)
    SELECT path FROM up ORDER BY path"""

READS = [
    ("SELECT id, title FROM entry ORDER BY created_at DESC",
     [(3, "Sunday"), (2, "Acme kickoff"), (1, "Long run")]),
    ("SELECT rowid, snippet(entry_fts, 1, '[', ']', '…', 4), "
     "highlight(entry_fts, 0, '<', '>'), bm25(entry_fts) < 0 "
     "FROM entry_fts WHERE entry_fts MATCH 'river' ORDER BY rank",
     [(1, "…km by the [river].", "Long run", 1)]),
    ("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'cafe'", [(3,)]),
    ("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'acm*' ORDER BY bm25(entry_fts)",
     [(2,)]),
    ("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'tags:meetings'", [(2,)]),
    ("SELECT rowid FROM entry_fts('river')", [(1,)]),
    ("SELECT e.title FROM entry e JOIN entry_fts f ON f.rowid = e.id "
     "WHERE entry_fts MATCH '\"quiet morning\"'", [("Sunday",)]),
    (WORK_SUBTREE, [(2,)]),
    ("SELECT descendant_id, depth FROM tag_path WHERE ancestor_id = 1 ORDER BY depth",
     [(1, 0), (2, 1), (3, 2)]),
    (TAG_PATHS, [("sport",), ("work",), ("work/Acme",), ("work/Acme/meetings",)]),
    ("SELECT t.name, count(et.entry_id) FROM tag t LEFT JOIN entry_tag et ON et.tag_id = t.id "
     "GROUP BY t.id ORDER BY t.id", [("work", 0), ("Acme", 0), ("meetings", 1), ("sport", 1)]),
    ("SELECT strftime('%Y-%m', created_at) AS month, count(*), sum(starred), "
     "group_concat(id, ',') FROM entry GROUP BY month", [("2024-03", 3, 1, "1,2,3")]),
    ("SELECT id, row_number() OVER (ORDER BY created_at DESC), "
     "lag(id) OVER (ORDER BY id), sum(length(body)) OVER () > 0 FROM entry ORDER BY id",
     [(1, 3, None, 1), (2, 2, 1, 1), (3, 1, 2, 1)]),
    ("SELECT json_object('id', id, 'tags', (SELECT json_group_array(t.path) FROM entry_tag et "
     "JOIN tag t ON t.id = et.tag_id WHERE et.entry_id = entry.id)) FROM entry WHERE id = 2",
     [('{"id":2,"tags":["work/Acme/meetings"]}',)]),
    ("SELECT path FROM tag WHERE id IN (SELECT rowid FROM tag_fts WHERE tag_fts MATCH 'acme') "
     "ORDER BY id", [("work/Acme",), ("work/Acme/meetings",)]),
    # (the rows in id order: a full scan may walk another index, entry_seq)
    ("SELECT json_group_array(id ORDER BY id) ->> '$[0]', json_extract('{\"a\": [5]}', '$.a[0]') "
     "FROM entry", [(1, 5)]),
    ("SELECT value FROM json_each('[1, 2]')", [(1,), (2,)]),
    ("SELECT date(created_at), julianday(updated_at) > 0, unixepoch(created_at) "
     "FROM entry WHERE id = 1", [("2024-03-01", 1, 1709276400)]),
    ("SELECT upper(substr(title, 1, 4)), instr(body, 'km'), replace(title, ' ', '_'), "
     "printf('%05d', id), coalesce(NULL, 'x'), iif(starred, 'yes', 'no') "
     "FROM entry WHERE id = 1", [("LONG", 8, "Long_run", "00001", "x", "no")]),
    ("SELECT count(*) FROM entry WHERE title LIKE 'long%' OR title GLOB 'S*'", [(2,)]),
    ("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'entry'", [("entry",)]),
    ("SELECT count(*) > 0 FROM entry_fts_data", [(1,)]),
    ("PRAGMA user_version", [(store.SCHEMA_VERSION,)]),
    ("PRAGMA application_id", [(store.APPLICATION_ID,)]),
    ("PRAGMA query_only", [(1,)]),
    ("SELECT name FROM pragma_table_info('tag') ORDER BY cid",
     [("id",), ("name",), ("key",), ("parent_id",), ("subtree_entries",), ("path",)]),
    ("PRAGMA integrity_check", [("ok",)]),
    ("PRAGMA cipher_integrity_check", []),
    ("PRAGMA foreign_key_check", []),
    ("SELECT count(*) > 0 FROM pragma_function_list", [(1,)]),
]


@pytest.mark.parametrize("sql, rows", READS, ids=[r[0][:50].strip() for r in READS])
def test_reads_work_read_only(stocked, sql, rows):
    before = snapshot(stocked)
    with read_only(stocked) as d:
        assert query.run(d, sql).rows == rows
        assert _wal_size(stocked) == 0
    assert snapshot(stocked) == before


def test_the_library_reads_in_transactions_and_savepoints(stocked):
    before = snapshot(stocked)
    with read_only(stocked) as d:
        with d.read():
            with d.read():  # nested: a SAVEPOINT
                assert [e.id for e in entries.list_entries(d, limit=2)] == [3, 2]
            assert entries.count(d) == 3
            assert [e.title for e in entries.get_many(d, [1, 3])] == ["Long run", "Sunday"]
        assert query.run(d, "BEGIN").rows == []
        assert query.run(d, "SAVEPOINT s").rows == []
        assert query.run(d, "ROLLBACK TO s").rows == []
        assert query.run(d, "COMMIT").rows == []
    assert snapshot(stocked) == before


def test_the_products_commands_work_read_only(stocked, run):
    before = snapshot(stocked)
    listed = run("--read-only", "list")
    assert listed.code == 0
    assert [line.split("\t")[0] for line in listed.out.splitlines()] == ["3", "2", "1"]
    shown = run("show", "2", "--read-only", "--json")
    assert shown.code == 0 and '"title": "Acme kickoff"' in shown.out
    assert run("list", "--starred").out.startswith("3\t")
    joined = run("query", "--json", WORK_SUBTREE)
    assert (joined.code, joined.out) == (0, '[\n  {\n    "id": 2\n  }\n]\n')
    assert snapshot(stocked) == before


# --- the authorizer is on every connection ---------------------------------------------------

def _refused(d):
    with pytest.raises(Exception, match="not authorized"):
        d.db.execute_sql("DELETE FROM entry")


def test_a_reconnect_after_close_is_guarded(stocked):
    before = snapshot(stocked)
    d = read_only(stocked)
    try:
        _refused(d)
        d.db.close()
        d.db.connect()
        _refused(d)
        d.db.close()
        assert entries.count(d) == 3  # peewee reconnects on its own
        _refused(d)
    finally:
        d.close()
    assert snapshot(stocked) == before


def test_a_connection_in_another_thread_is_guarded(stocked):
    before = snapshot(stocked)
    outcome = {}

    def other():
        try:
            conn = d.db.connection()
            outcome["same"] = conn is main_conn
            outcome["count"] = entries.count(d)
            try:
                d.db.execute_sql("UPDATE entry SET title = 'owned'")
                outcome["write"] = "went through"
            except Exception as exc:
                outcome["write"] = str(exc)
            try:
                query.run(d, "PRAGMA rekey = 'x'")
            except Denied as exc:
                outcome["rekey"] = str(exc)
        finally:
            d.db.close()

    with read_only(stocked) as d:
        main_conn = d.db.connection()
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
    assert outcome == {"same": False, "count": 3, "write": "not authorized",
                       "rekey": "refused in a read-only session: PRAGMA rekey"}
    assert snapshot(stocked) == before


def test_read_only_sessions_get_the_authorizer_by_default(stocked):
    with store.open_diary(stocked, PASSPHRASE, read_only=True) as d:
        assert d.db.authorizer is access.read_only_authorizer
        _refused(d)


def test_writable_sessions_have_no_authorizer(stocked):
    with store.open_diary(stocked, PASSPHRASE) as d:
        assert d.db.authorizer is None
        assert d.db.execute_sql("PRAGMA query_only").fetchone() == (0,)
        entries.edit(d, 1, title="Still writable")
    with read_only(stocked) as d:
        assert entries.get(d, 1).title == "Still writable"
