"""The documents a query matches, as a set of docnums, by set algebra over posting lists.

Facets and the exact total need every matching document, not the top ten. Whoosh's
`docs_for_query` walks compound matchers one document at a time in Python; reading each term's
posting blocks whole and combining them with C-level set operations is several times faster.

A `Literal` (what the user typed) is matched on the character index: one n-gram's posting list
when that decides it, otherwise the documents holding all of its n-grams, each checked against
its canonical text in the segment's text column (`index.chargrams`), as pg_bigm rechecks its
bigram candidates. Filters (keywords, sources, date ranges) are Whoosh terms and ranges.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq

from zhsearch.index.chargrams import chars_field, text_column
from zhsearch.index.engine import TextColumn
from zhsearch.index.engine import text_column as open_text_column
from zhsearch.index.schema import SEARCH_FIELDS
from zhsearch.search.arrays import doc_arrays
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext
from zhsearch.search.literal import Literal, LiteralTerm
from zhsearch.search.postings import term_segments

MAX_GRAMS = 6  # rarest n-grams intersected for a term's candidates; the text check does the rest
CHECK_EVERY = 2048  # candidates checked between two looks at the request's budget


@dataclass(frozen=True)
class LiteralMatch:
    """Where a literal term occurs in one field: per segment (docnum offset, segment docnums,
    weights = occurrences x the field's boost, as Whoosh's Frequency postings weigh them)."""

    segments: tuple[tuple[int, array, array], ...]

    @property
    def docs(self) -> set[int]:
        """Docnums (deleted ones included) where the term occurs."""
        out: set[int] = set()
        for offset, ids, _ in self.segments:
            out.update(ids if not offset else (offset + i for i in ids))
        return out

    def __len__(self) -> int:
        return sum(len(ids) for _, ids, _ in self.segments)


# (field, term key) → a literal term's documents and occurrences
LITERAL_MATCHES: Slot[LiteralMatch] = Slot("literal_matches", "literal_cache_mb")
TEXT_COLUMNS: Slot[TextColumn | None] = Slot("text_columns")  # (offset, column) → mapped text
DATE_ORDER: Slot[tuple[list[int], list[int]]] = Slot("date_order")  # dated docnums by date
DELETED: Slot[frozenset[int]] = Slot("deleted")  # deleted docnums


def matching_docs(ctx: SearchContext, q: wq.Query) -> set[int]:
    """Docnums of the live documents matching `q`."""
    docs = _docs(ctx, q)
    deleted = _deleted(ctx)
    return docs - deleted if deleted else docs


def _docs(ctx: SearchContext, q: wq.Query) -> set[int]:
    if isinstance(q, Literal):
        return literal_match(ctx, q.fieldname, q.term).docs
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
    if isinstance(q, wq.NumericRange) and q.fieldname == "date" and _has_dates(ctx):
        return _date_docs(ctx, q.start, q.end, q.startexcl, q.endexcl)
    if isinstance(q, wq.Every) and not q.fieldname:
        return set(_live(ctx))
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    return set(ctx.searcher.docs_for_query(q))


def _intersection(ctx: SearchContext, queries: list[wq.Query]) -> set[int]:
    # Cheap terms first, so a range is only evaluated when something is left.
    ordered = sorted(queries, key=lambda c: not isinstance(c, (Literal, wq.Term, wq.Or, wq.And)))
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


def literal_match(ctx: SearchContext, fieldname: str, term: LiteralTerm) -> LiteralMatch:
    """Every document whose `fieldname` holds `term` literally, with its occurrences; the
    latest are kept per generation (pages 2, 3…, facet clicks and ranking ask again)."""
    lru = ctx.cache.bounded(LITERAL_MATCHES, weigh=_weigh)
    key = (fieldname, term.key)
    hit = lru.get(key)
    if hit is None:
        hit = lru.put(key, _literal_match(ctx, fieldname, term))
    return hit


def _weigh(match: LiteralMatch) -> int:
    return 8 * len(match) + 100 * len(match.segments) + 200


def _literal_match(ctx: SearchContext, fieldname: str, term: LiteralTerm) -> LiteralMatch:
    chars = chars_field(fieldname)
    reader = ctx.searcher.reader()
    if chars not in reader.schema:
        return LiteralMatch(())
    gram = term.exact_gram
    if gram is not None:
        found = term_segments(ctx, chars, gram)
        return LiteralMatch(tuple((offset, ids, weights) for _, offset, ids, weights in found))
    grams = sorted(term.grams, key=lambda g: reader.doc_frequency(chars, g))[:MAX_GRAMS]
    lists = [{offset: ids for _, offset, ids, _ in term_segments(ctx, chars, g)} for g in grams]
    boost = reader.schema[chars].format.field_boost
    out = []
    for leaf, offset in reader.leaf_readers():
        if any(offset not in found for found in lists):
            continue
        # The rarest gram's list, narrowed by the others; its weights are not this term's.
        candidates = set(lists[0][offset])
        for found in lists[1:]:
            candidates.intersection_update(found[offset])
            if not candidates:
                break
        if not candidates:
            continue
        column = _text_column(ctx, leaf, offset, fieldname)
        if column is None:
            continue
        ids, weights = _verify(ctx, term, column, sorted(candidates), boost)
        if ids:
            out.append((offset, ids, weights))
    return LiteralMatch(tuple(out))


def _verify(
    ctx: SearchContext, term: LiteralTerm, column: TextColumn, candidates: list[int], boost: float
) -> tuple[array, array]:
    """The candidates whose text holds `term`, with occurrences x `boost` as weights."""
    ids, weights = array("i"), array("f")
    buf, base, offsets, lengths = column.buffer, column.base, column.offsets, column.lengths
    check = ctx.budget.check
    if term.plain:
        needle = term.needle
        step = len(needle)
        find = buf.find
        for n, doc in enumerate(candidates):
            if not n % CHECK_EVERY:
                check()
            start = base + offsets[doc]
            end = start + lengths[doc]
            pos = find(needle, start, end)
            if pos < 0:
                continue
            count = 0
            while pos >= 0:
                count += 1
                pos = find(needle, pos + step, end)
            ids.append(doc)
            weights.append(count * boost)
        return ids, weights
    findall = term.pattern.findall
    for n, doc in enumerate(candidates):
        if not n % CHECK_EVERY:
            check()
        start = base + offsets[doc]
        count = len(findall(buf, start, start + lengths[doc]))
        if count:
            ids.append(doc)
            weights.append(count * boost)
    return ids, weights


def prepare_text_columns(ctx: SearchContext) -> None:
    """Map every segment's text columns now rather than on first use."""
    for leaf, offset in ctx.searcher.reader().leaf_readers():
        for fieldname in SEARCH_FIELDS:
            _text_column(ctx, leaf, offset, fieldname)


def _text_column(ctx: SearchContext, leaf: Any, offset: int, fieldname: str) -> TextColumn | None:
    """A segment's canonical text column, mapped once per generation."""
    name = text_column(fieldname)
    folder = str(ctx.index_path)
    return ctx.cache.value(
        TEXT_COLUMNS, lambda: open_text_column(leaf, folder, name), key=(offset, name)
    )


def _has_dates(ctx: SearchContext) -> bool:
    return ctx.searcher.reader().has_column("date")


def _date_docs(
    ctx: SearchContext, start: int | None, end: int | None, startexcl: bool, endexcl: bool
) -> set[int]:
    """Dated documents in a date range, by bisecting the date column sorted once per generation.

    Whoosh matches a range as an OR of the trie terms covering it: tens of thousands of posting
    lists for a range of years, seconds on the full corpus; this is a slice of one array.
    """
    keys, docnums = ctx.cache.value(DATE_ORDER, lambda: _date_order(ctx))
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

    return ctx.cache.value(DELETED, build)
