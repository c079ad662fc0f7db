"""Export of a whole result set (every page, capped by `settings.max_export`) as CSV or JSON
Lines, through `run_search` page by page so the rows are exactly what the search shows."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any

from zhsearch.search.context import SearchContext
from zhsearch.search.request import BadRequest, SearchRequest
from zhsearch.search.run import run_search

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
COLUMNS = (
    "rank", "id", "title", "date", "source", "url", "region_path", "region_codes", "zone",
    "industries", "industry_labels", "score",
)  # fmt: skip


def export_rows(request: SearchRequest, ctx: SearchContext) -> tuple[list[dict[str, Any]], int]:
    """The rows of every result of `request` in its order, at most `max_export` (and never past
    `max_depth`), and the total the search found."""
    settings = ctx.settings
    cap = min(settings.max_export, settings.max_depth)
    size = settings.max_page_size
    rows: list[dict[str, Any]] = []
    total = 0
    page = 1
    while len(rows) < cap and page * size <= settings.max_depth:
        ctx.budget.check()  # past the time budget or the client gone: stop between pages
        paged = replace(request, page=page, size=size, highlight=False, explain=False)
        result = run_search(paged, ctx)
        total = result.total
        for hit in result.hits:
            rows.append(
                {
                    "rank": len(rows) + 1,
                    "id": hit.id,
                    "title": hit.title,
                    "date": hit.date,
                    "source": hit.source,
                    "url": hit.url,
                    "region_path": hit.region.get("path", ""),
                    "region_codes": list(hit.region.get("codes", [])),
                    "zone": hit.region.get("zone", ""),
                    "industries": [i["code"] for i in hit.industries],
                    "industry_labels": [i["label"] for i in hit.industries],
                    "score": None if hit.score is None else round(hit.score, 4),
                }
            )
            if len(rows) >= cap:
                break
        if len(result.hits) < size:
            break
        page += 1
    return rows, total


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    """CSV (with a BOM so spreadsheet programs read UTF-8; lists joined by spaces) or JSON Lines."""
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if fmt != "csv":
        raise BadRequest("bad_parameter", f"format 只能是 csv 或 jsonl，收到 {fmt!r}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: neutralise_cell(" ".join(v) if isinstance(v, list) else v) for k, v in row.items()}
        )
    return "\ufeff" + out.getvalue()


def neutralise_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (OWASP "CSV injection"): text that
    starts with =, +, -, @, tab or carriage return gets a leading apostrophe; numbers stay."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
