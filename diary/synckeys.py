"""The keys of a sync folder (syncfolder.py), and what a diary remembers about
the folder inside itself (the memo table: its state, its keyring).

    epoch, keyring = _keys(diary, folder, files, passphrase, folder_passphrase,
                           state, report)

A random key per *epoch* seals the data files; each replica keeps the keyring
in its diary, so reading and writing costs no key derivation. A key file
``<tag>.<epoch>.dkey`` wraps it under the passphrase of the replica that
started the epoch (synccrypt.seal_keyring); a replica derives only to join,
to learn a newer epoch, or to start one after its passphrase changed. Key
files are checked before they count (anyone can drop bytes in the folder),
tried at this diary's own derivation cost first, and one that failed under
this passphrase is not derived again until a passphrase is given for it.
"""

import json

from . import memo, synccrypt
from .errors import DiaryError, PassphraseError
from .raw_key import kdf_iter  # the diary's own cost: a key file costs what the diary does
from .syncfiles import _NAME, _read, _remove, _write

KEYS = "sync-keys"
MAX_STATE = 1 << 20  # characters of what this diary remembers about the folder


class FolderPassphrase(PassphraseError):
    """The folder was set up under a passphrase this diary does not have."""


# -- what this diary remembers about the folder (memo table) --------------------

def _load(diary, key):
    text = memo.get(diary, key)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _save(diary, key, value):
    text = json.dumps(value, separators=(",", ":"))
    if len(text) > MAX_STATE:
        # Copies read (sync tools' conflict names: anyone can make them) are
        # forgotten first, then the peers heard from least recently: both are
        # only read again, which changes nothing.
        for peer in value.get("peers", {}).values():
            extra = peer.get("extra", {})
            for name in [n for n in extra if _NAME.match(n) and _NAME.match(n).group("copy")]:
                del extra[name]
        text = json.dumps(value, separators=(",", ":"))
    if len(text) > MAX_STATE:
        peers = value.get("peers", {})
        for tag in sorted(peers, key=lambda t: peers[t].get("last", ""))[:len(peers) // 2]:
            del peers[tag]
        text = json.dumps(value, separators=(",", ":"))
    if len(text) > MAX_STATE:  # cut short, it would not read back: the state lost
        raise DiaryError("the sync state is too large to keep (%d characters)" % len(text))
    memo.put(diary, key, text, limit=MAX_STATE)


def _keyring(stored):
    return {int(e): bytes.fromhex(k) for e, k in (stored or {}).get("keys", {}).items()}


def _store_keys(diary, epoch, keyring, check):
    _save(diary, KEYS, {"epoch": epoch, "check": check,
                        "keys": {str(e): k.hex() for e, k in keyring.items()}})


def _skip(report, f, why):
    report.warnings.append("skipped %s: %s" % (f.name, why))


# -- keys -------------------------------------------------------------------

def _unwrap(folder, f, passphrase):
    epoch, keys = synccrypt.open_keyring(passphrase, f.canonical, _read(folder, f))
    if epoch != f.seq:
        raise synccrypt.Unreadable("renamed (its name says key %d, it holds key %d)"
                                   % (f.seq, epoch))
    return keys


def _keys(diary, folder, files, passphrase, folder_passphrase, state, report):
    """The keyring to read and write with: (epoch, {epoch: key}). Costs one key
    derivation when a key file must be made or opened, none otherwise."""
    stored = _load(diary, KEYS)
    key_files = sorted((f for f in files if f.ext == "dkey" and not f.copy
                        and _looks_like_keyfile(folder, f, report)), key=lambda f: f.seq)
    newest = key_files[-1].seq if key_files else 0
    offer = folder_passphrase or passphrase
    if stored is None:
        if not key_files:
            keyring, epoch = {1: synccrypt.new_key()}, 1
            _write_keyfile(folder, state, passphrase, epoch, keyring, report)
            _store_keys(diary, epoch, keyring, synccrypt.fingerprint(keyring[1], passphrase))
            return epoch, keyring
        last = None
        # one derivation: every key file of one epoch holds the same keys
        for f in _candidates(folder, key_files, newest)[:1]:
            try:
                keyring = _unwrap(folder, f, offer)
            except synccrypt.Unreadable as exc:
                last = exc
                continue
            _store_keys(diary, newest, keyring,
                        synccrypt.fingerprint(keyring[newest], passphrase))
            return newest, keyring
        raise FolderPassphrase("the sync folder %s was set up under another passphrase (%s); "
                               "give that passphrase once" % (folder, last))
    keyring, epoch = _keyring(stored), int(stored.get("epoch", 1))
    if newest > epoch:
        learned, f, exc = _learn(diary, folder, key_files, newest, stored, keyring[epoch],
                                 passphrase, folder_passphrase)
        if learned is None:
            report.needs_passphrase = True
            report.warnings.append(
                "another replica changed the passphrase (%s: %s): what it writes now cannot be "
                "read here until you give the new passphrase once" % (f.name, exc))
        else:
            keyring.update(learned)
            epoch = newest
            report.learned_epoch = True
            state["rewrite"] = True
            stored["check"] = synccrypt.fingerprint(keyring[epoch], passphrase)
            _store_keys(diary, epoch, keyring, stored["check"])
    if stored.get("check") != synccrypt.fingerprint(keyring[epoch], passphrase):
        # This diary's passphrase changed: a new epoch, sealed under it alone.
        epoch = max(epoch, newest) + 1
        keyring[epoch] = synccrypt.new_key()
        _write_keyfile(folder, state, passphrase, epoch, keyring, report)
        _store_keys(diary, epoch, keyring, synccrypt.fingerprint(keyring[epoch], passphrase))
        report.new_epoch = True
        state["rewrite"] = True
    if state.get("rewrite"):
        # Our key files of older epochs open with an older passphrase: gone.
        for f in key_files:
            if f.tag == state["tag"] and f.seq < epoch:
                report.removed += _remove(folder, f.name)
    return epoch, keyring


def _candidates(folder, key_files, epoch):
    """The key files of ``epoch``, ours (made at this diary's key derivation
    cost) first: a forged one named to sort first is tried last."""
    def cost(f):
        try:
            blob = _read(folder, f)
            return synccrypt._KDF.unpack_from(blob, synccrypt._HEAD.size)[1]
        except (synccrypt.Unreadable, ValueError, OSError):
            return None
    return sorted((f for f in key_files if f.seq == epoch),
                  key=lambda f: (cost(f) != kdf_iter(), f.name))


def _learn(diary, folder, key_files, newest, stored, key, passphrase, folder_passphrase):
    """(keyring or None, the file tried first, why not) of a newer epoch. A
    key file that failed under this very passphrase fails again: it is not
    derived again at every sync (a forged one may ask 10,000,000 rounds)
    until a passphrase is given for it."""
    check = synccrypt.fingerprint(key, passphrase)
    files = _candidates(folder, key_files, newest)
    failed = stored.get("failed") if isinstance(stored.get("failed"), dict) else {}
    failed = {n: v for n, v in failed.items() if n in {f.name for f in files}}
    why = synccrypt.Unreadable("another passphrase, or damaged")
    for f in files[:3]:
        if folder_passphrase is None and failed.get(f.name) == [f.size, check]:
            continue
        try:
            return _unwrap(folder, f, folder_passphrase or passphrase), f, None
        except synccrypt.Unreadable as exc:
            why = exc
            if folder_passphrase is None:
                failed[f.name] = [f.size, check]
    if folder_passphrase is None and failed != stored.get("failed"):
        stored["failed"] = failed
        _save(diary, KEYS, stored)
    return None, files[0], why


def _looks_like_keyfile(folder, f, report):
    """Whether ``f`` has a key file's header. Anyone who can write the folder
    can drop bytes under a key file's name; taken for a newer epoch, they
    locked joiners out and made every replica ask for a passphrase."""
    try:
        blob = _read(folder, f)
        synccrypt.header(blob, synccrypt.KEYRING)
        if len(blob) < synccrypt._HEAD.size + synccrypt._KDF.size + 16:
            raise synccrypt.Unreadable("truncated")
    except synccrypt.Unreadable as exc:
        _skip(report, f, str(exc))
        return False
    return True


def _write_keyfile(folder, state, passphrase, epoch, keyring, report):
    name = "%s.%08d.dkey" % (state["tag"], epoch)
    report.written += _write(folder, name, synccrypt.seal_keyring(
        passphrase, kdf_iter(), epoch, name, keyring))
    report.files_written += 1

