"""Disjunctive facet counts (region tree, industries) from per-document arrays of codes.

Each facet is counted over the documents matching every filter except its own (like an
Elasticsearch post_filter), so selecting 江苏 still shows 山西省 with its count. Counting never
walks Whoosh results: the caller passes the matching document numbers as a set and the codes of
each document come from arrays read once per index generation from the sortable columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from index.engine import column_values
from search.context import SearchContext, cached
from search.request import FacetValue

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


def doc_arrays(ctx: SearchContext) -> DocArrays:
    """The arrays for the index generation `ctx` reads, read once from the columns and cached."""
    return cached(ctx, "doc_arrays", lambda: _build_arrays(ctx))


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


def lineage(gazetteer: Any, code: str) -> list[str]:
    """The code's ancestors, province first, then the code itself."""
    ancestors = [a for a in (gazetteer.ancestors(code) or []) if a and a != code]
    return [*sorted(ancestors, key=_depth), code]


def _depth(code: str) -> tuple[bool, bool]:
    return (code[2:] != "0000", code[4:] != "00")


def region_name(gazetteer: Any, code: str) -> str:
    """The region's name, or "" when the gazetteer does not know the code."""
    try:
        return gazetteer.name(code) or ""
    except (KeyError, LookupError, ValueError):
        return ""


def region_facet(
    counts: Counter[str], selected: list[str], arrays: DocArrays, gazetteer: Any
) -> tuple[list[FacetValue], list[tuple[str, str]]]:
    """The region tree as a flat list and the breadcrumb path of the (first) selected region.

    Provinces always; below each selected region and each of its ancestors, their children. Only
    regions with documents are listed, plus the selected ones. Pre-order, by count within a level.
    """
    expanded: set[str] = set()
    children: dict[str | None, set[str]] = {}
    for code in counts:
        children.setdefault(arrays.parents.get(code), set()).add(code)
    for code in selected:
        line = lineage(gazetteer, code)
        expanded.update(line)
        for parent, child in zip([None, *line[:-1]], line, strict=True):
            children.setdefault(parent, set()).add(child)
    out: list[FacetValue] = []

    def emit(parent: str | None, level: int) -> None:
        for code in sorted(children.get(parent, ()), key=lambda c: (-counts[c], c)):
            label = region_name(gazetteer, code) or code
            out.append(FacetValue(code, label, counts[code], code in selected, level))
            if code in expanded:
                emit(code, level + 1)

    emit(None, 1)
    path = (
        [(c, region_name(gazetteer, c) or c) for c in lineage(gazetteer, selected[0])]
        if (selected)
        else []
    )
    return out, path


def industry_facet(counts: Counter[str], selected: list[str], taxonomy: Any) -> list[FacetValue]:
    """Top-level industries with documents (and the selected codes), most documents first."""
    order = {code: i for i, code in enumerate(taxonomy.codes())}
    codes = {c for c, n in counts.items() if n and c in order} | set(selected)
    return [
        FacetValue(code, industry_label(taxonomy, code), counts[code], code in selected)
        for code in sorted(codes, key=lambda c: (-counts[c], order.get(c, len(order)), c))
    ]


def industry_label(taxonomy: Any, code: str) -> str:
    """The industry's label, or the code when the taxonomy does not know it."""
    return _label(taxonomy, code) or code


def _label(taxonomy: Any, code: str) -> str:
    try:
        return taxonomy.label(code) or ""
    except (KeyError, LookupError, ValueError):
        return ""


def known_industry(taxonomy: Any, code: str) -> bool:
    """True for a class or sub-class code of the taxonomy."""
    return bool(_label(taxonomy, code))
