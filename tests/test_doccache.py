"""The document cache: hits built from cached documents equal freshly built ones, a reindex never
shows a cached old text, and the cache stays within its memory bound."""

from __future__ import annotations

import shutil

from zhsearch.index.settings import Settings
from zhsearch.index.writer import Indexer
from zhsearch.search.cache import SearchCaches
from zhsearch.search.context import open_context
from zhsearch.search.doccache import SHOWN_DOCUMENTS, shown_document
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search

# Queries whose hits overlap, so later ones are built from documents earlier ones cached.
QUERIES = ["经济", "经济 发展", '"经济 发展"', "铁路 建设", "锂", "新能源", "改革 -农业", "中国"]


def _hits(settings: Settings, q: str, caches: SearchCaches | None = None) -> list[dict]:
    with open_context(settings, caches) as ctx:
        request = SearchRequest.from_params({"q": q, "size": "20"}, settings)
        return [hit.to_dict() for hit in run_search(request, ctx).hits]


def test_cached_documents_give_the_same_hits_as_fresh_ones(two_segments):
    fresh = two_segments.replace(document_cache_mb=0)
    caches = SearchCaches(two_segments)  # shared, as a server's requests share them
    cold = {q: _hits(two_segments, q, caches) for q in QUERIES}
    warm = {q: _hits(two_segments, q, caches) for q in reversed(QUERIES)}
    for q in QUERIES:
        expected = _hits(fresh, q)
        assert expected, q
        assert any("<mark>" in h["snippet"] for h in expected), q
        assert cold[q] == expected, q
        assert warm[q] == expected, q


def test_a_shown_document_is_read_and_analysed_once(two_segments):
    with open_context(two_segments) as ctx:
        first = shown_document(ctx, 7)
        calls = []
        original = ctx.searcher.stored_fields
        ctx.searcher.stored_fields = lambda d: calls.append(d) or original(d)
        assert shown_document(ctx, 7) is first and calls == []
        assert shown_document(ctx, 8) is not first and calls == [8]
    with open_context(two_segments.replace(document_cache_mb=0)) as ctx:
        assert shown_document(ctx, 7) is not shown_document(ctx, 7)


def test_cache_stays_within_its_memory_bound(two_segments):
    small = two_segments.replace(document_cache_mb=1)
    caches = SearchCaches(small)
    for q in QUERIES:
        _hits(small, q, caches)
    with open_context(small, caches) as ctx:
        lru = ctx.cache.bounded(SHOWN_DOCUMENTS, weigh=len)
        assert 0 < lru.weight <= 2**20
        assert len(lru) < 8 * 20  # not everything shown was kept


def test_a_reindex_shows_the_new_text_not_the_cached_one(tmp_path, sample_dir):
    corpus = tmp_path / "corpus"
    shutil.copytree(sample_dir, corpus)
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, env={})
    Indexer(settings).run([corpus])
    before = _hits(settings, "宁德时代")
    assert before and "换电站" not in before[0]["snippet"]
    path = next(p for p in corpus.iterdir() if "宁德时代" in p.read_text(encoding="utf-8"))
    path.write_text(
        path.read_text(encoding="utf-8").replace("宁德时代", "宁德时代换电站", 1), encoding="utf-8"
    )
    Indexer(settings).run([corpus])
    after = _hits(settings, "宁德时代")
    assert any("换电站" in h["snippet"] for h in after)
