"""Drafts of the built-in editor, kept inside the encrypted diary (table ``draft``).

A draft is what an open editor holds (title, text, tags, date as typed) and,
when it edits an entry, that entry's id and the version it was read at. It is
written at most ``Keeper.LATEST`` seconds after the last change and at a lock,
so that a crash, a SIGKILL or a power cut loses at most those seconds; the
next session offers it back (``orphans``). A saved or discarded entry removes
its draft. Read-only sessions keep none.

The writes run in one worker thread with its own connection (``Writer``): a
keystroke never waits for the disk. That connection gives up on a busy diary
after BUSY_MS and the write is tried again later; the text is in the editor's
memory meanwhile, so nothing is lost::

    writer = drafts.Writer(diary)
    keeper = drafts.Keeper(writer, snapshot=editor.draft, original=start)
    editor buffers' on_text_changed -> keeper.changed()
    await keeper.flush()         # at a lock: True when the diary holds the text
    with diary.write():          # saving: the entry and the draft's removal, together
        ...; drafts.remove(diary, keeper.key)
    await writer.close_connection()   # before the key is dropped

This module never prompts or prints; the asyncio parts need a running loop
(the menu's prompt_toolkit application).
"""

import asyncio
import concurrent.futures
import dataclasses
import os
import socket
import uuid as _uuid

from . import dates
from .errors import DiaryError

BUSY_MS = 200  # how long the draft writer waits for a busy diary before trying later


@dataclasses.dataclass
class Stored:
    """A draft as the diary holds it."""

    key: str
    entry_id: object  # int, or None for a new entry
    entry_version: object
    title: str
    body: str
    tags: str
    date: str
    saved_at: str  # stored form (dates.text)
    owner: str = ""


_COLUMNS = "id, entry_id, entry_version, title, body, tags, date, saved_at, owner"


# --- who keeps a draft -------------------------------------------------------------------

def _read(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _start_time(pid):
    """The process's start time in clock ticks since boot (field 22 of
    /proc/PID/stat), "" where /proc has none: tells a live process from a new
    one that reused its pid."""
    stat = _read("/proc/%d/stat" % pid)
    if not stat:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def owner(pid=None):
    """This process, as a draft's owner: host, boot, pid and start time."""
    pid = os.getpid() if pid is None else pid
    return " ".join([socket.gethostname() or "-",
                     _read("/proc/sys/kernel/random/boot_id") or "-", str(pid),
                     _start_time(pid) or "-"])


def alive(text):
    """Whether the owner ``text`` names a process running now on this machine.
    A draft from another machine is taken as abandoned: this cannot tell."""
    parts = text.split(" ")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, boot, pid, start = parts[0], parts[1], int(parts[2]), parts[3]
    if host != (socket.gethostname() or "-"):
        return False
    if boot != (_read("/proc/sys/kernel/random/boot_id") or "-"):
        return False  # a reboot since (a power cut)
    if start != "-":
        return _start_time(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


# --- the table -------------------------------------------------------------------------------

def new_key():
    return str(_uuid.uuid4())


def save(diary, key, fields, *, entry_id=None, entry_version=None, who=None):
    """Write the draft ``key`` (one small transaction). ``fields``: title, body,
    tags and date as typed (an editor.Draft)."""
    with diary.write():
        diary.db.execute_sql(
            "INSERT INTO draft (%s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET entry_id = excluded.entry_id, "
            "entry_version = excluded.entry_version, title = excluded.title, "
            "body = excluded.body, tags = excluded.tags, date = excluded.date, "
            "saved_at = excluded.saved_at, owner = excluded.owner" % _COLUMNS,
            (key, entry_id, entry_version, fields.title, fields.body, fields.tags,
             fields.date, dates.text(dates.now()), who or owner()))


def remove(diary, key):
    """Forget the draft ``key`` (nothing when there is none)."""
    with diary.write():
        diary.db.execute_sql("DELETE FROM draft WHERE id = ?", (key,))


def claim(diary, key):
    """Make the draft ``key`` this process's (it is being restored here): True,
    or False when it is gone or another live session took it meanwhile (two
    menus on one diary offer the same draft), in one transaction."""
    me = owner()
    with diary.write():
        row = diary.db.execute_sql("SELECT owner FROM draft WHERE id = ?", (key,)).fetchone()
        if row is None or (_as_text(row[0]) != me and alive(_as_text(row[0]))):
            return False
        diary.db.execute_sql("UPDATE draft SET owner = ? WHERE id = ?", (me, key))
    return True


def _as_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _read_row(key, entry_id, version, title, body, tags, date, saved_at, who):
    """A row as the editor wrote it; one another tool wrote is read as text (an
    entry id that is not an integer: a new entry), so it can still be offered."""
    if not isinstance(entry_id, int) or not isinstance(version, int):
        entry_id = version = None
    return Stored(_as_text(key), entry_id, version, *map(_as_text, (title, body, tags, date)),
                  _as_text(saved_at), _as_text(who))


def stored(diary):
    """Every draft in the diary, oldest first."""
    cursor = diary.db.execute_sql("SELECT %s FROM draft ORDER BY saved_at, id" % _COLUMNS)
    return [_read_row(*row) for row in cursor.fetchall()]


def malformed(conn):
    """Keys (shown) of the drafts the editor did not write as they are: for ``diary check``."""
    found = []
    for key, entry_id, version, saved_at, kinds in conn.execute(
            "SELECT id, entry_id, entry_version, saved_at, typeof(id) || typeof(title) || "
            "typeof(body) || typeof(tags) || typeof(date) || typeof(owner) FROM draft"):
        if (kinds != "text" * 6 or not dates.readable(saved_at)
                or (entry_id is None) != (version is None)
                or not isinstance(entry_id if entry_id is not None else 0, int)
                or not isinstance(version if version is not None else 0, int)):
            found.append(dates.shown(_as_text(key)))
    return found


def orphans(diary):
    """The drafts no running session keeps: left by a crash, a kill or a power cut."""
    return [d for d in stored(diary) if not alive(d.owner)]


def count(diary):
    return diary.db.execute_sql("SELECT count(*) FROM draft").fetchone()[0]


# --- writing off the key path ------------------------------------------------------------------

class Writer:
    """One worker thread with its own connection to the diary, for draft writes."""

    def __init__(self, diary):
        self.diary = diary
        self._pool = None

    def submit(self, func, *args, **kw):
        """Run ``func(*args, **kw)`` in the worker; an asyncio future of its result."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="diary-drafts")
        return asyncio.wrap_future(self._pool.submit(self._call, func, args, kw))

    def _call(self, func, args, kw):
        from . import store

        try:
            conn = self.diary.db.connection()  # this thread's own (peewee: per thread)
            conn.execute("PRAGMA busy_timeout = %d" % BUSY_MS)
            return func(*args, **kw)
        except DiaryError:
            raise
        except Exception as exc:
            raise store.translate(exc) from None

    def _close(self):
        if not self.diary.db.is_closed():
            self.diary.db.close()

    async def close_connection(self):
        """Close the worker's connection (before a lock drops the key)."""
        if self._pool is not None:
            await asyncio.wrap_future(self._pool.submit(self._close))

    def shutdown(self):
        """Close the worker's connection and end the thread (the session ends)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                pool.submit(self._close).result()
            except Exception:  # the session ends anyway
                pass
            pool.shutdown(wait=True)


class Keeper:
    """Keeps one editor's text in the diary: ``changed()`` on every change (cheap:
    it only moves a timer), and the draft is written once the text has been
    quiet for QUIET seconds, or LATEST seconds after the first change not yet
    written, whichever comes first. A failed write (busy, full disk, locked)
    is tried again after RETRY seconds. ``snapshot()`` returns the editor's
    fields; when they equal ``original`` the draft is removed instead."""

    QUIET = 1.0
    LATEST = 5.0
    RETRY = 2.0

    def __init__(self, writer, *, snapshot, original, key=None, entry_id=None,
                 entry_version=None, written=None):
        self.writer = writer
        self.diary = writer.diary
        self.snapshot = snapshot
        self.original = original
        self.key = key or new_key()
        self.entry_id = entry_id
        self.entry_version = entry_version
        self.written = written if written is not None else original  # what the diary holds
        self.error = None  # the last write's failure, until one succeeds
        self.writes = 0
        self._who = owner()
        self._first = None  # loop time of the first change not yet written
        self._timer = None
        self._busy = None  # the write under way (asyncio future)
        self._stopped = False
        self.discarded = False  # thrown away by the person: never written again

    # --- the timer (event loop thread) ---

    def changed(self, *_):
        if self._stopped:
            return
        loop = asyncio.get_event_loop()
        now = loop.time()
        if self._first is None:
            self._first = now
        self._arm(min(now + self.QUIET, self._first + self.LATEST))

    def _arm(self, when):
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_event_loop().call_at(when, self._due)

    def _due(self):
        self._timer = None
        if self._stopped:
            return
        if self._busy is not None:  # after the write under way
            self._busy.add_done_callback(lambda _: self._stopped or self._due())
            return
        self._start()

    def _start(self):
        """Start writing what the editor holds now; the future, or None if the diary
        already holds it."""
        fields = self.snapshot()
        self._first = None
        if fields == self.written:
            return None
        if fields == self.original:
            job = self.writer.submit(remove, self.diary, self.key)
        else:
            job = self.writer.submit(save, self.diary, self.key, fields,
                                     entry_id=self.entry_id, entry_version=self.entry_version,
                                     who=self._who)
        self._busy = job

        def done(job):
            self._busy = None
            if job.cancelled():
                return
            exc = job.exception()
            if exc is None:
                self.written, self.error = fields, None
                self.writes += 1
            else:
                self.error = exc
                if not self._stopped:  # the text stays in memory; try again later
                    self._first = self._first or asyncio.get_event_loop().time()
                    self._arm(asyncio.get_event_loop().time() + self.RETRY)
        job.add_done_callback(done)
        return job

    # --- waiting (coroutines of the event loop) ---

    async def _settle(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._busy is not None:
            try:
                await asyncio.shield(self._busy)
            except Exception:
                pass
            await asyncio.sleep(0)  # let its done callback run

    async def flush(self):
        """Write now and wait (a lock): True when the diary holds the editor's text."""
        await self._settle()
        job = self._start()
        if job is not None:
            try:
                await job
            except Exception:
                pass
            await asyncio.sleep(0)
            if self._timer is not None:  # a retry armed by the failure: not while locked
                self._timer.cancel()
                self._timer = None
        return self.snapshot() == self.written

    def retry(self):
        """After an unlock: a draft the lock could not write is tried again soon."""
        if not self._stopped and self.snapshot() != self.written:
            self._arm(asyncio.get_event_loop().time() + self.RETRY)

    def kept(self):
        """Whether the diary holds a draft of this editor (a lock flushed it)."""
        return self.written != self.original and self.written == self.snapshot()

    async def pause(self):
        """Stop writing (the entry is being saved, or thrown away) and wait for a
        write under way; ``resume`` if it goes on."""
        self._stopped = True
        await self._settle()

    def resume(self):
        self._stopped = False
        self.changed()

    def forgotten(self):
        """The diary no longer holds this draft (removed with the entry's save)."""
        self.written = self.original
