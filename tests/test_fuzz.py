"""Bad input: the JSON API fuzzed by schemathesis from its own OpenAPI description, and
`run_search` fed arbitrary and hostile query text by hypothesis.

Every answer must be a 2xx/4xx (never 5xx), every rejection a 400 (or 404 for an unknown
document) with the one JSON error shape, and no exception may escape `run_search` other than
`BadRequest`. The limits (query length, terms, page depth, page size) are checked before any
searching; there is no wildcard or character expansion to bound.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhsearch.search import run as run_module
from zhsearch.search.context import SearchContext, open_context
from zhsearch.search.query import parse_query
from zhsearch.search.request import BadRequest, SearchRequest
from zhsearch.search.run import run_search

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reliability"
ERROR_CODES = {"bad_query", "bad_parameter", "not_found"}
FUZZ = settings(
    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.fixture
def ctx(sample_settings) -> Iterator[SearchContext]:
    """One open search context on the sample index."""
    with open_context(sample_settings) as context:
        yield context


def assert_error_shape(status: int, body: Any) -> None:
    """A rejection: 400/404 with {"ok": false, "error": {"code", "message"}} and nothing else."""
    assert status in (400, 404), (status, body)
    assert isinstance(body, dict) and body.get("ok") is False, body
    error = body["error"]
    assert set(error) == {"code", "message"}, body
    assert error["code"] in ERROR_CODES and isinstance(error["message"], str) and error["message"]


def record(name: str, data: dict[str, Any]) -> None:
    """Write a run's numbers to test-artifacts/reliability/ for docs/reliability.md."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------- schemathesis


def _fuzz_api(app, examples: int) -> Counter[str]:
    """Positive and negative requests generated from /api/openapi.json, run against the WSGI
    app; every response is checked for 5xx, documented status, content type and body schema.
    Returns status counts."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/documents/{doc_id}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    seen: Counter[str] = Counter()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = st.one_of(*[op.as_strategy(generation_mode=mode) for op in operations])
        with warnings.catch_warnings():
            # Schemathesis warns about its own generation details (e.g. negative cases that
            # cannot be serialised into a query string); they are not failures of the app.
            warnings.filterwarnings("ignore", module=r"schemathesis\..*")
            _fuzz_test(strategy, mode.value, examples, checks, seen)()
    return seen


def _fuzz_test(
    strategy: Any, mode: str, examples: int, checks: list[Any], seen: Counter[str]
) -> Any:
    """A hypothesis test calling the app with each generated case and checking the answer."""

    @settings(FUZZ, max_examples=examples)
    @given(case=strategy)
    def one(case: Any) -> None:
        response = case.call()
        seen[f"{mode} {response.status_code}"] += 1
        seen["requests"] += 1
        assert response.status_code < 500, (case.path, case.query, response.text[:500])
        if response.status_code >= 400:
            assert_error_shape(response.status_code, response.json())
        case.validate_response(response, checks=checks)

    return one


def test_api_fuzzed_from_openapi_never_5xx(app) -> None:
    seen = _fuzz_api(app, examples=150)
    record("fuzz_api_short", dict(seen))
    assert seen["requests"] >= 200, seen


@pytest.mark.slow
def test_api_fuzzed_from_openapi_never_5xx_long(app) -> None:
    seen = _fuzz_api(app, examples=2500)
    record("fuzz_api_long", dict(seen))
    assert seen["requests"] >= 4000, seen


# Raw query strings a generator cannot build: invalid UTF-8, encoded surrogates, NUL bytes.
RAW_QUERIES = [
    "q=%FF%FE",
    "q=%ED%A0%80",  # a UTF-16 surrogate encoded as UTF-8
    "q=%00",
    "q=%C0%AF..%C0%AF",
    "q=" + "%E9%94%82" * 4000,  # 12 000 bytes, 4000 characters of 锂
    "q=a&q=b&page=1&page=2",
    "page=%00",
    "size=1e3",
    "size=-0",
    "page=99999999999999999999999999",
    "from=2023-02-30",
    "from=9999-99",
    "to=0000",
    "region=../../etc",
    "industry=%00",
    "sort=%F0%9F%92%A9",
    "highlight=maybe",
    "q=title:" + "x" * 600,
]


@pytest.mark.parametrize("raw", RAW_QUERIES)
def test_raw_query_strings_are_answered_or_refused_cleanly(client, raw: str) -> None:
    response = client.get("/api/search?" + raw)
    body = response.get_json()
    if response.status_code == 200:
        assert body["ok"] is True
    else:
        assert_error_shape(response.status_code, body)


# --------------------------------------------------------------------------- run_search


_OPERATORS = st.sampled_from(
    ["OR", "AND", "NOT", "-", "(", ")", '"', "“", "”", "*", "?", "~", "^", ":", "title:", "标题："]
)
_WORDS = st.sampled_from(["光伏", "锂电池", "锂", "山西", "foo:", "x:y", "*光", "?伏", "开发区"])
_NASTY = st.one_of(
    st.text(max_size=200),  # any Unicode, lone surrogates and control characters included
    st.text(alphabet=st.characters(categories=["Cc", "Cs", "Zs", "Zl", "Zp", "Cf"]), max_size=50),
    st.text(alphabet=st.characters(categories=["P", "S"]), max_size=80),  # only punctuation
    st.lists(st.one_of(_OPERATORS, _WORDS), max_size=40).map(" ".join),
    st.lists(st.one_of(_OPERATORS, _WORDS), max_size=40).map("".join),
    st.integers(1, 30).map(lambda n: "(" * n + '"光伏"' + ")" * n),  # nested parentheses
    st.integers(1, 30).map(lambda n: '"' * n + "光伏" + "”" * n),  # nested quotes
    st.sampled_from(["*", "?", "*光伏", "?伏", "**", "光*", "nofield:光伏", "source:x", "id:../a"]),
)


def _search_once(ctx: SearchContext, q: str, **params: str) -> None:
    """One search through the validating constructor; only BadRequest may come out."""
    try:
        request = SearchRequest.from_params({"q": q, **params}, ctx.settings)
        result = run_search(request, ctx)
    except BadRequest as exc:
        assert exc.code in {"bad_query", "bad_parameter"} and exc.message
        return
    data = result.to_dict()
    json.dumps(data, ensure_ascii=False)  # serialisable, as the API will send it
    assert data["total"] >= len(data["hits"])


@settings(FUZZ, max_examples=300)
@given(q=_NASTY)
def test_run_search_survives_hostile_queries(ctx: SearchContext, q: str) -> None:
    _search_once(ctx, q)


@settings(FUZZ, max_examples=100)
@given(
    q=_NASTY,
    page=st.one_of(st.integers(-5, 2000).map(str), st.text(max_size=8)),
    size=st.one_of(st.integers(-5, 500).map(str), st.text(max_size=8)),
    sort=st.one_of(st.sampled_from(["relevance", "date", "DATE"]), st.text(max_size=8)),
    region=st.one_of(st.sampled_from(["140000", "140700", "999999", ""]), st.text(max_size=8)),
)
def test_run_search_survives_hostile_parameters(
    ctx: SearchContext, q: str, page: str, size: str, sort: str, region: str
) -> None:
    _search_once(ctx, q, page=page, size=size, sort=sort, region=region)


@pytest.mark.parametrize(
    "q",
    [
        "锂" * 10_000,
        "a" * 10_000,
        "(" * 10_000,
        '"' * 10_000,
        "OR " * 3_333,
        "\x00" * 10_000,
        "\ud800" * 10_000,  # lone surrogates
        "光伏 " * 2_500,
    ],
    ids=["han", "ascii", "parens", "quotes", "ors", "nul", "surrogates", "words"],
)
def test_10000_character_queries_are_refused_before_parsing(
    ctx: SearchContext, monkeypatch, q: str
) -> None:
    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("expensive work before the length check")

    monkeypatch.setattr(run_module, "parse_query", must_not_run)
    monkeypatch.setattr(run_module, "matching_docs", must_not_run)
    with pytest.raises(BadRequest) as info:
        run_search(SearchRequest(q=q), ctx)
    assert info.value.code == "bad_query" and "500" in info.value.message


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page": "101", "size": "10"}, "bad_parameter"),  # rank 1010 > max_depth 1000
        ({"page": "1", "size": "101"}, "bad_parameter"),  # size > max_page_size 100
        ({"page": "0"}, "bad_parameter"),
        ({"size": "0"}, "bad_parameter"),
        ({"region": "999999"}, "bad_parameter"),  # a well-formed code that does not exist
        ({"industry": "NOPE"}, "bad_parameter"),
    ],
)
def test_paging_and_code_limits_are_checked_before_parsing(
    ctx: SearchContext, monkeypatch, params: dict[str, str], code: str
) -> None:
    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("expensive work before the limit check")

    monkeypatch.setattr(run_module, "parse_query", must_not_run)
    monkeypatch.setattr(run_module, "matching_docs", must_not_run)
    request = SearchRequest(q="光伏")
    for name, value in params.items():
        attr = {"region": "regions", "industry": "industries"}.get(name, name)
        setattr(request, attr, [value] if attr in {"regions", "industries"} else int(value))
    with pytest.raises(BadRequest) as info:
        run_search(request, ctx)
    assert info.value.code == code


def test_too_many_terms_are_refused_before_any_search(ctx: SearchContext, monkeypatch) -> None:
    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("searched a query over the term limit")

    monkeypatch.setattr(run_module, "matching_docs", must_not_run)
    monkeypatch.setattr(run_module, "rank", must_not_run)
    q = " ".join(["光伏", "OR", "锂电池"] * 11)  # 33 words and operators > 32
    assert len(q) <= ctx.settings.max_query_chars
    with pytest.raises(BadRequest, match="32") as info:
        run_search(SearchRequest(q=q), ctx)
    assert info.value.code == "bad_query"


@pytest.mark.parametrize("q", ["*", "?", "*光伏", "光*", "?伏", "锂电*", "a*b?c"])
def test_wildcards_are_not_expanded(ctx: SearchContext, q: str) -> None:
    """There is no wildcard syntax: `*` and `?` are punctuation, never a lexicon scan."""
    parsed = parse_query(q, ctx.searcher.schema, ctx.settings)
    if parsed.query is not None:
        kinds = {type(node).__name__ for node in parsed.query.leaves()}
        assert not kinds & {"Wildcard", "Prefix", "FuzzyTerm", "Regex", "Every"}, kinds
    _search_once(ctx, q)


def test_single_character_is_one_literal_never_expanded(ctx: SearchContext) -> None:
    """No lexicon scan for a character: one literal per field, every report holding it found,
    no "expanded to N words" notice."""
    from tests.literal_oracle import expected, reports_of
    from zhsearch.search.literal import Literal

    parsed = parse_query("发", ctx.searcher.schema, ctx.settings)
    leaves = list(parsed.query.leaves())
    assert all(isinstance(leaf, Literal) and leaf.term.key == "发" for leaf in leaves), leaves
    assert Counter(leaf.fieldname for leaf in leaves) == {"title": 1, "subtitle": 1, "content": 1}
    reports = reports_of(ctx.searcher)
    for char in ("发", "煤"):  # 发 is in every sample report (and hundreds of words), 煤 in 3
        result = run_search(SearchRequest(q=char, size=100, synonyms=False), ctx)
        found = {hit.id for hit in result.hits}
        assert found == expected(reports, char) and result.total == len(found) > 0
        assert result.notices == []
    assert len(expected(reports, "煤")) < len(reports)


@pytest.mark.parametrize("q", ["nofield:光伏", "source:南通日报", "id:x", "region:140000", "a_b:c"])
def test_unknown_field_names_are_a_bad_query(client, q: str) -> None:
    response = client.get("/api/search", query_string={"q": q})
    assert_error_shape(response.status_code, response.get_json())
    assert response.get_json()["error"]["code"] == "bad_query"


@pytest.mark.parametrize("depth", [9, 26, 200])
def test_deeply_nested_parentheses_are_refused_before_parsing(
    ctx: SearchContext, monkeypatch, depth: int
) -> None:
    """26 levels of `(` around one word used to take minutes (describe() doubled per level)."""
    from zhsearch.search import query as query_module

    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("parsed a query nested too deeply")

    monkeypatch.setattr(query_module, "make_parser", must_not_run)
    q = "(" * depth + '"光伏"' + ")" * depth
    with pytest.raises(BadRequest, match="嵌套") as info:
        run_search(SearchRequest(q=q), ctx)
    assert info.value.code == "bad_query"


def test_nesting_up_to_the_limit_is_searched(ctx: SearchContext) -> None:
    from zhsearch.search.query import MAX_NESTING

    q = "(" * MAX_NESTING + "光伏 OR 锂电池" + ")" * MAX_NESTING
    assert run_search(SearchRequest(q=q), ctx).total > 0
