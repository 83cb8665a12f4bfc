"""Day One's JSON export: the zip Day One writes (``Journal.json`` beside
``photos/``, ``videos/``, ...), or the ``Journal.json`` alone.

Each entry becomes one entry here: ``creationDate`` (UTC) in its
``timeZone``, ``modifiedDate``, ``text``, ``tags``, ``starred``, ``uuid``
(Day One's 32 hex digits, so a second import adds nothing). A first line
``# Heading`` is the title, as Day One shows it. Day One escapes Markdown
punctuation in ``text`` (``\\.``, ``\\-``, ``\\(``, ``\\!``): the escapes are
undone, so the text reads as it was written.

There is no metadata column, so what Day One keeps beside the text is kept
IN the text, after a line ``---``, one line each: ``Location: Museumsinsel,
Berlin, Germany (52.520008, 13.404954)``, ``Weather: Partly Cloudy, 7 °C``,
and one line per photo, video, audio or PDF naming the export's file
(``Photo: photos/<md5>.jpeg``). Media are not imported, never silently: the
reader warns once how many were noted by reference.

A zip is hostile input: it is read in place (nothing is extracted); only
regular members named ``*.json`` whose names are plain relative paths are
read, at most MAX_MEMBERS members are listed, and at most MAX_UNCOMPRESSED
bytes are decompressed in all, counted as they come out (a member's declared
size is not trusted), so a zip bomb stops with an error, not a full memory.
"""

import io
import re
import stat
import zipfile
import zlib

from ..errors import BadInput
from .records import JsonArray, Record, fail, parse_time, parse_uuid

ZIP_HEADER = b"PK\x03\x04"
MAX_MEMBERS = 100_000
MAX_UNCOMPRESSED = 2 * 1024 ** 3
MEDIA = (("photos", "Photo", "photos"), ("videos", "Video", "videos"),
         ("audios", "Audio", "audios"), ("pdfAttachments", "PDF", "pdfs"))
_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_NOT_DAYONE = "not a Day One export: expected an object with an \"entries\" list"


def looks_like(head):
    """Whether the start of a JSON document is Day One's (its keys, not jrnl's)."""
    return b'"creationDate"' in head or (b'"metadata"' in head and b'"entries"' in head)


def unescape(text):
    """Day One's Markdown escapes undone: ``3\\. Juni`` -> ``3. Juni``."""
    return _ESCAPE.sub(r"\1", text) if "\\" in text else text


class _Capped(io.RawIOBase):
    """A member's stream that stops at the shared budget of decompressed bytes."""

    def __init__(self, raw, budget, name):
        self.raw, self.budget, self.name = raw, budget, name

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        self.budget[0] -= len(data)
        if self.budget[0] < 0:
            raise BadInput("%s: the zip unpacks to more than %d MB, the most an import "
                           "reads: refused (a zip bomb?)" % (self.name,
                                                            MAX_UNCOMPRESSED // 1024 ** 2))
        buffer[:len(data)] = data
        return len(data)


def _member_ok(info):
    name = info.filename
    if info.is_dir() or not name.lower().endswith(".json"):
        return False
    parts = name.split("/")
    if name.startswith(("/", "\\")) or ".." in parts or "\\" in name or ":" in parts[0]:
        raise BadInput("%s: a member's name leads outside the export: refused" % name[:80])
    mode = info.external_attr >> 16
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # no type bits: a plain file
        raise BadInput("%s: a member that is not a regular file (a link?): refused"
                       % name[:80])
    if parts[0] == "__MACOSX" or parts[-1].startswith("."):
        return False
    return True


class Reader:
    def __init__(self, path, warn):
        self.path, self.warn = path, warn
        self.media = 0

    def __iter__(self):
        from .. import files

        with files.open_regular(self.path) as f:
            if f.read(4) == ZIP_HEADER:
                f.seek(0)
                yield from self._zip(f)
            else:
                f.seek(0)
                yield from self._journal(f, "")
        if self.media and self.warn:
            self.warn("%d media file%s (photos, videos, audio, PDFs) noted in the entries "
                      "by file name, not imported: keep the export's media folders"
                      % (self.media, "" if self.media == 1 else "s"))

    def _zip(self, f):
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise BadInput("%s: not a readable zip (%s)" % (self.path, exc)) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise BadInput("%s: more than %d members in the zip: refused"
                               % (self.path, MAX_MEMBERS))
            journals = sorted((i for i in infos if _member_ok(i)), key=lambda i: i.filename)
            if not journals:
                raise BadInput("%s: no Journal.json in the zip: not a Day One export"
                               % self.path)
            budget = [MAX_UNCOMPRESSED]
            # damaged compressed data raises the decompressor's own error, no OSError
            damaged = (zipfile.BadZipFile, EOFError, OSError, zlib.error) + (
                (zipfile.lzma.LZMAError,) if getattr(zipfile, "lzma", None) else ())
            for info in journals:
                try:
                    raw = archive.open(info)
                except (NotImplementedError, RuntimeError) + damaged as exc:
                    raise BadInput("%s: cannot unpack (%s)" % (info.filename, exc)) from None
                with raw:
                    stream = io.BufferedReader(_Capped(raw, budget, info.filename))
                    try:
                        yield from self._journal(stream, info.filename + ", ")
                    except damaged as exc:
                        if isinstance(exc, BadInput):
                            raise
                        raise BadInput("%s: cannot unpack (%s)" % (info.filename, exc)) \
                            from None

    def _journal(self, binary, prefix):
        array = JsonArray(binary)
        for number, item in enumerate(array.member("entries", _NOT_DAYONE), 1):
            yield self._record(item, "%sentry %d (line %d)" % (prefix, number, array.line))

    def _record(self, item, where):
        if not isinstance(item, dict):
            fail(where, "expected an object")
        text = item.get("text", "")
        if not isinstance(text, str):
            fail(where, "text must be text")
        created = _zoned(parse_time(item.get("creationDate"), where, "creationDate"),
                         item.get("timeZone"))
        updated = item.get("modifiedDate")
        updated = None if updated is None else parse_time(updated, where, "modifiedDate")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            fail(where, "tags must be a list of text")
        starred = item.get("starred", False)
        if not isinstance(starred, bool):
            fail(where, "starred must be true or false")
        title, body = _split(unescape(text.replace("\r\n", "\n")))
        extra = self._extra(item, where)
        if extra:
            body = (body.rstrip("\n") + "\n\n" if body.strip() else "") + "---\n" + extra
        return Record(created_at=created, updated_at=updated, title=title, body=body,
                      starred=starred, tags=tuple(t.strip() for t in tags if t.strip()),
                      uuid=parse_uuid(item.get("uuid"), where), inline=True, where=where)

    def _extra(self, item, where):
        lines = []
        location = item.get("location")
        if isinstance(location, dict):
            line = _location(location)
            if line:
                lines.append("Location: " + line)
        weather = item.get("weather")
        if isinstance(weather, dict):
            line = _weather(weather)
            if line:
                lines.append("Weather: " + line)
        for key, label, folder in MEDIA:
            media = item.get(key)
            if not isinstance(media, list):
                continue
            for m in media:
                if not isinstance(m, dict):
                    continue
                self.media += 1
                md5, kind = _plain(m.get("md5")), _plain(m.get("type"))
                name = ("%s/%s.%s" % (folder, md5, kind) if md5 and kind else
                        "%s/%s" % (folder, md5) if md5 else
                        "id %s" % (_plain(m.get("identifier")) or "unknown"))
                lines.append("%s: %s (not imported)" % (label, name))
        return "\n".join(lines)


def _plain(value):
    """A short single-line text from a Day One field, or ''."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:200]


def _location(loc):
    names = []
    for key in ("placeName", "localityName", "administrativeArea", "country"):
        value = _plain(loc.get(key))
        if value and value not in names:
            names.append(value)
    lat, lon = loc.get("latitude"), loc.get("longitude")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)):
        names.append("(%s, %s)" % (lat, lon))
    return ", ".join(names[:-1]) + " " + names[-1] if len(names) > 1 and \
        names[-1].startswith("(") else ", ".join(names)


def _weather(w):
    parts = []
    if _plain(w.get("conditionsDescription")):
        parts.append(_plain(w.get("conditionsDescription")))
    t = w.get("temperatureCelsius")
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        parts.append("%s °C" % (round(t, 1) if isinstance(t, float) else t))
    return ", ".join(parts)


def _zoned(created, zone):
    """``created`` in Day One's ``timeZone`` (the same instant; the offset the
    person saw), or as it is when the zone is missing or unknown."""
    if not isinstance(zone, str) or not zone or len(zone) > 64:
        return created
    try:
        from zoneinfo import ZoneInfo

        return created.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError, OSError, OverflowError):
        return created
    except Exception:  # zoneinfo's own ZoneInfoNotFoundError, a bad key
        return created


def _split(text):
    """(title, body): a first line ``# Heading`` is the title."""
    stripped = text.lstrip("\n")
    first, _, rest = stripped.partition("\n")
    heading = re.match(r"#{1,6} +(.+?)\s*#*\s*$", first)
    if heading:
        return heading.group(1).strip(), rest.strip("\n")
    return "", text.strip("\n")


def read(path, warn=None):
    """Records from a Day One export: the zip, or its Journal.json."""
    return Reader(path, warn)
