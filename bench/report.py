"""Markdown tables from a benchmark result JSON: `python bench/report.py bench/results/X.json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from targets import evaluate, ratios

STACKS = ("zhsearch", "fts5", "naive")


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join("" if c is None else str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)]


def _indexing(results: dict[str, Any]) -> list[str]:
    head = ["stack", "seconds", "CPU s", "docs/s", "MB/s", "file MB/s", "stages (s)"]
    rows = []
    for name in STACKS:
        i = results["indexing"].get(name)
        if i:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in i["stages"].items())
            cells = [name, f"{i['seconds']:.1f}", i.get("cpu_s"), i["docs_per_s"], i["mb_per_s"]]
            rows.append([*cells, i["file_mb_per_s"], stages, i["peak_rss_mb"], i["index_mb"]])
    out = _table([*head, "peak RSS MB", "index MB"], rows)
    zh = results["indexing"].get("zhsearch", {}).get("analysis_only")
    if zh:
        out += [
            "",
            f"zhsearch analysis alone (separate pass, positions): {zh['analyze_s']:.1f} s for "
            f"{zh['tokens']:,} tokens; reading the slice alone {zh['read_s']:.1f} s.",
        ]
    return out


def _queries(results: dict[str, Any]) -> list[str]:
    head = ["stack", "queries", "warm p50", "warm p95", "warm p99", "cold p50", "cold p95"]
    head += ["cold p99", "first query", "errors", "0-hit queries", "RSS MB"]
    rows = []
    for name in STACKS:
        q = results["queries"].get(name)
        if q:
            w, k = q["warm_ms"], q["cold_ms"]
            zero = sum(1 for r in q["per_query"] if not r["total"])
            cells = [name, q["queries"], w["p50"], w["p95"], w["p99"], k["p50"], k["p95"]]
            rows.append([*cells, k["p99"], q["first_query_ms"], q["errors"], zero, q["rss_mb"]])
    return _table(head, rows)


def _server(server: dict[str, Any]) -> list[str]:
    out = [
        f"Server ({server.get('workers', 1)} worker process(es)): listening "
        f"{server['start_to_listen_s']:.2f} s after start, first query "
        f"{server['first_query_ms']:.0f} ms, RSS idle {server['rss_idle_mb']} MB, max under load "
        f"{server['rss_max_mb']} MB in all (largest process "
        f"{server.get('rss_max_process_mb', server['rss_max_mb'])} MB).",
        "",
    ]
    keys = ("clients", "seconds", "requests", "rps", "p50_ms", "p99_ms", "errors")
    rows = [[lv[k] for k in keys] for lv in server["levels"]]
    head = ["clients", "seconds", "requests", "req/s", "p50 ms", "p99 ms", "errors"]
    return out + _table(head, rows)


def summary(results: dict[str, Any]) -> str:
    """Indexing, query, server, ratio and target tables as Markdown."""
    c, m = results["corpus"], results["machine"]
    out = [
        f"Run {results['date']} on {m['cores']} cores ({m['cpu_model']}), {m['memory_gb']} GB, "
        f"Python {m['python']}.",
        f"Corpus: {c['docs']} documents, {c['text_bytes'] / 1e6:.1f} MB of text after stripping "
        f"tags ({c['file_bytes'] / 1e6:.1f} MB of JSONL) from {', '.join(c['corpora'])}.",
        "",
        "Indexing (full rebuild; MB/s over text bytes, same basis for every stack):",
        "",
        *_indexing(results),
        "",
        "Queries (ms; run_search or equivalent with facet counts and top-10 snippets):",
        "",
        *_queries(results),
    ]
    if results.get("server"):
        out += ["", *_server(results["server"])]
    if results.get("ratios"):
        out += ["", "zhsearch vs baselines (>1 means zhsearch is better):", ""]
        keys = sorted({k for r in results["ratios"].values() for k in r})
        rows = [[n, *(r.get(k) for k in keys)] for n, r in results["ratios"].items()]
        out += _table(["baseline", *keys], rows)
    for failure in results.get("failures", []):
        out += ["", f"FAILED {failure['stack']}: {failure['error'][-300:]}"]
    out += ["", "Targets:", ""]
    rows = [
        [t["target"], t["value"], t["limit"], "met" if t["met"] else "MISSED", t.get("missed_by")]
        for t in results.get("targets", [])
    ]
    out += _table(["target", "value", "limit", "", "missed by"], rows)
    return "\n".join(out)


def hits_table(results: dict[str, Any]) -> str:
    """Per-query totals of every stack side by side, for checking the stacks agree."""
    stacks = [s for s in STACKS if s in results["queries"]]
    per = {s: results["queries"][s]["per_query"] for s in stacks}
    rows = []
    for i, row in enumerate(per[stacks[0]]):
        cells: list[Any] = [row["line"].replace("|", "\\|")]
        for s in stacks:
            r = per[s][i]
            cells += [r["total"], r["warm_ms"]]
        rows.append(cells)
    head = ["query"] + [f"{s} {k}" for s in stacks for k in ("hits", "warm ms")]
    return "\n".join(_table(head, rows))


def main(argv: list[str] | None = None) -> None:
    """Print the summary (and with --hits the per-query table) of a result file."""
    args = sys.argv[1:] if argv is None else argv
    results = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    results["ratios"] = ratios(results)  # recomputed: the raw sections are the record
    results["targets"] = evaluate(results)
    print(summary(results))
    if "--hits" in args:
        print()
        print(hits_table(results))


if __name__ == "__main__":
    main()
