"""The article record that every reader produces and the indexer consumes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

DATE_PRECISIONS = ("day", "month", "year", "unknown")


@dataclass
class Region:
    """Where an article is about: a division code with its ancestors, or national/unknown."""

    status: str = "unknown"  # "about", "national" or "unknown"
    code: str = ""  # GB/T 2260 code of the chosen region ("140724"), "" when not "about"
    codes: list[str] = field(default_factory=list)  # ancestors then the region itself
    path: str = ""  # "山西省/晋中市/昔阳县"
    mentions: dict[str, int] = field(default_factory=dict)  # every genuine place code → count
    zone: str = ""  # development zone named as the site ("晋中开发区"), not a division


@dataclass
class Industries:
    """Industry taxonomy codes an article is about, the primary one when there is one, and why."""

    codes: list[str] = field(default_factory=list)  # tagged classes, then their sub-classes
    primary: str = ""
    # class code → why it was tagged, or why it is only a mention ("title 光伏; 6 sentences…")
    evidence: dict[str, str] = field(default_factory=dict)
    # top-level classes named but not tagged (passing words, lists, bulletin items, a work
    # report's minor industries): for search, not for facet counts
    mentions: list[str] = field(default_factory=list)


@dataclass
class Article:
    """One article read from a source file, cleaned to plain text, with its metadata."""

    id: str
    title: str
    content: str  # plain text, one paragraph per line
    source_path: str  # absolute path of the file it came from
    source_format: str  # "txt", "md", "html" or "jsonl"
    position: int = 0  # index of the article in its file (0-based), or line number for JSONL
    subtitle: str = ""
    date: dt.date | None = None
    date_precision: str = "unknown"  # one of DATE_PRECISIONS
    source: str = ""  # publisher: 南通日报, CNTV…
    author: str = ""  # 刘杰, 闫杰…
    url: str = ""
    tags: list[str] = field(default_factory=list)
    # A region or industries given by the file itself (front matter, JSONL); they win over
    # extraction. Filled by extraction otherwise.
    region: Region | None = None
    industries: Industries | None = None
    given_region: str = ""  # region name or code as written in front matter / JSONL, if any

    @property
    def date_text(self) -> str:
        """The date at its known precision: "2023-05-09", "2023-05", "2023" or ""."""
        if self.date is None or self.date_precision == "unknown":
            return ""
        text = self.date.isoformat()
        return {"day": text, "month": text[:7], "year": text[:4]}[self.date_precision]

    def fingerprint(self) -> str:
        """Hash of everything read from the source, so reindexing can skip unchanged articles."""
        data: dict[str, Any] = asdict(self)
        data.pop("region")
        data.pop("industries")
        data["date"] = self.date.isoformat() if self.date else None
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha1(raw).hexdigest()


@dataclass
class ReadProblem:
    """A file (or one JSONL line) that could not be read, with the reason, for the report."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"
