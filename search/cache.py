"""What searching derives from an index generation, kept in named, typed slots.

Facet arrays, field lengths, lexicons and decoded postings are read from a generation once and
asked for by every search. They belong to one `SearchCaches` object that its owner (the web
app, a CLI command, a benchmark) passes to `open_context`; there is no process-global cache.
Each generation gets a `GenerationCache` of declared slots: *built* slots hold one value per
key, sized by the index (arrays, lexicons); *bounded* slots are LRU maps sized by the queries
(postings, literal matches, shown documents, document extras), each within its setting's bytes,
and together within the generation's memory budget (`budget_bytes`). The latest
`cache_generations` generations are kept, so searchers still reading the previous one after a
reindex do not rebuild it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from zhsearch.index.settings import Settings

T = TypeVar("T")
GenerationKey = tuple[str, int | None]  # generation directory, Whoosh TOC generation


@dataclass(frozen=True)
class Slot(Generic[T]):
    """A declared kind of cached value: its name, and for a bounded slot the setting (in MB)
    that caps its LRU map. Declared beside the code that builds the value."""

    name: str
    budget_setting: str | None = None  # None: built once per key, sized by the index

    def __post_init__(self) -> None:
        if _SLOTS.setdefault(self.name, self) != self:
            raise ValueError(f"cache slot {self.name!r} is declared twice")


_SLOTS: dict[str, Slot[Any]] = {}


def declared_slots() -> list[Slot[Any]]:
    """Every slot declared so far (for docs and tests)."""
    return list(_SLOTS.values())


class LRU:
    """A small thread-safe least-recently-used map whose entries' total weight (bytes, unless
    `weigh` says otherwise) stays within `size`."""

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

    def __len__(self) -> int:
        return len(self._items)


class GenerationCache:
    """The slots of one index generation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._values: dict[tuple[str, Hashable], Any] = {}
        self._bounded: dict[str, LRU] = {}
        self._lock = threading.Lock()  # guards the maps only; builds run outside it
        self._building: dict[tuple[str, Hashable], threading.Lock] = {}

    def value(self, slot: Slot[T], build: Callable[[], T], key: Hashable = None) -> T:
        """The value `build()` returns for `slot` (and `key`), built once for this generation.

        Concurrent requests for the same value wait for one build; a build does not hold up
        requests for values already built (a background warm-up may take seconds)."""
        if slot.budget_setting is not None:
            raise TypeError(f"{slot.name} is a bounded slot: use bounded()")
        entry = (slot.name, key)
        with self._lock:
            if entry in self._values:
                return self._values[entry]
            lock = self._building.setdefault(entry, threading.Lock())
        with lock:
            with self._lock:
                if entry in self._values:
                    return self._values[entry]
            try:
                value = build()
                with self._lock:
                    self._values[entry] = value
            finally:  # a failed build leaves no lock behind; the next request tries again
                with self._lock:
                    self._building.pop(entry, None)
            return value

    def bounded(self, slot: Slot[Any], weigh: Callable[[Any], int]) -> LRU:
        """The LRU map of a bounded slot, capped by its setting (MB; 0 keeps nothing)."""
        if slot.budget_setting is None:
            raise TypeError(f"{slot.name} is a built slot: use value()")
        with self._lock:
            lru = self._bounded.get(slot.name)
            if lru is None:
                size = int(getattr(self.settings, slot.budget_setting) * 2**20)
                lru = self._bounded[slot.name] = LRU(size, weigh=weigh)
            return lru

    def budget_bytes(self) -> int:
        """The most the bounded slots of a generation may hold together."""
        return sum(
            int(getattr(self.settings, s.budget_setting) * 2**20)
            for s in declared_slots()
            if s.budget_setting is not None
        )

    def held_bytes(self) -> int:
        """What the bounded slots hold now (their entries' weights)."""
        with self._lock:
            return sum(lru.weight for lru in self._bounded.values())


class SearchCaches:
    """The caches of the latest generations a process searched, owned by the caller."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._generations: OrderedDict[GenerationKey, GenerationCache] = OrderedDict()
        self._warmed: set[GenerationKey] = set()
        self._lock = threading.Lock()

    def generation(self, key: GenerationKey) -> GenerationCache:
        """The cache of generation `key`, made on first use; the oldest beyond
        `cache_generations` are dropped."""
        with self._lock:
            cache = self._generations.get(key)
            if cache is None:
                cache = self._generations[key] = GenerationCache(self.settings)
                while len(self._generations) > max(1, self.settings.cache_generations):
                    self._generations.popitem(last=False)
            else:
                self._generations.move_to_end(key)
            return cache

    def __contains__(self, key: GenerationKey) -> bool:
        with self._lock:
            return key in self._generations

    def claim_warm_up(self, key: GenerationKey) -> bool:
        """True the first time it is asked for generation `key`: that caller warms it up."""
        with self._lock:
            if key in self._warmed:
                return False
            self._warmed.add(key)
            return True
