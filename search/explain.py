"""Why a hit ranked where it did: each term's share of its BM25F score, from the ranking code."""

from __future__ import annotations

from typing import Any

from whoosh import query as wq

from zhsearch.index.schema import SEARCH_FIELDS
from zhsearch.search.context import SearchContext
from zhsearch.search.ranking import score_parts

_MAX_TERMS = 64  # parts listed per hit; the best ones


def explain_hit(
    ctx: SearchContext, q: wq.Query, docnum: int, score: float | None, sort: str
) -> dict[str, Any]:
    """The `explain` object of one hit: its score, how it was sorted, the score each field
    contributed, each matched term's score (the typed text in `<field>_chars`, its words in the
    word field), the field boosts and the query as run."""
    matched = sorted(score_parts(ctx, q, docnum), key=lambda m: -m["score"])[:_MAX_TERMS]
    fields: dict[str, float] = {}
    for m in matched:
        fields[m["field"]] = round(fields.get(m["field"], 0.0) + m["score"], 4)
    return {
        "score": None if score is None else round(score, 4),
        "sort": sort if score is not None else "date",
        "fields": fields,
        "boosts": {name: float(boost) for name, boost in SEARCH_FIELDS.items()},
        "matched": matched,
        "query": str(q)[:500],
    }
