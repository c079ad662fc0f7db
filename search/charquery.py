"""A single Han character searched as every indexed word containing it, as one posting list.

`expand_query` turns 锂 into an OR of up to `max_expansion` words (锂电池, 锂电, 碳酸锂…). As a
plain `Or`, Whoosh matches that with a tree of hundreds of union matchers whose `skip_to` visits
every child: seconds per query on the full corpus once the OR sits inside an AND. `CharTerms`
keeps the OR's children (so the set algebra, highlighting and explanations see ordinary terms)
but matches them as one list of (docnum, score) merged from whole posting blocks, cached per
index generation and segment.

The merged score of a document is the sum over the words it holds of BM25 with the document's
field length taken as the average: reading every posting's field length would cost as much as
the union it replaces. Field boosts are already in the stored weights.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from whoosh import query as wq
from whoosh.matching import Matcher, NullMatcher
from whoosh.scoring import bm25

from search.context import LRU
from search.postings import posting_arrays

# Merged lists kept per index generation; each is at most two arrays of a segment's size.
CHAR_LISTS = 256


class CharTerms(wq.Or):
    """An OR of the indexed terms of one field that contain one character.

    `cache` (an LRU kept per index generation by the caller) holds the merged lists across
    requests: the web app opens a new searcher, hence new segment readers, for every request.
    """

    def __init__(
        self,
        subqueries: Sequence[wq.Query],
        boost: float = 1.0,
        minmatch: int = 0,
        scale: float | None = None,
        cache: LRU | None = None,
    ) -> None:
        super().__init__(list(subqueries), boost=boost, minmatch=minmatch, scale=scale)
        self.cache = cache

    def matcher(self, searcher: Any, context: Any = None) -> Matcher:
        """One list matcher over the merged postings of every child term in this segment."""
        terms = [q for q in self.subqueries if isinstance(q, wq.Term)]
        if not terms or len(terms) != len(self.subqueries):
            return super().matcher(searcher, context)
        texts = [t.text for t in terms]
        ids, scores = merged_postings(searcher, terms[0].fieldname, texts, self.cache)
        if not ids:
            return NullMatcher()
        if self.boost != 1.0:
            scores = array("d", (s * self.boost for s in scores))
        return MergedMatcher(ids, scores)


def merged_postings(
    searcher: Any, fieldname: str, texts: list[str], cache: LRU | None = None
) -> tuple[array, array]:
    """Sorted docnums of this segment holding any of `texts` in `fieldname`, with summed
    scores; kept in `cache` by segment when one is given."""
    reader = searcher.reader()
    segment = getattr(reader, "segment", None)
    if cache is None or segment is None:
        return _merge(searcher, reader, fieldname, texts)
    key = (segment().segment_id(), fieldname, tuple(texts))
    hit = cache.get(key)
    if hit is None:
        hit = cache.put(key, _merge(searcher, reader, fieldname, texts))
    return hit


def _merge(searcher: Any, reader: Any, fieldname: str, texts: list[str]) -> tuple[array, array]:
    top = searcher.get_parent()  # idf and average length are global, not per segment
    weighting = top.weighting
    b = getattr(weighting, "B", 0.75)
    b = getattr(weighting, "_field_B", {}).get(fieldname, b)
    k1 = getattr(weighting, "K1", 1.2)
    avgfl = top.avg_field_length(fieldname) or 1.0
    field = reader.schema[fieldname]
    acc: dict[int, float] = {}
    get = acc.get
    for text in texts:
        btext = field.to_bytes(text)
        if (fieldname, btext) not in reader:
            continue
        idf = top.idf(fieldname, text)
        ids, weights = posting_arrays(reader.postings(fieldname, btext))
        for docnum, weight in zip(ids, weights, strict=True):
            acc[docnum] = get(docnum, 0.0) + bm25(idf, weight, avgfl, avgfl, b, k1)
    ids = sorted(acc)
    if reader.has_deletions():  # the raw posting lists still hold deleted documents
        ids = [d for d in ids if not reader.is_deleted(d)]
    return array("i", ids), array("d", (acc[d] for d in ids))


class MergedMatcher(Matcher):
    """A matcher over sorted docnums with precomputed scores; `skip_to` bisects."""

    def __init__(self, ids: array, scores: array, i: int = 0) -> None:
        self._ids = ids
        self._scores = scores
        self._i = i
        self._max = max(scores) if scores else 0.0

    def is_active(self) -> bool:
        return self._i < len(self._ids)

    def reset(self) -> None:
        self._i = 0

    def copy(self) -> MergedMatcher:
        return MergedMatcher(self._ids, self._scores, self._i)

    def id(self) -> int:
        return self._ids[self._i]

    def next(self) -> bool:
        self._i += 1
        return False

    def skip_to(self, id: int) -> bool:
        if self._i < len(self._ids) and self._ids[self._i] < id:
            self._i = bisect_left(self._ids, id, self._i)
        return False

    def all_ids(self) -> Any:
        return iter(self._ids[self._i :])

    def score(self) -> float:
        return self._scores[self._i]

    def weight(self) -> float:
        return self._scores[self._i]

    def supports(self, astype: str) -> bool:
        return False

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return self._max

    def replace(self, minquality: float = 0) -> Matcher:
        if not self.is_active() or (minquality and self._max < minquality):
            return NullMatcher()
        return self

    def term(self) -> None:
        return None

    def matching_terms(self, id: int | None = None) -> Any:
        return iter(())
