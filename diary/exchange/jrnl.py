"""jrnl's journals: its plain-text file, its ``--format json`` export, and our
``txt`` export, which uses the same layout so jrnl can read it.

The plain-text journal is a series of entries, each starting with a header
line ``[2024-03-02 21:30] Title. Body...``; a header's date may carry seconds
or an AM/PM time (jrnl's ``timeformat`` setting), or be a bare day (then
09:00, jrnl's default hour). A line that merely starts with a bracket
(``[1] a footnote``) is text; one whose bracket starts like a date but is not
one (``[2024-13-45 10:00]``) is an error, since it was surely meant as a
header. Title and text are split the way jrnl splits them (the first line,
or else the first sentence); a first line ending in ``*`` stars the entry;
``@tag`` and ``#tag`` words anywhere become tags (lowercase, as jrnl keeps
them; ``@work/acme`` is the path work/acme). jrnl stores no uuid: entries are
matched on re-import by date, title and text (loader.py).
"""

import datetime as _dt
import re

from .. import dates, tags as _tags
from ..errors import BadInput
from . import records
from .records import JsonArray, Record, fail, parse_uuid, text_lines, too_large

_HEADER = re.compile(r"\[([^\]\n]+)\](?: (.*?))?\r?\n?$", re.S)
_DATE_LIKE = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\b")
_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M %p",
                 "%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S.%f")
# jrnl's tag words: a tag symbol at the start of a word, then word characters
# and - + * # /.
_TAG = re.compile(r"(?<!\S)[@#][-+*#/\w]+")
# The end of a first sentence: a terminal, an optional closing quote and
# brackets, then space; CJK full stops need no space.
_SENTENCE = re.compile("[.!?\u2026\u203c\u203d\u2047\u2048\u2049\u22ef\ufe52\ufe57]"
                       "['\"\u2019\u201d]?[\\])]*\\s+"
                       "|[\uff01\uff0e\uff1f\uff61\u3002]")


_PLAIN_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$")


def _parse_date(text, where):
    plain = _PLAIN_DATE.match(text)  # jrnl's default layout: no strptime (slow)
    if plain:
        try:
            return dates.aware(_dt.datetime(*map(int, plain.groups())))
        except ValueError:
            pass  # 2024-02-30: strptime below says why
    text = " ".join(text.split())
    for fmt in _TIME_FORMATS:
        try:
            return dates.aware(_dt.datetime.strptime(text, fmt))
        except ValueError:
            pass
    try:
        day = _dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        fail(where, "malformed entry header: %r is not a date and time like "
                    "2024-03-02 21:30" % text[:40])
    return dates.aware(day.replace(hour=dates.DEFAULT_HOUR))


def split_title(text):
    """(title, body) as jrnl splits an entry's text: at the first line break,
    or without one at the end of the first sentence."""
    text = text.lstrip()
    sep = re.search("\n", text) or _SENTENCE.search(text)
    if not sep:
        return text, ""
    return text[:sep.end()].strip(), text[sep.end():].strip()


def tag_words(text):
    """The tag paths written as @tag / #tag words, lowercase, each once, in order."""
    found = {}
    if "@" not in text and "#" not in text:
        return ()
    for word in _TAG.findall(text):
        try:
            parts = _tags.parse_path(word[1:].lower().strip("/"))
        except BadInput:
            continue  # prose, not a tag; the word stays in the text
        found.setdefault("/".join(parts), None)
    return tuple(found)


def _record(number, date, text):
    raw = text
    first, _, rest = text.partition("\n")
    if first.strip() in ("", "*"):
        # `[date] ` alone on its line (jrnl's own layout for an entry without
        # a title, and our txt export's): no title; the text is what follows.
        return Record(created_at=date, title="", body=rest.rstrip("\r\n "),
                      starred=first.strip() == "*", tags=tag_words(raw), inline=True,
                      where="line %d" % number)
    lines = text.splitlines()
    starred = False
    if lines and lines[0].strip().endswith("*"):
        starred = True
        text = lines[0].strip("\n *") + "\n" + "\n".join(lines[1:])
    title, body = split_title(text)
    return Record(created_at=date, title=title, body=body, starred=starred,
                  tags=tag_words(raw), inline=True, where="line %d" % number)


def read_text(binary):
    """Records from a jrnl plain-text journal (a binary file)."""
    current = None  # (header line number, date, [text pieces])
    size = 0  # characters in current's pieces: one entry is capped, not the file
    for number, line in text_lines(binary):
        match = _HEADER.match(line) if line.startswith("[") else None
        if match and _DATE_LIKE.match(match.group(1)):
            date = _parse_date(match.group(1), "line %d" % number)
            if current:
                yield _record(current[0], current[1], _ending_dropped(current[2]))
            current = (number, date, [line[match.start(2):] if match.group(2) is not None
                                      else "\n"])
            size = len(line)
        elif current:
            size += len(line)
            if size > records.MAX_RECORD:
                too_large("line %d" % current[0])
            current[2].append(line)
        elif line.strip():
            fail("line %d" % number, "expected an entry header like "
                                     "[2024-03-02 21:30] Title")
    if current:
        yield _record(current[0], current[1], "".join(current[2]))


def _ending_dropped(pieces):
    # The line break before the next header belongs to the layout, not the text.
    text = "".join(pieces)
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def read_json(binary):
    """Records from jrnl's ``--format json`` export: {"tags": ..., "entries": [...]},
    read one entry at a time."""
    array = JsonArray(binary)
    for number, item in enumerate(array.member("entries", _NOT_JRNL_JSON), 1):
        yield _json_record(item, "entry %d" % number)


_NOT_JRNL_JSON = "not a jrnl JSON export: expected an object with an \"entries\" list"


def _json_record(item, where):
    if not isinstance(item, dict):
        fail(where, "expected an object")
    for key in ("title", "body", "date", "time"):
        if not isinstance(item.get(key, ""), str):
            fail(where, "%s must be text" % key)
    try:
        created = dates.aware(_dt.datetime.strptime(
            "%s %s" % (item.get("date"), item.get("time", "%02d:00" % dates.DEFAULT_HOUR)),
            "%Y-%m-%d %H:%M"))
    except ValueError:
        fail(where, "date and time must be like 2024-03-02 and 21:30")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        fail(where, "tags must be a list")
    starred = item.get("starred", False)
    if not isinstance(starred, bool):
        fail(where, "starred must be true or false")
    uuid = item.get("uuid")  # Day One journals have one; jrnl may leave it blank
    uuid = parse_uuid(uuid, where) if isinstance(uuid, str) and uuid.strip() else None
    return Record(created_at=created, title=item.get("title", ""), body=item.get("body", ""),
                  starred=starred, tags=tag_words(" ".join(tags)), uuid=uuid,
                  inline=True, where=where)


def _header_time(when):
    """The header's date and time: to the minute (jrnl's default layout), with
    seconds, and microseconds, only when the entry has them, so that reading
    the export back gives the same time (jrnl itself reads all three)."""
    local = dates.local(when)
    if local.microsecond:
        return local.strftime("%Y-%m-%d %H:%M:%S.%f")
    if local.second:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def write_text(out, rows):
    """jrnl's layout: readable, and jrnl reads it back entry for entry (tags only
    as written in the text). A header is always ``[date] `` with its space,
    even without a title: jrnl takes only that as the start of an entry, and
    a bare ``[date]`` line would fold the entry into the one before it."""
    first = True
    for entry in rows:
        if not first:
            out.write("\n")
        first = False
        title = " ".join(entry.title.split())
        head = "[%s] %s" % (_header_time(entry.created_at), title)
        if entry.starred:
            head += " *" if title else "*"
        out.write(head + "\n")
        body = entry.body.rstrip("\n ")
        if body:
            out.write(body + "\n")
