"""Snippets: the best passages of a document with the query's matches in <mark>, safely escaped.

Text is escaped first and marks are added around spans, so nothing from a document can inject
markup. A mark is exactly what a query term matched: each term's match rule
(`LiteralTerm.text_pattern`) is run over the normalised text and the spans are mapped back to
the original characters, so 中石油 or a copied phrase is marked whole, never in pieces.
Overlapping marks merge. Passages are cut only where no word or number runs across the cut
(the sentence is tokenised with the index analyzer for that), preferably at sentence or clause
punctuation. Only the first `SCAN_CHARS` characters are considered, so the cost stays small
however long the document is.

The query-independent part (normalised text, sentences, each sentence's words) is an
`AnalysedText`, which the search layer caches per document so repeated hits are not re-tokenised.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from zhsearch.corpus.segment import normalize
from zhsearch.search.literal import LiteralTerm

SCAN_CHARS = 20_000  # characters of a document considered for passages
FALLBACK_CHARS = 120  # length of the lead passage when nothing matches

_SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;\n]+|$)")
_CLAUSE_END = frozenset("，、,：:）)」』”")
_SENTENCE_END = frozenset("。！？!?；;\n")
_NUMBER = re.compile(r"[0-9０-９]+(?:[.,．，][0-9０-９]+)*|[A-Za-zＡ-Ｚａ-ｚ]+")
_SPACE = re.compile(r"\s+")

Span = tuple[int, int]  # [start, end) character offsets into the original text
Analyzer = Callable[..., Iterable]
Match = tuple[int, int, str]  # original [start, end) and the matched term's key


@dataclass(frozen=True)
class MatchTerms:
    """What a snippet marks: the literal terms a query matched (not those under NOT)."""

    terms: tuple[LiteralTerm, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)


@dataclass
class _Words:
    """The indexed words of one stretch of text and where cuts are safe (query-independent)."""

    start: int
    end: int
    tokens: list[tuple[str, int, int, int]]  # (word, position, start, end), original offsets
    unsafe: bytearray  # unsafe[i] == 1: a cut before text[start + i] would split a word


@dataclass
class _Sentence:
    """One analysed sentence: its match spans with their term keys, and where cuts are safe."""

    start: int
    end: int
    matches: list[tuple[int, int, object]]
    unsafe: bytearray

    def safe(self, pos: int) -> bool:
        return not self.unsafe[pos - self.start]


class AnalysedText:
    """A text normalised once and cut into sentences, each tokenised the first time a snippet
    needs it; nothing here depends on the query, so one analysis serves every search."""

    def __init__(self, text: str, analyzer: Analyzer, limit: int | None = SCAN_CHARS) -> None:
        self.text = text
        self.analyzer = analyzer
        scan = text if limit is None else text[:limit]
        self.norm, self.offsets = normalize(scan)
        self.norm_spans = [m.span() for m in _SENTENCE.finditer(self.norm) if m.end() > m.start()]
        offsets = self.offsets
        self.sentences = (
            list(self.norm_spans)
            if offsets is None
            else [(offsets[s], offsets[e]) for s, e in self.norm_spans]
        )
        if len(scan) < len(text) and len(self.sentences) > 1:
            self.sentences.pop()  # may end mid-word at the scan limit
            self.norm_spans.pop()
        self._words: dict[int, _Words] = {}
        self._whole: _Words | None = None

    def matches(self, terms: MatchTerms) -> list[Match]:
        """Every match of the terms in the scanned text, in original offsets, in order."""
        out: list[Match] = []
        offsets = self.offsets
        for term in terms.terms:
            for m in term.text_pattern.finditer(self.norm):
                s, e = m.span()
                if offsets is not None:
                    s, e = offsets[s], offsets[e]
                out.append((s, e, term.key))
        out.sort()
        return out

    def words(self, i: int) -> _Words:
        """Sentence i's words (tokenised on first use; concurrent first uses agree)."""
        found = self._words.get(i)
        if found is None:
            found = self._words[i] = self._tokenise(*self.norm_spans[i], *self.sentences[i])
        return found

    def whole(self) -> _Words:
        """The words of the whole (scanned) text, for titles."""
        if self._whole is None:
            end = len(self.norm) if self.offsets is None else self.offsets[-1]  # scanned end
            self._whole = self._tokenise(0, len(self.norm), 0, end)
        return self._whole

    def _tokenise(self, ns: int, ne: int, start: int, end: int) -> _Words:
        """Tokenise norm[ns:ne] (text[start:end]) as the index does; offsets into `text`."""
        piece = self.norm[ns:ne]
        spans = getattr(self.analyzer, "spans", None)
        if spans is not None:  # the zh analyzer: the same words without a Token per word
            raw = spans(piece, normalized=True)
        else:
            raw = [
                (t.text, t.pos, t.startchar, t.endchar)
                for t in self.analyzer(piece, positions=True, chars=True, mode="index")
            ]
        offsets = self.offsets
        if offsets is None:
            tokens = [(w, p, ns + s, ns + e) for w, p, s, e in raw]
        else:
            tokens = [(w, p, offsets[ns + s], offsets[ns + e]) for w, p, s, e in raw]
        unsafe = bytearray(end - start + 1)
        for _, _, s, e in tokens:
            if e - s > 1:
                unsafe[s - start + 1 : e - start] = b"\x01" * (e - s - 1)
        for m in _NUMBER.finditer(self.text, start, end):
            s, e = m.span()
            if e - s > 1:
                unsafe[s - start + 1 : e - start] = b"\x01" * (e - s - 1)
        return _Words(start, end, tokens, unsafe)


def highlight_text(text: str | AnalysedText, terms: MatchTerms, analyzer: Analyzer) -> str:
    """The whole of a short text (a title) escaped, with every match marked."""
    raw = text.text if isinstance(text, AnalysedText) else text
    if not raw:
        return ""
    if not terms:
        return html.escape(raw)
    analysed = text if isinstance(text, AnalysedText) else AnalysedText(raw, analyzer, None)
    return _render(raw, 0, len(raw), [(s, e) for s, e, _ in analysed.matches(terms)])


def make_snippet(
    text: str | AnalysedText,
    terms: MatchTerms,
    analyzer: Analyzer,
    chars: int = 120,
    passages: int = 3,
) -> str:
    """Up to `passages` passages of about `chars` characters around the best matches, as HTML;
    the start of the text when nothing matches."""
    if isinstance(text, AnalysedText):
        analysed = text
    elif text:
        analysed = AnalysedText(text, analyzer)
    else:
        return ""
    text = analysed.text
    if not text:
        return ""
    sentences = analysed.sentences
    found = analysed.matches(terms) if terms else []
    starts = [s for s, _ in sentences]
    by_sentence: dict[int, list[Match]] = {}
    for match in found:
        i = max(0, bisect_right(starts, match[0]) - 1)
        by_sentence.setdefault(i, []).append(match)
    matched: dict[int, _Sentence] = {}

    def sentence(i: int) -> _Sentence:
        if i not in matched:
            words = analysed.words(i)
            matched[i] = _Sentence(words.start, words.end, by_sentence.get(i, []), words.unsafe)
        return matched[i]

    # Sentences with the most different terms first, then the most matches.
    scored = sorted(
        (-len({k for _, _, k in ms}), -min(len(ms), 10), i) for i, ms in by_sentence.items()
    )
    chosen = sorted(i for _, _, i in scored[:passages])
    if not chosen:
        chosen = [next((i for i, (s, e) in enumerate(sentences) if text[s:e].strip()), 0)]
        chars = min(chars, FALLBACK_CHARS)
    windows = _merge([_window(i, sentences, sentence, text, chars) for i in chosen if sentences])
    out: list[str] = []
    previous_end = 0
    for start, end in windows:
        if start > previous_end and text[previous_end:start].strip():
            out.append("…")
        spans = [(s, e) for s, e, _ in found if s < end and e > start]
        out.append(_render(text, start, end, spans))
        previous_end = end
    if text[previous_end:].strip():
        out.append("…")
    return "".join(out)


def _window(
    i: int,
    sentences: list[Span],
    sentence: Callable[[int], _Sentence],
    text: str,
    chars: int,
) -> Span:
    """A passage of about `chars` characters around sentence i's best matches."""
    s, e = _strip(text, *sentences[i])
    if e - s <= chars:
        # Short sentence: continue with what follows while it fits, cutting the last one safely.
        end = e
        j = i + 1
        while j < len(sentences) and end - s < chars:
            ns, ne = _strip(text, *sentences[j])
            if ne <= ns:
                j += 1
                continue
            if ne - s <= chars:
                end = ne
                j += 1
                continue
            cut = _cut_before(sentence(j), text, s + chars, ns)
            if cut - ns >= 8:
                end = cut
            break
        return s, end
    info = sentence(i)
    matches = [m for m in info.matches if s <= m[0] and m[1] <= e]
    lead = chars // 5
    best = (0, 0, s)
    for anchor in matches:
        lo = anchor[0] - lead
        inside = [m for m in matches if m[0] >= lo and m[1] <= lo + chars]
        key = (len({m[2] for m in inside}), len(inside))
        if key > best[:2]:
            best = (*key, anchor[0])
    anchor_start = best[2]
    start = max(s, anchor_start - lead)
    start = _cut_after_clause(info, text, start, anchor_start) or _snap_down(info, start, s)
    end = min(e, start + chars)
    if end < e:
        end = _cut_before(info, text, end, anchor_start + 1)
    return start, end


def _strip(text: str, s: int, e: int) -> Span:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _snap_down(info: _Sentence, pos: int, floor: int) -> int:
    while pos > floor and not info.safe(pos):
        pos -= 1
    return pos


def _cut_after_clause(info: _Sentence, text: str, start: int, limit: int) -> int | None:
    """A start just after clause punctuation near `start` (at most 15 characters earlier)."""
    for pos in range(start, max(info.start, start - 15) - 1, -1):
        if pos <= limit and pos > info.start and text[pos - 1] in _CLAUSE_END:
            return pos
    for pos in range(max(start, info.start + 1), limit):
        if text[pos - 1] in _CLAUSE_END and info.safe(pos):
            return pos
    return None


def _cut_before(info: _Sentence, text: str, end: int, floor: int) -> int:
    """The best safe end at or before `end`: after clause punctuation if one is near."""
    end = min(end, info.end)
    for pos in range(end, max(floor, end - 20), -1):
        if text[pos - 1] in _CLAUSE_END or text[pos - 1] in _SENTENCE_END:
            return pos
    pos = _snap_down(info, end, floor)
    if pos <= floor:  # one word longer than the window: keep it whole
        pos = end
        while pos < info.end and not info.safe(pos):
            pos += 1
    return pos


def _merge(windows: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(windows):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _render(text: str, start: int, end: int, spans: list[Span]) -> str:
    """text[start:end] escaped, whitespace runs collapsed, merged spans wrapped in <mark>."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out: list[str] = []
    pos = start
    for s, e in merged:
        out.append(_escape(text[pos:s]))
        out.append(f"<mark>{_escape(text[s:e])}</mark>")
        pos = e
    out.append(_escape(text[pos:end]))
    return "".join(out)


def _escape(piece: str) -> str:
    return html.escape(_SPACE.sub(" ", piece))
