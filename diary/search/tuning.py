"""The numbers search is tuned by: the defaults of search.Tuning.

This module imports nothing, so bench/floor.py (standard library and
sqlcipher3 only) reads it by its path and runs the SQL with the same values.
Tests never change these: they pass search.search a Tuning of their own
(``Tuning(cap=5, window=4)``). The measurements behind each value are in
bench/RESULTS-search.md and in the commit messages that set them.
"""

# bm25 weights of the columns title, body, tags, grams. A title names what an
# entry is about and tags are labels chosen on purpose, so a word there
# outweighs the same word in the text; a word found in a tag's path scores as
# that tag's token, rarer than a word as a rule, hence the weight below the
# title's. The grams column (grams.py) is the text again, so it weighs as the
# text (bm25 gives a missing weight 1.0).
WEIGHTS = (10.0, 1.0, 2.0)

# Counting and ranking cost in proportion to the matches, so a query found in
# more than CAP entries is counted as "more than CAP" and ranked among its CAP
# newest-written matches. A person given 5,000 matches narrows the query.
CAP = 5_000

# A diary of at most EXACT entries is searched by search/core.py, exactly;
# a bigger one by search/large.py (tiers, rarity, sampling). Never more than
# WINDOW or RANK_LIMIT, which only large.py applies.
EXACT = 100_000

# Past EXACT: a diary of more entries is searched in two tiers, its WINDOW
# latest entries (by id, or with dates the newest whole months that hold as
# many), then, where the page asked for goes further, the older ones; ranked,
# the latest tier's matches come first. No person writes WINDOW entries.
WINDOW = 100_000

# bm25 reads the whole list of each word to weigh it, and gives little weight
# to a word in a tenth of the entries: past EXACT, words estimated to be in
# more than RANK_LIMIT entries are left out of the ranking, and a query with
# nothing left to rank by is listed newest first.
RANK_LIMIT = 100_000
RARITY_PROBE = 256  # newest matches whose span of ids estimates a word's count
PHRASE_COST = 10    # bm25 over a phrase compares positions: a phrase counts this many words

# Beyond CAP matches, this share of entries matching makes asking FTS5 entry
# by entry along the date index cheaper than listing every match.
DENSE = 0.1

# A random row read costs about as much as walking ROW_COST entries of an
# index while testing each against a list of matches.
ROW_COST = 250

# Of the words' matches and the filters' passing entries the smaller side is
# listed; SIDES weighs the two (tests set it to force either plan).
SIDES = 1

# The share of matches passing the filters is estimated from a sample of
# SAMPLE of them; beyond CAP, MARGIN times the matches that share implies are
# read (a range too short costs a second pass).
SAMPLE = 64
MARGIN = 2

FEW = 200  # matches looked up one by one rather than found along the date index

# Tags a query's words may match by their paths: FTS5 ORs their tokens, at a
# cost in proportion to the matches. Beyond PROBE_TAGS tokens, FTS5 is not
# asked entry by entry (it would seek every token each time).
MAX_TAGS = 1_000
PROBE_TAGS = 16

SNIPPET_TOKENS = 24  # words of text in a snippet
SNIPPET_WALK = 200   # matches at most whose snippets a ranked walk of both tiers takes
