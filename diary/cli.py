"""The command line: parse flags, find the diary and its passphrase, call the
library, print the result. ``main(argv) -> int`` is the program's one exit
point: every library error becomes one line on stderr and its exit code
(errors.py). No SQL here.

Tests run the real program in-process with an injected ``Env`` (streams,
terminal flags, environment, passphrase prompt).
"""

import argparse
import dataclasses
import os
import sys
import typing

from . import __version__, errors
from .errors import BadInput, DiaryError, PassphraseError, ReadOnly, UsageError

# The heavy stacks (peewee, sqlcipher3, rich, prompt_toolkit) are imported
# inside the commands that use them, so `diary --version` and `--help` stay fast.


@dataclasses.dataclass
class Env:
    stdin: typing.TextIO
    stdout: typing.TextIO
    stderr: typing.TextIO
    environ: typing.Mapping[str, str]
    stdin_tty: bool = False
    stdout_tty: bool = False
    stderr_tty: bool = False
    getpass: typing.Optional[typing.Callable[[str], str]] = None
    # The interactive diary's prompt_toolkit (input, output); None: the terminal.
    # Tests pass a pipe input and a DummyOutput.
    menu_io: typing.Optional[tuple] = None

    @classmethod
    def system(cls):
        import getpass

        def ask(prompt):
            return getpass.getpass(prompt, stream=sys.stderr)

        return cls(sys.stdin, sys.stdout, sys.stderr, os.environ,
                   stdin_tty=_isatty(sys.stdin), stdout_tty=_isatty(sys.stdout),
                   stderr_tty=_isatty(sys.stderr), getpass=ask)

    def say(self, message):
        """A message for the person (stderr), never data."""
        self.stderr.write(message + "\n")
        self.stderr.flush()


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- parsing -----------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    out = None  # where --help and --version go (the injected stdout)

    def error(self, message):
        raise UsageError("%s (see `%s --help`)" % (message, self.prog))

    def _print_message(self, message, file=None):
        if message:
            (self.out or file or sys.stdout).write(message)


def _global_options(parser, suppress):
    """Options valid before or after the command name.

    The subcommand copies default to SUPPRESS so that a value given before the
    command is not overwritten by the subcommand's default.
    """
    default = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument("--diary", metavar="PATH", default=default,
                   help="the diary file (default: $DIARY_PATH, then the user data directory)")
    g.add_argument("--passphrase-file", metavar="PATH", default=default,
                   help="read the passphrase from the first line of PATH")
    g.add_argument("--passphrase-fd", metavar="N", type=int, default=default,
                   help="read the passphrase from the first line of file descriptor N")
    g.add_argument("--read-only", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="open the diary read-only: no command may change it")
    g.add_argument("--debug", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="show a traceback for internal errors (never secrets or entry text)")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text) from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more: %r" % text)
    return value


LOCK_AFTER = 10  # minutes
LOCK_AFTER_VAR = "DIARY_LOCK_AFTER"


def _minutes(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number of minutes: %r" % text) from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be 0 or more minutes: %r" % text)
    return value


def _entry_id(text):
    try:
        value = int(text.lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError("not an entry id: %r" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("not an entry id: %r" % text)
    return value


COMMANDS = {}


def command(name, help, example, description=None):
    """Register a command: its handler, help line and example (shown in --help)."""

    def register(func):
        COMMANDS[name] = (func, help, example, description)
        return func

    return register


def build_parser(out=None):
    parser = Parser(
        prog="diary",
        description="An encrypted diary and notes tool. Run without a command to open "
                    "the interactive diary.",
        epilog="Run `diary COMMAND --help` for a command's options and an example.",
    )
    parser.out = out
    parser.add_argument("--version", action="version", version="diary " + __version__)
    parser.add_argument("--lock-after", metavar="MINUTES", type=_minutes,
                        help="interactive diary: lock after this many idle minutes "
                             "(default: $%s, else %g; 0: never)" % (LOCK_AFTER_VAR, LOCK_AFTER))
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (func, help, example, description) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=description or help,
                           epilog="example:\n  " + "\n  ".join(example.splitlines()),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.out = out
        _global_options(p, suppress=True)
        ARGUMENTS.get(name, lambda p: None)(p)
        p.set_defaults(func=func)
    return parser


ARGUMENTS = {}


def arguments(name):
    def register(func):
        ARGUMENTS[name] = func
        return func

    return register


# --- running -----------------------------------------------------------------

def main(argv=None, env=None):
    """Run the program; return its exit status."""
    env = env or Env.system()
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        try:
            args = build_parser(env.stdout).parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else errors.OK
        if args.command is None:
            return open_menu(args, env)
        return args.func(args, env) or errors.OK
    except DiaryError as exc:
        from .render import clean

        # Messages may quote user text (a table name in a refused query, a path).
        env.say("diary: %s" % clean(str(exc)))
        return exc.exit_code
    except KeyboardInterrupt:
        env.say("diary: interrupted")
        return errors.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`diary list | head`): not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return errors.OK
    except Exception as exc:
        mapped = _database_error(exc)
        if mapped is not None:
            env.say("diary: %s" % mapped)
            return mapped.exit_code
        if debug:
            import traceback

            env.say("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        env.say("diary: internal error (%s); rerun with --debug for details"
                % type(exc).__name__)
        return errors.ERROR


def _database_error(exc):
    """A driver error raised mid-command (a damaged page, a lock) as a DiaryError."""
    store = sys.modules.get("diary.store")
    if store is None:
        return None
    mapped = store.translate(exc)
    return mapped if isinstance(mapped, DiaryError) else None


def diary_path(args, env):
    """--diary, then $DIARY_PATH, then the platform's user data directory."""
    path = getattr(args, "diary", None) or env.environ.get("DIARY_PATH")
    if not path:
        import platformdirs

        path = os.path.join(platformdirs.user_data_dir("diary", appauthor=False), "diary.db")
    return os.path.abspath(os.path.expanduser(path))


def passphrase_source(args, env):
    from .passphrase import Source

    return Source(file=getattr(args, "passphrase_file", None),
                  fd=getattr(args, "passphrase_fd", None),
                  environ=env.environ, ask=env.getpass, interactive=env.stdin_tty)


def _harden():
    """No core dumps while a key and plaintext are in memory."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass


def refuse_if_read_only(args):
    if getattr(args, "read_only", False):
        raise ReadOnly()


def unlock(args, env, *, write, create=False, tries=1, welcome=None):
    """Open the diary for this command.

    A write command under --read-only fails before asking anything; commands
    that only read always open read-only, and every read-only session runs
    under the read-only authorizer (access.py). With ``create``, a missing
    diary is created first (the passphrase asked twice on a terminal, after
    the lines of ``welcome``). A passphrase typed on the terminal may be
    tried ``tries`` times.
    """
    from . import store

    if write:
        refuse_if_read_only(args)
    read_only = not write or getattr(args, "read_only", False)
    path = diary_path(args, env)
    source = passphrase_source(args, env)
    _harden()
    os.umask(0o077)
    if not os.path.lexists(path) and not create:
        raise errors.NotFound("no diary at %s (create one with `diary init`)" % path)
    if not os.path.lexists(path):
        for line in welcome or ():
            env.say(line)
        env.say("Creating a new diary at %s" % path)
        passphrase = source.new("New passphrase: ")
        store.create(path, passphrase)
        env.say("Created. Keep your passphrase safe: without it the diary cannot be opened.")
        return store.open_diary(path, passphrase, read_only=read_only)
    for attempt in range(1, tries + 1):
        passphrase = source.get()
        try:
            return store.open_diary(path, passphrase, read_only=read_only)
        except PassphraseError:
            if attempt == tries or source.scripted() is not None:
                raise
            env.say("Wrong passphrase, try again.")


def output(env):
    from .render import Output

    return Output(env.stdout, terminal=env.stdout_tty,
                  color=not env.environ.get("NO_COLOR"))


def read_stdin(env):
    try:
        return env.stdin.read()
    except UnicodeDecodeError:
        raise BadInput("the text on stdin is not valid UTF-8") from None


def parse_date(text, bound=None):
    from . import dates

    return dates.parse(text, bound=bound) if text is not None else None


WELCOME = (
    "Welcome to diary: an encrypted diary for the terminal.",
    "Everything you write is kept in one encrypted file, opened with a passphrase that you",
    "choose now. Choose it well and keep it safe: it cannot be recovered, and without it",
    "the diary cannot be opened by anyone, you included.",
    "",
)


def lock_after(args, env):
    """Idle minutes before the menu locks: --lock-after, $DIARY_LOCK_AFTER, 10."""
    if getattr(args, "lock_after", None) is not None:
        return args.lock_after
    text = env.environ.get(LOCK_AFTER_VAR)
    if not text:
        return LOCK_AFTER
    try:
        return _minutes(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError("$%s: %s" % (LOCK_AFTER_VAR, exc)) from None


def open_menu(args, env):
    """``diary`` alone: unlock (or create), then the interactive diary."""
    if env.menu_io is None and not (env.stdin_tty and env.stdout_tty):
        raise UsageError("the interactive diary needs a terminal; run `diary --help` "
                         "for the commands")
    minutes = lock_after(args, env)
    read_only = getattr(args, "read_only", False)
    diary = unlock(args, env, write=not read_only, create=not read_only, tries=3,
                   welcome=WELCOME)
    from . import menu  # prompt_toolkit and rich: only on this path

    input, output = env.menu_io or (None, None)
    with diary:
        return menu.Menu(diary, ask=env.getpass, input=input, output=output,
                         lock_after=minutes * 60, color=not env.environ.get("NO_COLOR")).run()


# --- commands ----------------------------------------------------------------

@command("init", "create a new diary", "diary init --diary ~/notes.db")
def cmd_init(args, env):
    from . import store

    refuse_if_read_only(args)
    path = diary_path(args, env)
    os.umask(0o077)
    if os.path.lexists(path):
        raise DiaryError("%s already exists" % path)
    store.create(path, passphrase_source(args, env).new("New passphrase: "))
    env.say("Created a diary at %s" % path)


@arguments("add")
def _add_args(p):
    p.add_argument("text", nargs="*", help="the entry's text (default: read from stdin)")
    p.add_argument("--title", default="", help="the entry's title")
    p.add_argument("--date", help="when it happened: 2024-03-02, 'yesterday 21:30', ... "
                                  "(default: now)")
    p.add_argument("--star", action="store_true", help="star the entry")
    _tag_option(p)
    p.add_argument("--json", action="store_true", help="print the new entry as JSON")


def _tag_option(p):
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="PATH",
                   help="tag the entry with PATH, e.g. work/acme (repeatable; missing "
                        "tags are created); #tags written in the text count too")


@command("add", "add an entry (text from the arguments or stdin); prints its id",
         "diary add --title 'Long run' --date 'yesterday 21:30' Ran 12 km by the river.\n"
         "diary add --tag work/acme/meetings 'Kick-off with #people/anna'\n"
         "echo 'A quiet day.' | diary add --star")
def cmd_add(args, env):
    from . import entries

    refuse_if_read_only(args)
    if args.text:
        body = " ".join(args.text)
    elif not env.stdin_tty:
        body = read_stdin(env).rstrip()
    else:
        body = ""
    if not body.strip() and not args.title.strip():
        raise BadInput("nothing to add: give the text as arguments or on stdin")
    created_at = parse_date(args.date)
    with unlock(args, env, write=True, create=True) as d:
        entry = entries.add(d, body, title=args.title, created_at=created_at,
                            starred=args.star, tags=args.tags)
        if args.json:
            output(env).json(entries.to_record(entry))
        else:
            output(env).line(str(entry.id))


@arguments("list")
def _list_args(p):
    p.add_argument("-n", "--limit", type=_positive_int, default=20,
                   help="how many entries (default 20; 0 for all)")
    p.add_argument("--offset", type=_positive_int, default=0, help="skip this many first")
    p.add_argument("--since", help="only entries on or after this date")
    p.add_argument("--until", help="only entries on or before this date")
    p.add_argument("--starred", action="store_true", help="only starred entries")
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="PATH",
                   help="only entries tagged PATH or any tag below it (repeatable: all "
                        "of them)")
    p.add_argument("--tag-exact", action="store_true",
                   help="with --tag: only PATH itself, not the tags below it")
    p.add_argument("--json", action="store_true", help="print a JSON array of entries")


@command("list", "list entries, newest first",
         "diary list -n 10 --since 'last monday'\ndiary list --starred --json\n"
         "diary list --tag work          # work, work/acme, work/acme/meetings, ...\n"
         "diary list --tag work --tag-exact")
def cmd_list(args, env):
    from . import entries

    since = parse_date(args.since, "start")
    until = parse_date(args.until, "end")
    with unlock(args, env, write=False) as d:
        with d.read():
            found = entries.list_entries(d, limit=args.limit or None, offset=args.offset,
                                         since=since, until=until,
                                         starred=True if args.starred else None,
                                         tags=args.tags, tag_exact=args.tag_exact)
            _print_entries(env, found, args.json, full=False)


def _print_entries(env, found, as_json, full):
    from . import entries

    out = output(env)
    if as_json:
        out.json([entries.to_record(e) for e in found])
    elif full:
        out.entries(found)
    else:
        out.entry_list(found)


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
Results are ranked: a match in the title counts most, then tags, then the
text. The number of matches goes to stderr.
"""


@arguments("search")
def _search_args(p):
    p.add_argument("query", nargs="+", help="what to look for (see above)")
    p.add_argument("-n", "--limit", type=_positive_int, default=20,
                   help="how many results (default 20; 0 for all)")
    p.add_argument("--offset", type=_positive_int, default=0,
                   help="skip this many first (the next page: --offset 20)")
    p.add_argument("--sort", choices=("rank", "newest", "oldest"), default="rank",
                   help="best match first (default), or by date")
    p.add_argument("--json", action="store_true",
                   help="print a JSON array: entries with score, snippet and match offsets")


@command("search", "find entries by words, phrases, tags and dates",
         "diary search 'cafe \"long run\" -work'\n"
         "diary search 'title:holiday from:2023-01-01 is:starred' --sort newest\n"
         "diary search -- '-work from:\"last monday\"'",
         description=SEARCH_HELP)
def cmd_search(args, env):
    from . import search

    query = search.parse(" ".join(args.query))  # bad queries fail before the passphrase
    with unlock(args, env, write=False) as d:
        found = search.search(d, query, limit=args.limit or None, offset=args.offset,
                              sort=args.sort)
        out = output(env)
        if args.json:
            out.json([search.to_record(h) for h in found.hits])
        else:
            out.search_results(found.hits, snippets=query.ranked)
    env.say(_found_message(found, args.offset, query.ranked and args.sort == "rank"))


def _found_message(found, offset, rank_asked):
    total = "%s%d" % ("more than " if found.at_least else "", found.total)
    noun = "match" if found.total == 1 and not found.at_least else "matches"
    message = "%s %s" % (total, noun)
    if found.hits and (offset or len(found.hits) < found.total or found.at_least):
        message += ", showing %d-%d" % (offset + 1, offset + len(found.hits))
    if found.window:
        message += "; ranked among the %d newest (add words to narrow)" % found.window
    elif rank_asked and found.order != "rank" and found.hits:
        message += "; too many to rank, newest first (add words to narrow)"
    return message + "."


@arguments("show")
def _show_args(p):
    p.add_argument("ids", nargs="+", type=_entry_id, metavar="ID", help="entry ids")
    p.add_argument("--json", action="store_true", help="print a JSON array of entries")


@command("show", "show whole entries", "diary show 12 15\ndiary show 12 --json")
def cmd_show(args, env):
    from . import entries

    with unlock(args, env, write=False) as d:
        _print_entries(env, entries.get_many(d, args.ids), args.json, full=True)


@arguments("edit")
def _edit_args(p):
    p.add_argument("id", type=_entry_id, metavar="ID", help="the entry to change")
    p.add_argument("--title", help="a new title")
    p.add_argument("--date", help="a new date")
    star = p.add_mutually_exclusive_group()
    star.add_argument("--star", dest="starred", action="store_const", const=True,
                      help="star the entry")
    star.add_argument("--unstar", dest="starred", action="store_const", const=False,
                      help="remove the star")
    _tag_option(p)
    p.add_argument("--untag", action="append", default=[], metavar="PATH",
                   help="remove the tag PATH from the entry (repeatable)")
    p.add_argument("--json", action="store_true", help="print the changed entry as JSON")


@command("edit", "change an entry; a new text is read from stdin",
         "echo 'Rewritten text' | diary edit 12 --title 'New title'\ndiary edit 12 --star\n"
         "diary edit 12 --tag health/running --untag health",
         "Change an entry; a new text is read from stdin. A new text re-derives its #tags: "
         "tags that came only from the old text go, tags added with --tag stay.")
def cmd_edit(args, env):
    from . import entries

    refuse_if_read_only(args)
    body = read_stdin(env).rstrip() if not env.stdin_tty else None
    if body is not None and not body:
        body = None  # nothing piped in: keep the text
    created_at = parse_date(args.date)
    if (body is None and args.title is None and created_at is None and args.starred is None
            and not args.tags and not args.untag):
        raise BadInput("nothing to change: pipe a new text in, or give --title, --date, "
                       "--star, --unstar, --tag or --untag")
    with unlock(args, env, write=True) as d:
        entry = entries.edit(d, args.id, body=body, title=args.title,
                             created_at=created_at, starred=args.starred,
                             add_tags=args.tags, remove_tags=args.untag)
        if args.json:
            output(env).json(entries.to_record(entry))
        else:
            output(env).line(str(entry.id))


@arguments("delete")
def _delete_args(p):
    p.add_argument("ids", nargs="+", type=_entry_id, metavar="ID", help="entry ids")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


@command("delete", "delete entries (asks first on a terminal)",
         "diary delete 12\ndiary delete 12 13 --yes")
def cmd_delete(args, env):
    from . import entries

    refuse_if_read_only(args)
    if not args.yes and not env.stdin_tty:
        raise UsageError("not on a terminal: add --yes to delete without asking")
    with unlock(args, env, write=True) as d:
        found = entries.get_many(d, args.ids)
        if not args.yes:
            from .render import one_line, headline

            for e in found:
                env.say("  #%d %s" % (e.id, one_line(headline(e), 60)))
            env.stderr.write("Delete %d %s? [y/N] "
                             % (len(found), "entry" if len(found) == 1 else "entries"))
            env.stderr.flush()
            answer = env.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                env.say("Nothing deleted.")
                return errors.ERROR
        n = entries.delete(d, args.ids)
        env.say("Deleted %d %s." % (n, "entry" if n == 1 else "entries"))


@arguments("passwd")
def _passwd_args(p):
    p.add_argument("--new-passphrase-file", metavar="PATH",
                   help="read the new passphrase from the first line of PATH")
    p.add_argument("--new-passphrase-fd", metavar="N", type=int,
                   help="read the new passphrase from file descriptor N")


@command("passwd", "change the diary's passphrase",
         "diary passwd\ndiary passwd --passphrase-file old.txt --new-passphrase-file new.txt")
def cmd_passwd(args, env):
    from . import store
    from .passphrase import Source

    new_source = Source(file=args.new_passphrase_file, fd=args.new_passphrase_fd,
                        environ={}, ask=env.getpass, interactive=env.stdin_tty)
    with unlock(args, env, write=True) as d:
        new = new_source.new("New passphrase: ")
        store.change_passphrase(d, new)
    env.say("Passphrase changed.")


@arguments("query")
def _query_args(p):
    p.add_argument("sql", nargs="?", metavar="SQL",
                   help="one SQL statement; '-' or nothing reads it from stdin")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print a JSON array of objects keyed by column name")
    fmt.add_argument("--csv", action="store_true", help="print CSV with a header row")


@command("query", "run one SQL statement on the diary, read-only (schema: docs/query.md)",
         "diary query 'SELECT id, title FROM entry ORDER BY created_at DESC LIMIT 5'\n"
         "diary query --csv \"SELECT strftime('%Y-%m', created_at) AS month, count(*) AS n "
         "FROM entry GROUP BY month\"\n"
         "diary query --json < report.sql",
         description="Run one SQL statement (SELECT, WITH, read-only PRAGMAs) on the diary "
                     "and print the rows: a table on a terminal, tab-separated lines when "
                     "piped, or --json / --csv. The session is always read-only: "
                     "statements that would change, copy or re-key the diary are refused.")
def cmd_query(args, env):
    from . import query

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

# --- tags ----------------------------------------------------------------------

@arguments("tags")
def _tags_args(p):
    p.add_argument("--latest", type=_positive_int, metavar="N",
                   help="for each top-level tag, its N newest entries (from any tag below it)")
    p.add_argument("--json", action="store_true", help="print JSON (shapes in the README)")


@command("tags", "show the tag tree with entry counts",
         "diary tags\ndiary tags --json\ndiary tags --latest 3",
         "Show the tag tree. Each tag shows how many entries carry it, then how many "
         "distinct entries carry it or any tag below it.")
def cmd_tags(args, env):
    from . import entries, tags

    with unlock(args, env, write=False) as d:
        out = output(env)
        if args.latest is not None:
            groups = tags.latest(d, args.latest)
            if args.json:
                out.json([{"tag": name, "entries": [entries.to_record(e) for e in found]}
                          for name, found in groups])
            else:
                out.latest_by_tag(groups)
            return
        tree = tags.tree(d)
        if args.json:
            out.json([tags.to_record(node) for node in tree])
        elif tree:
            out.tag_tree(tree)
        else:
            env.say("No tags yet: add some with `diary add --tag PATH` or #tags in the text.")


TAG_ACTIONS = {
    "rename": ("give a tag a new name, keeping its place",
               "diary tag rename work/acme 'Acme Corp'",
               [("path", "PATH", "the tag to rename"), ("name", "NEWNAME", "its new name")]),
    "move": ("move a tag, with everything below it, under another tag",
             "diary tag move work/acme clients    # now clients/acme\n"
             "diary tag move clients/acme /       # now a top-level tag",
             [("path", "PATH", "the tag to move"),
              ("parent", "NEWPARENT", "its new parent, created if missing; / for the top "
                                      "level")]),
    "merge": ("fold one tag into another: entries and sub-tags move, SRC disappears",
              "diary tag merge health/jogging health/running",
              [("src", "SRC", "the tag that disappears"), ("dest", "DEST", "the tag it joins")]),
    "delete": ("delete a tag; its entries stay, untagged",
               "diary tag delete old-project\ndiary tag delete old-project --recursive",
               [("path", "PATH", "the tag to delete")]),
}


@arguments("tag")
def _tag_args(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser,
                           required=True)
    for name, (help, example, params) in TAG_ACTIONS.items():
        a = sub.add_parser(name, help=help, description=help,
                           epilog="example:\n  " + "\n  ".join(example.splitlines()),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        a.out = p.out
        _global_options(a, suppress=True)
        for dest, metavar, text in params:
            a.add_argument(dest, metavar=metavar, help=text)
    sub.choices["delete"].add_argument("-r", "--recursive", action="store_true",
                                       help="also delete the tags below it")


@command("tag", "reorganise tags: rename, move, merge, delete",
         "diary tag rename work/acme 'Acme Corp'\ndiary tag move work/acme clients\n"
         "diary tag merge health/jogging health/running\ndiary tag delete old --recursive",
         "Reorganise the tag tree. Each action is all-or-nothing and entries follow their "
         "tags; no entry is ever deleted. Run `diary tag ACTION --help` for details.")
def cmd_tag(args, env):
    from . import tags

    with unlock(args, env, write=True) as d:
        if args.action == "rename":
            change = tags.rename(d, args.path, args.name)
            done = "Renamed %s to %s" % (change.old, change.new)
        elif args.action == "move":
            change = tags.move(d, args.path, args.parent)
            done = "Moved %s to %s" % (change.old, change.new)
        elif args.action == "merge":
            change = tags.merge(d, args.src, args.dest)
            done = "Merged %s into %s" % (change.old, change.new)
        else:
            change = tags.delete(d, args.path, recursive=args.recursive)
            done = "Deleted %s" % change.old
            if change.tags > 1:
                done += " and %d tags below it" % (change.tags - 1)
    from .render import one_line

    if change.old == change.new:
        env.say("Nothing to do: %s is already there." % one_line(change.old))
    else:
        env.say("%s (%d %s updated)." % (one_line(done), change.entries,
                                         "entry" if change.entries == 1 else "entries"))


from . import cli_exchange  # noqa: E402,F401  (registers export, import, backup, check, merge)
