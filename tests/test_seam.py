"""Whoosh's internals stay behind the engine seam (`zhsearch.index.engine`)."""

from __future__ import annotations

import ast

from tests.helpers import REPO

PACKAGES = ("corpus", "index", "search", "web")
SEAM = REPO / "index" / "engine"


def _private_accesses() -> list[str]:
    """Every `x._name` outside the seam where `x` is not self or cls, as path:line: code."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if SEAM in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                    continue
                if node.attr.startswith("__"):
                    continue
                if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
                    continue
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_private_attribute_is_read_outside_the_engine_seam():
    """A Whoosh upgrade is the seam's work: no other module reads an object's private parts
    (a class's own, through self or cls, are its business)."""
    assert _private_accesses() == []


def test_the_seam_is_where_the_private_accesses_are():
    """The check above looks at real code: the seam itself does read Whoosh's internals."""
    accesses = 0
    for path in SEAM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                accesses += not node.attr.startswith("__")
    assert accesses >= 10


def test_the_rest_of_zhsearch_imports_no_whoosh_codec_internals():
    """The W3 codec, its file tables and byte packing are the format's insides: only the seam
    imports them (schemas, columns and storage are Whoosh's public API)."""
    inside = (
        "whoosh.codec.whoosh3",
        "whoosh.filedb.filetables",
        "whoosh.filedb.compound",
        "whoosh.util.numeric",
        "whoosh.system",
    )
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if SEAM in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith(inside), f"{path}: {node.module}"
