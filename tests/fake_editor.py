"""A stand-in editor for tests, installed on PATH as vim, nvim, nano, emacs, code, ...

Each run appends a JSON line to $FAKE_LOG: its name, argv, the file's directory,
the file's and directory's modes, the file system type, the text it was given,
its parent's pid. Then it takes the next action from the JSON list in
$FAKE_ACTIONS (by run number, counted in $FAKE_LOG):

  {"sub": [[regex, replacement], ...]}   re.sub on the text (MULTILINE)
  {"write": text}                        replace the whole text
  {"append": text}
  {"encoding": name}                     save in that encoding (default UTF-8)
  {"exit": n}                            exit with status n, the file untouched
  {"run": argv}                          run a command first (another session)
  {"sleep": s}                           sleep (a test kills something meanwhile)
  {"kill": "SIGKILL"}                    after saving, die of that signal (a crash)
  {"raw": true}                          put the terminal in raw mode first, as
                                         full-screen editors do (never undone here)
  {}                                     leave the file as it is
"""

import json
import os
import re
import stat
import subprocess
import sys
import time


def main():
    path = sys.argv[-1]
    log = os.environ["FAKE_LOG"]
    try:
        with open(log) as f:
            n = sum(1 for _ in f)
    except FileNotFoundError:
        n = 0
    with open(os.environ["FAKE_ACTIONS"]) as f:
        actions = json.load(f)
    action = actions[min(n, len(actions) - 1)]
    from diary import private_dir

    # Bytes that are not UTF-8 read and write back as they were (surrogateescape).
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        text = f.read()
    with open(log, "a") as f:
        f.write(json.dumps({
            "name": os.path.basename(sys.argv[0]), "argv": sys.argv[1:],
            "dir": os.path.dirname(path), "file_mode": stat.S_IMODE(os.stat(path).st_mode),
            "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
            "fs": private_dir.fs_type(path), "text": text, "ppid": os.getppid(),
            "pid": os.getpid(), "passphrase_env": "DIARY_PASSPHRASE" in os.environ}) + "\n")
    if action.get("raw"):
        import tty

        tty.setraw(sys.stdin.fileno())
    if "run" in action:
        # another session, run meanwhile: its own environment (``run_env``: the
        # editor is given no $DIARY_PASSPHRASE)
        subprocess.run(action["run"], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, **action.get("run_env", {})))
    if "sleep" in action:
        time.sleep(action["sleep"])
    if "exit" in action:
        sys.exit(action["exit"])
    for pattern, replacement in action.get("sub", ()):
        text = re.sub(pattern, replacement, text, flags=re.M)
    if "write" in action:
        text = action["write"]
    text += action.get("append", "")
    with open(path, "w", encoding=action.get("encoding", "utf-8"), errors="surrogateescape",
              newline="") as f:
        f.write(text)
    if "kill" in action:
        import signal

        sig = getattr(signal, action["kill"])
        if sig != signal.SIGKILL:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)


if __name__ == "__main__":
    main()
