"""The fast query paths agree with Whoosh: ranking, single-character lists, date ranges, NFKC.

Each fast path replaces a Whoosh code path for speed (see docs/benchmarks.md); these tests run
both on a real two-segment index (with deletions) and compare.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from corpus.segment import _nfkc
from search.charquery import CharTerms
from search.context import LRU, open_context
from search.docsets import matching_docs
from search.query import LeftoverChar, parse_query
from search.ranking import rank
from search.request import SearchRequest
from search.run import _text_query, run_search
from search.warmup import warm_up

QUERIES = [
    "经济",
    "经济 发展",
    "改革 开放 -农业",
    "(铁路 OR 公路) 建设",
    '"经济 发展"',
    "title:会议",
    "光伏",  # widened by synonyms into phrases
    "锂",  # a single character: CharTerms
    "铁 建设",
    "大飞机",  # a leftover single character
    "中国 -的",
]


@pytest.mark.parametrize("q", QUERIES)
def test_rank_equals_whoosh_exhaustive_scoring(xwlb_two_segments, q):
    settings = xwlb_two_segments
    with open_context(settings) as ctx:
        request = SearchRequest.from_params({"q": q}, settings)
        _parsed, text_q, _ = _text_query(request, ctx, [])
        docs = matching_docs(ctx, text_q)
        assert docs, q
        ours = rank(ctx, text_q, docs, len(docs))
        assert ours is not None
        theirs = ctx.searcher.search(text_q, limit=None, filter=docs, optimize=False)
        whoosh_scores = {hit.docnum: hit.score for hit in theirs}
        assert set(whoosh_scores) <= docs
        # Whoosh adds a constant 1 per NOT clause; ranking is unchanged by it.
        nots = sum(1 for node in _walk(text_q) if isinstance(node, wq.Not))
        for docnum, score in ours:
            if docnum in whoosh_scores:
                assert score + nots == pytest.approx(whoosh_scores[docnum], rel=1e-9), docnum
        ranked = [d for d, _ in ours[:10]]
        expected = sorted(whoosh_scores, key=lambda d: (-whoosh_scores[d], d))[:10]
        assert ranked == expected


def _walk(q):
    yield q
    for child in q.children():
        yield from _walk(child)


def test_char_terms_match_exactly_the_plain_or(xwlb_two_segments):
    settings = xwlb_two_segments
    with open_context(settings) as ctx:
        request = SearchRequest.from_params({"q": "铁"}, settings)
        _parsed, text_q, _ = _text_query(request, ctx, [])
        lists = [n for n in _walk(text_q) if isinstance(n, CharTerms)]
        assert lists and all(len(n.subqueries) > 3 for n in lists)
        for node in lists:
            plain = wq.Or(list(node.subqueries))
            assert set(ctx.searcher.docs_for_query(node)) == set(ctx.searcher.docs_for_query(plain))
        content = [n for n in lists if n.subqueries[0].fieldname == "content"]
        assert content and "铁路" in {t.text for t in content[0].subqueries}


def test_leftover_single_character_is_not_widened(xwlb_two_segments):
    settings = xwlb_two_segments
    with open_context(settings) as ctx:
        parsed = parse_query("大飞机", ctx.searcher.schema, settings)
        leftovers = [n for n in _walk(parsed.query) if isinstance(n, LeftoverChar)]
        assert {n.text for n in leftovers} == {"大"}
        assert "大" in parsed.terms.words and "大" not in parsed.terms.chars
        request = SearchRequest.from_params({"q": "大飞机"}, settings)
        _parsed, text_q, _ = _text_query(request, ctx, [])
        assert not any(isinstance(n, CharTerms) for n in _walk(text_q))
        # Typed alone, the same character means "any word containing it".
        request = SearchRequest.from_params({"q": "大"}, settings)
        _parsed, text_q, _ = _text_query(request, ctx, [])
        assert any(isinstance(n, CharTerms) for n in _walk(text_q))


@pytest.mark.parametrize(
    "start,end",
    [
        ((2012, 7, 1), None),
        (None, (2013, 1, 1)),
        ((2012, 8, 1), (2012, 12, 31)),
        ((2030, 1, 1), None),
    ],
)
def test_date_range_from_the_column_equals_whoosh(xwlb_two_segments, start, end):
    settings = xwlb_two_segments
    q = wq.DateRange("date", start and dt.datetime(*start), end and dt.datetime(*end))
    with open_context(settings) as ctx:
        reader = ctx.searcher.reader()
        expected = {d for d in ctx.searcher.docs_for_query(q) if not reader.is_deleted(d)}
        assert matching_docs(ctx, q) == expected


def test_search_results_page_through_the_fast_ranking(xwlb_two_segments):
    settings = xwlb_two_segments
    with open_context(settings) as ctx:
        one = run_search(SearchRequest.from_params({"q": "经济", "size": "20"}, settings), ctx)
        two = run_search(
            SearchRequest.from_params({"q": "经济", "size": "10", "page": "2"}, settings), ctx
        )
        assert [h.id for h in one.hits[10:]] == [h.id for h in two.hits]
        scores = [h.score for h in one.hits]
        assert scores == sorted(scores, reverse=True)


def test_warm_up_builds_every_per_generation_cache(xwlb_two_segments):
    with open_context(xwlb_two_segments) as ctx:
        steps = warm_up(ctx)
    assert set(steps) == {
        "facet_arrays",
        "date_order",
        "field_lengths",
        "char_lexicons",
        "suggestions",
    }
    assert all(seconds >= 0 for seconds in steps.values())


def test_lru_keeps_total_weight_within_its_size():
    lru = LRU(100, weigh=len)
    lru.put("a", "x" * 60)
    lru.put("b", "x" * 30)
    assert lru.get("a") is not None  # a is now the most recent
    lru.put("c", "x" * 30)  # over 100: the least recent (b) goes
    assert lru.get("b") is None and lru.get("a") and lru.get("c")
    assert lru.weight <= 100
    lru.put("huge", "x" * 500)  # larger than the whole cache: not kept, nothing evicted
    assert lru.get("huge") is None and lru.get("a")


_TEXT = st.text(
    alphabet=st.sampled_from(
        [
            *"锂电池光伏，。（）：；！？％ＡＢＣａｂｃ１２３ⅡⅢ①②℃㎡…\u3000 a1é",
            *("\u0301", "\u3099", "か", "ｶ", "ﾞ", "ﬁ", "\u00a0", "¼", "ｰ"),
        ]
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_fast_nfkc_equals_unicodedata(text):
    assert _nfkc(text) == unicodedata.normalize("NFKC", text)


def test_fast_nfkc_equals_unicodedata_on_real_reports(shared_dir):
    path = shared_dir / "corpora" / "gov-reports-2026.jsonl"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("content") or ""
            assert _nfkc(text) == unicodedata.normalize("NFKC", text)
