"""Literal terms: what a user typed, as the exact text a report must contain.

A term is a run of typed characters (quoted or not). After normalisation (`corpus.segment`) it
is cut at its gaps (`corpus.chars`: punctuation, symbols, spaces) into segments. A field
matches when its canonical text holds the segments in order, each one contiguous, with at most
one gap between two of them (the canonical text has one space for any run of gaps), and when
no digit or latin run goes on past an edge of a segment with the same kind of character
(`5G` is not in 15G, `AI` is not in MAIN, `20万吨` is in 20万吨级).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Any

from whoosh import query as wq

from zhsearch.corpus.chars import DIGITS, LATIN, alnum_runs, canonical, char_pieces
from zhsearch.corpus.segment import normalize


@dataclass(frozen=True)
class LiteralTerm:
    """One typed term as canonical segments; `text` is what the user typed (NFKC-folded)."""

    text: str
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, typed: str) -> LiteralTerm | None:
        """The term for typed text; None when it holds no letter or digit at all."""
        canon = canonical(normalize(typed)[0])
        if not canon:
            return None
        return cls(typed.strip(), tuple(canon.split(" ")))

    @property
    def key(self) -> str:
        """The canonical form: equal keys match the same reports."""
        return " ".join(self.segments)

    @cached_property
    def grams(self) -> tuple[str, ...]:
        """The index n-grams every matching field holds (see `index.chargrams`)."""
        out: dict[str, None] = {}
        for segment in self.segments:
            out.update(dict.fromkeys(alnum_runs(segment)))
            for piece in char_pieces(segment):
                if len(piece) == 1:
                    out[piece] = None
                else:
                    out.update(dict.fromkeys(a + b for a, b in pairwise(piece)))
        return tuple(out)

    @property
    def exact_gram(self) -> str | None:
        """The one n-gram whose posting list is exactly this term's matches, if there is one:
        a single character, two adjacent Han (or other "char") characters, a whole digit or
        latin run."""
        if len(self.segments) != 1 or len(self.grams) != 1:
            return None
        gram = self.grams[0]
        return gram if gram == self.segments[0] else None

    @property
    def plain(self) -> bool:
        """True when a plain substring search decides a match (one segment, no edge rules)."""
        segment = self.segments[0]
        return len(self.segments) == 1 and not _edge(segment[0]) and not _edge(segment[-1])

    @cached_property
    def needle(self) -> bytes:
        """The first segment as UTF-8, for the plain-substring case."""
        return self.segments[0].encode("utf-8")

    @cached_property
    def pattern(self) -> re.Pattern[bytes]:
        """The match rule over canonical UTF-8 text."""
        return re.compile(_pattern(self.segments, gap=" ").encode("utf-8"))

    @cached_property
    def text_pattern(self) -> re.Pattern[str]:
        """The same rule over normalised (not canonical) text, for highlighting."""
        return re.compile(_pattern(self.segments, gap=r"(?:[^\w]|_)*"))

    @cached_property
    def display(self) -> str:
        """How the term reads back in the query syntax: quoted when it has gaps."""
        return self.text if len(self.segments) == 1 and " " not in self.text else f'"{self.text}"'


def _edge(ch: str) -> str:
    if ch in DIGITS:
        return "0-9"
    if ch in LATIN:
        return "a-z"
    return ""


def _pattern(segments: tuple[str, ...], gap: str) -> str:
    parts = []
    for segment in segments:
        head, tail = _edge(segment[0]), _edge(segment[-1])
        parts.append(
            (f"(?<![{head}])" if head else "")
            + re.escape(segment)
            + (f"(?![{tail}])" if tail else "")
        )
    joiner = f"(?:{gap})?" if gap == " " else gap
    return joiner.join(parts)


class Literal(wq.Query):
    """A query leaf: `term` must occur literally in `fieldname` (a search field)."""

    def __init__(self, fieldname: str, term: LiteralTerm, boost: float = 1.0) -> None:
        self.fieldname = fieldname
        self.term = term
        self.boost = boost

    @property
    def text(self) -> str:
        """The term as typed."""
        return self.term.text

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.fieldname == self.fieldname  # type: ignore[attr-defined]
            and other.term == self.term  # type: ignore[attr-defined]
            and other.boost == self.boost  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        # The typed text counts: 鋰電池 and 锂电池 match alike but read back as typed.
        return hash((Literal, self.fieldname, self.term, self.boost))

    def __repr__(self) -> str:
        return f"Literal({self.fieldname!r}, {self.term.text!r})"

    def __str__(self) -> str:
        return f"{self.fieldname}:{self.term.display}"

    def is_leaf(self) -> bool:
        return True

    def children(self) -> list[Any]:
        return []

    def estimate_size(self, ixreader: Any) -> int:
        return 0

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        raise TypeError("Literal terms are matched by search.docsets, not by Whoosh")
