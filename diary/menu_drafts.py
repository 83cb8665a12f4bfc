"""The drafts of the interactive diary's editor (drafts.py keeps them in the
diary): written before a lock, removed when the text is thrown away, written a
last time when the session ends with an editor open, and offered back at the
next start (restore, discard, or keep for later). A mixin of menu.Menu, which
holds ``writer`` (drafts.Writer, None in a read-only session), ``keepers``
(editor -> drafts.Keeper) and ``editors``."""

from . import dates, drafts, entries, render, store, tui
from .errors import DiaryError, NotFound


class DraftScreens:
    async def keep_drafts(self):
        """Before the key goes: write the open editors' drafts into the diary and
        close the draft writer's connection (it holds the key too)."""
        if self.writer is None:
            return
        for keeper in self.keepers.values():
            await keeper.flush()
        await self.writer.close_connection()

    def draft_kept(self):
        """Whether the diary holds every open editor's unsaved text (a lock wrote it);
        never for the external editor's text (``held_text``: in memory only)."""
        return not self.held_text and all(self.keepers.get(editor) is not None and self.keepers[editor].kept()
                   for editor in self.editors if editor.changed())

    async def last_draft(self, keeper):
        """The session ends with the editor open (SIGTERM, a lost terminal): write
        the text typed since the last draft, if the diary is unlocked."""
        if keeper.discarded:
            return
        try:
            await keeper.pause()
            fields = keeper.snapshot()
            if self.diary.db._passphrase and fields != keeper.written:
                drafts.save(self.diary, keeper.key, fields, entry_id=keeper.entry_id,
                            entry_version=keeper.entry_version)
        except Exception:  # leaving anyway; the draft written last stays
            pass

    async def drop_draft(self, keeper):
        """The text was thrown away: so is its draft."""
        if keeper is None:
            return
        keeper.discarded = True
        await keeper.pause()
        if keeper.written != keeper.original:
            try:
                drafts.remove(self.diary, keeper.key)
                keeper.forgotten()
            except Exception as exc:  # busy: the next start offers it again
                if not isinstance(store.translate(exc), DiaryError):
                    raise

    async def offer_drafts(self):
        """Drafts no running session keeps (a crash, a kill, a power cut): restore
        each into the editor, discard it, or keep it for later."""
        for found in drafts.orphans(self.diary):
            saved = dates.read_stored(found.saved_at)
            when = render.when(saved) if not isinstance(saved, dates.Unreadable) else "?"
            what = render.one_line(found.title.strip() or found.body.strip(), 60) or "(empty)"
            about = ("new entry" if found.entry_id is None
                     else "changes to entry #%d" % found.entry_id)
            status = [("class:status", " %s · %s · %s" % (about, when, what))]
            choices = [("restore", "Restore it in the editor"), ("discard", "Discard it"),
                       ("later", "Keep it for later")]
            action, index = await tui.Picker(
                self.term, header="A draft was not saved (the program ended while writing)",
                status=status, items=[[("class:key", " %s " % name[0]), ("", "  " + label)]
                                      for name, label in choices],
                keys={"r": "restore", "d": "discard", "l": "later"},
                footer="r restore · d discard · l/Esc keep it for later").run()
            if action == "open":
                action = choices[index][0]
            if action == "restore":
                await self.restore_draft(found)
            elif action == "discard":
                if (await tui.confirm(self.term, "Throw away this draft (%s)?" % what)
                        and self.claim_draft(found)):
                    drafts.remove(self.diary, found.key)
                    self.term.say("Draft discarded.")

    def claim_draft(self, found):
        """Take the draft ``found`` from the offer: False (and said) when another
        menu on this diary restored, saved or discarded it meanwhile."""
        if drafts.claim(self.diary, found.key):
            return True
        gone = not any(d.key == found.key for d in drafts.stored(self.diary))
        self.term.error("This draft was %s in another session meanwhile."
                        % ("saved or discarded" if gone else "restored"))
        return False

    async def restore_draft(self, found):
        if not self.claim_draft(found):  # ours now: no other session offers it
            return
        entry = None
        if found.entry_id is not None:
            try:
                entry = entries.get(self.diary, found.entry_id)
                entry.version = found.entry_version  # a save meanwhile is a conflict
            except NotFound:
                self.term.error("Entry #%d was deleted since: the draft saves as a new entry."
                                % found.entry_id)
        await self.compose(entry, found)

