"""The character-level index: what makes "what you type is what you find" fast.

Beside each word field (title, subtitle, content) the index keeps
- `<field>_chars`, a Frequency field of the canonical text's character n-grams: every "char"
  unit (Han…) as a unigram, every two adjacent "char" units as a bigram, and every whole digit
  run and latin run (see `corpus.chars`). A one-character query, a two-character Han query and a
  whole number or word are answered by one posting list; longer text by intersecting them
  (pg_bigm's approach), and the frequencies give the phrase-level term frequency for ranking;
- `<field>_text`, a column holding the canonical text itself (UTF-8), against which the
  candidates of a longer query are checked, so a match is exactly a substring.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from operator import add
from typing import Any

from whoosh.analysis import Token, Tokenizer

from zhsearch.corpus.chars import alnum_runs, canonical, char_pieces
from zhsearch.corpus.segment import normalize

# Bump when what the character fields hold changes: old indexes then ask for a rebuild.
CHARGRAM_VERSION = "1"


def chars_field(fieldname: str) -> str:
    """The character n-gram field beside word field `fieldname`."""
    return f"{fieldname}_chars"


def text_column(fieldname: str) -> str:
    """The canonical-text column beside word field `fieldname`."""
    return f"{fieldname}_text"


@lru_cache(maxsize=8)
def canonical_text(text: str) -> str:
    """The canonical form of raw text (normalised, gap runs as one space); the last few kept,
    since the analyzer and the column of one field ask for the same text."""
    return canonical(normalize(text)[0])


def gram_counts(canon: str) -> dict[str, int]:
    """Every n-gram of canonical text with its count: the postings of one document's field."""
    counts = Counter(alnum_runs(canon))
    for piece in char_pieces(canon):
        counts.update(piece)
        if len(piece) > 1:
            counts.update(map(add, piece, piece[1:]))
    return counts


def text_value(text: str) -> bytes:
    """What the `<field>_text` column stores for raw field text: its canonical form between two
    spaces, so a match at either end never sees the neighbouring document's characters."""
    return f" {canonical_text(text)} ".encode()


class CharTokenizer(Tokenizer):
    """Whoosh's view of `gram_counts`: one token per n-gram occurrence (no positions)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer)

    def __hash__(self) -> int:
        return hash(CharTokenizer)

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
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        counts = gram_counts(canonical_text(value)) if tokenize else {value: 1}
        for gram, count in counts.items():
            for _ in range(count):
                token.text = gram
                token.boost = 1.0
                token.stopped = False
                yield token

    def gram_counts(self, value: str) -> dict[str, int]:
        """The bulk writer's shortcut: the counts `__call__` would yield one token at a time."""
        return gram_counts(canonical_text(value))
