"""The documents a query matches, as a set of docnums, by set algebra over posting lists.

Facets and the exact total need every matching document, not the top ten. Whoosh's
`docs_for_query` walks compound matchers one document at a time in Python; reading each term's
posting blocks whole and combining them with C-level set operations is several times faster.
Queries without a fast path (phrases, ranges) fall back to `docs_for_query`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from whoosh import query as wq

from search.context import SearchContext, cached


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
    reader = ctx.searcher.reader()
    schema = reader.schema
    if fieldname not in schema:
        return set()
    if isinstance(text, str):
        text = schema[fieldname].to_bytes(text)
    out: set[int] = set()
    for leaf, offset in reader.leaf_readers():
        if (fieldname, text) not in leaf:
            continue
        ids = _posting_ids(leaf.postings(fieldname, text))
        out.update(ids if not offset else (offset + i for i in ids))
    return out


def _posting_ids(matcher: Any) -> Iterable[int]:
    """Every docnum of a fresh posting matcher, a block at a time when the codec allows.

    Deleted documents are removed by the caller, so a deletion filter is looked through.
    """
    raw = getattr(matcher, "child", matcher)
    try:
        out: list[int] = []
        while raw.is_active():
            if raw._ids is None:
                raw._read_ids()
            out.extend(raw._ids[raw._i :])
            raw._i = raw._blocklength
            raw._next_block()
        return out
    except AttributeError:  # another codec: the generic, slower path
        return list(matcher.all_ids())


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
