"""Databases the diary reads but does not trust: a merge source, a peewee
diary being imported, a backup being verified.

Such a file may have been made by anyone: its ``entry`` may be a view that
never ends (a recursive CTE), which would hang the reader, and SQLite does
not look at Python's Ctrl-C while a statement runs. So every connection to
one gets a ``Watchdog``: a progress handler that stops the running statement
on Ctrl-C (re-raised as KeyboardInterrupt, exit 130) or when a statement runs
``STALL_LIMIT`` seconds without delivering a row (a BadInput, exit 1). The
tables read must be tables (``require_tables``), not views.
"""

import time

import sqlcipher3

from .errors import BadInput

STALL_LIMIT = 60  # seconds a statement may run on a foreign file without giving a row
STEPS = 10000  # SQLite VM instructions between two looks at the clock (~1 ms)


class Watchdog:
    """The progress handler of one foreign connection; run its statements
    through ``execute`` so that a stop is reported as what it was."""

    def __init__(self, conn, name, limit=None):
        self.conn, self.name = conn, name
        self.limit = STALL_LIMIT if limit is None else limit
        self.deadline = None
        self.why = None
        conn.set_progress_handler(self, STEPS)

    def __call__(self):
        try:
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.why = "time"
                return 1
            return 0
        except KeyboardInterrupt:  # SQLite would swallow it: keep it, stop the statement
            self.why = "interrupt"
            return 1

    def arm(self):
        self.deadline = time.monotonic() + self.limit

    def execute(self, sql, params=()):
        """The rows of ``sql``, each fetched under the watchdog."""
        self.arm()
        try:
            cursor = self.conn.execute(sql, params)
        except sqlcipher3.OperationalError as exc:
            raise self.stopped(exc) from None
        return self._rows(cursor)

    def _rows(self, cursor):
        while True:
            self.arm()
            try:
                row = cursor.fetchone()
            except sqlcipher3.OperationalError as exc:
                raise self.stopped(exc) from None
            if row is None:
                return
            yield row

    def stopped(self, exc):
        """The error to raise for ``exc``: KeyboardInterrupt, the stall, or ``exc``."""
        why, self.why = self.why, None
        if why == "interrupt" or (why is None and "interrupted" in str(exc)):
            return KeyboardInterrupt()
        if why == "time":
            return BadInput("reading %s stopped: a query ran %d s without giving a row "
                            "(is its entry table a view that never ends?)"
                            % (self.name, self.limit))
        return exc


def require_tables(conn, names, path):
    """Refuse ``path`` unless each of ``names`` is a table (a view may never end)."""
    found = dict(conn.execute(
        "SELECT lower(name), type FROM sqlite_master WHERE lower(name) IN (%s)"
        % ",".join("?" * len(names)), tuple(names)).fetchall())
    for name in names:
        if found.get(name, "table") != "table":
            raise BadInput("%s is not a diary one can read: its %s is a %s, not a table"
                           % (path, name, found[name]))
