"""jrnl 4.6 in its own virtual environment, on the benchmark corpus, encrypted.

Nothing of jrnl's touches the real home: every run gets HOME, XDG_* and a
``--config-file`` inside bench/data/jrnl/. The password comes from a keyring
backend (jrnl_keyring.EnvKeyring, selected with PYTHON_KEYRING_BACKEND), which
is the way jrnl itself is meant to be scripted: no prompt, no stdin tricks.

The encrypted journal is made by jrnl itself, with `jrnl --import` of the plain
journal that corpus.py wrote from the same entries as our JSONL; jrnl then
writes its v3 format (Fernet, key from PBKDF2-SHA256 with a random salt).
"""

import os
import subprocess
import sys

VERSION = "4.6"
HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "bench: correct horse battery staple"

CONFIG = """\
version: v{version}
journals:
  default:
    journal: {journal}
    encrypt: true
editor: ''
encrypt: true
template: false
default_hour: 9
default_minute: 0
timeformat: '%Y-%m-%d %H:%M'
tagsymbols: '@'
highlight: false
linewrap: false
indent_character: '|'
colors: {{body: none, date: none, tags: none, title: none}}
"""


def venv_dir(data):
    return os.path.join(data, "jrnl-venv")


def executable(data):
    return os.path.join(venv_dir(data), "bin", "jrnl")


def installed_version(data):
    jrnl = executable(data)
    if not os.path.exists(jrnl):
        return None
    r = subprocess.run([jrnl, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, text=True, env=environment(data, "probe"))
    first = r.stdout.split("\n", 1)[0].strip()
    return first.split()[-1].lstrip("v") if r.returncode == 0 and first else None


def ensure(data, log=print):
    """Install jrnl VERSION into bench/data/jrnl-venv unless it is there; return its version."""
    if installed_version(data) == VERSION:
        return VERSION
    log("installing jrnl %s into %s" % (VERSION, venv_dir(data)))
    subprocess.run([sys.executable, "-m", "venv", "--clear", venv_dir(data)], check=True)
    subprocess.run([os.path.join(venv_dir(data), "bin", "python"), "-m", "pip", "install",
                    "--quiet", "--disable-pip-version-check", "jrnl==" + VERSION],
                   check=True, stdout=subprocess.DEVNULL)
    version = installed_version(data)
    if version != VERSION:
        raise RuntimeError("jrnl %s did not install (found %r)" % (VERSION, version))
    return version


def home(data, name):
    return os.path.join(data, "jrnl", name)


def environment(data, name):
    """The environment of a jrnl run: its own HOME, the bench keyring backend, UTC."""
    h = home(data, name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "PYTHON", "JRNL", "VIRTUAL_ENV"))}
    env.update({
        "HOME": h,
        "XDG_CONFIG_HOME": os.path.join(h, "config"),
        "XDG_DATA_HOME": os.path.join(h, "data"),
        "XDG_CACHE_HOME": os.path.join(h, "cache"),
        "PYTHONPATH": HERE,
        "PYTHON_KEYRING_BACKEND": "jrnl_keyring.EnvKeyring",
        "JRNL_BENCH_PASSWORD": PASSWORD,
        "TZ": "UTC",
        "NO_COLOR": "1",
        "EDITOR": "",
        "VISUAL": "",
    })
    return env


def prepare(data, name, journal):
    """Write a config for the encrypted journal at ``journal``; return (argv prefix, env)."""
    h = home(data, name)
    os.makedirs(h, exist_ok=True)
    config = os.path.join(h, "jrnl.yaml")
    with open(config, "w") as f:
        f.write(CONFIG.format(version=VERSION, journal=journal))
    return [executable(data), "--config-file", config], environment(data, name)


def import_argv(prefix, plain_journal):
    """The command that makes the encrypted journal from the plain one."""
    return prefix + ["--import", "--file", plain_journal]


def tag_args(subtree_paths):
    # jrnl has no tag tree: to ask for the same entries as `diary list --tag TOP`,
    # name every tag of TOP's subtree (jrnl keeps an entry with any of them).
    return ["@" + p for p in subtree_paths]
