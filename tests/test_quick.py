"""Quick entry (quick.py): the leading date, the title, the star, @tags; and
`diary add 'yesterday 9pm: ...'` end to end."""

import datetime as _dt
import json

import pytest
from hypothesis import given, settings, strategies as st

from diary import dates, quick
from diary.errors import BadInput

BASE = dates.aware(_dt.datetime(2024, 6, 15, 12, 0))  # a Saturday, noon


def read(text, **kwargs):
    return quick.parse(text, base=BASE, **kwargs)


# --- the rule's examples ------------------------------------------------------

def test_the_example_of_the_issue():
    q = read("yesterday 9pm: Long run. Felt strong #health/running *")
    assert q.created_at == dates.aware(_dt.datetime(2024, 6, 14, 21, 0))
    assert (q.title, q.body, q.starred, q.tags) == (
        "Long run", "Felt strong #health/running", True, [])


@pytest.mark.parametrize("text, when", [
    ("2024-03-02: x", _dt.datetime(2024, 3, 2, 9, 0)),
    ("2024-03-02 21:30: x", _dt.datetime(2024, 3, 2, 21, 30)),
    ("2024-03-02T21:30:15: x", _dt.datetime(2024, 3, 2, 21, 30, 15)),
    ("13/04/2024: x", _dt.datetime(2024, 4, 13, 9, 0)),
    ("13/04/2024 07:05: x", _dt.datetime(2024, 4, 13, 7, 5)),
    ("today: x", _dt.datetime(2024, 6, 15, 9, 0)),
    ("Yesterday: x", _dt.datetime(2024, 6, 14, 9, 0)),
    ("today 21:30: x", _dt.datetime(2024, 6, 15, 21, 30)),
    ("yesterday at 9:30 pm: x", _dt.datetime(2024, 6, 14, 21, 30)),
    ("monday 9am: x", _dt.datetime(2024, 6, 10, 9, 0)),
    ("Fri at 18:00: x", _dt.datetime(2024, 6, 14, 18, 0)),
])
def test_a_leading_date_sets_the_date(text, when):
    q = read(text, title=False)
    assert (q.created_at, q.body) == (dates.aware(when), "x")


@pytest.mark.parametrize("text", [
    "Monday: meet Anna",            # a weekday without a time
    "Note: buy milk",
    "Re: the plan",
    "Dear diary: today was long",
    "at 9:30: the train left",
    "9pm: dinner",                  # a time without a day
    "today was fine: really",
    "2024: a good year",
    "Meeting at 10:30 with Anna: went well",
    "ratio 3:1 is fine",
    "http://example.com/x: a link",
    "yesterday's run: 10 km",
    "Monday 9am meeting: moved",
])
def test_other_text_with_colons_stays_text(text):
    q = read(text, title=False)
    assert (q.created_at, q.body) == (None, text)


@pytest.mark.parametrize("text, reason", [
    ("2024-13-45: x", "not a date"),
    ("03/04/2024: x", "could be"),
    ("0999-01-01: x", "between the years"),
    ("yesterday 25:00: x", "cannot understand"),
])
def test_a_date_shaped_prefix_that_is_no_date_is_refused(text, reason):
    with pytest.raises(BadInput, match=reason) as caught:
        read(text)
    assert "--date" in str(caught.value)


def test_date_order_reads_numeric_dates(monkeypatch):
    monkeypatch.setattr(dates, "DATE_ORDER", "mdy")
    assert read("04/13/2024: x").created_at.date() == _dt.date(2024, 4, 13)
    with pytest.raises(BadInput):
        read("13/04/2024: x")


def test_a_date_is_not_looked_for_when_told_not_to():
    q = read("yesterday 9pm: run", date=False)
    assert (q.created_at, q.body) == (None, "yesterday 9pm: run")


@pytest.mark.parametrize("text, title, body", [
    ("Long run. Felt strong", "Long run", "Felt strong"),
    ("What a day! It rained", "What a day!", "It rained"),
    ("First line\nsecond line", "First line", "second line"),
    ("One sentence only.", None, "One sentence only."),
    ("Ran 12.5 km today", None, "Ran 12.5 km today"),
    ("A. B", "A", "B"),
])
def test_the_first_sentence_is_the_title_when_more_follows(text, title, body):
    q = read(text)
    assert (q.title, q.body) == (title, body)


def test_title_can_be_turned_off():
    q = read("Long run. Felt strong", title=False)
    assert (q.title, q.body) == (None, "Long run. Felt strong")


@pytest.mark.parametrize("text, starred, body", [
    ("good day *", True, "good day"),
    ("good day\t*", True, "good day"),
    ("good day*", False, "good day*"),
    ("**bold**", False, "**bold**"),
    ("a * b", False, "a * b"),
])
def test_a_trailing_star_stars(text, starred, body):
    q = read(text, title=False)
    assert (q.starred, q.body) == (starred, body)


def test_at_tags_only_when_asked_and_only_at_a_word_start():
    text = "Lunch with @people/anna and @Bob, mail me@example.com #food"
    assert read(text).tags == []
    assert read(text, at=True).tags == ["people/anna", "Bob"]
    assert read("Met @anna. Then @bob went home", at=True).tags == ["anna", "bob"]


# --- properties -----------------------------------------------------------------

ORDINARY = st.sampled_from(["Note", "Re", "meeting", "Anna", "at", "the", "was", "9", "10:30",
                            "km", "2024", "plan", "Dear", "diary", "ok", "it's", "http", "x-1"])
ANY_WORD = st.one_of(ORDINARY, st.sampled_from([
    "today", "yesterday", "Monday", "fri", "9pm", "21:30", "at", "2024-03-02", "13/04/2024"]))


@st.composite
def colon_text(draw):
    """Text whose part before its first ': ' starts with an ordinary word, or is a
    weekday alone; colons may follow anywhere."""
    if draw(st.booleans()):
        head = [draw(ORDINARY)] + draw(st.lists(ANY_WORD, max_size=4))
    else:
        head = [draw(st.sampled_from(["Monday", "tuesday", "SUNDAY", "fri", "Sat"]))]
    tail = draw(st.lists(st.one_of(ANY_WORD, st.just(":"), st.just("a:b")), max_size=8))
    return " ".join(head) + ": " + " ".join(tail)


@settings(max_examples=200, deadline=None)
@given(colon_text())
def test_ordinary_text_with_colons_is_never_misread(text):
    q = read(text, title=False)
    assert q.created_at is None
    assert q.body == text.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_read_or_refused_one_way(text):
    try:
        q = read(text)
    except BadInput:
        return
    if q.created_at is None:  # nothing taken but the star and the title's split
        kept = ((q.title or "") + " " + q.body).split()
        assert "".join(kept).replace(".", "") in "".join(text.split()).replace(".", "")
    else:
        dates.stored(q.created_at)  # in the product's range


BODY = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
               max_size=30).filter(lambda s: s.strip() and not s.rstrip().endswith(" *")
                                   and s.strip() != "*")
STAMP = st.datetimes(_dt.datetime(1000, 1, 3), _dt.datetime(9998, 12, 29)).map(
    lambda d: d.replace(second=0, microsecond=0))


@settings(max_examples=150, deadline=None)
@given(STAMP, st.sampled_from(["%s %s", "%sT%s"]), BODY)
def test_an_iso_prefix_round_trips(stamp, form, body):
    text = form % (stamp.date().isoformat(), stamp.strftime("%H:%M")) + ": " + body
    q = read(text, title=False)
    assert q.created_at == dates.aware(stamp)
    assert q.body == body.strip()


@settings(max_examples=100, deadline=None)
@given(STAMP, st.sampled_from(["dmy", "mdy"]), BODY)
def test_a_numeric_prefix_round_trips_in_either_date_order(stamp, order, body):
    if stamp.day <= 12 and stamp.day != stamp.month:
        stamp = stamp.replace(day=13 + stamp.day)  # no day-month riddle
    first, second = (stamp.day, stamp.month) if order == "dmy" else (stamp.month, stamp.day)
    text = "%02d/%02d/%04d %s: %s" % (first, second, stamp.year, stamp.strftime("%H:%M"), body)
    saved = dates.DATE_ORDER
    dates.DATE_ORDER = order
    try:
        q = read(text, title=False)
    finally:
        dates.DATE_ORDER = saved
    assert q.created_at == dates.aware(stamp)
    assert q.body == body.strip()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["today", "yesterday", "monday", "Wednesday", "sun"]),
       st.integers(0, 23), st.integers(0, 59), st.booleans(), BODY)
def test_a_day_word_with_a_time_round_trips(day, hour, minute, twelve, body):
    clock = ("%d:%02d%s" % (hour % 12 or 12, minute, "pm" if hour >= 12 else "am")
             if twelve else "%02d:%02d" % (hour, minute))
    q = read("%s %s: %s" % (day, clock, body), title=False)
    got = dates.local(q.created_at)
    assert (got.hour, got.minute) == (hour, minute)
    assert q.body == body.strip()
    if day == "today":
        assert got.date() == BASE.date()
    elif day == "yesterday":
        assert got.date() == BASE.date() - _dt.timedelta(days=1)
    else:
        wanted = {"monday": 0, "wednesday": 2, "sun": 6}[day.lower()]
        assert got.weekday() == wanted
        assert 0 < (BASE.date() - got.date()).days <= 7


# --- `diary add` ----------------------------------------------------------------

def added(run, *argv, **kwargs):
    r = run("add", "--json", *argv, **kwargs)
    assert r.code == 0, r
    return json.loads(r.out)


def test_add_reads_a_quick_entry(run, made):
    e = added(run, "2024-03-02 21:30: Long run. Felt strong #health/running *")
    assert e["created_at"].startswith("2024-03-02T21:30:00")
    assert (e["title"], e["body"], e["starred"], e["tags"]) == (
        "Long run", "Felt strong #health/running", True, ["health/running"])


def test_add_words_as_separate_arguments(run, made):
    e = added(run, "yesterday", "9pm:", "Long", "run.", "Felt", "strong")
    assert "T21:00:00" in e["created_at"]
    assert (e["title"], e["body"]) == ("Long run", "Felt strong")


def test_add_keeps_a_weekday_without_time_as_text(run, made):
    e = added(run, "Monday: meet Anna")
    assert (e["title"], e["body"]) == ("", "Monday: meet Anna")


def test_flags_win_over_the_text(run, made):
    e = added(run, "--date", "2020-01-01", "--title", "Mine",
              "2024-03-02: Long run. Felt strong")
    assert e["created_at"].startswith("2020-01-01T09:00")
    assert (e["title"], e["body"]) == ("Mine", "2024-03-02: Long run. Felt strong")


def test_stdin_is_kept_as_it_came(run, made):
    e = added(run, stdin="2024-03-02: Long run. Felt strong *\n")
    assert (e["title"], e["body"], e["starred"]) == (
        "", "2024-03-02: Long run. Felt strong *", False)


def test_config_turns_titles_off_and_at_tags_on(run, made, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("quick_title = false\nat_tags = true\n")
    e = added(run, "Lunch. With @people/anna")
    assert (e["title"], e["body"], e["tags"]) == ("", "Lunch. With @people/anna",
                                                  ["people/anna"])


def test_a_bad_date_prefix_writes_nothing(run, made):
    r = run("add", "03/04/2024: which day?")
    assert r.code == 1 and r.err.count("\n") == 1 and "--date" in r.err
    assert json.loads(run("list", "--json").out) == []


def test_a_star_alone_is_nothing_to_add(run, made):
    r = run("add", "*")
    assert r.code == 1 and "nothing to add" in r.err


def test_long_runs_of_spaces_are_kept_and_a_star_still_found():
    # A regular expression for the star took minutes over 200,000 spaces (quadratic).
    text = "a" + " " * 5000 + "b"
    assert (read(text).body, read(text).starred) == (text, False)
    assert (read(text + " *").body, read(text + "\t*").starred) == (text, True)
