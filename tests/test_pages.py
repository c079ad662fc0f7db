"""The HTML pages on the sample index: results, facet links, empty state, escaping, documents."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import client_for
from zhsearch.web.pages import page_window
from zhsearch.web.params import search_params, with_changes

XSS = "<script>alert(1)</script>"


def get_page(client, url, status=200, **params) -> str:
    response = client.get(url, query_string=params or None)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def params_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_home_has_a_search_form(client):
    page = get_page(client, "/")
    assert '<form id="search-form"' in page and 'name="q"' in page
    assert 'lang="zh-CN"' in page


def test_results_page(client):
    page = get_page(client, "/", q="光伏")
    assert 'value="光伏"' in page  # the box keeps the query
    assert "找到 <strong>" in page and "毫秒" in page
    assert "<mark>光伏</mark>" in page
    docs = [h for h in hrefs(page) if h.startswith("/doc/")]
    assert len(docs) >= 2 and all(params_of(h) == {"q": ["光伏"]} for h in docs)
    assert "山西省" in page  # region path of a hit and the province facet
    assert 'name="industry"' in page and 'type="checkbox"' in page
    assert "相关度" in page and "最新" in page


def test_region_facet_links_drill_down(client):
    page = get_page(client, "/", q="光伏")
    shanxi = [h for h in hrefs(page) if params_of(h).get("region") == ["140000"]]
    assert shanxi and params_of(shanxi[0])["q"] == ["光伏"]
    page = get_page(client, shanxi[0])
    assert "全部地区" in page
    back_up = [h for h in hrefs(page) if params_of(h) == {"q": ["光伏"]}]
    assert back_up  # breadcrumb "全部地区" removes the region
    cities = [
        h for h in hrefs(page) if re.fullmatch(r"14\d\d00", params_of(h).get("region", [""])[0])
    ]
    cities = [h for h in cities if params_of(h)["region"] != ["140000"]]
    assert cities, "the cities of 山西省 are offered"


def test_facet_links_reset_the_page_and_keep_other_parameters(client):
    page = get_page(client, "/", q="光伏", size="1", page="2", sort="date")
    region_links = [h for h in hrefs(page) if "region" in params_of(h)]
    assert region_links
    for href in region_links:
        p = params_of(href)
        assert "page" not in p and p["size"] == ["1"] and p["sort"] == ["date"]


def test_industry_checkbox_is_checked_when_selected(client):
    body = client.get("/api/search?q=光伏").get_json()
    code = body["facets"]["industry"][0]["value"]
    page = get_page(client, "/", q="光伏", industry=code)
    assert re.search(rf'value="{re.escape(code)}" checked', page)
    assert "当前筛选" in page


def test_pagination_links(client):
    page = get_page(client, "/", q="光伏", size="1")
    pages = [params_of(h) for h in hrefs(page) if "page" in params_of(h)]
    assert {"q": ["光伏"], "size": ["1"], "page": ["2"]} in pages
    page2 = get_page(client, "/", q="光伏", size="1", page="2")
    assert 'aria-current="page">2<' in page2
    assert 'rel="prev"' in page2


def test_empty_state_offers_to_remove_filters(client):
    page = get_page(client, "/", q="光伏", region="320000")
    assert "没有找到匹配的报道" in page
    assert '<span class="word">光伏</span>' in page
    removals = [h for h in hrefs(page) if h.startswith("/?") and params_of(h) == {"q": ["光伏"]}]
    assert removals
    assert "去掉地区「江苏省」" in page


def test_empty_state_points_to_regions_with_results(client):
    page = get_page(client, "/", q="光伏", region="320000")
    assert "其他地区有结果" in page
    assert any(params_of(h) == {"q": ["光伏"], "region": ["140000"]} for h in hrefs(page))


def test_browsing_without_a_query_lists_newest_first(client):
    page = get_page(client, "/", sort="date")
    assert page.count('<li class="hit">') == 6  # the whole sample corpus
    assert 'aria-current="true">最新<' in page


def test_hit_chips_are_top_level_industries_that_filter(client):
    body = client.get("/api/search?q=光伏").get_json()
    page = get_page(client, "/", q="光伏")
    chips = [params_of(h) for h in hrefs(page) if "industry" in params_of(h)]
    facet_codes = {item["value"] for item in body["facets"]["industry"]}
    assert chips and all(set(c["industry"]) <= facet_codes for c in chips)


def test_empty_state_with_several_words(client):
    page = get_page(client, "/", q="光伏 不存在的词语组合")
    assert "没有找到匹配的报道" in page and "OR" in page


def test_script_query_is_escaped(client):
    page = get_page(client, "/", q=XSS)
    assert XSS not in page
    assert html.escape(XSS, quote=True) in page or "&lt;script&gt;" in page


def test_bad_parameter_shows_message_with_400(client):
    page = get_page(client, "/", status=400, q="光伏", page="-1")
    assert "查询有误" in page and "page" in page
    assert "/?q=%E5%85%89%E4%BC%8F" in hrefs(page)  # retry without the bad parameter


def test_bad_query_shows_message_with_400(client):
    page = get_page(client, "/", status=400, q="foo:光伏")
    assert "查询有误" in page and "title:" in page


def test_unknown_page_is_404_html(client):
    page = get_page(client, "/no/such/page", status=404)
    assert "未找到" in page


def test_document_page_highlights_and_links_back(client):
    hit = client.get("/api/search?q=光伏").get_json()["hits"][0]
    page = get_page(client, f"/doc/{hit['id']}", q="光伏")
    assert "<mark>光伏</mark>" in page
    assert html.escape(hit["title"], quote=False).split("<")[0][:6] in page
    assert "返回“光伏”的搜索结果" in page
    assert any(params_of(h) == {"q": ["光伏"]} for h in hrefs(page))
    assert page.count("<p>") >= 3  # paragraphs, not one wall of text
    if hit["region"]["path"]:
        assert hit["region"]["path"].split("/")[0] in page


def test_document_page_without_query_has_no_marks(client):
    hit = client.get("/api/search?q=光伏").get_json()["hits"][0]
    page = get_page(client, f"/doc/{hit['id']}")
    assert "<mark>" not in page


def test_document_back_link_returns_to_the_filtered_results(client):
    hit = client.get("/api/search?q=光伏").get_json()["hits"][0]
    results = "/?q=%E5%85%89%E4%BC%8F&region=140000"
    response = client.get(
        f"/doc/{hit['id']}?q=光伏", headers={"Referer": f"http://localhost{results}"}
    )
    assert results in hrefs(response.get_data(as_text=True))
    evil = client.get(f"/doc/{hit['id']}", headers={"Referer": "https://evil.example/?q=x"})
    assert "evil.example" not in evil.get_data(as_text=True)


@pytest.mark.parametrize("doc_id", ["no-such-id", "..%2F..%2Fetc%2Fpasswd", "x" * 200])
def test_unknown_document_is_404_page(client, doc_id):
    page = get_page(client, f"/doc/{doc_id}", status=404)
    assert "未找到" in page


# --- a small fixture index with hostile metadata ---------------------------------------------

HOSTILE_MD = """---
title: "光伏<img src=x onerror=alert(1)>项目"
date: 2023-05-09
source: 测试日报
url: javascript:alert(1)
---
# 小标题

山西省晋中市光伏项目签约，**总投资** 30 亿元。

<script>alert("body")</script>

[点我](javascript:alert(2)) 与 [官网](https://example.com/a?b=1&c=2)
"""

SAFE_MD = """---
title: 南通开发区光伏组件项目开工
date: 2022-03-11
source: 南通日报
url: https://example.com/nantong
---
江苏省南通市经济技术开发区光伏组件项目开工建设。
"""


HOSTILE_HTML = """<html><head><title>长治光伏报道</title></head><body>
<h1>长治光伏报道</h1>
<p>山西省长治市光伏产业园开工。<script>alert(3)</script></p>
<p onclick="alert(4)">第二段<a href="javascript:alert(5)">链接</a></p>
</body></html>
"""


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    from zhsearch.index.settings import Settings
    from zhsearch.index.writer import Indexer

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "hostile.md").write_text(HOSTILE_MD, encoding="utf-8")
    (corpus / "safe.md").write_text(SAFE_MD, encoding="utf-8")
    (corpus / "hostile.html").write_text(HOSTILE_HTML, encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(root / "index")}, env={})
    report = Indexer(settings).run([corpus])
    assert report.added == 3, report.to_dict()
    return client_for(settings)


def _hit(client, word: str) -> dict:
    hits = client.get("/api/search", query_string={"q": word}).get_json()["hits"]
    assert hits, word
    return hits[0]


def test_hostile_title_is_escaped_in_results(hostile_client):
    page = get_page(hostile_client, "/", q="光伏")
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown as text


def test_javascript_url_is_not_a_link(hostile_client):
    hit = _hit(hostile_client, "晋中")
    page = get_page(hostile_client, f"/doc/{hit['id']}", q="光伏")
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', page)).lower()
    assert "javascript:alert(1)" in page  # shown as text
    assert "<img" not in page and "<script>" not in page
    assert "<strong>总投资</strong>" in page  # Markdown rendered
    assert 'href="https://example.com/a?b=1&amp;c=2"' in page
    assert "<mark>光伏</mark>" in page


def test_html_source_is_shown_without_its_markup(hostile_client):
    hit = _hit(hostile_client, "长治")
    page = get_page(hostile_client, f"/doc/{hit['id']}", q="光伏")
    body = page[page.index('<div class="doc-body">') :]
    assert "<script>" not in body and "onclick" not in body and "javascript:" not in body
    assert "<mark>光伏</mark>" in body and "第二段" in body


def test_https_url_is_a_link(hostile_client):
    hit = _hit(hostile_client, "南通")
    page = get_page(hostile_client, f"/doc/{hit['id']}")
    assert 'href="https://example.com/nantong"' in page


# --- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "pages", "expected"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (1, 10, [1, 2, 3, None, 10]),
        (6, 12, [1, None, 4, 5, 6, 7, 8, None, 12]),
        (12, 12, [1, None, 10, 11, 12]),
    ],
)
def test_page_window(page, pages, expected):
    assert page_window(page, pages) == expected


def test_with_changes():
    from werkzeug.datastructures import MultiDict

    params = search_params(
        MultiDict([("q", "光伏"), ("industry", "A"), ("industry", "B"), ("page", "3"), ("x", "1")])
    )
    assert with_changes(params, region="140000") == [
        ("q", "光伏"),
        ("region", "140000"),
        ("industry", "A"),
        ("industry", "B"),
    ]
    assert with_changes(params, industry=None, page=2) == [("q", "光伏"), ("page", "2")]
    assert with_changes(params, from_="2023") == [
        ("q", "光伏"),
        ("industry", "A"),
        ("industry", "B"),
        ("from", "2023"),
    ]


def test_page_past_the_last_one_says_so(client):
    page = get_page(client, "/", q="光伏", page="50")
    assert "这一页没有结果" in page and "回到第 1 页" in page
    assert any(params_of(h) == {"q": ["光伏"]} for h in hrefs(page))


def test_security_headers(client):
    response = client.get("/", query_string={"q": "光伏"})
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_flask_cli_finds_the_factory_and_there_is_no_module_level_app():
    from flask import Flask
    from flask.cli import ScriptInfo

    import zhsearch.web.app

    assert not [v for v in vars(zhsearch.web.app).values() if isinstance(v, Flask)]
    app = ScriptInfo(app_import_path="zhsearch.web.app").load_app()
    assert isinstance(app, Flask) and "api" in app.blueprints and "pages" in app.blueprints
