"""Sync end to end: real diaries (replica.py's lineage) through one folder
(syncfolder.py): three devices doing random work and syncs in random order,
the CLI, and a sync killed half way."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from diary import entries, replica, store, synccrypt, syncfolder, tags
from diary.store import Entry
from tests.conftest import PASSPHRASE, TEST_KDF_ITER


def held(path):
    """The live entries of a diary as it shows them, conflict copies included,
    as the issue compares them: uuid -> (title, body, tags, created, starred)."""
    with store.open_diary(path, PASSPHRASE) as d, d.bound():
        return {e.uuid: (e.title, e.body, tuple(sorted(t.lower() for t in e.tag_list)),
                         str(e.created_at), e.starred)
                for e in entries.list_entries(d)}


def do(path, action):
    with store.open_diary(path, PASSPHRASE) as d:
        with d.bound():
            return action(d)


def entry_id(d, uuid):
    row = Entry.get_or_none(Entry.uuid == uuid)
    return row.id if row else None


def sync(path, folder):
    with store.open_diary(path, PASSPHRASE) as d:
        return syncfolder.sync(d, str(folder))


@pytest.fixture
def three(tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    paths = [str(tmp_path / ("%s.db" % n)) for n in "abc"]
    for p in paths:
        store.create(p, PASSPHRASE)
    return folder, paths


def test_adds_edits_and_deletions_travel_and_quiet_syncs_write_nothing(three):
    folder, (a, b, c) = three
    first = do(a, lambda d: entries.add(d, "one", tags=["work"]).uuid)
    do(a, lambda d: entries.add(d, "two").uuid)
    for p in (a, b, c):
        sync(p, folder)
    do(b, lambda d: entries.edit(d, entry_id(d, first), body="one, edited on b"))
    do(c, lambda d: entries.delete(d, [entry_id(d, first)]) and None)
    for _ in range(2):
        for p in (a, b, c):
            sync(p, folder)
    assert held(a) == held(b) == held(c)
    # an edit and a deletion concurrent: the edit is kept
    assert held(a)[first][1] == "one, edited on b"
    for p in (a, b, c):
        report = sync(p, folder)
        assert report.written == 0 and report.files_written == 0, report


def test_a_deletion_travels(three):
    folder, (a, b, _) = three
    u = do(a, lambda d: entries.add(d, "short-lived").uuid)
    sync(a, folder)
    sync(b, folder)
    assert u in held(b)
    do(b, lambda d: entries.delete(d, [entry_id(d, u)]) and None)
    sync(b, folder)
    sync(a, folder)
    assert u not in held(a)


class ThreeDevices(RuleBasedStateMachine):
    """Random adds, edits, deletions, tag moves and syncs on three devices
    through one folder; at the end, two quiet rounds of syncs."""

    @initialize()
    def setup(self):
        import tempfile

        self.tmp = tempfile.mkdtemp(prefix="diary-sync-test-")
        self.folder = os.path.join(self.tmp, "Sync")
        os.mkdir(self.folder)
        self.paths = [os.path.join(self.tmp, "%d.db" % i) for i in range(3)]
        for p in self.paths:
            store.create(p, PASSPHRASE)
        self.uuids = []  # every uuid ever added
        self.deleted = {}  # uuid -> device that deleted it, when every edit was its own
        self.edited_by = {}  # uuid -> devices that added or edited it
        self.counter = 0

    def teardown(self):
        import shutil

        shutil.rmtree(getattr(self, "tmp", "/nonexistent"), ignore_errors=True)

    def _text(self):
        self.counter += 1
        return "text %d" % self.counter

    @rule(dev=st.integers(0, 2), tag=st.sampled_from(["a", "a/b", "c", ""]))
    def add(self, dev, tag):
        text = self._text()
        u = do(self.paths[dev], lambda d: entries.add(d, text, tags=[tag] if tag else []).uuid)
        self.uuids.append(u)
        self.edited_by[u] = {dev}

    def _pick(self, dev, i):
        here = [u for u in self.uuids if do(self.paths[dev], lambda d: entry_id(d, u))]
        return here[i % len(here)] if here else None

    @precondition(lambda self: self.uuids)
    @rule(dev=st.integers(0, 2), i=st.integers(0, 50), star=st.booleans())
    def edit(self, dev, i, star):
        u = self._pick(dev, i)
        if u is None:
            return
        text = self._text()
        do(self.paths[dev], lambda d: entries.edit(d, entry_id(d, u), body=text, starred=star))
        self.edited_by[u].add(dev)
        self.deleted.pop(u, None)

    @precondition(lambda self: self.uuids)
    @rule(dev=st.integers(0, 2), i=st.integers(0, 50))
    def delete(self, dev, i):
        u = self._pick(dev, i)
        if u is None:
            return
        do(self.paths[dev], lambda d: entries.delete(d, [entry_id(d, u)]))
        if self.edited_by[u] == {dev}:
            self.deleted[u] = dev

    @precondition(lambda self: self.uuids)
    @rule(dev=st.integers(0, 2), i=st.integers(0, 50), tag=st.sampled_from(["x", "y/z"]))
    def retag(self, dev, i, tag):
        u = self._pick(dev, i)
        if u is None:
            return
        do(self.paths[dev], lambda d: entries.edit(d, entry_id(d, u), add_tags=[tag]))
        self.edited_by[u].add(dev)
        self.deleted.pop(u, None)

    @rule(dev=st.integers(0, 2))
    def move_tag(self, dev):
        def move(d):
            if tags.resolve("a/b") is not None:
                if tags.resolve("c/b") is not None:
                    tags.merge(d, "a/b", "c/b")
                else:
                    tags.move(d, "a/b", "c")
        do(self.paths[dev], move)
        # the entries under it changed their tag paths: edits by this device
        for u in self.uuids:
            self.edited_by[u].add(dev)
        self.deleted.clear()

    @rule(dev=st.integers(0, 2))
    def sync(self, dev):
        sync(self.paths[dev], self.folder)

    @invariant()
    def files_are_only_ours(self):
        for name in os.listdir(self.folder):
            assert syncfolder._NAME.match(name), name

    def check_converged(self):
        for _ in range(2):
            for p in self.paths:
                sync(p, self.folder)
        states = [held(p) for p in self.paths]
        assert states[0] == states[1] == states[2]
        final = states[0]
        # nothing that was never deleted is missing
        ever_deleted = set()
        for p in self.paths:
            with store.open_diary(p, PASSPHRASE) as d:
                ever_deleted |= {r["uuid"] for r in replica.changes(d)[0]
                                 if r["type"] == "tombstone"}
        for u in self.uuids:
            if u not in ever_deleted:
                assert u in final, u
        # a deletion of an entry only its deleter ever edited stays deleted
        for u in self.deleted:
            assert u not in final, u
        # idempotent: one more round changes nothing and writes nothing
        for p in self.paths:
            report = sync(p, self.folder)
            assert report.files_written == 0, report
            assert not report.applied.get("taken") and not report.applied.get("conflicts")
        assert [held(p) for p in self.paths] == states


class _Machine(ThreeDevices):
    def teardown(self):
        try:
            if hasattr(self, "paths"):
                self.check_converged()
        finally:
            super().teardown()


_Machine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None,
                                      suppress_health_check=list(HealthCheck))


@pytest.mark.usefixtures("fast_kdf")
class TestThreeDevices(_Machine.TestCase):
    pass


# -- the CLI -----------------------------------------------------------------

def test_cli_sync_and_status(run, tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    other = str(tmp_path / "other.db")
    assert run("init").code == 0
    assert run("init", diary_path=other).code == 0
    assert run("add", "hello there").code == 0
    r = run("sync", str(folder))
    assert r.code == 0 and "Synced" in r.err
    r = run("sync", str(folder), "--json", diary_path=other)
    assert r.code == 0 and json.loads(r.out)["files_read"] == 1
    assert "hello there" in run("list", diary_path=other).out
    r = run("sync", "--status", "--json", str(folder), diary_path=other)
    rows = json.loads(r.out)
    assert r.code == 0 and len(rows) == 2 and rows[0]["this"]
    assert "this diary" in run("sync", "--status", str(folder)).out


def test_cli_sync_folder_from_the_config(run, tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    conf = tmp_path / "config" / "config.toml"
    conf.parent.mkdir()
    conf.write_text('sync_folder = "%s"\n' % folder)
    run("init")
    assert run("sync").code == 0
    assert os.listdir(folder)
    assert "sync_folder" in run("config").out


@pytest.mark.parametrize("setup, message, code", [
    ("missing", "no sync folder", 1),
    ("file", "not a directory", 1),
    ("none", "no sync folder: name one", 2),
])
def test_cli_sync_errors(run, tmp_path, setup, message, code):
    run("init")
    target = tmp_path / "x"
    if setup == "file":
        target.write_text("")
    r = run("sync", *([] if setup == "none" else [str(target)]))
    assert r.code == code and message in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_cli_asks_once_for_a_changed_passphrase(run, tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    other = str(tmp_path / "other.db")
    run("init")
    run("init", diary_path=other)
    run("sync", str(folder))
    run("sync", str(folder), diary_path=other)
    new = "the new passphrase here"
    with store.open_diary(other, PASSPHRASE) as d:
        store.change_passphrase(d, new)
    r = run("add", "after the change", diary_path=other, environ={"DIARY_PASSPHRASE": new})
    assert r.code == 0
    assert run("sync", str(folder), diary_path=other,
               environ={"DIARY_PASSPHRASE": new}).code == 0
    r = run("sync", str(folder))
    assert r.code == 1 and "changed the passphrase" in r.err
    secret = tmp_path / "new.txt"
    secret.write_text(new + "\n")
    r = run("sync", str(folder), "--folder-passphrase-file", str(secret))
    assert r.code == 0, r
    assert "after the change" in run("list").out
    assert run("sync", str(folder)).code == 0


# -- SIGKILL during a sync -----------------------------------------------------

KILLED = r"""
import sys
from diary import entries, store, syncfolder
store.KDF_ITER = %d
path, folder = sys.argv[1], sys.argv[2]
with store.open_diary(path, %r) as d:
    print("go", flush=True)
    syncfolder.sync(d, folder)
"""


def test_sigkill_during_a_sync_leaves_everything_openable(three, tmp_path):
    folder, (a, b, _) = three
    with store.open_diary(a, PASSPHRASE) as d:
        with d.bound(), d.write():
            for i in range(3000):
                entries.add(d, "entry %d " % i + "words " * 30, tags=["t%d" % (i % 7)])
    sync(a, folder)
    script = KILLED % (TEST_KDF_ITER, PASSPHRASE)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    for delay in (0.05, 0.2, 0.4, 0.8, 1.5):
        proc = subprocess.Popen([sys.executable, "-c", script, b, str(folder)],
                                stdout=subprocess.PIPE, env=env)
        proc.stdout.readline()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for name in os.listdir(folder):
            assert syncfolder._NAME.match(name) or name.startswith("."), name
        with store.open_diary(b, PASSPHRASE) as d:
            from diary import health

            assert not health.problems(d)
        # start again from nothing now and then
        if delay == 0.4:
            os.unlink(b)
            store.create(b, PASSPHRASE)
    # temporaries of a killed writer are never read, and removed once old
    for name in os.listdir(folder):
        if name.startswith("."):
            os.utime(folder / name, (time.time() - 3600,) * 2)
    sync(b, folder)
    sync(a, folder)
    sync(b, folder)
    assert held(a) == held(b)
    with store.open_diary(b, PASSPHRASE) as d, d.bound():
        tag = syncfolder._load(d, syncfolder.STATE)["tag"]
    # (temporaries of the diary b was before it started again stay: that replica is gone)
    for name in os.listdir(folder):
        assert syncfolder._NAME.match(name) or not name.startswith("." + tag), name


# -- the menu ------------------------------------------------------------------

def test_the_menu_offers_sync_only_when_a_folder_is_set(diary, tmp_path):
    from tests.test_menu import drive

    folder = tmp_path / "Sync"
    folder.mkdir()
    entries.add(diary, "from the menu")
    s = drive(diary, ("Write a new entry", "q"))
    assert "Sync" not in s.driver.screens[0]
    s = drive(diary, ("Sync", "y"), ("Synced: 0 files read", "q"), sync_folder=str(folder))
    assert s.code == 0
    assert [n for n in os.listdir(folder) if n.endswith(".dsync")]


def test_a_crafted_file_under_the_right_key_is_refused_naming_it(three):
    folder, (a, b, _) = three
    do(a, lambda d: entries.add(d, "fine"))
    sync(a, folder)
    with store.open_diary(a, PASSPHRASE) as d, d.bound():
        keys = syncfolder._load(d, syncfolder.KEYS)
    key = bytes.fromhex(keys["keys"]["1"])
    tag, name = "0123456789abcdef", "0123456789abcdef.00000001.dsync"
    bad = {"type": "entry", "uuid": "x" * 10, "created_at": "99999-01-01T00:00:00Z",
           "updated_at": "2024-01-01T00:00:00.000000Z", "title": "", "body": "b" * 10,
           "starred": False, "tags": [], "vv": {"d": 1}}
    (folder / name).write_bytes(synccrypt.seal(key, 1, name, {
        "kind": "changes", "tag": tag, "seq": 1, "device": "evil", "written_at":
        "2026-01-01T00:00:00Z", "records": [bad]}))
    report = sync(b, folder)
    assert [w for w in report.warnings if name in w and "refused" in w], report.warnings
    assert [r[1] for r in held(b).values()] == ["fine"]
    assert name in " ".join(sync(b, folder).warnings)  # said again, never silently dropped


def test_cli_on_a_terminal_asks_for_the_new_passphrase_once(run, tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    other = str(tmp_path / "other.db")
    run("init")
    run("init", diary_path=other)
    run("sync", str(folder))
    assert run("sync", str(folder), diary_path=other).code == 0
    new = "the new passphrase here"
    with store.open_diary(other, PASSPHRASE) as d:
        store.change_passphrase(d, new)
    run("add", "after the change", diary_path=other, environ={"DIARY_PASSPHRASE": new})
    assert run("sync", str(folder), diary_path=other, environ={"DIARY_PASSPHRASE": new}).code == 0
    r = run("sync", str(folder), tty=True, answers=[new])
    assert r.code == 0 and r.asked == ["Its new passphrase: "], r
    assert "after the change" in run("list").out
    r = run("sync", str(folder), tty=True, answers=[])
    assert r.code == 0 and r.asked == []


def test_a_long_sync_reports_progress_of_the_records_it_applies(three):
    folder, (a, b, _) = three
    with store.open_diary(a, PASSPHRASE) as d, d.bound(), d.write():
        for i in range(1200):
            entries.add(d, "entry %d" % i)
    sync(a, folder)
    seen = []
    with store.open_diary(b, PASSPHRASE) as d:
        syncfolder.sync(d, str(folder), progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (1200, 1200)


def test_an_empty_diary_joining_is_not_applied_back(three):
    folder, (a, b, c) = three
    for i in range(5):
        do(a, lambda d, i=i: entries.add(d, "entry %d" % i))
    sync(a, folder)
    assert sync(b, folder).applied["taken"] == 5
    report = sync(a, folder)  # reads b's first snapshot: nothing in it is new to a
    assert report.read == 1 and not report.applied
    # a third device joining late still gets everything from what is left
    sync(c, folder)
    assert held(c) == held(a) == held(b)


def test_cli_a_diary_with_another_passphrase_is_asked_once_for_the_folders(run, tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    other, theirs = str(tmp_path / "other.db"), {"DIARY_PASSPHRASE": "a different one"}
    run("init")
    run("add", "from the first")
    run("sync", str(folder))
    run("init", diary_path=other, environ=theirs)
    r = run("sync", str(folder), diary_path=other, environ=theirs)
    assert r.code == 3 and "another passphrase" in r.err and len(r.err.splitlines()) == 1
    r = run("sync", str(folder), diary_path=other, environ=theirs, tty=True,
            answers=[PASSPHRASE])
    assert r.code == 0 and r.asked == ["Passphrase of the sync folder: "]
    assert "from the first" in run("list", diary_path=other, environ=theirs).out
    r = run("sync", str(folder), diary_path=other, environ=theirs, tty=True, answers=[])
    assert r.code == 0 and r.asked == []


def test_a_write_during_a_joining_sync_still_reaches_the_others(three, monkeypatch):
    folder, (a, b, _) = three
    for i in range(3):
        do(a, lambda d, i=i: entries.add(d, "entry %d" % i))
    sync(a, folder)
    real = replica.apply

    def apply_then_write(d, records, **kw):
        report = real(d, records, **kw)
        with d.bound():
            entries.add(d, "written meanwhile")  # stands for another process
        return report

    monkeypatch.setattr(replica, "apply", apply_then_write)
    sync(b, folder)
    monkeypatch.setattr(replica, "apply", real)
    sync(a, folder)
    assert "written meanwhile" in [v[1] for v in held(a).values()]


def test_the_menu_opened_by_the_agent_asks_for_the_passphrase_to_sync(diary, tmp_path):
    # A session unlocked by the agent holds only the raw key: sealing the
    # folder's keys under its text would lock every other device out.
    from diary import raw_key
    from tests.test_menu import drive

    folder = tmp_path / "Sync"
    folder.mkdir()
    entries.add(diary, "from the agent's session")
    path = diary.path
    diary.close()
    key = raw_key.derive(PASSPHRASE, raw_key.salt_of(path), TEST_KDF_ITER)
    with store.open_diary(path, None, raw_key=key) as d:
        s = drive(d, ("Sync", "y"), ("passphrase", "not it\r"),
                  ("Wrong passphrase", "y"), ("passphrase", PASSPHRASE + "\r"),
                  ("Synced: 0 files read", "q"), sync_folder=str(folder))
    assert s.code == 0
    # The folder opens with the passphrase on another device.
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE, kdf_iter=TEST_KDF_ITER)
    sync(other, folder)
    assert [r[1] for r in held(other).values()] == ["from the agent's session"]


def test_a_source_whose_copy_wrote_under_its_tag_still_sends_and_gets_everything(three,
                                                                                  tmp_path):
    """A diary file copied onto a new laptop kept its source's sync tag. Once a
    third device's snapshot covered the copy's files and the copy removed
    them, the source wrote numbers every reader had already passed: its
    changes reached no one, silently (and it skipped the copy's entries in
    that snapshot as its own)."""
    folder, (a, _, c) = three
    do(a, lambda d: entries.add(d, "first"))
    sync(a, folder)
    laptop = str(tmp_path / "laptop.db")
    import shutil

    shutil.copy(a, laptop)
    do(laptop, lambda d: entries.add(d, "from the laptop"))
    sync(laptop, folder)
    sync(c, folder)  # joins: its snapshot covers everything it read
    sync(laptop, folder)
    do(a, lambda d: entries.add(d, "from a, later"))
    sync(a, folder)
    for path in (c, laptop, a, c, laptop):
        sync(path, folder)
    bodies = {v[1] for v in held(c).values()}
    assert {"first", "from the laptop", "from a, later"} <= bodies
    assert held(a) == held(c) == held(laptop)
