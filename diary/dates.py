"""Dates a person types, turned into aware datetimes.

ISO forms (``2024-03-02``, ``2024-03-02 21:30``, with or without an offset)
are parsed directly; anything else (``yesterday 21:30``, ``last friday``,
``3 days ago``) goes to dateparser, imported only then because it is slow to
import. A naive time is taken in the local time zone.
"""

import datetime as _dt
import re

from .errors import BadInput

MIN_YEAR, MAX_YEAR = 1000, 9998
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now():
    return _dt.datetime.now().astimezone()


def local(dt):
    """``dt`` in the local time zone (for display and export)."""
    return dt.astimezone()


def parse(text, *, base=None, bound=None):
    """Parse a user's date into an aware datetime.

    ``bound`` is for filters: when the text names a day without a time
    (``2024-03-02``, ``yesterday``), "start" snaps to its first microsecond and
    "end" to its last, so ``--until 2024-03-02`` includes that whole day.

    Raises BadInput with a one-line message for anything unparseable.
    """
    text = (text or "").strip()
    if not text:
        raise BadInput("empty date")
    base = base or now()
    date_only = bool(_DATE_ONLY.match(text))
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        value, date_only = _natural(text, base)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        # beyond these, time-zone arithmetic overflows datetime's range
        raise BadInput("dates must fall between the years %d and %d: %r"
                       % (MIN_YEAR, MAX_YEAR, text))
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is local time
    if date_only and bound:
        value = value.replace(hour=0, minute=0, second=0, microsecond=0)
        if bound == "end":
            value = value + _dt.timedelta(days=1) - _dt.timedelta(microseconds=1)
    return value


_TIME_WORDS = re.compile(r"\d:\d|\d\s*(am|pm)\b|\bnoon\b|\bmidnight\b|\bnow\b|\bago\b",
                         re.IGNORECASE)


def _natural(text, base):
    if len(text) > 200:
        raise BadInput("cannot understand the date %r" % text[:40])
    import dateparser  # slow to import: only when a date is not ISO

    settings = {
        "RELATIVE_BASE": base.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        value = dateparser.parse(text, settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        value = None
    if value is None:
        raise BadInput("cannot understand the date %r (try 2024-03-02 or 'yesterday 21:30')"
                       % text)
    return value, not _TIME_WORDS.search(text)
