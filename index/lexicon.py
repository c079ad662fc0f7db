"""The suggestion lexicon: a generation's words with document frequencies and pinyin keys.

Did-you-mean and autocomplete look words up by Hanzi prefix, by toneless pinyin and by a
one-character-replaced pattern. Building that from the index costs seconds on a large corpus
(every term read, pinyin for each), too much for a one-shot CLI search, so each commit writes it
beside the segments as two sorted tables of text lines that a search maps and bisects instead of
loading:

- `lexicon-<toc>.words`:  `\\n` then `word\\tdf\\n` lines, sorted by word;
- `lexicon-<toc>.pinyin`: `\\n` then `pinyin\\tword\\tdf\\n` lines, sorted by pinyin, then word;
- `lexicon-<toc>.json`:   what they were built from, written last (its presence = complete).

`<toc>` is the Whoosh TOC generation the tables describe; a reader of any other commit builds
the same tables in memory (`build_lexicon`), so there is one lookup path either way. UTF-8 byte
order is code-point order, so the bytes sort as the strings do.
"""

from __future__ import annotations

import heapq
import json
import mmap
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zhsearch.corpus.chars import HAN_CLASS, is_han

FORMAT = 1
FIELDS = ("content",)  # title words are nearly always in the text too
_HAN_TERM = re.compile(f"^{HAN_CLASS}{{2,8}}$")
_ASCII_TERM = re.compile(r"^[a-z][a-z0-9]{1,15}$")
PHRASE_PINYIN = 5_000  # most frequent words read by pypinyin as whole words


class Lexicon:
    """Sorted word and pinyin tables (mapped files or bytes) with bisecting lookups."""

    def __init__(self, words: bytes | mmap.mmap, pinyin: bytes | mmap.mmap) -> None:
        self.words = words
        self.pinyin = pinyin

    def df(self, term: str) -> int:
        """Documents holding `term`, 0 when it is not in the lexicon."""
        key = term.encode("utf-8") + b"\t"
        line = _line_at(self.words, _first_at_least(self.words, key))
        return int(line[len(key) :]) if line.startswith(key) else 0

    def __contains__(self, term: str) -> bool:
        return self.df(term) > 0

    def prefixed(self, prefix: str, cap: int) -> list[tuple[str, int]]:
        """(word, df) of the first `cap` words starting with `prefix`, in word order."""
        out = []
        for line in _lines_from(self.words, prefix.encode("utf-8"), cap):
            word, _, df = line.partition(b"\t")
            out.append((word.decode("utf-8"), int(df)))
        return out

    def pinyin_prefixed(self, prefix: str, cap: int) -> list[tuple[str, str, int]]:
        """(pinyin, word, df) of the first `cap` pinyin keys starting with `prefix`."""
        out = []
        for line in _lines_from(self.pinyin, prefix.encode("ascii"), cap):
            key, word, df = line.split(b"\t")
            out.append((key.decode("ascii"), word.decode("utf-8"), int(df)))
        return out

    def by_pinyin(self, key: str) -> list[str]:
        """The words read as `key` exactly, most frequent first."""
        rows = self.pinyin_prefixed(key + "\t", 10_000)
        return [word for _, word, _ in sorted(rows, key=lambda row: (-row[2], row[1]))]


def _first_at_least(buf: bytes | mmap.mmap, key: bytes) -> int:
    """Offset of the first line (after the leading newline) whose bytes are >= `key`."""
    lo, hi = 1, len(buf)
    while lo < hi:
        mid = (lo + hi) // 2
        start = buf.rfind(b"\n", 0, mid) + 1
        end = buf.find(b"\n", start)
        if end < 0:
            end = len(buf)
        if buf[start:end] < key:
            lo = end + 1
        else:
            hi = start
    return lo


def _line_at(buf: bytes | mmap.mmap, offset: int) -> bytes:
    end = buf.find(b"\n", offset)
    return bytes(buf[offset : end if end >= 0 else len(buf)])


def _lines_from(buf: bytes | mmap.mmap, prefix: bytes, cap: int) -> Iterator[bytes]:
    offset = _first_at_least(buf, prefix)
    for _ in range(cap):
        if offset >= len(buf):
            return
        line = _line_at(buf, offset)
        if not line.startswith(prefix):
            return
        yield line
        offset += len(line) + 1


def build_lexicon(reader: Any, max_terms: int) -> Lexicon:
    """The tables of what `reader` (a Whoosh reader) holds, built in memory."""
    from pypinyin import Style, lazy_pinyin  # 0.2 s to import: only the lexicon needs it

    df: dict[str, int] = {}
    for fieldname in FIELDS:
        if fieldname not in reader.schema:
            continue
        # Segment by segment: a multi-segment reader's iter_field looks every term up in every
        # segment (30 s instead of 4 on the full corpus in two segments).
        for leaf, _offset in reader.leaf_readers():
            for raw, info in leaf.iter_field(fieldname):
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                if _HAN_TERM.match(text) or _ASCII_TERM.match(text):
                    df[text] = df.get(text, 0) + info.doc_frequency()
    if len(df) > max_terms:
        df = dict(heapq.nlargest(max_terms, df.items(), key=lambda kv: kv[1]))
    # pypinyin reads whole words right (银行 yinhang) but costs ~0.1 ms a word: the most frequent
    # words get it, every word gets the per-character reading (what a user may type too).
    phrase_read = set(heapq.nlargest(PHRASE_PINYIN, df, key=df.__getitem__))
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
    words = "".join(f"{t}\t{df[t]}\n" for t in sorted(df))
    keys = "".join(f"{k}\t{t}\t{df[t]}\n" for k, t in sorted(pinyin) if k.isascii() and k)
    return Lexicon(("\n" + words).encode("utf-8"), ("\n" + keys).encode("utf-8"))


def write_lexicon(generation: Path, toc: int, reader: Any, max_terms: int) -> None:
    """Write the tables of commit `toc` into `generation`; drop those of earlier commits."""
    lex = build_lexicon(reader, max_terms)
    stem = f"lexicon-{toc}"
    for suffix, data in ((".words", lex.words), (".pinyin", lex.pinyin)):
        _write_atomic(generation / (stem + suffix), bytes(data))
    meta = {"format": FORMAT, "toc": toc, "max_terms": max_terms}
    _write_atomic(generation / f"{stem}.json", json.dumps(meta).encode("utf-8"))
    for path in generation.glob("lexicon-*"):
        if not path.name.startswith(
            stem + "."
        ):  # an earlier commit's: no reader of it left wants it
            path.unlink(missing_ok=True)


def open_lexicon(generation: Path, toc: int | None, max_terms: int) -> Lexicon | None:
    """The mapped tables of commit `toc`, or None when that commit has none (or other limits)."""
    stem = generation / f"lexicon-{toc}"
    try:
        meta = json.loads(stem.with_suffix(".json").read_text("utf-8"))
        if meta != {"format": FORMAT, "toc": toc, "max_terms": max_terms}:
            return None
        return Lexicon(_map(stem.with_suffix(".words")), _map(stem.with_suffix(".pinyin")))
    except (OSError, ValueError):
        return None


def _map(path: Path) -> mmap.mmap:
    with path.open("rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
