"""The JSON API on the sample index: search, filters, facets, errors, documents, OpenAPI shape."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import assert_matches_openapi
from zhsearch.web.app import create_app

XSS = "<script>alert(1)</script>"


def search(client, **params):
    response = client.get("/api/search", query_string=params)
    assert_matches_openapi(response, "/api/search")
    return response


def assert_error(response, status: int, code: str, path: str = "/api/search") -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["ok"] is False and body["error"]["code"] == code and body["error"]["message"]
    if path:
        assert_matches_openapi(response, path)
    return body


def test_guangfu_finds_jinzhong_and_changzhi_with_marked_snippets(client):
    body = search(client, q="光伏").get_json()
    assert body["ok"] is True and body["total"] >= 2
    hits = body["hits"]
    jinzhong = next(h for h in hits if h["id"].startswith("001_"))  # corpus/sample/001_*.txt
    from_004 = {h["region"]["path"]: h for h in hits if h["id"].startswith("004_")}
    assert "招引加速度" in jinzhong["title"] and jinzhong["region"]["zone"] == "晋中开发区"
    assert from_004["山西省/长治市"]["title"] == "千帆竞发势如虹"
    assert "山西省/朔州市/平鲁区" in from_004  # the second article of the same file
    for hit in [jinzhong, *from_004.values()]:
        assert "<mark>光伏</mark>" in hit["snippet"], hit["id"]
    assert body["facets"]["region"] and body["facets"]["industry"]
    assert body["query"]["q"] == "光伏" and body["query"]["sort"] == "relevance"


def test_region_filter_shanxi_keeps_the_shanxi_articles(client):
    everywhere = {hit["id"] for hit in search(client, q="光伏").get_json()["hits"]}
    body = search(client, q="光伏", region="140000").get_json()
    shanxi = {hit["id"] for hit in body["hits"]}
    assert shanxi and shanxi <= everywhere
    assert all(hit["region"]["codes"][0] == "140000" for hit in body["hits"])
    assert body["query"]["region"] == ["140000"]
    assert [c["value"] for c in body["facets"]["region_path"]] == ["140000"]


def test_jiangsu_filter_leaves_no_hits_but_the_facet_still_counts_shanxi(client):
    shanxi_total = search(client, q="光伏", region="140000").get_json()["total"]
    body = search(client, q="光伏", region="320000").get_json()
    assert body["total"] == 0 and body["hits"] == [] and body["pages"] == 0
    counts = {item["value"]: item["count"] for item in body["facets"]["region"]}
    assert counts.get("140000") == shanxi_total


def test_industry_filter_is_or_within_the_facet(client):
    body = search(client, q="光伏").get_json()
    codes = [item["value"] for item in body["facets"]["industry"]]
    assert codes
    one = search(client, q="光伏", industry=codes[0]).get_json()
    both = client.get(
        "/api/search", query_string=[("q", "光伏")] + [("industry", c) for c in codes]
    )
    assert both.status_code == 200
    assert one["total"] <= both.get_json()["total"] <= body["total"]
    assert {i["value"] for i in one["facets"]["industry"] if i["selected"]} == {codes[0]}


def test_paging_with_size_one(client):
    first = search(client, q="光伏", size=1).get_json()
    second = search(client, q="光伏", size=1, page=2).get_json()
    assert first["size"] == 1 and first["pages"] == first["total"] >= 2
    assert len(first["hits"]) == len(second["hits"]) == 1
    assert first["hits"][0]["id"] != second["hits"][0]["id"]


def test_sort_by_date_is_newest_first(client):
    body = search(client, q="招商", sort="date").get_json()
    dates = [hit["date"] for hit in body["hits"] if hit["date"]]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "光伏", "page": "-1"},
        {"q": "光伏", "page": "0"},
        {"q": "光伏", "page": "x"},
        {"q": "光伏", "size": "100000"},
        {"q": "光伏", "sort": "foo"},
        {"q": "光伏", "region": "999999"},
        {"q": "光伏", "region": "山西"},
        {"q": "光伏", "industry": "no-such-industry"},
        {"q": "光伏", "from": "2023-13-01"},
        {"q": "光伏", "from": "2024", "to": "2023"},
        {"q": "光伏", "page": "5000", "size": "100"},
    ],
)
def test_bad_parameter_values_are_400_json(client, params):
    assert_error(client.get("/api/search", query_string=params), 400, "bad_parameter")


def test_unknown_parameter_is_refused(client):
    body = assert_error(client.get("/api/search?q=光伏&regoin=140000"), 400, "bad_parameter")
    assert "regoin" in body["error"]["message"]


def test_unknown_field_is_a_bad_query(client):
    assert_error(client.get("/api/search", query_string={"q": "foo:光伏"}), 400, "bad_query")


def test_overlong_query_is_a_bad_query(client):
    assert_error(client.get("/api/search", query_string={"q": "光" * 600}), 400, "bad_query")


def test_unbalanced_quote_is_not_a_server_error(client):
    response = client.get("/api/search", query_string={"q": '"锂电池'})
    assert response.status_code < 500
    assert_matches_openapi(response, "/api/search")
    if response.status_code == 200:
        body = response.get_json()
        assert body["total"] >= 1 and body["notices"]


def test_script_query_is_echoed_as_a_plain_json_string(client):
    response = search(client, q=XSS)
    assert response.status_code == 200
    assert response.get_json()["query"]["q"] == XSS


def test_chinese_is_raw_utf8_in_the_body(client):
    response = search(client, q="光伏")
    assert response.content_type.startswith("application/json")
    assert "光伏".encode() in response.data and "山西省".encode() in response.data
    assert b"\\u" not in response.data


def test_document_by_id(client):
    hit = search(client, q="光伏").get_json()["hits"][0]
    response = client.get(f"/api/documents/{hit['id']}")
    assert response.status_code == 200
    assert_matches_openapi(response, "/api/documents/{doc_id}")
    doc = response.get_json()["document"]
    assert doc["id"] == hit["id"] and doc["title"] == hit["title"]
    assert "光伏" in doc["content"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/documents/no-such-id",
        "/api/documents/..%2F..%2Fetc%2Fpasswd",
        "/api/documents/../../etc/passwd",
        "/api/documents/%00",
        "/api/documents/" + "x" * 300,
    ],
)
def test_unknown_document_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert_error(response, 404, "not_found", path="")
    assert b"root:" not in response.data


def test_unknown_api_route_is_404_json(client):
    assert_error(client.get("/api/nothing/here"), 404, "not_found", path="")


def test_wrong_method_is_405_json(client):
    response = client.post("/api/search?q=光伏")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["ok"] is False


def test_internal_error_is_500_json(sample_settings, monkeypatch):
    import zhsearch.web.api

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(zhsearch.web.api, "run_search", boom)
    app = create_app({"ZHSEARCH_SETTINGS": sample_settings})
    response = app.test_client().get("/api/search?q=光伏")
    assert_error(response, 500, "internal")
    assert "boom" not in response.get_json()["error"]["message"]  # no internals leak


def test_missing_index_is_503_json_and_page(tmp_path):
    app = create_app({"index_dir": str(tmp_path / "empty")})
    client = app.test_client()
    body = assert_error(client.get("/api/search?q=光伏"), 503, "index_unavailable")
    assert "zhsearch index" in body["error"]["message"]
    response = client.get("/api/documents/x")
    assert_error(response, 503, "index_unavailable", "/api/documents/{doc_id}")
    page = client.get("/?q=光伏")
    assert page.status_code == 503 and "zhsearch index" in page.get_data(as_text=True)


def test_outdated_index_is_503(tmp_path, sample_dir):
    from zhsearch.index.settings import Settings
    from zhsearch.index.store import META, IndexStore
    from zhsearch.index.writer import Indexer

    settings_ = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, env={})
    Indexer(settings_).run([next(sample_dir.glob("*.txt"))])
    generation = IndexStore(settings_.index_dir).current()
    meta = json.loads((generation / META).read_text(encoding="utf-8"))
    (generation / META).write_text(json.dumps({**meta, "analyzer": "old"}), encoding="utf-8")
    client = create_app({"ZHSEARCH_SETTINGS": settings_}).test_client()
    body = assert_error(client.get("/api/search?q=招商"), 503, "index_unavailable")
    assert "--rebuild" in body["error"]["message"]
    assert client.get("/?q=招商").status_code == 503


_QUERY_CHARS = st.sampled_from(list("光伏锂电池负极材料山西 \"()-*:ORNOTtitle\\\x00<>&'~^[]{}，。"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(_QUERY_CHARS, max_size=40) | st.text(max_size=40))
def test_no_query_text_is_a_server_error(client, q):
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert_matches_openapi(response, "/api/search")
    if response.status_code == 400:
        assert response.get_json()["error"]["code"] == "bad_query"


def test_stats(client):
    response = client.get("/api/stats")
    assert response.status_code == 200
    assert_matches_openapi(response, "/api/stats")


def test_setting_names_in_config_override_settings(sample_settings):
    app = create_app({"index_dir": sample_settings.index_dir, "page_size": 1})
    body = app.test_client().get("/api/search?q=光伏").get_json()
    assert body["size"] == 1 and len(body["hits"]) == 1


def test_a_rebuilt_index_is_served_without_restart(tmp_path, sample_dir):
    from zhsearch.index.settings import Settings
    from zhsearch.index.writer import Indexer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = sorted(sample_dir.glob("*.txt"))
    shutil.copy(files[0], corpus)
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, env={})
    Indexer(settings).run([corpus])
    client = create_app({"ZHSEARCH_SETTINGS": settings}).test_client()
    before = client.get("/api/search?q=招商").get_json()["total"]
    for f in files[1:]:
        shutil.copy(f, corpus)
    report = Indexer(settings).run([corpus], rebuild=True)
    assert report.rebuilt
    after = client.get("/api/search?q=招商").get_json()["total"]
    assert after > before
