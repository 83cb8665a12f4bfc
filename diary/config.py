"""Settings: the optional config file, the environment and the flags, merged.

The config file is TOML at ``$DIARY_CONFIG``, else
``platformdirs.user_config_dir("diary")/config.toml`` (on Linux
``$XDG_CONFIG_HOME/diary/config.toml``, i.e. ``~/.config/diary/config.toml``).
It is only ever read here (``tomllib``); ``diary config edit`` is the one
thing that writes it, and only the commented template when it is absent.

    from diary import config

    settings = config.load(environ)          # reads the file; UsageError if it is bad
    settings = settings.with_flags(diary="work", lock_after=None)
    settings.get("lock_after")               # 10
    settings.source("lock_after")            # "default", "file", "environment" or "flag"
    settings.diary_path()                    # "work" looked up in [diaries]
    settings.warnings                        # unknown keys, one line each (cli says them)

A value comes from the first of: a flag, the environment, the file, the
default. Nothing here prints, prompts or exits.
"""

import os
import sys

from .errors import UsageError

CONFIG_VAR = "DIARY_CONFIG"
FILE_NAME = "config.toml"
MAX_BYTES = 1 << 20  # a config file is a few lines; this is not one


class Key:
    """One setting: its default, how a value is checked, where else it may come from."""

    __slots__ = ("name", "default", "check", "env", "flag", "doc")

    def __init__(self, name, default, check, doc, env=(), flag=None):
        self.name, self.default, self.check, self.doc = name, default, check, doc
        self.env = env  # variables, first wins: name or (name, function(text) -> value)
        self.flag = flag  # its command-line flag, for `diary config`


def _shown(value, limit=40):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _text(value, from_env):
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string, not %s" % _shown(value))
    return value


def _choice(*options):
    def check(value, from_env):
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        raise ValueError("must be one of %s, not %s" % (", ".join(options), _shown(value)))

    return check


def _number(kind, integer):
    def check(value, from_env):
        if from_env:
            try:
                value = int(value) if integer else float(value)
            except ValueError:
                raise ValueError("not a number of %s: %s" % (kind, _shown(value))) from None
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise ValueError("must be a%s number of %s, not %s"
                             % (" whole" if integer else "", kind, _shown(value)))
        if integer and value > 2 ** 63 - 1:
            raise ValueError("must be at most %d %s, not %s" % (2 ** 63 - 1, kind, _shown(value)))
        if not 0 <= value < float("inf"):
            raise ValueError("must be 0 or more %s, not %s" % (kind, _shown(value)))
        return value

    return check


def _path(value, from_env):
    """A path: ~ expanded; from the file, absolute (relative to what, otherwise?)."""
    path = os.path.expanduser(_text(value, from_env))
    if not from_env and not os.path.isabs(path):
        raise ValueError("must be an absolute path or start with ~, not %s" % _shown(value))
    return os.path.abspath(path)


def _diary(value, from_env):
    """A diary: a path (it has a / or ends in .db) or a name from [diaries]."""
    value = _text(value, from_env)
    return _path(value, from_env) if is_path(value) else value


def _diaries(value, from_env):
    if not isinstance(value, dict):
        raise ValueError("must be a table of names and paths ([diaries] then work = "
                         "\"~/work.db\"), not %s" % _shown(value))
    table = {}
    for name, path in value.items():
        if not name.strip() or is_path(name):
            raise ValueError("the name %s cannot be empty, hold a / or end in .db (it would "
                             "be taken for a path)" % _shown(name))
        try:
            table[name] = _path(path, from_env)
        except ValueError as exc:
            raise ValueError("%s: %s" % (name, exc)) from None
    return table


def _flag(value, from_env):
    """true or false (TOML booleans; in the environment 1/0, true/false, yes/no, on/off)."""
    if from_env and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError("must be true or false, not %s" % _shown(value))
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false, not %s" % _shown(value))


def _no_color(text):
    return "never" if text else None  # any non-empty NO_COLOR (no-color.org)


KEYS = {k.name: k for k in (
    Key("diary", None, _diary,
        "the default diary: a path, or a name from [diaries] (default: the user data "
        "directory's diary.db)", env=("DIARY_PATH",), flag="--diary"),
    Key("diaries", {}, _diaries,
        "named diaries, name = path: `diary -d NAME` opens one", ),
    Key("editor", None, _text,
        "the editor command for entries and `diary config edit` ($VISUAL and $EDITOR win)",
        env=("VISUAL", "EDITOR")),
    Key("editor_tmpdir", None, _path,
        "a directory allowed for the external editor's file, even on disk (default: "
        "$XDG_RUNTIME_DIR or /dev/shm, only when tmpfs or ramfs)", env=("DIARY_EDITOR_TMPDIR",)),
    Key("sync_folder", None, _path,
        "the folder `diary sync` uses when none is named (Syncthing, Dropbox, a USB stick)",
        env=("DIARY_SYNC_FOLDER",)),
    Key("lock_after", 10, _number("minutes", False),
        "the interactive diary locks after this many idle minutes (0: never)",
        env=("DIARY_LOCK_AFTER",), flag="--lock-after"),
    Key("lock_ends_agent", True, _flag,
        "the interactive diary's Lock (and its idle lock) also ends the diary's agent "
        "(`diary unlock`)", env=("DIARY_LOCK_ENDS_AGENT",)),
    Key("default_sort", "rank", _choice("rank", "newest", "oldest"),
        "`diary search`'s order when --sort is not given", env=("DIARY_DEFAULT_SORT",),
        flag="--sort"),
    Key("date_order", "dmy", _choice("dmy", "mdy"),
        "how numeric dates like 13/04/2024 are read: day-month-year or month-day-year "
        "(year first is ISO: 2024-04-13)", env=("DIARY_DATE_ORDER",)),
    Key("week_start", "monday", _choice("monday", "sunday"),
        "the first day of the week in calendars and week ranges", env=("DIARY_WEEK_START",)),
    Key("color", "auto", _choice("auto", "always", "never"),
        "colour: auto (on a terminal), always, never; NO_COLOR set means never",
        env=(("NO_COLOR", _no_color), "DIARY_COLOR")),
    Key("trash_days", 30, _number("days", True),
        "days a deleted entry stays in the trash (0: no trash, deleting is for good)",
        env=("DIARY_TRASH_DAYS",)),
    Key("quick_title", True, _flag,
        "`diary add 'text'`: the first sentence becomes the title when more text follows "
        "(unless --title is given)", env=("DIARY_QUICK_TITLE",)),
    Key("at_tags", False, _flag,
        "`diary add 'text'`: @tag in the text counts as #tag (off: @names stay text)",
        env=("DIARY_AT_TAGS",)),
)}

# A secret next to the diary it protects defeats the encryption.
_SECRET_PARTS = ("passphrase", "password", "passwd", "secret", "token")
_SECRET_WORDS = ("key", "pass", "pin")


def is_path(value):
    """A --diary value with a / (or ending in .db) is a path; else a name."""
    return "/" in value or os.sep in value or value.endswith(".db")


def is_secret(name):
    import re

    lowered = name.lower()
    return (any(part in lowered for part in _SECRET_PARTS)
            or any(word in _SECRET_WORDS for word in re.split(r"[^a-z]+", lowered)))


def file_path(environ):
    """Where the config file is (whether or not it exists)."""
    chosen = environ.get(CONFIG_VAR)
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    if sys.platform == "linux":
        # platformdirs' rule for Linux, without importing it (~5 ms) on every
        # command that names its diary (tests check that the two agree).
        base = os.environ.get("XDG_CONFIG_HOME", "")
        base = base if base.strip() else os.path.expanduser("~/.config")
        return os.path.join(base, "diary", FILE_NAME)
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("diary", appauthor=False), FILE_NAME)


def default_diary():
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("diary", appauthor=False), "diary.db")


def read_file(path):
    """The file's table, {} when there is none; UsageError when it cannot be used."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise UsageError("config file %s: cannot read it: %s" % (path, exc.strerror)) from None
    import stat

    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a directory, a FIFO (that would block)
            os.close(fd)
            raise UsageError("config file %s: not a regular file" % path)
        with open(fd, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError("config file %s: cannot read it: %s" % (path, exc.strerror)) from None
    if len(data) > MAX_BYTES:
        raise UsageError("config file %s: larger than %d bytes" % (path, MAX_BYTES))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("config file %s: not valid UTF-8" % path) from None
    import tomllib  # only when a file exists: ~2-5 ms with what it imports

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        raise UsageError("config file %s: not valid TOML: %s" % (path, exc)) from None
    except RecursionError:
        raise _too_deep(path) from None


def _too_deep(path):
    return UsageError("config file %s: nested too deeply to read (arrays or tables inside "
                      "each other)" % path)


def check_file(path, table):
    """The file's known settings, checked; and a warning for each unknown key."""
    try:
        return _check_file(path, table)
    except RecursionError:  # a value too deep to walk or to show in an error
        raise _too_deep(path) from None


def _check_file(path, table):
    values, warnings = {}, []
    for name, value in table.items():
        secret = next((k for k in _all_keys({name: value}) if is_secret(k)), None)
        if secret is not None:
            raise UsageError(
                "config file %s: the key %s is refused: a passphrase kept in plain text next "
                "to the diary defeats its encryption; use --passphrase-file or the prompt"
                % (path, _shown(secret)))
        key = KEYS.get(name)
        if key is None:
            warnings.append("config file %s: unknown key %s ignored (%s)"
                            % (path, _shown(name), _nearest(name)))
            continue
        try:
            values[name] = key.check(value, False)
        except ValueError as exc:
            raise UsageError("config file %s: %s: %s" % (path, name, exc)) from None
    return values, warnings


def _all_keys(table):
    for name, value in table.items():
        yield name
        if isinstance(value, dict):
            yield from _all_keys(value)


def _nearest(name):
    import difflib

    close = difflib.get_close_matches(name, KEYS, n=1, cutoff=0.6)
    if close:
        return "did you mean %s?" % close[0]
    return "known keys: %s" % ", ".join(KEYS)


def load(environ):
    """The settings from the file and the environment (flags: ``with_flags``)."""
    path = file_path(environ)
    values, warnings = check_file(path, read_file(path))
    return Settings(path, values, environ, warnings)


class Settings:
    """Every setting's value and where it came from."""

    def __init__(self, path, file_values, environ, warnings=(), flags=None):
        self.path = path  # the config file's
        self.warnings = list(warnings)
        self._file, self._environ = file_values, environ
        self._chosen = {}  # name -> (value, source, detail)
        for key in KEYS.values():
            self._chosen[key.name] = self._choose(key, flags or {})

    def _choose(self, key, flags):
        if flags.get(key.name) is not None:
            return flags[key.name], "flag", key.flag
        for var in key.env:
            var, convert = var if isinstance(var, tuple) else (var, None)
            text = self._environ.get(var)
            if not text:
                continue
            try:
                value = convert(text) if convert else key.check(text, True)
            except ValueError as exc:
                raise UsageError("$%s: %s" % (var, exc)) from None
            if value is not None:
                return value, "environment", "$" + var
        if key.name in self._file:
            return self._file[key.name], "file", self.path
        return key.default, "default", None

    def with_flags(self, **flags):
        """These settings with the command line's flags (None: not given) on top."""
        return Settings(self.path, self._file, self._environ, self.warnings, flags)

    def get(self, name):
        return self._chosen[name][0]

    def source(self, name):
        return self._chosen[name][1]

    def origin(self, name):
        """The source, with the variable, flag or file it names: "environment ($EDITOR)"."""
        _, source, detail = self._chosen[name]
        return "%s (%s)" % (source, detail) if detail else source

    def items(self):
        """(name, value, source) for every setting, in the order of KEYS."""
        return [(name, value, source) for name, (value, source, _) in self._chosen.items()]

    def diaries(self):
        return dict(self.get("diaries"))

    def diary_path(self):
        """The diary to open: the ``diary`` setting resolved (a name looked up in
        [diaries]), else the user data directory's diary.db."""
        value = self.get("diary")
        return default_diary() if value is None else self.resolve(value)

    def resolve(self, value):
        """A --diary value: a path (made absolute) or a name from [diaries]. A name
        wins over a file of that name in the current directory (./NAME is the file)."""
        if is_path(value):
            return os.path.abspath(os.path.expanduser(value))
        known = self.diaries()
        if value in known:
            return known[value]
        names = ", ".join(sorted(known)) or "none: add a [diaries] table to %s" % self.path
        raise UsageError("no diary named %s in the config file (known names: %s); write "
                         "./%s for a file of that name here" % (_shown(value), names, value))


def template():
    """The text of a new config file: every key, commented out, at its default."""
    import textwrap

    lines = ["# diary's config file (TOML). Every setting is shown at its default,",
             "# commented out: remove the # to change one. Precedence: a flag, then the",
             "# environment, then this file, then the default. `diary config` shows what",
             "# is in effect and where it came from. Never put a passphrase here.", ""]
    for key in KEYS.values():
        if key.name == "diaries":
            continue  # a table: it goes last
        lines.extend(textwrap.wrap(key.doc, 76, initial_indent="# ", subsequent_indent="# "))
        if key.name == "diary":
            lines.append("# diary = %s" % _toml(default_diary()))
        elif key.default is None:
            lines.append("# %s = %s    (not set by default)"
                         % (key.name, _toml(EXAMPLES[key.name])))
        else:
            lines.append("# %s = %s" % (key.name, _toml(key.default)))
        lines.append("")
    lines += ["# %s" % KEYS["diaries"].doc, "# [diaries]", '# work = "~/diaries/work.db"',
              '# home = "~/diaries/home.db"', ""]
    return "\n".join(lines)


EXAMPLES = {"editor": "nano", "editor_tmpdir": "/dev/shm", "sync_folder": "~/Sync/diary"}  # keys without a default


def _toml(value):
    if isinstance(value, str):
        import json

        return json.dumps(value)  # a TOML basic string, escapes included
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def create_template(path):
    """Write the template at ``path`` (0600, its directory 0700) unless a file is
    there; True when it was written."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o600)
    except FileExistsError:
        return False
    with open(fd, "w", encoding="utf-8") as f:
        f.write(template())
    return True
