"""Disjunctive facet counts (region tree, industries) from per-document arrays of codes.

Each facet is counted over the documents matching every filter except its own (like an
Elasticsearch post_filter), so selecting 江苏 still shows 山西省 with its count. Counting never
walks Whoosh results: the caller passes the matching document numbers as a set and the codes of
each document come from arrays read once per index generation from the sortable columns.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from zhsearch.search.arrays import DocArrays, doc_arrays
from zhsearch.search.result import FacetValue

__all__ = ["doc_arrays", "industry_facet", "region_facet"]


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


def stored_region(stored: dict[str, Any]) -> dict[str, Any]:
    """A document's region as hits and the document JSON show it, from its stored fields."""
    return {
        "path": stored.get("region_path", ""),
        "codes": str(stored.get("region_codes", "")).split(),
        "status": stored.get("region_status", "unknown"),
        "zone": stored.get("zone", ""),
    }


def stored_industries(stored: dict[str, Any], taxonomy: Any) -> list[dict[str, str]]:
    """A document's industries as hits and the document JSON show them: code and label."""
    return [
        {"code": c, "label": industry_label(taxonomy, c)}
        for c in str(stored.get("industries", "")).split()
    ]
