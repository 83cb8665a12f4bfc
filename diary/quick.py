"""Quick entry: one line of text -> a date, a title, a text, a star, @tags.

``diary add 'yesterday 9pm: Long run. Felt strong #health/running *'`` is
read as::

    date     yesterday at 21:00
    title    "Long run"
    body     "Felt strong #health/running"      (the #tag is linked as always)
    starred  True

Usage::

    from diary import quick
    q = quick.parse("yesterday 9pm: Long run. Felt strong *")
    q.created_at, q.title, q.body, q.starred, q.tags

The rule, in order:

1. **A leading date.** The text before the first colon that is followed by a
   space (or ends the text) is a date only when it is, as a whole, one of:

   - an ISO date, or date and time: ``2024-03-02:``, ``2024-03-02 21:30:``,
     ``2024-03-02T21:30:``; a numeric date in the ``date_order`` setting:
     ``13/04/2024:``, ``13/04/2024 21:30:``;
   - ``today`` or ``yesterday``, alone or with a time: ``yesterday:``,
     ``today 21:30:``, ``yesterday 9pm:``, ``yesterday at 9:30 pm:``;
   - a weekday WITH a time (the latest such day before today, as
     ``--date 'monday 9am'`` reads it): ``monday 9am:``, ``fri at 18:00:``.

   Anything else is text, kept as written: ``Monday: meet Anna`` (a weekday
   without a time), ``Note: buy milk``, ``Re: the plan``, ``at 9:30 the
   train left``, ``Dear diary: ...``. A prefix of a date's shape that is not
   a date (``2024-13-45:``, the day-month riddle ``03/04/2024:``, a year
   outside 1000-9998) is refused with the reason rather than guessed: give
   ``--date`` to keep such a line as text. Dates go through dates.parse
   (and its range check, dates.stored), like ``--date``; a day without a
   time is 09:00.

2. **A trailing star.** A text ending in `` *`` (a space, then ``*``) is
   starred; the `` *`` is removed.

3. **A title.** When no ``--title`` is given (and ``quick_title`` is on, the
   default), the first sentence becomes the title when more text follows it:
   it ends at the first ``.``, ``!`` or ``?`` followed by a space, or at the
   first line break. A trailing ``.`` is dropped from the title (``!`` and
   ``?`` stay). A text of one sentence stays the text, untitled. As in jrnl, an
   abbreviation ends a sentence too (``Dr. Who called`` is titled ``Dr``).

4. **@tags.** With ``at_tags`` on (off by default: ``@anna`` in an e-mail or
   a mention stays text), ``@tag/path`` counts as ``#tag/path``, by the same
   rule tags.inline_tags applies to ``#tags`` (at a word's start, so
   ``me@example.com`` is no tag). They are linked as tags added with
   ``--tag``: editing the text later does not remove them.

Only text given as arguments is read this way; text piped on stdin is kept
exactly as it came (a file or a script's output is data, and its first line
might well start with ``2024-03-02:``).
"""

import re

from . import dates, tags as _tags
from .errors import BadInput

# The first colon followed by a space or the end: what comes before may be a date.
_SEPARATOR = re.compile(r":(?:\s|$)")
_TIME = r"(?:at\s+)?(?:\d{1,2}(?::\d{2}){1,2}(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?|noon|midnight)"
_WEEKDAY = (r"(?:mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?"
            r"|sat(?:urday)?|sun(?:day)?)")
_FORMS = re.compile(
    r"^(?:"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"  # ISO, year first
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"  # numeric, date_order
    r"|(?:today|yesterday)(?:\s+%s)?"
    r"|%s\s+%s"
    r")$" % (_TIME, _WEEKDAY, _TIME), re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
# An @tag where inline_tags would see a #tag: at a word's start.
_AT = re.compile(r"(?<![^\s(\[{\"'“‘«])@(?=\w)")


class Quick:
    """What a quick entry's text says (a plain class: dataclasses cost import time)."""

    __slots__ = ("created_at", "title", "body", "starred", "tags")

    def __init__(self, created_at, title, body, starred, tags):
        self.created_at = created_at  # an aware datetime, or None: not given
        self.title = title            # None: not derived (none found, or turned off)
        self.body = body
        self.starred = starred
        self.tags = tags              # @tag paths (with at_tags), for --tag

    def __repr__(self):
        return "Quick(%r, %r, %r, %r, %r)" % (self.created_at, self.title, self.body,
                                              self.starred, self.tags)


def date_prefix(text, base=None):
    """``(aware datetime, rest)`` when ``text`` starts with a date and a colon
    (rule 1 above), else ``(None, text)``. BadInput when the prefix has a
    date's shape but is no date."""
    match = _SEPARATOR.search(text)
    if match is None:
        return None, text
    prefix = text[:match.start()].strip()
    if not _FORMS.match(prefix):
        return None, text
    try:
        value = dates.parse(prefix, base=base)
        dates.stored(value)  # the one range
    except BadInput as exc:
        raise BadInput("%s (give --date to keep the text as written)" % exc) from None
    return value, text[match.end():].lstrip()


def split_title(text):
    """``(title, rest)``: the first sentence and what follows it, or
    ``(None, text)`` when nothing follows it (rule 3)."""
    match = _SENTENCE_END.search(text)
    if match is None:
        return None, text
    title = text[:match.end()].strip()
    rest = text[match.end():].strip()
    if title.endswith("."):
        title = title[:-1].rstrip()
    if not rest or not title:
        return None, text
    return title, rest


def at_tags(text):
    """The ``@tag/paths`` of ``text`` as tag paths, read like ``#tags`` (rule 4)."""
    marked = _AT.sub("#", text.replace("#", " "))
    return _tags.inline_tags(marked)


def parse(text, *, base=None, date=True, title=True, at=False):
    """Read a quick entry's ``text`` (rules 1-4). ``date``/``title``: whether to
    look for them (off when --date/--title were given); ``at``: the at_tags
    setting; ``base``: now (tests)."""
    created_at = None
    if date:
        created_at, text = date_prefix(text.lstrip(), base)
    text = text.strip()
    # Not a regular expression: r"\s+\*$" searched over a long run of spaces
    # inside the text takes quadratic time (minutes for 200,000 of them).
    starred = text == "*" or (text.endswith("*") and text[-2].isspace())
    if starred:
        text = text[:-1].rstrip()
    found_title = None
    if title:
        found_title, text = split_title(text)
    found_tags = at_tags((found_title or "") + "\n" + text) if at else []
    return Quick(created_at, found_title, text, starred, found_tags)
