"""Markdown notes with YAML front matter (issue 21, item 3), in the shapes
Obsidian (block-list tags, aliases), Jekyll (`date: 2024-03-02 21:30:00 +0100`,
`tags: [a, b]`) and Hugo (`date: 2024-03-02T21:30:00+01:00`, `draft`) write;
hostile YAML refused on one line."""

import datetime as _dt

import pytest

from diary import entries, exchange
from diary.errors import BadInput

UTC = _dt.timezone.utc


def notes(tmp_path, files):
    folder = tmp_path / "vault"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return str(folder)


def test_obsidian_jekyll_hugo_front_matter(diary, tmp_path):
    folder = notes(tmp_path, {
        "obsidian.md": "---\ntitle: Heron\naliases:\n  - grey heron\ntags:\n  - birds\n"
                       "  - walks/river\nstarred: true\ndate: 2024-03-02T21:30:00+01:00\n---\n"
                       "Saw one.\n",
        "_posts/2024-03-03-jekyll.md": "---\nlayout: post\ntitle: \"Jekyll post\"\n"
                                       "date: 2024-03-03 08:15:00 +0100\n"
                                       "tags: [travel, 2024]\n---\nBody.\n",
        "content/hugo.md": "---\ntitle: 1984\ndate: 2024-03-04\ndraft: false\n---\nRead.\n",
    })
    stats = exchange.import_file(diary, folder, "markdown")
    assert stats.added == 3
    got = {e.title: e for e in entries.list_entries(diary)}
    heron = got["Heron"]
    assert heron.starred and sorted(heron.tag_list) == ["birds", "walks/river"]
    assert heron.created_at == _dt.datetime(2024, 3, 2, 20, 30, tzinfo=UTC)
    jekyll = got["Jekyll post"]
    assert sorted(jekyll.tag_list) == ["2024", "travel"]
    assert jekyll.created_at == _dt.datetime(2024, 3, 3, 7, 15, tzinfo=UTC)
    assert got["1984"].body == "Read."  # a number as a title


def test_folders_as_tag_paths(diary, tmp_path):
    folder = notes(tmp_path, {"work/acme/meeting.md": "---\ntitle: Meeting\n---\nNotes.\n",
                              "top.md": "Top note.\n"})
    exchange.import_file(diary, folder, "markdown",
                         options=exchange.ImportOptions(folder_tags=True))
    got = {e.title or e.body: e.tag_list for e in entries.list_entries(diary)}
    assert got == {"Meeting": ["work/acme"], "Top note.": []}


@pytest.mark.parametrize("front, message", [
    ('a: &a ["x","x","x"]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n', "aliases"),  # billion laughs
    ("title: [unclosed\n", "front matter"),
    ("- just\n- a list\n", "front matter must be"),
    ("tags: {a: 1}\n", "tags must be a list"),
    ("date: !!python/object:os.system x\n", "front matter"),  # no unsafe tags
    ("title: x\n" + "y: " + "z" * 70000 + "\n", "longer than 64 KB"),
])
def test_hostile_yaml_is_refused_on_one_line(diary, tmp_path, front, message):
    folder = notes(tmp_path, {"bad.md": "---\n" + front + "---\ntext\n"})
    with pytest.raises(BadInput, match=message) as err:
        exchange.import_file(diary, folder, "markdown")
    assert "\n" not in str(err.value) and str(err.value).startswith("bad.md")
    assert entries.list_entries(diary) == []


def test_a_timestamp_tag_still_reads(diary, tmp_path):
    folder = notes(tmp_path, {"t.md": "---\ndate: !!timestamp 2024-03-02 21:30:00Z\n---\nx\n"})
    exchange.import_file(diary, folder, "markdown")
    [e] = entries.list_entries(diary)
    assert e.created_at == _dt.datetime(2024, 3, 2, 21, 30, tzinfo=UTC)
