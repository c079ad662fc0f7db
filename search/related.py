"""Related reports: more like this from a report's key terms, same region or industry boosted."""

from __future__ import annotations

from typing import Any

from whoosh import query as wq

from zhsearch.search.context import SearchContext
from zhsearch.search.keyterms import key_terms

_REGION_BOOST = 1.5
_INDUSTRY_BOOST = 1.0


def related_reports(ctx: SearchContext, docnum: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` other reports sharing the key terms of report `docnum`, ranked by those
    terms (weighted by their TF-IDF) with a bonus for the same region or industry."""
    if limit <= 0:
        return []
    stored = ctx.searcher.stored_fields(docnum)
    terms = key_terms(ctx, stored, 12)
    if not terms:
        return []
    top = terms[0]["weight"] or 1.0
    text_q = wq.Or(
        [
            wq.Term(fieldname, t["term"], boost=t["weight"] / top)
            for t in terms
            for fieldname in ("title", "content")
        ]
    )
    bonus: list[wq.Query] = []
    region_codes = str(stored.get("region_codes", "")).split()
    if region_codes:
        bonus.append(wq.Term("region_codes", region_codes[-1], boost=_REGION_BOOST))
    for code in str(stored.get("industries", "")).split():
        bonus.append(wq.Term("industries", code, boost=_INDUSTRY_BOOST))
    q: wq.Query = wq.AndMaybe(text_q, wq.Or(bonus)) if bonus else text_q
    results = ctx.searcher.search(q, limit=limit + 1, mask={docnum})
    out: list[dict[str, Any]] = []
    for hit in results:
        fields = hit.fields()
        out.append(
            {
                "id": fields.get("id", ""),
                "title": fields.get("title", ""),
                "date": fields.get("date_text") or None,
                "region_path": fields.get("region_path", ""),
                "score": round(float(hit.score or 0.0), 4),
                "same_region": bool(region_codes)
                and region_codes[-1] in str(fields.get("region_codes", "")).split(),
            }
        )
        if len(out) >= limit:
            break
    return out
