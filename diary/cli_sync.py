"""`diary sync [FOLDER]` and `diary sync --status`: thin, over syncfolder.py.

The folder comes from the argument, then `sync_folder` in the config file
($DIARY_SYNC_FOLDER). When another device changed the passphrase, the new one
is asked once on a terminal (or read from --folder-passphrase-file); without
it the sync still reads and writes what it can, says so, and exits 1.
"""

from .cli import arguments, command, output, settings, unlock
from .errors import ERROR, UsageError


@arguments("sync")
def _sync_args(p):
    p.add_argument("folder", nargs="?", metavar="FOLDER",
                   help="the shared folder (default: sync_folder in the config file)")
    p.add_argument("--status", action="store_true",
                   help="list the replicas in the folder, their devices and when each last "
                        "wrote; changes nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--folder-passphrase-file", metavar="FILE",
                   help="the passphrase another device changed to, when this diary's "
                        "passphrase does not open the folder's newest key")


@command("sync", "diary sync ~/Sync/diary\ndiary sync --status",
         "Sync this diary with your other devices through a folder that a sync tool "
         "(Syncthing, Dropbox) or a USB stick carries. Each device writes only its own small "
         "encrypted files there; nothing is written when nothing changed.")
def cmd_sync(args, env):
    from . import syncfolder

    folder = args.folder or settings(args, env).get("sync_folder")
    if not folder:
        raise UsageError("no sync folder: name one (`diary sync ~/Sync/diary`) or set "
                         "sync_folder in the config file")
    if args.status:
        with unlock(args, env, write=False) as d:
            rows = syncfolder.status(d, folder)
        _show_status(env, rows, args.json)
        return None
    from .cli_exchange import progress_bar
    from .passphrase import Source

    source = Source(file=args.folder_passphrase_file, fd=None, environ={}, ask=env.getpass,
                    interactive=env.can_prompt, options="--folder-passphrase-file")
    given = source.scripted()
    # Not the agent's key: sync seals the folder's keys under the passphrase
    # itself (the agent holds only the derived key, which no other device has).
    with unlock(args, env, write=True, agent=False) as d:
        with progress_bar(env, "Syncing", unit="records", machine=args.json) as progress:
            try:
                report = syncfolder.sync(d, folder, folder_passphrase=given, progress=progress)
            except syncfolder.FolderPassphrase:
                if given is not None or not env.can_prompt:
                    raise
                env.say("The sync folder was set up under another passphrase.")
                report = syncfolder.sync(d, folder, progress=progress, folder_passphrase=source
                                         .prompt("Passphrase of the sync folder: "))
            if report.needs_passphrase and given is None and env.can_prompt:
                for line in report.warnings:
                    env.say("diary: warning: %s" % line)
                env.say("Another device changed the diary's passphrase.")
                again = syncfolder.sync(d, folder, progress=progress, folder_passphrase=source
                                        .prompt("Its new passphrase: "))
                report = _joined(report, again)
    for line in report.warnings:
        env.say("diary: warning: %s" % line)
    summary = {"files_read": report.read, "files_written": report.files_written,
               "bytes_written": report.written, "files_removed": report.removed,
               "snapshot": report.snapshot, "new_device": report.new_device,
               "new_key": report.new_epoch, "learned_key": report.learned_epoch,
               "needs_passphrase": report.needs_passphrase, "applied": report.applied,
               "warnings": report.warnings}
    if args.json:
        output(env).json(summary)
    a = report.applied
    env.say("Synced: %d file%s read (%d taken, %d conflicts, %d deleted), %d byte%s written."
            % (report.read, "" if report.read == 1 else "s", a.get("taken", 0),
               a.get("conflicts", 0), a.get("deleted", 0), report.written,
               "" if report.written == 1 else "s"))
    if a.get("kept"):
        env.say("%d deletion%s from elsewhere not made: the entry was edited here meanwhile."
                % (a["kept"], "" if a["kept"] == 1 else "s"))
    if report.needs_passphrase:
        env.say("diary: some files were not read: run `diary sync` on a terminal to give the "
                "new passphrase, or use --folder-passphrase-file")
        return ERROR
    return None


def _joined(first, second):
    second.read += first.read
    second.written += first.written
    second.files_written += first.files_written
    second.removed += first.removed
    for k, v in first.applied.items():
        second.applied[k] = second.applied.get(k, 0) + v
    second.new_device = second.new_device or first.new_device
    second.new_epoch = second.new_epoch or first.new_epoch
    return second


def _show_status(env, rows, as_json):
    if as_json:
        output(env).json(rows)
        return
    out = output(env)
    if not rows:
        out.line("No replica has synced through this folder yet.")
        return
    for row in rows:
        who = "this diary" if row["this"] else "replica %s" % row["replica"]
        parts = ["device %s" % (row["device"] or "unknown (not read yet)"),
                 "last wrote %s" % (row["last_synced"] or "never"),
                 "%d file%s, %d bytes" % (row["files"], "" if row["files"] == 1 else "s",
                                          row["bytes"])]
        if row["this"]:
            who = "%s (%s)" % (who, row["replica"])
        elif row["unread"]:
            parts.append("%d file%s not read here yet" % (row["unread"],
                                                          "" if row["unread"] == 1 else "s"))
        if row["needs_passphrase"]:
            parts.append("uses a newer passphrase: run `diary sync` on a terminal")
        out.line("%s: %s" % (who, "; ".join(parts)))
