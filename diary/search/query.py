"""A person's search query -> a safe FTS5 expression plus filters.

    >>> q = parse('cafe "long run" -work from:2024-01-01')
    >>> q.fts
    '(("cafe" AND "long run") NOT "work")'

The language (README: Searching the diary): plain words must all match, ``"exact
phrase"``, ``prefix*``, ``OR``, ``-word`` / ``NOT word``, parentheses, and
the filters ``title:word``, ``tag:work/acme``, ``from:DATE``, ``to:DATE``,
``on:DATE``, ``is:starred``.

Safety: user text never reaches FTS5 as syntax. This small parser emits only
double-quoted strings (inner quotes doubled), the ``*`` prefix marker, the
``title`` column filter, AND/OR/NOT and parentheses (and ``expression()`` the
``{title body grams}`` and ``tags`` filters and tag tokens it makes from ids), so whatever is typed,
FTS5 sees a well-formed expression. What cannot be searched (an empty query,
a date that is no date, too long a query) raises errors.BadInput with a
one-line message; nothing else is raised for any text.

Negation is set algebra: ``-word`` alone means "every entry without word".
FTS5 has only a binary NOT, so every sub-expression compiles to an FTS5 query
plus a flag "complement" (the entries NOT matching it); AND/OR combine these
by De Morgan, and a complement left at the top is the caller's ``NOT IN``.
"""

import dataclasses
import datetime as _dt
import math
import re
import unicodedata

from .. import dates, grams
from ..errors import BadInput

# Not render.UNSAFE_CHARS: here the question is what separates words, not what
# is unsafe to show. Every C0/C1 control (tab and newline too) becomes a space;
# bidi marks need nothing (FTS5 does not index them, tag: refuses them).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_QUERY = 1000  # characters: a pasted page is not a query
MAX_TERMS = 64    # FTS5 fails beyond a few hundred terms; no person types 64
MAX_DEPTH = 8     # nested parentheses
MAX_RUN = 100     # characters of a run without spaces (grams.py): a phrase of as many bigrams
FILTERS = ("title", "tag", "from", "to", "on", "is")


@dataclasses.dataclass
class Query:
    """A parsed query: an FTS5 expression and the filters around it.

    ``fts`` is the words as FTS5 text, each in any column; the search runs
    ``expression()``, which also looks for them in tag paths. ``fts`` is None
    when the query has only filters. With ``exclude`` the result is every
    entry NOT matching ``fts`` (a query of only negations).
    """

    fts: str = None
    exclude: bool = False
    tree: tuple = None  # the parsed words, for expression()
    since: _dt.datetime = None
    until: _dt.datetime = None
    starred: bool = None
    tags: list = dataclasses.field(default_factory=list)  # (path, negated)
    # Operators out of place (`OR` first or last, `OR OR`), searched as the
    # words they spell: what stray_hint tells the person.
    stray: tuple = ()

    def stray_hint(self):
        """One line for a person whose query has an operator out of place, or None."""
        if not self.stray:
            return None
        op = self.stray[0]
        return ("%s has no word on one side, so it was searched as the word %r "
                "(write: cats %s dogs)" % (op, op.lower(), op))

    def expression(self, tag_ids=None, *, weighs=None):
        """The FTS5 expression the search runs. A word matches an entry's title
        or text, or one of its tags: ``tag_ids(phrase)`` gives the ids of the
        tags whose paths hold the phrase (``phrase`` is FTS5 text, as in
        ``fts``), and the word becomes ``({title body grams} : "w" OR tags : (t1 OR t2))``
        (entry.tags holds those tokens; schema.MIGRATIONS[2]).

        With ``weighs`` (a test of each phrase) it is the expression to rank
        by: only the words that are not negated and that ``weighs`` accepts.
        It matches at least every match (a word left out of an AND matches
        more, an OR with one left out is left out whole), or is None where
        nothing is left. bm25 gives each match the same score by a word
        left out as by none, where the word is negated (an entry lacking a
        word scores nothing by it) or in most entries (bm25 weighs a word by
        its rarity), without reading its list over the whole index."""
        if self.tree is None:
            return None

        def term(phrase):
            # grams: a word glued to a run of a script without spaces
            # ("Pythonでプログラム" is one token of the text) is there too.
            text = "{title body grams} : " + phrase
            ids = tag_ids(phrase) if tag_ids else ()
            if not ids:
                return text
            return "(%s OR tags : %s)" % (text, _any_token(["t%d" % i for i in ids]))

        if weighs is not None:
            return _ranking(self.tree, term, weighs)
        return _compile(self.tree, term)[0]

    def phrases(self):
        """The FTS5 phrase of every word, negated or not, in order."""
        def walk(node):
            if node[0] == "term":
                yield node[1]
            else:
                for child in (node[1:] if node[0] == "not" else node[1]):
                    yield from walk(child)
        return list(walk(self.tree)) if self.tree is not None else []

    @property
    def ranked(self):
        return self.fts is not None and not self.exclude

    @property
    def filtered(self):
        return (self.since is not None or self.until is not None
                or self.starred is not None or bool(self.tags))


def _any_token(tokens):
    """``(t1 OR t2 ...)`` for FTS5, shaped to run fast for many tokens.

    FTS5 flattens nested ORs into one node, and each step of that node scans
    every child: the cost is tokens x matches. A NOT between the levels keeps
    a two-level tree of groups of about sqrt(n), whose cost is about
    sqrt(tokens) x matches (bench/bench_tags.py). Its right side, ``t0``, names no tag (ids
    start at 1), so it never matches and its list is empty."""
    if len(tokens) <= 16:
        return "(%s)" % " OR ".join(tokens)
    size = math.isqrt(len(tokens) - 1) + 1
    groups = ["((%s) NOT t0)" % " OR ".join(tokens[i:i + size])
              for i in range(0, len(tokens), size)]
    return "(%s)" % " OR ".join(groups)


def every_word(phrase):
    """FTS5 text matching the entries that hold every word of ``phrase`` (FTS5
    text as in Query.fts, ``"a b"`` or ``"a b"*``) anywhere: where FTS5 looks
    for the phrase."""
    star = phrase.endswith("*")
    inner = phrase[1:-2 if star else -1].replace('""', '"')
    words = "".join(ch if _is_token_char(ch) else " " for ch in inner).split()
    return " AND ".join('"%s"' % w for w in words) + ("*" if star else "")


def _is_token_char(ch):
    # FTS5's unicode61 keeps letters, numbers and private-use characters as
    # token characters and splits on everything else. A word with none of them
    # would become an empty phrase, and an empty phrase ANDed with anything
    # matches nothing; so such words (`*`, `!!`, an emoji) are dropped.
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat == "Co"


def _searchable(text):
    return any(_is_token_char(ch) for ch in text)


def _last_word(text):
    """The last run of token characters: what a trailing * extends."""
    end = len(text)
    while end and not _is_token_char(text[end - 1]):
        end -= 1
    start = end
    while start and _is_token_char(text[start - 1]):
        start -= 1
    return text[start:end]


@dataclasses.dataclass
class _Tok:
    kind: str          # word, phrase, op, neg, (, ), filter
    text: str = ""
    prefix: bool = False
    field: str = None  # for filter


def _lex(text):
    """Split the query into tokens; every character is accounted for, nothing raises."""
    toks = []
    i, n = 0, len(text)

    def quoted(i):
        """The text of a phrase starting after a quote at i-1, and where it ends."""
        j = text.find('"', i)
        if j < 0:
            return text[i:], n  # an unbalanced quote runs to the end
        return text[i:j], j + 1

    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            toks.append(_Tok(ch))
            i += 1
        elif ch == '"':
            phrase, i = quoted(i + 1)
            star = i < n and text[i] == "*"
            i += star
            toks.append(_Tok("phrase", phrase, prefix=star))
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-":
            toks.append(_Tok("neg"))
            i += 1
        else:
            j = i
            while j < n and not (text[j].isspace() or text[j] in '()"'):
                j += 1
            word = text[i:j]
            i = j
            name, colon, value = word.partition(":")
            field = name.lower()
            if colon and field in FILTERS:
                star = value.endswith("*")
                if not value and i < n and text[i] == '"':
                    value, i = quoted(i + 1)
                    star = i < n and text[i] == "*"
                    i += star
                if not value.strip():
                    raise BadInput("%s: needs a value, e.g. %s"
                                   % (field, _EXAMPLES[field]))
                toks.append(_Tok("filter", value, prefix=star, field=field))
            elif word in ("OR", "AND", "NOT"):
                toks.append(_Tok("op", word))
            else:
                star = word.endswith("*")
                toks.append(_Tok("word", word.rstrip("*"), prefix=star))
    return toks


_EXAMPLES = {"title": "title:holiday", "tag": "tag:work/acme", "from": "from:2024-01-01",
             "to": "to:2024-12-31", "on": "on:2024-03-02", "is": "is:starred"}


def _starts(tok):
    return tok is not None and (tok.kind in ("word", "phrase", "(", "neg", "filter")
                                or (tok.kind == "op" and tok.text == "NOT"))


def _ends(tok):
    return tok is not None and tok.kind in ("word", "phrase", ")", "filter")


def _fix_operators(toks, stray=None):
    """An operator out of place (`OR` first, `AND` last, `a OR OR b`) is a plain
    word; each such operator is added to ``stray``."""
    for k, tok in enumerate(toks):
        if tok.kind != "op":
            continue
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        prev = toks[k - 1] if k else None
        binary = tok.text in ("OR", "AND")
        if not _starts(nxt) or (binary and not _ends(prev)):
            toks[k] = _Tok("word", tok.text.lower())
            if stray is not None:
                stray.append(tok.text)
    return toks


# Tree nodes: ("term", fts_phrase, column) | ("and", [nodes]) | ("or", [nodes])
# | ("not", node). column is None (any) or "title".

class _Parser:
    def __init__(self, toks):
        self.toks = toks
        self.pos = 0
        self.terms = 0
        self.filters = []

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self):
        nodes = []
        while self.peek() is not None:
            node = self.or_expr(0)
            if node is not None:
                nodes.append(node)
            if self.peek() is not None and self.peek().kind == ")":
                self.take()  # an unmatched `)` is ignored
        return _group("and", nodes)

    def or_expr(self, depth):
        nodes = [self.and_expr(depth)]
        while self.peek() is not None and self.peek().kind == "op" and self.peek().text == "OR":
            self.take()
            nodes.append(self.and_expr(depth))
        return _group("or", [n for n in nodes if n is not None])

    def and_expr(self, depth):
        nodes = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind == ")" or (tok.kind == "op" and tok.text == "OR"):
                break
            if tok.kind == "op" and tok.text == "AND":
                self.take()
                continue
            node = self.unary(depth)
            if node is not None:
                nodes.append(node)
        return _group("and", nodes)

    def unary(self, depth):
        tok = self.take()
        if tok.kind == "neg" or tok.kind == "op":  # `-x` or NOT x (AND/OR handled above)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "filter":
                self.take()
                return self.filter(nxt, depth, negated=True)
            if not _starts(nxt):
                return None
            node = self.unary(depth)
            return None if node is None else ("not", node)
        if tok.kind == "(":
            if depth >= MAX_DEPTH:
                raise BadInput("too many nested parentheses in the query (at most %d)"
                               % MAX_DEPTH)
            node = self.or_expr(depth + 1)
            if self.peek() is not None and self.peek().kind == ")":
                self.take()  # an unclosed `(` closes at the end
            return node
        if tok.kind == "filter":
            return self.filter(tok, depth, negated=False)
        return self.term(tok.text, tok.prefix)

    def term(self, text, prefix, column=None):
        if not _searchable(text):
            return None
        last = _last_word(text)
        if prefix and len(last) < 2 and not grams.spaceless(last[-1:] or " "):
            # FTS5 would merge the lists of every word with that first letter:
            # over a second on 100,000 entries (prefix indexes start at 2).
            raise BadInput("%s*: a prefix needs at least 2 letters" % text.strip())
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise BadInput("too many words in the query (at most %d)" % MAX_TERMS)
        node = ("term", '"%s"%s' % (text.replace('"', '""'), "*" if prefix else ""), column)
        runs = grams.runs(text) if column is None else []
        if not runs:
            return node
        for start, end in runs:
            if end - start > MAX_RUN:
                raise BadInput("%s…: too long a run without spaces to search (at most %d "
                               "characters)" % (text[start:start + 8], MAX_RUN))
        return ("or", [node, _spaceless(text, runs)])

    def filter(self, tok, depth, negated):
        if tok.field == "title":
            node = self.term(tok.text.rstrip("*"), tok.prefix, column="title")
            return ("not", node) if negated and node is not None else node
        # The other filters narrow the whole query: they cannot sit inside
        # parentheses or be joined by OR, where they would mean something else.
        k = self.pos - 1
        around = [self.toks[j] for j in (k - 1 - negated, k + 1) if 0 <= j < len(self.toks)]
        if depth or any(t.kind == "op" and t.text == "OR" for t in around):
            raise BadInput("%s: applies to the whole query; it cannot go inside parentheses "
                           "or next to OR" % tok.field)
        self.filters.append((tok.field, tok.text, negated))
        return None


def _spaceless(text, runs):
    """A word holding runs of a script without spaces (grams.py): each run is
    found inside longer runs by its bigrams in the grams column, the rest of
    the word as words of its own, all of it in one entry. (The caller ORs
    the whole word as a token, as it was always found: in a tag's path, and
    as a title's whole word.) A trailing * adds nothing to a run: a run's
    bigrams are found anywhere in longer runs already."""
    nodes, at = [], 0
    for start, end in runs + [(len(text), len(text))]:
        rest = text[at:start]
        if _searchable(rest):
            nodes.append(("term", '"%s"' % rest.replace('"', '""'), None))
        if end > start:
            nodes.append(("term", grams.phrase(text[start:end]), "grams"))
        at = end
    return _group("and", nodes)


def spaceless_runs(node):
    """The runs of scripts without spaces that ``node`` (a Query's tree) looks
    for, not negated: what a snippet marks where FTS5 cannot (snippets.py)."""
    if node is None or node[0] == "not":
        return []
    if node[0] == "term":
        return [grams.run_of(node[1])] if node[2] == "grams" else []
    return [run for child in node[1] for run in spaceless_runs(child)]


def _group(kind, nodes):
    if not nodes:
        return None
    if len(nodes) == 1:
        return nodes[0]
    return (kind, nodes)


def _compile(node, term=lambda phrase: phrase):
    """FTS5 text for ``node`` and whether it stands for the complement of that
    text; ``term`` writes a phrase searched in any column."""
    kind = node[0]
    if kind == "term":
        phrase, column = node[1], node[2]
        return ("%s : %s" % (column, phrase) if column else term(phrase)), False
    if kind == "not":
        text, complement = _compile(node[1], term)
        return text, not complement
    parts = [_compile(n, term) for n in node[1]]
    pos = [t for t, c in parts if not c]
    neg = [t for t, c in parts if c]
    if kind == "and":   # P1 AND P2 AND not N1 AND not N2  ==  (P1 AND P2) NOT (N1 OR N2)
        if not pos:
            return _join("OR", neg), True
        if not neg:
            return _join("AND", pos), False
        return "(%s NOT %s)" % (_join("AND", pos), _join("OR", neg)), False
    # or: P1 OR P2 OR not N1 OR not N2  ==  not ((N1 AND N2) NOT (P1 OR P2))
    if not neg:
        return _join("OR", pos), False
    if not pos:
        return _join("AND", neg), True
    return "(%s NOT %s)" % (_join("AND", neg), _join("OR", pos)), True


def _ranking(node, term, weighs):
    """Query.expression with ``weighs``: FTS5 text matching at least what
    ``node`` matches, from its positive phrases that ``weighs``; None for
    "every entry"."""
    kind = node[0]
    if kind == "term":
        phrase, column = node[1], node[2]
        if not weighs(phrase):
            return None
        return "%s : %s" % (column, phrase) if column else term(phrase)
    if kind == "not":
        return None
    parts = [_ranking(n, term, weighs) for n in node[1]]
    if kind == "and":
        kept = [p for p in parts if p is not None]
        return _join("AND", kept) if kept else None
    return None if None in parts else _join("OR", parts)


def _join(op, texts):
    return texts[0] if len(texts) == 1 else "(" + (" %s " % op).join(texts) + ")"


def parse(text, *, now=None):
    """Turn a person's query into a Query; BadInput for what cannot be searched."""
    if not isinstance(text, str):
        raise BadInput("the query must be text")
    if len(text) > MAX_QUERY:
        raise BadInput("the query is too long (%d characters; at most %d)"
                       % (len(text), MAX_QUERY))
    # Control characters separate words (a NUL would even end the FTS5 string).
    text = _CONTROLS.sub(" ", text)
    stray = []
    parser = _Parser(_fix_operators(_lex(text), stray))
    tree = parser.parse()
    query = Query(stray=tuple(stray))
    if tree is not None:
        query.tree = tree
        query.fts, query.exclude = _compile(tree)
    for field, value, negated in parser.filters:
        _apply_filter(query, field, value, negated, now)
    if query.fts is None and not query.filtered:
        raise BadInput("nothing to search for: give some words, or filters like is:starred")
    return query


def _apply_filter(query, field, value, negated, now):
    if negated and field not in ("tag", "is"):
        raise BadInput("%s: cannot be negated" % field)
    if field == "tag":
        from .. import tags  # only now: it loads the database layer

        tags.parse_path(value)  # a malformed path is a bad query: say so before searching
        query.tags.append((value, negated))
    elif field == "is":
        if value.lower() not in ("starred", "star"):
            raise BadInput("unknown is:%s (try is:starred)" % value)
        query.starred = not negated
    else:
        day = _date(field, value, "end" if field == "to" else "start", now)
        if field == "on":
            day, end = dates.day_bounds(day)
            query.since, query.until = _later(query.since, day), _earlier(query.until, end)
        elif field == "from":
            query.since = _later(query.since, day)
        else:
            query.until = _earlier(query.until, day)


def _date(field, value, bound, now):
    try:
        return dates.parse(value, base=now, bound=bound)
    except BadInput as exc:
        if dates.numeric_form(value):  # its own message: which order, which readings
            raise BadInput("%s:%s" % (field, exc)) from None
        raise BadInput("%s:%s is not a date I understand (try %s, or quote words: "
                       '%s:"last monday")' % (field, value, _EXAMPLES[field], field)) from None


def _later(a, b):
    return b if a is None or b > a else a


def _earlier(a, b):
    return b if a is None or b < a else a
