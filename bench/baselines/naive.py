"""The naive stack: whoosh 2.7.4 + jieba's stock ChineseAnalyzer, default writer, groupedby facets.

Runs in bench/.venv-naive (whoosh 2.7.4 imports as `whoosh`, like whoosh3), never in the project
venv. `index` builds an index from a JSONL slice; `query` answers the query file; both print JSON.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common


def build_schema() -> Any:
    """What a typical peer writes: stored text fields with the stock analyzer, sortable date."""
    from jieba.analyse import ChineseAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

    analyzer = ChineseAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=analyzer),
        content=TEXT(stored=True, analyzer=analyzer),
        date=DATETIME(stored=True, sortable=True),
        region=ID(stored=True, sortable=True),
        industry=KEYWORD(stored=True),
    )


def index(slice_path: str, index_dir: str, taxonomy: str) -> dict[str, Any]:
    """Index the slice with the default writer; seconds per stage."""
    from whoosh import index as whoosh_index

    started = time.perf_counter()
    industries = common.Industries(taxonomy)
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(index_dir, build_schema())
    writer = ix.writer()
    stages = {"read": 0.0, "facets": 0.0, "write": 0.0, "commit": 0.0}
    docs = text_bytes = 0
    t = time.perf_counter()
    for record in common.iter_records(slice_path):
        title = common.clean_title(record.get("title", ""))
        text = common.strip_html(record.get("content", ""))
        t1 = time.perf_counter()
        region = common.province_of(title, text)
        codes = industries.classify(title + "\n" + text)
        t2 = time.perf_counter()
        fields: dict[str, Any] = {"id": str(record["id"]), "title": title, "content": text}
        date = common.parse_date(record.get("date"))
        if date is not None:
            fields["date"] = date
        if region:
            fields["region"] = region
        if codes:
            fields["industry"] = " ".join(codes)
        writer.add_document(**fields)
        t3 = time.perf_counter()
        stages["read"] += t1 - t
        stages["facets"] += t2 - t1
        stages["write"] += t3 - t2
        docs += 1
        text_bytes += len(title.encode()) + len(text.encode())
        t = time.perf_counter()
    stages["read"] += time.perf_counter() - t  # the final EOF read
    t = time.perf_counter()
    writer.commit()
    stages["commit"] = time.perf_counter() - t
    ix.close()
    return {
        "stack": "naive",
        "docs": docs,
        "text_bytes": text_bytes,
        "seconds": time.perf_counter() - started,
        "stages": stages,
        "peak_rss_mb": common.peak_rss_mb(),
        "index_bytes": common.dir_bytes(index_dir),
    }


class Answerer:
    """Answers one query the way the peers' tutorials do: parse, search, groupedby, highlights."""

    def __init__(self, index_dir: str) -> None:
        from whoosh import index as whoosh_index
        from whoosh import sorting
        from whoosh.qparser import MultifieldParser, PlusMinusPlugin

        self.ix = whoosh_index.open_dir(index_dir)
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["title", "content"], self.ix.schema)
        self.parser.add_plugin(PlusMinusPlugin())  # so "氢能 -煤" excludes 煤
        self.facets = sorting.Facets()
        self.facets.add_field("region", maptype=sorting.Count)
        self.facets.add_field("industry", allow_overlap=True, maptype=sorting.Count)

    def answer(self, query: dict[str, Any]) -> dict[str, Any]:
        """Top 10 with highlights, total, region and industry counts."""
        from whoosh import query as wq

        q = self.parser.parse(query["q"])
        filters: list[Any] = []
        if "region" in query:
            filters.append(wq.Term("region", query["region"]))
        if "industry" in query:
            filters.append(wq.Term("industry", query["industry"]))
        start, end = common.date_bounds(query)
        if start or end:
            filters.append(wq.DateRange("date", start, end))
        kwargs: dict[str, Any] = {"limit": 10, "groupedby": self.facets}
        if filters:
            kwargs["filter"] = wq.And(filters) if len(filters) > 1 else filters[0]
        if query.get("sort") == "date":
            kwargs.update(sortedby="date", reverse=True)
        results = self.searcher.search(q, **kwargs)
        hits = [
            {"id": hit["id"], "title": hit["title"], "snippet": hit.highlights("content")}
            for hit in results[:10]  # never iterate a groupedby Results: it walks every hit
        ]
        return {
            "total": len(results),
            "hits": hits,
            "regions": results.groups("region"),
            "industries": results.groups("industry"),
        }

    def close(self) -> None:
        """Release the searcher."""
        self.searcher.close()
        self.ix.close()


def query(index_dir: str, queries_path: str, passes: int) -> dict[str, Any]:
    """Cold pass (fresh process and searcher) then `passes` warm passes over the query file."""
    return common.query_run("naive", lambda: Answerer(index_dir), queries_path, passes)


def main(argv: list[str] | None = None) -> None:
    """`naive.py index SLICE INDEX_DIR TAXONOMY` or `naive.py query INDEX_DIR QUERIES`."""
    common.stack_main(__doc__, index, query, "index_dir", [("taxonomy", {})], argv)


if __name__ == "__main__":
    main()
