"""The Whoosh analyzer for Chinese text: one analyzer for documents and queries.

It wraps `corpus.segment` and gives Whoosh what jieba's stock ChineseAnalyzer gets wrong:
ordinal positions (sub-words share their compound's position, so phrase queries work) and true
character offsets into the original, un-normalised text (so highlighting marks the right span).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer

from zhsearch.corpus.segment import SEGMENTER_VERSION, get_segmenter, normalize
from zhsearch.index.chargrams import CHARGRAM_VERSION

# Bump when this module changes what is indexed; stored in the index metadata with the
# dictionary fingerprint so an index built by another analyzer is detected and rebuilt.
# ".2": word fields without positions, character n-gram fields and text columns beside them.
ANALYZER_VERSION = f"zh-{SEGMENTER_VERSION}.2-chars{CHARGRAM_VERSION}"


class ZhTokenizer(Tokenizer):
    """Segment with jieba's dictionary (rjieba); index compounds and their sub-words.

    In "query" mode only the precise words are produced, so a quoted phrase becomes the sequence
    of words it is made of, and a compound query word matches the same compound in documents.
    """

    def __init__(self, user_dict: str = "") -> None:
        self.user_dict = user_dict

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZhTokenizer) and other.user_dict == self.user_dict

    def __hash__(self) -> int:
        return hash((ZhTokenizer, self.user_dict))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        norm, offsets = normalize(value)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = norm
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        segmenter = get_segmenter(self.user_dict)
        for text, pos, start, end, _sub in segmenter.tokens(norm, subwords=mode != "query"):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                if offsets is not None:
                    start, end = offsets[start], offsets[end]
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token

    def word_positions(self, value: str) -> dict[str, list[int]]:
        """Every indexed word of `value` and its positions, as `__call__` would yield them.

        The bulk writer's shortcut: Whoosh's `Positions.word_values` builds the same mapping from
        a generator of Token objects, one Python call per word of every document.
        """
        return get_segmenter(self.user_dict).positions(normalize(value)[0])

    def word_counts(self, value: str) -> dict[str, int]:
        """Every indexed word of `value` and how often `__call__` yields it (a Frequency field's
        postings), for the bulk writer."""
        return {w: len(p) for w, p in self.word_positions(value).items()}

    def spans(self, value: str, normalized: bool = False) -> list[tuple[str, int, int, int]]:
        """(word, position, start, end) of every indexed word of `value`, offsets into `value`.

        What `__call__(value, positions=True, chars=True)` yields, without a Token object per
        word: highlighting re-tokenises sentences of every hit. `normalized`: `value` is already
        the output of `normalize` (a snippet normalises a document once, not per sentence).
        """
        norm, offsets = (value, None) if normalized else normalize(value)
        tokens = get_segmenter(self.user_dict).tokens(norm)
        if offsets is None:
            return [(text, pos, start, end) for text, pos, start, end, _sub in tokens]
        return [(t, p, offsets[s], offsets[e]) for t, p, s, e, _sub in tokens]


def zh_analyzer(user_dict: str = "") -> ZhTokenizer:
    """The analyzer for every Chinese text field (title, subtitle, content)."""
    return ZhTokenizer(user_dict)


def analyzer_fingerprint(user_dict: str = "") -> str:
    """Identifies what builds the index: analyzer version plus dictionary contents."""
    return f"{ANALYZER_VERSION}/{get_segmenter(user_dict).fingerprint}"
