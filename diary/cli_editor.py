"""Writing in the person's own editor: `diary add` and `diary edit` on a terminal.

The command layer over editfile.py (the file's format), external_editor.py
(running the editor on a private tmpfs file) and entries.py (saving). Prompts
go to stderr and answers come from stdin, as `diary delete` asks.

The editor is $VISUAL, $EDITOR, then the config's `editor` (config.py's
`editor` key reads them in that order). With none, `diary add` and `diary edit
ID` open the interactive diary's built-in editor alone (``builtin``: its drafts
kept in the diary as ever); a selection of entries (`edit -q`) needs an editor.
"""


from . import errors
from .cli import loaded_settings, output, unlock
from .editsave import Plan, apply
from .errors import BadInput, Busy, DiskFull, NotFound, PassphraseError, UsageError

MAX_ENTRIES = 1000  # entries in one file: beyond that, narrow the selection


# --- choosing and preparing ---------------------------------------------------------

def editor_argv(env):
    from . import external_editor

    argv = external_editor.command(loaded_settings(env).get("editor"))
    if argv is None:
        raise UsageError("no editor set: set $VISUAL or $EDITOR, or `editor` in the config "
                         "file (`diary config edit`); the interactive diary (`diary`) has a "
                         "built-in editor")
    return argv


def for_menu(env):
    """The menu's keyword arguments for the external editor and the templates."""
    from . import external_editor

    try:
        argv = external_editor.command(loaded_settings(env).get("editor"))
    except UsageError:
        argv = None
    external = None
    if argv:
        external = {"argv": argv, "environ": dict(env.environ), "tmpdir": tmpdir(env)}
    return {"external": external, "templates_dir": templates_dir(env)}


def tmpdir(env):
    return loaded_settings(env).get("editor_tmpdir")


def _ask(env, question):
    env.stderr.write(question)
    env.stderr.flush()
    line = env.stdin.readline()
    if not line:
        raise KeyboardInterrupt()  # stdin closed: as if interrupted, nothing half done
    return line.strip().lower()


def warn_once(d, env, argv):
    """Warn, once per editor per diary, about an editor with no known leak-off
    options; remembered in the encrypted diary (memo.py), never under HOME."""
    from . import external_editor, memo

    text = external_editor.warning(argv)
    if text is None:
        return
    key = "editor-warned:" + external_editor.name_of(argv)
    if memo.get(d, key) is not None:
        return
    env.say("diary: warning: %s. The file it edits is on tmpfs and wiped afterwards, but "
            "what the editor keeps elsewhere is beyond the diary's reach (shown once)." % text)
    if not d.read_only:
        memo.put(d, key, "shown")


# --- templates -------------------------------------------------------------------------

def templates_dir(env):
    from . import config, templates

    return templates.folder(config.file_path(env.environ))


def read_template(env, name, when):
    from . import templates

    return templates.read(templates_dir(env), name, when)


# --- leftovers of a session that did not finish ---------------------------------------

def recover_leftovers(d, env):
    """Offer what an editor session killed midway left in its private
    directory (editsave.leftovers): saved as a new entry tagged `recovered`
    (text kept verbatim, nothing overwritten), then wiped; or discarded
    (wiped); or kept for later."""
    from . import editsave, private_dir

    for directory, text in editsave.leftovers(env.environ, tmpdir(env), editsave.owner_of(d)):
        env.say("Found text left by an editor session that did not finish (%d characters, "
                "in %s)." % (len(text), directory))
        answer = _ask(env, "Save it as a new entry tagged `%s`? [y]es, [d]iscard it, or "
                           "Enter to keep it for later: " % editsave.RECOVERED_TAG)
        if answer in ("y", "yes"):
            entry = _retrying(env, lambda: editsave.recover(d, directory, text), d)
            if entry is not None:
                env.say("Saved as entry #%d; the leftover file was wiped." % entry.id)
        elif answer in ("d", "discard"):
            private_dir.wipe(directory)
            env.say("Discarded; the leftover file was wiped.")


# --- one editing session -----------------------------------------------------------------

def _retrying(env, save, d=None):
    """Run ``save``; on a busy diary or a full disk, keep the text (it is in
    memory) and ask whether to try again. None when the person gives up.
    With ``d``: a passphrase changed in another session meanwhile is asked
    for (new_passphrase), then the save tried again."""
    from .store import translate

    while True:
        try:
            return save()
        except KeyboardInterrupt:
            # Ctrl-C while the save waits on a busy diary (up to the busy
            # timeout, nothing on the screen): the text must not go unasked.
            # The transaction was rolled back; Ctrl-C at the question ends it.
            env.say("")
            if _ask(env, "Interrupted before the save finished: nothing was saved yet, your "
                         "text is kept. Try again? [Y/n] ") in ("n", "no"):
                return None
            continue
        except Exception as exc:
            # the driver's own "database is locked" or "disk is full" too, not
            # only ours: the text must not go with the command
            error = translate(exc)
            if isinstance(error, PassphraseError) and d is not None and env.can_prompt:
                if not new_passphrase(d, env):
                    return None
                continue
            if not isinstance(error, (Busy, DiskFull)):
                raise
            env.say("diary: could not save: %s" % error)
            if _ask(env, "Your text is kept in memory. Try again? [Y/n] ") in ("n", "no"):
                return None


def new_passphrase(d, env):
    """The diary's passphrase was changed in another session while the text
    was in the editor: the file no longer opens with ours. Ask for the new one
    on the terminal (never the scripted source: that is the old one) for as
    long as it takes, since the text is in memory only; True once the diary
    is open with it, False when the person gives up (Enter alone, Ctrl-D or
    Ctrl-C, confirmed: the question's own Ctrl-C or end of input ends the
    command, so the loop can always be left)."""
    from . import store

    if env.getpass is None:
        return False
    env.say("diary: the diary's passphrase was changed in another session meanwhile; your "
            "text is kept in memory: type the new passphrase to save it (Enter alone gives up).")
    store.lock(d)
    while True:
        try:
            answer = _typed(env, "New passphrase of the diary: ")
        except PassphraseError as exc:  # a byte the terminal's encoding cannot read
            env.say("diary: %s; try again." % exc)
            continue
        except (EOFError, KeyboardInterrupt):
            # Ctrl-D or Ctrl-C: a slip of the finger must not cost the text,
            # so as Enter alone: asked first
            env.say("")
            answer = ""
        if not answer:
            if _ask(env, "Throw away your text? [y/N] ") in ("y", "yes"):
                return False
            continue
        try:
            store.resume(d, answer)
            return True
        except PassphraseError:
            env.say("Wrong passphrase, try again.")


def _typed(env, prompt):
    """A passphrase typed on the terminal (env.getpass); EOFError (Ctrl-D) and
    KeyboardInterrupt pass through, unlike passphrase.Source's prompt, which
    makes end of input a final 'no passphrase given'."""
    from .passphrase import _valid_typed

    try:
        return _valid_typed(env.getpass(prompt))
    except UnicodeError:  # its message would quote a byte of the passphrase
        raise PassphraseError("the passphrase typed is not valid in the terminal's "
                              "encoding") from None


def edit_in_editor(d, env, blocks):
    """Open ``blocks`` in the editor until the file parses (editsave.edit_until_parsed)."""
    from . import editsave

    argv = editor_argv(env)
    warn_once(d, env, argv)

    def again(error):
        return _ask(env, "The file still does not parse (%s). [E]dit again or [d]iscard what "
                         "you wrote? " % error) not in ("d", "discard")

    return editsave.edit_until_parsed(argv, env.environ, tmpdir(env), blocks, again,
                                      editsave.owner_of(d))


def run(d, env, blocks, versions, *, as_json=False):
    """Open ``blocks`` in the editor, then save what changed (asking before
    deleting an emptied entry). Exit status."""
    from . import entries

    parsed = edit_in_editor(d, env, blocks)
    if parsed is None:
        from .external_editor import wait_hint

        hint = wait_hint(editor_argv(env))
        env.say("Nothing saved: the file came back empty or unchanged%s."
                % (" (%s)" % hint if hint else ""))
        return errors.OK
    plan = Plan(blocks, parsed)
    if plan.nothing():
        env.say("Nothing changed.")
        return errors.OK
    delete = True
    if plan.emptied:
        from .render import headline, one_line

        for e in plan.emptied:
            env.say("  #%d %s" % (e.id, one_line(headline(e), 60)))
        delete = _ask(env, "Delete %d %s emptied or removed in the file? [y/N] "
                      % (len(plan.emptied), "entry" if len(plan.emptied) == 1
                         else "entries")) in ("y", "yes")
        if not delete:
            env.say("Kept them as they were.")
    result = _retrying(env, lambda: apply(d, plan, versions, delete=delete), d)
    if result is None:
        env.say("Nothing saved.")
        return errors.ERROR
    saved, conflicts, deleted = result
    for old_id, new in conflicts:
        if new is None:
            env.say("Entry #%d was changed in another session meanwhile: not deleted."
                    % old_id)
        elif _gone(d, old_id):
            env.say("Entry #%d was deleted in another session meanwhile: yours is saved as "
                    "a new entry #%d." % (old_id, new.id))
            saved.append(new)
        else:
            env.say("Entry #%d was changed in another session meanwhile: both are kept, yours "
                    "saved as a new entry #%d." % (old_id, new.id))
            saved.append(new)
    out = output(env)
    if as_json:
        out.json([entries.to_record(e) for e in saved])
    else:
        for e in saved:
            out.line(str(e.id))
    if deleted:
        env.say("Deleted %d %s." % (len(deleted), "entry" if len(deleted) == 1 else "entries"))
    return errors.OK


def _gone(d, entry_id):
    """Whether the entry is no longer in the diary (deleted in another session)."""
    from . import entries

    try:
        entries.get(d, entry_id)
    except NotFound:
        return True
    return False


# --- the commands' editor paths -------------------------------------------------------------

def _no_editor(env):
    """Whether no editor is set, so that the built-in one is used (a terminal
    to draw it on is needed: otherwise "no editor set", exit 2)."""
    from . import external_editor

    if external_editor.command(loaded_settings(env).get("editor")) is not None:
        return False
    if env.menu_io is None and not (env.stdin_tty and env.stdout_tty):
        editor_argv(env)  # raises: no editor set
    return True


def builtin(args, env, *, entry_id=None, start=None, starred=False):
    """No editor set: the interactive diary's own editor, alone, on entry
    ``entry_id`` or a new entry (``start``: an editor.Draft of the fields
    given; ``starred``: add's --star). Prints the saved entry's id, as add does."""
    from . import entries
    from .cli import menu_for
    from .cli_entries import print_entry

    with unlock(args, env, write=True) as d:
        recover_leftovers(d, env)  # of a session killed while an editor was set
        entry = entries.get(d, entry_id) if entry_id is not None else None
        m = menu_for(d, args, env)
        saved = m.run(only=lambda: m.write_alone(entry, start, starred))
        if saved is None:
            env.say("Nothing saved.")
            return errors.OK
        print_entry(env, entries.get(d, saved.id), getattr(args, "json", False))
    return errors.OK


def add(args, env, initial_body=""):
    """`diary add` on a terminal: a new entry written in the editor."""
    from . import dates, editfile

    if _no_editor(env):
        from .editor import Draft

        if args.date:
            dates.parse(args.date)  # a bad date fails before the passphrase is asked
        return builtin(args, env, starred=args.star,
                       start=Draft(title=args.title, body=initial_body,
                                   tags=", ".join(args.tags), date=args.date or ""))
    created = dates.parse(args.date) if args.date else None
    with unlock(args, env, write=True) as d:
        recover_leftovers(d, env)
        block = editfile.Block(None, args.title, created, args.tags, args.star, initial_body)
        return run(d, env, [block], {}, as_json=args.json)


def selection(args):
    """The entries `edit -q QUERY --since --until --starred --tagged` choose,
    oldest first (the selection bulk delete and edit use): a function of the
    unlocked diary. Bad filters fail here, before the diary is unlocked."""
    from . import entries
    from .cli_trash import Selection

    chosen = Selection(args)

    def select(d):
        return entries.get_many(d, chosen.ids(d)[:MAX_ENTRIES + 1])

    return select


def edit(args, env, select, entry_id=None):
    """`diary edit ID` / `diary edit -q ...` on a terminal: the entries chosen by
    ``select(d)`` in one file. With no editor set, entry ``entry_id`` (`diary
    edit ID`) opens in the built-in editor; a selection needs an editor."""
    from . import editfile

    if entry_id is not None and _no_editor(env):
        return builtin(args, env, entry_id=entry_id)
    editor_argv(env)
    with unlock(args, env, write=True) as d:
        recover_leftovers(d, env)
        found = select(d)
        if not found:
            raise NotFound("no entry matches")
        if len(found) > MAX_ENTRIES:
            raise BadInput("%d entries match: at most %d open in one file (narrow the "
                           "selection)" % (len(found), MAX_ENTRIES))
        blocks = [editfile.Block.of(e) for e in found]
        return run(d, env, blocks, {e.id: e.version for e in found}, as_json=args.json)
