"""Telling a source that is really empty from one in which nothing reads.

An import that read no entry either had nothing to read (an empty file, an
export of an empty diary: ``[]``, ``{"entries": []}``, a CSV header alone, an
empty folder), which is "0 entries in SOURCE", exit 0; or it read the wrong
thing (a jrnl folder journal as Markdown, a folder of .txt notes), which is an
error, exit 1, saying what was tried.
"""

import json
import os

from .. import files

SMALL = 1024 * 1024  # an "empty" document larger than this is not one


def _visible_files(path):
    for root, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for n in names:
            if not n.startswith("."):
                yield os.path.join(root, n)


def really_empty(path, fmt):
    if os.path.isdir(path):
        return next(_visible_files(path), None) is None
    try:
        with files.open_regular(path) as f:
            data = f.read(SMALL + 1)
    except Exception:
        return False
    if len(data) > SMALL:
        return False
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return False
    if not text:
        return True
    if fmt == "csv":
        return "\n" not in text and text.startswith("uuid,")
    if fmt in ("json", "jrnl-json", "dayone"):
        try:
            doc = json.loads(text)
        except ValueError:
            return False
        if doc == []:
            return True
        return isinstance(doc, dict) and doc.get("entries") == []
    return False


def hint(path, fmt):
    """A few words on what else ``path`` might be."""
    if os.path.isdir(path):
        from . import jrnl_folder

        if fmt != "jrnl-folder" and jrnl_folder.looks_like(path):
            return " (it looks like a jrnl folder journal: --format jrnl-folder)"
        if fmt == "markdown":
            return " (only .md and .markdown files are read)"
    return ""
