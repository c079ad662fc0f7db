"""A brute-force literal oracle: which reports contain what was typed, by plain string search.

Written independently of zhsearch's matcher (no n-grams, no regular expressions, no canonical
form): normalise with unicodedata and OpenCC directly, then walk every occurrence of the first
piece of the query in every field. Used by tests/test_literal.py and bench/literal_oracle.py.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Width-fold, Traditional→Simplified, lower-case: the comparison the contract names."""
    return _t2s().convert(unicodedata.normalize("NFKC", text)).lower()


def _kind(ch: str) -> str:
    if "0" <= ch <= "9":
        return "digit"
    if "a" <= ch <= "z":
        return "latin"
    return "other"


def pieces(query: str) -> list[str]:
    """The query's letter-and-digit pieces, split at everything else (punctuation, spaces)."""
    out, current = [], ""
    for ch in fold(query):
        if ch.isalnum():
            current += ch
        elif current:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def _edges_ok(text: str, start: int, end: int, piece: str) -> bool:
    head, tail = _kind(piece[0]), _kind(piece[-1])
    if head != "other" and start > 0 and _kind(text[start - 1]) == head:
        return False
    return not (tail != "other" and end < len(text) and _kind(text[end]) == tail)


def occurs(text: str, parts: list[str]) -> bool:
    """Whether folded `text` holds the pieces in order, each contiguous, with only punctuation
    or spaces (or nothing) between two of them, and no digit or latin run going on past an edge."""
    if not parts:
        return False
    first = parts[0]
    i = text.find(first)
    while i >= 0:
        end = i + len(first)
        ok = _edges_ok(text, i, end, first)
        j = end
        for part in parts[1:] if ok else ():
            while j < len(text) and not text[j].isalnum():
                j += 1
            if text.startswith(part, j) and _edges_ok(text, j, j + len(part), part):
                j += len(part)
            else:
                ok = False
                break
        if ok:
            return True
        i = text.find(first, i + 1)
    return False


@dataclass
class Report:
    """One indexed report's id and folded search fields."""

    id: str
    fields: dict[str, str]


def reports_of(searcher) -> list[Report]:
    """Every live report of an open Whoosh searcher, its stored fields folded."""
    out = []
    for _docnum, stored in searcher.reader().iter_docs():
        fields = {f: fold(stored.get(f, "") or "") for f in ("title", "subtitle", "content")}
        out.append(Report(stored["id"], fields))
    return out


def expected(reports: Iterable[Report], query: str, field: str | None = None) -> set[str]:
    """Ids of the reports where `query` occurs (in `field`, or in any search field)."""
    parts = pieces(query)
    return {
        r.id
        for r in reports
        if any(occurs(text, parts) for f, text in r.fields.items() if field in (None, f))
    }


_HAN = re.compile(r"[\u4e00-\u9fff]+")
_NUMBER = re.compile(
    r"[0-9]+(?:\.[0-9]+)?(?:万|亿)?(?:吨|元|千瓦|兆瓦|年|个|项|人|%)|[a-z]+[0-9]+[a-z]*|[0-9]+[a-z]+"
)
_PUNCTUATED = re.compile(r"[\u4e00-\u9fff]{2,6}[，、：；·—“”（）,.:;()\- ]+[\u4e00-\u9fff]{2,6}")
WORDS = ["锂电池", "招商引资", "经济", "发展", "项目", "光伏", "新能源", "产业", "开发区", "建设"]


Query = tuple[str, str, str | None]  # (class, query, field or None)


def generate(reports: list[Report], per_class: int, seed: int = 13) -> list[Query]:
    """(class, query, field or None) drawn from the reports' own text, every class of issue 13."""
    rng = random.Random(seed)
    contents = [r.fields["content"] for r in reports if len(r.fields["content"]) > 40]
    titles = [r.fields["title"] for r in reports if len(_HAN.findall(r.fields["title"])) > 0]
    out: list[Query] = [("word", w, None) for w in WORDS]

    def han_slice(length: int) -> str:
        for _ in range(200):
            runs = [m for m in _HAN.findall(rng.choice(contents)) if len(m) >= length]
            if runs:
                run = rng.choice(runs)
                start = rng.randrange(len(run) - length + 1)
                return run[start : start + length]
        raise AssertionError("no Han text long enough")

    for _ in range(per_class):
        out.append(("cross-boundary", han_slice(3), None))
        out.append(("quoted fragment", f'"{han_slice(rng.randint(4, 6))}"', None))
        out.append(("single character", han_slice(1), None))
    tries = 0
    while sum(c == "quoted with punctuation" for c, _, _ in out) < per_class and tries < 5000:
        tries += 1
        text = rng.choice(contents)
        m = re.search(
            r"[\u4e00-\u9fff]{2,6}[，、：；·—“”（）,.:;()\- ]+[\u4e00-\u9fff]{2,6}",
            text[rng.randrange(len(text)) :],
        )
        if m:
            out.append(("quoted with punctuation", f'"{m.group()}"', None))
    tries = 0
    while sum(c == "occurs nowhere" for c, _, _ in out) < per_class and tries < 5000:
        tries += 1
        s = han_slice(5)
        q = s[:2] + s[3:]
        if not expected(reports, q):
            out.append(("occurs nowhere", f'"{q}"', None))
    numbers = sorted({m.group() for t in contents for m in _NUMBER.finditer(t)})
    for q in rng.sample(numbers, min(per_class, len(numbers))):
        out.append(("numbers and codes", q, None))
    for _ in range(per_class):
        title = rng.choice(titles)
        runs = [r for r in _HAN.findall(title) if len(r) >= 3]
        if runs:
            run = rng.choice(runs)
            start = rng.randrange(len(run) - 2)
            out.append(("title fragment", run[start : start + 3], "title"))
    return out
