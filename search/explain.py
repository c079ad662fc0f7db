"""Why a hit ranked where it did: per-field and per-term BM25F scores with the field boosts."""

from __future__ import annotations

from typing import Any

from whoosh import query as wq

from index.schema import SEARCH_FIELDS
from search.context import SearchContext
from search.query import positive_leaves

_MAX_TERMS = 64  # leaves scored per hit; wide expansions are summarised by their best terms


def explain_hit(
    ctx: SearchContext, q: wq.Query, docnum: int, score: float | None, sort: str
) -> dict[str, Any]:
    """The `explain` object of one hit: its score, how it was sorted, the score each search
    field contributed, each matched term's score, the field boosts and the query as run."""
    searcher = ctx.searcher
    weighting = searcher.weighting
    matched: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for fieldname, text in _leaf_terms(q):
        if (fieldname, text) in seen or len(seen) >= _MAX_TERMS:
            continue
        seen.add((fieldname, text))
        if fieldname not in searcher.schema or (fieldname, text) not in searcher.reader():
            continue
        postings = searcher.postings(fieldname, text)
        postings.skip_to(docnum)
        if not postings.is_active() or postings.id() != docnum:
            continue
        scorer = weighting.scorer(searcher, fieldname, text)
        matched.append(
            {
                "field": fieldname,
                "term": text,
                "score": round(float(scorer.score(postings)), 4),
                "frequency": int(postings.weight()),
                "doc_frequency": searcher.doc_frequency(fieldname, text),
            }
        )
    matched.sort(key=lambda m: -m["score"])
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


def _leaf_terms(q: wq.Query) -> list[tuple[str, str]]:
    """(field, text) of the positive terms of `q`, phrases split into their words."""
    out: list[tuple[str, str]] = []
    for node in positive_leaves(q):
        if isinstance(node, wq.Phrase):
            out.extend((node.fieldname, w) for w in node.words)
        else:
            out.append((node.fieldname, node.text))
    return out
