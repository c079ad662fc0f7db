"""Recently shown documents: stored fields plus the query-independent snippet analysis.

Every hit needs its stored fields and its title and content tokenised for highlighting; popular
documents are shown by many searches. Like Solr's documentCache, the last-shown documents are
kept per index generation (document numbers are only valid within one), bounded by
`document_cache_mb`, so a document is read and tokenised once however many searches show it.
Only query-independent work is kept; marks and passages are still chosen per query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext
from zhsearch.search.snippets import SCAN_CHARS, AnalysedText

# What an entry costs in memory, measured with tracemalloc over the 970 documents the benchmark
# queries show (52 bytes per content character on average): the text and its normal form, and the
# words of the sentences snippets tokenised (within the first SCAN_CHARS characters only).
_BYTES_PER_ENTRY = 4_000
_BYTES_PER_CHAR = 4
_BYTES_PER_SCANNED_CHAR = 44


@dataclass
class ShownDocument:
    """One document as hits show it."""

    stored: dict[str, Any]
    title: AnalysedText
    content: AnalysedText


SHOWN_DOCUMENTS: Slot[ShownDocument] = Slot("shown_documents", "document_cache_mb")


def shown_document(ctx: SearchContext, docnum: int) -> ShownDocument:
    """The stored fields and highlighting analysis of `docnum`, from the cache when recent."""
    if ctx.settings.document_cache_mb <= 0:
        return _load(ctx, docnum)
    lru = ctx.cache.bounded(SHOWN_DOCUMENTS, weigh=_weight)
    found = lru.get(docnum)
    if found is None:
        found = lru.put(docnum, _load(ctx, docnum))
    return found


def _load(ctx: SearchContext, docnum: int) -> ShownDocument:
    stored = ctx.searcher.stored_fields(docnum)
    analyzer = ctx.searcher.schema["content"].analyzer
    return ShownDocument(
        stored=stored,
        title=AnalysedText(stored.get("title", ""), analyzer, limit=None),
        content=AnalysedText(stored.get("content", ""), analyzer),
    )


def _weight(doc: ShownDocument) -> int:
    chars = len(doc.content.text)
    return (
        _BYTES_PER_ENTRY
        + _BYTES_PER_CHAR * chars
        + _BYTES_PER_SCANNED_CHAR * min(chars, SCAN_CHARS)
    )
