"""Entries: the library under the add/list/show/edit/delete commands."""

import datetime as dt

import pytest

from diary import entries, store
from diary.errors import BadInput, Conflict, NotFound

UTC = dt.timezone.utc


def at(day, hour=12):
    return dt.datetime(2024, 3, day, hour, tzinfo=UTC)


def test_add_and_get_round_trip(diary):
    e = entries.add(diary, "body text", title="A title", created_at=at(2), starred=True)
    got = entries.get(diary, e.id)
    assert (got.title, got.body, got.starred, got.version) == ("A title", "body text", True, 1)
    assert got.created_at == at(2)
    assert got.created_at.tzinfo is not None
    assert len(got.uuid) == 36


def test_times_are_stored_as_utc_text(diary):
    plus_two = dt.timezone(dt.timedelta(hours=2))
    e = entries.add(diary, "x", created_at=dt.datetime(2024, 3, 2, 23, 30, tzinfo=plus_two))
    raw = diary.db.connection().execute("SELECT created_at FROM entry WHERE id = ?",
                                        (e.id,)).fetchone()[0]
    assert raw == "2024-03-02T21:30:00.000000Z"


@pytest.mark.parametrize("body,title", [("", ""), ("  \n", " "), ("a\x00b", "")])
def test_add_refuses_empty_or_nul(diary, body, title):
    with pytest.raises(BadInput):
        entries.add(diary, body, title=title)
    assert entries.count(diary) == 0


def test_list_newest_first_with_filters(diary):
    for day in (1, 5, 3):
        entries.add(diary, "day %d" % day, created_at=at(day), starred=day == 3)
    assert [e.body for e in entries.list_entries(diary)] == ["day 5", "day 3", "day 1"]
    assert [e.body for e in entries.list_entries(diary, limit=1, offset=1)] == ["day 3"]
    assert [e.body for e in entries.list_entries(diary, since=at(2), until=at(4))] == ["day 3"]
    assert [e.body for e in entries.list_entries(diary, starred=True)] == ["day 3"]
    assert [e.body for e in entries.list_entries(diary, newest_first=False)] == [
        "day 1", "day 3", "day 5"]


def test_edit_changes_fields_and_bumps_version(diary):
    e = entries.add(diary, "first", title="t", created_at=at(1))
    changed = entries.edit(diary, e.id, body="second", starred=True)
    assert (changed.body, changed.title, changed.starred, changed.version) == (
        "second", "t", True, 2)
    assert changed.updated_at > changed.created_at
    assert changed.created_at == at(1)


def test_edit_with_stale_version_is_a_conflict_and_changes_nothing(diary):
    e = entries.add(diary, "original")
    entries.edit(diary, e.id, body="saved by another session", expected_version=1)
    with pytest.raises(Conflict, match="changed in another session"):
        entries.edit(diary, e.id, body="my stale edit", expected_version=1)
    assert entries.get(diary, e.id).body == "saved by another session"


def test_edit_cannot_empty_an_entry(diary):
    e = entries.add(diary, "text")
    with pytest.raises(BadInput):
        entries.edit(diary, e.id, body="")
    assert entries.get(diary, e.id).body == "text"


def test_unknown_ids(diary):
    e = entries.add(diary, "x")
    with pytest.raises(NotFound, match="no entry with id 99"):
        entries.get_many(diary, [e.id, 99])
    with pytest.raises(NotFound):
        entries.edit(diary, 99, body="y")
    with pytest.raises(NotFound):
        entries.delete(diary, [e.id, 99])
    assert entries.count(diary) == 1  # all or nothing


def test_delete(diary):
    a = entries.add(diary, "a")
    b = entries.add(diary, "b")
    assert entries.delete(diary, [a.id]) == 1
    assert [e.id for e in entries.list_entries(diary)] == [b.id]


def test_record_shape(diary):
    e = entries.add(diary, "body", title="title", created_at=at(2), starred=True)
    rec = entries.to_record(entries.get(diary, e.id))
    assert set(rec) == {"id", "uuid", "created_at", "updated_at", "title", "body", "starred",
                        "tags", "version"}
    assert dt.datetime.fromisoformat(rec["created_at"]) == at(2)
    assert dt.datetime.fromisoformat(rec["created_at"]).utcoffset() is not None
    assert rec["tags"] == [] and rec["starred"] is True


def test_large_entry(diary):
    big = "word " * 2_000_000  # 10 MB
    e = entries.add(diary, big)
    assert len(entries.get(diary, e.id).body) == len(big)


def test_entries_survive_reopen(made):
    with store.open_diary(made, "correct horse battery staple") as d:
        entries.add(d, "persisted")
    with store.open_diary(made, "correct horse battery staple") as d:
        assert [e.body for e in entries.list_entries(d)] == ["persisted"]
