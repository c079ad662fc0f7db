"""Whole posting lists, decoded once (through the engine seam) and kept per index generation.

Whoosh's matchers step one posting at a time in Python. Matching, facet counts and ranking over
a known set of documents need whole lists; `index.engine.posting_arrays` reads them a block at
a time, and the recent ones are kept decoded here.
"""

from __future__ import annotations

from array import array
from typing import Any

from zhsearch.index.engine import posting_arrays
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext

# (offset, field, term) → a segment's (docnums, weights), decoded once
POSTINGS: Slot[tuple[array, array]] = Slot("postings", "postings_cache_mb")


def term_postings(
    ctx: SearchContext, leaf: Any, offset: int, fieldname: str, btext: bytes
) -> tuple[array, array]:
    """A term's (docnums, weights) in one segment (empty if absent), decoded once and kept.

    Matching, facets and ranking all read the same lists, and common words (经济, 发展) have
    tens of thousands of postings whose decoding (unpickling Whoosh's blocks) is most of a
    query's cost; `postings_cache_mb` bounds what is kept.
    """
    lru = ctx.cache.bounded(POSTINGS, weigh=lambda v: 8 * len(v[0]) + 200)
    key = (offset, fieldname, btext)
    hit = lru.get(key)
    if hit is None:
        # A term the segment lacks is kept too (as empty lists): asking the segment's term
        # table costs a seek and a read every time.
        if (fieldname, btext) in leaf:
            hit = lru.put(key, posting_arrays(leaf.postings(fieldname, btext)))
        else:
            hit = lru.put(key, (array("i"), array("f")))
    return hit


def term_segments(
    ctx: SearchContext, fieldname: str, text: str | bytes
) -> list[tuple[Any, int, array, array]]:
    """(segment reader, docnum offset, docnums, weights) of each segment holding the term;
    empty when the term or the field is not in the index."""
    reader = ctx.searcher.reader()
    schema = reader.schema
    if fieldname not in schema:
        return []
    btext = schema[fieldname].to_bytes(text) if isinstance(text, str) else text
    out = []
    for leaf, offset in reader.leaf_readers():
        ids, weights = term_postings(ctx, leaf, offset, fieldname, btext)
        if ids:
            out.append((leaf, offset, ids, weights))
    return out
