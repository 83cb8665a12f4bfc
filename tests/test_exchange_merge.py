"""Merge: two copies of a diary folded together, both ways: edits and deletions
made on one copy are taken, concurrent edits both kept (replica.py)."""

import datetime as _dt
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from diary import entries, exchange, health, replica_apply, store
from diary.errors import BadInput, SourcePassphraseError

from conftest import PASSPHRASE

OTHER = "the laptop's passphrase"


def at(*args):
    return _dt.datetime(*args).astimezone()


def state(d):
    """uuid -> (created, title, body, starred, tag keys): everything but local ids."""
    return {e.uuid: (e.created_at, e.title, e.body, e.starred,
                     tuple(sorted(t.casefold() for t in e.tag_list)))
            for e in entries.list_entries(d)}


@pytest.fixture
def pair(made, tmp_path):
    """This diary and a copy of it (another laptop, another passphrase), with one
    shared entry each side edits, and one new entry each side adds."""
    with store.open_diary(made, PASSPHRASE) as d:
        shared = entries.add(d, "Original text", title="Shared", tags=["trip"],
                             created_at=at(2024, 5, 1, 10, 0))
        entries.add(d, "Untouched", title="Both have it", created_at=at(2024, 5, 2))
    other = str(tmp_path / "laptop.db")
    shutil.copy(made, other)
    with store.open_diary(other, PASSPHRASE) as o:
        store.change_passphrase(o, OTHER)
    with store.open_diary(made, PASSPHRASE) as d:
        entries.edit(d, shared.id, body="Edited here first")
        entries.add(d, "Only here", title="Desk", tags=["home"])
    with store.open_diary(other, OTHER) as o:
        e = entries.edit(o, shared.id, body="Edited on the laptop later", add_tags=["trip/day1"])
        entries.add(o, "Only on the laptop", title="Train", tags=["Trip/Day2"])
    return made, other, e.uuid


def merge_into(path, passphrase, other, other_passphrase):
    with store.open_diary(path, passphrase) as d:
        stats = exchange.merge(d, other, other_passphrase)
        assert health.problems(d) == []
        return stats, state(d)


def test_merge_both_ways_converges_with_a_conflict_copy(pair):
    mine, laptop, shared_uuid = pair
    stats, here = merge_into(mine, PASSPHRASE, laptop, OTHER)
    # Train taken; Shared edited on both: a conflict; Both have it: unchanged
    assert (stats.taken, stats.conflicts, stats.unchanged, stats.deleted) == (1, 1, 1, 0)
    # the newer edit (the laptop's) wins the entry, with its tags
    assert here[shared_uuid][2] == "Edited on the laptop later"
    assert here[shared_uuid][4] == ("trip", "trip/day1")
    # the older edit is kept, visible, as a conflict copy
    [copy] = [v for v in here.values() if v[1] == "Conflict copy of Shared"]
    assert copy[2] == "Edited here first" and copy[4] == ("conflict", "trip")
    assert {v[1] for v in here.values()} == {"Shared", "Both have it", "Desk", "Train",
                                             "Conflict copy of Shared"}
    # the other way round: the laptop ends with exactly the same entries
    stats, there = merge_into(laptop, OTHER, mine, PASSPHRASE)
    assert there == here
    # Desk taken; Shared's two heads travel (the copy itself stays home, a
    # view of one of them): a conflict here too, the same copy, no second one
    assert (stats.taken, stats.conflicts) == (1, 1)


def test_merge_the_other_way_first_makes_the_same_copy(pair):
    mine, laptop, shared_uuid = pair
    stats, there = merge_into(laptop, OTHER, mine, PASSPHRASE)
    # the laptop's edit is newer, so there the laptop keeps it and copies mine
    assert (stats.taken, stats.conflicts) == (1, 1)  # Desk; Shared
    stats, here = merge_into(mine, PASSPHRASE, laptop, OTHER)
    assert here == there


def test_merging_twice_changes_nothing(pair):
    mine, laptop, _ = pair
    _, first = merge_into(mine, PASSPHRASE, laptop, OTHER)
    with store.open_diary(mine, PASSPHRASE) as d:
        before = [entries.to_record(e) for e in entries.list_entries(d)]
    stats, second = merge_into(mine, PASSPHRASE, laptop, OTHER)
    assert stats.changed == 0 and stats.unchanged == 3  # the laptop's three entries
    with store.open_diary(mine, PASSPHRASE) as d:
        assert [entries.to_record(e) for e in entries.list_entries(d)] == before


def test_tags_join_by_path_when_only_tags_differ(made, tmp_path):
    with store.open_diary(made, PASSPHRASE) as d:
        e = entries.add(d, "text", tags=["a"])
    other = str(tmp_path / "o.db")
    shutil.copy(made, other)
    with store.open_diary(other, PASSPHRASE) as o:
        with o.write():
            from diary import tags

            tags.set_entry_tags(o, e.id, add=["B/c"])
            tags.ensure(o, "unused/tag")
    stats, here = merge_into(made, PASSPHRASE, other, PASSPHRASE)
    assert (stats.taken, stats.conflicts) == (1, 0)  # a tag added on one side: an edit
    assert here[e.uuid][4] == ("a", "b/c")
    stats, there = merge_into(other, PASSPHRASE, made, PASSPHRASE)
    assert there == here and stats.unchanged == 1
    with store.open_diary(made, PASSPHRASE) as d:
        from diary import tags

        assert tags.resolve("unused/tag") is not None


def test_a_deletion_travels_and_lands_in_the_trash(made, tmp_path):
    with store.open_diary(made, PASSPHRASE) as d:
        e = entries.add(d, "delete me")
    other = str(tmp_path / "o.db")
    shutil.copy(made, other)
    with store.open_diary(made, PASSPHRASE) as d:
        entries.delete(d, [e.id])
    stats, here = merge_into(made, PASSPHRASE, other, PASSPHRASE)
    assert e.uuid not in here and stats.unchanged == 1  # not brought back
    stats, there = merge_into(other, PASSPHRASE, made, PASSPHRASE)
    assert stats.deleted == 1 and e.uuid not in there
    with store.open_diary(other, PASSPHRASE) as o:
        from diary import trash

        assert [i.uuid for i in trash.items(o)] == [e.uuid]  # recoverable there


def test_a_deletion_against_a_concurrent_edit_keeps_the_edit_and_says_so(made, tmp_path):
    with store.open_diary(made, PASSPHRASE) as d:
        e = entries.add(d, "contested")
    other = str(tmp_path / "o.db")
    shutil.copy(made, other)
    with store.open_diary(made, PASSPHRASE) as d:
        entries.delete(d, [e.id])
    with store.open_diary(other, PASSPHRASE) as o:
        entries.edit(o, e.id, body="edited while deleted elsewhere")
    made2, other2 = str(tmp_path / "made2.db"), str(tmp_path / "other2.db")
    shutil.copy(made, made2)
    shutil.copy(other, other2)
    stats, here = merge_into(made, PASSPHRASE, other, PASSPHRASE)
    assert (stats.kept, stats.kept_uuids) == (1, [e.uuid])
    assert here[e.uuid][2] == "edited while deleted elsewhere"
    stats, there = merge_into(other, PASSPHRASE, made, PASSPHRASE)
    assert stats.deleted == 0 and there == here  # made's kept edit descends from the deletion
    # The other order: the edited copy is told of the deletion first, and refuses it.
    stats, there = merge_into(other2, PASSPHRASE, made2, PASSPHRASE)
    assert (stats.kept, stats.deleted, stats.kept_uuids) == (1, 0, [e.uuid])
    assert there == here


def test_same_timestamp_different_text_is_decided_the_same_both_ways(made, tmp_path):
    with store.open_diary(made, PASSPHRASE) as d:
        e = entries.add(d, "base", created_at=at(2024, 1, 1))
    other = str(tmp_path / "o.db")
    shutil.copy(made, other)
    stamp = "2024-06-01T00:00:00.000000Z"
    for path, body in ((made, "mine"), (other, "theirs")):
        with store.open_diary(path, PASSPHRASE) as d:
            d.db.execute_sql("UPDATE entry SET body = ?, updated_at = ? WHERE uuid = ?",
                             (body, stamp, e.uuid))
    _, here = merge_into(made, PASSPHRASE, other, PASSPHRASE)
    _, there = merge_into(other, PASSPHRASE, made, PASSPHRASE)
    assert here == there and len(here) == 2


def test_wrong_passphrase_and_bad_files(tmp_path, pair):
    mine, laptop, _ = pair
    with store.open_diary(mine, PASSPHRASE) as d:
        before = state(d)
        with pytest.raises(SourcePassphraseError, match="wrong passphrase for"):
            exchange.merge(d, laptop, "nope")
        with pytest.raises(SourcePassphraseError):
            exchange.merge(d, laptop)  # this diary's own passphrase: not the laptop's
        with pytest.raises(BadInput, match="itself"):
            exchange.merge(d, mine)
        with pytest.raises(BadInput, match="no file"):
            exchange.merge(d, str(tmp_path / "missing.db"))
        assert state(d) == before


def test_merge_is_all_or_nothing(pair, monkeypatch):
    mine, laptop, _ = pair
    with store.open_diary(mine, PASSPHRASE) as d:
        before = state(d)
        real = replica_apply.Run.entry
        calls = []

        def failing(*args):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("injected")
            return real(*args)

        monkeypatch.setattr(replica_apply.Run, "entry", failing)
        with pytest.raises(RuntimeError):
            exchange.merge(d, laptop, OTHER)
        assert state(d) == before


# --- random edits on two copies ---------------------------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["edit", "add", "tag", "star"]),
                         st.integers(0, 3), st.sampled_from(["x", "y/z", "Y/Q"])),
               max_size=5)


def _apply(d, ops, side):
    ids = [e.id for e in entries.list_entries(d, newest_first=False)]
    for n, (op, i, tag) in enumerate(ops):
        target = ids[i % len(ids)]
        if op == "edit":
            entries.edit(d, target, body="%s edit %d" % (side, n))
        elif op == "add":
            ids.append(entries.add(d, "%s new %d" % (side, n), tags=[tag]).id)
        elif op == "tag":
            entries.edit(d, target, add_tags=[tag])
        else:
            entries.edit(d, target, starred=n % 2 == 0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mine=OPS, theirs=OPS)
def test_random_edits_converge_and_lose_nothing(tmp_path, mine, theirs):
    base = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        a, b = os.path.join(base, "a.db"), os.path.join(base, "b.db")
        store.create(a, PASSPHRASE)
        with store.open_diary(a, PASSPHRASE) as d:
            for i in range(3):
                entries.add(d, "base %d" % i, tags=["base"])
        shutil.copy(a, b)
        with store.open_diary(a, PASSPHRASE) as d:
            _apply(d, mine, "mine")
            written = {e.body for e in entries.list_entries(d)}
        with store.open_diary(b, PASSPHRASE) as d:
            _apply(d, theirs, "theirs")
            written |= {e.body for e in entries.list_entries(d)}
        written -= {"base %d" % i for i in range(3)}  # a version edited since may replace it
        merge_into(a, PASSPHRASE, b, PASSPHRASE)
        merge_into(b, PASSPHRASE, a, PASSPHRASE)
        stats, here = merge_into(a, PASSPHRASE, b, PASSPHRASE)
        _, there = merge_into(b, PASSPHRASE, a, PASSPHRASE)
        assert here == there
        assert stats.changed == 0
        assert written <= {v[2] for v in here.values()}  # every last version is kept
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("spoil", [
    "DELETE FROM memo WHERE key = 'replica-seq'",
    "UPDATE memo SET value = 'none' WHERE key = 'replica-seq'",
    "DELETE FROM entry_lineage",
])
def test_a_source_whose_change_counter_or_lineage_lies_still_gives_all_its_entries(
        made, tmp_path, spoil):
    """Merge reads everything the other file holds: a source whose change
    counter was reset, or whose lineage rows are gone (another tool, a crafted
    file), brought nothing and said '0 taken', silently."""
    other = str(tmp_path / "laptop.db")
    store.create(other, PASSPHRASE)
    with store.open_diary(other, PASSPHRASE) as o:
        entries.add(o, "Only on the laptop", title="Train")
        o.db.execute_sql(spoil)
    with store.open_diary(made, PASSPHRASE) as d:
        report = exchange.merge(d, other)
        assert report.taken == 1
        assert [e.body for e in entries.list_entries(d)] == ["Only on the laptop"]
        assert health.problems(d) == []


@pytest.mark.parametrize("bad", ["", "a" + "\n" + "b", "a//b"])
def test_a_source_with_an_impossible_tag_path_is_refused_naming_it(made, tmp_path, bad):
    """An unused tag of a crafted source with an impossible path: the merge
    was refused with 'empty tag path', naming neither the file nor the tag."""
    other = str(tmp_path / "laptop.db")
    store.create(other, PASSPHRASE)
    with store.open_diary(other, PASSPHRASE) as o:
        entries.add(o, "Only on the laptop", tags=["fine"])
        o.db.execute_sql("UPDATE tag SET path = ?", (bad,))
    with store.open_diary(made, PASSPHRASE) as d:
        with pytest.raises(BadInput, match="laptop.db"):
            exchange.merge(d, other)
        assert entries.list_entries(d) == []


def test_merge_streams_the_other_diary_instead_of_holding_it_in_memory(tmp_path):
    """The other diary's entries are read a chunk at a time (twice: checked
    whole before this diary's write lock is taken, then applied), never all
    held at once: Python's peak while merging 2,000 entries of 4 KB (8 MB of
    text) stays well under that."""
    import tracemalloc

    src, dst = str(tmp_path / "src.db"), str(tmp_path / "dst.db")
    store.create(src, PASSPHRASE)
    store.create(dst, PASSPHRASE)
    with store.open_diary(src, PASSPHRASE) as s, s.write():
        s.db.connection().executemany(
            "INSERT INTO entry (uuid, created_at, updated_at, title, body) "
            "VALUES (?, '2024-01-01T10:00:00.000000Z', '2024-01-01T10:00:00.000000Z', '', ?)",
            [("u%d" % i, ("%d " % i) * (4096 // len("%d " % i))) for i in range(2000)])
    with store.open_diary(dst, PASSPHRASE) as d:
        tracemalloc.start()
        try:
            report = exchange.merge(d, src)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert report.taken == 2000
        assert len(state(d)) == 2000
    assert peak < 4 * 1024 * 1024, peak


def test_merge_streams_the_heads_of_the_other_diary_too(tmp_path):
    """A diary whose entries have open conflicts (a tag renamed on two
    devices at once makes one of every entry under it) keeps each entry's
    heads, text included, in entry_head. Merge read every head of the other
    diary into memory before its first chunk: 2,000 heads of 4 KB held
    whole (17 MB of Python memory at the peak). They are read with their
    chunk of entries now."""
    import json
    import tracemalloc

    from diary import replica

    src, dst = str(tmp_path / "src.db"), str(tmp_path / "dst.db")
    store.create(src, PASSPHRASE)
    store.create(dst, PASSPHRASE)
    when = "2024-01-01T10:00:00.000000Z"
    rows, heads = [], []
    for i in range(1000):
        uuid = "u%d" % i
        rows.append((uuid, "%d a " % i * 1000))
        for side in ("a", "b"):
            body = ("%d %s " % (i, side)) * 1000
            v = replica._Version(uuid, when, when, "", body, False, (), {side: 1},
                                 replica.content_hash(when, "", body, False, ()))
            heads.append((uuid, json.dumps(v.vv), v.hash,
                          replica_apply.copy_uuid(uuid, v.hash), replica_apply.head_record(v)))
    with store.open_diary(src, PASSPHRASE) as s, s.write():
        conn = s.db.connection()
        conn.executemany(
            "INSERT INTO entry (uuid, created_at, updated_at, title, body) "
            "VALUES (?, '%s', '%s', '', ?)" % (when, when), rows)
        conn.executemany("INSERT INTO entry_head (uuid, vv, hash, copy, record) "
                         "VALUES (?, ?, ?, ?, ?)", heads)
    with store.open_diary(dst, PASSPHRASE) as d:
        tracemalloc.start()
        try:
            report = exchange.merge(d, src)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (report.taken, report.conflicts) == (1000, 1000)
        assert len(state(d)) == 2000
    # 12 MB of text in the other diary; 17 MB peak before, about 7 MB now
    # (a chunk's entries and heads, read twice), and no more for 2,000
    assert peak < 10 * 1024 * 1024, peak
