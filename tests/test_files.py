"""Files put in place atomically, never clobbering, with or without hard links."""

import errno
import os

import pytest

from diary import files, store
from diary.errors import DiaryError

from conftest import PASSPHRASE


@pytest.fixture(params=["hard links", "no hard links"])
def filesystem(request, monkeypatch):
    if request.param == "no hard links":
        def refuse(src, dst):
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", refuse)
    return request.param


def test_move_new_never_clobbers(tmp_path, filesystem):
    tmp, dest = tmp_path / "tmp", tmp_path / "dest"
    tmp.write_text("new")
    files.move_new(str(tmp), str(dest))
    assert dest.read_text() == "new" and not tmp.exists()
    tmp.write_text("newer")
    with pytest.raises(FileExistsError):
        files.move_new(str(tmp), str(dest))
    assert dest.read_text() == "new" and tmp.read_text() == "newer"


def test_create_a_diary(path, filesystem):
    store.create(path, PASSPHRASE)
    with pytest.raises(DiaryError, match="already exists"):
        store.create(path, PASSPHRASE)
    store.open_diary(path, PASSPHRASE).close()
    assert sorted(os.listdir(os.path.dirname(path))) == ["diary.db"]


def test_put_in_place(tmp_path, filesystem):
    dest = tmp_path / "out.json"
    for content, force in (("one", False), ("two", True)):
        fd, tmp = files.temp_name(str(dest), ".tmp")
        os.write(fd, content.encode())
        os.close(fd)
        files.put_in_place(tmp, str(dest), force=force)
        assert dest.read_text() == content
    fd, tmp = files.temp_name(str(dest), ".tmp")
    os.close(fd)
    with pytest.raises(DiaryError, match="already exists"):
        files.put_in_place(tmp, str(dest), force=False)
