"""Commands for entries: init, add, list, show, edit, delete, passwd."""

import os

from .cli import (entry_id_arg, positive_int, arguments, command, diary_path, loaded_settings,
                  output, parse_date,
                  passphrase_source, read_stdin, refuse_if_read_only, unlock)
from .errors import BadInput, DiaryError, UsageError



@command("init", "diary init --diary ~/notes.db")
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
    p.add_argument("-e", "--editor", action="store_true",
                   help="write it in your editor ($VISUAL, $EDITOR or `editor`), even with "
                        "text given (it starts the file)")
    p.add_argument("--template", metavar="NAME",
                   help="start from the template NAME (a file in the config directory's "
                        "templates/; {date}, {weekday} and {time} are filled in)")
    p.add_argument("--json", action="store_true", help="print the new entry as JSON")


def _tag_option(p):
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="PATH",
                   help="tag the entry with PATH, e.g. work/acme (repeatable; missing "
                        "tags are created); #tags written in the text count too")


@command("add",
         "diary add 'yesterday 9pm: Long run. Felt strong #health/running *'\n"
         "diary add --title 'Long run' --date 'yesterday 21:30' Ran 12 km by the river.\n"
         "diary add --tag work/acme/meetings 'Kick-off with #people/anna'\n"
         "echo 'A quiet day.' | diary add --star\n"
         "diary add                     # on a terminal: opens your editor\n"
         "diary add --template evening  # ~/.config/diary/templates/evening(.txt)",
         "Add an entry; prints its id. Its text comes from the arguments, or stdin; on a "
         "terminal with neither, your editor opens on a file with a short header (title, "
         "date, tags, star) above the text (README: \"Writing in your editor\"); with no "
         "editor set, the built-in one. Text "
         "given as arguments is a quick entry: a leading 'DATE: ' sets the date (2024-03-02, 2024-03-02 21:30, today or yesterday with or "
         "without a time, a weekday with a time: 'monday 9am:'; 'Monday: meet Anna' stays "
         "text), the first sentence becomes the title when more follows (unless --title, or "
         "quick_title = false), a trailing ' *' stars, and @tags count as #tags when "
         "at_tags = true. Text from stdin is kept as it came. README: Quick entry.")
def cmd_add(args, env):
    from . import entries, tags

    refuse_if_read_only(args)
    for path in args.tags:
        tags.parse_path(path)  # bad input fails before the diary is unlocked
    start = ""
    if args.template is not None:
        from . import cli_editor, dates

        # {date}, {weekday}, {time}: the entry's (yesterday's, with --date yesterday)
        when = dates.local(dates.parse(args.date)) if args.date else dates.now()
        start = cli_editor.read_template(env, args.template, when)
    if args.text:
        body = " ".join(args.text)
    elif not env.stdin_tty:
        body = read_stdin(env).rstrip()
    else:
        body = ""
    if args.editor or (env.stdin_tty and not body.strip() and not args.title.strip()):
        from . import cli_editor

        if not env.stdin_tty:
            raise UsageError("the editor needs a terminal: give the text as arguments or on "
                             "stdin instead of --editor")
        return cli_editor.add(args, env, start + body if start and body else start or body)
    title, body, created_at, starred, more_tags = _quick_entry(args, env, body)
    if start and created_at is not None and args.date is None:
        # a date the quick entry's text gives is the entry's: the template's too
        from . import cli_editor, dates

        start = cli_editor.read_template(env, args.template, dates.local(created_at))
    if start:  # a template starts the text; a quick entry's date, title and star still count
        body = start + body if body else start
    if not body.strip() and not title.strip():
        raise BadInput("nothing to add: give the text as arguments or on stdin")
    with unlock(args, env, write=True) as d:
        entry = entries.add(d, body, title=title, created_at=created_at,
                            starred=starred, tags=args.tags + more_tags)
        print_entry(env, entry, args.json)


def _quick_entry(args, env, body):
    """``(title, body, date, starred, @tags)`` of `add`: text given as arguments
    is read as a quick entry (quick.py: a leading date, a first-sentence title,
    a trailing `` *``, @tags); text from stdin is kept as it came."""
    if not args.text:
        return args.title, body, parse_date(args.date), args.star, []
    from . import quick

    config = loaded_settings(env)
    q = quick.parse(body, date=args.date is None,
                    title=not args.title and config.get("quick_title"),
                    at=config.get("at_tags"))
    created_at = q.created_at if args.date is None else parse_date(args.date)
    return (q.title if q.title is not None else args.title, q.body, created_at,
            args.star or q.starred, q.tags)


def filter_options(p):
    """--since, --until, --starred and --tag: shared by list and export."""
    p.add_argument("--since", help="only entries on or after this date")
    p.add_argument("--until", help="only entries on or before this date")
    p.add_argument("--starred", action="store_true", help="only starred entries")
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="PATH",
                   help="only entries tagged PATH or any tag below it (repeatable: all "
                        "of them)")


def print_entry(env, entry, as_json):
    """What add and edit print: the entry's id, or the whole entry as JSON."""
    from . import entries

    if as_json:
        output(env).json(entries.to_record(entry))
    else:
        output(env).line(str(entry.id))


LIST_FORMATS = ("short", "full", "json", "jsonl", "csv", "dates", "tags")


def _query_option(p):
    p.add_argument("-q", "--query", metavar="QUERY",
                   help="only entries this search finds (the language of `diary search`)")


@arguments("list")
def _list_args(p):
    p.add_argument("-n", "--limit", type=positive_int, default=None,
                   help="how many entries, newest first (default 20, but all for --format "
                        "dates and tags; 0 for all)")
    p.add_argument("--offset", type=positive_int, default=0, help="skip this many first")
    filter_options(p)
    p.add_argument("--tag-exact", action="store_true",
                   help="with --tag: only PATH itself, not the tags below it")
    _query_option(p)
    p.add_argument("-f", "--format", choices=LIST_FORMATS, default=None, metavar="FORMAT",
                   help="short: a line per entry (default); full: whole entries; json: a "
                        "JSON array; jsonl: an object per line; csv: the columns of `diary "
                        "export --format csv`; dates: entries per day; tags: entries per tag")
    p.add_argument("--json", action="store_true", help="the same as --format json")


LIST_DESCRIPTION = """List entries, newest first: the latest 20 unless -n says otherwise (-n 0:
all); --format dates and --format tags count every entry that passes the
filters unless -n is given. The filters combine: all of them must pass.

  short   one line per entry: id, date, star, headline, tags (tab-separated
          when piped)
  full    whole entries, as `diary show` prints them
  json    a JSON array of entries (README: Output for scripts); --json too
  jsonl   one JSON object per line, the same fields
  csv     RFC 4180 CSV with a header row: the columns of `diary export -f csv`
  dates   DATE<TAB>COUNT per day that has entries, oldest first
  tags    TAG<TAB>COUNT per tag the entries carry, the most used first
"""


@command("list",
         "diary list -n 10 --since 'last monday'\ndiary list --starred --json\n"
         "diary list --tag work          # work, work/acme, work/acme/meetings, ...\n"
         "diary list --tag work --tag-exact\n"
         "diary list -q 'river' --format csv > river.csv\n"
         "diary list --since 2024-01-01 --format dates",
         LIST_DESCRIPTION)
def cmd_list(args, env):
    fmt = _list_format(args)
    limit = args.limit
    if limit is None:
        limit = 0 if fmt in ("dates", "tags") else 20
    found = _select(args, env, limit)
    _print_list(env, found, fmt)


def _list_format(args):
    if args.json and args.format not in (None, "json"):
        raise UsageError("--json is --format json: give one of them")
    return "json" if args.json else args.format or "short"


def _select(args, env, limit):
    """The entries the filters of list and show pick (``limit`` 0: all), newest first."""
    from . import entries

    since = parse_date(args.since, "start")
    until = parse_date(args.until, "end")
    query = None
    if args.query is not None:
        from . import search

        query = search.parse(args.query)  # a bad query fails before the passphrase
    with unlock(args, env, write=False) as d:
        with d.read():
            return entries.list_entries(d, limit=limit or None,
                                        offset=getattr(args, "offset", 0),
                                        since=since, until=until,
                                        starred=True if args.starred else None,
                                        tags=args.tags, tag_exact=args.tag_exact, query=query)


def _print_list(env, found, fmt):
    from . import entries, render_data

    out = output(env)
    if fmt == "json":
        out.json([entries.to_record(e) for e in found])
    elif fmt == "jsonl":
        render_data.json_lines(out, (entries.to_record(e) for e in found))
    elif fmt == "full":
        out.entries(found)
    elif fmt == "csv":
        render_data.csv_entries(out, found)
    elif fmt in ("dates", "tags"):
        from . import stats

        counts = stats.per_day(found) if fmt == "dates" else stats.per_tag(found)
        render_data.counts(out, ((str(key), n) for key, n in counts))
    else:
        out.entry_list(found)


def _print_entries(env, found, as_json):
    from . import entries

    out = output(env)
    if as_json:
        out.json([entries.to_record(e) for e in found])
    else:
        out.entries(found)


@arguments("show")
def _show_args(p):
    p.add_argument("ids", nargs="*", type=entry_id_arg, metavar="ID",
                   help="entry ids (or filters instead)")
    p.add_argument("-n", "--limit", type=positive_int, default=None,
                   help="with filters: only the newest N that pass them (default: all)")
    filter_options(p)
    p.add_argument("--tag-exact", action="store_true",
                   help="with --tag: only PATH itself, not the tags below it")
    _query_option(p)
    p.add_argument("--json", action="store_true", help="print a JSON array of entries")


SHOW_DESCRIPTION = """Show whole entries: the ones named by id, in the order given, or the ones the
filters of `diary list` pick (--since/--until, --tag, --starred, -q QUERY,
-n N), in date order, oldest first (-n N: the newest N of them, still oldest
first, as a diary reads). Ids and filters do not mix: give one or the other
(to show some of a filtered set, list it first: `diary list --tag work`).
"""


@command("show",
         "diary show 12 15\ndiary show 12 --json\n"
         "diary show --since 2024-01-01 --tag work\ndiary show -n 3\ndiary show -q river",
         SHOW_DESCRIPTION)
def cmd_show(args, env):
    from . import entries

    filtered = (args.since is not None or args.until is not None or args.starred or args.tags
                or args.query is not None or args.limit is not None or args.tag_exact)
    if args.ids and filtered:
        raise UsageError("give entry ids or filters, not both")
    if args.ids:
        with unlock(args, env, write=False) as d:
            found = entries.get_many(d, args.ids)
    elif filtered:
        found = _select(args, env, args.limit or 0)[::-1]
    else:
        raise UsageError("give entry ids, or filters such as -n 3 or --tag work "
                         "(see `diary show --help`)")
    _print_entries(env, found, args.json)


@arguments("edit")
def _edit_args(p):
    p.add_argument("id", nargs="?", type=entry_id_arg, metavar="ID",
                   help="the entry to change (on a terminal with nothing else asked: opens it "
                        "in your editor); or filters instead: every entry they select")
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
    p.add_argument("--stdin", action="store_true",
                   help="read the new text from stdin together with other changes")
    p.add_argument("--json", action="store_true", help="print the changed entry as JSON")
    from .cli_trash import selection_options

    selection_options(p, tag_filter="--tagged")


@command("edit",
         "echo 'Rewritten text' | diary edit 12\n"
         "echo 'Rewritten text' | diary edit 12 --stdin --title 'New title'\n"
         "diary edit 12 --star\n"
         "diary edit 12 --tag health/running --untag health\n"
         "diary edit -q 'marathon' --since 2024-01-01 --tag health/running --star\n"
         "diary edit --tagged work/old --tag work/archive --untag work/old\n"
         "diary edit 12                        # on a terminal: opens it in your editor\n"
         "diary edit -q 'tag:work' --since 2024-01-01   # on a terminal: all matches in one file",
         "Change an entry. On a terminal, `diary edit ID` alone opens it in your editor (the "
         "built-in one when none is set), and "
         "filters with no change flag open every match in one file: edits, new dates and "
         "tags, and deletions (an entry emptied asks first) are saved together. "
         "A new text is read from stdin when stdin is not a terminal and "
         "nothing else is asked, or with --stdin: so `... | while read id; do diary edit "
         "$id --star; done` never swallows the loop's input as text. A new text re-derives "
         "its #tags: tags that came only from the old text go, tags added with --tag stay. "
         "With filters instead of an ID (-q, --since, --until, --starred, --tagged: --tag "
         "adds a tag here) --date, --tag, --untag, --star and --unstar change every entry "
         "they select, in one transaction (all or none); the ids changed are printed.")
def cmd_edit(args, env):
    from . import entries
    from .cli_trash import edit as edit_selected, selecting

    others = (args.title is not None or args.date is not None or args.starred is not None
              or args.tags or args.untag or args.stdin)
    if selecting(args):
        if args.id is None and not others and env.stdin_tty:
            from . import cli_editor

            refuse_if_read_only(args)
            return cli_editor.edit(args, env, cli_editor.selection(args))
        return edit_selected(args, env)
    if args.id is None:
        raise UsageError("give the id of the entry to change, or filters (-q, --tagged, "
                         "--since, --until, --starred) that select entries")
    refuse_if_read_only(args)
    if not others and env.stdin_tty:
        from . import cli_editor

        return cli_editor.edit(args, env, lambda d: entries.get_many(d, [args.id]),
                               entry_id=args.id)
    body = None
    if args.stdin or (not others and not env.stdin_tty):
        body = read_stdin(env).rstrip() or None  # nothing piped in: keep the text
    created_at = parse_date(args.date)
    if (body is None and args.title is None and created_at is None and args.starred is None
            and not args.tags and not args.untag):
        raise BadInput("nothing to change: pipe a new text in, or give --stdin, --title, --date, "
                       "--star, --unstar, --tag or --untag")
    with unlock(args, env, write=True) as d:
        entry = entries.edit(d, args.id, body=body, title=args.title,
                             created_at=created_at, starred=args.starred,
                             add_tags=args.tags, remove_tags=args.untag)
        print_entry(env, entry, args.json)


@arguments("delete")
def _delete_args(p):
    p.add_argument("ids", nargs="*", type=entry_id_arg, metavar="ID", help="entry ids")
    from .cli_trash import selection_options

    selection_options(p)
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


@command("delete",
         "diary delete 12\ndiary delete 12 13 --yes\n"
         "diary delete -q 'test entry' --since 2024-05-01\n"
         "diary delete --tag drafts --yes",
         "Move entries to the trash (`diary trash`, `diary restore ID`; with trash_days "
         "0 they are deleted for good), by their ids or by filters: -q QUERY (as in "
         "`diary search`), --tag, --since, --until, --starred select every entry they "
         "match. On a terminal it names them and asks, with their count; scripts add --yes.")
def cmd_delete(args, env):
    from .cli_trash import delete

    return delete(args, env)


@arguments("passwd")
def _passwd_args(p):
    p.add_argument("--new-passphrase-file", metavar="PATH",
                   help="read the new passphrase from the first line of PATH")
    p.add_argument("--new-passphrase-fd", metavar="N", type=int,
                   help="read the new passphrase from file descriptor N")


@command("passwd",
         "diary passwd\ndiary passwd --passphrase-file old.txt --new-passphrase-file new.txt")
def cmd_passwd(args, env):
    from . import store
    from .passphrase import Source

    new_source = Source(file=args.new_passphrase_file, fd=args.new_passphrase_fd,
                        environ={}, ask=env.getpass, interactive=env.can_prompt,
                        options="--new-passphrase-file or --new-passphrase-fd")
    args.no_agent = True  # the old passphrase is asked, not taken from the agent
    with unlock(args, env, write=True) as d:
        new = new_source.new("New passphrase: ")
        store.change_passphrase(d, new)
    from . import agent_client

    if agent_client.offered() and agent_client.stop(d.path, env.environ):
        env.say("Passphrase changed; the diary's agent was ended (`diary unlock` again).")
    else:
        env.say("Passphrase changed.")
