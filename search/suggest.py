"""Did-you-mean corrections and autocomplete, from the index lexicon.

The words come from the suggestion lexicon the indexer writes with each commit
(`index.lexicon`, bounded by `settings.suggest_terms`, the most frequent words): sorted words
for Hanzi prefixes and toneless pinyin keys (pypinyin) for pinyin typed instead of Hanzi;
titles come from a title-field query. A wrong character is found by matching
the unknown part of the query against the lexicon with one character replaced.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from whoosh import query as wq

from zhsearch.corpus.chars import HAN_CLASS, HAN_UTF8, is_han
from zhsearch.corpus.segment import normalize
from zhsearch.index.lexicon import Lexicon, build_lexicon, open_lexicon
from zhsearch.index.settings import Settings
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext
from zhsearch.search.request import SearchRequest

_PINYIN_QUERY = re.compile(r"^[A-Za-z' ]+$")
_HAN_RUN = re.compile(f"{HAN_CLASS}+")
_REASON_ORDER = {"typo": 0, "pinyin": 1, "traditional": 2, "phrase": 3, "filter": 4}


SUGGEST_LEXICON: Slot[Lexicon] = Slot("suggest_lexicon")
# docnum → (title, id) of titles read for autocomplete, at most `suggest_titles`
SUGGEST_TITLES: Slot[dict[int, tuple[str, str]]] = Slot("suggest_titles")


def lexicon(ctx: SearchContext) -> Lexicon:
    """The suggestion lexicon of the commit `ctx` reads: the tables the indexer wrote for it,
    mapped, or (an index written before them, or with another `suggest_terms`) built now."""

    def load() -> Lexicon:
        reader = ctx.searcher.reader()
        cap = ctx.settings.suggest_terms
        return open_lexicon(ctx.index_path, reader.generation(), cap) or build_lexicon(reader, cap)

    return ctx.cache.value(SUGGEST_LEXICON, load)


def _titles(ctx: SearchContext, words: list[str], limit: int) -> list[tuple[str, str]]:
    """(title, id) of the first `limit` reports whose title has all of `words`."""
    if not words:
        return []
    q = wq.And([wq.Term("title", w) for w in words])
    # The first matches in index order: a matcher stops after `limit`, a search would score all.
    # Titles already read are kept per generation: opening the stored fields of a fresh
    # searcher costs tens of milliseconds, too much for a keystroke.
    seen = ctx.cache.value(SUGGEST_TITLES, dict)
    matcher = q.matcher(ctx.searcher)
    out: list[tuple[str, str]] = []
    while matcher.is_active() and len(out) < limit:
        docnum = matcher.id()
        if docnum not in seen:
            stored = ctx.searcher.stored_fields(docnum)
            if len(seen) < ctx.settings.suggest_titles:
                seen[docnum] = (str(stored.get("title", "")), str(stored.get("id", "")))
            out.append((str(stored.get("title", "")), str(stored.get("id", ""))))
        else:
            out.append(seen[docnum])
        matcher.next()
    return out


# -- autocomplete ---------------------------------------------------------------------------


def complete(ctx: SearchContext, q: str, limit: int = 8) -> list[dict[str, Any]]:
    """Completions of the last word of `q`: indexed terms by Hanzi or pinyin prefix (most
    frequent first), then titles holding the earlier words and the (best) completed one."""
    q = unicodedata.normalize("NFKC", q)
    stripped = q.rstrip()
    if not stripped or stripped != q:
        return []
    head, _, last = stripped.rpartition(" ")
    prefix = normalize(last)[0]
    lex = lexicon(ctx)
    found: dict[str, int] = {}
    if prefix:
        for term, df in lex.prefixed(prefix, 2000):
            if term != prefix:
                found[term] = df
        key = prefix.replace("'", "")
        if key.isascii() and key.isalpha():
            for _key, term, df in lex.pinyin_prefixed(key.lower(), 2000):
                found[term] = df
    best = heapq.nsmallest(limit, found.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
    base = f"{head} " if head else ""
    out: list[dict[str, Any]] = [
        {"text": base + term, "kind": "term", "term": term, "count": n} for term, n in best
    ]
    analyzer = ctx.searcher.schema["title"].analyzer
    words = [t.text for t in analyzer(head, mode="query")]
    if prefix in lex:
        words.append(prefix)
    elif best:
        words.append(best[0][0])
    for title, doc_id in _titles(ctx, words, 3):
        out.append({"text": title, "kind": "title", "term": title, "id": doc_id})
    return out


# -- did you mean ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A changed search to offer when the user's finds little: why, the request, its label."""

    reason: str  # "typo", "pinyin", "traditional", "phrase" or "filter"
    request: SearchRequest
    label: str


def candidates(request: SearchRequest, ctx: SearchContext) -> list[Candidate]:
    """Changed searches worth counting, best kind first: a corrected character, Hanzi for
    pinyin, Simplified for Traditional, the phrase without quotes, a filter dropped (each on
    page 1). The caller counts them (`run_search`) and offers those that find more."""
    found: list[tuple[str, SearchRequest, str]] = []
    request = replace(request, page=1)
    q = request.q
    for text in _pinyin_fixes(ctx, q):
        found.append(("pinyin", replace(request, q=text), f"按拼音改为“{text}”"))
    for text in _typo_fixes(ctx, q):
        found.append(("typo", replace(request, q=text), f"改正错字：“{text}”"))
    simplified = _simplified(q)
    if simplified != q:
        found.append(("traditional", replace(request, q=simplified), f"简体：“{simplified}”"))
    if '"' in q or "“" in q:
        loose = re.sub(r'["“”]', " ", q).strip()
        found.append(("phrase", replace(request, q=loose), f"去掉引号：{loose}"))
    for name, label in (("regions", "地区"), ("industries", "行业"), ("sources", "来源")):
        if getattr(request, name):
            found.append(("filter", replace(request, **{name: []}), f"去掉{label}筛选"))
    if request.date_from or request.date_to:
        found.append(("filter", replace(request, date_from="", date_to=""), "去掉日期筛选"))
    return [Candidate(reason, changed, label) for reason, changed, label in found]


def best_first(suggestions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Offered suggestions in the order shown: by kind, then the ones finding most first."""
    return sorted(suggestions, key=lambda s: (_REASON_ORDER[s["reason"]], -s["total"]))


def suggestion(candidate: Candidate, total: int, settings: Settings) -> dict[str, Any]:
    """The JSON of one offered candidate that finds `total` documents."""
    return {
        "q": candidate.request.q,
        "reason": candidate.reason,
        "label": candidate.label,
        "total": total,
        "params": candidate.request.to_params(settings),
    }


def _simplified(q: str) -> str:
    return "".join(normalize(ch)[0] if is_han(ch) else ch for ch in q)


def _pinyin_fixes(ctx: SearchContext, q: str) -> list[str]:
    """Hanzi for a query typed in pinyin: the whole query as one word, then word by word."""
    text = unicodedata.normalize("NFKC", q).strip()
    if not _PINYIN_QUERY.match(text):
        return []
    lex = lexicon(ctx)
    words = [w.replace("'", "").lower() for w in text.split()]
    out: list[str] = []
    out.extend(lex.by_pinyin("".join(words))[:2])
    if len(words) > 1 and not out:
        parts = [(lex.by_pinyin(w) or [""])[0] for w in words]
        if all(parts):
            out.append(" ".join(parts))
    return list(dict.fromkeys(out))


def _typo_fixes(ctx: SearchContext, q: str) -> list[str]:
    """`q` with one character of an unknown word run replaced so that it is an indexed word."""
    lex = lexicon(ctx)
    analyzer = ctx.searcher.schema["content"].analyzer
    out: list[str] = []
    simplified = _simplified(q)
    for run in _HAN_RUN.findall(simplified):
        words = [t.text for t in analyzer(run, mode="query")]
        if not words or all(w in lex for w in words):
            continue
        for fixed, span in _fix_run(ctx, run, words, lex):
            out.append(simplified.replace(run, run.replace(span, fixed, 1), 1))
            if len(out) >= 3:
                return out
    return out


def _fix_run(ctx: SearchContext, run: str, words: list[str], lex: Lexicon) -> list[tuple[str, str]]:
    """The (replacement, span) of the longest span of consecutive words that contains an unknown
    word and is one character away from an indexed word (the most frequent such word)."""
    spans: list[str] = []
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            span = "".join(words[i:j])
            if 2 <= len(span) <= 8 and any(w not in lex for w in words[i:j]) and span in run:
                spans.append(span)
    spans.sort(key=len, reverse=True)
    out: list[tuple[str, str]] = []
    for span in spans[:12]:
        options = [
            re.escape(span[:k].encode()) + HAN_UTF8 + re.escape(span[k + 1 :].encode())
            for k in range(len(span))
        ]
        pattern = re.compile(rb"\n(?:" + rb"|".join(options) + rb")(?=\t)")
        found = {m.group(0)[1:].decode("utf-8") for m in pattern.finditer(lex.words)}
        found.discard(span)
        if found:
            best = max(found, key=lambda t: (lex.df(t), t))
            out.append((best, span))
            break
    return out


def prepare_suggestions(ctx: SearchContext) -> None:
    """Open (or build) the suggestion lexicon now rather than on first use."""
    lexicon(ctx)
