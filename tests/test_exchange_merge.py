"""Merge: two copies of a diary folded together, both ways, losing nothing."""

import datetime as _dt
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from diary import entries, exchange, health, store
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
    assert (stats.added, stats.updated, stats.conflicts, stats.unchanged) == (1, 1, 1, 1)
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
    assert (stats.added, stats.conflicts) == (2, 0)  # Desk and the copy; no second copy


def test_merge_the_other_way_first_makes_the_same_copy(pair):
    mine, laptop, shared_uuid = pair
    stats, there = merge_into(laptop, OTHER, mine, PASSPHRASE)
    # the laptop's edit is newer, so there the laptop keeps it and copies mine
    assert (stats.updated, stats.conflicts) == (0, 1)
    stats, here = merge_into(mine, PASSPHRASE, laptop, OTHER)
    assert here == there


def test_merging_twice_changes_nothing(pair):
    mine, laptop, _ = pair
    _, first = merge_into(mine, PASSPHRASE, laptop, OTHER)
    with store.open_diary(mine, PASSPHRASE) as d:
        before = [entries.to_record(e) for e in entries.list_entries(d)]
    stats, second = merge_into(mine, PASSPHRASE, laptop, OTHER)
    assert (stats.added, stats.updated, stats.conflicts, stats.retagged) == (0, 0, 0, 0)
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
    assert (stats.retagged, stats.conflicts) == (1, 0)
    assert here[e.uuid][4] == ("a", "b/c")
    stats, there = merge_into(other, PASSPHRASE, made, PASSPHRASE)
    assert there == here and stats.unchanged == 1
    with store.open_diary(made, PASSPHRASE) as d:
        from diary import tags

        assert tags.resolve("unused/tag") is not None


def test_deleted_entries_come_back(made, tmp_path):
    with store.open_diary(made, PASSPHRASE) as d:
        e = entries.add(d, "keep me")
    other = str(tmp_path / "o.db")
    shutil.copy(made, other)
    with store.open_diary(made, PASSPHRASE) as d:
        entries.delete(d, [e.id])
    stats, here = merge_into(made, PASSPHRASE, other, PASSPHRASE)
    assert stats.added == 1 and e.uuid in here


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
    from diary.exchange import merger as merge_mod

    with store.open_diary(mine, PASSPHRASE) as d:
        before = state(d)
        real = merge_mod._fold
        calls = []

        def failing(*args):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("injected")
            return real(*args)

        monkeypatch.setattr(merge_mod, "_fold", failing)
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
        merge_into(a, PASSPHRASE, b, PASSPHRASE)
        merge_into(b, PASSPHRASE, a, PASSPHRASE)
        stats, here = merge_into(a, PASSPHRASE, b, PASSPHRASE)
        _, there = merge_into(b, PASSPHRASE, a, PASSPHRASE)
        assert here == there
        assert (stats.added, stats.updated, stats.conflicts, stats.retagged) == (0, 0, 0, 0)
        assert written <= {v[2] for v in here.values()}  # every last version is kept
    finally:
        shutil.rmtree(base, ignore_errors=True)
