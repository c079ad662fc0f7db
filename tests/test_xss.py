"""XSS: hostile payloads in the query, in titles, bodies, front matter, source/author/URL/tags
and facet-like parameters of an indexed corpus; none reaches a page as markup.

Each page is parsed and every tag and attribute checked (only the templates' own tags, no event
handlers, no script but our own, links only http(s) or same-site); then Chromium loads the same
pages with the Content-Security-Policy bypassed, so escaping alone must stop every payload, and
no dialog may open. Document ids cannot read outside the index.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import yaml

from tests.helpers import live_server
from zhsearch.index.settings import Settings
from zhsearch.index.writer import Indexer
from zhsearch.web import render

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "<body onload=alert(4)>",
    '"><script>alert(5)</script>',
    "'><img src=x onerror=alert(6)>",
    '" onmouseover="alert(7)" x="',
    "javascript:alert(8)",
    "JaVaScRiPt:alert(9)",
    '<a href="javascript:alert(10)">点我</a>',
    "<iframe src=javascript:alert(11)></iframe>",
    "<scr<script>ipt>alert(12)</scr</script>ipt>",
    "<scr<mark>ipt>alert(13)</script>",
    "&lt;script&gt;alert(14)&lt;/script&gt;",
    "&#60;script&#62;alert(15)&#60;/script&#62;",
    "<img src=x onerror=&#97;lert(16)>",
    "<details open ontoggle=alert(17)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(18)>",
    "</textarea><script>alert(19)</script>",
    "</title><script>alert(20)</script>",
    "<!--<script>alert(21)//-->",
    "<style>@import 'javascript:alert(22)';</style>",
    "{{ 7*7 }}{% raw %}<script>alert(23)</script>",
    "\u202e<script>alert(24)</script>",
    "光伏<script>alert(25)</script>光伏",
    "<ScRiPt>window.__xss=26</ScRiPt>",
]
# Query words that make hits and highlights fall on or inside the payloads.
QUERIES = ["光伏", "script", "alert", "onerror", "javascript", "img", "mark", "svg", "报道"]
BAD_URLS = [
    "javascript:alert(30)",
    " JaVaScRiPt:alert(31)",
    "data:text/html,<script>alert(32)</script>",
    "vbscript:msgbox(33)",
    "//evil.example/path",
    "java\tscript:alert(34)",
    "http:alert(35)",
]

# Tags the pages may contain: the templates' own and what the Markdown sanitiser allows.
_ALLOWED_TAGS = {
    tag.lower()
    for path in TEMPLATES.rglob("*.html")
    for tag in re.findall(r"<([A-Za-z][A-Za-z0-9]*)", path.read_text(encoding="utf-8"))
} | render._TAGS


class _Audit(HTMLParser):
    """Collects what would be dangerous in a page: unknown tags, handlers, script, bad URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name}= on <{tag}>")
            is_url = name in {"href", "src", "action", "formaction", "xlink:href"}
            if is_url and value is not None and not _safe_url(value):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            if name in {"style", "srcdoc"}:
                self.problems.append(f"{name}= on <{tag}>")
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.problems.append("inline <script>")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.problems.append("meta refresh")


def _safe_url(value: str) -> bool:
    value = value.strip()
    if value.startswith(("/", "?", "#")) and not value.startswith("//"):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https", "mailto") and bool(parts.netloc or parts.path)


def audit(html: str) -> list[str]:
    """The dangerous things found in a page (empty when it is safe)."""
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


def _front(payload: str, i: int) -> str:
    data = {
        "title": f"光伏报道{i}{payload}",
        "date": "2023-05-09",
        "source": payload,
        "author": payload,
        "url": BAD_URLS[i % len(BAD_URLS)] if i % 2 else payload,
        "tags": [payload, "光伏"],
        "categories": [payload],
        "region": payload,
    }
    return "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\n"


@pytest.fixture(scope="module")
def hostile_settings(tmp_path_factory) -> Settings:
    """An index of Markdown, HTML, text and JSONL reports whose every field carries a payload."""
    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    corpus.mkdir()
    records = []
    for i, payload in enumerate(PAYLOADS):
        body = (
            f"山西省晋中市光伏项目签约{payload}，总投资 {i} 亿元。\n\n第二段{payload}报道结束。\n"
        )
        (corpus / f"md{i:02d}.md").write_text(_front(payload, i) + body, encoding="utf-8")
        (corpus / f"txt{i:02d}.txt").write_text(
            f"光伏报道{payload}\n\n长治市光伏电站并网发电{payload}，年发电量五亿千瓦时。\n",
            encoding="utf-8",
        )
        (corpus / f"html{i:02d}.html").write_text(
            f"<html><head><title>光伏报道{payload}</title></head><body><h1>光伏报道</h1>"
            f"<p>晋中光伏产业园开工。{payload}</p><p onclick=alert(99)>{payload}</p></body></html>",
            encoding="utf-8",
        )
        records.append(
            {
                "id": f"x{i}",
                "title": f"光伏报道{payload}",
                "date": "2023-06-01",
                "source": payload,
                "author": payload,
                "url": BAD_URLS[i % len(BAD_URLS)],
                "tags": [payload],
                "region": payload,
                "content": f"<p>运城光伏项目{payload}开工</p><p>{payload}</p>",
            }
        )
    (corpus / "feed.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    settings = Settings.load(overrides={"index_dir": str(root / "index")}, env={})
    report = Indexer(settings).run([corpus])
    assert report.added == 4 * len(PAYLOADS), report.to_dict()
    return settings


@pytest.fixture(scope="module")
def app_settings(hostile_settings: Settings) -> Settings:
    """`client` serves the hostile index."""
    return hostile_settings


@pytest.fixture(scope="module")
def doc_ids(client) -> list[str]:
    """Every document id of the hostile index."""
    ids: list[str] = []
    for page in range(1, 6):
        body = client.get("/api/search", query_string={"size": 100, "page": page}).get_json()
        ids.extend(hit["id"] for hit in body["hits"])
        if page >= body["pages"]:
            break
    assert len(ids) == 4 * len(PAYLOADS)
    return ids


def page_urls(doc_ids: list[str]) -> list[tuple[str, tuple[int, ...]]]:
    """Every page to audit, with the statuses it may answer (a payload query such as
    `javascript:…` names an unknown field: a 400 page that echoes it)."""
    ok, bad = (200,), (400,)
    urls: list[tuple[str, tuple[int, ...]]] = []
    for q in QUERIES:
        urls.append((f"/?q={quote(q)}&size=100", ok))
        urls.append((f"/?q={quote(q)}&sort=date&size=50", ok))
    for payload in PAYLOADS:
        urls.append((f"/?q={quote(payload)}", (200, 400)))
        urls.append((f"/?q=光伏&source={quote(payload)}", ok))
        urls.append((f"/?q=光伏&region={quote(payload)}", bad))
        urls.append((f"/?q=光伏&industry={quote(payload)}", bad))
        urls.append((f"/?q={quote(payload)}&page={quote(payload)}", bad))
    for i, doc_id in enumerate(doc_ids):
        q = QUERIES[i % len(QUERIES)] if i % 3 else PAYLOADS[i % len(PAYLOADS)]
        urls.append((f"/doc/{doc_id}?q={quote(q)}", ok))
    return urls


def test_no_payload_reaches_a_page_as_markup(client, doc_ids: list[str]) -> None:
    urls = page_urls(doc_ids)
    for url, status in urls:
        response = client.get(url)
        assert response.status_code in status, url
        problems = audit(response.get_data(as_text=True))
        assert not problems, (url, problems)
    assert len(urls) > 200


def test_payloads_are_shown_as_text(client, doc_ids: list[str]) -> None:
    """Escaped, not dropped: the reader sees what the report says."""
    page = client.get("/?q=" + quote(PAYLOADS[0])).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    txt_hits = client.get("/api/search", query_string={"q": "长治", "size": 100}).get_json()
    hit = next(h for h in txt_hits["hits"] if "alert(2)" in h["title"])
    page = client.get(f"/doc/{hit['id']}?q=onerror").get_data(as_text=True)
    assert "&lt;img src=x" in page and "<mark>onerror</mark>" in page


def test_api_html_fields_are_safe(client) -> None:
    for q in QUERIES:
        body = client.get("/api/search", query_string={"q": q, "size": 100}).get_json()
        for hit in body["hits"]:
            assert not audit(hit["title_html"]), hit["title_html"]
            assert not audit(hit["snippet"]), hit["snippet"]
            assert not re.search(r"<(?!/?mark>)", hit["title_html"] + hit["snippet"]), hit


def test_a_url_is_a_link_only_when_it_is_http(client, doc_ids: list[str]) -> None:
    links = 0
    for doc_id in doc_ids:
        doc = client.get(f"/api/documents/{doc_id}").get_json()["document"]
        page = client.get(f"/doc/{doc_id}").get_data(as_text=True)
        hrefs = re.findall(r'<a [^>]*href="([^"]*)"[^>]*target="_blank"', page)
        if render.http_url(doc["url"]):
            links += 1
        for href in hrefs:
            assert href.startswith(("http://", "https://")), (doc_id, href)
        assert not hrefs or render.http_url(doc["url"]), (doc["url"], hrefs)
    for url in BAD_URLS:
        assert render.http_url(url) is None, url


@pytest.mark.parametrize(
    "doc_id",
    [
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "..",
        "%2e%2e",
        "x%00",
        "%00",
        "CURRENT",
        "..%5C..%5Cwindows",
        "gen-000001",
        "LOCK",
        "x" * 200,
    ],
)
def test_document_ids_cannot_read_outside_the_index(client, doc_id: str) -> None:
    for prefix in ("/api/documents/", "/doc/"):
        response = client.get(prefix + doc_id)
        assert response.status_code == 404, (prefix, doc_id)
        text = response.get_data(as_text=True)
        assert "root:" not in text and "gen-0" not in text.replace(doc_id, "")


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def base_url(hostile_settings: Settings) -> Iterator[str]:
    """The real app on a free loopback port, served from a background thread."""
    with live_server(hostile_settings) as url:
        yield url


@pytest.mark.browser
def test_no_dialog_opens_in_chromium(base_url: str, doc_ids: list[str]) -> None:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("ZHSEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ZHSEARCH_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    urls = page_urls(doc_ids)
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            # No CSP: escaping alone must stop the payloads.
            context = browser.new_context(bypass_csp=True, java_script_enabled=True)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for url, status in urls:
                response = page.goto(base_url + url)
                assert response is not None and response.status in status, url
                page.hover("body")  # onmouseover payloads would fire now
                assert page.evaluate("window.__xss") is None, url
            page.wait_for_timeout(300)
            context.close()
        finally:
            browser.close()
    assert dialogs == [], dialogs
