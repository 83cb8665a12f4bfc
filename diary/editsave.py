"""Saving what came back from the editor (editfile.Block) in one transaction.

    plan = editsave.Plan(original_blocks, parsed_blocks)   # added, changed, emptied
    saved, conflicts, deleted = editsave.apply(d, plan, versions)

Optimistic locking as the menu does it: an entry changed in another session
since the file was written keeps both versions (ours is added as a new entry);
an emptied entry changed meanwhile is not deleted. Used by `diary add/edit`
(cli_editor.py) and the menu's external-editor key.
"""

import os

from . import editfile, external_editor, private_dir
from .errors import BadInput, Conflict, NotFound

RECOVERED_TAG = "recovered"


def owner_of(diary):
    """The diary an editor session writes for, as its directory records it: a
    digest of its real path (the path itself stays off the tmpfs too)."""
    import hashlib

    return hashlib.sha256(os.path.realpath(diary.path).encode("utf-8", "surrogateescape")
                          ).hexdigest()[:32]


def _owner_in(directory):
    try:
        with open(os.path.join(directory, external_editor.OWNER_FILE), "rb") as f:
            return f.read(64).decode("ascii", "replace")
    except OSError:
        return None  # none recorded (an older version): offered anywhere, as before


def leftovers(environ, tmpdir, owner=None):
    """[(directory, text)] left by editor sessions that did not finish (a
    SIGKILL, a crash): found where a session would make its directory now.
    With ``owner`` (owner_of), those of another diary are left alone.
    A directory with no text in it is wiped at once."""
    from . import entries

    found = []
    for directory in private_dir.leftovers(external_editor.KIND, environ, tmpdir):
        recorded = _owner_in(directory)
        if owner is not None and recorded is not None and recorded != owner:
            continue
        try:
            with open(os.path.join(directory, external_editor.FILE_NAME), "rb") as f:
                text = f.read(LEFTOVER_PARTS * entries.MAX_TEXT).decode("utf-8",
                                                                        errors="replace")
        except OSError:
            text = ""
        text = text.replace("\x00", "")
        if text.strip():
            found.append((directory, text))
        else:
            private_dir.wipe(directory)
    return found


# A leftover longer than an entry may be (entries.MAX_TEXT) is saved in parts,
# up to this many: nothing of it is cut off and wiped.
LEFTOVER_PARTS = 8


def _parts(text, size):
    """``text`` in pieces of at most ``size`` characters, each cut after a line
    break where there is one in it."""
    parts = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size) + 1 or size
        parts.append(text[:cut])
        text = text[cut:]
    return parts + [text]


def recover(d, directory, text):
    """Save a leftover's text verbatim as a new entry tagged `recovered` (in
    parts, one transaction, when it is longer than an entry may be), then wipe
    it; the (first) entry."""
    from . import entries

    parts = _parts(text, entries.MAX_TEXT)
    title = "Recovered from the editor"
    with d.write():
        saved = [entries.add(d, part, tags=[RECOVERED_TAG], title=title if len(parts) == 1
                             else "%s (part %d of %d)" % (title, i, len(parts)))
                 for i, part in enumerate(parts, 1)]
    private_dir.wipe(directory)
    return saved[0]


def edit_until_parsed(argv, environ, tmpdir, blocks, again, owner=None):
    """Open ``blocks`` in the editor ``argv`` (a private tmpfs file, wiped after
    each run) until what comes back parses; a header that does not parse reopens
    it with the error on top and the text as written. ``again(error)`` decides,
    when the file came back unchanged and still wrong, whether to edit again
    (True) or give up (False). The parsed blocks, or None when the file came
    back empty or given up. ``owner``: owner_of the diary (a leftover's home)."""
    nonce = editfile.nonce_for(blocks)
    text, error = editfile.format_file(blocks, nonce), None
    with external_editor.Session(environ, tmpdir, owner) as session:
        while True:
            shown = editfile.format_file([], nonce, error) + text if error else text
            got = session.edit(argv, shown)
            if got is None or not got.strip():
                return None
            try:
                parsed = editfile.parse_file(got, nonce, blocks,
                                             ids={b.id for b in blocks if b.id is not None})
            except editfile.BadFile as exc:
                if got == shown and not again(exc):
                    return None
                text = _without_notes(got)
                # numbered as in the file reopened, under its one line of note
                error = exc.moved(1 - (got.count("\n") - text.count("\n")))
                continue
            if not parsed or (all(b.id is None and b.empty() for b in parsed)
                              and not any(b.id is not None for b in blocks)):
                return None
            return parsed


def _without_notes(text):
    lines = text.split("\n")
    while lines and lines[0].startswith(editfile.NOTE.rstrip()):
        lines.pop(0)
    return "\n".join(lines)


class Plan:
    """What saving the file changes: added, changed and deleted entries."""

    def __init__(self, original, parsed):
        by_id = {b.id: b for b in original if b.id is not None}
        self.added = [b for b in parsed if b.id is None and not b.empty()]
        self.changed, self.emptied = [], []
        listed = set()
        for b in parsed:
            if b.id is None:
                continue
            listed.add(b.id)
            if b.id not in by_id:
                raise BadInput("entry %d was not in the file: its line was changed" % b.id)
            if b.empty():
                self.emptied.append(by_id[b.id])
            elif b != by_id[b.id]:
                self.changed.append((by_id[b.id], b))
        # an entry whose block was removed from the file is emptied too
        self.emptied += [b for i, b in by_id.items() if i not in listed]

    def nothing(self):
        return not (self.added or self.changed or self.emptied)


def apply(d, plan, versions, *, delete=True):
    """Save ``plan`` in ONE transaction. ``versions``: id -> the version read.
    An entry changed meanwhile in another session keeps both versions (ours
    is added as a new entry); one changed meanwhile is not deleted.
    Returns (saved entries, conflicts: [(old id, new entry or None)], deleted ids)."""
    from . import entries, tags

    saved, conflicts, deleted = [], [], []
    with d.write():
        for b in plan.added:
            saved.append(entries.add(d, b.body, title=b.title, created_at=b.date,
                                     starred=b.starred, tags=b.tags))
        for old, b in plan.changed:
            try:
                current = entries.get(d, old.id)
                if current.version != versions[old.id]:
                    raise Conflict("changed meanwhile")
            except (Conflict, NotFound):
                conflicts.append((old.id, entries.add(
                    d, b.body, title=b.title, created_at=b.date or old.date,
                    starred=b.starred, tags=b.tags)))
                continue
            date = b.date if (b.date is not None and
                              _instant(b.date) != _instant(old.date)) else None
            entry = entries.edit(
                d, old.id, body=b.body if b.body != old.body else None,
                title=b.title if b.title != old.title else None, created_at=date,
                starred=b.starred if b.starred != old.starred else None,
                expected_version=versions[old.id])
            wanted = {tags.keypath(t): t for t in b.tags + tags.inline_tags(
                b.title + "\n" + b.body)}
            have = {tags.keypath(t): t for t in entry.tag_list}
            add = [p for k, p in wanted.items() if k not in have]
            remove = [p for k, p in have.items() if k not in wanted]
            if add or remove:
                entry = entries.edit(d, old.id, add_tags=add, remove_tags=remove)
            saved.append(entry)
        if delete:
            for old in plan.emptied:
                try:
                    current = entries.get(d, old.id)
                except NotFound:
                    continue
                if current.version != versions[old.id]:
                    conflicts.append((old.id, None))
                    continue
                entries.delete(d, [old.id])
                deleted.append(old.id)
    return saved, conflicts, deleted


def _instant(value):
    from . import dates

    return dates.text(value) if value is not None else None
