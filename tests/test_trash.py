"""The trash (trash.py) and the bulk selection and edit of entries.py."""

import datetime as dt

import pytest

from diary import entries, health, search, store, tags, trash
from diary.errors import BadInput, Conflict, NotFound

from conftest import PASSPHRASE

UTC = dt.timezone.utc


def at(day, hour=12):
    return dt.datetime(2024, 3, day, hour, tzinfo=UTC)


def _ids(diary, **filters):
    return [e.id for e in entries.list_entries(diary, newest_first=False, **filters)]


def test_delete_moves_to_the_trash_and_out_of_every_view(diary):
    a = entries.add(diary, "river walk #walks/river", title="Sunday", tags=["people/anna"],
                    starred=True, created_at=at(2))
    b = entries.add(diary, "another river", created_at=at(3))
    assert entries.delete(diary, [a.id]) == 1
    assert _ids(diary) == [b.id]
    assert [h.entry.id for h in search.search(diary, "river").hits] == [b.id]
    assert entries.count(diary) == 1
    counts = {n.path: n.count for n in _walk(tags.tree(diary))}
    assert counts["people/anna"] == 0 and counts["walks/river"] == 0
    [item] = trash.items(diary)
    assert (item.id, item.uuid, item.title, item.body, item.starred, item.version) == (
        a.id, a.uuid, "Sunday", "river walk #walks/river", True, 1)
    assert item.created_at == at(2)
    assert item.tag_list == ["people/anna", "walks/river"]
    assert dict(item.links) == {"people/anna": tags.EXPLICIT, "walks/river": tags.INLINE}
    assert health.problems(diary) == []


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_restore_is_a_new_edit_with_the_same_id_uuid_and_tags(diary):
    a = entries.add(diary, "river walk #walks/river", title="Sunday", tags=["people/anna"],
                    created_at=at(2))
    entries.add(diary, "keeps the tag alive #walks/lake")
    entries.delete(diary, [a.id])
    tags.delete(diary, "people/anna")  # gone meanwhile: re-created
    later = dt.datetime(2030, 1, 1, tzinfo=UTC)
    [(old, back)] = trash.restore(diary, [a.id], now=later)
    assert (old, back.id, back.uuid, back.version) == (a.id, a.id, a.uuid, a.version + 1)
    assert back.updated_at == later and back.created_at == at(2)
    assert back.tag_list == ["people/anna", "walks/river"]
    assert trash.items(diary) == []
    assert [h.entry.id for h in search.search(diary, "river").hits] == [a.id]
    assert [h.entry.id for h in search.search(diary, "tag:people/anna").hits] == [a.id]
    # The links keep their sources: the inline tag goes with its text.
    entries.edit(diary, a.id, body="no tags now")
    assert entries.get(diary, a.id).tag_list == ["people/anna"]
    assert health.problems(diary) == []


def test_restore_takes_a_new_id_when_its_own_is_taken(diary):
    a = entries.add(diary, "a")
    entries.delete(diary, [a.id])
    # Only another tool gives an id twice (ids are AUTOINCREMENT).
    diary.db.execute_sql("INSERT INTO entry (id, uuid, created_at, updated_at, body) "
                         "VALUES (?, 'other', '2024-01-01T00:00:00.000000Z', "
                         "'2024-01-01T00:00:00.000000Z', 'squatter')", (a.id,))
    [(old, back)] = trash.restore(diary, [a.id])
    assert old == a.id and back.id != a.id and back.body == "a" and back.uuid == a.uuid


def test_restore_refuses_an_entry_back_in_the_diary_and_changes_nothing(diary):
    a = entries.add(diary, "a")
    b = entries.add(diary, "b")
    entries.delete(diary, [a.id, b.id])
    entries.add(diary, "a again", uuid=a.uuid)  # as an import or merge would
    with pytest.raises(Conflict, match="in the diary again"):
        trash.restore(diary, [b.id, a.id])
    assert sorted(i.id for i in trash.items(diary)) == [a.id, b.id]  # all or none
    with pytest.raises(NotFound, match="in the trash"):
        trash.restore(diary, [b.id, 999])
    assert trash.count(diary) == 2


def test_deleting_an_entry_again_replaces_its_older_copy(diary):
    a = entries.add(diary, "first")
    entries.delete(diary, [a.id])
    again = entries.add(diary, "second", uuid=a.uuid)
    entries.delete(diary, [again.id])
    [item] = trash.items(diary)
    assert (item.id, item.body) == (again.id, "second")


def test_unknown_id_deletes_nothing(diary):
    a = entries.add(diary, "a")
    with pytest.raises(NotFound, match="99"):
        entries.delete(diary, [a.id, 99])
    assert trash.count(diary) == 0 and entries.count(diary) == 1


def test_delete_without_keep_is_for_good(diary):
    a = entries.add(diary, "a")
    assert entries.delete(diary, [a.id], keep=False) == 1
    assert trash.count(diary) == 0 and entries.count(diary) == 0


def test_purge_takes_only_what_is_due_and_empty_takes_all(diary):
    now = dt.datetime(2024, 6, 1, tzinfo=UTC)
    old, new = entries.add(diary, "old"), entries.add(diary, "new")
    trash.move(diary, [old.id], now=now - dt.timedelta(days=31))
    trash.move(diary, [new.id], now=now - dt.timedelta(days=29))
    assert trash.purge_expired(diary, 30, now=now) == 1
    assert [i.id for i in trash.items(diary)] == [new.id]
    assert trash.purge_expired(diary, 30, now=now) == 0
    for days in (None, 10 ** 12, 2 ** 63 - 1, 400_000):  # never, or before any date
        assert trash.purge_expired(diary, days, now=now) == 0
    assert trash.purge_expired(diary, 0, now=now) == 1
    entries.delete(diary, [entries.add(diary, "x").id, entries.add(diary, "y").id])
    assert trash.empty(diary) == 2 and trash.count(diary) == 0
    assert health.problems(diary) == []


def test_purge_in_a_read_only_session_writes_nothing(made):
    with store.open_diary(made, PASSPHRASE) as d:
        trash.move(d, [entries.add(d, "x").id], now=at(1))
    with store.open_diary(made, PASSPHRASE, read_only=True) as d:
        assert trash.purge_expired(d, 1) == 0
        assert [i.body for i in trash.items(d)] == ["x"]


def test_health_names_unreadable_dates_in_the_trash(diary):
    entries.delete(diary, [entries.add(diary, "x").id])
    diary.db.execute_sql("UPDATE trash SET deleted_at = 'garbage'")
    assert any("trash" in p for p in health.problems(diary))
    [item] = trash.items(diary)  # shown raw, not an exception
    assert item.purge_after(30) is None


# --- the selection and bulk edits -------------------------------------------------

def test_matching_combines_query_and_filters(diary):
    a = entries.add(diary, "river at dawn", created_at=at(1), tags=["walks"])
    b = entries.add(diary, "river at dusk", created_at=at(5), starred=True)
    c = entries.add(diary, "a lake", created_at=at(3), tags=["walks"])
    assert entries.matching(diary) == [a.id, c.id, b.id]
    assert entries.matching(diary, query="river") == [a.id, b.id]
    assert entries.matching(diary, query="river", tags=["walks"]) == [a.id]
    assert entries.matching(diary, query="river", starred=True) == [b.id]
    assert entries.matching(diary, since=at(2), until=at(4)) == [c.id]
    assert entries.matching(diary, query="nowhere") == []
    with pytest.raises(BadInput):
        entries.matching(diary, query="")


def test_matching_finds_every_match_beyond_the_search_cap(diary, monkeypatch):
    monkeypatch.setattr(search, "DEFAULT", search.Tuning(cap=3))
    ids = [entries.add(diary, "word %d" % i, created_at=at(1 + i)).id for i in range(8)]
    assert entries.matching(diary, query="word") == ids


def test_edit_many_is_one_transaction(diary):
    a = entries.add(diary, "a", tags=["work/acme"])
    b = entries.add(diary, "b")
    assert entries.edit_many(diary, [a.id, b.id], created_at=at(9), starred=True,
                             add_tags=["done"], remove_tags=["work/acme"]) == 2
    for e in entries.get_many(diary, [a.id, b.id]):
        assert (e.created_at, e.starred, e.tag_list, e.version) == (at(9), True, ["done"], 2)
    # A failure half-way leaves every entry as it was.
    with pytest.raises(NotFound):
        entries.edit_many(diary, [a.id, 99], starred=False)
    assert entries.get(diary, a.id).starred is True
    with pytest.raises(BadInput):
        entries.edit_many(diary, [a.id], add_tags=["bad//path"])
    assert health.problems(diary) == []


# --- the commands -------------------------------------------------------------------

import json  # noqa: E402


def _listed(run):
    return [(r["id"], r["body"]) for r in json.loads(run("list", "--json", "-n", "0").out)]


def test_delete_trash_restore_round_trip(run, made):
    run("add", "--tag", "work/acme", "--star", "kick-off #people/anna")
    run("add", "second")
    r = run("delete", "1", "--yes")
    assert r.code == 0 and "Moved 1 entry to the trash" in r.err and "30 days" in r.err
    assert _listed(run) == [(2, "second")]
    r = run("trash", "--json")
    [rec] = json.loads(r.out)
    assert (rec["id"], rec["body"], rec["starred"], rec["tags"]) == (
        1, "kick-off #people/anna", True, ["people/anna", "work/acme"])
    deleted = dt.datetime.fromisoformat(rec["deleted_at"])
    assert dt.datetime.fromisoformat(rec["purge_after"]) - deleted == dt.timedelta(days=30)
    r = run("trash")  # piped: one plain line per entry, like list
    assert r.out.startswith("1\t") and "kick-off" in r.out and "1 entry in the trash" in r.err
    r = run("restore", "1")
    assert (r.code, r.out) == (0, "1\n") and "Restored 1 entry." in r.err
    [back] = [x for x in json.loads(run("list", "--json").out) if x["id"] == 1]
    assert (back["version"], back["tags"], back["starred"]) == (
        2, ["people/anna", "work/acme"], True)
    r = run("trash")
    assert r.out == "" and "The trash is empty." in r.err
    assert run("check").code == 0


def test_restore_unknown_ids_restores_nothing(run, made):
    run("add", "a")
    run("delete", "1", "--yes")
    r = run("restore", "1", "7")
    assert r.code == 1 and "no entry with id 7 in the trash" in r.err
    assert _listed(run) == []
    assert run("restore", "x").code == 2


def test_trash_empty_asks_on_a_terminal_and_needs_yes_in_scripts(run, made):
    run("add", "a")
    run("add", "b")
    run("delete", "1", "2", "--yes")
    r = run("trash", "empty")
    assert r.code == 2 and "--yes" in r.err
    r = run("trash", "empty", tty=True, stdin="n\n")
    assert r.code == 1 and "Delete the 2 entries in the trash for good?" in r.err
    assert len(json.loads(run("trash", "--json").out)) == 2
    r = run("trash", "empty", tty=True, stdin="y\n")
    assert r.code == 0 and "2 entries deleted for good" in r.err
    assert json.loads(run("trash", "--json").out) == []
    r = run("trash", "empty", "--yes")
    assert r.code == 0 and "The trash is empty." in r.err
    assert run("trash", "--yes").code == 2
    assert run("trash", "burn").code == 2


def test_trash_days_0_deletes_for_good(run, made):
    run("add", "a")
    r = run("delete", "1", "--yes", environ={"DIARY_TRASH_DAYS": "0"})
    assert r.code == 0 and "for good" in r.err
    assert json.loads(run("trash", "--json").out) == []
    run("add", "b")
    r = run("delete", "2", tty=True, stdin="n\n", environ={"DIARY_TRASH_DAYS": "0"})
    assert "Delete for good 1 entry?" in r.err


def test_opening_for_writing_purges_what_is_due(run, made):
    run("add", "old")
    run("add", "new")
    with store.open_diary(made, PASSPHRASE) as d:
        trash.move(d, [1], now=dt.datetime(2000, 1, 1, tzinfo=UTC))
        trash.move(d, [2])
    assert len(json.loads(run("trash", "--json").out)) == 2  # reading purges nothing
    assert run("add", "c").code == 0  # any write
    assert [r["id"] for r in json.loads(run("trash", "--json").out)] == [2]


def test_migration_7_adds_the_trash_to_a_version_6_diary(run, path):
    store.create(path, PASSPHRASE, schema_version=6)
    conn = store.keyed_connection(path, PASSPHRASE, store.KDF_ITER)
    try:
        conn.execute("INSERT INTO entry (uuid, created_at, updated_at, body) VALUES "
                     "('u', '2024-01-01T10:00:00.000000Z', '2024-01-01T10:00:00.000000Z', 'x')")
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'trash'"
                            ).fetchone() == (0,)
    finally:
        conn.close()
    assert run("delete", "1", "--yes").code == 0  # opening migrates
    with store.open_diary(path, PASSPHRASE) as d:
        assert d.db.execute_sql("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        assert [(i.id, i.uuid) for i in trash.items(d)] == [(1, "u")]
        assert health.problems(d) == []


def test_bulk_delete_by_query_and_filters(run, made):
    for text, date in (("river walk", "2024-01-05"), ("river swim", "2024-03-05"),
                       ("lake", "2024-03-06"), ("river again", "2024-04-01")):
        run("add", "--date", date, text)
    run("edit", "4", "--tag", "keep")
    r = run("delete", "-q", "river", "--since", "2024-02-01")
    assert r.code == 2 and "--yes" in r.err
    r = run("delete", "-q", "river", "--since", "2024-02-01", tty=True, stdin="n\n")
    assert r.code == 1 and "Move 2 entries to the trash?" in r.err and "#2 river swim" in r.err
    assert len(_listed(run)) == 4
    r = run("delete", "-q", "river", "--since", "2024-02-01", "--yes")
    assert r.code == 0 and "Moved 2 entries" in r.err
    assert sorted(_listed(run)) == [(1, "river walk"), (3, "lake")]
    r = run("delete", "-q", "nowhere", "--yes")
    assert r.code == 0 and "No entry matches" in r.err
    r = run("delete", "--tag", "nothing/here", "--yes")
    assert r.code == 0 and "No entry matches" in r.err
    assert run("delete", "--starred", "--yes").code == 0
    assert len(_listed(run)) == 2
    # Ids and filters together, neither, a bad query or date: usage, nothing deleted.
    assert run("delete", "1", "-q", "river", "--yes").code == 2
    assert run("delete", "--yes").code == 2
    assert run("delete", "-q", "", "--yes").code == 1
    assert run("delete", "--since", "not a date", "--yes").code == 1
    assert len(_listed(run)) == 2
    assert run("restore", "2", "4").code == 0
    assert len(_listed(run)) == 4


def test_bulk_delete_names_at_most_ten_and_counts_the_rest(run, made):
    for i in range(12):
        run("add", "note %d" % i)
    r = run("delete", "-q", "note", tty=True, stdin="y\n")
    assert r.code == 0 and "... and 2 more" in r.err and "Move 12 entries" in r.err
    assert len(json.loads(run("trash", "--json").out)) == 12


def test_bulk_edit_changes_every_match_in_one_go(run, made):
    run("add", "--tag", "work/old", "plan A")
    run("add", "--tag", "work/old", "plan B")
    run("add", "other")
    r = run("edit", "--tagged", "work/old", "--tag", "work/archive", "--untag", "work/old",
            "--star", "--date", "2023-05-01")
    assert (r.code, r.out) == (0, "1\n2\n") and "Changed 2 entries." in r.err
    recs = {x["id"]: x for x in json.loads(run("list", "--json").out)}
    for i in (1, 2):
        assert recs[i]["tags"] == ["work/archive"] and recs[i]["starred"]
        assert recs[i]["created_at"].startswith("2023-05-01")
    assert recs[3]["tags"] == [] and not recs[3]["starred"]
    r = run("edit", "-q", "plan", "--unstar", "--json")
    assert [x["starred"] for x in json.loads(r.out)] == [False, False]
    r = run("edit", "-q", "nothing", "--star")
    assert r.code == 0 and "No entry matches" in r.err
    # One transaction: an unknown tag name is fine, a bad path changes nothing.
    assert run("edit", "-q", "plan", "--tag", "a//b").code == 1
    assert [x["tags"] for x in json.loads(run("list", "--json").out)] == [
        [], ["work/archive"], ["work/archive"]]


def test_bulk_edit_usage_errors(run, made):
    run("add", "x")
    r = run("edit", "-q", "x")
    assert r.code == 2 and "say what changes" in r.err
    assert run("edit", "-q", "x", "--title", "t").code == 2
    assert run("edit", "-q", "x", "--stdin", stdin="new").code == 2
    assert run("edit", "1", "-q", "x", "--star").code == 2
    r = run("edit")
    assert r.code == 2 and "give the id" in r.err
    assert json.loads(run("show", "1", "--json").out)[0]["version"] == 1


def test_trash_commands_in_a_read_only_session(run, made):
    run("add", "a")
    run("delete", "1", "--yes")
    r = run("trash", "--read-only", "--json")
    assert r.code == 0 and len(json.loads(r.out)) == 1
    for argv in (["restore", "1"], ["trash", "empty", "--yes"],
                 ["delete", "-q", "a", "--yes"], ["edit", "-q", "a", "--star"]):
        assert run(*argv, "--read-only").code == 1, argv
    assert len(json.loads(run("trash", "--json").out)) == 1


def test_exports_and_merges_leave_the_trash_out_and_backups_keep_it(run, made, tmp_path):
    run("add", "kept")
    run("add", "thrown away")
    run("delete", "2", "--yes")
    r = run("export", "--format", "jsonl")
    assert [json.loads(line)["body"] for line in r.out.splitlines()] == ["kept"]
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    assert run("merge", made, diary_path=other).code == 0
    assert _listed(run) == [(1, "kept")]
    with store.open_diary(other, PASSPHRASE) as d:
        assert [e.body for e in entries.list_entries(d)] == ["kept"] and trash.count(d) == 0
    backup = str(tmp_path / "backup.db")
    assert run("backup", backup).code == 0
    with store.open_diary(backup, PASSPHRASE, read_only=True) as d:
        assert [i.body for i in trash.items(d)] == ["thrown away"]


def test_health_names_unreadable_tag_links_in_the_trash_and_restore_still_works(diary):
    a = entries.add(diary, "x", tags=["t"])
    entries.delete(diary, [a.id])
    diary.db.execute_sql("UPDATE trash SET tags = 'not json'")
    assert any("tag list" in p for p in health.problems(diary))
    [(_, back)] = trash.restore(diary, [a.id])
    assert back.body == "x" and back.tag_list == []
    assert health.problems(diary) == []


def test_an_entry_with_an_unreadable_date_goes_to_the_trash_and_back_as_it_was(diary):
    a = entries.add(diary, "x")
    diary.db.execute_sql("UPDATE entry SET created_at = '2020-02-31T00:00:00.000000Z'")
    entries.delete(diary, [a.id])
    assert health.problems(diary) == []  # the trash keeps it faithfully: no damage
    trash.restore(diary, [a.id])
    raw = diary.db.execute_sql("SELECT created_at FROM entry").fetchone()[0]
    assert raw == "2020-02-31T00:00:00.000000Z"
    assert any(p.startswith("date:") for p in health.problems(diary))


def test_a_restored_entry_is_found_by_its_cjk_words_and_checks_clean(run, made):
    """restore writes the entry row itself: it must derive the grams column as
    every write path does (grams.py), or a restored Chinese entry is unfindable
    and `check` names it."""
    assert run("add", "今天我们去了北京的故宫博物院").code == 0
    assert run("delete", "1", "--yes").code == 0
    assert json.loads(run("search", "故宫", "--json").out) == []
    assert run("restore", "1").code == 0
    assert [h["id"] for h in json.loads(run("search", "故宫", "--json").out)] == [1]
    assert run("check").code == 0
