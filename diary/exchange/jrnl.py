"""jrnl's journals: its plain-text file, its ``--format json`` export, and our
``txt`` export, which uses the same layout so jrnl can read it.

The plain-text journal is a series of entries, each starting with a header
line ``[2024-03-02 21:30] Title. Body...``; a header's date may carry seconds
or an AM/PM time, or be a bare day (then 00:00, as jrnl reads a header;
09:00 is jrnl's hour only for a day typed on its command line). A journal
written with another ``timeformat`` (``%d.%m.%Y %H:%M``) is read with
``time_format``. As jrnl does, a header date that fits no format is read by
dateutil (``[2019-07 14:23]`` is 2019-07-01 14:23). A line that merely starts
with a bracket of six characters or fewer (``[1] a footnote``) is text; a
longer one that reads as no date is text too, as jrnl keeps it, but with a
warning naming the line; one whose bracket starts like a date but is not one
(``[2024-13-45 10:00]``) is an error, since it was surely meant as a header,
and so is a numeric day and month that could be swapped (``09.06.2013``)
without ``time_format``: refused, never guessed. Title and text are split the
way jrnl splits them (the first line, or else the first sentence); a first
line ending in ``*`` stars the entry; ``@tag`` and ``#tag`` words anywhere
become tags (lowercase, as jrnl keeps them; ``@work/acme`` is the path
work/acme): the marks are jrnl's ``tagsymbols`` (``tag_symbols``, default
``#@``), and a mark followed by no word character (``### Heading``) is no tag. An entry with no title and no
text is skipped with a warning (import_file), never an error. jrnl stores no
uuid: entries are matched on re-import by date, title and text (loader.py).
"""

import datetime as _dt
import functools
import re

from .. import dates, tags as _tags
from ..errors import BadInput
from . import records
from .records import JsonArray, Record, fail, parse_uuid, text_lines, too_large

_HEADER = re.compile(r"\[([^\]\n]+)\](?: (.*?))?\r?\n?$", re.S)
_DATE_LIKE = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\b")
_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M %p",
                 "%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S.%f")
TAG_SYMBOLS = "#@"  # jrnl's default tagsymbols
# The end of a first sentence: a terminal, an optional closing quote and
# brackets, then space; CJK full stops need no space.
_SENTENCE = re.compile("[.!?\u2026\u203c\u203d\u2047\u2048\u2049\u22ef\ufe52\ufe57]"
                       "['\"\u2019\u201d]?[\\])]*\\s+"
                       "|[\uff01\uff0e\uff1f\uff61\u3002]")


_PLAIN_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$")


def _parse_date(text, where, time_format=None, loose=True):
    """The header's date, or None when it reads as no date at all (then the
    line is text, as jrnl keeps it). An impossible date written like one
    (``2024-02-30 10:00``) is an error. ``loose``: read it as jrnl reads a
    header its timeformat does not fit (only for a header ``[...] `` with its
    space: jrnl takes no other line for one)."""
    if time_format:
        try:
            return dates.aware(_dt.datetime.strptime(text, time_format))
        except ValueError:
            pass
    plain = _PLAIN_DATE.match(text)  # jrnl's default layout: no strptime (slow)
    if plain:
        try:
            return dates.aware(_dt.datetime(*map(int, plain.groups())))
        except ValueError:
            pass  # 2024-02-30: strptime below says why
    if _DATE_LIKE.match(text):  # every usual format starts with the year (strptime is slow)
        squeezed = " ".join(text.split())
        for fmt in _TIME_FORMATS + ("%Y-%m-%d",):
            try:
                return dates.aware(_dt.datetime.strptime(squeezed, fmt))
            except ValueError:
                pass
        found = _loose_date(text, where)
        if found is None:
            fail(where, "malformed entry header: %r is not a date and time like "
                        "2024-03-02 21:30" % text[:40])
        return dates.aware(found)
    found = _loose_date(text, where) if loose else None
    return dates.aware(found) if found else None


# A numeric day and month that could be swapped: 09.06.2013, 6/9/2013.
_AMBIGUOUS = re.compile(r"\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}\b")


_NO_YEAR = 9999  # jrnl's FAKE_YEAR: the default year tells "no year written"


def _loose_date(text, where):
    """A date as jrnl reads a header its timeformat does not fit (jrnl.time.parse
    with dateutil; a day without a time is 00:00, a date without a year this
    year, or last year when that would put it more than 4 weeks ahead); None
    for text of six characters or fewer (a footnote) and for no date. A day
    and month that could be swapped (``09.06.2013``) are refused, naming both
    readings: dateutil would take the month first, where the journal's own
    timeformat (``--time-format``) probably says otherwise."""
    if len(text) <= 6:
        return None
    swapped = _AMBIGUOUS.match(text)
    if swapped and swapped.group(1) != swapped.group(2) \
            and int(swapped.group(1)) <= 12 and int(swapped.group(2)) <= 12:
        fail(where, "the header date %r could be day.month or month.day: give the "
                    "journal's timeformat with --time-format (e.g. '%%d.%%m.%%Y %%H:%%M')"
             % text[:40])
    from dateutil import parser as _parser  # dateparser's own dependency

    try:
        found = _parser.parse(text, default=_dt.datetime(_NO_YEAR, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None
    if found.tzinfo is not None:
        found = found.replace(tzinfo=None)
    if found.year == _NO_YEAR:
        now = _dt.datetime.now()
        try:
            found = found.replace(year=now.year)
            if (now - found).days < -28:
                found = found.replace(year=now.year - 1)
        except ValueError:  # 29 February
            return None
    return found


@functools.lru_cache(maxsize=16)
def _tag_pattern(symbols):
    # jrnl's tag words: a tag symbol at the start of a word, then word
    # characters and - + * # / (tag_words drops those with no word character).
    marks = "".join(re.escape(c) for c in symbols)
    return re.compile(r"(?<!\S)[%s][-+*#/\w]+" % marks)


_TAG = _tag_pattern(TAG_SYMBOLS)
_WORD = re.compile(r"\w")


def check_tag_symbols(symbols):
    """``symbols`` as jrnl's tagsymbols: one or more marks, none a letter,
    digit or space (those would make every word a tag)."""
    if not symbols or any(c.isalnum() or c.isspace() or c == "_" for c in symbols):
        raise BadInput("tag symbols must be one or more marks like # or @, not %r"
                       % symbols[:20])
    return "".join(dict.fromkeys(symbols))


def split_title(text):
    """(title, body) as jrnl splits an entry's text: at the first line break,
    or without one at the end of the first sentence."""
    text = text.lstrip()
    end = text.find("\n") + 1
    if not end:
        sep = _SENTENCE.search(text)
        if not sep:
            return text, ""
        end = sep.end()
    return text[:end].strip(), text[end:].strip()


def tag_words(text, symbols=TAG_SYMBOLS):
    """The tag paths written as tag words (``@tag``, ``#tag``: a mark of
    ``symbols`` at the start of a word), lowercase, each once, in order."""
    if symbols == TAG_SYMBOLS:
        if "@" not in text and "#" not in text:
            return ()
        pattern = _TAG
    else:
        if not any(c in text for c in symbols):
            return ()
        pattern = _tag_pattern(symbols)
    found = {}
    for word in pattern.findall(text):
        path = _tag_path(word[1:])
        if path is not None:
            found.setdefault(path, None)
    return tuple(found)


@functools.lru_cache(maxsize=4096)  # a journal uses few tags, many times
def _tag_path(word):
    """The tag path of a tag word without its mark, or None when it is none:
    no word character (``##`` of ``### Heading``), or no path (prose)."""
    if not _WORD.search(word):
        return None
    try:
        return "/".join(_tags.parse_path(word.lower().strip("/")))
    except BadInput:
        return None


def _record(number, date, text, symbols=TAG_SYMBOLS):
    # inline=False: the tags are the words jrnl sees as tags (tag_words with
    # the journal's marks), not every #word the diary would link.
    raw = text
    first, _, rest = text.partition("\n")
    if first.strip() in ("", "*"):
        # `[date] ` alone on its line (jrnl's own layout for an entry without
        # a title, and our txt export's): no title; the text is what follows.
        return Record(created_at=date, title="", body=rest.rstrip("\r\n "),
                      starred=first.strip() == "*", tags=tag_words(raw, symbols),
                      where="line %d" % number)
    lines = text.splitlines()
    starred = False
    if lines and lines[0].strip().endswith("*"):
        starred = True
        text = lines[0].strip("\n *") + "\n" + "\n".join(lines[1:])
    title, body = split_title(text)
    return Record(created_at=date, title=title, body=body, starred=starred,
                  tags=tag_words(raw, symbols), where="line %d" % number)


def read_text(binary, *, time_format=None, tag_symbols=TAG_SYMBOLS, warn=None, day=None):
    """Records from a jrnl plain-text journal (a binary file).

    ``time_format``: the journal's ``timeformat`` (strptime), tried first.
    ``warn(message)`` hears of a header-like line kept as text. ``day``: the
    date of a folder journal's file (YYYY/MM/DD.txt), which wins over the
    header's, as in jrnl."""
    current = None  # (header line number, date, [text pieces])
    size = 0  # characters in current's pieces: one entry is capped, not the file
    for number, line in text_lines(binary):
        match = _HEADER.match(line) if line.startswith("[") else None
        date = None
        if match and (time_format or len(match.group(1)) > 6):  # `[1] a footnote`: text
            date = _parse_date(match.group(1), "line %d" % number, time_format,
                               loose=match.group(2) is not None)
            if date is None and match.group(2) is not None and len(match.group(1)) > 6:
                # jrnl tried this as a header and kept it as text: so do we, aloud.
                where = "line %d" % number
                if not current:
                    fail(where, "[%s] is no date jrnl or diary can read: expected an entry "
                                "header like [2024-03-02 21:30] Title (give another "
                                "layout with --time-format)" % match.group(1)[:40])
                if warn:
                    warn("%s: [%s] reads as no date, so it is kept as text of the entry "
                         "of line %d, as jrnl keeps it" % (where, match.group(1)[:40],
                                                            current[0]))
        if date is not None:
            if day is not None:  # the local time on the file's day (its own offset)
                date = dates.aware(date.replace(tzinfo=None, year=day.year, month=day.month,
                                                day=day.day))
            if current:
                yield _record(current[0], current[1], _ending_dropped(current[2]),
                              tag_symbols)
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
        yield _record(current[0], current[1], "".join(current[2]), tag_symbols)


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
