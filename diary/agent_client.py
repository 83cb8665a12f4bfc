"""What commands ask of the agent (agent.py): a diary's raw key, its end, its
state; and starting it (`diary unlock`).

    key = agent_client.key_for(path, environ)      # 48 bytes, or None
    agent_client.start(path, key, 900, environ)     # {"pid": ..., "mlock": "ok"}
    agent_client.stop(path, environ)                # True when one was running

One agent per diary file, its socket named by a hash of the file's real path
in this user's private runtime directory (private_dir.shared("agent")).
Nothing here raises for an agent that is absent, dead (SIGKILL leaves its
socket behind), another user's or confused: the caller falls back to the
usual passphrase sources. The client checks the agent's uid too (SO_PEERCRED
both ways) and that the key it gets carries the file's own salt.
"""

import json
import os
import socket
import sys

from .errors import DiaryError
from .raw_key import RAW_SIZE, SALT_SIZE

KIND = "agent"
TIMEOUT = 5.0  # seconds for an agent to answer: it answers in microseconds
MAX_ANSWER = 4096
DEFAULT_IDLE = 15 * 60
MAX_SOCKET_PATH = 107  # bytes: sockaddr_un's sun_path (108) holds its NUL too


def offered():
    """The agent needs SO_PEERCRED (Linux) to tell who is asking."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED")


def socket_path(path, environ, create=False):
    """Where the agent of the diary at ``path`` listens; None when there is no
    private runtime directory (and ``create`` is false)."""
    import hashlib

    from . import private_dir

    where = (private_dir.shared(KIND, environ) if create
             else private_dir.find_shared(KIND, environ))
    if where is None:
        return None
    name = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:32]
    return os.path.join(where, name + ".sock")


def peer_uid(conn):
    """The uid of the process at the other end (Linux SO_PEERCRED)."""
    import struct

    data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", data)[1]


def _ask(sock_path, request):
    """The agent's whole answer to ``request``, or None (no agent, another
    user's, no answer). A bytearray: where it holds a key (key_for) the
    caller wipes it; the buffer it was read into is wiped here (recv would
    leave immutable copies of the key behind)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    buffer = bytearray(MAX_ANSWER + 1)
    size = 0
    try:
        s.settimeout(TIMEOUT)
        s.connect(sock_path)
        if peer_uid(s) != os.getuid():
            return None  # not our agent: never send it anything
        s.sendall(json.dumps(request).encode("utf-8") + b"\n")
        with memoryview(buffer) as view:
            while size <= MAX_ANSWER:
                n = s.recv_into(view[size:])
                if not n:
                    break
                size += n
            return bytearray(view[:size])
    except OSError:
        return None
    finally:
        s.close()
        buffer[:size] = bytes(size)


def _existing(path, environ):
    if not offered():
        return None
    sock_path = socket_path(path, environ)
    if sock_path is None or not os.path.exists(sock_path):
        return None
    return sock_path


def key_for(path, environ):
    """The raw key (a bytearray, for the caller to wipe) the agent holds for
    the diary at ``path``, or None."""
    sock_path = _existing(path, environ)
    if sock_path is None:
        return None
    from .raw_key import salt_matches, salt_of

    real = os.path.realpath(path)
    try:
        salt = salt_of(real)
    except DiaryError:
        return None
    answer = _ask(sock_path, {"op": "key", "path": real, "salt": salt.hex()})
    if answer is None:
        return None
    try:
        with memoryview(answer) as view:
            if answer[:1] != b"K" or len(answer) != 1 + RAW_SIZE or not salt_matches(
                    view[1:], salt):
                return None
            return bytearray(view[1:])
    finally:
        answer[:] = bytes(len(answer))


def stop(path, environ):
    """End the agent of the diary at ``path`` (it wipes its key); True when one
    answered. A dead agent's socket is removed. An agent started through a
    link that points elsewhere since is found by the path it was started
    with, and ended too."""
    stopped = False
    sock_path = _existing(path, environ)
    if sock_path is not None:
        answer = _ask(sock_path, {"op": "stop"})
        if answer == b"S\n":
            stopped = True
        else:
            _remove_dead(sock_path)
    if offered() and os.path.realpath(path) != os.path.abspath(path):
        stopped = _stop_named(os.path.abspath(path), environ) or stopped
    return stopped


def _stop_named(named, environ):
    """End every agent started for the path ``named`` (links unresolved)."""
    from . import private_dir

    where = private_dir.find_shared(KIND, environ)
    try:
        names = os.listdir(where) if where else []
    except OSError:
        return False
    stopped = False
    for name in names:
        sock_path = os.path.join(where, name)
        answer = _ask(sock_path, {"op": "status"}) if name.endswith(".sock") else None
        try:
            said = json.loads(answer[1:].decode("utf-8")) if answer[:1] == b"I" else {}
        except (TypeError, ValueError):
            said = {}
        if isinstance(said, dict) and said.get("named") == named:
            stopped = _ask(sock_path, {"op": "stop"}) == b"S\n" or stopped
    return stopped


def status(path, environ):
    """The agent's state ({"pid", "idle_left", "mlock", ...}), or None."""
    sock_path = _existing(path, environ)
    answer = _ask(sock_path, {"op": "status"}) if sock_path else None
    if not answer or answer[:1] != b"I":
        return None
    try:
        return json.loads(answer[1:].decode("utf-8"))
    except ValueError:
        return None


def _remove_dead(sock_path):
    """The socket of an agent that is gone (SIGKILL): nothing listens there."""
    try:
        seen = os.stat(sock_path).st_ino
    except OSError:
        return
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sock_path)
    except ConnectionRefusedError:
        # Only the socket that refused: an agent started meanwhile (a
        # `diary unlock` beside this) may have bound a new one at the path,
        # and removing it would leave that agent unreachable.
        try:
            if os.stat(sock_path).st_ino == seen:
                os.unlink(sock_path)
        except OSError:
            pass
    except OSError:
        pass
    finally:
        s.close()


def start(path, key, idle, environ):
    """Start the agent of the diary at ``path`` serving ``key`` (48 bytes,
    checked by the caller to open the file) for ``idle`` seconds without use;
    an agent already serving that diary is stopped first. Returns what the
    agent said when ready: {"pid": ..., "mlock": "ok" or why not}."""
    import subprocess

    if not offered():
        raise DiaryError("the agent needs Linux (it checks who asks with SO_PEERCRED); "
                         "it is not offered here")
    stop(path, environ)
    sock_path = socket_path(path, environ, create=True)
    if len(os.fsencode(sock_path)) > MAX_SOCKET_PATH:
        raise DiaryError("the agent's socket path %s is too long for a Unix socket (at most %d "
                         "bytes): set XDG_RUNTIME_DIR to a shorter directory"
                         % (sock_path, MAX_SOCKET_PATH))
    real = os.path.realpath(path)
    from .raw_key import salt_of

    salt = salt_of(real)
    if bytes(key[-SALT_SIZE:]) != salt:
        raise DiaryError("the key does not belong to %s" % path)
    # "named": the path as given, links unresolved, for `diary lock` to find
    # this agent by after a link was pointed elsewhere (stop).
    header = json.dumps({"socket": sock_path, "path": real, "salt": salt.hex(),
                         "named": os.path.abspath(path),
                         "idle": float(idle)}).encode("utf-8") + b"\n"
    # Nothing secret in argv or the environment: the key goes through a pipe.
    # The agent inherits no descriptor but the pipes (close_fds), runs in its
    # own session (no terminal's signals) from /, and needs no variable but
    # where this package is.
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "diary.agent"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            start_new_session=True, cwd="/", env={"PYTHONPATH": package_root})
    except OSError as exc:
        raise DiaryError("cannot start the agent: %s" % (exc.strerror or exc)) from None
    try:
        proc.stdin.write(header)
        proc.stdin.write(bytes(key))
        proc.stdin.close()
        line = proc.stdout.readline(MAX_ANSWER)
    except OSError:
        line = b""
    finally:
        proc.stdout.close()
        proc.wait()  # the first process only: the agent forked away from it
    if not line.startswith(b"ready "):
        reason = line.decode("utf-8", "replace").strip() or "it ended at once"
        raise DiaryError("the agent could not start (%s)" % reason)
    return json.loads(line[len(b"ready "):].decode("utf-8"))
