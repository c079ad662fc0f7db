"""Per-document arrays by docnum (facet codes, dates), read once per index generation.

Matching (date ranges, date sort), facet counting and statistics all read the same arrays, so
they live below all of them: read from the sortable columns a segment at a time (through the
engine seam) and cached per generation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zhsearch.index.engine import column_values
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext

Codes = tuple[str, ...]


@dataclass
class CodeColumn:
    """One facet's codes per document: docnum → profile number → the codes of that profile.

    Documents share few distinct code combinations, so counting profile numbers (small ints)
    and expanding each profile once is several times faster than counting every code.
    """

    profile_of: list[int]  # by docnum
    profiles: list[Codes]  # by profile number; ("140000", "140700", "140724"): ancestors first

    def codes(self, docnum: int) -> Codes:
        """The codes of one document."""
        return self.profiles[self.profile_of[docnum]]

    def count(self, docs: Iterable[int]) -> Counter[str]:
        """How many of `docs` carry each code (a region counts for all its ancestors)."""
        out: Counter[str] = Counter()
        for profile, n in Counter(map(self.profile_of.__getitem__, docs)).items():
            for code in self.profiles[profile]:
                out[code] += n
        return out


@dataclass
class DocArrays:
    """Per-document values indexed by docnum, and the region tree as the index records it."""

    regions: CodeColumn
    industries: CodeColumn
    dates: list[int]  # sortable date value, -1 when undated
    parents: dict[str, str | None]  # region code → parent code, None for a province


DOC_ARRAYS: Slot[DocArrays] = Slot("doc_arrays")


def doc_arrays(ctx: SearchContext) -> DocArrays:
    """The arrays for the index generation `ctx` reads, read once from the columns and cached."""
    return ctx.cache.value(DOC_ARRAYS, lambda: _build_arrays(ctx))


def _build_arrays(ctx: SearchContext) -> DocArrays:
    reader = ctx.searcher.reader()
    regions = _code_column(reader, "region_codes")
    parents: dict[str, str | None] = {}
    for codes in regions.profiles:
        for i, code in enumerate(codes):
            parents.setdefault(code, codes[i - 1] if i else None)
    return DocArrays(regions, _code_column(reader, "industries"), _dates(reader), parents)


def _dates(reader: Any) -> list[int]:
    if not reader.has_column("date"):
        return [-1] * reader.doc_count_all()
    missing = reader.schema["date"].column_type.default_value(False)
    return [-1 if v == missing else v for v in column_values(reader, "date")]


def _code_column(reader: Any, fieldname: str) -> CodeColumn:
    """Space-separated codes of every document, read from the field's sortable column."""
    if not reader.has_column(fieldname):
        return CodeColumn([0] * reader.doc_count_all(), [()])
    numbers: dict[Any, int] = {}
    profiles: list[Codes] = []
    profile_of: list[int] = []
    for raw in column_values(reader, fieldname):
        number = numbers.get(raw)
        if number is None:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw or "")
            number = numbers[raw] = len(profiles)
            profiles.append(tuple(text.split()))
        profile_of.append(number)
    return CodeColumn(profile_of, profiles)
