"""The entries of the txt-export fixture (tests/fixtures/jrnl/export.txt), shared by
the fixture's generator (fixtures/make_jrnl_export.py) and test_jrnl_txt.py. Times are
naive local times: the fixture is made and checked with TZ=UTC."""

import datetime as _dt

# (title, body, starred, created_at)
ENTRIES = [
    ("", "An untitled entry.\nIts second line.", False, (2024, 3, 1, 9, 0)),
    ("", "Untitled, with seconds", False, (2024, 3, 1, 9, 30, 15)),
    ("A title", "Titled text", False, (2024, 3, 2, 21, 30)),
    ("", "Starred and untitled, with microseconds", True, (2024, 3, 3, 7, 5, 1, 250000)),
    ("Only a title. Two sentences", "", False, (2024, 3, 4, 12, 0)),
    ("Starred", "With a title. And @tags #food", True, (2024, 3, 5, 18, 45, 59)),
    ("", "Another untitled one, right after", False, (2024, 3, 5, 18, 46)),
    ("Indented", "    a code line\n  - a list item", False, (2024, 3, 6, 8, 0)),
    ("Blank lines first", "\n\nthen the text  ", False, (2024, 3, 6, 9, 0)),
]


def add_all(diary, entries_module, tz=None):
    for title, body, starred, when in ENTRIES:
        entries_module.add(diary, body, title=title, starred=starred,
                           created_at=_dt.datetime(*when).astimezone(tz))
