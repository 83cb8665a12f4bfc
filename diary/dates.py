"""Dates: what a person types or a file holds, turned into the one stored form.

Every date that enters the diary (``add``/``edit --date``, every importer,
``merge``) goes through ``stored``, which checks it against ONE range and
returns the text the entry table keeps: zero-padded UTC,
``2024-03-02T20:30:00.000000Z``. The range is 1000-01-02 00:00 to
9998-12-30 23:59:59.999999 UTC, so that the same instant in any local time
(offsets up to 14 hours either way) still falls in the years 1000 to 9998:
shown, converted and exported without overflow, always four digits.

Reading is the other way: ``read_stored`` turns stored text into an aware
datetime, or, for text that is not a date in that range (written by another
SQLCipher tool, or by an old version), into an ``Unreadable`` date that
shows its raw text. One such row never takes the others down;
``take_unreadable`` tells the caller that some were met, ``diary check``
names them.

A person's dates: ISO forms (``2024-03-02``, ``2024-03-02 21:30``, with or
without an offset), numeric day/month/year forms in the order ``DATE_ORDER``
(``04/03/2024``), and words (``yesterday 21:30``, ``last friday``) through
dateparser, imported only then because it is slow to import. Rules:

- a naive time is local time; one that does not exist there (the clocks
  went forward: 02:30 on a spring night in Berlin) moves forward by the gap
  (to 03:30), never back;
- a date without a time is ``DEFAULT_HOUR`` (09:00, as jrnl does), for
  entries; a filter (``--since``, ``on:``) takes the whole day instead;
- text that starts with a four-digit year is year-month-day, always; other
  text goes to dateparser only when it holds a word or is a time of day
  (``15``, ``1e9``, ``1,5`` are refused, not guessed);
- a numeric date whose day and month could be swapped (``03/04/2024``) is
  refused, naming both readings: write it as 2024-04-03. ``13/04/2024`` is
  read by DATE_ORDER.
"""

import datetime as _dt
import re

from .errors import BadInput

UTC = _dt.timezone.utc
EARLIEST = _dt.datetime(1000, 1, 2, tzinfo=UTC)
LATEST = _dt.datetime(9998, 12, 31, tzinfo=UTC) - _dt.timedelta(microseconds=1)
RANGE_TEXT = "between 1000-01-02 and 9998-12-30 (UTC)"
MIN_YEAR, MAX_YEAR = 1000, 9998  # what a person may type, before conversion
DEFAULT_HOUR = 9
# The order of day, month and year in a numeric date like 04/03/2024: "dmy"
# or "mdy" (a later config setting, date_order, sets it).
DATE_ORDER = "dmy"

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d+)(?:[ T]+(\d{1,2}:\d{2}(?::\d{2})?))?$")
_YEAR_FIRST = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})"
                         r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
# What dateparser is given must hold a word ("yesterday", "pm", "March") or be
# a time of day: alone, it reads "1e9" as 1 September and "15" as the 15th.
_WORD = re.compile(r"[^\W\d_]{2,}")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
_NUMERIC_START = re.compile(r"^\d{1,2}[/.]\d{1,2}(?:[/.]|$)")
# A whole numeric day, then something that is not a time as 21:30 ("at 23:42",
# "9pm": jrnl's examples): the year is fine, the time is what cannot be read.
_NUMERIC_DAY_THEN = re.compile(r"^(\d{1,2}([/.])\d{1,2}\2\d{4})\s+\S")


def now():
    return _dt.datetime.now().astimezone()


def local(dt):
    """``dt`` in the local time zone (for display and export)."""
    return dt.astimezone()


def aware(naive):
    """A naive wall-clock time as an aware local time. A time that does not
    exist locally (in a DST gap) moves forward by the gap, never back.

    At the very edges of time (years 1 and 9999) the local conversion itself
    overflows: such a time is taken as UTC, which is far outside the stored
    range anyway, so ``stored`` refuses it naming where it came from."""
    try:
        first = (naive.replace(fold=0) if naive.fold else naive).astimezone()
    except (ValueError, OverflowError):
        return naive.replace(tzinfo=UTC)
    if first.replace(tzinfo=None) == naive:
        return first
    second = naive.replace(fold=1).astimezone()
    return max(first, second).astimezone()


# --- the stored form ------------------------------------------------------------

def text(value):
    """The stored form of an aware datetime, without the range check (for
    query bounds). The year is formatted here: strftime's %Y is not
    zero-padded below 1000 on glibc."""
    if isinstance(value, Unreadable):
        return value.raw  # as it was stored: reading it back changes nothing
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return _utc_text(value.astimezone(UTC))


def _utc_text(u):
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond)


def stored(value, where=""):
    """Any incoming date (aware, or naive local) -> the stored text.

    BadInput, prefixed with ``where`` ("line 12"), when it is no date or
    falls outside the one range."""
    if isinstance(value, Unreadable) or not isinstance(value, _dt.datetime):
        _fail(where, "not a date: %s" % shown(str(value)))
    if value.tzinfo is None:
        value = aware(value)
    try:
        u = value.astimezone(UTC)
    except OverflowError:
        u = None
    if u is None or not EARLIEST <= u <= LATEST:
        _fail(where, "the date %s is out of range: dates must fall %s"
              % (shown(value.isoformat()), RANGE_TEXT))
    return _utc_text(u)


def parse_iso(value, where="", field="date"):
    """An ISO 8601 timestamp from a file (JSON, front matter, a merge source)
    -> an aware datetime in the range; naive is local time, a bare day is
    DEFAULT_HOUR. BadInput names ``where`` and ``field``."""
    if not isinstance(value, str):
        _fail(where, "%s must be an ISO 8601 date as text" % field)
    raw = value.strip()
    try:
        stamp = _dt.datetime.fromisoformat(raw)
    except ValueError:
        _fail(where, "%s is not an ISO 8601 date: %s" % (field, shown(raw)))
    if _DATE_ONLY.match(raw):
        stamp = stamp.replace(hour=DEFAULT_HOUR)
    if stamp.tzinfo is None:
        stamp = aware(stamp)
    stored(stamp, "%s: %s" % (where, field) if where else field)
    return stamp


def canonical(value, where="", field="date"):
    """Text from another diary file (merge) -> the stored form, validated."""
    return stored(parse_iso(value, where, field), where)


def read_stored(value):
    """Stored text -> an aware datetime, or an Unreadable for anything that is
    not a date in the range (never raises)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Raw SQL can put a BLOB in the TEXT column: shown as the SQL literal it is.
        return Unreadable("x'%s'" % bytes(value).hex())
    try:
        stamp = _dt.datetime.fromisoformat(value)
        if stamp.tzinfo is not None and EARLIEST <= stamp <= LATEST:
            return stamp
    except (TypeError, ValueError):
        pass
    return Unreadable(value)


def readable(value):
    """Whether stored text is a date in the range, in the stored form exactly."""
    stamp = read_stored(value)
    return not isinstance(stamp, Unreadable) and text(stamp) == value


_met = []
_MET_KEPT = 100  # a long menu session that never asks keeps no more than these


def take_unreadable():
    """The raw texts of unreadable dates read since the last call (then forgotten)."""
    found = list(dict.fromkeys(_met))
    _met.clear()
    return found


class Unreadable(_dt.datetime):
    """A stored date that does not read. It compares as 1970-01-01 UTC, stays
    itself in any time zone, and formats (strftime, isoformat, str) as its
    raw text, escaped and cut short, so every renderer shows it as stored."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and not isinstance(args[0], bytes):
            self = super().__new__(cls, 1970, 1, 1, tzinfo=UTC)
            self.raw = args[0]
            if len(_met) < _MET_KEPT:
                _met.append(self.shown)
            return self
        # datetime's arithmetic builds results through type(self)(...): a plain one
        return _dt.datetime(*args, **kwargs)

    @property
    def shown(self):
        return shown(self.raw)

    def astimezone(self, tz=None):
        return self

    def replace(self, *args, **kwargs):
        return _dt.datetime(1970, 1, 1, tzinfo=UTC).replace(*args, **kwargs)

    def strftime(self, fmt):
        return self.shown

    def isoformat(self, *args, **kwargs):
        return self.shown

    __str__ = isoformat

    def __repr__(self):
        return "Unreadable(%r)" % self.raw

    def __reduce__(self):
        return (Unreadable, (self.raw,))


def shown(raw):
    """Raw text fit for a message or a terminal: printable, at most 40 characters."""
    if raw is None:
        return "NULL"
    raw = str(raw)
    cut = raw[:40]
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return out + ("..." if len(raw) > 40 else "")


def _fail(where, message):
    raise BadInput("%s: %s" % (where, message) if where else message)


# --- what a person types --------------------------------------------------------

def parse(text, *, base=None, bound=None):
    """Parse a user's date into an aware datetime.

    ``bound`` is for filters: when the text names a day without a time
    (``2024-03-02``, ``yesterday``), "start" snaps to its first microsecond and
    "end" to its last, so ``--until 2024-03-02`` includes that whole day.
    Without ``bound``, such a day is at DEFAULT_HOUR.

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
        value, date_only = _year_first(text) or _numeric(text) or _natural(text, base)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise BadInput("dates must fall between the years %d and %d: %s"
                       % (MIN_YEAR, MAX_YEAR, shown(text)))
    if date_only:
        value = value.replace(hour=DEFAULT_HOUR if not bound else 0, minute=0, second=0,
                              microsecond=0)
    if value.tzinfo is None:
        value = aware(value)  # a naive time is local time
    if date_only and bound == "end":
        value = aware(value.replace(tzinfo=None) + _dt.timedelta(days=1)) \
            - _dt.timedelta(microseconds=1)
    return value


def day_bounds(value):
    """The first and the last microsecond of ``value``'s local day (23 or 25
    hours long on the days the clocks change)."""
    start = local(value).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    return (aware(start),
            aware(start + _dt.timedelta(days=1)) - _dt.timedelta(microseconds=1))


def numeric_form(text):
    """Whether ``text`` is (or starts like) a numeric date such as 04/03/2024."""
    text = (text or "").strip()
    return bool(_NUMERIC.match(text) or _NUMERIC_START.match(text))


def _numeric(text):
    """(naive datetime, date only) for 04/03/2024 [21:30] in DATE_ORDER, or
    None when the text is not of that form."""
    m = _NUMERIC.match(text)
    if not m:
        day = _NUMERIC_DAY_THEN.match(text)
        if day:
            raise BadInput("cannot understand the date %s: after a numeric date only a time "
                           "like 21:30 is read (%s 21:30), or write 2024-03-02 21:30"
                           % (shown(text), day.group(1)))
        if _NUMERIC_START.match(text):
            raise BadInput("cannot understand the date %s: write the year in full, "
                           "like %s, or write 2024-03-02" % (shown(text), _example()))
        return None
    first, second, year, clock = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if len(year) != 4:
        raise BadInput("cannot understand the date %s: write the year with four digits, "
                       "like %s" % (shown(text), _example()))
    day, month = (first, second) if DATE_ORDER == "dmy" else (second, first)
    hour = minute = sec = 0
    if clock:
        hour, minute, *rest = (int(p) for p in clock.split(":"))
        sec = rest[0] if rest else 0
    try:
        value = _dt.datetime(int(year), month, day, hour, minute, sec)
    except ValueError:
        raise BadInput("%s is not a date in %s order (like %s); or write 2024-03-02"
                       % (shown(text), _order_name(), _example())) from None
    if day != month and day <= 12 and month <= 12:
        other = _dt.date(int(year), day, month)
        raise BadInput("%s could be %s or %s: write it as %s or %s"
                       % (shown(text), value.strftime("%-d %B %Y"),
                          other.strftime("%-d %B %Y"), value.date().isoformat(),
                          other.isoformat()))
    return value, not clock


def _year_first(text):
    """(naive datetime, date only) for 2024-3-2 or 2024/03/02 [21:30], always
    year, month, day (never the year-day-month dateparser would guess for
    2024-13-01), or None when the text is not of that form."""
    m = _YEAR_FIRST.match(text)
    if not m:
        return None
    year, month, day, hour, minute, sec = (int(g or 0) for g in m.groups())
    try:
        return _dt.datetime(year, month, day, hour, minute, sec), m.group(4) is None
    except ValueError:
        raise BadInput("%s is not a date: write year-month-day, like 2024-03-02"
                       % shown(text)) from None


def _order_name():
    return "day/month/year" if DATE_ORDER == "dmy" else "month/day/year"


def _example():
    return "25/12/2024" if DATE_ORDER == "dmy" else "12/25/2024"


_TIME_WORDS = re.compile(r"\d:\d|\d\s*(am|pm)\b|\bnoon\b|\bmidnight\b|\bnow\b|\bago\b",
                         re.IGNORECASE)


def _natural(text, base):
    if len(text) > 200 or not (_WORD.search(text) or _CLOCK.match(text)):
        raise BadInput("cannot understand the date %s" % shown(text))
    import dateparser  # slow to import: only when a date is not ISO

    settings = {
        "RELATIVE_BASE": base.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": DATE_ORDER.upper(),
    }
    try:
        # English words only: with every language it knows, dateparser reads
        # typos as dates ("eb" as 6 May, "ab" as 6 April).
        value = dateparser.parse(text, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        value = None
    if value is None or not _clock_kept(text, value):
        raise BadInput("cannot understand the date %s (try 2024-03-02 or 'yesterday 21:30')"
                       % shown(text))
    return value, not _TIME_WORDS.search(text)


_CLOCK_IN = re.compile(r"\b(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap])?\.?(m\b)?", re.IGNORECASE)


def _clock_kept(text, value):
    """Whether the time of day written in ``text`` (21:30, 9pm, 9:30 am) is the
    one dateparser returned: it ignores a time it cannot read ("yesterday
    25:00" came back as yesterday at the current time)."""
    for m in _CLOCK_IN.finditer(text):
        hour, minute, half, m_letter = m.groups()
        if minute is None and not (half and m_letter):
            continue  # a bare number: a day or a year, not a time
        hour, minute = int(hour), int(minute or 0)
        if half:
            if not 1 <= hour <= 12:
                return False
            hour = hour % 12 + (12 if half.lower() == "p" else 0)
        return (value.hour, value.minute) == (hour, minute)
    return True
