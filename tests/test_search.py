"""run_search on the sample index: literal matching, phrases, sorting, paging, escaping."""

from __future__ import annotations

import math
import re

import pytest
from whoosh import query as wq
from whoosh.reading import ReaderClosed

from tests.literal_oracle import fold, occurs, pieces
from zhsearch.corpus.readers import read_file
from zhsearch.corpus.segment import normalize
from zhsearch.index.settings import Settings
from zhsearch.search.context import open_context
from zhsearch.search.documents import get_document, index_stats
from zhsearch.search.literal import Literal
from zhsearch.search.request import BadRequest, SearchRequest
from zhsearch.search.run import run_search


@pytest.fixture(scope="module")
def ctx(sample_settings):
    with open_context(sample_settings) as context:
        yield context


@pytest.fixture(autouse=True)
def _fresh_describe_memo():
    """Each test reads its queries as if first: `describe` is memoised on query equality, and
    literals that match alike (锂电池 / 鋰電池) are equal; tests/test_query.py
    test_describe_does_not_depend_on_history shows the bug."""
    from zhsearch.search import query as query_module

    clear = getattr(query_module._describe, "cache_clear", None)
    if clear is not None:
        clear()


@pytest.fixture(scope="module")
def articles(sample_dir):
    """Every sample article as the reader read it: id → its folded search fields."""
    out = {}
    for path in sorted(sample_dir.glob("*.txt")):
        for a in read_file(path).articles:
            out[a.id] = {
                "title": fold(a.title),
                "subtitle": fold(a.subtitle),
                "content": fold(a.content),
            }
    return out


def search(ctx, **params):
    params.setdefault("size", "100")
    return run_search(SearchRequest.from_params(params, ctx.settings), ctx)


def ids(result) -> set[str]:
    return {h.id for h in result.hits}


def containing(articles, text: str, field: str | None = None) -> set[str]:
    """The articles whose search field (or `field`) holds `text` literally, by brute force
    (tests/literal_oracle.py: folded text, punctuation-free pieces, digit/latin edges)."""
    parts = pieces(text)
    return {
        doc_id
        for doc_id, fields in articles.items()
        if any(occurs(body, parts) for name, body in fields.items() if field in (None, name))
    }


def oracle_docs(searcher, q: wq.Query) -> set[int]:
    """The live docnums a parsed query matches, each Literal decided by brute force over the
    stored text: what the fast document sets must equal."""
    stored = {
        d: {f: fold(fields.get(f, "") or "") for f in ("title", "subtitle", "content")}
        for d, fields in searcher.reader().iter_docs()
    }

    def holds(node: wq.Query, fields: dict[str, str]) -> bool:
        if isinstance(node, Literal):
            return occurs(fields[node.fieldname], pieces(node.term.text))
        if isinstance(node, wq.Not):
            return not holds(node.query, fields)
        if isinstance(node, wq.AndNot):
            return holds(node.a, fields) and not holds(node.b, fields)
        if isinstance(node, wq.And):
            return all(holds(c, fields) for c in node.children())
        if isinstance(node, wq.Or):
            return any(holds(c, fields) for c in node.children())
        raise AssertionError(f"unexpected node {node!r}")

    return {d for d, fields in stored.items() if holds(q, fields)}


def test_sample_index_has_six_articles(ctx):
    assert ctx.searcher.doc_count() == 6


def test_phrase_finds_the_shangtai_article_first(ctx):
    result = search(ctx, q='"锂电负极材料"')
    assert result.hits
    assert "尚太" in result.hits[0].title
    assert "<mark>锂电负极材料</mark>" in result.hits[0].snippet


@pytest.mark.parametrize(
    "q",
    [
        "锂",
        "7GW",
        "鋰電池",
        "７GW",
        "宁德时代",
        "光伏",
        "煤",
        "氢",
        "大",
        "电负",  # across jieba's words: 锂电|负极材料
        "山西的",
        "锂电池大产业",
        '"负极材料项目"',
        '"负极项目"',  # occurs nowhere: 负极材料项目 is not it
        "title:招商",
        "title:尚太锂电",
    ],
)
def test_exactly_the_articles_containing_the_text(ctx, articles, q):
    field = "title" if q.startswith("title:") else None
    expected = containing(articles, q.removeprefix("title:"), field)
    result = search(ctx, q=q, synonyms="0")  # the contract holds exactly with synonyms off
    assert ids(result) == expected
    assert result.total == len(expected)


def test_the_issue_examples_on_the_sample(ctx, articles):
    """Issue 13: "负极项目" finds nothing; "负极材料项目" finds 000 and 002; 锂 finds every report
    whose text holds it."""
    assert search(ctx, q='"负极项目"', synonyms="0").total == 0
    found = ids(search(ctx, q='"负极材料项目"', synonyms="0"))
    assert sorted(i[:3] for i in found) == ["000", "002"]
    assert ids(search(ctx, q="锂", synonyms="0")) == containing(articles, "锂")
    assert sorted(i[:3] for i in containing(articles, "锂")) == ["000", "002", "003", "004"]


@pytest.mark.parametrize("char", ["锂", "大", "氢", "煤"])
def test_single_character_finds_every_article_containing_it_without_expanding(ctx, articles, char):
    """A single character is matched as itself, wherever jieba put it: no word expansion, no
    cap, no notice."""
    expected = containing(articles, char)
    assert expected
    result = search(ctx, q=char)
    assert ids(result) == expected and result.total == len(expected)
    assert result.notices == []
    # Word-level matching would miss most of them: 锂 is mostly inside words (锂电池, 锂离子).
    if char == "锂":
        in_content = containing(articles, char, "content")
        assert ctx.searcher.reader().doc_frequency("content", "锂") < len(in_content) == 4


def test_phrase_across_a_compound_boundary_matches(ctx, articles):
    expected = containing(articles, "负极材料项目")
    assert expected
    assert ids(search(ctx, q='"负极材料项目"')) == expected


def test_phrase_of_words_that_are_not_adjacent_does_not_match(ctx, articles):
    # Both words are in the 尚太 article, never next to each other.
    assert not containing(articles, "尚太宁德时代")
    both = containing(articles, "尚太") & containing(articles, "宁德时代")
    assert both
    assert search(ctx, q='"尚太宁德时代"').total == 0
    assert search(ctx, q="尚太宁德时代").total == 0  # unquoted, it is one literal too
    assert ids(search(ctx, q="尚太 宁德时代")) == both


def test_photovoltaic_hits_have_marks(ctx, articles):
    result = search(ctx, q="光伏")
    titles = {h.title for h in result.hits}
    assert any("跑出招引加速度" in t for t in titles)  # 001, 晋中开发区
    assert any("千帆竞发" in t for t in titles)  # 004, 长治
    assert any("锐意进取" in t for t in titles)  # 004, 平鲁
    assert all("<mark>光伏</mark>" in h.snippet for h in result.hits)


def test_or_and_not(ctx, articles):
    a, b = containing(articles, "宁德时代"), containing(articles, "7GW")
    assert ids(search(ctx, q="宁德时代 OR 7GW")) == a | b
    lithium = containing(articles, "锂电池")
    assert ids(search(ctx, q="锂电池 -宁德时代")) == lithium - a
    assert ids(search(ctx, q="锂电池 NOT 宁德时代")) == lithium - a


def test_title_prefix(ctx, sample_dir):
    titled = {
        a.id
        for p in sample_dir.glob("*.txt")
        for a in read_file(p).articles
        if "招商" in normalize(a.title)[0]
    }
    assert titled
    assert ids(search(ctx, q="title:招商")) == titled
    assert ids(search(ctx, q="招商")) > titled  # subtitles and texts mention it too


def test_relevance_scores_descend(ctx):
    scores = [h.score for h in search(ctx, q="锂电池 项目").hits]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, float) for s in scores)


def test_sort_by_date_newest_first_undated_last(ctx):
    hits = search(ctx, sort="date").hits
    assert len(hits) == 6
    dated = [h.date for h in hits if h.date]
    assert dated == sorted(dated, reverse=True)
    seen_undated = False
    for h in hits:
        seen_undated = seen_undated or not h.date
        assert not (seen_undated and h.date), "an undated article came before a dated one"


def test_pagination(ctx):
    full = search(ctx, q="锂")
    page1 = search(ctx, q="锂", size="2", page="1")
    page2 = search(ctx, q="锂", size="2", page="2")
    assert page1.total == page2.total == full.total
    assert page1.pages == math.ceil(full.total / 2)
    assert [h.id for h in page1.hits + page2.hits] == [h.id for h in full.hits][:4]
    beyond = search(ctx, q="锂", size="2", page="50")
    assert beyond.hits == [] and beyond.total == full.total


def test_empty_query_lists_everything(ctx):
    result = search(ctx)
    assert result.total == 6
    assert result.to_dict()["query"]["parsed"] == ""


def test_highlight_off(ctx):
    result = search(ctx, q="锂电池", highlight="0")
    assert result.hits
    assert all("<mark>" not in h.snippet + h.title_html for h in result.hits)


def test_unknown_codes_are_bad_parameters(ctx):
    for params in ({"region": "999999"}, {"industry": "T99"}):
        with pytest.raises(BadRequest) as err:
            search(ctx, q="锂", **params)
        assert err.value.code == "bad_parameter"


def test_limits_are_checked_before_searching(ctx):
    with pytest.raises(BadRequest) as err:
        run_search(SearchRequest(q="锂", page=20, size=100), ctx)
    assert err.value.code == "bad_parameter"
    with pytest.raises(BadRequest) as err:
        run_search(SearchRequest(q=" ".join(["锂电池"] * 40)), ctx)
    assert err.value.code == "bad_query"


def test_lenient_quote_is_reported(ctx, articles):
    result = search(ctx, q='"锂电池')
    assert ids(result) == containing(articles, "锂电池")
    data = result.to_dict()
    assert data["query"]["parsed"] == "锂电池"
    assert data["notices"]


def test_json_shape(ctx):
    data = search(ctx, q="锂电池", region="140000", size="3").to_dict()
    assert set(data) == {
        "ok", "query", "total", "took_ms", "page", "size", "pages", "hits", "facets", "notices",
        "expanded", "suggestions",
    }  # fmt: skip
    assert data["ok"] is True
    assert set(data["query"]) == {
        "q", "parsed", "region", "industry", "from", "to", "source", "sort"
    }  # fmt: skip
    assert data["query"]["region"] == ["140000"]
    assert isinstance(data["took_ms"], float) and data["took_ms"] > 0
    assert len(data["hits"]) == 3
    for hit in data["hits"]:
        assert set(hit) == {
            "id", "title", "title_html", "date", "source", "url", "region", "industries",
            "snippet", "score",
        }  # fmt: skip
        assert set(hit["region"]) == {"path", "codes", "status", "zone"}
        assert all(set(i) == {"code", "label"} for i in hit["industries"])
    assert set(data["facets"]) == {"region", "region_path", "industry"}
    assert all(
        set(v) == {"value", "label", "count", "selected", "level"} for v in data["facets"]["region"]
    )
    assert all(
        set(v) == {"value", "label", "count", "selected"} for v in data["facets"]["industry"]
    )
    assert data["facets"]["region_path"] == [{"value": "140000", "label": "山西省"}]


def test_script_in_query_stays_plain_in_json(ctx):
    q = "<script>alert(1)</script>"
    data = search(ctx, q=q).to_dict()
    assert data["query"]["q"] == q
    # Read back as typed (the parentheses group "1"), as plain text: JSON escapes nothing.
    assert data["query"]["parsed"] == '"<script>alert" 1 </script>'


@pytest.fixture(scope="module")
def xss_ctx(tmp_path_factory):
    """An index of one article whose title and text contain a script tag."""
    from zhsearch.index.writer import Indexer

    corpus = tmp_path_factory.mktemp("xss-corpus")
    (corpus / "a.txt").write_text(
        "锂电池项目<script>alert(1)</script>公告\n\n"
        "山西省晋中市昔阳县年产锂电池负极材料项目，<script>alert(1)</script>建成投产。\n",
        encoding="utf-8",
    )
    settings = Settings.load(
        overrides={"index_dir": str(tmp_path_factory.mktemp("xss-index"))}, env={}
    )
    Indexer(settings).run([corpus])
    with open_context(settings) as context:
        yield context


@pytest.mark.parametrize("q", ["<script>alert(1)</script>", "锂电池", "script"])
def test_markup_in_documents_comes_back_escaped(xss_ctx, q):
    result = search(xss_ctx, q=q)
    assert result.total == 1
    hit = result.hits[0]
    for fragment in (hit.title_html, hit.snippet):
        assert "<script>" not in fragment
        assert "&lt;script&gt;" in re.sub(r"</?mark>", "", fragment)
        assert set(re.findall(r"<[^>]*>", fragment)) <= {"<mark>", "</mark>"}
    assert hit.title == "锂电池项目<script>alert(1)</script>公告"  # plain text in JSON
    assert result.to_dict()["query"]["q"] == q


def test_get_document(ctx):
    hit = search(ctx, q='"锂电负极材料"').hits[0]
    doc = get_document(ctx, hit.id)
    assert doc is not None
    assert doc["id"] == hit.id and doc["title"] == hit.title
    assert "锂电负极材料" in doc["content"]
    assert set(doc["region"]) == {"path", "codes", "status", "zone", "mentions"}
    assert all(set(i) == {"code", "label"} for i in doc["industries"])
    assert get_document(ctx, "no-such-id") is None
    assert get_document(ctx, "../../etc/passwd") is None
    assert get_document(ctx, "") is None


def test_index_stats(ctx, sample_settings):
    stats = index_stats(ctx)
    assert stats["documents"] == 6
    assert stats["generation"].startswith("gen-")
    assert stats["size_bytes"] > 0
    assert stats["analyzer"]
    provinces = {r["value"]: r["count"] for r in stats["regions"]}
    assert provinces.get("140000", 0) >= 1
    assert sum(provinces.values()) <= 6
    assert all(i["count"] >= 1 and i["label"] for i in stats["industries"])


def test_took_ms_and_total_are_reported(ctx):
    result = search(ctx, q="项目", size="1")
    assert result.took_ms > 0
    assert result.total > len(result.hits) == 1


def test_a_context_closes_its_searcher_and_reader(sample_settings):
    context = open_context(sample_settings)
    reader = context.searcher.reader()
    assert not context.searcher.is_closed and not reader.is_closed
    assert search(context, q="锂电池").total > 0
    context.close()
    assert context.searcher.is_closed and reader.is_closed
    with pytest.raises(ReaderClosed):  # a closed context cannot be searched by mistake
        reader.stored_fields(0)
    with pytest.raises(KeyError), open_context(sample_settings) as again:
        searcher = again.searcher
        raise KeyError("a request that fails half way")
    assert searcher.is_closed and searcher.reader().is_closed


@pytest.mark.parametrize(
    "q",
    [
        "锂",
        "锂电池 -宁德时代",
        "宁德时代 OR 7GW",
        '"负极材料项目" 山西',
        "-光伏",
        "NOT 项目 OR 锂",
        "电负 OR 氢",
        "title:招商 大",
        '"负极项目" OR 煤',
    ],
)
def test_fast_document_sets_agree_with_a_brute_force_check(ctx, q):
    from zhsearch.search.docsets import matching_docs
    from zhsearch.search.query import parse_query

    query = parse_query(q, ctx.searcher.schema, ctx.settings).query
    assert matching_docs(ctx, query) == oracle_docs(ctx.searcher, query)


def test_relevance_order_is_the_ranking_order_and_filters_keep_it(ctx):
    # One ranking path: the page is `rank` over the matching set; a filter only removes hits.
    from zhsearch.search.docsets import matching_docs
    from zhsearch.search.query import parse_query
    from zhsearch.search.ranking import rank

    q = '"负极材料项目" OR 锂电池'
    result = search(ctx, q=q, synonyms="0")
    parsed = parse_query(q, ctx.searcher.schema, ctx.settings).query
    matching = matching_docs(ctx, parsed)
    assert len(matching) == result.total
    ranked = rank(ctx, parsed, matching, 100)
    stored_ids = [ctx.searcher.stored_fields(d)["id"] for d, _ in ranked]
    assert [h.id for h in result.hits] == stored_ids
    assert [h.score for h in result.hits] == pytest.approx([score for _, score in ranked])
    filtered = search(ctx, q=q, region="140000", synonyms="0")
    assert [h.id for h in filtered.hits] == [
        i for i in stored_ids if "140000" in get_document(ctx, i)["region"]["codes"]
    ]


def test_document_sets_on_several_segments_with_deletions(tmp_path):
    """After incremental runs the index has several segments and deleted documents."""
    from zhsearch.index.writer import Indexer
    from zhsearch.search.docsets import matching_docs
    from zhsearch.search.query import parse_query

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {
        "a.txt": "锂电池项目开工\n\n山西省晋中市年产锂电池负极材料项目开工建设。",
        "b.txt": "光伏产业园签约\n\n江苏省南通市光伏组件项目签约，年产7GW。",
    }
    for name, text in texts.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, env={})
    Indexer(settings).run([corpus])
    (corpus / "c.txt").write_text("氢能项目\n\n山西省长治市氢能重卡项目投产。", encoding="utf-8")
    (corpus / "a.txt").write_text(texts["a.txt"] + "\n锂电池二期项目同步推进。", encoding="utf-8")
    Indexer(settings).run([corpus])
    with open_context(settings) as context:
        reader = context.searcher.reader()
        assert reader.has_deletions() and len(reader.leaf_readers()) > 1
        for q in ["项目", "锂电池", "锂 OR 氢", "-光伏", "项目 -锂电池", "二期", "锂电池二期"]:
            query = parse_query(q, context.searcher.schema, settings).query
            assert matching_docs(context, query) == oracle_docs(context.searcher, query), q
        assert search(context, q="项目").total == 3
        assert search(context, q="二期").total == 1
