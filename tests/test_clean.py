"""HTML to text and page-chrome removal (`corpus/clean.py`).

Body sentences must survive untouched; toolbars, breadcrumbs, share widgets and "related links"
at the top and bottom of scraped pages must not.
"""

from __future__ import annotations

import pytest

from zhsearch.corpus.clean import (
    collapse_blank_lines,
    html_document,
    html_to_text,
    is_chrome_line,
    join_broken_lines,
    strip_chrome,
)

BODY = (
    "现在，我代表省人民政府向大会报告工作，请予审议，并请省政协委员和其他列席人员提出意见，谢谢。"
)
BODY2 = (
    "一年来，全省生产总值增长百分之五，固定资产投资增长百分之六，"
    "新开工重大项目三百个以上，成效明显。"
)


def test_html_paragraphs_one_per_line_with_mixed_case_tags() -> None:
    html = "<p>\u3000\u3000第一段。</P>\r\n<p>\xa0\xa0\xa0\xa0第二段。</P>"
    assert html_to_text(html) == "第一段。\n第二段。"


def test_html_inline_tags_do_not_break_a_paragraph_but_br_does() -> None:
    html = "<p>签约<strong>20</strong>个<span>项目</span>。<br>第二行</p>"
    assert html_to_text(html) == "签约20个项目。\n第二行"


def test_html_entities_are_unescaped() -> None:
    assert html_to_text("<p>论坛&amp;峰会 &#x4e2d;&#22269; 总投资&nbsp;150亿元</p>") == (
        "论坛&峰会 中国 总投资 150亿元"
    )


def test_html_scripts_and_styles_are_dropped() -> None:
    html = "<style>p{color:red}</style><p>正文</p><script>var s = '<p>不是正文</p>';</script>"
    assert html_to_text(html) == "正文"


def test_html_whitespace_inside_a_paragraph_collapses() -> None:
    assert html_to_text("<div>\n  甲乙  \n  丙丁\n</div>") == "甲乙 丙丁"


@pytest.mark.parametrize(
    "html",
    [
        "<p>\u3000\u3000甲&amp;乙</P>\r\n<p>丙<br/>丁</p>",
        "<P>a &lt; b</P><p></p><p>\xa0</p>",
        "<p>x</p>< p>y",
    ],
)
def test_fast_path_for_plain_paragraphs_matches_the_dom_path(html: str) -> None:
    # Fragments with only <p>/<br> skip the DOM; the result must be what the parser gives.
    assert html_to_text(html) == html_to_text(html + "<span></span>")


def test_empty_html_is_empty_text() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<p> </p>") == ""


def test_html_document_title_meta_and_article_text() -> None:
    doc = html_document(
        "<html><head><title>大会开幕_示例网</title>"
        '<meta name="PubDate" content="2024-03-02"><meta name="author" content="张三">'
        '<link rel="canonical" href="https://example.cn/a.html"></head>'
        "<body><nav>首页 &gt; 新闻</nav><article><h1>大会 开幕</h1><p>正文。</p></article>"
        "<footer>版权所有</footer></body></html>"
    )
    assert doc.title == "大会 开幕"
    assert doc.meta == {"date": "2024-03-02", "author": "张三", "url": "https://example.cn/a.html"}
    assert doc.text == "大会 开幕\n正文。"


def test_html_document_title_falls_back_to_title_without_site_name() -> None:
    doc = html_document("<html><head><title>示例市召开大会_示例新闻网</title></head><body>x</body>")
    assert doc.title == "示例市召开大会"


GOV_PAGE = "\n".join(
    [
        "下载",
        "打印",
        "全屏",
        "收藏",
        "【字号：",
        "加大",
        "还原",
        "减小",
        "】",
        "2026年示例省政府工作报告",
        "——2026年1月27日在示例省第十四届人民代表大会第四次会议上",
        "来源：示例日报",
        "时间：2026-02-09",
        BODY,
        BODY2,
        "相关报道：",
        "示例省两会开幕",
    ]
)


def test_strip_chrome_removes_toolbar_and_related_links() -> None:
    assert strip_chrome(GOV_PAGE).split("\n") == [
        "2026年示例省政府工作报告",
        "——2026年1月27日在示例省第十四届人民代表大会第四次会议上",
        "来源：示例日报",
        "时间：2026-02-09",
        BODY,
        BODY2,
    ]


def test_strip_chrome_removes_breadcrumbs_and_widgets_between_head_lines() -> None:
    page = "\n".join(
        [
            *("您的位置:", "首页", ">", "示例要闻", "示例要闻", "2026年政府工作报告"),
            *("来源：示例日报", "【字体：", "大", "中", "小", "】", "分享：", BODY),
            *("扫一扫在手机打开当前页", "【", "打印本页", "】"),
        ]
    )
    assert strip_chrome(page).split("\n") == ["2026年政府工作报告", "来源：示例日报", BODY]


def test_strip_chrome_keeps_chrome_words_inside_the_body() -> None:
    text = "\n".join([BODY, "收藏", "打印", BODY2])
    assert strip_chrome(text) == text


def test_strip_chrome_cuts_wechat_promotion_at_the_end() -> None:
    text = "\n".join([BODY, "", "- ① 项目现场。", "", "关注开发区公众号", "掌握发展前沿报道"])
    assert strip_chrome(text) == f"{BODY}\n\n- ① 项目现场。"


def test_strip_chrome_drops_markdown_navigation_links() -> None:
    text = f"{BODY}\n\n[返回示例日报新闻](//example.com/cat.html)｜[返回首页](//example.com/)"
    assert strip_chrome(text) == BODY


def test_strip_chrome_collapses_blank_lines_and_strips_indentation() -> None:
    text = "\n\n\u3000\u3000标题\r\n\r\n\r\n\u3000\u3000" + BODY + "  \n\n\n"
    assert strip_chrome(text) == f"标题\n\n{BODY}"


@pytest.mark.parametrize(
    "line",
    ["下载", "【字号：", "【字体：大 中 小】", "分享到:", "分享到微信", "当前位置：首页 > 要闻",
     "阅读量：", "首页 > 政务信息 > 宁夏要闻", "【打印本页】", "版权所有 示例网"],
)  # fmt: skip
def test_chrome_lines(line: str) -> None:
    assert is_chrome_line(line)


@pytest.mark.parametrize(
    "line", ["分享经济发展报告", "字体设计大赛开幕", "大美山西", "中国梦", "首页设计规范", BODY]
)
def test_not_chrome_lines(line: str) -> None:
    assert not is_chrome_line(line)


def test_join_broken_lines_rejoins_layout_breaks() -> None:
    long_start = (
        "当得知消息后，市领导委托昔阳县委县政府主要领导，乘飞机、坐动车赶赴湖南，一次次暖心之"
    )
    lines = [long_start, "举，逐步坚定了企业投资的决心。", "“企业在投资过程中，往往有这样"]
    lines.append("的困惑。")
    assert join_broken_lines(lines) == [
        long_start + "举，逐步坚定了企业投资的决心。",
        "“企业在投资过程中，往往有这样的困惑。",
    ]


def test_join_broken_lines_keeps_headings_and_new_blocks() -> None:
    lines = [
        "二、用“盛情”服务项目，全力以赴把各类要素保障好",  # a heading: short, not continued
        "要素保障是项目建设的“助推器”。",
        "企业家是经济社会发展的动力源，相继上马一期3万吨、二期5万吨、三期12万吨锂电负极材料",
        "三、用“友情”呵护企业",  # opens a new block
        "夯基，瞄准先进制造——",
        "金牌特种钢新材料中试基地项目建成后将用于研发。",
    ]
    assert join_broken_lines(lines) == lines


def test_collapse_blank_lines() -> None:
    assert collapse_blank_lines(["", "a", "", " ", "b", "", ""]) == ["a", "", "b"]
