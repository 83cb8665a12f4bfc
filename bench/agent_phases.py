"""Where `diary list -n 10` and `diary search WORD` spend their CPU with the
agent, phase by phase: each phase of cli.main done by hand, in order, timed
with the process's CPU clock; N fresh processes, the median of each phase.

Usage (an agent must be serving DB: `diary unlock`; XDG_RUNTIME_DIR as it had)::

    python bench/agent_phases.py DB list [--runs 8] [--pre]
    python bench/agent_phases.py DB search WORD [--runs 8] [--pre]

``--pre`` imports sqlcipher3, peewee, playhouse and argparse first, so that
each later phase shows what diary adds beyond them (without it, a phase that
imports one of them first pays for it). The diary imported is the one on
sys.path (PYTHONPATH=checkout to measure another). Bytecode must be cached
(PYTHONDONTWRITEBYTECODE unset, or compileall run): compiling diary's
modules from source costs more than most phases. Made to find where the time
goes, not to compare runs: bench_agent.py compares.
"""

import os
import sys

# Nothing more at the top: what this script imports before one() starts its
# clock counts as the interpreter's start-up (the script itself is compiled
# from source, as any script: ~1-2 ms more than `diary`'s start-up).


def one(db, command, word, pre):
    """One run in this process: prints the phases as name=ms, tab-separated."""
    import gc
    import time

    clock = time.process_time
    gc.disable()  # as cli.main does for start-up
    phases = [("python start-up (to this script's first line)", clock() * 1000)]
    last = [clock()]

    def mark(name):
        now = clock()
        phases.append((name, (now - last[0]) * 1000))
        last[0] = now

    if pre:
        import argparse as _argparse  # noqa: F401
        import peewee  # noqa: F401
        import playhouse.sqlcipher_ext  # noqa: F401
        import playhouse.sqlite_ext  # noqa: F401
        import sqlcipher3  # noqa: F401
        mark("(--pre) import sqlcipher3, peewee, playhouse, argparse")
    from diary import cli
    mark("import diary.cli (argparse, errors, process)")
    from diary.process import harden
    harden(process=True)
    mark("harden (resource, ctypes: core dumps off)")
    env = cli.Env.system()
    env.stdout = open(os.devnull, "w")
    argv = ["--diary", db] + (["list", "-n", "10"] if command == "list" else ["search", word])
    args = cli.build_parser(env.stdout).parse_args(argv)
    mark("argparse: build and parse (imports cli_%s)" % command)
    cli.apply_settings(env)
    mark("apply_settings (config, dates)")
    import sqlcipher3  # noqa: F401
    mark("import sqlcipher3")
    import peewee  # noqa: F401
    mark("import peewee")
    import playhouse.sqlcipher_ext  # noqa: F401
    mark("import playhouse.sqlcipher_ext")
    from diary import store  # noqa: F401
    mark("import diary.store (schema, driver, dates)")
    if command == "list":
        from diary import entries
        mark("import diary.entries")
        d = cli.unlock(args, env, write=False)
        mark("unlock (agent_client, passphrase, readonly, access; key; open)")
        with d:
            with d.read():
                found = entries.list_entries(d, limit=10)
            mark("entries.list_entries")
            from diary.cli_entries import _print_list
            _print_list(env, found, "short")
            mark("print (render_data, render)")
    else:
        from diary import search
        mark("import diary.search (playhouse.sqlite_ext, dataclasses)")
        query = search.parse(word)
        mark("search.parse")
        d = cli.unlock(args, env, write=False)
        mark("unlock (agent_client, passphrase, readonly, access; key; open)")
        with d:
            found = search.search(d, query, limit=20, offset=0, sort="rank")
            mark("search.search")
            cli.output(env).search_results(found.hits, snippets=query.ranked)
            mark("print (render)")
    mark("close")
    gc.freeze()
    print("\t".join("%s=%.3f" % p for p in phases))


def main(argv=None):
    if "--one" in (sys.argv[1:] if argv is None else argv):  # the child: nothing imported
        db, command, word, *rest = [a for a in (sys.argv[1:] if argv is None else argv)
                                    if a != "--one"]
        one(db, command, word, "--pre" in rest)
        return 0
    import argparse
    import statistics
    import subprocess

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("db")
    p.add_argument("command", choices=("list", "search"))
    p.add_argument("word", nargs="?", default="quetzal")
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--pre", action="store_true")
    args = p.parse_args(argv)
    runs = {}
    for _ in range(args.runs):
        r = subprocess.run([sys.executable, os.path.abspath(__file__), args.db, args.command,
                            args.word, "--one"] + (["--pre"] if args.pre else []),
                           capture_output=True, text=True, check=True)
        for cell in r.stdout.strip().split("\t"):
            name, ms = cell.rsplit("=", 1)
            runs.setdefault(name, []).append(float(ms))
    total = 0.0
    for name, values in runs.items():
        med = statistics.median(values)
        total += med
        print("  %-62s %6.2f ms (%.2f-%.2f)" % (name, med, min(values), max(values)))
    print("  %-62s %6.2f ms" % ("sum of the medians", total))
    print("  load average: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
