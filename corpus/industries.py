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

from corpus.article import Article, Industries
from corpus.regions import wordset
from corpus.segment import get_segmenter, is_wordlike, normalize

if TYPE_CHECKING:
    from corpus.facets import ArticleWords

STRONG = 2.0  # one hit of a specific keyword (负极材料) is enough for a label
WEAK = 1.0  # a generic keyword (电池) needs company
PROJECT_BONUS = 2.0  # a keyword next to 项目/基地/生产线 names a concrete project: it counts double
FIELD_LIST = 0.5  # …and half in a list of fields of cooperation (基础设施、旅游、农业等领域)
TITLE_FACTOR = 2.0
MIN_SCORE = 2.0
RELATIVE = 0.1  # a label needs this share of the leading class's score (drops passing mentions)
PRIMARY_LEAD = 1.6  # the primary class must lead the runner-up by this factor…
PRIMARY_SHARE = 0.35  # …and hold this share of all scores (a round-up has no primary)
PRIMARY_MIN = 6.0  # …and be more than a passing subject (about three hits)
_CUE_WINDOW = 4
_LIST_WINDOW = 10
_PROJECT_CUES = wordset(
    "项目 产业园 产业园区 基地 生产线 生产基地 工厂 厂房 投产 开工 落地 签约 产能 扩建 量产"
)
_ORG_SUFFIXES = wordset("公司 有限公司 股份有限公司 有限责任公司 分公司 集团 集团公司 控股 股份")


# libyaml's safe loader parses the file ~10x faster than the pure-Python one, with the same result.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Taxonomy:
    """A two-level industry taxonomy: classes (T01) with sub-classes (T01.1) and keywords."""

    name: str
    fingerprint: str  # hash of the file's bytes: the index records it and asks for a rebuild
    path: str
    _labels: dict[str, str] = field(default_factory=dict)
    _parents: dict[str, str] = field(default_factory=dict)
    _top: list[str] = field(default_factory=list)
    # first word of a keyword → [(its words, sub-class code, weight)], longest first
    _keywords: dict[str, list[tuple[tuple[str, ...], str, float]]] = field(default_factory=dict)

    def label(self, code: str) -> str:
        """Display label of a class or sub-class code ("" when unknown)."""
        return self._labels.get(code, "")

    def codes(self) -> list[str]:
        """Top-level class codes in file order."""
        return list(self._top)

    def sub_codes(self, code: str) -> list[str]:
        """Sub-class codes of a top-level class, in file order."""
        return [c for c, p in self._parents.items() if p == code]

    def parent(self, code: str) -> str | None:
        """The class of a sub-class code; None for a top-level or unknown code."""
        return self._parents.get(code)

    def keyword_count(self) -> int:
        """How many keywords the taxonomy matches (for reports)."""
        return sum(len(v) for v in self._keywords.values())


def default_taxonomy_path() -> Path:
    """The bundled taxonomy, corpus/data/industries.yaml."""
    return Path(str(resources.files("corpus") / "data" / "industries.yaml"))


def load_taxonomy(path: str = "") -> Taxonomy:
    """The taxonomy in `path` (the bundled one when empty), parsed once per file version."""
    file = Path(path).expanduser() if path else default_taxonomy_path()
    if not file.is_file():
        raise FileNotFoundError(f"industry taxonomy not found: {file}")
    return _load(str(file.resolve()), file.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(path: str, _mtime: int) -> Taxonomy:
    data = Path(path).read_bytes()
    doc = yaml.load(data.decode("utf-8-sig"), Loader=_SAFE_LOADER)
    if not isinstance(doc, dict) or not isinstance(doc.get("classes"), dict):
        raise ValueError(f"{path}: expected a mapping with a 'classes' mapping")
    tax = Taxonomy(
        name=str(doc.get("name", Path(path).stem)),
        fingerprint=hashlib.sha256(data).hexdigest()[:16],
        path=path,
    )
    for code, spec in doc["classes"].items():
        _add_class(tax, str(code), spec, path)
    for entries in tax._keywords.values():
        entries.sort(key=lambda e: -len(e[0]))
    return tax


def _add_class(tax: Taxonomy, code: str, spec: Any, path: str) -> None:
    if not isinstance(spec, dict) or "label" not in spec:
        raise ValueError(f"{path}: class {code} needs a label")
    tax._labels[code] = str(spec["label"])
    tax._top.append(code)
    _add_keywords(tax, code, spec)
    for sub_code, sub in (spec.get("sub") or {}).items():
        if not isinstance(sub, dict) or "label" not in sub:
            raise ValueError(f"{path}: sub-class {sub_code} needs a label")
        tax._labels[str(sub_code)] = str(sub["label"])
        tax._parents[str(sub_code)] = code
        _add_keywords(tax, str(sub_code), sub)


def _add_keywords(tax: Taxonomy, code: str, spec: dict[str, Any]) -> None:
    seg = get_segmenter()
    for key, weight in (("keywords", STRONG), ("weak", WEAK)):
        for keyword in spec.get(key) or []:
            words = tuple(w for w, _, _ in seg.cut(normalize(str(keyword))[0]) if not w.isspace())
            if words:
                tax._keywords.setdefault(words[0], []).append((words, code, weight))


def _hits(tax: Taxonomy, seq: list[str], factor: float, scores: dict[str, float]) -> None:
    """Add keyword hits of one word sequence to `scores` (sub-class codes)."""
    table = tax._keywords
    i, n = 0, len(seq)
    while i < n:
        entries = table.get(seq[i])
        if entries is None:
            i += 1
            continue
        for words, code, weight in entries:
            size = len(words)
            if size == 1 or tuple(seq[i : i + size]) == words:
                if not _in_org(seq, i + size):
                    scores[code] += weight * factor * _context_factor(seq, i, i + size)
                i += size
                break
        else:
            i += 1


def _context_factor(seq: list[str], start: int, end: int) -> float:
    """Double next to a project word; half in a list of fields (旅游、农业等领域合作)."""
    if _near_project(seq, start, end):
        return PROJECT_BONUS
    if _in_field_list(seq, end):
        return FIELD_LIST
    return 1.0


def _in_field_list(seq: list[str], end: int) -> bool:
    for j in range(end, min(len(seq), end + _LIST_WINDOW)):
        word = seq[j]
        if word == "领域":
            return True
        if word != "、" and not is_wordlike(word):
            return False
    return False


def _in_org(seq: list[str], end: int) -> bool:
    """The keyword is part of a company name (瑞新|新材料|科技|有限公司)."""
    for j in range(end, min(len(seq), end + 3)):
        word = seq[j]
        if not is_wordlike(word):
            return False
        if word in _ORG_SUFFIXES:
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


def score(taxonomy: Taxonomy, words: ArticleWords) -> dict[str, float]:
    """Keyword score of every class and sub-class that matched (title hits count double)."""
    sub_scores: dict[str, float] = defaultdict(float)
    _hits(taxonomy, words.title, TITLE_FACTOR, sub_scores)
    _hits(taxonomy, words.subtitle, TITLE_FACTOR, sub_scores)
    _hits(taxonomy, words.body, 1.0, sub_scores)
    scores: dict[str, float] = defaultdict(float)
    for code, value in sub_scores.items():
        scores[code] += value
        parent = taxonomy.parent(code)
        if parent:
            scores[parent] += value
    return dict(scores)


def classify(article: Article, taxonomy: Taxonomy, words: ArticleWords | None = None) -> Industries:
    """The classes (and matched sub-classes) an article covers, and its primary class if any."""
    if words is None:
        from corpus.facets import article_words

        words = article_words(article)
    scores = score(taxonomy, words)
    top = {c: s for c, s in scores.items() if taxonomy.parent(c) is None}
    if not top:
        return Industries()
    best = max(top.values())
    floor = max(MIN_SCORE, RELATIVE * best)
    labels = sorted(c for c, s in top.items() if s >= floor)
    subs = sorted(c for c, s in scores.items() if taxonomy.parent(c) in labels and s >= MIN_SCORE)
    return Industries(codes=labels + subs, primary=_primary(top, labels))


def _primary(top: dict[str, float], labels: list[str]) -> str:
    ranked = sorted(((top[c], c) for c in labels), reverse=True)
    if not ranked:
        return ""
    total = sum(s for s, _ in ranked)
    first = ranked[0][0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    if first >= max(PRIMARY_MIN, PRIMARY_LEAD * second, PRIMARY_SHARE * total):
        return ranked[0][1]
    return ""
