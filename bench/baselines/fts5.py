"""SQLite FTS5 baseline: text pre-segmented with rjieba, bm25 + snippet + GROUP BY facet counts.

FTS5's unicode61 tokenizer treats a run of Han characters as one token, so words are joined with
U+2063 (INVISIBLE SEPARATOR, a separator to unicode61) and the separator is removed from snippets,
which then show the original text. Column `content` holds the precise segmentation (phrases and
snippets), column `extra` the search-mode sub-words (能源 inside 新能源) so recall matches a
search-mode index. Runs in the project venv (stdlib sqlite3 + rjieba).
"""

from __future__ import annotations

import re
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import rjieba

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

SEP = "\u2063"
_WORDY = re.compile(r"\w")
_ITEM = re.compile(r'(-?)(?:(title):)?(?:"([^"]*)"|(\S+))')
_HAN = re.compile(r"^[\u4e00-\u9fff]$")
SCHEMA = """
CREATE VIRTUAL TABLE fts USING fts5(
    title, content, extra, tokenize='unicode61 remove_diacritics 0'
);
CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, date TEXT, region TEXT);
CREATE TABLE doc_industry(rowid INTEGER, code TEXT);
"""


def segment(text: str) -> tuple[str, str]:
    """(every precise word, the search-mode sub-words not among them), each joined with SEP.

    Punctuation and spaces stay in the precise column (unicode61 skips them) so a snippet with
    the separators removed is the original text.
    """
    precise = rjieba.cut(text)
    extra = Counter(rjieba.cut_for_search(text))
    extra.subtract(precise)
    return SEP.join(precise), SEP.join(w for w, n in extra.items() for _ in range(n) if n > 0)


def index(slice_path: str, db_path: str, taxonomy: str) -> dict[str, Any]:
    """Segment, insert and commit the slice; seconds per stage."""
    started = time.perf_counter()
    industries = common.Industries(taxonomy)
    Path(db_path).unlink(missing_ok=True)
    con = sqlite3.connect(db_path)
    con.executescript(SCHEMA)
    con.execute("INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(3.0, 1.0, 1.0)')")
    stages = {"read": 0.0, "facets": 0.0, "analyze": 0.0, "write": 0.0, "commit": 0.0}
    docs = text_bytes = 0
    t = time.perf_counter()
    for rowid, record in enumerate(common.iter_records(slice_path), 1):
        title = common.clean_title(record.get("title", ""))
        text = common.strip_html(record.get("content", ""))
        t1 = time.perf_counter()
        region = common.province_of(title, text)
        codes = industries.classify(title + "\n" + text)
        t2 = time.perf_counter()
        title_words, title_extra = segment(title)
        words, extra = segment(text)
        t3 = time.perf_counter()
        date = common.parse_date(record.get("date"))
        con.execute(
            "INSERT INTO fts(rowid, title, content, extra) VALUES (?, ?, ?, ?)",
            (rowid, title_words, words, title_extra + SEP + extra),
        )
        con.execute(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
            (rowid, str(record["id"]), title, date.isoformat() if date else None, region),
        )
        con.executemany("INSERT INTO doc_industry VALUES (?, ?)", [(rowid, c) for c in codes])
        t4 = time.perf_counter()
        stages["read"] += t1 - t
        stages["facets"] += t2 - t1
        stages["analyze"] += t3 - t2
        stages["write"] += t4 - t3
        docs += 1
        text_bytes += len(title.encode()) + len(text.encode())
        t = time.perf_counter()
    stages["read"] += time.perf_counter() - t
    t = time.perf_counter()
    con.executescript(
        """
        CREATE INDEX docs_region ON docs(region);
        CREATE INDEX docs_date ON docs(date);
        CREATE INDEX doc_industry_code ON doc_industry(code, rowid);
        CREATE INDEX doc_industry_row ON doc_industry(rowid);
        """
    )
    con.commit()
    con.execute("INSERT INTO fts(fts) VALUES('optimize')")
    con.commit()
    con.close()
    stages["commit"] = time.perf_counter() - t
    return {
        "stack": "fts5",
        "sqlite": sqlite3.sqlite_version,
        "docs": docs,
        "text_bytes": text_bytes,
        "seconds": time.perf_counter() - started,
        "stages": stages,
        "peak_rss_mb": common.peak_rss_mb(),
        "index_bytes": Path(db_path).stat().st_size,
    }


def match_expression(q: str) -> str:
    """The zhsearch query language (AND default, OR, -word, "phrase", title:) as FTS5 MATCH."""
    parts: list[str] = []
    for m in _ITEM.finditer(q):
        negated, field, phrase, word = m.groups()
        if word == "OR" and not negated and field is None and parts:
            parts.append("OR")
            continue
        text = phrase if phrase is not None else word
        tokens = [t for t in rjieba.cut(text) if _WORDY.search(t)]
        if not tokens:
            continue
        if len(tokens) == 1 and _HAN.match(tokens[0]) and phrase is None:
            expr = f'"{tokens[0]}" *'  # one character: every word starting with it
        else:
            expr = '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'
        expr = f"{{{'title' if field else 'title content extra'}}} : {expr}"
        if negated and parts:
            parts.append("NOT")
        elif parts and parts[-1] not in ("OR",):
            parts.append("AND")
        parts.append(expr)
    return " ".join(parts) if parts else '""'


class Answerer:
    """One connection; each answer is four SQL statements sharing the MATCH."""

    def __init__(self, db_path: str) -> None:
        self.con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)

    def answer(self, query: dict[str, Any]) -> dict[str, Any]:
        """Top 10 (bm25 or date) with snippets, total, disjunctive region and industry counts."""
        match = match_expression(query["q"])
        start, end = common.date_bounds(query)
        shared, shared_args = ["fts MATCH ?"], [match]
        if start:
            shared.append("d.date >= ?")
            shared_args.append(start.isoformat())
        if end:
            shared.append("d.date <= ?")
            shared_args.append(end.isoformat())
        region_sql, region_args = ["d.region = ?"], [query.get("region")]
        industry_sql = ["d.rowid IN (SELECT rowid FROM doc_industry WHERE code = ?)"]
        industry_args = [query.get("industry")]
        if "region" not in query:
            region_sql, region_args = [], []
        if "industry" not in query:
            industry_sql, industry_args = [], []
        base = "FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE "
        where = " AND ".join(shared + region_sql + industry_sql)
        args = shared_args + region_args + industry_args
        order = "d.date DESC" if query.get("sort") == "date" else "fts.rank"
        rows = self.con.execute(
            "SELECT d.id, d.title, snippet(fts, 1, '<mark>', '</mark>', '…', 24) "
            f"{base}{where} ORDER BY {order} LIMIT 10",
            args,
        ).fetchall()
        # Region counts ignore the region filter, industry counts the industry filter.
        where_r = " AND ".join(shared + industry_sql)
        regions = dict(
            self.con.execute(
                f"SELECT d.region, count(*) {base}{where_r} GROUP BY d.region",
                shared_args + industry_args,
            ).fetchall()
        )
        where_i = " AND ".join(shared + region_sql)
        industries = dict(
            self.con.execute(
                "SELECT i.code, count(*) FROM fts JOIN docs d ON d.rowid = fts.rowid "
                f"JOIN doc_industry i ON i.rowid = d.rowid WHERE {where_i} GROUP BY i.code",
                shared_args + region_args,
            ).fetchall()
        )
        if "region" in query:
            total = self.con.execute(f"SELECT count(*) {base}{where}", args).fetchone()[0]
        else:
            total = sum(regions.values())
        hits = [{"id": i, "title": t, "snippet": (s or "").replace(SEP, "")} for i, t, s in rows]
        return {"total": total, "hits": hits, "regions": regions, "industries": industries}

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def query(db_path: str, queries_path: str, passes: int) -> dict[str, Any]:
    """Cold pass (fresh process and connection) then `passes` warm passes."""
    return common.query_run("fts5", lambda: Answerer(db_path), queries_path, passes)


def main(argv: list[str] | None = None) -> None:
    """`fts5.py index SLICE DB TAXONOMY` or `fts5.py query DB QUERIES`."""
    common.stack_main(__doc__, index, query, "db", [("taxonomy", {})], argv)


if __name__ == "__main__":
    main()
