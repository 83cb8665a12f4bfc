"""The diary in and out of files: export, import, backup and merge. Usage::

    from diary import exchange
    exchange.export_file(d, "all.json", "json", since=..., tags=["work"])
    exchange.export(d, sys.stdout, "jsonl")                # any text stream
    exchange.export_split(d, "entries/")                   # one Markdown file each
    stats = exchange.import_file(d, "journal.txt")         # format guessed: jrnl
    stats.added, stats.skipped
    exchange.backup(d, "copy.db")                          # verified encrypted copy
    exchange.merge(d, "laptop.db", "its passphrase")       # a replica.Report

    stats = exchange.import_file(d, "journal.txt", "jrnl",   # jrnl's own settings
        options=exchange.ImportOptions(time_format="%d.%m.%Y %H:%M", tag_symbols="@"))
    stats.warnings                                         # lines kept as text, ...

Modules: records (the Record in flight, the export shape, a streaming JSON
array reader), exporter (writers and filters), files (atomic writes), loader
(bulk inserts shared by import and merge), ourjson, ourcsv, jrnl, jrnl_folder,
dayone, markdown and peewee_diary (one per format family), emptiness (a source
with nothing in it, or nothing readable), merger, backups.

The library never prints: long operations report through an optional
``progress(done, total)`` callable (total may be None), and every problem is
an errors.py exception whose message names the line or entry at fault.
"""

import contextlib
import dataclasses
import functools
import itertools
import json
import os
import re

from .. import files, store
from ..errors import BadInput, DiaryError
from ..formats import EXPORT_FORMATS, IMPORT_FORMATS
from . import (dayone, emptiness, jrnl, jrnl_folder, markdown, ourcsv, ourjson,
               peewee_diary)
from .backups import BackupResult, backup
from .exporter import export, export_file, export_split
from .loader import Loader
from .merger import merge

__all__ = ["EXPORT_FORMATS", "IMPORT_FORMATS", "BackupResult", "ImportOptions", "ImportStats",
           "backup", "export", "export_file", "export_split", "guess_format",
           "import_file", "merge", "needs_passphrase"]


@dataclasses.dataclass
class ImportStats:
    added: int = 0
    skipped: int = 0  # already in the diary (or twice in the file)
    links_skipped: int = 0  # symbolic links in a Markdown folder, never followed
    empty_skipped: int = 0  # entries with no title and no text (each warned of)
    empty_source: bool = False  # the source holds no entries at all: not an error
    warnings: list = dataclasses.field(default_factory=list)  # the first MAX_WARNINGS
    warnings_more: int = 0  # warnings past MAX_WARNINGS, counted only

    def warn(self, message):
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.warnings_more += 1


MAX_WARNINGS = 20


@dataclasses.dataclass
class ImportOptions:
    """How to read a source, where its format leaves it open: jrnl's
    ``timeformat`` and ``tagsymbols``; Markdown folders as tag paths."""
    time_format: str = None
    tag_symbols: str = jrnl.TAG_SYMBOLS
    folder_tags: bool = False


_JRNL_HEAD = re.compile(rb"\s*\[\d{4}-\d{1,2}-\d{1,2}")
# A jrnl header in any timeformat: `[` something `] ` at the start of the first line.
_ANY_HEAD = re.compile(rb"\s*\[[^\]\n\[{\"]+\] ")
CSV_HEAD = b"uuid,created_at,updated_at,title,body,tags,starred"
TRIED = "json, jsonl, csv, jrnl, jrnl-json, dayone, peewee-diary"


def guess_format(path):
    """The import format of ``path``, judged from its first bytes (or a folder)."""
    if os.path.isdir(path):
        return "jrnl-folder" if jrnl_folder.looks_like(path) else "markdown"
    if path.lower().endswith((".md", ".markdown")):
        return "markdown"
    try:
        with files.open_regular(path) as f:
            head = f.read(64 * 1024)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise DiaryError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    text = head.lstrip(b"\xef\xbb\xbf")
    if head.startswith(store.SQLITE_HEADER):
        return "peewee-diary"
    if head.startswith(dayone.ZIP_HEADER):
        return "dayone"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(text) - 4:  # not merely a character cut by the 64 KB
            # Not text. An encrypted database looks like random bytes, in
            # whole pages (SQLCipher's are 1024 or 4096 bytes); anything else
            # (a Latin-1 journal, a zip) would only be asked a passphrase.
            if size >= 1024 and size % 1024 == 0:
                return "peewee-diary"
            raise _cannot_tell(path, "it is not UTF-8 text, an SQLite file or a zip")
    if _JRNL_HEAD.match(text):
        return "jrnl"
    if text.startswith(CSV_HEAD):
        return "csv"
    start = text.lstrip()[:1]
    if start == b"[":
        after = text.lstrip()[1:].lstrip()[:1]
        if after not in (b"{", b"]", b"") and _ANY_HEAD.match(text):
            return "jrnl"  # a jrnl journal in another timeformat: [09.06.2013 15:39] ...
        return "json"
    if start == b"{":
        first = text.lstrip().split(b"\n", 1)[0]
        try:
            obj = json.loads(first)
        except ValueError:
            # A multi-line document: Day One's Journal.json, jrnl's export (or ours, wrapped)
            return "dayone" if dayone.looks_like(text) else "jrnl-json"
        if isinstance(obj, dict) and "entries" in obj:
            return "dayone" if dayone.looks_like(text) else "jrnl-json"
        return "jsonl"
    by_name = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "jrnl",
               ".csv": "csv"}
    fmt = by_name.get(os.path.splitext(path)[1].lower())
    if fmt and not text.strip():
        return fmt  # an empty export: nothing to import, not an error
    if _ANY_HEAD.match(text):
        return "jrnl"
    raise _cannot_tell(path, "its first line is none of theirs")


def _cannot_tell(path, why):
    return BadInput("cannot tell the format of %s: tried %s (%s); give it with --format"
                    % (path, TRIED, why))


def needs_passphrase(path, fmt):
    """Whether importing ``path`` as ``fmt`` needs the source's passphrase."""
    return fmt == "peewee-diary" and peewee_diary.needs_passphrase(path)


def _records(path, fmt, passphrase, stack, options, warn):
    """(the records of ``path``, the binary file they are read from or None)."""
    if fmt == "markdown":
        return markdown.read_folder(path, folder_tags=options.folder_tags), None
    if fmt == "jrnl-folder":
        return jrnl_folder.read(path, time_format=options.time_format,
                                tag_symbols=options.tag_symbols, warn=warn), None
    if fmt == "peewee-diary":
        return peewee_diary.read(path, passphrase), None
    if fmt == "dayone":
        if os.path.isdir(path):
            raise BadInput("%s is a directory (dayone reads the export's zip or its "
                           "Journal.json)" % path)
        return dayone.read(path, warn=warn), None
    readers = {"json": ourjson.read_json, "jsonl": ourjson.read_jsonl, "csv": ourcsv.read,
               "jrnl": functools.partial(jrnl.read_text, time_format=options.time_format,
                                         tag_symbols=options.tag_symbols, warn=warn),
               "jrnl-json": jrnl.read_json}
    if fmt not in readers:
        raise BadInput("unknown import format %r (use %s)" % (fmt, ", ".join(IMPORT_FORMATS)))
    if os.path.isdir(path):
        raise BadInput("%s is a directory (only --format markdown and jrnl-folder read "
                       "folders)" % path)
    binary = stack.enter_context(files.open_regular(path))
    return readers[fmt](binary), binary


# Records are read and checked ahead of the diary's write lock up to this
# much (characters of text, plus RECORD_COST for each record's own objects,
# about what a record takes in memory): a source that fits, nearly every
# journal, is checked whole before the lock, so a bad record never keeps
# other writers waiting. A larger one is read once all the same, the rest
# checked and inserted as it is read, inside the one transaction: a bad
# record there rolls everything back. Reading it twice instead (before and
# under the lock) cost a second parse, 1.7 s at 100,000 entries, and holding
# it whole 200 MB. 16 MB (some 10,000 entries of a page) keeps a million-entry
# import under 150 MB: what was read ahead stays in the process's memory.
KEEP_CHARS = 16 * 1024 * 1024
RECORD_COST = 1000


def _named(record, exc):
    """``exc`` with the record's place in the source: "line 12: bad tag path ..."."""
    where = record.where
    return BadInput("%s: %s" % (where, exc) if where else str(exc))


def _empty(record):
    return not record.title.strip() and not record.body.strip()


def _checked(records, count, stats):
    """``records``, each checked (Loader.check) as it is read; ``count[0]``
    says how many were read. An entry with no title and no text is skipped
    with a warning (jrnl writes them): one such entry never refuses the rest."""
    for record in records:
        count[0] += 1
        if _empty(record):
            stats.empty_skipped += 1
            stats.warn("%s: an entry with no title and no text: skipped"
                       % (record.where or "entry %d" % count[0]))
            continue
        try:
            Loader.check(record)
        except BadInput as exc:
            raise _named(record, exc) from None
        except ValueError as exc:
            raise _named(record, BadInput("the date cannot be stored (%s)" % exc)) from None
        yield record


def _read_ahead(checked):
    """(the first records of ``checked``, up to KEEP_CHARS; whether more follow)."""
    ahead, cost = [], 0
    for record in checked:
        ahead.append(record)
        cost += len(record.title) + len(record.body) + RECORD_COST
        if cost > KEEP_CHARS:
            return ahead, True
    return ahead, False


def _drained(ahead):
    """The records of the list ``ahead``, each let go once it is taken."""
    ahead.reverse()
    while ahead:
        yield ahead.pop()


class _Estimate:
    """The number of records a source holds: exact once it is read, before
    that guessed from the records read so far and how far into the file
    they reach."""

    def __init__(self, binary, read):
        self.exact = None
        self._read = read  # [records read so far]
        self._binary, self._size = binary, None
        if binary is not None:
            with contextlib.suppress(OSError):
                self._size = os.fstat(binary.fileno()).st_size

    def __call__(self, done):
        if self.exact is not None:
            return self.exact
        if not self._size or self._binary.closed:
            return None
        try:
            pos = self._binary.tell()
        except (OSError, ValueError):
            return None
        return max(done, round(self._read[0] * self._size / pos)) if pos else None


def import_file(diary, path, fmt=None, *, passphrase=None, progress=None, options=None):
    """Import ``path`` into ``diary`` in one transaction; returns ImportStats.

    The source is read and checked before the diary's write lock is taken
    (up to KEEP_CHARS; a larger source is read once, the rest checked as it
    is inserted). Entries the diary already has are skipped (loader.py), so
    importing a file twice adds nothing. Any bad record aborts the whole
    import with a BadInput naming its line or entry; the diary is then
    unchanged, as it is after Ctrl-C (KeyboardInterrupt rolls back). A
    source in which nothing reads is a BadInput too, unless it is really
    empty (stats.empty_source). ``options``: ImportOptions.

    ``progress(done, total)`` is called every few hundred entries; ``total``
    is exact when the source was read whole ahead, else an estimate from
    how far into the file the reader is (None where it cannot be told).
    """
    fmt = fmt or guess_format(path)
    options = options or ImportOptions()
    stats = ImportStats()
    with contextlib.ExitStack() as stack:
        records, binary = _records(path, fmt, passphrase, stack, options, stats.warn)
        stack.callback(getattr(records, "close", lambda: None))
        read = [0]
        checked = _checked(records, read, stats)
        ahead, more = _read_ahead(checked)
        total = _Estimate(binary if more else None, read)
        if not more:
            total.exact = len(ahead)
            stats.links_skipped = getattr(records, "links_skipped", 0)
            if not read[0]:
                if not emptiness.really_empty(path, fmt):
                    raise BadInput("found nothing in %s that reads as %s: no entry imported%s"
                                   % (path, fmt, emptiness.hint(path, fmt)))
                stats.empty_source = True
        with diary.write(), Loader(diary).roomy_cache() as loader, \
                store.index_deferred(diary):
            for record in itertools.chain(_drained(ahead), checked if more else ()):
                try:
                    added = loader.add(record, checked=True)
                except BadInput as exc:
                    raise _named(record, exc) from None
                if added:
                    stats.added += 1
                else:
                    stats.skipped += 1
                if progress:
                    done = stats.added + stats.skipped
                    if done % PROGRESS_EVERY == 0:
                        progress(done, total(done))
            if more:
                stats.links_skipped = getattr(records, "links_skipped", 0)
            if progress:
                done = stats.added + stats.skipped
                progress(done, done)
    return stats


PROGRESS_EVERY = 500  # records between two progress calls
