"""diary/health.py: the checks of `diary check` find what is wrong, and only that.
(Damaged pages and files: tests/test_hostile_files.py.)"""

from diary import entries, health


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
