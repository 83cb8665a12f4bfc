"""An entry in flight between a diary and a file, and the export shape.

Every reader yields ``Record``s; every writer takes ``Entry`` rows. The JSON
shape of an exported entry is entries.to_record without the two fields that
only mean something inside one file (``id``, ``version``): what remains is
what an import needs to rebuild the entry exactly, uuid included.
"""

import codecs
import dataclasses
import datetime as _dt
import json
import re
import uuid as _uuid

from .. import dates, entries
from ..errors import BadInput

FIELDS = ("uuid", "created_at", "updated_at", "title", "body", "starred", "tags")
CHUNK = 1 << 20
# What one record may take, read from any file: a line of JSONL or of a jrnl
# journal, a jrnl entry, a JSON array's element, a Markdown file. Capped per
# record, not per file: a million-entry export is ~880 MB and imports fine,
# while /dev/zero or a line without end stops here instead of filling memory.
MAX_RECORD = 16 * 1024 * 1024
MAX_DEPTH = 32  # JSON nesting: an entry needs 3 ({"tags": [...]}); 10,000 crashed the parser


def too_large(where, what="the entry"):
    fail(where, "%s is longer than %s, the most one entry may take" % (what, _size(MAX_RECORD)))


def _size(n):
    return "%d MB" % (n // (1024 * 1024)) if n >= 1024 * 1024 else "%d bytes" % n


# A JSON string (its escapes included) and the brackets outside strings.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(text, limit=MAX_DEPTH):
    """Whether the JSON ``text`` nests arrays and objects deeper than ``limit``."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case, without a scan
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def too_deep_message():
    return "nested more than %d levels deep" % MAX_DEPTH


def loads(text, where):
    """json.loads of one record's text, its nesting depth checked first."""
    if too_deep(text):
        fail(where, too_deep_message())
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(where, "invalid JSON (%s)" % exc.msg)


@dataclasses.dataclass
class Record:
    created_at: _dt.datetime
    title: str = ""
    body: str = ""
    starred: bool = False
    tags: tuple = ()
    uuid: str = None
    updated_at: _dt.datetime = None
    # Foreign formats (jrnl, Markdown, peewee) carry their tags in the text:
    # there the #tags written in the text are linked too, as `diary add` would.
    inline: bool = False
    where: str = ""  # "line 12", "entry 3", a file name: for error messages


def export_record(entry):
    """The JSON object an export writes for ``entry``."""
    record = entries.to_record(entry)
    del record["id"], record["version"]
    return record


def fail(where, message):
    raise BadInput("%s: %s" % (where, message) if where else message)


def parse_time(value, where, field):
    """An ISO 8601 timestamp in the one range (dates.parse_iso); a naive one
    is local time, a bare day is dates.DEFAULT_HOUR."""
    return dates.parse_iso(value, where, field)


def parse_uuid(value, where):
    """``value`` as a normalised uuid (``3f0c7a52-6b1e-...``, lower case), or None.

    Anything else is refused: a uuid lands in file names (``export --split``)
    and in front matter, where a ``/`` or a newline would do harm.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        fail(where, "uuid must be text")
    try:
        return str(_uuid.UUID(value.strip()))
    except ValueError:
        fail(where, "uuid is not a valid UUID: %r" % value[:40])


def file_uuid(value):
    """A stored uuid fit for a file name or a front matter line: normalised,
    or, for one that is not a uuid at all (stored before imports checked),
    a uuid derived from it, stable across exports."""
    try:
        return str(_uuid.UUID(value))
    except ValueError:
        return str(_uuid.uuid5(_uuid.NAMESPACE_OID, value))


def from_json(obj, where):
    """A Record from one object of our JSON/JSONL export (or `diary list --json`).

    Unknown keys (``id``, ``version``, anything a script added) are ignored;
    ``created_at`` is required, the rest have the defaults of a new entry.
    """
    if not isinstance(obj, dict):
        fail(where, "expected an object with created_at, title, body...")
    if "created_at" not in obj:
        fail(where, "created_at is missing")
    created = parse_time(obj["created_at"], where, "created_at")
    updated = obj.get("updated_at")
    updated = created if updated is None else parse_time(updated, where, "updated_at")
    title, body = obj.get("title", ""), obj.get("body", "")
    for name, value in (("title", title), ("body", body)):
        if not isinstance(value, str):
            fail(where, "%s must be text" % name)
    starred = obj.get("starred", False)
    if not isinstance(starred, bool):
        fail(where, "starred must be true or false")
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        fail(where, "tags must be a list of tag paths")
    uuid = parse_uuid(obj.get("uuid"), where)
    return Record(created_at=created, updated_at=updated, title=title, body=body,
                  starred=starred, tags=tuple(tags), uuid=uuid, where=where)


# --- reading bytes --------------------------------------------------------------

def text_lines(binary, start=1):
    """(line number, line) from a binary file, decoded as strict UTF-8.

    Lines keep their ending; a UTF-8 byte order mark at the start is dropped.
    A line longer than MAX_RECORD is refused once that much is read.
    """
    readline = binary.readline
    number = start - 1
    while True:
        raw = readline(MAX_RECORD + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_RECORD:
            too_large("line %d" % number, "the line")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            fail("line %d" % number, "not valid UTF-8")
        if number == start and line.startswith("\ufeff"):
            line = line[1:]
        yield number, line


_BLANKS = re.compile(r"[ \t\r\n]*")


class JsonArray:
    """The objects of a JSON array, parsed one at a time from a binary file.

    The stdlib has no streaming parser; raw_decode on a sliding buffer is
    one: memory holds the current element and at most a chunk around it,
    however long the file. ``line`` is where the last element started.
    """

    def __init__(self, binary):
        self._binary = binary
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._json = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._line = 1  # the line number at _buf[_counted]
        self._counted = 0
        self._eof = False
        self.line = 1

    def _line_at(self, pos):
        # Counted forward only, so that each character is counted once.
        self._line += self._buf.count("\n", self._counted, pos)
        self._counted = pos
        return self._line

    def _where(self, pos=None):
        return "line %d" % self._line_at(self._pos if pos is None else pos)

    def _more(self, size=CHUNK):
        if self._eof:
            return False
        raw = self._binary.read(size)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            line = self._line_at(len(self._buf))
            fail("line %d" % (line + raw[:max(exc.start, 0)].count(b"\n")), "not valid UTF-8")
        self._eof = not raw
        self._line_at(self._pos)
        self._buf = self._buf[self._pos:] + text
        self._pos = self._counted = 0
        return True

    def _peek(self):
        while True:
            # A regex, not a loop per character: a zip bomb of spaces is read
            # at the speed of decompression (dayone.py caps it).
            self._pos = _BLANKS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf) or not self._more():
                return self._buf[self._pos:self._pos + 1]

    def _expect(self, chars, what):
        ch = self._peek()
        if ch not in chars or not ch:
            fail(self._where(), "expected %s, found %s" % (what, repr(ch) if ch else
                                                         "the end of the file"))
        self._pos += 1
        return ch

    def __iter__(self):
        self._expect("[", "a JSON array '['")
        yield from self._elements()
        self._end()

    def _elements(self):
        """The values of an array whose '[' was read, up to its ']'."""
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._value()
            if self._expect(",]", "',' or ']'") == "]":
                return

    def _end(self):
        if self._peek():
            fail(self._where(), "unexpected text after the end of the JSON document")

    def member(self, key, missing):
        """The elements of the array ``key`` of a JSON object (``{"entries":
        [...]}``), one at a time; the object's other members are read one value
        at a time and dropped. ``missing``: the message when there is no such
        array."""
        self._expect("{", "a JSON object '{'")
        found = False
        if self._peek() == "}":
            self._pos += 1
        else:
            while True:
                name = self._value()
                if not isinstance(name, str):
                    fail(self._where(), "expected a member name")
                self._expect(":", "':'")
                if name == key and not found and self._peek() == "[":
                    self._pos += 1
                    found = True
                    yield from self._elements()
                else:
                    self._value()
                if self._expect(",}", "',' or '}'") == "}":
                    break
        self._end()
        if not found:
            fail("", missing)

    def _value(self):
        self._peek()
        size = CHUNK
        while True:
            try:
                value, end = self._json.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                # Perhaps only cut off by the buffer's end: read more (in
                # growing steps, so a huge entry is not re-parsed too often),
                # up to what one entry may take.
                if len(self._buf) - self._pos > MAX_RECORD:
                    too_large(self._where())
                if self._more(min(size, MAX_RECORD + 1 - (len(self._buf) - self._pos))):
                    size *= 2
                    continue
                fail(self._where(exc.pos), "invalid JSON (%s)" % exc.msg)
            except RecursionError:
                fail(self._where(), too_deep_message())
            if end - self._pos > MAX_RECORD:
                too_large(self._where())
            if too_deep(self._buf[self._pos:end]):
                fail(self._where(), too_deep_message())
            self.line = self._line_at(self._pos)
            self._pos = end
            return value
