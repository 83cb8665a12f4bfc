"""Import and merge do work linear in the entries, whatever their dates.

Measured by counting work, not time: SQLite calls a progress handler every
N virtual-machine instructions, so the number of calls during an import is
the work SQLite did. Doubling the entries must about double it; the old
duplicate check (every entry compared with every earlier one of the same
date) made it four times as much.
"""

import json

import pytest

from diary import exchange, store


def _journal(tmp_path, n, same_time):
    lines = []
    for i in range(n):
        stamp = "2024-03-02 10:00" if same_time else "%04d-%02d-%02d 10:00" % (
            1990 + i // 336, 1 + i // 28 % 12, 1 + i % 28)
        lines.append("[%s] Entry number %d.\nThe same kind of text for every entry, "
                     "long enough to be compared: %d.\n" % (stamp, i, i))
    p = tmp_path / ("j-%d-%s.txt" % (n, same_time))
    p.write_text("\n".join(lines), encoding="utf-8")
    return str(p)


def _work(tmp_path, n, same_time, name):
    path = str(tmp_path / (name + ".db"))
    store.create(path, "pass phrase")
    d = store.open_diary(path, "pass phrase")
    try:
        steps = [0]

        def count():
            steps[0] += 1
            return 0
        d.db.connection().set_progress_handler(count, 1000)
        stats = exchange.import_file(d, _journal(tmp_path, n, same_time), "jrnl")
        d.db.connection().set_progress_handler(None, 0)
        assert stats.added == n
        return steps[0]
    finally:
        d.close()


def test_import_of_entries_sharing_one_timestamp_is_linear(tmp_path):
    small = _work(tmp_path, 400, True, "a")
    big = _work(tmp_path, 1600, True, "b")
    # linear: 4x the entries, about 4x the work (quadratic would be 16x)
    assert big < small * 5, (small, big)


def test_same_timestamp_costs_what_distinct_ones_cost(tmp_path):
    same = _work(tmp_path, 1600, True, "same")
    distinct = _work(tmp_path, 1600, False, "distinct")
    assert same < distinct * 1.5, (same, distinct)


@pytest.mark.parametrize("bodies", [("text", "text\n\n"), ("text\n\n", "text"),
                                    ("text\n", " text\n\n"), ("text", "text")])
def test_same_text_at_the_same_time_is_still_one_entry(tmp_path, diary, bodies):
    # The duplicate check still holds for a text that differs only in its
    # ends, in either order, within one run and across two.
    rec = {"created_at": "2024-03-02T10:00:00Z", "title": "T"}
    p = tmp_path / "a.jsonl"
    p.write_text("".join(json.dumps(dict(rec, body=b)) + "\n" for b in bodies))
    stats = exchange.import_file(diary, str(p), "jsonl")
    assert (stats.added, stats.skipped) == (1, 1)
    p.write_text(json.dumps(dict(rec, body=bodies[1] + " ")) + "\n")
    assert exchange.import_file(diary, str(p), "jsonl").skipped == 1


def test_the_exporters_fast_record_is_export_record(diary, tmp_path):
    # exporter._record is a copy of records.export_record for speed: the same
    # object for entries with one date and with two, starred or not, tagged.
    from diary import entries
    from diary.exchange import exporter
    from diary.exchange.records import export_record
    p = tmp_path / "a.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in [
        {"created_at": "2024-03-02T10:00:00Z", "title": "One date", "tags": ["a/b", "c"]},
        {"created_at": "2024-03-02T10:00:00Z", "updated_at": "2025-01-01T00:00:00+05:00",
         "body": "two dates", "starred": True}]))
    exchange.import_file(diary, str(p), "jsonl")
    with diary.read():
        rows = list(exporter._rows(exporter.select(diary)))
    assert len(rows) == 2
    for row in rows:
        assert exporter._record(row) == export_record(row)
        assert list(exporter._record(row)) == list(export_record(row))
        assert exporter._record(row) == export_record(entries.get(diary, row.id))
