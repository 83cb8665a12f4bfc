"""Where a passphrase comes from, in order: a file, a file descriptor, the
``DIARY_PASSPHRASE`` environment variable (for scripts), then a no-echo prompt
on the terminal. Never a command-line value: argv is visible to every user of
the machine.

This is an input layer shared by the CLI and the menu: it may prompt, the
library never does. The prompt is getpass (or an injected function), never a
prompt_toolkit session with history.
"""

import os

from .errors import DiaryError, PassphraseError

ENV_VAR = "DIARY_PASSPHRASE"
MAX_LINE = 64 * 1024  # the most read of a passphrase's line: /dev/zero has no end


BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark: Notepad and others start a file with it


class Read(str):
    """A passphrase read from a file or a descriptor. ``marked``: a byte order
    mark came before it, and was dropped (the passphrase is the text the person
    sees). Diaries created before the mark was dropped took it into their
    passphrase: ``with_mark()`` is that passphrase, tried when this one is wrong."""

    marked = False

    def with_mark(self):
        return "\ufeff" + self if self.marked else None


def read_file(path):
    """The first line of ``path`` (a regular file or a pipe), without its line
    ending or a leading byte order mark."""
    from . import files

    label = "the passphrase file " + path
    try:
        with files.open_regular(path, fifo=True, label=label) as f:
            line = f.readline(MAX_LINE + 1)
    except OSError as exc:
        raise DiaryError("cannot read the passphrase file %s: %s"
                         % (path, exc.strerror or exc)) from None
    if line.removeprefix(BOM).rstrip(b"\r\n") == b"":  # (not read further: it may be a pipe)
        if line.endswith(b"\n"):
            raise PassphraseError("%s has an empty first line (the passphrase is its first "
                                  "line)" % label)
        raise PassphraseError("%s is empty" % label)
    return _first_line(line.rstrip(b"\n"), "the passphrase file", len(line) > MAX_LINE)


def read_fd(fd):
    """The first line readable from file descriptor ``fd``."""
    chunks = []
    b = b""
    try:
        while len(chunks) <= MAX_LINE:
            b = os.read(fd, 1)
            if not b or b == b"\n":
                break
            chunks.append(b)
    except OSError as exc:
        raise DiaryError("cannot read a passphrase from file descriptor %d: %s"
                         % (fd, exc.strerror or exc)) from None
    raw = b"".join(chunks)
    if raw.removeprefix(BOM).rstrip(b"\r") == b"":
        if b == b"\n":
            raise PassphraseError("file descriptor %d gave an empty first line (the passphrase "
                                  "is its first line)" % fd)
        raise PassphraseError("file descriptor %d gave nothing: it was empty or closed" % fd)
    return _first_line(raw, "file descriptor %d" % fd, len(chunks) > MAX_LINE)


def _first_line(raw, where, too_long=False):
    if too_long:
        raise DiaryError("the first line of %s is longer than %d KB, the most a passphrase "
                         "may take" % (where, MAX_LINE // 1024))
    marked = raw.startswith(BOM)
    try:
        text = raw[len(BOM) if marked else 0:].decode("utf-8")
    except UnicodeDecodeError:
        raise DiaryError("the passphrase in %s is not valid UTF-8" % where) from None
    read = Read(text.rstrip("\r\n"))
    read.marked = marked
    return read


def from_environment(value):
    """The passphrase in $DIARY_PASSPHRASE. Python decodes the environment
    with surrogateescape, so bytes that are not UTF-8 arrive as lone
    surrogates: refused here, and the error never quotes the value (the
    codec's own message names the character and its position)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DiaryError("the passphrase in $%s is not valid UTF-8" % ENV_VAR) from None
    return value


def _valid_typed(value):
    """A typed passphrase holding bytes the terminal's encoding escaped."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PassphraseError("the passphrase typed is not valid in the terminal's "
                              "encoding") from None
    return value


class Source:
    """The passphrase options of one command, resolved once and then cached."""

    def __init__(self, *, file=None, fd=None, environ=None, ask=None, interactive=False,
                 options="--passphrase-file, --passphrase-fd or $" + ENV_VAR):
        self.file = file
        self.fd = fd
        self.environ = environ if environ is not None else os.environ
        self.ask = ask  # a getpass-like function(prompt) -> str
        self.interactive = interactive
        self.options = options  # named in the error when there is no way to ask
        self._value = None

    def scripted(self):
        """The passphrase from a file, a descriptor or the environment, else None."""
        if self._value is None:
            if self.file is not None:
                self._value = read_file(self.file)
            elif self.fd is not None:
                self._value = read_fd(self.fd)
            elif self.environ.get(ENV_VAR):
                self._value = from_environment(self.environ[ENV_VAR])
        return self._value

    def with_mark(self):
        """The scripted passphrase with the byte order mark its file began with
        (see Read), else None."""
        value = self.scripted()
        return value.with_mark() if isinstance(value, Read) else None

    def get(self, prompt="Passphrase: "):
        """The passphrase to unlock with; asks on the terminal when not scripted."""
        value = self.scripted()
        if value is not None:
            return value
        return self.prompt(prompt)

    def new(self, prompt="New passphrase: "):
        """A passphrase for a new key: scripted, or asked twice on the terminal."""
        value = self.scripted()
        if value is not None:
            return value
        first = self.prompt(prompt)
        second = self.prompt("Repeat it: ")
        if first != second:
            raise DiaryError("the two passphrases differ; nothing was changed")
        return first

    def prompt(self, prompt):
        if not self.interactive or self.ask is None:
            raise PassphraseError(
                "no passphrase: not on a terminal, and none given with %s" % self.options)
        try:
            value = self.ask(prompt)
        except EOFError:
            raise PassphraseError("no passphrase given") from None
        except UnicodeError:  # its message would quote a byte of the passphrase
            raise PassphraseError("the passphrase typed is not valid in the terminal's "
                                  "encoding") from None
        return _valid_typed(value)
