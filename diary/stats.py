"""Calendar statistics of a diary: the days written, words, streaks, "on this day".

Usage::

    from diary import stats
    days = stats.days_written(d)            # Counter: local date -> number of entries
    s = stats.summary(d)                    # entries, words, days, current/longest streak
    stats.on_this_day(d)                    # entries of this calendar day in earlier years

Days are local calendar days (the time zone of the machine now), the way a
person remembers them. A streak is a run of consecutive days with at least one
entry; the current streak still counts when today has no entry yet but
yesterday has (the day is not over), and is 0 once a whole day was missed.
"""

import calendar
import collections
import dataclasses
import datetime as _dt

from . import dates
from .store import Entry, attach_tag_paths

ONE_DAY = _dt.timedelta(days=1)


def word_count(text):
    return len(text.split())


def _today(today):
    return today if today is not None else dates.now().date()


def days_written(diary):
    """Counter of local date -> number of entries written that day."""
    with diary.read():
        stamps = [row[0] for row in Entry.select(Entry.created_at).tuples()]
    return collections.Counter(dates.local(dt).date() for dt in stamps if _has_day(dt))


def _has_day(stamp):
    """A stored date that does not read (dates.Unreadable, shown raw with a
    warning) is on no day: counted as 1970-01-01 it would invent one."""
    return not isinstance(stamp, dates.Unreadable)


def streaks(days, today=None):
    """``(current, longest)`` runs of consecutive days among ``days`` (dates)."""
    days = set(days)
    today = _today(today)
    longest = run = 0
    previous = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == ONE_DAY else 1
        longest = max(longest, run)
        previous = day
    day = today if today in days else today - ONE_DAY
    current = 0
    while day in days:
        current += 1
        day -= ONE_DAY
    return current, longest


@dataclasses.dataclass
class Summary:
    entries: int
    words: int
    days: int
    current_streak: int
    longest_streak: int
    first: _dt.date = None  # the day of the oldest entry, None for an empty diary


def summary(diary, today=None):
    """Counts over the whole diary (words of titles and texts)."""
    return report(diary, today).summary


@dataclasses.dataclass
class Year:
    """One year's counts (local years, as the days are)."""

    year: int
    entries: int
    words: int
    days: int


@dataclasses.dataclass
class Report:
    """What `diary stats` shows: the ``summary`` (of ``year`` alone when one was
    asked), every year's counts oldest first, and the days written (of the
    year asked, else of the whole diary) for the heatmap."""

    summary: Summary
    years: list
    days: collections.Counter
    year: int = None


def report(diary, today=None, year=None):
    """Entries, words, days, streaks of the diary (or of the local ``year``), and
    the counts of every year, from one pass over the entries."""
    with diary.read():
        rows = Entry.select(Entry.created_at, Entry.title, Entry.body).tuples()
        per_day = collections.Counter()
        per_year_words = collections.Counter()
        chosen_entries = chosen_words = 0
        for created, title, body in rows:
            words = word_count(title) + word_count(body)
            if not _has_day(created):  # in the whole diary's counts, in no year or day
                if year is None:
                    chosen_entries += 1
                    chosen_words += words
                continue
            day = dates.local(created).date()
            per_day[day] += 1
            per_year_words[day.year] += words
            if year is None or day.year == year:
                chosen_entries += 1
                chosen_words += words
    years = collections.defaultdict(lambda: [0, 0])  # year -> [entries, days]
    for day, n in per_day.items():
        years[day.year][0] += n
        years[day.year][1] += 1
    chosen = per_day if year is None else collections.Counter(
        {day: n for day, n in per_day.items() if day.year == year})
    current, longest = streaks(chosen, today)
    return Report(
        summary=Summary(entries=chosen_entries, words=chosen_words, days=len(chosen),
                        current_streak=current, longest_streak=longest,
                        first=min(chosen) if chosen else None),
        years=[Year(y, n, per_year_words[y], d) for y, (n, d) in sorted(years.items())],
        days=chosen, year=year)


def to_record(r):
    """The stable JSON shape of a Report (README: stats)."""
    s = r.summary
    return {
        "year": r.year,
        "entries": s.entries,
        "words": s.words,
        "days": s.days,
        "current_streak": s.current_streak,
        "longest_streak": s.longest_streak,
        "first": s.first.isoformat() if s.first else None,
        "years": [dataclasses.asdict(y) for y in r.years],
    }


def _same_day(day, today):
    if (day.month, day.day) == (today.month, today.day):
        return True
    # An entry of 29 February comes back on the 28th in the years without one.
    return (day.month, day.day) == (2, 29) and (today.month, today.day) == (2, 28) \
        and not calendar.isleap(today.year)


def on_this_day(diary, today=None):
    """Entries written on this calendar day in earlier years, newest first."""
    today = _today(today)
    with diary.read():
        rows = Entry.select(Entry.id, Entry.created_at).tuples()
        ids = [i for i, created in rows
               if _has_day(created) and (d := dates.local(created).date()).year < today.year
               and _same_day(d, today)]
        if not ids:
            return []
        return attach_tag_paths(list(Entry.select().where(Entry.id.in_(ids))
                                     .order_by(Entry.created_at.desc(), Entry.id.desc())))


def per_day(entries):
    """``[(local date, number of entries)]`` of these entries, oldest day first."""
    days = collections.Counter(dates.local(e.created_at).date() for e in entries
                               if _has_day(e.created_at))
    return sorted(days.items())


def per_tag(entries):
    """``[(tag path, number of entries)]`` of the tags these entries carry (their
    own tags, not the tags above them), the most used first, then by path."""
    counted = collections.Counter(path for e in entries for path in e.tag_list)
    return sorted(counted.items(), key=lambda item: (-item[1], item[0].casefold(), item[0]))
