"""stats: days written, streaks, words, on this day."""

import datetime as dt

from diary import dates, entries, stats

D = dt.date


def add(diary, when, body="a b c", title=""):
    return entries.add(diary, body, title=title, created_at=dates.parse(when))


def test_streaks():
    days = {D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3), D(2024, 1, 10), D(2024, 1, 11)}
    assert stats.streaks(days, today=D(2024, 1, 11)) == (2, 3)
    assert stats.streaks(days, today=D(2024, 1, 12)) == (2, 3)  # today is not over yet
    assert stats.streaks(days, today=D(2024, 1, 13)) == (0, 3)  # a whole day missed
    assert stats.streaks(set(), today=D(2024, 1, 1)) == (0, 0)


def test_days_written_are_local_days(diary):
    add(diary, "2024-03-02 23:30")
    add(diary, "2024-03-02 08:00")
    add(diary, "2024-03-04 12:00")
    assert stats.days_written(diary) == {D(2024, 3, 2): 2, D(2024, 3, 4): 1}


def test_summary_counts_words_of_titles_and_texts(diary):
    add(diary, "2024-03-01 10:00", body="one two three", title="A title")
    add(diary, "2024-03-02 10:00", body="four")
    s = stats.summary(diary, today=D(2024, 3, 2))
    assert (s.entries, s.words, s.days, s.current_streak, s.longest_streak, s.first) == (
        2, 6, 2, 2, 2, D(2024, 3, 1))
    empty = stats.Summary(0, 0, 0, 0, 0)
    assert empty.first is None


def test_on_this_day_earlier_years_newest_first(diary):
    a = add(diary, "2023-06-15 09:00")
    b = add(diary, "2020-06-15 22:00")
    add(diary, "2024-06-15 09:00")  # this year: not "on this day"
    add(diary, "2023-06-16 09:00")
    assert [e.id for e in stats.on_this_day(diary, today=D(2024, 6, 15))] == [a.id, b.id]
    assert stats.on_this_day(diary, today=D(2024, 1, 1)) == []


def test_the_29th_of_february_comes_back_on_the_28th(diary):
    leap = add(diary, "2024-02-29 09:00")
    assert [e.id for e in stats.on_this_day(diary, today=D(2025, 2, 28))] == [leap.id]
    assert stats.on_this_day(diary, today=D(2028, 2, 28)) == []  # 2028 has its own 29th
    assert [e.id for e in stats.on_this_day(diary, today=D(2028, 2, 29))] == [leap.id]
