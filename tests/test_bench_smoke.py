"""Smoke run of the benchmark (bench/run.py) on a few hundred xwlb items, so it cannot rot.

No timing thresholds: it checks the run completes and its JSON has the expected, sane shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.shared


def test_bench_smoke(shared_dir: Path, tmp_path: Path) -> None:
    """300 documents, no naive stack (its venv needs PyPI), a 1 s server level when wrk exists."""
    out = tmp_path / "result.json"
    cmd = [
        sys.executable,
        str(REPO / "bench" / "run.py"),
        "--corpus",
        str(shared_dir / "corpora" / "xwlb.jsonl.gz"),
        "--docs",
        "300",
        "--passes",
        "1",
        "--skip-naive",
        "--work",
        str(tmp_path / "work"),
        "--out",
        str(out),
    ]
    if shutil.which("wrk"):
        cmd += ["--server-seconds", "1", "--clients", "1,4"]
    else:
        cmd.append("--skip-server")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=170, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Targets:" in proc.stdout

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["corpus"]["docs"] == 300
    assert data["corpus"]["text_bytes"] > 100_000
    assert data["machine"]["cores"] >= 1

    for stack in ("zhsearch", "fts5"):
        ix = data["indexing"][stack]
        assert ix["docs"] == 300, ix
        assert ix["mb_per_s"] > 0 and ix["docs_per_s"] > 0
        assert ix["index_bytes"] > 0 and ix["peak_rss_mb"] > 0
        q = data["queries"][stack]
        assert q["queries"] >= 100 and q["errors"] == 0, [r for r in q["per_query"] if r["error"]][
            :3
        ]
        for kind in ("warm_ms", "cold_ms"):
            assert 0 < q[kind]["p50"] <= q[kind]["p95"] <= q[kind]["p99"]
        assert sum(r["total"] > 0 for r in q["per_query"]) >= 20  # the slice answers queries
        assert sum(r["snippets_marked"] for r in q["per_query"]) >= 20  # snippets mark terms
        assert not any("top_snippet" in r or "top_title" in r for r in q["per_query"])  # no text

    stages = data["indexing"]["zhsearch"]["stages"]
    assert set(stages) >= {"read", "facets", "write", "commit"}
    assert "fts5" in data["ratios"]
    assert data["targets"] and all("met" in t for t in data["targets"])
    if shutil.which("wrk"):
        server = data["server"]
        assert server["first_query_ok"] and server["errors"] == 0
        assert [lv["clients"] for lv in server["levels"]] == [1, 4]
        assert all(lv["requests"] > 0 for lv in server["levels"])
        assert server["rss_max_mb"] > 0
