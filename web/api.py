"""The JSON API: HTTP parameters → `SearchRequest`, `SearchResult` → JSON; nothing else."""

from __future__ import annotations

import re
from importlib import resources

from flask import Blueprint, Response, current_app, jsonify, request

from zhsearch.search.documents import get_document, index_health, index_stats
from zhsearch.search.export import FORMATS, export_rows, render
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search
from zhsearch.search.suggest import complete
from zhsearch.web.context import current_settings, search_context
from zhsearch.web.errors import error_response, index_unreadable, json_error
from zhsearch.web.params import EXPORT_PARAMS, SEARCH_PARAMS, search_params, unknown_params

bp = Blueprint("api", __name__)

# What an article id can look like (docs/architecture.md, "Article ids"); anything else is a 404
# before the index is even asked.
DOC_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
SUGGEST_MAX_CHARS = 64


@bp.get("/search")
def search() -> Response:
    """Run one search; unknown parameters are refused so typos do not silently match all."""
    unknown = unknown_params(request.args)
    if unknown:
        names = "、".join(unknown)
        allowed = ", ".join(SEARCH_PARAMS)
        return json_error("bad_parameter", f"未知参数：{names}（可用参数：{allowed}）", 400)
    search_request = SearchRequest.from_params(search_params(request.args), current_settings())
    return jsonify(run_search(search_request, search_context()).to_dict())


@bp.get("/export")
def export() -> Response:
    """Every result of a search (capped by max_export) as CSV or JSON Lines, as a download."""
    unknown = unknown_params(request.args, EXPORT_PARAMS)
    if unknown:
        names = "、".join(unknown)
        allowed = ", ".join(EXPORT_PARAMS)
        return json_error("bad_parameter", f"未知参数：{names}（可用参数：{allowed}）", 400)
    fmt = request.args.get("format", "csv").strip().lower() or "csv"
    if fmt not in FORMATS:
        return json_error("bad_parameter", f"format 只能是 csv 或 jsonl，收到 {fmt!r}", 400)
    params = search_params(request.args)
    params.poplist("page")
    params.poplist("size")
    search_request = SearchRequest.from_params(params, current_settings())
    rows, total = export_rows(search_request, search_context(current_settings().export_timeout_ms))
    response = current_app.response_class(render(rows, fmt), mimetype=FORMATS[fmt])
    if fmt == "csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename=zhsearch-export.{fmt}"
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Exported-Count"] = str(len(rows))
    return response


@bp.get("/suggest")
def suggest() -> Response:
    """Autocomplete for the search box: indexed terms by Hanzi or pinyin prefix, and titles."""
    q = request.args.get("q", "")
    if len(q) > SUGGEST_MAX_CHARS:
        return json_error("bad_query", f"q 最多 {SUGGEST_MAX_CHARS} 个字符", 400)
    items = complete(search_context(), q) if q.strip() else []
    return jsonify({"ok": True, "q": q, "suggestions": items})


@bp.get("/documents/<doc_id>")
def document(doc_id: str) -> Response:
    """One stored report with its metadata and full text."""
    doc = get_document(search_context(), doc_id) if DOC_ID.match(doc_id) else None
    if doc is None:
        return json_error("not_found", f"没有 id 为 {doc_id!r} 的报道", 404)
    return jsonify({"ok": True, "document": doc})


@bp.get("/stats")
def stats() -> Response:
    """Index size and counts, for monitoring scripts; 503 `index_unavailable` with the reason
    when the index cannot be read (a quick probe, or a search in this process that failed)."""
    ctx = search_context()
    problem = index_unreadable(ctx) or index_health(ctx)
    if problem:
        return error_response("index_unavailable", problem, 503)
    return jsonify({"ok": True, "stats": index_stats(ctx)})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API (a static file kept in step by the tests)."""
    text = resources.files("web").joinpath("openapi.json").read_text(encoding="utf-8")
    return current_app.response_class(text, mimetype="application/json")
