"""Where a query's words are in a text, as search finds them: for highlighting.

Usage::

    from diary import highlight
    terms = highlight.query_terms('cafe "long run" -work walk*')  # ['cafe', 'long', 'run', 'walk*']
    highlight.term_spans("A Café, a long walk", terms)            # [(2, 6), (10, 14), (15, 19)]

The index's tokenizer is ``unicode61 remove_diacritics 2`` (schema.py): a
word is a run of letters and numbers, matched without regard to case or
accents (``cafe`` finds ``Café``), whole unless the query word ends in ``*``
(a prefix). Phrases are highlighted word by word; negated words never.
"""

import functools
import re
import unicodedata

from .search_query import Query, parse

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
        if node[0] == "term":
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
        prefix = term.endswith("*")
        letters = [ch for ch in fold(term.rstrip("*")) if not ch.isspace()]
        if not letters:
            continue
        word = "".join("[%s][%s]*" % (re.escape(ch + "".join(table.get(ch, ()))), _MARKS)
                       for ch in letters)
        # a prefix marks its whole word; a word is whole
        words.append(word + (r"(?:[^\W_]|[%s])*" if prefix else r"(?![^\W_]|[%s])") % _MARKS)
    if not words:
        return None
    return re.compile(r"(?<![^\W_])(?:%s)" % "|".join(words), re.IGNORECASE)


def term_spans(text, terms):
    """The (start, end) offsets of the ``terms`` (query_terms) in ``text``."""
    found = pattern(tuple(terms))
    if found is None:
        return []
    return [m.span() for m in found.finditer(text)]
