"""The text file an external editor edits: entries as a short header above their text.

    --- diary entry 12 [k3f9a2b1] ---
    title: Long run
    date: 2024-03-02 21:30:00+01:00
    tags: health/running, people/anna
    star: yes

    Ran 12 km by the river.

Each entry starts with its line ``--- diary entry ID [NONCE] ---`` (``new`` for
an entry being written). NONCE is drawn for each file so that it appears in no
entry's text: a line of the text can never pass for the start of an entry, so
any text, header-like lines included, comes back exactly (``format_file`` then
``parse_file`` is the identity; tests/test_editfile.py checks it with
hypothesis). The header runs to the first empty line; everything after it up
to the next entry line is the text, less the one newline the file adds.

A title or tag that a plain line could not carry (a newline, surrounding
spaces, a leading quote, a comma in a tag) is written as JSON: ``title: "a\\nb"``,
``tags: ["a, b"]``. A date is any date `diary add --date` takes.

Lines above the first entry that start with ``# diary:`` are notes for the
person (an error to fix); they are ignored.
"""

import json
import re
import secrets

from . import dates, tags as _tags
from .errors import BadInput

KEYS = ("title", "date", "tags", "star")
NOTE = "# diary: "
_START = "--- diary entry %s [%s] ---"
_START_RE = re.compile(r"^--- diary entry (new|[0-9]+) \[([0-9a-f]+)\] ---$")
_YES = {"yes": True, "y": True, "true": True, "*": True,
        "no": False, "n": False, "false": False, "": False}


class BadFile(BadInput):
    """The file does not parse: ``line`` is its 1-based line number (or None)."""

    def __init__(self, message, line=None):
        super().__init__(("line %d: %s" % (line, message)) if line else message)
        self.line, self.detail = line, message

    def moved(self, lines):
        """The same error, its line number ``lines`` further down (a note added on top)."""
        return BadFile(self.detail, self.line + lines if self.line else None)


class Block:
    """One entry in the file. ``id`` None: a new entry. ``date`` an aware
    datetime or None (none given: now for a new entry, unchanged otherwise)."""

    __slots__ = ("id", "title", "date", "tags", "starred", "body", "date_line")

    def __init__(self, id=None, title="", date=None, tags=(), starred=False, body=""):
        self.id, self.title, self.date = id, title, date
        self.date_line = None  # the date as the file said it (parse_file)
        self.tags, self.starred, self.body = list(tags), bool(starred), body

    @classmethod
    def of(cls, entry):
        return cls(entry.id, entry.title, entry.created_at, entry.tag_list, entry.starred,
                   entry.body)

    def empty(self):
        return not self.title.strip() and not self.body.strip()

    def key(self):
        """What comparing two blocks compares (dates as instants, tags by their key)."""
        stamp = dates.text(self.date) if self.date is not None else None
        return (self.id, self.title, stamp, sorted(_tags.keypath(t) for t in self.tags),
                self.starred, self.body)

    def __eq__(self, other):
        return isinstance(other, Block) and self.key() == other.key()

    def __repr__(self):
        return "Block(%r)" % (self.key(),)


def new_nonce(texts):
    """A nonce that appears in none of ``texts``."""
    while True:
        nonce = secrets.token_hex(4)
        if not any(nonce in t for t in texts):
            return nonce


def nonce_for(blocks):
    return new_nonce([b.title for b in blocks] + [b.body for b in blocks]
                     + [t for b in blocks for t in b.tags])


def _plain_ok(value):
    return (value == value.strip() and not value.startswith(('"', "["))
            and value.isprintable())


def _title(value):
    return value if _plain_ok(value) else json.dumps(value, ensure_ascii=False)


def _tag_list(paths):
    if all(_plain_ok(p) and "," not in p for p in paths):
        return ", ".join(paths)
    return json.dumps(list(paths), ensure_ascii=False)


def _date(value, exact=True):
    """The date as the file shows it: to the second for an entry already saved
    (an unchanged line gives its exact time back: parse_file's ``originals``),
    exact for a new one."""
    if value is None:
        return ""
    shown = dates.local(value)
    return shown.isoformat(" ", "microseconds" if exact and shown.microsecond else "seconds")


def format_block(block, nonce):
    header = [_START % ("new" if block.id is None else block.id, nonce),
              "title: " + _title(block.title) if block.title else "title:",
              ("date: " + _date(block.date, exact=block.id is None)
               if block.date is not None else "date:"),
              "tags: " + _tag_list(block.tags) if block.tags else "tags:",
              "star: " + ("yes" if block.starred else "no"),
              ""]
    return "\n".join(header) + "\n" + block.body + "\n"


def format_file(blocks, nonce, error=None):
    """The file's text. ``error``: a one-line note put on top (a header that did not parse)."""
    top = ""
    if error:
        top = NOTE + " ".join(str(error).split()) + " (fix it and save; this line is ignored)\n"
    return top + "".join(format_block(b, nonce) for b in blocks)


def _json(value, kind, line):
    try:
        parsed = json.loads(value)
    except ValueError:
        raise BadFile("the %s is not valid JSON: %s" % (kind, value[:40]), line) from None
    return parsed


def _parse_value(key, value, line, block):
    raw = value.strip()
    if key == "title":
        if raw.startswith('"'):
            parsed = _json(raw, "title", line)
            if not isinstance(parsed, str):
                raise BadFile("the title must be text", line)
            block.title = parsed
        else:
            block.title = raw
    elif key == "date":
        block.date_line = raw
        if not raw:
            block.date = None
            return
        try:
            block.date = dates.parse(raw)
            dates.stored(block.date)
        except BadInput as exc:
            raise BadFile("date: %s" % exc, line) from None
    elif key == "tags":
        if raw.startswith("["):
            parsed = _json(raw, "tags", line)
            if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
                raise BadFile("tags in [ ] must be a JSON list of texts", line)
        else:
            parsed = [t for t in (p.strip() for p in raw.split(",")) if t]
        for t in parsed:
            try:
                _tags.parse_path(t)
            except BadInput as exc:
                raise BadFile("tags: %s" % exc, line) from None
        block.tags = parsed
    else:
        answer = _YES.get(raw.lower())
        if answer is None:
            raise BadFile("star: write yes or no, not %s" % raw[:20], line)
        block.starred = answer


# What Session.read makes of bytes that are not UTF-8 (surrogateescape).
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def parse_file(text, nonce, originals=(), ids=None):
    """The file's text -> [Block]; BadFile (with a line number) when it does not parse.
    ``originals``: the blocks the file was written from; an entry whose date line
    is as written keeps its exact time (the file shows it to the second).
    ``ids``: when given, the only entry ids the file may name (the ones it was
    written with): a changed id is an error to fix in the file, never a lost save."""
    from .entries import MAX_TEXT

    if "\x00" in text:
        raise BadFile("a NUL character (remove it)", text.count("\n", 0, text.index("\x00")) + 1)
    bad = _NOT_UTF8.search(text)
    if bad:
        raise BadFile("bytes that are not UTF-8 (\\x%02x): save the file as UTF-8"
                      % (ord(bad.group()) - 0xDC00), text.count("\n", 0, bad.start()) + 1)
    if len(text) > MAX_TEXT:
        raise BadFile("the file is over %d MB" % (MAX_TEXT // (1024 * 1024)))
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        # an editor set to CRLF line ends (vim's fileformat=dos) wrote every
        # line so; the file had none (a text's own \r\n leaves other \n alone)
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    blocks, current, header, seen = [], None, False, set()
    body = []

    def finish(at_end=False):
        # Each text is followed by a newline (format_block): before the next
        # entry line that is the newline split() consumed; at the end of the
        # file it leaves one empty last line (gone if an editor dropped it).
        if current is not None:
            if at_end and body and body[-1] == "":
                body.pop()
            current.body = "\n".join(body)

    for number, line in enumerate(lines, 1):
        m = _START_RE.match(line)
        if m and m.group(2) == nonce:
            if header:
                raise BadFile("the header of the entry above has no empty line after it",
                              number)
            finish()
            digits = m.group(1)
            if digits != "new" and len(digits.lstrip("0")) > 18:
                # int() refuses over 4300 digits (ValueError): never a crash
                raise BadFile("entry %s...: no entry has such a number" % digits[:20],
                              number)
            ident = None if digits == "new" else int(digits)
            if ident is not None:
                if ids is not None and ident not in ids:
                    raise BadFile("entry %d was not in the file: put back the number the "
                                  "line had" % ident, number)
                if ident in seen:
                    raise BadFile("entry %d appears twice" % ident, number)
                seen.add(ident)
            current, header, body = Block(ident), True, []
            blocks.append(current)
            continue
        if current is None:
            if line.startswith(NOTE.rstrip()) or not line.strip():
                continue
            raise BadFile("text above the first '--- diary entry' line (move it below one)",
                          number)
        if header:
            if not line.strip():
                header = False
                continue
            key, colon, value = line.partition(":")
            key = key.strip().lower()
            if not colon or key not in KEYS:
                raise BadFile("expected a header line (%s) or an empty line before the "
                              "text" % ", ".join(k + ":" for k in KEYS), number)
            _parse_value(key, value, number, current)
        else:
            body.append(line)
    if header:
        # a block that ends in its header: no text at all (the file ended there)
        header = False
    finish(at_end=True)
    known = {b.id: b for b in originals if b.id is not None}
    for b in blocks:
        was = known.get(b.id)
        if was is not None and was.date is not None and b.date_line == _date(was.date, False):
            b.date = was.date
    return blocks
