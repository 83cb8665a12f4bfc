"""Reading our own JSON and JSONL exports back (export.py writes them).

JSON is an array of entry objects (records.from_json), read one object at a
time, as is an object wrapping the array as ``{"entries": [...]}``. JSONL is
one entry object per line; blank lines are skipped. Each entry is capped
(records.MAX_RECORD, MAX_DEPTH), never the file.
"""

from .records import JsonArray, from_json, loads, text_lines

WRAPPED = "expected a JSON array of entries, or an object with an \"entries\" list"


def read_json(binary):
    head = binary.peek(64)[:64] if hasattr(binary, "peek") else b""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        yield from _wrapped(binary)
        return
    array = JsonArray(binary)
    for number, obj in enumerate(array, 1):
        yield from_json(obj, "entry %d (line %d)" % (number, array.line))


def _wrapped(binary):
    array = JsonArray(binary)
    for number, obj in enumerate(array.member("entries", WRAPPED), 1):
        yield from_json(obj, "entry %d (line %d)" % (number, array.line))


def read_jsonl(binary):
    for number, line in text_lines(binary):
        if not line.strip():
            continue
        where = "line %d" % number
        yield from_json(loads(line, where), where)
