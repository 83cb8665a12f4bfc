"""jrnl's folder journals: ``YYYY/MM/DD.txt``, each file a jrnl text journal
of that day's entries (jrnl's ``type: folder``).

Read as jrnl 4.6 reads them: only four-digit year folders, month folders 01-12
and day files 01-31 that make a real date (``should-be-ignored.txt`` is), in
date order; the file's day wins over the day in an entry's header (jrnl
#2006). Symbolic links are never followed (``links_skipped`` counts them).
"""

import datetime as _dt
import os
import re

from ..errors import BadInput
from . import jrnl
from .records import fail

_YEAR = re.compile(r"\d{4}$")
_MONTH = re.compile(r"[01]\d$")
_DAY = re.compile(r"[0-3]\d\.txt$")


def _day_files(path, counter=None):
    """(relative name, date) of every day file, in date order."""
    found = []
    for year in sorted(os.listdir(path)):
        ypath = os.path.join(path, year)
        if not _YEAR.match(year) or not _dir(ypath, counter):
            continue
        for month in sorted(os.listdir(ypath)):
            mpath = os.path.join(ypath, month)
            if not _MONTH.match(month) or not _dir(mpath, counter):
                continue
            for day in sorted(os.listdir(mpath)):
                if not _DAY.match(day):
                    continue
                try:
                    date = _dt.date(int(year), int(month), int(day[:2]))
                except ValueError:
                    continue
                if os.path.islink(os.path.join(mpath, day)):
                    if counter is not None:
                        counter[0] += 1
                    continue
                found.append(("%s/%s/%s" % (year, month, day), date))
    return found


def _dir(path, counter):
    if os.path.islink(path):
        if counter is not None:
            counter[0] += 1
        return False
    return os.path.isdir(path)


def looks_like(path):
    """Whether the folder ``path`` holds a jrnl folder journal (one day file)."""
    try:
        return bool(_day_files(path))
    except OSError:
        return False


class Folder:
    def __init__(self, path, options):
        self.path, self.options = path, options
        self.links_skipped = 0

    def __iter__(self):
        from .. import files

        counter = [0]
        try:
            names = _day_files(self.path, counter)
        except OSError as exc:
            fail(self.path, "cannot read: %s" % (exc.strerror or exc))
        self.links_skipped = counter[0]
        warn = self.options["warn"]
        for name, day in names:
            options = dict(self.options, warn=(lambda m, name=name: warn("%s, %s" % (name, m)))
                           if warn else None)
            with files.open_regular(os.path.join(self.path, name), follow=False,
                                    label=name) as f:
                try:
                    for record in jrnl.read_text(f, day=day, **options):
                        record.where = "%s, %s" % (name, record.where)
                        yield record
                except BadInput as exc:
                    raise BadInput("%s, %s" % (name, exc)) from None


def read(path, *, time_format=None, tag_symbols=jrnl.TAG_SYMBOLS, warn=None):
    """Records from the jrnl folder journal ``path``."""
    return Folder(path, dict(time_format=time_format, tag_symbols=tag_symbols, warn=warn))
