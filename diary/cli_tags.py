"""Commands for the tag tree: tags (show it) and tag (reorganise it)."""

from .cli import (HelpFormatter, Parser, arguments, command, global_options, output,
                  positive_int, unlock)



@arguments("tags")
def _tags_args(p):
    p.add_argument("--latest", type=positive_int, metavar="N",
                   help="for each top-level tag, its N newest entries (from any tag below it)")
    p.add_argument("--json", action="store_true", help="print JSON (shapes in the README)")


@command("tags",
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
                # A top-level tag: its name is its path (keys as in `tags --json`).
                out.json([{"name": name, "path": name,
                           "entries": [entries.to_record(e) for e in found]}
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
                           formatter_class=HelpFormatter)
        a.out = p.out
        global_options(a, suppress=True)
        for dest, metavar, text in params:
            a.add_argument(dest, metavar=metavar, help=text)
    sub.choices["delete"].add_argument("-r", "--recursive", action="store_true",
                                       help="also delete the tags below it")


@command("tag",
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
