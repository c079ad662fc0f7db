"""The `zhsearch` command line, through click's CliRunner and the installed entry point."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.helpers import REPO
from zhsearch.corpus.readers import read_file
from zhsearch.corpus.segment import normalize
from zhsearch.index.settings import Settings
from zhsearch.web.cli import cli

COMMANDS = ["index", "search", "stats", "serve", "evaluate", "settings"]


def run(*args: str, color: bool = False) -> Result:
    return CliRunner().invoke(cli, list(args), color=color)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str:
    """An index built by `zhsearch index` with no PATH: the bundled sample."""
    path = str(tmp_path_factory.mktemp("cli-index") / "index")
    result = run("--index-dir", path, "index", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == 6 and report["files"] == 5 and report["documents"] == 6
    assert report["failed"] == 0 and report["rebuilt"]
    return path


@pytest.fixture(scope="module")
def sample_texts(sample_dir: Path) -> dict[str, str]:
    """Normalised title + subtitle + content of every sample article, by id."""
    texts = {}
    for path in sorted(sample_dir.glob("*.txt")):
        for article in read_file(path).articles:
            raw = "\n".join([article.title, article.subtitle, article.content])
            texts[article.id] = normalize(raw)[0]
    return texts


def search_json(index_dir: str, query: str, *extra: str) -> dict:
    result = run("--index-dir", index_dir, "search", query, "--json", "--limit", "50", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- index


def test_index_with_no_path_indexes_the_sample(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "index")
    assert result.exit_code == 0, result.output
    assert "unchanged 6" in result.stdout and "failed 0" in result.stdout
    assert "MB/s" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_index_summary_lists_problems_and_exits_1(tmp_path: Path, sample_dir: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(sample_dir, corpus)
    (corpus / "junk.txt").write_bytes(os.urandom(4096) + b"\x00" * 64)
    result = run("--index-dir", str(tmp_path / "index"), "index", str(corpus))
    assert result.exit_code == 1
    assert "added 6" in result.stdout and "failed 1" in result.stdout
    assert str(corpus / "junk.txt") in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_index_of_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--index-dir", str(tmp_path / "index"), "index", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert not (tmp_path / "index").exists()


# --------------------------------------------------------------------------- search


def test_phrase_search_finds_the_shangtai_article_first(index_dir: str) -> None:
    data = search_json(index_dir, '"锂电负极材料"')
    assert data["ok"] and data["total"] >= 1
    first = data["hits"][0]
    assert first["id"].startswith("000_")
    assert "昔阳" in first["title"] and "尚太" in first["title"]


@pytest.mark.parametrize("query", ["锂", "7GW", "鋰電池", "７GW", "宁德时代"])
def test_search_returns_exactly_the_articles_containing_the_query(
    index_dir: str, sample_texts: dict[str, str], query: str
) -> None:
    needle = normalize(query)[0]
    expected = {doc_id for doc_id, text in sample_texts.items() if needle in text}
    assert expected, "the sample should contain every test query"
    data = search_json(index_dir, query)
    assert {hit["id"] for hit in data["hits"]} == expected
    assert data["total"] == len(expected)


def test_search_json_is_exactly_the_result_dict(index_dir: str) -> None:
    data = search_json(index_dir, "锂电池", "--sort", "date", "--page", "1")
    assert list(data) == [
        "ok", "query", "total", "took_ms", "page", "size", "pages", "hits", "facets", "notices",
        "expanded", "suggestions",
    ]  # fmt: skip
    assert data["query"]["sort"] == "date" and data["size"] == 50
    hit = data["hits"][0]
    assert {"id", "title", "title_html", "date", "snippet", "region", "industries"} <= hit.keys()


def test_search_json_keeps_chinese_unescaped(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "search", "宁德时代", "--json")
    assert "宁德时代" in result.stdout and "\\u" not in result.stdout


def test_search_text_output_is_plain_without_a_terminal(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "search", "宁德时代")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "results" in out and "宁德时代" in out
    assert "<mark>" not in out and "\x1b[" not in out and "&quot;" not in out
    assert "山西省" in out  # the region path of the hit


def test_search_text_output_marks_matches_in_colour(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "search", "宁德时代", color=True)
    assert result.exit_code == 0, result.output
    assert re.search(r"\x1b\[[0-9;]*m宁德时代\x1b\[0m", result.stdout)
    assert "<mark>" not in result.stdout


def test_search_filters_and_pages(index_dir: str) -> None:
    everything = search_json(index_dir, "锂")
    region = search_json(index_dir, "锂", "--region", "140000")
    assert region["total"] <= everything["total"]
    assert region["query"]["region"] == ["140000"]
    one = search_json(index_dir, "锂", "--limit", "1", "--page", "2")
    assert one["page"] == 2 and len(one["hits"]) == 1


def test_search_bad_request_is_a_clean_error(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "search", "锂", "--region", "not-a-code")
    assert result.exit_code == 1
    assert "region" in result.stderr and "Traceback" not in result.output


def test_search_on_a_missing_index_is_a_clean_error(tmp_path: Path) -> None:
    result = run("--index-dir", str(tmp_path / "none"), "search", "锂电池")
    assert result.exit_code == 1
    assert "no index" in result.stderr and "zhsearch index" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_search_on_an_outdated_index_says_rebuild(index_dir: str, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    live = copy / (copy / "CURRENT").read_text().strip()
    meta = json.loads((live / "meta.json").read_text())
    meta["analyzer"] = "zh-0/old"
    (live / "meta.json").write_text(json.dumps(meta))
    result = run("--index-dir", str(copy), "search", "锂电池")
    assert result.exit_code == 1
    assert "--rebuild" in result.stderr and "analyzer" in result.stderr


# --------------------------------------------------------------------------- stats, settings


def test_stats_json_parses(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["documents"] == 6
    assert stats["generation"].startswith("gen-")
    assert stats["analyzer"] and stats["size_bytes"] > 0
    assert any(r["value"] == "140000" for r in stats["regions"])


def test_stats_text(index_dir: str) -> None:
    result = run("--index-dir", index_dir, "stats")
    assert result.exit_code == 0, result.output
    assert "documents" in result.stdout and "MB" in result.stdout and "山西省" in result.stdout


def test_stats_on_a_missing_index(tmp_path: Path) -> None:
    result = run("--index-dir", str(tmp_path / "none"), "stats")
    assert result.exit_code == 1 and "no index" in result.stderr


def test_settings_lists_every_setting_with_its_value(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--index-dir", str(tmp_path), "settings", "--json"],
        env={"ZHSEARCH_PORT": "9123"},
    )
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["port"]["value"] == 9123 and rows["port"]["env"] == "ZHSEARCH_PORT"
    assert rows["index_dir"]["value"] == str(tmp_path)
    assert all(row["help"] for row in rows.values())
    text = run("settings").stdout
    assert "ZHSEARCH_INDEX_DIR" in text and "ZHSEARCH_USER_DICT" in text


def test_a_bad_environment_value_is_a_clean_error() -> None:
    result = CliRunner().invoke(cli, ["settings"], env={"ZHSEARCH_PORT": "eighty"})
    assert result.exit_code == 1 and "ZHSEARCH_PORT" in result.stderr


def test_a_missing_user_dictionary_is_a_clean_error(tmp_path: Path) -> None:
    result = run(
        "--index-dir", str(tmp_path / "i"), "--user-dict", str(tmp_path / "no.dict"), "index"
    )
    assert result.exit_code == 1
    assert "no.dict" in result.stderr and "Traceback" not in result.output


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert "zhsearch " + command in result.stdout.split("Example", 1)[1]


def test_top_level_help_lists_commands_and_global_options() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for word in [*COMMANDS, "--index-dir", "--user-dict", "--taxonomy", "Example"]:
        assert word in result.stdout


def test_the_cli_module_does_not_import_flask() -> None:
    code = (
        "import sys, zhsearch.web.cli;"
        "print('flask' in sys.modules, 'zhsearch.web.app' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


# --------------------------------------------------------------------------- serve, evaluate


def test_serve_builds_the_sample_index_first(tmp_path: Path, monkeypatch) -> None:
    from zhsearch.web import serving

    served = {}

    class NoSocket:
        """What create_waitress_server returns, without binding a port."""

        def run(self) -> None:
            served["ran"] = True

        def close(self) -> None:
            served["closed"] = True

    def fake_server(app, settings, **overrides):
        served.update(app=app, port=settings.port, threads=settings.threads, host=settings.host)
        return NoSocket()

    monkeypatch.setattr(serving, "create_waitress_server", fake_server)
    index = tmp_path / "index"
    result = run("--index-dir", str(index), "serve", "--port", "8765", "--threads", "2")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/" in result.stdout
    assert served["port"] == 8765 and served["threads"] == 2 and served["host"] == "127.0.0.1"
    assert served["ran"] and served["closed"]  # the guarded waitress server, run until it stops
    response = served["app"].test_client().get("/api/search?q=宁德时代")
    assert response.status_code == 200 and response.get_json()["total"] >= 1
    # Served again: no second build.
    result = run("--index-dir", str(index), "serve")
    assert "indexing the bundled sample" not in result.stdout


def test_evaluate_wraps_the_evaluator(monkeypatch, tmp_path: Path) -> None:
    import zhsearch.corpus.evaluate

    calls = []
    monkeypatch.setattr(zhsearch.corpus.evaluate, "main", lambda argv: calls.append(argv) or 0)
    labels = tmp_path / "labels.json"
    labels.write_text("[]")
    result = run("evaluate", str(labels), "--corpus", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert calls == [[str(labels), "--corpus", str(tmp_path), "--json"]]
    missing = run("evaluate", str(tmp_path / "none.json"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


# --------------------------------------------------------------------------- entry point


def _entry_point() -> str:
    script = Path(sys.executable).with_name("zhsearch")
    found = str(script) if script.exists() else shutil.which("zhsearch")
    if not found:
        pytest.skip("the zhsearch entry point is not installed (pip install -e .)")
    return found


def test_installed_entry_point_indexes_and_searches(tmp_path: Path) -> None:
    exe = _entry_point()
    env = {**os.environ, "ZHSEARCH_INDEX_DIR": str(tmp_path / "index")}
    proc = subprocess.run([exe, "index"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "added 6" in proc.stdout
    proc = subprocess.run(
        [exe, "search", '"锂电负极材料"', "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hits"][0]["id"].startswith("000_")
    proc = subprocess.run(
        [exe, "--index-dir", str(tmp_path / "missing"), "search", "锂"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: no index") and "Traceback" not in proc.stderr


def test_serve_with_worker_processes_answers_from_each(tmp_path: Path) -> None:
    """`serve --workers 2` runs pre-fork processes behind one port; both answer searches."""
    import socket
    import urllib.request

    exe = _entry_point()
    env = {**os.environ, "ZHSEARCH_INDEX_DIR": str(tmp_path / "index")}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [exe, "serve", "--port", str(port), "--workers", "2", "--threads", "2"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/api/search?q=%E5%AE%81%E5%BE%B7%E6%97%B6%E4%BB%A3"
        deadline = time.monotonic() + 120
        body = None
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = json.loads(response.read())
            except OSError:
                assert proc.poll() is None, log.read_text(errors="replace")
                time.sleep(0.2)
        assert body is not None and body["ok"] and body["total"] >= 1
        workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if workers.exists():  # Linux: the master forked two workers
            assert len(workers.read_text().split()) == 2
        for _ in range(8):  # several connections, served by whichever worker accepts
            with urllib.request.urlopen(url, timeout=10) as response:
                assert json.loads(response.read())["total"] == body["total"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_runs_the_guarded_server(tmp_path: Path) -> None:
    """`zhsearch serve` (one process) answers an oversized request line with the API's JSON 431
    from web.serving's guards, which plain waitress would not: the CLI runs the guarded server."""
    import http.client
    import socket

    exe = _entry_point()
    env = {**os.environ, "ZHSEARCH_INDEX_DIR": str(tmp_path / "index"), "ZHSEARCH_WARM_UP": "0"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/api/search?q=" + "a" * 300_000)
                response = conn.getresponse()
                break
            except OSError:
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status == 431
        assert response.getheader("Content-Type") == "application/json"
        assert json.loads(response.read())["error"]["code"] == "bad_parameter"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_shared_options_work_after_the_subcommand_too(index_dir: str, tmp_path: Path) -> None:
    before = json.loads(run("--index-dir", index_dir, "stats", "--json").stdout)
    after = json.loads(run("stats", "--json", "--index-dir", index_dir).stdout)
    assert after == before and after["documents"] == 6
    # the one given last wins: the subcommand's
    elsewhere = run("--index-dir", str(tmp_path / "none"), "search", "锂", "--index-dir", index_dir)
    assert elsewhere.exit_code == 0, elsewhere.output


def test_every_api_search_parameter_is_a_search_option(index_dir: str) -> None:
    from zhsearch.search.request import PARAMS

    result = run("--index-dir", index_dir, "search", "--help")
    for param in PARAMS[1:]:
        assert f"--{param.name}" in result.output
    dated = run("--index-dir", index_dir, "search", "锂", "--json", "--from", "2999")
    assert json.loads(dated.stdout)["total"] == 0
    bad = run("--index-dir", index_dir, "search", "锂", "--highlight", "maybe")
    assert bad.exit_code == 1 and "highlight" in bad.output


def test_every_setting_has_a_line_in_the_readme():
    """Every limit and tunable is documented where users look: the README's configuration."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [env for _name, env, _default, _help in Settings.describe() if env not in readme]
    assert missing == []


def test_text_output_offers_did_you_mean_like_the_json(index_dir: str) -> None:
    data = json.loads(run("--index-dir", index_dir, "search", "lidianchi", "--json").stdout)
    assert data["total"] == 0 and data["suggestions"]
    text = run("--index-dir", index_dir, "search", "lidianchi").stdout
    first = data["suggestions"][0]
    assert f"did you mean: {first['label']} ({first['total']} results)" in text


def test_stats_names_its_counts_in_english(index_dir: str) -> None:
    text = run("--index-dir", index_dir, "stats").stdout
    assert "documents per province" in text and "documents per industry" in text
    assert "industrie" not in text.replace("industries", "")
