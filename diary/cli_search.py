"""Commands that find: search (the query language) and query (SQL, read-only)."""

import argparse

from .cli import positive_int, arguments, command, output, read_stdin, settings, unlock
from .errors import UsageError


class _Once(argparse.Action):
    """An option given once: a second --contains would silently replace the
    first (jrnl's repeated -contains finds either)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest, None) is not None:
            raise argparse.ArgumentError(self, "give it once (a search finds one text; "
                                               "for either of two words: diary search 'A OR B')")
        setattr(namespace, self.dest, values)


SEARCH_HELP = """\
Search the diary. All words must match, in any case and with or without
accents (cafe finds café). Quote the query so the shell leaves it alone.

  "exact phrase"     the words together, in this order
  walk*              words starting with walk
  cats OR dogs       either word
  -work, NOT work    entries without the word
  (a OR b) c         parentheses group
  title:word         the word in the title (title:"a phrase" too)
  tag:work/acme      tagged work/acme or anything under it
  from:DATE to:DATE  on or after / on or before a date
  on:DATE            on that day
  is:starred         starred entries (-is:starred: not starred)

Dates are 2024-03-02 or words in quotes: from:"last monday", on:yesterday.
Filters alone (is:starred from:2024-01-01) list entries newest first.
--contains TEXT finds TEXT as it is, inside words too ('oad' finds
'Roadmap'), ignoring case and accents; it reads every entry (seconds for
100,000). Chinese, Japanese, Korean and Thai words are found inside
longer runs without it ('故宫' finds '北京的故宫博物院').
Results are ranked: a match in the title counts most, then tags, then the
text. The number of matches goes to stderr. In a diary of more than 100,000
entries the latest 100,000 are searched first: their matches come first,
the older entries' after them (page on with --offset).
"""


@arguments("search")
def _search_args(p):
    p.add_argument("query", nargs="*", help="what to look for (see above)")
    p.add_argument("--contains", metavar="TEXT", action=_Once,
                   help="entries whose title or text holds TEXT as it is, ignoring case and "
                        "accents ('oad' finds 'Roadmap'); the query may add filters only; "
                        "newest first (once a command)")
    p.add_argument("-n", "--limit", type=positive_int, default=20,
                   help="how many results (default 20; 0 for all)")
    p.add_argument("--offset", type=positive_int, default=0,
                   help="skip this many first (the next page: --offset 20)")
    p.add_argument("--sort", choices=("rank", "newest", "oldest"),
                   help="best match first, or by date (default: `default_sort` in the "
                        "config file, else rank)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON array: entries with score, snippet and match offsets")
    _dash_hint(p)


def _dash_hint(p):
    """argparse takes a query word starting with '-' (``-heron``) for options
    (``-h eron``) and fails with a baffling message: say what to write."""
    parse = p.parse_known_args

    def parse_known_args(args=None, namespace=None):
        dashed = [a for a in args or () if a.startswith("-") and a != "--"
                  and a.split("=")[0] not in p._option_string_actions]
        try:
            found, extras = parse(args, namespace)
        except UsageError:
            if dashed:
                raise _hint(dashed[0]) from None
            raise
        if any(a.startswith("-") for a in extras):
            raise _hint(next(a for a in extras if a.startswith("-")))
        return found, extras

    p.parse_known_args = parse_known_args


def _hint(word):
    return UsageError("%s is not an option of search: a query word that begins with '-' "
                      "needs '--' before the query, as in `diary search -- %s`" % (word, word))


@command("search",
         "diary search 'cafe \"long run\" -work'\n"
         "diary search 'title:holiday from:2023-01-01 is:starred' --sort newest\n"
         "diary search -- '-work from:\"last monday\"'\n"
         "diary search --contains oad 'from:2024-01-01'",
         description=SEARCH_HELP)
def cmd_search(args, env):
    from . import search

    if args.contains is not None:
        return _contains(args, env)
    if not args.query:
        raise UsageError("give a query, or --contains TEXT (see `diary search --help`)")
    query = search.parse(" ".join(args.query))  # bad queries fail before the passphrase
    if query.stray_hint():
        env.say(query.stray_hint())
    sort = args.sort or settings(args, env).get("default_sort")
    with unlock(args, env, write=False) as d:
        found = search.search(d, query, limit=args.limit or None, offset=args.offset,
                              sort=sort)
        out = output(env)
        if args.json:
            out.json([search.to_record(h) for h in found.hits])
        else:
            out.search_results(found.hits, snippets=query.ranked)
    rank_asked = query.ranked and sort == "rank"
    env.say(found.coverage.describe(args.offset, len(found.hits), rank_asked))


def _contains(args, env):
    from . import contains, search

    contains.needle(args.contains)  # bad input fails before the passphrase
    query = search.parse(" ".join(args.query)) if args.query else None
    if query is not None and query.fts is not None:
        raise UsageError("--contains combines with filters only (from:, to:, on:, tag:, "
                         "is:starred), not with words")
    sort = args.sort or settings(args, env).get("default_sort")
    with unlock(args, env, write=False) as d:
        found = contains.search(d, args.contains, query=query, limit=args.limit or None,
                                offset=args.offset, newest=sort != "oldest")
        out = output(env)
        if args.json:
            out.json([search.to_record(h) for h in found.hits])
        else:
            out.search_results(found.hits)
    env.say(found.coverage.describe(args.offset, len(found.hits)))


@arguments("query")
def _query_args(p):
    p.add_argument("sql", nargs="?", metavar="SQL",
                   help="one SQL statement; '-' or nothing reads it from stdin")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print a JSON array of objects keyed by column name")
    fmt.add_argument("--csv", action="store_true", help="print CSV with a header row")


@command("query",
         "diary query 'SELECT id, title FROM entry ORDER BY created_at DESC LIMIT 5'\n"
         "diary query --csv \"SELECT strftime('%Y-%m', created_at) AS month, count(*) AS n "
         "FROM entry GROUP BY month\"\n"
         "diary query --json < report.sql",
         description="Run one SQL statement (SELECT, WITH, read-only PRAGMAs) on the diary "
                     "and print the rows: a table on a terminal, tab-separated lines when "
                     "piped, or --json / --csv. The session is always read-only: "
                     "statements that would change, copy or re-key the diary are refused.")
def cmd_query(args, env):
    from . import user_sql as query

    sql = args.sql
    if sql is None or sql == "-":
        if env.stdin_tty:
            raise UsageError("give the SQL as an argument, or pipe it in")
        sql = read_stdin(env)
    with unlock(args, env, write=False) as d:
        result = query.run(d, sql)
    out = output(env)
    if args.json:
        out.json(query.to_records(result))
    elif args.csv:
        out.csv(result.columns, result.rows, convert=query.json_value)
    else:
        out.result_table(result.columns, result.rows)
