"""Search results: what `run_search` answers, and the one JSON shape of an answer.

`SearchResult.to_dict` is the single JSON shape the API and `zhsearch search --json` print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from zhsearch.search.request import SearchRequest


@dataclass
class FacetValue:
    """One facet entry; `level` is the region's tree level (1 = province), None for industries."""

    value: str
    label: str
    count: int
    selected: bool = False
    level: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: industries carry no level."""
        data: dict[str, Any] = {
            "value": self.value,
            "label": self.label,
            "count": self.count,
            "selected": self.selected,
        }
        if self.level is not None:
            data["level"] = self.level
        return data


@dataclass
class Facets:
    """Facet counts of one search, each computed without its own facet's filter."""

    region: list[FacetValue] = field(default_factory=list)
    region_path: list[tuple[str, str]] = field(default_factory=list)  # (code, name) breadcrumbs
    industry: list[FacetValue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facets."""
        return {
            "region": [v.to_dict() for v in self.region],
            "region_path": [{"value": c, "label": n} for c, n in self.region_path],
            "industry": [v.to_dict() for v in self.industry],
        }


@dataclass
class Hit:
    """One result on the page; `title_html` and `snippet` are escaped HTML with <mark>."""

    id: str
    title: str
    title_html: str
    date: str | None
    source: str
    url: str
    region: dict[str, Any]  # {"path", "codes", "status", "zone"}
    industries: list[dict[str, str]]  # [{"code", "label"}]
    snippet: str
    score: float | None
    explain: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready hit; `explain` only when it was asked for."""
        data = {
            "id": self.id,
            "title": self.title,
            "title_html": self.title_html,
            "date": self.date,
            "source": self.source,
            "url": self.url,
            "region": self.region,
            "industries": self.industries,
            "snippet": self.snippet,
            "score": None if self.score is None else round(self.score, 4),
        }
        if self.explain is not None:
            data["explain"] = self.explain
        return data


@dataclass
class SearchResult:
    """The answer of `run_search`: the same object serves the page, the API and the CLI."""

    request: SearchRequest
    parsed: str
    total: int
    took_ms: float
    pages: int
    hits: list[Hit] = field(default_factory=list)
    facets: Facets = field(default_factory=Facets)
    notices: list[str] = field(default_factory=list)
    expanded: list[dict[str, Any]] = field(default_factory=list)  # [{"term", "synonyms"}]
    suggestions: list[dict[str, Any]] = field(default_factory=list)  # did-you-mean, best first

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the API and `zhsearch search --json`."""
        r = self.request
        return {
            "ok": True,
            "query": {
                "q": r.q,
                "parsed": self.parsed,
                "region": list(r.regions),
                "industry": list(r.industries),
                "from": r.date_from or None,
                "to": r.date_to or None,
                "source": list(r.sources),
                "sort": r.sort,
            },
            "total": self.total,
            "took_ms": round(self.took_ms, 2),
            "page": r.page,
            "size": r.size,
            "pages": self.pages,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets.to_dict(),
            "notices": list(self.notices),
            "expanded": list(self.expanded),
            "suggestions": list(self.suggestions),
        }


def page_count(total: int, size: int, max_depth: int) -> int:
    """Pages a user can reach: all results, but never past `max_depth`."""
    return min(math.ceil(total / size), max_depth // size) if total else 0
