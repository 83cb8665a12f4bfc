"""The trash and bulk changes: trash, restore, and delete/edit of every entry
matching filters (cli_entries' delete and edit hand those over to here)."""

from . import errors
from .cli import (arguments, command, entry_id_arg, loaded_settings, output, parse_date,
                  refuse_if_read_only, unlock)
from .errors import UsageError

SHOWN = 10  # entries named one by one before a bulk delete asks; the rest counted


def _plural(n, one="entry", many="entries"):
    return "%d %s" % (n, one if n == 1 else many)


def trash_days(env):
    """The `trash_days` setting: days a deleted entry is kept; 0: no trash."""
    return loaded_settings(env).get("trash_days")


def purged(diary, env):
    """A diary opened for writing (cli.unlock) drops what the trash has kept
    longer than `trash_days` (trash.py; cheap when nothing is due)."""
    if not diary.read_only:
        from . import trash

        try:
            trash.purge_expired(diary, trash_days(env))
        except BaseException:
            diary.close()
            raise
    return diary


# --- the selection: filters shared by delete and edit ------------------------------

def selection_options(p, *, tag_filter="--tag"):
    """-q and the filters of `list` (--since, --until, --starred, and the tag
    filter: --tag, or --tagged in edit, where --tag adds a tag)."""
    p.add_argument("-q", "--query", metavar="QUERY",
                   help="only entries matching this search (the language of `diary search`)")
    p.add_argument("--since", help="only entries on or after this date")
    p.add_argument("--until", help="only entries on or before this date")
    p.add_argument("--starred", dest="only_starred", action="store_true",
                   help="only starred entries")
    p.add_argument(tag_filter, dest="tag_filter", action="append", default=[],
                   metavar="PATH", help="only entries tagged PATH or any tag below it "
                                        "(repeatable: all of them)")


def selecting(args):
    """Whether the command line names its entries by filters."""
    return bool(args.query is not None or args.since is not None or args.until is not None
                or args.only_starred or args.tag_filter)


class Selection:
    """The filters of the command line, checked before the diary is unlocked
    (a bad date or query fails without asking for the passphrase)."""

    def __init__(self, args):
        from . import search, tags

        self.query = search.parse(args.query) if args.query is not None else None
        self.since = parse_date(args.since, "start")
        self.until = parse_date(args.until, "end")
        self.starred = True if args.only_starred else None
        for path in args.tag_filter:
            tags.parse_path(path)
        self.tags = args.tag_filter

    def ids(self, diary):
        from . import entries

        return entries.matching(diary, query=self.query, since=self.since, until=self.until,
                                starred=self.starred, tags=self.tags)


def _ask(env, question):
    env.stderr.write(question + " [y/N] ")
    env.stderr.flush()
    return env.stdin.readline().strip().lower() in ("y", "yes")


def _name_entries(env, found, total):
    from .render import headline, one_line

    for e in found[:SHOWN]:
        env.say("  #%d %s" % (e.id, one_line(headline(e), 60)))
    if total > SHOWN:
        env.say("  ... and %d more" % (total - SHOWN))


# --- delete ------------------------------------------------------------------------

def delete(args, env):
    """`diary delete`: by ids or by filters; to the trash unless trash_days is 0."""
    from . import entries

    refuse_if_read_only(args)
    by_filters = selecting(args)
    if args.ids and by_filters:
        raise UsageError("give entry ids or filters (-q, --tag, --since, --until, --starred), "
                         "not both")
    if not args.ids and not by_filters:
        raise UsageError("give the ids of the entries to delete, or filters (-q, --tag, "
                         "--since, --until, --starred) that select them")
    selection = Selection(args) if by_filters else None
    if not args.yes and not env.stdin_tty:
        raise UsageError("not on a terminal: add --yes to delete without asking")
    keep = trash_days(env) > 0
    with unlock(args, env, write=True) as d:
        ids = selection.ids(d) if selection else list(dict.fromkeys(args.ids))
        if not ids:
            env.say("No entry matches: nothing deleted.")
            return errors.OK
        if not args.yes:
            _name_entries(env, entries.get_many(d, ids[:SHOWN]), len(ids))
            if not _ask(env, "%s %s?" % ("Move" if keep else "Delete for good",
                                         _plural(len(ids)) + (" to the trash" if keep else ""))):
                env.say("Nothing deleted.")
                return errors.ERROR
        n = entries.delete(d, ids, keep=keep)
    if keep:
        env.say("Moved %s to the trash (kept %s; `diary restore ID` brings one back)."
                % (_plural(n), _plural(trash_days(env), "day", "days")))
    else:
        env.say("Deleted %s for good (trash_days is 0: there is no trash)." % _plural(n))
    return errors.OK


# --- edit ----------------------------------------------------------------------------

def edit(args, env):
    """`diary edit` with filters: one change for every match, in one transaction."""
    from . import entries

    refuse_if_read_only(args)
    if args.id is not None:
        raise UsageError("give an entry id or filters (-q, --tagged, --since, --until, "
                         "--starred), not both")
    if args.title is not None or args.stdin:
        raise UsageError("--title and a new text change one entry: give its id "
                         "(`diary edit ID`)")
    if not (args.date is not None or args.starred is not None or args.tags or args.untag):
        raise UsageError("with filters, say what changes in every match: --date, --tag, "
                         "--untag, --star or --unstar (on a terminal, with none of them, "
                         "the matches open in your editor)")
    selection = Selection(args)
    created_at = parse_date(args.date)
    with unlock(args, env, write=True) as d:
        ids = selection.ids(d)
        if not ids:
            env.say("No entry matches: nothing changed.")
            return errors.OK
        n = entries.edit_many(d, ids, created_at=created_at, starred=args.starred,
                              add_tags=args.tags, remove_tags=args.untag)
        out = output(env)
        if args.json:
            out.json([entries.to_record(e) for e in entries.get_many(d, ids)])
        else:
            for i in ids:
                out.line(str(i))
    env.say("Changed %s." % _plural(n))
    return errors.OK


# --- trash and restore -----------------------------------------------------------------

@arguments("trash")
def _trash_args(p):
    p.add_argument("action", nargs="?", choices=("list", "empty"), default="list",
                   help="list (the default) what is in the trash, or empty it for good")
    p.add_argument("--json", action="store_true", help="list as a JSON array")
    p.add_argument("-y", "--yes", action="store_true", help="empty without asking")


@command("trash",
         "diary trash\ndiary trash --json\ndiary trash empty --yes",
         "List the deleted entries kept in the trash (the latest deletion first), or empty "
         "it. `diary delete` moves entries here; `diary restore ID` brings one back. Each "
         "stays `trash_days` days (config; default 30), then goes for good the next time "
         "the diary is opened for writing. The trash stays inside the encrypted diary; "
         "exports leave it out.")
def cmd_trash(args, env):
    from . import trash

    if args.action == "empty":
        refuse_if_read_only(args)
        if not args.yes and not env.stdin_tty:
            raise UsageError("not on a terminal: add --yes to empty the trash without asking")
        with unlock(args, env, write=True) as d:
            n = trash.count(d)
            if not n:
                env.say("The trash is empty.")
                return errors.OK
            if not args.yes and not _ask(env, "Delete the %s in the trash for good?"
                                         % _plural(n)):
                env.say("Nothing deleted.")
                return errors.ERROR
            n = trash.empty(d)
        env.say("Emptied the trash: %s deleted for good." % _plural(n))
        return errors.OK
    if args.yes:
        raise UsageError("--yes goes with `diary trash empty`")
    days = trash_days(env)
    with unlock(args, env, write=False) as d:
        found = trash.items(d)
    out = output(env)
    if args.json:
        out.json([trash.to_record(i, days) for i in found])
    elif found:
        out.entry_list(found)
    if not found:
        env.say("The trash is empty.")
    else:
        env.say("%s in the trash, each kept %s after its deletion; `diary restore ID` brings "
                "one back." % (_plural(len(found)), _plural(days, "day", "days")))
    return errors.OK


@arguments("restore")
def _restore_args(p):
    p.add_argument("ids", nargs="+", type=entry_id_arg, metavar="ID",
                   help="ids of entries in the trash (`diary trash` lists them)")
    p.add_argument("--json", action="store_true", help="print the restored entries as JSON")


@command("restore",
         "diary restore 12\ndiary restore 12 15 --json",
         "Bring entries back from the trash, all or none, with their id, dates, text, star "
         "and tags (tags deleted meanwhile are created again). A restored entry counts as a "
         "new edit: its version goes up and its updated_at is now. Prints each restored "
         "entry's id (the same as before, unless another entry took it).")
def cmd_restore(args, env):
    from . import entries, trash

    refuse_if_read_only(args)
    with unlock(args, env, write=True) as d:
        done = trash.restore(d, args.ids)
        out = output(env)
        if args.json:
            out.json([entries.to_record(e) for _, e in done])
        else:
            for _, e in done:
                out.line(str(e.id))
    moved = ["%d as %d" % (old, e.id) for old, e in done if old != e.id]
    env.say("Restored %s%s." % (_plural(len(done)),
                                " (new ids: %s)" % ", ".join(moved) if moved else ""))
    return errors.OK
