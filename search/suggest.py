"""Did-you-mean corrections and autocomplete, from the index lexicon.

The structures are built from the title and content lexicons once per index generation
(`search.cache`) and bounded by `settings.suggest_terms` (the most frequent terms):
a sorted term list for Hanzi prefixes and a toneless-pinyin map (pypinyin) for pinyin typed
instead of Hanzi; titles come from a title-field query. A wrong character is found by matching
the unknown part of the query against the lexicon with one character replaced.
"""

from __future__ import annotations

import bisect
import heapq
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from whoosh import query as wq

from zhsearch.corpus.chars import HAN_CLASS, HAN_UTF8, is_han
from zhsearch.corpus.segment import normalize
from zhsearch.index.settings import Settings
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext
from zhsearch.search.request import SearchRequest

_FIELDS = ("content",)  # title words are nearly always in the text too
_HAN_TERM = re.compile(f"^{HAN_CLASS}{{2,8}}$")
_ASCII_TERM = re.compile(r"^[a-z][a-z0-9]{1,15}$")
_PINYIN_QUERY = re.compile(r"^[A-Za-z' ]+$")
_HAN_RUN = re.compile(f"{HAN_CLASS}+")
_PHRASE_PINYIN = 5_000  # most frequent words read by pypinyin as whole words
_REASON_ORDER = {"typo": 0, "pinyin": 1, "traditional": 2, "phrase": 3, "filter": 4}


@dataclass(frozen=True)
class Lexicon:
    """Indexed words for suggestions: sorted terms, their document frequencies, pinyin keys."""

    terms: list[str]
    df: dict[str, int]
    pinyin: list[tuple[str, str]]  # sorted (toneless pinyin without spaces, term)
    by_pinyin: dict[str, list[str]]  # pinyin → terms, most frequent first


SUGGEST_LEXICON: Slot[Lexicon] = Slot("suggest_lexicon")
SUGGEST_BLOB: Slot[bytes] = Slot("suggest_blob")  # the lexicon as one blob, for regex scans
# docnum → (title, id) of titles read for autocomplete, at most `suggest_titles`
SUGGEST_TITLES: Slot[dict[int, tuple[str, str]]] = Slot("suggest_titles")


def lexicon(ctx: SearchContext) -> Lexicon:
    """The suggestion lexicon of the generation `ctx` reads (built once, then cached)."""
    return ctx.cache.value(SUGGEST_LEXICON, lambda: _build(ctx))


def _build(ctx: SearchContext) -> Lexicon:
    from pypinyin import Style, lazy_pinyin  # 0.2 s to import: only the lexicon needs it

    reader = ctx.searcher.reader()
    df: dict[str, int] = {}
    for fieldname in _FIELDS:
        if fieldname not in reader.schema:
            continue
        # Segment by segment: a multi-segment reader's iter_field looks every term up in every
        # segment (30 s instead of 4 on the full corpus in two segments).
        for leaf, _offset in reader.leaf_readers():
            for raw, info in leaf.iter_field(fieldname):
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                if _HAN_TERM.match(text) or _ASCII_TERM.match(text):
                    df[text] = df.get(text, 0) + info.doc_frequency()
    cap = ctx.settings.suggest_terms
    if len(df) > cap:
        df = dict(heapq.nlargest(cap, df.items(), key=lambda kv: kv[1]))
    # pypinyin reads whole words right (银行 yinhang) but costs ~0.1 ms a word: the most frequent
    # words get it, every word gets the per-character reading (what a user may type too).
    phrase_read = set(heapq.nlargest(_PHRASE_PINYIN, df, key=df.__getitem__))
    char_pinyin: dict[str, str] = {}
    pinyin: set[tuple[str, str]] = set()
    for term in df:
        if not is_han(term[0]):
            continue
        for ch in term:
            if ch not in char_pinyin:
                char_pinyin[ch] = "".join(lazy_pinyin(ch, style=Style.NORMAL, errors="ignore"))
        pinyin.add(("".join(char_pinyin[ch] for ch in term), term))
        if term in phrase_read:
            pinyin.add(("".join(lazy_pinyin(term, style=Style.NORMAL, errors="ignore")), term))
    by_pinyin: dict[str, list[str]] = {}
    for key, term in pinyin:
        by_pinyin.setdefault(key, []).append(term)
    for terms in by_pinyin.values():
        terms.sort(key=lambda t: (-df[t], t))
    return Lexicon(sorted(df), df, sorted(pinyin), by_pinyin)


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
        for term in _prefixed(lex.terms, prefix, 2000):
            if term != prefix:
                found[term] = lex.df[term]
        key = prefix.replace("'", "")
        if key.isascii() and key.isalpha():
            start = bisect.bisect_left(lex.pinyin, (key, ""))
            for pkey, term in lex.pinyin[start : start + 2000]:
                if not pkey.startswith(key):
                    break
                found[term] = lex.df[term]
    best = heapq.nsmallest(limit, found.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
    base = f"{head} " if head else ""
    out: list[dict[str, Any]] = [
        {"text": base + term, "kind": "term", "term": term, "count": n} for term, n in best
    ]
    analyzer = ctx.searcher.schema["title"].analyzer
    words = [t.text for t in analyzer(head, mode="query")]
    if prefix in lex.df:
        words.append(prefix)
    elif best:
        words.append(best[0][0])
    for title, doc_id in _titles(ctx, words, 3):
        out.append({"text": title, "kind": "title", "term": title, "id": doc_id})
    return out


def _prefixed(terms: list[str], prefix: str, cap: int) -> list[str]:
    start = bisect.bisect_left(terms, prefix)
    out: list[str] = []
    for term in terms[start : start + cap]:
        if not term.startswith(prefix):
            break
        out.append(term)
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
    out.extend(lex.by_pinyin.get("".join(words), [])[:2])
    if len(words) > 1 and not out:
        parts = [lex.by_pinyin.get(w, [""])[0] for w in words]
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
        if not words or all(w in lex.df for w in words):
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
            if 2 <= len(span) <= 8 and any(w not in lex.df for w in words[i:j]) and span in run:
                spans.append(span)
    spans.sort(key=len, reverse=True)
    blob = _blob(ctx)
    out: list[tuple[str, str]] = []
    for span in spans[:12]:
        options = [
            re.escape(span[:k].encode()) + HAN_UTF8 + re.escape(span[k + 1 :].encode())
            for k in range(len(span))
        ]
        pattern = re.compile(rb"\n(?:" + rb"|".join(options) + rb")(?=\n)")
        found = {m.group(0)[1:].decode("utf-8") for m in pattern.finditer(blob)}
        found = {f for f in found if f != span and f in lex.df}
        if found:
            best = max(found, key=lambda t: (lex.df[t], t))
            out.append((best, span))
            break
    return out


def prepare_suggestions(ctx: SearchContext) -> None:
    """Build the suggestion lexicon (words, pinyin) and its blob now rather than on first use."""
    _blob(ctx)


def _blob(ctx: SearchContext) -> bytes:
    """The suggestion lexicon as one newline-separated UTF-8 blob, for regex scans."""
    return ctx.cache.value(
        SUGGEST_BLOB, lambda: b"\n" + "\n".join(lexicon(ctx).terms).encode("utf-8") + b"\n"
    )
