"""Helpers shared by test files (test files import this module, never each other)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from zhsearch.search.cache import GenerationCache


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
