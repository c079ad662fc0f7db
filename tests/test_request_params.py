"""The one declaration of search parameters: `from_params` reads it, `to_params` writes it back."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.helpers import REPO
from zhsearch.index.settings import Settings
from zhsearch.search.request import PARAM_NAMES, PARAMS, BadRequest, SearchRequest

SETTINGS = Settings.load(overrides={"index_dir": "unused"}, env={})
codes = st.lists(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True), max_size=3, unique=True)
words = st.text(st.sampled_from('锂电池光伏 负极材料ab"-OR'), max_size=12).map(str.strip)
dates = st.sampled_from(["", "2023", "2023-05", "2023-05-09"])


@st.composite
def requests(draw) -> SearchRequest:
    return SearchRequest(
        q=draw(words),
        regions=draw(codes),
        industries=draw(st.lists(st.sampled_from(["T01", "T02", "T05.1"]), unique=True)),
        date_from=draw(dates),
        date_to="",
        sources=draw(st.lists(st.sampled_from(["新闻联播", "人民网"]), unique=True)),
        sort=draw(st.sampled_from(["relevance", "date"])),
        page=draw(st.integers(1, 5)),
        size=draw(st.sampled_from([10, 20, 50])),
        highlight=draw(st.booleans()),
        synonyms=draw(st.booleans()),
        explain=draw(st.booleans()),
    )


@hsettings(max_examples=200, deadline=None)
@given(requests())
def test_to_params_is_the_inverse_of_from_params(request):
    params = request.to_params(SETTINGS)
    assert set(params) <= set(PARAM_NAMES)
    assert SearchRequest.from_params(params, SETTINGS) == request


def test_defaults_are_left_out_and_only_set_values_written():
    assert SearchRequest(size=SETTINGS.page_size).to_params(SETTINGS) == {}
    request = SearchRequest(q="光伏", regions=["140000"], highlight=False, size=SETTINGS.page_size)
    assert request.to_params(SETTINGS) == {"q": "光伏", "region": ["140000"], "highlight": "0"}


def test_every_request_field_has_exactly_one_parameter():
    fields = set(SearchRequest.__dataclass_fields__)
    assert sorted(p.attr for p in PARAMS) == sorted(fields)
    assert len(set(PARAM_NAMES)) == len(PARAMS)


def test_the_openapi_file_documents_the_declared_parameters_with_their_kinds():
    spec = json.loads((REPO / "web" / "openapi.json").read_text(encoding="utf-8"))
    declared = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert list(declared) == list(PARAM_NAMES)
    for param in PARAMS:
        schema = declared[param.name]["schema"]
        expected = {"int": "integer", "codes": "array"}.get(param.kind)
        if expected:
            assert schema.get("type") == expected or expected in json.dumps(schema), param.name


def test_a_bad_request_carries_no_http_status():
    """The web layer decides statuses (web/errors.py); the search layer only says what is wrong."""
    error = BadRequest("bad_parameter", "page 必须 ≥ 1")
    assert not hasattr(error, "status")
