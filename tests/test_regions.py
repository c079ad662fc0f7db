"""The gazetteer and region extraction: hand-checked expectations, never the extractor's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhsearch.corpus.article import Article, Region
from zhsearch.corpus.facets import extract_facets
from zhsearch.corpus.industries import load_taxonomy
from zhsearch.corpus.readers import read_file
from zhsearch.corpus.regions import extract_region, gazetteer

# Hand labels of the bundled sample (../shared/labels/seeds-gold.json): (file prefix, position).
SAMPLE_ABOUT = {
    ("000", 0): ("140724", "山西省/晋中市/昔阳县"),
    ("001", 0): ("140700", "山西省/晋中市"),
    ("002", 0): ("140000", "山西省"),
    ("003", 0): ("320600", "江苏省/南通市"),
    ("004", 0): ("140400", "山西省/长治市"),
    ("004", 1): ("140603", "山西省/朔州市/平鲁区"),
}
SAMPLE_TRAPS = {
    ("000", 0): {"350900"},
    ("001", 0): {"140171", "140100"},
    ("002", 0): {"350900", "140171"},
    ("004", 0): {"140404", "140421"},
}
SAMPLE_ZONES = {
    ("000", 0): "",
    ("001", 0): "晋中开发区",
    ("002", 0): "",
    ("003", 0): "南通开发区",
    ("004", 0): "长治高新区",
    ("004", 1): "平鲁经济技术开发区",
}
# The 31 provincial government work reports, by id (gwr-2026-02 is 云南's, titled without it).
_PROVINCES = (
    "310000 530000 150000 110000 220000 510000 120000 640000 340000 370000 140000 440000 "
    "450000 650000 320000 360000 130000 410000 330000 460000 420000 430000 620000 350000 "
    "540000 520000 210000 500000 610000 630000 230000"
)
GOV_REPORTS = {f"gwr-2026-{i:02d}": code for i, code in enumerate(_PROVINCES.split(), 1)}


def article(content: str, title: str = "", given_region: str = "") -> Article:
    """A small article written for a test (no corpus text)."""
    return Article(
        id="t",
        title=title,
        content=content,
        source_path="/t.txt",
        source_format="txt",
        given_region=given_region,
    )


def output_codes(region: Region) -> set[str]:
    return set(region.codes) | set(region.mentions)


@pytest.fixture(scope="module")
def samples() -> dict[tuple[str, int], Article]:
    from zhsearch.corpus.readers import sample_dir

    found = {}
    for path in sorted(sample_dir().glob("*.txt")):
        for art in read_file(path).articles:
            found[(path.name[:3], art.position)] = art
    taxonomy = load_taxonomy()
    for art in found.values():
        extract_facets(art, taxonomy)
    return found


# --- the gazetteer ------------------------------------------------------------------------------


def test_gazetteer_tree_and_names():
    gaz = gazetteer()
    assert gaz is gazetteer()  # cached
    assert gaz.name("140724") == "昔阳县"
    assert gaz.short_name("140724") == "昔阳"
    assert gaz.path("140724") == "山西省/晋中市/昔阳县"
    assert gaz.parent("140724") == "140700"
    assert gaz.parent("140000") is None
    assert gaz.ancestors("140724") == ["140000", "140700", "140724"]
    assert [gaz.level(c) for c in ("140000", "140700", "140724")] == [1, 2, 3]
    assert "140724" in gaz.children("140700")
    assert gaz.children("140700") == sorted(gaz.children("140700"))
    assert len(gaz.provinces()) == 34
    assert 3000 < len(gaz.codes()) < 3400
    assert gaz.vintage.startswith("2024")


def test_municipalities_have_no_city_level():
    gaz = gazetteer()
    assert gaz.path("310115") == "上海市/浦东新区"
    assert gaz.ancestors("310115") == ["310000", "310115"]
    assert gaz.parent("110105") == "110000"
    assert "500101" in gaz.children("500000")
    assert gaz.level("310115") == 3


def test_directly_administered_county_cities():
    gaz = gazetteer()
    assert gaz.path("429004") == "湖北省/仙桃市"
    assert gaz.parent("429004") == "420000"
    assert gaz.level("429004") == 3


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("昔阳", "140724"),
        ("晋中市", "140700"),
        ("恩施州", "422800"),
        ("恩施", "422800"),
        ("内蒙古", "150000"),
        ("广西", "450000"),
        ("吉林", "220000"),  # the province, not 吉林市
        ("吉林市", "220200"),
        ("长治县", "140404"),  # renamed 上党区 in 2018
        ("莱芜市", "370116"),  # merged into 济南 in 2019
        ("吴江市", "320509"),  # now 吴江区
        ("北京/朝阳", "110105"),
        ("湖北宜都", "420581"),
        ("山西省晋中市昔阳县", "140724"),
        ("上海市浦东新区", "310115"),
        ("140724", "140724"),
    ],
)
def test_lookup(name, code):
    assert gazetteer().lookup(name) == code


def test_lookup_refuses_ambiguous_and_unknown_names():
    gaz = gazetteer()
    assert gaz.lookup("鼓楼") is None  # four cities have a 鼓楼区
    assert gaz.lookup("京津冀") is None
    assert gaz.lookup("长三角") is None
    assert gaz.lookup("中方", strict=True) is None  # 中方县 only when qualified
    assert gaz.lookup("湖南中方", strict=True) == "431221"


# --- traps ---------------------------------------------------------------------------------------


def test_company_name_is_not_a_place():
    region = extract_region(article("昔阳县的负极材料项目为宁德时代供货。晋中市昔阳县扩建新厂。"))
    assert "350900" not in output_codes(region)  # 宁德
    assert region.path == "山西省/晋中市/昔阳县"


def test_place_inside_a_registered_company_name_does_not_count():
    text = "太原市引进深圳星源材质科技股份有限公司。太原市签约仪式在太原举行。"
    region = extract_region(article(text))
    assert "440300" not in region.mentions
    assert region.path == "山西省/太原市"


def test_ordinary_words_are_not_places():
    text = (
        "广西南宁市推进资源节约，比如合作共赢、新兴产业和凤凰涅槃。南宁市物流通道建设加快，"
        "乡村振兴稳步推进。"
    )
    region = extract_region(article(text))
    # 资源县, 比如县, 合作市, 新兴县, 凤凰县, 通道县, 振兴区
    for code in ("450329", "540622", "623001", "445321", "433123", "431230", "210604"):
        assert code not in output_codes(region)
    assert region.path == "广西壮族自治区/南宁市"


def test_ordinary_word_counts_when_its_parent_is_named():
    region = extract_region(article("广西桂林市资源县发展旅游。资源县游客增多。"))
    assert region.mentions.get("450329") == 2


def test_macro_regions_are_not_regions():
    region = extract_region(article("推动京津冀协同发展和长三角一体化，粤港澳大湾区建设提速。"))
    assert not {"110000", "120000", "130000", "310000"} & output_codes(region)
    assert region.status != "about"


def test_person_name_does_not_give_a_district():
    text = "南通开发区迎来星源材质董事长陈秀峰一行。南通市政府与企业签约。"
    region = extract_region(article(text))
    assert "450302" not in output_codes(region)  # 桂林 秀峰区
    assert region.path == "江苏省/南通市"


def test_old_county_name_maps_to_the_new_district():
    region = extract_region(article("2016年，山西长治县新建一座工厂，长治县就业增加。"))
    assert region.mentions.get("140404") == 2
    assert region.path == "山西省/长治市/上党区"


def test_cadre_rank_is_not_the_old_county():
    region = extract_region(article("长治市县处级以上领导干部深入项目工地。长治市项目开工。"))
    assert "140404" not in output_codes(region)
    assert region.path == "山西省/长治市"


def test_municipality_district_path():
    region = extract_region(
        article(
            "浦东新区集成电路项目开工。上海浦东新区再添新项目。", title="上海浦东：芯片项目开工"
        )
    )
    assert region.codes == ["310000", "310115"]
    assert region.path == "上海市/浦东新区"


# --- choosing the region -------------------------------------------------------------------------


def test_about_region_is_not_the_most_mentioned_place():
    text = (
        "晋中市招商引资成效明显。晋中市领导赴石家庄对接。项目落户昔阳县，昔阳县提供用地。"
        "晋中市还在湖北宜都考察。昔阳项目投产。晋中市表彰企业，晋中营商环境改善。"
    )
    region = extract_region(article(text, title="昔阳锂电项目投产"))
    assert region.path == "山西省/晋中市/昔阳县"
    assert region.mentions["140700"] > region.mentions["140724"]
    assert {"130100", "420581"} <= set(region.mentions)


def test_region_prefix_of_a_news_title():
    region = extract_region(
        article("当地推进产业升级，企业增产。", title="[视频]陕西：产业升级见成效")
    )
    assert region.path == "陕西省"


def test_many_provinces_evenly_is_national():
    text = "国务院部署工作。山东、河南、四川、广东、浙江等地加快建设。全国各地积极推进。"
    assert extract_region(article(text)).status == "national"


def test_foreign_news_is_unknown():
    text = "美国总统表示，美国将与俄罗斯继续谈判。俄罗斯外交部回应称，俄方立场不变。"
    assert extract_region(article(text)).status == "unknown"


def test_no_place_and_no_national_signal_is_unknown():
    assert extract_region(article("我们的项目进展顺利。")).status == "unknown"


def test_given_region_wins():
    region = extract_region(
        article("深圳市项目开工。深圳市投资增长。", given_region="山西省晋中市")
    )
    assert (region.status, region.code, region.path) == ("about", "140700", "山西省/晋中市")
    assert "440300" in region.mentions  # the text is still read for mentions


def test_given_region_as_code():
    region = extract_region(article("", given_region="320600"))
    assert region.path == "江苏省/南通市"


def test_zone_is_attached_to_its_region():
    text = "长治高新区新项目投产。长治市推进建设，长治高新区再添企业。"
    region = extract_region(article(text))
    assert (region.path, region.zone) == ("山西省/长治市", "长治高新区")


# --- the bundled sample ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SAMPLE_ABOUT))
def test_sample_about_regions(samples, key):
    code, path = SAMPLE_ABOUT[key]
    region = samples[key].region
    assert (region.status, region.code, region.path) == ("about", code, path)
    assert region.codes == gazetteer().ancestors(code)


@pytest.mark.parametrize("key", sorted(SAMPLE_TRAPS))
def test_sample_traps_not_output(samples, key):
    assert not SAMPLE_TRAPS[key] & output_codes(samples[key].region)


@pytest.mark.parametrize("key", sorted(SAMPLE_ZONES))
def test_sample_zones(samples, key):
    assert samples[key].region.zone == SAMPLE_ZONES[key]


def test_sample_000_mentions_passing_places(samples):
    mentions = samples[("000", 0)].region.mentions
    assert {"130100", "420581", "310000", "430000", "371600"} <= set(mentions)


# --- real corpora ---------------------------------------------------------------------------------


def test_gov_reports_are_about_their_province(shared_dir: Path):
    result = read_file(shared_dir / "corpora" / "gov-reports-2026.jsonl")
    chosen = {a.id: extract_region(a) for a in result.articles}
    assert set(chosen) == set(GOV_REPORTS)
    wrong = {i: r.path or r.status for i, r in chosen.items() if r.code != GOV_REPORTS[i]}
    assert not wrong


def test_labels_file_is_ids_and_labels_only():
    doc = json.loads((Path(__file__).parent / "data" / "labels-xwlb.json").read_text("utf-8"))
    assert len(doc["articles"]) >= 100
    for spec in doc["articles"].values():
        assert set(spec) <= {"stratum", "split", "region", "industry"}
