"""Commands for the diary's history: on-this-day and stats (issue 18, item 5).

Both read only; the numbers come from stats.py (shared with the menu's
calendar and "On this day"), the drawing from render_calendar.py.
"""

from .cli import arguments, command, loaded_settings, output, parse_date, positive_int, unlock
from .errors import UsageError


@arguments("on-this-day")
def _on_this_day_args(p):
    p.add_argument("date", nargs="?", metavar="DATE",
                   help="the calendar day (default: today): 2024-03-02, 'last friday', ...")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--full", action="store_true", help="print whole entries")
    shown.add_argument("--json", action="store_true", help="print a JSON array of entries")


@command("on-this-day",
         "diary on-this-day\ndiary on-this-day 2024-12-25 --full\ndiary on-this-day --json",
         "The entries written on this calendar day (or DATE's) in earlier years, newest "
         "first: a line each, whole entries with --full, or --json. An entry of 29 February "
         "comes back on 28 February in the years without a 29th. How many there were goes "
         "to stderr.")
def cmd_on_this_day(args, env):
    from . import dates, stats

    day = (parse_date(args.date) if args.date is not None else dates.now())
    day = dates.local(day).date()
    with unlock(args, env, write=False) as d:
        found = stats.on_this_day(d, day)
    out = output(env)
    if args.json:
        from . import entries

        out.json([entries.to_record(e) for e in found])
    elif args.full:
        out.entries(found)
    elif found:
        out.entry_list(found)
    env.say("%d %s on %s in earlier years." % (
        len(found), "entry" if len(found) == 1 else "entries",
        day.strftime("%-d %B")))


@arguments("stats")
def _stats_args(p):
    p.add_argument("--year", type=positive_int, metavar="YEAR",
                   help="the numbers of this year alone, and its heatmap (default: the whole "
                        "diary, and this year's heatmap)")
    p.add_argument("--json", action="store_true", help="print the numbers as a JSON object")


@command("stats",
         "diary stats\ndiary stats --year 2024\ndiary stats --json",
         "Entries, words, days written, the current and the longest streak (days in a row "
         "with an entry; today not written yet does not break the current one), and each "
         "year's counts. On a terminal a year's heatmap too (this year, or --year's). "
         "Piped: NAME<TAB>VALUE lines, then a tab-separated table of the years; --json: one "
         "object (README: stats).")
def cmd_stats(args, env):
    from . import dates, stats

    if args.year is not None and not dates.MIN_YEAR <= args.year <= dates.MAX_YEAR:
        raise UsageError("--year must be from %d to %d" % (dates.MIN_YEAR, dates.MAX_YEAR))
    today = dates.now().date()
    with unlock(args, env, write=False) as d:
        report = stats.report(d, today, args.year)
    out = output(env)
    if args.json:
        out.json(stats.to_record(report))
        return
    from . import render_calendar

    if not out.terminal:
        for line in render_calendar.stats_lines(report):
            out.line(line)
        return
    week_start = loaded_settings(env).get("week_start")
    year = args.year if args.year is not None else today.year
    console = out.console
    console.print(render_calendar.summary_text(report.summary))
    if report.years:
        console.print()
        console.print(render_calendar.year_table(report.years))
    console.print()
    console.print(render_calendar.calendar_year(year, report.days, today,
                                                6 if week_start == "sunday" else 0))
