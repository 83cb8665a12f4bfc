"""What the diary remembers about itself, kept inside the encrypted file
(schema MIGRATIONS: the ``memo`` table): small texts under a key, e.g.
``editor-warned:code`` once the VS Code warning was shown. Never in a file
under HOME, where it would tell anyone which editor writes this diary.

    if memo.get(d, key) is None:
        ...; memo.put(d, key, "1")
"""

from .store import Entry

MAX_VALUE = 4096


def _db():
    return Entry._meta.database


def get(diary, key):
    """The text under ``key``, or None."""
    row = _db().execute_sql("SELECT value FROM memo WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def put(diary, key, value, *, limit=MAX_VALUE):
    """Remember ``value`` (text) under ``key`` (in its own write transaction),
    cut to ``limit`` characters (a caller storing JSON checks its length
    first: a cut one no longer reads)."""
    value = str(value)[:limit]
    with diary.write():
        _db().execute_sql("INSERT INTO memo (key, value) VALUES (?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
