"""What one key costs in the reader on a very long entry (issue 15: a key
answers within 100 ms on a 10 MB entry).

The reader renders an entry once per width (render.entry_ansi: ANSI text),
splits it into lines, and on each scroll key shows a screenful of them. This
prints, for a seeded entry of --mb megabytes (default 10):

  open      entry_ansi at 80 columns (the first render; past
            render.MARKDOWN_LIMIT characters the text is wrapped plain)
  resize    entry_ansi again at 40 columns
  search    entry_ansi at 80 with a query's words marked (Page.matches)
  split     the rendered text split into lines
  key       one scroll key: a screen (40 lines) sliced from the lines and
            parsed by prompt_toolkit's ANSI (p50, p95, max over --keys keys:
            j/k, PgDn/PgUp, g/G and jumps to the next match)
  markdown  entry_ansi of an entry just under MARKDOWN_LIMIT (the slowest
            Markdown render the reader does)
  whole     prompt_toolkit's ANSI parse of a whole 1 MB rendering (what a
            pager pays per width if it parses everything, not a screen)
  pager     the menu's real reader (pager.Pager, with ]/[ jumps, in an
            Application on a DummyOutput of 80x50): its first draw (rendering
            included), each key of --keys (the key's handler, then a whole
            screen drawn by prompt_toolkit's renderer: p50, p95, max), and a
            resize to 40 columns (re-render and draw)
  baseline  the same pager keys on a 1 KB entry (what a key costs anyway:
            prompt_toolkit drawing a screen, on this machine, now)

and writes them to bench/RESULTS.md under "## Reader" (replacing that
section if it is there). No diary is opened: the figures are rendering's.

Run from the worktree:  python bench/bench_reader.py [--mb 10] [--keys 300]
"""

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from diary import render  # noqa: E402

WORDS = ("morning coffee meeting client budget run river knee doctor book film garden "
         "rain train office design review plan family dinner walk sleep idea draft "
         "letter music piano travel paris code bug release weekend market bread café "
         "naïve über").split()
HEIGHT = 40  # lines on a screen


def text(size, rng):
    """About ``size`` characters of diary: paragraphs, lists, headings, emphasis."""
    parts, n = [], 0

    def sentence():
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 40)))

    while n < size:
        k = rng.random()
        if k < 0.05:
            part = "## " + sentence()[:40]
        elif k < 0.15:
            part = "\n".join("- " + sentence() for _ in range(rng.randint(2, 6)))
        elif k < 0.25:
            part = "\n".join(sentence()[:30] for _ in range(rng.randint(2, 8)))  # a list, a poem
        else:
            part = " ".join(sentence() for _ in range(rng.randint(1, 5))).replace(
                " run ", " **run** ", 1)
        parts.append(part)
        n += len(part) + 2
    return "\n\n".join(parts)[:size]


def entry(body):
    return types.SimpleNamespace(id=1, title="A long run", body=body, tag_list=["bench"],
                                 starred=False,
                                 created_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def keys(lines, matches, n, rng):
    """The time of each of ``n`` scroll keys over ``lines``."""
    from prompt_toolkit.formatted_text import ANSI, to_formatted_text

    top, last, costs = 0, max(0, len(lines) - HEIGHT), []
    moves = ["j", "k", "pgdn", "pgup", "g", "G", "]", "["]
    for _ in range(n):
        key = rng.choice(moves)
        start = time.perf_counter()
        if key == "j":
            top += 1
        elif key == "k":
            top -= 1
        elif key == "pgdn":
            top += HEIGHT - 1
        elif key == "pgup":
            top -= HEIGHT - 1
        elif key == "g":
            top = 0
        elif key == "G":
            top = last
        elif matches:
            import bisect

            i = bisect.bisect_right(matches, top) if key == "]" else bisect.bisect_left(
                matches, top) - 1
            top = matches[i % len(matches)]
        top = max(0, min(top, last))
        to_formatted_text(ANSI("\n".join(lines[top:top + HEIGHT])))
        costs.append(time.perf_counter() - start)
    return costs


PAGER_KEYS = ["j", "k", "pagedown", "pageup", " ", "b", "g", "G", "home", "end", "]", "["]


def pager(big, terms, n, rng):
    """Figures of the real reader: pager.Pager drawn by prompt_toolkit's renderer."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.application.current import set_app
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import DummyInput
    from prompt_toolkit.output import DummyOutput

    from diary import pager as pager_module, tui

    class Output(DummyOutput):
        size = Size(rows=HEIGHT + 10, columns=80)

        def get_size(self):
            return self.size

    out = Output()
    term = tui.Terminal(output=out, lock_after=0)
    page = pager_module.Pager(term, header="bench", jumps=True,
                     render=lambda width: render.entry_ansi(big, width, terms=terms))
    app = Application(layout=page.screen.layout, output=out, input=DummyInput(),
                      style=tui.STYLE, full_screen=True)
    handlers = {}
    for binding in page.screen.keys.bindings:
        if len(binding.keys) == 1 and binding.keys[0] in PAGER_KEYS:
            handlers[binding.keys[0]] = binding.handler

    def draw():  # what Application._redraw does
        app.render_counter += 1  # else the controls hand back the last frame's fragments
        app.renderer.render(app, app.layout)

    with set_app(app):
        t_first, _ = timed(draw)
        costs = []
        for _ in range(n):
            key = rng.choice(PAGER_KEYS)
            start = time.perf_counter()
            handlers[key](None)
            page.note = None
            draw()
            costs.append(time.perf_counter() - start)
        out.size = Size(rows=HEIGHT + 10, columns=40)
        t_resize, _ = timed(draw)
        resized = []
        for _ in range(min(n, 50)):
            start = time.perf_counter()
            handlers[rng.choice(PAGER_KEYS)](None)
            page.note = None
            draw()
            resized.append(time.perf_counter() - start)
    return t_first, sorted(costs), t_resize, max(resized)


def ms(seconds):
    return "%.1f ms" % (seconds * 1000)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    big = entry(text(int(args.mb * 1_000_000), rng))
    terms = ["run", "cafe"]

    rows = []
    t_open, page = timed(lambda: render.entry_ansi(big, 80))
    rows.append(("open: entry_ansi, 80 columns", ms(t_open)))
    t_resize, _ = timed(lambda: render.entry_ansi(big, 40))
    rows.append(("resize: entry_ansi, 40 columns", ms(t_resize)))
    t_search, marked = timed(lambda: render.entry_ansi(big, 80, terms=terms))
    rows.append(("search: entry_ansi, 80 columns, %s marked" % " and ".join(terms),
                 "%s (%d lines with a match)" % (ms(t_search), len(marked.matches))))
    t_split, lines = timed(lambda: marked.split("\n"))
    rows.append(("split into %d lines" % len(lines), ms(t_split)))
    costs = sorted(keys(lines, marked.matches, args.keys, rng))
    p50 = statistics.median(costs)
    p95 = costs[int(0.95 * (len(costs) - 1))]
    rows.append(("key: %d keys (slice %d lines, ANSI parse) p50 / p95 / max"
                 % (len(costs), HEIGHT), "%s / %s / %s" % (ms(p50), ms(p95), ms(costs[-1]))))
    under = entry(text(render.MARKDOWN_LIMIT - 1, rng))
    t_md, _ = timed(lambda: render.entry_ansi(under, 80))
    rows.append(("markdown: entry_ansi of %d characters, 80 columns" % len(under.body),
                 ms(t_md)))
    from prompt_toolkit.formatted_text import ANSI, to_formatted_text

    mb = entry(text(1_000_000, rng))
    one_mb = render.entry_ansi(mb, 80)
    t_whole, _ = timed(lambda: to_formatted_text(ANSI(one_mb)))
    rows.append(("whole: prompt_toolkit ANSI parse of a whole 1 MB rendering", ms(t_whole)))

    t_first, pager_costs, t_presize, after_resize = pager(big, terms, args.keys, rng)
    rows.append(("pager: pager.Pager first draw at 80 columns (render, marks, split, draw)",
                 ms(t_first)))
    rows.append(("pager: %d keys (%s; handler + whole-screen draw) p50 / p95 / max"
                 % (len(pager_costs), " ".join(k.strip() or "space" for k in PAGER_KEYS)), "%s / %s / %s" % (
                     ms(statistics.median(pager_costs)),
                     ms(pager_costs[int(0.95 * (len(pager_costs) - 1))]), ms(pager_costs[-1]))))
    rows.append(("pager: resize to 40 columns (re-render and draw); then a key, max",
                 "%s; %s" % (ms(t_presize), ms(after_resize))))
    _, small_costs, _, _ = pager(entry(text(1_000, rng)), terms, args.keys, rng)
    rows.append(("baseline: the same keys on a 1 KB entry p50 / p95 / max", "%s / %s / %s" % (
        ms(statistics.median(small_costs)), ms(small_costs[int(0.95 * (len(small_costs) - 1))]),
        ms(small_costs[-1]))))
    worst = max(costs[-1], pager_costs[-1], after_resize)
    verdict = "met" if worst < 0.1 else "**missed**"
    size = "%.0f MB" % args.mb if args.mb >= 1 else "%d KB" % (args.mb * 1000)
    table = ["| what | figure |", "|---|---|"] + ["| %s | %s |" % r for r in rows]
    print("\n".join(table))
    print("target: every key within 100 ms on a %s entry: %s (max %s)"
          % (size, verdict.strip("*"), ms(worst)))
    if args.no_write:
        return 0
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    section = "\n".join([
        "## Reader",
        "",
        "Written by `python bench/bench_reader.py --mb %g --keys %d` on %s (commit %s; "
        "Python %s, %d cores, load average %.2f). A seeded %s entry (paragraphs, lists, "
        "headings, emphasis) rendered as the reader renders it; no diary is opened."
        % (args.mb, args.keys, dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           commit, platform.python_version(), os.cpu_count(), os.getloadavg()[0], size),
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
        "| a key within 100 ms on a %s entry in the real reader (pager.Pager: render "
        "once per width, then parse and draw a screen of lines) | max %s | %s |"
        % (size, ms(worst), verdict),
        "",
        *table,
        "",
        "Entries longer than `render.MARKDOWN_LIMIT` (%d characters) are shown as plain "
        "text wrapped at words, not as Markdown: the open and resize figures are that "
        "path's; the markdown row is the slowest Markdown render the reader does. The "
        "whole row is why pager.Pager parses only the lines it draws (each once per "
        "width); the pager rows are that class itself, keys drawn by prompt_toolkit's "
        "renderer. A resize renders the entry again at the new width: it is not a key, "
        "and costs what open does." % render.MARKDOWN_LIMIT,
        "",
    ])
    path = os.path.join(ROOT, "bench", "RESULTS.md")
    with open(path, encoding="utf-8") as f:
        old = f.read()
    found = re.search(r"^## Reader\n.*?(?=^## |\Z)", old, re.S | re.M)
    new = (old[:found.start()] + section + "\n" + old[found.end():] if found
           else old.rstrip("\n") + "\n\n" + section)
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    print("written to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
