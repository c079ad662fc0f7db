"""The issue's targets, checked against one benchmark result."""

from __future__ import annotations

from typing import Any


def _check(name: str, value: float | None, limit: float, *, at_most: bool) -> dict[str, Any]:
    """One target: met or not, and by how much it is missed (as a fraction of the limit)."""
    if value is None:
        return {"target": name, "value": None, "limit": limit, "met": None}
    met = value <= limit if at_most else value >= limit
    row: dict[str, Any] = {"target": name, "value": value, "limit": limit, "met": met}
    if not met:
        row["missed_by"] = f"{abs(value - limit) / limit:.0%}" if limit else str(value)
    return row


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """zhsearch / baseline: indexing speed (wall and CPU), size, latency (baseline / zhsearch).

    Above 1 means zhsearch is better, except index_size_ratio (zhsearch / baseline bytes).
    """
    out: dict[str, Any] = {}
    zh_i, zh_q = results["indexing"].get("zhsearch"), results["queries"].get("zhsearch")
    for name in ("naive", "fts5"):
        base_i, base_q = results["indexing"].get(name), results["queries"].get(name)
        row: dict[str, Any] = {}
        if zh_i and base_i:
            row["indexing_speedup"] = round(zh_i["mb_per_s"] / base_i["mb_per_s"], 2)
            if zh_i.get("cpu_s") and base_i.get("cpu_s"):
                row["indexing_speedup_cpu"] = round(base_i["cpu_s"] / zh_i["cpu_s"], 2)
            row["index_size_ratio"] = round(zh_i["index_bytes"] / base_i["index_bytes"], 2)
        if zh_q and base_q:
            for kind in ("warm_ms", "cold_ms"):
                for p in ("p50", "p95", "p99"):
                    row[f"{kind[:-3]}_{p}_speedup"] = round(base_q[kind][p] / zh_q[kind][p], 2)
        if row:
            out[name] = row
    return out


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue that this run measured."""
    zh = _get(results, "queries", "zhsearch") or {}
    rows = [
        _check(
            "indexing MB/s ≥ 5× naive",
            _get(results, "ratios", "naive", "indexing_speedup"),
            5.0,
            at_most=False,
        ),
        _check("query p50 warm ≤ 15 ms", _get(zh, "warm_ms", "p50"), 15.0, at_most=True),
        _check("query p95 warm ≤ 50 ms", _get(zh, "warm_ms", "p95"), 50.0, at_most=True),
        _check("query errors = 0", zh.get("errors"), 0, at_most=True),
    ]
    fts5 = _get(results, "ratios", "fts5") or {}
    naive = _get(results, "ratios", "naive") or {}
    for p in ("p50", "p95"):
        speedup = fts5.get(f"warm_{p}_speedup")
        slowdown = round(1 / speedup, 2) if speedup else None
        rows.append(
            _check(f"query {p} warm within 3× of FTS5 (zh/fts5)", slowdown, 3.0, at_most=True)
        )
        rows.append(
            _check(
                f"query {p} warm ≥ 3× faster than naive",
                naive.get(f"warm_{p}_speedup"),
                3.0,
                at_most=False,
            )
        )
    server = results.get("server")
    if server:
        at16 = next((lv for lv in server["levels"] if lv["clients"] == 16), None)
        rows += [
            _check("server req/s at 16 clients ≥ 100", at16 and at16["rps"], 100.0, at_most=False),
            _check("server errors = 0", server["errors"], 0, at_most=True),
            _check(
                "server RSS per serving process ≤ 400 MB",
                server.get("rss_max_process_mb", server["rss_max_mb"]),
                400.0,
                at_most=True,
            ),
            _check("server first query ≤ 1 s (ms)", server["first_query_ms"], 1000.0, at_most=True),
            _check(
                "server start → first answer ≤ 1 s (s)",
                server["start_to_first_answer_s"],
                1.0,
                at_most=True,
            ),
        ]
    return [r for r in rows if r["value"] is not None]
