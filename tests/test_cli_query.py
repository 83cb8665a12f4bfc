"""`diary query` and `--read-only` through the CLI, in-process."""

import json
import os
import signal
import threading

import pytest

from conftest import PASSPHRASE, dir_listing, file_bytes
from diary import entries, store, user_sql as query
from diary.errors import BadInput, ReadOnly

ESC = "\x1b"


@pytest.fixture
def filled(made):
    with store.open_diary(made, PASSPHRASE) as d:
        entries.add(d, "line one\nline\ttwo \\ end", title="First")
        entries.add(d, "red " + ESC + "[31mtext" + ESC + "]52;c;b3duZWQ=\x07", title="Tricky")
    return made


ROWS = "SELECT id, title, NULL AS missing, x'00ff' AS raw, 1.5 AS half FROM entry ORDER BY id"


def test_piped_output_is_tab_separated_with_escapes(filled, run):
    result = run("query", "SELECT id, body FROM entry ORDER BY id")
    assert result.code == 0, result.err
    assert result.out == ("id\tbody\n"
                          "1\tline one\\nline\\ttwo \\\\ end\n"
                          "2\tred \\x1b[31mtext\\x1b]52;c;b3duZWQ=\\x07\n")


def test_piped_output_shows_null_blob_and_float(filled, run):
    assert run("query", ROWS).out == ("id\ttitle\tmissing\traw\thalf\n"
                                      "1\tFirst\t\tx'00ff'\t1.5\n"
                                      "2\tTricky\t\tx'00ff'\t1.5\n")


def test_json_is_an_array_of_objects_with_raw_text(filled, run):
    result = run("query", "--json", ROWS.replace("title", "title, title"))
    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {"id": 1, "title": "First", "title_2": "First", "missing": None, "raw": "00ff",
         "half": 1.5},
        {"id": 2, "title": "Tricky", "title_2": "Tricky", "missing": None, "raw": "00ff",
         "half": 1.5}]
    body = json.loads(run("query", "--json", "SELECT body FROM entry WHERE id = 2").out)
    assert body == [{"body": "red " + ESC + "[31mtext" + ESC + "]52;c;b3duZWQ=\x07"}]


def test_csv_has_a_header_row_and_raw_values(filled, run):
    result = run("query", "--csv", "SELECT id, body, NULL AS n FROM entry WHERE id = 1")
    assert result.out == 'id,body,n\n1,"line one\nline\ttwo \\ end",\n'


def test_the_terminal_table_shows_user_text_escaped(filled, run):
    result = run("query", "SELECT id, body, NULL AS n FROM entry ORDER BY id", tty=True,
                 environ={"NO_COLOR": "1"})
    assert result.code == 0, result.err
    assert ESC + "]52" not in result.out and "\x07" not in result.out
    assert "\\x1b[31mtext\\x1b]52;c;b3duZWQ=\\x07" in result.out
    assert "NULL" in result.out and "2 rows" in result.out


def test_a_column_name_is_user_text_too(filled, run):
    result = run("query", 'SELECT 1 AS "a' + ESC + '[2J"')
    assert result.out == "a\\x1b[2J\n1\n"
    table = run("query", 'SELECT 1 AS "a' + ESC + '[2J"', tty=True)
    assert ESC + "[2J" not in table.out


def test_the_sql_can_come_from_stdin(filled, run):
    assert run("query", stdin="SELECT count(*) AS n FROM entry\n").out == "n\n2\n"
    assert run("query", "-", "--json", stdin="SELECT 7 AS x").out == '[\n  {\n    "x": 7\n  }\n]\n'


def test_one_statement_at_a_time(filled, run):
    before = file_bytes(filled)
    result = run("query", "SELECT 1; SELECT 2")
    assert (result.code, result.out) == (1, "")
    assert result.err == "diary: give one SQL statement at a time\n"
    assert run("query", "SELECT 1; DELETE FROM entry").code == 1
    assert run("query", "SELECT 1 AS x; -- a comment").out == "x\n1\n"
    assert file_bytes(filled) == before


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM nowhere", "diary: SQL error: no such table: nowhere\n"),
    ("SELEKT 1", 'diary: SQL error: near "SELEKT": syntax error\n'),
    ("", "diary: no SQL statement given\n"),
    ("   \n", "diary: no SQL statement given\n"),
    ("SELECT 1 FROM \"x" + ESC + "[31m\"", "diary: SQL error: no such table: x\\x1b[31m\n"),
])
def test_bad_sql_is_one_line_and_exit_1(filled, run, sql, message):
    result = run("query", sql)
    assert (result.code, result.out, result.err) == (1, "", message)


def test_a_statement_without_rows_prints_nothing(filled, run):
    for sql in ("BEGIN", "-- only a comment"):
        result = run("query", sql)
        assert (result.code, result.out, result.err) == (0, "", "")


def test_begin_immediate_is_refused_by_the_query_only_layer(filled, run):
    result = run("query", "BEGIN IMMEDIATE")
    assert (result.code, result.err) == (
        1, "diary: refused in a read-only session: the statement would write\n")


def test_query_needs_a_diary_and_the_right_passphrase(path, run, made):
    assert run("query", "SELECT 1", environ={"DIARY_PASSPHRASE": "wrong"}).code == 3
    missing = run("query", "SELECT 1", diary_path=path + ".missing")
    assert missing.code == 1 and "no diary at" in missing.err


def test_query_help_has_an_example(run):
    result = run("query", "--help")
    assert result.code == 0
    assert "example:" in result.out and "diary query" in result.out


# --- --read-only on every command ---------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ("add", "some text"),
    ("add", "--title", "t"),
    ("edit", "1", "--title", "new"),
    ("delete", "1", "--yes"),
    ("passwd",),
    ("init",),
])
def test_a_write_command_under_read_only_fails_before_asking(filled, run, argv):
    before = (file_bytes(filled), dir_listing(os.path.dirname(filled)))
    for args in (("--read-only",) + argv, argv + ("--read-only",)):
        result = run(*args, stdin="piped text", tty=False, answers=["x", "x"],
                     environ={"DIARY_PASSPHRASE": None})
        assert (result.code, result.out) == (1, "")
        assert result.err == "diary: this session is read-only\n"
        assert result.asked == []
    assert (file_bytes(filled), dir_listing(os.path.dirname(filled))) == before


@pytest.mark.parametrize("argv", [("list",), ("show", "1"), ("query", "SELECT 1")])
def test_a_read_command_works_with_or_without_the_flag(filled, run, argv):
    before = file_bytes(filled)
    assert run(*argv).code == 0
    assert run("--read-only", *argv).code == 0
    assert file_bytes(filled) == before


# --- the library side of query ----------------------------------------------------------------

def test_query_runs_only_in_a_read_only_session(filled):
    with store.open_diary(filled, PASSPHRASE) as d:
        with pytest.raises(ReadOnly, match="only in a read-only session"):
            query.run(d, "SELECT 1")
    with store.open_diary(filled, PASSPHRASE, read_only=True,
                          authorizer=lambda *args: 0) as d:
        with pytest.raises(ReadOnly):
            query.run(d, "SELECT 1")


def test_query_returns_columns_and_rows(filled):
    with store.open_diary(filled, PASSPHRASE, read_only=True) as d:
        result = query.run(d, "SELECT id, title FROM entry ORDER BY id")
        assert result.columns == ["id", "title"]
        assert result.rows == [(1, "First"), (2, "Tricky")]
        with pytest.raises(BadInput, match="NUL"):
            query.run(d, "SELECT 1\x00")
        with pytest.raises(BadInput):
            query.run(d, None)


def test_to_records_keeps_repeated_columns_apart():
    result = query.Result(["a", "a", "a_2", "b"], [(1, 2, 3, float("inf"))])
    assert query.to_records(result) == [{"a": 1, "a_2": 2, "a_2_2": 3, "b": "inf"}]


def test_ctrl_c_stops_a_runaway_query(filled):
    forever = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT count(*) FROM n")
    with store.open_diary(filled, PASSPHRASE, read_only=True) as d:
        timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                query.run(d, forever)
        finally:
            timer.cancel()
        assert query.run(d, "SELECT 1").rows == [(1,)]  # the connection still works


def test_every_example_in_the_readme_runs_read_only(filled):
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Queries and read-only sessions")[1].split("\n## ")[0]
    blocks = section.split("```sql\n")[1:]
    examples = [b.split("```")[0] for b in blocks]
    assert len(examples) >= 8
    with store.open_diary(filled, PASSPHRASE, read_only=True) as d:
        for sql in examples:
            assert query.run(d, sql).columns, sql
