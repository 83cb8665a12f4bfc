"""A diary's raw key: what SQLCipher derives from the passphrase, kept so that
a later open skips the derivation (the agent, agent.py, serves it).

    salt = raw_key.salt_of(path)                     # the file's first 16 bytes
    key = raw_key.derive(passphrase, salt, kdf_iter)  # 48 bytes: key + salt
    raw_key.literal(key)                             # "x'<64 hex><32 hex>'"

SQLCipher 4's defaults: PBKDF2-HMAC-SHA512 over the passphrase with the
file's 16-byte salt, 32 bytes out, the file's kdf_iter (256,000 unless a test
lowered store.KDF_ITER). Keying a connection with ``x'<key><salt>'`` (the text
of PRAGMA key, quoted) uses it as is. A raw key lives only in memory: never
on disk, in argv, the environment or logs.
"""

import hashlib
import os

from .errors import DiaryError

SALT_SIZE = 16
KEY_SIZE = 32
RAW_SIZE = KEY_SIZE + SALT_SIZE
DEFAULT_KDF_ITER = 256_000  # SQLCipher 4's default


def kdf_iter():
    """The kdf_iter the diary's files are keyed with (store.KDF_ITER: tests only)."""
    from . import store

    return store.KDF_ITER or DEFAULT_KDF_ITER


def salt_of(path):
    """The salt SQLCipher keeps in the first 16 bytes of the file. A regular
    file only: opened without blocking (a FIFO would hang), checked on the
    descriptor."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise DiaryError("%s is not a regular file, so not a diary file" % path)
            salt = os.read(fd, SALT_SIZE)
        finally:
            os.close(fd)
    except OSError as exc:
        raise DiaryError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    if len(salt) != SALT_SIZE:
        raise DiaryError("%s is too short to be a diary file" % path)
    return salt


def derive(passphrase, salt, iterations=None):
    """The 48 bytes of the raw key (a bytearray, for the caller to wipe)."""
    key = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), bytes(salt),
                              iterations or kdf_iter(), KEY_SIZE)
    return bytearray(key + bytes(salt))


def literal(raw):
    """The key text SQLCipher reads as a raw key: x'<96 hex digits>'."""
    if len(raw) != RAW_SIZE:
        raise ValueError("a raw key is %d bytes" % RAW_SIZE)
    return "x'%s'" % bytes(raw).hex()


def salt_matches(raw, salt):
    return len(raw) == RAW_SIZE and bytes(raw[KEY_SIZE:]) == bytes(salt)
