"""The query language and request validation: no index needed."""

from __future__ import annotations

import datetime as dt

import pytest
from whoosh import query as wq

from corpus.settings import Settings
from index.schema import build_schema
from search.query import describe, parse_query
from search.request import BadRequest, SearchRequest


@pytest.fixture(scope="module")
def schema():
    return build_schema()


@pytest.fixture
def settings() -> Settings:
    return Settings.load(env={})


def parse(text: str, schema, settings: Settings | None = None):
    return parse_query(text, schema, settings or Settings.load(env={}))


def terms_of(q: wq.Query) -> set[tuple[str, str]]:
    return {(f, t) for f, t in q.iter_all_terms()}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("锂电池 光伏", "锂电池 光伏"),
        ("锂电负极材料", "锂电 负极材料"),  # an unspaced run is segmented into ANDed words
        ("锂电池 OR 光伏", "锂电池 OR 光伏"),
        ("锂电池 -光伏", "锂电池 -光伏"),
        ("锂电池 NOT 光伏", "锂电池 -光伏"),
        ('"负极材料项目"', '"负极材料项目"'),
        ("“负极材料项目”", '"负极材料项目"'),  # Chinese quotes
        ("title:锂电池", "title:锂电池"),
        ("标题：锂电池", "title:锂电池"),
        ("content:光伏", "content:光伏"),
        ("(锂电池 OR 光伏) 山西", "(锂电池 OR 光伏) 山西"),
        ("鋰電池", "锂电池"),  # Traditional → Simplified
        ("７ＧＷ", "7gw"),  # full width → half width, lower case
        ("锂*", "锂"),  # no wildcards: the star is punctuation
        ("山西的锂", "山西 锂"),  # function characters from segmentation are dropped
    ],
)
def test_syntax_is_read_as_documented(schema, text, parsed):
    assert parse(text, schema).parsed == parsed


def test_words_are_anded_across_fields(schema):
    q = parse("锂电负极材料", schema).query
    assert isinstance(q, wq.And)
    for part in q.children():
        assert isinstance(part, wq.Or)
        assert {t.fieldname for t in part.children()} == {"title", "subtitle", "content"}


def test_phrase_is_a_phrase_query_in_every_field(schema):
    q = parse('"锂电负极材料"', schema).query
    phrases = [c for c in q.children() if isinstance(c, wq.Phrase)]
    assert len(phrases) == 3
    assert all(p.words == ["锂电", "负极材料"] for p in phrases)


def test_title_prefix_searches_only_the_title(schema):
    q = parse("title:锂电池 光伏", schema).query
    assert ("title", "锂电池") in terms_of(q)
    assert ("content", "锂电池") not in terms_of(q)
    assert ("content", "光伏") in terms_of(q)


def test_negated_words_are_not_highlighted(schema):
    parsed = parse('锂电池 -光伏 NOT "负极材料项目" 锂', schema)
    assert parsed.terms.words == {"锂电池"}
    assert parsed.terms.chars == {"锂"}
    assert parsed.terms.phrases == ()


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


def test_query_terms_limit_counts_segmented_words_and_operators(schema):
    settings = Settings.load(overrides={"max_query_terms": 5}, env={})
    assert parse("锂电池 OR 光伏 -煤炭", schema, settings).parsed
    with pytest.raises(BadRequest) as err:
        parse("锂电负极材料 光伏 OR 煤炭 -钢", schema, settings)  # 锂电 负极材料 光伏 OR 煤炭 - 钢
    assert err.value.code == "bad_query"


def test_describe_of_plain_queries():
    assert describe(wq.Term("title", "锂")) == "title:锂"
    assert describe(wq.Not(wq.Term("content", "煤"))) == "-content:煤"


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
    assert err.value.status == 400
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
