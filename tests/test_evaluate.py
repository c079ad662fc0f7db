"""The evaluation harness, and the extractors' scores on the labelled samples."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from zhsearch.corpus.evaluate import (
    draw_industry_sample,
    evaluate,
    format_report,
    load_labels,
    main,
    read_articles,
)

LABELS_XWLB = Path(__file__).parent / "data" / "labels-xwlb.json"


def write_labels(tmp_path: Path, articles: dict) -> Path:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"articles": articles}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample_articles():
    from zhsearch.corpus.readers import sample_dir

    return read_articles([sample_dir()])


def test_seeds_format_is_matched_by_file_and_position(tmp_path, sample_articles):
    labels = write_labels(
        tmp_path,
        {
            "004a": {
                "file": "004_e439af9d8f037c90.txt (first article)",
                "region": {
                    "about_path": "山西省/长治市",
                    "about_codes": ["140400"],
                    "mentions": ["140400", "140406"],
                    "traps": {"140404": "长治县处级"},
                },
                "zone": "长治高新区",
                "industry": {"primary": "T01", "labels": ["T01"]},
            },
            "004b": {
                "file": "004_e439af9d8f037c90.txt (second article)",
                "region": {"about_path": "山西省/朔州市/平鲁区", "about_codes": ["140603"]},
                "industry": {"primary": None, "labels": []},
            },
        },
    )
    assert [g.position for g in load_labels(labels)] == [0, 1]
    result = evaluate(labels, sample_articles)
    assert result["articles"] == 2 and result["missing"] == []
    assert result["region_exact"] == 1.0
    assert result["trap_hits"] == []
    assert result["zone_accuracy"] == 1.0
    assert result["mention_precision"] == 1.0  # 山西省 counts: an ancestor of the region
    assert result["mention_recall"] == 1.0


def test_wrong_labels_are_reported(tmp_path, sample_articles):
    labels = write_labels(
        tmp_path,
        {
            "000": {
                "file": "000_4b27ecb7561911bc.txt",
                "region": {"status": "national", "traps": {"140724": "deliberately wrong"}},
                "industry": {"primary": "T09", "labels": ["T09"]},
            }
        },
    )
    result = evaluate(labels, sample_articles)
    assert result["region_exact"] == 0.0
    assert result["trap_hits"] == ["000:140724"]
    assert result["industry_precision"] == 0.0
    problems = " ".join(result["failures"][0]["problems"])
    assert "region national → 山西省/晋中市/昔阳县" in problems


def test_id_keyed_labels_and_missing_articles(tmp_path, sample_articles):
    labels = write_labels(tmp_path, {"no-such-id": {"region": {"status": "unknown"}}})
    result = evaluate(labels, sample_articles)
    assert result["articles"] == 0
    assert result["missing"] == ["no-such-id"]


def test_seeds_gold_scores(shared_dir, sample_articles):
    result = evaluate(shared_dir / "labels" / "seeds-gold.json", sample_articles)
    assert result["articles"] == 6
    assert result["region_exact"] == 1.0
    assert result["trap_hits"] == []
    assert result["zone_accuracy"] == 1.0
    assert result["industry_f1"] >= 0.85
    assert result["mention_recall"] >= 0.9


def test_xwlb_sample_scores(shared_dir):
    golds = load_labels(LABELS_XWLB)
    articles = read_articles([shared_dir / "corpora" / "xwlb.jsonl.gz"], {g.key for g in golds})
    result = evaluate(LABELS_XWLB, articles)
    assert result["articles"] >= 100
    assert result["missing"] == []
    # Region: measured 0.937 / 0.956 on all 159 items when these floors were set (docs/facets.md).
    assert result["region_exact"] >= 0.9
    assert result["region_province"] >= 0.93
    # These industry labels count every class with a project or a list item, bulletin items one
    # by one: industries a report mentions, not what it is about. Tags must stay a subset.
    assert result["industry_precision"] >= 0.75


def test_main_prints_a_report(shared_dir, capsys):
    assert main([str(shared_dir / "labels" / "seeds-gold.json"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "region about, exact path:   1.000" in out
    assert "industry precision/recall/F1" in out


LABELS_INDUSTRY = Path(__file__).parent / "data" / "labels-industry-xwlb.json"


def test_industry_only_labels_score_no_region(tmp_path, sample_articles):
    labels = write_labels(
        tmp_path,
        {
            "000": {"file": "000_4b27ecb7561911bc.txt", "industry": {"labels": ["T01"]}},
            "004b": {
                "file": "004_e439af9d8f037c90.txt (second article)",
                "industry": {"labels": []},
            },
        },
    )
    result = evaluate(labels, sample_articles)
    assert result["articles"] == 2 and result["region_articles"] == 0
    assert result["industry_counts"]["right"] == 1
    assert result["no_industry_items"] == 1
    assert result["no_industry_tagged"] == 1.0  # 004b is about solar and chips: tagged anyway
    assert "items about no industry tagged: 1.000 of 1" in format_report(result)


def test_industry_labels_file_is_ids_and_labels_only():
    doc = json.loads(LABELS_INDUSTRY.read_text(encoding="utf-8"))
    old = set(json.loads(LABELS_XWLB.read_text(encoding="utf-8"))["articles"])
    articles = doc["articles"]
    assert not set(articles) & old  # never the items of the region sample
    holdout = [a for a in articles.values() if a["split"] == "holdout"]
    assert len(holdout) >= 200
    assert sum(a["stratum"] == "keyword" for a in holdout) * 2 == len(holdout)
    for key, spec in articles.items():
        assert set(spec) == {"split", "stratum", "industry"}  # no text
        assert key[-6:] >= "190101"  # the id ends with the broadcast date, yymmdd
        labels = spec["industry"]["labels"]
        assert all(re.fullmatch(r"T\d\d", c) for c in labels)
        if labels:
            assert len(spec["industry"]["reason"]) >= 20


def test_industry_sample_scores(shared_dir):
    golds = load_labels(LABELS_INDUSTRY, "holdout")
    articles = read_articles([shared_dir / "corpora" / "xwlb.jsonl.gz"], {g.key for g in golds})
    result = evaluate(LABELS_INDUSTRY, articles, split="holdout")
    assert result["articles"] >= 200 and result["missing"] == []
    # Measured 0.650 / 0.500 / 0.022 on this held-out draw (seed 1610, 150 + 150) when it was
    # scored once (docs/facets.md); the precision and recall targets (0.90 / 0.80) are not
    # reached, the 5% one is.
    assert result["industry_precision"] >= 0.6
    assert result["industry_recall"] >= 0.45
    assert result["no_industry_tagged"] <= 0.05


def test_industry_tuning_splits_scores(shared_dir):
    splits = ["tune", *(f"tune{i}" for i in range(2, 10))]
    golds = [g for split in splits for g in load_labels(LABELS_INDUSTRY, split)]
    articles = read_articles([shared_dir / "corpora" / "xwlb.jsonl.gz"], {g.key for g in golds})
    counts = {"right": 0, "wrong": 0, "missed": 0}
    for split in splits:
        result = evaluate(LABELS_INDUSTRY, articles, split=split)
        for name, value in result["industry_counts"].items():
            counts[name] += value
    # The rules were tuned on these 1,950 items: 112 right, 13 wrong, 42 missed when this was set.
    assert counts["right"] / (counts["right"] + counts["wrong"]) >= 0.88
    assert counts["right"] / (counts["right"] + counts["missed"]) >= 0.7


def test_industry_sample_draw_is_reproducible(tmp_path):
    path = tmp_path / "news.jsonl.gz"
    rows = []
    for i in range(12):
        text = f"第{i}条。光伏组件项目投产。" if i % 2 else f"第{i}条。会议召开。"
        date = "2018-05-01" if i < 2 else "2021-05-01"
        rows.append({"id": f"x{i:02d}", "title": f"标题{i}", "date": date, "content": text})
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    first = draw_industry_sample(path, seed=7, per_stratum=3, exclude={"x11"})
    assert first == draw_industry_sample(path, seed=7, per_stratum=3, exclude={"x11"})
    assert sorted(first.values()) == ["keyword"] * 3 + ["none"] * 3
    assert not {"x00", "x01", "x11"} & set(first)  # before 2019, or excluded
    assert all((first[k] == "keyword") == (int(k[1:]) % 2 == 1) for k in first)
