"""Day One's JSON export (issue 21, item 3): its Journal.json and the zip around
it (fixtures/dayone, in the shape Day One writes: see its README), and the zip
as hostile input."""

import datetime as _dt
import os
import stat
import zipfile

import pytest

from diary import entries, exchange
from diary.errors import BadInput
from diary.exchange import dayone

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "dayone", "Journal.json")


def by_uuid(d):
    return {e.uuid: e for e in entries.list_entries(d)}


def make_zip(tmp_path, members, name="export.zip"):
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members:
            if isinstance(member, zipfile.ZipInfo):
                z.writestr(member, data)
            else:
                z.writestr(member, data)
    return str(p)


def check_fixture_entries(d, stats):
    assert (stats.added, stats.empty_skipped) == (2, 1)
    got = by_uuid(d)
    walk = got["a5c5d5b1-b4a1-4b2d-9c1a-7f0e3e0a9c11"]
    assert walk.title == "Walk by the river"
    assert walk.body.startswith("Saw a heron. It stood still (for ages)! Cost: 3.50 - cheap.")
    assert walk.body.endswith(
        "---\nLocation: Museumsinsel, Berlin, Germany (52.5208, 13.398)\n"
        "Weather: Partly Cloudy, 7.3 °C\n"
        "Photo: photos/9e107d9d372bb6826bd81d3542a419d6.jpeg (not imported)")
    assert walk.starred and sorted(walk.tag_list) == ["nature", "walks"]
    assert walk.created_at == _dt.datetime(2024, 3, 2, 20, 15, 42, tzinfo=_dt.timezone.utc)
    assert walk.updated_at == _dt.datetime(2024, 3, 2, 20, 45, 10, tzinfo=_dt.timezone.utc)
    plain = got["0bddd6cd-a43c-4a9a-a268-1517cc35ad9d"]
    assert plain.title == "" and plain.body.startswith("Plain first line, no heading.\n")
    assert "1. one\n2. two" in plain.body
    assert any("noted in the entries by file name" in w for w in stats.warnings)
    assert any("no title and no text" in w for w in stats.warnings)


def test_journal_json_imports(diary):
    assert exchange.guess_format(FIXTURE) == "dayone"
    check_fixture_entries(diary, exchange.import_file(diary, FIXTURE))
    again = exchange.import_file(diary, FIXTURE)
    assert (again.added, again.skipped) == (0, 2)


def test_zip_imports(diary, tmp_path):
    with open(FIXTURE, "rb") as f:
        journal = f.read()
    p = make_zip(tmp_path, [("Journal.json", journal),
                            ("photos/9e107d9d372bb6826bd81d3542a419d6.jpeg", b"\xff\xd8jpeg")])
    assert exchange.guess_format(p) == "dayone"
    check_fixture_entries(diary, exchange.import_file(diary, p))


@pytest.mark.parametrize("name", ["../Journal.json", "/etc/Journal.json", "a/../../x.json"])
def test_zip_member_outside_is_refused(diary, tmp_path, name):
    p = make_zip(tmp_path, [(name, b'{"entries": []}')])
    with pytest.raises(BadInput, match="leads outside"):
        exchange.import_file(diary, p, "dayone")
    assert entries.list_entries(diary) == []


def test_zip_link_member_is_refused(diary, tmp_path):
    info = zipfile.ZipInfo("Journal.json")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    p = make_zip(tmp_path, [(info, "/etc/passwd")])
    with pytest.raises(BadInput, match="not a regular file"):
        exchange.import_file(diary, p, "dayone")


def test_zip_bomb_stops_at_the_cap(diary, tmp_path, monkeypatch):
    # 20 MB of spaces inside a valid document compress to a few KB.
    p = make_zip(tmp_path, [("Journal.json", b'{"entries": [' + b" " * (20 << 20) + b"]}")])
    assert os.path.getsize(p) < 100_000
    monkeypatch.setattr(dayone, "MAX_UNCOMPRESSED", 1 << 20)
    with pytest.raises(BadInput, match="zip bomb"):
        exchange.import_file(diary, p, "dayone")


def test_zip_without_journal_and_broken_zip(diary, tmp_path):
    p = make_zip(tmp_path, [("photos/x.jpeg", b"x")])
    with pytest.raises(BadInput, match="no Journal.json"):
        exchange.import_file(diary, p, "dayone")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + os.urandom(300))
    with pytest.raises(BadInput, match="not a readable zip"):
        exchange.import_file(diary, str(broken), "dayone")


@pytest.mark.parametrize("text, plain", [
    ("3\\. Juni", "3. Juni"), ("\\(a\\) \\- b\\!", "(a) - b!"), ("C:\\\\path", "C:\\path"),
    ("no escapes", "no escapes"), ("\\n is not an escape", "\\n is not an escape")])
def test_markdown_escapes_undone(text, plain):
    assert dayone.unescape(text) == plain
