"""The passphrase read from a file or a descriptor: an empty first line is
said as such (it was "wrong passphrase"), and a UTF-8 byte order mark that an
editor put at the start of the file is not part of the passphrase."""

import os

import pytest

from conftest import PASSPHRASE
from diary import passphrase, store


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"])
def test_an_empty_passphrase_file_says_it_is_empty(run, made, tmp_path, content):
    pw = tmp_path / "pw"
    pw.write_bytes(content)
    r = run("list", "--passphrase-file", str(pw))
    assert (r.code, r.err) == (3, "diary: the passphrase file %s is empty\n" % pw), r


@pytest.mark.parametrize("content", [b"\n", b"\r\n", b"\n" + PASSPHRASE.encode(),
                                     b"\xef\xbb\xbf\n\n"])
def test_an_empty_first_line_says_so(run, made, tmp_path, content):
    pw = tmp_path / "pw"
    pw.write_bytes(content)
    r = run("list", "--passphrase-file", str(pw))
    assert (r.code, r.err) == (3, "diary: the passphrase file %s has an empty first line "
                                  "(the passphrase is its first line)\n" % pw), r


def test_an_empty_passphrase_file_for_a_new_diary_or_a_new_passphrase(run, path, made,
                                                                       tmp_path):
    pw = tmp_path / "pw"
    pw.write_bytes(b"")
    other = str(tmp_path / "other.db")
    r = run("init", "--passphrase-file", str(pw), diary_path=other)
    assert r.code == 3 and "is empty" in r.err, r
    assert not os.path.exists(other)
    before = open(made, "rb").read()
    r = run("passwd", "--new-passphrase-file", str(pw))
    assert r.code == 3 and "is empty" in r.err, r
    assert open(made, "rb").read() == before


@pytest.mark.parametrize("content, said", [
    (b"\n", "gave an empty first line (the passphrase is its first line)"),
    (b"\xef\xbb\xbf\r\nsecond", "gave an empty first line (the passphrase is its first line)"),
    (b"", "gave nothing: it was empty or closed"),
])
def test_an_empty_passphrase_fd_says_so(run, made, content, said):
    rfd, wfd = os.pipe()
    os.write(wfd, content)
    os.close(wfd)
    try:
        r = run("list", "--passphrase-fd", str(rfd))
    finally:
        os.close(rfd)
    assert (r.code, r.err) == (3, "diary: file descriptor %d %s\n" % (rfd, said)), r


def test_a_byte_order_mark_is_not_part_of_the_passphrase(run, made, tmp_path):
    # Notepad (and others) save UTF-8 with a BOM: the file's passphrase is the text seen.
    pw = tmp_path / "pw"
    pw.write_bytes(b"\xef\xbb\xbf" + PASSPHRASE.encode() + b"\r\n")
    assert run("add", "x", "--passphrase-file", str(pw)).code == 0
    assert passphrase.read_file(str(pw)) == PASSPHRASE
    # Only one mark, only at the start: the rest is the passphrase as written.
    pw.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbfab\xef\xbb\xbf")
    assert passphrase.read_file(str(pw)) == "\ufeffab\ufeff"


def test_a_diary_made_with_the_mark_in_its_passphrase_still_opens(run, tmp_path):
    # Before the mark was stripped, a diary created from such a file took it
    # into its passphrase: the same file must still open it.
    old = str(tmp_path / "old.db")
    store.create(old, "\ufeff" + PASSPHRASE)
    pw = tmp_path / "pw"
    pw.write_bytes(b"\xef\xbb\xbf" + PASSPHRASE.encode() + b"\n")
    r = run("list", "--passphrase-file", str(pw), diary_path=old)
    assert r.code == 0, r
    # ... and the passphrase without the mark does not.
    assert run("list", diary_path=old).code == 3
