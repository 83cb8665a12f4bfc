"""Where a query's words are in a text, as search finds them, and marking them.

Usage::

    from diary import highlight
    terms = highlight.query_terms('cafe "long run" -work walk*')  # ['cafe', 'long', 'run', 'walk*']
    highlight.term_spans("A Café, a long walk", terms)            # [(2, 6), (10, 14), (15, 19)]

The index's tokenizer is ``unicode61 remove_diacritics 2`` (schema.py): a
word is a run of letters and numbers, matched without regard to case or
accents (``cafe`` finds ``Café``), whole unless the query word ends in ``*``
(a prefix). Phrases are highlighted word by word; negated words never.
``mark_page`` marks the words in a rendered page (render.entry_ansi's).
"""

import functools
import re
import unicodedata

from . import grams
from .search.query import Query, parse

# A word's letters may be followed by combining marks (text in decomposed
# form, "e" + U+0301): they are the accents the tokenizer removes.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = re.compile(r"(?:[^\W_][%s]*)+" % _MARKS)


def query_terms(query):
    """The words of ``query`` (its text or a parsed search Query) that a found
    entry holds: each word once, in order, a prefix ending in ``*``. Words
    under a NOT, and filters (tag:, from:, ...), are left out. BadInput for a
    query search refuses."""
    if not isinstance(query, Query):
        query = parse(query)
    terms = []

    def walk(node):
        if node is None or node[0] == "not":
            return
        if node[0] == "term" and node[2] == "grams":  # a run of a script without spaces
            run = grams.run_of(node[1])
            if run not in terms:
                terms.append(run)
        elif node[0] == "term":
            phrase = node[1]
            prefix = phrase.endswith("*")
            words = _WORD.findall(phrase[1:-2 if prefix else -1].replace('""', '"'))
            for i, word in enumerate(words):
                term = word + ("*" if prefix and i == len(words) - 1 else "")
                if term not in terms:
                    terms.append(term)
        else:
            for child in node[1]:
                walk(child)

    walk(query.tree)
    return terms


def fold(text):
    """``text`` as the tokenizer compares it: lower case, accents removed."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@functools.lru_cache(maxsize=1)
def _variants():
    """Every character that folds to each letter (``e``: ``eéèêëEÉ...``), over
    the alphabets below U+3000 (the scripts with cases and accents)."""
    table = {}
    for code in range(0x3000):
        ch = chr(code)
        folded = fold(ch)
        if len(folded) == 1 and folded != ch:
            table.setdefault(folded, []).append(ch)
    return table


@functools.lru_cache(maxsize=64)
def pattern(terms):
    """A regular expression matching the words ``terms`` (a tuple) in a text,
    as search matches them; None when there are none."""
    table = _variants()
    words = []
    for term in terms:
        if term and all(grams.spaceless(ch) for ch in term):
            # A run of a script without spaces is found inside longer runs
            # (grams.py): marked wherever it is, as it is.
            words.append(re.escape(term))
            continue
        prefix = term.endswith("*")
        letters = [ch for ch in fold(term.rstrip("*")) if not ch.isspace()]
        if not letters:
            continue
        word = "".join("[%s][%s]*" % (re.escape(ch + "".join(table.get(ch, ()))), _MARKS)
                       for ch in letters)
        # a prefix marks its whole word; a word is whole
        words.append(r"(?<![^\W_])" + word
                     + (r"(?:[^\W_]|[%s])*" if prefix else r"(?![^\W_]|[%s])") % _MARKS)
    if not words:
        return None
    return re.compile("|".join("(?:%s)" % w for w in words), re.IGNORECASE)


def term_spans(text, terms):
    """The (start, end) offsets of the ``terms`` (query_terms) in ``text``."""
    found = pattern(tuple(terms))
    if found is None:
        return []
    return [m.span() for m in found.finditer(text)]


# --- marking a rendered page ----------------------------------------------------------

_RESET = "\x1b[0m"
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def mark_page(out, terms, mark):
    """``out`` (ANSI text, rich's: each styled run opens with its SGR escape
    and ends with a reset) with the words ``terms`` shown in the SGR escape
    ``mark``; and the numbers of the lines they are on. A word cut by
    wrapping is not marked."""
    found = pattern(tuple(terms)) if terms else None
    if found is None:
        return out, []
    plain = _SGR.sub("", out)  # SGR escapes hold no newline: the same lines
    matched, line, at = [], 0, 0
    for m in found.finditer(plain):
        line += plain.count("\n", at, m.start())
        at = m.start()
        if not matched or matched[-1] != line:
            matched.append(line)
    if not matched:
        return out, []
    lines = out.split("\n")
    for n in matched:
        lines[n] = _mark_line(lines[n], found, mark)
    return "\n".join(lines), matched


def _mark_line(line, found, mark):
    """An ANSI ``line`` with the matches of ``found`` in its text shown in
    ``mark``, the style around them restored after each."""
    bounds = []
    for m in found.finditer(_SGR.sub("", line)):
        bounds += m.span()
    out, style, at, inside, k = [], "", 0, False, 0
    for piece in _SGR.split(line):
        if _SGR.fullmatch(piece):
            style = "" if piece == _RESET else style + piece
            if not inside:
                out.append(piece)
            continue
        end = at + len(piece)
        while k < len(bounds) and bounds[k] <= end:
            out.append(piece[:bounds[k] - at])
            piece, at = piece[bounds[k] - at:], bounds[k]
            inside = not inside
            out.append((_RESET if style or not inside else "") + (mark if inside else style))
            k += 1
        out.append(piece)
        at = end
    return "".join(out)
