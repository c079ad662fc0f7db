"""The industry taxonomy and classification, checked against hand labels."""

from __future__ import annotations

import re

import pytest

from corpus.article import Article
from corpus.facets import extract_facets
from corpus.industries import classify, load_taxonomy
from corpus.readers import read_file

# Hand labels of the bundled sample (../shared/labels/seeds-gold.json): labels, primary.
SAMPLE_INDUSTRIES = {
    ("000", 0): ({"T01"}, "T01"),
    ("001", 0): ({"T02", "T06", "T07", "T13"}, "T02"),
    ("002", 0): (
        {
            "T01",
            "T02",
            "T04",
            "T05",
            "T06",
            "T07",
            "T08",
            "T09",
            "T10",
            "T11",
            "T13",
            "T14",
            "T15",
            "T16",
        },
        "",
    ),
    ("003", 0): ({"T01"}, "T01"),
    ("004", 0): ({"T01", "T02", "T03", "T04", "T05", "T06", "T10"}, "T01"),
    ("004", 1): ({"T02", "T03", "T09"}, "T02"),
}


def article(content: str, title: str = "") -> Article:
    return Article(id="t", title=title, content=content, source_path="/t.txt", source_format="txt")


def top(codes: list[str]) -> set[str]:
    return {c for c in codes if "." not in c}


def test_bundled_taxonomy_has_the_sixteen_classes():
    tax = load_taxonomy()
    assert tax.codes() == [f"T{i:02d}" for i in range(1, 17)]
    assert tax.label("T01") == "新能源电池与储能"
    assert tax.parent("T01.1") == "T01"
    assert tax.parent("T01") is None
    assert tax.sub_codes("T01") == ["T01.1", "T01.2"]
    assert re.fullmatch(r"[0-9a-f]{16}", tax.fingerprint)
    assert load_taxonomy() is tax  # cached per path


def test_user_taxonomy_and_its_fingerprint(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nclasses:\n  A:\n    label: 茶\n    sub:\n      A.1:\n        label: 绿茶\n"
        "        keywords: [龙井茶, 绿茶]\n",
        encoding="utf-8",
    )
    tax = load_taxonomy(str(path))
    assert tax.codes() == ["A"]
    assert tax.fingerprint != load_taxonomy().fingerprint
    result = classify(article("西湖龙井茶开采。绿茶产量增加。", title="龙井茶开采"), tax)
    assert result.codes == ["A", "A.1"]
    assert result.primary == "A"  # the only industry, named in the title: the main subject


def test_bad_taxonomy_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_taxonomy(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("classes:\n  A: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a label"):
        load_taxonomy(str(bad))


def test_keywords_are_whole_words():
    text = "日盛达光伏玻璃生产线投产。光伏玻璃产量提升。"
    result = classify(article(text, title="光伏玻璃生产线投产"), load_taxonomy())
    assert "T02" in result.codes
    assert "T16" not in result.codes  # 光伏玻璃 is not 玻璃
    result = classify(article("三一硅能5GW拉晶项目投产。5GW切片项目开工。"), load_taxonomy())
    assert "T05" not in result.codes  # 5GW is not 5G
    assert "T02" in result.codes


def test_terms_inside_company_names_do_not_count():
    text = "山西瑞新新材料科技有限公司落户，瑞新新材料科技有限公司开展招聘。"
    assert "T10" not in classify(article(text), load_taxonomy()).codes


def test_passing_mentions_in_cooperation_lists_do_not_label():
    text = "双方愿加强基础设施、旅游、农业等领域合作。"
    assert classify(article(text), load_taxonomy()).codes == []


def test_main_subject_is_primary():
    text = "负极材料项目投产，年产20万吨负极材料。锂电池企业签约，锂电池产能提升。"
    result = classify(article(text, title="锂电池负极材料项目投产"), load_taxonomy())
    assert result.primary == "T01"


@pytest.fixture(scope="module")
def samples():
    from corpus.readers import sample_dir

    found = {}
    taxonomy = load_taxonomy()
    for path in sorted(sample_dir().glob("*.txt")):
        for art in read_file(path).articles:
            extract_facets(art, taxonomy)
            found[(path.name[:3], art.position)] = art
    return found


def test_sample_industry_f1(samples):
    tp = predicted = gold = 0
    for key, (labels, _) in SAMPLE_INDUSTRIES.items():
        pred = top(samples[key].industries.codes)
        tp += len(pred & labels)
        predicted += len(pred)
        gold += len(labels)
    precision, recall = tp / predicted, tp / gold
    assert 2 * precision * recall / (precision + recall) >= 0.85


@pytest.mark.parametrize(
    ("key", "primary"),
    [(("000", 0), "T01"), (("002", 0), ""), (("003", 0), "T01"), (("004", 1), "T02")],
)
def test_sample_primary(samples, key, primary):
    assert samples[key].industries.primary == primary


def test_sub_classes_follow_their_class(samples):
    tax = load_taxonomy()
    for art in samples.values():
        codes = art.industries.codes
        for code in codes:
            assert tax.label(code)
            parent = tax.parent(code)
            assert parent is None or parent in codes
