"""The zhsearch stack, through the project's own API: `index` a slice, `query` the query file.

Each subcommand runs in a fresh process (the harness starts it), prints one JSON line.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "baselines"))

import common


def _settings(index_dir: str) -> Any:
    """Default settings on `index_dir`, plus only the ZHSEARCH_* variables the harness set
    (`run.py --zh-setting`), never the user's index or configuration."""
    from zhsearch.index.settings import Settings

    return Settings.load(overrides={"index_dir": index_dir}, env=common.chosen_settings(os.environ))


def analyze_pass(slice_path: str) -> dict[str, float]:
    """Re-read the slice and run only the analyzer on it, the way the writer does (the word
    positions of each text field, `ZhTokenizer.word_positions`).

    The writer analyses inside `add_document`, so the indexer's "write" stage includes analysis;
    this separate pass measures analysis alone so write = analyze + posting work.
    """
    from zhsearch.corpus.readers import read_file
    from zhsearch.index.analysis import zh_analyzer

    t = time.perf_counter()
    articles = read_file(slice_path).articles
    read_s = time.perf_counter() - t
    analyzer = zh_analyzer()
    tokens = 0
    t = time.perf_counter()
    for article in articles:
        for text in (article.title, article.subtitle, article.content):
            if text:
                tokens += sum(map(len, analyzer.word_positions(text).values()))
    return {"read_s": read_s, "analyze_s": time.perf_counter() - t, "tokens": tokens}


def index(slice_path: str, index_dir: str, procs: int = 1) -> dict[str, Any]:
    """A full rebuild with `Indexer.run(rebuild=True)`, plus an analysis-only pass."""
    from zhsearch.index.store import IndexStore
    from zhsearch.index.writer import Indexer

    settings = _settings(index_dir).replace(procs=procs)
    before = os.times()
    report = Indexer(settings).run([slice_path], rebuild=True)
    after = os.times()
    # CPU of this process and of the writer processes it started and joined (procs > 1).
    cpu = sum(after[i] - before[i] for i in range(4))
    peak = common.peak_rss_mb()
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    live = IndexStore(settings.index_dir).current()
    data = report.to_dict()
    data.pop("problems")
    return {
        "stack": "zhsearch",
        "docs": report.documents,
        "problems": len(report.problems),
        "seconds": report.seconds,
        "cpu_s": round(cpu, 3),
        "stages": dict(report.stages),
        "file_bytes": report.bytes,
        "report": data,
        "peak_rss_mb": peak,
        "peak_rss_writer_process_mb": round(children_peak, 1),
        "index_bytes": common.dir_bytes(live) if live else 0,
        "settings": {
            "writer_memory_mb": settings.writer_memory_mb,
            "procs": settings.procs,
        },
        "analysis_only": analyze_pass(slice_path),
        "code": str(Path(sys.modules["zhsearch.index.writer"].__file__).parents[1]),
    }


def query(index_dir: str, queries_path: str, passes: int) -> dict[str, Any]:
    """Cold pass (fresh process and context, after the warm-up the server runs at start) then
    `passes` warm passes, all via run_search."""
    from zhsearch.search.context import open_context
    from zhsearch.search.request import SearchRequest
    from zhsearch.search.run import run_search
    from zhsearch.search.warmup import warm_up

    settings = _settings(index_dir)
    started = time.perf_counter()
    ctx = open_context(settings)
    opened = time.perf_counter() - started
    # What `zhsearch serve` does in the background at start and after each reindex.
    warm_steps = warm_up(ctx)
    warmed = time.perf_counter() - started - opened

    def answer(q: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in q.items() if k != "line"}
        result = run_search(SearchRequest.from_params(params, settings), ctx)
        hits = [{"id": h.id, "snippet": h.snippet} for h in result.hits]
        return {"total": result.total, "hits": hits}

    queries = common.load_queries(queries_path)
    with ctx:
        result = common.run_passes(answer, queries, passes)
        rss = common.proc_rss_mb()
    # What the web app pays per request: opening a context (it is closed per request).
    opens = []
    for _ in range(20):
        t = time.perf_counter()
        open_context(settings).close()
        opens.append((time.perf_counter() - t) * 1000)
    result.update(
        stack="zhsearch",
        open_s=opened,
        warm_up_s=warmed,
        warm_up_steps=warm_steps,
        open_context_ms=common.percentiles(opens),
        rss_mb=rss,
        peak_rss_mb=common.peak_rss_mb(),
    )
    return result


def main(argv: list[str] | None = None) -> None:
    """`zh.py index SLICE INDEX_DIR` or `zh.py query INDEX_DIR QUERIES`."""
    procs = ("--procs", {"type": int, "default": 1})
    common.stack_main(__doc__, index, query, "index_dir", [procs], argv)


if __name__ == "__main__":
    main()
