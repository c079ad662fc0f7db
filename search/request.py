"""Search requests: validation of user parameters into one `SearchRequest`.

`SearchRequest.from_params` is the single place where web, API and CLI parameters are checked.
"""

from __future__ import annotations

import datetime as dt
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
    """A request the user must change: `code` is "bad_query" or "bad_parameter" (the web layer
    answers it with 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_query_length(q: str, settings: Settings) -> None:
    """Refuse query text longer than `max_query_chars` (requests and the parser both ask)."""
    if len(q) > settings.max_query_chars:
        raise BadRequest(
            "bad_query", f"查询太长（{len(q)} 个字符），最多 {settings.max_query_chars} 个字符"
        )


@dataclass(frozen=True)
class Param:
    """One search parameter as the query string, the API and the CLI name it."""

    name: str  # in the query string, the API and as a CLI option (--name)
    attr: str  # the SearchRequest field it sets
    kind: str  # "text", "codes" (repeatable, comma-separated), "choice", "int" or "bool"
    help: str


# The one declaration of the search parameters: parsing, the serialiser, the web layer's
# parameter lists, the CLI's options and tests of the OpenAPI file all read it.
PARAMS: tuple[Param, ...] = (
    Param("q", "q", "text", 'The query: words, "phrases", OR, -word, title:word.'),
    Param("region", "regions", "codes", "Region codes (6 digits; places inside included)."),
    Param("industry", "industries", "codes", "Industry codes of the taxonomy."),
    Param("from", "date_from", "text", "Earliest date: YYYY, YYYY-MM or YYYY-MM-DD."),
    Param("to", "date_to", "text", "Latest date (a year or month means its last day)."),
    Param("source", "sources", "codes", "Sources, as the documents name them."),
    Param("sort", "sort", "choice", "relevance (default) or date (newest first)."),
    Param("page", "page", "int", "Result page, from 1."),
    Param("size", "size", "int", "Results per page (default: the page_size setting)."),
    Param("highlight", "highlight", "bool", "0: no snippets or highlighting (faster)."),
    Param("synonyms", "synonyms", "bool", "0: no synonym widening."),
    Param("explain", "explain", "bool", "1: add why each hit ranked where it did."),
)
PARAM_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMS)


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
        MultiDict with `getlist`) or comma-separated. Unknown keys are ignored; a boolean given
        without a value (`explain=`) is on.
        """
        values: dict[str, Any] = {}
        for param in PARAMS:
            sent = _values(params, param.name)
            if param.kind == "codes":
                values[param.attr] = _multi(params, param.name, settings.max_filter_values)
            elif param.kind == "bool":
                if sent:
                    values[param.attr] = _bool(sent[0], param.name)
            elif param.kind == "int":
                default = settings.page_size if param.name == "size" else 1
                values[param.attr] = _int(sent[0] if sent else "", param.name, default)
            elif param.kind == "choice":
                values[param.attr] = (sent[0] if sent else "").strip().lower() or "relevance"
            else:
                values[param.attr] = (sent[0] if sent else "").strip()
        request = cls(**values)
        request.validate(settings)
        return request

    def to_params(self, settings: Settings) -> dict[str, str | list[str]]:
        """The parameters `from_params` reads back into this request, defaults left out (for a
        link, an API call or a did-you-mean suggestion)."""
        defaults = SearchRequest(size=settings.page_size)
        out: dict[str, str | list[str]] = {}
        for param in PARAMS:
            value = getattr(self, param.attr)
            if value == getattr(defaults, param.attr):
                continue
            if param.kind == "codes":
                out[param.name] = list(value)
            elif param.kind == "bool":
                out[param.name] = "1" if value else "0"
            else:
                out[param.name] = str(value)
        return out

    def validate(self, settings: Settings) -> None:
        """Check every field against the limits in `settings`; raise BadRequest if one is off.

        Region and industry codes are checked for form here and for existence by `run_search`,
        which holds the gazetteer and the taxonomy.
        """
        check_query_length(self.q, settings)
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
