"""jrnl journals as jrnl reads them (issue 21, item 4): journals from jrnl's own
test data (fixtures/jrnl-testdata, copied from github.com/jrnl-org/jrnl
tests/data/journals) import as the real jrnl 4.6 reads them, compared with its
own `--format json` export of each (NAME.read-by-jrnl.json, written by
fixtures/make_jrnl_testdata.py).

Two differences, on purpose: a tag mark followed by no word character
(`### Heading`) is no tag here (jrnl 4.6 links `###`), and an entry with no
title and no text is skipped with a warning (jrnl keeps an empty entry).
"""

import datetime as _dt
import json
import os
import re

import pytest

from diary import entries, exchange
from diary.errors import BadInput

from test_jrnl_txt import utc  # noqa: F401  (the fixture)

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "jrnl-testdata")

# name -> (format, options), as make_jrnl_testdata.JOURNALS configures jrnl
JOURNALS = {
    "mostlyreadabledates.journal": ("jrnl", {}),
    "markdown-headings-335.journal": ("jrnl", {}),
    "little_endian_dates.journal": ("jrnl", {"time_format": "%d.%m.%Y %H:%M"}),
    "tags-216.journal": ("jrnl", {}),
    "tags-237.journal": ("jrnl", {}),
    "multiline-tags.journal": ("jrnl", {}),
    "brackets.journal": ("jrnl", {}),
    "date-only-and-empty.journal": ("jrnl", {}),
    "basic_folder": ("jrnl-folder", {"time_format": "%Y-%m-%d %I:%M:%S %p",
                                     "tag_symbols": "@"}),
}


def read_by_jrnl(name):
    stem = name if name == "basic_folder" else name.rsplit(".", 1)[0]
    with open(os.path.join(HERE, stem + ".read-by-jrnl.json"), encoding="utf-8") as f:
        document = json.load(f)
    got = []
    for x in document["entries"]:
        if not x["title"].strip() and not x["body"].strip():
            continue  # skipped here, with a warning
        when = _dt.datetime.strptime(x["date"] + " " + x["time"], "%Y-%m-%d %H:%M")
        tags = sorted(t[1:] for t in x["tags"] if re.search(r"\w", t))
        got.append((when, x["title"], x["body"], x["starred"], tags))
    return sorted(got)


def imported(d):
    return sorted((e.created_at.replace(tzinfo=None), e.title, e.body, e.starred,
                   sorted(e.tag_list)) for e in entries.list_entries(d))


@pytest.mark.parametrize("name", sorted(JOURNALS))
def test_journal_imports_as_jrnl_reads_it(diary, name, utc):  # noqa: F811
    fmt, options = JOURNALS[name]
    path = os.path.join(HERE, name)
    stats = exchange.import_file(diary, path, fmt, options=exchange.ImportOptions(**options))
    assert imported(diary) == read_by_jrnl(name)
    if name == "date-only-and-empty.journal":
        assert stats.empty_skipped == 1
        assert stats.warnings == ["line 4: an entry with no title and no text: skipped"]


def test_half_readable_header_is_read_as_jrnl_reads_it(diary, utc):  # noqa: F811
    # `[2019-07 14:23] The third entry` once folded silently into the entry before.
    stats = exchange.import_file(diary, os.path.join(HERE, "mostlyreadabledates.journal"))
    assert stats.added == 3
    third = [e for e in entries.list_entries(diary) if e.title == "The third entry"]
    assert third[0].created_at.replace(tzinfo=None) == _dt.datetime(2019, 7, 1, 14, 23)


def test_markdown_headings_are_no_tags_and_no_error(diary, utc):  # noqa: F811
    # `### Title` once aborted the import ("empty tag path"); `##### H5` made a tag `#`.
    exchange.import_file(diary, os.path.join(HERE, "markdown-headings-335.journal"))
    [entry] = entries.list_entries(diary)
    assert entry.tag_list == [] and "##### ATX H5" in entry.body


def test_other_timeformat_is_detected_as_jrnl_and_needs_time_format(diary, utc):  # noqa: F811
    path = os.path.join(HERE, "little_endian_dates.journal")
    assert exchange.guess_format(path) == "jrnl"
    # Without the journal's timeformat, 09.06.2013 could be either: refused, not guessed.
    with pytest.raises(BadInput, match="line 1: the header date '09.06.2013 15:39' could be "
                                       "day.month or month.day: give the journal's "
                                       "timeformat with --time-format"):
        exchange.import_file(diary, path)
    assert entries.list_entries(diary) == []


def test_bracket_without_its_space_is_text_as_in_jrnl(diary, tmp_path, utc):  # noqa: F811
    # jrnl takes only `[...] ` (with the space) for a header: `[March 5]` is text.
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-01 10:00] First.\n[March 5]\n[March 6] Second.\n")
    stats = exchange.import_file(diary, str(p), "jrnl")
    assert stats.added == 2 and stats.warnings == []
    first = [e for e in entries.list_entries(diary) if e.title == "First."][0]
    assert first.body == "[March 5]"


def test_folder_journal_is_detected(diary, utc):  # noqa: F811
    path = os.path.join(HERE, "basic_folder")
    assert exchange.guess_format(path) == "jrnl-folder"
    with pytest.raises(BadInput, match="jrnl folder journal: --format jrnl-folder"):
        exchange.import_file(diary, path, "markdown")


def test_tag_symbols_choose_the_marks(diary, tmp_path, utc):  # noqa: F811
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-01 10:00] Note @home and #kitchen.\n")
    exchange.import_file(diary, str(p), "jrnl", options=exchange.ImportOptions(tag_symbols="@"))
    [entry] = entries.list_entries(diary)
    assert entry.tag_list == ["home"]


def test_unreadable_header_is_text_with_a_warning(diary, tmp_path, utc):  # noqa: F811
    p = tmp_path / "j.txt"
    p.write_text("[2024-01-01 10:00] First.\ntext\n[not a date at all] Second\nmore\n")
    stats = exchange.import_file(diary, str(p), "jrnl")
    assert stats.added == 1
    assert stats.warnings == ["line 3: [not a date at all] reads as no date, so it is kept as "
                              "text of the entry of line 1, as jrnl keeps it"]
    assert "[not a date at all] Second" in entries.list_entries(diary)[0].body
