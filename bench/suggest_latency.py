"""Latency of did-you-mean and autocomplete on a built index, once their lexicon is built.

    .venv/bin/python bench/suggest_latency.py [--index-dir DIR]   # default: the settings' index

The unit tests check that the lexicon is built once per generation and what it answers; how
fast it answers is measured here, on the machine at hand, against the targets below (median
did-you-mean on an empty result, median and slowest completion).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from zhsearch.index.settings import Settings
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search
from zhsearch.search.suggest import complete, lexicon

TYPOS = ["锂电负级材料", "新能原", "光扶项目", "招商引姿"]
PREFIXES = ["锂", "锂电", "fu", "fuji", "光", "zhaoshang", "新能源", "宁德", "经济", "jingji"]
TARGETS_MS = {"did_you_mean_p50": 250.0, "complete_p50": 20.0, "complete_max": 100.0}


def _millis(run: Callable[[], object], repeat: int) -> list[float]:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        took.append((time.perf_counter() - started) * 1000)
    return took


def measure(settings: Settings, repeat: int = 5) -> dict[str, float]:
    """Milliseconds per did-you-mean search and per completion, after one warm-up of each."""
    with open_context(settings) as ctx:
        started = time.perf_counter()
        lexicon(ctx)
        build_ms = (time.perf_counter() - started) * 1000
        typo, completion = [], []
        for q in TYPOS:
            request = SearchRequest.from_params({"q": q}, settings)
            run_search(request, ctx)
            typo += _millis(lambda r=request: run_search(r, ctx), repeat)
        for q in PREFIXES:
            complete(ctx, q)
            completion += _millis(lambda q=q: complete(ctx, q), repeat)
    return {
        "lexicon_build_ms": round(build_ms, 1),
        "did_you_mean_p50": round(statistics.median(typo), 2),
        "complete_p50": round(statistics.median(completion), 2),
        "complete_max": round(max(completion), 2),
    }


def main() -> int:
    """Print the measurements and the targets as JSON; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default="", help="the index to measure (default: settings)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    overrides = {"index_dir": args.index_dir} if args.index_dir else {}
    result = measure(Settings.load(overrides=overrides), args.repeat)
    missed = [name for name, limit in TARGETS_MS.items() if result[name] > limit]
    print(json.dumps({"ms": result, "targets_ms": TARGETS_MS, "missed": missed}, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
