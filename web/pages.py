"""The browser pages: the search page with facets and the document view. Plain GET forms and
links throughout, so everything works without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from zhsearch.search.documents import get_document
from zhsearch.search.query import parse_query
from zhsearch.search.request import BadRequest, SearchRequest
from zhsearch.search.run import run_search
from zhsearch.search.snippets import highlight_text
from zhsearch.web.api import DOC_ID
from zhsearch.web.context import current_settings, search_context
from zhsearch.web.errors import STATUS
from zhsearch.web.params import query_string, search_params, with_changes
from zhsearch.web.render import Marker, http_url, render_body, term_marker

bp = Blueprint("pages", __name__)

SORT_OPTIONS = (("relevance", "相关度"), ("date", "最新"))
EXAMPLES = ("光伏", "锂电池 负极材料", "招商引资", "开发区")
_FILTER_KINDS = {"region": "地区", "industry": "行业", "source": "来源"}
# Carried as hidden fields of the search form; industry, from and to are sidebar form fields.
_HIDDEN = ("region", "source", "sort", "size", "synonyms")


@bp.get("/")
def search() -> Any:
    """The search page: the box alone without parameters, else results, facets and paging."""
    params = search_params(request.args)
    q = params.get("q", "")
    if not params:
        return render_template("search.html", q="", result=None, examples=EXAMPLES)
    try:
        search_request = SearchRequest.from_params(params, current_settings())
        result = run_search(search_request, search_context()).to_dict()
    except BadRequest as exc:
        retry = url_for("pages.search", q=q) if len(params) > 1 and q else None
        page = render_template("search.html", q=q, result=None, error=exc.message, retry=retry)
        return page, STATUS[BadRequest]
    return render_template("search.html", **_search_view(params, result))


@bp.get("/doc/<doc_id>")
def document(doc_id: str) -> Any:
    """One report, readable, with the terms of `?q=` marked and a way back to the results."""
    doc = get_document(search_context(), doc_id) if DOC_ID.match(doc_id) else None
    if doc is None:
        abort(404)
    q = request.args.get("q", "").strip()
    settings = current_settings()
    mark = _marker(q)
    region = doc.get("region") or {}
    return render_template(
        "document.html",
        q=q,
        doc=doc,
        title_html=mark(doc.get("title") or "（无标题）"),
        body_html=render_body(
            doc.get("content") or "",
            doc.get("source_format") or "",
            mark,
            max_markdown_chars=settings.max_markdown_chars,
            max_markdown_nesting=settings.max_markdown_nesting,
        ),
        region_path=region.get("path") or "",
        zone=region.get("zone") or "",
        industries=doc.get("industries") or [],
        link_url=http_url(doc.get("url")),
        back_url=_back_url(q),
        key_terms=doc.get("key_terms") or [],
        related=doc.get("related") or [],
    )


@bp.app_template_filter("top_level")
def top_level(industries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Industries without those whose parent ("T02" for "T02.1") is listed too, so a hit's
    chips match the facet's values instead of repeating each branch."""
    codes = {ind["code"] for ind in industries}
    return [
        ind
        for ind in industries
        if not any(ind["code"].startswith(parent + ".") for parent in codes)
    ]


def _search_view(params: MultiDict[str, str], result: dict[str, Any]) -> dict[str, Any]:
    """Everything search.html needs beyond the result itself: link builders and filter lists."""

    def url_with(**changes: Any) -> str:
        return url_for("pages.search") + query_string(with_changes(params, **changes))

    def add_value(name: str, value: str) -> list[str]:
        values = params.getlist(name)
        return values if value in values else [*values, value]

    return {
        "q": params.get("q", ""),
        "result": result,
        "sort_options": SORT_OPTIONS,
        "hidden_fields": [(n, v) for n in _HIDDEN for v in params.getlist(n)],
        "url_with": url_with,
        "add_value": add_value,
        "active_filters": _active_filters(result, url_with),
        "page_window": page_window(result["page"], result["pages"]),
        "query_words": _query_words(params.get("q", "")),
        "elsewhere": [
            item for item in result["facets"]["region"] if item["count"] and not item["selected"]
        ],
        "suggestions": [
            {**item, "url": url_for("pages.search", **item["params"])}
            for item in result.get("suggestions", [])
        ],
        "no_synonyms_url": url_with(synonyms=0) if result.get("expanded") else None,
        "export_urls": {
            fmt: url_for("api.export")
            + query_string([*with_changes(params, page=None, size=None), ("format", fmt)])
            for fmt in ("csv", "jsonl")
        },
    }


def _active_filters(result: dict[str, Any], url_with: Any) -> list[dict[str, str]]:
    """Each filter in force, with its label and the URL of the same search without it."""
    facets = result["facets"]
    labels = {item["value"]: item["label"] for item in facets["region_path"]}
    labels.update({item["value"]: item["label"] for item in facets["region"]})
    labels.update({item["value"]: item["label"] for item in facets["industry"]})
    out = []
    query = result["query"]
    for name in ("region", "industry", "source"):
        values = query[name]
        for value in values:
            rest = [v for v in values if v != value]
            out.append(
                {
                    "kind": _FILTER_KINDS[name],
                    "label": labels.get(value, value),
                    "remove_url": url_with(**{name: rest or None}),
                }
            )
    if query["from"]:
        out.append({"kind": "起始日期", "label": query["from"], "remove_url": url_with(from_=None)})
    if query["to"]:
        out.append({"kind": "截止日期", "label": query["to"], "remove_url": url_with(to=None)})
    return out


def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to show: first, last and `radius` around the current one; None is a gap."""
    shown = {1, pages, *range(page - radius, page + radius + 1)}
    numbers = sorted(n for n in shown if 1 <= n <= pages)
    out: list[int | None] = []
    for n in numbers:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def _query_words(q: str) -> list[str]:
    return [w for w in q.replace("　", " ").split() if w]


def _marker(q: str) -> Marker:
    """Escape-and-highlight for the document text, matching what the search matched (same
    parser, same analyzer as the snippets); escape only when there is nothing to mark."""
    ctx = search_context()
    try:
        terms = parse_query(q, ctx.searcher.schema, ctx.settings).terms if q else None
    except BadRequest:  # the page still shows, just without highlighting
        terms = None
    if not terms:
        return term_marker(())
    analyzer = ctx.searcher.schema["content"].analyzer
    return lambda text: highlight_text(text, terms, analyzer)


def _back_url(q: str) -> str:
    """The results page the reader came from (same site only), else a search for `q`."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc == request.host and parts.path == url_for("pages.search"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("pages.search", q=q or None)
