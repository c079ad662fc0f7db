"""Fresh builds: articles in, finished Whoosh segments out, in this process or in workers.

The indexer reads files and keeps the manifest; a build turns each article into a document
(facets, fields) and writes it with `BulkSegmentWriter`, starting a new segment whenever the
buffered postings outgrow `writer_memory_mb`. `ParallelBuild` does that in worker processes, so
facet extraction runs on every core too, not only in the process that reads the files.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whoosh.codec.base import Segment
from whoosh.index import Index

from zhsearch.corpus.article import Article
from zhsearch.corpus.facets import extract_facets
from zhsearch.corpus.industries import Taxonomy
from zhsearch.index.documents import article_fields
from zhsearch.index.engine import BulkSegmentWriter, finish_segment
from zhsearch.index.store import IndexProblem

BATCH = 64  # articles per message to a worker: large enough to amortise the queue


@dataclass
class Failure:
    """An article that could not be written, reported by the build after the fact."""

    key: str  # the file's path, as the manifest keys it
    article_id: str
    position: int
    reason: str


@dataclass
class BuildResult:
    """What a build produced: segments for the new TOC, failed articles, seconds per stage."""

    segments: list[Segment] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=lambda: {"facets": 0.0, "write": 0.0})


class WorkerFailed(IndexProblem):
    """A worker process of a parallel build died or failed; nothing of the build is kept."""


class _Segments:
    """Bulk segment writers one after another, each flushed when its buffer is full."""

    def __init__(self, ix: Index, limit_mb: int) -> None:
        self.ix = ix
        self.limit = limit_mb * 1024 * 1024
        self.done: list[Segment] = []
        self.writer = BulkSegmentWriter(ix, compound=False)

    def add(self, fields: dict[str, Any]) -> None:
        writer = self.writer
        writer.add_document(**fields)
        if writer.buffered_bytes() > self.limit:
            self.done.append(finish_segment(writer))
            self.writer = BulkSegmentWriter(self.ix, compound=False)

    def finish(self) -> list[Segment]:
        if self.writer.docnum:
            self.done.append(finish_segment(self.writer))
        else:
            self.writer.cancel()
        return self.done

    def cancel(self) -> None:
        self.writer.cancel()


def write_article(
    article: Article,
    add: Callable[[dict[str, Any]], None],
    taxonomy: Taxonomy,
    stages: dict[str, float],
) -> None:
    """Extract an article's facets, then `add` its document fields; time both stages."""
    t = time.perf_counter()
    extract_facets(article, taxonomy)
    t2 = time.perf_counter()
    stages["facets"] += t2 - t
    add(article_fields(article))
    stages["write"] += time.perf_counter() - t2


class SerialBuild:
    """A fresh build in this process; `add` raises when an article cannot be written."""

    def __init__(self, ix: Index, taxonomy: Taxonomy, limit_mb: int) -> None:
        self.taxonomy = taxonomy
        self.result = BuildResult()
        self.segments = _Segments(ix, limit_mb)

    def add(self, key: str, article: Article) -> None:
        """Write one article (facets first)."""
        write_article(article, self.segments.add, self.taxonomy, self.result.stages)

    def finish(self) -> BuildResult:
        """Flush the last segment."""
        self.result.segments = self.segments.finish()
        return self.result

    def cancel(self) -> None:
        """Abandon the unfinished segment (its files go with the generation)."""
        self.segments.cancel()


class ParallelBuild:
    """A fresh build in `procs` forked worker processes fed batches of articles.

    Each worker writes its own segments; failed articles come back with the segments, so `add`
    never raises for an article. A worker that dies is an error for the whole build.
    """

    def __init__(self, ix: Index, taxonomy: Taxonomy, limit_mb: int, procs: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.jobs: Any = ctx.Queue(procs * 4)
        self.results: Any = ctx.Queue()
        self.batch: list[tuple[str, Article]] = []
        self.workers = [
            ctx.Process(
                target=_work,
                args=(ix, taxonomy, limit_mb, self.jobs, self.results),
                name=f"zhsearch-index-{n}",
                daemon=True,
            )
            for n in range(procs)
        ]
        for worker in self.workers:
            worker.start()

    def add(self, key: str, article: Article) -> None:
        """Queue one article; batches go to whichever worker is free."""
        self.batch.append((key, article))
        if len(self.batch) >= BATCH:
            self._send()

    def _send(self) -> None:
        self._put(self.batch)
        self.batch = []

    def _put(self, item: list[tuple[str, Article]] | None) -> None:
        """Queue `item`, noticing meanwhile a worker that died with the queue full."""
        while True:
            try:
                self.jobs.put(item, timeout=1)
                return
            except queue.Full:
                self._check_alive()

    def _check_alive(self) -> None:
        for worker in self.workers:
            if not worker.is_alive() and worker.exitcode != 0:
                code = worker.exitcode
                how = f"was killed by signal {-code}" if code and code < 0 else f"exited ({code})"
                raise WorkerFailed(
                    f"an indexing process {how}; the live index is unchanged. If the system ran"
                    " out of memory, index with fewer processes (--procs) or a smaller"
                    " ZHSEARCH_WRITER_MEMORY_MB."
                )

    def finish(self) -> BuildResult:
        """Wait for every worker's segments; raise if one failed."""
        if self.batch:
            self._send()
        for _ in self.workers:
            self._put(None)
        result = BuildResult()
        pending = len(self.workers)
        while pending:
            try:
                status, payload = self.results.get(timeout=1)
            except queue.Empty:
                self._check_alive()
                continue
            pending -= 1
            if status == "error":
                self.cancel()
                if isinstance(payload, BaseException):
                    raise payload  # e.g. OSError(ENOSPC): reported as if raised here
                raise WorkerFailed(f"an indexing process failed: {payload}")
            segments, failures, stages = payload
            result.segments += segments
            result.failures += failures
            for name, seconds in stages.items():
                result.stages[name] = result.stages.get(name, 0.0) + seconds
        for worker in self.workers:
            worker.join()
        return result

    def cancel(self) -> None:
        """Stop the workers; their half-written segments go with the generation."""
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        for worker in self.workers:
            worker.join()
        # Batches still queued for the stopped workers would make this process wait forever at
        # exit for its queue thread to flush them into a pipe nobody reads.
        for q in (self.jobs, self.results):
            q.cancel_join_thread()
            q.close()


def _work(ix: Index, taxonomy: Taxonomy, limit_mb: int, jobs: Any, results: Any) -> None:
    """A worker: write batches until the None sentinel, then send back segments and failures."""
    try:
        segments = _Segments(ix, limit_mb)
        stages = {"facets": 0.0, "write": 0.0}
        failures: list[Failure] = []
        while (batch := jobs.get()) is not None:
            for key, article in batch:
                try:
                    write_article(article, segments.add, taxonomy, stages)
                except OSError:  # a full or failing disk fails the build, not one article
                    raise
                except Exception as exc:  # one bad article must not abort the build
                    reason = f"{type(exc).__name__}: {exc}"
                    failures.append(Failure(key, article.id, article.position, reason))
        results.put(("ok", (segments.finish(), failures, stages)))
    except BaseException as exc:
        try:
            pickle.dumps(exc)
            results.put(("error", exc))
        except Exception:  # an exception that cannot travel: its text and traceback do
            results.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
