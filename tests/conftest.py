"""Shared fixtures: the sample corpus, ../shared when present, and temporary indexes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# FIXTURES, REPO and live_server: other branches' tests import them from here.
from tests.helpers import FIXTURES, REPO, fixture_reports, live_server, write_jsonl  # noqa: F401

SHARED = Path(os.environ.get("ZHSEARCH_SHARED", REPO.parent / "shared"))
# Set by .ci/run: in CI a missing ../shared or browser fails instead of skipping.
REQUIRE_SHARED = os.environ.get("ZHSEARCH_REQUIRE_SHARED") == "1"
REQUIRE_BROWSER = os.environ.get("ZHSEARCH_REQUIRE_BROWSER") == "1"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the user's ZHSEARCH_* settings or touches the user's index."""
    for key in list(os.environ):
        if key.startswith("ZHSEARCH_") and not key.startswith(("ZHSEARCH_SHARED", "ZHSEARCH_REQ")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ZHSEARCH_INDEX_DIR", str(tmp_path_factory.mktemp("default-index")))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (corpora, labels); tests that need it skip on a fresh clone without it."""
    if not (SHARED / "corpora").is_dir():
        if REQUIRE_SHARED:
            pytest.fail(f"ZHSEARCH_REQUIRE_SHARED=1 but {SHARED}/corpora is missing")
        pytest.skip(f"needs the shared corpora at {SHARED} (absent on a fresh clone; CI has it)")
    return SHARED


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample corpus (five files, six articles)."""
    from zhsearch.corpus.readers import sample_dir as _sample_dir

    return _sample_dir()


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory, sample_dir):
    """Settings pointing at a temporary index built by the real indexer from the sample corpus.

    Session-scoped and read-only: tests that write to an index build their own.
    """
    from zhsearch.index.settings import Settings
    from zhsearch.index.writer import Indexer

    index_dir = tmp_path_factory.mktemp("sample-index")
    settings = Settings.load(overrides={"index_dir": str(index_dir)}, env={})
    report = Indexer(settings).run([sample_dir])
    assert report.added == 6 and not report.problems, report.to_dict()
    return settings


@pytest.fixture(scope="module")
def app_settings(sample_settings):
    """The settings `app` and `client` serve: the sample index. A module that serves another
    index (tests/test_xss.py) or other settings overrides this fixture, not `client`."""
    return sample_settings


@pytest.fixture(scope="module")
def app(app_settings):
    """The real Flask app on `app_settings`, in testing mode."""
    from zhsearch.web.app import create_app

    return create_app({"ZHSEARCH_SETTINGS": app_settings, "TESTING": True})


@pytest.fixture(scope="module")
def client(app):
    """A Flask test client of `app`: the one client fixture of the suite."""
    return app.test_client()


@pytest.fixture(scope="session")
def xwlb_two_segments(shared_dir, tmp_path_factory):
    """1,200 news items indexed in two runs (a second segment, with updated documents): the
    fast query paths and caches are checked against Whoosh on it."""
    import gzip
    import json
    from itertools import islice

    from zhsearch.index.settings import Settings
    from zhsearch.index.writer import Indexer
    from zhsearch.search.context import open_context

    work = tmp_path_factory.mktemp("ranking")
    with gzip.open(shared_dir / "corpora" / "xwlb.jsonl.gz", "rt", encoding="utf-8") as fh:
        lines = list(islice(fh, 1200))
    first = work / "a.jsonl"
    first.write_text("".join(lines[:900]), encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(work / "index")}, env={})
    Indexer(settings).run([first])
    changed = [json.loads(line) for line in lines[:50]]
    for record in changed:
        record["content"] = record.get("content", "") + " 经济发展 铁路建设"
    rewritten = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in changed)
    first.write_text(rewritten + "".join(lines[50:900]), encoding="utf-8")
    second = work / "b.jsonl"
    second.write_text("".join(lines[900:]), encoding="utf-8")
    Indexer(settings).run([first, second])
    with open_context(settings) as ctx:
        reader = ctx.searcher.reader()
        assert len(list(reader.leaf_readers())) >= 2 and reader.has_deletions()
    return settings


@pytest.fixture(scope="session")
def fixture_two_segments(tmp_path_factory):
    """300 fixture reports indexed in two runs: a fresh build (the bulk segment writer), then an
    incremental run through Whoosh's own writer that adds a second segment and updates 30
    documents, left deleted in the first; terms with several posting blocks. What the
    equivalence tests need, on a fresh clone without ../shared."""
    from zhsearch.index.settings import Settings
    from zhsearch.index.writer import Indexer
    from zhsearch.search.context import open_context

    records = fixture_reports()[:300]
    work = tmp_path_factory.mktemp("fixture-segments")
    first, second = work / "a.jsonl", work / "b.jsonl"
    write_jsonl(first, records[:220])
    settings = Settings.load(overrides={"index_dir": str(work / "index")}, env={})
    Indexer(settings).run([first])
    for record in records[:30]:
        record["content"] += "\n经济发展 铁路建设，锂电池负极材料项目。"
    write_jsonl(first, records[:220])
    write_jsonl(second, records[220:])
    Indexer(settings).run([first, second])
    with open_context(settings) as ctx:
        reader = ctx.searcher.reader()
        assert len(list(reader.leaf_readers())) >= 2 and reader.has_deletions()
        assert reader.doc_frequency("content_chars", "的") > 128  # several posting blocks
        assert reader.doc_frequency("content", "发展") > 128
    return settings


@pytest.fixture(scope="session", params=["fixture", "xwlb"])
def two_segments(request):
    """A two-segment index with deletions: the fixture one always, the xwlb one with ../shared."""
    name = "fixture_two_segments" if request.param == "fixture" else "xwlb_two_segments"
    return request.getfixturevalue(name)
