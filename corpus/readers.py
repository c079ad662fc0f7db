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

from zhsearch.corpus.article import Article, ReadProblem
from zhsearch.corpus.clean import (
    clean_line,
    clean_lines,
    collapse_blank_lines,
    contains_html,
    html_document,
    html_to_text,
    join_broken_lines,
    limit_nesting,
    looks_like_html,
    normalize_newlines,
    strip_chrome,
    strip_chrome_lines,
)
from zhsearch.corpus.metadata import bare_name, byline_author, extract_metadata, subtitle_text

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


@dataclass(frozen=True)
class ReadLimits:
    """What one input file may cost the reader; the settings table takes its defaults from here
    (`Settings.read_limits()` gives the configured ones)."""

    max_file_mb: int = 64
    max_line_bytes: int = 16 * 1024 * 1024
    max_decompressed_mb: int = 1024
    max_html_depth: int = 256
    max_title_chars: int = 1000
    max_field_chars: int = 2000
    max_tags: int = 200
    max_problems_per_file: int = 100


@dataclass
class ReadResult:
    """The articles read from one file and the problems met while reading it (at most
    `max_problems` listed: a bomb of bad lines must not become millions of problems)."""

    articles: list[Article] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    max_problems: int = 100
    dropped: int = 0

    def report(self, problem: ReadProblem) -> None:
        """Add a problem, or count it as dropped once `max_problems` are listed."""
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)
        else:
            self.dropped += 1

    def close(self, path: Path) -> None:
        """Say how many problems were not listed, as one last problem."""
        if self.dropped:
            reason = (
                f"{self.dropped:,} more problems in this file not listed "
                f"(max_problems_per_file = {self.max_problems})"
            )
            self.problems.append(ReadProblem(str(path), reason))
            self.dropped = 0


class Unreadable(Exception):
    """A file's bytes are not text (binary, undecodable, empty)."""


def sample_dir() -> Path:
    """The bundled sample corpus (`corpus/sample`), indexed when no path is given."""
    return Path(str(resources.files("zhsearch.corpus").joinpath("sample")))


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


def discover(
    paths: Iterable[Path | str], *, allow_outside_links: bool = False
) -> Iterator[Path | ReadProblem]:
    """Supported files under `paths` (files or directories, recursively, in sorted order).

    Hidden files and directories are skipped, as are unsupported files inside directories;
    a named path that is missing or unsupported is a ReadProblem. Each file is yielded once
    even when symbolic links reach it twice, and symlink loops are not followed. A symbolic
    link inside a folder that leads out of every named path is a ReadProblem, not followed
    (`ln -s /etc/secret corpus/x.txt` must not make the secret searchable), unless
    `allow_outside_links`; paths named explicitly are always read.
    """
    paths = [Path(given).expanduser() for given in paths]
    roots = None if allow_outside_links else _real_roots(paths)
    seen_dirs: set[Path] = set()
    seen_files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            yield from _walk(path, seen_dirs, seen_files, roots)
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


def _real_roots(paths: list[Path]) -> list[Path]:
    roots = []
    for path in paths:
        try:
            roots.append(path.resolve(strict=True))
        except (OSError, RuntimeError):
            continue
    return roots


def outside_roots(path: Path, roots: list[Path] | None) -> bool:
    """True when `path` is a symbolic link (or lies in a linked folder) leading out of `roots`
    (resolved paths); False when `roots` is None (links allowed)."""
    if roots is None:
        return False
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False  # broken links and loops are reported elsewhere
    return not any(real == root or root in real.parents for root in roots)


_OUTSIDE = (
    "symbolic link to a file outside the indexed folders; not read "
    "(set allow_outside_links to follow such links)"
)


def _walk(
    root: Path, seen_dirs: set[Path], seen_files: set[Path], roots: list[Path] | None
) -> Iterator[Path | ReadProblem]:
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
            if outside_roots(path, roots):
                yield ReadProblem(str(path), _OUTSIDE.replace("a file", "a folder"))
            else:
                yield from _walk(path, seen_dirs, seen_files, roots)
        elif file_format(path) is None:
            continue
        elif is_file:
            if outside_roots(path, roots):
                yield ReadProblem(str(path), _OUTSIDE)
            elif _first_visit(path, seen_files):
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
        text = _utf16_without_bom(data)
        if text is None:
            raise Unreadable("binary data (NUL bytes), not text")
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = _utf16_without_bom(data)
    if text is not None:
        return text
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


# Characters a text in Chinese or English is made of: a UTF-16 reading in the wrong byte order,
# or of bytes that are not UTF-16, gives mostly other ones (Hangul, private use, CJK Ext-B…).
_TEXT_CHARS = re.compile(
    "[\t\n\r\x20-\x7e\xa0-\xff\u2000-\u206f\u2160-\u217f\u2460-\u24ff\u2500-\u257f"
    "\u25a0-\u25ff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)
_UTF16_SAMPLE = 65536  # code units scored; the whole file must still decode


def _utf16_without_bom(data: bytes) -> str | None:
    """Text of UTF-16 data without a byte-order mark (LE or BE), when one reading is clearly
    text: it decodes strictly and 95 % of its characters are ordinary Chinese or Latin text."""
    if len(data) % 2 or len(data) < 4:
        return None
    best: tuple[float, str] | None = None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            sample = data[: 2 * _UTF16_SAMPLE].decode(encoding)
        except UnicodeDecodeError:
            sample = data[: 2 * _UTF16_SAMPLE - 2].decode(encoding, "ignore")
            if len(data) <= 2 * _UTF16_SAMPLE:
                continue
        if not sample:
            continue
        score = len(_TEXT_CHARS.findall(sample)) / len(sample)
        if score >= 0.95 and (best is None or score > best[0]):
            best = (score, encoding)
    if best is None:
        return None
    try:
        return data.decode(best[1])
    except UnicodeDecodeError:
        return None


# ---------------------------------------------------------------------------------------------
# reading


def read_file(path: Path | str, limits: ReadLimits | None = None) -> ReadResult:
    """Every article in the file at `path`, and the problems met; never raises for bad content.

    `limits` bounds the work and memory one file may take (line, file and decompressed sizes,
    HTML nesting, field lengths, problems listed); the defaults when None."""
    path = Path(path)
    settings = limits or ReadLimits()
    result = ReadResult(max_problems=max(1, settings.max_problems_per_file))
    fmt = file_format(path)
    if fmt is None:
        result.report(ReadProblem(str(path), "unsupported file type"))
        return result
    try:
        if fmt == "jsonl":
            _read_jsonl(path, result, settings)
        else:
            _read_document(path, fmt, result, settings)
    except Unreadable as exc:
        result.report(ReadProblem(str(path), str(exc)))
    except OSError as exc:
        result.report(ReadProblem(str(path), f"cannot read: {exc.strerror or exc}"))
    result.close(path)
    return result


def _read_bytes(path: Path, limit: int, result: ReadResult) -> bytes:
    """At most `limit` bytes of a file, reporting a longer one (read whole, a 2 GB .txt would
    take 2 GB of memory and more to decode)."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
        if len(data) <= limit:
            return data
        size = os.fstat(fh.fileno()).st_size
    reason = f"file has {size:,} bytes; only the first {limit:,} were read (max_file_mb)"
    result.report(ReadProblem(str(path), reason))
    return _whole_characters(data[:limit])


def _whole_characters(data: bytes) -> bytes:
    """`data` without a UTF-8 sequence cut at its end (other encodings lose one character)."""
    end = len(data)
    for back in range(1, min(4, end) + 1):
        byte = data[end - back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:  # the lead byte of the last sequence
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= need else data[: end - back]
    return data


def _read_document(path: Path, fmt: str, result: ReadResult, settings: ReadLimits) -> None:
    raw = _read_bytes(path, settings.max_file_mb * 1024 * 1024, result)
    text = normalize_newlines(decode_bytes(raw))
    del raw
    source_path = str(path.resolve())
    hints: dict[str, Any] = {}
    if fmt == "html":
        text = _limit_nesting(text, settings, result, path)
        doc = html_document(text)
        bodies = [doc.text]
        hints = {**doc.meta, "title": doc.title}
    else:
        front, text = _front_matter(text, path, result)
        hints = front
        text = _html_blocks_to_text(text, settings, result, path)
        bodies = [text] if front else split_articles(text)
    for index, body in enumerate(bodies):
        notes: list[str] = []
        article = _build_article(body, fmt, hints, path, source_path, settings, notes)
        for note in notes:
            result.report(ReadProblem(str(path), note))
        if article is None:
            continue
        article.id = file_article_id(path, index)
        article.position = index
        result.articles.append(article)
    if not result.articles and not result.problems:
        result.report(ReadProblem(str(path), "no text"))


def _limit_nesting(
    html: str, settings: ReadLimits, result: ReadResult, path: Path, line: int | None = None
) -> str:
    """`html` with nesting beyond `max_html_depth` flattened, and a problem saying so."""
    limit = settings.max_html_depth
    html, depth = limit_nesting(html, limit)
    if depth > limit:
        reason = (
            f"HTML elements nested {depth:,} deep; tags below level {limit} were ignored, "
            "their text kept (max_html_depth)"
        )
        result.report(ReadProblem(str(path), reason, line))
    return html


def _build_article(
    text: str,
    fmt: str,
    hints: dict[str, Any],
    path: Path,
    source_path: str,
    settings: ReadLimits,
    notes: list[str],
) -> Article | None:
    """One Article from cleaned text plus hints; None when there is no text at all."""
    text = strip_chrome(text)
    if not text.strip() and not hints.get("title"):
        return None
    tags = _tags(hints.get("categories"), hints.get("tags"))
    return _article(
        text, fmt, hints, source_path, tags, settings, notes, fallback_title=_stem(path)
    )


def _article(
    text: str,
    fmt: str,
    fields: dict[str, Any],
    source_path: str,
    tags: list[str],
    settings: ReadLimits,
    notes: list[str],
    fallback_title: str = "",
) -> Article:
    """An Article from cleaned text and the fields its source gave (front matter, HTML meta or
    JSONL keys: title, date, source, author, url, region), which the text's own lines refine.

    Stored fields are capped (`max_title_chars`, `max_field_chars`, `max_tags`) and each cut is
    a note: every search showing a 10 MB title would send it (and every autocomplete keystroke).
    """
    title_max, field_max = settings.max_title_chars, settings.max_field_chars
    hints = {
        name: _hint_str(fields.get(name), limit)
        for name, limit in (
            ("title", title_max),
            ("date", field_max),
            ("source", field_max),
            ("author", field_max),
            ("url", field_max),
            ("region", field_max),
        )
    }
    meta = extract_metadata(
        text,
        title=hints["title"],
        date=hints["date"],
        source=hints["source"],
        author=hints["author"],
        url=hints["url"],
        markdown=fmt == "md",
    )
    meta.title = _cap(meta.title, title_max, "title", "max_title_chars", notes)
    meta.subtitle = _cap(meta.subtitle, title_max, "subtitle", "max_title_chars", notes)
    meta.source = _cap(meta.source, field_max, "source", "max_field_chars", notes)
    meta.author = _cap(meta.author, field_max, "author", "max_field_chars", notes)
    if len(meta.url) > field_max:
        notes.append(f"url is longer than {field_max:,} characters; dropped (max_field_chars)")
        meta.url = ""
    long_tags = [t for t in tags if len(t) > field_max]
    if long_tags:
        notes.append(f"{len(long_tags)} tags longer than {field_max:,} characters dropped")
        tags = [t for t in tags if len(t) <= field_max]
    if len(tags) > settings.max_tags:
        notes.append(
            f"{len(tags):,} tags; only the first {settings.max_tags:,} were kept (max_tags)"
        )
        tags = tags[: settings.max_tags]
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
        given_region=hints["region"],
    )


def _cap(value: str, limit: int, name: str, setting: str, notes: list[str]) -> str:
    """`value` cut to `limit` characters, with a note when it was longer (a marker past the
    limit left by `_hint_str` counts as longer)."""
    if len(value) <= limit:
        return value
    notes.append(f"{name} is longer than {limit:,} characters; cut to {limit:,} ({setting})")
    return clean_line(value[:limit])


def _finish_body(body: str, fmt: str) -> str:
    """Markdown keeps its blank lines (single ones); other formats become one paragraph per
    line, and plain text gets paragraphs broken by page layout joined again."""
    if fmt == "md":
        return "\n".join(collapse_blank_lines(body.split("\n")))
    lines = list(filter(None, clean_lines(body.split("\n"))))
    if fmt == "txt":
        lines = join_broken_lines(lines)
    return "\n".join(lines)


def _hint_str(value: Any, limit: int | None = None) -> str:
    """A hint as one clean line; with `limit`, cut to limit + 1 characters, so the metadata
    extractor never scans megabytes and `_cap` still sees it was too long."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (dict, list, bool)):
        return ""
    else:
        text = str(value)
    if limit is not None and len(text) > limit + 1:
        text = clean_line(text)[: limit + 1]
    return clean_line(text)


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
        result.report(ReadProblem(str(path), reason))
        return {}, text[match.end() :]
    if not isinstance(data, dict):
        return {}, text
    front = {str(k).strip().lower(): v for k, v in data.items()}
    for alias in ("link", "source_url", "permalink"):
        front.setdefault("url", front.get(alias))
    return front, text[match.end() :]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n")[0]


def _html_blocks_to_text(text: str, settings: ReadLimits, result: ReadResult, path: Path) -> str:
    """Blocks (between blank lines) of a text file that are HTML become plain paragraphs."""
    if "<" not in text:
        return text
    blocks = re.split(r"\n[ \t]*\n", text)
    return "\n\n".join(
        html_to_text(_limit_nesting(b, settings, result, path)) if looks_like_html(b) else b
        for b in blocks
    )


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


_CHUNK = 1 << 20  # bytes read (decompressed) at a time
_NOT_SPACE = re.compile(rb"[^ \t\r\n\f\v]")


class _TooMuchData(Exception):
    """A compressed file unpacks to more than `max_decompressed_mb`."""


@dataclass
class _Line:
    """One non-blank line of a JSONL file: its number and bytes, or None when too long."""

    number: int
    data: bytes | None
    length: int = 0


def _jsonl_lines(handle: Any, max_line: int, max_total: int | None) -> Iterator[_Line]:
    """The non-blank lines of a binary stream, read a chunk at a time.

    Memory stays bounded by the chunk and `max_line`: a longer line is yielded as data None
    and skipped without being kept; runs of blank lines are skipped by a regex search, not a
    Python loop per line (2 GB of gzipped newlines). Past `max_total` bytes read (compressed
    files only), _TooMuchData is raised.
    """
    number = 1  # the line `parts` starts on
    parts: list[bytes] = []  # the start of a line not ended yet, joined once it ends
    held = 0  # bytes in parts
    skipping = 0  # > 0: bytes of an overlong line being skipped
    total = 0
    while True:
        chunk = handle.read1(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if max_total is not None and total > max_total:
            raise _TooMuchData(number)
        if skipping:
            end = chunk.find(b"\n")
            if end < 0:
                skipping += len(chunk)
                continue
            yield _Line(number, None, skipping + end)
            number += 1
            chunk = chunk[end + 1 :]
            skipping = 0
        last = chunk.rfind(b"\n")
        if last < 0:
            parts.append(chunk)
            held += len(chunk)
        else:
            data = b"".join([*parts, chunk]) if parts else chunk
            last += held
            if not data.isspace():  # a chunk of blank lines (gzipped newlines) has nothing
                yield from _complete_lines(data, last + 1, number, max_line)
            number += data.count(b"\n", 0, last + 1)
            parts = [data[last + 1 :]]
            held = len(parts[0])
        if held > max_line:
            skipping, parts, held = held, [], 0
    if skipping:
        yield _Line(number, None, skipping)
    else:
        rest = b"".join(parts)
        if rest.strip():
            yield from _complete_lines(rest + b"\n", len(rest) + 1, number, max_line)


def _complete_lines(data: bytes, end: int, number: int, max_line: int) -> Iterator[_Line]:
    """The non-blank lines of data[:end] (which ends with a newline); the first is `number`."""
    pos = counted = 0
    while True:
        found = _NOT_SPACE.search(data, pos, end)
        if found is None:
            return
        start = data.rfind(b"\n", 0, found.start()) + 1
        stop = data.find(b"\n", found.start(), end)
        number += data.count(b"\n", counted, start)
        counted = start
        length = stop - start
        line = data[start:stop].rstrip(b"\r") if length <= max_line else None
        yield _Line(number, line, length)
        pos = stop + 1


def _read_jsonl(path: Path, result: ReadResult, settings: ReadLimits) -> None:
    """One article per JSON line; a bad line is a problem, the other lines are still read.

    Read as a stream: a line longer than `max_line_bytes` is skipped and reported, and a
    compressed file stops being read past `max_decompressed_mb` (decompression bombs)."""
    source_path = str(path.resolve())
    seen: dict[str, tuple[int, int]] = {}
    compressed = path.name.lower().endswith(".gz")
    max_total = settings.max_decompressed_mb * 1024 * 1024 if compressed else None
    number = 0
    lines = 0
    try:
        with _open_lines(path) as handle:
            for line in _jsonl_lines(handle, settings.max_line_bytes, max_total):
                number = line.number
                lines += 1
                if line.data is None:
                    reason = (
                        f"line has {line.length:,} bytes, more than max_line_bytes "
                        f"({settings.max_line_bytes:,}); skipped"
                    )
                    result.report(ReadProblem(str(path), reason, number))
                    continue
                try:
                    _read_record(path, source_path, number, line.data, seen, result, settings)
                except RecursionError:
                    reason = "invalid JSON: nested too deeply"
                    result.report(ReadProblem(str(path), reason, number))
                except Exception as exc:  # one odd record must not lose the rest of the file
                    reason = f"cannot read record: {type(exc).__name__}: {exc}"
                    result.report(ReadProblem(str(path), reason[:300], number))
    except _TooMuchData as exc:
        reason = (
            f"unpacks to more than {settings.max_decompressed_mb:,} MB "
            "(max_decompressed_mb); the rest of the file was not read"
        )
        result.report(ReadProblem(str(path), reason, exc.args[0]))
        return
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        reason = "truncated gzip data" if isinstance(exc, EOFError) else f"bad gzip data: {exc}"
        result.report(ReadProblem(str(path), reason, number + 1))
        return
    if lines == 0 or (not result.articles and not result.problems):
        result.report(ReadProblem(str(path), "empty file"))


def _read_record(
    path: Path,
    source_path: str,
    lineno: int,
    line: bytes,
    seen: dict[str, tuple[int, int]],
    result: ReadResult,
    settings: ReadLimits,
) -> None:
    """One JSONL line into `result`; `seen` maps each id read so far to (line, hash(line))."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        result.report(ReadProblem(str(path), f"invalid JSON: {exc.msg}", lineno))
        return
    except UnicodeDecodeError:
        result.report(ReadProblem(str(path), "line is not UTF-8 text", lineno))
        return
    if not isinstance(record, dict):
        result.report(ReadProblem(str(path), "line is not a JSON object", lineno))
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
        result.report(ReadProblem(str(path), reason, lineno))
        return
    notes: list[str] = []
    article = _record_article(record, source_path, settings, notes, result, path, lineno)
    for note in notes:
        result.report(ReadProblem(str(path), note, lineno))
    if article is None:
        result.report(ReadProblem(str(path), "record has no title or content", lineno))
        return
    seen[doc_id] = (lineno, line_hash)
    article.id = doc_id
    article.position = lineno
    result.articles.append(article)


def _record_article(
    record: dict[str, Any],
    source_path: str,
    settings: ReadLimits,
    notes: list[str],
    result: ReadResult,
    path: Path,
    lineno: int,
) -> Article | None:
    content = record.get("content")
    text = content if isinstance(content, str) else ""
    title = _hint_str(record.get("title"), settings.max_title_chars)
    if contains_html(text):
        # html_to_text already gives clean, newline-normalised lines.
        text = _limit_nesting(text, settings, result, path, lineno)
        text = "\n".join(strip_chrome_lines(html_to_text(text).split("\n")))
    elif text:
        text = strip_chrome(text)
    if not text and not title:
        return None
    tags = _tags(record.get("tags"))
    return _article(text, "jsonl", record, source_path, tags, settings, notes)
