"""The zhsearch benchmark: indexing, queries and the HTTP server, against two baselines, one run.

    .venv/bin/python bench/run.py --corpus ../shared/corpora/xwlb.jsonl.gz \
        ../shared/corpora/gov-reports-2026.jsonl [--docs N] [--skip-naive] [--skip-server]

Every stack indexes the same JSONL slice (bench/work/) in its own process and answers the same
query file (bench/queries.txt) in a fresh process. MB/s is over the UTF-8 bytes of title +
content after stripping HTML tags (the same for every stack); file MB/s is also reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "baselines"))

import common  # noqa: E402
from targets import evaluate, ratios  # noqa: E402

DEFAULT_CORPORA = [
    REPO.parent / "shared" / "corpora" / "xwlb.jsonl.gz",
    REPO.parent / "shared" / "corpora" / "gov-reports-2026.jsonl",
]
NAIVE_VENV = BENCH / ".venv-naive"
STEP_LIMIT = 3 * 3600  # seconds; a hung step (deadlock) fails the run instead of blocking it
PACKAGES = ("corpus", "index", "search", "web")
NAIVE_PACKAGES = ["whoosh==2.7.4", "jieba==0.42.1"]


def _lines(corpora: list[Path]) -> Iterator[str]:
    import gzip

    for corpus in corpora:
        opener = gzip.open if corpus.name.endswith(".gz") else open
        with opener(corpus, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield line if line.endswith("\n") else line + "\n"


def make_slice(corpora: list[Path], docs: int | None, work: Path) -> dict[str, Any]:
    """Write `docs` records evenly spaced over the corpora (all when None), verbatim, to JSONL.

    Evenly spaced rather than the first N: xwlb is in date order, and a slice of its first
    records would hold only 2012 news.
    """
    total = sum(1 for _ in _lines(corpora))
    wanted = total if docs is None else min(docs, total)
    keep = {k * total // wanted for k in range(wanted)}
    path = work / f"slice-{docs or 'all'}.jsonl"
    count = text_bytes = 0
    with open(path, "w", encoding="utf-8") as out:
        for i, line in enumerate(_lines(corpora)):
            if i not in keep:
                continue
            record = json.loads(line)
            title = common.clean_title(record.get("title", ""))
            text = common.strip_html(record.get("content", ""))
            text_bytes += len(title.encode()) + len(text.encode())
            out.write(line)
            count += 1
    return {
        "corpora": [str(c) for c in corpora],
        "records_in_corpora": total,
        "path": str(path),
        "docs": count,
        "file_bytes": path.stat().st_size,
        "text_bytes": text_bytes,
    }


def export_taxonomy(work: Path) -> Path:
    """The bundled taxonomy's classes and keywords as JSON, for the baselines' naive classifier."""
    import yaml

    source = REPO / "corpus" / "data" / "industries.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for code, cls in data["classes"].items():
        words = list(cls.get("keywords") or [])
        for sub in (cls.get("sub") or {}).values():
            words += sub.get("keywords") or []
        out[code] = {"label": cls["label"], "keywords": [str(w) for w in words]}
    path = work / "taxonomy.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def source_tree(work: Path, snapshot: bool) -> tuple[dict[str, Any], dict[str, str] | None]:
    """Fingerprint the project's packages; with `snapshot`, copy them and return an env using it.

    Other engineers edit the working tree while a long run goes on; a snapshot keeps the code
    (and dictionaries, whose change outdates the index) fixed from indexing to serving.
    """
    import hashlib

    root = REPO
    env = None
    if snapshot:
        root = work / "snapshot"
        if root.exists():
            shutil.rmtree(root)
        for package in PACKAGES:  # installed names are zhsearch.<package>
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(REPO / package, root / "zhsearch" / package, ignore=ignore)
        env = {**os.environ, "PYTHONPATH": str(root)}
    digest = hashlib.sha1()
    for package in PACKAGES:
        tree = root / "zhsearch" / package if snapshot else root / package
        for path in sorted(tree.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(
                    str(path.relative_to(tree.parent)).encode() + b"\0" + path.read_bytes()
                )
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    dirty = subprocess.run(
        [*git, "status", "--porcelain", *PACKAGES], capture_output=True, text=True
    )
    info = {
        "git_head": head.strip(),
        "uncommitted_files": len(dirty.stdout.splitlines()),
        "packages_sha1": digest.hexdigest()[:16],
        "snapshot": str(root) if snapshot else None,
    }
    return info, env


def ensure_naive_venv() -> Path:
    """bench/.venv-naive with whoosh 2.7.4 + jieba, created on first use (needs PyPI)."""
    python = NAIVE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NAIVE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *NAIVE_PACKAGES], check=True)
    return python


def run_json(
    cmd: list[str], label: str, timeout: float = STEP_LIMIT, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one stack step in its own process; its last stdout line is the JSON result."""
    print(f"[bench] {label}: {' '.join(cmd[-4:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{label} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["wall_s"] = round(time.perf_counter() - started, 3)
    data["started"] = stamp
    # CPU time is less disturbed than wall time when other work shares the machine.
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    data.setdefault("cpu_s", round(cpu, 3))  # zh.py reports the indexer's own
    data["loadavg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"[bench] {label}: done in {data['wall_s']:.1f} s", file=sys.stderr, flush=True)
    return data


def indexing_summary(data: dict[str, Any], corpus: dict[str, Any]) -> dict[str, Any]:
    """docs/s and MB/s (text and file basis), stages, RSS and size, for one stack."""
    seconds = data["seconds"]
    data["docs_per_s"] = round(corpus["docs"] / seconds, 1)
    data["mb_per_s"] = round(corpus["text_bytes"] / 1e6 / seconds, 3)
    data["file_mb_per_s"] = round(corpus["file_bytes"] / 1e6 / seconds, 3)
    data["index_mb"] = round(data["index_bytes"] / 1e6, 1)
    data["stages"] = {k: round(v, 3) for k, v in data["stages"].items()}
    return data


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and OS."""
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(
            (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")),
            "",
        )
    except OSError:
        pass
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every part, write and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="+", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--docs", type=int, help="Only the first N records (default: all).")
    parser.add_argument("--queries", type=Path, default=BENCH / "queries.txt")
    parser.add_argument("--passes", type=int, default=3, help="Warm passes per query.")
    parser.add_argument("--server-seconds", type=float, default=30.0)
    parser.add_argument("--clients", default="1,4,16", help="wrk concurrency levels.")
    parser.add_argument(
        "--procs",
        type=int,
        default=os.cpu_count() or 1,
        help="zhsearch indexing processes (the procs setting; default: one per core).",
    )
    parser.add_argument(
        "--server-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="`zhsearch serve --workers` (default: one per core).",
    )
    parser.add_argument("--work", type=Path, default=BENCH / "work")
    parser.add_argument("--out", type=Path, help="Result JSON (default: bench/results/…).")
    parser.add_argument(
        "--snapshot", action="store_true", help="Run zhsearch from a copy of its packages."
    )
    parser.add_argument("--skip-zhsearch", action="store_true", help="Only the baselines.")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-fts5", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument(
        "--zh-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A zhsearch setting for its query step and the server (e.g. document_cache_mb=0).",
    )
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="Query and serve the zhsearch index already in --work instead of rebuilding it.",
    )
    args = parser.parse_args(argv)
    zh_settings = dict(item.split("=", 1) for item in args.zh_setting)
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source, env = source_tree(args.work, args.snapshot)
    if zh_settings:  # zh.py and the server read them as ZHSEARCH_* variables
        env = common.with_settings(env or dict(os.environ), zh_settings)
    corpus = make_slice(args.corpus, args.docs, args.work)
    taxonomy = export_taxonomy(args.work)
    queries = common.load_queries(args.queries)
    py = sys.executable
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source,
        "corpus": corpus,
        "queries_file": str(args.queries),
        "queries": {},
        "indexing": {},
        "args": {k: str(v) for k, v in vars(args).items()},
        "failures": [],
    }
    steps: list[tuple[str, list[str], list[str], Path]] = []
    if not args.skip_zhsearch:
        zh_extra = ["--procs", str(args.procs)]
        steps.append(("zhsearch", [py, str(BENCH / "zh.py")], zh_extra, args.work / "zh-index"))
    if not args.skip_fts5:
        fts5 = [py, str(BENCH / "baselines" / "fts5.py")]
        steps.append(("fts5", fts5, [str(taxonomy)], args.work / "fts5.sqlite"))
    if not args.skip_naive:
        naive_py = str(ensure_naive_venv())
        naive = [naive_py, "-W", "ignore", str(BENCH / "baselines" / "naive.py")]
        steps.append(("naive", naive, [str(taxonomy)], args.work / "naive-index"))
    out = args.out or BENCH / "results" / (
        f"{dt.date.today().isoformat()}-{corpus['docs']}docs.json"
    )
    for name, prefix, extra, target in steps:
        try:
            run_stack(name, prefix, extra, target, corpus, args, results, env)
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            print(f"[bench] {name} FAILED: {exc}", file=sys.stderr)
            results["failures"].append({"stack": name, "error": str(exc)[-4000:]})
        save(results, out)
        if name == "zhsearch" and not args.skip_server:
            try:
                results["server"] = run_server(args, queries, env)
            except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                print(f"[bench] server FAILED: {exc}", file=sys.stderr)
                results["failures"].append({"stack": "server", "error": str(exc)[-4000:]})
            save(results, out)
    results["ratios"] = ratios(results)
    results["targets"] = evaluate(results)
    results["total_s"] = round(time.perf_counter() - started, 1)
    save(results, out)
    from report import summary

    print(summary(results))
    print(f"[bench] wrote {out}", file=sys.stderr)
    return 1 if results["failures"] else 0


def run_stack(
    name: str,
    prefix: list[str],
    extra: list[str],
    target: Path,
    corpus: dict[str, Any],
    args: argparse.Namespace,
    results: dict[str, Any],
    env: dict[str, str] | None,
) -> None:
    """Index the slice, then answer the queries in a fresh process, for one stack."""
    env = env if name == "zhsearch" else None
    if not (args.reuse_index and name == "zhsearch" and target.is_dir()):
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        cmd = [*prefix, "index", corpus["path"], str(target), *extra]
        data = run_json(cmd, f"{name} index", env=env)
        results["indexing"][name] = indexing_summary(data, corpus)
    cmd = [*prefix, "query", str(target), str(args.queries), "--passes", str(args.passes)]
    results["queries"][name] = run_json(cmd, f"{name} queries", env=env)


def run_server(
    args: argparse.Namespace, queries: list[dict[str, Any]], env: dict[str, str] | None
) -> dict[str, Any]:
    """The HTTP server part, on the zhsearch index just built."""
    from server import bench_server

    levels = [int(c) for c in args.clients.split(",")]
    print(f"[bench] server: {levels} clients × {args.server_seconds:g} s", file=sys.stderr)
    index_dir = str(args.work / "zh-index")
    return bench_server(
        index_dir, queries, levels, args.server_seconds, env, workers=args.server_workers
    )


def save(results: dict[str, Any], out: Path) -> None:
    """Write the results so far (a long run keeps what it measured if a later step fails)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
