"""Chinese text normalisation and word segmentation: the only module that imports rjieba/jieba.

Everything that needs words (metadata and facet extraction, the Whoosh analyzer) goes through
`get_segmenter()`, so documents, queries and extractors always agree on what a word is.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import opencc

from zhsearch.corpus.chars import HAN, HAN_RANGES

# Bump when normalisation or segmentation rules change: indexes built before then must be rebuilt.
SEGMENTER_VERSION = "3"

Word = tuple[str, int, int]  # (text, start, end) in normalised-text character offsets

_HAN = HAN
_WORDLIKE = re.compile(f"[0-9a-z{HAN_RANGES}]")
_MAX_COMPOUND = 16  # longer "words" are rare runs; their n-grams are not worth the lookups
_ALNUM_PARTS = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z]+")
# A number with a unit or a code: 20万吨, 318.67亿元, 500千伏, 7gw, n型, 1.5万亩. Matched on
# normalised (NFKC, lower-case) text and merged into one word whose parts stay sub-words.
_UNITS = (
    "万千瓦时|千瓦时|万千瓦|千瓦|兆瓦|吉瓦|千伏|万伏|伏|瓦|"
    "万吨|亿吨|吨|万元|亿元|元|万美元|亿美元|美元|"
    "平方公里|平方千米|平方米|万平方米|公里|千米|米|万亩|亩|公顷|"
    "万人|人|户|家|个|项|台|套|辆|座|条|所|"
    "gwh|mwh|kwh|gw|mw|kw|tw|gb|tb|nm|mm|cm|km|kg|"
    "倍|亿|万|%|‰|型"
)
_NUMBER_UNIT = re.compile(r"(?<![0-9a-z.])(?:[0-9]+(?:\.[0-9]+)?(?:" + _UNITS + r")+|[0-9a-z]+型)")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _char_norm(ch: str) -> str:
    return _t2s().convert(unicodedata.normalize("NFKC", ch)).lower()


# The indexer normalises and segments each text twice, for facet extraction and for the index:
# the last few results are kept (callers must not modify them).
@lru_cache(maxsize=8)
def normalize(text: str) -> tuple[str, list[int] | None]:
    """Width-fold (NFKC), Traditional→Simplified and lower-case `text`.

    Returns the normalised text and, only when its length differs from the input, a map from each
    normalised character index (plus one past the end) to the original index, so analyzers can
    report true character offsets into the original text.
    """
    folded = _nfkc(text)
    if len(folded) == len(text):
        converted = _t2s().convert(folded)
        if len(converted) == len(folded):
            lowered = converted.lower()
            if len(lowered) == len(text):
                return lowered, None
    # Rare path: some character changed length (ligatures, circled numbers, phrase conversion).
    # Each character is normalised on its own; the text is translated at C speed and only the
    # characters whose normal form is not one character are visited in Python.
    out = text.translate(_CHAR_TABLE)
    offsets: list[int] = []
    pos = 0
    for m in _expanding().finditer(text):
        offsets.extend(range(pos, m.start()))
        offsets.extend([m.start()] * len(_char_norm(m.group())))
        pos = m.end()
    offsets.extend(range(pos, len(text)))
    if len(offsets) != len(out):  # a character outside `_expanding` changed length
        offsets = [i for i, ch in enumerate(text) for _ in _char_norm(ch)]
    offsets.append(len(text))
    return out, offsets


# Chinese text is full of full-width punctuation (，（）：), and any one of them makes
# `unicodedata.normalize` rebuild the whole text (~225 ns a character). The compatibility
# characters common in Chinese reports are replaced by their own NFKC forms instead (the most
# common with str.replace, the rest with a pattern of a few ranges: a class of hundreds of ranges
# is slower than normalising), and the C quick check confirms the result is normalised. If it is,
# it equals NFKC of the original, because both have the same compatibility decomposition;
# otherwise (some rarer character) the text is normalised in full.
_COMMON_FULL_WIDTH = "，（）：；！？％\u3000"
_COMPAT = re.compile(
    "[\u00a0-\u00bf\u2026\u2100-\u218f\u2460-\u24ff\u3000\u3200-\u33ff\uff01-\uff5e]"
)


@lru_cache(maxsize=4096)
def _nfkc_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def _nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, several times faster on Chinese text."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for ch in _COMMON_FULL_WIDTH:
        if ch in text:
            text = text.replace(ch, _nfkc_char(ch))
    text = _COMPAT.sub(lambda m: _nfkc_char(m.group()), text)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


class _CharTable(dict):
    """`str.translate` table filled on demand with `_char_norm`."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _char_norm(chr(code))
        return value


_CHAR_TABLE = _CharTable()


@lru_cache(maxsize=1)
def _expanding() -> re.Pattern[str]:
    """Characters whose width-folded, lower-cased form is not exactly one character."""
    chars = [
        chr(c)
        for c in range(0x80, 0x30000)
        if not 0xD800 <= c < 0xE000 and len(unicodedata.normalize("NFKC", chr(c)).lower()) != 1
    ]
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


def is_wordlike(word: str) -> bool:
    """True when a token carries meaning (Han, digit or Latin), False for spaces and punctuation."""
    return bool(_WORDLIKE.search(word))


# One indexed word: (text, ordinal position, start, end, is_subword). Sub-words share their
# compound's position; offsets are into the normalised text. Plain tuples: this is the hot loop.
Token = tuple[str, int, int, int, bool]
# What segmentation decides for one distinct word: (position step, sub-words with their offsets
# in the word, the texts indexed: the word and its sub-words, or none for punctuation).
_Entry = tuple[int, list[tuple[str, int, int]], tuple[str, ...]]


class Segmenter:
    """A jieba-compatible segmenter (rjieba when available) loaded with zhsearch's dictionaries."""

    def __init__(self, dict_files: Iterable[Path | str] = ()) -> None:
        self.dict_files = [Path(p) for p in dict_files]
        self._entries: dict[str, _Entry] = {}  # per distinct word, see `_entry`
        self._recent: dict[str, list[Word]] = {}
        try:
            import rjieba

            self.backend = "rjieba"
            self._jieba = rjieba.Jieba()
        except ImportError:  # pragma: no cover - fallback when no wheel exists for the platform
            import jieba

            self.backend = "jieba"
            self._jieba = jieba.Tokenizer()
        digest = hashlib.sha256(f"{SEGMENTER_VERSION}:{self.backend}".encode())
        for path in self.dict_files:
            data = path.read_bytes()
            digest.update(data)
            self._load_dict(data.decode("utf-8-sig"), path)
        self.fingerprint = digest.hexdigest()[:16]

    def _load_dict(self, text: str, path: Path) -> None:
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            word = normalize(parts[0])[0]
            # jieba's user-dictionary form: word, then an optional frequency, then an optional tag.
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
            if len(parts) > 3 or (len(parts) == 3 and freq is None):
                raise ValueError(f"{path}:{lineno}: expected 'word [freq] [tag]', got {line!r}")
            self._add_word(word, freq, tag)

    def _add_word(self, word: str, freq: int | None, tag: str | None) -> None:
        self._jieba.add_word(word, freq, tag)  # rjieba and jieba take the same arguments

    def cut(self, norm: str) -> list[Word]:
        """Precise-mode words of normalised text, with number+unit runs merged into one word.

        The last few results are kept (see `normalize`); callers must not modify them."""
        words = self._recent.get(norm)
        if words is not None:
            return words
        if self.backend == "rjieba":
            words = self._jieba.tokenize(norm, mode="default")
        else:  # pragma: no cover
            words = list(self._jieba.tokenize(norm, mode="default"))
        if _NUMBER_UNIT.search(norm):
            words = _merge_spans(words, [m.span() for m in _NUMBER_UNIT.finditer(norm)], norm)
        if len(self._recent) >= 8:
            self._recent.clear()
        self._recent[norm] = words
        return words

    def has_word(self, word: str) -> bool:
        """True when `word` is in the dictionary."""
        if self.backend == "rjieba":
            return self._jieba.has_word(word)
        return word in self._jieba.FREQ  # pragma: no cover

    def subwords(self, word: str) -> list[tuple[str, int, int]]:
        """Searchable parts of one word: every dictionary word inside it (jieba's search mode
        takes only 2- and 3-grams, which loses 负极材料 inside 锂电负极材料), and the digit and
        letter runs of an alphanumeric word. Offsets are relative to the word."""
        out: list[tuple[str, int, int]] = []
        n = len(word)
        if 2 < n <= _MAX_COMPOUND and _HAN.match(word[0]):
            for size in range(2, n):
                for i in range(n - size + 1):
                    gram = word[i : i + size]
                    if self.has_word(gram):
                        out.append((gram, i, i + size))
        if not (n > 1 and _HAN.match(word[0]) and _HAN.match(word[-1])):
            parts = list(_ALNUM_PARTS.finditer(word))
            if len(parts) > 1 or (parts and parts[0].group() != word):
                seen = {w for w, _, _ in out}
                for m in parts:
                    if m.group() not in seen:
                        out.append((m.group(), m.start(), m.end()))
                # The Han tail of a number+unit word (万吨 in 20万吨) is a part too.
                tail_start = parts[-1].end() if parts else 0
                tail = word[tail_start:]
                if tail and tail != word and tail not in seen:
                    out.append((tail, tail_start, n))
        return out

    def tokens(self, norm: str, subwords: bool = True) -> list[Token]:
        """Words of normalised text with ordinal positions; sub-words share their parent's."""
        out: list[Token] = []
        append = out.append
        entries = self._entries
        pos = 0
        for word, start, end in self.cut(norm):
            step, subs, texts = entries.get(word) or self._entry(word)
            if texts:
                append((word, pos, start, end, False))
                if subwords:
                    for sub, s, e in subs:
                        append((sub, pos, start + s, start + e, True))
            pos += step
        return out

    def positions(self, norm: str) -> dict[str, list[int]]:
        """Each word `tokens(norm)` yields, with its positions in order: what an index stores.

        The indexer's shortcut: no token tuples, a dictionary lookup per word."""
        out: dict[str, list[int]] = {}
        get = out.get
        entries = self._entries
        pos = 0
        for word, _start, _end in self.cut(norm):
            step, _subs, texts = entries.get(word) or self._entry(word)
            for text in texts:
                seen = get(text)
                if seen is None:
                    out[text] = [pos]
                else:
                    seen.append(pos)
            pos += step
        return out

    def _entry(self, word: str) -> _Entry:
        """What `tokens` does with `word`, worked out once per distinct word: how far it moves
        the position, its sub-words, and the texts indexed for it (none for punctuation)."""
        if not _WORDLIKE.search(word):
            # Punctuation breaks phrases (交换机，安装 is not "交换机安装"); spaces do not.
            entry: _Entry = (0 if word.isspace() else 1, [], ())
        else:
            subs = self.subwords(word) if len(word) > 1 else []
            entry = (1, subs, (word, *(sub for sub, _s, _e in subs)))
        if len(self._entries) < 500_000:
            self._entries[word] = entry
        return entry

    def words(self, text: str) -> list[str]:
        """Precise words of raw text (normalised first), punctuation dropped: for extractors."""
        return [w for w, _, _ in self.cut(normalize(text)[0]) if is_wordlike(w)]


def _merge_spans(words: list[Word], spans: list[tuple[int, int]], norm: str) -> list[Word]:
    """Merge the words covering each span into one, when the span starts and ends on word edges."""
    out: list[Word] = []
    i = 0
    span_iter = iter(spans)
    span = next(span_iter, None)
    while i < len(words):
        word, start, end = words[i]
        while span is not None and span[0] < start:
            span = next(span_iter, None)
        if span is not None and span[0] == start:
            j = i
            while j < len(words) and words[j][2] < span[1]:
                j += 1
            if j < len(words) and words[j][2] == span[1] and j > i:
                out.append((norm[start : span[1]], start, span[1]))
                i = j + 1
                span = next(span_iter, None)
                continue
        out.append((word, start, end))
        i += 1
    return out


def bundled_dict_files() -> list[Path]:
    """The dictionaries that ship with zhsearch (corpus/data/*.dict), in a stable order."""
    data = resources.files("zhsearch.corpus") / "data"
    return sorted(Path(str(p)) for p in data.iterdir() if p.name.endswith(".dict"))


def get_segmenter(user_dict: str = "") -> Segmenter:
    """The shared segmenter for the bundled dictionaries plus an optional user dictionary file."""
    # One cache key per dictionary set: lru_cache would key get_segmenter() and
    # get_segmenter("") apart and load the dictionaries twice (0.2 s and their memory).
    return _segmenter(user_dict)


@lru_cache(maxsize=4)
def _segmenter(user_dict: str) -> Segmenter:
    files = bundled_dict_files()
    if user_dict:
        path = Path(user_dict).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"user dictionary not found: {path}")
        files.append(path)
    return Segmenter(files)
