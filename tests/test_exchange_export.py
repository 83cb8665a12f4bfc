"""Export: each format's shape, the filters, and files written atomically."""

import csv
import datetime as _dt
import io
import json
import os

import pytest

from diary import entries, exchange
from diary.errors import DiaryError
from diary.exchange import exporter as export_mod, markdown


@pytest.fixture
def outdir(tmp_path):
    """Where exports go (the diary itself lives in tmp_path/d)."""
    d = tmp_path / "out"
    d.mkdir()
    return d


def at(*args):
    return _dt.datetime(*args).astimezone()


@pytest.fixture
def three(diary):
    entries.add(diary, "Ran 12 km by the river.", title="Long run", tags=["health/running"],
                created_at=at(2024, 3, 2, 21, 30))
    entries.add(diary, "A quiet day.", starred=True, created_at=at(2024, 3, 1, 9, 0))
    entries.add(diary, 'Quotes " and, commas\nand a second line', title="Work",
                tags=["work/acme"], created_at=at(2024, 3, 3, 8, 0))
    return diary


def exported(d, fmt="json", **filters):
    out = io.StringIO()
    n = exchange.export(d, out, fmt, **filters)
    return n, out.getvalue()


def test_json_is_an_array_of_records_oldest_first(three):
    n, text = exported(three)
    data = json.loads(text)
    assert n == 3 and [r["title"] for r in data] == ["", "Long run", "Work"]
    assert set(data[0]) == {"uuid", "created_at", "updated_at", "title", "body", "starred",
                            "tags"}
    assert data[1]["created_at"] == at(2024, 3, 2, 21, 30).isoformat()
    assert data[1]["tags"] == ["health/running"] and data[0]["starred"] is True
    # one entry per line: greppable, and still one JSON document
    assert text.count("\n") == 5 and text.startswith("[\n{") and text.endswith("}\n]\n")


def test_record_is_to_record_without_local_fields(three):
    e = entries.list_entries(three)[0]
    full = entries.to_record(e)
    del full["id"], full["version"]
    assert export_mod.export_record(e) == full


def test_empty_export_is_valid(diary):
    for fmt, expected in (("json", "[]\n"), ("jsonl", ""), ("txt", ""), ("markdown", "")):
        assert exported(diary, fmt) == (0, expected)
    assert exported(diary, "csv")[1] == ",".join(export_mod.CSV_COLUMNS) + "\r\n"


def test_jsonl_is_one_record_per_line(three):
    _, text = exported(three, "jsonl")
    lines = text.splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["title"] == "Work"


def test_csv_round_trips_through_a_csv_reader(three):
    _, text = exported(three, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["title"] for r in rows] == ["", "Long run", "Work"]
    assert rows[2]["body"] == 'Quotes " and, commas\nand a second line'
    assert rows[0]["starred"] == "true" and rows[1]["tags"] == "health/running"


def test_markdown_document(three):
    _, text = exported(three, "markdown")
    assert text.startswith("# 2024-03-01 09:00\n\n<!-- diary: {")
    assert "-->\n*2024-03-01 09:00* · ★ starred\n" in text
    assert "-->\n*2024-03-02 21:30* · tags: `health/running`\n\nRan 12 km" in text
    assert text.count("\n---\n") == 2


def test_txt_is_jrnl_layout(three):
    _, text = exported(three, "txt")
    assert text.startswith("[2024-03-01 09:00] *\nA quiet day.\n\n[2024-03-02 21:30] Long run\n")


@pytest.mark.parametrize("filters, titles", [
    (dict(since=at(2024, 3, 2)), ["Long run", "Work"]),
    (dict(until=at(2024, 3, 2, 23, 59)), ["", "Long run"]),
    (dict(starred=True), [""]),
    (dict(tags=["work"]), ["Work"]),
    (dict(tags=["health", "work"]), []),
    (dict(tags=["nosuch"]), []),
])
def test_filters(three, filters, titles):
    _, text = exported(three, **filters)
    assert [r["title"] for r in json.loads(text)] == titles


def test_query_filter(three):
    _, text = exported(three, query="river")
    assert [r["title"] for r in json.loads(text)] == ["Long run"]


def test_progress_is_reported(three):
    calls = []
    exchange.export(three, io.StringIO(), "json", progress=lambda *a: calls.append(a))
    assert calls[-1] == (3, 3)


# --- files ---------------------------------------------------------------------------------

def test_file_is_private_and_complete(three, outdir):
    p = str(outdir / "out.json")
    assert exchange.export_file(three, p, "json") == 3
    assert os.stat(p).st_mode & 0o777 == 0o600
    assert len(json.load(open(p))) == 3
    assert sorted(os.listdir(outdir)) == ["out.json"]


def test_existing_file_is_kept_without_force(three, outdir):
    p = outdir / "out.json"
    p.write_text("precious")
    with pytest.raises(DiaryError, match="already exists.*--force"):
        exchange.export_file(three, str(p), "json")
    assert p.read_text() == "precious"
    exchange.export_file(three, str(p), "json", force=True)
    assert len(json.loads(p.read_text())) == 3
    assert os.stat(p).st_mode & 0o777 == 0o600
    assert sorted(os.listdir(outdir)) == ["out.json"]


class Boom(Exception):
    pass


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt, OSError])
@pytest.mark.parametrize("force", [False, True])
def test_failure_midway_leaves_nothing(three, outdir, monkeypatch, error, force):
    for i in range(20):
        entries.add(three, "more %d" % i)
    real = export_mod._record  # what the JSON writer calls for each entry
    calls = []

    def failing(entry):
        calls.append(1)
        if len(calls) == 10:
            raise error("injected")
        return real(entry)

    monkeypatch.setattr(export_mod, "_record", failing)
    p = outdir / "out.json"
    if force:
        p.write_text("the old export")
    with pytest.raises((error, DiaryError)):
        exchange.export_file(three, str(p), "json", force=force)
    assert len(calls) == 10  # it really failed midway
    assert sorted(os.listdir(outdir)) == (["out.json"] if force else [])
    if force:
        assert p.read_text() == "the old export"


def test_split_writes_one_markdown_file_per_entry(three, outdir):
    d = outdir / "notes"
    assert exchange.export_split(three, str(d)) == 3
    names = sorted(os.listdir(d))
    assert names[1].startswith("2024-03-02-2130-long-run-") and names[1].endswith(".md")
    assert all(os.stat(d / n).st_mode & 0o777 == 0o600 for n in names)
    assert os.stat(d).st_mode & 0o777 == 0o700
    text = (d / names[1]).read_text()
    assert text.startswith("---\nuuid: ") and 'title: "Long run"\n' in text
    assert text.endswith("---\nRan 12 km by the river.\n")
    assert sorted(os.listdir(outdir)) == ["notes"]


def test_split_into_a_full_directory_needs_force(three, outdir):
    d = outdir / "notes"
    d.mkdir()
    (d / "mine.md").write_text("mine")
    with pytest.raises(DiaryError, match="already exists"):
        exchange.export_split(three, str(d))
    assert os.listdir(d) == ["mine.md"]
    exchange.export_split(three, str(d), force=True)
    assert len(os.listdir(d)) == 4 and (d / "mine.md").read_text() == "mine"
    assert sorted(os.listdir(outdir)) == ["notes"]
    exchange.export_split(three, str(d), force=True)  # the same names: replaced
    assert len(os.listdir(d)) == 4


def test_split_failure_leaves_nothing(three, outdir, monkeypatch):
    real = markdown.entry_file
    calls = []

    def failing(entry):
        calls.append(1)
        if len(calls) == 2:
            raise Boom()
        return real(entry)

    monkeypatch.setattr(markdown, "entry_file", failing)
    with pytest.raises(Boom):
        exchange.export_split(three, str(outdir / "notes"))
    assert os.listdir(outdir) == []


def test_file_names_are_unique(three):
    taken = set()
    e = entries.list_entries(three)[0]
    first, second = markdown.file_name(e, taken), markdown.file_name(e, taken)
    assert first != second and e.uuid in second


def test_split_export_of_a_stored_uuid_that_is_not_one(diary, outdir):
    """A uuid stored before imports checked them (or merged in from a crafted
    file) never reaches a file name or front matter as it is."""
    import uuid as _uuid

    entries.add(diary, "text", title="t", uuid="../x\nstarred: true",
                created_at=at(2024, 3, 2, 21, 30))
    entries.add(diary, "text", title="t", uuid="B0A1C2D3-E4F5-4617-8899-AABBCCDDEEFF",
                created_at=at(2024, 3, 2, 21, 30))
    d = outdir / "notes"
    assert exchange.export_split(diary, str(d)) == 2
    names = sorted(os.listdir(d))
    assert len(names) == 2 and all(os.path.isfile(d / n) for n in names)
    assert "2024-03-02-2130-t-b0a1c2d3.md" in names
    for name in names:
        head = (d / name).read_text().split("---\n")[1].splitlines()
        assert head[0].startswith("uuid: ") and str(_uuid.UUID(head[0][6:])) == head[0][6:]
        assert [line.split(":")[0] for line in head] == [
            "uuid", "created_at", "updated_at", "title", "tags", "starred"]
        assert "starred: false" in head


def test_one_list_of_formats_for_the_library_and_the_cli():
    from diary import cli_exchange

    assert tuple(export_mod.WRITERS) == exchange.EXPORT_FORMATS == cli_exchange.EXPORT_FORMATS
    assert exchange.IMPORT_FORMATS is cli_exchange.IMPORT_FORMATS
