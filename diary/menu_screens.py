"""Screens of the interactive diary (menu.py): the calendar, whose Enter
lists a day's entries; the Tags screen, which also reorganises the tag
tree through the same library calls as ``diary tag``; and the Trash, which
restores as ``diary restore`` does; Sync, as ``diary sync`` does. A mixin
of menu.Menu."""

import calendar as _cal
import dataclasses
import datetime as _dt

from . import dates, entries, render, stats, store, syncfolder, tags, tui
from . import trash as trash_bin
from .pager import Pager


@dataclasses.dataclass
class Listing:
    """A sequence of entries to walk through: ``fetch(offset, limit) ->
    (total, [(entry, second line fragments or None), ...])``; ``total`` is
    an int, or More where more may follow it."""

    title: str
    fetch: object
    terms: list = None  # a search's words (highlight.query_terms): marked in the reader
    # () -> a line about the last page fetched (a search's Coverage.describe), or None
    note: object = None


TAG_FOOTER = "↑↓ select · Enter browse · r rename · m move · M merge · d delete · Esc back"
CALENDAR_FOOTER = ("←→↑↓ select a day · Enter its entries · n/p next/previous month · "
                   "y year · t today · Esc back")
TRASH_FOOTER = "↑↓ select · Enter read · r restore · Esc back"
YEAR_FOOTER = "←→ n/p next/previous year · m month · t today · Esc back"
DAY_STEPS = {"left": -1, "right": 1, "up": -7, "down": 7}


def add_months(day, step):
    """The same day ``step`` months on (the month's last day when it is shorter);
    ``day`` itself when that leaves the years an entry can have."""
    year, month = divmod(day.year * 12 + day.month - 1 + step, 12)
    if not dates.MIN_YEAR <= year <= dates.MAX_YEAR:
        return day
    last = _cal.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


class Screens:
    # --- the calendar -------------------------------------------------------------------

    async def calendar(self):
        today = self.now().date()
        counts = stats.days_written(self.diary)
        summary = stats.summary(self.diary, today)
        day, whole_year = today, False
        while True:
            def draw(width, day=day, whole_year=whole_year):
                grid = (render.calendar_year(day.year, counts, today, self.first_weekday)
                        if whole_year else
                        render.calendar_month(day.year, day.month, counts, today,
                                              selected=day, first_weekday=self.first_weekday))
                return render.ansi([grid, "", render.summary_text(summary)], width, self.color)

            if whole_year:
                keys = {"left|h|p|pageup": "prev", "right|l|n|pagedown": "next",
                        "m": "month", "t": "today"}
            else:
                keys = {"left|h": "left", "right|l": "right", "up|k": "up", "down|j": "down",
                        "p|pageup": "prev", "n|pagedown": "next", "enter": "open",
                        "y": "year", "t": "today"}
            action = await Pager(
                self.term, header="Calendar", status=self.status(), render=draw, keys=keys,
                footer=YEAR_FOOTER if whole_year else CALENDAR_FOOTER).run()
            if action is tui.BACK:
                return
            if action in DAY_STEPS:
                moved = day + _dt.timedelta(days=DAY_STEPS[action])
                day = moved if dates.MIN_YEAR <= moved.year <= dates.MAX_YEAR else day
            elif action in ("prev", "next"):
                day = add_months(day, (12 if whole_year else 1) * (1 if action == "next" else -1))
            elif action == "today":
                day, whole_year = today, False
            elif action in ("year", "month"):
                whole_year = action == "year"
            elif action == "open":
                await self.browse(self.on_day(day))

    def on_day(self, day):
        since = dates.parse(day.isoformat(), bound="start")
        until = dates.parse(day.isoformat(), bound="end")

        def fetch(offset, limit):
            return (entries.count(self.diary, since=since, until=until),
                    [(e, None) for e in entries.list_entries(
                        self.diary, limit=limit, offset=offset, since=since, until=until)])
        return Listing(day.strftime("%A %d %B %Y"), fetch)

    # --- tags ---------------------------------------------------------------------------

    async def tags(self):
        selected = 0
        writes = not self.diary.read_only
        while True:
            rows = render.tag_rows(tags.tree(self.diary))
            keys = {"r": "rename", "m": "move", "M": "merge", "d": "delete"} if writes else {}
            action, selected = await tui.Picker(
                self.term, header="Tags", status=self.status(), selected=selected,
                items=[frags for _, frags in rows], keys=keys,
                footer=TAG_FOOTER if writes else "↑↓ select · Enter browse · Esc back",
                empty="No tags yet: add them in the Tags field when you write, or write "
                      "#tags in the text.").run()
            if action is tui.BACK:
                return
            if not rows:
                continue
            path = rows[selected][0]
            if action == "open":
                await self.browse(self.tagged(path))
            else:
                below = sum(1 for p, _ in rows if p.startswith(path + "/"))
                await self.do(self.change_tag, action, path, below)

    async def change_tag(self, action, path, below):
        """Rename, move, merge or delete the tag at ``path``, after asking."""
        shown = "#" + render.one_line(path)
        if action == "delete":
            question = "Delete the tag %s%s? Its entries stay, untagged." % (
                shown, "" if not below else " and the tag below it" if below == 1
                else " and the %d tags below it" % below)
            if await tui.confirm(self.term, question, header="Tags"):
                self.tag_done("Deleted %s" % path, tags.delete(self.diary, path,
                                                               recursive=bool(below)))
            return
        prompt, question, call = {
            "rename": ("New name:", "Rename %s to %%s?" % shown, tags.rename),
            "move": ("Move under:", "Move %s under %%s?" % shown, tags.move),
            "merge": ("Merge into:", "Merge %s into %%s? It disappears." % shown, tags.merge),
        }[action]
        default = path.rsplit("/", 1)[-1] if action == "rename" else ""
        text = await tui.LineInput(
            self.term, header="%s %s" % (action.capitalize(), shown), prompt=prompt,
            default=default, completer=None if action == "rename" else
            tui.WordCompleter(self.tag_paths), history=self.tag_history,
            help={"rename": "Its new name (the last part of its path); it keeps its place.",
                  "move": "The tag to put it under (created if missing), or / for the top "
                          "level. Tab completes.",
                  "merge": "The tag that takes its entries and the tags below it. "
                           "Tab completes."}[action]).run()
        if text is tui.BACK or not text.strip():
            return
        if await tui.confirm(self.term, question % render.one_line(text), header="Tags"):
            change = call(self.diary, path, text.strip())
            verb = {"rename": "Renamed", "move": "Moved", "merge": "Merged"}[action]
            self.tag_done("%s %s %s %s" % (verb, change.old, "into" if action == "merge"
                                           else "to", change.new), change)

    def tag_done(self, done, change):
        """The same report as ``diary tag``."""
        if change.old == change.new:
            self.term.say("Nothing to do: %s is already there." % render.one_line(change.old))
        else:
            self.term.say("%s (%d %s updated)." % (render.one_line(done), change.entries,
                                                   "entry" if change.entries == 1
                                                   else "entries"))

    # --- the trash ------------------------------------------------------------------------

    async def trash(self):
        """The deleted entries, the latest deletion first: Enter reads one, r
        restores it (after asking), as ``diary restore`` does."""
        selected = 0
        writes = not self.diary.read_only
        keys = {"r": "restore"} if writes else {}
        while True:
            found = trash_bin.items(self.diary)
            action, selected = await tui.Picker(
                self.term, header="Trash · %d" % len(found), status=self.status(),
                selected=selected, items=[self.item(i) for i in found], keys=keys,
                footer=TRASH_FOOTER if writes else "↑↓ select · Enter read · Esc back",
                empty="The trash is empty: deleted entries wait here %d days."
                      % self.trash_days).run()
            if action is tui.BACK:
                return
            if not found:
                continue
            item = found[min(selected, len(found) - 1)]
            if action == "open":
                action = await Pager(
                    self.term, header="Trash · entry #%d" % item.id, status=self.status(),
                    keys=keys, footer="↑↓ scroll · r restore · Esc back" if writes
                    else "↑↓ scroll · Esc back",
                    render=lambda width, e=item: render.entry_ansi(e, width, self.color)).run()
            if action == "restore":
                await self.do(self.restore_from_trash, item)

    async def restore_from_trash(self, item):
        what = render.one_line(render.headline(item), 40)
        if await tui.confirm(self.term, "Restore entry #%d (%s)?" % (item.id, what),
                             header="Trash"):
            [(_, entry)] = trash_bin.restore(self.diary, [item.id])
            self.term.say("Restored entry #%d." % entry.id)

    # --- sync -------------------------------------------------------------------------------

    async def sync(self):
        """Sync through the folder of the sync_folder setting, as ``diary sync``;
        asks once for a passphrase another device changed to."""
        mine = None
        if store.key_only(self.diary):
            # Opened with the agent's key: sync seals the folder's keys under
            # the passphrase itself, which this session never had.
            mine = await self.sync_passphrase("Sync needs this diary's passphrase:")
            if mine is None:
                return
            if not store.check_passphrase(self.diary, mine):
                self.term.error("Wrong passphrase: nothing synced.")
                return
        try:
            report = syncfolder.sync(self.diary, self.sync_folder, mine)
        except syncfolder.FolderPassphrase:
            given = await self.sync_passphrase("The sync folder was set up under another "
                                               "passphrase; that passphrase:")
            if given is None:
                return
            report = syncfolder.sync(self.diary, self.sync_folder, mine,
                                     folder_passphrase=given)
        if report.needs_passphrase:
            given = await self.sync_passphrase("Another device changed the passphrase; "
                                               "its new passphrase:")
            if given is not None:
                report = syncfolder.sync(self.diary, self.sync_folder, mine,
                                         folder_passphrase=given)
        a = report.applied
        message = ("Synced: %d file%s read (%d taken, %d conflicts, %d deleted), %d bytes "
                   "written." % (report.read, "" if report.read == 1 else "s",
                                 a.get("taken", 0), a.get("conflicts", 0), a.get("deleted", 0),
                                 report.written))
        if report.warnings:
            self.term.error(render.one_line("%s %d warning%s: %s" % (
                message, len(report.warnings), "" if len(report.warnings) == 1 else "s",
                report.warnings[0])))
        else:
            self.term.say(message)

    async def sync_passphrase(self, prompt):
        answer = await tui.Secret(self.term, header="Sync", prompt=prompt,
                                  status=self.status()).run()
        return None if answer is tui.BACK or not answer else answer
