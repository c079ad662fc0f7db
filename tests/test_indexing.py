"""The indexer and the index directory: incremental runs, unreadable files, failing articles,
a crash between commit and manifest, metadata and ids. Kills, locks, full disks and directory
problems are in tests/test_faults.py, a folder of odd files in tests/test_bad_files.py.

Every test builds its own index in tmp_path with the real `Indexer`; tests that change the corpus
work on a copy of the sample files.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import (
    all_ids,
    make_jsonl,
    phrase_ids,
    settings_for,
)
from zhsearch.corpus.readers import read_file
from zhsearch.index import writer as writer_module
from zhsearch.index.settings import Settings
from zhsearch.index.store import (
    CURRENT,
    MANIFEST,
    META,
    IndexMissing,
    IndexOutdated,
    IndexStore,
    open_index,
)
from zhsearch.index.writer import Indexer, IndexReport
from zhsearch.web.cli import cli

NEW_SENTENCE = (
    "昔阳县新建钒液流储能示范工程今日并网发电，总投资12亿元，年产能达到5万千瓦时，"
    "将带动当地新能源产业发展。"
)
# --------------------------------------------------------------------------- helpers


@pytest.fixture
def corpus(tmp_path: Path, sample_dir: Path) -> Path:
    """A writable copy of the five sample files."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in sorted(sample_dir.glob("*.txt")):
        shutil.copyfile(path, target / path.name)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "index")


def sample_file(corpus: Path, prefix: str) -> Path:
    (path,) = corpus.glob(f"{prefix}_*.txt")
    return path


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n" + text + "\n")


def assert_counts(report: IndexReport, **expected: int) -> None:
    got = {k: getattr(report, k) for k in expected}
    assert got == expected, report.to_dict()


# --------------------------------------------------------------------------- incremental runs


def test_fresh_index_then_rerun_is_all_unchanged(corpus: Path, settings: Settings) -> None:
    report = Indexer(settings).run([corpus])
    assert_counts(report, added=6, updated=0, deleted=0, unchanged=0, failed=0, files=5)
    assert report.documents == 6 and report.rebuilt
    again = Indexer(settings).run([corpus])
    assert_counts(again, added=0, updated=0, deleted=0, unchanged=6, failed=0, files=0)
    assert again.documents == 6 and not again.rebuilt
    assert again.generation == report.generation  # incremental runs commit into the live one


def test_editing_a_file_updates_only_its_article(corpus: Path, settings: Settings) -> None:
    Indexer(settings).run([corpus])
    append(sample_file(corpus, "001"), NEW_SENTENCE)
    report = Indexer(settings).run([corpus])
    assert_counts(report, added=0, updated=1, deleted=0, unchanged=5, failed=0, files=1)
    assert report.documents == 6
    (hit,) = phrase_ids(settings, "钒液流储能示范工程")
    assert hit in {a.id for a in read_file(sample_file(corpus, "001")).articles}


def test_editing_a_two_article_file_updates_only_the_changed_article(
    corpus: Path, settings: Settings
) -> None:
    path = sample_file(corpus, "004")
    before = read_file(path).articles
    assert len(before) == 2
    Indexer(settings).run([corpus])
    append(path, NEW_SENTENCE)
    after = read_file(path).articles
    changed = [
        a.id for a, b in zip(before, after, strict=True) if a.fingerprint() != b.fingerprint()
    ]
    assert [a.id for a in after] == [a.id for a in before] and len(changed) == 1

    report = Indexer(settings).run([corpus])
    assert_counts(report, added=0, updated=1, deleted=0, unchanged=5, failed=0)
    ids = all_ids(settings)
    assert len(ids) == len(set(ids)) == 6
    assert phrase_ids(settings, "钒液流储能示范工程") == changed


def test_deleting_a_file_deletes_its_articles(corpus: Path, settings: Settings) -> None:
    Indexer(settings).run([corpus])
    path = sample_file(corpus, "004")
    gone = {a.id for a in read_file(path).articles}
    path.unlink()
    report = Indexer(settings).run([corpus])
    assert_counts(report, added=0, updated=0, deleted=2, unchanged=4, failed=0)
    assert report.documents == 4
    assert not gone & set(all_ids(settings))


def test_a_new_file_adds_its_articles(corpus: Path, settings: Settings) -> None:
    Indexer(settings).run([corpus])
    (corpus / "005_new.txt").write_text(
        "昔阳县钒电池储能项目开工\n\n" + NEW_SENTENCE + "\n", encoding="utf-8"
    )
    report = Indexer(settings).run([corpus])
    assert_counts(report, added=1, updated=0, deleted=0, unchanged=6, failed=0, files=1)
    assert report.documents == 7
    assert len(phrase_ids(settings, "钒液流储能示范工程")) == 1


def test_progress_reports_every_byte_once(corpus: Path, settings: Settings) -> None:
    make_jsonl(corpus / "big.jsonl", 300)  # big enough to report within the file
    sizes = sum(p.stat().st_size for p in corpus.iterdir())
    calls: list[int] = []
    Indexer(settings).run([corpus], progress=calls.append)
    assert sum(calls) == sizes and len(calls) > 6
    calls.clear()
    Indexer(settings).run([corpus], progress=calls.append)  # unchanged files count too
    assert sum(calls) == sizes


def test_files_outside_the_given_paths_are_kept(corpus: Path, settings: Settings) -> None:
    """Indexing one folder must not delete what another folder added earlier."""
    other = corpus.parent / "other"
    other.mkdir()
    make_jsonl(other / "extra.jsonl", 3)
    Indexer(settings).run([corpus])
    Indexer(settings).run([other])
    assert len(all_ids(settings)) == 9


# --------------------------------------------------------------------------- unreadable files


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_a_file_without_read_permission_is_reported(corpus: Path, settings: Settings) -> None:
    locked = corpus / "locked.txt"
    locked.write_text("标题\n\n正文", encoding="utf-8")
    locked.chmod(0)
    report = Indexer(settings).run([corpus])
    assert report.added == 6
    assert any(Path(p.path).name == "locked.txt" for p in report.problems)


def test_a_read_error_is_reported_and_the_rest_is_indexed(
    corpus: Path, settings: Settings, monkeypatch
) -> None:
    """What a permission error looks like to the indexer, simulated (tests may run as root)."""
    victim = sample_file(corpus, "002")
    real = writer_module.read_file

    def failing(path: Path, settings=None):
        if Path(path).name == victim.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, settings)

    monkeypatch.setattr(writer_module, "read_file", failing)
    report = Indexer(settings).run([corpus])
    assert report.added == 5 and report.failed == 1
    assert report.problems[0].path == str(victim)
    assert "Permission denied" in report.problems[0].reason


def test_a_file_that_becomes_unreadable_keeps_its_documents(
    corpus: Path, settings: Settings
) -> None:
    Indexer(settings).run([corpus])
    before = all_ids(settings)
    sample_file(corpus, "001").write_bytes(b"\x00\xff\xfe" * 4000)
    path3 = sample_file(corpus, "003")
    path3.unlink()
    path3.symlink_to(corpus / "gone.txt")  # now a dangling link: unreadable, not deleted
    report = Indexer(settings).run([corpus])
    assert report.failed == 2, report.to_dict()
    assert report.deleted == 0 and report.documents == 6
    assert all_ids(settings) == before
    # Still kept on the next run, and still reported.
    again = Indexer(settings).run([corpus])
    assert again.failed == 2 and again.documents == 6


# --------------------------------------------------------------------------- crashes


@pytest.mark.parametrize("how", ["fresh", "fresh, two processes", "incremental"])
def test_an_article_that_fails_is_reported_and_the_rest_is_indexed(
    corpus: Path, settings: Settings, monkeypatch, how: str
) -> None:
    from zhsearch.index import build as build_module
    from zhsearch.index.documents import article_fields

    bad = sample_file(corpus, "003")
    if how == "incremental":  # the failing file is new to an existing index
        aside = corpus.parent / bad.name
        bad.rename(aside)
        Indexer(settings).run([corpus])
        aside.rename(bad)
    if how == "fresh, two processes":
        settings = settings.replace(procs=2)

    def failing(article):
        if article.source_path.endswith(bad.name):
            raise ValueError("cannot store this")
        return article_fields(article)

    monkeypatch.setattr(build_module, "article_fields", failing)
    report = Indexer(settings).run([corpus])
    assert report.added == (0 if how == "incremental" else 5) and report.failed == 1
    assert report.documents == 5
    assert "ValueError: cannot store this" in str(report.problems[0])
    assert report.problems[0].path == str(bad)
    # Not recorded as indexed: the next run reads the file again and reports it again.
    again = Indexer(settings).run([corpus])
    assert again.failed == 1 and again.unchanged == 5 and again.documents == 5
    monkeypatch.undo()
    assert Indexer(settings).run([corpus]).added == 1


def test_a_run_killed_between_commit_and_manifest_leaves_no_duplicates(
    corpus: Path, settings: Settings, monkeypatch
) -> None:
    """The manifest is written after the Whoosh commit; a crash in between must not make the
    next run add the same articles again."""
    Indexer(settings).run([corpus])
    extra = corpus / "extra.jsonl"
    ids = make_jsonl(extra, 20)
    append(sample_file(corpus, "001"), NEW_SENTENCE)
    real = IndexStore.write_json

    def crash(generation: Path, name: str, data: dict) -> None:
        if name == MANIFEST:
            raise KeyboardInterrupt  # as if killed right after the commit
        real(generation, name, data)

    monkeypatch.setattr(IndexStore, "write_json", staticmethod(crash))
    with pytest.raises(KeyboardInterrupt):
        Indexer(settings).run([corpus])
    monkeypatch.setattr(IndexStore, "write_json", staticmethod(real))
    assert len(all_ids(settings)) == 26  # committed: the index already has them

    extra.unlink()  # and the file whose articles the manifest never recorded goes away
    report = Indexer(settings).run([corpus])
    got = all_ids(settings)
    assert len(got) == len(set(got)) == 6, report.to_dict()
    assert not set(ids) & set(got)
    assert len(phrase_ids(settings, "钒液流储能示范工程")) == 1


# --------------------------------------------------------------------------- no index


def test_no_index_yet_is_index_missing(settings: Settings) -> None:
    with pytest.raises(IndexMissing, match="zhsearch index"):
        open_index(settings)


# --------------------------------------------------------------------------- metadata


def test_an_index_built_differently_is_outdated(
    corpus: Path, settings: Settings, tmp_path: Path
) -> None:
    Indexer(settings).run([corpus])
    store = IndexStore(settings.index_dir)
    live = store.current()
    good = store.read_json(live, META)
    for key, named in [
        ("analyzer", "analyzer"),
        ("taxonomy", "industry taxonomy"),
        ("gazetteer", "region gazetteer"),
    ]:
        store.write_json(live, META, {**good, key: "built-long-ago"})
        with pytest.raises(IndexOutdated, match=named) as info:
            open_index(settings)
        assert "built-long-ago" in str(info.value) and "--rebuild" in str(info.value)
    store.write_json(live, META, good)
    open_index(settings).close()

    # A real change: the same index opened with a user dictionary added.
    user_dict = tmp_path / "user.dict"
    user_dict.write_text("钒液流储能 100 n\n", encoding="utf-8")
    changed = settings.replace(user_dict=str(user_dict))
    with pytest.raises(IndexOutdated, match="analyzer"):
        open_index(changed)
    with pytest.raises(IndexOutdated, match="incremental"):
        Indexer(changed).run([corpus])
    args = ["--index-dir", settings.index_dir, "--user-dict", str(user_dict), "index", str(corpus)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "--rebuild" in result.output
    result = CliRunner().invoke(cli, [*args, "--rebuild"])
    assert result.exit_code == 0, result.output
    open_index(changed).close()


def test_meta_and_manifest_describe_the_generation(corpus: Path, settings: Settings) -> None:
    report = Indexer(settings).run([corpus])
    store = IndexStore(settings.index_dir)
    live = store.current()
    assert (Path(settings.index_dir) / CURRENT).read_text().strip() == live.name
    meta = store.read_json(live, META)
    assert {"analyzer", "taxonomy", "gazetteer", "created"} <= meta.keys()
    assert meta["documents"] == report.documents == 6
    manifest = store.read_json(live, MANIFEST)
    assert len(manifest["files"]) == 5
    assert sum(len(f["articles"]) for f in manifest["files"].values()) == 6


def test_rebuild_switches_generation_and_cleans_up(corpus: Path, settings: Settings) -> None:
    first = Indexer(settings).run([corpus]).generation
    second = Indexer(settings).run([corpus], rebuild=True)
    third = Indexer(settings).run([corpus], rebuild=True)
    assert first < second.generation < third.generation
    assert second.added == third.added == 6
    store = IndexStore(settings.index_dir)
    # The live one and the one before it (open searchers may still read it).
    assert [g.name for g in store.generations()] == [second.generation, third.generation]


# --------------------------------------------------------------------------- ids


def test_ids_are_stable_across_runs_and_rebuilds(corpus: Path, tmp_path: Path) -> None:
    one = settings_for(tmp_path / "one")
    two = settings_for(tmp_path / "two")
    Indexer(one).run([corpus])
    Indexer(two).run([corpus])
    first = all_ids(one)
    assert first == all_ids(two)
    Indexer(one).run([corpus], rebuild=True)
    assert all_ids(one) == first
    append(sample_file(corpus, "001"), NEW_SENTENCE)
    Indexer(one).run([corpus])
    assert all_ids(one) == first


def test_jsonl_ids_are_used(tmp_path: Path, settings: Settings) -> None:
    data = tmp_path / "data"
    data.mkdir()
    lines = [
        {"id": "cctv-2023-0001", "title": "光伏项目签约", "content": "年产7GW光伏组件项目签约。"},
        {"id": "has space!", "title": "锂电池项目开工", "content": "锂电池项目开工建设。"},
    ]
    (data / "news.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8"
    )
    Indexer(settings).run([data])
    ids = all_ids(settings)
    assert "cctv-2023-0001" in ids
    (other,) = [i for i in ids if i != "cctv-2023-0001"]
    assert other.startswith("news-") and " " not in other
