"""Sync through a plain folder (Syncthing, Dropbox, a USB stick): each replica
writes only its own small immutable files there and reads everyone else's.

    report = syncfolder.sync(diary, "/home/me/Sync/diary", passphrase)
    for line in report.warnings: ...
    rows = syncfolder.status(diary, folder)

The folder holds, per replica (an opaque random *tag*, never its device id):

    <tag>.<seq>.dsync    its changes since its previous file, or a snapshot of
                         everything it holds; sealed (synccrypt.py), immutable
    <tag>.<epoch>.dkey   the folder's keyring wrapped under the passphrase of
                         the replica that started that key epoch

A file is written under a temporary name in the folder, fsynced, then renamed
to a name no one else writes (syncfiles.py); it never changes afterwards, so a sync tool never
sees two writers of one file, and no database (nor its -wal or -journal) ever
lives in the folder. Everything this replica remembers about the folder (its
tag, its last sequence number, the keyring, how far it read each other tag) is
kept inside its own encrypted diary, in the memo table.

One sync: read every other tag's new files (also the copies sync tools make of
a file two machines wrote: "conflicted copy", ".sync-conflict-") and apply
their records through the replica layer (``replica.apply``, which merges by
version vector and is idempotent); then write one file with what changed here
since the last sync (``replica.changes``), nothing when nothing changed. A file
that does not open (another passphrase, damaged, truncated, tampered with,
renamed, from a newer format) is skipped with a warning naming it.

Compaction: once this replica's change files outgrow a quarter of the rest of
the folder, it writes a snapshot and removes its older files. A snapshot lists
how far it covers every tag (its writer had applied all of that); a replica
removes its own files that someone's snapshot covers. So about one snapshot
plus recent changes stay in the folder.

Passphrase changes: the key that seals data files belongs to an *epoch*. A
replica whose diary passphrase changed since its last sync (a keyed check in
the memo, no key derivation) starts a new epoch: a new random key, wrapped in
a new key file under the new passphrase; from then on it writes under that
key, so an old passphrase that leaked opens nothing written afterwards. Another
replica that meets a newer epoch unwraps it with its own passphrase (the same
change made there too) or, failing that, is told at every sync until it is
given the new passphrase once (``folder_passphrase``); it then rewrites its own
files under the new key.
"""

import datetime
import json
import re
import secrets
from dataclasses import dataclass, field

from . import synccrypt
from .errors import BadInput, DiaryError, DiskFull, NotFound, PassphraseError  # noqa: F401
from .syncfiles import _NAME, _read, _remove, _remove_stale_temporaries, _write
from .syncfiles import check_folder, listing, turn  # noqa: F401 (callers' names)
from .synckeys import KEYS, MAX_STATE, FolderPassphrase  # noqa: F401 (callers' names)
from .synckeys import _keyring, _keys, _load, _looks_like_keyfile, _save, _skip

STATE = "sync-state"
_DEVICE = re.compile(r"\A[0-9A-Za-z_-]{1,64}\Z")
_STAMP = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
COMPACT_FLOOR = 256 << 10  # bytes of change files below which compaction never runs


@dataclass
class Report:
    read: int = 0  # files read and applied
    written: int = 0  # bytes written into the folder
    files_written: int = 0
    removed: int = 0
    snapshot: bool = False
    applied: dict = field(default_factory=dict)  # summed counters of replica.apply's reports
    warnings: list = field(default_factory=list)
    needs_passphrase: bool = False  # some files are under a key epoch we cannot open
    new_device: bool = False  # this diary was a copy and took a new device id
    new_epoch: bool = False  # the passphrase changed here: a new key epoch started
    learned_epoch: bool = False  # a newer epoch from elsewhere was unwrapped


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the sync -------------------------------------------------------------------

def _new_tag():
    return secrets.token_hex(8)


def _passphrase(diary):
    from .store import key_only

    passphrase = getattr(diary.db, "_passphrase", None)
    if not isinstance(passphrase, str) or not passphrase or key_only(diary):
        # A raw key (the agent's) is no passphrase: sealed under its text, a
        # key file would open on no other device.
        raise PassphraseError("sync needs the diary's passphrase, not only its key (the "
                              "agent's): pass it to sync")
    return passphrase


def sync(diary, folder, passphrase=None, *, folder_passphrase=None, replica=None,
         progress=None):
    """Read the other replicas' new files, apply them, write this replica's
    changes; a Report. ``folder_passphrase``: the passphrase of a key file made
    elsewhere, when it is not this diary's (asked once after a change)."""
    replica = replica or _replica()
    folder = check_folder(folder)
    passphrase = passphrase or _passphrase(diary)
    if diary.read_only:
        from .errors import ReadOnly

        raise ReadOnly()
    with diary.bound(), turn(folder) as alone:
        return _sync(diary, folder, passphrase, folder_passphrase, replica, progress, alone)


def _sync(diary, folder, passphrase, folder_passphrase, replica, progress, alone):
    report = Report()
    state = _load(diary, STATE) or {}
    if "tag" not in state:
        state.update(tag=_new_tag(), seq=0, mark=None, peers={}, covered=0)
    state["device"] = replica.device_id(diary)
    _remove_stale_temporaries(folder, state["tag"], alone)
    files = listing(folder)
    _detect_copy(diary, replica, state, files, folder, report)
    epoch, keyring = _keys(diary, folder, files, passphrase, folder_passphrase, state, report)
    files = listing(folder)
    # A diary that never held anything joins: all its first snapshot holds came
    # from the folder, so a reader that has what it covers needs none of it.
    state["was_empty"] = state["mark"] is None and getattr(replica, "mark", None) is not None \
        and replica.mark(diary) == 0
    _read_others(diary, folder, replica, state, files, keyring, report, progress)
    if state.pop("overtaken", False):
        # Someone's snapshot covers numbers under our tag that we never wrote:
        # a copy of this diary wrote them (and may have removed them since).
        # Readers have passed those numbers: a file of ours under them would
        # never be read. A new tag, now, before writing.
        _become_new(diary, replica, state, report)
    _write_changes(diary, folder, replica, state, files, epoch, keyring, report)
    state.pop("rewrite", None)
    state.pop("was_empty", None)
    state["synced_at"] = _now()
    _save(diary, STATE, state)
    return report


def _replica():
    from . import replica

    return replica


def _detect_copy(diary, replica, state, files, folder, report):
    """A copied diary file keeps its source's tag and device id: a file under
    our tag that we did not write (a later sequence number, or a sync tool's
    copy of one written twice) means another replica writes as us. Not proof:
    the file a sync of ours wrote just before it was stopped (Ctrl-C, a kill)
    without saving its state (``pending`` names it: it is adopted), nor a file
    that does not open (anyone who can write the folder can drop one)."""
    pending = state.pop("pending", None)
    keyring = _keyring(_load(diary, KEYS))
    copy = state.pop("clash", False)
    for f in files:
        if f.tag != state["tag"] or f.ext != "dsync" or not (f.seq > state["seq"] or f.copy):
            continue
        if pending and not f.copy and f.name == pending.get("name") and (
                _digest(_read_quietly(folder, f)) == pending.get("sha")):
            state["seq"], state["mark"] = f.seq, pending.get("mark")
            if pending.get("snapshot"):
                state["snapshot_seq"] = f.seq
                state["covered"] = max(state.get("covered", 0), f.seq - 1)
            continue
        try:
            _open_file(folder, f, keyring, state)
        except synccrypt.UnknownKey:
            pass  # sealed under a key we do not hold: not ours
        except synccrypt.Unreadable as exc:
            _skip(report, f, str(exc))
            if not f.copy:  # its name is taken: our next file takes the next one
                state["seq"] = max(state["seq"], f.seq)
            continue
        copy = True
    if copy:
        _become_new(diary, replica, state, report)


def _digest(data):
    import hashlib

    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_quietly(folder, f):
    try:
        return _read(folder, f)
    except synccrypt.Unreadable:
        return None


def _become_new(diary, replica, state, report):
    _leave_tag(state, replica.new_device_id(diary), report)


def _leave_tag(state, device, report):
    """Write under a new tag as ``device`` from now on; the old tag is a
    peer's (the other copy's) and read as such."""
    old = state["tag"]
    state["peers"][old] = {"through": 0, "extra": {}, "device": state.get("device"),
                           "last": ""}
    state.update(tag=_new_tag(), seq=0, covered=0, device=device, rewrite=True)
    state.pop("snapshot_seq", None)
    report.new_device = True
    report.warnings.append("this diary is a copy of another replica: it takes a new device "
                           "id and writes its own files from now on")


def _read_others(diary, folder, replica, state, files, keyring, report, progress):
    peers = state["peers"]
    todo = []
    for f in files:
        if f.ext != "dsync" or f.tag == state["tag"]:
            continue
        peer = peers.setdefault(f.tag, {"through": 0, "extra": {}, "device": None, "last": ""})
        if f.copy:
            if peer["extra"].get(f.name) == f.size:
                continue
        elif f.seq <= peer["through"] or f.canonical in peer["extra"]:
            continue
        todo.append(f)
    todo.sort(key=lambda f: (f.tag, f.seq, f.copy))
    for f in todo:
        try:
            payload = _open_file(folder, f, keyring, state)
        except synccrypt.UnknownKey as exc:
            report.needs_passphrase = True
            _skip(report, f, str(exc))
            continue
        except synccrypt.Unreadable as exc:
            _skip(report, f, str(exc))
            continue
        peer = peers[f.tag]
        if payload.get("device") == state.get("device"):
            # another tag writes with our device id: one of the two is a copy
            state["clash"] = True
        records = payload.get("records") or []
        covers = payload.get("covers") if payload.get("kind") == "snapshot" else None
        if covers is not None and _holds(peers, state, f, covers):
            # We hold all it covers already: only what changed there since its
            # writer's previous file is new here.
            records = [records[i] for i in payload.get("fresh", ())
                       if isinstance(i, int) and 0 <= i < len(records)]
        if records:
            try:
                # progress: the records of each file (only a snapshot takes long)
                _count(report.applied, replica.apply(diary, records, progress=progress)
                       if progress else replica.apply(diary, records))
            except BadInput as exc:  # nothing of it was applied: said at every sync
                _skip(report, f, "refused: %s" % exc)
                continue
        report.read += 1
        for t, n in (covers or {}).items():
            if t == state["tag"]:
                state["covered"] = max(state.get("covered", 0), n)
                if n > state["seq"]:
                    state["overtaken"] = True
            else:
                p = peers.setdefault(t, {"through": 0, "extra": {}, "device": None, "last": ""})
                p["through"] = max(p["through"], n)
        if f.copy:
            peer["extra"][f.name] = f.size
        else:
            peer["extra"][f.canonical] = f.size
        peer["device"] = payload.get("device") or peer["device"]
        peer["last"] = max(peer.get("last") or "", payload.get("written_at") or "")
        _advance(peer, f.tag)


def _holds(peers, state, f, covers):
    """Whether everything a snapshot covers was applied here already (its own
    tag up to the file before it)."""
    for t, n in covers.items():
        if t == state["tag"]:
            if n > state["seq"]:  # files under our tag we never wrote (a copy's)
                return False
            continue
        if peers.get(t, {}).get("through", 0) < (n - 1 if t == f.tag else n):
            return False
    return True


def _advance(peer, tag):
    extra = peer["extra"]
    while True:
        nxt = "%s.%08d.dsync" % (tag, peer["through"] + 1)
        if nxt not in extra:
            break
        del extra[nxt]
        peer["through"] += 1
    for name in [n for n in extra if _NAME.match(n) and not _NAME.match(n).group("copy")
                 and int(_NAME.match(n).group("seq")) <= peer["through"]]:
        del extra[name]


def _open_file(folder, f, keyring, state):
    epoch, payload = synccrypt.open_data(keyring, f.canonical, _read(folder, f))
    if payload.get("tag") != f.tag or payload.get("seq") != f.seq:
        raise synccrypt.Unreadable("renamed or swapped (its contents name another file)")
    if payload.get("kind") not in ("changes", "snapshot") or not isinstance(
            payload.get("records", []), list):
        raise synccrypt.Unreadable("damaged (not a change file)")
    # shown by `sync --status`: only the forms we write
    if not (payload.get("device") is None or (isinstance(payload.get("device"), str)
                                              and _DEVICE.match(payload["device"]))):
        raise synccrypt.Unreadable("damaged (an impossible device id)")
    if not (isinstance(payload.get("written_at"), str) and _STAMP.match(payload["written_at"])):
        raise synccrypt.Unreadable("damaged (an impossible time)")
    covers = payload.get("covers")
    if covers is not None and not (isinstance(covers, dict) and all(
            isinstance(t, str) and isinstance(n, int) for t, n in covers.items())):
        raise synccrypt.Unreadable("damaged (impossible coverage)")
    fresh = payload.get("fresh", [])
    if not (isinstance(fresh, list) and all(
            isinstance(i, int) and not isinstance(i, bool) for i in fresh)):
        raise synccrypt.Unreadable("damaged (an impossible list of fresh records)")
    return payload


def _count(totals, result):
    values = result if isinstance(result, dict) else getattr(result, "__dict__", {})
    for k, v in values.items():
        if isinstance(v, int) and not isinstance(v, bool):
            totals[k] = totals.get(k, 0) + v


def _write_changes(diary, folder, replica, state, files, epoch, keyring, report):
    tag = state["tag"]
    mine = [f for f in files if f.tag == tag and f.ext == "dsync" and not f.copy]
    since_snapshot = [f for f in mine if f.seq > state.get("snapshot_seq", 0)]
    rest = sum(f.size for f in files) - sum(f.size for f in since_snapshot)
    grown = sum(f.size for f in since_snapshot)
    snapshot = (state["mark"] is None or state.get("rewrite")
                or grown > max(COMPACT_FLOOR, rest // 4))
    fresh = None
    if snapshot:
        # everything first, then what is fresh: a write by another process in
        # between is then at most in ``fresh`` (not in the snapshot), and after
        # ``mark``, so the next change file carries it
        records, mark = replica.changes(diary)
        if state.get("was_empty"):
            # only what was written here meanwhile (another process): a version
            # that counts this device
            fresh = [r for r in records if isinstance(r.get("vv"), dict)
                     and state["device"] in r["vv"]]
        elif state["mark"] is not None and not state.get("rewrite"):
            fresh = replica.changes(diary, state["mark"])[0]
    else:
        records, mark = replica.changes(diary, state["mark"])
    if not records and not snapshot:
        _remove_covered(folder, state, mine, report)
        return
    if not records and state["mark"] is None and not mine and not state.get("rewrite"):
        state["mark"] = mark  # an empty diary: nothing to say yet
        return
    name = "%s.%08d.dsync" % (tag, state["seq"] + 1)
    payload = {"kind": "snapshot" if snapshot else "changes", "tag": tag, "seq": state["seq"] + 1,
               "device": state.get("device"), "written_at": _now(), "records": records}
    if snapshot:
        covers = {t: p["through"] for t, p in state["peers"].items() if p["through"]}
        covers[tag] = state["seq"]
        payload["covers"] = covers
        if fresh is not None:
            wanted = {_key(r) for r in fresh}
            payload["fresh"] = [i for i, r in enumerate(records) if _key(r) in wanted]
        else:
            payload["fresh"] = list(range(len(records)))
    data = synccrypt.seal(keyring[epoch], epoch, name, payload)
    # Remembered before the rename: a sync stopped between the rename and the
    # save of its state finds this file its own next time (_detect_copy).
    state["pending"] = {"name": name, "sha": _digest(data), "mark": mark,
                        "snapshot": snapshot}
    _save(diary, STATE, state)
    report.written += _write(folder, name, data)
    state.pop("pending")
    report.files_written += 1
    state["seq"] += 1
    state["mark"] = mark
    if snapshot:
        report.snapshot = True
        state["snapshot_seq"] = state["seq"]
        state["covered"] = max(state.get("covered", 0), state["seq"] - 1)
    _remove_covered(folder, state, mine, report)


def _key(record):
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def _remove_covered(folder, state, mine, report):
    """Our files that a snapshot holds (ours or another's) are no longer needed."""
    covered = state.get("covered", 0)
    for f in mine:
        if f.seq <= covered:
            report.removed += _remove(folder, f.name)


# -- status -------------------------------------------------------------------

def status(diary, folder):
    """What this replica knows of the folder: [dict] of one row per replica
    (this one first): tag, device id, when it last wrote, its files, bytes."""
    folder = check_folder(folder)
    with diary.bound():
        state = _load(diary, STATE) or {}
        keys = _load(diary, KEYS) or {}
    files = listing(folder)
    rows = []
    tags = sorted({f.tag for f in files if f.ext == "dsync"} | set(state.get("peers", {})))
    me = state.get("tag")
    for tag in ([me] if me else []) + [t for t in tags if t != me]:
        own = [f for f in files if f.tag == tag]
        peer = state.get("peers", {}).get(tag, {})
        newest_key = max([f.seq for f in own if f.ext == "dkey" and not f.copy
                          and _looks_like_keyfile(folder, f, Report())], default=None)
        rows.append({
            "replica": tag, "this": tag == me,
            "device": state.get("device") if tag == me else peer.get("device"),
            "last_synced": state.get("synced_at") if tag == me else (peer.get("last") or None),
            "files": len([f for f in own if f.ext == "dsync"]),
            "bytes": sum(f.size for f in own),
            "read_through": None if tag == me else peer.get("through", 0),
            "unread": 0 if tag == me else len([
                f for f in own if f.ext == "dsync" and f.seq > peer.get("through", 0)
                and f.canonical not in peer.get("extra", {})
                and f.name not in peer.get("extra", {})]),
            "key_epoch": newest_key,
            "needs_passphrase": bool(newest_key and newest_key > int(keys.get("epoch", 0))),
        })
    return rows

