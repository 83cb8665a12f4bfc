"""The reader's plain wrapping (render.wrapped) of one very long line: an
entry with no line break (a pasted blob) past render.MARKDOWN_LIMIT.

render.wrapped once cut each piece off the line's rest, copying the rest
every time: quadratic. It now walks an index. This times both on the same
text, side by side (A, B, A, B), for lines of --mb megabytes (default 1 and
10; the old way only up to 2 MB unless --old-up-to says more), and writes the
figures to bench/RESULTS-wrap-line.md.

Run from the worktree:  python bench/bench_wrap_line.py
"""

import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from diary import render  # noqa: E402
from test_render_reader import wrapped_by_cutting  # noqa: E402  the old way


def timed(func, text, width):
    start = time.perf_counter()
    func(text, width)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, nargs="+", default=[1, 2, 10])
    parser.add_argument("--old-up-to", type=float, default=2)
    parser.add_argument("--width", type=int, default=80)
    args = parser.parse_args()
    rows = []
    for mb in args.mb:
        for name, text in (("no spaces", "y" * int(mb * 1e6)),
                           ("words", ("word " * int(mb * 2e5))),
                           ("bidi first", "\\u202e" + "y" * int(mb * 1e6))):
            old, new = [], []
            for _ in range(2):  # A, B, A, B
                if mb <= args.old_up_to:
                    old.append(timed(wrapped_by_cutting, text, args.width))
                new.append(timed(render.wrapped, text, args.width))
            rows.append((mb, name, min(old) if old else None, min(new)))
            print("%5.1f MB %-10s old %s  new %.2f s" % (
                mb, name, "%.2f s" % min(old) if old else "(not run)", min(new)), flush=True)
    with open(os.path.join(ROOT, "bench", "RESULTS-wrap-line.md"), "w") as f:
        f.write("# One long line in the reader (render.wrapped)\n\n"
                "`python bench/bench_wrap_line.py` on %s, Python %s, %d columns; best of 2 "
                "(A, B, A, B), seconds.\n\n| MB | line | old (cut the rest) | new (index) |\n"
                "|---|---|---|---|\n" % (platform.platform(), platform.python_version(),
                                        args.width))
        for mb, name, old, new in rows:
            f.write("| %g | %s | %s | %.2f |\n" % (mb, name, "%.2f" % old if old else "—", new))


if __name__ == "__main__":
    main()
