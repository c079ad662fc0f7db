"""Finding and reading files (`corpus/readers.py`): formats, encodings, bad input, ids, and the
real sample and shared corpora."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from zhsearch.corpus.article import ReadProblem
from zhsearch.corpus.clean import is_chrome_line
from zhsearch.corpus.readers import (
    ReadResult,
    discover,
    file_article_id,
    jsonl_article_id,
    read_file,
    sample_dir,
    slug,
    split_articles,
)

FILES = Path(__file__).resolve().parent / "fixtures" / "files"
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def only_article(result: ReadResult):
    assert result.problems == []
    assert len(result.articles) == 1
    return result.articles[0]


def reasons(result: ReadResult) -> list[str]:
    return [p.reason for p in result.problems]


# --- the bundled sample corpus ----------------------------------------------------------------

SAMPLE_EXPECTED = [
    # file, position, title, subtitle, source, author
    (
        "000_4b27ecb7561911bc.txt",
        0,
        "“四情”联动 引育并重 扶持做强昔阳尚太锂电池大产业",
        "晋中市情谊招商典型案例",
        "",
        "",
    ),
    (
        "001_ed03fab8a73c5403.txt",
        0,
        "跑出招引加速度 增添发展新动能",
        "综改区晋中开发区奋力书写硬核高质量“招商答卷”系列报道之一",
        "",
        "刘杰",
    ),
    ("002_280008ec6789aee1.txt", 0, "以“奋进之笔”书写招商精彩答卷", "", "", "闫杰"),
    (
        "003_7b7d3757ce0f3155.txt",
        0,
        "在众多竞争者中脱颖而出 拿下“高端锂离子电池隔膜生产基地”项目"
        "——百亿级项目缘何“落子”南通开发区",
        "",
        "南通日报",
        "",
    ),
    ("004_e439af9d8f037c90.txt", 0, "千帆竞发势如虹", "长治市加快重点项目建设纪略", "", "贾奕"),
    (
        "004_e439af9d8f037c90.txt",
        1,
        "锐意进取 高效推进转型发展",
        "平鲁经济技术开发区推动高质量发展见闻",
        "",
        "",
    ),
]


@pytest.fixture(scope="module")
def samples(sample_dir: Path) -> list:
    articles = []
    for path in discover([sample_dir]):
        assert isinstance(path, Path)
        result = read_file(path)
        assert result.problems == []
        articles.extend(result.articles)
    return articles


def test_sample_dir_is_the_bundled_corpus() -> None:
    assert sample_dir().is_dir() and sample_dir().parts[-2:] == ("corpus", "sample")
    assert [p.name for p in discover([sample_dir()])] == [name for name, *_ in SAMPLE_EXPECTED[:5]]


def test_samples_are_six_articles_with_the_right_metadata(samples: list) -> None:
    got = [
        (Path(a.source_path).name, a.position, a.title, a.subtitle, a.source, a.author)
        for a in samples
    ]
    assert got == SAMPLE_EXPECTED


def test_sample_dates_only_003_has_one(samples: list) -> None:
    dates = [(a.date, a.date_precision) for a in samples]
    assert (
        dates == [(None, "unknown")] * 3 + [(dt.date(2022, 3, 11), "day")] + [(None, "unknown")] * 2
    )


def test_sample_003_front_matter_url_and_tags(samples: list) -> None:
    a = samples[3]
    assert a.url == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202203112305042277"
    assert a.tags == ["nantongribao", "南通日报新闻"]
    assert a.source_format == "txt"
    assert "<p>" not in a.content and "</p>" not in a.content
    assert "返回首页" not in a.content and "文章来源" not in a.content and "http" not in a.content
    assert a.content.startswith("“有谁见过一天一个样的项目工地。”8日")
    assert a.content.endswith("南通开发区“三步棋”的故事，仍在上演。")


def test_sample_ids_positions_and_paths(samples: list) -> None:
    for a in samples:
        path = Path(a.source_path)
        assert path.is_absolute()
        assert a.id == file_article_id(path, a.position)
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:6]
        assert a.id.startswith(f"{path.stem}-{digest}")
    assert samples[4].id + "-2" == samples[5].id
    assert len({a.id for a in samples}) == 6


def test_sample_bodies_lose_titles_bylines_and_chrome(samples: list) -> None:
    for a in samples:
        lines = a.content.split("\n")
        assert a.title not in lines and "" not in lines
        if a.subtitle:
            assert not any(a.subtitle in line for line in lines[:3])
    assert "文/刘杰" not in samples[1].content
    assert "关注开发区公众号" not in samples[1].content
    assert "掌握发展前沿报道" not in samples[1].content
    assert samples[1].content.endswith("④ 太重集团榆次液压工业有限公司联合厂房及配套工程建设现场。")
    assert samples[2].content.startswith("【高质量发展调研行】\n大美山西")  # the column label stays
    assert "（闫杰）" not in samples[2].content
    assert samples[4].content.endswith("上“新”——") and "贾奕" not in samples[4].content
    assert samples[5].content.endswith("为全市转型发展作出应有贡献。")


def test_sample_paragraphs_broken_by_layout_are_rejoined(samples: list) -> None:
    assert "一次次暖心之举，逐步坚定了企业投资晋中的决心" in samples[0].content
    assert "二期 5 万吨、三期 12 万吨" in samples[0].content
    assert "往往有这样的困惑" in samples[2].content
    assert "“宇宙速度”" in samples[5].content and "说，这是“宇宙速度”" in samples[5].content
    # Headings stay lines of their own.
    assert "\n赢主动\n抢抓机遇着力强链补链延链\n" in samples[1].content
    assert "\n等不起 慢不得 坐不住\n——上下联动 全力以赴抓招商\n" in samples[2].content


def test_only_004_is_split(sample_dir: Path) -> None:
    counts = {p.name: len(read_file(p).articles) for p in discover([sample_dir])}
    assert list(counts.values()) == [1, 1, 1, 1, 2]


def test_split_needs_a_byline_before_the_heading() -> None:
    body = "正文内容，" * 50 + "。"
    two = f"标题一\n——副题一\n{body}\n张三\n\n标题二\n\n——副题二\n{body}"
    assert [part.strip().split("\n")[0] for part in split_articles(two)] == ["标题一", "标题二"]
    sections = f"标题一\n{body}\n\n等不起 慢不得\n——上下联动 全力以赴\n{body}"
    assert len(split_articles(sections)) == 1


# --- encodings and formats ----------------------------------------------------------------------


def test_gbk_file() -> None:
    a = only_article(read_file(FILES / "gbk_news.txt"))
    assert (a.title, a.subtitle) == ("示例市新建光伏组件项目开工", "示例市推进新能源产业发展纪实")
    assert (a.date, a.date_precision, a.source, a.author) == (
        dt.date(2023, 5, 9),
        "day",
        "示例日报",
        "王小明",
    )
    assert a.content.split("\n")[0].startswith("本报讯 示例市年产5GW光伏组件项目今天正式开工")
    assert len(a.content.split("\n")) == 2


def test_utf16_bom_file() -> None:
    a = only_article(read_file(FILES / "utf16_bom.txt"))
    assert a.title == "示例县召开招商引资推介会"
    assert (a.date, a.date_precision, a.author) == (dt.date(2023, 6, 1), "month", "李四")
    assert a.content.startswith("示例县今天召开招商引资推介会")


def test_utf8_bom_file_with_crlf() -> None:
    a = only_article(read_file(FILES / "utf8_bom.txt"))
    assert a.title == "示例开发区新材料产业园揭牌"
    assert "\r" not in a.content and "\ufeff" not in a.title + a.content
    assert a.content.startswith("示例开发区新材料产业园今天揭牌")  # indentation stripped
    assert a.url == "https://news.example.cn/2023/07/15/article.html"
    assert (a.date, a.date_precision) == (dt.date(2023, 7, 15), "day")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("binary.txt", "binary data (NUL bytes), not text"), ("empty.txt", "empty file")],
)
def test_unreadable_files_are_problems(name: str, reason: str) -> None:
    result = read_file(FILES / name)
    assert result.articles == []
    assert result.problems == [ReadProblem(str(FILES / name), reason)]


def test_undecodable_bytes_are_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(1, 256)) * 8)
    result = read_file(path)
    assert result.articles == [] and reasons(result) == ["binary or undecodable data, not text"]


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text(" \n\n\u3000\n", encoding="utf-8")
    result = read_file(path)
    assert result.articles == [] and reasons(result) == ["no text"]


def test_unreadable_permissions_are_a_problem(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = tmp_path / "secret.txt"
    path.write_text("标题\n正文。", encoding="utf-8")
    path.chmod(0)
    result = read_file(path)
    assert result.articles == [] and reasons(result)[0].startswith("cannot read")


def test_html_file() -> None:
    a = only_article(read_file(FILES / "page.html"))
    assert a.source_format == "html"
    assert a.title == "示例市数字经济大会开幕"
    assert (a.date, a.source, a.url) == (
        dt.date(2024, 3, 2),
        "示例新闻网",
        "https://news.example.cn/2024/03/02/dec.html",
    )
    assert a.content.split("\n") == [
        "3月2日，示例市数字经济大会开幕，现场签约项目20个，总投资 150亿元，"
        "涵盖算力中心、工业互联网和数据服务。",
        "大会期间还将举办算力产业论坛&数据要素峰会。",
        "论坛由示例市人民政府主办。",
    ]


def test_markdown_front_matter() -> None:
    a = only_article(read_file(FILES / "front_matter.md"))
    assert a.source_format == "md"
    assert a.title == "示例省发布新能源汽车产业规划"
    assert (a.date, a.date_precision) == (dt.date(2024, 1, 15), "day")
    assert a.tags == ["规划", "新能源", "汽车"]
    assert (a.source, a.author, a.given_region, a.region) == ("示例省政府网", "", "示例省", None)
    assert a.url == "https://www.example.gov.cn/zwgk/202401/t20240115_1.html"
    # Markdown stays Markdown (one blank line between blocks); the duplicate heading is gone.
    assert a.content == (
        "规划提出，到2027年全省新能源汽车产量达到100万辆，**动力电池**配套能力同步提升。\n\n"
        "- 建设三个整车基地\n- 培育十家零部件龙头企业"
    )


def test_invalid_front_matter_is_reported_and_the_text_still_read(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n\n# 标题\n\n正文。\n", encoding="utf-8")
    result = read_file(path)
    assert [a.title for a in result.articles] == ["标题"]
    assert result.articles[0].content == "正文。"
    assert reasons(result)[0].startswith("front matter is not valid YAML")


# --- JSONL ----------------------------------------------------------------------------------------


def test_jsonl_reads_good_lines_and_reports_the_bad_one() -> None:
    path = FILES / "articles.jsonl"
    result = read_file(path)
    assert [(p.line, p.reason) for p in result.problems] == [(2, "invalid JSON: Expecting value")]
    assert [a.position for a in result.articles] == [1, 3, 4]
    first, _report, title_only = result.articles
    assert first.id == "ex-1" and first.source_format == "jsonl"
    assert first.content.split("\n") == [
        "示例电视台消息：示例市氢能产业园今天开工，一期投资12亿元。",
        "(视频编辑：张三 文字编辑：李四)",
    ]
    assert (first.date, first.source, first.author) == (dt.date(2024, 4, 1), "示例电视台", "")
    assert (first.tags, first.given_region) == (["氢能", "产业园"], "山西省")
    assert (title_only.title, title_only.content, title_only.date_precision) == (
        "只有标题的新闻",
        "",
        "month",
    )


def test_jsonl_page_text_loses_its_chrome() -> None:
    report = read_file(FILES / "articles.jsonl").articles[1]
    assert report.title == "示例省政府工作报告"
    assert report.subtitle == "2026年1月20日在示例省人民代表大会上"
    assert (report.source, report.url) == ("示例日报", "https://www.example.gov.cn/gzbg/1.html")
    assert report.content.split("\n")[:2] == ["省长 张三", "各位代表："]
    assert "下载" not in report.content and "相关报道" not in report.content


def test_jsonl_ids() -> None:
    line = json.dumps({"id": "中文 id"}).encode()
    expected = "articles-" + hashlib.sha1(line).hexdigest()[:12]
    assert jsonl_article_id("中文 id", Path("articles.jsonl"), line) == expected
    assert jsonl_article_id("gwr-2026-01", Path("x.jsonl"), b"{}") == "gwr-2026-01"
    assert jsonl_article_id(42, Path("x.jsonl"), b"{}") == "42"
    assert jsonl_article_id(None, Path("x.jsonl.gz"), b"{}").startswith("x-")
    assert jsonl_article_id("a" * 129, Path("x.jsonl"), b"{}").startswith("x-")
    stored = read_file(FILES / "articles.jsonl").articles[1]
    raw = (FILES / "articles.jsonl").read_bytes().split(b"\n")[2]
    assert stored.id == "articles-" + hashlib.sha1(raw).hexdigest()[:12]


def test_jsonl_duplicate_ids_fall_back_to_the_line_hash(tmp_path: Path) -> None:
    path = tmp_path / "dups.jsonl"
    lines = [
        {"id": "a", "title": "一", "content": "甲"},
        {"id": "a", "title": "二", "content": "乙"},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) * 2, encoding="utf-8")
    result = read_file(path)
    second = (json.dumps(lines[1]) + "\n").encode().rstrip(b"\n")
    assert [a.id for a in result.articles] == ["a", "dups-" + hashlib.sha1(second).hexdigest()[:12]]
    assert [(p.line, p.reason) for p in result.problems] == [
        (3, "same record as line 1; skipped"),
        (4, "same record as line 2; skipped"),
    ]


def test_jsonl_records_that_are_not_articles(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b'[1, 2]\n{"id": "x"}\n{"title": "\xff"}\n{"title": "ok", "content": "c"}\n')
    result = read_file(path)
    assert [(p.line, p.reason) for p in result.problems] == [
        (1, "line is not a JSON object"),
        (2, "record has no title or content"),
        (3, "line is not UTF-8 text"),
    ]
    assert [a.title for a in result.articles] == ["ok"]


def test_jsonl_gz_is_read_and_its_stem_drops_both_suffixes(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"title": "标题", "content": "<p>正文</p>"}) + "\n")
    a = only_article(read_file(path))
    assert a.id.startswith("news-") and a.content == "正文" and a.source_format == "jsonl"


def test_truncated_jsonl_gz_keeps_what_was_read(tmp_path: Path) -> None:
    records = [
        json.dumps({"id": f"n{i}", "title": "标题", "content": "正文" * 200}) for i in range(400)
    ]
    data = gzip.compress("\n".join(records).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    result = read_file(path)
    assert 0 < len(result.articles) < 400
    assert reasons(result)[-1] == "truncated gzip data"
    assert result.problems[-1].path == str(path)


def test_not_gzip_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "fake.jsonl.gz"
    path.write_text('{"title": "x"}\n', encoding="utf-8")
    result = read_file(path)
    assert result.articles == [] and reasons(result)[0].startswith("bad gzip data")


def test_empty_jsonl_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "none.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert reasons(read_file(path)) == ["empty file"]


# --- ids ------------------------------------------------------------------------------------------


def test_file_ids(tmp_path: Path) -> None:
    path = tmp_path / "南通 日报(1).txt"
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:6]
    assert file_article_id(path) == f"1-{digest}"
    assert file_article_id(path, 2) == f"1-{digest}-3"
    other = tmp_path / "a.b c.md"
    digest = hashlib.sha1(str(other.resolve()).encode()).hexdigest()[:6]
    assert file_article_id(other) == f"a.b-c-{digest}"
    assert slug("南通") == "file"
    assert all(_ID.fullmatch(file_article_id(tmp_path / n, 1)) for n in ["x.txt", "中文.md"])


# --- discover -----------------------------------------------------------------------------------


def touch(path: Path, text: str = "标题\n正文。") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_discover_walks_sorted_and_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "c.markdown", "d.HTML", "e.htm", "f.jsonl", "g.jsonl.gz"]:
        touch(tmp_path / name)
    touch(tmp_path / "sub" / "z.txt")
    touch(tmp_path / "sub" / "notes.pdf")
    touch(tmp_path / "x.gz")
    touch(tmp_path / ".hidden.txt")
    touch(tmp_path / ".git" / "inside.txt")
    found = list(discover([tmp_path]))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.md", "b.txt", "c.markdown", "d.HTML", "e.htm", "f.jsonl", "g.jsonl.gz", "sub/z.txt",
    ]  # fmt: skip


def test_discover_reports_missing_and_unsupported_named_paths(tmp_path: Path) -> None:
    pdf = touch(tmp_path / "x.pdf")
    txt = touch(tmp_path / "y.txt")
    found = list(discover([tmp_path / "missing", pdf, str(txt)]))
    assert found == [
        ReadProblem(str(tmp_path / "missing"), "no such file or directory"),
        ReadProblem(str(pdf), "unsupported file type"),
        txt,
    ]
    assert reasons(read_file(pdf)) == ["unsupported file type"]


def test_discover_survives_symlink_loops_and_yields_each_file_once(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    article = touch(root / "a" / "one.txt")
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "b").symlink_to(root / "a", target_is_directory=True)
    (root / "same.txt").symlink_to(article)
    (root / "self.txt").symlink_to(root / "self.txt")
    (root / "dangling.txt").symlink_to(root / "nowhere.txt")
    found = list(discover([root, root / "a"]))
    assert found == [
        article,
        ReadProblem(str(root / "dangling.txt"), "broken symbolic link"),
        ReadProblem(str(root / "self.txt"), "broken symbolic link"),
    ]


# --- shared corpora -------------------------------------------------------------------------------


@pytest.mark.shared
def test_gov_reports(shared_dir: Path) -> None:
    path = shared_dir / "corpora" / "gov-reports-2026.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    result = read_file(path)
    assert result.problems == []
    assert len(result.articles) == 31
    assert [a.title for a in result.articles] == [r["title"] for r in records]
    assert [a.id for a in result.articles] == [r["id"] for r in records]
    shanghai = result.articles[0]
    assert shanghai.title == "2026年上海市政府工作报告"
    assert shanghai.subtitle == "2026年2月3日在上海市第十六届人民代表大会第四次会议上"
    assert (shanghai.source, shanghai.date) == ("解放日报", dt.date(2026, 2, 9))
    assert shanghai.url == records[0]["url"]
    assert shanghai.content.startswith("上海市市长 龚 正\n各位代表：\n现在，我代表上海市人民政府")
    for a in result.articles:
        lines = a.content.split("\n")
        assert not any(is_chrome_line(line) for line in lines[:8] + lines[-5:]), a.title
        assert "【字号" not in a.content and "【字体" not in a.content
        assert not any(line.startswith(("相关报道", "扫一扫", "打印本页")) for line in lines)
        assert not lines[0].startswith(("来源", "时间", "——")), a.title
        assert a.date_precision == "day" and a.author == ""
        assert len(a.content) > 9000
    with_subtitle = [a for a in result.articles if a.subtitle]
    assert len(with_subtitle) >= 25
    assert all(re.match(r"(2026年|二〇二六年)", a.subtitle) for a in with_subtitle)
    sources = {a.source for a in result.articles if a.source}
    assert len([a for a in result.articles if a.source]) >= 27
    assert {"解放日报", "四川日报", "宁夏日报客户端", "青海日报"} <= sources
    assert all(not s.startswith("http") for s in sources)


@pytest.mark.shared
def test_xwlb_head(shared_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "xwlb-head.jsonl"
    with gzip.open(shared_dir / "corpora" / "xwlb.jsonl.gz", "rb") as src:
        path.write_bytes(b"".join(next(src) for _ in range(3000)))
    result = read_file(path)
    assert result.problems == [] and len(result.articles) == 3000
    first = result.articles[0]
    assert first.id == "xwlb-VIDE1355098166246193"
    assert (first.date, first.source) == (dt.date(2012, 7, 2), "CNTV")
    assert first.content.endswith("(视频编辑：张贝龙 文字编辑：温凤浩)")
    for a in result.articles:
        assert "<p" not in a.content.lower() and "</p" not in a.content.lower()
        assert a.date_precision == "day" and a.title
        assert not a.content.startswith(("\u3000", "\xa0", " "))
    assert sum(1 for a in result.articles if a.author) <= 3


@pytest.mark.shared
@pytest.mark.slow
def test_xwlb_whole_file(shared_dir: Path) -> None:
    result = read_file(shared_dir / "corpora" / "xwlb.jsonl.gz")
    assert result.problems == []
    assert len(result.articles) == 75_806
    assert len({a.id for a in result.articles}) == 75_806
