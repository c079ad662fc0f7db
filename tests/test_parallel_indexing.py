"""A fresh build with worker processes (`procs`) indexes the same documents as one process, and a
killed parallel build leaves no process behind and the last good index serving."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pytest

from tests.helpers import fixture_reports, write_jsonl
from zhsearch.index.settings import Settings
from zhsearch.index.writer import Indexer
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search

QUERIES = ["经济", "项目 建设", '"新能源"', "锂", "发展 -北京"]


@dataclass(frozen=True)
class Reports:
    """A JSONL file of reports to build from, and how many it holds."""

    path: Path
    count: int


def _xwlb_slice(shared_dir: Path, where: Path) -> Reports:
    path = where / "slice.jsonl"
    with gzip.open(shared_dir / "corpora" / "xwlb.jsonl.gz", "rt", encoding="utf-8") as fh:
        path.write_text("".join(islice(fh, 1500)), encoding="utf-8")
    return Reports(path, 1500)


@pytest.fixture(scope="module", params=["fixture", "xwlb"])
def reports(request, tmp_path_factory) -> Reports:
    """The fixture's 400 reports always (seven batches for two workers), 1,500 xwlb items with
    ../shared."""
    where = tmp_path_factory.mktemp("parallel")
    if request.param == "xwlb":
        return _xwlb_slice(request.getfixturevalue("shared_dir"), where)
    return Reports(write_jsonl(where / "reports.jsonl", fixture_reports()), 400)


@pytest.fixture(scope="module", params=["fixture", "xwlb"])
def long_build(request, tmp_path_factory) -> Reports:
    """A build that lasts long enough to be killed in the middle: the fixture's reports four
    times over under new ids (1,600), or 1,500 xwlb items with ../shared."""
    where = tmp_path_factory.mktemp("parallel-kill")
    if request.param == "xwlb":
        return _xwlb_slice(request.getfixturevalue("shared_dir"), where)
    records = [
        {**record, "id": f"{record['id']}-{copy}"}
        for copy in range(4)
        for record in fixture_reports()
    ]
    return Reports(write_jsonl(where / "reports.jsonl", records), len(records))


def _build(reports: Reports, index_dir: Path, procs: int) -> Settings:
    settings = Settings.load(overrides={"index_dir": str(index_dir), "procs": procs}, env={})
    report = Indexer(settings).run([reports.path], rebuild=True)
    assert report.added == reports.count and not report.problems
    return settings


def test_two_processes_index_what_one_does(reports, tmp_path):
    one = _build(reports, tmp_path / "one", 1)
    two = _build(reports, tmp_path / "two", 2)
    with open_context(one) as a, open_context(two) as b:
        assert len(list(b.searcher.reader().leaf_readers())) == 2  # one segment per process
        assert a.searcher.doc_count() == b.searcher.doc_count() == reports.count
        for q in QUERIES:
            ra = run_search(SearchRequest.from_params({"q": q, "size": "20"}, one), a)
            rb = run_search(SearchRequest.from_params({"q": q, "size": "20"}, two), b)
            assert ra.total == rb.total > 0, q
            assert ra.facets == rb.facets, q
            assert _ranked(ra) == _ranked(rb), q


def _ranked(result) -> tuple[list[float], set[tuple[str, float]]]:
    """The page's scores in order, and each hit above the lowest score with its score: equal
    documents tie, and a tie at the page's end may be cut at another document (the docnums,
    which break ties, differ with the number of processes)."""
    scores = [round(h.score, 6) for h in result.hits]
    return scores, {(h.id, s) for h, s in zip(result.hits, scores, strict=True) if s > scores[-1]}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and prctl")
def test_killed_parallel_build_leaves_no_process_and_the_old_index(long_build, tmp_path):
    index_dir = tmp_path / "index"
    settings = _build(long_build, index_dir, 1)
    with open_context(settings) as ctx:
        before = ctx.index_path
    script = (
        "import sys; from zhsearch.index.settings import Settings;"
        "from zhsearch.index.writer import Indexer; "
        f"s = Settings.load(overrides={{'index_dir': {str(index_dir)!r}, 'procs': 2}}, env={{}}); "
        f"Indexer(s).run([{str(long_build.path)!r}], rebuild=True)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[1])
    children: list[str] = []
    deadline = time.monotonic() + 60
    while len(children) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        task = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        children = task.read_text().split() if task.exists() else []
    if proc.poll() is not None:
        pytest.fail("the build ended before its writer processes were seen")
    assert len(children) >= 2
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = [c for c in children if Path(f"/proc/{c}").exists()]
    for c in alive:  # clean up before failing
        os.kill(int(c), signal.SIGKILL)
    assert not alive, "writer processes outlived the killed indexer"
    with open_context(settings) as ctx:
        assert ctx.index_path == before and ctx.searcher.doc_count() == long_build.count


@pytest.mark.parametrize("how", ["dies", "disk full"])
def test_a_failing_worker_fails_the_build_clearly_and_keeps_the_live_index(
    reports, tmp_path, monkeypatch, how
):
    import errno

    from click.testing import CliRunner

    from zhsearch.index import build as build_module
    from zhsearch.web.cli import cli

    settings = _build(reports, tmp_path / "index", 1)
    with open_context(settings) as ctx:
        before = ctx.index_path
    real = build_module.write_article
    halfway = reports.count // 2

    def failing(article, *args):
        if article.position == halfway:  # in one worker, halfway through the reports
            if how == "dies":
                os._exit(3)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(article, *args)

    monkeypatch.setattr(build_module, "write_article", failing)
    args = ["--index-dir", settings.index_dir, "index", "--rebuild", "--procs", "2"]
    result = CliRunner().invoke(cli, [*args, str(reports.path)])
    assert result.exit_code == 1, result.output
    expected = "an indexing process exited (3)" if how == "dies" else "No space left on device"
    assert expected in result.output and "Traceback" not in result.output
    with open_context(settings) as ctx:
        assert ctx.index_path == before and ctx.searcher.doc_count() == reports.count
    assert [p.name for p in Path(settings.index_dir).iterdir() if p.name.startswith("gen-")] == [
        before.name
    ]


def test_a_process_whose_parallel_build_failed_still_exits(reports, tmp_path):
    """Batches queued for workers that were stopped must not keep the process from exiting
    (multiprocessing joins a queue's feeder thread at exit, which waits on a pipe nobody reads)."""
    settings = _build(reports, tmp_path / "index", 1)
    script = (
        "import errno; from zhsearch.index.settings import Settings\n"
        "from zhsearch.index.writer import Indexer\n"
        "from zhsearch.index import build\n"
        "real = build.write_article\n"
        "def failing(article, *args):\n"
        "    if article.position == 200:\n"
        "        raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "    return real(article, *args)\n"
        "build.write_article = failing\n"
        f"o = {{'index_dir': {settings.index_dir!r}, 'procs': 2}}\n"
        "s = Settings.load(overrides=o, env={})\n"
        "try:\n"
        f"    Indexer(s).run([{str(reports.path)!r}], rebuild=True)\n"
        "except OSError as exc:\n"
        "    print('failed:', exc.strerror)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "failed: No space left on device" in done.stdout
