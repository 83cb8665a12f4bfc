"""Machine-readable output of `diary list --format`: JSON lines, CSV, counts.

Piped, data goes out raw (it is data, read by a program); on a terminal
every unsafe character is shown as an escape (render.TerminalSafe), so an
entry cannot send control sequences to the person's terminal.
"""

import json

from .render import TerminalSafe, clean


def stream(out):
    """Where ``out`` (render.Output) writes data: raw when piped, cleaned on a terminal."""
    return TerminalSafe(out.stream) if out.terminal else out.stream


def json_lines(out, records):
    """One compact JSON object per line (JSON Lines)."""
    to = stream(out)
    for record in records:
        to.write(json.dumps(record, ensure_ascii=False) + "\n")


def csv_entries(out, entries):
    """The CSV of `diary export --format csv`, the same columns and encoding."""
    from .exchange.exporter import write_csv

    write_csv(stream(out), entries)


def counts(out, rows):
    """``KEY<TAB>COUNT`` lines (a key is a date or a tag path: no tab, no newline)."""
    to = stream(out)
    for key, n in rows:
        to.write("%s\t%d\n" % (clean(key) if out.terminal else key, n))
