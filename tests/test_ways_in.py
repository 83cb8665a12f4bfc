"""Nothing the diary accepts can break it (issue 16's property test).

Records with arbitrary dates (the edges of time, impossible days, every
offset), titles, bodies, tags and stars go in through every way in: ``add``
(text on stdin or as arguments), ``edit``, ``import`` in each text format
(json, jsonl, jrnl, jrnl-json, markdown), ``tag rename``/``move`` to any
path, ``merge`` of a crafted copy, and raw SQL written by another SQLCipher
tool. Values go in as ``--title=VALUE``: a value that starts with ``-``
would otherwise be a usage error (exit 2), which is argparse's, not a way in. Afterwards every reading command exits 0,
or the input was refused with exit 1 and the diary left byte for byte as it
was. A raw row no command would write (another tool's) must still leave every
reading command working; ``check`` then names it (exit 4).

"internal error" anywhere fails, always. The examples each run a dozen
commands in-process; ``--ways-in-examples N`` runs more (CI: the default).
"""

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
import uuid as _uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary import cli, store

from conftest import PASSPHRASE


def _settings(request_examples):
    return settings(max_examples=request_examples, deadline=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))


class _Stream(io.StringIO):
    def isatty(self):
        return False


def run(path, *argv, stdin=""):
    out, err = _Stream(), _Stream()
    env = cli.Env(stdin=_Stream(stdin), stdout=out, stderr=err,
                  environ={"DIARY_PATH": path, "DIARY_PASSPHRASE": PASSPHRASE},
                  stdin_tty=False, stdout_tty=False, can_prompt=False,
                  getpass=lambda prompt: (_ for _ in ()).throw(EOFError()))
    code = cli.main(list(argv), env)
    return code, out.getvalue(), err.getvalue()


# --- what people (and other tools) feed in -----------------------------------------------

_years = st.one_of(st.sampled_from([1, 99, 999, 1000, 1001, 1969, 1970, 2000, 2024, 2038,
                                    9998, 9999]),
                   st.integers(1, 9999))
_offsets = st.one_of(st.sampled_from(["", "Z", "+00:00", "+14:00", "-12:00", "+05:45",
                                      "-23:59", "+23:59"]),
                     st.builds(lambda sign, h, m: "%s%02d:%02d" % (sign, h, m),
                               st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)))


@st.composite
def date_texts(draw):
    """A date as text: mostly well-formed but anywhere in time, sometimes
    impossible (31 February), sometimes not zero-padded, sometimes junk."""
    kind = draw(st.sampled_from(["iso", "iso", "iso", "day", "impossible", "unpadded",
                                 "junk"]))
    year = draw(_years)
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), \
        draw(st.integers(0, 59))
    if kind == "impossible":
        month, day = draw(st.sampled_from([(2, 30), (2, 31), (4, 31), (2, 29), (13, 1),
                                           (0, 10), (6, 0)]))
    if kind == "junk":
        return draw(st.sampled_from(["", " ", "yesterday", "31/02/2020", "2020-02-31T25:61",
                                     "0000-00-00", "\x00", "9" * 40, "-2020-01-01",
                                     "2024-03-31 02:30", "nonsense"]))
    if kind == "unpadded":
        return "%d-%d-%d %d:%02d" % (year, month, day, hour, minute)
    if kind == "day":
        return "%04d-%02d-%02d" % (year, month, day)
    return "%04d-%02d-%02dT%02d:%02d:%02d%s" % (year, month, day, hour, minute, second,
                                                draw(_offsets))


_words = st.sampled_from(["heron", "café", "Straße", "故宫", "\u202eevil", "\x1b[31mred",
                          "[bold]x[/bold]", "*", '"', "NOT", "OR", "-x", "\u2028", "\x00",
                          "a" * 50, "#tag", "@work/acme", "\r", "\t"])
_texts = st.one_of(st.text(max_size=60),
                   st.lists(st.one_of(_words, st.text(max_size=6)), max_size=12)
                   .map(" ".join))
_tags = st.lists(st.one_of(st.sampled_from(["work", "work/acme", "Health/Running", "a/b/c",
                                            "/", "x//y", " ", "#t", "é"]),
                           st.text(max_size=12)), max_size=3)


@st.composite
def records(draw):
    return {"created_at": draw(date_texts()), "title": draw(_texts), "body": draw(_texts),
            "tags": draw(_tags), "starred": draw(st.booleans())}


# --- the ways in ---------------------------------------------------------------------------

def _write(tmp, name, text):
    p = os.path.join(tmp, name)
    with open(p, "w", encoding="utf-8", errors="surrogatepass", newline="") as f:
        f.write(text)
    return p


def _json_record(rec):
    return {"uuid": str(_uuid.uuid4()), "created_at": rec["created_at"],
            "updated_at": rec["created_at"], "title": rec["title"], "body": rec["body"],
            "starred": rec["starred"], "tags": rec["tags"]}


def way_add(path, tmp, recs):
    rec = recs[0]
    argv = ["add", "--title=" + rec["title"], "--date=" + rec["created_at"]]
    for tag in rec["tags"]:
        argv.append("--tag=" + tag)
    if rec["starred"]:
        argv.append("--star")
    return [run(path, *argv, stdin=rec["body"])]


def way_edit(path, tmp, recs):
    rec = recs[0]
    argv = ["edit", "1", "--title=" + rec["title"], "--date=" + rec["created_at"], "--stdin"]
    for tag in rec["tags"]:
        argv.append("--tag=" + tag)
    return [run(path, *argv, stdin=rec["body"])]


def way_json(path, tmp, recs):
    p = _write(tmp, "in.json", json.dumps({"entries": [_json_record(r) for r in recs]}))
    return [run(path, "import", "--format", "json", p)]


def way_jsonl(path, tmp, recs):
    p = _write(tmp, "in.jsonl", "".join(json.dumps(_json_record(r)) + "\n" for r in recs))
    return [run(path, "import", "--format", "jsonl", p)]


def way_jrnl(path, tmp, recs):
    lines = []
    for r in recs:
        when = r["created_at"].replace("T", " ")[:16]
        tags = " ".join("@" + t for t in r["tags"])
        lines.append("[%s] %s\n%s %s\n\n" % (when, r["title"].replace("\n", " "),
                                             r["body"], tags))
    p = _write(tmp, "in.txt", "".join(lines))
    return [run(path, "import", "--format", "jrnl", p)]


def way_jrnl_json(path, tmp, recs):
    items = []
    for r in recs:
        day, _, clock = r["created_at"].replace("T", " ").partition(" ")
        items.append({"date": day, "time": clock[:5] or "09:00", "title": r["title"],
                      "body": r["body"], "tags": ["@" + t for t in r["tags"]],
                      "starred": r["starred"]})
    p = _write(tmp, "in.json", json.dumps({"tags": {}, "entries": items}))
    return [run(path, "import", "--format", "jrnl-json", p)]


def way_add_arguments(path, tmp, recs):
    # The text as command arguments (each record's words), not on stdin.
    rec = recs[0]
    return [run(path, "add", "--date=" + rec["created_at"], "--", *rec["body"].split(" "))]


def way_tag(path, tmp, recs):
    # A tag path comes in through `diary tag` too (the entry already here is
    # tagged work/acme): one command, so that a refusal changes nothing.
    rec = recs[0]
    new = (rec["tags"] or [rec["title"]])[0]
    action = "move" if rec["starred"] else "rename"
    return [run(path, "tag", action, "--", "work/acme" if action == "rename" else "work", new)]


def way_markdown(path, tmp, recs):
    folder = os.path.join(tmp, "notes")
    os.makedirs(folder, exist_ok=True)
    for n, r in enumerate(recs):
        front = "---\ncreated_at: %s\ntitle: %s\ntags: %s\nstarred: %s\n---\n" % (
            json.dumps(r["created_at"]), json.dumps(r["title"]), json.dumps(r["tags"]),
            json.dumps(r["starred"]))
        _write(folder, "%d.md" % n, front + r["body"] + "\n")
    return [run(path, "import", "--format", "markdown", folder)]


def way_csv(path, tmp, recs):
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["uuid", "created_at", "updated_at", "title", "body", "tags", "starred"])
    for r in recs:
        writer.writerow([str(_uuid.uuid4()), r["created_at"], r["created_at"], r["title"],
                         r["body"], "\n".join(r["tags"]), "true" if r["starred"] else "false"])
    p = _write(tmp, "in.csv", out.getvalue())
    return [run(path, "import", "--format", "csv", p)]


def way_dayone(path, tmp, recs):
    import zipfile

    items = [{"uuid": _uuid.uuid4().hex.upper(), "creationDate": r["created_at"],
              "timeZone": "Europe/Berlin", "text": "# %s\n\n%s" % (r["title"], r["body"]),
              "tags": r["tags"], "starred": r["starred"],
              "location": {"placeName": r["title"], "latitude": 1.5, "longitude": 2},
              "weather": {"conditionsDescription": r["body"], "temperatureCelsius": 7},
              "photos": [{"md5": r["title"], "type": "jpeg"}]} for r in recs]
    p = os.path.join(tmp, "export.zip")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("Journal.json", json.dumps({"metadata": {"version": "1.0"},
                                               "entries": items}))
    return [run(path, "import", "--format", "dayone", p)]


def way_jrnl_folder(path, tmp, recs):
    folder = os.path.join(tmp, "journal")
    for n, r in enumerate(recs):
        day = os.path.join(folder, "2024", "03")
        os.makedirs(day, exist_ok=True)
        when = r["created_at"].replace("T", " ")[:16]
        _write(day, "%02d.txt" % (n + 1), "[%s] %s\n%s\n" % (when, r["title"].replace("\n", " "),
                                                            r["body"]))
    return [run(path, "import", "--format", "jrnl-folder", "--tag-symbols", "@", folder)]


def way_markdown_yaml(path, tmp, recs):
    # Obsidian-style block lists and plain YAML scalars, not JSON values.
    folder = os.path.join(tmp, "vault")
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    for n, r in enumerate(recs):
        tags = "".join("\n  - %s" % t for t in r["tags"]) or " []"
        front = "---\ndate: %s\ntitle: %s\ntags:%s\nstarred: %s\n---\n" % (
            r["created_at"], r["title"], tags, "yes" if r["starred"] else "no")
        _write(os.path.join(folder, "sub"), "%d.md" % n, front + r["body"] + "\n")
    return [run(path, "import", "--format", "markdown", "--folder-tags", folder)]


def way_markdown_document(path, tmp, recs):
    # A single-file Markdown export written by a diary holding the records.
    other = os.path.join(tmp, "other.db")
    store.create(other, PASSPHRASE)
    _raw_insert(other, recs)
    out = os.path.join(tmp, "all.md")
    exported = run(other, "export", "--format", "markdown", "-o", out)
    if exported[0] != 0:
        return [exported]
    return [run(path, "import", out)]


def _raw_insert(path, recs):
    """What another SQLCipher tool may write: the stored text as it comes."""
    conn = store.keyed_connection(path, PASSPHRASE, store.KDF_ITER)
    try:
        conn.execute("BEGIN")
        for r in recs:
            conn.execute("INSERT INTO entry (uuid, created_at, updated_at, title, body, "
                         "starred, version, tags) VALUES (?, ?, ?, ?, ?, ?, 1, '')",
                         (str(_uuid.uuid4()), r["created_at"], r["created_at"], r["title"],
                          r["body"], int(r["starred"])))
        conn.execute("COMMIT")
    finally:
        conn.close()


def way_merge(path, tmp, recs):
    other = os.path.join(tmp, "other.db")
    store.create(other, PASSPHRASE)
    _raw_insert(other, recs)
    return [run(path, "merge", other)]


def way_raw_sql(path, tmp, recs):
    _raw_insert(path, recs)
    return []


WAYS = {"add": way_add, "add-arguments": way_add_arguments, "edit": way_edit,
        "json": way_json, "jsonl": way_jsonl, "jrnl": way_jrnl, "jrnl-json": way_jrnl_json,
        "markdown": way_markdown, "merge": way_merge, "raw-sql": way_raw_sql, "tag": way_tag,
        "csv": way_csv, "dayone": way_dayone, "jrnl-folder": way_jrnl_folder,
        "markdown-yaml": way_markdown_yaml, "markdown-document": way_markdown_document}

READS = [("list", "-n", "0"), ("list", "-n", "0", "--json"), ("search", "heron"),
         ("search", "he*"), ("tags",), ("tags", "--json")] + [
    ("export", "--format", fmt) for fmt in ("json", "jsonl", "markdown", "csv", "txt")]


def _digest(path):
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _no_internal_error(what, result):
    code, out, err = result
    assert "internal error" not in err and "Traceback" not in err, (what, result)


def _ids(path):
    code, out, err = run(path, "list", "-n", "0", "--json")
    assert code == 0, err
    return [e["id"] for e in json.loads(out)]


@pytest.fixture
def examples(request):
    return request.config.getoption("--ways-in-examples")


def test_every_way_in_leaves_every_reading_command_working(examples):
    @_settings(examples)
    @given(way=st.sampled_from(sorted(WAYS)), recs=st.lists(records(), min_size=1, max_size=3))
    def check(way, recs):
        tmp = tempfile.mkdtemp(prefix="ways-in-")
        try:
            path = os.path.join(tmp, "diary.db")
            store.create(path, PASSPHRASE)
            assert run(path, "add", "--title", "Already here", "--tag", "work/acme",
                       stdin="heron by the river")[0] == 0
            before = _digest(path)
            results = WAYS[way](path, tmp, recs)
            for result in results:
                _no_internal_error(way, result)
                assert result[0] in (0, 1), (way, result)
                if result[0] == 1:
                    assert result[2].strip() and "\n" not in result[2].strip(), result
                    assert _digest(path) == before, "a refused %s changed the diary" % way
            foreign = way == "raw-sql"
            for argv in READS:
                result = run(path, *argv)
                _no_internal_error(argv, result)
                assert result[0] == 0, (way, recs, argv, result)
            ids = _ids(path)
            result = run(path, "show", *map(str, ids))
            _no_internal_error("show", result)
            assert result[0] == 0, (way, recs, result)
            result = run(path, "check")
            _no_internal_error("check", result)
            # Another tool's row may hold what no command writes: check names it.
            assert result[0] == 0 or (foreign and result[0] == 4), (way, recs, result)
            if result[0] == 4:
                # ...with a command that repairs it, which works on such a row.
                for entry_id in ids:
                    fixed = run(path, "edit", str(entry_id), "--date", "2024-01-01 09:00")
                    _no_internal_error("edit --date", fixed)
                    assert fixed[0] == 0, fixed
                assert run(path, "check")[0] == 0
            # Whatever went in can be deleted again, shown in the trash and restored.
            result = run(path, "delete", "--yes", *map(str, ids))
            _no_internal_error("delete", result)
            assert result[0] == 0, result
            for argv in (("trash",), ("trash", "--json")):
                result = run(path, *argv)
                _no_internal_error(argv, result)
                assert result[0] == 0, (way, recs, argv, result)
            result = run(path, "restore", *map(str, ids))
            _no_internal_error("restore", result)
            assert result[0] == 0 and sorted(_ids(path)) == sorted(ids), (way, recs, result)
            assert run(path, "check")[0] == 0
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    check()
