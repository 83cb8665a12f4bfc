"""The encrypted file: creation, unlocking, bad files, migrations, rekey."""

import datetime
import os
import sqlite3
import uuid

import pytest
import sqlcipher3

from diary import dates, entries, health, search, store
from diary.errors import (DiaryError, NotFound, PassphraseError, ReadOnly, SchemaTooNew,
                          WeakPassphrase)

from conftest import PASSPHRASE, TEST_KDF_ITER, dir_listing, file_bytes

MARKER = "zebra-marker-7f3a9c"


def raw_connect(path, passphrase, kdf_iter=TEST_KDF_ITER):
    conn = sqlcipher3.connect(path)
    conn.execute("PRAGMA key = '%s'" % passphrase.replace("'", "''"))
    if kdf_iter:
        conn.execute("PRAGMA kdf_iter = %d" % kdf_iter)
    return conn


def test_create_makes_private_encrypted_file(path):
    store.create(path, PASSPHRASE)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
    head = file_bytes(path)[:16]
    assert head != store.SQLITE_HEADER
    assert dir_listing(os.path.dirname(path)) == ["diary.db"]  # no temporary left behind


def test_create_refuses_existing_path(made):
    before = file_bytes(made)
    with pytest.raises(DiaryError, match="already exists"):
        store.create(made, "another")
    assert file_bytes(made) == before


@pytest.mark.parametrize("bad", ["", "   ", "\t\n", "a\x00b"])
def test_create_refuses_empty_or_blank_passphrase(path, bad):
    with pytest.raises(WeakPassphrase):
        store.create(path, bad)
    assert not os.path.exists(path)


def test_a_passphrase_in_sqlciphers_raw_key_form_is_refused(tmp_path, diary):
    path = str(tmp_path / "new.db")
    # SQLCipher reads a key string x'<64 or 96 hex>' as a raw key, skipping the
    # derivation: such a "passphrase" would not be one, and the agent (which
    # derives the raw key from the passphrase) could never serve it.
    for raw in ("x'" + "ab" * 32 + "'", "X'" + "0F" * 48 + "'"):
        with pytest.raises(WeakPassphrase, match="raw key"):
            store.create(path, raw)
        assert not os.path.exists(path)
        with pytest.raises(WeakPassphrase, match="raw key"):
            store.change_passphrase(diary, raw)
    store.check_new_passphrase("x'ab'")  # not the raw form: an ordinary passphrase


def test_no_plaintext_in_file_wal_or_shm(diary):
    entries.add(diary, "today I saw a " + MARKER, title="title " + MARKER)
    directory = os.path.dirname(diary.path)
    # while the connection is open the -wal holds the new pages: check them all
    files = [os.path.join(directory, f) for f in os.listdir(directory)]
    assert any(f.endswith("-wal") for f in files)
    for f in files:
        data = file_bytes(f)
        assert MARKER.encode() not in data, f
        assert MARKER.encode("utf-16-le") not in data, f
    diary.close()
    assert MARKER.encode() not in file_bytes(diary.path)


def test_real_kdf_file_opens_with_plain_sqlcipher_and_only_the_key(path, monkeypatch):
    """The one test at SQLCipher's default 256,000 iterations: no lock-in."""
    monkeypatch.setattr(store, "KDF_ITER", None)
    store.create(path, PASSPHRASE)
    with store.open_diary(path, PASSPHRASE) as d:
        entries.add(d, "readable by any SQLCipher 4 tool", title="portable")
    conn = sqlcipher3.connect(path)
    conn.execute("PRAGMA key = '%s'" % PASSPHRASE)
    assert conn.execute("SELECT title, body FROM entry").fetchall() == [
        ("portable", "readable by any SQLCipher 4 tool")]
    assert conn.execute("PRAGMA kdf_iter").fetchone()[0] == "256000"
    conn.close()


def test_wrong_passphrase_leaves_file_and_directory_untouched(made, capfd):
    before = file_bytes(made)
    listing = dir_listing(os.path.dirname(made))
    with pytest.raises(PassphraseError, match="wrong passphrase, or not a diary file"):
        store.open_diary(made, "not the passphrase")
    assert file_bytes(made) == before
    assert dir_listing(os.path.dirname(made)) == listing
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def _plain_sqlite(p):
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE entry (body TEXT)")
    conn.commit()
    conn.close()


def _random_bytes(p):
    with open(p, "wb") as f:
        f.write(os.urandom(8192))


def _empty(p):
    open(p, "wb").close()


def _other_sqlcipher_file(p):
    conn = raw_connect(p, PASSPHRASE)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("make", [_plain_sqlite, _random_bytes, _empty, _other_sqlcipher_file])
def test_files_that_are_not_diaries(tmp_path, make, capfd):
    p = str(tmp_path / "thing.db")
    make(p)
    before = file_bytes(p)
    with pytest.raises(PassphraseError, match="wrong passphrase, or not a diary file"):
        store.open_diary(p, PASSPHRASE)
    assert file_bytes(p) == before
    assert dir_listing(tmp_path) == ["thing.db"]
    assert capfd.readouterr().err == ""


def test_missing_file(tmp_path):
    with pytest.raises(NotFound, match="no diary at"):
        store.open_diary(str(tmp_path / "none.db"), PASSPHRASE)
    assert dir_listing(tmp_path) == []


def test_directory_is_refused(tmp_path):
    with pytest.raises(DiaryError, match="is a directory"):
        store.open_diary(str(tmp_path), PASSPHRASE)


def test_newer_schema_is_refused(made):
    conn = raw_connect(made, PASSPHRASE)
    conn.execute("PRAGMA user_version = %d" % (store.SCHEMA_VERSION + 1))
    conn.close()
    before = file_bytes(made)
    with pytest.raises(SchemaTooNew, match="newer version"):
        store.open_diary(made, PASSPHRASE)
    assert file_bytes(made) == before


def test_older_schema_is_migrated_with_its_entries(path):
    store.create(path, PASSPHRASE, schema_version=1)
    conn = raw_connect(path, PASSPHRASE)
    conn.execute("INSERT INTO entry (uuid, created_at, updated_at, title, body) "
                 "VALUES ('u1', '2020-01-01T00:00:00.000000Z', '2020-01-01T00:00:00.000000Z',"
                 " 'old', 'written before search existed')")
    conn.commit()
    conn.close()
    with store.open_diary(path, PASSPHRASE) as d:
        conn = d.db.connection()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        # the new index was built from the entries already there
        hits = conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'search'")
        assert [r[0] for r in hits] == [1]
        assert [e.title for e in entries.list_entries(d)] == ["old"]


def test_version_3_counts_its_entries_per_month(path):
    """MIGRATIONS[3] fills entry_month from the entries already there, and its
    triggers follow from then on."""
    store.create(path, PASSPHRASE, schema_version=3)
    conn = raw_connect(path, PASSPHRASE)
    for i, stamp in enumerate(("2020-01-31T23:59:59.999999Z", "2020-02-01T00:00:00.000000Z",
                               "2020-01-01T00:00:00.000000Z")):
        conn.execute("INSERT INTO entry (uuid, created_at, updated_at) VALUES (?, ?, ?)",
                     ("u%d" % i, stamp, stamp))
    conn.commit()
    conn.close()
    with store.open_diary(path, PASSPHRASE) as d:
        conn = d.db.connection()
        assert list(conn.execute("SELECT * FROM entry_month ORDER BY month")) == [
            ("2020-01", 2, 1, 3), ("2020-02", 1, 2, 2)]
        with d.write():
            entries.add(d, "x", created_at=datetime.datetime(2020, 2, 9,
                                                             tzinfo=datetime.timezone.utc))
        assert list(conn.execute("SELECT * FROM entry_month ORDER BY month")) == [
            ("2020-01", 2, 1, 3), ("2020-02", 2, 2, 4)]
        assert health.problems(d) == []


def test_version_2_tags_move_from_entry_text_to_the_tag_index(path):
    """A diary written before MIGRATIONS[2] held each entry's tag paths as text;
    after the upgrade the paths live in tag.path and tag_fts, entry.tags holds
    tokens, and search, tag_list and every check agree."""
    store.create(path, PASSPHRASE, schema_version=2)
    conn = raw_connect(path, PASSPHRASE)
    for name, parent in (("work", None), ("Acme", 1), ("home", None)):
        conn.execute("INSERT INTO tag (name, key, parent_id) VALUES (?, ?, ?)",
                     (name, name.casefold(), parent))
    stamp = "2020-01-01T00:00:00.000000Z"
    for title, paths, links in (("one", "work/Acme", (2,)), ("two", "home\nwork", (3, 1)),
                                ("three", "", ())):
        cur = conn.execute("INSERT INTO entry (uuid, created_at, updated_at, title, tags) "
                           "VALUES (?, ?, ?, ?, ?)", (title, stamp, stamp, title, paths))
        for tag_id in links:
            conn.execute("INSERT INTO entry_tag (entry_id, tag_id) VALUES (?, ?)",
                         (cur.lastrowid, tag_id))
    conn.commit()
    conn.close()
    with store.open_diary(path, PASSPHRASE) as d:
        conn = d.db.connection()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        assert list(conn.execute("SELECT id, path FROM tag ORDER BY id")) == [
            (1, "work"), (2, "work/Acme"), (3, "home")]
        assert list(conn.execute("SELECT tags FROM entry ORDER BY id")) == [
            ("t2",), ("t1 t3",), ("",)]
        assert [e.tag_list for e in entries.list_entries(d, newest_first=False)] == [
            ["work/Acme"], ["home", "work"], []]
        found = {w: sorted(h.entry.title for h in search.search(d, w).hits)
                 for w in ("acme", "work", "home", "one")}
        assert found == {"acme": ["one"], "work": ["one", "two"], "home": ["two"],
                         "one": ["one"]}
        assert health.problems(d) == []


def test_a_failing_migration_changes_nothing(path, monkeypatch):
    store.create(path, PASSPHRASE, schema_version=1)
    broken = store.MIGRATIONS[:1] + [["CREATE TABLE half_done (x)", "THIS IS NOT SQL"]]
    monkeypatch.setattr(store, "MIGRATIONS", broken)
    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    with pytest.raises(Exception):
        store.open_diary(path, PASSPHRASE)
    conn = raw_connect(path, PASSPHRASE)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables


def test_read_only_diary_refuses_to_migrate_and_to_write(path, made):
    with store.open_diary(made, PASSPHRASE, read_only=True) as d:
        with pytest.raises(ReadOnly):
            entries.add(d, "nope")
    old = path + ".old"
    store.create(old, PASSPHRASE, schema_version=1)
    with pytest.raises(ReadOnly, match="older format"):
        store.open_diary(old, PASSPHRASE, read_only=True)


def test_change_passphrase_both_ways(diary):
    entries.add(diary, "kept across the rekey", title="before")
    store.change_passphrase(diary, "new secret")
    diary.close()
    with pytest.raises(PassphraseError):
        store.open_diary(diary.path, PASSPHRASE)
    with store.open_diary(diary.path, "new secret") as d:
        assert [e.title for e in entries.list_entries(d)] == ["before"]
        store.change_passphrase(d, PASSPHRASE)
    with store.open_diary(diary.path, PASSPHRASE) as d:
        assert [e.body for e in entries.list_entries(d)] == ["kept across the rekey"]


def test_change_passphrase_refuses_blank(diary):
    with pytest.raises(WeakPassphrase):
        store.change_passphrase(diary, "  ")
    diary.close()
    store.open_diary(diary.path, PASSPHRASE).close()


def test_rekey_never_logs_the_passphrase(diary, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    entries.add(diary, "x")
    store.change_passphrase(diary, "a-new-secret-in-no-log")
    assert "a-new-secret-in-no-log" not in caplog.text


def test_temp_store_is_memory(diary):
    assert diary.db.connection().execute("PRAGMA temp_store").fetchone()[0] == 2


def test_index_deferred_indexes_the_new_rows_once_at_the_end(diary):
    old = entries.add(diary, "an older entry about otters")
    with diary.write(), store.index_deferred(diary):
        new = entries.add(diary, "a bulk-loaded entry about otters")
        conn = diary.db.connection()
        hits = conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'otters'")
        assert [r[0] for r in hits] == [old.id]  # not yet: indexed at the end
    hits = diary.db.connection().execute(
        "SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'otters' ORDER BY rowid")
    assert [r[0] for r in hits] == [old.id, new.id]
    assert health.problems(diary) == []
    entries.add(diary, "after the block, otters again")  # the trigger is back
    assert diary.db.connection().execute(
        "SELECT count(*) FROM entry_fts WHERE entry_fts MATCH 'otters'").fetchone()[0] == 3


def _loader_put(diary):
    from diary.exchange.loader import Loader

    loader = Loader(diary)

    def put(text, when, paths):
        stamp = dates.stored(when)
        loader.insert(str(uuid.uuid4()), stamp, stamp, "", text, False,
                      loader.resolve_tags(paths, text))
    return put


def _schema(diary):
    return diary.db.connection().execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def _months(diary):
    return diary.db.connection().execute(
        "SELECT month, entries FROM entry_month WHERE entries > 0 ORDER BY month").fetchall()


def _counts(diary):
    return dict(diary.db.connection().execute(
        "SELECT path, subtree_entries FROM tag WHERE subtree_entries > 0"))


def test_index_deferred_counts_months_and_tags_at_the_end(diary):
    """The month table and the tags' entry counts, kept by per-row triggers
    elsewhere, come out of the block exactly as those triggers would leave
    them (a month and tags the diary had, new ones, an entry linked to a tag
    and to its ancestor counted once), and the triggers are back as the
    schema has them."""
    when = datetime.datetime(2024, 3, 2, 21, 30, tzinfo=datetime.timezone.utc)
    entries.add(diary, "older", created_at=when, tags=["work/acme", "home"])
    schema = _schema(diary)
    with diary.write(), store.index_deferred(diary):
        put = _loader_put(diary)  # as import writes: rows and links, never an update
        put("same month", when + datetime.timedelta(days=3), ["work/acme", "work"])
        put("a new month", when + datetime.timedelta(days=40), ["work/beta/x"])
        put("no tags", when - datetime.timedelta(days=400), [])
    assert health.problems(diary) == []
    assert _schema(diary) == schema
    assert _months(diary) == [("2023-01", 1), ("2024-03", 2), ("2024-04", 1)]
    assert _counts(diary) == {"work": 3, "work/acme": 2, "home": 1, "work/beta": 1,
                              "work/beta/x": 1}
    # the triggers keep them again after the block
    late = entries.add(diary, "after", created_at=when, tags=["work/beta"])
    assert _months(diary) == [("2023-01", 1), ("2024-03", 3), ("2024-04", 1)]
    assert _counts(diary)["work"] == 4 and _counts(diary)["work/beta"] == 2
    entries.delete(diary, [late.id], keep=False)
    assert _counts(diary)["work"] == 3 and _months(diary)[1] == ("2024-03", 2)
    assert health.problems(diary) == []


def test_index_deferred_failure_restores_everything(diary):
    schema = _schema(diary)
    with pytest.raises(RuntimeError, match="boom"):
        with diary.write(), store.index_deferred(diary):
            _loader_put(diary)("never kept", datetime.datetime.now().astimezone(),
                               ["kept/not"])
            raise RuntimeError("boom")
    assert entries.count(diary) == 0
    assert _schema(diary) == schema and _months(diary) == [] and _counts(diary) == {}
    entries.add(diary, "indexed by the trigger again")
    assert diary.db.connection().execute(
        "SELECT count(*) FROM entry_fts WHERE entry_fts MATCH 'trigger'").fetchone()[0] == 1
    assert health.problems(diary) == []
