"""The bundled sample index: what a fresh install serves before anything else is indexed."""

from __future__ import annotations

from collections.abc import Callable

from zhsearch.index.settings import Settings
from zhsearch.index.store import IndexStore
from zhsearch.index.writer import Indexer, IndexReport, default_paths


def build_sample_if_empty(
    settings: Settings, starting: Callable[[], None] = lambda: None
) -> IndexReport | None:
    """Index the bundled sample into `settings.index_dir` when nothing would be lost there (the
    directory is missing or empty: `IndexStore.is_empty`), calling `starting` first; None when
    the directory holds anything else, which is left untouched."""
    if not IndexStore(settings.index_dir).is_empty():
        return None
    starting()
    return Indexer(settings).run(default_paths())
