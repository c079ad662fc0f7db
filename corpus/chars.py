"""What a character is, for segmenting, matching and highlighting: the one place that says so.

Literal matching (what you type is what you find) sorts every character of *normalised* text
(NFKC, Traditional→Simplified, lower case: `corpus.segment.normalize`) into one of four kinds:
- **digit**: ASCII 0-9 (full-width digits are already folded); a run of digits is one unit;
- **latin**: ASCII a-z; a run of letters is one unit;
- **char**: every other letter or number (`str.isalnum()`): Han ideographs, kana, Greek,
  accented letters…; each is a unit of its own, so Han text matches anywhere;
- **gap**: everything else — punctuation, symbols (%, +, ℃, ·, —), spaces and line breaks.
The *canonical* form of a text keeps its units and turns every run of gaps into one space; the
index stores it, and queries are matched against it.
"""

from __future__ import annotations

import re

# CJK ideographs: Extension A, the URO, compatibility ideographs; Extensions B-G as well.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN = re.compile(f"[{HAN_RANGES}]")
HAN_CLASS = f"[{HAN_RANGES}]"  # for building other patterns
# One UTF-8 encoded character of U+3000..U+9FFF (CJK punctuation, kana and the BMP ideographs),
# for patterns run over UTF-8 bytes, where a Unicode class cannot be written.
HAN_UTF8 = rb"[\xe3-\xe9][\x80-\xbf]{2}"
HAN_RUN = re.compile(f"[{HAN_RANGES}]+")

DIGITS = frozenset("0123456789")
LATIN = frozenset("abcdefghijklmnopqrstuvwxyz")

# A run of gap characters (not str.isalnum(); `\w` is isalnum() plus "_", so "_" is added).
GAP_RUN = re.compile(r"(?:[^\w]|_)+")
# The units of canonical text: digit runs, latin runs, single other characters.
UNIT = re.compile(r"[0-9]+|[a-z]+|[^\W_0-9a-z]")
# Pieces of canonical text between gaps that hold at least one "char" unit (for n-grams).
_DIGIT_LATIN_OR_SPACE = re.compile(r"[0-9a-z ]+")


def is_han(ch: str) -> bool:
    """True for a CJK ideograph (the characters jieba segments into words)."""
    return bool(HAN.match(ch))


def kind(ch: str) -> str:
    """ "digit", "latin", "char" or "gap" for one normalised character."""
    if ch in DIGITS:
        return "digit"
    if ch in LATIN:
        return "latin"
    return "char" if ch.isalnum() else "gap"


def canonical(norm: str) -> str:
    """Normalised text with every run of gap characters turned into one space, ends stripped."""
    return GAP_RUN.sub(" ", norm).strip(" ")


def char_pieces(canon: str) -> list[str]:
    """The stretches of canonical text made of "char" units only (digit, latin and gaps cut
    them): where unigrams and bigrams come from."""
    return _DIGIT_LATIN_OR_SPACE.sub(" ", canon).split()


def alnum_runs(canon: str) -> list[str]:
    """The digit runs and latin runs of canonical text, in order."""
    return re.findall(r"[0-9]+|[a-z]+", canon)
