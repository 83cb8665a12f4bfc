"""The tag commands through the real CLI, in-process: add/edit/list with tags,
`diary tags` (plain, rich, JSON, --latest) and `diary tag ACTION`."""

import json

import pytest

from diary import cli


@pytest.fixture
def filled(run, made):
    """Three entries: 1 work/acme/meetings + inline people/anna, 2 work + inline
    health/running, 3 untagged."""
    assert run("add", "--tag", "work/acme/meetings", "Kick-off with #people/anna").out == "1\n"
    assert run("add", "--tag", "work", "--date", "2030-01-01", "ran #health/running.").out == "2\n"
    assert run("add", "nothing here").out == "3\n"
    return run


def listed(result):
    return [int(line.split("\t")[0]) for line in result.out.splitlines() if line]


def tree_json(run):
    result = run("tags", "--json")
    assert result.code == 0, result
    return json.loads(result.out)


def paths(nodes):
    found = []
    for n in nodes:
        found.append(n["path"])
        found.extend(paths(n["children"]))
    return found


def test_add_and_show_tags(filled):
    shown = json.loads(filled("show", "1", "2", "--json").out)
    assert [e["tags"] for e in shown] == [["people/anna", "work/acme/meetings"],
                                          ["health/running", "work"]]


def test_add_refuses_a_bad_tag_and_adds_nothing(run, made):
    for bad in ("a//b", "/a", "a/", "a\x1bb"):
        result = run("add", "--tag", bad, "text")
        assert result.code == 1 and result.err.startswith("diary: ")
        assert result.err.count("\n") == 1 and "\x1b" not in result.err
    assert json.loads(run("list", "--json").out) == []
    assert run("tags", "--json").out == "[]\n"


def test_edit_tag_and_untag(filled):
    result = filled("edit", "1", "--tag", "x/y", "--untag", "people/anna", "--json")
    assert result.code == 0, result
    assert json.loads(result.out)["tags"] == ["work/acme/meetings", "x/y"]
    refused = filled("edit", "1", "--untag", "health")
    assert refused.code == 1 and "entry 1 has no tag health" in refused.err


def test_edit_text_rederives_inline_tags(filled):
    result = filled("edit", "2", "--json", stdin="walked instead #health/walking\n")
    assert json.loads(result.out)["tags"] == ["health/walking", "work"]


def test_list_by_subtree_and_exact(filled):
    assert listed(filled("list", "--tag", "work")) == [2, 1]
    assert listed(filled("list", "--tag", "WORK/acme")) == [1]
    assert listed(filled("list", "--tag", "work", "--tag-exact")) == [2]
    assert listed(filled("list", "--tag", "work", "--tag", "health")) == [2]
    assert listed(filled("list", "--tag", "nope")) == []
    bad = filled("list", "--tag", "a//b")
    assert bad.code == 1 and "empty name" in bad.err


def test_tags_plain_tree(filled):
    result = filled("tags")
    assert result.code == 0
    assert result.out == ("health\t0\t1\n"
                          "  running\t1\t1\n"
                          "people\t0\t1\n"
                          "  anna\t1\t1\n"
                          "work\t1\t2\n"
                          "  acme\t0\t1\n"
                          "    meetings\t1\t1\n")


def test_tags_json_shape(filled):
    tree = tree_json(filled)
    assert [n["name"] for n in tree] == ["health", "people", "work"]
    work = tree[2]
    assert work == {"name": "work", "path": "work", "count": 1, "total": 2, "children": [
        {"name": "acme", "path": "work/acme", "count": 0, "total": 1, "children": [
            {"name": "meetings", "path": "work/acme/meetings", "count": 1, "total": 1,
             "children": []}]}]}


def test_tags_on_a_terminal_is_a_rich_tree_with_escaped_names(run, made):
    run("add", "--tag", "[red]x/child", "text")
    run("add", "--tag", "evil\u200bname", "text")  # a zero-width space is allowed, shown as is
    result = run("tags", tty=True, environ={"NO_COLOR": "1"})
    assert result.code == 0, result
    assert "[red]x" in result.out  # markup in a name is text, not style
    assert "└── " in result.out or "├── " in result.out
    assert "child" in result.out


def test_tags_empty(run, made):
    result = run("tags")
    assert result.code == 0 and result.out == "" and "No tags yet" in result.err


def test_tags_latest(filled):
    filled("add", "--tag", "work/acme", "--date", "2029-01-01", "later")
    result = filled("tags", "--latest", "2", "--json")
    groups = json.loads(result.out)
    assert [(g["path"], [e["id"] for e in g["entries"]]) for g in groups] == [
        ("health", [2]), ("people", [1]), ("work", [2, 4])]
    # the keys of `tags --json` for the same tag
    tree = json.loads(filled("tags", "--json").out)
    assert [set(g) - {"entries"} <= set(node) for g, node in zip(groups, tree)] == [True] * 3
    assert [g["name"] for g in groups] == [node["name"] for node in tree]
    plain = filled("tags", "--latest", "1").out
    assert plain.split("\n\n")[2].splitlines()[0] == "work"
    assert plain.split("\n\n")[2].splitlines()[1].startswith("2\t")


def test_tag_rename(filled):
    result = filled("tag", "rename", "work/acme", "Acme Corp")
    assert result.code == 0, result
    assert "Renamed work/acme to work/Acme Corp (1 entry updated)." in result.err
    assert json.loads(filled("show", "1", "--json").out)[0]["tags"] == [
        "people/anna", "work/Acme Corp/meetings"]
    clash = filled("tag", "rename", "work/acme corp", "x/y")
    assert clash.code == 1 and "cannot contain '/'" in clash.err
    filled("add", "--tag", "work/other", "t")
    clash = filled("tag", "rename", "work/other", "ACME CORP")
    assert clash.code == 1 and "work/Acme Corp already exists" in clash.err
    assert "tag merge" in clash.err


def test_tag_rename_changes_case(filled):
    assert filled("tag", "rename", "work", "work").code == 0
    assert [n["name"] for n in tree_json(filled)] == ["health", "people", "work"]


def test_tag_move(filled):
    result = filled("tag", "move", "work/acme", "clients")
    assert result.code == 0, result
    assert "Moved work/acme to clients/acme" in result.err
    assert "clients/acme/meetings" in paths(tree_json(filled))
    assert listed(filled("list", "--tag", "clients")) == [1]
    assert listed(filled("list", "--tag", "work")) == [2]
    top = filled("tag", "move", "clients/acme", "/")
    assert top.code == 0 and "to acme " in top.err
    assert filled("tag", "move", "acme", "").code == 0  # already at the top level
    search = filled("list", "--tag", "acme")
    assert listed(search) == [1]


def test_tag_move_refusals(filled):
    before = tree_json(filled)
    for target in ("work", "work/acme", "work/acme/meetings/deeper"):
        result = filled("tag", "move", "work", target)
        assert result.code == 1 and "cannot move work under" in result.err
    filled("add", "--tag", "acme", "t")
    clash = filled("tag", "move", "work/acme", "/")
    assert clash.code == 1 and "acme already exists" in clash.err
    missing = filled("tag", "move", "nope", "work")
    assert missing.code == 1 and "no tag nope" in missing.err
    after = tree_json(filled)
    assert paths(after) == sorted(paths(before) + ["acme"], key=str.casefold) or \
        set(paths(after)) == set(paths(before)) | {"acme"}


def test_tag_merge(filled):
    filled("add", "--tag", "health/running", "--tag", "people", "both")
    result = filled("tag", "merge", "people", "health")
    assert result.code == 0, result
    assert "Merged people into health" in result.err
    assert paths(tree_json(filled)) == ["health", "health/anna", "health/running", "work",
                                        "work/acme", "work/acme/meetings"]
    both = json.loads(filled("show", "4", "--json").out)[0]
    assert both["tags"] == ["health", "health/running"]
    same = filled("tag", "merge", "work", "WORK")
    assert same.code == 1 and "into itself" in same.err
    down = filled("tag", "merge", "work", "work/acme")
    assert down.code == 1 and "its own descendants" in down.err


def test_tag_delete(filled):
    refused = filled("tag", "delete", "work")
    assert refused.code == 1 and "2 tags below it" in refused.err and "--recursive" in refused.err
    result = filled("tag", "delete", "work", "--recursive")
    assert result.code == 0 and "Deleted work and 2 tags below it (2 entries updated)." \
        in result.err
    assert [e["tags"] for e in json.loads(filled("list", "--json").out)] == [
        ["health/running"], [], ["people/anna"]]
    assert filled("tag", "delete", "people/anna").code == 0
    assert paths(tree_json(filled)) == ["health", "health/running", "people"]


def test_tag_commands_refuse_read_only(filled):
    result = filled("tag", "rename", "work", "x", "--read-only")
    assert result.code == 1 and "read-only" in result.err
    assert filled("tags", "--read-only").code == 0


def test_tag_needs_an_action(filled):
    result = filled("tag")
    assert result.code == 2


@pytest.mark.parametrize("argv", [["tags"], ["tag"], ["tag", "rename"], ["tag", "move"],
                                  ["tag", "merge"], ["tag", "delete"]])
def test_help_has_an_example(run, argv):
    result = run(*argv, "--help")
    assert result.code == 0
    assert "example:\n  diary " in result.out


def test_every_command_is_registered():
    assert {"tags", "tag"} <= set(cli.COMMANDS)
