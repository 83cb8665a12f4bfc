"""Words of scripts written without spaces (grams.py, issue 20 item 1): found
inside longer runs, one character too, marked on the right characters;
every write path keeps the derived column in step, and `check` notices a row
where it is not."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary import entries, grams, health, search, store
from diary.errors import BadInput

from conftest import PASSPHRASE

ZH = "今天我们去了北京的故宫博物院"
JA = "東京で寿司を食べました"
TH = "ไปกินข้าวที่ร้านอาหาร"
KO = "서울에서 친구를 만났다"


def test_derive_makes_bigrams_and_each_runs_last_character():
    assert grams.derive("", "北京的故宫") == "北京 京的 的故 故宫 宫"
    assert grams.derive("旅行", "a 宫 b") == "旅行 行 宫"
    assert grams.derive("Heron", "a café by the river, 1984") == ""  # Latin costs nothing


def test_derive_keeps_marks_apart_and_words_glued_to_a_run():
    # unicode61 would strip Thai vowel marks: กิน and กัน must not be alike
    assert grams.derive("", "กิน") != grams.derive("", "กัน")
    assert grams.derive("", "Pythonでプログラム").split()[0] == "Python"
    # a word between two runs is added once
    assert grams.derive("", "我的iPhone手机").split().count("iPhone") == 1


def test_phrase_and_run_of_are_inverse():
    for run in ("宫", "故宫", "故宫博物院", "กิน", "ข้าว"):
        assert grams.run_of(grams.phrase(run)) == run
    assert grams.phrase("宫") == '"宫"*'
    assert grams.phrase("博物院") == '"博物 物院"'


@pytest.fixture
def cjk(diary):
    ids = {}
    for key, body, title in (("zh", ZH, "旅行"), ("ja", JA, ""), ("th", TH, ""),
                             ("ko", KO, ""), ("en", "A Café in Paris, then a long walk", ""),
                             ("mix", "我的iPhone手机坏了 and the cafe", ""),
                             ("py", "Pythonでプログラムを書いた", "")):
        ids[key] = entries.add(diary, body, title=title).id
    return diary, ids


@pytest.mark.parametrize("query, key, text", [
    ("故宫", "zh", "故宫"), ("博物院", "zh", "博物院"), ("宫", "zh", "宫"),
    ("院", "zh", "院"),  # a run's last character
    ("寿司", "ja", "寿司"), ("食べ", "ja", "食べ"),
    ("กิน", "th", "กิน"), ("ข้าว", "th", "ข้าว"), ("서울", "ko", "서울"),
    ("手机", "mix", "手机"), ("プログラム", "py", "プログラム")])
def test_a_word_inside_a_run_is_found_and_marked(cjk, query, key, text):
    diary, ids = cjk
    found = search.search(diary, query)
    assert [h.entry.id for h in found.hits] == [ids[key]]
    hit = found.hits[0]
    assert [hit.snippet[a:b] for a, b in hit.spans] == [text]


def test_no_false_matches_across_runs_or_marks(cjk):
    diary, _ = cjk
    for query in ("京故", "宫博院", "กัน", "寿司東京", "ー"):
        assert search.search(diary, query).hits == [], query


def test_title_is_marked_and_mixed_queries_combine(cjk):
    diary, ids = cjk
    hit, = search.search(diary, "旅行").hits
    assert hit.entry.id == ids["zh"] and hit.title_spans == [(0, 2)]
    hit, = search.search(diary, "手机 cafe").hits
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["手机", "cafe"]
    assert [h.entry.id for h in search.search(diary, "iPhone手机").hits] == [ids["mix"]]
    # a Latin word glued to a run is found as a word
    assert [h.entry.id for h in search.search(diary, "python").hits] == [ids["py"]]
    assert {h.entry.id for h in search.search(diary, "cafe -手机").hits} == {ids["en"]}
    assert {h.entry.id for h in search.search(diary, "故宫 OR 寿司").hits} == {ids["zh"], ids["ja"]}


def test_a_long_text_is_cut_around_the_match(diary):
    body = "前" * 500 + "故宫博物院" + "后" * 500
    entries.add(diary, body)
    hit, = search.search(diary, "博物").hits
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) <= search.snippets.SNIPPET_CHARS + 2
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["博物"]


def test_json_offsets_point_at_the_run(run, made):
    assert run("add", stdin=JA).code == 0
    r = run("search", "寿司", "--json")
    assert r.code == 0, r
    (hit,) = json.loads(r.out)
    assert [hit["snippet"][a:b] for a, b in hit["matches"]] == ["寿司"]


_ALPHABET = ["故", "宫", "博", "物", "院", "ก", "ข", "า", " ", "a", "b", "。"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=st.lists(st.lists(st.sampled_from(_ALPHABET), max_size=12).map("".join),
                      min_size=1, max_size=6),
       query=st.lists(st.sampled_from(_ALPHABET[:8]), min_size=1, max_size=4).map("".join))
def test_a_run_is_found_exactly_where_it_is_a_substring(tmp_path_factory, texts, query):
    path = str(tmp_path_factory.mktemp("g") / "diary.db")
    store.create(path, PASSPHRASE)
    with store.open_diary(path, PASSPHRASE) as d:
        made = {}
        for text in texts:
            if text.strip():
                made[entries.add(d, text).id] = text
        found = search.search(d, query, limit=None)
        assert {h.entry.id for h in found.hits} == {
            i for i, t in made.items() if query in t}, (texts, query)
        for hit in found.hits:  # marked: every occurrence, nothing else (touching ones join)
            assert hit.spans and all(query in hit.snippet[a:b] for a, b in hit.spans)
            covered = {i for a, b in hit.spans for i in range(a, b)}
            at = hit.snippet.find(query)
            while at >= 0:
                assert set(range(at, at + len(query))) <= covered, (hit.snippet, hit.spans)
                at = hit.snippet.find(query, at + 1)


def test_every_write_path_keeps_grams_in_step(run, made, tmp_path):
    assert run("add", "--title", "旅行", stdin=ZH).code == 0
    assert run("edit", "1", stdin=JA).code == 0
    records = [{"title": "东京", "body": TH, "created_at": "2024-03-01T10:00:00+00:00"}]
    src = tmp_path / "in.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    assert run("import", "--format", "json", str(src)).code == 0
    other = str(tmp_path / "other.db")
    store.create(other, PASSPHRASE)
    with store.open_diary(other, PASSPHRASE) as d:
        entries.add(d, KO)
    assert run("merge", other).code == 0
    with store.open_diary(made, PASSPHRASE) as d:
        assert health.stale_grams(d.db.connection()) == []
        rows = d.db.connection().execute("SELECT grams FROM entry ORDER BY id").fetchall()
        assert len(rows) == 3 and all(g for (g,) in rows)
    for query in ("寿司", "ข้าว", "东京", "친구"):
        assert json.loads(run("search", query, "--json").out), query
    assert json.loads(run("search", "故宫", "--json").out) == []
    assert run("check").code == 0


def test_check_names_a_row_written_without_grams_and_an_edit_fixes_it(run, made):
    conn = store.keyed_connection(made, PASSPHRASE, store.KDF_ITER)
    try:
        conn.execute("INSERT INTO entry (uuid, created_at, updated_at, body) VALUES "
                     "('x', '2024-01-01T10:00:00.000000Z', '2024-01-01T10:00:00.000000Z', ?)",
                     (JA,))
    finally:
        conn.close()
    r = run("check")
    assert r.code == 4 and "entry grams" in r.out and "id 1" in r.out, r
    assert run("edit", "1", "--star").code == 0
    assert run("check").code == 0
    assert json.loads(run("search", "寿司", "--json").out)


def test_a_single_character_prefix_and_a_long_run(cjk):
    diary, ids = cjk
    assert [h.entry.id for h in search.search(diary, "宫*").hits] == [ids["zh"]]
    with pytest.raises(BadInput, match="too long a run"):
        search.search(diary, "故" * 101)
    assert search.search(diary, "故" * 100).hits == []


def test_a_query_without_such_scripts_never_builds_the_tables():
    # The tables cover code points from U+0E00 on: a query in ASCII (most of
    # them) has no run to look for, and every `diary search` would otherwise
    # build them first.
    grams._tables.cache_clear()
    search.parse("quetzal harb* title:river -work 'a phrase' tag:x/y")
    assert grams.runs("Pythonで plain text") == [(6, 7)]
    grams._tables.cache_clear()
    assert grams.runs("plain ascii text") == [] and not grams.spaceless("a")
    search.parse("quetzal qu*")
    assert grams._tables.cache_info().currsize == 0
