"""What you type is what you find: every class of query against a brute-force literal oracle.

The oracle (`tests/literal_oracle.py`) folds the stored text itself and searches it with plain
string operations; zhsearch must return exactly its reports (recall = precision = 1.0), with
synonyms off, and every total must equal the reports one can page through.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from itertools import islice

import pytest

from tests.literal_oracle import expected, generate, reports_of
from zhsearch.index.settings import Settings
from zhsearch.index.writer import Indexer
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search


def all_ids(ctx, q: str) -> tuple[int, set[str]]:
    """The total and every id one can page through, 100 at a time."""
    total, ids, page = None, set(), 1
    while True:
        params = {"q": q, "synonyms": "0", "size": "100", "page": str(page), "highlight": "0"}
        result = run_search(SearchRequest.from_params(params, ctx.settings), ctx)
        total = result.total
        ids |= {h.id for h in result.hits}
        if page >= result.pages:
            return total, ids
        page += 1


def check_every_class(settings: Settings, per_class: int) -> dict[str, list[int]]:
    """Run every generated query; fail on the first disagreement; counts per class."""
    seen: dict[str, list[int]] = defaultdict(list)
    settings = settings.replace(max_depth=10**6)  # page through every result, however many
    with open_context(settings) as ctx:
        reports = reports_of(ctx.searcher)
        queries = generate(reports, per_class)
        for kind, q, field in queries:
            typed = f"{field}:{q}" if field else q
            truth = expected(reports, q, field)
            total, ids = all_ids(ctx, typed)
            assert total == len(ids), (kind, typed)
            assert ids == truth, (kind, typed, sorted(ids - truth)[:5], sorted(truth - ids)[:5])
            seen[kind].append(len(truth))
    assert {k for k, counts in seen.items() if counts} >= {
        "word",
        "cross-boundary",
        "quoted fragment",
        "single character",
        "quoted with punctuation",
        "occurs nowhere",
        "numbers and codes",
        "title fragment",
    }
    assert all(n == 0 for n in seen["occurs nowhere"])
    return seen


def test_every_query_class_finds_exactly_the_reports_that_contain_it(fixture_two_segments):
    check_every_class(fixture_two_segments, per_class=12)


@pytest.fixture(scope="module")
def news_slice(shared_dir, tmp_path_factory):
    """The first 2,000 xwlb items and the 31 work reports, indexed by the real indexer."""
    work = tmp_path_factory.mktemp("literal-news")
    with gzip.open(shared_dir / "corpora" / "xwlb.jsonl.gz", "rt", encoding="utf-8") as fh:
        (work / "news.jsonl").write_text("".join(islice(fh, 2000)), encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(work / "index")}, env={})
    report = Indexer(settings).run(
        [work / "news.jsonl", shared_dir / "corpora" / "gov-reports-2026.jsonl"]
    )
    assert report.added == 2031
    return settings


@pytest.mark.shared
def test_every_query_class_on_real_news_and_work_reports(news_slice):
    seen = check_every_class(news_slice, per_class=25)
    assert sum(len(v) for v in seen.values()) > 180


def ids_for(settings: Settings, q: str) -> list[str]:
    with open_context(settings) as ctx:
        result = run_search(SearchRequest.from_params({"q": q, "synonyms": "0"}, settings), ctx)
        return sorted(h.id.split("_")[0] for h in result.hits)


def test_the_sample_answers_the_issue_examples(sample_settings):
    assert ids_for(sample_settings, '"负极项目"') == []
    assert ids_for(sample_settings, '"负极材料项目"') == ["000", "002"]
    with open_context(sample_settings) as ctx:
        reports = reports_of(ctx.searcher)
    with_li = sorted(
        r.id.split("_")[0] for r in reports if any("锂" in t for t in r.fields.values())
    )
    assert with_li and ids_for(sample_settings, "锂") == with_li


@pytest.mark.parametrize(
    "q,text,found",
    [
        ("5G", "建成5G基站", True),
        ("5G", "推进5G-A商用", True),
        ("5G", "15G频段", False),
        ("55年", "建校155年", False),
        ("AI", "MAIN入口", False),
        ("AI", "AI芯片", True),
        ("H7", "H7N9流感", True),
        ("20万吨", "年产20万吨级", True),
        ("中石油", "中，石油", False),
        ('"现在，我代表"', "现在我代表国务院", True),
        ('"劳尔·卡斯特罗"', "劳尔-卡斯特罗", True),
        ("鋰電池", "锂电池项目", True),
        ("７GW", "7gw光伏", True),
    ],
)
def test_edges_and_gaps_follow_the_contract(tmp_path, q, text, found):
    (tmp_path / "a.txt").write_text(f"测试报告\n\n{text}。\n", encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, env={})
    Indexer(settings).run([tmp_path / "a.txt"])
    assert bool(ids_for(settings, q)) is found


def test_a_whole_word_outranks_the_same_text_inside_other_words(tmp_path):
    """机遇 as a word (抓住机遇) ranks above 机遇 inside 坠机遇难, each occurring once."""
    (tmp_path / "a.txt").write_text("飞机事故\n\n一架飞机坠机遇难人数上升。\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("发展动态\n\n我们抓住机遇加快发展步伐。\n", encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, env={})
    Indexer(settings).run([tmp_path])
    with open_context(settings) as ctx:
        result = run_search(SearchRequest.from_params({"q": "机遇"}, settings), ctx)
    assert [h.id.split("-")[0] for h in result.hits] == ["b", "a"]
    assert result.hits[0].score > result.hits[1].score > 0


def test_highlighting_marks_the_whole_match(sample_settings):
    with open_context(sample_settings) as ctx:
        params = {"q": '"负极材料项目"', "synonyms": "0"}
        result = run_search(SearchRequest.from_params(params, sample_settings), ctx)
    assert result.hits
    for hit in result.hits:
        assert "<mark>负极材料项目</mark>" in hit.snippet
