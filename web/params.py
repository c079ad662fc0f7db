"""Query-string helpers shared by the page and the API: the known search parameters, and URLs
of the current search with some parameters changed (facet, sort, pagination links)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from zhsearch.search.request import PARAM_NAMES

# The search parameters, as `search.request.PARAMS` declares them.
SEARCH_PARAMS = PARAM_NAMES
# /api/export takes the search parameters (page and size are ignored: it exports all pages).
EXPORT_PARAMS = (*SEARCH_PARAMS, "format")


def unknown_params(args: MultiDict[str, str], known: tuple[str, ...] = SEARCH_PARAMS) -> list[str]:
    """Names in `args` that /api/search (or the endpoint knowing `known`) does not know."""
    return [name for name in dict.fromkeys(args.keys()) if name not in known]


def search_params(args: MultiDict[str, str]) -> MultiDict[str, str]:
    """The known search parameters of `args` with blank values dropped (an empty form field
    means "not given"), in canonical order."""
    out: MultiDict[str, str] = MultiDict()
    for name in SEARCH_PARAMS:
        for value in args.getlist(name):
            value = value.strip() if name != "q" else value
            if value.strip():
                out.add(name, value)
    return out


def with_changes(params: MultiDict[str, str], **changes: Any) -> list[tuple[str, str]]:
    """`params` with some names replaced: None removes, a list sets all values, anything else
    sets one; the page is reset to 1 unless `page` is among the changes."""
    pairs: dict[str, list[str]] = {name: params.getlist(name) for name in SEARCH_PARAMS}
    if "page" not in changes:
        pairs["page"] = []
    for raw_name, value in changes.items():
        name = "from" if raw_name == "from_" else raw_name
        if value is None:
            pairs[name] = []
        elif isinstance(value, (list, tuple)):
            pairs[name] = [str(v) for v in value]
        else:
            pairs[name] = [str(value)]
    if pairs["page"] == ["1"]:
        pairs["page"] = []
    return [(name, v) for name in SEARCH_PARAMS for v in pairs[name]]


def query_string(pairs: Iterable[tuple[str, str]]) -> str:
    """`?a=1&b=2`, or "" when there is nothing to encode."""
    encoded = urlencode(list(pairs))
    return f"?{encoded}" if encoded else ""
