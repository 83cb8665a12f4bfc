"""render.py: search results (marked snippets) on a terminal and in a pipe."""

import io

from diary import render


def test_marked_cleans_each_piece_and_keeps_the_spans():
    text = "a\x1b[31m café\n\nnear [b]x"
    spans = [(text.index("café"), text.index("café") + 4)]
    assert render.marked(text, spans) == [("a\\x1b[31m ", False), ("café", True),
                                           (" near [b]x", False)]


def test_marked_ignores_bad_spans():
    assert render.marked("abcdef", [(1, 3), (2, 4), (5, 99)]) == [
        ("a", False), ("bc", True), ("def", False)]
    assert render.marked("  ab  ", []) == [("ab", False)]
    assert render.marked("", [(0, 0)]) == []


class _Hit:
    def __init__(self, entry, snippet, spans, title_spans):
        self.entry, self.snippet, self.spans, self.title_spans = entry, snippet, spans, title_spans


def test_piped_results_are_one_line_each_with_brackets(diary):
    from diary import entries

    e = entries.add(diary, "body", title="Tea\tand [cake]")
    out = io.StringIO()
    render.Output(out, terminal=False).search_results(
        [_Hit(e, "so much\ttea here", [(8, 11)], [(0, 3)])])
    fields = out.getvalue().rstrip("\n").split("\t")
    assert fields[0] == str(e.id) and fields[3:] == ["[Tea] and \\[cake\\]",
                                                     "so much [tea] here"]


def test_piped_marks_cannot_be_told_apart_from_brackets_in_the_text(diary):
    """Issue 20: the text's own [ ] and \\ are escaped, so a bare bracket is a mark."""
    import re

    from diary import entries

    text = "a [tea] \\ b] tea"
    e = entries.add(diary, "[no title] x")
    out = io.StringIO()
    render.Output(out, terminal=False).search_results(
        [_Hit(e, text, [(3, 6), (13, 16)], [])])
    fields = out.getvalue().rstrip("\n").split("\t")
    assert fields[3] == "\\[no title\\] x"
    assert fields[4] == "a \\[[tea]\\] \\\\ b\\] [tea]"
    # read back: unescape, and the marks give the spans
    plain, spans, at, start = [], [], 0, None
    for m in re.finditer(r"\\(.)|(\[)|(\])|(.)", fields[4]):
        if m.group(2):
            start = at
        elif m.group(3):
            spans.append((start, at))
        else:
            plain.append(m.group(1) or m.group(4))
            at += 1
    assert "".join(plain) == text and spans == [(3, 6), (13, 16)]
