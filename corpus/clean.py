"""Plain text out of HTML and scraped web pages: paragraphs one per line, page chrome removed.

The search index, snippets and the extractors all read `Article.content`, so chrome such as
"下载 / 打印 / 【字号：" must not survive here, while every body sentence must.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

from selectolax.lexbor import LexborHTMLParser

# A private-use character marks paragraph breaks while the HTML parser collapses whitespace.
_MARK = "\ue000"
_BLOCK_TAGS = (
    "address|article|aside|blockquote|caption|center|dd|div|dl|dt|figcaption|figure|h[1-6]|"
    "header|footer|hr|li|main|ol|p|pre|section|table|tbody|td|th|thead|tr|ul"
)
_BLOCK_TAG = re.compile(rf"<(?:/?(?:{_BLOCK_TAGS})\b[^>]*|br\b[^>]*)>", re.IGNORECASE)
_DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "button", "select"]
_DROP_TAG = re.compile(rf"<(?:{'|'.join(_DROP_TAGS)})\b", re.IGNORECASE)
_SIMPLE_TAGS = re.compile(r"</?(?:p|br)\s*/?>", re.IGNORECASE)
_OTHER_MARKUP = re.compile(r"<(?!/?(?:p|br)\s*/?>)", re.IGNORECASE)
_HTML_START = re.compile(rf"\s*<(?:{_BLOCK_TAGS}|br|span|strong|b|font|img|a)\b", re.IGNORECASE)
_INLINE_SPACE = re.compile(r"[ \t\r\n\f\v\xa0]+")
# Characters stripped from both ends of every line: whitespace (incl. ideographic indentation
# U+3000 and no-break spaces), zero-width spaces and stray byte-order marks.
_LINE_STRIP = " \t\r\n\f\v\xa0\u3000\u200b\u200c\u200d\u2060\ufeff"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# "Body" lines are long; page chrome is only looked for before the first and after the last one.
BODY_LINE_CHARS = 50
_HEAD_MAX_LINES = 40
_TAIL_MAX_LINES = 30

# Single chrome words or widgets, matched against a whole stripped line.
# fmt: off
_CHROME_WORDS = frozenset((
    "下载", "打印", "全屏", "收藏", "加大", "还原", "减小", "默认", "大", "中", "小", "【", "】",
    "[", "]", "|", "｜", "×", ">", ">>", "»", "›", "首页", "分享", "分享到", "分享至", "微信",
    "微博", "qq", "qq空间", "朋友圈", "复制链接", "打印本页", "关闭窗口", "关闭", "返回顶部",
    "顶部", "纠错", "我要纠错", "评论", "点赞", "转发", "发表评论", "字号", "字体",
))
# fmt: on
_CHROME_PATTERNS = re.compile(
    r"""(?x)
    【?\s*(?:字号|字体)\s*(?:[:：].{0,16}|】)?   # 【字号：  【字体：大 中 小】
    | 分享(?:到|至)?\s*[:：].{0,12}              # 分享：  分享到:
    | 分享(?:到|至).{0,8}                         # 分享到微信
    | (?:您的|当前)(?:所在)?位置\s*[:：].{0,60}    # 您的位置:  当前位置：首页 > 要闻
    | 首页\s*[>»›/].{0,60}                       # 首页 > 政务信息 > 宁夏要闻
    | 【\s*(?:打印本页|关闭窗口|打印|关闭|收藏|返回顶部|大|中|小)\s*】
    | (?:阅读|浏览|点击|访问)(?:量|数|次数)?\s*[:：]\s*\d*
    | 》》.{0,20}《《                             # 》》点击图片进入专题《《
    | (?:【|\[)?\s*(?:上一篇|下一篇)\s*(?:】|\])?(?:[:：].{0,60})?
    | (?:版权所有|copyright|©).{0,80}
    | .{0,60}ICP备.{0,40}
    """,
    re.IGNORECASE,
)
# Lines after which nothing but related links and widgets follow.
_TAIL_CUT = re.compile(
    r"""(?x)
    相关(?:报道|文档|链接|附件|阅读|新闻|文章|稿件)\s*(?:[:：]|>>|》)?
    | 扫一扫.{0,20}
    | 关注.{0,20}(?:公众号|微信|微博|抖音|视频号|客户端)
    | 【?\s*(?:打印本页|关闭窗口)\s*】?
    | 延伸阅读\s*[:：]?
    """
)
# Markdown navigation links: [返回首页](//site/)｜[返回南通日报新闻](//site/category)
_NAV_LINK = re.compile(r"\[\s*(?:返回|上一篇|下一篇|首页|分享|打印|关闭)[^\]]{0,30}\]\([^)\s]*\)")
_NAV_REST = re.compile(r"[\s|｜/·•>]*")


@dataclass
class HtmlDocument:
    """Text of an HTML page plus what its head and headings say about it."""

    text: str
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # date, source, author, url


def normalize_newlines(text: str) -> str:
    """Unify line ends to "\\n" and drop control characters that break later processing."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n")
    return _CONTROL.sub("", text)


def clean_line(line: str) -> str:
    """A line without surrounding whitespace, indentation spaces (U+3000) or zero-width marks."""
    return line.strip(_LINE_STRIP)


def clean_lines(lines: list[str]) -> list[str]:
    """`clean_line` of every line."""
    return [line.strip(_LINE_STRIP) for line in lines]


def looks_like_html(text: str) -> bool:
    """True when `text` starts with an HTML element, as JSONL content and blog exports do."""
    return bool(_HTML_START.match(text))


def contains_html(text: str) -> bool:
    """True when `text` has HTML markup anywhere (block tags or <br>), as JSONL content may."""
    return "<" in text and bool(_BLOCK_TAG.search(text))


def _mark_blocks(html: str) -> str:
    """`html` with a paragraph mark in front of every block-level tag (tags kept)."""
    return _BLOCK_TAG.sub(_MARK + r"\g<0>", html.replace(_MARK, ""))


def _paragraphs(text: str) -> str:
    parts = _INLINE_SPACE.sub(" ", text).split(_MARK)
    return "\n".join(filter(None, [part.strip(_LINE_STRIP) for part in parts]))


def _parse(html: str) -> LexborHTMLParser:
    tree = LexborHTMLParser(_mark_blocks(html))
    if _DROP_TAG.search(html):
        tree.strip_tags(_DROP_TAGS)
    return tree


# Tags for the nesting scan: comments and raw-text elements (whose content is not markup) are
# matched whole; `[^<>]*` keeps a tag that never closes from being rescanned from every `<`.
_NEST_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp)\b[^<>]*>.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^<>]*>",
    re.IGNORECASE | re.DOTALL,
)
# Elements that never nest: void ones, and those a sibling start tag closes implicitly (<p>,
# <li>, <td>…), so an unclosed run of them stays shallow in the parsed tree.
# fmt: off
_FLAT_ELEMENTS = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th",
    "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rtc", "rp",
))
# fmt: on
_BLOCK_NAME = re.compile(rf"(?:{_BLOCK_TAGS})", re.IGNORECASE)


def limit_nesting(html: str, max_depth: int) -> tuple[str, int]:
    """`html` with the tags of elements nested deeper than `max_depth` removed (their text
    kept, a block tag becoming <br>), and the deepest nesting found.

    One linear scan: HTML parsers spend time proportional to the depth on every start tag, so
    200,000 nested <div> took minutes; capped, they take a fraction of a second.
    """
    if "<" not in html:
        return html, 0
    stack: list[str] = []
    open_count: dict[str, int] = {}
    deepest = 0
    pieces: list[str] = []
    kept_to = 0  # html[:kept_to] is already in pieces
    for match in _NEST_TOKEN.finditer(html):
        name = match.group(3)
        if name is None:
            continue
        name = name.lower()
        if name in _FLAT_ELEMENTS:
            continue
        if match.group(2):  # an end tag closes its element and everything opened inside it
            if not open_count.get(name):
                continue
            drop = len(stack) > max_depth and _closes_at(stack, name) >= max_depth
            while stack:
                top = stack.pop()
                open_count[top] -= 1
                if top == name:
                    break
        else:
            stack.append(name)
            open_count[name] = open_count.get(name, 0) + 1
            deepest = max(deepest, len(stack))
            drop = len(stack) > max_depth
        if drop:
            pieces.append(html[kept_to : match.start()])
            pieces.append("<br>" if _BLOCK_NAME.fullmatch(name) else "")
            kept_to = match.end()
    if deepest <= max_depth:
        return html, deepest
    pieces.append(html[kept_to:])
    return "".join(pieces), deepest


def _closes_at(stack: list[str], name: str) -> int:
    """Index in `stack` of the innermost open element called `name` (it must be open)."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] == name:
            return i
    return -1


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment or page: one paragraph per line, scripts dropped."""
    if not _OTHER_MARKUP.search(html):
        # Only <p> and <br> tags, as in most JSONL exports: the same text without building a
        # DOM, three times as fast on the 75,806 news items of xwlb.
        text = _SIMPLE_TAGS.sub(_MARK, html.replace(_MARK, "") if _MARK in html else html)
        return _paragraphs(unescape(text) if "&" in text else text)
    tree = _parse(html)
    node = tree.body or tree.root
    return _paragraphs(node.text()) if node is not None else ""


def html_document(html: str) -> HtmlDocument:
    """Text of a whole HTML page (its article or main element when it has one) and its metadata."""
    tree = _parse(html)
    meta = _html_meta(tree)
    h1 = tree.css_first("h1")
    title = _paragraphs(h1.text()).replace("\n", " ") if h1 is not None else ""
    title = title or meta.pop("title", "") or _page_title(tree)
    meta.pop("title", None)
    node = tree.css_first("article") or tree.css_first("main") or tree.body or tree.root
    if node is None:
        return HtmlDocument("", title, meta)
    for unwanted in node.css("nav, aside"):
        unwanted.decompose()
    return HtmlDocument(_paragraphs(node.text()), title, meta)


_META_NAMES = {
    "articletitle": "title",
    "og:title": "title",
    "pubdate": "date",
    "publishdate": "date",
    "publish_date": "date",
    "publishtime": "date",
    "firstpublishedtime": "date",
    "article:published_time": "date",
    "dc.date": "date",
    "dcterms.created": "date",
    "date": "date",
    "contentsource": "source",
    "source": "source",
    "author": "author",
    "article:author": "author",
    "dc.creator": "author",
    "og:url": "url",
}


def _html_meta(tree: LexborHTMLParser) -> dict[str, str]:
    meta: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        name = (attrs.get("name") or attrs.get("property") or "").strip().lower()
        key = _META_NAMES.get(name)
        value = clean_line(attrs.get("content") or "")
        if key and value and key not in meta:
            meta[key] = value
    canonical = tree.css_first("link[rel=canonical]")
    if canonical is not None and (href := (canonical.attributes.get("href") or "").strip()):
        meta["url"] = href
    return meta


_TITLE_SUFFIX = re.compile(r"\s*(?:_|\s[-|–—]\s|｜|\|)\s*[^_|｜]{1,30}$")


def _page_title(tree: LexborHTMLParser) -> str:
    node = tree.css_first("title")
    if node is None:
        return ""
    title = clean_line(_INLINE_SPACE.sub(" ", node.text()))
    # "Headline_新华网" / "Headline - 人民网": drop the site name when a real headline remains.
    shortened = _TITLE_SUFFIX.sub("", title)
    return shortened if len(shortened) >= 4 else title


def is_chrome_line(line: str) -> bool:
    """True for a line that is page furniture (toolbar, breadcrumb, share widget), not text."""
    text = clean_line(line)
    if not text:
        return False
    if text.lower() in _CHROME_WORDS or _CHROME_PATTERNS.fullmatch(text):
        return True
    return bool(_NAV_LINK.search(text)) and not _NAV_REST.sub("", _NAV_LINK.sub("", text))


def _is_tail_cut(line: str) -> bool:
    return bool(_TAIL_CUT.fullmatch(clean_line(line)))


_LINK_TARGET = re.compile(r"\]\([^)]*\)|<?https?://[^\s<>]*>?")


def text_length(line: str) -> int:
    """Length of a line's text, not counting URLs or Markdown link targets."""
    if "http" in line or "](" in line:
        line = _LINK_TARGET.sub("", line)
    return len(clean_line(line))


def is_body_line(line: str) -> bool:
    """True for a long line of running text (a paragraph), as opposed to headings and chrome."""
    if len(line) < BODY_LINE_CHARS:
        return False
    if len(line) > 3 * BODY_LINE_CHARS and "http" not in line:
        return True
    return text_length(line) >= BODY_LINE_CHARS


def _is_short_sentence(line: str) -> bool:
    text = clean_line(line)
    return len(text) >= 15 and text[-1] in "。！？!?" and not is_chrome_line(text)


def body_bounds(lines: list[str]) -> tuple[int, int]:
    """Indexes of the first and one past the last long (body) line; (len, len) when none."""
    long_lines = [i for i, line in enumerate(lines) if len(line) >= BODY_LINE_CHARS]
    if long_lines and not (
        is_body_line(lines[long_lines[0]]) and is_body_line(lines[long_lines[-1]])
    ):
        long_lines = [i for i in long_lines if is_body_line(lines[i])]
    if not long_lines:  # a short text: its sentences are its body
        long_lines = [i for i, line in enumerate(lines) if _is_short_sentence(line)]
    if not long_lines:
        return len(lines), len(lines)
    return long_lines[0], long_lines[-1] + 1


_CRUMB_SEPARATORS = frozenset({">", ">>", "»", "›"})


def _strip_head(lines: list[str], end: int) -> list[str]:
    """Lines before `end` without chrome, breadcrumb items included."""
    kept: list[str] = []
    after_separator = False  # the previous line was a breadcrumb separator (">")
    crumb = ""
    for line in lines[:end]:
        text = clean_line(line)
        if not text:
            kept.append("")
            continue
        if is_chrome_line(text):
            after_separator = text in _CRUMB_SEPARATORS
            continue
        # The item after a ">" separator, and the same item repeated as a column header.
        if (after_separator and len(text) <= 12) or (crumb and text == crumb):
            crumb = text
            after_separator = False
            continue
        after_separator = False
        crumb = ""
        kept.append(line)
    return kept


def _strip_tail(lines: list[str]) -> list[str]:
    """Tail lines without chrome; after a "related links" marker only whole sentences are kept
    (link lists are headlines, but a body sentence placed after the marker is still text)."""
    kept: list[str] = []
    cut = False
    for line in lines:
        if _is_tail_cut(line):
            cut = True
            continue
        if cut and not _is_short_sentence(line):
            continue
        if not is_chrome_line(line):
            kept.append(line)
    return kept


def collapse_blank_lines(lines: list[str]) -> list[str]:
    """Lines with runs of blank lines reduced to one and none at either end."""
    cleaned = clean_lines(lines)
    if all(cleaned):
        return lines
    out: list[str] = []
    for line, text in zip(lines, cleaned, strict=True):
        if text or (out and out[-1]):
            out.append(line if text else "")
    while out and not out[-1]:
        out.pop()
    return out


def strip_chrome(text: str) -> str:
    """Remove web-page chrome (toolbars, breadcrumbs, share widgets, related links) at the top
    and bottom of `text`; body lines are never touched. Blank-line runs collapse to one."""
    lines = [_strip_indent(line) for line in normalize_newlines(text).split("\n")]
    return "\n".join(strip_chrome_lines(lines))


def strip_chrome_lines(lines: list[str]) -> list[str]:
    """`strip_chrome` on lines already split, newline-normalised and de-indented."""
    first, last = body_bounds(lines)
    head_end = min(first, _HEAD_MAX_LINES)
    if last <= head_end:  # no body line: only short lines, treat them all as head
        head_end, last = len(lines), len(lines)
    tail_start = max(last, len(lines) - _TAIL_MAX_LINES, head_end)
    if head_end == 0 and tail_start == len(lines):
        return collapse_blank_lines(lines)
    out = _strip_head(lines, head_end) + lines[head_end:tail_start]
    return collapse_blank_lines(out + _strip_tail(lines[tail_start:]))


def _strip_indent(line: str) -> str:
    # Keep ASCII indentation (Markdown needs it); drop ideographic/no-break indentation.
    return line.rstrip(_LINE_STRIP).lstrip("\u3000\xa0\u200b\ufeff")


# A line ending like this closes its sentence; a line starting like this opens a new block.
_CLOSED_END = frozenset("。！？!?；;：:…”’」』）)】》>—-~.|")
_OPENS_BLOCK = re.compile(
    r"[一二三四五六七八九十]+[、是]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]|[-*#>|—―①-⑳]"
    r"|第[一二三四五六七八九十\d]+[章节条部]"
)
_HAN_END = re.compile(r"[\u3400-\u9fff，、,]$")


def join_broken_lines(lines: list[str]) -> list[str]:
    """Rejoin paragraphs that page layout broke mid-sentence ("一次次暖心之" + "举，逐步…").

    A line is continued by the next one only when it is long (a body line, not a heading) or
    has an unclosed quotation mark, ends with a Han character or a comma, and the next line
    does not open a new block (一、, （一）, 1., a list bullet, a dash).
    """
    out: list[str] = []
    for line in lines:
        if out and line and _continues(out[-1], line):
            out[-1] += line
        else:
            out.append(line)
    return out


def _continues(prev: str, line: str) -> bool:
    if not prev or prev[-1] in _CLOSED_END or not _HAN_END.search(prev):
        return False
    if _OPENS_BLOCK.match(line):
        return False
    return len(prev) >= BODY_LINE_CHARS * 0.8 or prev.count("“") > prev.count("”")
