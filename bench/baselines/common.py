"""Shared by every benchmarked stack; stdlib only, so it also runs in the naive stack's venv."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import html
import json
import os
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

# The 34 province-level divisions (GB/T 2260): code -> short name found in news text.
PROVINCES = {
    "110000": "北京", "120000": "天津", "130000": "河北", "140000": "山西", "150000": "内蒙古",
    "210000": "辽宁", "220000": "吉林", "230000": "黑龙江", "310000": "上海", "320000": "江苏",
    "330000": "浙江", "340000": "安徽", "350000": "福建", "360000": "江西", "370000": "山东",
    "410000": "河南", "420000": "湖北", "430000": "湖南", "440000": "广东", "450000": "广西",
    "460000": "海南", "500000": "重庆", "510000": "四川", "520000": "贵州", "530000": "云南",
    "540000": "西藏", "610000": "陕西", "620000": "甘肃", "630000": "青海", "640000": "宁夏",
    "650000": "新疆", "710000": "台湾", "810000": "香港", "820000": "澳门",
}  # fmt: skip
_PROVINCE_CODE = {name: code for code, name in PROVINCES.items()}
_PROVINCE_RE = re.compile("|".join(sorted(_PROVINCE_CODE, key=len, reverse=True)))
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_MARK = re.compile(r'<mark>|class="match')
FILTER_KEYS = ("region", "industry", "from", "to", "sort")


def strip_html(text: str) -> str:
    """Tags removed, entities decoded, runs of spaces collapsed: what the baselines index."""
    text = html.unescape(_TAG.sub("\n", text)) if "<" in text else html.unescape(text)
    text = _SPACE.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def iter_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The JSON records of a .jsonl or .jsonl.gz file, one per non-empty line."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def clean_title(title: str) -> str:
    """The title without xwlb's "[视频]" prefix."""
    return re.sub(r"^\s*\[视频\]\s*", "", title or "").strip()


def parse_date(text: str | None) -> dt.datetime | None:
    """The day of "2012-07-02 19:06:13" or "2026-02-09", else None."""
    try:
        return dt.datetime.strptime((text or "")[:10], "%Y-%m-%d")
    except ValueError:
        return None


def province_of(title: str, text: str) -> str:
    """A naive region: the first province named in the title, else in the first 100 characters."""
    m = _PROVINCE_RE.search(title) or _PROVINCE_RE.search(text[:100])
    return _PROVINCE_CODE[m.group(0)] if m else ""


class Industries:
    """A naive industry classifier: any keyword of a class found as a substring labels it."""

    def __init__(self, path: str | Path) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        self.labels: dict[str, str] = {code: c["label"] for code, c in data.items()}
        self._code: dict[str, str] = {}
        for code, c in data.items():
            for word in c["keywords"]:
                self._code.setdefault(word.lower(), code)
        words = sorted(self._code, key=len, reverse=True)
        self._re = re.compile("|".join(re.escape(w) for w in words))

    def classify(self, text: str) -> list[str]:
        """Sorted codes of the classes whose keywords occur in `text`."""
        return sorted({self._code[m] for m in self._re.findall(text.lower())})


def load_queries(path: str | Path) -> list[dict[str, Any]]:
    """The query file: one dict per line with "line", "q" and any filters (lists for codes)."""
    queries = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("q="):
            params = dict(part.split("=", 1) for part in line.split("&"))
            params = {k: unquote(v) for k, v in params.items()}
        else:
            params = {"q": line}
        query: dict[str, Any] = {"line": line, "q": params.get("q", "")}
        for key in FILTER_KEYS:
            if params.get(key):
                query[key] = params[key]
        queries.append(query)
    return queries


def date_bounds(query: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Inclusive datetime bounds of a query's from/to ("2021", "2020-06" or "2020-06-01")."""
    return _bound(query.get("from", ""), end=False), _bound(query.get("to", ""), end=True)


def _bound(text: str, *, end: bool) -> dt.datetime | None:
    m = _DATE.match(text or "")
    if not m:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if day:
        start = dt.datetime(year, int(month), int(day))
        return start + dt.timedelta(days=1, microseconds=-1) if end else start
    if month:
        start = dt.datetime(year, int(month), 1)
        if not end:
            return start
        nxt = dt.datetime(year + start.month // 12, start.month % 12 + 1, 1)
        return nxt - dt.timedelta(microseconds=1)
    return dt.datetime(year, 12, 31, 23, 59, 59, 999999) if end else dt.datetime(year, 1, 1)


def run_passes(
    answer: Callable[[dict[str, Any]], dict[str, Any]], queries: list[dict[str, Any]], passes: int
) -> dict[str, Any]:
    """Time `answer` on each query: a cold pass (its first run), then `passes` warm passes."""
    per_query: list[dict[str, Any]] = []
    for query in queries:
        t = time.perf_counter()
        try:
            out = answer(query)
            error = ""
        except Exception as exc:  # reported per query; the harness counts them
            out, error = {}, f"{type(exc).__name__}: {exc}"
        ms = (time.perf_counter() - t) * 1000
        per_query.append(
            {
                "line": query["line"],
                "total": out.get("total", 0),
                "cold_ms": round(ms, 3),
                "warm_runs": [],
                **hits_digest(out.get("hits") or []),
                "error": error,
            }
        )
    for _ in range(passes):
        for query, row in zip(queries, per_query, strict=True):
            t = time.perf_counter()
            with contextlib.suppress(Exception):  # errors were recorded in the cold pass
                answer(query)
            row["warm_runs"].append((time.perf_counter() - t) * 1000)
    for row in per_query:
        runs = row.pop("warm_runs")
        row["warm_ms"] = round(statistics.median(runs), 3) if runs else None
    warm = [r["warm_ms"] for r in per_query if r["warm_ms"] is not None]
    return {
        "queries": len(queries),
        "passes": passes,
        "errors": sum(1 for r in per_query if r["error"]),
        "first_query_ms": per_query[0]["cold_ms"] if per_query else None,
        "cold_ms": percentiles([r["cold_ms"] for r in per_query]),
        "warm_ms": percentiles(warm),
        "per_query": per_query,
    }


def hits_digest(hits: list[dict[str, Any]]) -> dict[str, Any]:
    """What the results record of a page of hits: ids and snippet shape, never corpus text.

    The corpora belong to their publishers and must not be copied into the repository.
    """
    snippets = [str(h.get("snippet", "")) for h in hits]
    return {
        "top_ids": [str(h.get("id", "")) for h in hits[:3]],
        "hits_returned": len(hits),
        "snippet_chars": round(statistics.fmean(len(s) for s in snippets)) if snippets else 0,
        "snippets_marked": sum(1 for s in snippets if _MARK.search(s)),
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (linear interpolation), mean and max, in the values' unit, rounded."""
    if not values:
        return {"n": 0}
    data = sorted(values)

    def pct(p: float) -> float:
        k = (len(data) - 1) * p / 100
        lo = int(k)
        hi = min(lo + 1, len(data) - 1)
        return data[lo] + (data[hi] - data[lo]) * (k - lo)

    return {
        "n": len(data),
        "p50": round(pct(50), 3),
        "p95": round(pct(95), 3),
        "p99": round(pct(99), 3),
        "mean": round(statistics.fmean(data), 3),
        "max": round(data[-1], 3),
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (Linux ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def proc_rss_mb(pid: int | str = "self", key: str = "VmRSS") -> float:
    """VmRSS (or VmHWM) of a process from /proc, in MB; 0.0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def with_settings(env: dict[str, str], settings: dict[str, str]) -> dict[str, str]:
    """`env` plus zhsearch settings (name → value) as ZHSEARCH_* variables, named in
    ZHBENCH_SETTINGS so the zhsearch steps pass exactly these on (see `chosen_settings`)."""
    chosen = {f"ZHSEARCH_{k.upper()}": v for k, v in settings.items()}
    return {**env, **chosen, "ZHBENCH_SETTINGS": ",".join(chosen)}


def chosen_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The ZHSEARCH_* variables `with_settings` put in `env`; any other (the user's own
    configuration, index) never reaches a benchmark."""
    names = env.get("ZHBENCH_SETTINGS", "").split(",")
    return {k: env[k] for k in names if k in env}


def dir_bytes(path: str | Path) -> int:
    """Total size of the files under `path`."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def query_run(
    stack: str, open_answerer: Callable[[], Any], queries_path: str, passes: int
) -> dict[str, Any]:
    """A baseline's query step: open its answerer (timed), run the cold and warm passes over
    the query file, close it, and add the process's memory."""
    started = time.perf_counter()
    answerer = open_answerer()
    opened = time.perf_counter() - started
    result = run_passes(answerer.answer, load_queries(queries_path), passes)
    answerer.close()
    result.update(stack=stack, open_s=opened, rss_mb=proc_rss_mb())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def stack_main(
    doc: str,
    index: Callable[..., dict[str, Any]],
    query: Callable[[str, str, int], dict[str, Any]],
    target: str,
    index_args: list[tuple[str, dict[str, Any]]],
    argv: list[str] | None = None,
) -> None:
    """The command line every stack gives the harness: `index SLICE TARGET [ARGS]` and
    `query TARGET QUERIES [--passes N]`; prints the step's JSON as the last line."""
    parser = argparse.ArgumentParser(description=doc)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("index")
    p.add_argument("slice")
    p.add_argument(target)
    for name, options in index_args:
        p.add_argument(name, **options)
    p = sub.add_parser("query")
    p.add_argument(target)
    p.add_argument("queries")
    p.add_argument("--passes", type=int, default=3)
    args = parser.parse_args(argv)
    if args.cmd == "index":
        extra = [getattr(args, name.lstrip("-")) for name, _ in index_args]
        emit(index(args.slice, getattr(args, target), *extra))
    else:
        emit(query(getattr(args, target), args.queries, args.passes))


def emit(data: dict[str, Any]) -> None:
    """Print the result JSON as the last line of stdout (the harness reads that line)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()
