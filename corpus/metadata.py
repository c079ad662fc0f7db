"""Title, subtitle, date, source, author and URL of an article, from its text and given hints.

Hints (front matter, JSONL fields, HTML head) win over what the text says. From the text only
lines in a metadata position are read: the head before the first body paragraph and the last
few lines. A year or date mentioned in a body sentence is never taken as the article's date.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from dataclasses import dataclass

from zhsearch.corpus.chars import HAN_CLASS
from zhsearch.corpus.clean import (
    BODY_LINE_CHARS,
    clean_line,
    clean_lines,
    is_body_line,
    is_chrome_line,
)

_HEAD_MAX_LINES = 40
_TAIL_LINES = 8  # non-empty lines at the end that may hold a source, URL or byline
_META_LINE_MAX = 80  # longer lines are text, not 来源/时间/byline lines

_YEAR = r"(?:19|20)\d{2}"
# A date as a whole hint value: 2012-07-02 19:06:13, 2022-03-11 02:00:40 +0800, 2023年5月9日,
# 2023/05/09, 20230509, 2023-05 (month), 2023年5月 (month), 2023 (year).
_HINT_DATE = re.compile(
    rf"(?P<y>{_YEAR})\s*(?:"
    r"年\s*(?P<m1>\d{1,2})\s*月(?:\s*(?P<d1>\d{1,2})\s*[日号]?)?"
    r"|(?P<sep>[-/.])\s*(?P<m2>\d{1,2})(?:\s*(?P=sep)\s*(?P<d2>\d{1,2}))?(?!\d)"
    r"|(?P<m3>\d{2})(?P<d3>\d{2})(?!\d)"
    r"|年?(?!\d))"
)
# A date written in a metadata line of the text; at least a month is required there.
_TEXT_DATE = (
    rf"{_YEAR}\s*(?:年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*[日号])?"
    r"|[-/.]\d{1,2}(?:[-/.]\d{1,2})?(?!\d))"
)
_TIME = r"\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}\s*秒?|\s*分)?"
_URL_DATES = (
    (re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"), "day"),  # /2023/05/09/
    (re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"), "day"),  # /2023-05/09/
    (re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/"), "day"),  # /2023/0509/
    (re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_"), "day"),  # /t20230509_123.html
    (re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"), "day"),  # /20230509/
    (re.compile(r"/((?:19|20)\d{2})(\d{2})/"), "month"),  # /202305/
)

# One field of a metadata line: 时间：2026-02-09, 来源：南通日报, 作者：张三, a bare date, 阅读量：.
_SEGMENT = re.compile(
    r"(?:(?:发布|发表|更新|录入|成文)?(?:时间|日期)\s*[:：]\s*"
    rf"(?P<dvalue>{_TEXT_DATE}(?:\s*{_TIME})?)?"
    rf"|(?P<date>{_TEXT_DATE}(?:\s*{_TIME})?)"
    r"|(?P<label>(?:文章|信息|稿件|新闻)?来源|作者|(?:阅读|浏览|点击|访问)(?:量|数|次数)?)"
    r"\s*[:：]\s*(?P<value>[^\s|｜:：()（）]*))"
)
_SEGMENT_SEP = re.compile(r"[\s|｜丨/]*")
_OUTER_PARENS = re.compile(r"^[（(](.*)[）)]$")
_DATE_ONLY = re.compile(rf"{_TEXT_DATE}(?:\s*{_TIME})?")

_NAME = rf"{HAN_CLASS}{{2,4}}"
_LONG_NAME = rf"(?:{HAN_CLASS}{{1,8}}·{HAN_CLASS}{{1,10}}|{_NAME})"  # 艾尔肯·吐尼亚孜
# "文/刘杰 图/郭夜梅", "作者：张三", "本报记者 李四 王五"; a photo credit alone is not a byline.
_BYLINE = re.compile(
    r"(?:(?:文|撰文|文字|图文)\s*[/／|｜]|作者\s*[/／:：|｜\s]|(?:本报|特约|文字)?记者\s*[/／|｜\s])"
    rf"\s*(?P<names>{_LONG_NAME}(?:[\s、，,]+{_LONG_NAME})*)"
    r"(?:\s+(?:图|摄影|摄像|图片|视频|编辑|通讯员)\s*[/／:：|｜]\s*.*)?"
)
_BARE_NAME = re.compile(rf"[（(]?\s*({_NAME})\s*[）)]?")
_TRAILING_NAME = re.compile(
    rf"[。！？!?”’」』…](?:\s*[（(](?P<paren>{_NAME})[）)]|\s+(?P<spaced>{_NAME}))$"
)
_ANONYMOUS = "佚名"
# Short lines that end articles or label things but are not people.
# fmt: off
_NOT_NAMES = frozenset((
    "完", "待续", "未完", "未完待续", "全文完", "结束", "结语", "前言", "后记", "尾声", "附件",
    "附录", "注释", "说明", "小结", "总结", "返回", "首页", "打印", "关闭", "收藏", "分享", "下载",
    "图片", "资料图", "资料图片", "视频", "责任编辑", "编辑", "来源", "作者", "记者", "原标题",
    "相关阅读", "相关报道", "延伸阅读", "链接", "评论", "点赞", "转发", "推荐", "专题",
))
# fmt: on
_ORG_SUFFIX = tuple("报社网台局委厅部办会院站刊号县市省区司处所")
# Common surnames: a bare line or parenthesis counts as a byline only when it starts with one,
# so "(升旗)" closing a news item is not read as a writer's name.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲"
    "房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟"
    "应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀"
    "郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴"
    "丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富"
    "尧闭由萧"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "司徒",
    "夏侯",
    "令狐",
)
_URL_LINE = re.compile(
    r"(?:(?:原文链接|原文地址|原文|链接|网址|来源网址|url|link)\s*[:：]\s*)?<?(https?://[^\s<>]+)>?",
    re.IGNORECASE,
)
_KICKER = re.compile(r"【[^【】]{1,30}】")
_SUBTITLE = re.compile(r"(?:——|――|──|－－|--|—|―)\s*(?P<text>[^—―─－-].*)")
_MD_HEADING = re.compile(r"#{1,6}\s+(?P<text>.*?)\s*#*")
_SENTENCE_END = re.compile(r"[。！？!?]")
_SQUASH = re.compile(r"[\s#*]+")
# Every metadata, byline or URL line has one of these; other lines skip the full parse.
_META_HINT = re.compile(
    r"来源|作者|时间|日期|https?:|文\s*[/／|｜]|记者|阅读|浏览|点击|访问|^\W{0,2}(?:19|20)\d\d"
)
_CLAUSE_PUNCT = re.compile(r"[，。；！？,;!?]")


@dataclass
class Metadata:
    """What was found about an article, and its body with the metadata lines taken out."""

    title: str = ""
    subtitle: str = ""
    date: dt.date | None = None
    date_precision: str = "unknown"
    source: str = ""
    author: str = ""
    url: str = ""
    body: str = ""


def parse_date(value: str) -> tuple[dt.date | None, str]:
    """A date hint such as "2012-07-02 19:06:13" or "2023年5月" → (date, precision)."""
    match = _HINT_DATE.match(value.strip()) if value else None
    if match is None:
        return None, "unknown"
    month = match["m1"] or match["m2"] or match["m3"]
    day = match["d1"] or match["d2"] or match["d3"]
    precision = "day" if day else "month" if month else "year"
    return _make_date(match["y"], month or "1", day or "1", precision)


def _make_date(year: str, month: str, day: str, precision: str) -> tuple[dt.date | None, str]:
    try:
        return dt.date(int(year), int(month), int(day)), precision
    except ValueError:
        return None, "unknown"


def date_from_url(url: str) -> tuple[dt.date | None, str]:
    """The date a URL path encodes (/2023/05/09/, t20230509_, /202305/), else (None, unknown)."""
    for pattern, precision in _URL_DATES:
        match = pattern.search(url)
        if match:
            day = match.group(3) if precision == "day" else "1"
            found = _make_date(match.group(1), match.group(2), day, precision)
            if found[0] is not None:
                return found
    return None, "unknown"


def metadata_fields(line: str) -> tuple[list[tuple[str, str]], bool]:
    """The (kind, value) fields of a metadata line and whether the line holds nothing else.

    kind is "date", "source", "author" or "count"; a value is "" when the label stands alone
    ("来源：" with the value on the next line).
    """
    text = clean_line(line)
    inner = _OUTER_PARENS.match(text)
    if inner:
        text = inner.group(1).strip()
    fields: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if match is None or match.end() == pos:
            return fields, False
        fields.append(_field(match))
        separator = _SEGMENT_SEP.match(text, match.end())
        pos = separator.end() if separator else match.end()
    return fields, bool(fields)


def _field(match: re.Match[str]) -> tuple[str, str]:
    if match["date"]:
        return "date", match["date"]
    label = match["label"]
    if label is None:
        return "date", match["dvalue"] or ""
    if label.endswith("来源"):
        return "source", match["value"]
    if label == "作者":
        return "author", match["value"]
    return "count", match["value"]


def is_person_name(name: str) -> bool:
    """True when `name` can be a Chinese personal name: 2–4 characters led by a common surname
    (or a transcribed name with "·"), and not a word that closes articles or an organisation."""
    if "·" in name:
        return True
    if not 2 <= len(name) <= 4 or name in _NOT_NAMES or name.endswith(_ORG_SUFFIX):
        return False
    return name[0] in _SURNAMES or (name.startswith(_COMPOUND_SURNAMES) and len(name) >= 3)


def byline_author(line: str) -> str | None:
    """The writer named by a byline line ("文/刘杰 图/郭夜梅" → 刘杰), or None if it is not one."""
    match = _BYLINE.fullmatch(clean_line(line))
    if match is None:
        return None
    names = [n for n in re.split(r"[\s、，,]+", match["names"]) if n and n != _ANONYMOUS]
    if not all(is_person_name(n) for n in names):
        return None
    return "、".join(names)


def bare_name(line: str) -> str | None:
    """A line that is only a person's name ("贾奕", "（闫杰）", "佚名"), as the end of an
    article prints its writer; "" for 佚名 (anonymous), None when the line is not a name."""
    match = _BARE_NAME.fullmatch(clean_line(line))
    if match is None:
        return None
    name = match.group(1)
    if name == _ANONYMOUS:
        return ""
    return name if is_person_name(name) else None


def _trailing_name(line: str) -> tuple[str, str] | None:
    """(text, name) when a paragraph ends with a byline: "…贡献。 佚名", "…动能。（闫杰）"."""
    text = clean_line(line)
    match = _TRAILING_NAME.search(text)
    if match is None:
        return None
    name = match["paren"] or match["spaced"]
    if name != _ANONYMOUS and not is_person_name(name):
        return None
    return text[: match.start() + 1], "" if name == _ANONYMOUS else name


def url_in_line(line: str) -> str:
    """The URL when the line is only a link (bare, <…>, 原文链接：…), else ""."""
    match = _URL_LINE.fullmatch(clean_line(line))
    return match.group(1) if match else ""


def is_kicker(line: str) -> bool:
    """True for a column label such as 【高质量发展调研行】 printed above a headline."""
    return bool(_KICKER.fullmatch(clean_line(line)))


def subtitle_text(line: str) -> str:
    """The subtitle of a "——subtitle" line without its dashes, or "" when it is not one."""
    text = clean_line(line)
    match = _SUBTITLE.fullmatch(text)
    if match is None or len(text) > 80 or text.endswith("。"):
        return ""
    return match["text"].strip()


def _squash(text: str) -> str:
    return _SQUASH.sub("", text).lower()


def _is_title_line(line: str, squashed_title: str) -> bool:
    """True when `line` prints the title (given through `_squash`), or its ending part."""
    if len(line) > 2 * len(squashed_title) + 10:
        return False
    a, b = _squash(line), squashed_title
    if not a or not b:
        return False
    # "政府工作报告" printed for the hint "2026年广东省政府工作报告".
    return a == b or (b.endswith(a) and len(a) >= 6 and len(a) >= 0.3 * len(b))


def _is_substantial(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= 2


def _looks_like_paragraph(text: str) -> bool:
    return len(text) > 80 or (len(text) > 25 and text[-1] in "。！？!?")


def _clip_title(text: str) -> str:
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    return sentence if len(sentence) <= 40 else sentence[:40] + "…"


class _Reader:
    """One pass over an article's lines; `drop` collects the metadata lines to take out."""

    def __init__(self, text: str, markdown: bool) -> None:
        self.text = text
        self.raw = text.split("\n")
        self.lines = clean_lines(self.raw)
        self.filled = [i for i, line in enumerate(self.lines) if line]
        self.markdown = markdown
        self.drop: set[int] = set()
        self.header_end = 0  # lines before a known title's line are page header, dropped
        self.head_end = self._head_end()
        self.found = Metadata()
        self.date_text = ""
        self.edited = False  # a raw line was changed (a trailing byline cut off)

    def _head_end(self) -> int:
        """End of the head: the first long (body) line, not counting the first line itself."""
        n = len(self.lines)
        first = self.filled[0] if self.filled else n
        for i in range(first + 1, min(n, _HEAD_MAX_LINES)):
            text = self.lines[i]
            if len(text) >= 15 and (text[-1] in "。！？!?" or is_body_line(text)):
                return i
        return min(n, max(_HEAD_MAX_LINES, first + 1))

    def nonempty(self, start: int, end: int) -> list[int]:
        """Indexes of the non-empty lines in [start, end) not yet taken out."""
        if start <= 0 and end >= len(self.lines):
            filled = self.filled
        else:
            filled = self.filled[bisect_left(self.filled, start) : bisect_left(self.filled, end)]
        return [i for i in filled if i not in self.drop] if self.drop else filled

    def find_title(self, hint: str) -> int | None:
        """Index of the title line in the head, or None when it is not printed there."""
        head = self.nonempty(0, self.head_end)
        if hint:
            squashed = _squash(hint)
            # A line repeating the title after a body paragraph is a heading inside the text
            # (the lead came first); lines before it are not page header.
            body = next((i for i in head if self._is_paragraph(i)), len(self.lines))
            matches = [i for i in head if i < body and _is_title_line(self._heading(i), squashed)]
            if not matches:
                return None
            self.header_end = matches[-1]
            self.drop.add(matches[-1])
            return matches[-1]
        for i in head:
            text = self._heading(i)
            if is_chrome_line(text) or is_kicker(text) or not _is_substantial(text):
                continue
            if self._is_metadata(i) or subtitle_text(text):
                continue
            if _looks_like_paragraph(text):
                self.found.title = _clip_title(text)
                return None
            self.found.title = text
            self.drop.add(i)
            return i
        return None

    def _is_paragraph(self, i: int) -> bool:
        text = self.lines[i]
        return len(text) >= 15 and (text[-1] in "。！？!?" or is_body_line(text))

    def _heading(self, i: int) -> str:
        text = self.lines[i]
        if self.markdown:
            match = _MD_HEADING.fullmatch(text)
            if match:
                return match["text"]
        return text

    def _is_metadata(self, i: int) -> bool:
        text = self.lines[i]
        return (
            metadata_fields(text)[1] or byline_author(text) is not None or bool(url_in_line(text))
        )

    def _is_split_label(self, i: int) -> bool:
        fields, pure = metadata_fields(self.lines[i])
        return pure and len(fields) == 1 and not fields[0][1]

    def find_subtitle(self, title_at: int | None, hint: str) -> None:
        """A "——" line right after the title; metadata, chrome and a repeated title may sit
        between them."""
        start = 0 if title_at is None else title_at + 1
        end = max(self.head_end, min(start + 8, len(self.lines)))
        squashed = _squash(hint)
        skip_value = False
        for i in self.nonempty(start, end):
            text = self.lines[i]
            if is_body_line(text):
                return
            if skip_value:  # the value line of a "来源：" label standing alone
                skip_value = False
                continue
            if self.markdown and re.fullmatch(r"=+|-+", text):
                self.drop.add(i)  # a setext heading underline
                continue
            if self._is_split_label(i):
                skip_value = True
                continue
            if is_chrome_line(text) or self._is_metadata(i):
                continue
            if squashed and _is_title_line(text, squashed):
                self.drop.add(i)
                continue
            subtitle = subtitle_text(text)
            if subtitle:
                self.found.subtitle = subtitle
                self.drop.add(i)
            return

    def read_metadata_lines(self) -> None:
        """Dates, sources, authors and URLs from head and tail lines; pure ones are dropped."""
        split = bisect_left(self.filled, self.head_end)
        head, tail = self.filled[:split], self.filled[split:][-_TAIL_LINES:]
        for lines, is_tail in ((head, False), (tail, True)):
            for i in lines:
                text = self.lines[i]
                if i in self.drop or (len(text) > _META_LINE_MAX and "http" not in text):
                    continue
                if _META_HINT.search(text):
                    self._read_line(i, is_tail)
        self.drop.update(range(self.header_end))

    def _read_line(self, i: int, tail: bool) -> None:
        text = self.lines[i]
        url = url_in_line(text)
        if url:
            self.found.url = self.found.url or url
            self.drop.add(i)
            return
        author = byline_author(text) if len(text) < BODY_LINE_CHARS else None
        if author is not None:
            self.found.author = self.found.author or author
            self.drop.add(i)
            return
        fields, pure = metadata_fields(text)
        if not pure and _CLAUSE_PUNCT.search(text):
            return  # a sentence that merely starts with a date, not a metadata line
        if tail and _DATE_ONLY.fullmatch(text):
            return  # a bare date closing the text (a letter's signing date) is body text
        if pure and len(fields) == 1 and not fields[0][1]:
            fields = self._split_value(i, fields[0][0])
        for kind, value in fields:
            self._take(kind, value)
        if pure:
            self.drop.add(i)

    def _split_value(self, i: int, kind: str) -> list[tuple[str, str]]:
        """The value of a label standing alone on its line ("来源："), from the next line."""
        following = self.nonempty(i + 1, min(i + 3, len(self.lines)))
        if not following:
            return [(kind, "")]
        j = following[0]
        value = self.lines[j]
        if kind == "date" and _DATE_ONLY.fullmatch(value):
            self.drop.add(j)
            return [(kind, value)]
        plain = len(value) <= 30 and not re.search("[:：]", value) and not is_chrome_line(value)
        if kind in ("source", "author") and plain:
            self.drop.add(j)
            return [(kind, value)]
        return [(kind, "")]

    def _take(self, kind: str, value: str) -> None:
        value = value.strip(" ，,。.;；")
        if not value:
            return
        if kind == "date" and not self.date_text:
            self.date_text = value
        elif kind == "source" and not self.found.source and len(value) <= 30:
            self.found.source = value
        elif kind == "author" and not self.found.author:
            self.found.author = "" if value == _ANONYMOUS else value

    def read_end_byline(self) -> None:
        """A writer's name closing the article: a line of its own or the end of the last one."""
        rest = self.nonempty(0, len(self.lines))
        if len(rest) < 2:
            return
        last = rest[-1]
        if self.lines[rest[-2]].endswith((":", "：")):
            return  # the value of a label such as "责任编辑：" above it
        name = bare_name(self.lines[last])
        if name is not None:
            self.found.author = self.found.author or name
            self.drop.add(last)
            return
        trailing = _trailing_name(self.lines[last])
        if trailing is not None:
            self.found.author = self.found.author or trailing[1]
            self.raw[last] = trailing[0]
            self.edited = True

    def body(self) -> str:
        """The text without the dropped lines."""
        if not self.drop and not self.edited:
            return self.text
        return "\n".join(line for i, line in enumerate(self.raw) if i not in self.drop)


def extract_metadata(
    text: str,
    *,
    title: str = "",
    date: str = "",
    source: str = "",
    author: str = "",
    url: str = "",
    markdown: bool = False,
) -> Metadata:
    """Metadata of one article's text; the keyword arguments are hints given by the file.

    The returned body no longer holds the title, subtitle or pure metadata lines (来源：…,
    时间：…, bylines, a bare URL); body sentences are never removed.
    """
    title, source, author = clean_line(title), clean_line(source), clean_line(author)
    reader = _Reader(text, markdown)
    reader.find_subtitle(reader.find_title(title), title)
    reader.read_metadata_lines()
    reader.read_end_byline()
    found = reader.found
    found.title = title or found.title
    found.body = reader.body()
    if source.lower().startswith(("http://", "https://")):
        url, source = url or source, ""  # some exports put the page URL in "source"
    found.source = source or found.source
    found.url = clean_line(url) or found.url
    if author:
        found.author = "" if author == _ANONYMOUS else author
    found.date, found.date_precision = _choose_date(date, reader.date_text, found.url)
    return found


def _choose_date(hint: str, text_date: str, url: str) -> tuple[dt.date | None, str]:
    """The hint's date, else a date from a metadata line, else one the URL encodes."""
    found = parse_date(hint)
    if found[0] is None and text_date:
        found = parse_date(text_date)
    if found[0] is None and url:
        found = date_from_url(url)
    return found
