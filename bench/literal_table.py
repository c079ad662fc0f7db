"""Print recall and precision per query class against the brute-force literal oracle (issue 13).

Indexes the first N xwlb items plus the 31 work reports with the real indexer, generates queries
of every class from their text (tests/literal_oracle.py), runs each through `run_search` with
synonyms off, pages through every result and compares with plain substring containment.

    python bench/literal_table.py [--docs 2000] [--per-class 25] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from collections import defaultdict
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.literal_oracle import expected, generate, reports_of
from zhsearch.index.settings import Settings
from zhsearch.index.writer import Indexer
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search


def every_id(ctx, q: str) -> tuple[int, set[str]]:
    """The total and every id one can page through, 100 at a time."""
    ids: set[str] = set()
    page = 1
    while True:
        params = {"q": q, "synonyms": "0", "size": "100", "page": str(page), "highlight": "0"}
        result = run_search(SearchRequest.from_params(params, ctx.settings), ctx)
        ids |= {h.id for h in result.hits}
        if page >= result.pages:
            return result.total, ids
        page += 1


def main() -> None:
    """Build the slice, run every class, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--per-class", type=int, default=25)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zh-literal-"))
    with gzip.open(args.shared / "corpora" / "xwlb.jsonl.gz", "rt", encoding="utf-8") as fh:
        (work / "news.jsonl").write_text("".join(islice(fh, args.docs)), encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": str(work / "index")}, env={})
    Indexer(settings).run([work / "news.jsonl", args.shared / "corpora" / "gov-reports-2026.jsonl"])
    settings = settings.replace(max_depth=10**6)
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # q, tp, found, truth, bad
    with open_context(settings) as ctx:
        reports = reports_of(ctx.searcher)
        for kind, q, field in generate(reports, args.per_class):
            typed = f"{field}:{q}" if field else q
            truth = expected(reports, q, field)
            total, ids = every_id(ctx, typed)
            row = rows[kind]
            row[0] += 1
            row[1] += len(ids & truth)
            row[2] += len(ids)
            row[3] += len(truth)
            row[4] += total != len(ids)
        docs = ctx.searcher.doc_count()
    print(f"{docs} reports; {args.per_class} queries per class drawn from their text\n")
    print("| class | queries | reports expected | returned | recall | precision | total ≠ pages |")
    print("|---|---|---|---|---|---|---|")
    for kind, (n, tp, found, truth, bad) in rows.items():
        recall = f"{tp / truth:.3f}" if truth else "—"
        precision = f"{tp / found:.3f}" if found else "—"
        print(f"| {kind} | {n} | {truth} | {found} | {recall} | {precision} | {bad} |")


if __name__ == "__main__":
    main()
