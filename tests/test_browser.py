"""End to end in Debian's Chromium through Playwright: search, drill into a region, pick an
industry, page, open a report, go back; no script runs for a hostile query; works without JS.

Screenshots of each step go to test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import live_server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(sample_settings) -> Iterator[str]:
    """The real app on a free loopback port, served from a background thread."""
    with live_server(sample_settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("ZHSEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ZHSEARCH_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


def visit(page, url: str, status: int = 200) -> None:
    """Go to `url` and check the status, showing the page text when it is not the expected one
    (a 503 says the index could not be opened, and why)."""
    response = page.goto(url)
    assert response is not None
    assert response.status == status, page.locator("main").inner_text()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_search_filter_page_read_and_return(page, base_url):
    visit(page, base_url + "/")
    page.fill("input[name=q]", "光伏")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"[?&]q=%E5%85%89%E4%BC%8F"))
    hits = page.locator("li.hit")
    assert hits.count() >= 2
    assert page.locator(".snippet mark", has_text="光伏").count() >= 2
    assert "找到" in page.locator(".summary").inner_text()
    shot(page, "01-results")

    page.locator(".facet-region a", has_text="山西省").first.click()
    page.wait_for_url(re.compile(r"region=140000"))
    assert "山西省" in page.locator(".breadcrumbs").inner_text()
    assert page.locator(".active-filters").inner_text().count("山西省") == 1
    assert page.locator("li.hit").count() >= 1
    shot(page, "02-region")

    box = page.locator(".facet-industry input[type=checkbox]").first
    code = box.get_attribute("value")
    box.check()  # app.js submits the form on change
    page.wait_for_url(re.compile(rf"industry={re.escape(code or '')}"))
    assert page.locator(f".facet-industry input[value='{code}']").is_checked()
    assert "region=140000" in page.url  # the region survives the form submit
    shot(page, "03-industry")

    visit(page, base_url + "/?q=" + quote("光伏") + "&size=1")
    assert page.locator("li.hit").count() == 1
    page.locator(".pagination a.next").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator(".pagination .current").inner_text() == "2"
    first_title = page.locator("li.hit .hit-title").inner_text()
    shot(page, "04-page-2")

    page.locator("li.hit .hit-title a").click()
    page.wait_for_url(re.compile(r"/doc/[^?]+\?q="))
    assert page.locator("h1").inner_text().replace(" ", "")[:8] in first_title.replace(" ", "")
    assert page.locator(".doc-body mark", has_text="光伏").count() >= 1
    assert page.locator(".doc-meta").is_visible()
    shot(page, "05-document")

    page.go_back()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator("li.hit .hit-title").inner_text() == first_title
    shot(page, "06-back")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_hostile_query_runs_no_script(page, base_url):
    xss = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    visit(page, base_url + "/?q=" + quote(xss))
    assert page.input_value("input[name=q]") == xss
    visit(
        page, base_url + "/?q=" + quote(xss) + "&page=-1", status=400
    )  # the error page echoes it too
    assert page.locator(".alert-error").is_visible()
    hit = page.request.get(base_url + "/api/search?q=" + quote("光伏")).json()["hits"][0]
    visit(page, f"{base_url}/doc/{hit['id']}?q=" + quote(xss))
    page.wait_for_timeout(300)
    shot(page, "07-hostile-query")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_works_without_javascript(browser, base_url):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        visit(page, base_url + "/?q=" + quote("光伏"))
        box = page.locator(".facet-industry input[type=checkbox]").first
        code = box.get_attribute("value")
        box.check()
        assert "industry=" not in page.url  # nothing submits by itself
        page.locator(".facet-industry button[type=submit]").click()
        page.wait_for_url(re.compile(rf"industry={re.escape(code or '')}"))
        page.fill("input[name=from]", "2023")
        page.locator(".facet-date button[type=submit]").click()
        page.wait_for_url(re.compile(r"from=2023"))
        assert f"industry={code}" in page.url
        shot(page, "08-no-javascript")
    finally:
        context.close()


def test_narrow_screen(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        visit(page, base_url + "/?q=" + quote("锂电池 负极材料"))
        assert page.locator("li.hit").count() >= 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "no horizontal scrolling on a phone"
        shot(page, "09-narrow")
    finally:
        context.close()


def test_autocomplete_did_you_mean_and_related_report(page, base_url):
    visit(page, base_url + "/")
    page.locator("input[name=q]").press_sequentially("lidian", delay=30)
    option = page.locator(
        ".suggest-list li", has=page.locator("span", has_text=re.compile("^锂电池$"))
    )
    option.wait_for()
    shot(page, "10-autocomplete")
    option.click()
    page.wait_for_url(re.compile(r"[?&]q=%E9%94%82%E7%94%B5%E6%B1%A0"))  # 锂电池
    assert page.locator("li.hit").count() >= 1

    visit(page, base_url + "/?q=" + quote("锂电负级材料"))
    fix = page.locator(".did-you-mean a", has_text="锂电负极材料")
    assert fix.count() == 1
    shot(page, "11-did-you-mean")
    fix.click()
    page.wait_for_url(re.compile(r"q=%E9%94%82%E7%94%B5%E8%B4%9F%E6%9E%81"))  # 锂电负极…
    assert page.locator("li.hit").count() >= 1

    page.locator("li.hit .hit-title a").first.click()
    page.wait_for_url(re.compile(r"/doc/"))
    first_title = page.locator("h1").inner_text()
    assert page.locator(".key-terms .chip").count() >= 3
    related = page.locator(".related a").first
    related_title = related.inner_text()
    shot(page, "12-related")
    related.click()
    page.wait_for_url(re.compile(r"/doc/"))
    assert page.locator("h1").inner_text() != first_title
    assert page.locator("h1").inner_text().replace(" ", "") == related_title.replace(" ", "")
    assert page.dialogs == []  # type: ignore[attr-defined]
