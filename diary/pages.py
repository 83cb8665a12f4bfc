"""SQLCipher 4's page format, read in Python: does a passphrase fit a file
whose first page SQLCipher rejects?

SQLCipher answers "file is not a database" both for a wrong passphrase and
for a damaged first page. The two can often be told apart: the salt is the
first 16 bytes of the file, stored in the clear, and every page carries an
HMAC under a key derived from the passphrase and that salt. If a later page
verifies with the passphrase, the passphrase is right and the first page is
damaged. (A damaged salt cannot be told from a wrong passphrase: nothing
then verifies.)

The format, as SQLCipher 4 writes it with its defaults (checked against a
real file in tests/test_errors.py):

    key       = PBKDF2-HMAC-SHA512(passphrase, salt, kdf_iter, 32 bytes)
    hmac key  = PBKDF2-HMAC-SHA512(key, salt XOR 0x3a each byte, 2, 32 bytes)
    page      = 4096 bytes: data, 16-byte IV, 64-byte HMAC (reserve 80)
    HMAC      = HMAC-SHA512(hmac key, data + IV + page number, 4 bytes LE)
    page 1    = the same, its data starting after the 16-byte salt

It costs one key derivation, so it runs only after an unlock has failed.
"""

import hashlib
import hmac
import struct

PAGE_SIZE = 4096
SALT_SIZE = 16
HMAC_SIZE = 64
KDF_ITER = 256_000
FAST_KDF_ITER = 2
SALT_MASK = 0x3A
PAGES_TRIED = 8  # pages after the first: one intact among them is enough


def cipher_key(passphrase, salt, kdf_iter=None):
    """The page cipher key of ``passphrase`` for a file with ``salt``, as a
    bytearray (the caller overwrites it when done)."""
    return bytearray(hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt,
                                         kdf_iter or KDF_ITER, 32))


def hmac_key(passphrase, salt, kdf_iter=None):
    """The page HMAC key of ``passphrase`` for a file with ``salt``, as a
    bytearray (the caller may overwrite it); the cipher key in between is
    overwritten here."""
    key = cipher_key(passphrase, salt, kdf_iter)
    try:
        mask = bytes(b ^ SALT_MASK for b in salt)
        return bytearray(hashlib.pbkdf2_hmac("sha512", bytes(key), mask, FAST_KDF_ITER, 32))
    finally:
        key[:] = bytes(len(key))


def page_verifies(key, page, number):
    """Whether ``page`` (PAGE_SIZE bytes, page ``number`` from 1) carries a
    valid HMAC under ``key``."""
    if len(page) != PAGE_SIZE:
        return False
    start = SALT_SIZE if number == 1 else 0
    body, mac = page[start:PAGE_SIZE - HMAC_SIZE], page[PAGE_SIZE - HMAC_SIZE:]
    expected = hmac.new(bytes(key), body + struct.pack("<I", number), hashlib.sha512).digest()
    return hmac.compare_digest(expected, mac)


def passphrase_fits(path, passphrase, kdf_iter=None):
    """True when some page after the first verifies with ``passphrase``: the
    passphrase is right, so a refused first page is damage. False when none
    does (a wrong passphrase, a damaged salt, not a SQLCipher file), or the
    file cannot be read."""
    try:
        with open(path, "rb") as f:
            salt = f.read(SALT_SIZE)
            f.seek(PAGE_SIZE)
            rest = f.read(PAGE_SIZE * PAGES_TRIED)
    except OSError:
        return False
    if len(salt) < SALT_SIZE or len(rest) < PAGE_SIZE:
        return False
    key = hmac_key(passphrase, salt, kdf_iter)
    try:
        return any(page_verifies(key, rest[i * PAGE_SIZE:(i + 1) * PAGE_SIZE], i + 2)
                   for i in range(len(rest) // PAGE_SIZE))
    finally:
        key[:] = bytes(len(key))
