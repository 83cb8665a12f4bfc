"""replica.py: version lineage, changes since a mark, apply; each case of the
lineage rules, the write paths that keep it, and records that must be refused."""

import copy
import json

import pytest

from diary import entries, memo, replica, store, tags, trash
from diary.errors import BadInput, ReadOnly

from conftest import PASSPHRASE


@pytest.fixture
def trio(tmp_path):
    """Three open diaries (three devices), empty."""
    opened = []
    for name in "abc":
        p = str(tmp_path / ("%s.db" % name))
        store.create(p, PASSPHRASE)
        opened.append(store.open_diary(p, PASSPHRASE))
    yield opened
    for d in opened:
        d.close()


def sync(src, dst, since=0):
    """dst takes everything src has: its Report."""
    return replica.apply(dst, replica.changes(src, since)[0])


def state(d):
    """uuid -> everything an entry shows, but its local id."""
    with d.bound():
        return {e.uuid: (e.created_at, e.updated_at, e.title, e.body, e.starred,
                         tuple(t.casefold() for t in e.tag_list))
                for e in entries.list_entries(d)}


def add(d, body, **kw):
    with d.bound():
        return entries.add(d, body, **kw)


def edit(d, uuid, **kw):
    with d.bound():
        (entry_id,) = [e.id for e in entries.list_entries(d) if e.uuid == uuid]
        return entries.edit(d, entry_id, **kw)


def delete(d, uuid):
    with d.bound():
        (entry_id,) = [e.id for e in entries.list_entries(d) if e.uuid == uuid]
        entries.delete(d, [entry_id])


def bodies(d):
    return sorted(v[3] for v in state(d).values())


# --- the two diaries at once -----------------------------------------------------------

def test_two_diaries_are_read_and_written_through_the_same_models(trio):
    a, b, _ = trio
    add(a, "in a")
    add(b, "in b")
    assert bodies(a) == ["in a"] and bodies(b) == ["in b"]
    # The latest opened is bound outside any block; a closed diary binds nothing.
    with a.bound():
        assert [e.body for e in entries.list_entries(a)] == ["in a"]
        with b.bound():
            assert [e.body for e in entries.list_entries(b)] == ["in b"]
        assert [e.body for e in entries.list_entries(a)] == ["in a"]


def test_closing_diaries_in_any_order_leaves_the_models_on_one_still_open(tmp_path):
    paths = [str(tmp_path / n) for n in ("x.db", "y.db")]
    for p in paths:
        store.create(p, PASSPHRASE)
    x = store.open_diary(paths[0], PASSPHRASE)
    y = store.open_diary(paths[1], PASSPHRASE)
    entries.add(y, "in y")  # y, the latest, is bound
    x.close()  # closed first, though opened first
    assert [e.body for e in entries.list_entries(y)] == ["in y"]
    y.close()
    assert store.Entry._meta.database is None


# --- changes and marks ------------------------------------------------------------------

def test_changes_since_a_mark_are_only_the_later_ones(trio):
    a, _, _ = trio
    first = add(a, "one")
    records, mark = replica.changes(a)
    assert [r["uuid"] for r in records] == [first.uuid]
    assert json.loads(json.dumps(records)) == records  # plain JSON
    assert replica.changes(a, mark) == ([], mark)
    second = add(a, "two")
    edit(a, first.uuid, starred=True)
    records, mark2 = replica.changes(a, mark)
    assert {r["uuid"] for r in records} == {first.uuid, second.uuid} and mark2 > mark
    assert replica.mark(a) == mark2
    for bad in (-1, "3", 1.5, None, True):
        with pytest.raises(BadInput):
            replica.changes(a, bad)


def test_an_edit_that_changes_nothing_is_no_new_version(trio):
    a, _, _ = trio
    e = add(a, "same", starred=True)
    mark = replica.mark(a)
    edit(a, e.uuid, starred=True, body="same")
    assert replica.changes(a, mark) == ([], mark)


def test_adding_a_tag_an_entry_has_changes_nothing_not_even_its_date(trio):
    """Found by the state machine: adding a tag the entry already carries
    wrote a new updated_at but no new version, so that copy's date differed
    from every other's for good (a conflict copy's too)."""
    a, b, _ = trio
    e = add(a, "same", tags=["a"])
    sync(a, b)
    before = state(a)
    mark = replica.mark(a)
    edit(a, e.uuid, add_tags=["A"], starred=False, body="same")
    assert state(a) == before == state(b)
    assert replica.changes(a, mark) == ([], mark)


def test_applying_twice_changes_nothing_and_moves_no_mark(trio):
    a, b, _ = trio
    add(a, "one", tags=["x"])
    e = add(a, "two")
    delete(a, e.uuid)
    records, _ = replica.changes(a)
    first = replica.apply(b, records)
    assert (first.taken, first.recorded) == (1, 1)
    mark = replica.mark(b)
    again = replica.apply(b, copy.deepcopy(records))
    assert again.changed == 0 and again.unchanged == 2
    assert replica.mark(b) == mark


# --- the lineage rules ------------------------------------------------------------------

def test_a_version_that_descends_from_ours_is_taken_without_conflict(trio):
    a, b, _ = trio
    e = add(a, "first")
    sync(a, b)
    edit(b, e.uuid, body="edited on b")
    report = sync(b, a)
    assert (report.taken, report.conflicts) == (1, 0)
    assert state(a) == state(b) and bodies(a) == ["edited on b"]


def test_an_older_version_changes_nothing(trio):
    a, b, _ = trio
    e = add(a, "first")
    old, _ = replica.changes(a)
    sync(a, b)
    edit(b, e.uuid, body="newer")
    sync(b, a)
    report = replica.apply(a, old)
    assert (report.unchanged, report.changed) == (1, 0)
    assert bodies(a) == ["newer"]


def test_a_tag_added_on_one_side_is_an_edit_not_a_conflict(trio):
    a, b, _ = trio
    e = add(a, "text", tags=["a"])
    sync(a, b)
    edit(b, e.uuid, add_tags=["B/c"])
    report = sync(b, a)
    assert (report.taken, report.conflicts) == (1, 0)
    assert state(a)[e.uuid][5] == ("a", "b/c")


def test_a_tag_renamed_on_one_side_travels_with_its_entries(trio):
    a, b, _ = trio
    e = add(a, "text", tags=["work/acme"])
    f = add(a, "other", tags=["home"])
    sync(a, b)
    mark = replica.mark(b)
    with b.bound():
        tags.rename(b, "work", "job")
    records, _ = replica.changes(b, mark)
    assert [(r["uuid"], r["tags"]) for r in records] == [(e.uuid, ["job/acme"])]
    report = sync(b, a)
    assert report.conflicts == 0 and report.taken == 1
    assert state(a)[e.uuid][5] == ("job/acme",) and state(a)[f.uuid][5] == ("home",)


def test_concurrent_edits_keep_both_the_same_way_in_either_order(trio):
    a, b, c = trio
    e = add(a, "base", title="Shared")
    sync(a, b)
    sync(a, c)
    edit(a, e.uuid, body="edited on a")
    edit(b, e.uuid, body="edited on b")
    ra, _ = replica.changes(a)
    rb, _ = replica.changes(b)
    report = replica.apply(a, rb)
    assert report.conflicts == 1
    assert replica.apply(b, ra).conflicts == 1
    # c gets them in the other order: the same result
    replica.apply(c, rb)
    replica.apply(c, ra)
    assert state(a) == state(b) == state(c)
    assert sorted(bodies(a)) == ["edited on a", "edited on b"]
    (copy_,) = [v for v in state(a).values() if v[2] == "Conflict copy of Shared"]
    assert "conflict" in copy_[5]
    # exchanging again makes no second copy
    for x in (a, b, c):
        for y in (a, b, c):
            if x is not y:
                assert sync(x, y).changed == 0
    assert len(state(a)) == 2


def test_equal_vectors_with_different_content_are_a_conflict(trio):
    """A copy that kept its device id (copied while open, say) and was edited
    on both sides: the same counters, different texts."""
    a, b, _ = trio
    e = add(a, "base")
    sync(a, b)
    with b.bound():
        memo.put(b, replica.DEVICE_KEY, replica.device_id(a))
    edit(a, e.uuid, body="on a")
    edit(b, e.uuid, body="on b")
    assert replica.changes(a)[0][0]["vv"] == replica.changes(b)[0][0]["vv"]
    assert sync(a, b).conflicts == 1
    assert sync(b, a).conflicts == 1
    assert state(a) == state(b) and bodies(a) == ["on a", "on b"]


def test_concurrent_edits_to_the_same_content_join_without_a_copy(trio):
    a, b, _ = trio
    e = add(a, "base")
    sync(a, b)
    edit(a, e.uuid, body="same fix")
    edit(b, e.uuid, body="same fix")
    report = sync(b, a)
    assert (report.conflicts, report.joined) == (0, 1) and len(state(a)) == 1
    sync(a, b)
    assert state(a) == state(b)


# --- deletions ---------------------------------------------------------------------------

def test_a_deletion_travels_into_the_trash_and_an_old_version_does_not_bring_it_back(trio):
    a, b, c = trio
    e = add(a, "doomed")
    sync(a, b)
    sync(a, c)
    delete(a, e.uuid)
    report = sync(a, b)
    assert report.deleted == 1 and state(b) == {}
    with b.bound():
        assert [i.uuid for i in trash.items(b)] == [e.uuid]
    # c still has the old version: it does not come back to a or b
    assert sync(c, a).unchanged == 1 and sync(c, b).unchanged == 1
    assert state(a) == state(b) == {}
    assert sync(a, c).deleted == 1 and state(c) == {}


def test_a_tombstone_first_stops_the_older_version_arriving_later(trio):
    a, b, c = trio
    e = add(a, "doomed")
    old, _ = replica.changes(a)
    delete(a, e.uuid)
    assert sync(a, c).recorded == 1  # c never had it
    assert replica.apply(c, old).unchanged == 1
    assert state(c) == {}


def test_a_deletion_against_a_concurrent_edit_keeps_the_edit_and_reports_it(trio):
    a, b, c = trio
    e = add(a, "contested")
    sync(a, b)
    sync(a, c)
    delete(a, e.uuid)
    edit(b, e.uuid, body="edited meanwhile")
    tomb, _ = replica.changes(a)
    edited, _ = replica.changes(b)
    report = sync(a, b)
    assert (report.kept, report.kept_uuids, report.deleted) == (1, [e.uuid], 0)
    # a, which deleted it, keeps the edit too and says so; the deletion
    # stays beside it, overruled (not joined into the entry's vector)
    assert sync(b, a).kept == 1
    # c hears of both, deletion first: it keeps the edit and says so
    report = replica.apply(c, tomb)
    assert report.deleted == 1
    report = replica.apply(c, edited)
    assert (report.kept, report.kept_uuids) == (1, [e.uuid])
    assert state(c) == state(a) == state(b)
    assert replica.changes(c)[0][0]["vv"] == replica.changes(b)[0][0]["vv"]
    assert sync(b, c).changed == sync(c, b).changed == 0
    replica.apply(c, replica.changes(a)[0])
    assert state(c) == state(a) == state(b) and bodies(c) == ["edited meanwhile"]


def test_restoring_from_the_trash_is_an_edit_after_the_deletion(trio):
    a, b, _ = trio
    e = add(a, "back again")
    sync(a, b)
    delete(a, e.uuid)
    sync(a, b)
    assert state(b) == {}
    with a.bound():
        trash.restore(a, [trash.items(a)[0].id])
    report = sync(a, b)
    assert report.taken == 1 and bodies(b) == ["back again"]
    # and the old tombstone, sent again, does not delete it
    assert state(a) == state(b)


def test_purging_the_trash_keeps_the_tombstone(trio):
    a, b, _ = trio
    e = add(a, "gone for good")
    sync(a, b)
    delete(a, e.uuid)
    with a.bound():
        trash.empty(a)
    assert sync(a, b).deleted == 1
    delete_for_good = add(a, "never in the trash")
    sync(a, b)
    with a.bound():
        entries.delete(a, [delete_for_good.id], keep=False)
    assert sync(a, b).deleted == 1 and state(b) == {}


def test_every_write_path_makes_a_new_version(trio, tmp_path):
    a, _, _ = trio
    e = add(a, "one", tags=["t"])
    f = add(a, "two")

    def changed(action):
        mark = replica.mark(a)
        with a.bound():
            action()
        return {r["uuid"] for r in replica.changes(a, mark)[0]}

    assert changed(lambda: entries.edit_many(a, [e.id, f.id], starred=True)) == {e.uuid, f.uuid}
    assert changed(lambda: tags.set_entry_tags(a, f.id, add=["u"])) == {f.uuid}
    assert changed(lambda: tags.move(a, "u", "t")) == {f.uuid}
    assert changed(lambda: tags.delete(a, "t", recursive=True)) == {e.uuid, f.uuid}
    assert changed(lambda: entries.edit(a, e.id, body="one #inline")) == {e.uuid}
    export = tmp_path / "in.jsonl"
    export.write_text(json.dumps({"created_at": "2024-01-01T10:00:00+00:00",
                                  "body": "imported"}) + "\n")
    from diary import exchange

    assert len(changed(lambda: exchange.import_file(a, str(export), "jsonl"))) == 1


def test_a_copy_of_the_file_takes_its_own_device_when_opened_for_writing(trio, tmp_path):
    import shutil

    a, _, _ = trio
    add(a, "x")
    copied = str(tmp_path / "copied.db")
    shutil.copy(a.path, copied)
    with store.open_diary(copied, PASSPHRASE, read_only=True) as ro:
        assert replica.device_id(ro) == replica.device_id(a)  # read-only writes nothing
    with store.open_diary(copied, PASSPHRASE) as c:
        assert replica.device_id(c) != replica.device_id(a)
        mine = replica.device_id(c)
    with store.open_diary(copied, PASSPHRASE) as c:
        assert replica.device_id(c) == mine  # and keeps it
    assert replica.new_device_id(a) != mine


def test_apply_is_refused_in_a_read_only_session(trio, tmp_path):
    a, b, _ = trio
    add(a, "x")
    with store.open_diary(b.path, PASSPHRASE, read_only=True) as ro:
        with pytest.raises(ReadOnly):
            replica.apply(ro, replica.changes(a)[0])


# --- crafted records ----------------------------------------------------------------------

def _good(a):
    add(a, "fine", tags=["x"])
    return replica.changes(a)[0][0]


@pytest.mark.parametrize("spoil", [
    lambda r: r.update(created_at="0001-01-01T00:00:00Z"),
    lambda r: r.update(updated_at="not a date"),
    lambda r: r.update(body="x" * (entries.MAX_TEXT + 1), hash=None),
    lambda r: r.update(body="nul\x00", hash=None),
    lambda r: r.update(title="", body="", hash=None),
    lambda r: r.update(tags=["a//b"], hash=None),
    lambda r: r.update(tags="x"),
    lambda r: r.update(starred="yes"),
    lambda r: r.update(vv={"dev": 0}),
    lambda r: r.update(vv={"de v": 1}),
    lambda r: r.update(vv={"dev": True}),
    lambda r: r.update(vv=[1]),
    lambda r: r.update(uuid=""),
    lambda r: r.update(uuid="x\x1b[31m"),
    lambda r: r.update(type="view"),
    lambda r: r.update(body="tampered"),  # the hash no longer matches
    lambda r: r.clear(),
])
def test_a_crafted_record_is_refused_and_nothing_is_written(trio, spoil):
    a, b, _ = trio
    add(b, "already here")
    before, mark = state(b), replica.mark(b)
    good = _good(a)
    bad = copy.deepcopy(good)
    spoil(bad)
    with pytest.raises(BadInput, match="record 2"):
        replica.apply(b, [good, bad])
    assert state(b) == before and replica.mark(b) == mark


def test_a_crafted_tombstone_is_refused(trio):
    a, b, _ = trio
    for bad in ({"type": "tombstone", "uuid": "u", "deleted_at": "99999-01-01", "vv": {},
                 "device": "d"},
                {"type": "tombstone", "uuid": "u", "deleted_at": "2024-01-01T00:00:00Z",
                 "vv": {}, "device": "no good"},
                "not an object"):
        with pytest.raises(BadInput, match="record 1"):
            replica.apply(b, [bad])


def test_a_merge_source_missing_a_table_is_refused_in_one_line(trio):
    a, b, _ = trio
    add(a, "x")
    a.db.execute_sql("DROP TABLE tombstone")
    with pytest.raises(BadInput, match="not a diary one can read"):
        replica.changes(a, foreign_name=a.path)


def test_an_import_gives_its_entries_a_lineage_and_reimporting_a_deleted_one_is_an_edit(
        trio, tmp_path):
    from diary import exchange

    a, b, _ = trio
    e = add(a, "exported, then deleted", tags=["x"])
    sync(a, b)
    out = tmp_path / "e.jsonl"
    with a.bound():
        exchange.export_file(a, str(out), "jsonl")
    delete(a, e.uuid)
    assert sync(a, b).deleted == 1
    mark = replica.mark(a)
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"created_at": "2024-01-01T10:00:00+00:00", "body": "fresh"})
                   + "\n")
    with a.bound():
        exchange.import_file(a, str(out), "jsonl")
        exchange.import_file(a, str(new), "jsonl")
    records, _ = replica.changes(a, mark)
    assert sorted(r["type"] for r in records) == ["entry", "entry"]  # the tombstone is gone
    device = replica.device_id(a)
    back = [r for r in records if r["uuid"] == e.uuid][0]
    assert back["vv"][device] >= 3  # added (2: the tag), deleted (3), imported again
    fresh = [r for r in records if r["uuid"] != e.uuid][0]
    assert fresh["vv"] == {device: 1}
    # b, which had heard of the deletion, takes the entry back
    sync(a, b)
    assert sorted(bodies(b)) == ["exported, then deleted", "fresh"]
    assert state(a) == state(b)


def test_a_library_call_acts_on_the_diary_it_is_given_not_the_last_opened(trio):
    a, b, c = trio  # c was opened last: the models are bound to it outside any block
    add(a, "in a", tags=["work"])
    from diary.errors import NotFound

    with pytest.raises(NotFound):
        tags.rename(b, "work", "job")  # b has no such tag
    tags.rename(a, "work", "job")  # acted on c before write() bound the models
    assert state(a)[next(iter(state(a)))][5] == ("job",)
    assert state(b) == state(c) == {}


@pytest.mark.parametrize("spoil", [
    "UPDATE entry SET created_at = X'00ff'",
    "UPDATE entry SET body = X'41'",
    "UPDATE entry SET title = X'41'",
    "UPDATE entry SET updated_at = 12345",
    "UPDATE entry_lineage SET vv = '[' || replace(hex(zeroblob(5000)), '00', '[') || ']'",
    "UPDATE tombstone SET deleted_at = X'00', "
    "vv = '[' || replace(hex(zeroblob(5000)), '00', '[') || ']'",
])
def test_a_merge_source_with_values_of_the_wrong_kind_is_refused_in_one_line(trio, spoil):
    """Bytes where text belongs, or a vector nested thousands deep, in a
    crafted merge source: a TypeError or RecursionError (a traceback), not an
    error naming the file. (A spoilt vector reads as {}, as _loads says.)"""
    a, b, _ = trio
    add(a, "x")
    gone = add(a, "y")
    delete(a, gone.uuid)
    a.db.connection().executescript(spoil)
    try:
        records, _ = replica.changes(a, foreign_name=a.path)
    except BadInput as exc:
        assert a.path in str(exc)
        return
    try:
        replica.apply(b, records)
    except BadInput:
        pass


def test_a_counter_at_the_limit_does_not_lock_a_diary_out_of_every_merge(trio):
    """A crafted copy gave an entry our device's counter at MAX_COUNTER - 1
    (accepted); one edit here raised it to MAX_COUNTER, and from then on every
    diary refused everything this one sent ('not a whole number above 0'), at
    every merge and sync. A counter past the limit now counts as the limit:
    at worst a conflict copy, nothing refused, nothing lost."""
    a, b, c = trio
    me = replica.device_id(b)
    add(a, "hello")
    with a.bound():
        a.db.execute_sql("UPDATE entry_lineage SET vv = ?",
                         (json.dumps({me: replica.MAX_COUNTER - 1}),))
    sync(a, b)
    (uuid,) = state(b)
    edit(b, uuid, body="edited here")
    sync(b, c)
    assert bodies(c) == ["edited here"]
    sync(c, a)
    assert "edited here" in bodies(a)


def test_a_conflict_copy_of_an_entry_with_a_title_at_the_limit_still_travels(trio, monkeypatch):
    """'Conflict copy of ' + a title at entries.MAX_TEXT made a title past it:
    written here unchecked, then refused by every other diary ('the title is
    too long'), and with it every record of that merge or sync file, for
    good. The copy's title is cut to the limit."""
    a, b, c = trio
    monkeypatch.setattr(entries, "MAX_TEXT", 100)
    e = add(a, "body", title="T" * 95)
    sync(a, b)
    edit(a, e.uuid, body="edit a")
    edit(b, e.uuid, body="edit b")
    assert sync(b, a).conflicts == 1
    sync(a, c)
    assert bodies(c) == bodies(a) == ["edit a", "edit b"]
    assert all(len(v[2]) <= 100 for v in state(c).values())


def test_a_later_deletion_that_saw_the_kept_edit_wins(trio):
    """A deletion overruled by a concurrent edit no longer counts as an edit:
    a copy that saw the kept edit, but never the first deletion, and deletes
    the entry afterwards deletes it everywhere (it was refused as concurrent)."""
    a, b, c = trio
    e = add(a, "contested")
    sync(a, b)
    sync(a, c)
    delete(a, e.uuid)
    edit(b, e.uuid, body="edited meanwhile")
    sync(b, c)                        # c sees the edit, never a's deletion
    assert sync(a, b).kept == 1       # the edit beats the concurrent deletion
    assert sync(b, a).kept == 1
    assert bodies(a) == bodies(b) == bodies(c) == ["edited meanwhile"]
    delete(c, e.uuid)                 # after the edit it saw: later than it
    for src, dst in [(c, a), (c, b), (a, b), (b, a), (a, c), (b, c)]:
        sync(src, dst)
    assert state(a) == state(b) == state(c) == {}
    with a.bound():
        assert [i.uuid for i in trash.items(a)] == [e.uuid]
    # and nothing moves again
    for src, dst in [(a, b), (b, c), (c, a), (b, a), (c, b), (a, c)]:
        assert sync(src, dst).changed == 0


def test_a_concurrent_edit_still_beats_the_later_deletion(trio):
    """The deletion that saw the kept edit loses in turn to an edit it did
    not see."""
    a, b, c = trio
    e = add(a, "contested")
    sync(a, b)
    sync(a, c)
    delete(a, e.uuid)
    edit(b, e.uuid, body="edited meanwhile")
    sync(b, c)
    sync(a, b)
    delete(c, e.uuid)
    edit(b, e.uuid, body="edited again")
    for src, dst in [(c, a), (c, b), (a, b), (b, a), (a, c), (b, c)] * 2:
        sync(src, dst)
    assert bodies(a) == bodies(b) == bodies(c) == ["edited again"]
    assert state(a) == state(b) == state(c)


def _titles(d):
    return sorted(v[2] for v in state(d).values())


def _copies(d):
    return sorted((v[2], v[3]) for v in state(d).values() if v[2].startswith("Conflict copy"))


def _three_heads(trio):
    """e edited on a (twice: a1 then a2) and on b (b1); c meets a1 and b1
    before a2, so it shows a1 (or b1) as a conflict copy at first."""
    a, b, c = trio
    e = add(a, "base", title="E")
    sync(a, b)
    sync(a, c)
    edit(a, e.uuid, body="a1")
    a1, _ = replica.changes(a)
    edit(b, e.uuid, body="b1")
    b1, _ = replica.changes(b)
    edit(a, e.uuid, body="a2")
    a2, _ = replica.changes(a)
    return e, a1, b1, a2


def test_a_conflict_copy_does_not_depend_on_the_order_of_syncs(trio):
    """README's old caveat: a version that met a concurrent edit before its
    own next edit arrived was kept as a conflict copy, where another order
    made no copy of it. Now the copy of a1 goes once a2 (which descends from
    it) arrives: both orders end with the same entry and the same copy."""
    a, b, c = trio
    e, a1, b1, a2 = _three_heads(trio)
    replica.apply(c, a1)
    assert replica.apply(c, b1).conflicts == 1
    assert len(_copies(c)) == 1          # a1 or b1, shown as a copy meanwhile
    replica.apply(c, a2)
    early = state(c)
    # the other order, on b: never saw a1
    replica.apply(b, a2)
    assert state(b) == early
    assert _copies(b) == [("Conflict copy of E", "b1")] or _copies(b) == [
        ("Conflict copy of E", "a2")]
    # applied again, and relayed, nothing changes
    assert sync(c, b).changed == 0 and sync(b, c).changed == 0


def test_the_same_records_in_every_order_give_the_same_entries(trio):
    import itertools

    a, b, c = trio
    e, a1, b1, a2 = _three_heads(trio)
    results = []
    for i, order in enumerate(itertools.permutations([a1, b1, a2])):
        p = str(c.path) + ".%d" % i
        store.create(p, PASSPHRASE)
        with store.open_diary(p, PASSPHRASE) as d:
            for records in order:
                replica.apply(d, records)
            results.append(state(d))
    assert all(r == results[0] for r in results)
    assert len([v for v in results[0].values() if v[2].startswith("Conflict")]) == 1


def test_an_edit_of_the_entry_resolves_the_conflict_and_its_copy_stays_everywhere(trio):
    """A copy shown while a conflict is open goes if its version is
    overtaken; but once someone edits the entry (having seen the copy), the
    copy is an entry like any other, on every replica, whatever comes later."""
    a, b, c = trio
    e, a1, b1, a2 = _three_heads(trio)
    replica.apply(c, a1)
    replica.apply(c, b1)
    [(title, body)] = _copies(c)
    edit(c, e.uuid, body="c resolved it")   # c saw the copy: it stays
    sync(c, b)
    replica.apply(b, a2)
    replica.apply(c, a2)
    for src, dst in [(a, b), (b, a), (a, c), (c, a), (b, c), (c, b)]:
        sync(src, dst)
    assert state(a) == state(b) == state(c)
    assert (title, body) in _copies(a)


def test_a_deleted_conflict_copy_stays_deleted(trio):
    a, b, c = trio
    e, a1, b1, a2 = _three_heads(trio)
    replica.apply(c, a2)
    replica.apply(c, b1)
    [(title, body)] = _copies(c)
    with c.bound():
        [copy] = [x for x in entries.list_entries(c) if x.title.startswith("Conflict")]
        entries.delete(c, [copy.id])
    for src, dst in [(c, a), (c, b), (a, b), (b, a), (a, c), (b, c)] * 2:
        sync(src, dst)
    assert state(a) == state(b) == state(c)
    assert _copies(a) == []


@pytest.mark.parametrize("how", ["rename", "move"])
def test_a_tag_moved_gives_each_entry_under_it_one_new_version(trio, how):
    """One statement for the whole subtree (migration 12): an entry under two
    tags of the moved subtree gets one new version, not one per tag, and an
    entry outside it none."""
    a, _, _ = trio
    both = add(a, "two tags below", tags=["top/x", "top/y/z"])
    one = add(a, "one tag below", tags=["top"])
    away = add(a, "elsewhere", tags=["other"])
    before = {r["uuid"]: r["vv"] for r in replica.changes(a)[0]}
    mark = replica.mark(a)
    with a.bound():
        if how == "rename":
            tags.rename(a, "top", "summit")
        else:
            tags.move(a, "top", "other")
    after = {r["uuid"]: r for r in replica.changes(a, mark)[0]}
    assert set(after) == {both.uuid, one.uuid}
    device = replica.device_id(a)
    for e in (both, one):
        assert after[e.uuid]["vv"] == {device: before[e.uuid][device] + 1}
    assert away.uuid not in after


def _tag_paths(d):
    with d.bound(), d.read():
        return sorted(p for (p,) in d.db.execute_sql("SELECT path FROM tag"))


def test_a_tag_renamed_elsewhere_leaves_no_empty_tag_behind(trio):
    """README's old limit: a tag renamed on one copy left the old, now empty,
    tag on the others. A tag that an applied change left without entries (and
    without tags below it) goes; one empty before, or still used, stays."""
    a, b, _ = trio
    add(a, "one", tags=["trip/day1"])
    add(a, "two", tags=["trip/day1", "home"])
    sync(a, b)
    with b.bound():
        tags.ensure(b, "empty/on/purpose")
    assert _tag_paths(b) == ["empty", "empty/on", "empty/on/purpose", "home", "trip",
                             "trip/day1"]
    with a.bound():
        tags.rename(a, "trip", "travel")
    sync(a, b)
    assert _tag_paths(b) == ["empty", "empty/on", "empty/on/purpose", "home", "travel",
                             "travel/day1"]
    # a local untag leaves the tag where it was done (as before)
    with b.bound():
        [e] = [x for x in entries.list_entries(b) if x.body == "two"]
        entries.edit(b, e.id, remove_tags=["home"])
    assert "home" in _tag_paths(b)
    sync(b, a)
    assert "home" not in _tag_paths(a)


def test_a_date_stored_as_a_blob_stops_sync_with_the_command_that_fixes_it(diary):
    # SET created_at = X'00ff' by raw SQL: the README says `diary check` names
    # it and `diary edit ID --date DATE` fixes it; sync stopped every run with
    # 'this diary is not a diary one can read', which names neither.
    e = entries.add(diary, "kept")
    diary.db.execute_sql("UPDATE entry SET created_at = X'00ff' WHERE id = ?", (e.id,))
    with pytest.raises(BadInput) as caught:
        replica.changes(diary, 0)
    message = str(caught.value)
    assert "not a diary one can read" not in message
    assert "entry %d" % e.id in message and "diary edit %d --date" % e.id in message


def _concurrent_versions(d, n):
    """Records of n versions of one entry of d, each of another device and
    none descending from another (what a crafted file can hold)."""
    e = add(d, "base", title="E")
    [base] = [r for r in replica.changes(d)[0] if r["uuid"] == e.uuid]
    out = []
    for i in range(n):
        r = dict(base, body="head %d" % i, vv={"dev%d" % i: 1})
        del r["hash"]
        out.append(r)
    return e, out


def test_a_crafted_crowd_of_concurrent_versions_of_one_entry_is_refused(trio):
    """Every concurrent version of an entry is a head kept and shown as a
    conflict copy, and each one applied rewrote all the heads and copies
    before it: 400 versions of one uuid took 4 s of CPU, 2,000 about 100 s,
    and every later version of that entry paid for all of them. No real
    diary has more than a few devices editing one entry at once: past
    replica.MAX_HEADS the records are refused, and nothing is written."""
    a, b, _ = trio
    _, fine = _concurrent_versions(a, 3)
    assert replica.apply(b, fine).conflicts == 2
    _, crowd = _concurrent_versions(a, replica.MAX_HEADS + 1)
    before = state(b)
    with pytest.raises(BadInput, match="concurrent versions"):
        replica.apply(b, crowd)
    assert state(b) == before
    # up to the limit, taken as before
    _, most = _concurrent_versions(a, replica.MAX_HEADS)
    assert replica.apply(b, most).conflicts == replica.MAX_HEADS - 1


def _one_conflict_resolved_on_a(trio):
    """a and b both show the conflict copy of e; a then resolves the
    conflict by editing e (which makes the copy lasting there)."""
    a, b, _ = trio
    e = add(a, "base", title="E")
    sync(a, b)
    edit(a, e.uuid, body="a1")
    edit(b, e.uuid, body="b1")
    sync(a, b)
    sync(b, a)
    assert len(_copies(a)) == 1 and _copies(a) == _copies(b)
    edit(a, e.uuid, body="merged by hand")
    with b.bound():
        [copy] = [x for x in entries.list_entries(b) if x.title.startswith("Conflict")]
    return copy


@pytest.mark.parametrize("how", ["delete", "edit"])
def test_a_conflict_copy_deleted_or_edited_on_one_device_while_another_edits_the_entry(
        trio, how):
    """Two devices resolving one conflict two ways: a edits the entry, b
    deletes (or edits) the copy. a's edit gave the untouched copy a version
    of a's device, which b's deletion or edit of it (made from the untouched
    copy) did not descend from: the deleted copy came back on b ("kept"),
    and an edited one became a conflict copy of the conflict copy."""
    a, b, _ = trio
    copy = _one_conflict_resolved_on_a(trio)
    with b.bound():
        if how == "delete":
            entries.delete(b, [copy.id])
        else:
            entries.edit(b, copy.id, body="b kept this")
    for src, dst in [(a, b), (b, a), (a, b)]:
        assert sync(src, dst).kept == 0
    assert state(a) == state(b)
    assert _copies(a) == ([] if how == "delete" else [("Conflict copy of E", "b kept this")])


def test_a_write_the_lineage_does_not_count_leaves_an_untouched_copy_untouched(trio):
    """Only a write that makes a new version of a conflict copy (its text,
    title, date, star or tags) makes it lasting: a write of another column
    (another tool's, say) gave it the lasting version without a new seq, so
    it stayed here, unsent, while every other copy took it away."""
    a, b, _ = trio
    e = add(a, "base", title="E")
    sync(a, b)
    edit(a, e.uuid, body="a1")
    edit(b, e.uuid, body="b1")
    sync(b, a)
    with a.bound(), a.write():
        a.db.execute_sql("UPDATE entry SET version = version + 1 "
                         "WHERE title LIKE 'Conflict copy%'")
    rows = a.db.execute_sql("SELECT l.vv FROM entry e JOIN entry_lineage l "
                            "ON l.entry_id = e.id WHERE e.title LIKE 'Conflict copy%'")
    assert [vv for (vv,) in rows] == ["{}"]


def test_a_tag_renamed_over_an_untouched_copy_while_another_device_resolved_is_no_conflict(
        trio):
    """b resolves the conflict by editing the entry (its copy becomes
    lasting), a renames a tag only the untouched copy carries: that rename
    is the one change of the copy, and is taken everywhere. It gave the copy
    a version of a's device alone, concurrent with b's lasting one: a
    conflict copy of the conflict copy."""
    a, b, _ = trio
    e = add(a, "base", title="E")
    sync(a, b)
    edit(a, e.uuid, body="a1", add_tags=["work"])
    edit(b, e.uuid, body="b1")  # later: b1 is the entry, a1 (tagged work) the copy
    sync(a, b)
    sync(b, a)
    assert _copies(a) == _copies(b) == [("Conflict copy of E", "a1")]
    edit(b, e.uuid, body="merged by hand")
    with a.bound():
        tags.rename(a, "work", "job")
    for src, dst in [(a, b), (b, a), (a, b)]:
        assert sync(src, dst).conflicts == 0
    assert state(a) == state(b)
    assert _copies(a) == [("Conflict copy of E", "a1")]
    assert "job" in _tag_paths(b) and "work" not in _tag_paths(b)


def test_a_version_that_descends_from_every_head_is_taken_in_any_order(trio):
    """Two heads a {x:2} and b {y:1}; c {x:2, y:1} descends from both (an
    older device's resolution, as a format 1 file carries it: the winner's
    content under the joined vector). Applied after both heads, c was taken
    for one this diary already held (the entry's joined vector descends
    from it), and the copy of b stayed: another order showed none."""
    import itertools

    base = dict(type="entry", uuid="u", created_at="2024-01-01T10:00:00.000000Z",
                updated_at="2024-01-02T10:00:00.000000Z", title="T", body="a",
                starred=False, tags=[])
    a_ = dict(base, vv={"y": 1})
    b_ = dict(base, tags=["t"], vv={"x": 2})
    c_ = dict(base, vv={"x": 2, "y": 1})
    results = []
    for i, order in enumerate(itertools.permutations([a_, b_, c_])):
        p = str(trio[2].path) + ".%d" % i
        store.create(p, PASSPHRASE)
        with store.open_diary(p, PASSPHRASE) as d:
            for r in order:
                replica.apply(d, [dict(r)])
            results.append(state(d))
    assert all(r == results[0] for r in results)
    assert list(results[0]) == ["u"]


def test_an_edit_and_a_deletion_under_one_vector_are_concurrent_in_either_order(trio):
    """A copied diary that kept its device id (README: counted as
    concurrent), edited on one side and deleted on the other: the version
    and the tombstone carry the same vector. Tombstone first, the edit was
    refused as older; edit first, the deletion was refused as older: two
    diaries given the same two records differed for good. The edit wins,
    as against any concurrent deletion."""
    edited = dict(type="entry", uuid="u", created_at="2024-01-01T10:00:00.000000Z",
                  updated_at="2024-01-02T10:00:00.000000Z", title="T", body="edited",
                  starred=False, tags=[], vv={"x": 2})
    deleted = dict(type="tombstone", uuid="u", deleted_at="2024-01-03T10:00:00.000000Z",
                   vv={"x": 2}, device="x")
    results = []
    for i, order in enumerate([(edited, deleted), (deleted, edited)]):
        p = str(trio[2].path) + ".%d" % i
        store.create(p, PASSPHRASE)
        with store.open_diary(p, PASSPHRASE) as d:
            reports = [replica.apply(d, [dict(r)]) for r in order]
            assert sum(r.kept for r in reports) == 1
            results.append((state(d), [r for r in replica.changes(d)[0]
                                       if r["type"] == "tombstone"]))
    assert results[0] == results[1]
    assert bodies_of(results[0][0]) == ["edited"]


def bodies_of(st):
    return sorted(v[3] for v in st.values())
