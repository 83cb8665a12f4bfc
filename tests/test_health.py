"""diary/health.py: the checks of `diary check` find what is wrong, and only that.
(Damaged pages and files: tests/test_hostile_files.py.)"""

import datetime as dt

from diary import entries, health


def day(y, m, d):
    return dt.datetime(y, m, d, 12, tzinfo=dt.timezone.utc)


def test_problems_finds_a_wrong_closure_row_and_a_wrong_count(diary):
    entries.add(diary, "x", tags=["work/acme"])
    assert health.problems(diary) == []
    conn = diary.db.connection()
    conn.execute("UPDATE tag SET subtree_entries = 7 WHERE name = 'work'")
    conn.execute("DELETE FROM tag_path WHERE depth = 1")
    found = health.problems(diary)
    assert any(f.startswith("tag closure table") for f in found)
    assert "tag entry counts: wrong for 1 tag(s)" in found


def test_problems_finds_wrong_tag_paths_and_tokens(diary):
    entries.add(diary, "x", tags=["work/acme"])
    conn = diary.db.connection()
    # only triggers write paths, so tag_fts does not follow this one
    conn.execute("UPDATE tag SET path = 'elsewhere' WHERE name = 'acme'")
    conn.execute("UPDATE entry SET tags = 't99'")  # entry_fts follows
    assert health.problems(diary) == ["tag index: database disk image is malformed",
                                      "tag paths: wrong for 1 tag(s)",
                                      "entry tag tokens: wrong for 1 entries"]


def _months(diary):
    return list(diary.db.connection().execute("SELECT * FROM entry_month ORDER BY month"))


def test_entries_per_month_follow_every_write_and_a_wrong_row_is_found(diary):
    """entry_month (search's date bounds) follows adds, date changes and
    deletes: counts exact, id bounds holding every id of the month (wider
    is allowed: they never shrink)."""
    with diary.write():
        a = entries.add(diary, "a", created_at=day(2020, 1, 5)).id
        b = entries.add(diary, "b", created_at=day(2020, 1, 20)).id
        c = entries.add(diary, "c", created_at=day(2020, 3, 1)).id
    assert _months(diary) == [("2020-01", 2, a, b), ("2020-03", 1, c, c)]
    with diary.write():
        entries.edit(diary, a, created_at=day(2020, 3, 9))
        entries.edit(diary, b, body="b, again")  # same month: nothing moves
    assert _months(diary) == [("2020-01", 1, a, b), ("2020-03", 2, a, c)]
    with diary.write():
        entries.delete(diary, [c])
    assert _months(diary) == [("2020-01", 1, a, b), ("2020-03", 1, a, c)]
    assert health.problems(diary) == []
    conn = diary.db.connection()
    conn.execute("UPDATE entry_month SET high_id = %d WHERE month = '2020-01'" % (b - 1))
    conn.execute("UPDATE entry_month SET entries = 5 WHERE month = '2020-03'")
    conn.execute("INSERT INTO entry_month VALUES ('1999-12', 1, 1, 1)")
    assert health.problems(diary) == ["entries per month: wrong for 3 month(s)"]
