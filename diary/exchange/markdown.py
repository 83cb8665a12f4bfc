"""Markdown: one readable document of many entries, or one file per entry.

A file per entry (``export --split DIR``, and what ``import`` reads from a
folder) starts with front matter whose values are JSON (which is also YAML)::

    ---
    uuid: 3f0c7a52-6b1e-4d3c-9a53-0b7e8a9f1c2d
    created_at: 2024-03-02T21:30:00+01:00
    updated_at: 2024-03-02T21:30:00+01:00
    title: "Long run"
    tags: ["health/running"]
    starred: false
    ---
    Ran 12 km by the river.

and then the text, followed by one newline that is not part of it: such a
file imports back exactly. Hand-written files need no front matter: the
title is then a first ``# Heading`` line, the date the ``YYYY-MM-DD`` (and
optional ``-HHMM``) a file name starts with, else the file's modification
time. Accepted keys: ``date``/``created``/``created_at``,
``updated``/``updated_at``, ``title``, ``tags`` (a list, a block list, or
words separated by commas), ``starred``, ``uuid``; others (Obsidian's
``aliases``, Hugo's ``draft``) are ignored. Front matter is YAML, read by
PyYAML's safe loader (imported only here), without aliases and with dates
kept as text for dates.parse_iso. PyYAML refuses some characters JSON allows
(C1 controls, U+FFFE): front matter that it refuses for them is read as our
own ``key: JSON`` lines.
"""

import datetime as _dt
import json
import os
import re

from .. import dates
from ..errors import BadInput
from . import records
from .records import (Record, export_record, fail, file_uuid, parse_time,
                      parse_uuid, too_large)

_SLUG = re.compile(r"[^\w]+")
_NAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[-_T ](\d{2})[:.]?(\d{2}))?")


# --- writing ---------------------------------------------------------------------

META = "<!-- diary: "


def write_document(out, rows):
    """One readable Markdown document: a heading per entry, a line with the
    date, star and tags, then the text; entries apart by ``---``. Under each
    heading an HTML comment (invisible when rendered) carries what the import
    needs to rebuild the entry exactly: uuid, dates to the microsecond, title,
    tags, star, and the text's length in characters (so that no text, however
    it looks, can be taken for the next entry)."""
    first = True
    for entry in rows:
        if not first:
            out.write("\n---\n\n")
        first = False
        when = dates.local(entry.created_at).strftime("%Y-%m-%d %H:%M") \
            if not isinstance(entry.created_at, dates.Unreadable) else "unreadable date"
        out.write("# %s\n\n" % (_one_line(entry.title) or when))
        record = export_record(entry)
        record["uuid"] = file_uuid(record["uuid"])
        meta = {k: record[k] for k in ("uuid", "created_at", "updated_at", "title", "tags",
                                       "starred")}
        meta["chars"] = len(entry.body)
        # ASCII JSON with > escaped: one line that never holds "-->".
        out.write(META + json.dumps(meta).replace(">", "\\u003e") + " -->\n")
        shown = ["*%s*" % when]
        if entry.starred:
            shown.append("★ starred")
        if entry.tag_list:
            shown.append("tags: " + ", ".join("`%s`" % _one_line(t) for t in entry.tag_list))
        out.write(" · ".join(shown) + "\n")
        if entry.body:
            out.write("\n" + entry.body + "\n")


_META_LINE = re.compile(r"<!-- diary: (\{.*\}) -->\r?\n?$")


def is_document(head):
    """Whether a Markdown file's start (text) is our single-file export."""
    return head.startswith("# ") and "\n" + META + "{" in head


def read_document(binary, where_prefix=""):
    """Records from our single-file Markdown export, streamed line by line:
    each entry's comment gives its fields and its text's length, and the text
    is exactly that many characters after the date line and a blank one."""
    from .records import text_lines

    lines = text_lines(binary)
    for number, line in lines:
        match = _META_LINE.match(line) if line.startswith(META) else None
        if not match:
            continue
        where = "%sline %d" % (where_prefix, number)
        meta = records.loads(match.group(1), where)
        if not isinstance(meta, dict):
            fail(where, "the entry's comment is not an object")
        chars = meta.pop("chars", 0)
        if not isinstance(chars, int) or isinstance(chars, bool) or chars < 0:
            fail(where, "chars must be the text's length")
        if chars > records.MAX_RECORD:
            too_large(where)
        next(lines, None)  # the date, star and tags line: for people
        body = ""
        if chars:
            blank = next(lines, (0, ""))[1]
            if blank.strip():
                fail(where, "expected a blank line before the entry's text")
            pieces, size = [], 0
            for _, piece in lines:
                pieces.append(piece)
                size += len(piece)
                if size > chars:
                    break
            text = "".join(pieces)
            if len(text) < chars:
                fail(where, "the file ends inside the entry's text (was it cut?)")
            body = text[:chars]
            if text[chars:].rstrip("\r\n"):
                fail(where, "the entry's text is not %d characters long (was it edited?)"
                     % chars)
        meta["body"] = body
        yield records.from_json(meta, where)


def _one_line(text):
    return " ".join(text.split())


def entry_file(entry):
    """The text of one entry's file: front matter, the text, one final newline."""
    record = export_record(entry)
    record["uuid"] = file_uuid(record["uuid"])  # one line, whatever was stored
    lines = ["---"]
    for key in ("uuid", "created_at", "updated_at"):
        lines.append("%s: %s" % (key, record[key]))
    for key in ("title", "tags", "starred"):
        lines.append("%s: %s" % (key, json.dumps(record[key], ensure_ascii=False)))
    lines.append("---")
    return "\n".join(lines) + "\n" + record["body"] + "\n"


def file_name(entry, taken):
    """``2024-03-02-2130-long-run-3f0c7a52.md``: sortable, stable across exports."""
    when = ("unreadable-date" if isinstance(entry.created_at, dates.Unreadable)
            else dates.local(entry.created_at).strftime("%Y-%m-%d-%H%M"))
    slug = _SLUG.sub("-", entry.title.casefold()).strip("-_")[:50].rstrip("-_")
    uuid = file_uuid(entry.uuid)
    stem = "-".join(p for p in (when, slug, uuid[:8]) if p)
    if stem in taken:
        stem = "%s-%s" % (when, uuid)
    taken.add(stem)
    return stem + ".md"


# --- reading ---------------------------------------------------------------------

class Folder:
    """The records of every ``*.md`` file under ``path`` (or of the one file
    ``path``), in name order. Symbolic links are never followed (a link may
    lead out of the folder, or to /dev/zero): ``links_skipped`` counts the
    files and folders left out for being one. A ``.md`` name that is not a
    regular file (a FIFO, a device) is refused, naming it."""

    def __init__(self, path, folder_tags=False):
        self.path = path
        self.folder_tags = folder_tags
        self.links_skipped = 0

    def files(self):
        path = self.path
        if not os.path.isdir(path):
            return [path]
        found = []
        for root, dirs, names in os.walk(path):  # never descends into a linked folder
            self.links_skipped += sum(os.path.islink(os.path.join(root, d)) for d in dirs)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and not os.path.islink(os.path.join(root, d)))
            for n in names:
                if n.lower().endswith((".md", ".markdown")) and not n.startswith("."):
                    file = os.path.join(root, n)
                    if os.path.islink(file):
                        self.links_skipped += 1
                    else:
                        found.append(file)
        found.sort()
        return found

    def __iter__(self):
        path = self.path
        for file in self.files():
            if file == path:
                document = _document(file)
                if document is not None:
                    yield from document
                    continue
                yield read_file(file, os.path.basename(file), label=file)
            else:
                name = os.path.relpath(file, path)
                record = read_file(file, name, follow=False)
                folder = os.path.dirname(name)
                if self.folder_tags and folder:
                    record.tags = _with_folder(record.tags, folder, name)
                yield record


def _with_folder(tags, folder, where):
    """The record's tags and its folder as a tag path (``work/acme/x.md``: work/acme)."""
    from .. import tags as _tags

    try:
        path = "/".join(_tags.parse_path(folder.replace(os.sep, "/")))
    except Exception as exc:
        fail(where, "its folder is no tag path (%s)" % exc)
    return tuple(tags) + (path,)


def _document(file):
    """The records of ``file`` when it is our single-file export, else None."""
    from .. import files

    with files.open_regular(file) as f:
        head = f.read(64 * 1024)
    try:
        head = head.decode("utf-8", "ignore").lstrip("\ufeff")
    except UnicodeDecodeError:
        return None
    if not is_document(head):
        return None
    return _document_records(file)


def _document_records(file):
    from .. import files

    with files.open_regular(file) as f:
        yield from read_document(f)


def read_folder(path, folder_tags=False):
    """Records from every ``*.md`` file under ``path`` (or the one file ``path``);
    with ``folder_tags``, each file's folder is a tag path of its entry."""
    return Folder(path, folder_tags)


def read_file(file, where, *, follow=True, label=None):
    from .. import files

    with files.open_regular(file, follow=follow, label=label or where) as f:
        try:
            raw = f.read(records.MAX_RECORD + 1)
            mtime = os.fstat(f.fileno()).st_mtime
        except OSError as exc:
            fail(where, "cannot read: %s" % (exc.strerror or exc))
    if len(raw) > records.MAX_RECORD:
        too_large(where, "the file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail("%s, line %d" % (where, raw[:exc.start].count(b"\n") + 1), "not valid UTF-8")
    return parse(text.lstrip("\ufeff"), where, os.path.basename(file), mtime)


def parse(text, where, name, mtime=None):
    """A Record from one Markdown file's text."""
    meta, body = _front_matter(text, where)
    if body.endswith("\n"):
        body = body[:-1]
    title = meta.pop("title", None)
    if title is None and not meta.get("_had_front_matter"):
        heading = re.match(r"# +(.*)\n?", body)
        if heading:
            title, body = heading.group(1).strip(), body[heading.end():].lstrip("\n")
    meta.pop("_had_front_matter", None)
    title = "" if title is None else title
    if isinstance(title, (int, float, _dt.date)) and not isinstance(title, bool):
        title = str(title)  # `title: 1984`
    if not isinstance(title, str):
        fail(where, "title must be text")
    created = _first(meta, "created_at", "created", "date")
    created = (_time(created, where, "date") if created is not None
               else _date_from_name(name) or _dt.datetime.fromtimestamp(mtime or 0).astimezone())
    updated = _first(meta, "updated_at", "updated", "modified")
    updated = _time(updated, where, "updated_at") if updated is not None else None
    uuid = parse_uuid(meta.get("uuid"), where)
    return Record(created_at=created, updated_at=updated, title=title, body=body,
                  starred=_bool(meta.get("starred", False), where), uuid=uuid,
                  tags=_tag_list(meta.get("tags", meta.get("tag", [])), where),
                  inline=True, where=where)


MAX_FRONT_MATTER = 64 * 1024


def _front_matter(text, where):
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 3)
    if end < 0:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            return {}, text  # a horizontal rule, not front matter
    meta = {"_had_front_matter": True}
    for key, value in _yaml(text[4:end], where).items():
        meta[str(key).strip().lower()] = value
    return meta, text[end + 5:]


def _yaml_loader():
    """PyYAML's safe loader, minus two things a front matter never needs:
    aliases (``&a``/``*a``: a billion laughs in a few lines) are refused, and
    timestamps stay text, read by dates.parse_iso like every other date."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not read here", event.start_mark)
            return super().compose_node(parent, index)

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return yaml, Loader


def _yaml(text, where):
    """The front matter ``text`` as a dict, through PyYAML's safe loader."""
    if records.too_deep(text):
        fail(where + ", line 2", records.too_deep_message())
    if len(text) > MAX_FRONT_MATTER:
        fail(where, "the front matter is longer than %d KB" % (MAX_FRONT_MATTER // 1024))
    if any(c in text for c in _YAML_BREAKS):
        # YAML folds NEL, LS and PS inside a scalar into a space; JSON keeps
        # them. Front matter of `key: value` lines only (export --split's) is
        # read as JSON values then, so a title holding them survives.
        meta = _json_lines(text, where, strict=True)
        if meta is not None:
            return meta
    yaml, loader = _yaml_loader()
    try:
        value = yaml.load(text, Loader=loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.reader.ReaderError:
        return _json_lines(text, where)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = ", line %d" % (mark.line + 2) if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        fail(where + line, "front matter: %s" % problem)
    except RecursionError:
        fail(where, "the front matter is " + records.too_deep_message())
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(where, "front matter must be `key: value` lines")
    return value


_YAML_BREAKS = "\x85\u2028\u2029"  # raw in JSON text (json.dumps escapes \r)


def _json_lines(text, where, strict=False):
    """Front matter as export --split writes it: ``key: JSON value`` lines (a
    value that is no JSON is text). ``strict``: None unless every line is
    ``key: value`` with a plain key (no YAML block list, no comment)."""
    meta = {}
    for number, line in enumerate(text.split("\n"), 2):  # not splitlines: \x85 is text
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or (strict and not re.fullmatch(r"\w+", key)):
            if strict:
                return None
            fail("%s, line %d" % (where, number), "front matter lines are `key: value`")
        value = value.strip()
        if strict and not value:
            return None  # `tags:` opening a block list
        try:
            meta[key.strip().lower()] = records.loads(value, "%s, line %d" % (where, number))
        except BadInput:
            meta[key.strip().lower()] = value
    return meta


def _first(meta, *keys):
    for k in keys:
        if meta.get(k) is not None:
            return meta[k]
    return None


def _time(value, where, field):
    if isinstance(value, (_dt.datetime, _dt.date)):
        value = value.isoformat()  # an explicit !!timestamp
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return parse_time(value, where, field)


def _bool(value, where):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "true", "y", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("no", "false", "n", "off", ""):
        return False
    fail(where, "starred must be true or false")


def _tag_list(value, where):
    if value is None:
        return ()
    if isinstance(value, str):
        value = [t for t in re.split(r"[,\s]+", value) if t]
    if isinstance(value, list):  # `tags: [2024, travel]`: a number is a tag too
        value = [str(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else t
                 for t in value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        fail(where, "tags must be a list of tag paths")
    return tuple(value)


def _date_from_name(name):
    match = _NAME_DATE.match(name)
    if not match:
        return None
    day, hour, minute = match.groups()
    try:
        value = _dt.datetime.fromisoformat(day)
        value = value.replace(hour=int(hour) if hour else dates.DEFAULT_HOUR,
                              minute=int(minute) if hour else 0)
    except ValueError:
        return None
    return dates.aware(value)

