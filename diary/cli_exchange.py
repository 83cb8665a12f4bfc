"""Commands that move the diary in and out of files: export, import, backup,
check, merge. Thin, like the rest of cli.py: parse flags, call exchange/store,
report. Progress bars go to stderr, only when stdout and stderr are both a
terminal (progress_bar).
"""

import contextlib
import io
import os
import time

from .cli import arguments, command, output, parse_date, refuse_if_read_only, unlock
from .cli_entries import filter_options
from .errors import BadInput, DamagedFile, NotFound, SourcePassphraseError, UsageError
from .formats import EXPORT_FORMATS, IMPORT_FORMATS

SHOW_AFTER = 1.0  # seconds: a bar appears only for work that runs longer


@contextlib.contextmanager
def progress_bar(env, label, *, unit="entries", machine=False):
    """A ``progress(done, total)`` callable for the library: a rich bar on
    stderr (count, rate, time left) once the work has run SHOW_AFTER
    seconds. None, and nothing drawn, unless stdout and stderr are both a
    terminal (never on a pipe), or with ``machine`` output (--json). rich is
    imported only when a bar is drawn."""
    if machine or not (env.stdout_tty and env.stderr_tty):
        yield None
        return
    start = time.monotonic()
    state = {}

    def update(done, total):
        if "bar" not in state:
            if time.monotonic() - start < SHOW_AFTER:
                return
            state["bar"], state["task"] = _start_bar(env, label, unit, total)
            state["total"] = total
        # A new total makes rich forget the rate it measured: an estimated
        # total (a large import's) is passed on only when it moved by 2%.
        shown = state["total"]
        if total != shown and (total is None or shown is None or done >= shown
                               or abs(total - shown) > shown * 0.02):
            state["total"] = shown = total
        state["bar"].update(state["task"], completed=done, total=shown)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].stop()


def _start_bar(env, label, unit, total):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               TextColumn, TimeRemainingColumn)
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return Text("%s %s/s" % ("?" if speed is None else "{:,.0f}".format(speed), unit),
                        style="progress.data.speed")

    console = Console(file=env.stderr, force_terminal=True,
                      no_color=bool(env.environ.get("NO_COLOR")))
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), Rate(),
                   TimeRemainingColumn(), console=console, transient=True)
    bar.start()
    return bar, bar.add_task(label, total=total)


def _plural(n, word):
    if n == 1:
        return "%d %s" % (n, word)
    return "%d %s" % (n, word[:-1] + "ies" if word.endswith("y") else word + "s")


def _entries(n):
    return _plural(n, "entry")


def _source_options(p, what):
    p.add_argument("--source-passphrase-file", metavar="PATH",
                   help="read the passphrase of %s from the first line of PATH" % what)
    p.add_argument("--source-passphrase-fd", metavar="N", type=int,
                   help="read the passphrase of %s from file descriptor N" % what)


def _source(args, env):
    from .passphrase import Source

    # environ={}: $DIARY_PASSPHRASE is this diary's, never the source's.
    return Source(file=args.source_passphrase_file, fd=args.source_passphrase_fd,
                  environ={}, ask=env.getpass, interactive=env.can_prompt,
                  options="--source-passphrase-file or --source-passphrase-fd")


# --- export ----------------------------------------------------------------------

# -o names that mean the standard output: written to, never replaced.
STDOUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


@arguments("export")
def _export_args(p):
    p.add_argument("-f", "--format", choices=EXPORT_FORMATS, default="json",
                   help="json (default), jsonl, markdown, csv or txt")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="FILE",
                       help="write to FILE (default, or `-`: stdout); never replaces a "
                            "file without --force, and never anything but a regular file")
    where.add_argument("--split", metavar="DIR",
                       help="one Markdown file per entry in DIR (with front matter; "
                            "`diary import DIR` reads them back)")
    p.add_argument("--force", action="store_true", help="replace an existing FILE, or "
                   "write into a DIR that is not empty")
    p.add_argument("-q", "--query", help="only entries this search finds (as `diary search`)")
    filter_options(p)
    p.add_argument("--salvage", action="store_true",
                   help="from a damaged diary: export every entry that still reads, never "
                        "writing to the diary; says how many could not be read (exit 4 if "
                        "any)")


@command("export",
         "diary export -o all.json\n"
         "diary export --format jsonl --tag work --since 2024-01-01 | jq .title\n"
         "diary export --split notes/\n"
         "diary export --salvage -o rescued.json")
def cmd_export(args, env):
    from . import exchange
    from . import files

    if args.salvage:
        return _salvage(args, env)
    if args.split and args.format not in ("json", "markdown"):
        raise UsageError("--split writes Markdown files; leave out --format")
    if args.output in STDOUT_NAMES:
        args.output = None  # written to stdout as it is, never replaced by a file
    if args.output:
        files.check_target(args.output, force=args.force)
    if args.split:
        files.check_target(args.split, force=args.force, directory=True)
    filters = dict(query=args.query, since=parse_date(args.since, "start"),
                   until=parse_date(args.until, "end"), tags=args.tags, starred=args.starred)
    with unlock(args, env, write=False) as d:
        if args.split:
            with progress_bar(env, "Exporting") as progress:
                n = exchange.export_split(d, args.split, force=args.force,
                                          progress=progress, **filters)
            env.say("Exported %s to %s" % (_entries(n), args.split))
        elif args.output:
            with progress_bar(env, "Exporting") as progress:
                n = exchange.export_file(d, args.output, args.format, force=args.force,
                                         progress=progress, **filters)
            env.say("Exported %s to %s" % (_entries(n), args.output))
        else:
            from .render import TerminalSafe

            out, wrapped = _utf8(env.stdout)
            sink = TerminalSafe(out) if env.stdout_tty else out
            try:  # stdout is the data, on a terminal or a pipe: no bar beside it
                exchange.export(d, sink, args.format, **filters)
            finally:
                try:
                    out.flush()
                finally:
                    if wrapped:
                        out.detach()  # never let the wrapper close stdout's buffer


def _salvage(args, env):
    """export --salvage: every entry that still reads from a damaged diary."""
    from . import files
    from .cli import diary_path, passphrase_source
    from .exchange import salvage

    if args.split or args.query or args.since or args.until or args.tags or args.starred:
        raise UsageError("--salvage exports every entry that reads: leave out --split and "
                         "the filters")
    if args.output:
        files.check_target(args.output, force=args.force)
    path = diary_path(args, env)
    if not os.path.isfile(path):
        raise NotFound("no diary file at %s" % path)
    passphrase = passphrase_source(args, env).get()
    if args.output:
        with files.atomic_file(args.output, force=args.force) as out:
            result = salvage.salvage(path, passphrase, out, args.format)
        where = args.output
    else:
        from .render import TerminalSafe

        out, wrapped = _utf8(env.stdout)
        try:
            result = salvage.salvage(path, passphrase,
                                     TerminalSafe(out) if env.stdout_tty else out, args.format)
        finally:
            try:
                out.flush()
            finally:
                if wrapped:
                    out.detach()
        where = "stdout"
    env.say("Salvaged %s to %s." % (_entries(result.saved), where))
    if result.tags_lost:
        env.say("The tags of %s could not be read; exported without them."
                % _entries(result.tags_lost))
    if result.lost:
        raise DamagedFile("%s%s could not be read (their pages are damaged)"
                          % ("" if result.exact else "at least ", _entries(result.lost)))
    env.say("Nothing was lost: every entry read.")


def _utf8(stream):
    """Exports are UTF-8 whatever the locale: write to stdout's bytes when it has them."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        return stream, False
    stream.flush()
    return io.TextIOWrapper(buffer, encoding="utf-8", newline=""), True


# --- import ----------------------------------------------------------------------

@arguments("import")
def _import_args(p):
    p.add_argument("file", metavar="FILE",
                   help="a file, or a folder (Markdown notes, a jrnl folder journal)")
    p.add_argument("-f", "--format", choices=IMPORT_FORMATS,
                   help="the file's format (default: guessed from its content)")
    p.add_argument("--time-format", metavar="FORMAT",
                   help="jrnl: the journal's timeformat, in strptime syntax as in jrnl's "
                        "config (e.g. '%%d.%%m.%%Y %%H:%%M'); tried before the usual ones")
    p.add_argument("--tag-symbols", metavar="MARKS",
                   help="jrnl: the marks that start a tag, as jrnl's tagsymbols "
                        "(default '#@')")
    p.add_argument("--folder-tags", action="store_true",
                   help="markdown: a file's folder (work/acme/note.md) becomes a tag path "
                        "of its entry")
    _source_options(p, "a peewee diary")
    p.add_argument("--json", action="store_true", help="print the counts as JSON on stdout")


@command("import",
         "diary import all.json\n"
         "diary import ~/journal.txt --format jrnl\n"
         "diary import notes/ --folder-tags\n"
         "diary import journal.txt --time-format '%d.%m.%Y %H:%M' --tag-symbols @\n"
         "diary import 'Day One Export.zip'\n"
         "diary import old-diary.db --source-passphrase-file old.txt")
def cmd_import(args, env):
    from . import exchange

    refuse_if_read_only(args)
    if not os.path.exists(args.file):
        raise NotFound("no file %s" % args.file)
    options = _import_options(args)
    fmt = args.format or exchange.guess_format(args.file)
    _refuse_foreign_options(args, fmt)
    with unlock(args, env, write=True) as d:
        passphrase = None
        if exchange.needs_passphrase(args.file, fmt):
            passphrase = _source(args, env).get("Passphrase of %s: " % args.file)
        with progress_bar(env, "Importing", machine=args.json) as progress:
            stats = exchange.import_file(d, args.file, fmt, passphrase=passphrase,
                                         progress=progress, options=options)
    if args.json:
        output(env).json({"added": stats.added, "skipped": stats.skipped,
                          "skipped_empty": stats.empty_skipped,
                          "warnings": stats.warnings + (
                              ["... and %d more" % stats.warnings_more]
                              if stats.warnings_more else [])})
    for warning in stats.warnings:
        env.say("diary: warning: %s" % warning)
    if stats.warnings_more:
        env.say("diary: warning: ... and %s more" % _plural(stats.warnings_more, "warning"))
    if stats.empty_source:
        env.say("0 entries in %s" % args.file)
        return
    if stats.links_skipped:
        env.say("Skipped %s (never followed: a link may lead out of the folder)."
                % _plural(stats.links_skipped, "symbolic link"))
    env.say("Imported %s; skipped %d already in the diary." % (_entries(stats.added),
                                                                 stats.skipped))


def _import_options(args):
    from .exchange import ImportOptions, jrnl

    options = ImportOptions(folder_tags=args.folder_tags)
    if args.time_format is not None:
        options.time_format = _time_format(args.time_format)
    if args.tag_symbols is not None:
        try:
            options.tag_symbols = jrnl.check_tag_symbols(args.tag_symbols)
        except BadInput as exc:
            raise UsageError("--tag-symbols: %s" % exc) from None
    return options


# The formats that read jrnl's timeformat and tagsymbols (ImportOptions).
JRNL_FORMATS = ("jrnl", "jrnl-folder")


def _refuse_foreign_options(args, fmt):
    """--time-format and --tag-symbols (jrnl's) and --folder-tags (a Markdown
    folder's) mean nothing to another format: a usage error, not an option
    silently ignored."""
    for flag, given, formats in (("--time-format", args.time_format is not None, JRNL_FORMATS),
                                 ("--tag-symbols", args.tag_symbols is not None, JRNL_FORMATS),
                                 ("--folder-tags", args.folder_tags, ("markdown",))):
        if given and fmt not in formats:
            raise UsageError("%s is for --format %s only; %s is read as %s"
                             % (flag, " or ".join(formats), args.file, fmt))


def _time_format(text):
    """``text`` if strptime can use it: one that reads no date and time, or
    that strptime refuses, is a usage error now, not a failed header later."""
    import datetime as _dt
    import re

    probe = _dt.datetime(2024, 3, 2, 21, 30, 15)
    try:
        back = _dt.datetime.strptime(probe.strftime(text), text)
    except (ValueError, TypeError, re.error):  # re.error: a directive twice ('%Y%Y')
        raise UsageError("--time-format %r is no strptime format that reads its own "
                         "dates (like '%%Y-%%m-%%d %%H:%%M')" % text[:60]) from None
    if back.minute != probe.minute and back.day != probe.day:
        raise UsageError("--time-format %r reads neither a day nor a time (like "
                         "'%%d.%%m.%%Y %%H:%%M')" % text[:60])
    return text


# --- backup, check, merge -----------------------------------------------------------

@arguments("backup")
def _backup_args(p):
    p.add_argument("dest", metavar="DEST", help="the new file").complete = "file"  # Tab
    p.add_argument("--force", action="store_true", help="replace an existing DEST")


@command("backup",
         "diary backup ~/backups/diary-$(date +%F).db")
def cmd_backup(args, env):
    from . import exchange
    from . import files

    files.check_target(args.dest, force=args.force)
    with unlock(args, env, write=False) as d, \
            progress_bar(env, "Backing up", unit="pages") as progress:
        done = exchange.backup(d, args.dest, force=args.force, progress=progress)
    env.say("Backed up %s (%d KB) to %s; the copy opens with the same passphrase and "
            "passed every check." % (_entries(done.entries), (done.size + 1023) // 1024,
                                     done.path))


@command("check",
         "diary check",
         description="Check the diary file's health: SQLite's integrity check, SQLCipher's "
                     "HMAC of every page, the full-text index against the entries, and the "
                     "tag tree. Prints what it finds; exit 0 when healthy, 4 when damaged. "
                     "It opens the diary writable (the search index check and folding in the "
                     "write-ahead log need it) but changes none of your data.")
def cmd_check(args, env):
    from . import health, store

    refuse_if_read_only(args)
    from . import drafts

    kept = 0
    with unlock(args, env, write=True) as d, \
            progress_bar(env, "Checking", unit="checks") as progress:
        try:
            found = health.problems(d, progress=progress)
            kept = drafts.count(d)
        except Exception as exc:
            mapped = store.translate(exc)
            if not isinstance(mapped, DamagedFile):
                raise
            found = ["unreadable: %s" % exc]
    if kept:
        env.say("note: %s of the editor kept in the diary (not entries: `diary` offers "
                "them at its next start)" % _plural(kept, "unsaved draft"))
    out = output(env)
    for line in found:
        out.line(line)
    if found:
        raise DamagedFile("the diary file is damaged: %s found (restore a backup, or "
                          "export what still reads)" % _plural(len(found), "problem"))
    out.line("ok")


@arguments("merge")
def _merge_args(p):
    p.add_argument("other", metavar="OTHER", help="another copy of the diary").complete = "file"
    _source_options(p, "OTHER (default: try this diary's, then ask)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON on stdout")


@command("merge",
         "diary merge /media/usb/diary.db\n"
         "diary merge laptop.db --source-passphrase-file laptop-pass.txt")
def cmd_merge(args, env):
    from . import exchange, store

    refuse_if_read_only(args)
    source = _source(args, env)
    with unlock(args, env, write=True) as d:
        with progress_bar(env, "Merging", machine=args.json) as progress:
            given = source.scripted()
            try:
                stats = exchange.merge(d, args.other, given, progress=progress)
            except SourcePassphraseError:
                if given is not None or not env.stdin_tty:
                    if given is None and store.key_only(d):
                        # the agent's key is this file's derived key (its salt): it
                        # opens a copy of this file, no diary made elsewhere
                        raise SourcePassphraseError(
                            "%s does not open with the agent's key (it opens only copies "
                            "of this diary file); give its passphrase with "
                            "--source-passphrase-file" % args.other) from None
                    raise SourcePassphraseError(
                        "wrong passphrase for %s, or not a diary (give its passphrase with "
                        "--source-passphrase-file)" % args.other) from None
                stats = exchange.merge(d, args.other,
                                       source.prompt("Passphrase of %s: " % args.other),
                                       progress=progress)
    if args.json:
        output(env).json({k: getattr(stats, k) for k in
                          ("taken", "conflicts", "deleted", "kept", "recorded", "joined",
                           "unchanged", "kept_uuids")})
    env.say("Merged: %d taken, %s, %d deleted (to the trash), %d unchanged."
            % (stats.taken, _plural(stats.conflicts, "conflict copy"), stats.deleted,
               stats.unchanged))
    if stats.kept:
        env.say("Kept %s deleted on the other copy but edited here since: %s"
                % (_plural(stats.kept, "entry"), ", ".join(stats.kept_uuids)))

