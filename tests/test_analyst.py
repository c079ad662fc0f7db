"""Issue 7, search that helps analysts: synonyms, did-you-mean, autocomplete, key terms, related
reports, export and explain, on the sample index (and a slice of xwlb when ../shared is there)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from itertools import islice

import pytest

from tests.helpers import assert_matches_openapi, count_builds
from zhsearch.index.settings import Settings
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search
from zhsearch.search.suggest import complete, lexicon
from zhsearch.search.synonyms import load_synonyms
from zhsearch.web.app import create_app

XSS = "<script>alert(1)</script>"


def api(client, path: str = "/api/search", spec_path: str = "", **params):
    response = client.get(path, query_string=params)
    assert_matches_openapi(response, spec_path or path)
    return response


def document(client, doc_id: str) -> dict:
    return api(client, f"/api/documents/{doc_id}", "/api/documents/{doc_id}").get_json()["document"]


def suggestion_queries(body: dict) -> list[str]:
    return [s["q"] for s in body["suggestions"]]


# -- synonyms ---------------------------------------------------------------------------------


def test_bundled_synonyms_have_the_analyst_pairs():
    table = load_synonyms()
    assert "太阳能电池" in table.group("光伏")
    assert "电动汽车" in table.group("新能源汽车")
    assert "招商引资" in table.group("招商")
    assert "储能电站" in table.group("储能")
    assert "宁德时代" in table.group("catl") and "CATL" in table.group("宁德时代")


def test_synonym_widens_the_query_and_says_so(client):
    body = api(client, q="电动汽车").get_json()
    assert body["total"] >= 1  # the sample says 新能源汽车, never 电动汽车
    assert body["expanded"] == [{"term": "电动汽车", "synonyms": ["新能源汽车", "新能源车"]}]
    assert any("同义词" in n and "新能源汽车" in n for n in body["notices"])
    assert any("<mark>新能源汽车</mark>" in h["snippet"] for h in body["hits"])
    plain = api(client, q="电动汽车", synonyms="0").get_json()
    assert plain["total"] == 0 and plain["expanded"] == []


def test_abbreviation_finds_the_company(client):
    catl = api(client, q="CATL").get_json()
    full = api(client, q="宁德时代", synonyms="0").get_json()
    assert catl["total"] == full["total"] >= 1
    assert catl["expanded"][0]["synonyms"] == ["宁德时代"]


def test_multi_word_member_and_negation(client):
    body = api(client, q="太阳能电池").get_json()  # one typed term, a member of the 光伏 group
    assert body["expanded"] and "光伏" in body["expanded"][0]["synonyms"]
    assert body["total"] >= api(client, q="光伏", synonyms="0").get_json()["total"]
    spaced = api(client, q="太阳能 电池").get_json()  # ANDed terms that spell a member
    assert spaced["expanded"] == body["expanded"] and spaced["total"] == body["total"]
    excluded = api(client, q="招商 -光伏").get_json()
    assert [e["term"] for e in excluded["expanded"]] == ["招商"]  # not the excluded word


def test_editing_the_synonyms_file_needs_no_reindex(sample_settings, tmp_path):
    path = tmp_path / "syn.txt"
    path.write_text("# mine\n负极材料，黑金材料\n", encoding="utf-8")
    settings = sample_settings.replace(synonyms=str(path))
    with open_context(settings) as ctx:
        result = run_search(SearchRequest.from_params({"q": "黑金材料"}, settings), ctx)
        assert result.total >= 1 and result.expanded[0]["synonyms"] == ["负极材料"]
        path.write_text("负极材料, 阳极材料\n", encoding="utf-8")
        later = run_search(SearchRequest.from_params({"q": "黑金材料"}, settings), ctx)
        assert later.expanded == [] and later.total == 0


def test_a_missing_synonyms_file_is_a_notice_not_an_error(sample_settings, tmp_path):
    settings = sample_settings.replace(synonyms=str(tmp_path / "missing.txt"))
    with open_context(settings) as ctx:
        result = run_search(SearchRequest.from_params({"q": "光伏"}, settings), ctx)
    assert result.total >= 2 and result.expanded == []
    assert any("同义词文件" in n for n in result.notices)


def test_the_synonyms_setting_is_documented():
    names = {name for name, *_ in Settings.describe()}
    assert {"synonyms", "suggest_below", "suggest_terms", "max_export"} <= names


# -- did you mean -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected", "reason"),
    [
        ("锂电负级材料", "锂电负极材料", "typo"),
        ("lidianchi", "锂电池", "pinyin"),
        ("fuji cailiao", "负极材料", "pinyin"),
        ("鋰電負級材料", "锂电负极材料", "typo"),  # Traditional input with a wrong character
    ],
)
def test_did_you_mean(client, q, expected, reason):
    body = api(client, q=q).get_json()
    assert body["total"] == 0
    first = body["suggestions"][0]
    assert first["q"] == expected and first["reason"] == reason, body["suggestions"]
    assert first["params"] == {"q": expected}
    assert first["total"] == api(client, q=expected).get_json()["total"] > 0


def test_too_specific_phrase_and_filter_suggest_loosening(client):
    # Both words are in 000, 002 and 004, never 负极材料 right before 锂电池: without the quotes
    # the space ANDs two terms.
    body = api(client, q='"负极材料 锂电池"').get_json()
    assert body["total"] == 0
    loose = {"q": "负极材料 锂电池", "reason": "phrase", "total": 3}
    assert loose.items() <= body["suggestions"][0].items()
    # Quotes around a term without gaps change nothing (it is found literally), so no suggestion.
    exact = api(client, q='"锂电池负极材料项目"').get_json()
    assert exact["total"] == 1 and exact["hits"][0]["id"].startswith("000")
    assert not [s for s in exact["suggestions"] if s["reason"] == "phrase"]
    filtered = api(client, q="光伏", region="320000").get_json()
    assert filtered["total"] == 0
    drop = next(s for s in filtered["suggestions"] if s["reason"] == "filter")
    assert drop["params"] == {"q": "光伏"} and drop["total"] >= 2


def test_no_suggestions_when_the_search_finds_enough(client):
    assert api(client, q="光伏").get_json()["suggestions"] == []
    assert api(client, q="zzzzqqq").get_json()["suggestions"] == []  # nothing better exists


def test_did_you_mean_on_the_page_is_a_link_and_escaped(client):
    html = client.get("/", query_string={"q": "锂电负级材料"}).get_data(as_text=True)
    assert 'class="did-you-mean"' in html and "锂电负极材料" in html
    assert "/?q=%E9%94%82%E7%94%B5%E8%B4%9F%E6%9E%81%E6%9D%90%E6%96%99" in html
    hostile = client.get("/", query_string={"q": '"' + XSS + '"'}).get_data(as_text=True)
    assert XSS not in hostile


def test_did_you_mean_builds_its_lexicon_once_and_answers_alike(sample_settings, monkeypatch):
    """The lexicon is built on the first empty result and read by the next ones (how fast they
    answer: bench/suggest_latency.py)."""
    with open_context(sample_settings) as ctx:
        built = count_builds(ctx.cache, monkeypatch)
        lexicon(ctx)  # built ahead, as warm-up does: did-you-mean's budget is wall-clock time
        request = SearchRequest.from_params({"q": "锂电负级材料"}, sample_settings)
        answers = [run_search(request, ctx).suggestions for _ in range(5)]
    assert answers[0] and all(a == answers[0] for a in answers)
    assert built.count("suggest_lexicon") == 1, built


# -- autocomplete -----------------------------------------------------------------------------


def test_suggest_endpoint_completes_hanzi_and_pinyin(client):
    hanzi = api(client, "/api/suggest", q="锂电").get_json()
    assert hanzi["ok"] is True and hanzi["q"] == "锂电"
    assert "锂电池" in [s["term"] for s in hanzi["suggestions"] if s["kind"] == "term"]
    assert any(s["kind"] == "title" and s["id"] for s in hanzi["suggestions"])
    assert "负极材料" in [
        s["term"] for s in api(client, "/api/suggest", q="fuji").get_json()["suggestions"]
    ]
    second = api(client, "/api/suggest", q="锂电池 fuji").get_json()["suggestions"]
    assert "锂电池 负极材料" in [s["text"] for s in second]
    assert api(client, "/api/suggest", q="").get_json()["suggestions"] == []
    response = api(client, "/api/suggest", q="锂" * 65)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_query"


def test_autocomplete_builds_its_lexicon_once_and_answers_alike(sample_settings, monkeypatch):
    """Completions read one lexicon per generation, whatever the order of the prefixes (how fast
    they answer: bench/suggest_latency.py)."""
    prefixes = ["锂", "锂电", "fu", "fuji", "光", "zhaoshang", "新能源", "宁德"]
    with open_context(sample_settings) as ctx:
        built = count_builds(ctx.cache, monkeypatch)
        first = {q: complete(ctx, q) for q in prefixes}
        again = {q: complete(ctx, q) for q in reversed(prefixes)}
    assert first == again and first["锂"] and first["fuji"]
    assert built.count("suggest_lexicon") == 1 and len(built) == len(set(built)), built


def test_search_box_is_wired_for_progressive_autocomplete(client):
    html = client.get("/").get_data(as_text=True)
    assert 'data-suggest="/api/suggest"' in html and 'name="q"' in html
    with client.get("/static/app.js") as response:
        js = response.get_data(as_text=True)
    assert "dataset.suggest" in js  # the endpoint URL comes from the page
    assert "textContent" in js and "innerHTML" not in js  # suggestions are never parsed as HTML


# -- key terms and related reports ------------------------------------------------------------


def test_document_has_key_terms_and_related_reports(client):
    hit = api(client, q="尚太科技").get_json()["hits"][0]
    doc = document(client, hit["id"])
    terms = [t["term"] for t in doc["key_terms"]]
    assert len(terms) == 10 and "尚太科技" in terms[:10]
    weights = [t["weight"] for t in doc["key_terms"]]
    assert weights == sorted(weights, reverse=True)
    assert doc["related"] and all(r["id"] != doc["id"] for r in doc["related"])
    html = client.get(f"/doc/{hit['id']}").get_data(as_text=True)
    assert "关键词" in html and "相关报道" in html
    assert f'/doc/{doc["related"][0]["id"]}"' in html


def test_related_reports_say_whether_they_share_the_region(client):
    ids = [h["id"] for h in api(client, q="光伏", size="10").get_json()["hits"]]
    checked = 0
    for doc_id in ids:
        doc = document(client, doc_id)
        codes = doc["region"]["codes"]
        for rel in doc["related"]:
            other = document(client, rel["id"])["region"]["codes"]
            assert rel["same_region"] == (bool(codes) and codes[-1] in other)
            assert rel["id"] != doc_id
            checked += 1
    assert checked


# -- export -----------------------------------------------------------------------------------


def test_export_csv_and_jsonl_hold_every_result_in_order(client):
    body = api(client, q="光伏", size="1").get_json()
    ids = [h["id"] for h in api(client, q="光伏", size="100").get_json()["hits"]]
    response = client.get("/api/export", query_string={"q": "光伏", "page": "2", "size": "1"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Total-Count"] == str(body["total"])
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["id"] for r in rows] == ids and rows[0]["rank"] == "1"
    jsonl = client.get("/api/export", query_string={"q": "光伏", "format": "jsonl"})
    assert jsonl.mimetype == "application/x-ndjson"
    records = [json.loads(line) for line in jsonl.get_data(as_text=True).splitlines()]
    assert [r["id"] for r in records] == ids and isinstance(records[0]["industries"], list)


def test_export_applies_filters_and_is_capped(client, sample_settings):
    shanxi = client.get(
        "/api/export", query_string={"q": "光伏", "region": "140000", "format": "jsonl"}
    )
    records = [json.loads(line) for line in shanxi.get_data(as_text=True).splitlines()]
    assert records and all(r["region_codes"][0] == "140000" for r in records)
    capped_app = create_app({"ZHSEARCH_SETTINGS": sample_settings.replace(max_export=2)})
    capped = capped_app.test_client().get(
        "/api/export", query_string={"sort": "date", "format": "jsonl"}
    )
    assert len(capped.get_data(as_text=True).splitlines()) == 2
    assert capped.headers["X-Exported-Count"] == "2" and capped.headers["X-Total-Count"] == "6"


def test_export_errors_use_the_api_error_shape(client):
    for params, code in (({"format": "xlsx"}, "bad_parameter"), ({"nope": "1"}, "bad_parameter"),
                         ({"q": "光伏", "from": "2023-13"}, "bad_parameter")):  # fmt: skip
        response = api(client, "/api/export", **params)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_the_results_page_links_to_both_exports(client):
    html = client.get("/", query_string={"q": "光伏", "region": "140000"}).get_data(as_text=True)
    assert "/api/export?q=%E5%85%89%E4%BC%8F&amp;region=140000&amp;format=csv" in html
    assert "format=jsonl" in html


# -- explain ----------------------------------------------------------------------------------


def explained(client, **params) -> dict:
    """/api/search with explain=1, its body unchecked against the OpenAPI description (see
    test_explain_matches_the_openapi_description)."""
    response = client.get("/api/search", query_string={**params, "explain": "1"})
    assert response.status_code == 200
    return response.get_json()


def test_explain_tells_why_a_hit_ranked(client):
    body = explained(client, q="锂电池 负极材料")
    assert [h["id"][:3] for h in body["hits"]] == ["000", "002", "004"]
    words = {"title", "subtitle", "content"}
    for hit in body["hits"]:
        explain = hit["explain"]
        assert explain["score"] == hit["score"] and explain["sort"] == "relevance"
        assert {m["term"] for m in explain["matched"]} >= {"锂电池", "负极材料"}
        assert explain["boosts"]["title"] > explain["boosts"]["content"]
        # The typed text scores in <field>_chars, its jieba words in the word field.
        assert set(explain["fields"]) <= words | {f"{f}_chars" for f in words}
        fields = {m["field"] for m in explain["matched"]}
        assert fields & words and {f for f in fields if f.endswith("_chars")}
        assert sum(explain["fields"].values()) == pytest.approx(hit["score"], abs=1e-3)
    assert "explain" not in api(client, q="锂电池").get_json()["hits"][0]
    by_date = explained(client, q="锂电池", sort="date")["hits"][0]["explain"]
    assert by_date["sort"] == "date" and by_date["score"] is None


def test_explain_matches_the_openapi_description(client):
    api(client, q="锂电池 负极材料", explain="1")


# -- a slice of the real corpus ---------------------------------------------------------------


@pytest.fixture(scope="module")
def xwlb_settings(shared_dir, tmp_path_factory):
    from zhsearch.index.writer import Indexer

    work = tmp_path_factory.mktemp("xwlb-slice")
    source = work / "xwlb-slice.jsonl"
    with gzip.open(shared_dir / "corpora" / "xwlb.jsonl.gz", "rt", encoding="utf-8") as fh:
        source.write_text("".join(islice(fh, 400)), encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(work / "index")}, env={})
    Indexer(settings).run([source])
    return settings


def test_xwlb_slice_pinyin_typo_and_autocomplete(xwlb_settings):
    with open_context(xwlb_settings) as ctx:
        lexicon(ctx)  # built ahead, as warm-up does: did-you-mean's budget is wall-clock time

        def run(q: str):
            return run_search(SearchRequest.from_params({"q": q}, xwlb_settings), ctx)

        assert run("jingji").suggestions[0]["q"] == "经济"
        assert run("习近平").total > 0
        typo = run("新能原")  # 新能源 with a wrong character
        assert typo.total == 0 and typo.suggestions[0]["q"] == "新能源", typo.suggestions
        items = complete(ctx, "经济")
        assert items and all(s["text"].startswith("经济") for s in items if s["kind"] == "term")
