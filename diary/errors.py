"""Named errors, each with the one-line message a user sees and its exit code.

The library raises these; ``cli.main`` is the one place that turns them into a
line on stderr and an exit status. Messages never carry a passphrase or entry
text, so they are safe to print and to log.

Exit codes (also in the README):

    0  ok
    1  error (bad input, missing diary, conflict, read-only session, ...)
    2  usage (unknown command or flag, bad flag value)
    3  wrong passphrase, or not a diary file; no passphrase available
    4  damaged file
    5  busy: another process holds the diary locked
  130  interrupted (Ctrl-C)
"""

OK = 0
ERROR = 1
USAGE = 2
LOCKED_OUT = 3
DAMAGED = 4
BUSY = 5
INTERRUPTED = 130


class DiaryError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the message."""

    exit_code = ERROR


class UsageError(DiaryError):
    exit_code = USAGE


class NotFound(DiaryError):
    """No diary at the path, or no entry/tag with that id or path."""


class PassphraseError(DiaryError):
    """Wrong passphrase, not a diary file, or no way to ask for a passphrase."""

    exit_code = LOCKED_OUT


class WeakPassphrase(DiaryError):
    """An empty or blank passphrase offered for a new diary or a rekey."""


class DamagedFile(DiaryError):
    exit_code = DAMAGED


class Busy(DiaryError):
    exit_code = BUSY


class ReadOnly(DiaryError):
    def __init__(self, message="this session is read-only"):
        super().__init__(message)


class NeedsUpgrade(ReadOnly):
    """An older schema met in a read-only session, which cannot migrate it."""


class Conflict(DiaryError):
    """An entry changed in another session since it was read (optimistic lock)."""


class SchemaTooNew(DiaryError):
    pass


class BadInput(DiaryError):
    """Malformed user input: a date, a tag path, a query, an import file."""


class Denied(DiaryError):
    """A statement refused by the read-only authorizer."""


class SourcePassphraseError(BadInput):
    """A wrong passphrase for a file being imported or merged (exit 1: the diary's
    own passphrase was right)."""


class DiskFull(DiaryError):
    """No room to write the diary: the disk, a quota or a file-size limit."""


class OutputError(DiaryError):
    """Standard output cannot be written (a full device, a closed descriptor)."""

    def __init__(self, reason):
        super().__init__("cannot write output: %s" % reason)
