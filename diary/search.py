"""Full-text search: a person's query -> a safe FTS5 query plus filters -> ranked hits.

Usage::

    from diary import search
    found = search.search(diary, 'cafe "long run" -work from:2024-01-01', limit=20)
    found.total                 # how many entries match in all
    for hit in found.hits:      # hit.entry, hit.score, hit.snippet, hit.spans
        ...

The query language (docs/search.md): plain words must all match, ``"exact
phrase"``, ``prefix*``, ``OR``, ``-word`` / ``NOT word``, parentheses, and
the filters ``title:word``, ``tag:work/acme``, ``from:DATE``, ``to:DATE``,
``on:DATE``, ``is:starred``.

Safety: user text never reaches FTS5 as syntax. ``parse`` is a small parser
of our own that emits only double-quoted strings (inner quotes doubled), the
``*`` prefix marker, the ``title`` column filter, AND/OR/NOT and parentheses,
so whatever is typed, FTS5 sees a well-formed expression. What cannot be
searched (an empty query, a date that is no date, too long a query) raises
errors.BadInput with a one-line message; nothing else is raised for any text.

Negation is set algebra: ``-word`` alone means "every entry without word".
FTS5 has only a binary NOT, so every sub-expression compiles to an FTS5 query
plus a flag "complement" (the entries NOT matching it); AND/OR combine these
by De Morgan, and a complement left at the top becomes ``NOT IN``.
"""

import dataclasses
import datetime as _dt
import re
import unicodedata

from peewee import SQL, fn
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from . import dates
from .errors import BadInput
from .store import Entry

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_QUERY = 1000  # characters: a pasted page is not a query
MAX_TERMS = 64    # FTS5 fails beyond a few hundred terms; no person types 64
MAX_DEPTH = 8     # nested parentheses
SORTS = ("rank", "newest", "oldest")
FILTERS = ("title", "tag", "from", "to", "on", "is")

# Match markers for snippet()/highlight(): control characters, which entries
# practically never contain (a stray one only misplaces a highlight).
START, END = "\x02", "\x03"
SNIPPET_TOKENS = 24


class EntryIndex(FTS5Model):
    """The FTS5 index (store.MIGRATIONS[1]); bound per search, not a store model."""

    rowid = RowIDField()
    title = SearchField()
    body = SearchField()
    tags = SearchField()

    class Meta:
        table_name = "entry_fts"
        database = None


# --- parsing -------------------------------------------------------------------

@dataclasses.dataclass
class Query:
    """A parsed query: an FTS5 expression and the filters around it.

    ``fts`` is None when the query has only filters. With ``exclude`` the
    result is every entry NOT matching ``fts`` (a query of only negations).
    """

    fts: str = None
    exclude: bool = False
    since: _dt.datetime = None
    until: _dt.datetime = None
    starred: bool = None
    tags: list = dataclasses.field(default_factory=list)  # (path, negated)

    @property
    def ranked(self):
        return self.fts is not None and not self.exclude


def _is_token_char(ch):
    # FTS5's unicode61 keeps letters, numbers and private-use characters as
    # token characters and splits on everything else. A word with none of them
    # would become an empty phrase, and an empty phrase ANDed with anything
    # matches nothing; so such words (`*`, `!!`, an emoji) are dropped.
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat == "Co"


def _searchable(text):
    return any(_is_token_char(ch) for ch in text)


@dataclasses.dataclass
class _Tok:
    kind: str          # word, phrase, op, neg, (, ), filter
    text: str = ""
    prefix: bool = False
    field: str = None  # for filter
    neg: bool = False  # for filter


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
                    raise BadInput("%s: needs a value, e.g. %s" % (field, _EXAMPLES[field]))
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


def _fix_operators(toks):
    """An operator out of place (`OR` first, `AND` last, `a OR OR b`) is a plain word."""
    for k, tok in enumerate(toks):
        if tok.kind != "op":
            continue
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        prev = toks[k - 1] if k else None
        binary = tok.text in ("OR", "AND")
        if not _starts(nxt) or (binary and not _ends(prev)):
            toks[k] = _Tok("word", tok.text.lower())
    return toks


# Tree nodes: ("term", fts_text) | ("and", [nodes]) | ("or", [nodes]) | ("not", node)

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
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise BadInput("too many words in the query (at most %d)" % MAX_TERMS)
        fts = '"%s"%s' % (text.replace('"', '""'), "*" if prefix else "")
        return ("term", "%s : %s" % (column, fts) if column else fts)

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


def _group(kind, nodes):
    if not nodes:
        return None
    if len(nodes) == 1:
        return nodes[0]
    return (kind, nodes)


def _compile(node):
    """FTS5 text for ``node`` and whether it stands for the complement of that text."""
    kind = node[0]
    if kind == "term":
        return node[1], False
    if kind == "not":
        text, complement = _compile(node[1])
        return text, not complement
    parts = [_compile(n) for n in node[1]]
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
    parser = _Parser(_fix_operators(_lex(text)))
    tree = parser.parse()
    query = Query()
    if tree is not None:
        query.fts, query.exclude = _compile(tree)
    for field, value, negated in parser.filters:
        _apply_filter(query, field, value, negated, now)
    if query.fts is None and not _has_filters(query):
        raise BadInput("nothing to search for: give some words, or filters like is:starred")
    return query


def _has_filters(q):
    return q.since is not None or q.until is not None or q.starred is not None or q.tags


def _apply_filter(query, field, value, negated, now):
    if negated and field not in ("tag", "is"):
        raise BadInput("%s: cannot be negated" % field)
    if field == "tag":
        query.tags.append((value, negated))
    elif field == "is":
        if value.lower() not in ("starred", "star"):
            raise BadInput("unknown is:%s (try is:starred)" % value)
        query.starred = not negated
    else:
        day = _date(field, value, "end" if field == "to" else "start", now)
        if field == "on":
            day = day.replace(hour=0, minute=0, second=0, microsecond=0)
            end = day + _dt.timedelta(days=1) - _dt.timedelta(microseconds=1)
            query.since, query.until = _later(query.since, day), _earlier(query.until, end)
        elif field == "from":
            query.since = _later(query.since, day)
        else:
            query.until = _earlier(query.until, day)


def _date(field, value, bound, now):
    try:
        return dates.parse(value, base=now, bound=bound)
    except BadInput:
        raise BadInput("%s:%s is not a date I understand (try %s, or quote words: "
                       '%s:"last monday")' % (field, value, _EXAMPLES[field], field)) from None


def _later(a, b):
    return b if a is None or b > a else a


def _earlier(a, b):
    return b if a is None or b < a else a


# --- searching -------------------------------------------------------------------

@dataclasses.dataclass
class Hit:
    """One found entry. ``snippet`` is plain text around the best match, ``spans``
    the (start, end) offsets of the matched words inside it; ``title_spans`` the
    same inside the entry's title. ``score`` is bm25, higher is better (None
    when the query had no words to rank by)."""

    entry: Entry
    score: float = None  # only when sorted by rank
    snippet: str = ""
    spans: list = dataclasses.field(default_factory=list)
    title_spans: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Results:
    """``total`` matches in all; with ``at_least`` there are more than that
    (counting stops at CAP). ``window`` is set when the query matched more
    than CAP entries and only the newest-written CAP of them were ranked."""

    total: int
    hits: list
    at_least: bool = False
    window: int = None


# bm25 weights of the columns title, body, tags. A title names what an entry
# is about and tags are labels chosen on purpose, so a word there outweighs the
# same word somewhere in the text; bm25 also favours short columns by itself.
WEIGHTS = (10.0, 1.0, 5.0)
# The bound that keeps a search fast however large the diary (measured with
# bench/bench_search.py): counting and ranking cost time in proportion to the
# matches (~1 us each to count, more for bm25), so a query found in more than
# CAP entries is counted as "more than CAP" and ranked among its CAP
# newest-written matches. A person given 5,000 matches narrows the query.
CAP = 5_000
FEW = 200  # matches looked up one by one rather than found along the date index


def search(diary, text, *, limit=20, offset=0, sort="rank", now=None):
    """Entries matching the query ``text`` (or a parsed Query), ``limit`` at a time.

    ``sort`` is "rank" (bm25, title above tags above body; newest first when
    the query has no words), "newest" or "oldest". Read-only: never writes.
    """
    if sort not in SORTS:
        raise BadInput("unknown sort %r (use %s)" % (sort, ", ".join(SORTS)))
    if (limit is not None and limit < 0) or offset < 0:
        raise BadInput("limit and offset must be 0 or more")
    query = text if isinstance(text, Query) else parse(text, now=now)
    window, scores = None, {}
    with EntryIndex.bind_ctx(diary.db), diary.read():
        total, at_least, oldest = _count(query)
        if query.ranked and sort == "rank":
            scores = _ranked(query, limit, offset, oldest)
            window = CAP if oldest is not None else None
            ids = list(scores)
        else:
            ids = _by_date(query, limit, offset, sort != "oldest", total + at_least)
        entries = {e.id: e for e in Entry.select().where(Entry.id.in_(ids))} if ids else {}
        marks = _snippets(query, ids) if query.ranked and ids else {}
    hits = [Hit(entries[i], scores.get(i), *marks.get(i, ("", [], []))) for i in ids]
    return Results(total, hits, at_least, window)


def _filtered(query):
    """Entry ids passing the filters, as a subquery; None when there are none."""
    if not _has_filters(query):
        return None
    return _filter(Entry.select(Entry.id), query)


def _filter(select, query):
    if query.since is not None:
        select = select.where(Entry.created_at >= query.since)
    if query.until is not None:
        select = select.where(Entry.created_at <= query.until)
    if query.starred is not None:
        select = select.where(Entry.starred == query.starred)
    if query.tags:
        from . import tags

        for path, negated in query.tags:
            under = tags.filter_under(Entry.select(Entry.id), path)
            select = select.where(Entry.id.not_in(under) if negated else Entry.id.in_(under))
    return select


def _rowid_in(subquery):
    # The unary + keeps SQLite from handing `rowid IN (...)` to FTS5 as an
    # equality constraint, which runs the whole MATCH once per listed id
    # (100x slower); this way the list is built once and probed per match.
    return SQL("+rowid").in_(subquery)


def _matches(query, *fields):
    """The FTS matches of the query's words that pass its filters."""
    select = EntryIndex.select(*fields).where(EntryIndex.match(query.fts))
    filtered = _filtered(query)
    if filtered is not None:
        select = select.where(_rowid_in(filtered))
    return select


def _page(select, limit, offset):
    if limit is not None:
        return select.limit(limit).offset(offset)
    return select.limit(-1).offset(offset) if offset else select


def _count(query):
    """(count, at_least, oldest): the count is exact up to CAP, beyond it
    ``at_least``; ``oldest`` is the id of the CAP-th newest-written match then
    (where the ranking window starts). One pass serves all three."""
    if query.ranked:
        newest = _matches(query, EntryIndex.rowid).order_by(EntryIndex.rowid.desc())
        ids = [r[0] for r in newest.limit(CAP + 1).tuples()]
        if len(ids) > CAP:
            return CAP, True, ids[CAP - 1]
        return len(ids), False, None
    select = _filter(Entry.select(SQL("1")), query)
    if query.fts is not None:  # everything except the matches
        select = select.where(Entry.id.not_in(
            EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(query.fts))))
    n = select.limit(CAP + 1).count()
    return min(n, CAP), n > CAP, None


def _ranked(query, limit, offset, oldest):
    """{id: score} in rank order, among the matches from id ``oldest`` on.

    FTS5 is the outer loop; filters come in as ``+rowid IN``. An explicit
    bm25() under ORDER BY ... LIMIT measured twice as fast as FTS5's own
    ``ORDER BY rank`` (which sorts every match, and before the filters).
    """
    score = fn.bm25(EntryIndex._meta.entity, *WEIGHTS)
    select = (_matches(query, EntryIndex.rowid, score)
              .order_by(score, EntryIndex.rowid.desc()))
    if oldest is not None:
        select = select.where(EntryIndex.rowid >= oldest)
    # bm25 is negative, lower is better: the score shown is its negation.
    return {r[0]: -r[1] for r in _page(select, limit, offset).tuples()}


def _by_date(query, limit, offset, newest, matches):
    """Ids by date, the plan chosen by how many entries match (``matches``, capped).

    Few matches: look each one up and sort them. Many: walk the date index and
    test each entry against the list of matches, which stops after a page.
    More than CAP: do not even build that list; ask FTS5 entry by entry.
    """
    select = _filter(Entry.select(Entry.id), query)
    if query.fts is not None:
        everything = _matches(query, EntryIndex.rowid)
        if query.exclude:
            select = select.where(Entry.id.not_in(
                EntryIndex.select(EntryIndex.rowid).where(EntryIndex.match(query.fts))))
        elif matches > CAP:
            select = select.where(fn.EXISTS(
                EntryIndex.select(SQL("1"))
                .where((EntryIndex.rowid == Entry.id) & EntryIndex.match(query.fts))))
        elif matches > FEW:
            # id + 0: an expression, so SQLite cannot use it to look rows up
            # and walks the date index instead (the rows themselves are large).
            select = select.where((Entry.id + 0).in_(everything))
        else:
            select = select.where(Entry.id.in_(everything))
    if newest:
        select = select.order_by(Entry.created_at.desc(), Entry.id.desc())
    else:
        select = select.order_by(Entry.created_at, Entry.id)
    return [r[0] for r in _page(select, limit, offset).tuples()]


def _snippets(query, ids):
    """(snippet, spans, title_spans) by entry id, for the hits only.

    No rank here: bm25 recomputes its IDF for each id looked up (1 ms each
    for a common word); the ranking query already gave the scores."""
    entity = EntryIndex._meta.entity
    select = (EntryIndex.select(
        EntryIndex.rowid,
        fn.snippet(entity, 1, START, END, "…", SNIPPET_TOKENS),
        fn.highlight(entity, 0, START, END))
        .where(EntryIndex.match(query.fts) & EntryIndex.rowid.in_(ids)))
    out = {}
    for rowid, snippet, title in select.tuples():
        snippet, spans = _spans(snippet or "")
        _, title_spans = _spans(title or "")
        out[rowid] = (snippet, spans, title_spans)
    return out


def _spans(marked):
    """Strip the START/END markers; return the text and the marked (start, end) spans."""
    text, spans, start = [], [], None
    length = 0
    for piece in _split_marks(marked):
        if piece == START:
            start = length
        elif piece == END:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            text.append(piece)
            length += len(piece)
    return "".join(text), spans


def _split_marks(marked):
    piece = []
    for ch in marked:
        if ch in (START, END):
            if piece:
                yield "".join(piece)
                piece = []
            yield ch
        else:
            piece.append(ch)
    if piece:
        yield "".join(piece)


def to_record(hit):
    """The JSON shape of a hit: the entry's record (entries.to_record) plus
    ``score``, ``snippet``, ``matches`` and ``title_matches`` ([start, end]
    character offsets into the snippet and the title)."""
    from .entries import to_record as entry_record

    record = entry_record(hit.entry)
    record.update(score=hit.score, snippet=hit.snippet,
                  matches=[list(s) for s in hit.spans],
                  title_matches=[list(s) for s in hit.title_spans])
    return record
