"""Starting a server: what the app imports, and the quick warm-up a pre-fork master runs."""

from __future__ import annotations

import subprocess
import sys

import zhsearch.search.arrays
from zhsearch.index.settings import Settings
from zhsearch.search.cache import SearchCaches
from zhsearch.search.context import open_context
from zhsearch.search.warmup import warm_now


def test_the_app_leaves_pypinyin_to_the_suggestion_lexicon() -> None:
    code = "import sys, zhsearch.web.app; print('pypinyin' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_quick_warm_up_builds_what_every_search_needs(sample_settings, monkeypatch) -> None:
    caches = SearchCaches(sample_settings)
    assert set(warm_now(sample_settings, caches)) == {"facet_arrays", "date_order"}

    def rebuilt(_ctx):
        raise AssertionError("facet arrays built again after the warm-up")

    monkeypatch.setattr(zhsearch.search.arrays, "_build_arrays", rebuilt)
    with open_context(sample_settings, caches) as ctx:
        assert (
            len(zhsearch.search.arrays.doc_arrays(ctx).dates)
            == ctx.searcher.reader().doc_count_all()
        )


def test_quick_warm_up_without_an_index_does_nothing(tmp_path) -> None:
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "none")}, env={})
    assert warm_now(settings, SearchCaches(settings)) == {}
