"""Authorizer policies: what SQL may do inside a session.

A read-only session must not change, copy out or weaken the diary, whatever
SQL runs in it (``diary query`` runs the user's own). SQLite asks an
authorizer about every action while it compiles a statement, including the
statements FTS5 and pragma table-valued functions prepare internally, so a
policy here sees everything a statement could do before any of it runs::

    store.open_diary(path, passphrase, read_only=True,
                     authorizer=access.read_only_authorizer)

The policy is an ALLOW-list and fails closed: an action, function or pragma
not named below is denied, and so is anything the callback cannot judge
(an exception inside it denies). A deny-list leaked here before: ``PRAGMA
rekey``, ``ATTACH ... KEY ''`` + ``sqlcipher_export()`` (a plaintext copy),
``VACUUM INTO`` and a ``CREATE TEMP VIEW`` shadowing a real table all got
through. A function the product registers itself (peewee's date_part...) and
uses in a read-only session must be added to FUNCTIONS.

SQLite only reports "not authorized"; the last action refused in this
thread is kept so that the error can name it (``take_denial``).
"""

import threading

import sqlcipher3 as _sq

OK = _sq.SQLITE_OK
DENY = _sq.SQLITE_DENY

# Pragmas that only report a value; allowed without an argument only, since
# with one most of them set the value (user_version = 7, journal_mode = off...).
READ_PRAGMAS = frozenset("""
    application_id user_version schema_version data_version
    page_count page_size freelist_count encoding foreign_keys journal_mode query_only
    compile_options collation_list function_list module_list pragma_list database_list
    integrity_check quick_check foreign_key_check table_list
    cipher_version cipher_integrity_check
""".split())

# Pragmas whose argument is only ever a table or index name (or a row limit
# for the integrity checks): they read, whatever the argument.
NAME_PRAGMAS = frozenset("""
    table_info table_xinfo index_list index_info index_xinfo foreign_key_list
    foreign_key_check table_list integrity_check quick_check
""".split())

# Pure functions: core scalars, dates, aggregates, window functions, JSON,
# math (when compiled in), FTS5's auxiliary functions and MATCH, and the ones
# peewee registers on every connection. Not here, so denied: load_extension,
# sqlcipher_export, fts3_tokenizer, fts5 (a pointer API), sqlite_log,
# rtree*, the fts3/4 helpers, and any function nobody thought about.
FUNCTIONS = frozenset("""
    abs changes char coalesce concat concat_ws format glob hex if ifnull iif instr
    last_insert_rowid length like likelihood likely lower ltrim max min nullif
    octet_length printf quote random randomblob replace round rtrim sign soundex
    sqlite_source_id sqlite_version sqlite_compileoption_get sqlite_compileoption_used
    substr substring total_changes trim typeof unhex unicode unistr unistr_quote
    unlikely upper zeroblob

    date time datetime julianday unixepoch strftime timediff
    current_date current_time current_timestamp

    avg count group_concat string_agg sum total median percentile percentile_cont
    percentile_disc

    row_number rank dense_rank percent_rank cume_dist ntile lag lead
    first_value last_value nth_value

    json jsonb json_array jsonb_array json_array_length json_error_position
    json_extract jsonb_extract json_insert jsonb_insert json_array_insert
    jsonb_array_insert json_object jsonb_object json_patch jsonb_patch json_pretty
    json_quote json_remove jsonb_remove json_replace jsonb_replace json_set jsonb_set
    json_type json_valid json_group_array jsonb_group_array json_group_object
    jsonb_group_object -> ->>

    acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor
    ln log log10 log2 mod pi pow power radians sin sinh sqrt tan tanh trunc

    match snippet highlight bm25

    date_part date_trunc
""".split())

# Only the diary's own schemas: ATTACH is denied, so nothing else can exist.
# SQLite leaves the schema out (None) for a bare `SELECT 1 FROM entry`.
_SCHEMAS = frozenset({None, "main", "temp"})

_TRANSACTIONS = frozenset({"BEGIN", "COMMIT", "ROLLBACK"})
_SAVEPOINTS = frozenset({"BEGIN", "RELEASE", "ROLLBACK"})

_ACTION_NAMES = {getattr(_sq, name): name[len("SQLITE_"):].replace("_", " ")
                 for name in dir(_sq)
                 if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_")) or name in (
                     "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_DETACH", "SQLITE_SELECT",
                     "SQLITE_TRANSACTION", "SQLITE_SAVEPOINT", "SQLITE_RECURSIVE")}
_WRITES = frozenset({_sq.SQLITE_INSERT, _sq.SQLITE_UPDATE, _sq.SQLITE_DELETE})
_SCHEMA_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_temp_master",
                  "sqlite_temp_schema"}


def _allowed(action, arg1, arg2, dbname):
    if action == _sq.SQLITE_READ:
        return dbname in _SCHEMAS
    if action == _sq.SQLITE_SELECT or action == _sq.SQLITE_RECURSIVE:
        return True
    if action == _sq.SQLITE_FUNCTION:
        return isinstance(arg2, str) and arg2.lower() in FUNCTIONS
    if action == _sq.SQLITE_PRAGMA:
        if dbname not in _SCHEMAS or not isinstance(arg1, str):
            return False
        name = arg1.lower()
        return name in NAME_PRAGMAS or (arg2 is None and name in READ_PRAGMAS)
    if action == _sq.SQLITE_TRANSACTION:
        return arg1 in _TRANSACTIONS
    if action == _sq.SQLITE_SAVEPOINT:
        return arg1 in _SAVEPOINTS
    return False


def read_only_authorizer(action, arg1, arg2, dbname, source):
    """SQLite authorizer for read-only sessions: OK for reads, DENY for the rest."""
    try:
        if _allowed(action, arg1, arg2, dbname):
            return OK
    except Exception:
        pass  # fail closed
    try:
        _remember(describe(action, arg1, arg2, dbname))
    except Exception:
        pass
    return DENY


# --- naming what was refused ---------------------------------------------------

_state = threading.local()


def _remember(what):
    # The last refusal, not the first: one nobody asked about must not be
    # blamed for a later statement, and the last belongs to the statement
    # that just failed (SQLite mostly stops at the first; ANALYZE goes on).
    _state.denied = what


def take_denial():
    """The last action refused in this thread since the last call, or None."""
    what = getattr(_state, "denied", None)
    _state.denied = None
    return what


def _name(value, limit=60):
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(action, arg1, arg2, dbname=None):
    """A short name for a refused action. Never a pragma's value: it may be a key."""
    if action == _sq.SQLITE_PRAGMA:
        return "PRAGMA %s" % _name(arg1)
    if action == _sq.SQLITE_FUNCTION:
        return "function %s" % _name(arg2)
    if action in _WRITES:
        if arg1 in _SCHEMA_TABLES and (dbname == "temp" or "temp" in arg1):
            return "a temporary table, view, index or trigger (CREATE TEMP)"
        if arg1 in _SCHEMA_TABLES:
            return "a schema change (CREATE, DROP or ALTER)"
        return "write to table %s" % _name(arg1)
    if action == _sq.SQLITE_ATTACH:
        return "ATTACH (also used by VACUUM)"
    if action == _sq.SQLITE_ALTER_TABLE:
        return "ALTER TABLE %s" % _name(arg2)
    if action == _sq.SQLITE_READ:
        return "read of table %s in database %s" % (_name(arg1), _name(dbname))
    what = _ACTION_NAMES.get(action, "action %s" % action)
    return "%s %s" % (what, _name(arg1)) if arg1 else what
