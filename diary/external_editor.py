"""Running the person's own editor on plaintext without leaving it on disk.

    argv = external_editor.command(settings)            # None: no editor set
    with external_editor.Session("edit", environ, tmpdir) as s:
        text = s.edit(argv, initial_text)               # back in memory; the file is wiped

The file is ``entry.txt`` (0600) in a fresh 0700 directory on tmpfs or ramfs
(private_dir.py). Known editors are started with their leak-off options, placed
so that they act after the person's own configuration (vim's ``-c`` runs after
the vimrc; ``--cmd`` before it). While the editor runs, Ctrl-C is the editor's
(the diary ignores SIGINT); SIGTERM and SIGHUP stop the editor, wipe the file
and end the diary (KeyboardInterrupt, exit 130). The directory is overwritten
and removed when the editor exits, whatever happens (``finally``); a SIGKILL
leaves it, and ``private_dir.leftovers("edit", ...)`` finds it at the next start.
"""

import os
import shlex
import signal
import subprocess

from . import private_dir
from .errors import DiaryError, UsageError

FILE_NAME = "entry.txt"
# A digest of the diary's path, so that what a killed session left is offered
# to that diary only (editsave.leftovers), never saved into another one.
OWNER_FILE = "diary.id"
KIND = "edit"

# Leak-off options per editor (argv[0]'s base name). Each list is put between
# the editor's own arguments (from $EDITOR) and the file.
_VIM_SET = ("set noswapfile nobackup nowritebackup noundofile nomodeline "
            "viminfo= viminfofile=NONE")
_VIM_AUTO = ("autocmd BufReadPre,BufNewFile,BufEnter * "
             "setlocal noswapfile noundofile")
_NVIM_SET = "set noswapfile nobackup nowritebackup noundofile nomodeline shada= shadafile=NONE"
_EMACS_EVAL = ("(progn (setq make-backup-files nil backup-inhibited t auto-save-default nil "
               "create-lockfiles nil auto-save-list-file-prefix nil) "
               "(when (boundp 'savehist-mode) (savehist-mode -1)) "
               "(when (boundp 'recentf-mode) (recentf-mode -1)))")
LEAK_OFF = {
    # -n: no swap file (applied after the vimrc); -i NONE: no viminfo; --cmd
    # sets an autocommand before the vimrc so that a vimrc turning swap or
    # undo files back on is undone before the buffer is read; -c runs after it.
    "vim": ["-n", "-i", "NONE", "--cmd", _VIM_AUTO, "-c", _VIM_SET],
    "nvim": ["-n", "-i", "NONE", "--cmd", _VIM_AUTO, "-c", _NVIM_SET],
    # nano's backups, search history and position log are turned on only in a
    # nanorc, and no command-line switch turns them off again: its rc files are
    # not read (nano itself keeps no other file).
    "nano": ["--ignorercfiles"],
    # --eval runs after the init file, before the file is visited.
    "emacs": ["--eval", _EMACS_EVAL],
    # micro keeps backups (in ~/.config/micro/backups) unless told not to.
    "micro": ["-backup", "false", "-permbackup", "false", "-saveundo", "false",
              "-savecursor", "false", "-savehistory", "false"],
    # helix and kakoune keep no swap, backup or undo files of their own.
    "hx": [],
    "kak": [],
}
ALIASES = {"vi": "vim", "vim.basic": "vim", "vim.tiny": "vim", "vim.nox": "vim",
           "vim.gtk3": "vim", "view": "vim", "neovim": "nvim", "nvim-qt": "nvim",
           "emacs-nox": "emacs", "emacs-gtk": "emacs", "helix": "hx", "kakoune": "kak",
           "rnano": "nano"}
# What other editors are known to keep elsewhere (the once-only warning names it).
KEEPS = {
    "code": "VS Code keeps unsaved text for Hot Exit and a Local History of saved files "
            "under ~/.config/Code/User, and its extensions can read the file",
    "codium": "VSCodium keeps unsaved text for Hot Exit and a Local History of saved files "
              "under ~/.config/VSCodium/User, and its extensions can read the file",
    "subl": "Sublime Text keeps unsaved text in its session (Hot Exit) under ~/.config",
    "gedit": "gedit may keep backup files (name~) and recent-file history",
    "kate": "Kate keeps swap files (.swp) and session data under ~/.local",
}


# Editors that open a window and return at once unless told to wait: the
# file then comes back unchanged before a word is written.
WAIT_FLAGS = {"code": ("--wait", "-w"), "codium": ("--wait", "-w"),
              "code-insiders": ("--wait", "-w"), "subl": ("--wait", "-w"),
              "zed": ("--wait", "-w"), "mate": ("--wait", "-w"), "atom": ("--wait", "-w"),
              "gvim": ("-f", "--nofork"), "mvim": ("-f", "--nofork")}


def wait_hint(argv):
    """A hint when ``argv`` is an editor that returns at once without its wait
    flag (`code` without `--wait`); None otherwise."""
    flags = WAIT_FLAGS.get(name_of(argv))
    if flags is None or any(a in flags for a in argv[1:]):
        return None
    return "%s returns at once unless told to wait: set the editor to `%s %s`" % (
        name_of(argv), argv[0], flags[0])


def name_of(argv):
    """The editor's name as LEAK_OFF knows it (aliases resolved), from argv[0]."""
    base = os.path.basename(argv[0])
    return ALIASES.get(base, base)


def command(editor):
    """The `editor` setting ($VISUAL, $EDITOR, the config) -> argv, or None when unset."""
    if editor is None or not str(editor).strip():
        return None
    if "\x00" in str(editor):  # TOML can spell one; no program can be run with it
        raise UsageError("the editor command holds a NUL character") from None
    if any("\ud800" <= c <= "\udfff" for c in str(editor)):
        # bytes that are not UTF-8 in $EDITOR (os.environ's surrogateescape)
        raise UsageError("the editor command is not valid UTF-8") from None
    try:
        argv = shlex.split(editor)
    except ValueError as exc:
        raise UsageError("the editor command %r: %s" % (editor, exc)) from None
    return argv or None


def warning(argv):
    """What an editor without known leak-off options may keep; None for a known one."""
    name = name_of(argv)
    if name in LEAK_OFF:
        return None
    return KEEPS.get(name, "%s is not one this diary knows how to stop from keeping swap, "
                           "backup, undo or history files: check its settings" % name)


def full_argv(argv, path):
    """The command to run: the editor, its own arguments, the leak-off options, the file."""
    return list(argv) + LEAK_OFF.get(name_of(argv), []) + [path]


class Session:
    """A private directory for one editing session; wiped on exit."""

    def __init__(self, environ, allowed_on_disk=None, owner=None):
        self.environ = environ
        self.allowed_on_disk = allowed_on_disk
        self.owner = owner  # which diary the text is for (OWNER_FILE); no entry text
        self.directory = None

    def __enter__(self):
        self.directory = private_dir.make(KIND, self.environ, self.allowed_on_disk)
        if self.owner:
            try:
                fd = os.open(os.path.join(self.directory, OWNER_FILE),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                             0o600)
                with open(fd, "w", encoding="ascii") as f:
                    f.write(self.owner)
            except BaseException:
                private_dir.wipe(self.directory)
                raise
        return self

    def __exit__(self, *exc):
        if self.directory:
            private_dir.wipe(self.directory)

    @property
    def path(self):
        return os.path.join(self.directory, FILE_NAME)

    def write(self, text):
        path = self.path
        if os.path.lexists(path):
            private_dir.wipe_file(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        with open(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(text)

    def read(self):
        """The file's text (None when the editor removed it), then the file is
        wiped. Bytes that are not UTF-8 come back as surrogates (surrogateescape):
        editfile.parse_file refuses them, and ``write`` puts the very bytes back
        for the person to fix, so an editor saving in Latin-1 loses no letter."""
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        finally:
            if os.path.lexists(self.path):
                private_dir.wipe_file(self.path)
        return data.decode("utf-8", errors="surrogateescape")

    def edit(self, argv, text):
        """Write ``text``, run the editor on it, return what it saved (None if it
        removed the file). An exit status other than 0 is the editor's way to
        abort (vim's :cq), as is dying of Ctrl-C: DiaryError. An editor killed by
        any other signal (a crash, the OOM killer) did not choose to abort: what
        it saved is kept."""
        import signal

        self.write(text)
        status = run(full_argv(argv, self.path), self.environ)
        result = self.read()
        if status > 0:
            raise DiaryError("the editor %s exited with status %d: nothing saved"
                             % (argv[0], status))
        if status < 0 and (-status == signal.SIGINT or result == text):
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = "signal %d" % -status
            raise DiaryError("the editor %s was stopped by %s: nothing saved" % (argv[0], name))
        return result


def run(argv, environ):
    """Run the editor in the foreground; its exit status. SIGINT is ignored
    meanwhile (the editor, in the same process group, gets Ctrl-C); SIGTERM
    and SIGHUP end the editor and raise KeyboardInterrupt here, so that the
    caller's ``finally`` wipes the file."""
    from .passphrase import ENV_VAR

    terminal = _terminal_state()
    # the editor and all it starts (a `:!` shell, plugins, language servers)
    # have no use for $DIARY_PASSPHRASE: it stays with the diary
    environ = {k: v for k, v in environ.items() if k != ENV_VAR}
    try:
        child = subprocess.Popen(argv, env=environ)
    except OSError as exc:
        raise DiaryError("cannot run the editor %s: %s" % (argv[0], exc.strerror)) from None
    stopped = []

    def stop(signum, _frame):
        stopped.append(signum)
        try:
            child.terminate()
        except OSError:
            pass
        raise KeyboardInterrupt()

    old = {}
    try:
        old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            old[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: the caller's handlers stay
        old = {}
    try:
        return child.wait()
    finally:
        if stopped:
            try:
                child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        # an editor stopped (or crashed) in raw mode leaves the terminal so:
        # no echo, no line ends, for the diary's question and the shell after
        _restore_terminal(terminal)
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _terminal_state():
    """(fd, termios attributes) of the terminal on stdin, or None."""
    try:
        import termios
    except ImportError:
        return None
    try:
        return 0, termios.tcgetattr(0)
    except (termios.error, OSError, ValueError):  # not a terminal
        return None


def _restore_terminal(state):
    if state is None:
        return
    import termios

    try:
        termios.tcsetattr(state[0], termios.TCSADRAIN, state[1])
    except (termios.error, OSError, ValueError):
        pass
