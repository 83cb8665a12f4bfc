"""The interactive diary's external editor (`E`, shown when one is set):
writing a new entry or editing the one being read in the person's own editor
on a private tmpfs file (editsave.py, as `diary add`/`diary edit` do), and
offering at the start what a killed editor session left. A mixin of
menu.Menu, which holds ``external`` (cli_editor.for_menu: argv, environ,
tmpdir) and ``diary``."""

from . import entries, render, tui
from .errors import NotFound, PassphraseError


class ExternalEditorScreens:
    async def recover_leftovers(self):
        """At the start: text left by an editor session that did not finish."""
        from . import editsave, private_dir

        for directory, text in editsave.leftovers(self.external["environ"],
                                                  self.external["tmpdir"],
                                                  editsave.owner_of(self.diary)):
            question = ("Text left by an editor session that did not finish was found (%d "
                        "characters). Save it as a new entry tagged `%s`?"
                        % (len(text), editsave.RECOVERED_TAG))
            if await tui.confirm(self.term, question):
                entry = editsave.recover(self.diary, directory, text)
                self.term.say("Recovered as entry #%d; the leftover file was wiped." % entry.id)
            elif await tui.confirm(self.term, "Throw that text away? (No keeps it for later)"):
                private_dir.wipe(directory)
                self.term.say("Thrown away; the leftover file was wiped.")

    async def write_in_editor(self, entry=None):
        """E: write a new entry (or edit ``entry``) in the external editor, on
        a private tmpfs file (editsave.py), then save as `diary edit` does."""
        import sys

        from prompt_toolkit.application import in_terminal

        from . import editfile, editsave, external_editor, memo
        from .menu import diary_error  # menu imports this module first

        if entry is None:
            start = await self.choose_template()
            if start is None:
                return
            blocks, versions = [editfile.Block(body=start)], {}
        else:
            blocks, versions = [editfile.Block.of(entry)], {entry.id: entry.version}
        argv = self.external["argv"]
        warning = external_editor.warning(argv)
        key = "editor-warned:" + external_editor.name_of(argv)
        if warning and memo.get(self.diary, key) is None:
            if not await tui.confirm(self.term, "%s. Open it anyway? (asked once)" % warning):
                return
            memo.put(self.diary, key, "shown")

        def again(error):
            sys.stderr.write("The file still does not parse (%s). [E]dit again or [d]iscard "
                             "what you wrote? " % render.one_line(str(error)))
            sys.stderr.flush()
            return sys.stdin.readline().strip().lower() not in ("d", "discard")

        async with in_terminal():
            parsed = editsave.edit_until_parsed(argv, self.external["environ"],
                                                self.external["tmpdir"], blocks, again,
                                                editsave.owner_of(self.diary))
        if parsed is None:
            self.term.say("Nothing saved: the file came back empty.")
            return
        plan = editsave.Plan(blocks, parsed)
        if plan.nothing():
            self.term.say("Nothing changed.")
            return
        delete = not plan.emptied or await tui.confirm(
            self.term, "Delete entry #%d? You emptied it in the editor." % plan.emptied[0].id)
        while True:
            try:
                saved, conflicts, deleted = editsave.apply(self.diary, plan, versions,
                                                           delete=delete)
                break
            except Exception as exc:
                error = diary_error(exc)
                if isinstance(error, PassphraseError):
                    self.held_text = True  # in memory only: no try limit, Quit asks
                    try:
                        await self.passphrase_changed("Type the new passphrase to save what "
                                                      "you wrote in your editor.")
                    finally:
                        self.held_text = False
                    continue
                if not await tui.confirm(self.term, "Could not save: %s. Your text is kept "
                                         "in memory. Try again?" % render.one_line(str(error))):
                    return
        if conflicts and conflicts[0][1] is not None:
            try:
                entries.get(self.diary, conflicts[0][0])
                what = "changed in another session meanwhile: both are kept, yours"
            except NotFound:
                what = "deleted in another session meanwhile: yours is"
            self.term.error("Entry #%d was %s saved as a new entry #%d."
                            % (conflicts[0][0], what, conflicts[0][1].id))
        elif conflicts:
            self.term.error("Entry #%d was changed in another session meanwhile: not deleted."
                            % conflicts[0][0])
        elif deleted:
            self.term.say("Deleted entry #%d." % deleted[0])
        elif saved:
            self.term.say("Saved entry #%d." % saved[-1].id)
