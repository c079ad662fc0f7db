"""Title, subtitle, date, source, author and URL extraction (`corpus/metadata.py`)."""

from __future__ import annotations

import datetime as dt

import pytest

from zhsearch.corpus.metadata import (
    bare_name,
    byline_author,
    date_from_url,
    extract_metadata,
    is_person_name,
    metadata_fields,
    parse_date,
    subtitle_text,
)

PARA = (
    "示例市年产5GW光伏组件项目今天正式开工，项目总投资30亿元，"
    "建成后预计年产值60亿元，带动就业两千余人。"
)
PARA2 = (
    "项目负责人表示，将加快建设进度，力争明年二季度投产，"
    "并同步引进上下游配套企业，形成产业集群效应。"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-07-02 19:06:13", (dt.date(2012, 7, 2), "day")),
        ("2022-03-11 02:00:40 +0800", (dt.date(2022, 3, 11), "day")),
        ("2026-02-09", (dt.date(2026, 2, 9), "day")),
        ("2023/5/9", (dt.date(2023, 5, 9), "day")),
        ("2023年5月9日", (dt.date(2023, 5, 9), "day")),
        ("2026年02月10日 07时41分", (dt.date(2026, 2, 10), "day")),
        ("20230509", (dt.date(2023, 5, 9), "day")),
        ("2023年5月", (dt.date(2023, 5, 1), "month")),
        ("2023-05", (dt.date(2023, 5, 1), "month")),
        ("2023", (dt.date(2023, 1, 1), "year")),
        ("2023年", (dt.date(2023, 1, 1), "year")),
        ("2023-02-30", (None, "unknown")),
        ("2023-13", (None, "unknown")),
        ("20235", (None, "unknown")),
        ("昨天", (None, "unknown")),
        ("", (None, "unknown")),
    ],
)
def test_parse_date(value: str, expected: tuple[dt.date | None, str]) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://tv.cctv.com/2012/07/02/VIDE1355098166246193.shtml", (dt.date(2012, 7, 2), "day")),
        ("https://www.yn.gov.cn/ywdt/202602/t20260203_323801.html", (dt.date(2026, 2, 3), "day")),
        ("http://www.news.cn/2023-05/09/c_1129600000.htm", (dt.date(2023, 5, 9), "day")),
        ("http://paper.people.com.cn/rmrb/html/2023/0509/nw.htm", (dt.date(2023, 5, 9), "day")),
        ("https://www.sc.gov.cn/10462/c105962s/2026/2/10/c30.shtml", (dt.date(2026, 2, 10), "day")),
        ("https://example.cn/news/202305/abc.html", (dt.date(2023, 5, 1), "month")),
        ("http://finews.zning.xyz/NewsShare.html?infoCode=NW202203112305042277", (None, "unknown")),
        ("https://example.cn/2023/13/45/x.html", (None, "unknown")),
    ],
)
def test_date_from_url(url: str, expected: tuple[dt.date | None, str]) -> None:
    assert date_from_url(url) == expected


def test_metadata_fields() -> None:
    assert metadata_fields("来源：解放日报") == ([("source", "解放日报")], True)
    assert metadata_fields("（文章来源：南通日报）") == ([("source", "南通日报")], True)
    assert metadata_fields("2026-02-03 09:02:33") == ([("date", "2026-02-03 09:02:33")], True)
    assert metadata_fields("时间：2026-02-09 来源：示例日报") == (
        [("date", "2026-02-09"), ("source", "示例日报")],
        True,
    )
    assert metadata_fields("来源:") == ([("source", "")], True)
    assert metadata_fields("来源：新华社 编辑：张三")[1] is False
    assert metadata_fields("2023年5月9日，示例市召开大会。")[1] is False
    assert metadata_fields("(视频编辑：张贝龙 文字编辑：温凤浩)") == ([], False)


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("文/刘杰 图/郭夜梅", "刘杰"),
        ("文｜王五", "王五"),
        ("作者：欧阳永跃", "欧阳永跃"),
        ("本报记者 李四 王五", "李四、王五"),
        ("记者 艾尔肯·吐尼亚孜", "艾尔肯·吐尼亚孜"),
        ("记者：小朋友你好", None),  # an interview transcript, not a byline
        ("本报记者 韩卿立 摄", None),  # a photo credit
        ("文化产业发展迅速", None),
    ],
)
def test_byline_author(line: str, author: str | None) -> None:
    assert byline_author(line) == author


@pytest.mark.parametrize(
    ("line", "name"),
    [("贾奕", "贾奕"), ("（闫杰）", "闫杰"), ("(闫杰)", "闫杰"), ("佚名", ""), ("(升旗)", None),
     ("（完）", None), ("新华社", None), ("结语", None), ("南通日报", None)],
)  # fmt: skip
def test_bare_name(line: str, name: str | None) -> None:
    assert bare_name(line) == name


def test_is_person_name() -> None:
    assert is_person_name("欧阳永跃") and is_person_name("刘杰")
    assert not is_person_name("升旗") and not is_person_name("王") and not is_person_name("新华社")


def test_subtitle_text() -> None:
    assert subtitle_text("——晋中市情谊招商典型案例") == "晋中市情谊招商典型案例"
    assert (
        subtitle_text("――2026年1月27日在青海省人民代表大会上")
        == "2026年1月27日在青海省人民代表大会上"
    )
    assert subtitle_text("— 副题") == "副题"
    assert subtitle_text("——经济保持平稳增长。召开新年第一会。") == ""
    assert subtitle_text("---") == ""
    assert subtitle_text("- 列表项") == ""


def test_extract_title_subtitle_source_date_author() -> None:
    text = "\n".join(
        [
            *("", "示例市新建光伏组件项目开工", "", "——示例市推进新能源产业发展纪实", ""),
            *("来源：示例日报", "2023年5月9日", "", PARA, "", PARA2, "", "（王小明）"),
        ]
    )
    meta = extract_metadata(text)
    assert meta.title == "示例市新建光伏组件项目开工"
    assert meta.subtitle == "示例市推进新能源产业发展纪实"
    assert (meta.date, meta.date_precision) == (dt.date(2023, 5, 9), "day")
    assert (meta.source, meta.author, meta.url) == ("示例日报", "王小明", "")
    assert [line for line in meta.body.split("\n") if line] == [PARA, PARA2]


def test_no_date_in_the_head_means_unknown_even_with_years_in_the_body() -> None:
    text = f"示例县招商纪实\n\n2022年9月21日，示例县与企业签约。{PARA}\n\n2023年2月10日，{PARA2}"
    meta = extract_metadata(text)
    assert (meta.date, meta.date_precision) == (None, "unknown")
    assert "2022年9月21日" in meta.body and "2023年2月10日" in meta.body


def test_split_label_takes_the_value_from_the_next_line() -> None:
    text = "\n".join(["示例报告", "2026年02月10日 07时41分", "来源:", "示例日报", "【字体：", PARA])
    meta = extract_metadata(text)
    assert (meta.source, meta.date) == ("示例日报", dt.date(2026, 2, 10))
    assert meta.body.split("\n") == ["【字体：", PARA]  # chrome is strip_chrome's job


def test_editor_name_under_a_label_is_not_the_author() -> None:
    meta = extract_metadata("\n".join(["示例报告", PARA, PARA2, "责任编辑：", "李莎莎"]))
    assert meta.author == ""
    assert meta.body.endswith("责任编辑：\n李莎莎")


def test_trailing_bylines() -> None:
    assert extract_metadata(f"标题\n{PARA}\n{PARA2} 佚名").author == ""
    assert extract_metadata(f"标题\n{PARA}\n{PARA2} 佚名").body.endswith(PARA2)
    assert extract_metadata(f"标题\n{PARA}\n{PARA2}（闫杰）").author == "闫杰"
    assert extract_metadata(f"标题\n{PARA}\n{PARA2}(升旗)").author == ""
    kept = extract_metadata(f"标题\n{PARA}\n(视频编辑：张贝龙 文字编辑：温凤浩)")
    assert kept.author == "" and kept.body.endswith("(视频编辑：张贝龙 文字编辑：温凤浩)")


def test_a_letters_signature_and_date_stay_in_the_body() -> None:
    text = f"{PARA}\n五四青年节即将来临，我向你们致以节日的问候。\n习近平\n2013年5月2日"
    meta = extract_metadata(text, title="[视频]习近平给北京大学学生回信", date="2013-05-04")
    assert (meta.author, meta.date) == ("", dt.date(2013, 5, 4))
    assert meta.body.endswith("习近平\n2013年5月2日")


def test_hints_win_and_a_url_source_becomes_the_url() -> None:
    text = "\n".join(["下载", "示例省政府工作报告", "——在示例省人大会议上", "来源：示例日报", PARA])
    meta = extract_metadata(
        text,
        title="2026年示例省政府工作报告",
        date="2026-02-09",
        source="https://www.example.gov.cn/gzbg/1.html",
    )
    assert meta.title == "2026年示例省政府工作报告"
    assert meta.subtitle == "在示例省人大会议上"
    assert (meta.source, meta.url) == ("示例日报", "https://www.example.gov.cn/gzbg/1.html")
    assert (meta.date, meta.date_precision) == (dt.date(2026, 2, 9), "day")
    assert meta.body == PARA  # the header above the known title went with it


def test_title_hint_not_in_text_leaves_the_text_alone() -> None:
    meta = extract_metadata(f"{PARA}\n{PARA2}", title="[视频]示例新闻", source="央视网")
    assert (meta.title, meta.subtitle, meta.source) == ("[视频]示例新闻", "", "央视网")
    assert meta.body == f"{PARA}\n{PARA2}"


def test_kicker_is_not_the_title() -> None:
    meta = extract_metadata(f"【高质量发展调研行】\n\n以“奋进之笔”书写招商精彩答卷\n\n{PARA}")
    assert meta.title == "以“奋进之笔”书写招商精彩答卷"
    assert meta.body.split("\n")[0] == "【高质量发展调研行】"


def test_text_without_a_heading_gets_its_first_sentence_as_title() -> None:
    meta = extract_metadata(f"{PARA}\n{PARA2}")
    assert meta.title == PARA[:40] + "…"
    assert meta.body == f"{PARA}\n{PARA2}"


def test_url_line_and_url_date() -> None:
    meta = extract_metadata(
        f"示例标题\n{PARA}\n原文链接：https://news.example.cn/2023/07/15/a.html"
    )
    assert meta.url == "https://news.example.cn/2023/07/15/a.html"
    assert (meta.date, meta.date_precision) == (dt.date(2023, 7, 15), "day")
    assert meta.body == PARA


def test_markdown_heading_is_the_title() -> None:
    meta = extract_metadata(f"# 示例标题\n\n{PARA}", markdown=True)
    assert meta.title == "示例标题"
    assert meta.body.strip() == PARA


def test_month_precision_date_line() -> None:
    meta = extract_metadata(f"示例标题\n时间：2023-06\n{PARA}")
    assert (meta.date, meta.date_precision) == (dt.date(2023, 6, 1), "month")


def test_a_title_heading_after_the_lead_keeps_the_lead() -> None:
    """xwlb items open with the lead, then print the end of the title as a heading."""
    lead = "中国网络电视台消息（新闻联播）：随着伦敦奥运会的日益临近，伦敦迎接的来客也越来越多。"
    text = f"{lead}\n交通运输系统频出问题引质疑\n24号，连接希思罗机场的地铁线路出现局部中断。"
    found = extract_metadata(text, title="[视频]关注伦敦奥运会 交通运输系统频出问题引质疑")
    assert found.body.startswith(lead)
    assert "24号，连接希思罗机场" in found.body
