"""Migrations 5 (dates stored without a zero-padded year), 6 (ids never
reused), 10 (grams: words of scripts without spaces) and 11 (version
lineage for sync), each tested from a file of the version before it."""

import json

from diary import entries, grams, health, replica, store

from conftest import PASSPHRASE


def _raw(path, *statements):
    conn = store.keyed_connection(path, PASSPHRASE, store.KDF_ITER)
    try:
        for s, *params in statements:
            conn.execute(s, *params)
    finally:
        conn.close()


def _rows(path, sql):
    conn = store.keyed_connection(path, PASSPHRASE, store.KDF_ITER)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _insert(uuid, created, updated=None, body="x"):
    return ("INSERT INTO entry (uuid, created_at, updated_at, body) VALUES (?, ?, ?, ?)",
            (uuid, created, updated or created, body))


def test_migration_5_pads_short_years_and_rebuilds_their_months(run, path):
    store.create(path, PASSPHRASE, schema_version=4)
    # What strftime('%Y') stored for years below 1000, beside good rows; id 4
    # (in the 999-05 month too) was deleted, so that month's bound says 4
    # (and version 4 gives id 4 again to the next entry).
    _raw(path, _insert("a", "2024-01-01T10:00:00.000000Z"),
         _insert("b", "999-05-01T10:00:00.000000Z", "999-05-02T10:00:00.000000Z"),
         _insert("c", "99-12-31T23:00:00.000000Z"),
         _insert("d", "999-05-03T10:00:00.000000Z"),
         ("DELETE FROM entry WHERE uuid = 'd'",),
         _insert("e", "not a date at all"))
    assert ("999-05-", 1, 2, 4) in _rows(path, "SELECT * FROM entry_month")
    r = run("list", "--json")  # opening migrates
    assert r.code == 0, r
    assert dict(_rows(path, "SELECT uuid, created_at FROM entry")) == {
        "a": "2024-01-01T10:00:00.000000Z", "b": "0999-05-01T10:00:00.000000Z",
        "c": "0099-12-31T23:00:00.000000Z", "e": "not a date at all"}
    assert _rows(path, "SELECT updated_at FROM entry WHERE uuid = 'b'") == [
        ("0999-05-02T10:00:00.000000Z",)]
    months = {m: rest for m, *rest in _rows(path, "SELECT * FROM entry_month")}
    assert months["0999-05"] == [1, 2, 4] and months["0099-12"] == [1, 3, 3]
    assert "999-05-" not in months and "99-12-3" not in months
    # Out of the range (before 1000-01-02): kept, padded; check names them.
    r = run("check")
    assert r.code == 4, r
    lines = [line for line in r.out.splitlines() if line.startswith("date:")]
    assert [line.split()[2] for line in lines] == ["2", "3", "4"], r.out
    assert "entries per month" not in r.out
    assert run("edit", "2", "--date", "1999-05-01 10:00").code == 0
    assert run("edit", "3", "--date", "1999-12-31 23:00").code == 0
    assert run("edit", "4", "--date", "2020-01-01").code == 0
    assert run("check").code == 0
    assert len(json.loads(run("list", "--json").out)) == 4


# The entry columns up to version 6 (7 adds grams).
_V4_ENTRY = ("SELECT id, uuid, created_at, updated_at, title, body, starred, version, tags "
             "FROM entry ORDER BY id")


def test_migration_5_on_a_healthy_diary_changes_no_row(path):
    store.create(path, PASSPHRASE, schema_version=4)
    _raw(path, _insert("a", "2024-01-01T10:00:00.000000Z"),
         _insert("b", "1999-05-01T10:00:00.000000Z"))
    before = _rows(path, _V4_ENTRY), _rows(path, "SELECT * FROM entry_month ORDER BY month")
    with store.open_diary(path, PASSPHRASE) as d:
        assert health.problems(d) == []
    assert (_rows(path, _V4_ENTRY),
            _rows(path, "SELECT * FROM entry_month ORDER BY month")) == before


def _ids(run):
    return sorted(e["id"] for e in json.loads(run("list", "--json", "-n", "0").out))


def test_ids_are_never_reused(run, made):
    for text in ("one", "two"):
        assert run("add", text).code == 0
    assert run("delete", "2", "--yes").code == 0
    assert run("add", "three").code == 0
    assert _ids(run) == [1, 3]


def test_migration_6_seeds_the_sequence_from_the_highest_id_ever_given(run, path):
    store.create(path, PASSPHRASE, schema_version=5)
    _raw(path, _insert("a", "2024-01-01T10:00:00.000000Z", body="heron one"),
         _insert("b", "2024-02-01T10:00:00.000000Z", body="two"),
         _insert("c", "2024-02-02T10:00:00.000000Z", body="three"),
         ("INSERT INTO tag (name, key) VALUES ('bird', 'bird')",),
         ("INSERT INTO entry_tag (entry_id, tag_id) VALUES (1, 1)",),
         ("UPDATE entry SET tags = 't1' WHERE id = 1",),
         ("DELETE FROM entry WHERE id IN (2, 3)",))
    # entry's own max(id) is 1 now; entry_month remembers 3
    r = run("add", "four")  # opening migrates
    assert r.code == 0 and r.out.strip() == "4", r
    assert _ids(run) == [1, 4]
    r = run("search", "heron")
    assert r.code == 0 and "heron one" in r.out, r
    r = run("list", "--tag", "bird", "--json")
    assert [e["id"] for e in json.loads(r.out)] == [1], r
    assert run("delete", "4", "--yes").code == 0
    assert run("add", "five").out.strip() == "5"
    assert run("check").code == 0
    sql = _rows(path, "SELECT sql FROM sqlite_master WHERE name = 'entry'")[0][0]
    assert "AUTOINCREMENT" in sql


def test_migration_6_on_an_empty_diary(run, path):
    store.create(path, PASSPHRASE, schema_version=5)
    assert run("add", "first").out.strip() == "1"
    assert run("check").code == 0


def test_migration_9_adds_the_memo_table_and_changes_nothing_else(run, path):
    """The diary's key-value memo (memo.py), added to a version 8 diary."""
    from diary import memo

    store.create(path, PASSPHRASE, schema_version=8)
    _raw(path, _insert("a", "2024-01-01T10:00:00.000000Z", body="kept"))
    assert _rows(path, "SELECT name FROM sqlite_master WHERE name = 'memo'") == []
    rows = "SELECT id, uuid, created_at, updated_at, title, body, starred, version, tags FROM entry"
    before = _rows(path, rows)
    with store.open_diary(path, PASSPHRASE) as d:  # opening migrates
        assert memo.get(d, "editor-warned:code") is None
        memo.put(d, "editor-warned:code", "shown")
        memo.put(d, "editor-warned:code", "again")
        assert memo.get(d, "editor-warned:code") == "again"
    assert _rows(path, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]
    assert _rows(path, rows) == before  # later migrations add columns
    assert run("check").code == 0


def test_migration_10_derives_grams_and_rebuilds_the_index(run, path):
    store.create(path, PASSPHRASE, schema_version=9)
    _raw(path, ("INSERT INTO entry (uuid, created_at, updated_at, title, body) VALUES "
                "('a', '2024-01-01T10:00:00.000000Z', '2024-01-01T10:00:00.000000Z', "
                "'旅行', '今天我们去了北京的故宫博物院')",),
         _insert("b", "2024-02-01T10:00:00.000000Z", body="heron by the river"),
         _insert("c", "2024-03-01T10:00:00.000000Z", body="東京で寿司を食べました"),
         ("INSERT INTO tag (name, key) VALUES ('bird', 'bird')",),
         ("INSERT INTO entry_tag (entry_id, tag_id) VALUES (2, 1)",),
         ("UPDATE entry SET tags = 't1' WHERE id = 2",))
    r = run("search", "故宫", "--json")  # opening migrates
    assert r.code == 0, r
    assert [h["id"] for h in json.loads(r.out)] == [1]
    assert _rows(path, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]
    assert _rows(path, "SELECT id, grams FROM entry ORDER BY id") == [
        (1, grams.derive("旅行", "今天我们去了北京的故宫博物院")), (2, ""),
        (3, grams.derive("", "東京で寿司を食べました"))]
    for query, ids in (("寿司", [3]), ("heron", [2]), ("bird", [2]), ("博物院", [1]),
                       ("旅", [1])):
        r = run("search", query, "--json")
        assert [h["id"] for h in json.loads(r.out)] == ids, (query, r)
    assert run("check").code == 0
    # the triggers that replaced the old ones keep the index in step
    assert run("edit", "3", stdin="大阪でたこ焼き").code == 0
    assert json.loads(run("search", "寿司", "--json").out) == []
    assert [h["id"] for h in json.loads(run("search", "たこ焼", "--json").out)] == [3]
    assert run("delete", "1", "--yes").code == 0
    assert json.loads(run("search", "故宫", "--json").out) == []
    assert run("check").code == 0


def test_migration_11_gives_each_entry_a_vector_and_the_file_a_device(run, path):
    store.create(path, PASSPHRASE, schema_version=10)
    _raw(path, _insert("a", "2024-01-01T10:00:00.000000Z", body="first"),
         _insert("b", "2024-02-01T10:00:00.000000Z", body="second"),
         ("INSERT INTO tag (name, key) VALUES ('bird', 'bird')",),
         ("INSERT INTO entry_tag (entry_id, tag_id) VALUES (2, 1)",),
         ("UPDATE entry SET tags = 't1' WHERE id = 2",))
    before = _rows(path, "SELECT id, uuid, created_at, updated_at, title, body, starred, "
                         "version, tags FROM entry ORDER BY id")
    with store.open_diary(path, PASSPHRASE) as d:  # opening migrates
        device = replica.device_id(d)
        assert len(device) == 32 and int(device, 16) >= 0
        records, mark = replica.changes(d)
        assert mark == 1
        assert {r["uuid"]: (r["vv"], r["tags"]) for r in records} == {
            "a": ({device: 1}, []), "b": ({device: 1}, ["bird"])}
        assert replica.changes(d, since=mark) == ([], 1)
        # The triggers run from now on: an edit is this device's next version.
        entries.edit(d, 1, body="first, edited")
        (edited,), mark2 = replica.changes(d, since=mark)
        assert edited["uuid"] == "a" and edited["vv"] == {device: 2} and mark2 > mark
        entries.delete(d, [2])
        (gone,), _ = replica.changes(d, since=mark2)
        assert gone == {"type": "tombstone", "uuid": "b", "deleted_at": gone["deleted_at"],
                        "vv": {device: 2}, "device": device}  # deleting is an event
    assert _rows(path, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]
    assert _rows(path, "SELECT id, uuid, created_at, updated_at, title, body, starred, "
                       "version, tags FROM entry WHERE id = 1")[0][:3] == before[0][:3]
    assert run("check").code == 0


def test_migration_11_on_an_empty_diary_starts_at_mark_0(path):
    store.create(path, PASSPHRASE, schema_version=10)
    with store.open_diary(path, PASSPHRASE) as d:
        assert replica.changes(d) == ([], 0)
        assert replica.device_id(d)


def test_two_copies_migrated_apart_get_different_devices(path, tmp_path):
    import shutil

    store.create(path, PASSPHRASE, schema_version=10)
    _raw(path, _insert("a", "2024-01-01T10:00:00.000000Z", body="same"))
    copy = str(tmp_path / "copy.db")
    shutil.copy(path, copy)
    with store.open_diary(path, PASSPHRASE) as one, store.open_diary(copy, PASSPHRASE) as two:
        assert replica.device_id(one) != replica.device_id(two)
        # The same entry on both, no edit since: joining their lineage is no conflict.
        report = replica.apply(one, replica.changes(two)[0])
        assert (report.conflicts, report.taken, report.joined) == (0, 0, 1)
        report = replica.apply(two, replica.changes(one)[0])  # both heads
        assert (report.conflicts, report.taken, report.joined) == (0, 0, 1)
        assert replica.changes(one)[0][0]["vv"] == replica.changes(two)[0][0]["vv"]


def test_migration_12_adds_the_heads_and_never_takes_an_old_conflict_copy_away(path):
    """A schema-11 file: its conflict copies (vector {}) keep that vector (a
    deletion or edit of one made elsewhere still wins: the tests below), and
    the heads of an entry (replica_apply.py) never take one of them away,
    even one whose uuid is that of a copy of the entry's current version."""
    from diary.replica_apply import copy_uuid

    created = "2024-01-01T10:00:00.000000Z"
    old_copy = copy_uuid("plain", replica.content_hash(created, "", "x", 0, []))
    store.create(path, PASSPHRASE, schema_version=11)
    _raw(path, _insert("plain", created),
         _insert(old_copy, "2024-01-02T10:00:00.000000Z"),
         ("UPDATE entry_lineage SET vv = '{}' WHERE entry_id = "
          "(SELECT id FROM entry WHERE uuid = ?)", (old_copy,)))
    before = dict(_rows(path, "SELECT e.uuid, l.vv FROM entry e JOIN entry_lineage l "
                              "ON l.entry_id = e.id"))
    with store.open_diary(path, PASSPHRASE) as d:
        assert health.problems(d) == []
        [plain] = [r for r in replica.changes(d)[0] if r["uuid"] == "plain"]
        later = dict(plain, body="edited elsewhere", vv=dict(plain["vv"], elsewhere=1))
        del later["hash"]
        assert replica.apply(d, [later]).taken == 1
        with d.bound():
            assert sorted(e.uuid for e in entries.list_entries(d)) == sorted(
                ["plain", old_copy])
    assert _rows(path, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]
    after = dict(_rows(path, "SELECT e.uuid, l.vv FROM entry e JOIN entry_lineage l "
                             "ON l.entry_id = e.id"))
    assert after[old_copy] == before[old_copy] == "{}"
    assert _rows(path, "SELECT count(*) FROM entry_head") == [(0,)]


def _two_schema_11_copies_of_an_old_conflict_copy(tmp_path):
    """Two devices at schema 11, each holding the same conflict copy made by
    the older code (one uuid, the same content, vector {})."""
    paths = [str(tmp_path / n) for n in ("one.db", "two.db")]
    for p in paths:
        store.create(p, PASSPHRASE, schema_version=11)
        _raw(p, _insert("old-copy", "2024-01-02T10:00:00.000000Z", body="the copy"),
             ("UPDATE entry_lineage SET vv = '{}'",))
    return paths


def test_an_old_conflict_copy_deleted_on_one_device_before_the_other_upgrades_stays_deleted(
        tmp_path):
    """Deleting a conflict copy is how one resolves a conflict. Migration 12
    gave each device's untouched old copies a version of its own device, so
    a deletion made before that device upgraded (its vector: the deleter's
    device only) no longer dominated them: it was refused as against a
    concurrent edit, and the deleted copy came back everywhere."""
    one, two = _two_schema_11_copies_of_an_old_conflict_copy(tmp_path)
    _raw(two, ("DELETE FROM entry WHERE uuid = 'old-copy'",))  # before upgrading
    with store.open_diary(one, PASSPHRASE) as a, store.open_diary(two, PASSPHRASE) as b:
        report = replica.apply(a, replica.changes(b)[0])
        assert (report.deleted, report.kept) == (1, 0)
        replica.apply(b, replica.changes(a)[0])
        for d in (a, b):
            with d.bound():
                assert [e.uuid for e in entries.list_entries(d)] == []


def test_an_old_conflict_copy_edited_on_one_device_before_the_other_upgrades_is_no_conflict(
        tmp_path):
    one, two = _two_schema_11_copies_of_an_old_conflict_copy(tmp_path)
    _raw(two, ("UPDATE entry SET body = 'kept this one' WHERE uuid = 'old-copy'",))
    with store.open_diary(one, PASSPHRASE) as a, store.open_diary(two, PASSPHRASE) as b:
        report = replica.apply(a, replica.changes(b)[0])
        assert (report.taken, report.conflicts) == (1, 0)
        replica.apply(b, replica.changes(a)[0])
        for d in (a, b):
            with d.bound():
                assert [e.body for e in entries.list_entries(d)] == ["kept this one"]
