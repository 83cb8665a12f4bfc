"""The sync folder (syncfolder.py, synccrypt.py) over a stand-in replica layer
that keeps plain record dicts: what is written, what is read, what is skipped
and why, compaction, copies, passphrase changes."""

import os
import shutil
import uuid

import pytest

from diary import memo, store, synccrypt, syncfolder
from tests.conftest import PASSPHRASE


class FakeReplica:
    """changes/apply/device_id/new_device_id over records {"uuid", "v", "text"}
    kept in the diary's memo table: the highest (v, text) wins, applying again
    changes nothing, so the folder layer is tested on its own."""

    def _state(self, d):
        import json

        return json.loads(memo.get(d, "fake") or '{"seq": 0, "items": {}}')

    def _put(self, d, s):
        import json

        d.db.execute_sql("INSERT INTO memo (key, value) VALUES ('fake', ?) ON CONFLICT (key) "
                         "DO UPDATE SET value = excluded.value", (json.dumps(s),))

    def device_id(self, d):
        if memo.get(d, "fake-device") is None:
            memo.put(d, "fake-device", uuid.uuid4().hex)
        return memo.get(d, "fake-device")

    def new_device_id(self, d):
        memo.put(d, "fake-device", uuid.uuid4().hex)
        return memo.get(d, "fake-device")

    def changes(self, d, since=0):
        s = self._state(d)
        recs = [it["rec"] for it in s["items"].values() if it["at"] > (since or 0)]
        return sorted(recs, key=lambda r: r["uuid"]), s["seq"]

    def apply(self, d, records):
        s = self._state(d)
        taken = unchanged = 0
        for r in records:
            have = s["items"].get(r["uuid"])
            if have and (have["rec"]["v"], have["rec"]["text"]) >= (r["v"], r["text"]):
                unchanged += 1
                continue
            s["seq"] += 1
            s["items"][r["uuid"]] = {"rec": r, "at": s["seq"]}
            taken += 1
        with d.write():
            self._put(d, s)
        return {"taken": taken, "unchanged": unchanged}

    def edit(self, d, key, text, v=None):
        s = self._state(d)
        have = s["items"].get(key)
        s["seq"] += 1
        v = v if v is not None else (have["rec"]["v"] + 1 if have else 1)
        s["items"][key] = {"rec": {"uuid": key, "v": v, "text": text}, "at": s["seq"]}
        with d.write():
            self._put(d, s)

    def texts(self, d):
        return {k: it["rec"]["text"] for k, it in self._state(d)["items"].items()}


R = FakeReplica()


@pytest.fixture
def world(tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    paths = {}
    for name in "abc":
        p = str(tmp_path / name / "diary.db")
        store.create(p, PASSPHRASE)
        paths[name] = p
    return folder, paths


def sync(path, folder, passphrase=PASSPHRASE, **kw):
    with store.open_diary(path, passphrase) as d:
        return syncfolder.sync(d, str(folder), replica=R, **kw)


def edit(path, key, text, passphrase=PASSPHRASE, **kw):
    with store.open_diary(path, passphrase) as d:
        R.edit(d, key, text, **kw)


def texts(path, passphrase=PASSPHRASE):
    with store.open_diary(path, passphrase) as d:
        return R.texts(d)


def names(folder):
    return sorted(os.listdir(folder))


def data_files(folder):
    return [n for n in names(folder) if n.endswith(".dsync")]


def test_two_replicas_converge_and_a_quiet_sync_writes_nothing(world):
    folder, p = world
    edit(p["a"], "x", "from a")
    edit(p["b"], "y", "from b")
    sync(p["a"], folder)
    sync(p["b"], folder)
    sync(p["a"], folder)
    assert texts(p["a"]) == texts(p["b"]) == {"x": "from a", "y": "from b"}
    before = {n: os.stat(folder / n).st_mtime_ns for n in names(folder)}
    for who in "abab":
        report = sync(p[who], folder)
        assert report.written == 0 and report.files_written == 0
    assert {n: os.stat(folder / n).st_mtime_ns for n in names(folder)} == before


def test_only_sealed_files_ever_appear_in_the_folder(world):
    folder, p = world
    for i in range(5):
        edit(p["abc"[i % 3]], "k%d" % i, "text %d" % i)
        for who in "abc":
            sync(p[who], folder)
            for n in names(folder):
                assert syncfolder._NAME.match(n), n
                assert not n.endswith(("-wal", "-shm", "-journal", ".db"))
                with open(folder / n, "rb") as f:
                    blob = f.read()
                assert blob.startswith(synccrypt.MAGIC)
                assert b"text" not in blob and b"from" not in blob
    # names reveal no device ids
    for who in "abc":
        with store.open_diary(p[who], PASSPHRASE) as d:
            assert not any(R.device_id(d) in n for n in names(folder))


def test_bytes_written_grow_with_the_changes(world):
    folder, p = world
    with store.open_diary(p["a"], PASSPHRASE) as d:
        s = {"seq": 2000, "items": {("%05d" % i): {"rec": {"uuid": "%05d" % i, "v": 1,
                                                           "text": os.urandom(40).hex()},
                                                   "at": i + 1} for i in range(2000)}}
        with d.write():
            R._put(d, s)
    first = sync(p["a"], folder).written
    edit(p["a"], "00007", "changed")
    second = sync(p["a"], folder).written
    assert first > 50_000 and second < 1000


def damage(folder, name, how):
    path = folder / name
    blob = bytearray(path.read_bytes())
    if how == "flip":
        blob[len(blob) // 2] ^= 1
    elif how == "truncate":
        del blob[len(blob) // 2:]
    elif how == "newer":
        blob[4] = synccrypt.DATA_FORMAT + 1
    path.write_bytes(bytes(blob))


def test_data_files_of_the_previous_format_are_still_read(world, monkeypatch):
    """Format 1 (one version per entry, before heads travelled) is the one-head
    case of format 2: a device not yet upgraded is still heard."""
    folder, p = world
    newest = synccrypt.DATA_FORMAT
    monkeypatch.setattr(synccrypt, "DATA_FORMAT", 1)
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    assert {(folder / n).read_bytes()[4] for n in data_files(folder)} == {1}
    monkeypatch.setattr(synccrypt, "DATA_FORMAT", newest)
    report = sync(p["b"], folder)
    assert not report.warnings and texts(p["b"]) == {"x": "one"}
    assert all((folder / n).read_bytes()[4] in (1, 2) for n in data_files(folder))


@pytest.mark.parametrize("how, why", [("flip", "damaged"), ("truncate", "damaged"),
                                      ("newer", "newer version")])
def test_a_damaged_file_is_skipped_with_a_warning_naming_it(world, how, why):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    edit(p["a"], "y", "two")
    sync(p["a"], folder)
    bad = data_files(folder)[-1]
    damage(folder, bad, how)
    report = sync(p["b"], folder)
    assert [w for w in report.warnings if bad in w and why in w], report.warnings
    assert texts(p["b"]) == {"x": "one"}


def test_renamed_or_swapped_files_are_detected(world):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    edit(p["a"], "y", "two")
    sync(p["a"], folder)
    one, two = data_files(folder)
    os.rename(folder / one, folder / "tmp")
    os.rename(folder / two, folder / one)
    os.rename(folder / "tmp", folder / two)
    report = sync(p["b"], folder)
    assert len([w for w in report.warnings if "skipped" in w]) == 2
    assert texts(p["b"]) == {}


def test_a_file_under_another_passphrase_is_skipped(world, tmp_path):
    folder, p = world
    other = tmp_path / "Other"
    other.mkdir()
    store.create(str(tmp_path / "o.db"), "another passphrase")
    edit(str(tmp_path / "o.db"), "z", "other", passphrase="another passphrase")
    sync(str(tmp_path / "o.db"), other, passphrase="another passphrase")
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    stranger = data_files(other)[0]
    shutil.copy(other / stranger, folder / stranger)
    report = sync(p["b"], folder)
    assert [w for w in report.warnings if stranger in w and "another passphrase" in w]
    assert texts(p["b"]) == {"x": "one"}


@pytest.mark.parametrize("copy_name", ["%s.sync-conflict-20261206-101010-ABCDEFG.%s",
                                       "%s (laptop's conflicted copy 2026-12-06).%s"])
def test_sync_tools_conflict_copies_are_read_and_a_copied_diary_takes_a_new_id(world, tmp_path,
                                                                               copy_name):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    copy = str(tmp_path / "copy.db")
    shutil.copy(p["a"], copy)
    # Both write their next file under one name, on two machines: the sync
    # tool keeps one and renames the other.
    elsewhere = tmp_path / "Elsewhere"
    shutil.copytree(folder, elsewhere)
    edit(p["a"], "y", "from a")
    sync(p["a"], folder)
    edit(copy, "z", "from the copy")
    sync(copy, elsewhere)
    theirs = [n for n in os.listdir(elsewhere) if n.endswith(".dsync")
              and (folder / n).read_bytes() != (elsewhere / n).read_bytes()]
    assert theirs
    for n in theirs:
        stem, ext = n.rsplit(".", 1)
        os.rename(elsewhere / n, folder / (copy_name % (stem, ext)))
    report = sync(p["b"], folder)
    assert not report.warnings
    assert texts(p["b"]) == {"x": "one", "y": "from a", "z": "from the copy"}
    # a second read of the same copy does nothing
    assert sync(p["b"], folder).read == 0
    # the copy (or its source) notices a second writer under its tag
    with store.open_diary(copy, PASSPHRASE) as d:
        device = R.device_id(d)
    report = sync(copy, folder)
    assert report.new_device
    with store.open_diary(copy, PASSPHRASE) as d:
        assert R.device_id(d) != device
    edit(copy, "w", "after")
    sync(copy, folder)
    sync(p["a"], folder)
    assert texts(p["a"])["w"] == "after"


def test_a_copy_made_before_its_first_sync_is_found_by_its_device_id(world, tmp_path):
    folder, p = world
    edit(p["a"], "x", "one")
    with store.open_diary(p["a"], PASSPHRASE) as d:
        R.device_id(d)
    copy = str(tmp_path / "copy.db")
    shutil.copy(p["a"], copy)
    sync(p["a"], folder)
    sync(copy, folder)  # reads a's file, written with its own device id
    report = sync(copy, folder)
    assert report.new_device


def snapshot_size(path):
    with store.open_diary(path, PASSPHRASE) as d:
        records, _ = R.changes(d)
    return len(synccrypt.seal(b"k" * 32, 1, "x", {"records": records}))


def test_compaction_keeps_the_folder_bounded(world, monkeypatch):
    monkeypatch.setattr(syncfolder, "COMPACT_FLOOR", 4096)
    folder, p = world
    import random

    rnd = random.Random(5)
    for round_ in range(40):
        who = "abc"[round_ % 3]
        for _ in range(15):
            edit(p[who], "k%03d" % rnd.randrange(300), os.urandom(30).hex())
        sync(p[who], folder)
    for who in "abcabc":
        sync(p[who], folder)
    total = sum(os.path.getsize(folder / n) for n in names(folder))
    assert texts(p["a"]) == texts(p["b"]) == texts(p["c"])
    assert total < 1.5 * snapshot_size(p["a"]) + 4096, [(n, os.path.getsize(folder / n))
                                                        for n in names(folder)]
    # a newcomer still gets everything from what is left
    store.create(str(folder.parent / "new.db"), PASSPHRASE)
    sync(str(folder.parent / "new.db"), folder)
    assert texts(str(folder.parent / "new.db")) == texts(p["a"])


def count_derivations(monkeypatch):
    calls = []
    real = synccrypt.derive
    monkeypatch.setattr(synccrypt, "derive", lambda *a: calls.append(1) or real(*a))
    return calls


def test_a_sync_costs_one_key_derivation_at_most(world, monkeypatch):
    folder, p = world
    calls = count_derivations(monkeypatch)
    for i in range(4):
        edit(p["a"], "x%d" % i, "t")
        edit(p["b"], "y%d" % i, "t")
        for who in "ab":
            before = len(calls)
            sync(p[who], folder)
            assert len(calls) - before <= 1
    before = len(calls)
    sync(p["a"], folder)
    sync(p["b"], folder)
    assert len(calls) == before  # once joined, none at all


def test_a_passphrase_change_reaches_the_others_and_locks_out_the_old_one(world):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    sync(p["b"], folder)
    new = "a brand new passphrase"
    with store.open_diary(p["a"], PASSPHRASE) as d:
        store.change_passphrase(d, new)
    edit(p["a"], "y", "written after the change", passphrase=new)
    report = sync(p["a"], folder, passphrase=new)
    assert report.new_epoch
    # b is told, every time, until it is given the new passphrase
    for _ in range(2):
        report = sync(p["b"], folder)
        assert report.needs_passphrase
        assert any("changed the passphrase" in w for w in report.warnings)
        assert "y" not in texts(p["b"])
    report = sync(p["b"], folder, folder_passphrase=new)
    assert report.learned_epoch and not report.needs_passphrase
    assert texts(p["b"])["y"] == "written after the change"
    edit(p["b"], "z", "b after", passphrase=PASSPHRASE)
    sync(p["b"], folder)
    sync(p["a"], folder, passphrase=new)
    assert texts(p["a"], passphrase=new)["z"] == "b after"
    # a newcomer with the old passphrase opens nothing written since
    with pytest.raises(syncfolder.FolderPassphrase):
        sync(p["c"], folder)
    assert texts(p["c"]) == {}
    sync(p["c"], folder, folder_passphrase=new)
    assert texts(p["c"]) == texts(p["b"])


def test_folder_missing_or_not_writable(world, tmp_path):
    folder, p = world
    with pytest.raises(syncfolder.NotFound):
        sync(p["a"], tmp_path / "nowhere")
    if os.getuid() != 0:
        folder.chmod(0o500)
        try:
            with pytest.raises(syncfolder.DiaryError, match="not writable"):
                sync(p["a"], folder)
        finally:
            folder.chmod(0o700)


def test_a_full_disk_leaves_no_half_file(world, monkeypatch):
    import errno

    folder, p = world
    edit(p["a"], "x", "one")
    real = os.write

    def full(fd, data):
        if os.fstat(fd).st_size > 0 or len(data) > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    sync(p["a"], folder)
    edit(p["a"], "y", "two" * 100)
    before = names(folder)
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(syncfolder.DiskFull):
        sync(p["a"], folder)
    monkeypatch.setattr(os, "write", real)
    assert names(folder) == before
    sync(p["a"], folder)
    sync(p["b"], folder)
    assert texts(p["b"]) == {"x": "one", "y": "two" * 100}


def test_status_lists_the_replicas(world):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    sync(p["b"], folder)
    with store.open_diary(p["b"], PASSPHRASE) as d:
        rows = syncfolder.status(d, str(folder))
        mine = R.device_id(d)
    assert rows[0]["this"] and rows[0]["device"] == mine
    assert len(rows) == 2 and rows[1]["last_synced"] and rows[1]["unread"] == 0


def test_a_sync_stopped_after_its_file_is_renamed_is_not_taken_for_a_copy(world, monkeypatch):
    """Ctrl-C or SIGKILL between the rename of our new file and the save of
    our state: the next sync must see that file as our own, not as another
    replica writing under our tag (which made the diary take a new device id)."""
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    edit(p["a"], "y", "two")
    real = syncfolder._save

    def interrupted(diary, key, value):
        if key == syncfolder.STATE and "pending" not in value:  # the last save
            raise KeyboardInterrupt
        return real(diary, key, value)

    monkeypatch.setattr(syncfolder, "_save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sync(p["a"], folder)
    monkeypatch.setattr(syncfolder, "_save", real)
    with store.open_diary(p["a"], PASSPHRASE) as d:
        device = R.device_id(d)
    report = sync(p["a"], folder)
    assert not report.new_device and not report.warnings
    with store.open_diary(p["a"], PASSPHRASE) as d:
        assert R.device_id(d) == device
    edit(p["a"], "z", "three")
    sync(p["a"], folder)
    sync(p["b"], folder)
    assert texts(p["b"]) == {"x": "one", "y": "two", "z": "three"}


def test_a_stranger_file_under_our_tag_does_not_make_us_a_copy(world):
    """Anyone who can write the folder (no key needed) dropped a file named
    like our next one: it does not open, so it proves nothing about a copy."""
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    tag = data_files(folder)[0].split(".")[0]
    (folder / ("%s.%08d.dsync" % (tag, 7))).write_bytes(b"DSYN" + os.urandom(200))
    with store.open_diary(p["a"], PASSPHRASE) as d:
        device = R.device_id(d)
    report = sync(p["a"], folder)
    assert not report.new_device
    with store.open_diary(p["a"], PASSPHRASE) as d:
        assert R.device_id(d) == device


def test_two_syncs_at_once_do_not_take_each_other_for_a_copy(world):
    """A second sync of one diary (the menu's and a cron job's) while the first
    is reading: it used to write the next file and save its state in
    between, and the first then took that file for a copy's (a new device
    id) or failed on its name. Syncs through one folder on one machine now
    take turns: the second is refused with a one-line error."""
    folder, p = world
    edit(p["a"], "w", "first")
    sync(p["a"], folder)
    edit(p["b"], "x", "from b")
    sync(p["b"], folder)
    edit(p["a"], "y", "from a")
    inner = {}

    class Busy(FakeReplica):
        def apply(self, d, records):
            if not inner:
                edit(p["a"], "z", "meanwhile")
                try:
                    with store.open_diary(p["a"], PASSPHRASE) as other:
                        inner["report"] = syncfolder.sync(other, str(folder), replica=R)
                except syncfolder.DiaryError as exc:
                    inner["error"] = str(exc)
            return super().apply(d, records)

    with store.open_diary(p["a"], PASSPHRASE) as d:
        device = R.device_id(d)
        first = syncfolder.sync(d, str(folder), replica=Busy())
    assert "another sync" in inner.get("error", "")
    assert not first.new_device and not first.warnings
    again = sync(p["a"], folder)
    assert not again.new_device and not again.warnings
    with store.open_diary(p["a"], PASSPHRASE) as d:
        assert R.device_id(d) == device
    sync(p["b"], folder)
    assert texts(p["b"]) == {"w": "first", "x": "from b", "y": "from a", "z": "meanwhile"}


def test_a_killed_syncs_temporary_is_gone_after_the_next_sync(world):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    tag = data_files(folder)[0].split(".")[0]
    left = folder / (".%s.%08d.dsync.tmp-0badf00d" % (tag, 2))
    left.write_bytes(b"half")
    edit(p["a"], "y", "two")
    sync(p["a"], folder)
    assert not [n for n in names(folder) if ".tmp-" in n]


@pytest.mark.parametrize("junk", [os.urandom(200), b"", b"DSYN\x01\x02"])
def test_a_junk_key_file_neither_locks_out_joiners_nor_asks_for_a_passphrase(world, junk):
    """Anyone who can write the folder (no key needed) dropped bytes named like
    a newer key file: a joining diary was told the folder was set up under
    another passphrase, and every other diary asked for a new passphrase and
    exited 1 at every sync. A file that is not a key file is skipped, named."""
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    (folder / "ffffffffffffffff.00000009.dkey").write_bytes(junk)
    edit(p["a"], "y", "two")
    report = sync(p["a"], folder)
    assert not report.needs_passphrase and not report.new_epoch
    assert any("ffffffffffffffff.00000009.dkey" in w for w in report.warnings)
    report = sync(p["b"], folder)
    assert not report.needs_passphrase
    assert texts(p["b"]) == {"x": "one", "y": "two"}


def test_many_copies_of_a_file_do_not_spoil_what_the_diary_remembers(world):
    """Anyone who can write the folder can copy a file under sync tools'
    conflict names (no key needed: a copy opens as its original). Each copy
    read is remembered; past 4 KB the state was cut short by memo.put, no
    longer JSON, and forgotten: a new tag, a full snapshot, everything read
    again at every sync."""
    folder, p = world
    edit(p["b"], "x", "one")
    sync(p["b"], folder)
    edit(p["a"], "y", "two")
    sync(p["a"], folder)
    with store.open_diary(p["a"], PASSPHRASE) as d, d.bound():
        tag = syncfolder._load(d, syncfolder.STATE)["tag"]
    (theirs,) = [n for n in data_files(folder) if not n.startswith(tag)]
    stem = theirs[:-len(".dsync")]
    for i in range(80):
        shutil.copy(folder / theirs,
                    folder / ("%s.sync-conflict-20261206-101010-%07d.dsync" % (stem, i)))
    sync(p["a"], folder)
    with store.open_diary(p["a"], PASSPHRASE) as d, d.bound():
        assert syncfolder._load(d, syncfolder.STATE)["tag"] == tag
    edit(p["a"], "z", "three")
    report = sync(p["a"], folder)
    assert report.read == 0 and not report.snapshot and not report.new_device


def test_a_file_too_large_for_readers_is_never_written(world, monkeypatch):
    """Readers refuse a file that unpacks past MAX_PLAIN ('damaged'), at every
    sync, forever: the writer wrote one anyway, and the other devices never
    got those changes while this one believed them sent. It is refused here,
    with nothing written and the changes kept for the next sync."""
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    sync(p["b"], folder)
    monkeypatch.setattr(synccrypt, "MAX_PLAIN", 2000)
    edit(p["a"], "y", "long " * 1000)
    before = names(folder)
    with pytest.raises(syncfolder.DiaryError, match="too large"):
        sync(p["a"], folder)
    assert names(folder) == before
    monkeypatch.setattr(synccrypt, "MAX_PLAIN", 1 << 30)
    sync(p["a"], folder)
    sync(p["b"], folder)
    assert texts(p["b"])["y"] == "long " * 1000


@pytest.mark.parametrize("kind", ["junk", "symlink", "directory"])
def test_a_stranger_at_our_next_name_does_not_stop_our_syncs(world, tmp_path, kind):
    """Junk dropped at the name of our next file (no key needed) made every
    sync fail with 'already exists'; the next free number is taken instead."""
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    tag = data_files(folder)[0].split(".")[0]
    there = folder / ("%s.%08d.dsync" % (tag, 2))
    if kind == "junk":
        there.write_bytes(b"junk")
    elif kind == "symlink":
        there.symlink_to(tmp_path / "elsewhere")
    else:
        there.mkdir()
    edit(p["a"], "y", "two")
    report = sync(p["a"], folder)
    assert report.files_written == 1 and not report.new_device
    sync(p["b"], folder)
    assert texts(p["b"]) == {"x": "one", "y": "two"}


@pytest.mark.parametrize("fresh", [5, "0", {"0": 1}, None])
def test_a_sealed_snapshot_with_an_impossible_fresh_list_is_skipped(world, fresh):
    """A file that opens (written by a device with the key: another version of
    diary, a bug) but whose snapshot's 'fresh' is no list: a TypeError
    traceback, at every sync."""
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    sync(p["b"], folder)
    with store.open_diary(p["a"], PASSPHRASE) as d, d.bound():
        keys = syncfolder._load(d, syncfolder.KEYS)
    epoch = int(keys["epoch"])
    key = bytes.fromhex(keys["keys"][str(epoch)])
    tag, name = "0123456789abcdef", "0123456789abcdef.00000001.dsync"
    payload = {"kind": "snapshot", "tag": tag, "seq": 1, "device": None,
               "written_at": "2026-12-06T10:00:00Z", "records": [{"uuid": "y"}],
               "covers": {tag: 1}, "fresh": fresh}
    (folder / name).write_bytes(synccrypt.seal(key, epoch, name, payload))
    report = sync(p["b"], folder)
    assert any(name in w and "damaged" in w for w in report.warnings)


def test_a_huge_junk_file_is_not_read_whole_at_every_sync(world, monkeypatch):
    """Anyone who can write the folder can drop a large file under a peer's
    name: it was read whole into memory (up to 1 GB) at every sync before its
    first bytes showed it is no sync file."""
    from diary import syncfiles

    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    junk = folder / "0123456789abcdef.00000001.dsync"
    with open(junk, "wb") as f:
        f.truncate(200 << 20)  # sparse: no room taken
    read = []
    real = syncfiles.open_regular

    def counting(*a, **kw):
        stream = real(*a, **kw)
        inner = stream.read

        def reading(n=-1):
            data = inner(n)
            read.append(len(data))
            return data

        stream.read = reading
        return stream

    monkeypatch.setattr(syncfiles, "open_regular", counting)
    report = sync(p["b"], folder)
    assert any(junk.name in w for w in report.warnings)
    assert sum(read) < 1 << 20
    assert texts(p["b"]) == {"x": "one"}


def test_status_does_not_take_a_junk_key_file_for_a_passphrase_change(world):
    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    sync(p["b"], folder)
    tag = data_files(folder)[0].split(".")[0]
    (folder / ("%s.00000009.dkey" % tag)).write_bytes(os.urandom(200))
    with store.open_diary(p["b"], PASSPHRASE) as d:
        rows = syncfolder.status(d, str(folder))
    assert not any(row["needs_passphrase"] for row in rows)


def test_a_key_file_that_did_not_open_is_not_derived_again_at_every_sync(world, monkeypatch):
    """A key file with a key file's header over junk (anyone can make one, with
    up to 10,000,000 PBKDF2 iterations: about 40 s) was derived again at
    every sync. Once it failed under this passphrase, it is only named again,
    until a passphrase is given for it."""
    import struct

    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    head = struct.pack(">4sBBI12s", synccrypt.MAGIC, synccrypt.FORMAT, synccrypt.KEYRING, 9,
                       os.urandom(12)) + struct.pack(">16sI", os.urandom(16), 1000)
    (folder / "ffffffffffffffff.00000009.dkey").write_bytes(head + os.urandom(64))
    calls = count_derivations(monkeypatch)
    first = sync(p["a"], folder)
    assert first.needs_passphrase and len(calls) == 1
    again = sync(p["a"], folder)
    assert again.needs_passphrase and len(calls) == 1
    assert any("ffffffffffffffff.00000009.dkey" in w for w in again.warnings)
    sync(p["a"], folder, folder_passphrase="another one")  # given: tried again
    assert len(calls) == 2


def test_a_forged_key_file_named_to_sort_first_does_not_hide_the_real_one(world):
    """A passphrase change on a: its new key file, and beside it a forged one
    of the same epoch (a key file's header over junk, another cost) whose name
    sorts first. Only the first was ever tried: b was asked for a passphrase
    that could not open it, at every sync, for good; a joiner was locked out."""
    import struct

    folder, p = world
    edit(p["a"], "x", "one")
    sync(p["a"], folder)
    sync(p["b"], folder)
    new = "a brand new passphrase"
    with store.open_diary(p["a"], PASSPHRASE) as d:
        store.change_passphrase(d, new)
    edit(p["a"], "y", "two", passphrase=new)
    sync(p["a"], folder, passphrase=new)
    (epoch,) = {n.split(".")[1] for n in names(folder) if n.endswith(".dkey")} - {"00000001"}
    head = struct.pack(">4sBBI12s", synccrypt.MAGIC, synccrypt.FORMAT, synccrypt.KEYRING,
                       int(epoch), os.urandom(12)) + struct.pack(">16sI", os.urandom(16), 1000)
    (folder / ("0000000000000000.%s.dkey" % epoch)).write_bytes(head + os.urandom(64))
    report = sync(p["b"], folder, folder_passphrase=new)
    assert report.learned_epoch and not report.needs_passphrase
    assert texts(p["b"]) == {"x": "one", "y": "two"}
    with store.open_diary(p["b"], PASSPHRASE) as d:
        store.change_passphrase(d, new)
    sync(p["c"], folder, passphrase=PASSPHRASE, folder_passphrase=new)
    assert texts(p["c"]) == {"x": "one", "y": "two"}
