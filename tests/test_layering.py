"""The pipeline's import rules hold: web → search → index → corpus, flask only in web."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.helpers import REPO

LAYERS = ["corpus", "index", "search", "web"]


def _layer(module: str) -> str:
    """The layer (or third-party top-level name) a dotted import names: zhsearch.web.api → web."""
    parts = module.split(".")
    return parts[1] if parts[0] == "zhsearch" and len(parts) > 1 else parts[0]


def _imports(package: str) -> dict[str, set[str]]:
    """Top-level module names each source file of `package` imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(_layer(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(_layer(node.module))
        found[str(path.relative_to(REPO))] = names
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_dependencies_point_one_way(package):
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    for path, names in _imports(package).items():
        assert not names & above, f"{path} imports a layer above it: {names & above}"


@pytest.mark.parametrize("package", ["corpus", "index", "search"])
def test_nothing_below_web_imports_flask(package):
    for path, names in _imports(package).items():
        assert "flask" not in names and "werkzeug" not in names, path


def test_only_the_segment_module_imports_jieba():
    for package in LAYERS:
        for path, names in _imports(package).items():
            if path != "corpus/segment.py":
                assert not names & {"jieba", "rjieba"}, path


def test_cli_loads_without_flask_and_flask_finds_the_factory():
    code = (
        "import sys, zhsearch.web.cli; assert 'flask' not in sys.modules, 'cli imported flask';"
        "from flask.cli import ScriptInfo;"
        "app = ScriptInfo(app_import_path='zhsearch.web').load_app();"
        "print(type(app).__name__, sorted(app.blueprints))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["Flask", "['api',", "'pages']"]
