"""The command line: parse flags, find the diary and its passphrase, call the
library, print the result. ``main(argv) -> int`` is the program's one exit
point: every library error becomes one line on stderr and its exit code
(errors.py). No SQL here.

Tests run the real program in-process with an injected ``Env`` (streams,
terminal flags, environment, passphrase prompt).
"""

import argparse
import functools
import os
import sys

from . import __version__, errors
from .process import (Closed, Guarded, debug_trace, discard_output, harden,
                      hold_standard_descriptors)
from .errors import BadInput, DiaryError, NeedsUpgrade, PassphraseError, ReadOnly, UsageError

# The heavy stacks (peewee, sqlcipher3, rich, prompt_toolkit) are imported
# inside the commands that use them, so `diary --version` and `--help` stay fast.


class Env:
    """What the program reads and writes: streams, whether they are terminals,
    the environment, the passphrase prompt. (A plain class: dataclasses and
    typing cost ~14 ms to import, on every run.)"""

    def __init__(self, stdin, stdout, stderr, environ, *, stdin_tty=False, stdout_tty=False,
                 stderr_tty=False, can_prompt=False, getpass=None, menu_io=None):
        self.stdin, self.stdout, self.stderr, self.environ = stdin, stdout, stderr, environ
        self.stdin_tty, self.stdout_tty, self.stderr_tty = stdin_tty, stdout_tty, stderr_tty
        # A terminal to ask a passphrase on: getpass reads /dev/tty, so this
        # holds even when stdin is a pipe (`echo text | diary add`).
        self.can_prompt = can_prompt
        self.getpass = getpass  # a getpass-like function(prompt) -> str
        # The interactive diary's prompt_toolkit (input, output); None: the
        # terminal. Tests pass a pipe input and a DummyOutput.
        self.menu_io = menu_io
        self.process = False  # the real process's streams (Env.system), not a test's

    @classmethod
    def system(cls):
        def ask(prompt):
            import getpass  # and termios: only when a passphrase is typed

            return getpass.getpass(prompt, stream=sys.stderr)

        env = cls(sys.stdin if sys.stdin is not None else Closed("standard input"),
                  Guarded(sys.stdout if sys.stdout is not None else
                           Closed("standard output")),
                  sys.stderr if sys.stderr is not None else Closed("standard error"),
                  os.environ, stdin_tty=_isatty(sys.stdin), stdout_tty=_isatty(sys.stdout),
                  stderr_tty=_isatty(sys.stderr), can_prompt=_has_terminal(), getpass=ask)
        env.process = True
        return env

    def say(self, message):
        """A message for the person (stderr), never data: it may quote user text
        (a path, a tag, a refused table name), so it is cleaned of escapes.
        A stderr that cannot be written loses the message, nothing else."""
        from .render import clean

        try:
            self.stderr.write(clean(message) + "\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass


def _has_terminal():
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
        return True
    except OSError:
        return False


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- parsing -----------------------------------------------------------------

def _help_width():
    """shutil.get_terminal_size().columns - 2, as argparse computes it, without
    importing shutil (with zlib, bz2 and lzma): argparse makes a formatter for
    every argument it adds, so it would import them on every run."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class _Width:
    """A help formatter that takes its width from _help_width()."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None, **kwargs):
        super().__init__(prog, indent_increment, max_help_position,
                         _help_width() if width is None else width, **kwargs)


class TopFormatter(_Width, argparse.HelpFormatter):
    pass


class HelpFormatter(_Width, argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples keep their lines (tables, examples), but a
    line too long for the terminal is wrapped instead of running off it."""

    def _fill_text(self, text, width, indent):
        import textwrap

        return "\n".join(
            textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
            if len(indent + line) > width else indent + line
            for line in text.splitlines())


class Parser(argparse.ArgumentParser):
    out = None  # where --help and --version go (the injected stdout)

    def __init__(self, *args, formatter_class=TopFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def error(self, message):
        raise UsageError("%s (see `%s --help`)" % (message, self.prog))

    def _print_message(self, message, file=None):
        if message:
            (self.out or file or sys.stdout).write(message)


def global_options(parser, suppress):
    """Options valid before or after the command name.

    The subcommand copies default to SUPPRESS so that a value given before the
    command is not overwritten by the subcommand's default.
    """
    default = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument("-d", "--diary", metavar="PATH|NAME", default=default,
                   help="the diary file, or a name from [diaries] in the config file (a name "
                        "wins over a file of that name here: ./NAME is the file; default: "
                        "$DIARY_PATH, then `diary` in the config file, then the user data "
                        "directory)")
    g.add_argument("--passphrase-file", metavar="PATH", default=default,
                   help="read the passphrase from the first line of PATH")
    g.add_argument("--passphrase-fd", metavar="N", type=int, default=default,
                   help="read the passphrase from the first line of file descriptor N")
    g.add_argument("--no-agent", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="do not ask the agent (`diary unlock`) for the key")
    g.add_argument("--read-only", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="open the diary read-only: no command may change it")
    g.add_argument("--debug", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="show a traceback for internal errors (never secrets or entry text)")


MAX_INT = 2 ** 63 - 1  # SQLite's integers


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text) from None
    if not 0 <= value <= MAX_INT:
        raise argparse.ArgumentTypeError("must be from 0 to %d: %r" % (MAX_INT, text))
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


def entry_id_arg(text):
    try:
        value = int(text.lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError("not an entry id: %r" % text) from None
    if not 0 < value <= MAX_INT:
        raise argparse.ArgumentTypeError("not an entry id: %r" % text)
    return value


# Every command: the module that defines it and its line in `diary --help`, in
# the order of `diary --help`. Only the module of the command that runs is
# imported, and only its parser is built (_CommandParser): importing every
# cli_* module and building every parser cost ~10 ms on each run.
COMMANDS = {
    "init": ("cli_entries", "create a new diary"),
    "add": ("cli_entries", "add an entry (text from the arguments or stdin); prints its id"),
    "list": ("cli_entries", "list entries, newest first"),
    "show": ("cli_entries", "show whole entries"),
    "edit": ("cli_entries", "change an entry; a new text is read from stdin"),
    "delete": ("cli_entries", "move entries to the trash, by id or by filters (asks first on a "
                              "terminal)"),
    "trash": ("cli_trash", "list the deleted entries kept in the trash; `trash empty`"),
    "restore": ("cli_trash", "bring entries back from the trash"),
    "passwd": ("cli_entries", "change the diary's passphrase"),
    "search": ("cli_search", "find entries by words, phrases, tags and dates"),
    "query": ("cli_search",
              "run one SQL statement on the diary, read-only (the schema is in the README)"),
    "tags": ("cli_tags", "show the tag tree with entry counts"),
    "tag": ("cli_tags", "reorganise tags: rename, move, merge, delete"),
    "export": ("cli_exchange",
               "write entries to a file or stdout (JSON, JSONL, Markdown, CSV, text)"),
    "import": ("cli_exchange", "add the entries of an export, a jrnl journal or folder, a Day "
                               "One export, Markdown notes or a peewee diary (all or nothing; "
                               "entries already here are skipped)"),
    "backup": ("cli_exchange", "make a verified encrypted copy of the diary (same passphrase), "
                               "even while it is in use"),
    "check": ("cli_exchange",
              "check the diary file's health: pages, page HMACs, search index, tag tree"),
    "merge": ("cli_exchange", "fold another copy of the diary into this one (edits and "
                              "deletions made on one copy are taken; both sides of a "
                              "conflict are kept, one as a copy tagged `conflict`)"),
    "sync": ("cli_sync", "sync with your other devices through a folder (Syncthing, Dropbox, "
                         "a USB stick); `sync --status`"),
    "on-this-day": ("cli_history", "entries of this calendar day (or DATE's) in earlier years"),
    "stats": ("cli_history", "entries, words, days written, streaks, per-year counts; a "
                             "heatmap on a terminal"),
    "config": ("cli_config", "show the settings in effect and where each came from; "
                             "`config path`, `config edit`"),
    "diaries": ("cli_config", "list the named diaries of the config file, with their paths "
                              "and sizes"),
    "completion": ("cli_completion", "print a shell completion script: bash, zsh or fish"),
    "unlock": ("cli_agent", "start the agent: type the passphrase once, later commands use "
                            "the key it holds (Linux)"),
    "lock": ("cli_agent", "end the diary's agent; its key is wiped"),
}

HANDLERS = {}  # name -> (handler, example, description): filled by @command on import
ARGUMENTS = {}  # name -> function(parser) adding the command's own arguments


def command(name, example, description=None):
    """Register the handler of a command of COMMANDS, with its example (shown in
    its --help) and a description longer than its help line."""

    def register(func):
        @functools.wraps(func)
        def handler(args, env):
            _unreadable_dates_met()  # forget any from an earlier run in this process
            try:
                return func(args, env)
            finally:
                _warn_unreadable_dates(env)

        HANDLERS[name] = (handler, example, description)
        return func

    return register


def _unreadable_dates_met():
    dates = sys.modules.get("diary.dates")  # not imported: none read
    return dates.take_unreadable() if dates else []


def _warn_unreadable_dates(env):
    """A row with a date that does not read is shown as stored (dates.Unreadable);
    say so, once per command, with where to go next."""
    met = _unreadable_dates_met()
    if met:
        env.say("diary: warning: %d unreadable date%s shown as stored (%s); `diary check` "
                "names the entries and the command that fixes them"
                % (len(met), "" if len(met) == 1 else "s", ", ".join(met[:3])
                   + (", ..." if len(met) > 3 else "")))


def arguments(name):
    def register(func):
        ARGUMENTS[name] = func
        return func

    return register


def command_parser(name, out=None, **kwargs):
    """The parser of one command (``kwargs``: more ArgumentParser arguments);
    imports the module that defines the command."""
    import importlib

    module, help = COMMANDS[name]
    importlib.import_module("." + module, __package__)
    func, example, description = HANDLERS[name]
    kwargs.setdefault("prog", "diary " + name)
    p = Parser(description=description or help,
               epilog="example:\n  " + "\n  ".join(example.splitlines()),
               formatter_class=HelpFormatter, **kwargs)
    p.out = out
    global_options(p, suppress=True)
    ARGUMENTS.get(name, lambda p: None)(p)
    p.set_defaults(func=func)
    return p


class _CommandParser:
    """Stands for a command's parser in the top-level parser until that command
    is named: argparse only asks the chosen command's parser to parse the rest
    of the line (parse_known_args), and `diary --help` lists the commands from
    their help lines alone. ``kwargs``: what add_parser passes on (prog; newer
    Pythons add more)."""

    def __init__(self, command, out, **kwargs):
        self.command, self.out, self.kwargs = command, out, kwargs

    def parse_known_args(self, args=None, namespace=None):
        parser = command_parser(self.command, self.out, **self.kwargs)
        return parser.parse_known_args(args, namespace)


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
                             "(default: $%s, then `lock_after` in the config file, else %g; "
                             "0: never)" % (LOCK_AFTER_VAR, LOCK_AFTER))
    global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    for name, (_, help) in COMMANDS.items():
        sub.add_parser(name, help=help, command=name, out=out)
    return parser


# --- running -----------------------------------------------------------------

_collector_paused = False  # main() turned the collector off for start-up


def main(argv=None, env=None):
    """Run the program; return its exit status."""
    global _collector_paused
    harden(process=env is None)  # before anything is read: a passphrase, entry text
    if env is None:  # the real process, which ends when this returns
        import gc

        hold_standard_descriptors()
        # Start-up (imports, the parser) makes long-lived objects only, which
        # the collector would walk ~25 times for nothing: unlock() turns it
        # back on before any real work.
        _collector_paused = gc.isenabled()
        gc.disable()
        try:
            return _main(argv, Env.system())
        finally:
            # The interpreter's last collections at exit walk every object of
            # every module loaded (peewee's classes and functions above all):
            # ~14 ms, a tenth of a read command. Frozen objects are still freed
            # by reference counting; only reference cycles are left to the OS,
            # and nothing of ours waits on a cycle's finalizer (the diary is
            # closed and files are written inside `with`).
            _start_up_done()
            gc.freeze()
    return _main(argv, env)


def _start_up_done():
    """The collector back on where main() paused it, with what start-up made
    set aside (gc.freeze): long work (an export, the menu) never walks those
    objects again. In-process callers (an injected Env) are left as they are."""
    global _collector_paused
    if _collector_paused:
        import gc

        _collector_paused = False
        gc.freeze()
        gc.enable()


def _main(argv, env):
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        if not all(_valid_text(a) for a in argv):
            raise UsageError("an argument is not valid UTF-8")
        try:
            args = build_parser(env.stdout).parse_args(argv)
        except SystemExit as exc:  # --help and --version
            env.stdout.flush()
            return exc.code if isinstance(exc.code, int) else errors.OK
        # These work whatever the config file holds: `config path` and
        # `config edit` are how one finds and mends a broken file, and
        # `completion` prints the parser's script.
        if args.command not in ("config", "completion"):
            apply_settings(env)
        if args.command is None:
            return open_menu(args, env)
        code = args.func(args, env) or errors.OK
        env.stdout.flush()  # a write that fails fails here, not silently at exit
        return code
    except DiaryError as exc:
        if isinstance(exc, errors.OutputError):
            discard_output(env.process)
        env.say("diary: %s" % exc)
        return exc.exit_code
    except KeyboardInterrupt:
        env.say("diary: interrupted")
        return errors.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`diary list | head -1`): it took what it
        # wanted, so this is not an error of ours (exit 0, nothing said).
        discard_output(env.process)
        return errors.OK
    except RecursionError:
        env.say("diary: the input is nested too deeply to read")
        return errors.ERROR
    except Exception as exc:
        mapped = _database_error(exc)
        if mapped is not None:
            env.say("diary: %s" % mapped)
            return mapped.exit_code
        if debug:
            env.say(debug_trace(exc))
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


def loaded_settings(env):
    """The config file and the environment's settings (config.py), read once per
    run; the file's warnings are said once."""
    loaded = env.__dict__.get("_settings")
    if loaded is None:
        from . import config

        loaded = env._settings = config.load(env.environ)
        for warning in loaded.warnings:
            env.say("diary: warning: %s" % warning)
    return loaded


def apply_settings(env):
    """What the library reads as module settings: the order of numeric dates."""
    from . import dates

    dates.DATE_ORDER = loaded_settings(env).get("date_order")


def settings(args, env):
    """Every setting in effect for this command: flags > environment > file > default."""
    return loaded_settings(env).with_flags(diary=getattr(args, "diary", None) or None,
                                           lock_after=getattr(args, "lock_after", None))


def diary_path(args, env):
    """--diary, then $DIARY_PATH, then `diary` in the config file, then the
    platform's user data directory; a name is looked up in [diaries]."""
    return settings(args, env).diary_path()


def passphrase_source(args, env):
    from .passphrase import Source

    return Source(file=getattr(args, "passphrase_file", None),
                  fd=getattr(args, "passphrase_fd", None),
                  environ=env.environ, ask=env.getpass, interactive=env.can_prompt)


def refuse_if_read_only(args):
    if getattr(args, "read_only", False):
        raise ReadOnly()


def unlock(args, env, *, write, create=False, tries=1, welcome=None, agent=True):
    """Open the diary for this command.

    A write command under --read-only fails before asking anything; commands
    that only read always open read-only, and every read-only session runs
    under the read-only authorizer (access.py). With ``create``, a missing
    diary is created first (the passphrase asked twice on a terminal, after
    the lines of ``welcome``). A passphrase typed on the terminal may be
    tried ``tries`` times. ``agent=False``: never the agent's key (a command
    that needs the passphrase itself, as sync does to seal its keys).
    """
    from . import store

    _start_up_done()
    if write:
        refuse_if_read_only(args)
    read_only = not write or getattr(args, "read_only", False)
    path = diary_path(args, env)
    source = passphrase_source(args, env)
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

    def open_with(passphrase, raw_key=None):
        try:
            from .cli_trash import purged  # the trash's expired entries go

            return purged(store.open_diary(path, passphrase, read_only=read_only,
                                           raw_key=raw_key), env)
        except NeedsUpgrade:
            if getattr(args, "read_only", False):
                raise  # the user asked that nothing be written
            # A reading command on an older file: upgrade it once, then read.
            store.open_diary(path, passphrase, raw_key=raw_key).close()
            return store.open_diary(path, passphrase, read_only=True, raw_key=raw_key)

    # A passphrase given explicitly wins over the agent; --no-agent skips it.
    if agent and source.scripted() is None and not getattr(args, "no_agent", False):
        opened = _with_agent(path, env, open_with)
        if opened is not None:
            return opened

    for attempt in range(1, tries + 1):
        passphrase = source.get()
        try:
            return open_with(passphrase)
        except PassphraseError:
            if source.with_mark() is not None:  # a diary made before the mark was dropped
                return open_with(source.with_mark())
            if attempt == tries or source.scripted() is not None:
                raise
            env.say("Wrong passphrase, try again.")


def _with_agent(path, env, open_with):
    """The diary opened with the key of its agent (`diary unlock`), or None
    when there is none. A key the file refuses (its passphrase was changed by
    another process: rekey keeps the salt) is dropped, the agent ended, and
    the usual sources follow: never exit 3 for it."""
    from . import agent_client

    key = agent_client.key_for(path, env.environ)
    if key is None:
        return None
    try:
        return open_with(None, raw_key=key)
    except PassphraseError:
        agent_client.stop(path, env.environ)
        env.say("diary: the agent's key no longer opens %s (was the passphrase changed?); "
                "the agent was ended" % path)
        return None
    finally:
        key[:] = bytes(len(key))


def use_color(env):
    """The `color` setting: "auto" (on a terminal), "always" or "never"; a set
    NO_COLOR means never."""
    return loaded_settings(env).get("color")


def output(env):
    from .render import Output

    color = use_color(env)
    if color == "always":  # `diary list | less -R`: rendered as on a terminal
        return Output(env.stdout, terminal=True, color=True)
    return Output(env.stdout, terminal=env.stdout_tty, color=color != "never")


def _valid_text(text):
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8
        return False


def read_stdin(env):
    """The text piped in, capped like every field (`diary add < /dev/zero`
    must not read forever)."""
    from .entries import MAX_TEXT

    try:
        text = env.stdin.read(MAX_TEXT + 1)
    except UnicodeDecodeError:
        text = None
    if text is not None and len(text) > MAX_TEXT:
        raise BadInput("the text on stdin is too long (over %d MB)" % (MAX_TEXT // (1024 * 1024)))
    if text is None or not _valid_text(text):
        raise BadInput("the text on stdin is not valid UTF-8")
    return text


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
    """Idle minutes before the menu locks: --lock-after, $DIARY_LOCK_AFTER,
    `lock_after` in the config file, 10."""
    return settings(args, env).get("lock_after")


def open_menu(args, env):
    """``diary`` alone: unlock (or create), then the interactive diary."""
    if env.menu_io is None and not (env.stdin_tty and env.stdout_tty):
        raise UsageError("the interactive diary needs a terminal; run `diary --help` "
                         "for the commands")
    lock_after(args, env)  # a bad value fails before the passphrase is asked
    read_only = getattr(args, "read_only", False)
    diary = unlock(args, env, write=not read_only, create=not read_only, tries=3,
                   welcome=WELCOME)
    with diary:
        return menu_for(diary, args, env).run()


def menu_for(diary, args, env):
    """The interactive diary (menu.Menu) on the unlocked ``diary``, set up as
    the settings say."""
    from . import menu  # prompt_toolkit and rich: only on this path
    from .cli_editor import for_menu

    input, output = env.menu_io or (None, None)
    week_start = loaded_settings(env).get("week_start")
    return menu.Menu(diary, input=input, output=output,
                     lock_after=lock_after(args, env) * 60,
                     color=use_color(env) != "never",
                     first_weekday=6 if week_start == "sunday" else 0,
                     trash_days=loaded_settings(env).get("trash_days"),
                     sync_folder=loaded_settings(env).get("sync_folder"),
                     **_agent_hooks(diary, env), **for_menu(env))


def _agent_hooks(diary, env):
    """The menu ends the diary's agent when the passphrase changes, and on a
    lock when the `lock_ends_agent` setting says so."""
    from . import agent_client

    if not agent_client.offered():
        return {}

    def end():
        agent_client.stop(diary.path, env.environ)

    hooks = {"on_passphrase_changed": end}
    if loaded_settings(env).get("lock_ends_agent"):
        hooks["on_lock"] = end
    return hooks
