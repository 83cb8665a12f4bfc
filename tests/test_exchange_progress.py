"""Progress: the library reports through a callback (it never prints); an
interrupt (Ctrl-C) raised midway leaves nothing half done."""

import json

import pytest

from diary import entries, exchange

ENTRY = {"created_at": "2024-03-02T10:00:00Z", "title": "T", "tags": ["a/b"]}


def _source(tmp_path, n):
    p = tmp_path / "many.jsonl"
    p.write_text("".join(json.dumps(dict(ENTRY, body="body %d" % i)) + "\n"
                         for i in range(n)))
    return str(p)


@pytest.mark.parametrize("keep", [exchange.KEEP_CHARS, 2000])
def test_import_reports_progress_with_a_total(diary, tmp_path, monkeypatch, keep):
    monkeypatch.setattr(exchange, "KEEP_CHARS", keep)  # read whole ahead, or streamed
    calls = []
    stats = exchange.import_file(diary, _source(tmp_path, 1200), "jsonl",
                                 progress=lambda done, total: calls.append((done, total)))
    assert stats.added == 1200
    assert [d for d, _ in calls] == [500, 1000, 1200]
    assert calls[-1] == (1200, 1200)
    # a total (exact, or estimated from the file's position) while it runs
    assert all(t is not None and t >= d for d, t in calls)


def test_ctrl_c_midway_through_an_import_leaves_the_diary_unchanged(diary, tmp_path):
    def interrupt(done, total):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        exchange.import_file(diary, _source(tmp_path, 1200), "jsonl", progress=interrupt)
    assert entries.count(diary) == 0
    assert exchange.import_file(diary, _source(tmp_path, 1200), "jsonl").added == 1200
