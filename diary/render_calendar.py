"""The calendar screen's renderings: a month grid, a year heatmap, the summary.

Each is a rich renderable (render.ansi turns it into the menu's ANSI text);
the year heatmap lays itself out at the width it is rendered to.
"""

import datetime as _dt

_HEAT = ["grey30", "green4", "green3", "green1"]
_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def _weekdays(first):
    """The weekday names from ``first`` (0 Monday ... 6 Sunday: the week_start setting)."""
    return _DAYS[first:] + _DAYS[:first]


def _heat(count):
    return _HEAT[min(count, 3)]


def calendar_month(year, month, counts, today, selected=None, first_weekday=0):
    """A month grid: the days written in colour, today underlined, the
    ``selected`` day (the calendar screen's) reversed; weeks start on
    ``first_weekday`` (0 Monday, 6 Sunday)."""
    import calendar as _cal

    from rich.table import Table
    from rich.text import Text

    table = Table(title="%s %d" % (_cal.month_name[month], year), box=None,
                  padding=(0, 1), show_edge=False)
    for name in _weekdays(first_weekday):
        table.add_column(name, justify="right", header_style="bold")
    for week in _cal.Calendar(first_weekday).monthdatescalendar(year, month):
        cells = []
        for day in week:
            if day.month != month:
                cells.append(Text(""))
                continue
            n = counts.get(day, 0)
            style = ("bold white on " + _heat(n)) if n else "dim"
            if day == today:
                style += " underline"
            if day == selected:
                style = "reverse bold"
            cells.append(Text("%2d" % day.day, style=style))
        table.add_row(*cells)
    return table


def calendar_year(year, counts, today, first_weekday=0):
    """A year heatmap: one column per week, one row per weekday (from
    ``first_weekday``); as many months side by side as the width rendered to
    holds (12, 6, 4, 3, 2 or 1)."""
    return _YearHeatmap(year, counts, today, first_weekday)


class _YearHeatmap:
    def __init__(self, year, counts, today, first_weekday=0):
        self.year, self.counts, self.today = year, counts, today
        self.first = first_weekday

    def __rich_console__(self, console, options):
        from rich.text import Text

        out = Text()
        out.append("%d\n" % self.year, style="bold")
        blocks = None
        for per in (12, 6, 4, 3, 2, 1):
            blocks = [(m, m + per - 1) for m in range(1, 13, per)]
            if all(4 + self._weeks(*b)[1] <= options.max_width for b in blocks):
                break
        for i, block in enumerate(blocks):
            if i:
                out.append("\n")
            self._block(out, *block)
        out.append("    less ", style="dim")
        for n in range(4):
            out.append("■", style=_heat(n))
        out.append(" more", style="dim")
        yield out

    def _weeks(self, first, last):
        """The first day of the week the months ``first``..``last`` start in,
        and their weeks."""
        start = _dt.date(self.year, first, 1)
        start -= _dt.timedelta(days=(start.weekday() - self.first) % 7)
        end = (_dt.date(self.year + 1, 1, 1) if last == 12
               else _dt.date(self.year, last + 1, 1)) - _dt.timedelta(days=1)
        return start, (end - start).days // 7 + 1

    def _block(self, out, first, last):
        start, weeks = self._weeks(first, last)
        months = [" "] * weeks
        for m in range(first, last + 1):
            col = (_dt.date(self.year, m, 1) - start).days // 7
            label = _dt.date(self.year, m, 1).strftime("%b")
            if col + len(label) <= weeks and all(c == " " for c in months[col:col + len(label)]):
                months[col:col + len(label)] = list(label)
        out.append("    " + "".join(months).rstrip() + "\n", style="dim")
        for weekday, name in enumerate(_weekdays(self.first)):
            out.append(name + "  ", style="dim")
            for w in range(weeks):
                day = start + _dt.timedelta(days=7 * w + weekday)
                if day.year != self.year or not first <= day.month <= last:
                    out.append(" ")
                    continue
                n = self.counts.get(day, 0)
                out.append("■" if n else "·",
                           style=_heat(n) + (" underline" if day == self.today else ""))
            out.append("\n")


def summary_text(s):
    from rich.text import Text

    def plural(n, word, words=None):
        return "%d %s" % (n, word if n == 1 else words or word + "s")

    t = Text()
    t.append(plural(s.entries, "entry", "entries"), style="bold")
    t.append(" · %s · %s written" % (plural(s.words, "word"), plural(s.days, "day")))
    t.append("\ncurrent streak ", style="dim")
    t.append(plural(s.current_streak, "day"), style="bold")
    t.append(" · longest streak ", style="dim")
    t.append(plural(s.longest_streak, "day"), style="bold")
    if s.first:
        t.append("\nsince %s" % s.first.isoformat(), style="dim")
    return t


def year_table(years):
    """Every year's entries, words and days written (stats.Year), oldest first."""
    from rich.table import Table

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for name in ("year", "entries", "words", "days"):
        table.add_column(name, justify="right")
    for y in years:
        table.add_row(str(y.year), str(y.entries), str(y.words), str(y.days))
    return table


def stats_lines(report):
    """`diary stats` as plain text (piped): ``name<TAB>value`` lines, then a
    ``year<TAB>entries<TAB>words<TAB>days`` table with a header."""
    s = report.summary
    lines = ["%s\t%s" % pair for pair in (
        ("year", report.year if report.year is not None else "all"),
        ("entries", s.entries), ("words", s.words), ("days", s.days),
        ("current_streak", s.current_streak), ("longest_streak", s.longest_streak),
        ("first", s.first.isoformat() if s.first else ""))]
    lines += ["", "year\tentries\twords\tdays"]
    lines += ["%d\t%d\t%d\t%d" % (y.year, y.entries, y.words, y.days) for y in report.years]
    return lines
