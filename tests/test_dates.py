"""dates.py: the one stored form and range, what a person types, and the
ways in (add, edit, every importer, merge) that must use them."""

import datetime as _dt
import json
import os

import pytest

from diary import dates, entries, store
from diary.errors import BadInput

from conftest import PASSPHRASE, file_bytes

UTC = _dt.timezone.utc


# --- the stored form and its range ------------------------------------------------

def test_stored_text_is_zero_padded_utc():
    value = _dt.datetime(1000, 1, 2, 0, 0, tzinfo=UTC)
    assert dates.stored(value) == "1000-01-02T00:00:00.000000Z"
    berlin = _dt.timezone(_dt.timedelta(hours=1))
    assert dates.stored(_dt.datetime(2024, 3, 2, 21, 30, 5, 7, tzinfo=berlin)) \
        == "2024-03-02T20:30:05.000007Z"
    # below 1000 the text stays four digits (read_stored then calls it unreadable)
    assert dates.text(_dt.datetime(999, 5, 1, 10, tzinfo=UTC)) == "0999-05-01T10:00:00.000000Z"


@pytest.mark.parametrize("value", [
    _dt.datetime(1, 1, 1, tzinfo=UTC),
    _dt.datetime(999, 5, 1, 10, tzinfo=UTC),
    _dt.datetime(1000, 1, 1, 23, 59, tzinfo=UTC),
    _dt.datetime(9998, 12, 31, 0, 0, tzinfo=UTC),
    _dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    _dt.datetime(1000, 1, 2, 13, 0, tzinfo=_dt.timezone(_dt.timedelta(hours=14))),
])
def test_out_of_range_is_refused(value):
    with pytest.raises(BadInput, match="out of range"):
        dates.stored(value, "line 3")


@pytest.mark.parametrize("offset", range(-14, 15))
def test_the_range_holds_in_every_local_time(offset):
    tz = _dt.timezone(_dt.timedelta(hours=offset))
    for edge in (dates.EARLIEST, dates.LATEST):
        local = edge.astimezone(tz)
        assert 1000 <= local.year <= 9998
        assert dates.read_stored(dates.stored(edge)) == edge


def test_unreadable_stored_text_reads_as_its_raw_text():
    for raw in ("999-05-01T10:00:00.000000Z", "2020-02-31T00:00:00.000000Z",
                "9999-12-31T23:59:59.000000Z", "hello\x1b[31m", "", None):
        value = dates.read_stored(raw)
        assert isinstance(value, dates.Unreadable)
        assert dates.local(value) is value
        shown = value.strftime("%Y-%m-%d %H:%M")
        assert "\x1b" not in shown and shown == value.isoformat()
        if raw:
            assert raw[:5] in shown
        assert not dates.readable(raw)
        assert dates.text(value) == raw  # written back as it was
    assert dates.readable("2024-03-02T20:30:00.000000Z")
    assert not dates.readable("2024-03-02T20:30:00+00:00")  # readable, not the stored form


# --- every way in uses the range --------------------------------------------------

def test_add_and_edit_refuse_out_of_range(diary):
    with pytest.raises(BadInput, match="out of range"):
        entries.add(diary, "x", created_at=_dt.datetime(9999, 12, 31, 23, tzinfo=UTC))
    e = entries.add(diary, "x")
    with pytest.raises(BadInput, match="out of range"):
        entries.edit(diary, e.id, created_at=_dt.datetime(1, 1, 1, tzinfo=UTC))
    assert entries.count(diary) == 1


def _import(run, tmp_path, name, content, *fmt):
    p = tmp_path / name
    p.write_text(content)
    return run("import", str(p), *fmt)


@pytest.mark.parametrize("name,content,where", [
    ("j.txt", "[2024-01-01 10:00] Fine\n\n[0999-05-01 10:00] Typo year\nshould be 1999\n",
     "line 3"),
    ("j.txt", "[2020-02-31 10:00] No such day\n", "line 1"),
    ("a.json", json.dumps([{"created_at": "2024-01-01T10:00:00+00:00", "body": "ok"},
                           {"created_at": "0001-01-01T00:00:00+00:00", "body": "x"}]),
     "line 1"),
    ("a.jsonl", '{"created_at": "2024-01-01T10:00:00+00:00", "body": "ok"}\n'
                '{"created_at": "9999-12-31T23:59:59+00:00", "body": "x"}\n', "line 2"),
    ("a.jsonl", '{"created_at": "2020-02-31", "body": "x"}\n', "line 1"),
    ("a.jsonl", '{"created_at": "2024-01-01T10:00:00+00:00", "updated_at": '
                '"0001-01-01T00:00:00+00:00", "body": "x"}\n', "line 1"),
])
def test_import_refuses_a_bad_date_naming_it_and_imports_nothing(run, made, tmp_path, name,
                                                                   content, where):
    before = file_bytes(made)
    r = _import(run, tmp_path, name, content)
    assert r.code == 1, r
    assert where in r.err and "internal error" not in r.err
    assert run("list", "--json").out.strip() == "[]"
    assert file_bytes(made) == before or run("check").code == 0


def test_markdown_import_refuses_out_of_range(run, made, tmp_path):
    folder = tmp_path / "md"
    folder.mkdir()
    (folder / "a.md").write_text("---\ncreated_at: 0999-05-01T10:00:00+00:00\n---\nText\n")
    r = run("import", str(folder))
    assert r.code == 1 and "a.md" in r.err and "out of range" in r.err, r
    assert run("list", "--json").out.strip() == "[]"


def _raw_sql(path, *statements):
    conn = store.keyed_connection(path, PASSPHRASE, store.KDF_ITER)
    try:
        for s in statements:
            conn.execute(s)
    finally:
        conn.close()


def test_merge_refuses_a_copy_holding_an_impossible_date(run, made, tmp_path):
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    assert run("add", "fine", diary_path=other).code == 0
    assert run("add", "bad", diary_path=other).code == 0
    _raw_sql(other, "UPDATE entry SET created_at = '2020-02-31T10:00:00.000000Z' "
                    "WHERE body = 'bad'")
    r = run("merge", other)
    assert r.code == 1 and "2020-02-31" in r.err and "internal error" not in r.err, r
    assert run("list", "--json").out.strip() == "[]"


def test_merge_copies_valid_dates_in_the_stored_form(run, made, tmp_path):
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    assert run("add", "--date", "2024-03-02 10:00", "fine", diary_path=other).code == 0
    assert run("merge", other).code == 0
    (row,) = json.loads(run("list", "--json").out)
    assert row["body"] == "fine"


# --- reading is robust: a row another tool wrote with an unreadable date ----------

BAD_DATES = ["999-05-01T10:00:00.000000Z", "2020-02-31T00:00:00.000000Z",
             "9999-12-31T23:59:59.000000Z", "yesterday\x1b[31m"]


@pytest.fixture
def with_bad_row(run, made):
    """Two good entries (ids 1, 3) and one (id 2) whose created_at another
    SQLCipher tool set to unreadable text."""
    for text in ("first", "second heron", "third"):
        assert run("add", "--date", "2024-03-02 10:00", text).code == 0

    def corrupt(raw, column="created_at"):
        _raw_sql(made, "UPDATE entry SET %s = '%s' WHERE id = 2" % (column, raw))
    return corrupt


@pytest.mark.parametrize("raw", BAD_DATES)
def test_every_reading_command_works_with_an_unreadable_date(run, with_bad_row, tmp_path,
                                                              raw):
    with_bad_row(raw)
    shown = dates.shown(raw)
    r = run("list")
    assert r.code == 0 and "first" in r.out and "third" in r.out, r
    assert shown in r.out and "warning" in r.err and "diary check" in r.err
    r = run("list", "--json")
    assert r.code == 0, r
    rows = {e["id"]: e for e in json.loads(r.out)}
    assert rows[2]["created_at"] == shown and set(rows) == {1, 2, 3}
    r = run("show", "2", "1")
    assert r.code == 0 and "second heron" in r.out and "first" in r.out, r
    r = run("search", "heron")
    assert r.code == 0 and "heron" in r.out, r
    assert run("search", "first").code == 0
    for fmt in ("json", "jsonl", "markdown", "csv", "txt"):
        r = run("export", "--format", fmt)
        assert r.code == 0 and "second heron" in r.out and "third" in r.out, (fmt, r)
    split = tmp_path / "split"
    r = run("export", "--split", str(split))
    assert r.code == 0 and len(os.listdir(split)) == 3, r
    assert "\x1b" not in "".join(os.listdir(split))


def test_a_date_stored_as_a_blob_is_shown_raw_and_takes_nothing_down(run, with_bad_row, made):
    # Raw SQL can store a BLOB in a TEXT column (`SET created_at = X'00ff'`):
    # it read as a TypeError inside every listing, so `diary list`, `stats`,
    # `on-this-day` and the rest all stopped with an internal error.
    _raw_sql(made, "UPDATE entry SET created_at = X'00ff' WHERE id = 2")
    for argv in (["list"], ["list", "--format", "dates"], ["show", "-n", "5"], ["stats"],
                 ["on-this-day", "2025-03-02"], ["search", "heron"], ["export"]):
        r = run(*argv)
        assert r.code == 0 and "internal error" not in r.err, (argv, r)
    r = run("list")
    assert "first" in r.out and "x'00ff'" in r.out and "warning" in r.err, r
    r = run("check")
    assert r.code == 4 and "diary edit 2 --date" in r.out, r
    assert run("edit", "2", "--date", "2024-03-02 11:00").code == 0
    assert run("check").code == 0


def test_an_unreadable_date_has_no_day_in_stats_or_per_day_counts(run, with_bad_row):
    # It read as 1970-01-01: `stats` said the diary began on 1970-01-01 with a
    # year 1970, and `list --format dates` counted a day nobody wrote on.
    with_bad_row("not a date")
    r = run("stats", "--json")
    assert r.code == 0 and "warning" in r.err, r
    got = json.loads(r.out)
    assert got["entries"] == 3 and got["days"] == 1 and got["first"] == "2024-03-02", got
    assert [y["year"] for y in got["years"]] == [2024], got
    r = run("list", "--format", "dates")
    assert r.code == 0 and r.out == "2024-03-02\t2\n" and "warning" in r.err, r
    assert json.loads(run("on-this-day", "2025-01-01", "--json").out) == []


def test_check_names_unreadable_rows_and_the_fix_works(run, with_bad_row):
    assert run("check").code == 0
    with_bad_row("999-05-01T10:00:00.000000Z")
    r = run("check")
    assert r.code == 4, r
    assert "2" in r.out and "diary edit 2 --date" in r.out, r
    r = run("edit", "2", "--date", "1999-05-01 10:00")
    assert r.code == 0, r
    assert run("check").code == 0
    (row,) = [e for e in json.loads(run("list", "--json").out) if e["id"] == 2]
    assert row["created_at"].startswith("1999-05-01T10:00")


def test_check_names_an_unreadable_updated_at(run, with_bad_row):
    with_bad_row("not a date", "updated_at")
    r = run("check")
    assert r.code == 4 and "diary edit 2 --date" in r.out, r
    assert run("list").code == 0


def test_delete_and_edit_date_work_on_an_unreadable_row(run, with_bad_row):
    with_bad_row("2020-02-31T00:00:00.000000Z")
    assert run("delete", "2", "--yes").code == 0
    assert [e["id"] for e in json.loads(run("list", "--json").out)] == [3, 1]
    assert run("check").code == 0


def test_tokyo_lists_the_edge_of_the_range(run, made, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert run("add", "--date", "9999-12-31T23:59:59+00:00", "edge").code == 1
        assert run("add", "--date", "9998-12-30T23:59:00+00:00", "edge").code == 0
        _raw_sql(made, "INSERT INTO entry (uuid, created_at, updated_at, body) VALUES "
                       "('u', '9999-12-31T23:59:59.000000Z', '9999-12-31T23:59:59.000000Z', "
                       "'raw')")
        r = run("list")
        assert r.code == 0 and "9998-12-31 08:59" in r.out and "raw" in r.out, r
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# --- dates people type ------------------------------------------------------------

@pytest.fixture
def tz(monkeypatch):
    import time

    def use(name):
        monkeypatch.setenv("TZ", name)
        time.tzset()
    yield use
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()


@pytest.mark.parametrize("text", ["20/05/1998 at 23:42", "20/05/1998 9pm", "20.05.1998 noon"])
def test_a_numeric_date_with_a_time_it_cannot_read_says_how_to_write_the_time(text):
    # jrnl's own example is `5/20/1998 at 23:42`: the year is in full there,
    # so "write the year in full" sent people looking for the wrong mistake.
    with pytest.raises(BadInput) as caught:
        dates.parse(text)
    message = str(caught.value)
    assert "year in full" not in message
    assert "20/05/1998 21:30" in message or "20.05.1998 21:30" in message, message


def test_numeric_dates_follow_day_month_year(run, made, tz):
    tz("UTC")
    r = run("add", "--date", "03/04/2024", "x")
    assert r.code == 1 and "3 April 2024" in r.err and "4 March 2024" in r.err, r
    assert "2024-04-03" in r.err and "2024-03-04" in r.err
    assert run("add", "--date", "04/13/2024", "x").code == 1  # not day/month/year
    assert run("add", "--date", "13/04/2024", "thirteenth").code == 0
    assert run("add", "--date", "04.04.2024 21:30", "fourth").code == 0
    assert run("add", "--date", "4/3/24", "x").code == 1  # the year in full
    got = {e["body"]: e["created_at"] for e in json.loads(run("list", "--json").out)}
    assert got == {"thirteenth": "2024-04-13T09:00:00+00:00",
                   "fourth": "2024-04-04T21:30:00+00:00"}
    r = run("search", "on:04/03/2024")
    assert r.code == 1 and "4 March 2024" in r.err and "3 April 2024" in r.err, r
    r = run("search", "on:13/04/2024", "--json")
    assert r.code == 0 and [h["body"] for h in json.loads(r.out)] == ["thirteenth"], r
    r = run("list", "--since", "13/04/2024", "--json")
    assert [e["body"] for e in json.loads(r.out)] == ["thirteenth"], r


def test_the_order_is_one_setting(monkeypatch):
    monkeypatch.setattr(dates, "DATE_ORDER", "mdy")
    assert dates.parse("04/13/2024 10:00").date() == _dt.date(2024, 4, 13)
    with pytest.raises(BadInput, match="month/day/year"):
        dates.parse("13/04/2024")


def test_a_date_without_a_time_is_nine_everywhere_but_in_a_jrnl_header(run, made, tmp_path,
                                                                        tz):
    # A bare day in a jrnl header is 00:00, as jrnl 4.6 reads it (and writes in
    # its JSON export): the same journal as text and as JSON is the same entries
    # (issue 21; tests/test_jrnl_testdata.py checks it against jrnl's own reading).
    tz("UTC")
    assert run("add", "--date", "friday", "typed").code == 0
    assert run("add", "--date", "2024-03-01", "iso").code == 0
    p = tmp_path / "j.txt"
    p.write_text("[2024-03-02] From jrnl\n")
    assert run("import", str(p)).code == 0
    p = tmp_path / "a.jsonl"
    p.write_text('{"created_at": "2024-03-03", "body": "json"}\n')
    assert run("import", str(p)).code == 0
    got = {e["body"] or e["title"]: e["created_at"] for e in
           json.loads(run("list", "--json").out)}
    assert got.pop("From jrnl")[11:19] == "00:00:00"
    assert all(v[11:19] == "09:00:00" for v in got.values()), got
    assert _dt.date.fromisoformat(got["typed"][:10]).weekday() == 4


def test_a_time_in_the_spring_gap_moves_forward(run, made, tmp_path, tz):
    tz("Europe/Berlin")
    assert run("add", "--date", "2024-03-31 02:30", "typed").code == 0
    p = tmp_path / "j.txt"
    p.write_text("[2024-03-31 02:45] From jrnl\n")
    assert run("import", str(p)).code == 0
    got = {e["body"] or e["title"]: e["created_at"] for e in
           json.loads(run("list", "--json").out)}
    assert got == {"typed": "2024-03-31T03:30:00+02:00",
                   "From jrnl": "2024-03-31T03:45:00+02:00"}
    # the hour that happens twice in autumn keeps its first reading
    assert dates.parse("2024-10-27 02:30").utcoffset() == _dt.timedelta(hours=2)


def test_a_query_beginning_with_a_dash_says_to_use_two_dashes(run, made):
    for argv in (["-heron"], ["heron", "-work"]):
        r = run("search", *argv)
        assert r.code == 2 and "diary search -- " in r.err and "--help" not in r.err, r
    assert run("search", "--", "-heron").code == 0


def test_backup_copies_a_diary_holding_an_unreadable_date(run, with_bad_row, tmp_path):
    with_bad_row("999-05-01T10:00:00.000000Z")
    r = run("backup", str(tmp_path / "copy.db"))
    assert r.code == 0, r
    r = run("check", diary_path=str(tmp_path / "copy.db"))
    assert r.code == 4 and "diary edit 2 --date" in r.out, r


# --- property: any date in, either refused or read back in every local time ------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda m: _dt.timezone(_dt.timedelta(minutes=m)))
_any_date = st.one_of(
    st.datetimes(min_value=_dt.datetime(1, 1, 2), max_value=_dt.datetime(9999, 12, 30),
                 timezones=_offsets),
    st.sampled_from([_dt.datetime(1000, 1, 1, 23, 59), _dt.datetime(1000, 1, 2, 13, 59),
                     _dt.datetime(9998, 12, 30, 10, 0), _dt.datetime(9998, 12, 31, 0, 0)])
    .flatmap(lambda d: _offsets.map(lambda tz: d.replace(tzinfo=tz))))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_any_date, _offsets)
def test_property_a_date_is_refused_or_reads_back_anywhere(value, viewer):
    try:
        text = dates.stored(value)
    except BadInput as exc:
        assert "out of range" in str(exc)
        assert not dates.EARLIEST <= value <= dates.LATEST
        return
    assert len(text) == 27 and dates.readable(text)
    back = dates.read_stored(text)
    assert back == value
    shown = back.astimezone(viewer)
    assert 1000 <= shown.year <= 9998
    shown.strftime("%Y-%m-%d %H:%M")


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.text(max_size=30), _any_date.map(lambda d: d.isoformat())),
                min_size=1, max_size=3))
def test_property_an_import_of_any_dates_is_all_or_nothing(run, made, tmp_path, stamps):
    p = tmp_path / "any.jsonl"
    p.write_text("".join(json.dumps({"created_at": s, "body": "b%d" % i}) + "\n"
                         for i, s in enumerate(stamps)))
    before = json.loads(run("list", "--json", "-n", "0").out)
    r = run("import", str(p), "--format", "jsonl")
    assert r.code in (0, 1) and "internal error" not in r.err, r
    after = json.loads(run("list", "--json", "-n", "0").out)
    if r.code == 1:
        assert after == before
    for argv in (["list"], ["export", "--format", "txt"], ["check"]):
        r = run(*argv)
        assert r.code == 0, (argv, r)


def test_peewee_diary_and_jrnl_json_imports_refuse_out_of_range(diary, tmp_path,
                                                                 monkeypatch):
    import sqlcipher3

    from conftest import TEST_KDF_ITER
    from diary import exchange
    from diary.exchange import peewee_diary

    monkeypatch.setattr(peewee_diary, "ATTEMPTS",
                        (("PRAGMA kdf_iter = %d" % TEST_KDF_ITER,),) + peewee_diary.ATTEMPTS)
    p = str(tmp_path / "old.db")
    conn = sqlcipher3.connect(p)
    conn.execute("PRAGMA key = 'old one'")
    conn.execute("PRAGMA kdf_iter = %d" % TEST_KDF_ITER)
    conn.execute('CREATE TABLE "entry" ("id" INTEGER NOT NULL PRIMARY KEY, '
                 '"content" TEXT NOT NULL, "timestamp" DATETIME NOT NULL)')
    conn.execute("INSERT INTO entry (content, timestamp) VALUES ('ok', '2015-01-01 10:00:00'), "
                 "('old', '0999-01-01 10:00:00')")
    conn.commit()
    conn.close()
    with pytest.raises(BadInput, match="entry 1: timestamp: .*0999-01-01.*out of range"):
        exchange.import_file(diary, p, "peewee-diary", passphrase="old one")  # by date
    j = tmp_path / "j.json"
    j.write_text(json.dumps({"entries": [
        {"date": "2024-01-01", "time": "10:00", "title": "ok"},
        {"date": "9999-12-31", "time": "23:59", "title": "late"}]}))
    with pytest.raises(BadInput, match="entry 2: .*out of range"):
        exchange.import_file(diary, str(j), "jrnl-json")
    assert entries.count(diary) == 0


@pytest.mark.parametrize("header", ["[0001-01-01]", "[0001-01-01 00:00]", "[9999-12-31 23:59]",
                                    "[0001-01-01 12:00 AM]"])
def test_jrnl_headers_at_the_edges_of_time_are_refused_naming_the_line(run, made, tmp_path,
                                                                       header):
    # Found by test_ways_in.py: the local-time conversion of year 1 overflowed
    # before the range check could name the line (internal error).
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-01 09:00] Fine.\n\n%s Too early.\n" % header)
    result = run("import", "--format", "jrnl", str(p))
    assert result.code == 1 and "internal error" not in result.err, result
    assert "line 3" in result.err, result
    assert run("list", "--json").out.strip() == "[]"


def test_checks_repair_works_on_an_empty_row_another_tool_wrote(run, made):
    # Found by test_ways_in.py: `edit ID --date` refused a raw row with no
    # text ("an entry needs a title or some text"), so check's fix did not work.
    conn = store.keyed_connection(made, PASSPHRASE, store.KDF_ITER)
    conn.execute("INSERT INTO entry (uuid, created_at, updated_at, title, body, starred, "
                 "version, tags) VALUES ('u-1', '0001-01-01T00:00:00', "
                 "'0001-01-01T00:00:00', '', '', 0, 1, '')")
    conn.close()
    assert run("check").code == 4
    assert run("edit", "1", "--date", "2024-01-01 09:00").code == 0
    assert run("check").code == 0
    assert run("edit", "1", "--title", " ").code == 1  # emptying by a change is still refused


# --- typos are refused, never read as some other day (found by the red team) -------

@pytest.mark.parametrize("typo", ["1e9", "2e3", "e", "5", "-5", "1,5", "15", "99", "1999",
                                  "2024-13-01", "2024/13/01", "2024-1-32",
                                  # read in some other language: "eb" was 6 May (seed 65
                                  # of the random-key test typed it into the editor)
                                  "eb", "ab", "gb 3"])
def test_a_typo_is_refused_not_read_as_another_day(typo):
    # dateparser reads "1e9" as 1 September, "1,5" as 1 May, "2024-13-01" as
    # 13 January and "e" as some Monday: a careless key was a wrong date, saved.
    with pytest.raises(BadInput, match="date"):
        dates.parse(typo)


@pytest.mark.parametrize("text,expected", [
    ("2024-1-5", (2024, 1, 5, 9, 0)), ("2024/03/02 21:30", (2024, 3, 2, 21, 30)),
    ("21:30", None), ("3pm", None), ("yesterday", None), ("last friday", None),
    ("2 March 2024", (2024, 3, 2, 9, 0)), ("March 2, 2024 9pm", (2024, 3, 2, 21, 0))])
def test_dates_people_write_still_read(text, expected):
    value = dates.parse(text)
    if expected:
        assert (value.year, value.month, value.day, value.hour, value.minute) == expected


@pytest.mark.parametrize("text", ["yesterday 25:00", "yesterday 9:75", "monday 13pm",
                                  "today 0am"])
def test_a_time_of_day_that_cannot_be_is_refused_not_dropped(text):
    # dateparser ignored it: "yesterday 25:00" was yesterday at the current time
    with pytest.raises(BadInput, match="cannot understand"):
        dates.parse(text)
