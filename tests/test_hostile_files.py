"""Hostile files (issue 15, "Files"): each crafted file is read in bounded time and memory,
reported with its path (and line) and reason, and the good files beside it are still indexed.

The bombs here are scaled down with proportionally smaller caps set through Settings; the
full-size ones (2 GB of zeros, 2 M identical lines, 2 GB of newlines, 200,000 nested <div>)
were measured by hand for docs/reliability.md, and `test_full_size_bombs_…` (slow) reruns them.
"""

from __future__ import annotations

import gzip
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from contextlib import closing
from pathlib import Path

import pytest

import zhsearch.corpus.clean as clean_module
import zhsearch.corpus.readers as readers_module
from zhsearch.corpus.clean import html_to_text, limit_nesting
from zhsearch.corpus.readers import decode_bytes, discover, read_file
from zhsearch.index.settings import Settings
from zhsearch.index.store import open_index
from zhsearch.index.writer import Indexer

REPO = Path(__file__).resolve().parents[1]
GOOD_TEXT = "山西晋中光伏产业园项目签约\n\n晋中市开发区光伏组件项目今日签约，总投资三十亿元。\n"


def settings_for(tmp_path: Path, **overrides) -> Settings:
    return Settings.load(overrides={"index_dir": str(tmp_path / "index"), **overrides}, env={})


def good_line(i: int) -> str:
    record = {"id": f"good-{i}", "title": f"储能电站项目{i}", "content": f"储能电站第{i}期开工。"}
    return json.dumps(record, ensure_ascii=False)


def gzip_repeated(path: Path, block: bytes, times: int) -> None:
    """A .gz of `block` written `times` times (a bomb: tiny on disk, big unpacked)."""
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for _ in range(times):
            fh.write(block)


def peak_python_bytes(call):
    """(result, peak bytes Python allocated while running `call`)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def reasons(result) -> list[str]:
    return [p.reason for p in result.problems]


# ------------------------------------------------------------------ deeply nested HTML


def test_nesting_beyond_the_cap_is_flattened_and_its_text_kept() -> None:
    html = "<div>" * 10 + "光伏" + "<div>深处</div>" + "</div>" * 10 + "<p>后面"
    flat, depth = limit_nesting(html, 4)
    assert depth == 11
    assert limit_nesting(flat, 100)[1] == 4  # what the parser sees is 4 deep
    assert html_to_text(flat).split("\n") == ["光伏", "深处", "后面"]  # every text, block breaks
    assert limit_nesting(html, 11) == (html, 11)  # within the cap: untouched


def test_unclosed_paragraphs_and_void_elements_do_not_count_as_nesting() -> None:
    html = "<p>一" * 1000 + "<br><img src=x>" * 1000 + "<ul><li>a<li>b</ul>"
    assert limit_nesting(html, 8) == (html, 1)


def test_markup_in_scripts_and_comments_is_not_counted() -> None:
    html = "<script>" + "<div>" * 500 + "</script><!--" + "<div>" * 500 + "--><p>正文</p>"
    assert limit_nesting(html, 8)[1] == 0


def test_200000_nested_divs_are_read_quickly_and_reported(tmp_path: Path, monkeypatch) -> None:
    """The issue's file: 2.2 MB, 200,000 nested <div>; it took 231 s and reported nothing."""
    n = 200_000
    path = tmp_path / "deep.html"
    path.write_text("<html><body><h1>深层嵌套</h1>" + "<div>光伏" * n + "</div>" * n + "</body>")
    seen_depths = []
    real_parser = clean_module.LexborHTMLParser

    def parser(html: str):
        seen_depths.append(limit_nesting(html, 10**9)[1])
        return real_parser(html)

    monkeypatch.setattr(clean_module, "LexborHTMLParser", parser)
    settings = Settings.load(env={})
    started = time.perf_counter()
    result = read_file(path, settings.read_limits())
    assert time.perf_counter() - started < 60  # does not hang (≈ 3 s here; 231 s before)
    assert max(seen_depths) <= settings.max_html_depth  # the parser never sees the depth
    (problem,) = result.problems
    assert problem.path == str(path) and "max_html_depth" in problem.reason
    assert "200,00" in problem.reason  # the depth found
    (article,) = result.articles
    assert article.content.count("光伏") == n  # no text lost


def test_deep_html_in_jsonl_content_is_capped_per_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    deep = {"id": "deep", "title": "深层", "content": "<div>锂电" * 3000 + "</div>" * 3000}
    path.write_text(good_line(1) + "\n" + json.dumps(deep) + "\n", encoding="utf-8")
    result = read_file(path, Settings.load(overrides={"max_html_depth": 50}, env={}).read_limits())
    assert [a.id for a in result.articles] == ["good-1", "deep"]
    assert [(p.line, "max_html_depth" in p.reason) for p in result.problems] == [(2, True)]
    assert result.articles[1].content.count("锂电") == 3000


# ------------------------------------------------------------------ one bad JSONL line


def test_a_line_of_5000_nested_brackets_loses_only_that_line(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    lines = [
        good_line(1),
        "[" * 5000 + "]" * 5000,
        good_line(2),
        '{"id": "x", "title": ' + "[" * 5000 + "]" * 5000 + "}",
        good_line(3),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_file(path)
    assert [a.id for a in result.articles] == ["good-1", "good-2", "good-3"]
    assert [(p.path, p.line) for p in result.problems] == [(str(path), 2), (str(path), 4)]
    assert all("nested too deeply" in p.reason for p in result.problems)


def test_a_record_the_reader_fails_on_is_one_problem_not_a_lost_file(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(good_line(i) for i in range(1, 4)) + "\n", encoding="utf-8")
    real = readers_module._record_article

    def fails_on_two(record, *args):
        if record["id"] == "good-2":
            raise ValueError("something unexpected")
        return real(record, *args)

    monkeypatch.setattr(readers_module, "_record_article", fails_on_two)
    result = read_file(path)
    assert [a.id for a in result.articles] == ["good-1", "good-3"]
    (problem,) = result.problems
    assert problem.line == 2 and "something unexpected" in problem.reason


# ------------------------------------------------------------------ decompression bombs


def test_a_gzip_of_zeros_stops_at_the_decompressed_cap_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "zeros.jsonl.gz"
    gzip_repeated(path, b"\0" * (1 << 20), 24)  # 24 MB unpacked, 24 KB on disk
    settings = Settings.load(overrides={"max_decompressed_mb": 4}, env={})
    result, peak = peak_python_bytes(lambda: read_file(path, settings.read_limits()))
    assert not result.articles
    (problem,) = result.problems
    assert problem.path == str(path) and "max_decompressed_mb" in problem.reason
    # Never the whole 24 MB "line" (2 GB of zeros took 4 GB before): at most the 4 MB cap
    # held, plus a chunk and the decompressor's buffers.
    assert peak < 12 << 20


def test_a_line_longer_than_the_cap_is_skipped_without_being_held(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write((good_line(1) + "\n").encode())
        for _ in range(16):
            fh.write(b"\0" * (1 << 20))  # one 16 MB line, no newline until the end
        fh.write(("\n" + good_line(3) + "\n").encode())
    settings = Settings.load(overrides={"max_line_bytes": 1 << 20}, env={})
    result, peak = peak_python_bytes(lambda: read_file(path, settings.read_limits()))
    assert [a.id for a in result.articles] == ["good-1", "good-3"]
    (problem,) = result.problems
    assert problem.line == 2 and "max_line_bytes" in problem.reason
    assert "16,777,216 bytes" in problem.reason
    assert peak < 8 << 20


def test_two_hundred_thousand_identical_lines_give_a_capped_list_of_problems(
    tmp_path: Path,
) -> None:
    path = tmp_path / "same.jsonl.gz"
    gzip_repeated(path, (good_line(7) + "\n").encode() * 1000, 200)
    settings = Settings.load(overrides={"max_problems_per_file": 50}, env={})
    result = read_file(path, settings.read_limits())
    assert [a.id for a in result.articles] == ["good-7"]
    assert len(result.problems) == 51
    assert all("same record as line 1" in r for r in reasons(result)[:50])
    assert result.problems[-1].reason.startswith("199,949 more problems in this file not listed")


def test_gzipped_newlines_are_skipped_by_the_chunk_and_capped(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "newlines.jsonl.gz"
    gzip_repeated(path, b"\n" * (1 << 20), 48)  # 48 M empty lines
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(readers_module.json, "loads", lambda b: parsed.append(b) or real_loads(b))
    started = time.perf_counter()
    result = read_file(
        path, Settings.load(overrides={"max_decompressed_mb": 16}, env={}).read_limits()
    )
    assert time.perf_counter() - started < 60  # does not hang (81 s for 194 KB before)
    assert not parsed  # no line was ever parsed
    (problem,) = result.problems
    assert "max_decompressed_mb" in problem.reason and problem.line == 16 * (1 << 20) + 1
    # Uncapped, the 48 M empty lines are one "empty file" problem, read chunk by chunk.
    assert reasons(read_file(path)) == ["empty file"]


def test_line_numbers_survive_chunk_boundaries(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(readers_module, "_CHUNK", 7)  # every line crosses a chunk
    path = tmp_path / "small.jsonl"
    lines = [good_line(1), "", "  ", "{bad", good_line(5), "\r", "[1]", good_line(8)]
    path.write_text("\r\n".join(lines), encoding="utf-8")  # CRLF, no final newline
    result = read_file(path)
    assert [(a.id, a.position) for a in result.articles] == [
        ("good-1", 1),
        ("good-5", 5),
        ("good-8", 8),
    ]
    assert [p.line for p in result.problems] == [4, 7]


def test_bombs_beside_good_files_are_reported_and_the_good_ones_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    gzip_repeated(corpus / "zeros.jsonl.gz", b"\0" * (1 << 20), 12)
    gzip_repeated(corpus / "same.jsonl.gz", (good_line(9) + "\n").encode() * 1000, 20)
    gzip_repeated(corpus / "newlines.jsonl.gz", b"\n" * (1 << 20), 12)
    (corpus / "good.jsonl").write_text("\n".join(good_line(i) for i in range(1, 4)) + "\n")
    (corpus / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    settings = settings_for(tmp_path, max_decompressed_mb=4, max_problems_per_file=10)
    report = Indexer(settings).run([corpus])
    by_file: dict[str, list[str]] = {}
    for problem in report.problems:
        by_file.setdefault(Path(problem.path).name, []).append(problem.reason)
    assert "max_decompressed_mb" in by_file["zeros.jsonl.gz"][0]
    assert "max_decompressed_mb" in by_file["newlines.jsonl.gz"][0]
    assert len(by_file["same.jsonl.gz"]) == 11 and "19,989 more" in by_file["same.jsonl.gz"][-1]
    with closing(open_index(settings)) as ix, ix.reader() as reader:
        ids = {fields["id"] for fields in reader.all_stored_fields()}
    assert {"good-1", "good-2", "good-3", "good-9"} <= ids and len(ids) == 5


@pytest.mark.slow
def test_full_size_bombs_keep_the_indexer_under_600_mb(tmp_path: Path) -> None:
    """The issue's sizes, through the CLI in a child process: 2 GB of zeros (4.04 GB RSS
    before), 2 M identical lines (2.76 GB), 2 GB of newlines (> 300 s)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    gzip_repeated(corpus / "zeros.jsonl.gz", b"\0" * (1 << 20), 2048)
    line = json.dumps({"id": "same", "title": "重复", "content": "光伏项目开工。" * 8}).encode()
    gzip_repeated(corpus / "same.jsonl.gz", (line + b"\n") * 100_000, 20)
    gzip_repeated(corpus / "newlines.jsonl.gz", b"\n" * (1 << 20), 2048)
    (corpus / "good.jsonl").write_text(good_line(1) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "zhsearch.web.cli",
        "--index-dir",
        str(tmp_path / "idx"),
        "index",
    ]
    done = subprocess.run(
        [*command, str(corpus)], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert peak_kb < 600 * 1024, peak_kb
    assert done.stderr.count("max_decompressed_mb") == 2
    assert "1,999,899 more problems" in done.stderr
    assert "added 2," in done.stdout


# ------------------------------------------------------------------ stored field sizes


def test_a_10_mb_title_is_cut_at_read_time_and_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    record = {
        "id": "huge",
        "title": "光伏" * 1_700_000,  # 10.2 MB of UTF-8
        "source": "来源" * 5000,
        "author": "作者" * 5000,
        "url": "http://example.com/" + "a" * 5000,
        "tags": [f"标签{i}" for i in range(500)] + ["长" * 3000],
        "content": "光伏电站项目开工。",
    }
    (corpus / "huge.jsonl").write_text(
        json.dumps(record, ensure_ascii=False) + "\n" + good_line(2) + "\n", encoding="utf-8"
    )
    settings = settings_for(tmp_path)
    report = Indexer(settings).run([corpus])
    found = {p.reason.split(" ")[0] for p in report.problems if p.line == 1}
    assert {"title", "source", "author", "url", "1", "500"} <= found, report.problems
    with closing(open_index(settings)) as ix, ix.searcher() as searcher:
        stored = searcher.document(id="huge")
    assert len(stored["title"]) == settings.max_title_chars
    assert len(stored["source"]) <= settings.max_field_chars
    assert len(stored["author"]) <= settings.max_field_chars
    assert not stored.get("url")  # a cut URL would be a wrong link: dropped
    assert len(stored["tags"].split(",")) == settings.max_tags


def test_front_matter_fields_are_capped_too(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    path.write_text(f"---\ntitle: {'标' * 5000}\n---\n\n正文一段。\n", encoding="utf-8")
    result = read_file(
        path, Settings.load(overrides={"max_title_chars": 100}, env={}).read_limits()
    )
    assert len(result.articles[0].title) == 100
    assert ["max_title_chars" in r for r in reasons(result)] == [True]


def test_a_huge_text_file_is_read_only_up_to_max_file_mb(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes("大文件\n\n".encode() + "光伏项目持续推进。\n".encode() * 400_000)  # 11 MB
    settings = Settings.load(overrides={"max_file_mb": 1}, env={})
    result, peak = peak_python_bytes(lambda: read_file(path, settings.read_limits()))
    assert any("max_file_mb" in r and "1,048,576" in r for r in reasons(result))
    assert len(result.articles[0].content) < 1 << 20
    assert peak < 24 << 20  # the 11 MB file is never read whole


# ------------------------------------------------------------------ symbolic links


def test_a_symlink_out_of_the_indexed_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "etc" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("机密文件\n\n这份文件不应被索引。\n", encoding="utf-8")
    outside_dir = tmp_path / "elsewhere"
    outside_dir.mkdir()
    (outside_dir / "other.txt").write_text(GOOD_TEXT, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (corpus / "x.txt").symlink_to(secret)
    (corpus / "linked-dir").symlink_to(outside_dir, target_is_directory=True)
    (corpus / "inside.txt").symlink_to(corpus / "good.txt")  # inside: the same file, once

    found = list(discover([corpus]))
    files = [f for f in found if isinstance(f, Path)]
    problems = {Path(p.path).name: p.reason for p in found if not isinstance(p, Path)}
    assert [f.name for f in files] == ["good.txt"]
    assert set(problems) == {"x.txt", "linked-dir"}
    assert all("outside the indexed folders" in r for r in problems.values())
    assert "allow_outside_links" in problems["x.txt"]

    settings = settings_for(tmp_path)
    report = Indexer(settings).run([corpus])
    assert {Path(p.path).name for p in report.problems} == {"x.txt", "linked-dir"}
    with closing(open_index(settings)) as ix, ix.reader() as reader:
        contents = [f.get("content", "") for f in reader.all_stored_fields()]
    assert not any("不应被索引" in c for c in contents)

    allowed = settings_for(tmp_path / "allowed", allow_outside_links=True)
    report = Indexer(allowed).run([corpus])
    assert not report.problems and report.added == 3
    # A link named explicitly is the user's choice: read.
    assert [f.name for f in discover([corpus / "x.txt"])] == ["x.txt"]


def test_a_link_indexed_while_allowed_is_removed_once_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("机密文件\n\n这份文件不应被索引。\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (corpus / "x.txt").symlink_to(secret)
    settings = settings_for(tmp_path, allow_outside_links=True)
    assert Indexer(settings).run([corpus]).added == 2
    report = Indexer(settings.replace(allow_outside_links=False)).run([corpus])
    assert report.deleted == 1 and [Path(p.path).name for p in report.problems] == ["x.txt"]
    with closing(open_index(settings)) as ix, ix.reader() as reader:
        contents = [f.get("content", "") for f in reader.all_stored_fields()]
    assert len(contents) == 1 and not any("不应被索引" in c for c in contents)


# ------------------------------------------------------------------ UTF-16 without a BOM


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text",
    ["江苏南通锂电池负极材料项目开工，预计年产十万吨。", "南通 2026 年新建 7GW 光伏组件项目。\n"],
    ids=["chinese-only", "with-ascii"],
)
def test_utf16_without_a_bom_is_detected(encoding: str, text: str, tmp_path: Path) -> None:
    assert decode_bytes(text.encode(encoding)) == text
    path = tmp_path / "utf16.txt"
    path.write_bytes(("标题\n\n" + text).encode(encoding))
    result = read_file(path)
    assert not result.problems and text.strip() in result.articles[0].content


def test_binary_and_gbk_are_still_told_apart_from_utf16() -> None:
    with pytest.raises(readers_module.Unreadable, match="binary"):
        decode_bytes(bytes(range(256)) * 256)
    gbk = "山西晋中光伏产业园项目签约，总投资三十亿元，年产组件五吉瓦。"
    assert decode_bytes(gbk.encode("gbk")) == gbk
