"""Templates: files in the config directory's ``templates/`` that start an entry.

    text = templates.read(templates.folder(config_path), "evening", dates.now())

``{date}``, ``{weekday}`` and ``{time}`` are filled in; every other brace stays
as written (a template is the person's text, never a format string). A
template is named by its file name, with or without its extension.
"""

import os

from .errors import BadInput, DiaryError

MAX_BYTES = 1024 * 1024  # a template is a start, not a book


def folder(config_file):
    return os.path.join(os.path.dirname(config_file), "templates")


def names(where):
    """The template files in ``where``, sorted ([] when there is no folder)."""
    try:
        found = os.listdir(where)
    except OSError:
        return []
    return sorted(n for n in found if not n.startswith(".")
                  and os.path.isfile(os.path.join(where, n)))


def fill(text, when):
    """{date}, {weekday} and {time} filled in; every other brace left as written."""
    return (text.replace("{date}", when.strftime("%Y-%m-%d"))
            .replace("{weekday}", when.strftime("%A"))
            .replace("{time}", when.strftime("%H:%M")))


def read(where, name, when):
    """The template NAME in ``where``, filled in; BadInput when there is none."""
    if not name or "/" in name or name.startswith("."):
        raise BadInput("a template is named by its file name in %s" % where)
    have = names(where)
    found = [n for n in have if n == name or os.path.splitext(n)[0] == name]
    if not found:
        raise BadInput("no template %r in %s (%s)" % (
            name, where, "there are: " + ", ".join(have) if have else "there is none yet"))
    path = os.path.join(where, found[0])
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
        with open(fd, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DiaryError("cannot read the template %s: %s" % (path, exc.strerror)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the template %s is not UTF-8 text" % path) from None
    if len(data) > MAX_BYTES or "\x00" in text:
        raise BadInput("the template %s is not a text of at most 1 MB" % path)
    return fill(text, when)
