"""The one ranking path and the fast matching paths agree with Whoosh and with the text.

Ranking reads whole posting lists instead of Whoosh's matchers (see docs/benchmarks.md); these
tests compare both on real two-segment indexes with deletions: one built from the sample's
sentences (always), one from the xwlb corpus (with ../shared).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from tests.helpers import count_builds, fixture_reports
from zhsearch.corpus.segment import _nfkc, normalize
from zhsearch.index.chargrams import chars_field
from zhsearch.search.cache import LRU
from zhsearch.search.context import open_context
from zhsearch.search.docsets import literal_match, matching_docs
from zhsearch.search.literal import Literal, LiteralTerm
from zhsearch.search.ranking import query_words, rank
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import _text_query, run_search
from zhsearch.search.suggest import complete
from zhsearch.search.warmup import warm_up

# Queries whose every term is answered by one n-gram's posting list, so the whole score is a
# Whoosh BM25F score of plain terms: the typed text's n-gram plus its words.
QUERIES = [
    "经济",
    "发展",
    "项目 建设",
    "(光伏 OR 锂电) 项目",
    "产业 -光伏",
    "title:项目",
    "锂",
    "新 能源",
    "中国 -的",
]


def _whoosh_equivalent(ctx, q):
    """`q` with each literal replaced by the Whoosh terms its score is made of."""
    if isinstance(q, Literal):
        gram = q.term.exact_gram
        assert gram is not None, q
        words = [wq.Term(q.fieldname, w) for w in query_words(ctx, q.term.text)]
        return wq.Or([wq.Term(chars_field(q.fieldname), gram), *words], boost=q.boost)
    return q.apply(lambda child: _whoosh_equivalent(ctx, child))


@pytest.mark.parametrize("q", QUERIES)
def test_rank_equals_whoosh_exhaustive_scoring(two_segments, q):
    settings = two_segments
    with open_context(settings) as ctx:
        request = SearchRequest.from_params({"q": q, "synonyms": "0"}, settings)
        _parsed, text_q, _ = _text_query(request, ctx, [])
        docs = matching_docs(ctx, text_q)
        assert docs, q
        ours = rank(ctx, text_q, docs, len(docs))
        plain = _whoosh_equivalent(ctx, text_q)
        theirs = ctx.searcher.search(plain, limit=None, filter=docs, optimize=False)
        whoosh_scores = {hit.docnum: hit.score for hit in theirs}
        assert set(whoosh_scores) == docs
        # Whoosh adds a constant 1 per NOT clause; ranking is unchanged by it.
        nots = sum(1 for node in _walk(text_q) if isinstance(node, wq.Not))
        for docnum, score in ours:
            assert score + nots == pytest.approx(whoosh_scores[docnum], rel=1e-9), docnum
        ranked = [d for d, _ in ours[:10]]
        expected = sorted(whoosh_scores, key=lambda d: (-whoosh_scores[d], d))[:10]
        assert ranked == expected


def _walk(q):
    yield q
    for child in q.children():
        yield from _walk(child)


@pytest.mark.parametrize("text", ["经济发展", "铁路建设", "建设项目", "的发展", "项目建设"])
def test_a_checked_literal_counts_its_occurrences_in_the_text(two_segments, text):
    """A term longer than one n-gram is checked against the text; its weight is the number of
    times the stored text holds it (times the field boost), counted here by brute force."""
    term = LiteralTerm.parse(text)
    assert term.exact_gram is None
    with open_context(two_segments) as ctx:
        reader = ctx.searcher.reader()
        match = literal_match(ctx, "content", term)
        found = {}
        for offset, ids, weights in match.segments:
            for local, weight in zip(ids, weights, strict=True):
                found[offset + local] = weight
        expected = {}
        for docnum, stored in reader.iter_docs():
            count = normalize(stored.get("content", ""))[0].count(text)
            if count:
                expected[docnum] = float(count)
        live = {d: c for d, c in found.items() if not reader.is_deleted(d)}
        assert live == expected and expected


@pytest.mark.parametrize(
    "start,end",
    [
        ((2012, 7, 1), None),
        (None, (2013, 1, 1)),
        ((2012, 8, 1), (2012, 12, 31)),
        ((2030, 1, 1), None),
    ],
)
def test_date_range_from_the_column_equals_whoosh(two_segments, start, end):
    settings = two_segments
    q = wq.DateRange("date", start and dt.datetime(*start), end and dt.datetime(*end))
    with open_context(settings) as ctx:
        reader = ctx.searcher.reader()
        expected = {d for d in ctx.searcher.docs_for_query(q) if not reader.is_deleted(d)}
        assert matching_docs(ctx, q) == expected


def test_search_results_page_through_the_fast_ranking(two_segments):
    settings = two_segments
    with open_context(settings) as ctx:
        one = run_search(SearchRequest.from_params({"q": "经济", "size": "20"}, settings), ctx)
        two = run_search(
            SearchRequest.from_params({"q": "经济", "size": "10", "page": "2"}, settings), ctx
        )
        assert [h.id for h in one.hits[10:]] == [h.id for h in two.hits]
        scores = [h.score for h in one.hits]
        assert scores == sorted(scores, reverse=True)


# What warm-up builds ahead; `suggest_titles` is a memo filled per title shown, not built ahead.
WARMED = {"doc_arrays", "date_order", "deleted", "field_lengths", "text_columns", "suggest_lexicon"}


def _serve_a_user(ctx) -> None:
    """A checked literal, a dated filter sorted by date, a typo and an autocomplete."""
    for params in ({"q": "经济发展"}, {"q": "项目", "sort": "date", "from": "2013-01-01"},
                   {"q": "锂电负级材料"}):  # fmt: skip
        run_search(SearchRequest.from_params(params, ctx.settings), ctx)
    assert complete(ctx, "经")


def test_warm_up_builds_every_per_generation_cache(two_segments, monkeypatch):
    with open_context(two_segments) as cold:
        lazily = count_builds(cold.cache, monkeypatch)
        _serve_a_user(cold)
    with open_context(two_segments) as warm:
        steps = warm_up(warm)
        after = count_builds(warm.cache, monkeypatch)
        _serve_a_user(warm)
    assert set(steps) == {
        "facet_arrays",
        "date_order",
        "field_lengths",
        "text_columns",
        "suggestions",
    }
    assert set(lazily) >= WARMED  # without warm-up the first user builds them
    assert set(after) <= {"suggest_titles"}, after  # after it, nothing is built for a user


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


def test_fast_nfkc_equals_unicodedata_on_the_fixture_reports():
    for record in fixture_reports():
        assert _nfkc(record["content"]) == unicodedata.normalize("NFKC", record["content"])


def test_fast_nfkc_equals_unicodedata_on_real_reports(shared_dir):
    path = shared_dir / "corpora" / "gov-reports-2026.jsonl"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("content") or ""
            assert _nfkc(text) == unicodedata.normalize("NFKC", text)
