"""Reading our own CSV export back (exporter.write_csv writes it).

RFC 4180 with the header row ``uuid,created_at,updated_at,title,body,tags,starred``
(columns in any order; ``created_at`` required, the rest optional): texts keep
their line breaks, tags are joined by line breaks, ``starred`` is true/false.
Each row is capped (records.MAX_RECORD) and becomes the record our JSON would
(records.from_json), so a CSV export imports back exactly, uuid included.
"""

import csv
import io

from . import records
from .records import fail, from_json, too_large

_KNOWN = ("uuid", "created_at", "updated_at", "title", "body", "tags", "starred")


def read(binary):
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")
    csv.field_size_limit(records.MAX_RECORD + 1)  # (process-wide; the default is 128 KB)
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        if "created_at" not in header:
            fail("line 1", "expected a header row like %s" % ",".join(_KNOWN))
        row_start = reader.line_num + 1
        for row in reader:
            where = "line %d" % row_start
            row_start = reader.line_num + 1
            if not row or row == [""]:
                continue
            if len(row) != len(header):
                fail(where, "expected %d fields as in the header, found %d"
                     % (len(header), len(row)))
            if sum(map(len, row)) > records.MAX_RECORD:
                too_large(where)
            obj = dict(zip(header, row))
            if "tags" in obj:
                obj["tags"] = [t for t in obj["tags"].split("\n") if t]
            if "starred" in obj:
                value = obj["starred"].strip().lower()
                if value not in ("true", "false", ""):
                    fail(where, "starred must be true or false")
                obj["starred"] = value == "true"
            for key in ("uuid", "updated_at"):
                if obj.get(key) == "":
                    del obj[key]
            yield from_json(obj, where)
    except csv.Error as exc:
        where = "line %d" % reader.line_num
        if "field larger than field limit" in str(exc):
            too_large(where, "a field")
        fail(where, "not valid CSV (%s)" % exc)
    except UnicodeDecodeError:
        fail("line %d" % (reader.line_num + 1), "not valid UTF-8")
    finally:
        text.detach()
