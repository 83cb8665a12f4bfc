"""``diary query``: one SQL statement of the user's own, in a read-only session.

The SQL is arbitrary, so it only ever runs on a diary opened read-only, whose
every connection carries access.read_only_authorizer: what the statement may
do is decided there, not here. Usage::

    with store.open_diary(path, passphrase, read_only=True) as d:
        result = query.run(d, "SELECT id, title FROM entry ORDER BY id")
        result.columns          # ['id', 'title']
        result.rows             # [(1, 'First'), ...]
        query.to_records(result)  # [{'id': 1, 'title': 'First'}, ...] (for JSON)

The schema a user may query is described in the README (Queries and read-only sessions).
"""

import collections
import math

import sqlcipher3

from . import access, store
from .errors import BadInput, ReadOnly

Result = collections.namedtuple("Result", "columns rows")


def run(diary, sql):
    """Run one statement; return its column names and all its rows.

    Refused actions raise errors.Denied naming them; SQL errors raise BadInput.
    Ctrl-C stops a runaway query (a progress handler lets Python see the signal).
    """
    if not diary.read_only or diary.db.authorizer is not access.read_only_authorizer:
        raise ReadOnly("queries run only in a read-only session")
    if not isinstance(sql, str) or not sql.strip():
        raise BadInput("no SQL statement given")
    if "\x00" in sql:
        raise BadInput("the SQL contains a NUL character")
    conn = diary.db.connection()
    access.take_denial()  # forget anything refused before this statement
    conn.set_progress_handler(lambda: 0, 100_000)
    try:
        cursor = conn.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall()
    except (sqlcipher3.Error, sqlcipher3.Warning) as exc:
        raise _translate(exc) from None
    finally:
        conn.set_progress_handler(None, 0)
    return Result(columns, rows)


def _translate(exc):
    msg = str(exc)
    if "one statement at a time" in msg:
        return BadInput("give one SQL statement at a time")
    if msg == "interrupted":
        return KeyboardInterrupt()
    if "readonly database" in msg:  # PRAGMA query_only, the layer under the authorizer
        return ReadOnly("refused in a read-only session: the statement would write")
    err = store.translate(exc)
    if err is exc:
        return BadInput("SQL error: %s" % msg)
    return err


def _unique(columns):
    """Column names as JSON keys: a repeated name gets a suffix (a, a_2)."""
    keys, taken = [], set()
    for name in columns:
        key, n = name, 1
        while key in taken:
            n += 1
            key = "%s_%d" % (name, n)
        taken.add(key)
        keys.append(key)
    return keys


def json_value(value):
    """A SQLite value as JSON can hold it: blobs as hex text, infinities as text."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def to_records(result):
    """The rows as a list of dicts keyed by column name (the ``--json`` shape)."""
    keys = _unique(result.columns)
    return [{k: json_value(v) for k, v in zip(keys, row)} for row in result.rows]
