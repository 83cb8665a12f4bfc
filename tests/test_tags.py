"""tags.py: paths, the closure table, entry links, inline tags, subtree queries,
reorganising, and a state machine checking the invariants after random steps."""

import pytest

from diary import entries, health, search, store, tags
from diary.errors import BadInput, NotFound
from diary.store import Entry, EntryTag, Tag

from conftest import PASSPHRASE


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
    ids = {tags.resolve(p).id for p in ("work/acme", "health/running")}
    assert e.tags == tags.index_text(ids) == " ".join("t%d" % i for i in sorted(ids))
    assert e.tag_list == Entry.get_by_id(e.id).tag_list == ["Health/running", "work/acme"]
    assert EntryTag.select().count() == 2


def test_tag_list_for_many_entries_in_one_go(diary, monkeypatch):
    a = entries.add(diary, "a", tags=["b/Zeta", "b/alpha"])
    b = entries.add(diary, "b")
    c = entries.add(diary, "c", tags=["x"])
    got = list(Entry.select().order_by(Entry.id))
    assert store.attach_tag_paths(got) == got

    def no_more_queries(*args, **kwargs):
        raise AssertionError("tag_list ran a query")

    monkeypatch.setattr(diary.db, "execute_sql", no_more_queries)
    assert [e.tag_list for e in got] == [["b/alpha", "b/Zeta"], [], ["x"]]
    assert [e.id for e in got] == [a.id, b.id, c.id]


def test_listed_entries_carry_their_tag_paths(made):
    """list_entries reads the paths with the rows (store.with_tag_paths): they
    are there after the diary is closed, when no query can run."""
    with store.open_diary(made, PASSPHRASE) as d:
        entries.add(d, "a", tags=["b/Zeta", "b/alpha"])
        entries.add(d, "b")
        listed = entries.list_entries(d, newest_first=False)
        hits = search.search(d, "a OR b").hits
    assert [e.tag_list for e in listed] == [["b/alpha", "b/Zeta"], []]
    with store.open_diary(made, PASSPHRASE) as d:  # a listed entry, tagged again
        entry = entries.list_entries(d, newest_first=False)[1]
        tags.set_entry_tags(d, entry, add=["c"])
        assert entry.tag_list == ["c"]
    assert sorted(h.entry.tag_list for h in hits) == [[], ["b/alpha", "b/Zeta"]]


def found(diary, word):
    return sorted(h.entry.id for h in search.search(diary, word, limit=None).hits)


def test_tag_words_are_searchable(diary):
    e = entries.add(diary, "text", tags=["work/acme"])
    entries.add(diary, "other text", tags=["home"])
    assert found(diary, "acme") == found(diary, "work") == found(diary, "wor*") == [e.id]
    assert found(diary, '"work acme"') == [e.id]  # a phrase along the path
    assert found(diary, "t%d" % tags.resolve("work/acme").id) == []  # tokens are not words


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
            assert e.tag_list == ["x/y"]
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


@pytest.mark.parametrize("walk", [0, 10**9])
def test_both_plans_of_a_tag_filter_agree(diary, tagged, monkeypatch, walk):
    """tags.under walks the dates (many entries) or looks ids up (few): the
    same entries either way, in lists and in searches of every plan."""
    monkeypatch.setattr(tags, "WALK", walk)
    t = tagged
    assert ids(tags.filter_under(entries.select(), "work")) == sorted(
        [t["meeting"], t["acme"], t["work"]])
    assert ids(tags.filter_under(entries.select(), "work/acme", exact=True)) == [t["acme"]]
    for sort in ("rank", "newest", "oldest"):
        for text, want in (("m tag:work", [t["meeting"]]), ("tag:work/acme", [t["meeting"],
                           t["acme"], t["work"]]), ("-tag:work r", [t["run"]])):
            got = search.search(diary, text, sort=sort, limit=None).hits
            assert sorted(h.entry.id for h in got) == sorted(want), (text, sort)


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


# --- reorganising ---------------------------------------------------------------------

def snapshot(diary):
    """Everything a tag operation may touch, for before/after comparisons."""
    q = diary.db.execute_sql
    return {
        "tag": sorted(q("SELECT id, name, key, parent_id, subtree_entries, path FROM tag")),
        "tag_path": sorted(q("SELECT * FROM tag_path")),
        "entry_tag": sorted(q("SELECT * FROM entry_tag")),
        "entry": sorted(q("SELECT id, tags, version FROM entry")),
    }


def all_paths(diary):
    return sorted(tags.path_of(t.id) for t in Tag.select())


def test_rename_keeps_place_links_and_refreshes_tags_text(diary, tagged):
    change = tags.rename(diary, "work/acme", "Acme Corp")
    assert (change.old, change.new, change.entries) == ("work/acme", "work/Acme Corp", 3)
    assert Entry.get_by_id(tagged["meeting"]).tag_list == ["work/Acme Corp/meetings"]
    assert ids(tags.filter_under(Entry.select(), "work/acme corp")) == sorted(
        [tagged["meeting"], tagged["acme"], tagged["work"]])
    # search follows through the tag index: the new name is found, the old one not
    assert found(diary, "corp") == sorted([tagged["meeting"], tagged["acme"], tagged["work"]])
    assert found(diary, '"corp meetings"') == sorted([tagged["meeting"], tagged["work"]])
    assert found(diary, '"acme meetings"') == []  # the old path, word for word


def test_rename_clash_is_refused_and_changes_nothing(diary, tagged):
    with diary.write():
        tags.ensure(diary, "work/other")
    before = snapshot(diary)
    with pytest.raises(BadInput, match="work/acme already exists.*tag merge"):
        tags.rename(diary, "work/other", "ACME")
    with pytest.raises(NotFound):
        tags.rename(diary, "work/none", "x")
    with pytest.raises(BadInput):
        tags.rename(diary, "work/other", "a/b")
    assert snapshot(diary) == before


@pytest.mark.parametrize("operation", [
    lambda d: tags.move(d, "work/acme", "clients/big"),
    lambda d: tags.rename(d, "work", "job"),
])
def test_moving_or_renaming_rewrites_tags_not_entries(diary, tagged, operation):
    """Why a subtree moves in milliseconds: no entry row (nor its index row)
    changes, only the paths of the moved tags; search finds the new words.
    The entries' sync lineage (entry_lineage) does change: for sync, their
    tag paths were edited (replica.py)."""
    rows = list(diary.db.execute_sql("SELECT * FROM entry ORDER BY id"))
    vectors = dict(diary.db.execute_sql("SELECT entry_id, vv FROM entry_lineage"))
    fts_rows = list(diary.db.execute_sql("SELECT count(*), sum(length(block)) FROM entry_fts_data"))
    under = [tagged["meeting"], tagged["acme"], tagged["work"]]
    assert found(diary, "clients") == found(diary, "job") == []
    change = operation(diary)
    assert change.entries == 3
    assert list(diary.db.execute_sql("SELECT * FROM entry ORDER BY id")) == rows
    assert list(diary.db.execute_sql(
        "SELECT count(*), sum(length(block)) FROM entry_fts_data")) == fts_rows
    after = dict(diary.db.execute_sql("SELECT entry_id, vv FROM entry_lineage"))
    assert sorted(i for i in after if after[i] != vectors[i]) == sorted(under)
    assert found(diary, "clients") + found(diary, "job") == sorted(under)
    assert health.problems(diary) == []


def test_a_word_in_many_tag_paths(diary):
    """More than 16 tags: the tokens go to FTS5 in groups (search_query._any_token)."""
    made = [entries.add(diary, "entry %d about nothing in particular" % i,
                        tags=["big/part%d/leaf" % i]).id for i in range(40)]
    other = entries.add(diary, "the word big in the text").id
    entries.add(diary, "unrelated", tags=["small"])
    assert found(diary, "big") == sorted(made + [other])
    for sort in ("rank", "newest", "oldest"):
        res = search.search(diary, "big -text", sort=sort, limit=None)
        assert sorted(h.entry.id for h in res.hits) == made and res.total == 40
    assert found(diary, "part3*") == [made[3]] + made[30:40]
    hit = search.search(diary, "part7").hits[0]  # found by its tag alone
    assert (hit.snippet, hit.spans) == ("entry 7 about nothing in particular", [])


def test_a_word_in_the_paths_of_too_many_tags_is_refused(diary, monkeypatch):
    for i in range(4):
        entries.add(diary, "text %d" % i, tags=["big/part%d" % i])
    monkeypatch.setattr(search, "MAX_TAGS", 3)
    with pytest.raises(BadInput, match="too many tags"):
        search.search(diary, "big")
    assert found(diary, "part1") == [2]  # fewer tags are fine
    assert found(diary, "text") == [1, 2, 3, 4]


def test_move_subtree(diary, tagged):
    change = tags.move(diary, "work/acme", "clients/big")
    assert (change.old, change.new) == ("work/acme", "clients/big/acme")
    assert all_paths(diary) == ["clients", "clients/big", "clients/big/acme",
                                "clients/big/acme/meetings", "health", "health/running", "work"]
    assert Entry.get_by_id(tagged["work"]).tag_list == ["clients/big/acme/meetings", "work"]
    assert ids(tags.filter_under(Entry.select(), "work")) == [tagged["work"]]
    assert ids(tags.filter_under(Entry.select(), "clients")) == sorted(
        [tagged["meeting"], tagged["acme"], tagged["work"]])
    tags.move(diary, "clients/big/acme", "/")
    assert tags.resolve("acme/meetings") is not None
    assert found(diary, "big") == [] and found(diary, "acme") == sorted(
        [tagged["meeting"], tagged["acme"], tagged["work"]])
    assert tags.move(diary, "acme", None).old == "acme"  # already at the top: nothing to do


@pytest.mark.parametrize("target, message", [
    ("work", "that is itself"),
    ("work/acme", "one of its own descendants"),
    ("work/acme/meetings/new", "one of its own descendants"),
])
def test_move_under_itself_is_refused_and_changes_nothing(diary, tagged, target, message):
    before = snapshot(diary)
    with pytest.raises(BadInput, match=message):
        tags.move(diary, "work", target)
    assert snapshot(diary) == before


def test_move_clash_is_refused(diary, tagged):
    with diary.write():
        tags.ensure(diary, "health/ACME")
    before = snapshot(diary)
    with pytest.raises(BadInput, match="health/ACME already exists"):
        tags.move(diary, "work/acme", "health")
    assert snapshot(diary) == before


def test_merge_moves_entries_and_children_recursively(diary):
    a = entries.add(diary, "a", tags=["old/x/deep", "old"])
    b = entries.add(diary, "b", tags=["old/y", "new/x"])
    c = entries.add(diary, "c", tags=["old", "new"])
    change = tags.merge(diary, "old", "new")
    assert (change.old, change.new, change.tags) == ("old", "new", 2)  # old and old/x
    assert all_paths(diary) == ["new", "new/x", "new/x/deep", "new/y"]
    assert Entry.get_by_id(a.id).tag_list == ["new", "new/x/deep"]
    assert Entry.get_by_id(b.id).tag_list == ["new/x", "new/y"]
    assert Entry.get_by_id(c.id).tag_list == ["new"]  # one link, not two
    assert EntryTag.select().where(EntryTag.entry == c.id).count() == 1


def test_merge_into_an_ancestor_and_a_child_named_like_the_source(diary):
    e = entries.add(diary, "e", tags=["work/acme/acme/x", "work/acme/y"])
    # src's child "acme" is named like dest's child "acme", which is src itself:
    # it merges into src first, then all of src into work
    tags.merge(diary, "work/acme", "work")
    assert all_paths(diary) == ["work", "work/x", "work/y"]
    assert Entry.get_by_id(e.id).tag_list == ["work/x", "work/y"]


def test_merge_keeps_the_union_of_link_sources(diary):
    entries.add(diary, "#old text", tags=["new"])
    tags.merge(diary, "old", "new")
    assert list(diary.db.execute_sql("SELECT source FROM entry_tag")) == [
        (tags.EXPLICIT | tags.INLINE,)]


def test_merge_refusals(diary, tagged):
    before = snapshot(diary)
    with pytest.raises(BadInput, match="into itself"):
        tags.merge(diary, "work", "WORK")
    with pytest.raises(BadInput, match="its own descendants"):
        tags.merge(diary, "work", "work/acme/meetings")
    with pytest.raises(NotFound):
        tags.merge(diary, "work", "nope")
    assert snapshot(diary) == before


def test_delete_leaf_and_recursive(diary, tagged):
    before = snapshot(diary)
    with pytest.raises(BadInput, match="2 tags below it; use --recursive"):
        tags.delete(diary, "work")
    assert snapshot(diary) == before
    change = tags.delete(diary, "work/acme/meetings")
    assert (change.tags, change.entries) == (1, 2)
    change = tags.delete(diary, "work", recursive=True)
    assert all_paths(diary) == ["health", "health/running"]
    assert Entry.select().count() == 5  # entries are never deleted
    assert [e.tag_list for e in Entry.select().order_by(Entry.id)] == [
        [], [], [], ["health/running"], []]


@pytest.mark.parametrize("operation", [
    lambda d: tags.rename(d, "work/acme", "corp"),
    lambda d: tags.move(d, "work/acme", "clients/new"),
    lambda d: tags.merge(d, "work/acme", "health"),
    lambda d: tags.delete(d, "work", recursive=True),
    lambda d: entries.edit(d, 1, body="#fresh text", add_tags=["x/y"], remove_tags=["work/acme/meetings"]),
])
def test_a_failure_midway_leaves_everything_as_before(diary, tagged, monkeypatch, operation):
    """An exception after the tree changed but before the transaction ends
    rolls back the tree, the paths, the closure table, the links and the tags
    text: the failure comes where each operation ends (refreshing the entries'
    tags text, or reporting the Change)."""
    before = snapshot(diary)
    found_before = [found(diary, w) for w in ("acme", "corp", "clients")]

    def boom(*args, **kw):
        raise RuntimeError("injected")

    monkeypatch.setattr(tags, "_refresh", boom)
    monkeypatch.setattr(tags, "Change", boom)
    with pytest.raises(RuntimeError, match="injected"):
        operation(diary)
    assert snapshot(diary) == before
    assert [found(diary, w) for w in ("acme", "corp", "clients")] == found_before
    assert health.problems(diary) == []
    monkeypatch.undo()
    operation(diary)  # and the same operation then succeeds
    assert snapshot(diary) != before


# --- tree and latest ------------------------------------------------------------------

def test_tree_counts_own_and_distinct_subtree_entries(diary, tagged):
    nodes = tags.tree(diary)
    assert [tags.to_record(n)["path"] for n in nodes] == ["health", "work"]
    work = nodes[1]
    assert (work.count, work.total) == (1, 3)  # "work" entry holds two links under work
    acme = work.children[0]
    assert (acme.path, acme.count, acme.total) == ("work/acme", 1, 3)
    assert (acme.children[0].count, acme.children[0].total) == (2, 2)


def test_tree_siblings_sorted_case_insensitively(diary):
    with diary.write():
        for p in ("b", "A", "c", "a/Z", "a/y"):
            tags.ensure(diary, p)
    nodes = tags.tree(diary)
    assert [n.name for n in nodes] == ["A", "b", "c"]
    assert [n.name for n in nodes[0].children] == ["y", "Z"]


def test_latest_per_top_level_tag(diary):
    import datetime as dt

    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    made = [entries.add(diary, "e%d" % i, created_at=base + dt.timedelta(days=i), tags=t)
            for i, t in enumerate([["a/x"], ["a/y", "a"], ["b"], ["a/x/z"], ["a"]])]
    with diary.write():
        tags.ensure(diary, "empty")
    got = tags.latest(diary, 2)
    assert [(name, [e.id for e in found]) for name, found in got] == [
        ("a", [made[4].id, made[3].id]), ("b", [made[2].id]), ("empty", [])]
    assert got[0][1][0].created_at == base + dt.timedelta(days=4)  # real datetimes
    assert [len(f) for _, f in tags.latest(diary, 10)] == [4, 1, 0]


# --- the state machine ----------------------------------------------------------------

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition,  # noqa: E402
                                 rule)

from diary.errors import DiaryError  # noqa: E402

# Few names, in two cases, so that clashes, case-insensitive matches and
# recursive merges happen often.
NAMES = st.sampled_from(["a", "b", "c", "A", "B"])
PATHS = st.lists(NAMES, min_size=1, max_size=4).map("/".join)

# Recomputed from the parent links alone, independent of the triggers.
TRUE_CLOSURE = """
WITH RECURSIVE c(ancestor_id, descendant_id, depth) AS (
    SELECT id, id, 0 FROM tag
    UNION ALL
    SELECT c.ancestor_id, t.id, c.depth + 1 FROM c JOIN tag t ON t.parent_id = c.descendant_id
    WHERE c.depth < 64)
SELECT * FROM c
"""
TRUE_TOTALS = """
WITH RECURSIVE c(ancestor_id, descendant_id, depth) AS (
    SELECT id, id, 0 FROM tag
    UNION ALL
    SELECT c.ancestor_id, t.id, c.depth + 1 FROM c JOIN tag t ON t.parent_id = c.descendant_id
    WHERE c.depth < 64)
SELECT tag.id, (SELECT count(DISTINCT et.entry_id) FROM c JOIN entry_tag et
                ON et.tag_id = c.descendant_id WHERE c.ancestor_id = tag.id)
FROM tag
"""


class TagMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        path = self.tmp.name + "/sm.db"
        store.create(path, "pw", kdf_iter=1)
        self.diary = store.open_diary(path, "pw", kdf_iter=1)
        # a test diary in a temp dir: no need to wait for the disk on each commit
        self.diary.db.execute_sql("PRAGMA synchronous = OFF")

    def teardown(self):
        self.diary.close()
        self.tmp.cleanup()

    def q(self, sql, params=()):
        return list(self.diary.db.execute_sql(sql, params))

    def paths(self):
        return sorted(tags.path_of(t.id) for t in Tag.select())

    def entry_ids(self):
        return [e.id for e in Entry.select(Entry.id)]

    def attempt(self, operation):
        """Run an operation; a refusal must leave everything as it was."""
        before = snapshot(self.diary)
        try:
            operation()
        except DiaryError:
            assert snapshot(self.diary) == before

    @rule(paths=st.lists(PATHS, max_size=3), inline=st.lists(PATHS, max_size=2))
    def add(self, paths, inline):
        text = "text " + " ".join("#" + p for p in inline)
        entries.add(self.diary, text, tags=paths)

    @precondition(lambda self: self.entry_ids())
    @rule(data=st.data(), add=st.lists(PATHS, max_size=2), untag=st.booleans())
    def tag(self, data, add, untag):
        entry = Entry.get_by_id(data.draw(st.sampled_from(self.entry_ids())))
        remove = []
        if untag and entry.tag_list:
            remove = [data.draw(st.sampled_from(entry.tag_list))]
        self.attempt(lambda: entries.edit(self.diary, entry.id, add_tags=add,
                                          remove_tags=remove))

    @precondition(lambda self: self.entry_ids())
    @rule(data=st.data(), inline=st.lists(PATHS, max_size=2))
    def edit_text(self, data, inline):
        entry_id = data.draw(st.sampled_from(self.entry_ids()))
        entries.edit(self.diary, entry_id, body="new " + " ".join("#" + p for p in inline))

    @precondition(lambda self: self.entry_ids())
    @rule(data=st.data())
    def delete_entry(self, data):
        entries.delete(self.diary, [data.draw(st.sampled_from(self.entry_ids()))])

    @precondition(lambda self: Tag.select().exists())
    @rule(data=st.data(), name=NAMES)
    def rename(self, data, name):
        path = data.draw(st.sampled_from(self.paths()))
        self.attempt(lambda: tags.rename(self.diary, path, name))

    @precondition(lambda self: Tag.select().exists())
    @rule(data=st.data(), new_parent=st.one_of(st.just("/"), PATHS))
    def move(self, data, new_parent):
        path = data.draw(st.sampled_from(self.paths()))
        if data.draw(st.booleans()):
            new_parent = data.draw(st.sampled_from(self.paths()))  # often a descendant
        self.attempt(lambda: tags.move(self.diary, path, new_parent))

    @precondition(lambda self: Tag.select().count() > 1)
    @rule(data=st.data())
    def merge(self, data):
        src = data.draw(st.sampled_from(self.paths()))
        dest = data.draw(st.sampled_from(self.paths()))
        self.attempt(lambda: tags.merge(self.diary, src, dest))

    @precondition(lambda self: Tag.select().exists())
    @rule(data=st.data(), recursive=st.booleans())
    def delete(self, data, recursive):
        path = data.draw(st.sampled_from(self.paths()))
        self.attempt(lambda: tags.delete(self.diary, path, recursive=recursive))

    @invariant()
    def closure_matches_the_parent_links(self):
        assert set(self.q("SELECT * FROM tag_path")) == set(self.q(TRUE_CLOSURE))
        own = set(self.q("SELECT ancestor_id FROM tag_path WHERE descendant_id = ancestor_id"
                         " AND depth = 0"))
        assert own == set(self.q("SELECT id FROM tag"))

    @invariant()
    def no_cycle(self):
        # every tag reaches a root by parent links in fewer steps than there are tags
        reach = self.q("""WITH RECURSIVE up(id, at, n) AS (
                SELECT id, parent_id, 0 FROM tag
                UNION ALL SELECT up.id, t.parent_id, up.n + 1 FROM up JOIN tag t ON t.id = up.at
                WHERE up.n < 64)
            SELECT id, max(n) FROM up WHERE at IS NULL GROUP BY id""")
        assert len(reach) == Tag.select().count()

    @invariant()
    def siblings_unique_and_keys_casefolded(self):
        rows = self.q("SELECT name, key, coalesce(parent_id, 0) FROM tag")
        assert all(k == n.casefold() for n, k, _ in rows)
        assert len({(k, p) for _, k, p in rows}) == len(rows)

    @invariant()
    def counts_agree(self):
        assert dict(self.q(TRUE_TOTALS)) == dict(self.q("SELECT id, subtree_entries FROM tag"))
        own = dict(self.q("SELECT tag_id, count(*) FROM entry_tag GROUP BY tag_id"))

        def walk(nodes):
            for n in nodes:
                assert n.count == own.get(n.id, 0)
                walk(n.children)

        walk(tags.tree(self.diary))

    @invariant()
    def tags_text_matches_the_links(self):
        names = {t.id: (t.name, t.key, t.parent_id) for t in Tag.select()}

        def parts(tag_id):
            name, k, parent = names[tag_id]
            above = parts(parent) if parent else []
            return above + [(name, k)]

        for tag_id, path in self.q("SELECT id, path FROM tag"):
            assert path == "/".join(n for n, _ in parts(tag_id))
        expected = {}
        for entry_id, tag_id in self.q("SELECT entry_id, tag_id FROM entry_tag"):
            expected.setdefault(entry_id, []).append(tag_id)
        for entry in Entry.select():
            links = expected.get(entry.id, [])
            assert entry.tags == " ".join("t%d" % i for i in sorted(links))
            assert entry.tag_list == sorted(
                ("/".join(n for n, _ in parts(i)) for i in links),
                key=lambda p: p.casefold())

    @invariant()
    def fts_index_in_step(self):
        self.diary.db.execute_sql("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")
        self.diary.db.execute_sql("INSERT INTO tag_fts (tag_fts) VALUES ('integrity-check')")


TagMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_tag_machine = TagMachine.TestCase
