"""Helpers shared by test files (test files import this module, never each other)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from zhsearch.search.cache import GenerationCache

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_REPORTS = FIXTURES / "reports.jsonl.gz"  # written by tests/fixtures/make_reports.py


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
