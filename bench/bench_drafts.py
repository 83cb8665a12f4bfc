"""What a keystroke costs in the built-in editor while drafts are kept in the
diary (issue 17, item 4: never more than 50 ms for a key).

The real menu (menu.Menu in its one prompt_toolkit Application, drawing to a
real VT100 output into /dev/null at 100x40) edits an entry of --kb kilobytes
(its text in the editor); a typist thread sends --keys keys, one every --gap
ms. For each key: the time from its byte entering the input to the end of
the next screen drawn after its handler ran (p50, p95, p99, max). Three
variants, run in rotation in ONE run (A B C A B C ...: the machine is shared
and noisy):

  off       no drafts (the menu without its draft writer): the baseline
  product   drafts with the product's timers (written 1 s after the last
            change, at most 5 s after the first unwritten one)
  stress    drafts written 20 ms after each pause and at most 100 ms after
            the first unwritten change: a write under way during most keys

Also printed: how many draft writes ran and their duration in the worker
thread (p50, max), to show the writes happened beside the keys, and the
longest the event loop itself spent in the drafts' code (Keeper.changed on
each change, Keeper._start when a timer fires: what a key could wait for). Figures go to
bench/RESULTS-drafts.md (replaced).

Run from the worktree:  python bench/bench_drafts.py [--keys 300] [--gap 100] [--kb 2] [--rounds 2]
"""

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from prompt_toolkit.data_structures import Size  # noqa: E402
from prompt_toolkit.input import create_pipe_input  # noqa: E402
from prompt_toolkit.output.vt100 import Vt100_Output  # noqa: E402

from diary import drafts, entries, menu, store  # noqa: E402

PASSPHRASE = "bench passphrase"
VARIANTS = {
    "off": None,
    "product": (drafts.Keeper.QUIET, drafts.Keeper.LATEST),
    "stress": (0.02, 0.1),
}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def one_run(path, variant, keys, gap):
    """Latencies (ms) of ``keys`` keys, and the draft writes' durations (ms)."""
    timers = VARIANTS[variant]
    if timers:
        drafts.Keeper.QUIET, drafts.Keeper.LATEST = timers
    writes = []
    real_save = drafts.save

    def timed_save(*a, **kw):
        t = time.perf_counter()
        try:
            return real_save(*a, **kw)
        finally:
            writes.append((time.perf_counter() - t) * 1000)

    drafts.save = timed_save
    on_loop = []  # ms the event loop spent in the drafts' own code (Keeper)
    real_changed, real_start = drafts.Keeper.changed, drafts.Keeper._start

    def timed(func):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                on_loop.append((time.perf_counter() - t) * 1000)
        return wrapper

    drafts.Keeper.changed, drafts.Keeper._start = timed(real_changed), timed(real_start)
    renders, processed = [], [0]
    sent = []
    devnull = open(os.devnull, "w")
    try:
        with store.open_diary(path, PASSPHRASE) as diary, create_pipe_input() as inp:
            out = Vt100_Output(devnull, lambda: Size(rows=40, columns=100), term="xterm")
            m = menu.Menu(diary, input=inp, output=out, lock_after=0)
            if timers is None:
                m.writer = None
            screens = []

            def watch(app):
                renders.append((time.perf_counter(), processed[0]))
                if m.term.screen is not None:
                    screens.append(m.term.screen.title)

            m.term.watch = watch

            def wait(pred, timeout=30):
                end = time.monotonic() + timeout
                while not pred():
                    if time.monotonic() > end:
                        raise RuntimeError("stuck; screens: %r" % screens[-3:])
                    time.sleep(0.005)

            def typist():
                wait(lambda: screens and screens[-1] == "diary")
                for k in ("b", "\r", "e"):
                    inp.send_text(k)
                    time.sleep(0.3)
                wait(lambda: screens and screens[-1].startswith("Entry #"))
                time.sleep(0.2)
                for i in range(keys):
                    sent.append(time.perf_counter())
                    inp.send_text("abcdefghij klmnopqrst"[i % 21])
                    time.sleep(gap / 1000)
                time.sleep(0.3)
                inp.send_text("\x1b")  # cancel: "Throw away?" y, then quit
                time.sleep(0.3)
                inp.send_text("y")
                time.sleep(0.3)
                inp.send_text("\x1b")
                time.sleep(0.3)
                inp.send_text("\x1b")
                time.sleep(0.3)
                inp.send_text("q")

            thread = threading.Thread(target=typist, daemon=True)
            thread.start()

            def count(*_):
                processed[0] += 1
            # Count processed keys: the application exists once start runs.
            orig_started = m.term._started

            def started(main):
                m.term.app.key_processor.after_key_press += count
                return orig_started(main)
            m.term._started = started
            m.run()
            thread.join(timeout=5)
    finally:
        drafts.save = real_save
        drafts.Keeper.changed, drafts.Keeper._start = real_changed, real_start
        devnull.close()
    # The keys typed in the editor: processed numbers 4 .. 3 + keys (b, Enter, e first).
    latencies = []
    for i, t0 in enumerate(sent):
        n = 3 + i + 1
        done = next((t for t, p in renders if t >= t0 and p >= n), None)
        if done is not None:
            latencies.append((done - t0) * 1000)
    return latencies, writes, on_loop


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--gap", type=float, default=100, help="ms between keys")
    parser.add_argument("--kb", type=int, default=2, help="size of the entry's text")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    saved_timers = (drafts.Keeper.QUIET, drafts.Keeper.LATEST)
    results = {v: ([], [], []) for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.db")
        store.create(path, PASSPHRASE)
        with store.open_diary(path, PASSPHRASE) as d:
            line = "A line of a long entry, written to see what a draft costs. "
            body = (line * (args.kb * 1024 // len(line) + 1))[: args.kb * 1024]
            entries.add(d, body, title="Long")
        for _ in range(args.rounds):
            for variant in VARIANTS:
                for kept, got in zip(results[variant],
                                     one_run(path, variant, args.keys, args.gap)):
                    kept.extend(got)
                drafts.Keeper.QUIET, drafts.Keeper.LATEST = saved_timers
    lines = [
        "# Drafts: keystroke latency in the built-in editor",
        "",
        "`python bench/bench_drafts.py --keys %d --gap %g --kb %d --rounds %d` on %s, %s, "
        "Python %s, %d CPUs (shared with other jobs)." % (
            args.keys, args.gap, args.kb, args.rounds, dt.date.today().isoformat(),
            platform.machine(), platform.python_version(), os.cpu_count()),
        "",
        "Key to screen drawn (ms), %d keys per variant, variants in rotation "
        "(A B C A B C) in one run. Draft writes run in the worker thread." % (
            args.keys * args.rounds),
        "",
        "| variant | keys | p50 | p95 | p99 | max | draft writes | write p50 | write max "
        "| loop in Keeper, p99 | max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, (lat, writes, on_loop) in results.items():
        row = [variant, str(len(lat))]
        row += ["%.1f" % pct(lat, p) for p in (50, 95, 99)] + ["%.1f" % max(lat)]
        row += [str(len(writes))]
        row += (["%.1f" % statistics.median(writes), "%.1f" % max(writes)] if writes
                else ["-", "-"])
        row += (["%.2f" % pct(on_loop, 99), "%.2f" % max(on_loop)] if on_loop
                else ["-", "-"])
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "How to read it: `off` is what a key costs anyway on this machine at this moment "
        "(prompt_toolkit handling the key and drawing the screen; the long tail is the "
        "shared machine, drafts or not). The draft writes run in the worker thread, beside "
        "the keys; what the event loop itself spends in the drafts' code (moving the timer "
        "on each change, taking the fields when it fires: what a key could wait for "
        "because of drafts) is in the last two columns. `stress` writes a draft after "
        "almost every key, so its loop time includes waiting for the GIL while the worker "
        "runs Python code.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "bench", "RESULTS-drafts.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
