"""The real vim, in a real terminal, on the diary's file: nothing it keeps is left anywhere.

Its vimrc turns on everything that leaks (swap, backup, undo files in
directories under HOME, viminfo) and then edits and saves the file itself from
a VimEnter autocommand, which runs after every -c command: so the diary's
leak-off options must win over the person's own configuration.
"""

import os
import shutil
import tempfile

import pytest

from conftest import needs_tmpfs, needs_tool
from test_cli_editor import DIARY, _drain, _entries, _pty_run
from test_leaks import MARKER, scan

from conftest import PASSPHRASE

VIMRC = """
set nocompatible
set swapfile updatecount=1 directory={home}/swap//
set backup writebackup backupdir={home}/backup//
set undofile undodir={home}/undo//
set viminfo='100,<50,s10,h viminfofile={home}/viminfo
autocmd VimEnter * call Write()
function! Write()
  call append(line('$'), '{head}' . '{tail} written in vim')
  write
  " what the swap file would hold by now; then wait for it to be written
  sleep 300m
  quit
endfunction
"""


@pytest.mark.parametrize("name", ["vim", "nvim"])
def test_the_real_editor_leaves_nothing_anywhere(made, path, tmp_path, name):
    needs_tool(name, "vim" if name == "vim" else "neovim")
    needs_tmpfs()
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    for d in (home, cwd, home / "swap", home / "backup", home / "undo"):
        d.mkdir()
    rc = VIMRC.format(home=home, head=MARKER[:5], tail=MARKER[5:])  # not in the rc
    (home / ".vimrc").write_text(rc)
    (home / ".config" / "nvim").mkdir(parents=True)
    (home / ".config" / "nvim" / "init.vim").write_text(rc.replace("viminfofile", "shadafile")
                                                        .replace("set nocompatible\n", ""))
    runtime = tempfile.mkdtemp(prefix="test-vim-", dir="/dev/shm")
    tmp_before = set(os.listdir(tempfile.gettempdir()))
    try:
        env = {"PATH": os.environ["PATH"], "HOME": str(home), "EDITOR": name, "TERM": "xterm",
               "XDG_RUNTIME_DIR": runtime, "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_DATA_HOME": str(home / ".local/share"),
               "XDG_STATE_HOME": str(home / ".local/state"), "DIARY_PATH": path,
               "DIARY_PASSPHRASE": PASSPHRASE, "DIARY_CONFIG": str(tmp_path / "none.toml"),
               "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
        p, master = _pty_run(DIARY + ["add"], env, cwd=str(cwd))
        out = _drain(master, p, timeout=60)
        os.close(master)
        assert p.returncode == 0, out
        [(_, _, body, _, _, _)] = _entries(made)
        assert body.endswith(MARKER + " written in vim")
        assert os.listdir(runtime) == []  # the private directory is gone
        for root in (home, cwd, runtime, tmp_path):
            assert scan(str(root), MARKER) == [], root
        for d in ("swap", "backup", "undo"):
            assert os.listdir(home / d) == [], d
        new_in_tmp = set(os.listdir(tempfile.gettempdir())) - tmp_before
        for name_ in new_in_tmp:
            assert scan(os.path.join(tempfile.gettempdir(), name_), MARKER) == []
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
