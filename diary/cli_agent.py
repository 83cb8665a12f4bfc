"""Commands for the agent: unlock (start it with the diary's key), lock (end it)."""

import argparse
import re

from .cli import arguments, command, diary_path, passphrase_source
from .errors import DiaryError, NeedsUpgrade, NotFound, PassphraseError

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}
MAX_IDLE = 7 * 86400


def duration(text):
    """90s, 15m, 2h, 1d; a bare number is minutes. Seconds."""
    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError("not a duration (like 90s, 15m, 2h): %r" % text)
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if not 1 <= seconds <= MAX_IDLE:
        # under a second the agent would end before any command could ask it
        raise argparse.ArgumentTypeError("must be at least 1s and at most 7 days: %r" % text)
    return seconds


def _shown(seconds):
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%gs" % seconds


@arguments("unlock")
def _unlock_args(p):
    p.add_argument("--for", dest="idle", metavar="TIME", type=duration, default=None,
                   help="end after this long without use: 90s, 15m, 2h (default: 15m)")


@command("unlock", "diary unlock\ndiary unlock --for 2h\ndiary -d work unlock",
         "Start the agent: it holds the diary's derived key in memory and gives it to "
         "your later commands, so that the passphrase is asked once. It ends after the "
         "idle time (--for), on `diary lock`, and when the passphrase is changed. Any "
         "process of yours can ask it for the key while it runs (as with ssh-agent); "
         "processes of other users cannot. Linux only.")
def cmd_unlock(args, env):
    import os

    from . import agent_client, raw_key, store

    if not agent_client.offered():
        raise DiaryError("the agent needs Linux (it checks who asks with SO_PEERCRED); "
                         "it is not offered here")
    path = diary_path(args, env)
    if not os.path.lexists(path):
        raise NotFound("no diary at %s (create one with `diary init`)" % path)
    source = passphrase_source(args, env)  # never the agent: this starts it
    tries = 1 if source.scripted() is not None else 3
    key = None
    for attempt in range(1, tries + 1):
        passphrase = source.get()
        for candidate in (passphrase, source.with_mark()):
            if candidate is None:
                continue
            key = raw_key.derive(candidate, raw_key.salt_of(path))
            try:
                store.open_diary(path, None, raw_key=key, read_only=True).close()
                break
            except NeedsUpgrade:
                break  # an older format, read with this key: the key is right
            except PassphraseError:
                key[:] = bytes(len(key))
                key = None
        if key is not None:
            break
        if attempt == tries:
            raise PassphraseError(store.WRONG_KEY)
        env.say("Wrong passphrase, try again.")
    idle = args.idle or agent_client.DEFAULT_IDLE
    try:
        said = agent_client.start(path, key, idle, env.environ)
    finally:
        key[:] = bytes(len(key))
    env.say("Unlocked %s for %s without use (agent %s); `diary lock` ends it."
            % (path, _shown(idle), said.get("pid")))
    if said.get("mlock") != "ok":
        env.say("diary: warning: the key could not be locked in memory (mlock: %s); it may "
                "reach swap" % said.get("mlock"))


@command("lock", "diary lock\ndiary -d work lock",
         "End the diary's agent (`diary unlock`): it wipes the key it held. Commands ask "
         "for the passphrase again.")
def cmd_lock(args, env):
    from . import agent_client

    path = diary_path(args, env)
    if agent_client.stop(path, env.environ):
        env.say("Locked: the agent of %s ended." % path)
    else:
        env.say("No agent was running for %s." % path)
