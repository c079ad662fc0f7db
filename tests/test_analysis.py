"""The analyzer (`index/analysis.py`) and the segmenter under it (`corpus/segment.py`).

What jieba's stock ChineseAnalyzer gets wrong and ours must get right: ordinal positions with
sub-words sharing their compound's position, offsets into the original (un-normalised) text,
number+unit words kept whole and searchable in parts; and, on a real index, phrases that
match the exact text wherever jieba's word boundaries fall.
"""

from __future__ import annotations

import pytest

from zhsearch.corpus.segment import get_segmenter, normalize
from zhsearch.index.analysis import ANALYZER_VERSION, analyzer_fingerprint, zh_analyzer


def tokens(text: str, mode: str = "") -> list[tuple[str, int, int, int]]:
    """(text, pos, startchar, endchar) of every token the analyzer yields for `text`."""
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in zh_analyzer()(text, positions=True, chars=True, mode=mode)
    ]


def texts(text: str, mode: str = "") -> list[str]:
    return [t for t, _, _, _ in tokens(text, mode)]


def test_positions_are_ordinal_word_numbers() -> None:
    toks = [t for t in tokens("尚太科技落户昔阳县") if t[0] in {"尚太科技", "落户", "昔阳县"}]
    assert [(t, p) for t, p, _, _ in toks] == [("尚太科技", 0), ("落户", 1), ("昔阳县", 2)]


def test_subwords_share_their_compounds_position() -> None:
    toks = tokens("锂电负极材料项目")
    pos = {t: p for t, p, _, _ in toks}
    assert pos["负极材料"] == pos["负极"] == pos["材料"]
    assert pos["项目"] == pos["负极材料"] + 1
    # Precise words alone are consecutive: sub-words never advance the position.
    words = [p for t, p, _, _ in tokens("锂电负极材料项目", mode="query")]
    assert words == list(range(len(words)))


def test_query_mode_yields_only_precise_words() -> None:
    assert texts("锂电负极材料", mode="query") == ["锂电", "负极材料"]
    assert "负极" in texts("锂电负极材料")


@pytest.mark.parametrize(
    "original",
    [
        "年产７ＧＷ组件",  # full-width digits and letters
        "昔陽尚太鋰電池負極材料",  # Traditional characters
        "ＭＬＥＤ新型顯示面板，總投資318.67億元",
        "①号线ﬁ和500千伏",  # characters whose NFKC form changes length
    ],
)
def test_offsets_point_into_the_original_text(original: str) -> None:
    for text, _, start, end in tokens(original):
        assert 0 <= start < end <= len(original)
        # The original span normalises to the token (ligatures may widen the span, never shift it).
        assert text in normalize(original[start:end])[0], (text, original[start:end])


def test_offsets_for_full_width_and_traditional_are_exact() -> None:
    original = "建設７ＧＷ鋰電池"
    spans = {t: original[s:e] for t, _, s, e in tokens(original)}
    assert spans["7gw"] == "７ＧＷ"
    assert spans["7"] == "７"
    assert spans["gw"] == "ＧＷ"
    assert spans["建设"] == "建設"


def test_length_changing_normalisation_keeps_later_offsets_right() -> None:
    original = "ﬁ光伏组件"  # the ligature becomes two characters when normalised
    norm, offsets = normalize(original)
    assert norm.startswith("fi") and offsets is not None
    spans = {t: original[s:e] for t, _, s, e in tokens(original)}
    assert spans["光伏组件"] == "光伏组件"


@pytest.mark.parametrize(
    ("text", "whole", "parts"),
    [
        ("年产7GW高效电池", "7gw", ["7", "gw"]),
        ("年产20万吨锂电负极材料", "20万吨", ["20", "万吨"]),
        ("总投资318.67亿元", "318.67亿元", ["318.67", "亿元"]),
        ("新建500千伏变电站", "500千伏", ["500", "千伏"]),
        ("N型电池组件", "n型", ["n", "型"]),
        ("5G基站建设", "5g", ["5", "g"]),
    ],
)
def test_number_and_unit_words_are_whole_and_in_parts(
    text: str, whole: str, parts: list[str]
) -> None:
    toks = tokens(text)
    pos = {t: p for t, p, _, _ in toks}
    assert whole in pos, toks
    for part in parts:
        assert pos[part] == pos[whole], (part, toks)
    # A query for the whole is the one word, so it needs the whole word in the document.
    assert whole in texts(text, mode="query")


def test_mled_is_one_latin_word() -> None:
    toks = texts("MLED新型显示面板")
    assert "mled" in toks
    assert "led" not in toks and "m" not in toks


def test_5gw_is_not_5g() -> None:
    toks = texts("年产5GW光伏组件")
    assert "5gw" in toks
    assert "5g" not in toks


def test_punctuation_breaks_positions_and_spaces_do_not() -> None:
    punct = {t: p for t, p, _, _ in tokens("交换机，安装")}
    assert punct["安装"] - punct["交换机"] == 2
    space = {t: p for t, p, _, _ in tokens("交换机 安装")}
    assert space["安装"] - space["交换机"] == 1


def test_segmenter_words_drop_punctuation() -> None:
    assert get_segmenter().words("锂电池，光伏！") == ["锂电池", "光伏"]


def test_fingerprint_names_the_analyzer_version_and_changes_with_the_dictionary(
    tmp_path,
) -> None:
    user = tmp_path / "user.dict"
    user.write_text("昔阳尚太 100 nt\n", encoding="utf-8")
    base = analyzer_fingerprint()
    assert base.startswith(ANALYZER_VERSION + "/")
    assert analyzer_fingerprint(str(user)) != base
    assert zh_analyzer() == zh_analyzer() and zh_analyzer() != zh_analyzer(str(user))


# Phrases against a real index of the product (matched on characters since issue 13: a phrase
# is the exact text, wherever jieba put its word boundaries).

DOCS = {
    "a": "年产30万吨锂电负极材料项目今年启动",
    "b": "锂电池生产与负极材料基地",
    "c": "交换机，安装完毕",
    "d": "交换机安装完毕",
    "e": "山西省昔陽縣鋰電池產業園",
}


@pytest.fixture(scope="module")
def search_ids(tmp_path_factory):
    import json

    from zhsearch.index.settings import Settings
    from zhsearch.index.writer import Indexer
    from zhsearch.search.context import open_context
    from zhsearch.search.request import SearchRequest
    from zhsearch.search.run import run_search

    work = tmp_path_factory.mktemp("phrases")
    source = work / "docs.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": i, "title": "报告", "content": c}, ensure_ascii=False) + "\n"
            for i, c in DOCS.items()
        ),
        encoding="utf-8",
    )
    settings = Settings.load(overrides={"index_dir": str(work / "index")}, env={})
    Indexer(settings).run([source])
    with open_context(settings) as ctx:

        def ids(query: str) -> set[str]:
            params = {"q": query, "synonyms": "0", "size": "100"}
            result = run_search(SearchRequest.from_params(params, settings), ctx)
            assert result.total == len(result.hits)
            return {hit.id for hit in result.hits}

        yield ids


def test_phrase_of_whole_compound_matches(search_ids) -> None:
    assert search_ids('"锂电负极材料"') == {"a"}


def test_phrase_across_a_compound_boundary_matches(search_ids) -> None:
    # 材料 ends inside 负极材料, 锂电 starts after 万吨: literal text, whatever the words.
    assert search_ids('"材料项目"') == {"a"}
    assert search_ids('"万吨锂电"') == {"a"}
    assert search_ids("极材料项") == {"a"}  # starts and ends inside words


def test_phrase_of_non_adjacent_words_does_not_match(search_ids) -> None:
    assert search_ids('"锂电项目"') == set()
    assert search_ids("锂电项目") == set()  # unquoted, the same one term
    assert search_ids("锂电 项目") == {"a"}  # the words alone do match


def test_punctuation_in_the_text_breaks_a_phrase_typed_without_it(search_ids) -> None:
    assert search_ids('"交换机安装"') == {"d"}
    # Typed with punctuation (or a space), any punctuation or none matches there.
    assert search_ids('"交换机，安装"') == {"c", "d"}
    assert search_ids('"交换机 安装"') == {"c", "d"}


def test_traditional_and_full_width_queries_match_simplified_text(search_ids) -> None:
    assert search_ids("鋰電池") == search_ids("锂电池") == {"b", "e"}
    assert search_ids('"昔阳县"') == {"e"}
    assert search_ids("３０万吨") == {"a"}
    assert search_ids("0万吨") == set()  # a digit run is not cut: 30万吨 is not 0万吨


@pytest.mark.parametrize(
    "text",
    ["锂电负极材料项目签约", "７GW鋰電池，ⅡA级；…完成318.67亿元", "", "  ", "ﬁ①②③ 负极材料"],
)
def test_spans_equal_the_token_stream(text):
    """`spans()` (used by highlighting) gives exactly what the Whoosh token stream gives."""
    from zhsearch.index.analysis import zh_analyzer

    analyzer = zh_analyzer()
    expected = [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in analyzer(text, positions=True, chars=True, mode="index")
    ]
    assert analyzer.spans(text) == expected


def test_one_segmenter_serves_extractors_and_the_analyzer() -> None:
    """Metadata extraction asks for get_segmenter(), the analyzer for get_segmenter(user_dict="");
    both must get the same loaded dictionaries, not two copies."""
    from zhsearch.corpus.segment import get_segmenter

    assert get_segmenter() is get_segmenter("")


@pytest.mark.parametrize(
    "text",
    [
        "锂电负极材料项目签约，锂电负极材料产能20万吨",
        "７GW鋰電池，ⅡA级；…完成318.67亿元 318.67亿元",
        "中国中国 中国",
        "",
        "  ",
    ],
)
def test_word_positions_equal_what_whoosh_indexes_from_the_token_stream(text):
    """The bulk writer's `word_positions` gives the positions Whoosh's `Positions` format
    gathers from the token stream, repeated words and repeated sub-words included."""
    analyzer = zh_analyzer()
    expected: dict[str, list[int]] = {}
    for t in analyzer(text, positions=True, mode="index"):
        expected.setdefault(t.text, []).append(t.pos)
    assert analyzer.word_positions(text) == expected
    assert analyzer.word_positions(text) == expected  # and again from the per-word cache


def test_word_positions_equal_the_token_stream_on_the_sample(sample_dir):
    from zhsearch.corpus.readers import read_file

    analyzer = zh_analyzer()
    for path in sorted(sample_dir.iterdir()):
        for article in read_file(path).articles:
            expected: dict[str, list[int]] = {}
            for t in analyzer(article.content, positions=True, mode="index"):
                expected.setdefault(t.text, []).append(t.pos)
            assert analyzer.word_positions(article.content) == expected, path
