"""search/query.py: what the parser hands FTS5, and what it refuses."""

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diary.search import query
from diary.errors import BadInput


def fts(text):
    return query.parse(text).fts


@pytest.mark.parametrize("text, expected", [
    ("cafe", '"cafe"'),
    ("long run", '("long" AND "run")'),
    ('"long run"', '"long run"'),
    ("walk*", '"walk"*'),
    ('"long ru"*', '"long ru"*'),
    ("a OR b c", '("a" OR ("b" AND "c"))'),
    ("(a OR b) c", '(("a" OR "b") AND "c")'),
    ("a -b", '("a" NOT "b")'),
    ("a NOT b -c", '("a" NOT ("b" OR "c"))'),
    ("title:zoe", 'title : "zoe"'),
    ('title:"a bc"*', 'title : "a bc"*'),
    ("a AND b", '("a" AND "b")'),
    ("OR", '"or"'),
    ("a OR", '("a" AND "or")'),
    ("a OR OR b", '(("a" AND "or") OR "b")'),
    ('dog"', '"dog"'),
    ("NEAR(a b)", '("NEAR" AND ("a" AND "b"))'),
    ("a)) (b", '("a" AND "b")'),
    ("e-mail 10:30", '("e-mail" AND "10:30")'),
    ("🎉 cafe *", '"cafe"'),
    ("a\x00b", '("a" AND "b")'),
])
def test_fts_output(text, expected):
    assert fts(text) == expected


def test_negation_is_set_algebra():
    q = query.parse("-a -b")
    assert (q.fts, q.exclude, q.ranked) == ('("a" OR "b")', True, False)
    q = query.parse("a OR -b")            # not (b and not a)
    assert (q.fts, q.exclude) == ('("b" NOT "a")', True)
    q = query.parse("-(a -b)")            # not (a and not b)
    assert (q.fts, q.exclude) == ('("a" NOT "b")', True)
    q = query.parse("NOT NOT a")
    assert (q.fts, q.exclude) == ('"a"', False)


def test_filters_are_lifted_out_of_the_words():
    q = query.parse("run is:starred tag:work/acme -tag:work/acme/old from:2024-01-01 "
                    "to:2024-06-30")
    assert q.fts == '"run"' and q.starred is True and q.filtered
    assert q.tags == [("work/acme", False), ("work/acme/old", True)]
    assert q.since.date() == dt.date(2024, 1, 1) and q.since.hour == 0
    assert q.until.date() == dt.date(2024, 6, 30) and q.until.hour == 23
    assert query.parse("-is:starred").starred is False


def test_on_is_a_whole_day_and_dates_intersect():
    q = query.parse("on:2024-03-02 from:2024-03-02 to:2024-12-31")
    assert (q.since.date(), q.until.date()) == (dt.date(2024, 3, 2), dt.date(2024, 3, 2))
    assert q.until - q.since == dt.timedelta(days=1, microseconds=-1)
    q = query.parse("from:2020-01-01 from:2022-01-01")
    assert q.since.year == 2022


def test_natural_dates_need_quotes_for_several_words():
    now = dt.datetime(2024, 3, 6, 12, tzinfo=dt.timezone.utc)
    q = query.parse('from:"last monday" on:yesterday', now=now)
    assert q.since.date() == dt.date(2024, 3, 5)  # the later of the two starts
    with pytest.raises(BadInput, match='quote words'):
        query.parse("from:last monday", now=now)


def test_parse_emits_only_quoted_terms():
    q = query.parse('a "b cd"* -d title:e (f OR NEAR) g"h')
    assert q.fts == '(("a" AND "b cd"* AND title : "e" AND ("f" OR "NEAR") AND "g" AND "h") ' \
        'NOT "d")'
    assert query._Parser([]).term('say "hi"', False) == ("term", '"say ""hi"""', None)


@pytest.mark.parametrize("text, message", [
    ("", "nothing to search for"),
    ("   ", "nothing to search for"),
    ("*", "nothing to search for"),
    ("🎉", "nothing to search for"),
    ("x" * 1001, "too long"),
    ("from:someday-ish", "not a date"),
    ("from:last monday", 'from:"last monday"'),
    ("is:happy", "is:starred"),
    ("tag:", "needs a value"),
    ("-from:2024-01-01 x", "cannot be negated"),
    ("cats OR is:starred", "next to OR"),
    ("(cats is:starred)", "inside parentheses"),
    ("(" * 9 + "a", "nested"),
    (" ".join("w%d" % i for i in range(65)), "too many words"),
    ("b*", "at least 2 letters"),
    ('"long r"*', "at least 2 letters"),
    ("title:é*", "at least 2 letters"),
])
def test_rejected_queries_say_why_in_one_line(text, message):
    with pytest.raises(BadInput) as exc:
        query.parse(text)
    assert message in str(exc.value) and "\n" not in str(exc.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.lists(st.sampled_from(
    ['"', "(", ")", "-", "*", "OR", "AND", "NOT", "NEAR", ":", "title:", "tag:x", "is:starred",
     "故宫", "宫", "กิ", "ー", "x手",
     "from:2024-01-01", "on:", "café", "a", "b", " ", "\x00", "^", "{", "}", "+", "-("]),
    max_size=20).map("".join))
def test_any_text_parses_or_is_refused_with_bad_input(text):
    try:
        q = query.parse(text)
    except BadInput as exc:
        assert "\n" not in str(exc)
        return
    assert q.fts is not None or q.filtered
    if q.fts is not None:  # outside the quoted strings: only operators and balanced parens
        syntax = re.sub(r'"(?:[^"]|"")*"', "S", q.fts)
        assert re.fullmatch(r"(S\*?|title : |grams : |[()]| AND | OR | NOT )+", syntax), q.fts
        assert syntax.count("(") == syntax.count(")")
        for phrase in q.phrases():  # what search.py probes and ranks by is well-formed too
            words = re.sub(r'"(?:[^"]|"")*"', "S", query.every_word(phrase))
            assert re.fullmatch(r"S( AND S)*\*?", words), phrase
        ranking = q.expression(weighs=lambda phrase: len(phrase) % 2 == 0)
        if ranking is not None:
            syntax = re.sub(r'"(?:[^"]|"")*"', "S", ranking)
            assert re.fullmatch(
                r"(S\*?|title : |grams : |\{title body grams\} : |[()]| AND | OR )+", syntax)


def test_phrases_and_their_words():
    q = query.parse('"Déjà vu" -walk* (title:don\'t OR x) is:starred')
    assert q.phrases() == ['"Déjà vu"', '"walk"*', '"don\'t"', '"x"']
    assert [query.every_word(p) for p in q.phrases()] == [
        '"Déjà" AND "vu"', '"walk"*', '"don" AND "t"', '"x"']
    assert q.expression(weighs=lambda p: p != '"x"') == '{title body grams} : "Déjà vu"'
    assert q.expression(weighs=lambda p: p != '"walk"*') == (
        '({title body grams} : "Déjà vu" AND (title : "don\'t" OR {title body grams} : "x"))')
