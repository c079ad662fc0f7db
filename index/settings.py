"""The one settings table: defaults and help, overridable by ZHSEARCH_* variables and CLI."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from zhsearch.corpus.readers import ReadLimits


def _default_index_dir() -> str:
    return str(Path(platformdirs.user_data_dir("zhsearch")) / "index")


def _setting(default: Any, help: str, *, factory: Any = None) -> Any:
    meta = {"help": help}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Every tunable of zhsearch in one place; each field maps to ZHSEARCH_<NAME>."""

    index_dir: str = _setting(
        None, "Directory holding the index generations.", factory=_default_index_dir
    )
    user_dict: str = _setting(
        "",
        "Extra jieba-format dictionary (word [freq] [tag] per line), added to the bundled one.",
    )
    taxonomy: str = _setting(
        "", "Industry taxonomy YAML file; empty means the bundled one. Changing it needs --rebuild."
    )
    synonyms: str = _setting(
        "",
        "Synonyms file (one group of equivalent words per line, comma-separated); empty means the"
        " bundled corpus/data/synonyms.txt. Read at query time: editing it needs no reindex.",
    )
    suggest_below: int = _setting(
        3, "Offer did-you-mean corrections when a search finds fewer results than this."
    )
    suggest_budget_ms: int = _setting(
        250, "Time did-you-mean may spend counting its candidate searches, per search."
    )
    max_suggestions: int = _setting(5, "Most did-you-mean suggestions offered for one search.")
    suggest_terms: int = _setting(
        200000, "Most indexed terms (most frequent first) used for autocomplete and pinyin."
    )
    max_export: int = _setting(1000, "Most results one export (CSV / JSON Lines) may contain.")
    related_count: int = _setting(5, "Related reports shown with a document.")
    key_terms: int = _setting(10, "Key terms shown with a document.")
    host: str = _setting("127.0.0.1", "Address `zhsearch serve` listens on.")
    port: int = _setting(8000, "Port `zhsearch serve` listens on.")
    threads: int = _setting(8, "Worker threads of the production WSGI server (per process).")
    workers: int = _setting(
        1,
        "Server processes. 1 serves with waitress; more pre-fork gunicorn workers (not on"
        " Windows), one per core to use every core, each with its own caches.",
    )
    page_size: int = _setting(10, "Results per page when the request does not say.")
    max_page_size: int = _setting(100, "Largest page size a request may ask for.")
    max_depth: int = _setting(1000, "Deepest result rank reachable by paging (page * size).")
    max_query_chars: int = _setting(500, "Longest query accepted, in characters.")
    max_query_terms: int = _setting(32, "Most words and operators a query may contain.")
    # Hostile requests (issue 15, "Requests"): every per-request limit of the web layer.
    search_timeout_ms: int = _setting(
        5000,
        "Time budget of one search, page or document view, in ms; past it the work stops and"
        " the answer is 503 `timeout` (0: no limit).",
    )
    export_timeout_ms: int = _setting(
        15000, "Time budget of one /api/export, in ms; past it 503 `timeout` (0: no limit)."
    )
    retry_after_s: int = _setting(
        5, "Retry-After seconds sent with a 503 (timeout, overload, index unavailable)."
    )
    max_filter_values: int = _setting(
        64, "Most values of one filter parameter (region, industry, source), counted as sent."
    )
    max_params: int = _setting(
        256,
        "Most query-string parameters one request may carry (room for every filter at its"
        " max_filter_values, sent as repeated keys).",
    )
    max_url_bytes: int = _setting(
        8192, "Longest request path plus query string, in bytes; longer is refused with 400."
    )
    max_header_bytes: int = _setting(
        65536,
        "Longest request line plus headers the server reads, in bytes; longer is a 431"
        " (waitress max_request_header_size, gunicorn limit_request_line/field_size).",
    )
    max_queued_requests: int = _setting(
        32,
        "Requests waiting for a server thread beyond which new ones are answered 503 at once"
        " (load shedding) instead of queueing without bound.",
    )
    connection_limit: int = _setting(
        1000, "Most open client connections per server process (waitress connection_limit)."
    )
    channel_timeout_s: int = _setting(
        15, "Seconds an idle or half-sent connection is kept before it is closed."
    )
    request_read_timeout_s: int = _setting(
        20,
        "Seconds a client may take to send one whole request (line, headers, body) from its"
        " first byte; slower connections are closed (trickling slow clients).",
    )
    listen_backlog: int = _setting(
        256, "Connections the kernel queues before the server accepts them (listen backlog)."
    )
    max_markdown_chars: int = _setting(
        200_000, "Longest Markdown body rendered as Markdown; longer is shown as plain text."
    )
    max_markdown_nesting: int = _setting(
        32,
        "Deepest list / quote / bracket nesting rendered as Markdown; deeper is shown as plain"
        " text (Markdown rendering is quadratic in it).",
    )
    max_article_chars: int = _setting(
        1_000_000, "Longest article text indexed, in characters; the rest is cut and reported."
    )
    warm_up: bool = _setting(
        True,
        "Build facet arrays, lexicons and suggestions in the background when the server starts"
        " and after each reindex, instead of on the first searches that need them.",
    )
    cache_generations: int = _setting(
        2,
        "Index generations whose caches a process keeps: after a reindex, searches still"
        " reading the previous generation keep theirs.",
    )
    literal_cache_mb: int = _setting(
        32,
        "Memory for the documents and occurrences of recently searched exact terms, per index"
        " generation (pages 2, 3…, facet clicks and ranking ask again).",
    )
    extras_cache_mb: int = _setting(
        8, "Memory for the key terms and related reports of recently shown reports."
    )
    suggest_titles: int = _setting(
        50_000, "Most titles kept per index generation for title autocomplete."
    )
    postings_cache_mb: int = _setting(
        64,
        "Memory for decoded posting lists of recently searched words, per index generation"
        " (shared by matching, facets and ranking; 0 turns it off).",
    )
    document_cache_mb: int = _setting(
        64,
        "Memory for recently shown documents (stored fields and the words snippets need), per"
        " process and index generation (0 turns it off).",
    )
    snippet_chars: int = _setting(120, "Approximate length of one snippet passage, in characters.")
    snippet_passages: int = _setting(3, "Most passages in one hit's snippet.")
    writer_memory_mb: int = _setting(
        512,
        "Postings an indexing process buffers before it writes them out as a segment (a fresh"
        " build of 75,000 news items writes about two per process at 512).",
    )
    # Hostile files (issue 15, "Files"): what one file may cost the indexer.
    max_file_mb: int = _setting(
        ReadLimits.max_file_mb,
        "Largest .txt/.md/.html file read, in MB; only its first part is read (and reported):"
        " read whole, such a file takes its size in memory several times over.",
    )
    max_line_bytes: int = _setting(
        ReadLimits.max_line_bytes,
        "Longest JSONL line, in bytes (after decompression); a longer line is skipped and"
        " reported, never held in memory.",
    )
    max_decompressed_mb: int = _setting(
        ReadLimits.max_decompressed_mb,
        "Most data one .jsonl.gz may unpack to, in MB; the rest is not read and is reported"
        " (decompression bombs). The 75,806-item xwlb corpus unpacks to 136 MB.",
    )
    max_html_depth: int = _setting(
        ReadLimits.max_html_depth,
        "Deepest HTML element nesting read as structure; tags nested deeper are ignored (their"
        " text kept) and reported. HTML parsing is quadratic in nesting depth.",
    )
    max_title_chars: int = _setting(
        ReadLimits.max_title_chars,
        "Longest title or subtitle stored, in characters; the rest is cut and reported.",
    )
    max_field_chars: int = _setting(
        ReadLimits.max_field_chars,
        "Longest source, author, URL, region or tag stored, in characters; longer text is cut"
        " (a URL or tag dropped) and reported.",
    )
    max_tags: int = _setting(
        ReadLimits.max_tags, "Most tags stored per article; the rest are dropped and reported."
    )
    max_problems_per_file: int = _setting(
        ReadLimits.max_problems_per_file,
        "Most problems listed for one file; the rest are counted in one last line (a file of"
        " 2 million bad lines must not become 2 million problems).",
    )
    allow_outside_links: bool = _setting(
        False,
        "Index files that symbolic links inside the indexed folders point to outside them"
        " (off: such links are reported and not read; paths named on the command line are"
        " always read).",
    )
    procs: int = _setting(
        1,
        "Indexing processes for a fresh build (--rebuild or a new index); one per core is about"
        " 1.6x faster on 2 cores. Incremental runs use one.",
    )

    @classmethod
    def load(
        cls, overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> Settings:
        """Defaults, then ZHSEARCH_* environment variables, then explicit overrides (CLI, tests)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"ZHSEARCH_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f, raw)
        for key, value in (overrides or {}).items():
            if value is None:
                continue
            if key not in {f.name for f in fields(cls)}:
                raise KeyError(f"unknown setting {key!r}")
            values[key] = value
        return cls(**values)

    def read_limits(self) -> ReadLimits:
        """The limits `corpus.readers.read_file` applies to one input file."""
        return ReadLimits(**{f.name: getattr(self, f.name) for f in fields(ReadLimits)})

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def describe(cls) -> list[tuple[str, str, Any, str]]:
        """(name, environment variable, default, help) for every setting, for docs and --help."""
        default = cls()
        return [
            (f.name, f"ZHSEARCH_{f.name.upper()}", getattr(default, f.name), f.metadata["help"])
            for f in fields(cls)
        ]


def _coerce(f: dataclasses.Field, raw: str) -> Any:
    names = {"int": int, "str": str, "bool": bool}
    kind = f.type if isinstance(f.type, type) else names.get(str(f.type), str)
    if kind is bool:
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"ZHSEARCH_{f.name.upper()} must be true or false, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"ZHSEARCH_{f.name.upper()} must be an integer, got {raw!r}") from None
    return raw
