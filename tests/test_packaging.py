"""The distribution installs exactly the four packages plus data; the code is lint-clean."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


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


def test_wheel_holds_only_the_four_packages(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"corpus", "index", "search", "web"}


def test_wheel_bundles_sample_corpus_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    samples = {n for n in names if n.startswith("corpus/sample/") and n.endswith(".txt")}
    assert len(samples) == 5
    assert "corpus/data/domain.dict" in names
    assert any(n.startswith("web/templates/") for n in names)


def test_entry_point_is_the_click_cli(wheel):
    entry = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "zhsearch = web.cli:cli" in text


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff(args):
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
