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

from zhsearch.index.analysis import analyzer_fingerprint
from zhsearch.index.schema import build_schema
from zhsearch.index.settings import Settings

CURRENT = "CURRENT"
LOCK = "LOCK"
META = "meta.json"
MANIFEST = "manifest.json"
_GEN = re.compile(r"^gen-(\d{6})$")
_CURRENT_MAX = 64  # bytes of CURRENT read: a generation name and a newline


class IndexProblem(Exception):
    """Base of index errors a user can act on; the message says what to do."""


class IndexMissing(IndexProblem):
    """No index has been built in the index directory yet."""


class IndexUnreadable(IndexMissing):
    """The index directory holds what zhsearch does not understand: a `CURRENT` that is empty,
    not text or names no generation, generations without `CURRENT`, a broken meta.json or
    manifest.json. Nothing in it is deleted or replaced; the message says what to do.

    A kind of IndexMissing (there is no index to serve), so callers that answer 503 for a
    missing index do so here too; never a reason to build a new index in its place."""


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
        """The live generation, or None when nothing was ever built (no `CURRENT` and no
        finished generation). Raises IndexUnreadable for a `CURRENT` that does not name an
        existing generation, or finished generations without a `CURRENT`."""
        try:
            with open(self.root / CURRENT, "rb") as fh:
                raw = fh.read(_CURRENT_MAX + 1)
        except (FileNotFoundError, NotADirectoryError):  # nothing built (or no directory)
            finished = [g for g in self.generations() if (g / META).exists()]
            if finished:
                raise self._unreadable(
                    f"it holds {_count(finished, 'finished generation')} but no {CURRENT} file"
                ) from None
            return None
        except OSError as exc:
            raise self._unreadable(f"{CURRENT} cannot be read ({exc.strerror or exc})") from None
        try:
            name = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise self._unreadable(f"{CURRENT} is not UTF-8 text") from None
        if not name:
            raise self._unreadable(f"{CURRENT} is empty")
        if len(raw) > _CURRENT_MAX or not _GEN.match(name):
            shown = name[:40] + ("…" if len(name) > 40 else "")
            raise self._unreadable(f"{CURRENT} holds {shown!r}, not a generation name (gen-NNNNNN)")
        path = self.root / name
        if not path.is_dir():
            raise self._unreadable(f"{CURRENT} names {name}, which does not exist")
        return path

    def is_empty(self) -> bool:
        """True when the directory does not exist or holds nothing worth keeping: only the lock
        file, temporary files of an interrupted switch and unfinished generations (no meta.json,
        which a build writes last). Only then may `serve` build the sample index in it."""
        if not self.root.exists():
            return True
        try:
            entries = list(self.root.iterdir())
        except NotADirectoryError:
            return False
        for entry in entries:
            if entry.name == LOCK or (entry.name.startswith(f".{CURRENT}.") and entry.is_file()):
                continue
            if _GEN.match(entry.name) and entry.is_dir() and not (entry / META).exists():
                continue
            return False
        return True

    def describe_generations(self) -> str:
        """The generations found, each with its documents and build time when its meta.json
        says, for messages that tell a user which one to point `CURRENT` at."""
        parts = []
        for generation in self.generations():
            try:
                meta = json.loads((generation / META).read_text(encoding="utf-8"))
                parts.append(
                    f"{generation.name} ({meta.get('documents', '?')} documents, built "
                    f"{meta.get('created', '?')})"
                )
            except (OSError, ValueError, AttributeError):
                parts.append(f"{generation.name} (unfinished or unreadable)")
        return ", ".join(parts) or "none"

    def _unreadable(self, what: str) -> IndexUnreadable:
        """The error for an index directory zhsearch does not understand, with what to do."""
        gens = self.generations()
        finished = [g.name for g in gens if (g / META).exists()] or [g.name for g in gens]
        fix = (
            f"point {CURRENT} at the generation to use (`echo {finished[-1]} > "
            f"{self.root / CURRENT}`) or choose another --index-dir"
            if finished
            else f"remove {CURRENT} if nothing should be kept here, or choose another --index-dir"
        )
        return IndexUnreadable(
            f"the index directory {self.root} is not usable: {what}. Generations found: "
            f"{self.describe_generations()}. zhsearch changed nothing in it; {fix}."
        )

    def new_generation(self) -> Path:
        """Create and return an empty directory for the next generation."""
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(_GEN.match(p.name).group(1)) for p in self.generations()]
        path = self.root / f"gen-{max(numbers, default=0) + 1:06d}"
        path.mkdir()
        return path

    def verify(self, generation: Path, documents: int, schema: Any) -> None:
        """Check a freshly built generation before it replaces the live one: its meta.json
        reads and a reader opening it finds `documents` documents (IndexUnreadable if not)."""
        meta = self.read_json(generation, META, required=True)
        ix = whoosh_index.open_dir(str(generation), readonly=True, schema=schema)
        try:
            found = ix.doc_count()
        finally:
            ix.close()
        if found != documents or meta.get("documents") != documents:
            raise IndexUnreadable(
                f"the new generation {generation.name} holds {found} documents, not "
                f"{documents}; the live index was not replaced"
            )

    def switch_to(self, generation: Path) -> None:
        """Make `generation` live with one atomic rename, durable across a crash."""
        _atomic_write(self.root / CURRENT, generation.name + "\n")

    def cleanup(self, keep: int = 2) -> list[Path]:
        """Delete generations the live one supersedes except the one before it (open searchers
        may still read it), and abandoned builds newer than the live one that never finished
        (no meta.json). Only when the live generation is complete (its meta.json reads); a
        generation that may hold anything else is kept. Call under the lock."""
        live = self.current()
        if live is None:
            return []
        try:
            self.read_json(live, META, required=True)
        except IndexUnreadable:
            return []
        gens = self.generations()
        older = [g for g in gens if g.name < live.name]
        # Left by a failed or killed rebuild; a finished one (a failed switch) is kept until a
        # newer generation supersedes it.
        newer = [g for g in gens if g.name > live.name and not (g / META).exists()]
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
    def read_json(generation: Path, name: str, *, required: bool = False) -> dict[str, Any]:
        """A generation's metadata or manifest, or {} when it has none yet (IndexUnreadable when
        `required`). A file that is not a JSON object raises IndexUnreadable, never {}: an
        unreadable index must not look like an empty one."""
        path = generation / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if not required:
                return {}
            problem = "is missing"
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            problem = f"is not valid JSON ({type(exc).__name__})"
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or exc})"
        else:
            if isinstance(data, dict):
                return data
            problem = "is not a JSON object"
        raise IndexUnreadable(
            f"{path} {problem}: the index cannot be checked. zhsearch changed nothing; restore "
            "the file, or run `zhsearch index --rebuild PATH ...` to build a new generation "
            f"(the current one, {generation.name}, is kept as the previous generation)"
        )

    @staticmethod
    def write_json(generation: Path, name: str, data: dict[str, Any]) -> None:
        """Replace a generation's metadata or manifest atomically."""
        _atomic_write(generation / name, json.dumps(data, ensure_ascii=False, indent=1))


def expected_meta(settings: Settings) -> dict[str, str]:
    """What the code would build now; an index whose meta differs must be rebuilt."""
    from zhsearch.corpus.facets import FACETS_VERSION
    from zhsearch.corpus.industries import load_taxonomy
    from zhsearch.corpus.regions import gazetteer

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
        check_meta(store.read_json(generation, META, required=True), settings)
    return whoosh_index.open_dir(
        str(generation), readonly=True, schema=build_schema(settings.user_dict)
    )


def _count(items: list[Any], what: str) -> str:
    return f"{len(items)} {what}{'' if len(items) == 1 else 's'}"


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
