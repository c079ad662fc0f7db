"""The index directory rule (issue 15): zhsearch never deletes or replaces a generation it
cannot prove is superseded by a complete, verified newer one. A directory it does not
understand (a bad `CURRENT`, a broken meta.json, generations without `CURRENT`) is a clear
error saying what to do, for every command, and nothing in it changes; `serve` builds the
sample only in a directory that does not exist or is empty.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhsearch.index.settings import Settings
from zhsearch.index.store import (
    CURRENT,
    META,
    IndexMissing,
    IndexStore,
    IndexUnreadable,
    open_index,
)
from zhsearch.index.writer import Indexer
from zhsearch.web.cli import cli

CURRENT_CASES = {
    "empty": b"",
    "missing-generation": b"gen-000099\n",
    "traversal": b"../../../etc\n",
    "not-utf8": b"\xff\xfe\x00gen",
    "huge": b"gen-000001" * 1000,
}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and modification time (but LOCK, which a writer
    taking the lock rewrites with its pid)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "LOCK":
            st = path.stat()
            out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory, sample_dir: Path) -> Path:
    """An index of the sample with two finished generations (gen-000001, gen-000002 live)."""
    root = tmp_path_factory.mktemp("two-gens") / "idx"
    settings = Settings.load(overrides={"index_dir": str(root)}, env={})
    Indexer(settings).run([sample_dir])
    Indexer(settings).run([sample_dir], rebuild=True)
    assert [g.name for g in IndexStore(root).generations()] == ["gen-000001", "gen-000002"]
    return root


@pytest.fixture
def broken(two_generations: Path, tmp_path: Path, request) -> Path:
    """A copy of the two-generation index with CURRENT replaced by a hostile value."""
    root = tmp_path / "idx"
    shutil.copytree(two_generations, root)
    (root / CURRENT).write_bytes(CURRENT_CASES[request.param])
    return root


def invoke(root: Path, *args: str, monkeypatch=None):
    return CliRunner().invoke(cli, ["--index-dir", str(root), *args])


def no_server(monkeypatch) -> list:
    from zhsearch.web import serving

    served: list = []
    monkeypatch.setattr(serving, "serve", lambda settings: served.append(settings))
    return served


@pytest.mark.parametrize("broken", list(CURRENT_CASES), indirect=True)
@pytest.mark.parametrize(
    "command",
    [["serve"], ["index"], ["index", "--rebuild"], ["search", "光伏"], ["stats"]],
    ids=["serve", "index", "rebuild", "search", "stats"],
)
def test_a_bad_current_changes_nothing_and_says_what_to_do(
    broken: Path, command: list[str], sample_dir: Path, monkeypatch
) -> None:
    served = no_server(monkeypatch)
    before = snapshot(broken)
    if command[0] == "index":
        command = [*command, str(sample_dir)]
    result = invoke(broken, *command)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not served
    assert "changed nothing" in result.output
    assert f"echo gen-000002 > {broken / CURRENT}" in result.output  # what to do
    assert "gen-000001 (6 documents" in result.output  # what is there
    assert "indexing the bundled sample" not in result.output
    assert snapshot(broken) == before  # not a file deleted, written or touched


def test_generations_without_current_are_not_an_empty_directory(
    two_generations: Path, tmp_path: Path, sample_dir: Path, monkeypatch
) -> None:
    root = tmp_path / "idx"
    shutil.copytree(two_generations, root)
    (root / CURRENT).unlink()
    served = no_server(monkeypatch)
    before = snapshot(root)
    for args in (["serve"], ["index", str(sample_dir)], ["index", "--rebuild", str(sample_dir)]):
        result = invoke(root, *args)
        assert result.exit_code == 1 and "no CURRENT file" in result.output, result.output
        assert "echo gen-000002" in result.output
    assert not served and snapshot(root) == before


@pytest.mark.parametrize(
    "content", ['{"analyzer": ', "[1, 2]", "\udcff"], ids=["cut", "not-object", "not-utf8"]
)
def test_a_broken_meta_json_is_a_clear_error_and_rebuild_keeps_that_generation(
    two_generations: Path, tmp_path: Path, sample_dir: Path, monkeypatch, content: str
) -> None:
    root = tmp_path / "idx"
    shutil.copytree(two_generations, root)
    meta = root / "gen-000002" / META
    meta.write_bytes(content.encode("utf-8", "surrogateescape"))
    served = no_server(monkeypatch)
    before = snapshot(root)
    for args in (["serve"], ["search", "光伏"], ["index", str(sample_dir)]):
        result = invoke(root, *args)
        assert result.exit_code == 1, result.output
        assert "meta.json" in result.output and "--rebuild" in result.output
        assert "Traceback" not in result.output
    assert not served and snapshot(root) == before
    # A rebuild makes a complete, verified new generation; the unreadable one stays beside it.
    result = invoke(root, "index", "--rebuild", str(sample_dir))
    assert result.exit_code == 0, result.output
    assert (root / CURRENT).read_text().strip() == "gen-000003"
    assert (root / "gen-000002" / META).read_bytes() == content.encode("utf-8", "surrogateescape")


def test_the_readers_error_is_a_kind_of_index_missing(broken_root: Path) -> None:
    """The web layer answers IndexMissing with 503 `index_unavailable`; IndexUnreadable is one."""
    settings = Settings.load(overrides={"index_dir": str(broken_root)}, env={})
    with pytest.raises(IndexUnreadable, match="CURRENT is empty") as info:
        open_index(settings)
    assert isinstance(info.value, IndexMissing)


@pytest.fixture
def broken_root(two_generations: Path, tmp_path: Path) -> Path:
    root = tmp_path / "idx"
    shutil.copytree(two_generations, root)
    (root / CURRENT).write_bytes(b"")
    return root


def test_serve_builds_the_sample_only_in_an_empty_directory(tmp_path: Path, monkeypatch) -> None:
    served = no_server(monkeypatch)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "LOCK").write_text("")  # what a failed first run leaves is still "empty"
    result = invoke(empty, "serve")
    assert result.exit_code == 0 and "indexing the bundled sample" in result.output
    assert len(served) == 1 and IndexStore(empty).current() is not None

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my notes")
    result = invoke(foreign, "serve")
    assert result.exit_code == 1 and "not empty and holds no zhsearch index" in result.output
    assert sorted(os.listdir(foreign)) == ["notes.txt"] and len(served) == 1


def test_an_unfinished_first_build_does_not_block_the_next(
    tmp_path: Path, sample_dir: Path
) -> None:
    """A first build killed before its switch leaves a generation without meta.json and no
    CURRENT: nothing was ever live, so the next run builds (and keeps the leftover until a
    newer generation supersedes it)."""
    root = tmp_path / "idx"
    (root / "gen-000001").mkdir(parents=True)
    (root / "gen-000001" / "_MAIN_1.toc").write_bytes(b"half")
    assert IndexStore(root).is_empty() and IndexStore(root).current() is None
    settings = Settings.load(overrides={"index_dir": str(root)}, env={})
    report = Indexer(settings).run([sample_dir])
    assert report.generation == "gen-000002" and report.documents == 6


def test_cleanup_keeps_a_finished_generation_newer_than_the_live_one(
    two_generations: Path, tmp_path: Path, sample_dir: Path
) -> None:
    """CURRENT set back to gen-000001 by hand (a rollback): gen-000002 is complete and newer,
    not an abandoned build, so it is kept; an unfinished gen-000003 (no meta.json) is removed."""
    root = tmp_path / "idx"
    shutil.copytree(two_generations, root)
    (root / CURRENT).write_text("gen-000001\n")
    (root / "gen-000003").mkdir()
    store = IndexStore(root)
    assert store.cleanup() == [root / "gen-000003"]
    assert [g.name for g in store.generations()] == ["gen-000001", "gen-000002"]


def test_a_rebuild_is_verified_before_it_replaces_the_live_generation(
    two_generations: Path, tmp_path: Path, sample_dir: Path, monkeypatch
) -> None:
    root = tmp_path / "idx"
    shutil.copytree(two_generations, root)
    store = IndexStore(root)
    monkeypatch.setattr(
        "whoosh.index.FileIndex.doc_count", lambda self: 0
    )  # the new generation reads back empty
    settings = Settings.load(overrides={"index_dir": str(root)}, env={})
    with pytest.raises(IndexUnreadable, match="not replaced"):
        Indexer(settings).run([sample_dir], rebuild=True)
    assert store.current() == root / "gen-000002"
    assert [g.name for g in store.generations()] == ["gen-000001", "gen-000002"]
