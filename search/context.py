"""The search context: one opened searcher plus the gazetteer and taxonomy, closed per request.

There are no module-level index or searcher objects: the web app opens a context per request, so
a reindex that switches generations is served from the next request on. Derived data (facet
arrays, the character→terms map) is cached by `cache_key`, which changes with every commit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from whoosh.index import Index
from whoosh.searching import Searcher

from zhsearch.index.settings import Settings
from zhsearch.search.budget import UNLIMITED, Budget

T = TypeVar("T")
_CACHE_GENERATIONS = 2  # an old generation stays cached while searchers still read it
_cache: OrderedDict[tuple[str, int | None], dict[Hashable, Any]] = OrderedDict()
_cache_lock = threading.Lock()  # guards the maps only; builds run outside it
_building: dict[tuple[tuple[str, int | None], Hashable], threading.Lock] = {}


@dataclass
class SearchContext:
    """An open searcher on the live index generation, with what searching needs beside it."""

    settings: Settings
    index: Index
    searcher: Searcher
    gazetteer: Any  # corpus.regions gazetteer: .name(code), .children(code), .ancestors(code)…
    taxonomy: Any  # corpus.industries taxonomy: .label(code), .codes()
    budget: Budget = UNLIMITED  # the request's deadline and cancellation probe (web sets it)

    @property
    def index_path(self) -> Path:
        """The generation directory the searcher reads."""
        return Path(getattr(self.index.storage, "folder", ""))

    @cached_property
    def cache_key(self) -> tuple[str, int | None]:
        """Identifies what the searcher sees: generation directory plus Whoosh TOC generation
        (fixed for the searcher's life; asked for by every cache lookup)."""
        return (str(self.index_path), self.searcher.reader().generation())

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


def open_context(settings: Settings) -> SearchContext:
    """Open the live index read-only (raises IndexMissing/IndexOutdated) with gazetteer and
    taxonomy; use as a context manager or call `.close()`."""
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
        return SearchContext(settings, ix, searcher, gazetteer(), load_taxonomy(settings.taxonomy))
    except BaseException:
        searcher.close()
        ix.close()
        raise


def cached(ctx: SearchContext, name: Hashable, build: Callable[[], T]) -> T:
    """The value `build()` returns for what `ctx` reads, built once per index generation.

    Concurrent requests for the same value on a new generation wait for one build; a build
    does not hold up requests for values already built (a warm-up building the suggestion
    lexicon in the background takes seconds).
    """
    key = ctx.cache_key
    with _cache_lock:
        entries = _cache.get(key)
        if entries is None:
            entries = _cache[key] = {}
            while len(_cache) > _CACHE_GENERATIONS:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        if name in entries:
            return entries[name]
        lock = _building.setdefault((key, name), threading.Lock())
    with lock:
        with _cache_lock:
            if name in entries:
                return entries[name]
        try:
            value = build()
            with _cache_lock:
                entries[name] = value
        finally:  # a failed build leaves no lock behind; the next request tries again
            with _cache_lock:
                _building.pop((key, name), None)
        return value


class LRU:
    """A small thread-safe least-recently-used map, for per-generation caches that must not grow
    with the number of distinct queries. Entries weigh 1 unless `weigh` says otherwise; the
    total weight stays within `size`."""

    def __init__(self, size: int, weigh: Callable[[Any], int] | None = None) -> None:
        self.size = size
        self.weight = 0
        self._weigh = weigh or (lambda _value: 1)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value for `key` (now the most recent), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: T) -> T:
        """Store `value` under `key`, dropping the least recent entries beyond `size`."""
        weight = self._weigh(value)
        if weight > self.size:
            return value  # would evict everything else and still not fit
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.weight -= old[1]
            self._items[key] = (value, weight)
            self.weight += weight
            while self.weight > self.size:
                _key, (_value, dropped) = self._items.popitem(last=False)
                self.weight -= dropped
        return value
