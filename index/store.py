"""The index directory: generations, the CURRENT pointer, metadata, manifest, the writer lock.

A rebuild writes a new generation beside the live one and switches `CURRENT` with an atomic
rename, so a failed or killed rebuild leaves the last good index serving. Readers open the
generation `CURRENT` names, read-only, with the schema passed in.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import FileIndex

from corpus.settings import Settings
from index.analysis import analyzer_fingerprint
from index.schema import build_schema

CURRENT = "CURRENT"
LOCK = "LOCK"
META = "meta.json"
MANIFEST = "manifest.json"
_GEN = re.compile(r"^gen-(\d{6})$")


class IndexProblem(Exception):
    """Base of index errors a user can act on; the message says what to do."""


class IndexMissing(IndexProblem):
    """No index has been built in the index directory yet."""


class IndexOutdated(IndexProblem):
    """The index was built with another analyzer, dictionary or taxonomy: it must be rebuilt."""


class IndexLocked(IndexProblem):
    """Another process is writing the index."""


class IndexNotWritable(IndexProblem):
    """The index directory cannot be created or written (read-only, permissions, a file)."""


class IndexStore:
    """One index directory holding numbered generations of a Whoosh index."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def generations(self) -> list[Path]:
        """Generation directories, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if _GEN.match(p.name) and p.is_dir())

    def current(self) -> Path | None:
        """The live generation, or None when nothing was ever built."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if _GEN.match(name) and path.is_dir() else None

    def new_generation(self) -> Path:
        """Create and return an empty directory for the next generation."""
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(_GEN.match(p.name).group(1)) for p in self.generations()]
        path = self.root / f"gen-{max(numbers, default=0) + 1:06d}"
        path.mkdir()
        return path

    def switch_to(self, generation: Path) -> None:
        """Make `generation` live with one atomic rename, durable across a crash."""
        _atomic_write(self.root / CURRENT, generation.name + "\n")

    def cleanup(self, keep: int = 2) -> list[Path]:
        """Delete generations other than the live one and the one before it (open searchers
        may still read the previous one) and any abandoned half-built ones. Call under the lock."""
        live = self.current()
        gens = self.generations()
        if live is None:
            return []
        older = [g for g in gens if g.name < live.name]
        newer = [g for g in gens if g.name > live.name]  # left by a failed or killed rebuild
        doomed = older[: max(0, len(older) - (keep - 1))] + newer
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
        return doomed

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the single-writer lock; fail at once, saying who holds it, if another writer does.

        An fcntl lock dies with its process, so a killed indexer never leaves a stale lock.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexNotWritable(
                f"cannot write the index directory {self.root}: {exc.strerror or exc}; "
                "choose another with --index-dir or ZHSEARCH_INDEX_DIR"
            ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                raise IndexLocked(
                    f"another zhsearch process (pid {holder}) is writing the index in "
                    f"{self.root}; wait for it to finish"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @staticmethod
    def read_json(generation: Path, name: str) -> dict[str, Any]:
        """A generation's metadata or manifest, or {} when it has none yet."""
        try:
            return json.loads((generation / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    @staticmethod
    def write_json(generation: Path, name: str, data: dict[str, Any]) -> None:
        """Replace a generation's metadata or manifest atomically."""
        _atomic_write(generation / name, json.dumps(data, ensure_ascii=False, indent=1))


def expected_meta(settings: Settings) -> dict[str, str]:
    """What the code would build now; an index whose meta differs must be rebuilt."""
    from corpus.facets import FACETS_VERSION
    from corpus.industries import load_taxonomy
    from corpus.regions import gazetteer

    return {
        "analyzer": analyzer_fingerprint(settings.user_dict),
        "taxonomy": load_taxonomy(settings.taxonomy).fingerprint,
        "gazetteer": gazetteer().vintage,
        "facets": FACETS_VERSION,
    }


def check_meta(meta: dict[str, Any], settings: Settings) -> None:
    """Raise IndexOutdated, naming what changed, when the index was built differently."""
    expected = expected_meta(settings)
    changed = [k for k, v in expected.items() if meta.get(k) != v]
    if changed:
        what = {
            "analyzer": "the analyzer or its dictionaries",
            "taxonomy": "the industry taxonomy",
            "gazetteer": "the region gazetteer",
            "facets": "the region and industry extraction rules",
        }
        details = "; ".join(
            f"{what[k]} ({meta.get(k) or 'unknown'} → {expected[k]})" for k in changed
        )
        raise IndexOutdated(
            f"the index must be rebuilt: {details} changed since it was built; "
            "run `zhsearch index --rebuild`"
        )


def open_index(settings: Settings, *, check: bool = True) -> FileIndex:
    """Open the live generation read-only with the schema passed in (never the pickled one)."""
    store = IndexStore(settings.index_dir)
    generation = store.current()
    if generation is None:
        raise IndexMissing(f"no index in {store.root}; build one with `zhsearch index [PATH ...]`")
    if check:
        check_meta(store.read_json(generation, META), settings)
    return whoosh_index.open_dir(
        str(generation), readonly=True, schema=build_schema(settings.user_dict)
    )


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
