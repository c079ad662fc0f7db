"""Faults: indexers killed at random moments (fixed seeds), what a killed writer leaves in LOCK,
a second writer, a rebuild that raises, a full disk and an index directory that cannot be
written. Each scenario is tested here only.

Searching through the real server while a rebuild runs is in tests/test_load.py, a failing
worker of a parallel build in tests/test_parallel_indexing.py.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import time
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import all_ids, live_answer, make_jsonl, run_cli, settings_for
from zhsearch.index import store as store_module
from zhsearch.index.settings import Settings
from zhsearch.index.store import LOCK, IndexLocked, IndexNotWritable, IndexStore, open_index
from zhsearch.index.writer import Indexer
from zhsearch.web.cli import cli

SEED = 20261123
TRIALS = 10


def _wait_for_lock_holder(index_dir: str, pid: int, timeout: float = 60) -> bool:
    """True once LOCK names `pid` (the writer has started writing)."""
    deadline = time.monotonic() + timeout
    path = Path(index_dir) / LOCK
    while time.monotonic() < deadline:
        try:
            if path.read_text().strip() == str(pid):
                return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


def _writing_seconds(settings, args: list[str], data: Path, articles: int) -> float:
    """How long one uninterrupted run of `args` holds the writer lock."""
    if args[1] != "--rebuild":
        make_jsonl(data / "news.jsonl", articles)
    proc = run_cli("--index-dir", settings.index_dir, *args)
    assert _wait_for_lock_holder(settings.index_dir, proc.pid), proc.communicate()
    started = time.monotonic()
    proc.communicate()
    assert proc.returncode == 0
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("articles", "trials"), [(400, TRIALS), pytest.param(3000, 20, marks=pytest.mark.slow)]
)
def test_ten_kills_at_random_moments_with_a_fixed_seed(
    tmp_path: Path, articles: int, trials: int
) -> None:
    """Rebuilds and incremental runs alternate, each SIGKILLed at a seeded random moment while
    it holds the lock; after every kill the old answer is served, LOCK still names the dead
    writer (stale content) yet the next writer gets the lock at once."""
    settings = settings_for(tmp_path / "index")
    data = tmp_path / "data"
    data.mkdir()
    make_jsonl(data / "news.jsonl", articles)
    assert Indexer(settings).run([data]).documents == articles
    expected = live_answer(settings)
    kinds = [["index", "--rebuild", str(data)], ["index", str(data)]]
    # Kill moments are drawn within how long each kind of run takes on this machine, so they
    # land while the writer works however fast or loaded the machine is.
    spans = [_writing_seconds(settings, args, data, articles) for args in kinds]
    rng = random.Random(SEED)
    killed: list[dict[str, object]] = []
    for trial in range(trials):
        args = kinds[trial % 2]
        if trial % 2:  # give the incremental run work: rewrite the file with the same records
            make_jsonl(data / "news.jsonl", articles)
        proc = run_cli("--index-dir", settings.index_dir, *args)
        assert _wait_for_lock_holder(settings.index_dir, proc.pid), proc.communicate()
        delay = rng.uniform(0.0, 0.8 * spans[trial % 2])
        time.sleep(delay)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        killed.append({"trial": trial, "args": args[:2], "delay": round(delay, 3), "hit": alive})
        lock_text = (Path(settings.index_dir) / LOCK).read_text().strip()
        assert lock_text in {str(proc.pid), ""}  # a kill leaves the dead pid behind
        assert live_answer(settings) == expected, killed[-1]
        with IndexStore(settings.index_dir).lock():  # not stale: the kernel dropped the lock
            pass
    hits = sum(bool(k["hit"]) for k in killed)
    assert hits >= trials - 2, killed  # nearly all landed while the writer was working
    report = Indexer(settings).run([data])
    assert report.failed == 0 and report.documents == articles
    ids = all_ids(settings)
    assert len(ids) == len(set(ids)) == articles
    assert len(IndexStore(settings.index_dir).generations()) <= 2
    out = Path(__file__).resolve().parents[1] / "test-artifacts" / "reliability"
    out.mkdir(parents=True, exist_ok=True)
    name = "kills.json" if articles == 400 else f"kills-{articles}.json"
    (out / name).write_text(json.dumps(killed, indent=1), encoding="utf-8")


def _kill_trials(
    args: list[str], settings: Settings, check, window: float, trials: int, seed: int
) -> int:
    """Start `zhsearch ARGS` and SIGKILL it at random moments within `window` seconds; after
    each kill run `check()` on the index left behind. Returns how many kills hit a running
    process (time-bounded, so a slow machine cannot make the test run away)."""
    rng = random.Random(seed)
    hits = attempts = 0
    deadline = time.monotonic() + 15 * trials
    while hits < trials and attempts < 3 * trials and time.monotonic() < deadline:
        attempts += 1
        proc = run_cli("--index-dir", settings.index_dir, *args)
        time.sleep(rng.uniform(0.05, window))
        hits += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert IndexStore(settings.index_dir).current() is not None
        check()
    return hits


def test_incremental_run_killed_at_random_moments_recovers(tmp_path: Path) -> None:
    """An incremental run that changes records and adds a file, killed at random moments: each
    kill leaves an index without duplicates, and the next run gives every record its new text."""
    settings = settings_for(tmp_path / "index")
    data = tmp_path / "data"
    data.mkdir()
    make_jsonl(data / "a.jsonl", 200)
    started = time.monotonic()
    assert Indexer(settings).run([data]).documents == 200
    duration = 2 * (time.monotonic() - started) + 0.5  # twice the work, plus process startup
    # Same ids with new text in a.jsonl, and a new file.
    expected = make_jsonl(data / "a.jsonl", 200, seed=1) + make_jsonl(
        data / "b.jsonl", 200, prefix="m"
    )

    def opens_without_duplicates() -> None:
        ids = all_ids(settings)
        assert len(ids) == len(set(ids)) and set(ids) <= set(expected)

    _kill_trials(["index", str(data)], settings, opens_without_duplicates, duration, 3, seed=11)
    proc = run_cli("--index-dir", settings.index_dir, "index", str(data))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert all_ids(settings) == sorted(expected)
    # The changed records carry their new text.
    titles = {
        json.loads(line)["id"]: json.loads(line)["title"]
        for line in (data / "a.jsonl").read_text(encoding="utf-8").splitlines()
    }
    with closing(open_index(settings)) as ix, ix.reader() as reader:
        stored = {f["id"]: f["title"] for f in reader.all_stored_fields()}
    assert all(stored[i] == t for i, t in titles.items())


def test_two_writer_processes_at_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "index")
    data = tmp_path / "data"
    data.mkdir()
    make_jsonl(data / "news.jsonl", 1500)
    first = run_cli("--index-dir", settings.index_dir, "index", "--rebuild", str(data))
    try:
        assert _wait_for_lock_holder(settings.index_dir, first.pid)
        second = run_cli("--index-dir", settings.index_dir, "index", "--rebuild", str(data))
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1, out + err
        assert f"another zhsearch process (pid {first.pid})" in err and "wait" in err
        assert "Traceback" not in err
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert len(all_ids(settings)) == 1500


@pytest.fixture
def built(tmp_path: Path, sample_dir: Path):
    """An index of the sample, and what it answers."""
    settings = settings_for(tmp_path / "index")
    Indexer(settings).run([sample_dir])
    store = IndexStore(settings.index_dir)
    return settings, store, store.current(), all_ids(settings)


def test_a_second_writer_in_the_same_process_fails_and_names_the_holder(
    built, sample_dir: Path
) -> None:
    settings, store, _live, _before = built
    with store.lock():  # held: a writer that waited for it would never return
        with pytest.raises(IndexLocked, match=str(os.getpid())):
            Indexer(settings).run([sample_dir])
        result = CliRunner().invoke(
            cli, ["--index-dir", settings.index_dir, "index", str(sample_dir)]
        )
    assert result.exit_code != 0
    assert "another zhsearch process" in result.output
    assert "Traceback" not in result.output
    # Released: the next run goes through.
    assert Indexer(settings).run([sample_dir]).unchanged == 6


def test_a_rebuild_that_raises_keeps_the_old_generation(
    built, sample_dir: Path, monkeypatch
) -> None:
    """An unexpected error half way through a rebuild (a full disk at commit is below)."""
    settings, store, live, before = built
    real = Indexer._index_file
    calls = []

    def exploding(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Indexer, "_index_file", exploding)
    with pytest.raises(RuntimeError, match="disk on fire"):
        Indexer(settings).run([sample_dir], rebuild=True)
    assert store.current() == live
    assert store.generations() == [live]  # the half-built generation was removed
    assert all_ids(settings) == before


@pytest.mark.parametrize("rebuild", [True, False], ids=["rebuild", "incremental"])
def test_a_full_disk_at_commit_is_a_clear_error_and_the_index_is_untouched(
    built, sample_dir: Path, tmp_path: Path, monkeypatch, rebuild: bool
) -> None:
    from whoosh.writing import SegmentWriter

    settings, store, live, before = built
    extra = tmp_path / "extra"
    extra.mkdir()
    make_jsonl(extra / "more.jsonl", 30)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SegmentWriter, "commit", full)
    args = ["--index-dir", settings.index_dir, "index", str(sample_dir), str(extra)]
    result = CliRunner().invoke(cli, [*args, "--rebuild"] if rebuild else args)
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert store.current() == live and store.generations() == [live]
    assert all_ids(settings) == before
    monkeypatch.undo()
    assert Indexer(settings).run([sample_dir, extra]).documents == len(before) + 30


def test_a_full_disk_when_switching_keeps_the_old_generation(
    built, sample_dir: Path, monkeypatch
) -> None:
    settings, store, live, before = built
    real = store_module._atomic_write

    def full(path: Path, text: str) -> None:
        if path.name == store_module.CURRENT:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(store_module, "_atomic_write", full)
    result = CliRunner().invoke(
        cli, ["--index-dir", settings.index_dir, "index", "--rebuild", str(sample_dir)]
    )
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert store.current() == live and all_ids(settings) == before
    monkeypatch.undo()
    report = Indexer(settings).run([sample_dir], rebuild=True)  # and the leftover is cleaned
    assert report.documents == len(before)
    assert len(store.generations()) == 2


@pytest.mark.parametrize("existing", [True, False], ids=["live index", "no index yet"])
def test_a_read_only_index_directory_is_a_clear_error_and_the_live_index_serves(
    tmp_path: Path, sample_dir: Path, monkeypatch, existing: bool
) -> None:
    settings = settings_for(tmp_path / "index")
    if existing:
        Indexer(settings).run([sample_dir])
    store = IndexStore(settings.index_dir)
    live, before = store.current(), all_ids(settings) if existing else []
    real_open = os.open

    def read_only(path, flags, *args):
        if Path(settings.index_dir) in Path(path).parents and flags & (os.O_RDWR | os.O_WRONLY):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(store_module.os, "open", read_only)
    for rebuild in (False, True):
        with pytest.raises(IndexNotWritable, match="Read-only file system"):
            Indexer(settings).run([sample_dir], rebuild=rebuild)
        args = ["--index-dir", settings.index_dir, "index", str(sample_dir)]
        result = CliRunner().invoke(cli, [*args, "--rebuild"] if rebuild else args)
        assert result.exit_code == 1 and "cannot write the index directory" in result.output
        assert "Traceback" not in result.output
    assert store.current() == live
    if existing:
        open_index(settings).close()  # readers open read-only and still work
        assert all_ids(settings) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_really_read_only_index_directory(sample_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ro"
    index_dir.mkdir()
    index_dir.chmod(0o555)
    with pytest.raises(IndexNotWritable):
        Indexer(settings_for(index_dir)).run([sample_dir])


def test_an_index_directory_that_is_a_file(sample_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "a-file"
    path.write_text("x")
    with pytest.raises(IndexNotWritable):
        Indexer(settings_for(path / "index")).run([sample_dir])


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real 24 MB file system (tmpfs), unmounted afterwards; skipped where mounting is not
    permitted (tests run as root in CI and in the development container)."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("free_kb", [0, 256, 1024])
def test_a_real_full_disk_during_an_incremental_run_is_one_line_and_leaves_no_orphan(
    tiny_disk: Path, sample_dir: Path, tmp_path: Path, free_kb: int
) -> None:
    """Issue 15: a real ENOSPC (not a simulated one) printed a 60-line traceback (Whoosh's
    cancel() raised "This writer is closed" over the disk error) and left the segment files of
    the failed commit (23 MB) in the live generation until the next good run."""
    settings = settings_for(tiny_disk / "index")
    Indexer(settings).run([sample_dir])
    store = IndexStore(settings.index_dir)
    live = store.current()
    before_files = sorted(os.listdir(live))
    before_ids = all_ids(settings)
    extra = tmp_path / "extra"
    extra.mkdir()
    make_jsonl(extra / "more.jsonl", 1500)  # its segment needs more than the space left
    free = os.statvfs(tiny_disk)
    filler = tiny_disk / "filler"
    with filler.open("wb") as fh:  # leave free_kb free (tmpfs allocates whole pages)
        fh.write(b"\0" * max(0, free.f_bavail * free.f_frsize - free_kb * 1024))
    args = ["--index-dir", settings.index_dir, "index", str(sample_dir), str(extra)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], result.output
    assert len(result.output.strip().splitlines()) == 1
    assert store.current() == live and sorted(os.listdir(live)) == before_files  # no orphan
    assert all_ids(settings) == before_ids
    filler.unlink()  # space again: the next run adds everything
    assert Indexer(settings).run([sample_dir, extra]).added == 1500
