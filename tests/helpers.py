"""Helpers shared by test files (test files import this module, never each other)."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from zhsearch.index.settings import Settings
    from zhsearch.search.cache import GenerationCache

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_REPORTS = FIXTURES / "reports.jsonl.gz"  # written by tests/fixtures/make_reports.py


def client_for(settings: Settings, **overrides: Any) -> FlaskClient:
    """A test client of the real app on `settings` with `overrides`, for a test that needs other
    settings than the `client` fixture serves."""
    from zhsearch.web.app import create_app

    app = create_app({"ZHSEARCH_SETTINGS": settings.replace(**overrides), "TESTING": True})
    return app.test_client()


def count_builds(cache: GenerationCache, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the built slots `cache` builds from now on, one entry per build: shows that
    a value is built once (or not at all) by behaviour rather than by how long it took."""
    built: list[str] = []
    value = cache.value

    def counting(slot: Any, build: Callable[[], Any], key: Any = None) -> Any:
        def counted() -> Any:
            built.append(slot.name)
            return build()

        return value(slot, counted, key)

    monkeypatch.setattr(cache, "value", counting)
    return built


def fixture_reports() -> list[dict]:
    """The records of tests/fixtures/reports.jsonl.gz (400 reports made of the sample's real
    sentences; tests/fixtures/make_reports.py wrote them)."""
    with gzip.open(FIXTURE_REPORTS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """`records` as a JSONL file the indexer reads."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


# -- the OpenAPI document -------------------------------------------------------------------

SPEC_URI = "urn:zhsearch:openapi"


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document shipped in the web package."""
    return json.loads(resources.files("web").joinpath("openapi.json").read_text("utf-8"))


@cache
def openapi_registry() -> Registry:
    """The spec as a registry, so a schema resolves the spec's own $refs."""
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def json_pointer(*parts: str) -> str:
    """A JSON pointer to `parts`, escaped as RFC 6901 asks."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def schema_validator(pointer: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for the schema at `pointer`, resolving the spec's own $refs."""
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=openapi_registry())


def assert_matches_openapi(response: Any, path: str, method: str = "get") -> None:
    """The response's status is documented for `path` and its JSON body matches that schema."""
    responses = spec()["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answers {status}, not documented"
    assert response.mimetype == "application/json"
    pointer = json_pointer(
        "paths", path, method, "responses", status, "content", "application/json", "schema"
    )
    errors = sorted(schema_validator(pointer).iter_errors(response.get_json()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


# -- indexes built by a test ------------------------------------------------------------------

_WORDS = (
    "锂电池 负极材料 光伏 组件 项目 投资 建设 开发区 产业园 招商引资 新能源 储能 电站 企业 "
    "经济 发展 转型 升级 制造 基地 工厂 生产线 技术 创新 研发 市场 产能 年产 签约 落户 开工 "
    "投产 集群 配套 园区 数字化 智能 绿色 低碳 氢能 风电 半导体 芯片 面板 汽车 物流 港口"
)
WORDS = _WORDS.split()


def settings_for(index_dir: Path) -> Settings:
    """Settings of an index in `index_dir`, read from no environment."""
    from zhsearch.index.settings import Settings

    return Settings.load(overrides={"index_dir": str(index_dir)}, env={})


def all_ids(settings: Settings) -> list[str]:
    """Stored ids of every live document (a list, so duplicates show)."""
    from zhsearch.index.store import open_index

    with closing(open_index(settings)) as ix, ix.reader() as reader:
        return sorted(fields["id"] for fields in reader.all_stored_fields())


def phrase_ids(settings: Settings, text: str) -> list[str]:
    """Ids of live documents whose content holds `text` literally (as a search for it does)."""
    from zhsearch.search.context import open_context
    from zhsearch.search.docsets import matching_docs
    from zhsearch.search.literal import Literal, LiteralTerm

    with open_context(settings) as ctx:
        docs = matching_docs(ctx, Literal("content", LiteralTerm.parse(text)))
        return sorted(ctx.searcher.stored_fields(d)["id"] for d in docs)


def make_jsonl(path: Path, n: int, *, seed: int = 0, prefix: str = "n") -> list[str]:
    """A JSONL file of `n` small generated articles; returns their ids."""
    rng = random.Random(seed)
    ids = []
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            sentences = [
                "".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12)))
                for _ in range(rng.randint(3, 6))
            ]
            record = {
                "id": f"{prefix}{i:05d}",
                "title": "".join(rng.choice(WORDS) for _ in range(4)),
                "date": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "source": "测试日报",
                "content": "。".join(sentences) + "。",
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            ids.append(record["id"])
    return ids


def run_cli(*args: str, **kwargs) -> subprocess.Popen:
    """`zhsearch <args>` in a child process, its output captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "zhsearch.web.cli", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def live_answer(settings: Settings) -> tuple[int, list[str]]:
    """What the live generation answers to a fixed query: (doc count, ids matching)."""
    ids = all_ids(settings)
    return len(ids), phrase_ids(settings, "锂电池")


@contextmanager
def live_server(settings) -> Iterator[str]:
    """The real app on a free loopback port, served from a background thread, for browsers."""
    from werkzeug.serving import make_server

    from zhsearch.web.app import create_app

    server = make_server("127.0.0.1", 0, create_app({"ZHSEARCH_SETTINGS": settings}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="zhsearch-test-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
