"""The OpenAPI document: valid, complete (every /api route documented) and usable to validate
real responses (`assert_matches_openapi`, in tests/helpers.py, is what the API tests use)."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from tests.helpers import (  # noqa: F401 - assert_matches_openapi: other branches import it here
    SPEC_URI,
    assert_matches_openapi,
    json_pointer,
    openapi_registry,
    schema_validator,
    spec,
)
from zhsearch.web.app import create_app

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _api_routes() -> set[tuple[str, str]]:
    app = create_app({"index_dir": "/nonexistent-zhsearch-index"})
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule == "/api" or rule.rule.startswith("/api/"):
            path = _CONVERTER.sub(r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - _IGNORED_METHODS}
    return routes


def test_spec_is_openapi_31_with_valid_component_schemas():
    doc = spec()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_api_route_is_documented_and_nothing_else():
    routes = _api_routes()
    assert ("/api/search", "get") in routes
    documented = {(p, m) for p, ops in spec()["paths"].items() for m in ops}
    assert routes == documented


def test_every_ref_resolves_and_every_operation_documents_its_errors():
    text = json.dumps(spec())
    for ref in set(re.findall(r'"\$ref": "(#[^"]+)"', text)):
        openapi_registry().resolver(SPEC_URI).lookup(ref)
    for path, ops in spec()["paths"].items():
        for method, op in ops.items():
            assert op.get("operationId"), (path, method)
            if path != "/api/openapi.json":
                assert "500" in op["responses"] and "503" in op["responses"], (path, method)


def test_path_parameters_are_declared():
    for path, ops in spec()["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path


def test_search_parameters_match_what_the_api_accepts():
    from zhsearch.web.params import SEARCH_PARAMS

    params = spec()["paths"]["/api/search"]["get"]["parameters"]
    assert [p["name"] for p in params] == list(SEARCH_PARAMS)


def test_served_document_is_the_file():
    app = create_app({"index_dir": "/nonexistent-zhsearch-index"})
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == spec()


@pytest.mark.parametrize(
    "body",
    [
        {"ok": True, "error": {"code": "internal", "message": "x"}},
        {"ok": False, "error": {"code": "oops", "message": "x"}},
        {"ok": False, "error": {"code": "internal"}},
    ],
)
def test_error_schema_rejects_wrong_shapes(body):
    validator = schema_validator(json_pointer("components", "schemas", "ErrorResponse"))
    assert not validator.is_valid(body)
