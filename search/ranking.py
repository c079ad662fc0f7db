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
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh import query as wq
from whoosh.scoring import BM25F, bm25

from index.chargrams import chars_field
from index.engine import bm25_parameters, field_lengths, idf
from index.schema import SEARCH_FIELDS
from search.context import SearchContext, cached
from search.docsets import literal_match, matching_docs
from search.literal import Literal
from search.postings import term_segments

Scores = dict[int, float]


def rank(ctx: SearchContext, q: wq.Query, docs: set[int], limit: int) -> list[tuple[int, float]]:
    """The best `limit` (docnum, score) of `docs` for `q`, best first (ties: lower docnum first).

    Raises TypeError for a query node it does not know (the parser makes none).
    """
    if type(ctx.searcher.weighting) is not BM25F:
        raise TypeError("zhsearch ranks with BM25F")
    scores: Scores = {}
    _add(ctx, q, docs, scores, 1.0, exact=True)
    best = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
    if len(best) < limit:  # documents matched only through structure with no score
        seen = {d for d, _ in best}
        rest = sorted(d for d in docs if d not in seen)
        best.extend((d, 0.0) for d in rest[: limit - len(best)])
    return best


def score_parts(ctx: SearchContext, q: wq.Query, docnum: int) -> list[dict[str, Any]]:
    """What each positive term contributed to one document's score, for `explain`."""
    parts: list[dict[str, Any]] = []
    _add(ctx, q, {docnum}, {}, 1.0, exact=False, parts=parts)
    return [p for p in parts if p["score"]]


def _add(
    ctx: SearchContext,
    q: wq.Query,
    docs: set[int],
    scores: Scores,
    boost: float,
    exact: bool = False,
    parts: list[dict[str, Any]] | None = None,
) -> None:
    """Add `q`'s score to `scores` for the documents of `docs` that `q` matches. `exact`: every
    document in `docs` is known to match `q`. `parts`, when given, collects each term's share."""
    ctx.budget.check()
    boost *= q.boost
    if isinstance(q, Literal):
        _add_literal(ctx, q, docs, scores, boost, parts)
        return
    if isinstance(q, wq.Term):
        if isinstance(q.text, str):
            _add_term(ctx, q.fieldname, q.text, docs, scores, boost, parts)
        return
    if isinstance(q, (wq.Not, wq.Every)) or q is wq.NullQuery:
        return  # excluded documents are already out of `docs`; NOT and "everything" add nothing
    if isinstance(q, (wq.And, wq.AndNot)):
        if not exact:  # an AND under an OR scores only the documents that match all of it
            docs = matching_docs(ctx, q) & docs
            if not docs:
                return
        children = [q.a] if isinstance(q, wq.AndNot) else list(q.children())
        for child in children:
            _add(ctx, child, docs, scores, boost, exact=True, parts=parts)
        return
    if isinstance(q, wq.Or):
        for child in q.children():
            _add(ctx, child, docs, scores, boost, parts=parts)
        return
    raise TypeError(f"cannot rank {type(q).__name__}")


def _add_literal(
    ctx: SearchContext,
    q: Literal,
    docs: set[int],
    scores: Scores,
    boost: float,
    parts: list[dict[str, Any]] | None,
) -> None:
    """The typed text's own BM25 in the field, then its words'."""
    match = literal_match(ctx, q.fieldname, q.term)
    if not match.segments:
        return
    field = chars_field(q.fieldname)
    searcher = ctx.searcher
    gram = q.term.exact_gram
    # One n-gram: its own idf, as Whoosh computes it; checked text: the documents it occurs in.
    text_idf = searcher.idf(field, gram) if gram else idf(searcher.doc_count_all(), len(match))
    where = _score_postings(
        ctx, field, text_idf, match.segments, docs, scores, boost, parts, q.term.display, len(match)
    )
    if not where:
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
    docs: set[int],
    scores: Scores,
    boost: float,
    parts: list[dict[str, Any]] | None = None,
) -> None:
    """One indexed term's BM25F score for the documents of `docs` holding it."""
    found = term_segments(ctx, fieldname, text)
    if not found:
        return
    searcher = ctx.searcher
    term_idf = searcher.idf(fieldname, text)
    segments = tuple((offset, ids, weights) for _, offset, ids, weights in found)
    df = searcher.doc_frequency(fieldname, text)
    _score_postings(ctx, fieldname, term_idf, segments, docs, scores, boost, parts, text, df)


def _score_postings(
    ctx: SearchContext,
    fieldname: str,
    term_idf: float,
    segments: tuple[tuple[int, array, array], ...],
    docs: set[int],
    scores: Scores,
    boost: float,
    parts: list[dict[str, Any]] | None,
    label: str,
    doc_frequency: int,
) -> set[int]:
    """Add BM25 of postings (weights = frequency x field boost) to `scores` for the documents
    in `docs`; the documents scored. `label` and `doc_frequency` describe the term in `parts`."""
    searcher = ctx.searcher
    b, k1 = bm25_parameters(searcher.weighting, fieldname)
    avgfl = searcher.avg_field_length(fieldname) or 1
    field = searcher.schema[fieldname]
    scorable = field.scorable
    field_boost = getattr(field.format, "field_boost", 1.0) or 1.0
    get = scores.get
    seen: set[int] = set()
    for offset, ids, weights in segments:
        lengths = _lengths(ctx, offset, fieldname) if scorable else None
        for local, weight in _in_set(ids, weights, docs, offset):
            s = bm25(term_idf, weight, lengths[local], avgfl, b, k1) if lengths else weight
            docnum = local + offset
            scores[docnum] = get(docnum, 0.0) + s * boost
            seen.add(docnum)
            if parts is not None:
                parts.append(
                    {
                        "field": fieldname,
                        "term": label,
                        "score": round(float(s * boost), 4),
                        "frequency": round(weight / field_boost),
                        "doc_frequency": doc_frequency,
                    }
                )
    return seen


def _in_set(ids: array, weights: array, docs: set[int], offset: int) -> Iterator[tuple[int, float]]:
    """The postings whose documents are in `docs`: walking the list, or, when the set is much
    smaller than the list, looking each document up in it by bisection."""
    if len(docs) * 16 < len(ids):
        end = offset + (ids[-1] + 1 if ids else 0)
        for docnum in sorted(d for d in docs if offset <= d < end):
            i = bisect_left(ids, docnum - offset)
            if i < len(ids) and ids[i] == docnum - offset:
                yield ids[i], weights[i]
        return
    for local, weight in zip(ids, weights, strict=True):
        if local + offset in docs:
            yield local, weight


def prepare_lengths(ctx: SearchContext) -> None:
    """Read the searched fields' lengths of every segment now rather than on first use."""
    for _leaf, offset in ctx.searcher.reader().leaf_readers():
        for name in SEARCH_FIELDS:
            for fieldname in (name, chars_field(name)):
                if fieldname in ctx.searcher.schema:
                    _lengths(ctx, offset, fieldname)


def _lengths(ctx: SearchContext, offset: int, fieldname: str) -> list[int]:
    """Every document's stored length of `fieldname` in one segment, read once per generation."""

    def build() -> list[int]:
        leaf = dict((o, leaf) for leaf, o in ctx.searcher.reader().leaf_readers())[offset]
        return field_lengths(leaf, fieldname)

    return cached(ctx, ("lengths", offset, fieldname), build)
