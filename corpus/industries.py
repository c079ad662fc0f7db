"""The industry taxonomy (an editable two-level YAML file) and multi-label classification.

Keywords are matched as whole segmented words, so 光伏玻璃 is never also 玻璃 and 5GW never 5G:
each keyword is segmented once at load time and matched as a run of the article's words.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from zhsearch.corpus.article import Article, Industries
from zhsearch.corpus.regions import wordset
from zhsearch.corpus.segment import get_segmenter, is_wordlike, normalize

if TYPE_CHECKING:
    from zhsearch.corpus.facets import ArticleWords

STRONG = 2.0  # a specific keyword (负极材料)
WEAK = 1.0  # a generic keyword (电池)
# Where a hit sits: the title says what a report is about, the lead paragraph nearly so.
TITLE_FACTOR = 3.0
LEAD_FACTOR = 1.5
# What the sentence around a hit does with it. A sentence that speaks of a project, plant,
# output, investment, market or policy carries the subject; any other sentence counts for half;
# an item of a list of sectors for a quarter; a cooperation clause, an accident, aid, a tool
# (运用大数据), an organisation (火箭军) or a discipline case (公款旅游) for nothing.
SUBJECT = 1.0
PROJECT_FACTOR = 1.5  # …and half as much again next to 项目/基地/生产线 or with a figure
PLAIN = 0.5
LISTED = 0.25
MIN_SCORE = 6.0  # a tag needs about three subject sentences, or a title and a lead hit
MIN_SENTENCES = 2  # …spread over at least two sentences unless the title names it…
BODY_SENTENCES = 3  # …and three when neither the title nor the lead does (a passing strand)…
BODY_MIN = 9.0  # …unless two body sentences carry this much (an industry's own figures paragraph)
DENSE_SHARE = 0.4  # or: named in the title or lead and in this share of all sentences…
DENSE_SENTENCES = 3  # …at least this many…
DENSE_MIN = 3.0  # …with this score
BROAD_TERMS = 3  # or: this many distinct terms of the class…
BROAD_SENTENCES = 3  # …over this many sentences…
BROAD_MIN = 3.5  # …with this score (a report on spring tourism: 游客, 民宿, 文旅 in turn)
WIDE_TERMS = 4  # …or, named in neither, this many distinct terms…
WIDE_SENTENCES = 5  # …over this many sentences…
WIDE_MIN = 8.0  # …with this score
CONCRETE_MIN = 3.0  # in a round-up of projects, one project sentence is enough
ROUNDUP_RELATIVE = 0.1  # …as long as it is not dwarfed by the leading industry
SURVEY_SHARE = 0.4  # with no primary, the leading class must hold this share of all evidence
SURVEY_CLASSES = 6  # a news item naming this many classes, none in its title or lead…
SURVEY_CHARS = 2000  # …and shorter than this is a survey of the economy (新质生产力): no tag,
SURVEY_LEADER = 0.6  # …unless one class holds this share of all evidence (appliance trade-ins)
ROUNDUP_CLASSES = 3  # a report with no main industry is a round-up when this many have projects
ROUNDUP_DENSITY = 0.3  # …and it speaks of projects and investment (cue words per sentence)
RELATIVE = 0.15  # a secondary class needs this share of the leading class's score
MAX_SECONDARY = 3  # news items: a primary and at most a few secondary classes
SECONDARY_STRONG = 2  # …each with two specific terms in sentences about that industry
PRIMARY_LEAD = 1.6  # the primary class must lead the runner-up by this factor…
PRIMARY_SHARE = 0.4  # …and hold this share of all classes' scores (a round-up has no primary)
PRIMARY_MIN = 8.0
SUB_MIN = 2.0  # a sub-class of a tagged class is listed when its own score reaches this
LONG_CHARS = 1500  # a feature-length text: a named project of another industry is a section of it
REPORT_CHARS = 8000  # longer texts (work reports) keep only their leading industries
REPORT_LEADING = 5
LIST_CLASSES = 3  # a clause naming this many classes is a list of sectors
_CUE_WINDOW = 4
_LIST_WINDOW = 10
_TOOL_WINDOW = 3
_SENTENCE_END = frozenset("。！？!?；;")
_CLAUSE_END = frozenset("，,：:。！？!?；;")
_SUBJECT_CUES = wordset(
    "产业 行业 企业 项目 生产 产量 产值 产能 投资 投产 开工 签约 落地 基地 工厂 厂房 生产线 园区"
    " 产业园 制造 研发 研制 产品 销售 销量 出口 市场 规模 增加值 营收 营业收入 订单 产业链 集群"
    " 龙头 扩建 量产 建成 首飞 发射 接待 收入 消费 链主 专精特新 智能工厂 产业化"
    # tourism is reported through what visitors do, not through production words
    " 出游 游览 观光 旅行 打卡 客流 人次 入住 预订 线路 赏花 踏青 游玩 赏景 游园 研学 露营 自驾"
)
_PROJECT_CUES = wordset(
    "项目 产业园 产业园区 基地 生产线 生产基地 工厂 厂房 投产 开工 落地 签约 产能 扩建 量产"
    " 落户 试产"
)
_ROUNDUP_CUES = _PROJECT_CUES | wordset("招商 招商引资 投资 总投资")
_ORG_SUFFIXES = wordset("公司 有限公司 股份有限公司 有限责任公司 分公司 集团 集团公司 控股 股份")
# Sentences whose industry words are not the report's subject.
_NO_EVIDENCE = {
    "accident": wordset(
        "事故 坠毁 失事 坠机 空难 坠落 坠海 遇难 罹难 爆炸 起火 火灾 伤亡 死亡 受伤 搜救 救援"
        " 击落 袭击 打击 摧毁"
    ),
    "aid": wordset("援助 捐赠 捐助 捐款 捐献 人道主义 驰援 援建 无偿 赠送 分配 可及性 公共产品"),
    "vaccination": wordset("接种 剂次"),
    "discipline": wordset("公款 违规 违纪 违法 腐败 受贿 贪污 问责 查处"),
    # a medicine used to treat patients is care, not the pharmaceutical industry (unless the
    # sentence speaks of making or developing it: see _context)
    "treatment": wordset("治疗 救治 患者 病例 诊疗 病人 治愈 重症 轻症"),
    # space science (crewed flights, the space station, lunar and Mars probes) is not an industry
    "exploration": wordset(
        "载人 载人航天 空间站 神舟 天宫 嫦娥 探月 天问 火星 月球 月面 月背 航天员 探测器 巡视器"
        " 载人飞船 飞船 出舱"
    ),
}
_MAKING = wordset("研发 研制 生产 产能 产量 企业 产业 上市 审批 集采 采购 供应")
_COOPERATION = wordset("合作 交流 对接 培训")
_DIPLOMATIC = wordset(
    "双方 两国 中方 我方 各方 各国 伙伴 一带一路 多边 双边 会谈 会见 通电话 互利 共赢"
    " 全面战略 命运共同体 外长 总统 总理 国王 发展中国家 南方国家 全球南方 金砖国家"
)
_SOURCE_NEXT = wordset("显示 表明 监测显示 统计显示")
_TOOL_VERBS = wordset("运用 利用 借助 依托 应用 采用 通过 使用 依靠 用好 启用")
# General-purpose technologies are often the means of something else: epidemic control, rescue,
# monitoring, governance. In such a sentence, with nothing about their industry, they are tools.
_MEANS = wordset(
    "大数据 人工智能 云计算 互联网 物联网 区块链 5g 无人机 机器人 北斗 卫星 数字化 信息技术 传感器"
)
_GOVERNANCE = wordset(
    "防疫 防控 抗疫 疫情 监测 溯源 救援 救灾 防汛 减灾 治理 执法 政务 监管 巡查 测温 隔离"
    " 扶贫 脱贫 精准扶贫 民生"
)
# 锻造一支…队伍, 钢铁连队, 在自我革命中锻造的政党: industry words as metaphors for people and
# organisations; a clause with one of these and no industry word is not about the industry.
_FIGURATIVE = wordset(
    "队伍 精兵 劲旅 铁军 部队 连队 军队 官兵 政党 干部 党员 品格 意志 精神 作风 本领 党性 之师"
    " 尖兵 灵魂 信念 血性 斗志 利剑 尖刀 铁拳 长城 堡垒 脊梁 熔炉"
)
# 汽车|产销量, 疫苗|企业: a generic keyword right before one of these names its industry.
_MEASURE_NEXT = wordset("产销量 产销 产量 销量 产值 产能 出口 企业 行业 产业 工业 产业链 制造 生产")
# 钢铁行业, 汽车出口, 汽车销量: one dictionary token made of a keyword and an industry or measure
# suffix (longest first, so 产销量 is not taken for 销量).
_COMPOUND_SUFFIXES = (
    *("产销量", "行业", "企业", "产业", "工业"),
    *("出口", "产量", "销量", "产销", "产值"),
)
_FIELD_WORDS = wordset("领域 行业 产业 方面")
_TOPIC_WORDS = wordset("领域 议题 话题 问题 方面")
_INDUSTRY_WORDS = wordset("产业 行业 企业 产值 产量 营收 产业链 制造 生产 投资")
_BULLETIN = ("快讯", "简讯", "速览", "速递")
_HEADLINE_CHARS = 40
_FIGURE_UNITS = frozenset("亿万吨%％瓦w")

# libyaml's safe loader parses the file ~10x faster than the pure-Python one, with the same result.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Taxonomy:
    """A two-level industry taxonomy: classes (T01) with sub-classes (T01.1) and keywords."""

    name: str
    fingerprint: str  # hash of the file's bytes: the index records it and asks for a rebuild
    path: str
    user_dict: str = ""  # the user dictionary its keywords (and the articles' words) are cut with
    labels: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    top_codes: list[str] = field(default_factory=list)
    # first word of a keyword → [(its words, sub-class code, weight)], longest first
    keywords: dict[str, list[tuple[tuple[str, ...], str, float]]] = field(default_factory=dict)

    def label(self, code: str) -> str:
        """Display label of a class or sub-class code ("" when unknown)."""
        return self.labels.get(code, "")

    def codes(self) -> list[str]:
        """Top-level class codes in file order."""
        return list(self.top_codes)

    def sub_codes(self, code: str) -> list[str]:
        """Sub-class codes of a top-level class, in file order."""
        return [c for c, p in self.parents.items() if p == code]

    def parent(self, code: str) -> str | None:
        """The class of a sub-class code; None for a top-level or unknown code."""
        return self.parents.get(code)

    def top(self, code: str) -> str:
        """The top-level class of a code (itself for a top-level one)."""
        return self.parents.get(code, code)

    def keyword_count(self) -> int:
        """How many keywords the taxonomy matches (for reports)."""
        return sum(len(v) for v in self.keywords.values())


def default_taxonomy_path() -> Path:
    """The bundled taxonomy, corpus/data/industries.yaml."""
    return Path(str(resources.files("zhsearch.corpus") / "data" / "industries.yaml"))


def load_taxonomy(path: str = "", user_dict: str = "") -> Taxonomy:
    """The taxonomy in `path` (the bundled one when empty), parsed once per file version; its
    keywords are cut with the index's dictionaries (bundled plus `user_dict`) so a keyword the
    user dictionary makes one word matches that word."""
    file = Path(path).expanduser() if path else default_taxonomy_path()
    if not file.is_file():
        raise FileNotFoundError(f"industry taxonomy not found: {file}")
    return _load(str(file.resolve()), file.stat().st_mtime_ns, user_dict)


@lru_cache(maxsize=8)
def _load(path: str, _mtime: int, user_dict: str) -> Taxonomy:
    data = Path(path).read_bytes()
    doc = yaml.load(data.decode("utf-8-sig"), Loader=_SAFE_LOADER)
    if not isinstance(doc, dict) or not isinstance(doc.get("classes"), dict):
        raise ValueError(f"{path}: expected a mapping with a 'classes' mapping")
    tax = Taxonomy(
        name=str(doc.get("name", Path(path).stem)),
        fingerprint=hashlib.sha256(data).hexdigest()[:16],
        path=path,
        user_dict=user_dict,
    )
    for code, spec in doc["classes"].items():
        _add_class(tax, str(code), spec, path)
    for entries in tax.keywords.values():
        entries.sort(key=lambda e: -len(e[0]))
    return tax


def _add_class(tax: Taxonomy, code: str, spec: Any, path: str) -> None:
    if not isinstance(spec, dict) or "label" not in spec:
        raise ValueError(f"{path}: class {code} needs a label")
    tax.labels[code] = str(spec["label"])
    tax.top_codes.append(code)
    _add_keywords(tax, code, spec)
    for sub_code, sub in (spec.get("sub") or {}).items():
        if not isinstance(sub, dict) or "label" not in sub:
            raise ValueError(f"{path}: sub-class {sub_code} needs a label")
        tax.labels[str(sub_code)] = str(sub["label"])
        tax.parents[str(sub_code)] = code
        _add_keywords(tax, str(sub_code), sub)


def _add_keywords(tax: Taxonomy, code: str, spec: dict[str, Any]) -> None:
    seg = get_segmenter(tax.user_dict)
    for key, weight in (("keywords", STRONG), ("weak", WEAK)):
        for keyword in spec.get(key) or []:
            words = tuple(w for w, _, _ in seg.cut(normalize(str(keyword))[0]) if not w.isspace())
            if words:
                tax.keywords.setdefault(words[0], []).append((words, code, weight))


def keyword_matches(taxonomy: Taxonomy, seq: list[str]) -> list[tuple[int, int, str, float]]:
    """Every keyword run in `seq` as (start, end, sub-class code, weight), longest first."""
    table = taxonomy.keywords
    found = []
    i, n = 0, len(seq)
    while i < n:
        entries = table.get(seq[i])
        if entries is not None:
            for words, code, weight in entries:
                size = len(words)
                if size == 1 or tuple(seq[i : i + size]) == words:
                    found.append((i, i + size, code, weight))
                    i += size
                    break
            else:
                i += 1
        else:
            i += 1
    return found


# --- evidence -----------------------------------------------------------------------------------


@dataclass
class _Hit:
    """One keyword occurrence and what its place and sentence make of it."""

    top: str  # top-level class
    sub: str  # the keyword's (sub-)class
    term: str
    where: str  # "title", "lead" or "body"
    sentence: int  # index of its sentence within the part (title, lead and body kept apart)
    context: str  # "subject", "plain", "list" or why it carries no evidence
    value: float
    weight: float  # the keyword's own weight (STRONG or WEAK)


@dataclass
class _Evidence:
    """Everything one class has in its favour in one text."""

    score: float = 0.0
    sub_scores: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sentences: set[tuple[str, int]] = field(default_factory=set)
    terms: dict[str, int] = field(default_factory=dict)
    title: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    contexts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    projects: set[tuple[str, int]] = field(default_factory=set)  # sentences naming a project
    strong: int = 0  # hits of specific keywords in sentences about the industry
    specific: int = 0  # hits of specific keywords that carry any evidence
    coverage: float = 0.0  # share of the text's sentences with evidence for the class

    def add(self, hit: _Hit) -> None:
        """Count one hit (every hit is remembered by its context, even one worth nothing)."""
        self.contexts[hit.context] += 1
        if hit.value <= 0:
            return
        self.score += hit.value
        self.sub_scores[hit.sub] += hit.value
        self.sentences.add((hit.where, hit.sentence))
        if hit.context == "project":
            self.projects.add((hit.where, hit.sentence))
        if hit.weight >= STRONG and hit.context in ("subject", "project", "concrete"):
            self.strong += 1
        if hit.weight >= STRONG:
            self.specific += 1
        self.terms[hit.term] = self.terms.get(hit.term, 0) + 1
        if hit.where == "title" and hit.term not in self.title:
            self.title.append(hit.term)
        if hit.where == "lead" and hit.term not in self.lead:
            self.lead.append(hit.term)

    def eligible(self, body_sentences: int = BODY_SENTENCES) -> bool:
        """Enough evidence for a tag: score, the title or several sentences, and at least one
        specific term (generic words alone — 装备, 游客 — are not an industry)."""
        if self.dense() or self.broad():
            return True
        spread = len(self.sentences)
        return (
            self.score >= MIN_SCORE
            and self.strong >= 1
            and (
                bool(self.title)
                or (bool(self.lead) and spread >= MIN_SENTENCES)
                or spread >= body_sentences
                or (spread >= MIN_SENTENCES and self.score >= BODY_MIN)
            )
        )

    def dense(self) -> bool:
        """Named in the headline or lead and then in most of the text, with a specific term:
        a report about tourism speaks of visitors and scenic spots, not of production."""
        return (
            self.coverage >= DENSE_SHARE
            and len(self.sentences) >= DENSE_SENTENCES
            and bool(self.title or self.lead)
            and self.specific >= 1
            and self.score >= DENSE_MIN
        )

    def broad(self) -> bool:
        """Named in the headline or lead, then several distinct terms of the class over several
        sentences, one of them specific: the industry is carried through the text. Without the
        headline or lead, more terms over more sentences (a holiday report on visitors)."""
        if (
            len(self.terms) >= WIDE_TERMS
            and len(self.sentences) >= WIDE_SENTENCES
            and self.specific >= 1
            and self.score >= WIDE_MIN
        ):
            return True
        return (
            bool(self.title or self.lead)
            and len(self.terms) >= BROAD_TERMS
            and len(self.sentences) >= BROAD_SENTENCES
            and self.specific >= 1
            and self.score >= BROAD_MIN
        )

    def secondary(self) -> bool:
        """Evidence for a secondary class: eligible, and not made of generic words and lists."""
        # beside a main industry, a strand in two body sentences is enough
        return self.eligible(MIN_SENTENCES) and self.strong >= SECONDARY_STRONG

    def concrete(self, named: bool = False) -> bool:
        """A project, plant, production line or figure of the industry; with `named`, a project
        named right next to the industry's term (功能食品|产业园|项目)."""
        count = self.contexts.get("project", 0)
        if not named:
            count += self.contexts.get("concrete", 0)
        return count > 0 and self.score >= CONCRETE_MIN

    def describe(self) -> str:
        """A short reason: where the terms are, how many sentences, the score."""
        parts = []
        if self.title:
            parts.append("title " + "、".join(self.title[:3]))
        if self.lead:
            parts.append("lead " + "、".join(self.lead[:3]))
        top_terms = sorted(self.terms, key=lambda t: -self.terms[t])[:4]
        if top_terms:
            parts.append(f"{len(self.sentences)} sentences: " + "、".join(top_terms))
        passing = {c: n for c, n in self.contexts.items() if c not in _EVIDENCE_CONTEXTS}
        if passing:
            parts.append("passing: " + ", ".join(f"{c} {n}" for c, n in sorted(passing.items())))
        parts.append(f"score {self.score:.1f}")
        return "; ".join(parts)


def _sentence_ids(seq: list[str]) -> list[int]:
    """The sentence index of every word (a sentence ends at 。！？；)."""
    ids, current = [], 0
    for word in seq:
        ids.append(current)
        if word in _SENTENCE_END:
            current += 1
    return ids


def _spans(seq: list[str], ends: frozenset[str]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, word in enumerate(seq):
        if word in ends:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(seq):
        spans.append((start, len(seq)))
    return spans


def _evidence_matches(taxonomy: Taxonomy, seq: list[str]) -> list[tuple[int, int, str, float]]:
    """Keyword runs as keyword_matches finds them, plus tokens made of a keyword and an industry
    or measure suffix (钢铁行业, 汽车出口), and generic keywords made specific by the next word
    (汽车|产销量)."""
    found = []
    covered: set[int] = set()
    for start, end, code, weight in keyword_matches(taxonomy, seq):
        if weight < STRONG and end < len(seq) and seq[end] in _MEASURE_NEXT:
            weight = STRONG
        found.append((start, end, code, weight))
        covered.update(range(start, end))
    for i, word in enumerate(seq):
        if i in covered or len(word) < 4:
            continue
        for suffix in _COMPOUND_SUFFIXES:
            if word.endswith(suffix):
                entries = taxonomy.keywords.get(word[: -len(suffix)], [])
                single = [code for words, code, _w in entries if len(words) == 1]
                if single:
                    found.append((i, i + 1, single[0], STRONG))
                break
    return sorted(found)


def _part_hits(taxonomy: Taxonomy, seq: list[str], where: str) -> list[_Hit]:
    """The hits of one part (title, lead or body) with their context and value."""
    matches = _evidence_matches(taxonomy, seq)
    if not matches:
        return []
    factor = {"title": TITLE_FACTOR, "lead": LEAD_FACTOR}.get(where, 1.0)
    sentence_of = _sentence_ids(seq)
    sentence_words: dict[int, frozenset[str]] = {}
    for start, end in _spans(seq, _SENTENCE_END):
        sentence_words[sentence_of[start]] = frozenset(seq[start:end])
    # classes named in each clause: a clause naming many is a list of sectors
    clause_of: dict[int, int] = {}
    for k, (start, end) in enumerate(_spans(seq, _CLAUSE_END)):
        for i in range(start, end):
            clause_of[i] = k
    clause_classes: dict[int, set[str]] = defaultdict(set)
    for start, _end, code, _w in matches:
        clause_classes[clause_of[start]].add(taxonomy.top(code))
    hits = []
    for start, end, code, weight in matches:
        words = sentence_words[sentence_of[start]]
        context = _context(seq, start, end, words, len(clause_classes[clause_of[start]]))
        if context == "plain" and where == "title":
            context = "subject"  # headlines are telegraphic: naming the industry is the subject
        value = weight * factor * _CONTEXT_VALUE.get(context, 0.0)
        if context == "subject":
            if _near_project(seq, start, end):
                context, value = "project", value * PROJECT_FACTOR
            elif words & _PROJECT_CUES or any(_is_figure(w) for w in words):
                context, value = "concrete", value * PROJECT_FACTOR
        hits.append(
            _Hit(
                taxonomy.top(code),
                code,
                "".join(seq[start:end]),
                where,
                sentence_of[start],
                context,
                value,
                weight,
            )
        )
    return hits


_EVIDENCE_CONTEXTS = ("subject", "plain", "project", "concrete")
_CONTEXT_VALUE = {"subject": SUBJECT, "plain": PLAIN, "list": LISTED}


def _context(
    seq: list[str], start: int, end: int, sentence: frozenset[str], clause_classes: int
) -> str:
    """What the sentence does with a keyword: carries the subject, or names it in passing."""
    if _in_org(seq, end):
        return "organisation"
    if _figurative(seq, start, end):
        return "metaphor"
    for reason, cues in _NO_EVIDENCE.items():
        if sentence & cues and not (reason == "treatment" and sentence & _MAKING):
            return reason
    if sentence & _COOPERATION and sentence & _DIPLOMATIC:
        return "cooperation"
    if _used_as_tool(seq, start):
        return "tool"
    if end < len(seq) and seq[end] in _SOURCE_NEXT:
        return "source"  # 商务大数据显示: the data a figure comes from
    if (
        "".join(seq[start:end]) in _MEANS
        and sentence & _GOVERNANCE
        and not sentence & _INDUSTRY_WORDS
    ):
        return "tool"
    if clause_classes >= LIST_CLASSES or _in_field_list(seq, end):
        return "list"
    if sentence & _SUBJECT_CUES or any(_is_figure(w) for w in sentence):
        return "subject"
    return "plain"


def _figurative(seq: list[str], start: int, end: int) -> bool:
    """锻造过硬精兵: the keyword's clause speaks of people or a party, and of no industry."""
    lo = start
    while lo > 0 and seq[lo - 1] not in _CLAUSE_END:
        lo -= 1
    hi = end
    while hi < len(seq) and seq[hi] not in _CLAUSE_END:
        hi += 1
    clause = set(seq[lo:start]) | set(seq[end:hi])
    return bool(clause & _FIGURATIVE) and not clause & _INDUSTRY_WORDS


def _is_figure(word: str) -> bool:
    """年产5万吨, 1gw, 26.5%, 千亿级: a quantity."""
    if "亿" in word:
        return True
    return any(ch.isdigit() for ch in word) and any(ch in _FIGURE_UNITS for ch in word)


def _in_org(seq: list[str], end: int) -> bool:
    """The keyword is part of a name: 瑞新|新材料|科技|有限公司, 火箭|军."""
    if end < len(seq) and seq[end][:1] == "军" and seq[end] not in ("军工", "军民", "军用"):
        return True
    for j in range(end, min(len(seq), end + 3)):
        word = seq[j]
        if not is_wordlike(word):
            return False
        if word in _ORG_SUFFIXES:
            return True
    return False


def _in_field_list(seq: list[str], end: int) -> bool:
    """…、旅游、农业等领域, 软件和信息技术等新兴服务业, …、人工智能、全球卫生等议题: a keyword
    followed, in its clause, by 领域 or by 等/相关 and a sector word (…业) or a topic word."""
    for j in range(end, min(len(seq), end + _LIST_WINDOW)):
        word = seq[j]
        if word == "领域":
            return True
        if word in ("等", "相关") and any(
            w in _TOPIC_WORDS or (w.endswith("业") and len(w) >= 2) for w in seq[j + 1 : j + 4]
        ):
            return True
        if word != "、" and not is_wordlike(word):
            return False
    return False


def _used_as_tool(seq: list[str], start: int) -> bool:
    """运用|大数据, 借助|人工智能: the keyword names a means, not the subject."""
    for j in range(start - 1, max(-1, start - 1 - _TOOL_WINDOW), -1):
        if not is_wordlike(seq[j]) and seq[j] != "、":
            return False
        if seq[j] in _TOOL_VERBS:
            return True
    return False


def _near_project(seq: list[str], start: int, end: int) -> bool:
    """A project word within a few words, in the same clause."""
    for j in range(end, min(len(seq), end + _CUE_WINDOW)):
        if not is_wordlike(seq[j]):
            break
        if seq[j] in _PROJECT_CUES:
            return True
    for j in range(start - 1, max(-1, start - 1 - _CUE_WINDOW), -1):
        if not is_wordlike(seq[j]):
            break
        if seq[j] in _PROJECT_CUES:
            return True
    return False


# --- texts, paragraphs, bulletin items ------------------------------------------------------------


@dataclass
class _Text:
    """A text to classify: title words and its body's paragraphs (lists of words)."""

    title: list[str]
    paragraphs: list[list[str]]


def _paragraphs(article: Article, body: list[str]) -> list[list[str]]:
    """Split the body's words at the content's line breaks (the words carry no whitespace)."""
    norm = normalize(article.content)[0]
    paragraphs: list[list[str]] = [[]]
    pos = 0
    for word in body:
        found = norm.find(word, pos)
        if found < 0:  # should not happen; keep the word where we are
            paragraphs[-1].append(word)
            continue
        if "\n" in norm[pos:found] and paragraphs[-1]:
            paragraphs.append([])
        paragraphs[-1].append(word)
        pos = found + len(word)
    return [p for p in paragraphs if p]


def _is_headline(paragraph: list[str]) -> bool:
    chars = sum(len(w) for w in paragraph)
    return chars <= _HEADLINE_CHARS and not any(w in _SENTENCE_END for w in paragraph)


def _bulletin_items(title: list[str], paragraphs: list[list[str]]) -> list[_Text]:
    """The items of a news bulletin (国内联播快讯): each headline line starts one. Empty when the
    title is not a bulletin's or fewer than two headlines make the boundaries clear."""
    if not any(marker in "".join(title) for marker in _BULLETIN):
        return []
    items: list[_Text] = []
    for paragraph in paragraphs:
        if _is_headline(paragraph):
            items.append(_Text(paragraph, []))
        elif items:
            items[-1].paragraphs.append(paragraph)
    return items if len(items) >= 2 else []


# --- classification ------------------------------------------------------------------------------


def evidence(taxonomy: Taxonomy, text: _Text) -> dict[str, _Evidence]:
    """Evidence for every class named in a text: title, lead paragraph, then the rest."""
    found: dict[str, _Evidence] = defaultdict(_Evidence)
    parts = [("title", text.title)]
    if text.paragraphs:
        lead = 0
        # an xwlb lead may be the bare source line "央视网消息（新闻联播）：": not the lead
        while lead < len(text.paragraphs) - 1 and sum(map(len, text.paragraphs[lead])) < 20:
            lead += 1
        parts.append(("lead", text.paragraphs[lead]))
        rest = [w for k, p in enumerate(text.paragraphs) if k != lead for w in (*p, "。")]
        parts.append(("body", rest))
    total = 0
    for where, seq in parts:
        total += sum(w in _SENTENCE_END for w in seq) + (where == "title" and bool(seq))
        for hit in _part_hits(taxonomy, seq, where):
            found[hit.top].add(hit)
    for ev in found.values():
        ev.coverage = len(ev.sentences) / max(total, 1)
    return dict(found)


def _project_density(text: _Text) -> float:
    """Project and investment words per sentence: high in a round-up of investment projects."""
    words = [w for p in text.paragraphs for w in p]
    sentences = sum(w in _SENTENCE_END for w in words) or 1
    return sum(w in _ROUNDUP_CUES for w in words) / sentences


def _rank(
    found: dict[str, _Evidence], limit: int, roundup: bool, long_text: bool = False
) -> tuple[list[str], str]:
    """The tagged classes, best first, and the primary one ("" for none). A report with a main
    industry keeps at most `limit` classes with evidence of their own close to the leader's; a
    round-up of projects (no main industry, several industries with projects) keeps every class
    with such evidence or a project of its own."""
    ranked = sorted(found, key=lambda c: -found[c].score)
    eligible = [c for c in ranked if found[c].eligible()]
    concrete = [c for c in ranked if found[c].eligible() or (roundup and found[c].concrete())]
    if not eligible and len(concrete) < ROUNDUP_CLASSES:
        return [], ""
    best = found[ranked[0]].score
    primary = _primary(found, eligible, sum(e.score for e in found.values())) if eligible else ""
    if primary:
        tagged = [
            c
            for c in ranked
            if c == primary
            or (found[c].secondary() and found[c].score >= RELATIVE * best)
            or (
                long_text
                and found[c].concrete(named=True)
                and found[c].projects - found[primary].sentences
            )
        ]
        return tagged[:limit], primary
    if len(concrete) < ROUNDUP_CLASSES:  # not a round-up: only classes with evidence of their own
        total = sum(e.score for e in found.values())
        if found[eligible[0]].score < SURVEY_SHARE * total:
            return [], ""  # a survey of many industries, none of them its subject
        return [c for c in eligible if found[c].score >= RELATIVE * best][:limit], ""
    return [c for c in concrete if found[c].score >= ROUNDUP_RELATIVE * best], ""


def _survey(found: dict[str, _Evidence], chars: int) -> bool:
    """A short item naming many industries and leading with none of them (neither title nor
    lead names one) surveys the economy: its industries are mentions."""
    named = [e for e in found.values() if e.score > 0]
    total = sum(e.score for e in named)
    return (
        chars < SURVEY_CHARS
        and len(named) >= SURVEY_CLASSES
        and not any(e.title or e.lead for e in named)
        and not any(e.score >= SURVEY_LEADER * total for e in named)
    )


def _primary(found: dict[str, _Evidence], eligible: list[str], total: float) -> str:
    """The leading class when it clearly leads (score, margin over the next, share of all)."""
    scores = [found[c].score for c in eligible]
    second = scores[1] if len(scores) > 1 else 0.0
    if scores[0] >= max(PRIMARY_MIN, PRIMARY_LEAD * second, PRIMARY_SHARE * total):
        return eligible[0]
    return ""


def classify(article: Article, taxonomy: Taxonomy, words: ArticleWords | None = None) -> Industries:
    """The classes a report is about (primary first when there is one), the classes it only
    mentions, and the evidence for each."""
    if words is None:
        from zhsearch.corpus.facets import article_words

        words = article_words(article, taxonomy.user_dict)
    paragraphs = _paragraphs(article, words.body)
    title = words.title + (["。", *words.subtitle] if words.subtitle else [])
    items = _bulletin_items(title, paragraphs)
    if items:
        return _classify_bulletin(taxonomy, items)
    long_report = len(article.content) >= REPORT_CHARS or "工作报告" in article.title
    text = _Text(title, paragraphs)
    found = evidence(taxonomy, text)
    roundup = _project_density(text) >= ROUNDUP_DENSITY
    long_text = len(article.content) >= LONG_CHARS
    survey = _survey(found, len(article.content))
    if survey:
        tagged, primary = [], ""
    else:
        tagged, primary = _rank(found, 1 + MAX_SECONDARY, roundup, long_text)
    if long_report:
        tagged = tagged[:REPORT_LEADING]
    result = _result(taxonomy, found, tagged, primary)
    if survey:
        for code in result.mentions:
            result.evidence[code] = "survey of many industries; " + result.evidence[code]
    if long_report:
        for code in result.mentions:
            if found[code].eligible():
                result.evidence[code] = "not among the leading industries; " + result.evidence[code]
    return result


def _classify_bulletin(taxonomy: Taxonomy, items: list[_Text]) -> Industries:
    """A bulletin is tagged only with what most of its items are about; the rest are mentions
    with the item that named them."""
    per_item = []
    for item in items:
        found = evidence(taxonomy, item)
        roundup = _project_density(item) >= ROUNDUP_DENSITY
        per_item.append((item, found, _rank(found, 1 + MAX_SECONDARY, roundup)[0]))
    counts: dict[str, int] = defaultdict(int)
    for _item, _found, tagged in per_item:
        for code in tagged:
            counts[code] += 1
    need = max(2, (len(items) + 1) // 2)
    shared = sorted((c for c, n in counts.items() if n >= need), key=lambda c: -counts[c])
    merged: dict[str, _Evidence] = defaultdict(_Evidence)
    reasons: dict[str, str] = {}
    for item, found, tagged in per_item:
        headline = "".join(item.title)[:20]
        for code, ev in found.items():
            target = merged[code]
            target.score += ev.score
            for sub, value in ev.sub_scores.items():
                target.sub_scores[sub] += value
            if code in tagged and code not in reasons:
                reasons[code] = f"bulletin item 「{headline}」: {ev.describe()}"
    result = _result(taxonomy, merged, shared, "")
    for code in shared:
        result.evidence[code] = f"{counts[code]} of {len(items)} bulletin items"
    for code in result.mentions:
        result.evidence[code] = reasons.get(code, "bulletin: " + result.evidence[code])
    return result


def _result(
    taxonomy: Taxonomy, found: dict[str, _Evidence], tagged: list[str], primary: str
) -> Industries:
    subs = sorted(
        sub
        for code in tagged
        for sub, value in found[code].sub_scores.items()
        if sub != code and value >= SUB_MIN
    )
    mentions = sorted(c for c in found if c not in tagged)
    reasons = {c: found[c].describe() for c in [*tagged, *mentions]}
    return Industries(codes=tagged + subs, primary=primary, evidence=reasons, mentions=mentions)
