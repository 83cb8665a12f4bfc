"""The interactive diary: ``diary`` with no command. Screens over the same
library calls the CLI makes (entries, store, search, tags, stats); no SQL here.

Usage (cli.open_menu does this after unlocking)::

    Menu(diary, lock_after=600).run()   # -> exit status

The menu is one coroutine (``main_menu``) that awaits each screen in turn,
run in the session's one prompt_toolkit application (tui.Terminal). Every
passphrase (resuming after a lock, changing it) is typed into a tui.Secret
screen: no echo, no history, cleared as soon as it is read. Keys are listed in
the README ("The interactive diary") and in each screen's footer.
"""

import dataclasses
import os

from . import dates, drafts, entries, render, stats, store, tags, tui
from .pager import Pager
from .editor import Draft, Editor
from .menu_drafts import DraftScreens
from .menu_external import ExternalEditorScreens
from .menu_screens import Listing, Screens
from .errors import BadInput, Conflict, DiaryError, NotFound, PassphraseError

PAGE = 20  # entries per page of a list


class LockedOut(PassphraseError):
    """Three wrong passphrases (or none) after a lock: the session ends."""


class Cancelled(Exception):
    """Esc or Ctrl-C at a step of a longer question (never the unlock prompt's
    Ctrl-C, which ends the session)."""


@dataclasses.dataclass
class Action:
    key: str
    name: str
    label: str
    writes: bool = False


ACTIONS = [
    Action("w", "write", "Write a new entry", writes=True),
    # only when an external editor is set (Menu.external): E in the reader too
    Action("E", "write_in_editor", "Write in your editor", writes=True),
    Action("b", "browse", "Browse entries"),
    Action("/", "search", "Search"),
    Action("t", "tags", "Tags"),
    Action("o", "on_this_day", "On this day"),
    Action("c", "calendar", "Calendar and statistics"),
    Action("x", "trash", "Trash"),
    # only when a sync folder is set (the sync_folder setting)
    Action("y", "sync", "Sync", writes=True),
    Action("p", "passwd", "Change passphrase", writes=True),
    Action("l", "lock", "Lock"),
    Action("q", "quit", "Quit"),
]

MENU_FOOTER = "↑↓ select · Enter open · or press a key · Ctrl-C/Esc quit · Ctrl-D quit now"
LIST_FOOTER = "↑↓ select · Enter read · n/p next/previous page · Esc back"
SEARCH_HELP = ("Words must all match; \"exact phrase\", prefix*, a OR b, -word, "
               "title:word, tag:work/acme, from:2024-01-01, to:DATE, on:DATE, is:starred.")


class More(int):
    """A count that more may follow (a search of a big diary's latest
    entries first: search.Coverage.more_follow): shown as N+, and paged past."""

    def __str__(self):
        return "%d+" % self


def diary_error(exc):
    """The DiaryError for a library or driver error (store.translate); anything
    else (a bug) is raised again."""
    error = store.translate(exc)
    if not isinstance(error, DiaryError):
        raise exc
    return error


class Menu(Screens, DraftScreens, ExternalEditorScreens):
    def __init__(self, diary, *, input=None, output=None, clock=None,
                 lock_after=600.0, tick=1.0, color=True, now=dates.now, first_weekday=0,
                 trash_days=30, external=None, templates_dir=None, on_lock=None,
                 on_passphrase_changed=None, sync_folder=None):
        self.diary = diary
        self.sync_folder = sync_folder
        # The diary's agent (cli.open_menu): ended when the passphrase changes,
        # and on a lock when a setting says so; None: nothing to end.
        self.on_lock, self.on_passphrase_changed = on_lock, on_passphrase_changed
        self.trash_days = trash_days  # 0: deleting is for good (the trash_days setting)
        # The external editor (cli_editor.for_menu): {"argv", "environ", "tmpdir"}, or None.
        self.external = external
        self.templates_dir = templates_dir  # the config directory's templates/, or None
        self.now = now
        self.color = color
        self.first_weekday = first_weekday  # calendars: 0 Monday, 6 Sunday (week_start)
        self.term = tui.Terminal(input=input, output=output, clock=clock,
                                 lock_after=lock_after, tick=tick, color=color)
        self.term.on_lock = self.lock
        self.tag_history = type(self.term.history)()
        self.editors = []  # the editors open now (one; two while editing from the reader)
        # Drafts of the open editors, kept encrypted in the diary (drafts.py);
        # a read-only session keeps none.
        self.writer = None if diary.read_only else drafts.Writer(diary)
        self.keepers = {}  # editor -> drafts.Keeper
        self.new_starred = False  # `diary add --star` in the built-in editor (write_alone)
        self.held_text = False  # E's text waits in memory for a passphrase (menu_external)

    # --- the loop ------------------------------------------------------------------

    def run(self, only=None):
        """The interactive diary, exit status 0. ``only``: a coroutine function
        run instead of the main menu (write_alone), its result returned."""
        try:
            result = self.term.start(only or self.main_menu)
        finally:
            if self.writer is not None:
                self.writer.shutdown()
        return result if only else 0

    def actions(self):
        return [a for a in ACTIONS if not (a.writes and self.diary.read_only)
                and (a.name != "write_in_editor" or self.external)
                and (a.name != "sync" or self.sync_folder)]

    async def main_menu(self):
        if self.external and not self.diary.read_only:
            await self.do(self.recover_leftovers)
        actions = self.actions()
        keys = {a.key: a.name for a in actions}
        keys["s"] = "search"
        selected = 0
        if self.writer is not None:
            await self.do(self.offer_drafts)
        while True:
            items = [[("class:key", " %s " % a.key), ("", "  " + a.label)] for a in actions]
            action, selected = await tui.Picker(
                self.term, header="diary", status=self.status(), items=items, keys=keys,
                footer=MENU_FOOTER, selected=selected, back_keys=("escape",)).run()
            if action == "open":
                action = actions[selected].name
            if action is tui.BACK:
                if await tui.confirm(self.term, "Quit diary?", status=self.status()):
                    return
                continue
            if action == "quit":
                return
            selected = next(i for i, a in enumerate(actions) if a.name == action)
            await self.do(getattr(self, action))

    async def do(self, func, *args):
        """Run an action; a library error becomes a message, not an exit."""
        try:
            return await func(*args)
        except LockedOut:
            raise
        except Exception as exc:
            self.term.error(render.one_line(str(diary_error(exc))))

    def status(self):
        n = entries.count(self.diary)
        frags = [("class:status", " %s · %d %s" % (
            render.one_line(os.path.basename(self.diary.path)), n,
            "entry" if n == 1 else "entries"))]
        if self.diary.read_only:
            frags.append(("class:badge", "  [read-only]"))
        return frags

    # --- lock -----------------------------------------------------------------------

    async def lock(self, _screen=None):
        """The Lock action, and the idle lock (tui.Terminal.on_lock): drop the key
        and ask the passphrase to go on. Open editors' drafts are written first."""
        await self.keep_drafts()
        store.lock(self.diary)
        if self.on_lock is not None:
            self.on_lock()
        await self.unlock("%s is locked." % os.path.basename(self.diary.path))
        for keeper in self.keepers.values():
            keeper.retry()  # a draft the lock could not write (busy) is tried again

    def has_draft(self):
        """Whether an open editor (under the screens shown now) holds unsaved
        text, or text back from the external editor waits to be saved."""
        return self.held_text or any(editor.changed() for editor in self.editors)

    async def unlock(self, heading, note=""):
        """Ask the passphrase until it opens the diary: three tries, or as many as
        it takes while a draft is open. Leaving (Ctrl-C: exit 130, Ctrl-D: exit 3)
        first asks whether to throw the draft away; the default keeps it."""
        attempt = 0
        while attempt < 3 or self.has_draft():
            attempt += 1
            answer = await tui.Secret(self.term, header=heading, prompt="Passphrase:",
                                      lines=[note] if note else (), lockable=False).run_raw()
            if answer is tui.BACK or answer is tui.QUIT:
                question = ("Quit? The draft stays encrypted in the diary; the next start "
                            "offers it." if self.draft_kept()
                            else "Quit and throw away the draft?")
                if self.has_draft() and not await tui.confirm(
                        self.term, question, header=heading, lockable=False):
                    continue
                if answer is tui.BACK:
                    raise KeyboardInterrupt()
                raise LockedOut("no passphrase given")
            try:
                store.resume(self.diary, answer)
                return
            except PassphraseError:
                note = "Wrong passphrase, try again."
        raise LockedOut(store.WRONG_KEY)

    # --- writing --------------------------------------------------------------------

    async def write_alone(self, entry=None, start=None, starred=False):
        """`diary add` or `diary edit ID` on a terminal with no editor set: the
        built-in editor alone, on ``entry`` or a new entry (``start``: its
        fields as given, a Draft; ``starred``: the new entry's star). The
        saved entry, or None. Drafts a killed session left are offered first,
        as `diary` does: a killed `diary add` leaves one, and the quit question
        promises the next start offers it."""
        if self.writer is not None:
            await self.do(self.offer_drafts)
            if entry is not None:  # a restored draft of it may have been saved
                entry = entries.get(self.diary, entry.id)
        self.new_starred = starred
        return await self.compose(entry, start=start)

    async def write(self):
        start = await self.choose_template()
        if start is not None:
            await self.compose(None, template=start)

    async def choose_template(self):
        """When templates exist, which one starts the entry: its filled text, ""
        for a blank entry, None for Esc."""
        from . import templates

        names = templates.names(self.templates_dir) if self.templates_dir else []
        if not names:
            return ""
        items = [[("", "  (blank)")]] + [[("", "  " + render.one_line(n, 60))] for n in names]
        action, selected = await tui.Picker(
            self.term, header="New entry: start from a template", items=items,
            status=self.status(), footer="↑↓ select · Enter start · Esc back").run()
        if action is tui.BACK:
            return None
        if selected == 0:
            return ""
        return templates.read(self.templates_dir, names[selected - 1], self.now())

    def tag_paths(self):
        return [path for path, _ in render.tag_rows(tags.tree(self.diary))]

    def check(self, draft):
        """The editor's Ctrl-S: an error message, or None when the draft can be saved."""
        if not draft.has_text():
            return "Nothing to save yet: write a title or some text."
        try:
            if draft.date.strip():
                dates.parse(draft.date)
            for path in draft.tag_paths():
                tags.parse_path(path)
        except BadInput as exc:
            return str(exc)
        return None

    async def compose(self, entry, restored=None, template="", start=None):
        """The editor for a new entry (``entry`` None; ``template``: a template's
        text to start from; ``start``: a Draft of the fields given) or an
        existing one; with ``restored`` (a drafts.Stored)
        it starts from that draft, which it goes on keeping (``entry.version`` is
        then the version the draft was read at)."""
        if entry is None:
            original, heading = Draft(body=template), "New entry"
        else:
            original = Draft(title=entry.title, body=entry.body, tags=", ".join(entry.tag_list),
                             date=render.when(entry.created_at))
            heading = "Entry #%d" % entry.id
        start = start or original
        if restored is not None:
            start = Draft(title=restored.title, body=restored.body, tags=restored.tags,
                          date=restored.date)
        keeper = None
        if self.writer is not None:
            keeper = drafts.Keeper(
                self.writer, snapshot=lambda: editor.draft(), original=original,
                key=restored.key if restored else None,
                entry_id=entry.id if entry else None,
                entry_version=entry.version if entry else None,
                written=start if restored else None)
        editor = Editor(self.term, heading=heading, draft=start, original=original,
                        tag_words=self.tag_paths, check=self.check, status=self.status(),
                        on_change=keeper.changed if keeper else None)
        self.editors.append(editor)
        if keeper:
            self.keepers[editor] = keeper
        left = True  # through an exception: the draft stays for the next start
        try:
            result = await self.edit_until_done(entry, original, editor, keeper)
            left = False
            return result
        finally:
            self.editors.remove(editor)
            self.keepers.pop(editor, None)
            if keeper and left:
                await self.last_draft(keeper)

    async def edit_until_done(self, entry, original, editor, keeper=None):
        while True:
            try:
                result = await editor.run()
            except tui.Quit:
                if editor.draft() != original and not await tui.confirm(
                        self.term, "Quit and throw away what you wrote here?"):
                    continue
                await self.drop_draft(keeper)
                raise
            if result is tui.BACK:
                if editor.draft() != original and not await tui.confirm(
                        self.term, "Throw away what you wrote here?"):
                    continue
                await self.drop_draft(keeper)
                return None
            while True:
                if keeper:
                    await keeper.pause()  # no draft write between the save and its removal
                try:
                    with self.diary.write():  # the entry and the draft's removal: together
                        saved = self.save(entry, original, result)
                        if keeper:
                            drafts.remove(self.diary, keeper.key)
                    if keeper:
                        keeper.forgotten()
                    return saved
                except Exception as exc:
                    error = diary_error(exc)
                if keeper:
                    keeper.resume()
                if not isinstance(error, PassphraseError):
                    # Busy, a full disk, ...: the text stays, Ctrl-S tries again.
                    editor.message = render.one_line(str(error))
                    break
                await self.passphrase_changed("Type the new passphrase to save what you "
                                              "wrote.")

    async def passphrase_changed(self, note):
        """The passphrase was changed in another process: the file cannot be
        read with ours any more. Ask for the new one (the caller then saves)."""
        if self.writer is not None:
            await self.writer.close_connection()
        store.lock(self.diary)
        await self.unlock("The passphrase of %s was changed in another session"
                          % os.path.basename(self.diary.path), note=note)

    def save(self, entry, original, draft):
        created = None
        if draft.date.strip() and draft.date != original.date:
            created = dates.parse(draft.date)
        paths = draft.tag_paths()
        if entry is None:
            new = self._add(draft, created, paths)
            self.term.say("Saved entry #%d." % new.id)
            return new
        old = {tags.keypath(t): t for t in entry.tag_list}
        wanted = {tags.keypath(p): p for p in paths}
        changes = {}
        add = [p for k, p in wanted.items() if k not in old]
        remove = [t for k, t in old.items() if k not in wanted]
        if add:
            changes["add_tags"] = add
        if remove:
            changes["remove_tags"] = remove
        try:
            saved = entries.edit(self.diary, entry.id, body=draft.body, title=draft.title,
                                 created_at=created, expected_version=entry.version, **changes)
        except (Conflict, NotFound):
            # Someone else saved (or deleted) it meanwhile: keep both versions.
            new = self._add(draft, created or entry.created_at, paths)
            self.term.error("Entry #%d was changed in another session meanwhile: both are kept, "
                            "yours saved as a new entry #%d." % (entry.id, new.id))
            return new
        self.term.say("Saved entry #%d." % saved.id)
        return saved

    def _add(self, draft, created, paths):
        return entries.add(self.diary, draft.body, title=draft.title, created_at=created,
                           tags=paths, starred=self.new_starred)

    # --- reading --------------------------------------------------------------------

    def item(self, entry, second=None):
        """A list row, drawn at the screen's width of the moment (the Picker calls
        it): ``second`` is its second line (fragments), or a function
        ``(entry, width) -> row fragments`` that draws the whole row."""
        def row():
            width = max(1, tui.columns() - 1)  # the Picker's marker takes a column
            if callable(second):
                return second(entry, width)
            return render.entry_fragments(entry, width, note=second)
        return row

    def all_entries(self):
        def fetch(offset, limit):
            return (entries.count(self.diary),
                    [(e, None) for e in entries.list_entries(self.diary, limit=limit,
                                                             offset=offset)])
        return Listing("All entries", fetch)

    async def browse(self, listing=None, keys=None):
        """A paged list; returns the action of one of ``keys`` when pressed, else None."""
        listing = listing or self.all_entries()
        offset = selected = 0
        while True:
            total, items = listing.fetch(offset, PAGE)
            if not items and offset:
                offset = max(0, offset - PAGE)
                continue
            span = "%d–%d of %s" % (offset + 1, offset + len(items), total) if items else "none"
            more = offset + len(items) < total or isinstance(total, More)
            action, selected = await tui.Picker(
                self.term, header="%s · %s" % (listing.title, span), status=self.status(),
                items=[self.item(e, second) for e, second in items], selected=selected,
                keys={"n|right": "next", "p|left": "prev", **(keys or {})},
                past_end="next" if more else None, past_start="up" if offset else None,
                footer=LIST_FOOTER, empty="No entries here.",
                standing=listing.note() if listing.note else None).run()
            if action is tui.BACK:
                return None
            if action == "open":
                index = await self.read(listing, offset + selected)
                offset, selected = index // PAGE * PAGE, index % PAGE
            elif action == "next":
                if offset + PAGE < total or (isinstance(total, More)
                                             and listing.fetch(offset + PAGE, 1)[1]):
                    offset, selected = offset + PAGE, 0
            elif action == "prev":
                if offset:
                    offset, selected = offset - PAGE, 0
            elif action == "up":  # up from the first row: the previous page's last
                offset, selected = offset - PAGE, PAGE - 1
            else:
                return action

    async def read(self, listing, index):
        """Read entries one at a time from ``index``; returns where the reader stopped."""
        keys = {"n|right": "next", "p|left": "prev"}
        footer = "↑↓ PgUp/PgDn scroll · n/p next/previous"
        if listing.terms:
            footer += " · ]/[ next/previous match"
        if not self.diary.read_only:
            keys.update({"e": "edit", "d": "delete", "s": "star", "t": "tag"})
            footer += " · e edit · d delete · s star · t tags"
            if self.external:
                keys["E"] = "edit_in_editor"
                footer += " · E in your editor"
        footer += " · Esc back"
        while True:
            total, items = listing.fetch(index, 1)
            if not items:
                if total and index:
                    index = min(index, total) - 1
                    continue
                return 0
            entry = items[0][0]
            action = await Pager(
                self.term, header="%s · %d of %s" % (listing.title, index + 1, total),
                status=self.status(), keys=keys, footer=footer, jumps=bool(listing.terms),
                render=lambda width, e=entry: render.entry_ansi(
                    e, width, self.color, terms=listing.terms)).run()
            if action is tui.BACK:
                return index
            if action == "next":
                if index + 1 < total or (isinstance(total, More)
                                         and listing.fetch(index + 1, 1)[1]):
                    index += 1
                else:
                    self.term.say("That was the last one.")
            elif action == "prev":
                if index:
                    index -= 1
                else:
                    self.term.say("That was the first one.")
            else:
                await self.do({"edit": self.compose, "delete": self.delete, "star": self.star,
                               "tag": self.retag, "edit_in_editor": self.write_in_editor}[action],
                              entry)

    async def delete(self, entry):
        what = render.one_line(render.headline(entry), 40)
        keep = self.trash_days > 0
        question = ("Move entry #%d (%s) to the trash?" if keep
                    else "Delete entry #%d (%s) for good?")
        if await tui.confirm(self.term, question % (entry.id, what)):
            entries.delete(self.diary, [entry.id], keep=keep)
            self.term.say("Moved entry #%d to the trash (`diary restore %d` brings it back)."
                          % (entry.id, entry.id) if keep else
                          "Deleted entry #%d for good." % entry.id)

    async def star(self, entry):
        entries.edit(self.diary, entry.id, starred=not entry.starred)
        self.term.say("Starred." if not entry.starred else "Star removed.")

    async def retag(self, entry):
        text = await tui.LineInput(
            self.term, header="Tags of entry #%d" % entry.id, prompt="Tags:",
            default=", ".join(entry.tag_list), completer=tui.WordCompleter(self.tag_paths),
            history=self.tag_history, status=self.status(),
            help="Comma-separated tag paths, e.g. work/acme, health. Tab completes.").run()
        if text is tui.BACK:
            return
        draft = Draft(title=entry.title, body=entry.body, tags=text)
        error = self.check(draft)
        if error:
            raise BadInput(error)
        original = Draft(title=entry.title, body=entry.body, tags=", ".join(entry.tag_list))
        self.save(entry, original, draft)

    # --- search and tags --------------------------------------------------------------

    async def search(self):
        from . import highlight, search

        query = ""
        while True:
            text = await tui.LineInput(self.term, header="Search", prompt="Search:", default=query,
                                 help=SEARCH_HELP, history=self.term.history,
                                 status=self.status()).run()
            if text is tui.BACK or not text.strip():
                return
            query = text
            try:
                parsed = search.parse(query)  # parsed once: every page runs the same query
            except BadInput as exc:
                self.term.error(str(exc))
                continue

            said = {}  # the last page's coverage, in the words the CLI prints

            def fetch(offset, limit, parsed=parsed, said=said):
                found = search.search(self.diary, parsed, limit=limit, offset=offset)
                said["page"] = found.coverage.describe(offset, len(found.hits),
                                                       rank_asked=parsed.ranked, offsets=False)
                return ((More(found.total) if found.coverage.more_follow else found.total),
                        [(hit.entry, lambda entry, width, hit=hit: self.hit_row(hit, width))
                         for hit in found.hits])

            # Back from the results (or / there) is back to the query, to refine it.
            try:
                await self.browse(Listing("Search “%s”" % render.one_line(query, 40), fetch,
                                          terms=highlight.query_terms(parsed),
                                          note=lambda said=said: said.get("page")),
                                  keys={"/": "refine"})
            except BadInput as exc:  # what only the diary can tell (too many tags)
                self.term.error(str(exc))

    def hit_row(self, hit, width):
        """A found entry's row: its title's matches marked, and the snippet's
        columns around its first match."""
        note = (render.highlight_fragments(hit.snippet, hit.spans, width=max(1, width - 6))
                if hit.snippet else None)
        return render.entry_fragments(hit.entry, width, note=note, title_spans=hit.title_spans)

    def tagged(self, path):
        def fetch(offset, limit):
            return (entries.count(self.diary, tags=(path,)),
                    [(e, None) for e in entries.list_entries(self.diary, limit=limit,
                                                             offset=offset, tags=(path,))])
        return Listing("#" + render.one_line(path), fetch)

    # --- days -----------------------------------------------------------------------

    async def on_this_day(self):
        today = self.now().date()

        def fetch(offset, limit):
            found = stats.on_this_day(self.diary, today)
            return len(found), [(e, self.years_ago(e, today)) for e in found[offset:offset + limit]]

        await self.browse(Listing("On this day, %s" % today.strftime("%d %B"), fetch))

    def years_ago(self, entry, today):
        n = today.year - dates.local(entry.created_at).year
        return [("class:date", "%d year%s ago" % (n, "" if n == 1 else "s"))]

    # --- the passphrase ---------------------------------------------------------------

    async def passwd(self):
        heading = "Change the passphrase of %s" % os.path.basename(self.diary.path)

        async def ask(prompt):
            answer = await tui.Secret(self.term, header=heading, prompt=prompt,
                                      status=self.status()).run()
            if answer is tui.BACK:
                raise Cancelled()
            return answer

        try:
            current = await ask("Current passphrase:")
            if not store.check_passphrase(self.diary, current):
                raise DiaryError("wrong passphrase; nothing changed")
            new = await ask("New passphrase:")
            if new != await ask("Repeat it:"):
                raise DiaryError("the two passphrases differ; nothing was changed")
            if self.writer is not None:  # its thread's connection holds the old key
                await self.writer.close_connection()
            store.change_passphrase(self.diary, new)
            if self.on_passphrase_changed is not None:
                self.on_passphrase_changed()
        except Cancelled:
            self.term.say("Nothing changed.")
            return
        self.term.say("Passphrase changed.")
