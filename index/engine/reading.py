"""The read side of the engine seam (see `zhsearch.index.engine` for the interface).

Whoosh's public API answers one document or one posting at a time; matching, facets and ranking
over whole sets need whole posting lists, whole columns and the canonical text as one buffer.
This module reads them from the whoosh3 (W3) codec's internals, with a generic fallback where a
reader is not W3.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from dataclasses import dataclass
from math import log
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, _lenfield
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import OverlayStorage
from whoosh.util.numeric import byte_to_length


def posting_arrays(matcher: Any) -> tuple[array, array]:
    """(docnums, weights) of a fresh posting matcher (a deletion filter is looked through)."""
    raw = getattr(matcher, "child", matcher)
    ids, weights = array("i"), array("f")
    try:
        while raw.is_active():
            if raw._ids is None:
                raw._read_ids()
            if raw._weights is None:
                raw._read_weights()
            i = raw._i
            ids.extend(raw._ids[i:])
            weights.extend(raw._weights[i:])
            raw._i = raw._blocklength
            raw._next_block()
        return ids, weights
    except AttributeError:  # another codec: the generic, slower path
        ids, weights = array("i"), array("f")
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return ids, weights


def column_values(reader: Any, fieldname: str) -> list[Any]:
    """Each document's raw column value of `fieldname` by docnum, over every segment."""
    values: list[Any] = []
    for leaf, _ in reader.leaf_readers():
        values.extend(segment_values(leaf.column_reader(fieldname, translate=False)))
    return values


def segment_values(column: Any) -> list[Any]:
    """Every document's raw value in one segment's column reader (Whoosh's per-document reads
    cost a seek and a read each)."""
    kind = type(column)
    if kind is VarBytesColumn.Reader:
        data = column._dbfile.get(column._basepos, column._length)  # values, then the arrays
        return [data[o : o + n] for o, n in zip(column._offsets, column._lengths, strict=True)]
    if kind is NumericColumn.Reader:
        stored = min(column._count, column._doccount)  # trailing documents left at the default
        raw = column._dbfile.get(column._basepos, stored * column._fixedlen)
        numbers = list(struct.unpack(f"!{stored}{column._typecode}", raw))
        return numbers + [column._default] * (column._doccount - stored)
    return list(column)


def field_lengths(leaf: Any, fieldname: str) -> list[int]:
    """A segment's per-document lengths of `fieldname` (at least 1), as Whoosh's scorer sees them.

    The whoosh3 codec keeps them as one byte per document; reading that column whole is ~50x
    faster than a `doc_field_length` call per document.
    """
    cached_reader = getattr(getattr(leaf, "_perdoc", None), "_cached_reader", None)
    if cached_reader is None:  # another codec
        length = leaf.doc_field_length
        return [length(d, fieldname, 1) or 1 for d in range(leaf.doc_count_all())]
    column = cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        # No document of the segment has the field. Whoosh's scorer then gets its default, 1,
        # after a file-existence check per document.
        return [1] * leaf.doc_count_all()
    table = [byte_to_length(b) or 1 for b in range(256)]  # a missing length (0) scores as 1
    return [table[b] for b in segment_values(column)]


def bm25_parameters(weighting: Any, fieldname: str) -> tuple[float, float]:
    """(B, K1) that Whoosh's BM25F uses for `fieldname`."""
    b = getattr(weighting, "B", 0.75)
    return getattr(weighting, "_field_B", {}).get(fieldname, b), getattr(weighting, "K1", 1.2)


def idf(doc_count: int, doc_frequency: int) -> float:
    """Whoosh's idf (`WeightingModel.idf`) for a term in `doc_frequency` of `doc_count` docs."""
    return log(doc_count / (doc_frequency + 1)) + 1


@dataclass(frozen=True)
class TextColumn:
    """A segment's variable-length byte column as one read-only buffer: document d's value is
    `buffer[base + offsets[d] : base + offsets[d] + lengths[d]]`."""

    buffer: mmap.mmap | bytes
    base: int
    offsets: Any  # array-like of int, by segment docnum
    lengths: Any

    def span(self, docnum: int) -> tuple[int, int]:
        """Where document `docnum`'s value lies in `buffer`."""
        start = self.base + self.offsets[docnum]
        return start, start + self.lengths[docnum]

    def value(self, docnum: int) -> bytes:
        """Document `docnum`'s value."""
        start, end = self.span(docnum)
        return bytes(self.buffer[start:end])

    def close(self) -> None:
        """Unmap the file (values already returned stay valid)."""
        if isinstance(self.buffer, mmap.mmap):
            self.buffer.close()


def text_column(leaf: Any, folder: str, fieldname: str) -> TextColumn | None:
    """`fieldname`'s column of one segment, memory-mapped from the index folder (shared between
    processes through the page cache, and valid after the searcher that found it is closed);
    None when the segment has no such column."""
    if not leaf.has_column(fieldname):
        return None
    column = leaf.column_reader(fieldname, translate=False)
    if type(column) is not VarBytesColumn.Reader:  # pragma: no cover - schema says VarBytes
        values = list(column)
        offsets, lengths, pos = [], [], 0
        for v in values:
            offsets.append(pos)
            lengths.append(len(v))
            pos += len(v)
        return TextColumn(b"".join(values), 0, offsets, lengths)
    segment = leaf.segment()
    name = W3Codec.column_filename(segment, fieldname)
    storage = getattr(leaf, "_storage", None)
    base = column._basepos
    compound = storage.a if isinstance(storage, OverlayStorage) else None
    if isinstance(compound, CompoundStorage) and compound.file_exists(name):
        base += compound.range(name)[0]
        name = segment.make_filename(segment.COMPOUND_EXT)
    with open(os.path.join(folder, name), "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return TextColumn(b"", 0, column._offsets, column._lengths)
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return TextColumn(buffer, base, column._offsets, column._lengths)
