"""The editor's file format (editfile.py): round trip, separators, header errors."""

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from diary import dates, editfile
from diary.editfile import Block, BadFile

UTC = dt.timezone.utc

# Text that looks like the file's own structure, mixed with anything at all.
_tricky = st.sampled_from([
    "title: x", "date: 2024-01-01", "tags: a, b", "star: yes", "", " ", "\n", "\r",
    "--- diary entry 1 [00000000] ---", "--- diary entry new [abcdef12] ---",
    "# diary: note", '"quoted"', "[list]", "a, b", "\u2028", "\x85", "\t"])
_text = st.lists(st.one_of(_tricky, st.text(max_size=30)), max_size=8).map("".join) \
    .filter(lambda t: "\x00" not in t)
_tag_name = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")),
                    min_size=1, max_size=8).filter(lambda s: s.strip() and "/" not in s
                                                   and not s.strip().startswith("#"))
_tag = st.lists(_tag_name.map(str.strip), min_size=1, max_size=3).map("/".join)
_date = st.datetimes(min_value=dt.datetime(1001, 1, 1), max_value=dt.datetime(9998, 1, 1),
                     timezones=st.just(UTC))


def _block(draw_id, title, body, tags, starred, date):
    from diary import tags as t

    unique = list({t.keypath(p): "/".join(t.parse_path(p)) for p in tags}.values())
    return Block(draw_id, title, date, unique, starred, body)


_blocks = st.lists(st.builds(_block, st.one_of(st.none(), st.integers(1, 10 ** 9)), _text,
                             _text, st.lists(_tag, max_size=3), st.booleans(),
                             st.one_of(st.none(), _date)), min_size=1, max_size=4) \
    .map(lambda bs: [b for i, b in enumerate(bs)
                     if b.id is None or b.id not in [c.id for c in bs[:i]]])


@settings(max_examples=300, deadline=None)
@given(_blocks)
def test_format_then_parse_gives_back_the_same_entries(blocks):
    nonce = editfile.nonce_for(blocks)
    text = editfile.format_file(blocks, nonce)
    assert editfile.parse_file(text, nonce, blocks) == blocks
    # with an error note on top too
    noted = editfile.format_file(blocks, nonce, error="line 3: bad\nthing")
    assert editfile.parse_file(noted, nonce, blocks) == blocks
    # saved entries are shown to the second: without the originals, that is what comes back
    for was, got in zip(blocks, editfile.parse_file(text, nonce)):
        if was.date is not None:
            assert abs((got.date - was.date).total_seconds()) < 1


def test_the_format_reads_as_documented():
    when = dt.datetime(2024, 3, 2, 21, 30, tzinfo=UTC)
    text = editfile.format_file([Block(12, "Long run", when, ["health/running"], True,
                                       "Ran 12 km.\ntitle: not a header")], "abcd1234")
    assert text == ("--- diary entry 12 [abcd1234] ---\n"
                    "title: Long run\n"
                    "date: %s\n"
                    "tags: health/running\n"
                    "star: yes\n"
                    "\n"
                    "Ran 12 km.\ntitle: not a header\n" % dates.local(when).isoformat(" "))


def test_a_separator_with_another_nonce_is_text():
    text = ("--- diary entry 1 [aaaa1111] ---\ntitle: t\n\nx\n"
            "--- diary entry 2 [bbbb2222] ---\ny\n")
    [b] = editfile.parse_file(text, "aaaa1111")
    assert b.id == 1 and b.body == "x\n--- diary entry 2 [bbbb2222] ---\ny"


def test_the_nonce_never_appears_in_the_text():
    blocks = [Block(1, "", None, [], False, "a" * 100)]
    assert editfile.nonce_for(blocks) not in blocks[0].body


def test_human_dates_and_loose_values_parse():
    [b] = editfile.parse_file("--- diary entry new [ab12ab12] ---\nTitle:  Hi \n"
                              "date: 2024-03-02 21:30\ntags: a , b/c,\nstar: Y\n\nbody",
                              "ab12ab12")
    assert (b.title, b.tags, b.starred, b.body) == ("Hi", ["a", "b/c"], True, "body")
    assert dates.local(b.date).strftime("%Y-%m-%d %H:%M") == "2024-03-02 21:30"


@pytest.mark.parametrize("text, where", [
    ("--- diary entry 1 [ab12ab12] ---\nmood: fine\n\nx", "line 2: expected a header line"),
    ("--- diary entry 1 [ab12ab12] ---\ndate: not a date at all\n\nx", "line 2: date:"),
    ("--- diary entry 1 [ab12ab12] ---\nstar: maybe\n\nx", "line 2: star:"),
    ("--- diary entry 1 [ab12ab12] ---\ntags: a//b\n\nx", "line 2: tags:"),
    ('--- diary entry 1 [ab12ab12] ---\ntitle: "open\n\nx', "line 2: the title"),
    ("stray\n--- diary entry 1 [ab12ab12] ---\n\nx", "line 1: text above"),
    ("--- diary entry 1 [ab12ab12] ---\n\nx\n--- diary entry 1 [ab12ab12] ---\n\ny",
     "line 4: entry 1 appears twice"),
    ("--- diary entry 1 [ab12ab12] ---\n\nx\ny\x00", "line 4: a NUL character"),
])
def test_a_header_that_does_not_parse_names_its_line(text, where):
    with pytest.raises(BadFile) as raised:
        editfile.parse_file(text, "ab12ab12")
    assert str(raised.value).startswith(where), str(raised.value)
