"""tags.py: paths, the closure table, entry links, inline tags, subtree queries,
reorganising, and a state machine checking the invariants after random steps."""

import pytest

from diary import entries, tags
from diary.errors import BadInput, NotFound
from diary.store import Entry, EntryTag, Tag


def closure(diary):
    return set(diary.db.execute_sql("SELECT ancestor_id, descendant_id, depth FROM tag_path"))


def ids(query):
    return sorted(e.id for e in query)


# --- parse_path ------------------------------------------------------------------

@pytest.mark.parametrize("text, parts", [
    ("work", ("work",)),
    ("work/acme/meetings", ("work", "acme", "meetings")),
    ("  work / Acme  /meetings ", ("work", "Acme", "meetings")),
    ("#work/acme", ("work", "acme")),
    ("people/Anna Smith", ("people", "Anna Smith")),
    ("cafe\u0301", ("caf\u00e9",)),  # NFC: one tag however the accent was typed
    (("a", "b"), ("a", "b")),
])
def test_parse_path(text, parts):
    assert tags.parse_path(text) == parts


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("#", "empty"),
    ("/work", "empty name"),
    ("work/", "empty name"),
    ("work//acme", "empty name"),
    ("work/ /acme", "empty name"),
    ("work\x1b[31m", "control"),
    ("work\nacme", "control"),
    ("a\u202eb", "control"),
    ("x" * 101, "too long"),
    ("/".join(["a"] * 33), "too deep"),
])
def test_parse_path_rejects(text, message):
    with pytest.raises(BadInput) as err:
        tags.parse_path(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)


def test_parse_name_refuses_a_path():
    assert tags.parse_name(" Acme ") == "Acme"
    with pytest.raises(BadInput, match="cannot contain '/'"):
        tags.parse_name("a/b")


# --- ensure / resolve / the closure table -------------------------------------------

def test_ensure_creates_missing_ancestors_with_closure_rows(diary):
    with diary.write():
        leaf = tags.ensure(diary, "work/acme/meetings")
    work, acme = tags.resolve("work"), tags.resolve("work/acme")
    assert leaf.parent_id == acme.id and acme.parent_id == work.id and work.parent_id is None
    assert closure(diary) == {
        (work.id, work.id, 0), (acme.id, acme.id, 0), (leaf.id, leaf.id, 0),
        (work.id, acme.id, 1), (acme.id, leaf.id, 1), (work.id, leaf.id, 2)}


def test_names_are_case_insensitive_and_keep_the_first_case(diary):
    with diary.write():
        first = tags.ensure(diary, "Work/ACME")
        again = tags.ensure(diary, "work/acme")
    assert again.id == first.id
    assert tags.path_of(first.id) == "Work/ACME"
    assert Tag.select().count() == 2
    assert tags.resolve("WORK/Acme").id == first.id


def test_resolve_unknown_and_must(diary):
    assert tags.resolve("nope") is None
    with pytest.raises(NotFound, match="no tag nope/x"):
        tags.must("nope/x")


def test_siblings_are_unique_by_key_in_sql(diary):
    with diary.write():
        tags.ensure(diary, "work")
    with pytest.raises(Exception):
        with diary.write():
            Tag.create(name="WORK", key="work", parent=None)


def test_the_cycle_trigger_refuses_even_raw_sql(diary):
    with diary.write():
        leaf = tags.ensure(diary, "a/b/c")
    a = tags.resolve("a")
    with pytest.raises(Exception, match="cannot move under itself"):
        with diary.write():
            Tag.update(parent=leaf.id).where(Tag.id == a.id).execute()
    assert tags.path_of(leaf.id) == "a/b/c"


# --- entry links --------------------------------------------------------------------

def test_add_with_tags_links_and_fills_the_tags_text(diary):
    e = entries.add(diary, "text", tags=["work/acme", "Health/running", "work/acme"])
    assert e.tags == "Health/running\nwork/acme"
    assert Entry.get_by_id(e.id).tag_list == ["Health/running", "work/acme"]
    assert EntryTag.select().count() == 2


def test_tags_text_is_searchable(diary):
    e = entries.add(diary, "text", tags=["work/acme"])
    found = list(diary.db.execute_sql(
        "SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'tags:acme'"))
    assert found == [(e.id,)]


def test_edit_adds_and_removes_tags(diary):
    e = entries.add(diary, "text", tags=["a", "b"])
    e2 = entries.edit(diary, e.id, add_tags=["c/d"], remove_tags=["A"])
    assert e2.tag_list == ["b", "c/d"]
    assert e2.version == e.version + 1


def test_untag_a_tag_the_entry_lacks_is_refused_and_changes_nothing(diary):
    e = entries.add(diary, "text", tags=["a"])
    with diary.write():
        tags.ensure(diary, "b")
    for path in ("b", "zzz"):
        with pytest.raises(BadInput, match="has no tag"):
            entries.edit(diary, e.id, add_tags=["c"], remove_tags=[path])
    assert Entry.get_by_id(e.id).tag_list == ["a"]
    assert tags.resolve("c") is None


def test_set_entry_tags_in_the_callers_transaction(diary):
    e = entries.add(diary, "text")
    with pytest.raises(RuntimeError):
        with diary.write():
            tags.set_entry_tags(diary, e, add=["x/y"])
            assert e.tags == "x/y"
            raise RuntimeError
    assert Entry.get_by_id(e.id).tags == ""
    assert Tag.select().count() == 0


def test_deleting_an_entry_drops_its_links_not_its_tags(diary):
    e = entries.add(diary, "text", tags=["a"])
    entries.delete(diary, [e.id])
    assert EntryTag.select().count() == 0
    assert tags.resolve("a") is not None


# --- inline tags --------------------------------------------------------------------

@pytest.mark.parametrize("text, found", [
    ("met #anna at #work/acme.", ["anna", "work/acme"]),
    ("# Heading\n## Sub heading\n#tag", ["tag"]),
    ("(#a) [#b] \"#c\" #d, #e; #f: #g! #h? #i/", ["a", "b", "c", "d", "e", "f", "g", "h", "i"]),
    ("#1 priority, ticket #123, v#2, #3.5, #2024", []),
    ("#2024-plans #q3", ["2024-plans", "q3"]),
    ("C# and a#b and page#anchor and &#123; and ##x", []),
    ("#c++ and #r&d and #snake_case and #v1.2.", ["c++", "r&d", "snake_case", "v1.2"]),
    ("#Work #work #WORK", ["Work"]),
    ("#a//b #/x", []),
    ("`#code` and\n```\n#include <stdio.h>\n```\n~~~\n#define X\n~~~\n#after", ["after"]),
    ("#café #日本", ["café", "日本"]),
    ("", []),
])
def test_inline_tags(text, found):
    assert tags.inline_tags(text) == found


def test_inline_tags_are_linked_on_add(diary):
    e = entries.add(diary, "ran 10k #health/running with #Anna", title="#log")
    assert e.tag_list == ["Anna", "health/running", "log"]


def test_editing_the_text_rederives_inline_tags_but_keeps_explicit_ones(diary):
    e = entries.add(diary, "#a #b #keep", tags=["b", "explicit"])
    e = entries.edit(diary, e.id, body="#keep #new")
    # a came only from the text: gone; b was also explicit: stays
    assert e.tag_list == ["b", "explicit", "keep", "new"]
    sources = dict((tags.path_of(t), s) for t, s in diary.db.execute_sql(
        "SELECT tag_id, source FROM entry_tag"))
    assert sources == {"b": tags.EXPLICIT, "explicit": tags.EXPLICIT,
                       "keep": tags.INLINE, "new": tags.INLINE}


def test_an_untagged_inline_tag_stays_off_until_the_text_changes_it(diary):
    e = entries.add(diary, "#a text")
    e = entries.edit(diary, e.id, remove_tags=["a"])
    assert e.tag_list == []
    e = entries.edit(diary, e.id, body="#a other text")  # #a was already in the text
    assert e.tag_list == []


def test_editing_only_the_date_leaves_inline_tags_alone(diary):
    e = entries.add(diary, "#a text")
    e = entries.edit(diary, e.id, starred=True)
    assert e.tag_list == ["a"]


# --- subtree queries ------------------------------------------------------------------

@pytest.fixture
def tagged(diary):
    """Five entries over a small tree."""
    made = {
        "meeting": entries.add(diary, "m", tags=["work/acme/meetings"]),
        "acme": entries.add(diary, "a", tags=["work/acme"]),
        "work": entries.add(diary, "w", tags=["work", "work/acme/meetings"]),
        "run": entries.add(diary, "r", tags=["health/running"]),
        "none": entries.add(diary, "n"),
    }
    return {k: v.id for k, v in made.items()}


def test_filter_under_subtree_and_exact(diary, tagged):
    t = tagged
    assert ids(tags.filter_under(Entry.select(), "work")) == sorted(
        [t["meeting"], t["acme"], t["work"]])
    assert ids(tags.filter_under(Entry.select(), "WORK/acme")) == sorted(
        [t["meeting"], t["acme"], t["work"]])
    assert ids(tags.filter_under(Entry.select(), "work/acme", exact=True)) == [t["acme"]]
    assert ids(tags.filter_under(Entry.select(), "health")) == [t["run"]]
    assert ids(tags.filter_under(Entry.select(), "nope")) == []
    with pytest.raises(BadInput):
        tags.filter_under(Entry.select(), "a//b")


def test_filter_under_composes_with_other_filters(diary, tagged):
    query = tags.filter_under(entries.select(starred=False), "work")
    query = tags.filter_under(query, "work/acme/meetings")
    assert ids(query) == sorted([tagged["meeting"], tagged["work"]])


def test_list_entries_with_tags(diary, tagged):
    found = entries.list_entries(diary, tags=["work"], limit=2)
    assert [e.id for e in found] == [tagged["work"], tagged["acme"]]  # newest first
    assert [e.id for e in entries.list_entries(diary, tags=["work"], tag_exact=True)] == [
        tagged["work"]]
