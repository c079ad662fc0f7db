"""Whole Whoosh columns read a segment at a time, for per-generation arrays (facets, lengths).

Whoosh's column readers answer one document at a time, a seek and a read each (~0.1 s a column
on the full corpus). Facet codes, dates and field lengths need every document's value, so these
read a segment's column data in one go, with the same values Whoosh's per-document reads give.
"""

from __future__ import annotations

import struct
from typing import Any

from whoosh.columns import NumericColumn, VarBytesColumn


def column_values(reader: Any, fieldname: str) -> list[Any]:
    """Each document's raw column value of `fieldname` by docnum, over every segment."""
    values: list[Any] = []
    for leaf, _ in reader.leaf_readers():
        values.extend(segment_values(leaf.column_reader(fieldname, translate=False)))
    return values


def segment_values(column: Any) -> list[Any]:
    """Every document's raw value in one segment's column reader."""
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
