"""Red-team findings (the redteam branch): each test failed before its fix."""

import json

from test_cli_editor import _entries, editor  # noqa: F401 (the fixture)


def test_a_header_that_lies_about_the_id_reopens_the_file_and_loses_nothing(
        run, made, editor):  # noqa: F811
    run("add", "mine")
    # the person (or a slip of the editor) turns "entry 1" into "entry 7", and
    # then into a number past any integer: the text written must come back
    editor.act({"sub": [["^--- diary entry 1 ", "--- diary entry 7 "],
                        ["^mine$", "precious words"]]},
               {"sub": [["^--- diary entry 7 ", "--- diary entry 99999999999999999999999 "]]},
               {"sub": [["^--- diary entry 9+ ", "--- diary entry %s " % ("9" * 5000)]]},
               {"sub": [["^--- diary entry 9+ ", "--- diary entry 1 "]]})
    r = run("edit", "1", tty=True, environ=editor.environ())
    assert r.code == 0, r
    runs = editor.runs()
    assert len(runs) == 4, [r['text'][:200] for r in runs]
    assert "precious words" in runs[1]["text"] and "entry 7" in runs[1]["text"].split("\n")[0]
    assert "precious words" in runs[2]["text"] and "precious words" in runs[3]["text"]
    assert "no entry has such a number" in runs[3]["text"].split("\n")[0]
    assert [e[2] for e in _entries(made)] == ["precious words"]
