"""The agent: a detached process that holds one diary's raw key in memory and
hands it, over a Unix socket, to commands of the same user, so that a day at
the terminal asks for the passphrase once (`diary unlock`).

Started by agent_client.start() as ``python -m diary.agent`` with nothing in
argv or the environment: its standard input carries one JSON line (the
socket, the diary's real path and salt, the idle seconds) and then the 48
bytes of the key, read straight into a buffer locked in memory (mlock, where
the system allows). Its first line on standard output says it is serving
(and whether the lock held); then its standard streams are /dev/null.

The protocol: one request line of JSON per connection, one answer:
``{"op": "key", "path": P, "salt": HEX}`` -> ``K`` and the 48 bytes, only for
that path and salt (never another file's key); ``{"op": "stop"}`` -> ``S``,
and the agent wipes the key and ends; ``{"op": "status"}`` -> ``I`` and a JSON
line; anything else -> ``E`` and a reason. Every connection's peer is checked
with SO_PEERCRED: another uid gets nothing at all.

It ends, wiping the key, on ``stop``, on SIGTERM, SIGINT or SIGHUP, and after
the idle seconds without a key served. It writes nothing to disk (its socket
is in a 0700 directory on tmpfs, see private_dir.shared) and cannot dump core
(process.harden). Linux only: elsewhere the agent is not offered.
"""

import json
import os
import select
import signal
import socket
import sys

from .agent_client import peer_uid
from .raw_key import RAW_SIZE

MAX_REQUEST = 8192
PEER_TIMEOUT = 2.0  # seconds a connected client has to send its request
MAX_PENDING = 64  # connections read side by side (a select() set stays small)
# Seconds between checks that the socket is still there: a runtime directory
# removed at logout leaves an agent no one can reach, which then ends.
CHECK_EVERY = 10.0


class Key:
    """The key's one buffer: a page of its own (mmap), so that mlock locks
    that page and nothing else, left out of core dumps (MADV_DONTDUMP) as a
    second guard; wiped on close."""

    def __init__(self, size=RAW_SIZE):
        import ctypes
        import mmap

        self._ctypes = ctypes
        self.size = size
        self._map = mmap.mmap(-1, mmap.PAGESIZE)
        try:
            self._map.madvise(mmap.MADV_DONTDUMP)
        except (AttributeError, OSError):
            pass
        self._cbuf = (ctypes.c_char * mmap.PAGESIZE).from_buffer(self._map)
        self._address = ctypes.addressof(self._cbuf)
        self.locked = "not tried"
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.mlock(ctypes.c_void_p(self._address), ctypes.c_size_t(mmap.PAGESIZE)) == 0:
                self.locked = "ok"
                self._libc = libc
            else:
                self.locked = os.strerror(ctypes.get_errno())
        except (OSError, AttributeError) as exc:
            self.locked = str(exc)

    def view(self):
        return memoryview(self._map)[:self.size]

    def wipe(self):
        ctypes = self._ctypes
        ctypes.memset(ctypes.c_void_p(self._address), 0, self.size)
        if self.locked == "ok":
            self._libc.munlock(ctypes.c_void_p(self._address), ctypes.c_size_t(len(self._map)))
            self.locked = "released"


class Stop(Exception):
    pass


class Agent:
    def __init__(self, listener, key, path, salt, idle, clock=None, named=None):
        self.listener, self.key, self.path, self.salt = listener, key, path, salt
        self.named = named  # the path as given to `diary unlock`, links unresolved
        from .process import idle_clock

        self.idle, self.clock = idle, clock or idle_clock
        self.deadline = self.clock() + idle
        self.refused = 0  # connections from other users

    def serve(self, still_ours=lambda: True):
        """Answer requests until the idle time passes (or Stop). Connections
        are read side by side, each given PEER_TIMEOUT for its whole request:
        one that never speaks, or trickles, delays no other."""
        pending = {}  # connection -> [deadline, bytes so far], oldest first
        try:
            while True:
                now = self.clock()
                left = self.deadline - now
                if left <= 0:
                    return
                wait = min([left, CHECK_EVERY] + [max(0, d - now) for d, _ in pending.values()])
                ready, _, _ = select.select([self.listener, *pending], [], [], wait)
                if not ready and not pending and not still_ours():
                    return  # its socket removed or replaced: no one can reach it
                for conn in ready:
                    if conn is self.listener:
                        self._accept(pending)
                    else:
                        self._read(conn, pending)
                now = self.clock()
                for conn in [c for c, (d, _) in pending.items() if d <= now]:
                    del pending[conn]
                    conn.close()  # its time is up: not a byte more is waited for
        finally:
            for conn in pending:
                conn.close()

    def _accept(self, pending):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            if peer_uid(conn) != os.getuid():
                self.refused += 1
                conn.close()  # not a byte to another user
                return
        except OSError:
            conn.close()
            return
        if len(pending) >= MAX_PENDING:  # the oldest has waited longest: it goes
            oldest = next(iter(pending))
            del pending[oldest]
            oldest.close()
        conn.setblocking(False)
        pending[conn] = [self.clock() + PEER_TIMEOUT, b""]

    def _read(self, conn, pending):
        entry = pending[conn]
        try:
            chunk = conn.recv(MAX_REQUEST)
        except BlockingIOError:
            return
        except OSError:
            chunk = None
        if chunk is None:
            del pending[conn]
            conn.close()
            return
        entry[1] += chunk
        data = entry[1]
        if chunk and not data.endswith(b"\n") and len(data) <= MAX_REQUEST:
            return  # more to come
        del pending[conn]
        try:
            conn.settimeout(PEER_TIMEOUT)  # an answer is a few bytes: the buffer takes it
            self.answer(conn, data)
        except OSError:
            pass
        finally:
            conn.close()

    def answer(self, conn, data):
        try:
            request = json.loads(data.decode("utf-8"))
            op = request.get("op")
        except (ValueError, AttributeError, RecursionError):  # JSON nested too deep
            conn.sendall(b"Ebad request\n")
            return
        if op == "key":
            if request.get("path") != self.path or request.get("salt") != self.salt:
                conn.sendall(b"Enot this diary\n")
                return
            conn.sendall(b"K")
            conn.sendall(self.key.view())
            self.deadline = self.clock() + self.idle
        elif op == "stop":
            conn.sendall(b"S\n")
            raise Stop()
        elif op == "status":
            conn.sendall(b"I" + json.dumps({
                "path": self.path, "named": self.named, "pid": os.getpid(),
                "mlock": self.key.locked,
                "idle_left": max(0, round(self.deadline - self.clock())),
                "refused": self.refused}).encode() + b"\n")
        else:
            conn.sendall(b"Eunknown request\n")


def _read_exact(fd, view):
    done = 0
    while done < len(view):
        n = os.readv(fd, [view[done:]])
        if n == 0:
            raise EOFError("the key ended early")
        done += n


def _on_signal(signum, frame):
    raise Stop()


def _detach_streams():
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def _close_inherited():
    """Every descriptor but the standard three: Popen(close_fds=True) did it
    already; this holds when something started the agent otherwise."""
    try:
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        os.closerange(3, 4096)


def run(stdin=0, stdout=1):
    from .process import harden

    harden(process=True)  # before the key is read
    _close_inherited()
    os.chdir("/")
    os.umask(0o077)
    # Detached from the terminal: started in its own session (Popen
    # start_new_session), its signals never reach it; forked once more so
    # that it is no session leader (it can never take a terminal back) and
    # no child of the command that started it (no zombie there).
    if os.fork():
        os._exit(0)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, _on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    key = Key()
    listener = None
    sock_path = bound = None
    status = 1
    try:
        header = b""
        while not header.endswith(b"\n"):
            b = os.read(stdin, 1)
            if not b or len(header) > MAX_REQUEST:
                raise EOFError("no header")
            header += b
        setup = json.loads(header.decode("utf-8"))
        _read_exact(stdin, key.view())
        sock_path = setup["socket"]
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(sock_path)  # a dead agent's: the client found none listening
        except FileNotFoundError:
            pass
        listener.bind(sock_path)  # 0600 by the umask: no moment open to others
        os.chmod(sock_path, 0o600)
        bound = os.stat(sock_path).st_ino
        listener.listen(16)
        os.write(stdout, b"ready %s\n" % json.dumps({"pid": os.getpid(),
                                                      "mlock": key.locked}).encode())
        _detach_streams()

        def still_ours():
            try:
                return os.stat(sock_path).st_ino == bound
            except OSError:
                return False

        Agent(listener, key, setup["path"], setup["salt"], float(setup["idle"]),
              named=setup.get("named")).serve(still_ours)
        status = 0
    except Stop:
        status = 0
    except Exception as exc:
        try:
            os.write(stdout, b"error %s\n" % type(exc).__name__.encode())
        except OSError:
            pass
    finally:
        key.wipe()
        if listener is not None:
            listener.close()
            try:
                if bound is not None and os.stat(sock_path).st_ino == bound:
                    os.unlink(sock_path)  # ours still, not a newer agent's
            except OSError:
                pass
    os._exit(status)


if __name__ == "__main__":
    if not sys.platform.startswith("linux"):
        sys.exit(1)
    run()
