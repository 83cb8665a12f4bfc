"""Commands for the settings: config (show, path, edit) and diaries (the named ones).

Neither unlocks a diary. Nothing writes the config file but `config edit`, and
only the commented template when the file is absent (config.py).
"""

import os

from .cli import arguments, command, loaded_settings, output, settings
from .errors import DiaryError, UsageError

CONFIG_HELP = """\
Show every setting in effect and where it came from: a flag, the environment,
the config file or the default (in that order of precedence).

  diary config          the settings, aligned (--json: {key: {value, source}})
  diary config path     the config file's path, whether or not it exists
  diary config edit     open it in $VISUAL, $EDITOR or the `editor` setting,
                        creating a commented template (every key at its
                        default) when there is none

The file is $DIARY_CONFIG, else config.toml in the user config directory
(~/.config/diary/config.toml on Linux). A passphrase is never accepted there.
"""


@arguments("config")
def _config_args(p):
    p.add_argument("action", nargs="?", choices=("path", "edit"),
                   help="path: print the file's path; edit: open it in the editor")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object: {key: {value, source}}")


@command("config", "diary config\ndiary config --json\ndiary config path\n"
                   "EDITOR=nano diary config edit", description=CONFIG_HELP)
def cmd_config(args, env):
    from . import config

    if args.action == "path":
        from .render import Output

        # Not output(env): that reads the `color` setting, from the very file
        # that may be broken (its error names it; this says where it is).
        Output(env.stdout, terminal=env.stdout_tty, color=False).line(
            _clean(config.file_path(env.environ)))
    elif args.action == "edit":
        _edit(env)
    else:
        _show(args, env)


def _show(args, env):
    from .render import clean

    current = settings(args, env)
    rows = []
    for name, value, source in current.items():
        if name == "diary":
            try:
                value = current.diary_path()
            except UsageError as exc:  # a name not in [diaries]: shown as given
                env.say("diary: warning: %s" % exc)
        rows.append((name, value, source, current.origin(name)))
    out = output(env)
    if args.json:
        out.json({name: {"value": value, "source": source} for name, value, source, _ in rows})
        return
    shown = [(name, clean(_text(value)), origin if origin.startswith(("environment", "flag"))
              else source) for name, value, source, origin in rows]
    widths = [max(len(row[i]) for row in shown) for i in (0, 1)]
    for name, value, origin in shown:
        out.line("%-*s  %-*s  %s" % (widths[0], name, widths[1], value, origin))
    exists = os.path.isfile(current.path)
    env.say("Config file: %s%s" % (current.path, "" if exists else
                                   " (none; `diary config edit` creates one)"))


def _text(value):
    if value is None:
        return "(not set)"
    if isinstance(value, dict):
        return ", ".join("%s = %s" % item for item in value.items()) or "(none)"
    return str(value)


def _clean(text):
    from .render import clean

    return clean(text)


def _edit(env):
    import shlex
    import subprocess

    from . import config
    from .passphrase import ENV_VAR

    path = config.file_path(env.environ)
    try:
        editor = loaded_settings(env).get("editor")
    except UsageError:  # a broken file is what the editor is for
        editor = env.environ.get("VISUAL") or env.environ.get("EDITOR")
    if not editor:
        raise DiaryError("no editor set: set $VISUAL or $EDITOR, or edit %s with any editor "
                         "(`editor = \"nano\"` there sets one)" % path)
    try:
        argv = shlex.split(editor)
    except ValueError as exc:
        raise UsageError("the editor command %r: %s" % (editor, exc)) from None
    if not argv:
        raise UsageError("the editor command is empty")
    try:
        created = config.create_template(path)
    except OSError as exc:
        raise DiaryError("cannot create %s: %s" % (path, exc.strerror)) from None
    if created:
        env.say("Created %s: every setting, commented out at its default." % path)
    try:
        # as the diary's own editor: no $DIARY_PASSPHRASE for it or what it starts
        status = subprocess.call(argv + [path], env={
            k: v for k, v in env.environ.items() if k != ENV_VAR})
    except OSError as exc:
        raise DiaryError("cannot run the editor %s: %s" % (argv[0], exc.strerror)) from None
    if status != 0:
        raise DiaryError("the editor %s exited with status %d" % (argv[0], status))
    _values, warnings = config.check_file(path, config.read_file(path))  # bad: exit 2
    for warning in warnings:
        env.say("diary: warning: %s" % warning)


@arguments("diaries")
def _diaries_args(p):
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true",
                       help="print a JSON array: name, path, size (bytes; null when missing), "
                            "default")
    shown.add_argument("--names", action="store_true",
                       help="print the names alone, one a line, without looking at the files "
                            "(for scripts and shell completion)")


@command("diaries", "diary diaries\ndiary diaries --json\ndiary diaries --names\n"
                    "diary -d work add 'Kick-off'",
         description="List the named diaries of the config file's [diaries] table with "
                     "their paths and file sizes (\"missing\" when there is no file yet, \"not a file\" "
                     "for a folder, a FIFO or a device). "
                     "Nothing is unlocked. `diary -d NAME COMMAND` (or --diary NAME, or "
                     "DIARY_PATH=NAME) runs a command on one; a name wins over a file of "
                     "that name in the current directory, which ./NAME reaches.")
def cmd_diaries(args, env):
    current = settings(args, env)
    if args.names:
        # A name holding a line break or a control character cannot be one line
        # of this list, nor typed at a shell prompt: left out (`diaries` shows it).
        out = output(env)
        for name in current.diaries():
            if name.isprintable():
                out.line(name)
        return
    try:
        default = current.diary_path()
    except UsageError:
        default = None
    rows = [{"name": name, "path": path, "size": _size(path), "default": path == default}
            for name, path in current.diaries().items()]
    out = output(env)
    if args.json:
        out.json(rows)
        return
    if not rows:
        env.say("No named diaries: add a [diaries] table to %s (`diary config edit`)."
                % current.path)
        return
    shown = [(_clean(r["name"]), _clean(r["path"]),
              _human(r["size"]) if r["size"] is not None else
              "not a file" if os.path.lexists(r["path"]) else "missing",
              "default" if r["default"] else "") for r in rows]
    widths = [max(len(row[i]) for row in shown) for i in range(3)]
    for row in shown:
        out.line(("%-*s  %-*s  %*s  %s" % (widths[0], row[0], widths[1], row[1], widths[2],
                                           row[2], row[3])).rstrip())


def _size(path):
    import stat

    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _human(size):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return ("%d %s" % (size, unit)) if unit == "B" else "%.1f %s" % (size, unit)
        size /= 1024
