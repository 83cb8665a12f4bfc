"""The process around the program: core dumps off, the standard streams as
they really are (full, closed, gone), and what --debug may print.

cli.main() calls ``harden()`` before anything is read and wraps stdout in
``Guarded`` (a failed write names itself); a standard descriptor the
program was started without is held by /dev/null (``hold_standard_descriptors``)
and stands as a ``Closed`` stream.
"""

import os
import sys

from . import errors


class Guarded:
    """Standard output as the commands see it: a write that fails (a full
    device, a closed descriptor) raises OutputError, which names it, instead
    of an OSError that would read as a bug. A reader that went away still
    raises BrokenPipeError. Its ``buffer`` (exports write bytes) is guarded too."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        value = getattr(self._stream, name)
        return Guarded(value) if name == "buffer" else value

    def _guard(self, method, *args):
        try:
            return method(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise errors.OutputError(exc.strerror or str(exc)) from None

    def write(self, data):
        return self._guard(self._stream.write, data)

    def writelines(self, lines):
        return self._guard(self._stream.writelines, lines)

    def flush(self):
        return self._guard(self._stream.flush)


class Closed:
    """A standard stream the program was started without (`diary list >&-`)."""

    def __init__(self, name):
        self.name = name
        self.closed = False
        self.buffer = self

    def write(self, data):
        raise OSError(9, "%s is closed" % self.name)

    writelines = write

    def read(self, size=-1):
        return ""

    def flush(self):
        pass

    def isatty(self):
        return False

    def readable(self):
        return True

    def writable(self):
        return True

    def seekable(self):
        return False


def hold_standard_descriptors():
    """A standard descriptor the program was started without (`>&-`) gets
    /dev/null, so that no file the program opens (an export, the diary) can
    take its number and receive what is meant for a terminal. sys.stdout and
    friends stay None: cli.Env.system() reports a closed stdout when written."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
            except OSError:
                pass


def discard_output(process):
    """After stdout failed: what is still buffered goes nowhere, so that the
    interpreter's flush at exit raises nothing more."""
    if process:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        except OSError:
            pass


def debug_trace(exc):
    """The traceback --debug prints: no locals, and no text of an exception that
    quotes its input (a UnicodeError names the character and position it choked
    on, which may be a passphrase's)."""
    import traceback

    parts, e, seen = [], exc, set()
    while e is not None and id(e) not in seen:  # the chain, oldest first as Python prints it
        seen.add(id(e))
        detail = "" if isinstance(e, UnicodeError) else ": %s" % e
        parts.insert(0, "Traceback (most recent call last):\n%s%s%s"
                     % ("".join(traceback.format_tb(e.__traceback__)), type(e).__name__, detail))
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    return "\n".join(parts)


PR_SET_DUMPABLE = 4  # linux/prctl.h


def idle_clock():
    """Seconds for idle times (the menu's lock, the agent's end), on a clock
    that runs while the machine sleeps (Linux CLOCK_BOOTTIME): CLOCK_MONOTONIC
    stands still during a suspend, so a laptop closed for the night woke with
    its idle time barely begun. Never goes back, as monotonic."""
    import time

    clock = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(clock) if clock is not None else time.monotonic()


def harden(process=True):
    """No core dumps while a key and plaintext are in memory: RLIMIT_CORE 0,
    and on Linux not dumpable at all (no core whatever the limit or a
    core_pattern pipe, no ptrace or /proc/PID/mem by other processes of the
    same user). Failures are ignored: the program still runs where these
    do not exist."""
    try:
        import resource

        # The soft limit decides whether a core is written. The hard one
        # too for the program itself; a host running diary in-process (its
        # tests) keeps its hard limit, to start children with core dumps.
        hard = 0 if process else resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (ImportError, OSError, AttributeError):
            pass
