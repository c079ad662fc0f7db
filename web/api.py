"""The JSON API: HTTP parameters → `SearchRequest`, `SearchResult` → JSON; nothing else."""

from __future__ import annotations

import re
from importlib import resources

from flask import Blueprint, Response, current_app, jsonify, request

from search.documents import get_document, index_stats
from search.request import SearchRequest
from search.run import run_search
from web.context import current_settings, search_context
from web.errors import json_error
from web.params import SEARCH_PARAMS, search_params, unknown_params

bp = Blueprint("api", __name__)

# What an article id can look like (docs/architecture.md, "Article ids"); anything else is a 404
# before the index is even asked.
DOC_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


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


@bp.get("/documents/<doc_id>")
def document(doc_id: str) -> Response:
    """One stored report with its metadata and full text."""
    doc = get_document(search_context(), doc_id) if DOC_ID.match(doc_id) else None
    if doc is None:
        return json_error("not_found", f"没有 id 为 {doc_id!r} 的报道", 404)
    return jsonify({"ok": True, "document": doc})


@bp.get("/stats")
def stats() -> Response:
    """Index size and counts, for monitoring scripts."""
    return jsonify({"ok": True, "stats": index_stats(search_context())})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API (a static file kept in step by the tests)."""
    text = resources.files("web").joinpath("openapi.json").read_text(encoding="utf-8")
    return current_app.response_class(text, mimetype="application/json")
