"""The indexer: the only code that commits to an index (fresh segments come from `index.build`).

Incremental by default (new and changed articles are written, articles whose files vanished are
deleted, unchanged files are not even read); `rebuild=True` builds a new generation beside the
live one and switches to it only after a successful commit.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import IndexWriter

from zhsearch.corpus.article import Article, ReadProblem
from zhsearch.corpus.industries import load_taxonomy
from zhsearch.corpus.readers import discover, outside_roots, read_file
from zhsearch.index.build import Failure, ParallelBuild, SerialBuild, write_article
from zhsearch.index.engine import install_segments, toc_segment_ids
from zhsearch.index.engine import supports as bulk_supported
from zhsearch.index.lexicon import write_lexicon
from zhsearch.index.schema import build_schema
from zhsearch.index.settings import Settings
from zhsearch.index.store import (
    MANIFEST,
    META,
    IndexOutdated,
    IndexStore,
    check_meta,
    expected_meta,
)

# Called with byte counts as files are indexed (within big files too); they add up to the
# sizes of all planned files, unchanged and unreadable ones included.
Progress = Callable[[int], None]


@dataclass
class IndexReport:
    """What one indexing run did, for the CLI summary and the tests."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    files: int = 0
    bytes: int = 0
    problems: list[ReadProblem] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    rebuilt: bool = False
    generation: str = ""
    documents: int = 0

    @property
    def failed(self) -> int:
        """Files (or JSONL lines) that could not be read."""
        return len(self.problems)

    @property
    def mb_per_s(self) -> float:
        """Throughput over the bytes of files read."""
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "files": self.files,
            "documents": self.documents,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "mb_per_s": round(self.mb_per_s, 3),
            "stages": {k: round(v, 3) for k, v in self.stages.items()},
            "rebuilt": self.rebuilt,
            "generation": self.generation,
            "problems": [
                {"path": p.path, "line": p.line, "reason": p.reason} for p in self.problems
            ],
        }


def plan_files(
    paths: Iterable[Path | str], settings: Settings | None = None
) -> tuple[list[Path], list[ReadProblem]]:
    """Every readable-looking file under `paths`, and the paths that could not be listed or
    that symbolic links lead out of them to (unless `allow_outside_links`)."""
    files: list[Path] = []
    problems: list[ReadProblem] = []
    allow = settings is not None and settings.allow_outside_links
    for item in discover(paths, allow_outside_links=allow):
        (problems if isinstance(item, ReadProblem) else files).append(item)
    return files, problems


class Indexer:
    """Builds and updates the index in `settings.index_dir`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = IndexStore(settings.index_dir)
        self.taxonomy = load_taxonomy(settings.taxonomy, settings.user_dict)

    def run(
        self,
        paths: Iterable[Path | str],
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        files: list[Path] | None = None,
    ) -> IndexReport:
        """Index `paths` (files or directories); returns what was added, updated and deleted.

        `files`, when given, is the list `plan_files(paths)` already found (the CLI plans first to
        size its progress bar); `paths` still bound which vanished files count as deleted."""
        started = time.perf_counter()
        roots = [Path(p).expanduser().resolve() for p in paths]
        report = IndexReport()
        self._seen_ids: set[str] = set()
        self.store.current()  # a directory it does not understand: stop before the lock file
        with self.store.lock():
            # Checked again under the lock, before anything changes.
            live = self.store.current()
            self.store.cleanup()
            if files is None:
                files, problems = plan_files(roots, self.settings)
                report.problems.extend(problems)
            if live is not None and not rebuild:
                try:
                    check_meta(self.store.read_json(live, META, required=True), self.settings)
                except IndexOutdated as exc:
                    raise IndexOutdated(f"cannot update incrementally: {exc}") from None
            if live is None or rebuild:
                report.rebuilt = True
                target = self.store.new_generation()
                try:
                    self._index_into(target, files, roots, {}, report, progress, fresh=True)
                    schema = build_schema(self.settings.user_dict)
                    self.store.verify(target, report.documents, schema)
                except BaseException:
                    shutil.rmtree(target, ignore_errors=True)
                    raise
                self.store.switch_to(target)
                self.store.cleanup()
            else:
                target = live
                manifest = self.store.read_json(target, MANIFEST)
                before = set(os.listdir(target))
                try:
                    self._index_into(target, files, roots, manifest, report, progress, fresh=False)
                except BaseException:
                    _remove_orphans(target, before, build_schema(self.settings.user_dict))
                    raise
            report.generation = target.name
        report.seconds = time.perf_counter() - started
        return report

    def _write_lexicon(self, target: Path, report: IndexReport) -> None:
        """The suggestion lexicon of the commit just made (`index.lexicon`). Without it searches
        build it themselves, so failing to write it is reported, not fatal."""
        started = time.perf_counter()
        ix = whoosh_index.open_dir(str(target), schema=build_schema(self.settings.user_dict))
        try:
            with ix.reader() as reader:
                write_lexicon(target, reader.generation(), reader, self.settings.suggest_terms)
        except OSError as exc:
            problem = ReadProblem(str(target), f"suggestion lexicon not written: {exc}")
            report.problems.append(problem)
        finally:
            ix.close()
        report.stages["lexicon"] = time.perf_counter() - started

    def _index_into(
        self,
        target: Path,
        files: list[Path],
        roots: list[Path],
        manifest: dict[str, Any],
        report: IndexReport,
        progress: Progress | None,
        *,
        fresh: bool,
    ) -> None:
        schema = build_schema(self.settings.user_dict)
        if fresh:
            ix = whoosh_index.create_in(str(target), schema)
        else:
            ix = whoosh_index.open_dir(str(target), schema=schema)
        # The manifest is written after the Whoosh commit; a run killed in between leaves it
        # describing an older commit. Then every article is written with update_document (done
        # anyway when incremental) and ids the manifest does not know are purged at the end.
        stale = not fresh and manifest.get("generation") != ix.latest_generation()
        stages = {"read": 0.0, "facets": 0.0, "write": 0.0, "commit": 0.0}
        # compound=False: Whoosh's compound segment file is copied into memory (BytesIO over the
        # mmap) every time a reader opens it — 60-90 ms per request on 10k documents, ~500 ms on
        # 75k — and assembling it doubles commit time. Separate files open in ~2 ms.
        # A fresh build writes its segments with the bulk writer (in worker processes when
        # procs > 1, a segment or more each: merging them would cost more than the parallel work
        # saved), and this writer only commits the TOC that lists them. Incremental runs are
        # small and update documents in place: Whoosh's own writer.
        self._build: SerialBuild | ParallelBuild | None = None
        limit = self.settings.writer_memory_mb
        if fresh and bulk_supported(ix):
            if self.settings.procs > 1:
                _children_die_with_parent()
                self._build = ParallelBuild(ix, self.taxonomy, limit, self.settings.procs)
            else:
                self._build = SerialBuild(ix, self.taxonomy, limit)
        writer = ix.writer(limitmb=limit, compound=False)
        try:
            old_files: dict[str, Any] = manifest.get("files", {})
            new_files: dict[str, Any] = {}
            signatures = {path: _signature(path) for path in files}
            # Ids of files that will not be read again, so a changed or new file cannot claim
            # them and silently replace another file's article.
            for path, signature in signatures.items():
                old = old_files.get(str(path))
                if not fresh and old is not None and _same(old, signature):
                    self._seen_ids.update(old["articles"])
            for path in files:
                key = str(path)
                tick = _FileProgress(progress, _size(path))
                entry = self._index_file(
                    path, signatures[path], old_files.get(key), writer, report, stages, fresh, tick
                )
                if entry is not None:
                    new_files[key] = entry
                elif key in old_files:  # unreadable now: keep what was indexed, lose nothing
                    new_files[key] = old_files[key]
                tick.finish()
            refuse = None if self.settings.allow_outside_links else roots
            for key, entry in old_files.items():
                if key in new_files:
                    continue
                # Vanished, or a link now refused as leading out of the roots (indexed when
                # allow_outside_links was on): its articles go.
                if _under(Path(key), roots) and (
                    not os.path.lexists(key) or outside_roots(Path(key), refuse)
                ):
                    for doc_id in entry["articles"]:
                        if doc_id not in self._seen_ids:  # not moved to another file this run
                            writer.delete_by_term("id", doc_id)
                            report.deleted += 1
                else:
                    new_files[key] = entry
            if stale:
                known = {i for entry in new_files.values() for i in entry["articles"]}
                with writer.reader() as reader:
                    indexed = {_text(term) for term in reader.lexicon("id")}
                for doc_id in indexed - known:
                    report.deleted += writer.delete_by_term("id", doc_id)
            t = time.perf_counter()
            if self._build is not None:
                built = self._build.finish()
                for name, seconds in built.stages.items():
                    stages[name] += seconds
                _drop_failed(built.failures, new_files, report)
                # A fresh index has no segments: the TOC lists exactly the built ones, unmerged.
                install_segments(writer, built.segments)
                writer.commit(merge=False)
            else:
                writer.commit()
            stages["commit"] += time.perf_counter() - t
        except BaseException:
            if self._build is not None:
                self._build.cancel()
            if not writer.is_closed:  # a failed commit has closed it (and released its lock)
                with contextlib.suppress(Exception):  # the first error is the one to report
                    writer.cancel()
            _close_files(writer)  # a failed commit leaves its segment files open
            raise
        with ix.searcher() as searcher:
            report.documents = searcher.doc_count()
        generation = ix.latest_generation()
        ix.close()
        report.stages = stages
        # Before the meta: a fresh generation with a meta is one a killed run may not leave behind.
        self._write_lexicon(target, report)
        self.store.write_json(target, MANIFEST, {"generation": generation, "files": new_files})
        meta = expected_meta(self.settings)
        meta.update(created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), documents=report.documents)
        self.store.write_json(target, META, meta)

    def _index_file(
        self,
        path: Path,
        signature: dict[str, int] | OSError,
        old: dict[str, Any] | None,
        writer: IndexWriter,
        report: IndexReport,
        stages: dict[str, float],
        fresh: bool,
        tick: _FileProgress,
    ) -> dict[str, Any] | None:
        """Write a file's new and changed articles; return its manifest entry (None: unreadable)."""
        if isinstance(signature, OSError):
            reason = signature.strerror or str(signature)
            if os.path.islink(path) and not path.exists():
                reason = f"broken symbolic link ({reason})"
            report.problems.append(ReadProblem(str(path), reason))
            return None
        if old is not None and not fresh and _same(old, signature):
            report.unchanged += len(old["articles"])
            return old
        t = time.perf_counter()
        try:
            result = read_file(path, self.settings.read_limits())
        except Exception as exc:  # a reader bug must not abort the other files
            report.problems.append(ReadProblem(str(path), f"{type(exc).__name__}: {exc}"))
            return None
        finally:
            stages["read"] += time.perf_counter() - t
        limit = self.settings.max_article_chars
        for article in result.articles:  # a huge text must not stall the run or exhaust memory
            if len(article.content) > limit:
                reason = (
                    f"article text has {len(article.content):,} characters; only the first "
                    f"{limit:,} were indexed (max_article_chars)"
                )
                line = article.position if article.source_format == "jsonl" else None
                result.problems.append(ReadProblem(str(path), reason, line))
                article.content = article.content[:limit]
        report.problems.extend(result.problems)
        if not result.articles and result.problems:
            return None
        report.files += 1
        report.bytes += signature["size"]
        old_articles: dict[str, str] = (old or {}).get("articles", {})
        articles: dict[str, str] = {}
        failed = bool(result.problems)
        for done, article in enumerate(result.articles, 1):
            tick.at(done - 1, len(result.articles))
            if article.id in self._seen_ids:
                report.problems.append(
                    ReadProblem(str(path), f"duplicate article id {article.id!r}", article.position)
                )
                continue
            self._seen_ids.add(article.id)
            fingerprint = article.fingerprint()
            if old_articles.get(article.id) == fingerprint and not fresh:
                articles[article.id] = fingerprint
                report.unchanged += 1
                continue
            try:
                self._write(article, writer, stages, key=str(path), update=not fresh)
            except OSError:  # a full or failing disk fails the run, not one article
                raise
            except Exception as exc:  # one bad article must not abort the run
                report.problems.append(
                    ReadProblem(str(path), f"{type(exc).__name__}: {exc}", article.position)
                )
                failed = True
                if article.id in old_articles:  # its old document stays; keep tracking it
                    articles[article.id] = old_articles[article.id]
                continue
            articles[article.id] = fingerprint
            if article.id in old_articles:
                report.updated += 1
            else:
                report.added += 1
        for doc_id in old_articles.keys() - articles.keys():
            if doc_id not in self._seen_ids:
                writer.delete_by_term("id", doc_id)
                report.deleted += 1
        if failed:  # no signature: the file is read again (and its problems reported) next run
            return {"size": -1, "mtime_ns": -1, "articles": articles}
        return {**signature, "articles": articles}

    def _write(
        self,
        article: Article,
        writer: IndexWriter,
        stages: dict[str, float],
        *,
        key: str,
        update: bool,
    ) -> None:
        if self._build is not None:
            self._build.add(key, article)
            return
        add = writer.update_document if update else writer.add_document
        write_article(article, lambda fields: add(**fields), self.taxonomy, stages)


def _close_files(obj: Any, depth: int = 5, seen: set[int] | None = None) -> None:
    """Close every file object reachable from `obj` (a Whoosh writer after a failed commit:
    its segment and pool files stay open, holding their disk space and warning at exit)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth < 0:
        return
    seen.add(id(obj))
    if isinstance(obj, io.IOBase):
        with contextlib.suppress(Exception):  # a full disk fails the flush; the file still closes
            obj.close()
        return
    if isinstance(obj, (list, tuple)):
        children = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("whoosh"):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        _close_files(child, depth - 1, seen)


def _remove_orphans(generation: Path, before: set[str], schema: Any) -> list[str]:
    """Delete the files a failed incremental run wrote into the live generation (segments of a
    commit that did not happen, temporary files of a manifest write), and only those: files
    that were there before the run, the TOCs and every segment the latest TOC lists stay.

    Without this a full disk left a 23 MB segment nobody reads until the next good run."""
    try:
        live = tuple(f"{segment_id}." for segment_id in toc_segment_ids(str(generation), schema))
    except Exception:  # the TOC cannot be read: delete nothing rather than guess
        return []
    removed = []
    for name in sorted(set(os.listdir(generation)) - before):
        if name.endswith(".toc") or name.startswith(live):
            continue
        try:
            os.remove(generation / name)
            removed.append(name)
        except OSError:
            pass
    return removed


def _drop_failed(failures: list[Failure], files: dict[str, Any], report: IndexReport) -> None:
    """Report articles a parallel build could not write, and keep them out of the manifest so
    their file is read again next run (as a failure in this process does at once)."""
    for failure in failures:
        report.problems.append(ReadProblem(failure.key, failure.reason, failure.position))
        entry = files.get(failure.key)
        if entry is not None and entry["articles"].pop(failure.article_id, None) is not None:
            report.added -= 1
            entry["size"] = entry["mtime_ns"] = -1


_DEATH_SIGNAL_SET = False


def _children_die_with_parent() -> None:
    """Make forked writer processes get SIGTERM when the indexer dies (Linux prctl).

    Whoosh's writer processes wait on a queue for documents; after a SIGKILL of the indexer
    they would wait forever. The half-built generation they write into is never switched to.
    """
    global _DEATH_SIGNAL_SET
    if _DEATH_SIGNAL_SET or not hasattr(os, "register_at_fork"):
        return
    _DEATH_SIGNAL_SET = True

    def in_child() -> None:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # not Linux: nothing to set
            pass

    os.register_at_fork(after_in_child=in_child)


class _FileProgress:
    """Reports a file's bytes to the progress callback as its articles are written, so one big
    JSONL file moves the bar too."""

    def __init__(self, progress: Progress | None, size: int) -> None:
        self.progress, self.size, self.sent = progress, size, 0

    def at(self, done: int, total: int) -> None:
        if self.progress is not None:
            share = self.size * done // total
            if share - self.sent >= 65536:  # a callback per article would cost more than it shows
                self.progress(share - self.sent)
                self.sent = share

    def finish(self) -> None:
        if self.progress is not None and self.size > self.sent:
            self.progress(self.size - self.sent)
            self.sent = self.size


def _signature(path: Path) -> dict[str, int] | OSError:
    """What tells a file changed without reading it: size and modification time."""
    try:
        st = path.stat()
    except OSError as exc:
        return exc
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _same(entry: dict[str, Any], signature: dict[str, int] | OSError) -> bool:
    return not isinstance(signature, OSError) and all(
        entry.get(k) == v for k, v in signature.items()
    )


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def default_paths() -> list[Path]:
    """What `zhsearch index` indexes when given no path: the bundled sample corpus."""
    from zhsearch.corpus.readers import sample_dir

    return [sample_dir()]
