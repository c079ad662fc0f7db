"""Bad files: one corpus folder holding every kind of odd file a user may point the indexer at.

Indexing finishes; each problem is reported with its path (and line for JSONL) and a reason;
every readable article is indexed exactly once; the exit status is non-zero and the summary
counts the failures. Nothing is silently skipped. (Files that cannot be read for permission
or that become unreadable between runs: tests/test_indexing.py.)
"""

from __future__ import annotations

import gzip
import json
import shutil
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhsearch.corpus.readers import read_file
from zhsearch.index import writer as writer_module
from zhsearch.index.settings import Settings
from zhsearch.index.store import open_index
from zhsearch.index.writer import Indexer, IndexReport
from zhsearch.web.cli import cli

GBK_TEXT = (
    "山西晋中光伏产业园项目签约\n\n"
    "晋中市开发区光伏组件项目今日签约，总投资三十亿元，建成后年产组件五吉瓦。\n"
)
UTF16_TEXT = (
    "江苏南通锂电池负极材料项目开工\n\n"
    "南通市经济技术开发区锂电池负极材料项目开工建设，预计年产十万吨。\n"
)
BIG_MB = 50
TAIL_SENTENCE = "本报讯，昔阳县新建光伏电站并网发电。"


def _jsonl_line(i: int) -> str:
    record = {
        "id": f"good-{i}",
        "title": f"储能电站项目{i}",
        "content": f"储能电站第{i}期项目开工。",
    }
    return json.dumps(record, ensure_ascii=False)


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory) -> Path:
    """The folder of odd files (generated, the 50 MB one included)."""
    root = tmp_path_factory.mktemp("bad") / "corpus"
    root.mkdir()
    (root / "gbk.txt").write_bytes(GBK_TEXT.encode("gbk"))
    (root / "utf16.txt").write_bytes(UTF16_TEXT.encode("utf-16"))  # with BOM
    (root / "binary.txt").write_bytes(bytes(range(256)) * 256)
    (root / "empty.txt").write_bytes(b"")
    lines = [_jsonl_line(1), _jsonl_line(2), '{"id": "broken", "title": ', _jsonl_line(4)]
    (root / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = gzip.compress("".join(_jsonl_line(i) + "\n" for i in range(10, 60)).encode())
    (root / "cut.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])
    (root / "vanishing.txt").write_text(
        "消失的文件\n\n这篇报道在读取之前被删除了。\n", encoding="utf-8"
    )
    (root / "loop").symlink_to(root, target_is_directory=True)  # a directory loop
    (root / "self.txt").symlink_to(root / "self.txt")  # a file that links to itself
    (root / "dangling.txt").symlink_to(root / "does-not-exist.txt")  # a link to nothing
    big = root / "big.txt"
    sentence = "晋中开发区锂电池负极材料项目建设稳步推进，产能持续扩大。\n".encode()
    with big.open("wb") as fh:
        fh.write("五十兆的超长报道\n\n".encode())
        block = sentence * 4096
        for _ in range(BIG_MB * 1024 * 1024 // len(block) + 1):
            fh.write(block)
    return root


@pytest.fixture(scope="module")
def indexed(bad_corpus: Path, tmp_path_factory) -> tuple[IndexReport, Settings]:
    """One real indexing run over the odd folder, with vanishing.txt deleted between discover
    and read."""
    settings = Settings.load(
        overrides={"index_dir": str(tmp_path_factory.mktemp("bad-index"))}, env={}
    )
    real_plan = writer_module.plan_files

    def plan_then_delete(paths, settings=None):
        files, problems = real_plan(paths, settings)
        assert any(p.name == "vanishing.txt" for p in files)
        (bad_corpus / "vanishing.txt").unlink()
        return files, problems

    mp = pytest.MonkeyPatch()
    mp.setattr(writer_module, "plan_files", plan_then_delete)
    try:
        report = Indexer(settings).run([bad_corpus])
    finally:
        mp.undo()
        (bad_corpus / "vanishing.txt").write_text("消失的文件\n\n回来了。\n", encoding="utf-8")
    return report, settings


def _problems(report: IndexReport) -> dict[str, list[tuple[int | None, str]]]:
    out: dict[str, list[tuple[int | None, str]]] = {}
    for p in report.problems:
        out.setdefault(Path(p.path).name, []).append((p.line, p.reason))
    return out


def test_every_bad_file_is_reported_with_path_and_reason(indexed) -> None:
    report, _ = indexed
    problems = _problems(report)
    expected = {
        "binary.txt": "binary",
        "empty.txt": "empty",
        "mixed.jsonl": "invalid JSON",
        "cut.jsonl.gz": "truncated",
        "vanishing.txt": "No such file",
        "self.txt": "symbolic link",
        "dangling.txt": "broken symbolic link",
        "big.txt": "max_article_chars",
    }
    for name, words in expected.items():
        assert name in problems, (name, report.to_dict()["problems"])
        assert any(words in reason for _, reason in problems[name]), problems[name]
    assert problems["mixed.jsonl"] == [(3, problems["mixed.jsonl"][0][1])]  # the bad line
    assert problems["cut.jsonl.gz"][0][0] is not None  # where the data ends
    assert set(problems) == set(expected), problems  # the GBK and UTF-16 files read cleanly
    assert report.failed == len(report.problems) == sum(map(len, problems.values()))


def test_every_readable_article_is_indexed_exactly_once(indexed, bad_corpus: Path) -> None:
    report, settings = indexed
    with closing(open_index(settings)) as ix, ix.reader() as reader:
        stored = list(reader.all_stored_fields())
    ids = [f["id"] for f in stored]
    assert len(ids) == len(set(ids)) == report.documents == report.added
    titles = {f["title"] for f in stored}
    assert {"山西晋中光伏产业园项目签约", "江苏南通锂电池负极材料项目开工"} <= titles
    assert {"good-1", "good-2", "good-4"} <= set(ids)  # the good lines around the bad one
    gz_ids = {i for i in ids if i.startswith("good-") and int(i.split("-")[1]) >= 10}
    assert len(gz_ids) >= 10  # what the truncated gzip held before the cut
    (big,) = [f for f in stored if f["title"] == "五十兆的超长报道"]
    assert len(big["content"]) == settings.max_article_chars  # cut, reported, still searchable
    # The loop reached the same files again: none of them is indexed twice.
    assert not any("loop" in f.get("source_path", "") for f in stored)


def test_the_cli_exits_non_zero_and_counts_failures(indexed, bad_corpus: Path) -> None:
    _, settings = indexed
    result = CliRunner().invoke(
        cli, ["--index-dir", settings.index_dir, "index", "--json", str(bad_corpus)]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["failed"] == len(data["problems"]) >= 6
    names = {Path(p["path"]).name for p in data["problems"]}
    assert {"binary.txt", "empty.txt", "mixed.jsonl", "cut.jsonl.gz", "self.txt"} <= names
    assert "dangling.txt" in names
    assert all(p["reason"] for p in data["problems"])
    text = CliRunner().invoke(cli, ["--index-dir", settings.index_dir, "index", str(bad_corpus)])
    assert text.exit_code == 1 and "Traceback" not in text.output
    assert "mixed.jsonl:3" in text.output
    assert "binary.txt" in text.output and "dangling.txt" in text.output
    assert text.exception is None or isinstance(text.exception, SystemExit)


def test_a_short_sentence_after_the_tail_marker_is_kept(tmp_path: Path, sample_dir: Path) -> None:
    """Sample 001 ends with 关注开发区公众号 (a tail marker); a body sentence added after it
    used to be dropped as chrome."""
    (src,) = sample_dir.glob("001_*.txt")
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n" + TAIL_SENTENCE + "\n")
    (article,) = read_file(path).articles
    assert TAIL_SENTENCE in article.content
    assert "关注开发区公众号" not in article.content  # the chrome itself still goes
