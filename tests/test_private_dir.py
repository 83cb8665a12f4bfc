"""private_dir.py: memory-backed places found by their file system type, never by name."""

import os
import stat

import pytest

from diary import private_dir

from conftest import needs_tmpfs


def _mountinfo(tmp_path, lines):
    p = tmp_path / "mountinfo"
    p.write_text("".join("%d 1 0:%d / %s rw,relatime - %s %s rw\n" % (i, i, point, kind, kind)
                         for i, (point, kind) in enumerate(lines, 20)))
    return str(p)


def test_the_type_comes_from_the_longest_mount_point(tmp_path):
    info = _mountinfo(tmp_path, [("/", "ext4"), (str(tmp_path), "tmpfs"),
                                 (str(tmp_path / "disk"), "ext4")])
    (tmp_path / "disk").mkdir()
    (tmp_path / "mem").mkdir()
    assert private_dir.fs_type(str(tmp_path / "mem"), info) == "tmpfs"
    assert private_dir.fs_type(str(tmp_path / "disk"), info) == "ext4"
    assert private_dir.fs_type(str(tmp_path) + "x", info) == "ext4"  # a prefix is no parent


def test_escaped_mount_points_are_read(tmp_path):
    spaced = tmp_path / "a b"
    spaced.mkdir()
    p = tmp_path / "mountinfo"
    p.write_text("20 1 0:20 / / rw - ext4 ext4 rw\n"
                 "21 1 0:21 / %s rw - ramfs ramfs rw\n" % str(spaced).replace(" ", "\\040"))
    assert private_dir.fs_type(str(spaced), str(p)) == "ramfs"


def test_a_name_is_not_trusted(tmp_path, monkeypatch):
    """A directory called shm on disk, and $XDG_RUNTIME_DIR on disk: refused, with the way out."""
    fake = tmp_path / "dev" / "shm"
    fake.mkdir(parents=True)
    info = _mountinfo(tmp_path, [("/", "ext4")])
    monkeypatch.setattr(private_dir, "SHM", str(fake))
    with pytest.raises(private_dir.NoPrivatePlace) as raised:
        private_dir.make("edit", {"XDG_RUNTIME_DIR": str(tmp_path)}, mountinfo=info)
    assert "editor_tmpdir" in str(raised.value) and "DIARY_EDITOR_TMPDIR" in str(raised.value)
    assert os.listdir(fake) == []


def test_a_directory_on_disk_only_when_allowed(tmp_path):
    made = private_dir.make("edit", {}, allowed_on_disk=str(tmp_path),
                            mountinfo=_mountinfo(tmp_path, [("/", "ext4")]))
    assert os.path.dirname(made) == str(tmp_path)
    private_dir.wipe(made)
    assert os.listdir(tmp_path) == ["mountinfo"]


def test_the_real_shm_is_tmpfs_and_the_directory_private():
    needs_tmpfs()
    made = private_dir.make("edit", {})
    try:
        assert stat.S_IMODE(os.stat(made).st_mode) == 0o700
        assert private_dir.fs_type(made) == "tmpfs"
        assert os.path.basename(made).startswith("diary-edit-%d-" % os.getpid())
    finally:
        private_dir.wipe(made)
    assert not os.path.exists(made)


def test_wipe_overwrites_then_removes_everything(tmp_path):
    d = tmp_path / "diary-edit-1-x"
    (d / "sub").mkdir(parents=True)
    (d / "entry.txt").write_text("secret")
    (d / "sub" / ".entry.txt.swp").write_text("secret")
    (d / "link").symlink_to(tmp_path / "outside")
    (tmp_path / "outside").write_text("not mine")
    private_dir.wipe(str(d))
    assert not d.exists() and (tmp_path / "outside").read_text() == "not mine"


def test_leftovers_are_those_of_dead_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(private_dir, "base", lambda environ, allowed=None: str(tmp_path))
    dead = 2 ** 22 + 12345  # above pid_max's default: no such process
    (tmp_path / ("diary-edit-%d-abc" % dead)).mkdir()
    (tmp_path / ("diary-edit-%d-abc" % os.getpid())).mkdir()  # ours, live
    (tmp_path / ("diary-edit-%d-abc" % os.getppid())).mkdir()  # alive
    (tmp_path / ("diary-agent-%d-abc" % dead)).mkdir()  # another kind
    (tmp_path / "unrelated").mkdir()
    assert private_dir.leftovers("edit", {}) == [str(tmp_path / ("diary-edit-%d-abc" % dead))]


def test_without_xdg_runtime_dir_the_users_run_directory_when_it_is_private(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(private_dir, "RUN_USER", str(tmp_path))
    mine = tmp_path / str(os.getuid())
    assert private_dir.candidates({}) == [private_dir.SHM]  # none there
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)
    assert private_dir.candidates({}) == [private_dir.SHM]  # others may enter it
    os.chmod(mine, 0o700)
    assert private_dir.candidates({}) == [str(mine), private_dir.SHM]
    # The variable, when set, is the place (as before), without the fallback.
    assert private_dir.candidates({"XDG_RUNTIME_DIR": "/elsewhere"}) == ["/elsewhere",
                                                                         private_dir.SHM]
    mine.rmdir()
    mine.symlink_to(tmp_path)  # a symlink is never taken
    assert private_dir.candidates({}) == [private_dir.SHM]
