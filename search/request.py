"""Search requests and results: validation of user parameters and the one JSON shape.

`SearchRequest.from_params` is the single place where web, API and CLI parameters are checked;
`SearchResult.to_dict` is the single JSON shape the API and `zhsearch search --json` print.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zhsearch.index.settings import Settings

SORTS = ("relevance", "date")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_REGION_CODE = re.compile(r"^\d{6}$")
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"", "1", "true", "yes", "on"}


class BadRequest(Exception):
    """A request the user must change: `code` is "bad_query" or "bad_parameter" (HTTP 400)."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SearchRequest:
    """One validated search: query text, filters, sort and page."""

    q: str = ""
    regions: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    date_from: str = ""  # "2023", "2023-05" or "2023-05-09"
    date_to: str = ""
    sources: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    size: int = 10
    highlight: bool = True
    synonyms: bool = True  # widen words by the synonyms file
    explain: bool = False  # add an `explain` object to each hit

    @classmethod
    def from_params(
        cls, params: Mapping[str, str | list[str]], settings: Settings
    ) -> SearchRequest:
        """Build a request from query-string-like parameters; raise BadRequest when invalid.

        Multi-valued parameters (region, industry, source) may be repeated keys (a list, or a
        MultiDict with `getlist`) or comma-separated. Unknown keys are ignored.
        """
        size_text = _single(params, "size")
        cap = settings.max_filter_values
        request = cls(
            q=_single(params, "q").strip(),
            regions=_multi(params, "region", cap),
            industries=_multi(params, "industry", cap),
            date_from=_single(params, "from").strip(),
            date_to=_single(params, "to").strip(),
            sources=_multi(params, "source", cap),
            sort=_single(params, "sort").strip().lower() or "relevance",
            page=_int(_single(params, "page"), "page", 1),
            size=_int(size_text, "size", settings.page_size),
            highlight=_bool(_single(params, "highlight"), "highlight"),
            synonyms=_bool(_single(params, "synonyms"), "synonyms"),
            explain=bool(_values(params, "explain"))
            and _bool(_single(params, "explain"), "explain"),
        )
        request.validate(settings)
        return request

    def validate(self, settings: Settings) -> None:
        """Check every field against the limits in `settings`; raise BadRequest if one is off.

        Region and industry codes are checked for form here and for existence by `run_search`,
        which holds the gazetteer and the taxonomy.
        """
        if len(self.q) > settings.max_query_chars:
            raise BadRequest(
                "bad_query",
                f"查询太长（{len(self.q)} 个字符），最多 {settings.max_query_chars} 个字符",
            )
        for name, values in (
            ("region", self.regions),
            ("industry", self.industries),
            ("source", self.sources),
        ):
            if len(values) > settings.max_filter_values:
                raise _too_many(name, settings.max_filter_values)
        if self.sort not in SORTS:
            raise BadRequest("bad_parameter", f"sort 只能是 relevance 或 date，收到 {self.sort!r}")
        if self.page < 1:
            raise BadRequest("bad_parameter", f"page 必须 ≥ 1，收到 {self.page}")
        if not 1 <= self.size <= settings.max_page_size:
            raise BadRequest(
                "bad_parameter",
                f"size 必须在 1 到 {settings.max_page_size} 之间，收到 {self.size}",
            )
        if self.page * self.size > settings.max_depth:
            raise BadRequest(
                "bad_parameter",
                f"最多只能翻到第 {settings.max_depth} 条结果（page × size ≤ {settings.max_depth}）",
            )
        for code in self.regions:
            if not _REGION_CODE.match(code):
                raise BadRequest("bad_parameter", f"region 应为 6 位行政区划代码，收到 {code!r}")
        for code in self.industries:
            if not _CODE.match(code):
                raise BadRequest("bad_parameter", f"未知的行业代码 {code!r}")
        start, end = self.date_range()
        if start is not None and end is not None and start > end:
            raise BadRequest(
                "bad_parameter", f"起始日期 {self.date_from} 晚于结束日期 {self.date_to}"
            )

    def date_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The inclusive datetime bounds of from/to; a month or year `to` means its last day."""
        return _parse_date(self.date_from, "from", end=False), _parse_date(
            self.date_to, "to", end=True
        )


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


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:  # werkzeug MultiDict: params[key] would give only the first value
        raw: Any = getlist(key)
    else:
        raw = params.get(key)
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return [str(v) for v in raw if v is not None]
    return [str(raw)]


def _single(params: Mapping[str, Any], key: str) -> str:
    values = _values(params, key)
    return values[0] if values else ""


def _multi(params: Mapping[str, Any], key: str, limit: int | None = None) -> list[str]:
    """The distinct values of a repeatable, comma-separated parameter, in order; linear time
    (a set, not a list scan, finds repeats) and refused past `limit` values as sent."""
    out: list[str] = []
    seen: set[str] = set()
    sent = 0
    for value in _values(params, key):
        for part in value.replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            sent += 1
            if limit is not None and sent > limit:
                raise _too_many(key, limit)
            if part not in seen:
                seen.add(part)
                out.append(part)
    return out


def _too_many(name: str, limit: int) -> BadRequest:
    return BadRequest("bad_parameter", f"{name} 最多可给 {limit} 个值，请减少筛选条件")


def _int(text: str, name: str, default: int) -> int:
    text = text.strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest("bad_parameter", f"{name} 必须是整数，收到 {text!r}") from None


def _bool(text: str, name: str) -> bool:
    text = text.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadRequest("bad_parameter", f"{name} 只能是 1 或 0，收到 {text!r}")


def _parse_date(text: str, name: str, *, end: bool) -> dt.datetime | None:
    if not text:
        return None
    m = _DATE.match(text)
    bad = BadRequest(
        "bad_parameter", f"{name} 应为 YYYY-MM-DD、YYYY-MM 或 YYYY 形式的日期，收到 {text!r}"
    )
    if not m:
        raise bad
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if day is not None:
            date = dt.date(year, int(month), int(day))
        elif month is not None:
            first = dt.date(year, int(month), 1)
            if end:
                following = dt.date(year + first.month // 12, first.month % 12 + 1, 1)
                date = following - dt.timedelta(days=1)
            else:
                date = first
        else:
            date = dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
    except ValueError:
        raise bad from None
    return dt.datetime.combine(date, dt.time.max if end else dt.time.min)
