"""Damaged and hostile files: the documented one-line error and exit code, never a
traceback, and the file left exactly as it was."""

import os
import shutil
import sqlite3

import pytest

from diary import entries, store

from conftest import PASSPHRASE, file_bytes

PAGE = 4096


@pytest.fixture
def full(made):
    with store.open_diary(made, PASSPHRASE) as d:
        for i in range(40):
            entries.add(d, ("entry %d " % i) * 60, title="title %d" % i)
    return made


def _flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def _check_one_line(r, code):
    assert r.code == code, r
    assert r.err.count("\n") == 1 and r.err.startswith("diary: "), r
    assert "Traceback" not in r.err


def _reads(run, p):
    """Every read the product does on the whole file: list all, show all."""
    r = run("list", "-n", "0", "--json", diary_path=p)
    if r.code:
        return r
    return run("show", *[str(i) for i in range(1, 41)], diary_path=p)


def test_truncated_file_is_damaged(run, full, tmp_path):
    p = str(tmp_path / "truncated.db")
    shutil.copy(full, p)
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) // 2)
    before = file_bytes(p)
    _check_one_line(_reads(run, p), 4)
    assert file_bytes(p) == before


def test_zeroed_salt_is_not_openable(run, full, tmp_path):
    p = str(tmp_path / "salt.db")
    shutil.copy(full, p)
    with open(p, "r+b") as f:
        f.write(b"\x00" * 16)
    before = file_bytes(p)
    r = run("list", diary_path=p)
    assert (r.code, r.err) == (3, "diary: wrong passphrase, or not a diary file\n")
    assert file_bytes(p) == before


def test_a_flipped_byte_in_any_page_is_caught(run, full, tmp_path):
    """SQLCipher's per-page HMAC: a flipped bit anywhere is an error, never wrong data."""
    pages = os.path.getsize(full) // PAGE
    damaged = 0
    for page in range(pages):
        p = str(tmp_path / ("flip%d.db" % page))
        shutil.copy(full, p)
        _flip(p, page * PAGE + PAGE // 2)
        before = file_bytes(p)
        r = _reads(run, p)
        if r.code == 0:
            # the page was not one that list/show read (an index page, say)
            continue
        # Page 1 too: its salt is intact, so later pages verify the
        # passphrase and the damage is told as damage (pages.py).
        _check_one_line(r, 4)
        assert file_bytes(p) == before
        damaged += 1
    assert damaged >= 1


@pytest.mark.parametrize("kind", ["random", "plain-sqlite", "empty"])
def test_not_a_diary(run, tmp_path, kind):
    p = str(tmp_path / "x.db")
    if kind == "random":
        with open(p, "wb") as f:
            f.write(os.urandom(3 * PAGE))
    elif kind == "plain-sqlite":
        conn = sqlite3.connect(p)
        conn.execute("CREATE TABLE entry (body)")
        conn.commit()
        conn.close()
    else:
        open(p, "wb").close()
    before = file_bytes(p)
    r = run("list", diary_path=p)
    assert (r.code, r.err) == (3, "diary: wrong passphrase, or not a diary file\n")
    assert file_bytes(p) == before
    assert sorted(os.listdir(tmp_path)) == ["x.db"]


def test_directory(run, tmp_path):
    r = run("list", diary_path=str(tmp_path))
    _check_one_line(r, 1)
    assert "is a directory" in r.err
