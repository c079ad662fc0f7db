"""The documents a query matches, as a set of docnums, by set algebra over posting lists.

Facets and the exact total need every matching document, not the top ten. Whoosh's
`docs_for_query` walks compound matchers one document at a time in Python; reading each term's
posting blocks whole and combining them with C-level set operations is several times faster.
Queries without a fast path (phrases, ranges) fall back to `docs_for_query`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from typing import Any

from whoosh import query as wq

from search.context import LRU, SearchContext, cached
from search.facets import doc_arrays
from search.postings import term_segments

PHRASE_CACHE = 256  # phrase match sets kept per index generation


def matching_docs(ctx: SearchContext, q: wq.Query) -> set[int]:
    """Docnums of the live documents matching `q`."""
    docs = _docs(ctx, q)
    deleted = _deleted(ctx)
    return docs - deleted if deleted else docs


def _docs(ctx: SearchContext, q: wq.Query) -> set[int]:
    if isinstance(q, wq.Term):
        return _term_docs(ctx, q.fieldname, q.text)
    if isinstance(q, wq.Or) and not q.minmatch:
        out: set[int] = set()
        for child in q.children():
            out |= _docs(ctx, child)
        return out
    if isinstance(q, wq.And):
        positive = [c for c in q.children() if not isinstance(c, wq.Not)]
        negative = [c.query for c in q.children() if isinstance(c, wq.Not)]
        docs = _intersection(ctx, positive) if positive else set(_live(ctx))
        for child in negative:
            if docs:
                docs -= _docs(ctx, child)
        return docs
    if isinstance(q, wq.AndNot):
        docs = _docs(ctx, q.a)
        return docs - _docs(ctx, q.b) if docs else docs
    if isinstance(q, wq.Not):
        return set(_live(ctx)) - _docs(ctx, q.query)
    if isinstance(q, wq.Phrase):
        return set(phrase_docs(ctx, q))
    if isinstance(q, wq.NumericRange) and q.fieldname == "date" and _has_dates(ctx):
        return _date_docs(ctx, q.start, q.end, q.startexcl, q.endexcl)
    if isinstance(q, wq.Every) and not q.fieldname:
        return set(_live(ctx))
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    return set(ctx.searcher.docs_for_query(q))


def _intersection(ctx: SearchContext, queries: list[wq.Query]) -> set[int]:
    # Cheap terms first, so a phrase or range is only evaluated when something is left.
    ordered = sorted(queries, key=lambda c: not isinstance(c, (wq.Term, wq.Or, wq.And)))
    docs = _docs(ctx, ordered[0])
    for child in ordered[1:]:
        if not docs:
            break
        docs &= _docs(ctx, child)
    return docs


def _term_docs(ctx: SearchContext, fieldname: str, text: Any) -> set[int]:
    out: set[int] = set()
    for _leaf, offset, ids, _weights in term_segments(ctx, fieldname, text):
        out.update(ids if not offset else (offset + i for i in ids))
    return out


def phrase_docs(ctx: SearchContext, q: wq.Phrase) -> frozenset[int]:
    """Documents (deleted ones included) where a phrase matches; the latest few are kept.

    Checking positions is the one per-document step left in matching, and the same phrases
    come back (pages 2, 3…, facet clicks), so their sets are kept per generation, as Lucene's
    query cache does for expensive clauses.
    """
    key = (q.fieldname, tuple(q.words), q.slop, q.boost)
    lru = cached(ctx, "phrase_docs", lambda: LRU(PHRASE_CACHE))
    hit = lru.get(key)
    if hit is None:
        hit = lru.put(key, frozenset(ctx.searcher.docs_for_query(q, for_deletion=True)))
    return hit


def _has_dates(ctx: SearchContext) -> bool:
    return ctx.searcher.reader().has_column("date")


def _date_docs(
    ctx: SearchContext, start: int | None, end: int | None, startexcl: bool, endexcl: bool
) -> set[int]:
    """Dated documents in a date range, by bisecting the date column sorted once per generation.

    Whoosh matches a range as an OR of the trie terms covering it: tens of thousands of posting
    lists for a range of years, seconds on the full corpus; this is a slice of one array.
    """
    keys, docnums = cached(ctx, "date_order", lambda: _date_order(ctx))
    lo = 0 if start is None else (bisect_right if startexcl else bisect_left)(keys, start)
    hi = len(keys) if end is None else (bisect_left if endexcl else bisect_right)(keys, end)
    return set(docnums[lo:hi]) if lo < hi else set()


def _date_order(ctx: SearchContext) -> tuple[list[int], list[int]]:
    dates = doc_arrays(ctx).dates  # -1 for undated documents, which no range matches
    docnums = sorted((d for d, v in enumerate(dates) if v >= 0), key=dates.__getitem__)
    return [dates[d] for d in docnums], docnums


def _live(ctx: SearchContext) -> Iterable[int]:
    return ctx.searcher.reader().all_doc_ids()


def _deleted(ctx: SearchContext) -> frozenset[int]:
    """Deleted docnums of this generation (incremental updates leave some), cached."""

    def build() -> frozenset[int]:
        reader = ctx.searcher.reader()
        if not reader.has_deletions():
            return frozenset()
        return frozenset(d for d in range(reader.doc_count_all()) if reader.is_deleted(d))

    return cached(ctx, "deleted", build)
