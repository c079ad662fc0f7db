"""The query language and request validation: no index needed."""

from __future__ import annotations

import datetime as dt

import pytest
from whoosh import query as wq

from zhsearch.index.schema import build_schema
from zhsearch.index.settings import Settings
from zhsearch.search import query as query_module
from zhsearch.search.literal import Literal, LiteralTerm
from zhsearch.search.query import describe, parse_query
from zhsearch.search.request import BadRequest, SearchRequest


@pytest.fixture(scope="module")
def schema():
    return build_schema()


@pytest.fixture
def settings() -> Settings:
    return Settings.load(env={})


@pytest.fixture(autouse=True)
def _fresh_describe_memo():
    """Each test reads its queries as if first: `describe` is memoised on query equality, and
    literals that match alike (锂 / 锂*) are equal; see test_describe_does_not_depend_on_history."""
    clear = getattr(query_module._describe, "cache_clear", None)
    if clear is not None:
        clear()


def parse(text: str, schema, settings: Settings | None = None):
    return parse_query(text, schema, settings or Settings.load(env={}))


def literals(q: wq.Query) -> list[Literal]:
    """Every Literal leaf of a query, in order."""
    if isinstance(q, Literal):
        return [q]
    return [leaf for child in q.children() for leaf in literals(child)]


def fields_and_keys(q: wq.Query) -> set[tuple[str, str]]:
    return {(leaf.fieldname, leaf.term.key) for leaf in literals(q)}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("锂电池 光伏", "锂电池 光伏"),
        ("锂电负极材料", "锂电负极材料"),  # an unspaced run is one term, not segmented
        ("锂电池 OR 光伏", "锂电池 OR 光伏"),
        ("锂电池 -光伏", "锂电池 -光伏"),
        ("锂电池 NOT 光伏", "锂电池 -光伏"),
        ('"负极材料项目"', "负极材料项目"),  # quotes without gaps add nothing
        ("“负极材料项目”", "负极材料项目"),  # Chinese quotes
        ('"锂电 负极材料"', '"锂电 负极材料"'),  # a term with gaps reads back quoted
        ('"现在，我代表"', '"现在,我代表"'),  # punctuation kept (NFKC-folded)
        ("现在，我代表", '"现在,我代表"'),  # pasted unquoted: one term all the same
        ('"劳尔·卡斯特罗"', '"劳尔·卡斯特罗"'),
        ("title:锂电池", "title:锂电池"),
        ("标题：锂电池", "title:锂电池"),
        ("content:光伏", "content:光伏"),
        ('title:"现在，我代表" 锂', 'title:"现在,我代表" 锂'),
        ("(锂电池 OR 光伏) 山西", "(锂电池 OR 光伏) 山西"),
        ("鋰電池", "鋰電池"),  # shown as typed; matched Simplified (test_terms_are_normalised)
        ("７ＧＷ", "7GW"),  # full width → half width
        ("锂*", "锂*"),  # no wildcards: the star is punctuation, shown as typed
        ("山西的锂", "山西的锂"),  # nothing dropped: the report must hold 山西的锂
    ],
)
def test_syntax_is_read_as_documented(schema, text, parsed):
    assert parse(text, schema).parsed == parsed


@pytest.mark.parametrize(
    ("text", "key", "segments"),
    [
        ("鋰電池", "锂电池", ("锂电池",)),  # Traditional → Simplified
        ("７ＧＷ", "7gw", ("7gw",)),  # full width → half width, lower case
        ("锂*", "锂", ("锂",)),  # the star is a gap at the edge: dropped
        ("山西的锂", "山西的锂", ("山西的锂",)),
        ('"现在，我代表"', "现在 我代表", ("现在", "我代表")),
        ('"劳尔·卡斯特罗"', "劳尔 卡斯特罗", ("劳尔", "卡斯特罗")),
        ('"锂电  负极材料"', "锂电 负极材料", ("锂电", "负极材料")),  # any gap run is one gap
    ],
)
def test_terms_are_normalised_into_segments(schema, text, key, segments):
    leaves = literals(parse(text, schema).query)
    assert len(leaves) == 3
    assert {leaf.term.key for leaf in leaves} == {key}
    assert {leaf.term.segments for leaf in leaves} == {segments}


def test_an_unspaced_run_is_one_literal_in_every_field(schema):
    q = parse("锂电负极材料", schema).query
    assert isinstance(q, wq.Or)
    kids = list(q.children())
    assert all(isinstance(k, Literal) for k in kids)
    assert sorted(k.fieldname for k in kids) == ["content", "subtitle", "title"]
    assert {k.term.segments for k in kids} == {("锂电负极材料",)}


def test_spaced_terms_are_anded_across_fields(schema):
    q = parse("锂电 负极材料", schema).query
    assert isinstance(q, wq.And)
    parts = list(q.children())
    assert len(parts) == 2
    for part, key in zip(parts, ["锂电", "负极材料"], strict=True):
        assert isinstance(part, wq.Or)
        assert {(t.fieldname, t.term.key) for t in part.children()} == {
            ("title", key),
            ("subtitle", key),
            ("content", key),
        }


def test_phrase_is_one_literal_in_every_field(schema):
    q = parse('"锂电 负极材料"', schema).query
    kids = [c for c in q.children() if isinstance(c, Literal)]
    assert len(kids) == 3 == len(list(q.children()))
    assert all(k.term.segments == ("锂电", "负极材料") for k in kids)


def test_title_prefix_searches_only_the_title(schema):
    q = parse("title:锂电池 光伏", schema).query
    found = fields_and_keys(q)
    assert ("title", "锂电池") in found
    assert ("content", "锂电池") not in found
    assert ("subtitle", "锂电池") not in found
    assert ("content", "光伏") in found
    assert ("title", "光伏") in found


def test_negated_words_are_not_highlighted(schema):
    parsed = parse('锂电池 -光伏 NOT "负极材料项目" 锂', schema)
    assert [t.key for t in parsed.terms.terms] == ["锂", "锂电池"]


def test_a_copied_phrase_is_highlighted_whole(schema):
    parsed = parse('"现在，我代表" 中石油', schema)
    assert [t.segments for t in parsed.terms.terms] == [("中石油",), ("现在", "我代表")]


def test_describe_does_not_depend_on_history(schema):
    """What a query reads back as is decided by its own text, not by an equal one before it."""
    assert parse("锂*", schema).parsed == "锂*"
    assert parse("锂", schema).parsed == "锂"
    assert parse("鋰電池", schema).parsed == "鋰電池"
    assert parse("锂电池", schema).parsed == "锂电池"


def test_unbalanced_quote_is_read_leniently_and_said(schema):
    parsed = parse('"锂电池', schema)
    assert parsed.parsed == "锂电池"
    assert parsed.notices and "引号" in parsed.notices[0]


def test_unbalanced_parenthesis_is_said(schema):
    parsed = parse("(锂电池 OR 光伏", schema)
    assert parsed.parsed == "锂电池 OR 光伏"
    assert any("括号" in n for n in parsed.notices)


def test_unknown_field_is_rejected_with_a_message(schema):
    with pytest.raises(BadRequest) as err:
        parse("source:南通日报", schema)
    assert err.value.code == "bad_query"
    assert "title:" in err.value.message


def test_urls_are_not_field_names(schema):
    assert parse("https://example.com", schema).query is not None


def test_punctuation_only_query_searches_nothing(schema):
    parsed = parse("，。！", schema)
    assert parsed.parsed == ""
    assert parsed.notices


def test_empty_query_is_none(schema):
    assert parse("   ", schema).query is None


def test_query_length_limit(schema):
    settings = Settings.load(overrides={"max_query_chars": 10}, env={})
    with pytest.raises(BadRequest) as err:
        parse("锂电池" * 4, schema, settings)
    assert err.value.code == "bad_query"


def test_query_terms_limit_counts_typed_terms_and_operators(schema):
    settings = Settings.load(overrides={"max_query_terms": 5}, env={})
    assert parse("锂电池 OR 光伏 -煤炭", schema, settings).parsed  # 锂电池 OR 光伏 - 煤炭
    # An unspaced run is one term (it was 锂电 负极材料 when runs were segmented).
    assert parse("锂电负极材料 光伏 OR 煤炭 钢", schema, settings).parsed
    assert parse('"锂电 负极材料" 光伏 OR 煤炭 钢', schema, settings).parsed
    with pytest.raises(BadRequest) as err:
        parse("锂电负极材料 光伏 OR 煤炭 -钢", schema, settings)  # 锂电负极材料 光伏 OR 煤炭 - 钢
    assert err.value.code == "bad_query"


def test_describe_of_plain_queries():
    assert describe(wq.Term("title", "锂")) == "title:锂"
    assert describe(wq.Not(wq.Term("content", "煤"))) == "-content:煤"
    assert describe(Literal("title", LiteralTerm.parse("锂"))) == "title:锂"
    assert describe(wq.Not(Literal("content", LiteralTerm.parse("煤 炭")))) == '-content:"煤 炭"'


# --------------------------------------------------------------------------- requests


def params(**kw):
    return {k.rstrip("_"): v for k, v in kw.items()}


def test_defaults(settings):
    r = SearchRequest.from_params({}, settings)
    assert (r.q, r.page, r.size) == ("", 1, settings.page_size)
    assert (r.sort, r.highlight) == ("relevance", True)


def test_multi_valued_params_as_lists_or_commas(settings):
    r = SearchRequest.from_params(
        {"region": ["140000", "320000"], "industry": "T01,T02", "source": ["a,b", "c"]}, settings
    )
    assert r.regions == ["140000", "320000"]
    assert r.industries == ["T01", "T02"]
    assert r.sources == ["a", "b", "c"]


def test_multidict_getlist_is_used(settings):
    class MultiDict(dict):
        def getlist(self, key):
            return {"region": ["140000", "320000"]}.get(key, [self[key]] if key in self else [])

    r = SearchRequest.from_params(MultiDict(q="锂", region="140000"), settings)
    assert r.regions == ["140000", "320000"]


@pytest.mark.parametrize(
    ("given", "start", "end"),
    [
        ({"from": "2023-05-09", "to": "2023-05-09"}, dt.date(2023, 5, 9), dt.date(2023, 5, 9)),
        ({"from": "2023-05", "to": "2023-05"}, dt.date(2023, 5, 1), dt.date(2023, 5, 31)),
        ({"from": "2024-02", "to": "2024-02"}, dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ({"from": "2023-12", "to": "2023-12"}, dt.date(2023, 12, 1), dt.date(2023, 12, 31)),
        ({"from": "2023", "to": "2023"}, dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
    ],
)
def test_date_precision(settings, given, start, end):
    lo, hi = SearchRequest.from_params(given, settings).date_range()
    assert lo.date() == start and hi.date() == end
    assert hi.time() == dt.time.max


@pytest.mark.parametrize(
    "given",
    [
        {"page": "0"},
        {"page": "x"},
        {"size": "0"},
        {"size": "101"},
        {"page": "11", "size": "100"},  # page * size > max_depth
        {"sort": "random"},
        {"from": "2023-13"},
        {"from": "2023/05/01"},
        {"to": "2023-02-30"},
        {"from": "2023-06", "to": "2023-05"},
        {"region": "山西"},
        {"industry": "T01;drop"},
        {"highlight": "maybe"},
    ],
)
def test_bad_parameters(settings, given):
    with pytest.raises(BadRequest) as err:
        SearchRequest.from_params(given, settings)
    assert err.value.code == "bad_parameter"
    assert err.value.message


def test_too_long_query_is_bad_query(settings):
    with pytest.raises(BadRequest) as err:
        SearchRequest.from_params({"q": "锂" * (settings.max_query_chars + 1)}, settings)
    assert err.value.code == "bad_query"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("锂 OR", "锂"), ("OR 锂", "锂"), ("(锂 OR ) 钢", "锂 钢"), ("钢 AND", "钢")],
)
def test_dangling_operators_are_dropped_and_said(schema, text, parsed):
    result = parse(text, schema)
    assert result.parsed == parsed
    assert any("运算符" in n for n in result.notices)
