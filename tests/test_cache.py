"""Per-generation caches: declared slots, built once, bounded by settings, owned by the caller."""

from __future__ import annotations

import ast
import threading

import pytest

from tests.helpers import REPO
from zhsearch.search.arrays import DOC_ARRAYS, doc_arrays
from zhsearch.search.cache import GenerationCache, SearchCaches, Slot, declared_slots
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search


def test_every_slot_is_declared_once_and_bounded_ones_name_a_setting(sample_settings):
    import zhsearch.search.documents
    import zhsearch.search.suggest  # noqa: F401 - declares its slots on import

    slots = {s.name: s for s in declared_slots()}
    assert {"doc_arrays", "postings", "literal_matches", "shown_documents"} <= set(slots)
    for slot in slots.values():
        if slot.budget_setting is not None:
            assert isinstance(getattr(sample_settings, slot.budget_setting), int), slot
    with pytest.raises(ValueError, match="declared twice"):
        Slot("postings", "document_cache_mb")


def test_a_value_is_built_once_even_when_asked_for_at_once(sample_settings):
    cache = GenerationCache(sample_settings)
    slot: Slot[list[int]] = Slot("test_built_once")
    builds: list[int] = []
    start = threading.Barrier(8)

    def build() -> list[int]:
        builds.append(1)
        return [len(builds)]

    def ask() -> None:
        start.wait()
        assert cache.value(slot, build) == [1]

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [1]


def test_bounded_slots_stay_within_their_settings(sample_settings):
    small = sample_settings.replace(postings_cache_mb=1, document_cache_mb=1, literal_cache_mb=1)
    caches = SearchCaches(small)
    with open_context(small, caches) as ctx:
        for q in ["锂", "光伏", "负极材料", "山西", "项目", "新能源 汽车"]:
            run_search(SearchRequest.from_params({"q": q}, small), ctx)
        cache = ctx.cache
        assert 0 < cache.held_bytes() <= cache.budget_bytes()
        bounded = [s for s in declared_slots() if s.budget_setting]
        assert cache.budget_bytes() == sum(
            getattr(small, s.budget_setting) * 2**20 for s in bounded
        )


def test_the_owner_keeps_caches_across_contexts_and_only_the_latest_generations(
    sample_settings,
):
    caches = SearchCaches(sample_settings.replace(cache_generations=1))
    with open_context(sample_settings, caches) as ctx:
        arrays = doc_arrays(ctx)
        key = ctx.cache_key
    with open_context(sample_settings, caches) as ctx:
        assert doc_arrays(ctx) is arrays  # the same generation: not rebuilt
    caches.generation(("another", 1))
    assert key not in caches  # one generation kept: the older one went
    with open_context(sample_settings) as ctx:  # no owner: the context's own caches
        assert ctx.cache.value(DOC_ARRAYS, lambda: None) is None


def test_no_module_keeps_a_cache_of_its_own():
    """Caches belong to an owner's object: no module-level LRU, OrderedDict or dict of results
    in search/ or web/ (functools caches of loaded files are bounded by count and allowed)."""
    for package in ("search", "web"):
        for path in sorted((REPO / package).glob("*.py")):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(
                    node.value, ast.Call
                ):
                    func = ast.unparse(node.value.func)
                    assert func not in {"LRU", "OrderedDict", "dict", "set"}, (path, func)
