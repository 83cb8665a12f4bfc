"""Run one command and report its wall time and peak memory, from a small process.

Usage (by run.py)::

    python -I -S bench/launch.py RESULT.json TIMEOUT -- COMMAND [ARGS...]

Why a launcher: Linux carries a process's peak-RSS mark across fork() and
exec(), so a child forked straight from the runner (which grows when it reads
outputs) would report the runner's size as its own. Started with -I -S this
process is ~10 MB; it forks, the child execs the command, and wait4() gives
the command's own rusage. The clock starts just before the fork, so the
launcher's own start-up is not in the figure. After TIMEOUT seconds (0: none)
the command is killed, and what it used until then is still reported.
"""

import json
import os
import signal
import sys
import time


def main(argv):
    result, timeout, sep, *command = argv
    assert sep == "--" and command
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    timed_out = False
    if float(timeout) > 0:
        def stop(*_):
            nonlocal timed_out
            timed_out = True
            os.kill(pid, signal.SIGKILL)

        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, float(timeout))
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    seconds = time.perf_counter() - start
    signal.setitimer(signal.ITIMER_REAL, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w") as f:
        json.dump({"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024,
                   "cpu": usage.ru_utime + usage.ru_stime, "code": code,
                   "timed_out": timed_out}, f)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
