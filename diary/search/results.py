"""What a search returns: the hits of a page and what was searched to find them."""

import dataclasses


@dataclasses.dataclass
class Hit:
    """One found entry. ``snippet`` is plain text around the best match, ``spans``
    the (start, end) offsets of the matched words inside it; ``title_spans`` the
    same inside the entry's title. ``score`` is bm25, higher is better; None
    unless the hits are ranked (Coverage.order)."""

    entry: object  # store.Entry
    score: float = None
    snippet: str = ""
    spans: list = dataclasses.field(default_factory=list)
    title_spans: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Coverage:
    """What a search covered, in one value that the CLI and the menu both read
    (``describe``, ``more_follow``) rather than each interpreting the fields.

    - ``total``: how many entries match; with ``at_least``, more than that
      (counting stops at Tuning.cap).
    - ``window``: set when more than that many matched and only the newest-
      written ``window`` of them were ranked.
    - ``order``: how the hits are ordered, "rank", "newest" or "oldest";
      "newest" where rank was asked but the query has no words to rank by,
      or only words too common to rank by (Tuning.rank_limit).
    - ``scope``: set when only the latest ``scope`` entries were searched (a
      diary bigger than Tuning.window, search/large.py): the page was found
      among them and ``total`` counts their matches; the older entries' come
      on later pages (ranked: after them; by date: in date order).
    """

    total: int
    at_least: bool = False
    window: int = None
    order: str = "rank"
    scope: int = None

    @property
    def more_follow(self):
        """Whether entries beyond ``total`` may still come on later pages (the
        older entries of a search that covered the latest only)."""
        return bool(self.scope and not self.window)

    def describe(self, offset=0, shown=0, rank_asked=False, offsets=True):
        """One sentence for a person: how many matched, which of them are shown
        (``shown`` hits from ``offset``), and what was left out or comes later.
        ``rank_asked``: the person asked for rank (says so when it was not given);
        ``offsets``: name the ``--offset`` that reaches the later entries (the
        CLI's way on; the menu pages on with a key instead)."""
        total = "%s%d" % ("more than " if self.at_least else "", self.total)
        noun = "match" if self.total == 1 and not self.at_least else "matches"
        message = "%s %s" % (total, noun)
        if self.scope:
            message += " in the latest %d entries" % self.scope
        if shown and (offset or shown < self.total or self.at_least or self.scope):
            message += ", showing %d-%d" % (offset + 1, offset + shown)
        if self.window:
            message += "; ranked among the %d newest (add words to narrow)" % self.window
        elif rank_asked and self.order != "rank" and shown:
            message += "; too many to rank, newest first (add words to narrow)"
        if self.more_follow and self.order == "rank":
            message += "; older entries follow them"
            if offsets:
                message += " (--offset %d)" % self.total
        elif self.more_follow:
            message += "; older entries on later pages"
            if offsets:
                message += " (--offset %d)" % (offset + shown)
        return message + "."


@dataclasses.dataclass
class Results:
    """A page of ``hits`` and the ``coverage`` of the search that found them.
    ``total``, ``at_least``, ``window``, ``order`` and ``scope`` read the
    coverage's fields."""

    hits: list
    coverage: Coverage

    total = property(lambda self: self.coverage.total)
    at_least = property(lambda self: self.coverage.at_least)
    window = property(lambda self: self.coverage.window)
    order = property(lambda self: self.coverage.order)
    scope = property(lambda self: self.coverage.scope)


def to_record(hit):
    """The JSON shape of a hit: the entry's record (entries.to_record) plus
    ``score``, ``snippet``, ``matches`` and ``title_matches`` ([start, end]
    character offsets into the snippet and the title)."""
    from ..entries import to_record as entry_record

    record = entry_record(hit.entry)
    record.update(score=hit.score, snippet=hit.snippet,
                  matches=[list(s) for s in hit.spans],
                  title_matches=[list(s) for s in hit.title_spans])
    return record
