"""Render a stored report as safe HTML for the document view: text as paragraphs, Markdown
through `markdown`, markup through nh3, query terms marked in text nodes only."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import markdown
import nh3
from flask import current_app, has_app_context

from zhsearch.search.cache import LRU

# Tags a rendered report may keep; no images, media, forms or scripts (nothing loads remotely).
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "li", "mark", "ol", "p", "pre", "s", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_URL_SCHEMES = {"http", "https", "mailto"}
# A tag in nh3's output: attribute values are always double-quoted there, and may contain ">".
_TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')
_SKIP_OPEN = re.compile(r"<(pre|mark)\b", re.IGNORECASE)
_SKIP_CLOSE = re.compile(r"</(pre|mark)\b", re.IGNORECASE)
# Markdown containers at the start of a line: indentation, quotes, bullets, numbered items.
_CONTAINER_PREFIX = re.compile(r"^(?:[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*")
_CONTAINER_MARKER = re.compile(r">|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_MARKDOWN_EXTENSIONS = ["tables", "sane_lists"]
_RENDER_CACHE_CHARS = 16_000_000  # rendered bodies kept per process (~32-64 MB)
RENDERED_KEY = "zhsearch_rendered"  # app.extensions: the app's cache of rendered bodies


def rendered_cache() -> LRU:
    """An app's cache of sanitised report bodies (Markdown and HTML render slowly)."""
    return LRU(_RENDER_CACHE_CHARS, weigh=lambda text: len(text) + 64)


def sanitize(fragment: str) -> str:
    """Allow-list clean an HTML fragment; scripts, styles and their content are dropped."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
    )


Marker = Callable[[str], str]  # plain text → escaped HTML, matches wrapped in <mark>


def render_body(
    content: str,
    source_format: str,
    mark: Marker | None = None,
    *,
    max_markdown_chars: int = 200_000,
    max_markdown_nesting: int = 32,
) -> str:
    """Safe HTML for a report body; Markdown is rendered, the rest is text. `mark` escapes and
    highlights each text node (default: escape only).

    Markdown longer than `max_markdown_chars` or nested deeper than `max_markdown_nesting`
    (lists, quotes, open brackets: Python-Markdown is quadratic or recursive in them) is shown
    as escaped text instead; the sanitised HTML of a body is cached, so a report viewed again
    is not rendered again.
    """
    mark = mark or _escape
    if source_format == "md":
        limits = (max_markdown_chars, max_markdown_nesting)
        body = _cached_markup(content, "md", limits)
    elif source_format == "html" and _looks_like_html(content):
        body = _cached_markup(content, "html", (0, 0))
    else:
        body = None
    if body is None:
        return "\n".join(f"<p>{mark(line)}</p>" for line in _paragraphs(content))
    return mark_html(body, mark)


def markdown_too_hard(text: str, max_chars: int, max_nesting: int) -> bool:
    """True when `text` is longer than `max_chars` or nests deeper than `max_nesting`: list or
    quote levels at the start of a line, or brackets/parentheses left open within a paragraph
    (each open one makes Python-Markdown scan the rest of the paragraph again)."""
    if len(text) > max_chars:
        return True
    for line in text.splitlines():
        prefix = _CONTAINER_PREFIX.match(line)
        if prefix and _nesting(prefix.group(0)) > max_nesting:
            return True
    for block in _BLANK_LINE.split(text):
        if block.count("[") + block.count("(") <= max_nesting:
            continue  # cannot be nested deeper than that: skip the scan
        depth = 0
        for char in block:
            if char in "[(":
                depth += 1
                if depth > max_nesting:
                    return True
            elif char in ")]" and depth:
                depth -= 1
    return False


def _nesting(prefix: str) -> int:
    columns = len(prefix.expandtabs(4)) - len(prefix.expandtabs(4).lstrip(" "))
    markers = len(_CONTAINER_MARKER.findall(prefix))
    return columns // 2 + markers


def _cached_markup(content: str, kind: str, limits: tuple[int, int]) -> str | None:
    """The sanitised HTML of a Markdown or HTML body (None: show it as text), from the cache
    when this body was rendered before."""
    key = (kind, limits, hashlib.sha1(content.encode("utf-8", "surrogatepass")).digest())
    rendered = current_app.extensions[RENDERED_KEY] if has_app_context() else None
    cached = rendered.get(key) if rendered is not None else None
    if cached is not None:
        return cached or None
    if kind == "md":
        if markdown_too_hard(content, *limits):
            html_text = ""
        else:
            try:
                html_text = sanitize(markdown.markdown(content, extensions=_MARKDOWN_EXTENSIONS))
            except RecursionError:  # a nesting shape the pre-check missed: text, not a 500
                html_text = ""
    else:
        html_text = sanitize(content)
    if rendered is not None:
        rendered.put(key, html_text)
    return html_text or None


def term_marker(terms: Iterable[str]) -> Marker:
    """A marker for literal terms, for when the search package's analyzer-aware one is absent."""
    pattern = _terms_pattern(terms)

    def mark(text: str) -> str:
        if pattern is None:
            return _escape(text)
        out: list[str] = []
        last = 0
        for match in pattern.finditer(text):
            out.append(_escape(text[last : match.start()]))
            out.append(f"<mark>{_escape(match.group(0))}</mark>")
            last = match.end()
        out.append(_escape(text[last:]))
        return "".join(out)

    return mark


def mark_html(fragment: str, mark: Marker) -> str:
    """Apply `mark` to the text nodes of a sanitised fragment, never to tags or attributes, nor
    inside <pre> (highlighters may collapse whitespace) or an existing <mark>."""
    out: list[str] = []
    last = 0
    skip = 0
    for tag in _TAG.finditer(fragment):
        out.append(_mark_node(fragment[last : tag.start()], mark, skip))
        text = tag.group(0)
        out.append(text)
        if _SKIP_OPEN.match(text):
            skip += 1
        elif _SKIP_CLOSE.match(text):
            skip = max(0, skip - 1)
        last = tag.end()
    out.append(_mark_node(fragment[last:], mark, skip))
    return "".join(out)


def http_url(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) URL (safe to render as a link), else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def _mark_node(node: str, mark: Marker, skip: int) -> str:
    if not node.strip() or skip:
        return node
    return mark(html.unescape(node))


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first so 锂电池负极材料 wins over 锂电池 at the same position.
    unique = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not unique:
        return None
    return re.compile("|".join(re.escape(t) for t in unique), re.IGNORECASE)


def _paragraphs(content: str) -> list[str]:
    return [line.strip() for line in content.splitlines() if line.strip()]


def _looks_like_html(content: str) -> bool:
    return bool(re.search(r"<(p|div|br|h[1-6]|ul|ol|table)\b", content, re.IGNORECASE))
