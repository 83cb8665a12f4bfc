"""Words of scripts written without spaces, made findable: the ``grams`` column.

FTS5's unicode61 tokenizer splits words at spaces and punctuation, so a run
of Chinese, Japanese, Korean or Thai (``今天我们去了北京的故宫博物院``) is one
token and only the whole run matched. Here every run of such a script
becomes its overlapping character bigrams, plus its last character alone
(as Lucene's CJK analyzer does)::

    >>> derive("", "北京的故宫")
    '北京 京的 的故 故宫 宫'

The entry row stores that text in its ``grams`` column, the search index
indexes it (schema.MIGRATIONS[9]), and a query's run becomes the phrase of
its bigrams on that column (``phrase``): ``故宫博物院`` is ``"故宫 宫博 博物 物院"``,
found wherever that run is in a longer one. A single character is the
prefix ``"宫"*``: a bigram starting with it, or a run's last character.
A run's last character also stands between two runs, so a phrase never
matches across them.

Computed in Python when an entry row is written (``derive``), never by a
function inside a trigger or view: another SQLCipher tool writing an entry
would fail there. Every write path calls ``derive`` (entries.add/edit,
exchange's loader and merger); ``diary check`` compares the stored column
with a fresh ``derive`` (health.py), and repairs it.

Combining marks (Thai vowels and tone marks, Japanese voicing marks) are
stripped by unicode61's ``remove_diacritics``: in this column each becomes
a private-use character (``_unit``), a token character FTS5 keeps, so กิน
and กัน stay apart. Standard library only: pure text in, text out.
"""

import functools
import operator
import re
import unicodedata

# Blocks of the scripts written without spaces between words (Korean has
# spaces, but particles attach to words: 서울에서 is "in Seoul").
_RANGES = (
    (0x0E00, 0x0EFF),    # Thai, Lao
    (0x1000, 0x109F),    # Myanmar
    (0x1100, 0x11FF),    # Hangul Jamo
    (0x1780, 0x17FF),    # Khmer
    (0x3005, 0x3007),    # 々 〆 〇
    (0x3040, 0x30FF),    # Hiragana, Katakana
    (0x3130, 0x318F),    # Hangul compatibility Jamo
    (0x31F0, 0x31FF),    # Katakana phonetic extensions
    (0x3400, 0x4DBF),    # CJK extension A
    (0x4E00, 0x9FFF),    # CJK unified ideographs
    (0xA960, 0xA97F),    # Hangul Jamo extended A
    (0xAC00, 0xD7FF),    # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),    # CJK compatibility ideographs
    (0xFF66, 0xFFDC),    # halfwidth Katakana and Hangul
    (0x20000, 0x3FFFF),  # CJK extensions B onwards
)
_MARK_BASE = 0xF0000  # supplementary private use area A: a mark's stand-in
# Below the first block nothing is spaceless: text in ASCII (most queries and
# entries) is answered without building the tables.
_FIRST = chr(_RANGES[0][0])


def spaceless(ch):
    """Whether ``ch`` belongs to a run of a script without spaces: in one of
    its blocks, and a letter, digit or mark (not its punctuation: 。、・)."""
    return ch >= _FIRST and _tables()[2][ord(ch)]


# Blocks of letters only (ideographs, Hangul syllables): taken whole, not
# character by character, so that the tables build in about a millisecond.
_WHOLE = 0x3400


@functools.lru_cache(maxsize=1)
def _tables():
    """(run pattern, mark stand-ins, spaceless by code point), built on first use."""
    members, marks, codes = [], {}, {}
    for low, high in _RANGES:
        if low >= _WHOLE and high - low > 0x100:
            members.append("%s-%s" % (chr(low), chr(high)))
            continue
        for code in range(low, high + 1):
            cat = unicodedata.category(chr(code))
            if cat[0] in "LNM":
                members.append(re.escape(chr(code)))
                codes[code] = True
                if cat[0] == "M":
                    marks[code] = _MARK_BASE + code

    class Codes(dict):
        def __missing__(self, code):  # not in a block listed by character
            return any(low <= code <= high for low, high in _RANGES
                       if low >= _WHOLE and high - low > 0x100) and (
                unicodedata.category(chr(code))[0] in "LNM")

    return re.compile("[%s]+" % "".join(members)), marks, Codes(codes)


# Where a block taken whole has gaps (code points not yet assigned, which
# the tokenizer splits at): runs reaching there are checked character by character.
_GAPS = re.compile("[\ud7a4-\ud7ff\ufa00-\ufaff\U00020000-\U0003ffff]")


def runs(text):
    """[(start, end)] of the maximal runs of ``spaceless`` characters."""
    if text.isascii():
        return []
    found = []
    for m in _tables()[0].finditer(text):
        if _GAPS.search(m.group()) is None:
            found.append(m.span())
            continue
        start = None
        for i in range(m.start(), m.end() + 1):
            if i < m.end() and unicodedata.category(text[i])[0] in "LNM":
                start = i if start is None else start
            elif start is not None:
                found.append((start, i))
                start = None
    return found


def _unit(ch):
    return ch.translate(_tables()[1])


def _tokens(run):
    units = run.translate(_tables()[1])
    return list(map(operator.add, units, units[1:])) + [units[-1]]


def _word_char(ch):
    # unicode61's token characters (letters, numbers, private use), and marks
    cat = unicodedata.category(ch)
    return cat[0] in "LNM" or cat == "Co"


def derive(title, body):
    """The ``grams`` text of an entry: the bigrams and last character of each
    run in its title, then in its text; "" where there is none (most
    entries in a Latin script), so they cost the index nothing. A word glued
    to a run ("Python" in "Pythonでプログラム", one token of the text for
    unicode61) is added as it is, so that the word is found too."""
    if title.isascii() and body.isascii():
        return ""  # no such script in ASCII: every import row asks, this answers at C speed
    out = []
    for text in (title, body):
        done = 0  # where the last word added ends: a word between two runs is added once
        for start, end in runs(text):
            before = start
            while before > done and _word_char(text[before - 1]) and not spaceless(
                    text[before - 1]):
                before -= 1
            if before < start:
                out.append(text[before:start])
            out.extend(_tokens(text[start:end]))
            after = end
            while after < len(text) and _word_char(text[after]) and not spaceless(text[after]):
                after += 1
            if after > end:
                out.append(text[end:after])
            done = after
    return " ".join(out)


def phrase(run):
    """The FTS5 phrase finding ``run`` (spaceless characters) in the grams
    column: its bigrams in a row, or one character as a prefix."""
    if len(run) == 1:
        return '"%s"*' % _unit(run)
    return '"%s"' % " ".join(_tokens(run)[:-1])


def run_of(phrase):
    """The run a ``phrase`` finds (its inverse)."""
    units = phrase.rstrip("*").strip('"').split(" ")
    text = units[0] + "".join(u[-1] for u in units[1:])
    return "".join(chr(ord(ch) - _MARK_BASE) if ord(ch) >= _MARK_BASE else ch for ch in text)


def spans(text, needles):
    """[(start, end)] of every occurrence in ``text`` of each of ``needles``
    (runs a query looked for in the grams column), merged where they touch."""
    found = []
    for needle in needles:
        at = text.find(needle)
        while at >= 0:
            found.append((at, at + len(needle)))
            at = text.find(needle, at + 1)
    merged = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
