"""Top hits by BM25F over an already-known set of matching documents.

`run_search` knows every matching document before ranking (facets need the whole set). Whoosh
would find them again by walking the query's matcher tree one document at a time, with the
per-field ORs inside ANDs doing a `skip_to` on every child: most of a query's time on the full
corpus. Here each positive term's postings are read a block at a time and only documents in
the set are scored, with the same formula as Whoosh's BM25F (global idf and average length,
the document's stored field length, the query boosts, sums over AND/OR), so the scores equal
Whoosh's. Queries with nodes this does not model (phrases, ranges) return None and are ranked by
Whoosh instead.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.scoring import BM25F, bm25
from whoosh.util.numeric import byte_to_length

from index.schema import SEARCH_FIELDS
from search.charquery import CharTerms, merged_postings
from search.columns import segment_values
from search.context import SearchContext, cached
from search.docsets import matching_docs, phrase_docs
from search.postings import term_segments


def rank(
    ctx: SearchContext, q: wq.Query, docs: set[int], limit: int
) -> list[tuple[int, float]] | None:
    """The best `limit` (docnum, score) of `docs` for `q`, best first (ties: lower docnum first);
    None when `q` has a node this ranking does not model."""
    weighting = ctx.searcher.weighting
    if type(weighting) is not BM25F:
        return None
    scores: dict[int, float] = {}
    if not _add(ctx, q, docs, scores, 1.0, exact=True):
        return None
    best = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
    if len(best) < limit:  # documents matched only through NOT-free structure with no score
        seen = {d for d, _ in best}
        rest = sorted(d for d in docs if d not in seen)
        best.extend((d, 0.0) for d in rest[: limit - len(best)])
    return best


def _add(
    ctx: SearchContext,
    q: wq.Query,
    docs: set[int],
    scores: dict[int, float],
    boost: float,
    exact: bool = False,
) -> bool:
    """Add `q`'s score to `scores` for the documents of `docs` that `q` matches; False when `q`
    is not modelled. `exact`: every document in `docs` is known to match `q`."""
    boost *= q.boost
    if isinstance(q, CharTerms):
        return _add_char_terms(ctx, q, docs, scores, boost)
    if isinstance(q, wq.Term):
        if isinstance(q.text, str):
            _add_term(ctx, q.fieldname, q.text, docs, scores, boost)
        return True
    if isinstance(q, wq.Phrase):
        # Whoosh scores a phrase match as the sum of its words' scores, where it matches.
        if any(not isinstance(w, str) for w in q.words):
            return False
        where = phrase_docs(ctx, q) & docs
        for word in dict.fromkeys(q.words) if where else ():
            _add_term(ctx, q.fieldname, word, where, scores, boost * q.words.count(word))
        return True
    if isinstance(q, wq.Not):
        return True  # excluded documents are already out of `docs`; NOT adds no score
    plain = not getattr(q, "minmatch", 0) and not getattr(q, "scale", None)
    if isinstance(q, (wq.And, wq.AndNot)) and plain:
        if not exact:  # an AND under an OR scores only the documents that match all of it
            docs = matching_docs(ctx, q) & docs
            if not docs:
                return True
        children = [q.a] if isinstance(q, wq.AndNot) else list(q.children())
        return all(_add(ctx, c, docs, scores, boost, exact=True) for c in children)
    if isinstance(q, wq.Or) and plain:
        return all(_add(ctx, c, docs, scores, boost) for c in q.children())
    return False


def _add_term(
    ctx: SearchContext,
    fieldname: str,
    text: str,
    docs: set[int],
    scores: dict[int, float],
    boost: float,
) -> None:
    segments = term_segments(ctx, fieldname, text)
    if not segments:
        return
    searcher = ctx.searcher
    weighting = searcher.weighting
    b = weighting._field_B.get(fieldname, weighting.B)
    k1 = weighting.K1
    idf = searcher.idf(fieldname, text)
    avgfl = searcher.avg_field_length(fieldname) or 1
    scorable = searcher.schema[fieldname].scorable
    get = scores.get
    for leaf, offset, ids, weights in segments:
        lengths = _lengths(ctx, leaf, offset, fieldname) if scorable else None
        for local, weight in _in_set(ids, weights, docs, offset):
            s = bm25(idf, weight, lengths[local], avgfl, b, k1) if lengths else weight
            docnum = local + offset
            scores[docnum] = get(docnum, 0.0) + s * boost


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


def _add_char_terms(
    ctx: SearchContext, q: CharTerms, docs: set[int], scores: dict[int, float], boost: float
) -> bool:
    terms = q.subqueries
    if not all(isinstance(t, wq.Term) and t.boost == 1.0 for t in terms):
        return False
    fieldname = terms[0].fieldname
    texts = [t.text for t in terms]
    get = scores.get
    for subsearcher, offset in _subsearchers(ctx):
        ids, values = merged_postings(subsearcher, fieldname, texts, q.cache)
        for local, s in zip(ids, values, strict=True):
            docnum = local + offset
            if docnum in docs:
                scores[docnum] = get(docnum, 0.0) + s * boost
    return True


def _subsearchers(ctx: SearchContext) -> list[tuple[Any, int]]:
    searcher = ctx.searcher
    if searcher.is_atomic():
        return [(searcher, 0)]
    return list(searcher.subsearchers)


def prepare_lengths(ctx: SearchContext) -> None:
    """Read the searched fields' lengths of every segment now rather than on first use."""
    for leaf, offset in ctx.searcher.reader().leaf_readers():
        for fieldname in SEARCH_FIELDS:
            if fieldname in leaf.schema and leaf.schema[fieldname].scorable:
                _lengths(ctx, leaf, offset, fieldname)


def _lengths(ctx: SearchContext, leaf: Any, offset: int, fieldname: str) -> list[int]:
    """Every document's stored length of `fieldname` in one segment, read once per generation."""
    return cached(ctx, ("lengths", offset, fieldname), lambda: field_lengths(leaf, fieldname))


def field_lengths(leaf: Any, fieldname: str) -> list[int]:
    """A segment's per-document lengths of `fieldname` (at least 1), as Whoosh's scorer sees them.

    The whoosh3 codec keeps them as one byte per document; reading that column whole is ~50x
    faster than a `doc_field_length` call per document.
    """
    cached_reader = getattr(getattr(leaf, "_perdoc", None), "_cached_reader", None)
    if cached_reader is None:  # another codec
        return _lengths_per_document(leaf, fieldname)
    column = cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        # No document of the segment has the field. Whoosh's scorer then gets its default, 1,
        # after a file-existence check per document.
        return [1] * leaf.doc_count_all()
    table = [byte_to_length(b) or 1 for b in range(256)]  # a missing length (0) scores as 1
    return [table[b] for b in segment_values(column)]


def _lengths_per_document(leaf: Any, fieldname: str) -> list[int]:
    length = leaf.doc_field_length
    return [length(d, fieldname, 1) or 1 for d in range(leaf.doc_count_all())]
