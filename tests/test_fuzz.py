"""Arbitrary input to the parsers and importers: only the documented errors come out,
and a refused import leaves the diary exactly as it was. (The search parser has its
own property tests in test_search_query.py.)"""

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary import entries, exchange, health, tags
from diary.errors import BadInput

from conftest import PASSPHRASE

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks a little like each format, so the fuzzing gets past the first byte.
_fragments = st.sampled_from([
    "[2024-03-02 21:30] ", "Title. ", "@tag ", "#work/acme ", " *", "\n", "{", "}", "[", "]",
    '"uuid": ', '"created_at": "2024-03-02T10:00:00+00:00"', '"title": ', '"body": ',
    '"tags": ["a/b"]', '"entries": ', ",", ":", '"', "---\n", "date: 2024-01-01\n", "null",
    "\x00", "\x1b[2J", "\u202e", "\ud7ff", "é", "9" * 30,
])
texts = st.one_of(st.text(max_size=300),
                  st.lists(st.one_of(_fragments, st.text(max_size=8)), max_size=40).map("".join))


@SETTINGS
@given(text=st.text(max_size=300))
def test_tag_paths(text):
    try:
        parts = tags.parse_path(text)
    except BadInput:
        return
    assert parts and all(p and p == p.strip() for p in parts)


@SETTINGS
@given(text=texts)
def test_inline_tags_never_raise(text):
    for path in tags.inline_tags(text):
        tags.parse_path(path)  # whatever is found is a valid path


def _state(d):
    conn = d.db.connection()
    return (conn.execute("SELECT uuid, title, body, tags FROM entry ORDER BY id").fetchall(),
            conn.execute("SELECT id, name, parent_id FROM tag ORDER BY id").fetchall())


@SETTINGS
@given(text=texts, fmt=st.sampled_from(["json", "jsonl", "jrnl", "jrnl-json"]))
def test_importers_raise_only_bad_input(diary, tmp_path, text, fmt):
    if not entries.count(diary):
        entries.add(diary, "already here", tags=["keep/me"])
    before = _state(diary)
    p = os.path.join(str(tmp_path), "in.txt")
    with open(p, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write(text)
    try:
        exchange.import_file(diary, p, fmt)
    except BadInput:
        assert _state(diary) == before
    assert health.problems(diary) == []


@SETTINGS
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["json", "jsonl", "jrnl",
                                                          "jrnl-json", None]))
def test_importers_on_arbitrary_bytes(diary, tmp_path, data, fmt):
    before = _state(diary)
    p = os.path.join(str(tmp_path), "in.bin")
    with open(p, "wb") as f:
        f.write(data)
    try:
        exchange.import_file(diary, p, fmt, passphrase=PASSPHRASE)
    except BadInput:
        assert _state(diary) == before


@SETTINGS
@given(records=st.lists(st.dictionaries(
    st.sampled_from(["uuid", "created_at", "updated_at", "title", "body", "tags", "starred"]),
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
              st.lists(st.text(max_size=12), max_size=3))), max_size=5))
def test_our_json_with_wrong_types(diary, tmp_path, records):
    before = _state(diary)
    p = os.path.join(str(tmp_path), "in.json")
    with open(p, "w", encoding="utf-8") as f:
        json.dump(records, f)
    try:
        exchange.import_file(diary, p, "json")
    except BadInput:
        assert _state(diary) == before


def test_a_tag_path_200_levels_deep_is_a_clear_error(run, path):
    r = run("add", "--tag", "/".join("l%d" % i for i in range(200)), "deep")
    assert r.code == 1 and r.err.count("\n") == 1 and "too deep" in r.err
    assert not os.path.exists(path)  # refused before a diary was created


def test_many_tags(diary):
    """100,000 tags in one diary: the tree, a subtree query and a rename still work."""
    # Built in SQL (the triggers still keep the closure table): through
    # tags.ensure one by one it takes a minute, too long for every test run.
    numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
    with diary.write():
        diary.db.execute_sql(numbers % 999 + "INSERT INTO tag (name, key) "
                             "SELECT 't' || i, 't' || i FROM n")
        diary.db.execute_sql(numbers % 99 + "INSERT INTO tag (name, key, parent_id) "
                             "SELECT 'c' || i, 'c' || i, tag.id FROM tag, n "
                             "WHERE tag.parent_id IS NULL")
    e = entries.add(diary, "tagged", tags=["t7/c42"])
    assert diary.db.connection().execute("SELECT count(*) FROM tag").fetchone()[0] == 101_000
    assert [x.id for x in tags.filter_under(entries.select(), "t7")] == [e.id]
    tags.rename(diary, "t7", "seven")
    assert entries.get(diary, e.id).tag_list == ["seven/c42"]
    assert health.problems(diary) == []
