"""Import: our exports, jrnl (a journal written by the real jrnl 4.6), Markdown
folders, peewee's example diary; one transaction, idempotent, one-line errors."""

import datetime as _dt
import json
import os
import shutil

import pytest
import sqlcipher3

from diary import dates, entries, exchange, store, tags
from diary.errors import BadInput, SourcePassphraseError
from diary.exchange import jrnl

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
JRNL_TXT = os.path.join(FIXTURES, "jrnl", "journal.txt")
JRNL_JSON = os.path.join(FIXTURES, "jrnl", "journal.json")
PEEWEE_DB = os.path.join(FIXTURES, "peewee", "diary.db")
PEEWEE_PASSPHRASE = "peewee example passphrase"


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(p)


def snapshot(d):
    """Everything an entry is, minus local ids, in a stable order."""
    return sorted((e.uuid, e.created_at, e.updated_at, e.title, e.body, e.starred, e.tags)
                  for e in entries.list_entries(d))


def assert_tag_text_consistent(d):
    """The tags text written with each row equals what tags.py would derive."""
    with d.write():
        assert tags._refresh(ids=[e.id for e in entries.list_entries(d)]) == 0


def jsonl(*records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


REC = {"uuid": "3f0c7a52-6b1e-4d3c-9a53-0b7e8a9f1c2d", "created_at": "2024-03-02T21:30:00+01:00",
       "updated_at": "2024-03-03T08:00:00+01:00", "title": "Long run",
       "body": "Ran 12 km by the river.", "starred": True, "tags": ["health/running"]}


# --- our own formats ----------------------------------------------------------------

def test_json_record_imports_with_every_field(diary, tmp_path):
    p = write(tmp_path, "a.json", json.dumps([REC]))
    stats = exchange.import_file(diary, p)
    assert (stats.added, stats.skipped) == (1, 0)
    [e] = entries.list_entries(diary)
    assert e.uuid == REC["uuid"] and e.title == "Long run" and e.starred
    assert e.created_at == _dt.datetime(2024, 3, 2, 20, 30, tzinfo=_dt.timezone.utc)
    assert e.updated_at == _dt.datetime(2024, 3, 3, 7, 0, tzinfo=_dt.timezone.utc)
    assert e.tag_list == ["health/running"]


def test_list_json_output_imports_too(diary, tmp_path):
    """`diary list --json` carries id and version: ignored, not an error."""
    p = write(tmp_path, "a.json", json.dumps([dict(REC, id=7, version=3)], indent=2))
    assert exchange.import_file(diary, p).added == 1


def test_wrapped_json_object_imports(diary, tmp_path):
    p = write(tmp_path, "a.json", json.dumps({"entries": [REC]}))
    assert exchange.import_file(diary, p, "json").added == 1


def test_reimport_adds_nothing(diary, tmp_path):
    p = write(tmp_path, "a.jsonl", jsonl(REC, dict(REC, uuid="0e3b9f0c-5d2a-4c1e-8f7a-6b5c4d3e2f1a", title="Other")))
    assert exchange.import_file(diary, p).added == 2
    before = snapshot(diary)
    stats = exchange.import_file(diary, p)
    assert (stats.added, stats.skipped) == (0, 2)
    assert snapshot(diary) == before


def test_same_uuid_twice_in_one_file_is_added_once(diary, tmp_path):
    p = write(tmp_path, "a.jsonl", jsonl(REC, REC))
    stats = exchange.import_file(diary, p)
    assert (stats.added, stats.skipped) == (1, 1)


def test_naive_time_is_local(diary, tmp_path):
    p = write(tmp_path, "a.jsonl", jsonl({"created_at": "2024-03-02T21:30:00", "body": "x"}))
    exchange.import_file(diary, p)
    [e] = entries.list_entries(diary)
    assert e.created_at == _dt.datetime(2024, 3, 2, 21, 30).astimezone()


def test_inline_tags_are_marked_inline(diary, tmp_path):
    p = write(tmp_path, "a.jsonl", jsonl(dict(REC, body="Ran #health/running", tags=[
        "health/running", "misc"])))
    exchange.import_file(diary, p)
    [e] = entries.list_entries(diary)
    # editing the text drops the inline tag, keeps the explicit one (as for `diary add`)
    e = entries.edit(diary, e.id, body="Ran")
    assert e.tag_list == ["misc"]


def test_a_record_without_its_inline_tag_stays_without(diary, tmp_path):
    """The record's tag list is the truth: a #word the user untagged stays untagged."""
    p = write(tmp_path, "a.jsonl", jsonl(dict(REC, body="about #foo", tags=[])))
    exchange.import_file(diary, p)
    assert entries.list_entries(diary)[0].tag_list == []
    assert store.Tag.select().count() == 0  # and no unused tag was made


def test_existing_tag_keeps_its_spelling(diary, tmp_path):
    entries.add(diary, "x", tags=["Work/Acme"])
    p = write(tmp_path, "a.jsonl", jsonl(dict(REC, tags=["work/acme/meetings"])))
    exchange.import_file(diary, p)
    e = [e for e in entries.list_entries(diary) if e.uuid == REC["uuid"]][0]
    assert e.tag_list == ["Work/Acme/meetings"]
    assert_tag_text_consistent(diary)


# --- bad input: one line, the place named, nothing changed ----------------------------

BAD = [
    ("a.json", '[{"created_at": "2024-01-01T10:00:00", "body": "ok"},\n{"created_at": ',
     "line 2"),
    ("a.json", '[{"created_at": "2024-01-01T10:00:00", "body": "ok"}\n{"x": 1}]',
     "line 2: expected ',' or ']'"),
    ("a.json", '[{"body": "no date"}]', "entry 1 (line 1): created_at is missing"),
    ("a.json", '[{"created_at": "yesterday", "body": "x"}]', "entry 1 (line 1): created_at"),
    ("a.json", '[{"created_at": "2024-01-01T10:00:00", "body": 3}]', "body must be text"),
    ("a.json", '[{"created_at": "2024-01-01T10:00:00", "body": "x", "tags": "a"}]',
     "tags must be a list"),
    ("a.json", '[{"created_at": "2024-01-01T10:00:00", "body": "x", "tags": ["a//b"]}]',
     "entry 1 (line 1): bad tag path"),
    ("a.json", '[{"created_at": "2024-01-01T10:00:00", "body": "nul \\u0000 here"}]',
     "entry 1 (line 1): the text contains a NUL"),
    ("a.jsonl", '{"created_at": "2024-01-01T10:00:00", "body": "ok"}\n\n{oops}\n',
     "line 3: invalid JSON"),
    ("a.jsonl", b'{"created_at": "2024-01-01T10:00:00", "body": "ok"}\n{"body": "\xff"}\n',
     "line 2: not valid UTF-8"),
    ("j.txt", "[2024-01-01 10:00] Fine.\nbody\n[2024-02-30 10:00] Bad date.\n",
     "line 3: malformed entry header"),
    ("j.txt", "Some text before any header\n[2024-01-01 10:00] Fine.\n", "line 1: expected"),
    ("j.txt", b"[2024-01-01 10:00] Fine.\nbody \xe9t\xe9\n", "line 2: not valid UTF-8"),
    # a uuid lands in file names and front matter: only real uuids get in
    ("a.jsonl", jsonl(dict(REC, uuid="../../etc/x")), "line 1: uuid is not a valid UUID"),
    ("a.jsonl", jsonl(dict(REC, uuid="x\nstarred: true")), "line 1: uuid is not a valid UUID"),
    ("a.jsonl", jsonl(dict(REC, uuid="")), "line 1: uuid is not a valid UUID"),
    ("a.jsonl", jsonl(dict(REC, uuid=7)), "line 1: uuid must be text"),
    ("a.json", json.dumps([REC, dict(REC, uuid="a/b")]), "entry 2 (line 1): uuid is not"),
    ("j.json", json.dumps({"entries": [{"date": "2024-01-01", "time": "10:00", "body": "x",
                                        "uuid": "no/such"}]}), "entry 1: uuid is not"),
]


def test_an_entry_without_title_and_text_is_skipped_with_a_warning(diary, tmp_path):
    # jrnl writes such entries ("empty DayOne entry bodies should not error"):
    # one of them never refuses the rest.
    p = write(tmp_path, "a.json", '[{"created_at": "2024-01-01T10:00:00"},\n'
                                  '{"created_at": "2024-01-02T10:00:00", "body": "kept"}]')
    stats = exchange.import_file(diary, p, "json")
    assert (stats.added, stats.empty_skipped) == (1, 1)
    assert stats.warnings == ["entry 1 (line 1): an entry with no title and no text: skipped"]


@pytest.mark.parametrize("name, data, message", BAD)
def test_bad_input_names_the_place_and_changes_nothing(diary, tmp_path, name, data, message):
    entries.add(diary, "already here", tags=["kept"])
    before = snapshot(diary)
    fmt = {"a.json": "json", "a.jsonl": "jsonl", "j.txt": "jrnl", "j.json": "jrnl-json"}[name]
    with pytest.raises(BadInput) as err:
        exchange.import_file(diary, write(tmp_path, name, data), fmt)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert snapshot(diary) == before
    assert [t.name for t in store.Tag.select()] == ["kept"]


def test_uuids_are_normalised(diary, tmp_path):
    spelled = "{3F0C7A52-6B1E-4D3C-9A53-0B7E8A9F1C2D}"
    p = write(tmp_path, "a.jsonl", jsonl(dict(REC, uuid=spelled)))
    assert exchange.import_file(diary, p).added == 1
    assert entries.list_entries(diary)[0].uuid == REC["uuid"]
    assert exchange.import_file(diary, write(tmp_path, "b.jsonl", jsonl(REC))).added == 0


def test_markdown_uuid_is_checked(diary, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("---\nuuid: a/b\n---\ntext\n")
    with pytest.raises(BadInput, match=r"^a\.md: uuid is not a valid UUID"):
        exchange.import_file(diary, str(folder))
    (folder / "a.md").write_text("---\nuuid: %s\n---\ntext\n" % REC["uuid"].upper())
    assert exchange.import_file(diary, str(folder)).added == 1
    assert entries.list_entries(diary)[0].uuid == REC["uuid"]


def test_failure_after_many_entries_rolls_everything_back(diary, tmp_path):
    good = [{"created_at": "2024-01-01T10:00:00", "body": "entry %d #t%d" % (i, i)}
            for i in range(300)]
    p = write(tmp_path, "a.jsonl", jsonl(*good) + "not json\n")
    with pytest.raises(BadInput, match="line 301"):
        exchange.import_file(diary, p)
    assert entries.count(diary) == 0
    assert store.Tag.select().count() == 0


def test_long_json_array_streams_across_chunks(diary, tmp_path, monkeypatch):
    from diary.exchange import records

    monkeypatch.setattr(records, "CHUNK", 64)  # every entry straddles a chunk boundary
    recs = [{"created_at": "2024-01-01T10:%02d:00" % (i % 60), "title": "t%d" % i,
             "body": "é" * (i * 7)} for i in range(40)]
    p = write(tmp_path, "a.json", json.dumps(recs, ensure_ascii=False, indent=1))
    assert exchange.import_file(diary, p).added == 40
    assert sorted(e.body for e in entries.list_entries(diary)) == sorted(r["body"] for r in recs)


# --- guessing ------------------------------------------------------------------------

@pytest.mark.parametrize("data, fmt", [
    ('[{"created_at": "2024-01-01"}]', "json"),
    ('  \n[\n]', "json"),
    ('{"created_at": "2024-01-01"}\n{"created_at": "2024-01-02"}\n', "jsonl"),
    ('{\n  "tags": {},\n  "entries": []\n}', "jrnl-json"),
    ('[2024-01-01 10:00] Title\nbody', "jrnl"),
])
def test_guess_format(tmp_path, data, fmt):
    assert exchange.guess_format(write(tmp_path, "f", data)) == fmt


def test_guess_format_of_folders_databases_and_junk(tmp_path):
    assert exchange.guess_format(str(tmp_path)) == "markdown"
    assert exchange.guess_format(PEEWEE_DB) == "peewee-diary"
    with pytest.raises(BadInput, match="--format"):
        exchange.guess_format(write(tmp_path, "x", "just some words"))


def test_guess_format_of_bytes_that_are_not_text(tmp_path, made):
    """Only whole pages of random-looking bytes can be an encrypted database;
    other binary files are not asked a passphrase."""
    noise = bytes(range(128, 256)) * 64  # 8192 bytes, not UTF-8
    assert exchange.guess_format(write(tmp_path, "pages.db", noise)) == "peewee-diary"
    assert exchange.guess_format(made) == "peewee-diary"  # ours is SQLCipher too
    latin1 = "[2024-01-01 10:00] caf\xe9 au lait\n".encode("latin-1")
    for data in (noise[:1000], noise + b"x", latin1):
        with pytest.raises(BadInput, match=r"^cannot tell the format of .*--format") as err:
            exchange.guess_format(write(tmp_path, "x.bin", data))
        assert "\n" not in str(err.value)


# --- jrnl ------------------------------------------------------------------------------

def jrnl_expected():
    """What jrnl itself says the journal holds: its own JSON export."""
    with open(JRNL_JSON, encoding="utf-8") as f:
        document = json.load(f)
    return [(_dt.datetime.strptime(x["date"] + " " + x["time"], "%Y-%m-%d %H:%M").astimezone(),
             x["title"], x["body"], x["starred"], sorted(t[1:] for t in x["tags"]))
            for x in document["entries"]]


def imported(d):
    return [(e.created_at, e.title, e.body, e.starred, sorted(t.lower() for t in e.tag_list))
            for e in entries.list_entries(d, newest_first=False)]


@pytest.mark.parametrize("source, fmt", [(JRNL_TXT, "jrnl"), (JRNL_JSON, "jrnl-json")])
def test_real_jrnl_journal_imports_intact(diary, source, fmt):
    assert exchange.guess_format(source) == fmt
    stats = exchange.import_file(diary, source)
    expected = jrnl_expected()
    assert stats.added == len(expected) == 9
    got = imported(diary)
    # jrnl links no tag that it does not see either: compare tag by tag
    assert got == expected
    assert_tag_text_consistent(diary)


def test_jrnl_text_and_json_are_the_same_entries(diary):
    exchange.import_file(diary, JRNL_TXT)
    stats = exchange.import_file(diary, JRNL_JSON)
    assert (stats.added, stats.skipped) == (0, 9)


def test_jrnl_details(diary):
    exchange.import_file(diary, JRNL_TXT)
    by_title = {e.title: e for e in entries.list_entries(diary)}
    assert by_title["Last entry of the year"].starred
    assert by_title["Starred thought: the quiet hour before everyone wakes up."].starred
    assert not by_title["Groceries"].starred and by_title["Groceries"].body == ""
    assert "[1] a footnote-looking line" in by_title["Dinner at Café Ünïcode ☕"].body
    assert by_title["Work starts again."].tag_list == ["work/acme"]
    assert tags.resolve("year/2023") is not None


def test_jrnl_default_timeformat_and_bare_days():
    text = ("[2024-03-02 09:30:00 PM] Evening. Text\n\n"
            "[2024-03-03] A bare day *\n").encode()
    import io

    recs = list(jrnl.read_text(io.BytesIO(text)))
    assert recs[0].created_at == _dt.datetime(2024, 3, 2, 21, 30).astimezone()
    assert (recs[0].title, recs[0].body) == ("Evening. Text", "")  # a line break splits first
    # A bare day in a header is 00:00, as jrnl 4.6 reads it (its default_hour
    # is only for days typed on its command line): jrnl-testdata checks it.
    assert recs[1].created_at == _dt.datetime(2024, 3, 3, 0, 0).astimezone()
    assert recs[1].starred and recs[1].title == "A bare day"


@pytest.mark.parametrize("text, title, body", [
    ("One line only", "One line only", ""),
    ("First sentence. Second one.", "First sentence.", "Second one."),
    ("Is it? Yes.", "Is it?", "Yes."),
    ("Line one\nline two", "Line one", "line two"),
    ("夏至。其余", "夏至。", "其余"),
])
def test_jrnl_title_split(text, title, body):
    assert jrnl.split_title(text) == (title, body)


def test_txt_export_reads_back_as_jrnl(diary, tmp_path):
    entries.add(diary, "The text\nover two lines", title="A title", starred=True,
                created_at=_dt.datetime(2024, 3, 2, 21, 30).astimezone())
    p = str(tmp_path / "out.txt")
    exchange.export_file(diary, p, "txt")
    with open(p, encoding="utf-8") as f:
        assert f.read() == "[2024-03-02 21:30] A title *\nThe text\nover two lines\n"
    [rec] = list(jrnl.read_text(open(p, "rb")))
    assert (rec.title, rec.body, rec.starred) == ("A title", "The text\nover two lines", True)


# --- Markdown folders -------------------------------------------------------------------

def test_hand_written_markdown_folder(diary, tmp_path):
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "2024-03-02-2130-run.md").write_text("# Long run\n\nRan #health/running.\n")
    (folder / "sub" / "plain.md").write_text(
        "---\ndate: 2024-01-05\ntitle: 'It''s plain'\ntags: [a, b/c]\nstarred: yes\n---\n"
        "Text.\n")
    (folder / "ignored.txt").write_text("not markdown")
    stats = exchange.import_file(diary, str(folder))
    assert stats.added == 2
    plain, run = sorted(entries.list_entries(diary), key=lambda e: e.title)
    assert (run.title, run.body) == ("Long run", "Ran #health/running.")
    assert run.created_at == _dt.datetime(2024, 3, 2, 21, 30).astimezone()
    assert run.tag_list == ["health/running"]
    assert (plain.title, plain.body, plain.starred) == ("It's plain", "Text.", True)
    assert plain.tag_list == ["a", "b/c"]
    assert plain.created_at == _dt.datetime(2024, 1, 5, dates.DEFAULT_HOUR).astimezone()
    assert exchange.import_file(diary, str(folder)).added == 0


def test_markdown_errors_name_the_file(diary, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("fine")
    (folder / "b.md").write_text("---\ndate: someday\n---\ntext\n")
    with pytest.raises(BadInput, match=r"^b\.md: date is not an ISO 8601 date"):
        exchange.import_file(diary, str(folder))
    assert entries.count(diary) == 0


# --- peewee's example diary ----------------------------------------------------------------

def test_peewee_example_diary_imports(diary, tmp_path):
    copy = str(tmp_path / "diary.db")
    shutil.copy(PEEWEE_DB, copy)
    before = open(copy, "rb").read()
    stats = exchange.import_file(diary, copy, passphrase=PEEWEE_PASSPHRASE)
    assert stats.added == 3
    got = [(e.created_at, e.title, e.body, e.tag_list)
           for e in entries.list_entries(diary, newest_first=False)]
    assert got == [
        (_dt.datetime(2019, 5, 1, 8, 30).astimezone(), "", "First entry in the encrypted diary.",
         []),
        (_dt.datetime(2019, 5, 2, 22, 15, 42, 123456).astimezone(), "",
         "Second thoughts #ideas\nwith a second line,\nand a third.", ["ideas"]),
        (_dt.datetime(2020, 2, 29, 12, 0).astimezone(), "", "Ünïcode and emoji ✍️ survive.",
         []),
    ]
    assert open(copy, "rb").read() == before  # the source is only read
    assert exchange.import_file(diary, copy, passphrase=PEEWEE_PASSPHRASE).added == 0


def test_peewee_diary_wrong_passphrase(diary):
    with pytest.raises(SourcePassphraseError, match="wrong passphrase for"):
        exchange.import_file(diary, PEEWEE_DB, passphrase="nope")
    assert entries.count(diary) == 0


def test_peewee_diary_of_the_older_example(diary, tmp_path):
    """The example once set kdf_iter=64000; such files import too."""
    p = str(tmp_path / "old.db")
    conn = sqlcipher3.connect(p)
    conn.execute("PRAGMA key = 'old one'")
    conn.execute("PRAGMA kdf_iter = 64000")
    conn.execute('CREATE TABLE "entry" ("id" INTEGER NOT NULL PRIMARY KEY, '
                 '"content" TEXT NOT NULL, "timestamp" DATETIME NOT NULL)')
    conn.execute("INSERT INTO entry (content, timestamp) VALUES ('old', '2015-01-01 10:00:00')")
    conn.commit()
    conn.close()
    assert exchange.import_file(diary, p, "peewee-diary", passphrase="old one").added == 1


def test_not_a_peewee_diary(diary, tmp_path):
    import sqlite3

    p = str(tmp_path / "other.db")
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE notes (text)")
    conn.commit()
    conn.close()
    assert exchange.guess_format(p) == "peewee-diary"
    with pytest.raises(BadInput, match="has no table entry"):
        exchange.import_file(diary, p)


@pytest.mark.parametrize("fmt", exchange.IMPORT_FORMATS)
def test_every_import_format_has_a_reader(tmp_path, fmt):
    import contextlib

    from diary.exchange import _records

    path = str(tmp_path) if fmt in ("markdown", "jrnl-folder") else \
        write(tmp_path, "empty", "")
    with contextlib.ExitStack() as stack:
        assert iter(_records(path, fmt, "passphrase", stack, exchange.ImportOptions(),
                             lambda message: None)[0]) is not None


def test_importing_a_diary_of_ours_points_to_merge(diary, tmp_path, monkeypatch):
    from conftest import PASSPHRASE, TEST_KDF_ITER
    from diary.exchange import peewee_diary

    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    with pytest.raises(SourcePassphraseError, match="diary merge"):
        exchange.import_file(diary, other, passphrase="wrong")
    # with its passphrase (test diaries have a low kdf_iter: let the reader try it)
    monkeypatch.setattr(peewee_diary, "ATTEMPTS",
                        (("PRAGMA kdf_iter = %d" % TEST_KDF_ITER,),) + peewee_diary.ATTEMPTS)
    with pytest.raises(BadInput, match=r"is not a peewee diary \(.*`diary merge FILE`"):
        exchange.import_file(diary, other, passphrase=PASSPHRASE)
    assert entries.count(diary) == 0
