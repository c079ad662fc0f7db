"""Top hits by BM25F over an already-known set of matching documents: the one ranking path.

`run_search` knows every matching document before ranking (facets need the whole set), so each
positive term is scored only over the documents in that set, from whole posting lists.

A literal term found in a field scores twice, both with Whoosh's BM25F formula (global idf and
average length, the document's stored field length, the field boosts, sums over AND/OR):
- as the text typed: its occurrences in the field (the character index's posting weight, or the
  occurrences counted when its text was checked), with the idf of the documents it occurs in;
- as jieba's words: each word of the term (query-mode segmentation), as a word engine would.
So a report where 机遇 is a word outranks one with 机遇 only inside 坠机遇难, and a phrase that
occurs often outranks one that occurs once. Filters and NOT add no score.

Scores are computed with numpy over whole posting arrays into one dense array per search, in
the same order of operations as Whoosh's `bm25`, so they equal Whoosh's scores (tested).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F

from zhsearch.index.chargrams import chars_field
from zhsearch.index.engine import bm25_parameters, field_lengths, idf
from zhsearch.index.schema import SEARCH_FIELDS
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext
from zhsearch.search.docsets import literal_match, matching_docs
from zhsearch.search.literal import Literal
from zhsearch.search.postings import term_segments

Segments = tuple[tuple[int, Any, Any], ...]  # (docnum offset, segment docnums, weights)


def rank(ctx: SearchContext, q: wq.Query, docs: set[int], limit: int) -> list[tuple[int, float]]:
    """The best `limit` (docnum, score) of `docs` for `q`, best first (ties: lower docnum first).

    Raises TypeError for a query node it does not know (the parser makes none).
    """
    if type(ctx.searcher.weighting) is not BM25F:
        raise TypeError("zhsearch ranks with BM25F")
    if not docs or limit <= 0:
        return []
    n = ctx.searcher.reader().doc_count_all()
    ids = np.fromiter(docs, dtype=np.int64, count=len(docs))
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    scores = np.zeros(n)
    _add(ctx, q, mask, scores, 1.0, exact=True)
    chosen = scores[ids]
    if len(ids) > limit:  # keep everything tied with the limit-th best, then order exactly
        kth = np.partition(chosen, len(chosen) - limit)[len(chosen) - limit]
        keep = chosen >= kth
        ids, chosen = ids[keep], chosen[keep]
    order = np.lexsort((ids, -chosen))[:limit]
    return [(int(ids[i]), float(chosen[i])) for i in order]


def score_parts(ctx: SearchContext, q: wq.Query, docnum: int) -> list[dict[str, Any]]:
    """What each positive term contributed to one document's score, for `explain`."""
    n = ctx.searcher.reader().doc_count_all()
    mask = np.zeros(n, dtype=bool)
    mask[docnum] = True
    parts: list[dict[str, Any]] = []
    _add(ctx, q, mask, np.zeros(n), 1.0, exact=False, parts=parts)
    return [p for p in parts if p["score"]]


def _add(
    ctx: SearchContext,
    q: wq.Query,
    mask: np.ndarray,
    scores: np.ndarray,
    boost: float,
    exact: bool = False,
    parts: list[dict[str, Any]] | None = None,
) -> None:
    """Add `q`'s score to `scores` for the documents of `mask` that `q` matches. `exact`: every
    document in `mask` is known to match `q`. `parts`, when given, collects each term's share."""
    ctx.budget.check()
    boost *= q.boost
    if isinstance(q, Literal):
        _add_literal(ctx, q, mask, scores, boost, parts)
        return
    if isinstance(q, wq.Term):
        if isinstance(q.text, str):
            _add_term(ctx, q.fieldname, q.text, mask, scores, boost, parts)
        return
    if isinstance(q, (wq.Not, wq.Every)) or q is wq.NullQuery:
        return  # excluded documents are already out of `mask`; NOT and "everything" add nothing
    if isinstance(q, (wq.And, wq.AndNot)):
        if not exact:  # an AND under an OR scores only the documents that match all of it
            matched = matching_docs(ctx, q)
            if not matched:
                return
            inside = np.zeros_like(mask)
            inside[np.fromiter(matched, dtype=np.int64, count=len(matched))] = True
            mask = mask & inside
            if not mask.any():
                return
        children = [q.a] if isinstance(q, wq.AndNot) else list(q.children())
        for child in children:
            _add(ctx, child, mask, scores, boost, exact=True, parts=parts)
        return
    if isinstance(q, wq.Or):
        for child in q.children():
            _add(ctx, child, mask, scores, boost, parts=parts)
        return
    raise TypeError(f"cannot rank {type(q).__name__}")


def _add_literal(
    ctx: SearchContext,
    q: Literal,
    mask: np.ndarray,
    scores: np.ndarray,
    boost: float,
    parts: list[dict[str, Any]] | None,
) -> None:
    """The typed text's own BM25 in the field, then its words' where it occurs."""
    match = literal_match(ctx, q.fieldname, q.term)
    if not match.segments:
        return
    field = chars_field(q.fieldname)
    searcher = ctx.searcher
    gram = q.term.exact_gram
    # One n-gram: its own idf, as Whoosh computes it; checked text: the documents it occurs in.
    text_idf = searcher.idf(field, gram) if gram else idf(searcher.doc_count_all(), len(match))
    label = q.term.display
    where = _score_postings(
        ctx, field, text_idf, match.segments, mask, scores, boost, parts, label, len(match)
    )
    if where is None:
        return
    for word in query_words(ctx, q.term.text):
        _add_term(ctx, q.fieldname, word, where, scores, boost, parts)


def query_words(ctx: SearchContext, text: str) -> tuple[str, ...]:
    """jieba's words of typed text (query mode), each once: the word-level half of ranking."""
    analyzer = ctx.searcher.schema["content"].analyzer
    return _query_words(analyzer, text)


@lru_cache(maxsize=4096)
def _query_words(analyzer: Any, text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.text for t in analyzer(text, mode="query")))


def _add_term(
    ctx: SearchContext,
    fieldname: str,
    text: str,
    mask: np.ndarray,
    scores: np.ndarray,
    boost: float,
    parts: list[dict[str, Any]] | None = None,
) -> None:
    """One indexed term's BM25F score for the documents of `mask` holding it."""
    found = term_segments(ctx, fieldname, text)
    if not found:
        return
    searcher = ctx.searcher
    term_idf = searcher.idf(fieldname, text)
    segments = tuple((offset, ids, weights) for _, offset, ids, weights in found)
    df = searcher.doc_frequency(fieldname, text)
    _score_postings(ctx, fieldname, term_idf, segments, mask, scores, boost, parts, text, df)


def _score_postings(
    ctx: SearchContext,
    fieldname: str,
    term_idf: float,
    segments: Segments,
    mask: np.ndarray,
    scores: np.ndarray,
    boost: float,
    parts: list[dict[str, Any]] | None,
    label: str,
    doc_frequency: int,
) -> np.ndarray | None:
    """Add BM25 of postings (weights = frequency x field boost) to `scores` for the documents
    of `mask`; a mask of the documents scored, None when none. `label` and `doc_frequency`
    describe the term in `parts`."""
    searcher = ctx.searcher
    b, k1 = bm25_parameters(searcher.weighting, fieldname)
    avgfl = searcher.avg_field_length(fieldname) or 1
    field = searcher.schema[fieldname]
    field_boost = getattr(field.format, "field_boost", 1.0) or 1.0
    scored = None
    for offset, ids, weights in segments:
        local = np.frombuffer(ids, dtype=np.int32)
        docnums = local + offset
        inside = mask[docnums]
        if not inside.any():
            continue
        docnums, local = docnums[inside], local[inside]
        tf = np.frombuffer(weights, dtype=np.float32)[inside].astype(np.float64)
        if field.scorable:
            fl = _lengths(ctx, offset, fieldname)[local]
            s = term_idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
        else:
            s = tf
        scores[docnums] += s * boost
        if scored is None:
            scored = np.zeros_like(mask)
        scored[docnums] = True
        if parts is not None:
            parts.extend(
                {
                    "field": fieldname,
                    "term": label,
                    "score": round(float(value * boost), 4),
                    "frequency": round(float(t) / field_boost),
                    "doc_frequency": doc_frequency,
                }
                for value, t in zip(s, tf, strict=True)
            )
    return scored


FIELD_LENGTHS: Slot[np.ndarray] = Slot("field_lengths")  # (offset, field) → per-doc lengths


def prepare_lengths(ctx: SearchContext) -> None:
    """Read the searched fields' lengths of every segment now rather than on first use."""
    for _leaf, offset in ctx.searcher.reader().leaf_readers():
        for name in SEARCH_FIELDS:
            for fieldname in (name, chars_field(name)):
                if fieldname in ctx.searcher.schema:
                    _lengths(ctx, offset, fieldname)


def _lengths(ctx: SearchContext, offset: int, fieldname: str) -> np.ndarray:
    """Every document's stored length of `fieldname` in one segment, read once per generation."""

    def build() -> np.ndarray:
        leaf = dict((o, leaf) for leaf, o in ctx.searcher.reader().leaf_readers())[offset]
        return np.asarray(field_lengths(leaf, fieldname), dtype=np.int64)

    return ctx.cache.value(FIELD_LENGTHS, build, key=(offset, fieldname))
