"""Commands for entries: init, add, list, show, edit, delete, passwd."""

import os

from . import errors
from .cli import (entry_id_arg, positive_int, arguments, command, diary_path, output, parse_date,
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
         "diary add --title 'Long run' --date 'yesterday 21:30' Ran 12 km by the river.\n"
         "diary add --tag work/acme/meetings 'Kick-off with #people/anna'\n"
         "echo 'A quiet day.' | diary add --star\n"
         "diary add                     # on a terminal: opens your editor\n"
         "diary add --template evening  # ~/.config/diary/templates/evening(.txt)",
         "Add an entry. Its text comes from the arguments, or stdin; on a terminal with "
         "neither, your editor opens on a file with a short header (title, date, tags, "
         "star) above the text (README: \"Writing in your editor\").")
def cmd_add(args, env):
    from . import entries, tags

    refuse_if_read_only(args)
    for path in args.tags:
        tags.parse_path(path)  # bad input fails before the diary is unlocked
    start = ""
    if args.template is not None:
        from . import cli_editor, dates

        start = cli_editor.read_template(env, args.template, dates.now())
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
    if start:
        body = start + body if body else start
    if not body.strip() and not args.title.strip():
        raise BadInput("nothing to add: give the text as arguments or on stdin")
    created_at = parse_date(args.date)
    with unlock(args, env, write=True) as d:
        entry = entries.add(d, body, title=args.title, created_at=created_at,
                            starred=args.star, tags=args.tags)
        print_entry(env, entry, args.json)


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


@arguments("list")
def _list_args(p):
    p.add_argument("-n", "--limit", type=positive_int, default=20,
                   help="how many entries (default 20; 0 for all)")
    p.add_argument("--offset", type=positive_int, default=0, help="skip this many first")
    filter_options(p)
    p.add_argument("--tag-exact", action="store_true",
                   help="with --tag: only PATH itself, not the tags below it")
    p.add_argument("--json", action="store_true", help="print a JSON array of entries")


@command("list",
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


@arguments("show")
def _show_args(p):
    p.add_argument("ids", nargs="+", type=entry_id_arg, metavar="ID", help="entry ids")
    p.add_argument("--json", action="store_true", help="print a JSON array of entries")


@command("show", "diary show 12 15\ndiary show 12 --json")
def cmd_show(args, env):
    from . import entries

    with unlock(args, env, write=False) as d:
        _print_entries(env, entries.get_many(d, args.ids), args.json, full=True)


@arguments("edit")
def _edit_args(p):
    p.add_argument("id", type=entry_id_arg, metavar="ID", nargs="?",
                   help="the entry to change (on a terminal with nothing else asked: opens "
                        "it in your editor)")
    p.add_argument("-q", "--query", metavar="QUERY",
                   help="open every entry matching this search (`diary search`'s language) "
                        "in your editor, in one file")
    p.add_argument("--since", help="with no ID: open the entries on or after this date")
    p.add_argument("--until", help="with no ID: open the entries on or before this date")
    p.add_argument("--starred", dest="starred_only", action="store_true",
                   help="with no ID: open the starred entries")
    p.add_argument("--tagged", action="append", default=[], metavar="PATH",
                   help="with no ID: open the entries tagged PATH or below it (repeatable; "
                        "--tag adds a tag)")
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


@command("edit",
         "echo 'Rewritten text' | diary edit 12\n"
         "echo 'Rewritten text' | diary edit 12 --stdin --title 'New title'\n"
         "diary edit 12 --star\n"
         "diary edit 12 --tag health/running --untag health\n"
         "diary edit 12                        # on a terminal: opens it in your editor\n"
         "diary edit -q 'tag:work' --since 2024-01-01   # all matches in one file",
         "Change an entry. On a terminal, `diary edit ID` alone opens it in your editor, and "
         "-q/--since/--until/--starred/--tagged open every match in one file: edits, new "
         "dates and tags, and deletions (an entry emptied asks first) are saved together. "
         "A new text is read from stdin when stdin is not a terminal and "
         "nothing else is asked, or with --stdin: so `... | while read id; do diary edit "
         "$id --star; done` never swallows the loop's input as text. A new text re-derives "
         "its #tags: tags that came only from the old text go, tags added with --tag stay.")
def cmd_edit(args, env):
    from . import entries

    refuse_if_read_only(args)
    others = (args.title is not None or args.date is not None or args.starred is not None
              or args.tags or args.untag or args.stdin)
    chooses = (args.query is not None or args.since is not None or args.until is not None
               or args.starred_only or args.tagged)
    if chooses or args.id is None:
        from . import cli_editor

        if args.id is not None or others:
            raise UsageError("-q, --since, --until, --starred and --tagged choose entries to "
                             "open in your editor: give them without an ID or change flags")
        if not chooses:
            raise UsageError("give the entry's ID, or -q/--since/--until/--starred/--tagged")
        if not env.stdin_tty:
            raise UsageError("the editor needs a terminal")
        return cli_editor.edit(args, env, cli_editor.selection(args))
    if not others and env.stdin_tty:
        from . import cli_editor

        return cli_editor.edit(args, env, lambda d: entries.get_many(d, [args.id]))
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
    p.add_argument("ids", nargs="+", type=entry_id_arg, metavar="ID", help="entry ids")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


@command("delete",
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


@command("passwd",
         "diary passwd\ndiary passwd --passphrase-file old.txt --new-passphrase-file new.txt")
def cmd_passwd(args, env):
    from . import store
    from .passphrase import Source

    new_source = Source(file=args.new_passphrase_file, fd=args.new_passphrase_fd,
                        environ={}, ask=env.getpass, interactive=env.can_prompt,
                        options="--new-passphrase-file or --new-passphrase-fd")
    with unlock(args, env, write=True) as d:
        new = new_source.new("New passphrase: ")
        store.change_passphrase(d, new)
    env.say("Passphrase changed.")
