"""Do two versions of zhsearch answer the benchmark queries identically?

A refactoring must not change answers. For each revision this builds an index of the same
corpus slice with that revision's code (a fresh process, `git archive` of the revision, or the
working tree for "."), answers every query of the query file, and records per query the total,
the ids in order, the scores and the facet counts; then it prints every difference.

    python bench/compare_answers.py --docs 3000 HEAD~3 .
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from itertools import islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZHSEARCH_SHARED", REPO.parent / "shared"))

# Runs inside the revision's code: build the index, answer the queries, print JSON.
# A revision from before the `zhsearch` namespace imports its packages as top-level names;
# a later one is reached through a directory of links named zhsearch (see `import_root`).
_ANSWER = r"""
import importlib, importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[5] + "/bench/baselines")
ns = sys.argv[6]
def load(module, name):
    return getattr(importlib.import_module(ns + module), name)
def first(*modules):  # a module that moved between revisions
    for module in modules:
        if importlib.util.find_spec(ns + module) is not None:
            return module
from common import load_queries
Settings = load(first("index.settings", "corpus.settings"), "Settings")
Indexer = load("index.writer", "Indexer")
open_context = load("search.context", "open_context")
SearchRequest = load("search.request", "SearchRequest")
run_search = load("search.run", "run_search")

slice_path, index_dir, queries_path = sys.argv[2:5]
settings = Settings.load(overrides={"index_dir": index_dir}, env={})
Indexer(settings).run([slice_path], rebuild=True)
out = {}
with open_context(settings) as ctx:
    for q in load_queries(queries_path):
        params = {k: v for k, v in q.items() if k != "line"}
        params["size"] = "20"
        try:
            r = run_search(SearchRequest.from_params(params, settings), ctx)
        except Exception as exc:
            out[q["line"]] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        out[q["line"]] = {
            "total": r.total,
            "ids": [h.id for h in r.hits],
            "scores": [None if h.score is None else round(h.score, 9) for h in r.hits],
            "facets": {
                "region": [(v.value, v.count) for v in r.facets.region],
                "industry": [(v.value, v.count) for v in r.facets.industry],
            },
        }
print(json.dumps(out, ensure_ascii=False))
"""


def code_dir(revision: str, work: Path) -> Path:
    """The revision's source tree: the working tree for ".", else `git archive` of it."""
    if revision == ".":
        return REPO
    target = work / f"code-{revision.replace('/', '_').replace('~', '-')}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True
    ).stdout
    tar_path = work / "code.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(target, filter="data")
    return target


PACKAGES = ("corpus", "index", "search", "web")


def import_root(code: Path, work: Path) -> tuple[Path, str]:
    """(sys.path entry, module prefix) that imports the revision's packages from `code`."""
    pyproject = (code / "pyproject.toml").read_text(encoding="utf-8")
    if '"zhsearch.corpus"' not in pyproject:
        return code, ""
    root = Path(tempfile.mkdtemp(dir=work))
    (root / "zhsearch").mkdir()
    for package in PACKAGES:
        (root / "zhsearch" / package).symlink_to(code / package, target_is_directory=True)
    return root, "zhsearch."


def answers(revision: str, slice_path: Path, queries: Path, work: Path) -> dict:
    """Every query's answer under `revision`."""
    code = code_dir(revision, work)
    root, prefix = import_root(code, work)
    index_dir = tempfile.mkdtemp(dir=work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_")}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            _ANSWER,
            str(root),
            str(slice_path),
            index_dir,
            str(queries),
            str(code),
            prefix,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    )
    return json.loads(run.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Compare two revisions; exit 1 when any answer differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--corpus", default=str(SHARED / "corpora" / "xwlb.jsonl.gz"))
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--queries", default=str(REPO / "bench" / "queries.txt"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zh-compare-") as tmp:
        work = Path(tmp)
        slice_path = work / "slice.jsonl"
        opener = gzip.open if args.corpus.endswith(".gz") else open
        with opener(args.corpus, "rt", encoding="utf-8") as fh:
            slice_path.write_text("".join(islice(fh, args.docs)), encoding="utf-8")
        queries = work / "queries.txt"  # the same query file for both revisions
        queries.write_text(Path(args.queries).read_text(encoding="utf-8"), encoding="utf-8")
        one = answers(args.before, slice_path, queries, work)
        two = answers(args.after, slice_path, queries, work)
    differ = [line for line in one if one[line] != two.get(line)]
    for line in differ:
        print(f"DIFFERENT {line}\n  {args.before}: {one[line]}\n  {args.after}: {two.get(line)}")
    print(f"{len(one) - len(differ)} of {len(one)} queries answered identically")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
