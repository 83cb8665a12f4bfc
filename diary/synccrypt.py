"""The sealed files of a sync folder: everything in it is AES-256-GCM
(``cryptography``), authenticated together with the file's canonical name, so
that a changed byte, a truncated file, a renamed file or two swapped files all
fail to open.

Two kinds of file, each a clear header and one sealed body:

    data file  <tag>.<seq>.dsync   a device's changes, or its snapshot
    key file   <tag>.<epoch>.dkey  the folder's keyring, wrapped under a passphrase

    header = MAGIC (4) | format (1) | kind (1) | epoch (4, big-endian) | nonce (12)
    key file header is followed by salt (16) | iterations (4), then the body

A data file is sealed with the sync key of its epoch, which every replica keeps
inside its own encrypted diary (the memo table): reading and writing data files
costs no key derivation. Only a key file costs one: PBKDF2-HMAC-SHA512 (the
iteration count of the diary itself) of a passphrase and that file's salt. The
header shows the epoch (a number that grows by one at each passphrase change)
and nothing else; names show an opaque random tag per device and a sequence
number. The body is zlib-compressed JSON, so sizes show roughly how much changed.

    body = seal(key, epoch, DATA, name, {"kind": ..., ...})
    epoch, payload = open_data(keyring, name, body)
"""

import hashlib
import json
import os
import struct
import zlib

from .errors import DiaryError

MAGIC = b"DSYN"
FORMAT = 1  # key files
# Data files: 2 since a record may hold several heads of one entry (its
# concurrent versions); an older diary would take them for one version edited
# twice, so it must see "newer version" instead. Format 1 is still read: its
# records are the one-head case.
DATA_FORMAT = 2
DATA, KEYRING = 1, 2
NONCE = 12
SALT = 16
_HEAD = struct.Struct(">4sBBI12s")
_KDF = struct.Struct(">16sI")
MAX_FILE = 1 << 30  # a snapshot of a very large diary; past this it is not ours
MAX_PLAIN = 1 << 30  # unpacked: a snapshot of 100,000 long entries is ~100 MB


class Unreadable(DiaryError):
    """A folder file that cannot be opened; the message says why (no path:
    the caller names the file)."""


class UnknownKey(Unreadable):
    """Sealed under an epoch's key this replica does not hold (yet)."""

    def __init__(self, epoch):
        super().__init__("written under a passphrase this diary does not know (key %d)" % epoch)
        self.epoch = epoch


def _aead(key):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when syncing

    return AESGCM(key)


def new_key():
    return os.urandom(32)


def derive(passphrase, salt, iterations):
    """The key that wraps a keyring: one PBKDF2 run (the costly step)."""
    return hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, iterations, 32)


def _pack(payload):
    plain = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(plain) > MAX_PLAIN:  # every reader would refuse it as damaged, at every sync
        raise DiaryError("too large to sync: %d MB of changes in one file, over the %d MB a "
                         "sync file holds; nothing was written"
                         % (len(plain) >> 20, MAX_PLAIN >> 20))
    return zlib.compress(plain, 6)


def _unpack(blob):
    try:
        d = zlib.decompressobj()
        plain = d.decompress(blob, MAX_PLAIN)
        if d.unconsumed_tail or not d.eof:
            raise Unreadable("damaged (its contents do not unpack)")
        payload = json.loads(plain.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError, RecursionError):
        raise Unreadable("damaged (its contents do not unpack)") from None
    if not isinstance(payload, dict):
        raise Unreadable("damaged (not a sync file's contents)")
    return payload


def seal(key, epoch, name, payload):
    """The bytes of data file ``name`` holding ``payload`` (a JSON-able dict)."""
    nonce = os.urandom(NONCE)
    head = _HEAD.pack(MAGIC, DATA_FORMAT, DATA, epoch, nonce)
    return head + _aead(key).encrypt(nonce, _pack(payload), head + name.encode("ascii"))


def seal_keyring(passphrase, iterations, epoch, name, keyring):
    """The bytes of key file ``name`` wrapping ``keyring`` ({epoch: key})."""
    nonce, salt = os.urandom(NONCE), os.urandom(SALT)
    head = _HEAD.pack(MAGIC, FORMAT, KEYRING, epoch, nonce) + _KDF.pack(salt, iterations)
    body = {"keys": {str(e): k.hex() for e, k in keyring.items()}}
    wrap = derive(passphrase, salt, iterations)
    return head + _aead(wrap).encrypt(nonce, _pack(body), head + name.encode("ascii"))


def header(blob, kind):
    """(epoch, nonce, header length) of a file's bytes; Unreadable when it is not
    one of ours, from a newer format, or of the other kind."""
    if len(blob) < _HEAD.size + 16:
        raise Unreadable("truncated or not a sync file")
    magic, fmt, got, epoch, nonce = _HEAD.unpack_from(blob)
    if magic != MAGIC:
        raise Unreadable("not a sync file")
    if fmt > (DATA_FORMAT if kind == DATA else FORMAT):
        raise Unreadable("from a newer version of diary (format %d); upgrade to read it" % fmt)
    if fmt < 1 or got != kind:
        raise Unreadable("damaged (unknown kind of file)")
    return epoch, nonce, _HEAD.size


def open_data(keyring, name, blob):
    """(epoch, payload) of data file ``name``."""
    epoch, nonce, size = header(blob, DATA)
    key = keyring.get(epoch)
    if key is None:
        raise UnknownKey(epoch)
    return epoch, _unpack(_open(key, nonce, blob[size:], blob[:size] + name.encode("ascii")))


def open_keyring(passphrase, name, blob):
    """(epoch, {epoch: key}) of key file ``name``; Unreadable with another passphrase."""
    epoch, nonce, size = header(blob, KEYRING)
    if len(blob) < size + _KDF.size + 16:
        raise Unreadable("truncated")
    salt, iterations = _KDF.unpack_from(blob, size)
    if not 1 <= iterations <= 10_000_000:
        raise Unreadable("damaged (impossible key derivation settings)")
    head = blob[:size + _KDF.size]
    wrap = derive(passphrase, salt, iterations)
    body = _unpack(_open(wrap, nonce, blob[len(head):], head + name.encode("ascii"),
                         "another passphrase, or damaged"))
    try:
        keys = {int(e): bytes.fromhex(k) for e, k in body["keys"].items()}
    except (KeyError, AttributeError, TypeError, ValueError):
        raise Unreadable("damaged (no keyring inside)") from None
    if epoch not in keys or any(len(k) != 32 for k in keys.values()):
        raise Unreadable("damaged (no key for its own epoch)")
    return epoch, keys


def _open(key, nonce, sealed, aad,
          why="another passphrase, or damaged, truncated or changed since it was written"):
    from cryptography.exceptions import InvalidTag

    try:
        return _aead(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise Unreadable(why) from None


def fingerprint(key, passphrase):
    """A check, kept inside the diary, that tells whether the diary's passphrase
    changed since the sync key was made (keyed by the sync key: no KDF run)."""
    import hmac

    return hmac.new(key, b"diary-sync-passphrase\0" + passphrase.encode("utf-8"),
                    hashlib.sha256).hexdigest()
