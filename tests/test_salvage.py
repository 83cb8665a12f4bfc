"""export --salvage: every entry that still reads from a damaged diary, the
damaged file never written to."""

import json
import os
import random

import sqlcipher3

from diary import entries, store

from conftest import PASSPHRASE, TEST_KDF_ITER, file_bytes

PAGE = 4096


def _reads_every_entry(path):
    conn = store.keyed_connection(path, PASSPHRASE, TEST_KDF_ITER)
    try:
        conn.execute("SELECT id, body FROM entry ORDER BY id").fetchall()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def _damage_a_middle_entry_page(path):
    """Overwrite with random bytes the first page past the middle of the file
    whose loss stops a read of the entry table; returns its number."""
    original = file_bytes(path)
    pages = len(original) // PAGE
    noise = random.Random(7)
    for number in range(pages // 2, pages + 1):
        data = bytearray(original)
        data[(number - 1) * PAGE:number * PAGE] = bytes(noise.randrange(256)
                                                        for _ in range(PAGE))
        with open(path, "wb") as f:
            f.write(data)
        if not _reads_every_entry(path):
            return number
    raise AssertionError("no page of the entry table found")


def _diary_of(diary, n):
    bodies = {}
    for i in range(n):
        body = ("entry %d " % i) + "words of the day " * 40
        e = entries.add(diary, body, title="t%d" % i, tags=["day/%d" % (i % 3)])
        bodies[e.uuid] = body
    return bodies


def test_salvage_of_a_damaged_middle_page(run, diary, tmp_path):
    bodies = _diary_of(diary, 120)
    diary.close()
    _damage_a_middle_entry_page(diary.path)
    assert run("export").code == 4  # a normal export stops at the damage
    before = file_bytes(diary.path)
    listing = sorted(os.listdir(os.path.dirname(diary.path)))
    out = tmp_path / "rescued.json"
    r = run("export", "--salvage", "-o", str(out))
    assert r.code == 4, r
    assert "Salvaged" in r.err and "could not be read" in r.err, r.err
    saved = json.loads(out.read_text())
    lost = int(r.err.split("diary: ")[1].split(" ")[0])
    assert 0 < len(saved) < 120 and len(saved) + lost == 120
    titles = {record["title"] for record in saved}
    assert {"t0", "t119"} <= titles  # read on both sides of the damage
    for record in saved:
        assert bodies[record["uuid"]] == record["body"]
        assert record["tags"] and record["tags"][0].startswith("day/"), r.err
    assert file_bytes(diary.path) == before
    assert sorted(os.listdir(os.path.dirname(diary.path))) == listing


def test_salvage_of_a_healthy_diary_loses_nothing_and_reads_the_wal(run, diary, made):
    bodies = _diary_of(diary, 5)
    diary.close()
    holder = store.keyed_connection(made, PASSPHRASE, TEST_KDF_ITER)
    holder.execute("SELECT count(*) FROM entry").fetchone()
    try:
        assert run("add", "only in the wal").code == 0
        assert os.path.getsize(made + "-wal") > 0
        before = file_bytes(made), file_bytes(made + "-wal")
        r = run("export", "--salvage", "--format", "jsonl")
        assert (file_bytes(made), file_bytes(made + "-wal")) == before
    finally:
        holder.close()
    assert r.code == 0, r
    records = [json.loads(line) for line in r.out.splitlines()]
    assert [rec["body"] for rec in records][-1] == "only in the wal"
    assert len(records) == 6 and "Nothing was lost" in r.err
    assert all(bodies[rec["uuid"]] == rec["body"] for rec in records[:5])


def test_salvage_refuses_filters_and_a_wrong_passphrase(run, made):
    assert run("export", "--salvage", "--since", "2024-01-01").code == 2
    r = run("export", "--salvage", environ={"DIARY_PASSPHRASE": "not it"})
    assert r.code == 3 and r.out == ""


def test_without_a_count_of_entries_the_loss_is_a_lower_bound(run, diary, tmp_path):
    _diary_of(diary, 120)
    conn = diary.db.connection()
    for statement in ("DROP TABLE entry_month", "DROP TABLE entry_fts"):
        conn.execute(statement)
    diary.close()
    _damage_a_middle_entry_page(diary.path)
    r = run("export", "--salvage", "--format", "jsonl")
    assert r.code == 4, r
    assert "diary: at least " in r.err and "could not be read" in r.err
    assert 0 < len(r.out.splitlines()) < 120
