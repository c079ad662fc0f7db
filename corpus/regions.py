"""The region gazetteer (GB/T 2260 divisions shipped in corpus/data) and region extraction.

Extraction tells the place a report is *about* from places it mentions in passing: each genuine
place word adds weight to its division and every ancestor, and the choice descends province →
city → county only while one child holds a large share of its parent's weight.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from zhsearch.corpus.article import Article, Region
from zhsearch.corpus.segment import is_wordlike

if TYPE_CHECKING:
    from zhsearch.corpus.facets import ArticleWords


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string (lists of names read best so)."""
    return frozenset(text.split())


# --- name rules -------------------------------------------------------------------------------

# Ethnic names stripped from autonomous units: 恩施土家族苗族自治州 → 恩施, 长阳土家族自治县 → 长阳.
_ETHNIC = wordset(
    "土家族 苗族 藏族 彝族 壮族 布依族 侗族 哈尼族 傣族 白族 景颇族 傈僳族 回族 蒙古族 朝鲜族 羌族 "
    "黎族 瑶族 仫佬族 毛南族 满族 畲族 达斡尔族 鄂温克族 鄂伦春族 撒拉族 土族 裕固族 东乡族 保安族 "
    "纳西族 拉祜族 佤族 普米族 独龙族 怒族 水族 仡佬族 各族 锡伯族 塔吉克族 哈萨克族 柯尔克孜族 "
    "维吾尔族 傈僳 哈萨克 柯尔克孜 蒙古 维吾尔 塔吉克 锡伯 鄂伦春 壮 回"
)
_ETHNIC_RE = re.compile("(?:" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")+$")
_UNIT_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "林区", "特区", "新区")
_PLAIN_SUFFIXES = ("地区", "省", "市", "县", "区", "盟", "旗")

# Old names that changed, mapped to the current unit (explicit; plain 县/市→区 upgrades such as
# 吴江市→吴江区 are generated). Only full old names: 长治县 must not be read from 长治+县处级.
_FORMER = {
    "长治县": "140404",  # 2018 → 上党区
    "屯留县": "140405",
    "潞城市": "140406",
    "莱芜市": "370116",  # 2019 merged into 济南市 as 莱芜区
    "襄樊市": "420600",
    "襄樊": "420600",
    "思茅市": "530800",
    "开县": "500154",  # 2016 → 开州区
    "蓟县": "120119",  # 2016 → 蓟州区
    "郫县": "510117",  # 2016 → 郫都区
    "户县": "610118",  # 2016 → 鄠邑区
    "华县": "610503",  # 2015 → 华州区
    "郧县": "420304",  # 2014 → 郧阳区
    "陵县": "371403",  # 2014 → 陵城区
    "达县": "511703",  # 2013 → 达川区
    "闸北区": "310106",  # 2015 merged into 静安区
    "闸北": "310106",
    "卢湾区": "310101",  # 2011 merged into 黄浦区
    "南汇区": "310115",  # 2009 merged into 浦东新区
    "宣武区": "110102",  # 2010 merged into 西城区
    "崇文区": "110101",  # 2010 merged into 东城区
    "塘沽区": "120116",  # 2009 merged into 滨海新区
    "汉沽区": "120116",
    "大港区": "120116",
    "株洲县": "430212",  # 2018 → 渌口区
    "九江县": "360404",  # 2017 → 柴桑区
    "上饶县": "361104",  # 2019 → 广信区
    "遵义县": "520304",  # 2016 → 播州区
    "宜宾县": "511504",  # 2018 → 叙州区
    "开封县": "410212",  # 2014 → 祥符区
    "绍兴县": "330603",  # 2013 → 柯桥区
    "江东区": "330212",  # 2016 merged into 鄞州区 (宁波)
    "唐海县": "130209",  # 2012 → 曹妃甸区
    "铜陵县": "340706",  # 2015 → 义安区
    "楚州区": "320803",  # 2012 → 淮安区
    "萝岗区": "440112",  # 2014 merged into 黄埔区
}

_PEOPLE_TAILS = frozenset({"人", "籍"})


def _strip_ethnic(stem: str) -> str:
    """恩施土家族苗族 → 恩施; 内蒙古 and 鄂伦春 (nothing left but an ethnic name) stay whole."""
    short = _ETHNIC_RE.sub("", stem)
    return short if len(short) >= 2 else stem.removesuffix("族")


def short_forms(name: str) -> list[str]:
    """Short names of an official name, longest first: 晋中市 → [晋中]; 恩施…州 → [恩施州, 恩施]."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = _strip_ethnic(name[: -len(suffix)])
            if suffix == "自治州":
                return [stem + "州", stem] if len(stem) >= 2 else []
            return [stem] if len(stem) >= 2 and stem != name else []
    for suffix in _PLAIN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            if suffix == "旗" and stem[-1] in "左右前后中":
                return []  # 土默特左旗: no usable short form
            return [stem]
    return []


# --- the gazetteer ----------------------------------------------------------------------------

# One way a word can name a division: (code, strong, ordinary). Strong names count on their own;
# weak ones (short county names, names shared by several units) need an ancestor named elsewhere;
# ordinary words (资源, 比如) need their parent itself named, or written right before them.
Candidate = tuple[str, bool, bool]


class Gazetteer:
    """The division tree with every name, short name and old name that can refer to a unit."""

    def __init__(self, rows: list[tuple[str, str]], vintage: str) -> None:
        self.vintage = vintage
        self._names = dict(rows)
        self._parent: dict[str, str] = {}
        self._children: dict[str, list[str]] = {}
        for code in sorted(self._names):
            parent = self._parent_of(code)
            if parent:
                self._parent[code] = parent
                self._children.setdefault(parent, []).append(code)
        self._ancestors: dict[str, tuple[str, ...]] = {c: self._chain(c) for c in self._names}
        shorts = {c: short_forms(n) for c, n in self._names.items()}
        self._short = {c: (shorts[c] or [n])[-1] for c, n in self._names.items()}
        self._generated: set[str] = set()
        self.index = self._build_index(shorts)
        self.heads = frozenset(w[:2] for w in self.index)  # first two characters of every name
        self._max_name = max(len(w) for w in self.index)
        self._compound_cache: dict[str, tuple[tuple[Candidate, ...], ...] | None] = {}

    def _parent_of(self, code: str) -> str:
        if code.endswith("0000"):
            return ""
        city = code[:4] + "00"
        if city != code and city in self._names:
            return city
        return code[:2] + "0000"

    def _chain(self, code: str) -> tuple[str, ...]:
        chain = [code]
        while code in self._parent:
            code = self._parent[code]
            chain.append(code)
        return tuple(reversed(chain))

    # -- public lookups --

    def name(self, code: str) -> str:
        """Official name of a code ("昔阳县"), "" when unknown."""
        return self._names.get(code, "")

    def short_name(self, code: str) -> str:
        """Name without its unit word ("昔阳", "内蒙古"); the full name when there is none."""
        return self._short.get(code, "")

    def path(self, code: str) -> str:
        """Readable path from the province down: "山西省/晋中市/昔阳县"."""
        return "/".join(self._names[c] for c in self._ancestors.get(code, ()))

    def parent(self, code: str) -> str | None:
        """The enclosing unit's code; None for a province or an unknown code."""
        return self._parent.get(code)

    def children(self, code: str) -> list[str]:
        """Codes of the units directly below (sorted); municipalities list their districts."""
        return list(self._children.get(code, ()))

    def ancestors(self, code: str) -> list[str]:
        """Province first, down to and including `code`; [] for an unknown code."""
        return list(self._ancestors.get(code, ()))

    def lineage(self, code: str) -> tuple[str, ...]:
        """`ancestors` as the stored tuple, not copied (extraction asks it per candidate)."""
        return self._ancestors.get(code, ())

    def level(self, code: str) -> int:
        """1 province, 2 prefecture-level city, 3 county-level unit (0 when unknown)."""
        if code not in self._names:
            return 0
        if code.endswith("0000"):
            return 1
        return 2 if code.endswith("00") else 3

    def provinces(self) -> list[str]:
        """Codes of the 34 provincial units, sorted."""
        return [c for c in sorted(self._names) if c.endswith("0000")]

    def codes(self) -> list[str]:
        """Every code in the table, sorted."""
        return sorted(self._names)

    def lookup(self, name: str, strict: bool = False) -> str | None:
        """Code for a name, short name, old name, code or path ("山西/晋中/昔阳", "湖北宜都"); None
        when unknown or ambiguous (鼓楼: four cities have one). `strict` also refuses a bare
        ordinary word (中方, 资源) that no enclosing place qualifies, as in a headline prefix."""
        text = name.strip().replace(" ", "")
        if text in self._names:
            return text
        parts = [p for p in re.split(r"[/／>›·\s]+", text) if p]
        found: str | None = None
        for part in parts:
            pieces = self.split_compound(part)
            if not pieces:
                return None
            for cands in pieces:
                if strict and found is None and all(c[2] for c in cands):
                    return None
                found = _pick_within(self, cands, found)
                if found is None:
                    return None
        return found

    # -- extraction helpers --

    def candidates(self, word: str) -> tuple[Candidate, ...] | None:
        """Divisions a single word may name, or None when it names none."""
        return self.index.get(word)

    def split_compound(self, word: str) -> tuple[tuple[Candidate, ...], ...] | None:
        """A word made of place names (上海市浦东新区, 山西省委): the candidates of each name, left
        to right; a tail after a full name is allowed (委, 政府). None when it is no such word."""
        cached = self._compound_cache.get(word, False)
        if cached is not False:
            return cached
        pieces: list[tuple[Candidate, ...]] = []
        i, n = 0, len(word)
        while i < n:
            for j in range(min(n, i + self._max_name), i + 1, -1):
                cands = self.index.get(word[i:j])
                if cands:
                    pieces.append(cands)
                    i = j
                    break
            else:
                # Unmatched tail: fine after a full unit name (山西省|委) or for people (四川|人).
                full = word[:i].endswith(("省", "市", "县", "区", "州"))
                if not pieces or not (full or word[i:] in _PEOPLE_TAILS):
                    pieces = []
                break
        result = tuple(pieces) or None
        if len(self._compound_cache) < 200_000:
            self._compound_cache[word] = result
        return result

    def dict_words(self) -> list[str]:
        """Every name worth adding to the segmenter's dictionary (sorted)."""
        return sorted(w for w in self.index if w not in self._generated)

    def _build_index(self, shorts: dict[str, list[str]]) -> dict[str, tuple[Candidate, ...]]:
        """Every name → its candidates; `shorts`: each code's short forms, worked out once."""
        full_count = Counter(self._names.values())
        levels = {code: self.level(code) for code in self._names}
        ordinary_words = _ordinary_words()
        raw: dict[str, dict[str, tuple[bool, bool]]] = {}

        def add(word: str, code: str, strong: bool) -> None:
            if len(word) < 2:
                return
            ordinary = word in ordinary_words
            raw.setdefault(word, {})[code] = (strong and not ordinary, ordinary)

        for code, full in self._names.items():
            level = levels[code]
            add(full, code, level < 3 or full_count[full] == 1)
            for short in shorts[code]:
                add(short, code, level < 3)
        # Generated old names: 吴江市/吴江县 → 吴江区, only where no current unit has that name.
        # They match only when the segmenter already knows them as words (jieba has 吴江市), so
        # they stay out of places.dict: 南山市 must not swallow 南山市场.
        for code, full in self._names.items():
            if levels[code] == 3 and full.endswith("区") and not full.endswith("新区"):
                for stem in shorts[code]:
                    for old in (stem + "县", stem + "市"):
                        if old not in raw:
                            add(old, code, True)
                            self._generated.add(old)
        for old, code in _FORMER.items():
            if old not in raw or old in ("襄樊", "闸北"):
                raw[old] = {code: (True, False)}
        return {w: _rank(cands, levels) for w, cands in raw.items()}


def _rank(cands: dict[str, tuple[bool, bool]], levels: dict[str, int]) -> tuple[Candidate, ...]:
    if len(cands) == 1:  # most names: nothing to filter or order
        ((code, (strong, ordinary)),) = cands.items()
        return ((code, strong, ordinary),)
    if any(levels.get(c, 0) == 1 for c in cands):
        # 吉林 and 海南 name the province, never 吉林市 or 海南州 (朝阳 keeps all three).
        cands = {c: v for c, v in cands.items() if levels.get(c, 0) == 1}
    weak_if_shared = len(cands) > 1
    return tuple(
        (code, strong and not (weak_if_shared and levels.get(code, 0) == 3), ordinary)
        for code, (strong, ordinary) in sorted(cands.items(), key=lambda kv: levels.get(kv[0], 0))
    )


def _pick_within(gaz: Gazetteer, cands: tuple[Candidate, ...], within: str | None) -> str | None:
    """The candidate inside `within` (or any, when None), preferring the highest level."""
    if within:
        cands = tuple(c for c in cands if within in gaz.lineage(c[0])[:-1])
    elif len(cands) > 1:
        cands = tuple(c for c in cands if c[1])
    if not cands:
        return None
    top = min(gaz.level(c[0]) for c in cands)
    best = [c for c in cands if gaz.level(c[0]) == top]
    return best[0][0] if len(best) == 1 else None


def _data_dir() -> Path:
    return Path(str(resources.files("zhsearch.corpus") / "data"))


@lru_cache(maxsize=1)
def _ordinary_words() -> frozenset[str]:
    """Names that are also everyday words (corpus/data/divisions.ordinary.txt)."""
    text = (_data_dir() / "divisions.ordinary.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() for w in line.split("#")[0].split())


def read_division_table(path: Path) -> tuple[list[tuple[str, str]], str]:
    """Rows (code, name) of a divisions TSV and the vintage from its `# vintage:` header."""
    rows: list[tuple[str, str]] = []
    vintage = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            if line.startswith("# vintage:"):
                vintage = line.split(":", 1)[1].split("(")[0].strip()
            continue
        if line.strip():
            code, name = line.split("\t")
            rows.append((code, name))
    return rows, vintage


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shared gazetteer built from corpus/data/divisions.tsv (cached)."""
    rows, vintage = read_division_table(_data_dir() / "divisions.tsv")
    return Gazetteer(rows, vintage)


# --- extraction -------------------------------------------------------------------------------

W_BODY = 1.0
W_TITLE = 4.0  # a place in the headline says what the report is about
W_PREFIX = 8.0  # xwlb's "[视频]陕西：…" names the region outright
PROVINCE_SHARE = 0.5  # the leading province's share of all weight to be "about" it
DESCEND_SHARE = 0.4  # a child must hold this share of its parent's weight to descend
SIBLING_LEAD = 2.0  # …and this multiple of its runner-up sibling
MIN_WEIGHT = 2.0  # less evidence than this is "unknown" (or "national")

# The word after a place that makes it part of an organisation's name, not a mention.
_ORG_SUFFIXES = wordset(
    "公司 有限公司 股份有限公司 有限责任公司 分公司 集团 集团公司 控股 股份 银行 分行 支行 "
    "农商银行 "
    "大学 学院 医院 研究院 研究所 中学 小学 日报 晚报 电视台 广播电视台 卫视 报社 商会 协会 "
    "俱乐部 证券 保险 航空 队"
)
_ORG_STOP = wordset("的 在 与 和 及 等 是 将 由 把 被 向 从 为 对 了 也 都")
_STREET_SUFFIXES = wordset("路 街 大街 大道 道 巷 胡同 号")
# Single-character surnames (prepositions that are also surnames left out: 于 向 和 从 以…).
_SURNAMES = wordset(
    "陈 王 李 张 刘 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 董 萧 程 曹 "
    "袁 邓 "
    "许 傅 沈 曾 彭 吕 苏 卢 蒋 蔡 贾 丁 魏 薛 叶 阎 余 潘 杜 戴 夏 钟 汪 田 任 姜 范 方 石 姚 谭 "
    "廖 邹 "
    "熊 金 陆 郝 孔 白 崔 康 毛 邱 秦 史 顾 侯 邵 孟 龙 万 段 雷 钱 汤 尹 黎 易 常 武 乔 贺 赖 龚 "
    "文 "
    "栗 蔺 闫 焦 岳 牛 郗 庞 葛 严 付 晏 柴 申 覃 欧阳"
)
# Development zones: place + one of these is the site's zone, never a division code.
_ZONE_SUFFIXES = {
    "经济技术开发区": "开发区",
    "经济开发区": "开发区",
    "技术开发区": "开发区",
    "开发区": "开发区",
    "经开区": "开发区",
    "高新技术产业开发区": "高新区",
    "高新技术开发区": "高新区",
    "高新区": "高新区",
    "综合保税区": "保税区",
    "保税区": "保税区",
    "工业园区": "工业园区",
    "工业园": "工业园区",
    "自贸区": "自贸区",
    "自由贸易试验区": "自贸区",
    "综改区": "综改区",
    "综改示范区": "综改区",
}
_ZONE_MAX_WORDS = 3
_TITLE_PREFIX = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,8}\]|【[^】]{0,20}】))*\s*([^\s：:，,【】\[\]]{2,12})[：:]"
)
# Words that mark a report as being about the country as a whole.
_NATIONAL = wordset(
    "全国 国务院 党中央 中共中央 中央 我国 中国 中方 全国各地 各地 各省 各省区市 多地 全军 "
    "全国人大 "
    "全国政协 两会"
)
# Central actors and national media: they say a report with no region is national, but local
# reports name them too (总书记到过我们家), so they never outweigh a named place.
_CENTRAL = wordset(
    "习近平 总书记 国家主席 总理 国务院总理 委员长 国务委员 人民大会堂 中南海 人民日报 新华社 央视 "
    "华侨 主席令"
)
# Foreign places and bodies: a report made of these is about no Chinese region ("unknown").
_FOREIGN = wordset(
    "美国 俄罗斯 乌克兰 日本 韩国 朝鲜 英国 法国 德国 意大利 西班牙 葡萄牙 荷兰 比利时 瑞士 瑞典 "
    "挪威 "
    "芬兰 丹麦 波兰 希腊 奥地利 匈牙利 塞尔维亚 土耳其 伊朗 伊拉克 叙利亚 以色列 巴勒斯坦 黎巴嫩 "
    "约旦 "
    "沙特 阿联酋 卡塔尔 埃及 利比亚 也门 阿富汗 巴基斯坦 印度 孟加拉国 尼泊尔 斯里兰卡 缅甸 泰国 "
    "越南 "
    "老挝 柬埔寨 马来西亚 新加坡 印尼 印度尼西亚 菲律宾 澳大利亚 新西兰 加拿大 墨西哥 巴西 阿根廷 "
    "智利 秘鲁 委内瑞拉 古巴 哥伦比亚 南非 尼日利亚 埃塞俄比亚 肯尼亚 白俄罗斯 哈萨克斯坦 "
    "乌兹别克斯坦 吉尔吉斯斯坦 塔吉克斯坦 蒙古国 欧盟 北约 联合国 世卫 世卫组织 美方 俄方 日方 "
    "乌方 欧方 欧洲 非洲 中东 拉美 华盛顿 纽约 莫斯科 东京 伦敦 巴黎 柏林 基辅 大马士革 巴格达 "
    "德黑兰 首尔 平壤 特朗普 拜登 普京 泽连斯基 美联储 五角大楼 白宫"
)


@dataclass
class _Occurrence:
    cands: tuple[Candidate, ...]
    weight: float
    prev: str  # code of the place word right before this one ("" when none)
    zone: str = ""  # "长治高新区" when this place names a development zone
    zone_kind: str = ""
    code: str = ""


@dataclass
class _Scan:
    occurrences: list[_Occurrence] = field(default_factory=list)
    national: int = 0  # words framing the country as the subject (全国, 国务院, 中方)
    central: int = 0  # central leaders and national media (总书记, 人民日报)
    foreign: int = 0  # words naming foreign countries and bodies


def extract_region(article: Article, words: ArticleWords | None = None) -> Region:
    """The region `article` is about (given region first), with its mentions and zone."""
    if words is None:
        from zhsearch.corpus.facets import article_words

        words = article_words(article)
    gaz = gazetteer()
    scan = _scan(gaz, article.title, words)
    _resolve(gaz, scan.occurrences)
    mentions = Counter(o.code for o in scan.occurrences if o.code)
    region = _given(gaz, article.given_region) or _choose(gaz, scan)
    region.mentions = dict(sorted(mentions.items()))
    region.zone = _zone(gaz, region, scan.occurrences)
    return region


def region_for_code(code: str) -> Region:
    """An "about" Region for a known code, with its ancestors and path."""
    gaz = gazetteer()
    return Region(status="about", code=code, codes=gaz.ancestors(code), path=gaz.path(code))


def _given(gaz: Gazetteer, given: str) -> Region | None:
    if not given.strip():
        return None
    if given.strip().lower() in ("national", "全国", "中国"):
        return Region(status="national")
    code = gaz.lookup(given)
    return region_for_code(code) if code else None


def _scan(gaz: Gazetteer, title: str, words: ArticleWords) -> _Scan:
    scan = _Scan()
    prefix = _title_prefix(gaz, title)
    if prefix:
        scan.occurrences.extend(_Occurrence(c, W_PREFIX, "") for c in prefix)
    for seq, weight in (
        (words.title, W_TITLE),
        (words.subtitle, W_TITLE / 2),
        (words.body, W_BODY),
    ):
        _scan_words(gaz, seq, weight, scan, skip_prefix=bool(prefix) and seq is words.title)
    return scan


def _title_prefix(gaz: Gazetteer, title: str) -> list[tuple[Candidate, ...]]:
    m = _TITLE_PREFIX.match(title)
    code = gaz.lookup(m.group(1), strict=True) if m else None
    return [((code, True, False),)] if code else []


def _markers() -> dict[str, str]:
    """National, central and foreign marker words → the _Scan counter each one feeds."""
    marks = {w: "foreign" for w in _FOREIGN}
    marks.update({w: "central" for w in _CENTRAL})
    marks.update({w: "national" for w in _NATIONAL})
    return marks


_MARKERS = _markers()


def _scan_words(
    gaz: Gazetteer, seq: list[str], weight: float, scan: _Scan, skip_prefix: bool
) -> None:
    index_get, mark_get, heads = gaz.index.get, _MARKERS.get, gaz.heads
    start = 0
    if skip_prefix:  # the prefix was counted already: skip up to its colon
        start = next((i + 1 for i, w in enumerate(seq[:16]) if w == ":"), 0)
    prev_place = False
    for i in range(start, len(seq)):
        word = seq[i]
        cands = index_get(word)
        if cands is not None:
            pieces: tuple[tuple[Candidate, ...], ...] | None = (cands,)
        else:
            mark = mark_get(word)
            if mark is not None:
                setattr(scan, mark, getattr(scan, mark) + 1)
            # Longer words may be made of names (上海市浦东新区, 山西省委, 四川人).
            pieces = gaz.split_compound(word) if word[:2] in heads and len(word) > 2 else None
            if pieces is None:
                prev_place = False
                continue
        if _in_org(seq, i) or _is_person(seq, i, word, cands) or _is_street(seq, i):
            prev_place = False
            continue
        zone, kind = _zone_after(seq, i, word)
        for k, piece in enumerate(pieces):
            occ = _Occurrence(piece, weight, "+" if prev_place or k > 0 else "")
            if k == len(pieces) - 1 and zone:
                occ.zone, occ.zone_kind = zone, kind
            scan.occurrences.append(occ)
        prev_place = True


def _in_org(seq: list[str], i: int) -> bool:
    """True when the place at i starts an organisation name (山西|尚太锂电|科技|有限公司)."""
    for j in range(i + 1, min(len(seq), i + 5)):
        word = seq[j]
        if word in _ORG_STOP or not is_wordlike(word):
            return False
        if word in _ORG_SUFFIXES or word.endswith(("公司", "集团", "银行", "大学", "学院", "医院")):
            return True
    return False


def _is_person(seq: list[str], i: int, word: str, cands: tuple[Candidate, ...] | None) -> bool:
    """陈|秀峰: a two-character short name right after a lone surname is a given name."""
    return (
        cands is not None
        and len(word) == 2
        and i > 0
        and seq[i - 1] in _SURNAMES
        and not word.endswith(("省", "市", "县", "区", "州"))
    )


def _is_street(seq: list[str], i: int) -> bool:
    return i + 1 < len(seq) and seq[i + 1] in _STREET_SUFFIXES


def _zone_after(seq: list[str], i: int, word: str) -> tuple[str, str]:
    """("长治高新区", "高新区") when the place at i is followed by a development-zone word."""
    joined = ""
    for j in range(i + 1, min(len(seq), i + 1 + _ZONE_MAX_WORDS)):
        if not is_wordlike(seq[j]):
            break
        joined += seq[j]
        kind = _ZONE_SUFFIXES.get(joined)
        if kind:
            return word + joined, kind
    return "", ""


def _resolve(gaz: Gazetteer, occurrences: list[_Occurrence]) -> None:
    """Give each occurrence its code, using the places named for sure as context."""
    direct: set[str] = set()
    for occ in occurrences:
        if len(occ.cands) == 1 and occ.cands[0][1]:
            direct.add(occ.cands[0][0])
    context = {a for c in direct for a in gaz.lineage(c)}
    prev_code = ""
    for occ in occurrences:
        code = _resolve_one(gaz, occ, direct, context, prev_code if occ.prev else "")
        occ.code = code
        prev_code = code


def _resolve_one(
    gaz: Gazetteer, occ: _Occurrence, direct: set[str], context: set[str], prev: str
) -> str:
    cands = occ.cands
    if prev:  # 湖北|宜都市, 浙江安吉: the place right before encloses this one
        inside = [c for c in cands if prev in gaz.lineage(c[0])[:-1]]
        if inside:
            return _highest(gaz, inside)
    ok = []
    for cand in cands:
        code, strong, ordinary = cand
        if strong:
            ok.append(cand)
        elif ordinary:
            if gaz.parent(code) in direct:
                ok.append(cand)
        elif any(a in context for a in gaz.lineage(code)[:-1]):
            ok.append(cand)
    if len(ok) > 1:
        near = [c for c in ok if any(a in context for a in gaz.lineage(c[0])[:-1])]
        ok = near or ok
    return _highest(gaz, ok) if ok else ""


def _highest(gaz: Gazetteer, cands: list[Candidate]) -> str:
    top = min(gaz.level(c[0]) for c in cands)
    best = [c[0] for c in cands if gaz.level(c[0]) == top]
    return best[0] if len(best) == 1 else ""


def _weights(gaz: Gazetteer, occurrences: list[_Occurrence]) -> Counter[str]:
    """Weight of every division: each mention adds to its place and all the place's ancestors."""
    weights: Counter[str] = Counter()
    carried = 0.0
    for k, occ in enumerate(occurrences):
        if not occ.code:
            carried = 0.0
            continue
        after = occurrences[k + 1] if k + 1 < len(occurrences) else None
        if after and after.prev and after.code and occ.code in gaz.lineage(after.code)[:-1]:
            # 湖北|宜都市: the qualifier's weight goes to the place it qualifies.
            carried += occ.weight
            continue
        for code in gaz.lineage(occ.code):
            weights[code] += occ.weight + carried
        carried = 0.0
    return weights


def _choose(gaz: Gazetteer, scan: _Scan) -> Region:
    weights = _weights(gaz, scan.occurrences)
    provinces = {c: w for c, w in weights.items() if c.endswith("0000")}
    total = sum(provinces.values())
    if total < MIN_WEIGHT:
        return _no_region(scan, spread=False)
    best = max(provinces, key=lambda c: (provinces[c], c))
    if provinces[best] < PROVINCE_SHARE * total:
        return _no_region(scan, spread=sum(1 for w in provinces.values() if w >= 1) >= 3)
    titled = any(o.code and o.weight > W_BODY for o in scan.occurrences)
    if not titled:
        # No place in the headline: the body must single out one province, and outweigh any
        # national framing (新疆 as one example in a report on railway investment across China).
        runner_up = max((w for c, w in provinces.items() if c != best), default=0.0)
        if provinces[best] < SIBLING_LEAD * runner_up:
            return _no_region(scan, spread=True)
        if scan.national >= provinces[best]:
            return _no_region(scan, spread=False)
    return region_for_code(_descend(gaz, weights, best))


def _descend(gaz: Gazetteer, weights: Counter[str], code: str) -> str:
    """Go down while one child holds a large share of its parent's weight and leads its siblings."""
    while True:
        kids = sorted(((weights[k], k) for k in gaz.children(code) if weights[k] > 0), reverse=True)
        if not kids:
            return code
        top_weight, top = kids[0]
        runner_up = kids[1][0] if len(kids) > 1 else 0.0
        if top_weight < DESCEND_SHARE * weights[code] or top_weight < SIBLING_LEAD * runner_up:
            return code
        code = top


def _no_region(scan: _Scan, spread: bool) -> Region:
    """National when the country is the subject (or many provinces share it); unknown when the
    report is about foreign places or says nothing about where."""
    domestic = scan.national + scan.central
    if scan.foreign >= 2 * domestic + 2:
        return Region(status="unknown")
    return Region(status="national" if spread or domestic >= 1 else "unknown")


def _zone(gaz: Gazetteer, region: Region, occurrences: list[_Occurrence]) -> str:
    """The development zone named most often inside the chosen city or county, if any."""
    if region.status != "about" or gaz.level(region.code) < 2:
        return ""
    groups: dict[tuple[str, str], list[str]] = {}
    for occ in occurrences:
        if occ.zone and occ.code and region.code in gaz.lineage(occ.code):
            groups.setdefault((occ.code, occ.zone_kind), []).append(occ.zone)
    if not groups:
        return ""
    names = max(groups.values(), key=len)  # first-named group wins a tie
    return max(names, key=len)  # 平鲁经济技术开发区 over 平鲁开发区


def write_places_dict(path: Path, base_has_word: Callable[[str], bool] | None = None) -> int:
    """Write the jieba user dictionary of place names (corpus/data/places.dict); returns the count.

    `base_has_word(word)` tells which names the segmenter knows already; those are left out so
    their base frequencies stay as they are."""
    gaz = gazetteer()
    words = [w for w in gaz.dict_words() if not (base_has_word and base_has_word(w))]
    header = (
        "# Place names for the segmenter (jieba format: word [freq] tag), generated from\n"
        "# divisions.tsv by `python -m corpus.regions --write-dict`: official, short and old\n"
        f"# names. Do not edit. Gazetteer vintage: {gaz.vintage}; {len(words)} words.\n"
        f"# Two-character county short names get a low frequency ({SHORT_FREQ}) so they do not\n"
        "# split ordinary text (20日土军 stays 日|土军, not 日土 县); other names are kept whole.\n"
    )
    lines = [f"{w} {SHORT_FREQ} ns\n" if _is_county_short(gaz, w) else f"{w} ns\n" for w in words]
    path.write_text(header + "".join(lines), encoding="utf-8")
    return len(words)


SHORT_FREQ = 10


def _is_county_short(gaz: Gazetteer, word: str) -> bool:
    cands = gaz.index[word]
    return len(word) == 2 and all(gaz.level(c[0]) == 3 and not c[1] for c in cands)


def main(argv: list[str] | None = None) -> int:
    """`python -m corpus.regions --write-dict`: regenerate corpus/data/places.dict."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args != ["--write-dict"]:
        print("usage: python -m corpus.regions --write-dict")
        return 2
    from zhsearch.corpus.segment import Segmenter

    others = [p for p in sorted(_data_dir().glob("*.dict")) if p.name != "places.dict"]
    base = Segmenter(others)
    count = write_places_dict(_data_dir() / "places.dict", base.has_word)
    print(f"wrote {count} words to {_data_dir() / 'places.dict'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
