"""Finding and reading article files of every supported format into `Article` records.

`read_file` never raises for bad content: what cannot be read becomes a `ReadProblem` with the
path, the reason and (for JSONL) the line, and everything else in the file is still read.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import itertools
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from corpus.article import Article, ReadProblem
from corpus.clean import (
    clean_line,
    clean_lines,
    collapse_blank_lines,
    contains_html,
    html_document,
    html_to_text,
    join_broken_lines,
    looks_like_html,
    normalize_newlines,
    strip_chrome,
    strip_chrome_lines,
)
from corpus.metadata import bare_name, byline_author, extract_metadata, subtitle_text

# Suffix → source_format; ".jsonl.gz" is matched on the whole name.
FORMATS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
}
_ID_OK = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_SLUG_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
_GB_FAMILY = {"gbk", "gb2312", "gb18030", "hz", "hz_gb_2312", "cp936", "euc_cn", "x-gbk"}
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.DOTALL)
_MIN_SPLIT_CHARS = 200  # text an article needs before a second one may start in the same file


@dataclass
class ReadResult:
    """The articles read from one file and the problems met while reading it."""

    articles: list[Article] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)


class Unreadable(Exception):
    """A file's bytes are not text (binary, undecodable, empty)."""


def sample_dir() -> Path:
    """The bundled sample corpus (`corpus/sample`), indexed when no path is given."""
    return Path(str(resources.files("corpus").joinpath("sample")))


def file_format(path: Path) -> str | None:
    """The source_format of a supported file name ("txt", "md", "html", "jsonl"), else None."""
    name = path.name.lower()
    if name.endswith(".jsonl.gz"):
        return "jsonl"
    return FORMATS.get(Path(name).suffix)


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".jsonl.gz")] if name.lower().endswith(".jsonl.gz") else path.stem


def slug(text: str) -> str:
    """`text` reduced to [A-Za-z0-9_.-] for ids ("file" when nothing is left)."""
    return _SLUG_BAD.sub("-", text).strip("-.")[:80] or "file"


def file_article_id(path: Path, index: int = 0) -> str:
    """Id of the index-th (0-based) article of a non-JSONL file: <slug>-<sha1(path)[:6]>[-n]."""
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:6]
    base = f"{slug(_stem(path))}-{digest}"
    return base if index == 0 else f"{base}-{index + 1}"


def jsonl_article_id(record_id: Any, path: Path, line: bytes) -> str:
    """The record's own id when it is a safe token, else <slug(stem)>-<sha1(line)[:12]> (the
    line's bytes without its line ending)."""
    if isinstance(record_id, (str, int)) and not isinstance(record_id, bool):
        text = str(record_id)
        if _ID_OK.fullmatch(text):
            return text
    return f"{slug(_stem(path))}-{hashlib.sha1(line).hexdigest()[:12]}"


# ---------------------------------------------------------------------------------------------
# discover


def discover(paths: Iterable[Path | str]) -> Iterator[Path | ReadProblem]:
    """Supported files under `paths` (files or directories, recursively, in sorted order).

    Hidden files and directories are skipped, as are unsupported files inside directories;
    a named path that is missing or unsupported is a ReadProblem. Each file is yielded once
    even when symbolic links reach it twice, and symlink loops are not followed.
    """
    seen_dirs: set[Path] = set()
    seen_files: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            yield from _walk(path, seen_dirs, seen_files)
        elif path.is_file():
            if file_format(path) is None:
                yield ReadProblem(str(path), "unsupported file type")
            elif _first_visit(path, seen_files):
                yield path
        elif path.is_symlink():
            yield ReadProblem(str(path), "broken symbolic link")
        else:
            yield ReadProblem(str(path), "no such file or directory")


def _first_visit(path: Path, seen: set[Path]) -> bool:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: symlink loop on Python < 3.13
        return False
    if real in seen:
        return False
    seen.add(real)
    return True


def _walk(root: Path, seen_dirs: set[Path], seen_files: set[Path]) -> Iterator[Path | ReadProblem]:
    if not _first_visit(root, seen_dirs):
        return
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError as exc:
        yield ReadProblem(str(root), f"cannot list directory: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            yield from _walk(path, seen_dirs, seen_files)
        elif file_format(path) is None:
            continue
        elif is_file:
            if _first_visit(path, seen_files):
                yield path
        elif entry.is_symlink():
            yield ReadProblem(str(path), "broken symbolic link")


# ---------------------------------------------------------------------------------------------
# decoding


def decode_bytes(data: bytes) -> str:
    """Text of a file's bytes: BOM, then strict UTF-8, then charset detection (GB18030 for the
    whole GB family). Raises Unreadable for empty, binary or undecodable data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise Unreadable(f"invalid {encoding} text: {exc.reason}") from None
    if not data.strip():
        raise Unreadable("empty file")
    if b"\x00" in data:
        raise Unreadable("binary data (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise Unreadable("binary or undecodable data, not text")
    encoding = best.encoding.lower().replace("-", "_")
    if encoding in _GB_FAMILY or encoding.replace("_", "") in _GB_FAMILY:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    return str(best)


# ---------------------------------------------------------------------------------------------
# reading


def read_file(path: Path | str) -> ReadResult:
    """Every article in the file at `path`, and the problems met; never raises for bad content."""
    path = Path(path)
    result = ReadResult()
    fmt = file_format(path)
    if fmt is None:
        result.problems.append(ReadProblem(str(path), "unsupported file type"))
        return result
    try:
        if fmt == "jsonl":
            _read_jsonl(path, result)
        else:
            _read_document(path, fmt, result)
    except Unreadable as exc:
        result.problems.append(ReadProblem(str(path), str(exc)))
    except OSError as exc:
        result.problems.append(ReadProblem(str(path), f"cannot read: {exc.strerror or exc}"))
    return result


def _read_document(path: Path, fmt: str, result: ReadResult) -> None:
    text = normalize_newlines(decode_bytes(path.read_bytes()))
    source_path = str(path.resolve())
    hints: dict[str, Any] = {}
    if fmt == "html":
        doc = html_document(text)
        bodies = [doc.text]
        hints = {**doc.meta, "title": doc.title}
    else:
        front, text = _front_matter(text, path, result)
        hints = front
        text = _html_blocks_to_text(text)
        bodies = [text] if front else split_articles(text)
    for index, body in enumerate(bodies):
        article = _build_article(body, fmt, hints, path, source_path)
        if article is None:
            continue
        article.id = file_article_id(path, index)
        article.position = index
        result.articles.append(article)
    if not result.articles and not result.problems:
        result.problems.append(ReadProblem(str(path), "no text"))


def _build_article(
    text: str, fmt: str, hints: dict[str, Any], path: Path, source_path: str
) -> Article | None:
    """One Article from cleaned text plus hints; None when there is no text at all."""
    text = strip_chrome(text)
    if not text.strip() and not hints.get("title"):
        return None
    tags = _tags(hints.get("categories"), hints.get("tags"))
    return _article(text, fmt, hints, source_path, tags, fallback_title=_stem(path))


def _article(
    text: str,
    fmt: str,
    fields: dict[str, Any],
    source_path: str,
    tags: list[str],
    fallback_title: str = "",
) -> Article:
    """An Article from cleaned text and the fields its source gave (front matter, HTML meta or
    JSONL keys: title, date, source, author, url, region), which the text's own lines refine."""
    meta = extract_metadata(
        text,
        title=_hint_str(fields.get("title")),
        date=_hint_str(fields.get("date")),
        source=_hint_str(fields.get("source")),
        author=_hint_str(fields.get("author")),
        url=_hint_str(fields.get("url")),
        markdown=fmt == "md",
    )
    return Article(
        id="",
        title=meta.title or fallback_title,
        content=_finish_body(meta.body, fmt),
        source_path=source_path,
        source_format=fmt,
        subtitle=meta.subtitle,
        date=meta.date,
        date_precision=meta.date_precision,
        source=meta.source,
        author=meta.author,
        url=meta.url,
        tags=tags,
        given_region=_hint_str(fields.get("region")),
    )


def _finish_body(body: str, fmt: str) -> str:
    """Markdown keeps its blank lines (single ones); other formats become one paragraph per
    line, and plain text gets paragraphs broken by page layout joined again."""
    if fmt == "md":
        return "\n".join(collapse_blank_lines(body.split("\n")))
    lines = list(filter(None, clean_lines(body.split("\n"))))
    if fmt == "txt":
        lines = join_broken_lines(lines)
    return "\n".join(lines)


def _hint_str(value: Any) -> str:
    if isinstance(value, str):
        return clean_line(value)
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return clean_line(str(value))


def _tags(*values: Any) -> list[str]:
    """Tags from strings and lists of strings (numbers allowed), stripped, without repeats."""
    items: list[str] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                items.append(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                items.append(str(item))
    return list(dict.fromkeys(filter(None, clean_lines(items))))


def _front_matter(text: str, path: Path, result: ReadResult) -> tuple[dict[str, Any], str]:
    """YAML front matter (as strings, lists and maps) and the text after it."""
    text = text.lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        # BaseLoader keeps every scalar a string: "2022-03-11 02:00:40 +0800" stays as written.
        data = yaml.load(match.group(1), Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        reason = f"front matter is not valid YAML ({_first_line(exc)}); ignored"
        result.problems.append(ReadProblem(str(path), reason))
        return {}, text[match.end() :]
    if not isinstance(data, dict):
        return {}, text
    front = {str(k).strip().lower(): v for k, v in data.items()}
    for alias in ("link", "source_url", "permalink"):
        front.setdefault("url", front.get(alias))
    return front, text[match.end() :]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n")[0]


def _html_blocks_to_text(text: str) -> str:
    """Blocks (between blank lines) of a text file that are HTML become plain paragraphs."""
    if "<" not in text:
        return text
    blocks = re.split(r"\n[ \t]*\n", text)
    return "\n\n".join(html_to_text(b) if looks_like_html(b) else b for b in blocks)


# ---------------------------------------------------------------------------------------------
# multi-article files


def split_articles(text: str) -> list[str]:
    """The articles of a text holding several, else [text].

    A new article starts at a short heading line followed by a "——" subtitle line, when the
    line before the heading is a byline closing the previous article ("贾奕", "（闫杰）",
    "文/…") and both sides have substantial text. Section headings inside one article
    ("等不起 慢不得 坐不住" / "——上下联动…") follow body sentences, not bylines.
    """
    lines = text.split("\n")
    cleaned = [clean_line(line) for line in lines]
    nonempty = [i for i, line in enumerate(cleaned) if line]
    starts = [0]
    for k in range(1, len(nonempty) - 1):
        i = nonempty[k]
        if not _is_heading(cleaned[i]) or not subtitle_text(cleaned[nonempty[k + 1]]):
            continue
        before = cleaned[nonempty[k - 1]]
        if bare_name(before) is None and byline_author(before) is None:
            continue
        before_chars, after_chars = _chars(cleaned[starts[-1] : i]), _chars(cleaned[i:])
        if before_chars >= _MIN_SPLIT_CHARS and after_chars >= _MIN_SPLIT_CHARS:
            starts.append(i)
    bounds = [*starts, len(lines)]
    return ["\n".join(lines[a:b]) for a, b in itertools.pairwise(bounds)]


def _is_heading(line: str) -> bool:
    return 2 <= len(line) <= 40 and line[-1] not in "。！？；，：.!?;,:" and not subtitle_text(line)


def _chars(lines: list[str]) -> int:
    return sum(len(line) for line in lines)


# ---------------------------------------------------------------------------------------------
# JSONL


def _open_lines(path: Path) -> Any:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _read_jsonl(path: Path, result: ReadResult) -> None:
    """One article per JSON line; a bad line is a problem, the other lines are still read."""
    source_path = str(path.resolve())
    seen: dict[str, tuple[int, int]] = {}
    lineno = 0
    try:
        with _open_lines(path) as handle:
            for lineno, raw in enumerate(handle, 1):
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                _read_record(path, source_path, lineno, line, seen, result)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        reason = "truncated gzip data" if isinstance(exc, EOFError) else f"bad gzip data: {exc}"
        result.problems.append(ReadProblem(str(path), reason, lineno + 1))
        return
    if lineno == 0 or (not result.articles and not result.problems):
        result.problems.append(ReadProblem(str(path), "empty file"))


def _read_record(
    path: Path,
    source_path: str,
    lineno: int,
    line: bytes,
    seen: dict[str, tuple[int, int]],
    result: ReadResult,
) -> None:
    """One JSONL line into `result`; `seen` maps each id read so far to (line, hash(line))."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        result.problems.append(ReadProblem(str(path), f"invalid JSON: {exc.msg}", lineno))
        return
    except UnicodeDecodeError:
        result.problems.append(ReadProblem(str(path), "line is not UTF-8 text", lineno))
        return
    if not isinstance(record, dict):
        result.problems.append(ReadProblem(str(path), "line is not a JSON object", lineno))
        return
    doc_id = jsonl_article_id(record.get("id"), path, line)
    line_hash = hash(line)
    first = seen.get(doc_id)
    if first is not None and first[1] != line_hash:
        # A repeated id would replace the other article in the index: fall back to the line hash.
        doc_id = jsonl_article_id(None, path, line)
        first = seen.get(doc_id)
    if first is not None:
        reason = f"same record as line {first[0]}; skipped"
        result.problems.append(ReadProblem(str(path), reason, lineno))
        return
    article = _record_article(record, source_path)
    if article is None:
        result.problems.append(ReadProblem(str(path), "record has no title or content", lineno))
        return
    seen[doc_id] = (lineno, line_hash)
    article.id = doc_id
    article.position = lineno
    result.articles.append(article)


def _record_article(record: dict[str, Any], source_path: str) -> Article | None:
    content = record.get("content")
    text = content if isinstance(content, str) else ""
    title = _hint_str(record.get("title"))
    if contains_html(text):
        # html_to_text already gives clean, newline-normalised lines.
        text = "\n".join(strip_chrome_lines(html_to_text(text).split("\n")))
    elif text:
        text = strip_chrome(text)
    if not text and not title:
        return None
    return _article(text, "jsonl", record, source_path, _tags(record.get("tags")))
