"""Three replicas doing random adds, edits, deletions, tag moves and pairwise
exchanges (replica.changes / apply), then exchanging everything twice:

- all hold the same entries (uuid, dates, title, text, star, tags);
- no entry that was never deleted is missing;
- a deleted entry never returns unless it was edited concurrently (an edit
  its deleting replica had not seen when it deleted it);
- applying everything again changes nothing;
- the entries, conflict copies included, do not depend on the order of the
  exchanges (the same diaries, copied before the final rounds, exchanged in
  another order, and every record ever sent, applied one by one in a
  shuffled order to a fourth replica).
"""

import os
import random
import shutil
import tempfile

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from diary import entries, replica, store, tags
from diary.errors import DiaryError

PW = "pw"
R = st.integers(0, 2)
PICK = st.integers(0, 1000)
TAGS = st.sampled_from(["a", "a/b", "c", "C/d"])
WORDS = st.sampled_from(["rain", "sun", "tea", "walk"])


def _open(path):
    d = store.open_diary(path, PW, kdf_iter=1)
    d.db.execute_sql("PRAGMA synchronous = OFF")  # a temp dir: no need to wait for the disk
    return d


def _state(d):
    with d.bound():
        return {e.uuid: (str(e.created_at), str(e.updated_at), e.title, e.body, e.starred,
                         tuple(t.casefold() for t in e.tag_list))
                for e in entries.list_entries(d)}


def _exchange_all(diaries, order, sent=None):
    for src, dst in order:
        records = replica.changes(diaries[src])[0]
        if sent is not None:
            sent.append(records)
        replica.apply(diaries[dst], records)


PAIRS = [(i, j) for i in range(3) for j in range(3) if i != j]


class SyncMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.paths = [os.path.join(self.tmp, "%d.db" % i) for i in range(3)]
        self.d = []
        for p in self.paths:
            store.create(p, PW, kdf_iter=1)
            self.d.append(_open(p))
        self.created = set()      # uuids added by a rule
        self.deleted = set()      # uuids a rule deleted somewhere
        self.edits = {}           # uuid -> ids of the edit events made to it
        self.known = [set(), set(), set()]  # edit events each replica has seen
        self.deletions = []       # (uuid, the edit events its deleter had seen)
        self.events = 0
        self.sent = []            # every batch of records an exchange carried
        # A few entries every replica holds from the start, so that edits of
        # one entry on two replicas (conflicts) and deletions against edits
        # happen in short runs too.
        for word in ("one", "two", "three"):
            self.add(0, word, "a")
        for dst in (1, 2):
            self.exchange(0, dst)

    def _ids(self, r):
        with self.d[r].bound():
            return [(e.id, e.uuid) for e in entries.list_entries(self.d[r], newest_first=False)]

    def _local(self, r, action):
        """Run a local change on replica r; every entry it gave a new version
        is an edit event r knows of; every tombstone it wrote, a deletion."""
        d = self.d[r]
        mark = replica.mark(d)
        with d.bound():
            try:
                action(d)
            except DiaryError:
                return
        for rec in replica.changes(d, mark)[0]:
            if rec["type"] == "entry":
                self.events += 1
                self.edits.setdefault(rec["uuid"], set()).add(self.events)
                self.known[r].add(self.events)
            else:
                seen = self.edits.get(rec["uuid"], set()) & self.known[r]
                self.deletions.append((rec["uuid"], frozenset(seen)))
                self.deleted.add(rec["uuid"])

    @rule(r=R, word=WORDS, tag=TAGS)
    def add(self, r, word, tag):
        def act(d):
            self.created.add(entries.add(d, "%s %d" % (word, self.events), tags=[tag]).uuid)
        self._local(r, act)

    @rule(r=R, pick=PICK, word=WORDS)
    def edit_text(self, r, pick, word):
        ids = self._ids(r)
        if ids:
            self._local(r, lambda d: entries.edit(d, ids[pick % len(ids)][0],
                                                  body="%s, edited %d" % (word, self.events)))

    @rule(r=R, pick=PICK)
    def toggle_star(self, r, pick):
        ids = self._ids(r)
        if ids:
            entry_id = ids[pick % len(ids)][0]
            self._local(r, lambda d: entries.edit(
                d, entry_id, starred=not entries.get(d, entry_id).starred))

    @rule(r=R, pick=PICK, tag=TAGS)
    def retag(self, r, pick, tag):
        ids = self._ids(r)
        if ids:
            entry_id = ids[pick % len(ids)][0]

            def act(d):
                have = entries.get(d, entry_id).tag_list
                if have and pick % 2:
                    entries.edit(d, entry_id, remove_tags=[have[0]])
                else:
                    entries.edit(d, entry_id, add_tags=[tag])
            self._local(r, act)

    @rule(r=R, tag=TAGS, name=st.sampled_from(["a", "e", "f"]), move=st.booleans())
    def move_tag(self, r, tag, name, move):
        if move:
            self._local(r, lambda d: tags.move(d, tag, name))
        else:
            self._local(r, lambda d: tags.rename(d, tag, name))

    @rule(r=R, pick=PICK)
    def delete(self, r, pick):
        ids = self._ids(r)
        if ids:
            self._local(r, lambda d: entries.delete(d, [ids[pick % len(ids)][0]]))

    @rule(src=R, dst=R)
    def exchange(self, src, dst):
        if src != dst:
            records = replica.changes(self.d[src])[0]
            self.sent.append(records)
            replica.apply(self.d[dst], records)
            self.known[dst] |= self.known[src]

    def teardown(self):
        try:
            self._converge()
        finally:
            for d in self.d:
                d.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _converge(self):
        # The same three diaries, to be exchanged in another order.
        for d in self.d:
            d.close()
        copies = [p + ".copy" for p in self.paths]
        for p, c in zip(self.paths, copies):
            shutil.copy(p, c)
        self.d = [_open(p) for p in self.paths]
        _exchange_all(self.d, PAIRS * 2, self.sent)
        final = [_state(d) for d in self.d]
        assert final[0] == final[1] == final[2]
        state = final[0]
        # nothing never deleted is missing
        assert self.created - self.deleted <= set(state)
        # a deletion that had seen every edit of its entry is never undone,
        # even one of an entry whose earlier deletion an edit overruled
        for uuid, seen in self.deletions:
            if self.edits.get(uuid, set()) <= seen:
                assert uuid not in state, uuid
        # applying everything again changes nothing
        marks = [replica.mark(d) for d in self.d]
        for src, dst in PAIRS:
            report = replica.apply(self.d[dst], replica.changes(self.d[src])[0])
            assert report.changed == 0, report
        assert [replica.mark(d) for d in self.d] == marks
        # Another order gives the same entries, conflict copies included.
        others = [_open(c) for c in copies]
        try:
            _exchange_all(others, list(reversed(PAIRS)) + [(0, 2), (2, 1), (1, 0)] + PAIRS)
            again = [_state(d) for d in others]
            assert again[0] == again[1] == again[2]
            assert again[0] == state
        finally:
            for d in others:
                d.close()
        # The state is a function of the versions sent, not of the order
        # they came in: a fourth replica given every record ever sent, one
        # by one in a shuffled order, ends with the same entries and copies.
        every = [r for batch in self.sent for r in batch]
        random.Random(len(every)).shuffle(every)
        path = os.path.join(self.tmp, "fourth.db")
        store.create(path, PW, kdf_iter=1)
        fourth = _open(path)
        try:
            for r in every:
                replica.apply(fourth, [r])
            assert _state(fourth) == state
        finally:
            fourth.close()


SyncMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_sync_machine = SyncMachine.TestCase
