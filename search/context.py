"""The search context: one opened searcher plus the gazetteer and taxonomy, closed per request.

There are no module-level index or searcher objects: the web app opens a context per request, so
a reindex that switches generations is served from the next request on. Derived data (facet
arrays, field lengths, postings) lives in the caller's `SearchCaches`, under `cache_key`, which
changes with every commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

from whoosh.index import Index
from whoosh.searching import Searcher

from zhsearch.index.settings import Settings
from zhsearch.search.budget import UNLIMITED, Budget
from zhsearch.search.cache import GenerationCache, SearchCaches


@dataclass
class SearchContext:
    """An open searcher on the live index generation, with what searching needs beside it."""

    settings: Settings
    index: Index
    searcher: Searcher
    gazetteer: Any  # corpus.regions gazetteer: .name(code), .children(code), .ancestors(code)…
    taxonomy: Any  # corpus.industries taxonomy: .label(code), .codes()
    owner_caches: SearchCaches | None = None  # the caller's; None: the context's own
    budget: Budget = UNLIMITED  # the request's deadline and cancellation probe (web sets it)

    @cached_property
    def caches(self) -> SearchCaches:
        """Where derived data of the generation lives: the owner's caches, or the context's."""
        return self.owner_caches or SearchCaches(self.settings)

    @property
    def index_path(self) -> Path:
        """The generation directory the searcher reads."""
        return Path(getattr(self.index.storage, "folder", ""))

    @cached_property
    def cache_key(self) -> tuple[str, int | None]:
        """Identifies what the searcher sees: generation directory plus Whoosh TOC generation
        (fixed for the searcher's life; asked for by every cache lookup)."""
        return (str(self.index_path), self.searcher.reader().generation())

    @property
    def cache(self) -> GenerationCache:
        """The caches of the generation this context reads."""
        return self.caches.generation(self.cache_key)

    def close(self) -> None:
        """Release the searcher and the index files."""
        self.searcher.close()
        self.index.close()

    def __enter__(self) -> SearchContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_context(settings: Settings, caches: SearchCaches | None = None) -> SearchContext:
    """Open the live index read-only (raises IndexMissing/IndexOutdated) with gazetteer and
    taxonomy; use as a context manager or call `.close()`. `caches` are the owner's (the web
    app's, a benchmark's) so derived data outlives one context; None gives the context its own."""
    from zhsearch.corpus.industries import load_taxonomy
    from zhsearch.corpus.regions import gazetteer
    from zhsearch.index.store import open_index

    ix = open_index(settings)
    try:
        searcher = ix.searcher()
    except BaseException:
        ix.close()
        raise
    try:
        return SearchContext(
            settings,
            ix,
            searcher,
            gazetteer(),
            load_taxonomy(settings.taxonomy, settings.user_dict),
            caches,
        )
    except BaseException:
        searcher.close()
        ix.close()
        raise
