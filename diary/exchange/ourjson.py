"""Reading our own JSON and JSONL exports back (export.py writes them).

JSON is an array of entry objects (records.from_json), read one object at a
time; an object wrapping the array as ``{"entries": [...]}`` is read whole.
JSONL is one entry object per line; blank lines are skipped.
"""

import json

from .records import JsonArray, fail, from_json, text_lines


def read_json(binary):
    head = binary.peek(64)[:64] if hasattr(binary, "peek") else b""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        yield from _wrapped(binary)
        return
    array = JsonArray(binary)
    for number, obj in enumerate(array, 1):
        yield from_json(obj, "entry %d (line %d)" % (number, array.line))


def _wrapped(binary):
    raw = binary.read()
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        fail("line %d" % (raw[:exc.start].count(b"\n") + 1), "not valid UTF-8")
    except json.JSONDecodeError as exc:
        fail("line %d" % exc.lineno, "invalid JSON (%s)" % exc.msg)
    if not isinstance(document.get("entries"), list):
        fail("", "expected a JSON array of entries, or an object with an \"entries\" list")
    for number, obj in enumerate(document["entries"], 1):
        yield from_json(obj, "entry %d" % number)


def read_jsonl(binary):
    for number, line in text_lines(binary):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            fail("line %d" % number, "invalid JSON (%s)" % exc.msg)
        yield from_json(obj, "line %d" % number)
