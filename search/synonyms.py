"""Query-time synonyms: an editable file of equivalent words, applied to the parsed query.

Each line of the file is one group (`光伏, 太阳能电池`). A typed term, or a run of ANDed terms
(太阳能 电池), equal to a group member is replaced by an OR of the whole group, each member a
literal term of the same fields. The file is re-read when it changes, so editing it needs no
reindex.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from whoosh import query as wq

from zhsearch.corpus.segment import normalize
from zhsearch.index.schema import SEARCH_FIELDS
from zhsearch.search.literal import Literal, LiteralTerm

_MAX_RUN = 4  # longest run of segmented words joined to match a multi-word member


@dataclass(frozen=True)
class SynonymTable:
    """Normalised member → its group (the members as written, in file order)."""

    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def group(self, text: str) -> tuple[str, ...]:
        """The group `text` belongs to, or () when it has no synonyms."""
        return self.groups.get(_key(text), ())


@dataclass
class Expansion:
    """One widened word: what the query said and the synonyms it also searched."""

    term: str
    synonyms: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"term": self.term, "synonyms": list(self.synonyms)}


def default_path() -> Path:
    """The bundled `corpus/data/synonyms.txt`."""
    return Path(str(resources.files("zhsearch.corpus").joinpath("data", "synonyms.txt")))


def load_synonyms(path: str = "") -> SynonymTable:
    """The table of `path` (the bundled file when empty), re-read whenever the file changes."""
    target = Path(path) if path else default_path()
    try:
        stat = target.stat()
    except OSError:
        raise FileNotFoundError(f"synonyms file not found: {target}") from None
    return _load(str(target), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: str, _mtime: int, _size: int) -> SynonymTable:
    groups: dict[str, tuple[str, ...]] = {}
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
            members = [m.strip() for m in line.replace("，", ",").split(",") if m.strip()]
            members = list(dict.fromkeys(members))
            if len(members) < 2:
                continue
            for member in members:
                key = _key(member)
                merged = groups.get(key, ())
                groups[key] = tuple(dict.fromkeys([*merged, *members]))
    return SynonymTable(groups)


def _key(text: str) -> str:
    return "".join(normalize(text)[0].split())


def expand_synonyms(
    q: wq.Query, table: SynonymTable, schema: Any
) -> tuple[wq.Query, list[Expansion]]:
    """`q` with every word or word run that has synonyms replaced by an OR of its group, and
    what was widened. Words under NOT are left alone (excluding a synonym is not implied)."""
    found: dict[str, Expansion] = {}
    if not table.groups:
        return q, []

    def alternatives(text: str, fields: list[str], original: wq.Query) -> wq.Query | None:
        group = table.group(text)
        if not group:
            return None
        key = _key(text)
        others = [m for m in group if _key(m) != key]
        if not others:
            return None
        options: list[wq.Query] = [original]
        for member in others:
            term = LiteralTerm.parse(member)
            if term is not None:
                options.extend(Literal(fieldname, term) for fieldname in fields)
        found.setdefault(key, Expansion(text, others))
        return wq.Or(options)

    def visit(node: wq.Query) -> wq.Query:
        if isinstance(node, (wq.Not, wq.AndNot)):
            if isinstance(node, wq.AndNot):
                return wq.AndNot(visit(node.a), node.b)
            return node
        if isinstance(node, wq.And):
            return wq.And(_runs(list(node.children())), boost=node.boost)
        unit = _unit(node)
        if unit is not None:
            return alternatives(unit[0], unit[1], node) or node
        if isinstance(node, wq.Or):
            return wq.Or([visit(c) for c in node.children()], boost=node.boost)
        return node

    def _runs(kids: list[wq.Query]) -> list[wq.Query]:
        units = [_unit(k) for k in kids]
        out: list[wq.Query] = []
        i = 0
        while i < len(kids):
            replaced = False
            for length in range(min(_MAX_RUN, len(kids) - i), 1, -1):
                run = units[i : i + length]
                if any(u is None for u in run) or len({tuple(u[1]) for u in run}) != 1:
                    continue
                text = "".join(u[0] for u in run)  # type: ignore[index]
                original = wq.And(kids[i : i + length])
                alt = alternatives(text, run[0][1], original)  # type: ignore[index]
                if alt is not None:
                    out.append(alt)
                    i += length
                    replaced = True
                    break
            if not replaced:
                out.append(visit(kids[i]))
                i += 1
        return out

    return visit(q), list(found.values())


def _unit(node: wq.Query) -> tuple[str, list[str]] | None:
    """(text, fields) when `node` searches one typed term: a Literal, or one across the fields."""
    if isinstance(node, Literal):
        return node.term.text, [node.fieldname]
    if isinstance(node, wq.Or):
        kids = list(node.children())
        if (
            kids
            and all(isinstance(k, Literal) for k in kids)
            and len({k.term.key for k in kids}) == 1
            and {k.fieldname for k in kids} <= set(SEARCH_FIELDS)
        ):
            return kids[0].term.text, [k.fieldname for k in kids]
    return None
