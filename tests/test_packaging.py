"""The distribution installs the four packages under one `zhsearch` namespace, with data."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel the way `pip install .` would, without touching the network."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("zhsearch-*.whl")
    return path


def test_wheel_holds_only_the_four_packages_under_the_namespace(wheel):
    names = [n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n]
    assert {n.split("/")[0] for n in names} == {"zhsearch"}
    assert {n.split("/")[1] for n in names} == {"corpus", "index", "search", "web"}
    assert "zhsearch/__init__.py" not in names  # a namespace: other zhsearch-* may add to it


def test_wheel_bundles_sample_corpus_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    samples = {n for n in names if n.startswith("zhsearch/corpus/sample/") and n.endswith(".txt")}
    assert len(samples) == 5
    assert "zhsearch/corpus/data/domain.dict" in names
    assert any(n.startswith("zhsearch/web/templates/") for n in names)


def test_entry_point_is_the_click_cli(wheel):
    entry = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "zhsearch = zhsearch.web.cli:cli" in text


def test_installs_beside_a_package_that_owns_a_top_level_web_module(wheel, tmp_path):
    """web.py's import name is `web`: both it and the installed zhsearch import in one process."""
    other = tmp_path / "webpy"
    (other / "web").mkdir(parents=True)
    (other / "web" / "__init__.py").write_text('OWNER = "web.py"\n', encoding="utf-8")
    (other / "pyproject.toml").write_text(
        '[project]\nname = "web.py"\nversion = "0.62"\n'
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        encoding="utf-8",
    )
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), str(other)], check=True, capture_output=True)
    subprocess.run([*pip, "--target", str(target), str(wheel)], check=True, capture_output=True)
    code = (
        "import web, zhsearch.web.app, zhsearch.corpus.readers as r;"
        "assert web.OWNER == 'web.py';"
        "assert zhsearch.web.app.__file__.startswith(sys.argv[1]), zhsearch.web.app.__file__;"
        "app = zhsearch.web.app.create_app({'index_dir': sys.argv[2]});"
        "print(web.OWNER, sorted(app.blueprints), len(list(r.sample_dir().glob('*.txt'))))"
    )
    # -S: no site directories, so the editable install's finder cannot stand in for the wheel;
    # the dependencies come from this interpreter's site-packages as a plain path entry.
    env = {"PYTHONPATH": f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}"}
    out = subprocess.run(
        [sys.executable, "-S", "-c", "import sys;" + code, str(target), str(tmp_path / "idx")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["web.py", "['api',", "'pages']", "5"]


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff(args):
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_wheel_holds_every_python_file_of_the_four_folders(wheel):
    """pyproject lists packages one by one (the namespace needs it): a new sub-package must be
    listed too, or an installed zhsearch fails to import it."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("corpus", "index", "search", "web"):
        for path in (REPO / package).rglob("*.py"):
            assert f"zhsearch/{path.relative_to(REPO).as_posix()}" in names, path
