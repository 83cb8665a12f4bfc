"""Every rendering of user data for a person: the one place user text meets a terminal.

User text is data. ``clean`` makes every control character, escape sequence
and bidi override visible (``\\x1b``, ``\\u202e``) instead of letting it act on
the terminal; rich only ever receives user text inside ``Text`` objects, never
inside markup strings. On a terminal the output is styled with rich (imported
only then: it is slow to import); piped, it is plain text without escapes.
Exports to files and ``--json`` write raw text: they are data, not display.
"""

import json
import re
import unicodedata

from . import dates
from .render_calendar import calendar_month, calendar_year, summary_text  # noqa: F401
from .render_markdown import MAX_NESTING, markdown  # noqa: F401
from .safe_text import (UNSAFE_CHARS, SgrOnlyStream, clean,  # noqa: F401
                        safe_fragments, sgr_only)


def one_line(text, width=None):
    """``clean`` and flattened to one line (for lists and snippets)."""
    line = " ".join(clean(text).split())
    if width and len(line) > width:
        line = line[: width - 1] + "…"
    return line


def when(dt, seconds=False):
    return dates.local(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def headline(entry):
    """The title, or the first line of the text when there is no title."""
    if entry.title.strip():
        return entry.title
    for line in entry.body.splitlines():
        if line.strip():
            return line
    return ""


class TerminalSafe:
    """A text stream that cleans what is written: for data (an export, CSV)
    sent raw to a pipe or a file, but to a terminal only through ``clean``."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        return self.stream.write(clean(text))

    def flush(self):
        self.stream.flush()


class Output:
    """Where data goes: rich on a terminal, plain text when piped."""

    def __init__(self, stream, *, terminal, color=True, width=None):
        self.stream = stream
        self.terminal = terminal
        self._console = None
        self._color = color
        self._width = width  # None: the terminal's (tests force one)

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            stream = SgrOnlyStream(self.stream) if self.terminal else self.stream
            self._console = Console(file=stream, force_terminal=self.terminal,
                                    no_color=not self._color, highlight=False,
                                    markup=False, emoji=False, width=self._width)
        return self._console

    def line(self, text=""):
        """A line of program text (not user text)."""
        self.stream.write(text + "\n")

    def json(self, data):
        text = json.dumps(data, ensure_ascii=False, indent=2)
        # json escapes C0 controls only: on a terminal, bidi overrides and C1
        # controls must not act either (piped, the JSON stays raw data).
        self.stream.write((clean(text) if self.terminal else text) + "\n")

    # --- entries ---------------------------------------------------------------

    def entries(self, entries):
        """Full entries, one after another."""
        for i, entry in enumerate(entries):
            if i:
                self.line()
            if self.terminal:
                self._entry_rich(entry)
            else:
                self._entry_plain(entry)

    def _entry_plain(self, entry):
        star = " *" if entry.starred else ""
        self.line("#%d  %s%s  %s" % (entry.id, when(entry.created_at), star,
                                     one_line(entry.title)))
        if entry.tag_list:
            self.line("tags: " + ", ".join(one_line(t) for t in entry.tag_list))
        self.line()
        self.line(clean(entry.body))

    def _entry_rich(self, entry):
        from rich.text import Text

        for line in entry_header(entry):
            self.console.print(line)
        self.console.print()
        self.console.print(Text(clean(entry.body)))

    def entry_list(self, entries):
        """One line per entry: id, date, star, headline, tags."""
        if not self.terminal:
            for e in entries:
                self.line("%d\t%s\t%s\t%s\t%s" % (
                    e.id, when(e.created_at), "*" if e.starred else "",
                    one_line(headline(e), 80), ",".join(one_line(t) for t in e.tag_list)))
            return
        from rich.table import Table
        from rich.text import Text

        # Ids and dates always show in full: they are what a reader types next.
        # Left to itself, rich shrinks every column evenly on a narrow terminal
        # (cutting "2026-…" and the id); so those get fixed widths and the
        # headline and tags share what is left, about 3:1.
        entries = list(entries)
        id_width = max([2] + [len(str(e.id)) for e in entries])
        date_width = len(when(entries[0].created_at)) if entries else 16
        rest = max(2, self.console.width - id_width - date_width - 1 - 2 * 4)
        tag_width = min(max([4] + [len(" ".join(e.tag_list)) for e in entries]),
                        max(1, rest // 4))
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("id", justify="right", style="dim", no_wrap=True, width=id_width)
        table.add_column("date", style="cyan", no_wrap=True, width=date_width)
        table.add_column("", style="yellow", no_wrap=True, width=1)
        table.add_column("entry", overflow="ellipsis", no_wrap=True,
                         max_width=max(1, rest - tag_width))
        table.add_column("tags", style="magenta", overflow="ellipsis", no_wrap=True,
                         max_width=tag_width)
        for e in entries:
            table.add_row(str(e.id), when(e.created_at), "★" if e.starred else "",
                          Text(one_line(headline(e), 200)),
                          Text(" ".join(one_line(t) for t in e.tag_list)))
        self.console.print(table)

    # --- query results (user SQL: column names and values are user data) -------

    def result_table(self, columns, rows):
        """A rich table on a terminal; tab-separated lines with a header when piped."""
        if not columns:
            return  # a statement without a result (BEGIN, an empty PRAGMA)
        if not self.terminal:
            for row in [columns, *rows]:
                self.line("\t".join(_tsv_cell(v) for v in row))
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(show_header=True, header_style="bold")
        for i, name in enumerate(columns):
            numeric = any(r[i] is not None for r in rows) and all(
                r[i] is None or isinstance(r[i], (int, float)) for r in rows)
            table.add_column(Text(one_line(name)), justify="right" if numeric else "left")
        for row in rows:
            table.add_row(*(Text("NULL", style="dim") if v is None else Text(_display(v))
                            for v in row))
        self.console.print(table)
        self.console.print(Text("%d %s" % (len(rows), "row" if len(rows) == 1 else "rows"),
                                style="dim"))

    def csv(self, columns, rows, convert=lambda v: v):
        """CSV with a header row: data, written raw (NULL as an empty field)."""
        import csv

        if not columns:
            return
        writer = csv.writer(TerminalSafe(self.stream) if self.terminal else self.stream,
                            lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else convert(v) for v in row])


    def tag_tree(self, nodes):
        """The tag tree with each tag's own and subtree entry counts.

        Piped: one tag per line, indented two spaces per level, then a tab,
        its own count, a tab and the subtree count. On a terminal: a rich Tree.
        """
        if not self.terminal:
            lines = []

            def walk(nodes, depth):
                for n in nodes:
                    lines.append("%s%s\t%d\t%d" % ("  " * depth, one_line(n.name),
                                                    n.count, n.total))
                    walk(n.children, depth + 1)

            walk(nodes, 0)
            self.stream.write("".join(line + "\n" for line in lines))
            return
        from rich.text import Text
        from rich.tree import Tree

        root = Tree(Text("tags", style="bold"), guide_style="dim")

        def grow(branch, nodes):
            for n in nodes:
                label = Text(one_line(n.name), style="magenta")
                label.append("  %d" % n.count, style="bold" if n.count else "dim")
                if n.children:
                    label.append(" / %d" % n.total, style="cyan")
                grow(branch.add(label), n.children)

        grow(root, nodes)
        self.console.print(root)

    def latest_by_tag(self, groups):
        """``(top-level tag name, entries)`` pairs: a heading, then an entry list."""
        for i, (name, entries) in enumerate(groups):
            if i:
                self.line()
            if self.terminal:
                from rich.text import Text

                self.console.print(Text(one_line(name), style="bold magenta"))
            else:
                self.line(one_line(name))
            self.entry_list(entries)

    # --- search results ----------------------------------------------------------

    def search_results(self, hits, snippets=True):
        """Found entries: date, title and a snippet with the matched words marked.

        On a terminal the matches are styled; piped, one tab-separated line per
        hit (id, date, star, headline, snippet) with the matches in [brackets].
        Without ``snippets`` (a query of filters or negations only, nothing to
        mark) the hits show as entry_list does.
        """
        if not snippets:
            self.entry_list([h.entry for h in hits])
            return
        if not self.terminal:
            for h in hits:
                e = h.entry
                title = marked(e.title, h.title_spans) if e.title.strip() else []
                head = _plain(title or [(one_line(headline(e), 80), False)])
                self.line("%d\t%s\t%s\t%s\t%s" % (e.id, when(e.created_at),
                                                  "*" if e.starred else "", head,
                                                  _plain(marked(h.snippet, h.spans))))
            return
        from rich.text import Text

        for h in hits:
            e = h.entry
            head = _id_date_star(e)
            head.append("  ")
            if e.title.strip():
                _append_marked(head, marked(e.title, h.title_spans), "bold")
            else:
                head.append(one_line(headline(e), 80), style="bold")
            self.console.print(head)
            if h.snippet:
                body = Text("    ")
                _append_marked(body, marked(h.snippet, h.spans), None)
                self.console.print(body)

def _display(value):
    if isinstance(value, bytes):
        return "x'%s'" % value.hex()
    return clean(str(value))


def _tsv_cell(value):
    """One field on one line: backslash, tab and line breaks escaped, then ``clean``."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return "x'%s'" % value.hex()
    text = str(value).replace("\\", "\\\\").replace("\t", "\\t")
    return clean(text.replace("\r", "\\r").replace("\n", "\\n"))


# --- the interactive diary -----------------------------------------------------------
# Screens of the menu show rich renderings as ANSI text (parsed back by
# prompt_toolkit) and lists as prompt_toolkit fragments: (style class, text)
# pairs, which are data, never markup. User text is cleaned before either.

def ansi(renderables, width, color=True):
    """Render rich ``renderables`` to a string of text and SGR escapes only."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=max(20, width),
                      color_system="256" if color else None, highlight=False,
                      markup=False, emoji=False, legacy_windows=False)
    for r in renderables:
        console.print(r)
    return sgr_only(buf.getvalue())


def _id_date_star(entry):
    """The start of every entry's heading line: ``#12 2024-03-02 21:30 ★``."""
    from rich.text import Text

    head = Text()
    head.append("#%d " % entry.id, style="dim")
    head.append(when(entry.created_at), style="cyan")
    if entry.starred:
        head.append(" ★", style="yellow")
    return head


def entry_header(entry):
    """An entry's heading (id, date, star, title) and its tags: rich Text lines."""
    from rich.text import Text

    head = _id_date_star(entry)
    if entry.title.strip():
        head.append("  ")
        head.append(one_line(entry.title), style="bold")
    lines = [head]
    if entry.tag_list:
        lines.append(Text("  ".join("#" + one_line(t) for t in entry.tag_list),
                          style="magenta"))
    return lines


class Page(str):
    """A rendered page (ANSI text) that also says on which of its lines
    (0-based) the words asked for were marked: ``matches``, in order."""

    def __new__(cls, text, matches=()):
        page = super().__new__(cls, text)
        page.matches = list(matches)
        return page


def entry_ansi(entry, width, color=True, terms=None):
    """A whole entry for the reading screen: header, tags, the text as Markdown.

    With ``terms`` (highlight.query_terms of a search) their words are marked
    wherever they show, and the Page's ``matches`` lists the lines they are on
    (for keys that jump from one to the next). A word cut by wrapping is not
    marked."""
    from rich.text import Text

    head = [*entry_header(entry), Text("")]
    if len(entry.body) > MARKDOWN_LIMIT:
        out = ansi(head, width, color) + "".join(
            line + "\n" for line in wrapped(clean(entry.body), max(20, width)))
    else:
        body = markdown(entry.body) if entry.body.strip() else Text("(no text)", style="dim")
        out = ansi([*head, body], width, color)
    if not terms:
        return Page(out)
    from .highlight import mark_page

    return Page(*mark_page(out, terms, MATCH_SGR if color else REVERSE_SGR))


# Past this many characters an entry is read as plain text, wrapped at words
# (``wrapped``), not as Markdown: rich renders Markdown at ~1.2 s a megabyte
# here (0.2 s at this limit), ``wrapped`` a 10 MB entry in ~0.5 s
# (bench/bench_reader.py); a reader must open a 10 MB entry in about a second.
MARKDOWN_LIMIT = 200_000


def wrapped(text, width):
    """``text`` (cleaned) as lines of at most ``width`` columns, broken at the
    last space that fits, or inside a word longer than a line; the lines it
    has are kept, tabs expanded to 8 columns."""
    out = []
    # An index walks the line: cutting its rest off after each piece copied the
    # rest every time, minutes for a 10 MB line with no line break.
    for line in text.expandtabs(8).split("\n"):
        start, end = 0, len(line)
        while True:
            stop = min(start + width, end)
            if stop > start and max(line[start:stop]) >= "\u0300":  # else one column each
                stop = _fit_end(line, start, width)
                if stop == start and start < end:
                    stop = start + 1
            if stop == end:
                out.append(line[start:])
                break
            cut = line.rfind(" ", start, stop + 1)  # a space just past the width will do
            if cut > start:
                out.append(line[start:cut].rstrip(" "))
                start = cut + 1
            else:
                out.append(line[start:stop])
                start = stop
    return out


def _fit_end(text, start, room):
    """Where the longest piece of ``text`` from ``start`` that takes at most
    ``room`` columns ends."""
    used = 0
    for i in range(start, len(text)):
        used += _cells(text[i])
        if used > room:
            return i
    return len(text)


MATCH_SGR = "\x1b[1;30;43m"  # MATCH_STYLE: bold black on yellow
REVERSE_SGR = "\x1b[7m"      # without colour: reverse video


def entry_fragments(entry, width=80, note=None, title_spans=None):
    """Two lines for a list: date, star, headline and tags; then the first line
    of the text (or ``note``, e.g. "2 years ago": text or fragments). Nothing
    passes ``width``: tags show in full where the row has room; otherwise
    the headline keeps about what the tags do not need, up to 30 columns of
    tags. ``title_spans`` (a search hit's) mark matches in the title."""
    first = ""
    if entry.title.strip():
        for line in entry.body.splitlines():
            if line.strip():
                first = line
                break
    spans = title_spans if entry.title.strip() else None
    head = marked(headline(entry), spans or []) or [("(empty)", False)]
    tags = " ".join("#" + one_line(t) for t in entry.tag_list)
    room = max(2, width - 19)  # after the date (16 columns) and the star (3)
    if tags:
        head = _cut(head, min(room, max(10, room - 2 - min(cells(tags), 30))))
        tags = _cut([(tags, False)], max(1, room - 2 - cells("".join(p for p, _ in head))))
    else:
        head = _cut(head, room)
    frags = [("class:date", when(entry.created_at)),
             ("class:star", " ★ " if entry.starred else "   ")]
    frags += [("class:match" if match else "class:title", piece) for piece, match in head]
    if tags:
        frags.append(("class:tags", "  " + "".join(p for p, _ in tags)))
    frags.append(("", "\n"))
    if note is None:
        frags.append(("class:dim", "      " + "".join(
            p for p, _ in _cut([(one_line(first), False)], max(1, width - 6)))))
    elif isinstance(note, str):
        frags.append(("class:dim", "      " + note))
    else:
        frags.append(("class:dim", "      "))
        frags.extend(note)
    return frags


def highlight_fragments(text, spans, style="class:dim", width=None):
    """``text`` (a snippet) with the (start, end) ``spans`` marked as matches,
    as prompt_toolkit fragments (cut and cleaned by ``marked``); with
    ``width``, only the columns around the first match (``snippet_window``)."""
    pieces = snippet_window(text, spans, width) if width else marked(text, spans)
    return [("class:match" if match else style, piece) for piece, match in pieces]


def title_fragments(title, spans=None, terms=None, style="class:title", width=None):
    """A title as prompt_toolkit fragments, its matches marked: the (start,
    end) ``spans`` a search hit gives (Hit.title_spans), or where the words
    ``terms`` (highlight.query_terms) are. With ``width``, cut to it."""
    if terms:
        from . import highlight

        spans = highlight.term_spans(title, terms)
    pieces = _cut(marked(title, spans or []), width)
    return [("class:match" if match else style, piece) for piece, match in pieces]


def cells(text):
    """The columns ``text`` takes on a terminal: wide characters two,
    combining marks none."""
    return sum(_cells(ch) for ch in text)


def _cells(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _cut(pieces, width):
    """(piece, is_match) ``pieces`` cut to ``width`` columns, "…" where cut."""
    if width is None or cells("".join(p for p, _ in pieces)) <= width:
        return pieces
    out, room = [], width - 1
    for piece, match in pieces:
        kept = _fit(piece, room)
        if kept:
            out.append((kept, match))
        room -= cells(kept)
        if len(kept) < len(piece):
            break
    out.append(("…", False))
    return out


def _fit(text, room):
    """The longest start of ``text`` that takes at most ``room`` columns."""
    used = 0
    for i, ch in enumerate(text):
        used += _cells(ch)
        if used > room:
            return text[:i]
    return text


def snippet_window(text, spans, width):
    """What shows of a snippet in ``width`` columns: (piece, is_match) pairs
    as ``marked`` cuts them, the window centred on the first match, with "…"
    where the text goes on beyond it. A match longer than the window shows
    from its start."""
    import bisect

    pieces = marked(text, spans)
    line = "".join(p for p, _ in pieces)
    ends = [0]  # ends[i]: the columns of line[:i]
    for ch in line:
        ends.append(ends[-1] + _cells(ch))
    n = len(line)
    if ends[n] <= width or width < 3:
        return _cut(pieces, width)
    first, at = (0, 0), 0
    for piece, match in pieces:
        if match:
            first = (at, at + len(piece))
            break
        at += len(piece)

    def centred(room):
        a, b = first
        if ends[b] - ends[a] >= room:
            start = ends[a]
        else:
            start = max(0, min((ends[a] + ends[b] - room) // 2, ends[n] - room))
        i = bisect.bisect_left(ends, start)
        return i, bisect.bisect_right(ends, ends[i] + room) - 1

    i, j = centred(width)
    for _ in range(3):  # room for the ellipses the window needs
        i, j = centred(width - (i > 0) - (j < n))
    lead = i > 0
    if j <= first[0] < n:  # too narrow for the match between two ellipses: it leads
        i, lead = first[0], False
        j = bisect.bisect_right(ends, ends[i] + width - 1) - 1
        if j >= n - 1:
            j = bisect.bisect_right(ends, ends[i] + width) - 1
    out, at = [("…", False)] if lead else [], 0
    for piece, match in pieces:
        lo, hi = max(at, i), min(at + len(piece), j)
        if lo < hi:
            out.append((line[lo:hi], match))
        at += len(piece)
    if j < n:
        out.append(("…", False))
    merged = []  # "…" joins the text beside it
    for piece, match in out:
        if merged and not match and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + piece, False)
        else:
            merged.append((piece, match))
    return merged


def tag_rows(nodes, depth=0):
    """The tag tree as (path, fragments) rows, children indented under parents."""
    rows = []
    for node in nodes:
        frags = [("", "  " * depth), ("class:tags", one_line(node.name)),
                 ("class:dim", "  %d" % node.total)]
        if node.count != node.total:
            frags.append(("class:dim", " (%d here)" % node.count))
        rows.append((node.path, frags))
        rows.extend(tag_rows(node.children, depth + 1))
    return rows


MATCH_STYLE = "bold black on yellow"  # MATCH_SGR in the reader


def marked(text, spans):
    """``text`` cut into (piece, is_match) along ``spans``, each piece cleaned and
    flattened to one line (cleaning per piece keeps the spans in place)."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        if start < at or end > len(text):
            continue  # overlapping or stale offsets: show the text unmarked there
        pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    pieces.append((text[at:], False))
    out = [(_SPACES.sub(" ", clean(p)), m) for p, m in pieces if p]
    if out:
        out[0] = (out[0][0].lstrip(), out[0][1])
        out[-1] = (out[-1][0].rstrip(), out[-1][1])
    return [(p, m) for p, m in out if p]


_SPACES = re.compile(r"\s+")


_PIPED_ESCAPES = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]"})


def _plain(pieces):
    """Piped search output: matches in [brackets], and the text's own
    backslashes and brackets escaped (\\, \\[, \\]), so a bracket that
    is not escaped is always a mark."""
    return "".join("[%s]" % p.translate(_PIPED_ESCAPES) if m else p.translate(_PIPED_ESCAPES)
                   for p, m in pieces)


def _append_marked(text, pieces, style):
    for piece, match in pieces:
        text.append(piece, style=MATCH_STYLE if match else style)
