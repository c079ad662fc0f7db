"""Snippets and title highlighting: escaping, exact matched spans, merged overlapping marks."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhsearch.index.analysis import zh_analyzer
from zhsearch.search.literal import LiteralTerm
from zhsearch.search.snippets import SCAN_CHARS, MatchTerms, highlight_text, make_snippet

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"
ANALYZER = zh_analyzer()
MARK = re.compile(r"</?mark>")


def words(*typed: str) -> MatchTerms:
    """The terms of a query that typed each of `typed` (a word, a fragment or a phrase)."""
    return MatchTerms(tuple(LiteralTerm.parse(t) for t in typed))


def visible(snippet: str) -> str:
    return html.unescape(MARK.sub("", snippet))


def marked(snippet: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", snippet)]


def one_line(text: str) -> str:
    """Sample text without newlines or space runs, so snippet pieces are exact substrings."""
    return re.sub(r"\s+", " ", text.replace("\n", ""))


@pytest.fixture(scope="module")
def article() -> str:
    return one_line((SAMPLE / "000_4b27ecb7561911bc.txt").read_text(encoding="utf-8"))


def test_text_is_escaped_before_marking():
    text = '项目<script>alert("x")</script>年产锂电池 & 负极材料'
    snippet = make_snippet(text, words("锂电池"), ANALYZER)
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "&amp;" in snippet
    assert "<mark>锂电池</mark>" in snippet
    assert set(re.findall(r"<[^>]*>", snippet)) <= {"<mark>", "</mark>"}


def test_title_is_escaped_and_marked():
    title = "<b>扶持做强</b>锂电池大产业"
    html_title = highlight_text(title, words("锂电池"), ANALYZER)
    assert html_title == "&lt;b&gt;扶持做强&lt;/b&gt;<mark>锂电池</mark>大产业"
    assert highlight_text(title, MatchTerms(), ANALYZER) == html.escape(title)


def test_overlapping_sub_words_give_one_mark():
    text = "全球最大锂电池制造商第一供应商。"
    snippet = make_snippet(text, words("锂电", "电池", "锂电池"), ANALYZER)
    assert marked(snippet) == ["锂电池"]
    assert "</mark><mark>" not in snippet


def test_a_sub_word_query_marks_only_the_sub_word():
    snippet = make_snippet("全球最大锂电池制造商。", words("电池"), ANALYZER)
    assert marked(snippet) == ["电池"]


def test_single_character_marks_the_character():
    snippet = make_snippet("尚太锂电池项目，磷酸铁锂材料。", words("锂"), ANALYZER)
    assert marked(snippet) == ["锂", "锂"]


def test_phrase_is_marked_as_one_span_only_where_adjacent():
    text = "年产30万吨锂电负极材料项目今年启动。负极材料生产基地是重点项目。"
    snippet = make_snippet(text, words('"负极材料项目"'), ANALYZER)
    assert marked(snippet) == ["负极材料项目"]


def test_a_term_is_marked_whole_never_in_pieces():
    text = "中石油与中石化签约，中，石油不算。"
    assert marked(make_snippet(text, words("中石油"), ANALYZER)) == ["中石油"]
    assert highlight_text(text, words("中石油"), ANALYZER) == (
        "<mark>中石油</mark>与中石化签约，中，石油不算。"
    )


def test_a_copied_phrase_is_marked_whole_whatever_its_punctuation_in_the_text():
    text = "现在，我代表国务院。现在我代表。现在 ——我代表。现在说我代表。"
    snippet = make_snippet(text, words('"现在，我代表"'), ANALYZER)
    assert marked(snippet) == ["现在，我代表", "现在我代表", "现在 ——我代表"]
    title = "劳尔·卡斯特罗会见代表团"
    assert highlight_text(title, words('"劳尔·卡斯特罗"'), ANALYZER) == (
        "<mark>劳尔·卡斯特罗</mark>会见代表团"
    )


def test_marks_cover_the_original_characters_of_normalised_matches():
    text = "鋰電池項目，７ＧＷ产能"
    assert highlight_text(text, words("锂电池", "7gw"), ANALYZER) == (
        "<mark>鋰電池</mark>項目，<mark>７ＧＷ</mark>产能"
    )


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        ("15G和5G基站，5G-A", "5G", ["5G", "5G"]),
        ("155年与55年", "55年", ["55年"]),
        ("MAIN AI", "AI", ["AI"]),
        ("H7N9疫情", "H7", ["H7"]),
        ("20万吨级码头，120万吨", "20万吨", ["20万吨"]),
    ],
)
def test_digit_and_latin_runs_are_not_marked_inside_longer_runs(text, term, expected):
    assert marked(make_snippet(text, words(term), ANALYZER)) == expected


def test_no_match_gives_the_escaped_start(article):
    snippet = make_snippet("<p>" + article, words("不存在"), ANALYZER)
    assert "<mark>" not in snippet
    assert snippet.startswith("&lt;p&gt;")
    assert len(visible(snippet)) <= 130


def test_passages_are_limited_in_number_and_length(article):
    snippet = make_snippet(article, words("锂电池", "负极材料"), ANALYZER, chars=60, passages=2)
    pieces = [p for p in visible(snippet).split("…") if p]
    assert 1 <= len(pieces) <= 2
    assert all(len(p) <= 2 * 60 for p in pieces)
    assert "锂电池" in marked(snippet) and "负极材料" in marked(snippet)


def test_passages_prefer_the_sentences_with_most_distinct_terms(article):
    snippet = make_snippet(article, words("宁德时代", "锂电池"), ANALYZER, passages=1)
    assert {"宁德时代", "锂电池"} <= set(marked(snippet))


def test_long_documents_are_scanned_only_up_to_the_cap():
    filler = "一般性的工作安排和会议内容。" * (SCAN_CHARS // 10)
    text = filler + "这里提到锂电池项目。"
    started = time.perf_counter()
    snippet = make_snippet(text, words("锂电池"), ANALYZER)
    assert time.perf_counter() - started < 1.0
    assert "<mark>" not in snippet  # the match lies beyond the scanned part
    assert snippet.endswith("…")


def _unsafe_cuts(text: str) -> set[int]:
    """Offsets that fall strictly inside a word or a number."""
    out: set[int] = set()
    for t in ANALYZER(text, chars=True, mode="index"):
        out.update(range(t.startchar + 1, t.endchar))
    for m in re.finditer(r"[0-9]+(?:\.[0-9]+)?", text):
        out.update(range(m.start() + 1, m.end()))
    return out


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [one_line(p.read_text(encoding="utf-8")) for p in sorted(SAMPLE.glob("*.txt"))]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_passages_never_cut_a_word_or_number(texts, data):
    text = data.draw(st.sampled_from(texts))
    tokens = [t.text for t in ANALYZER(text[:4000], mode="query") if len(t.text) > 1]
    query = data.draw(st.lists(st.sampled_from(tokens), min_size=1, max_size=3))
    chars = data.draw(st.integers(min_value=20, max_value=150))
    snippet = make_snippet(text, words(*query), ANALYZER, chars=chars)
    unsafe = _unsafe_cuts(text)
    for piece in (p for p in visible(snippet).split("…") if p):
        start = text.find(piece)
        assert start >= 0, piece
        assert start not in unsafe and start + len(piece) not in unsafe, piece


def test_matches_in_sentences_joined_to_a_passage_are_marked():
    text = "尚太科技落户晋中。全年锂电池产量创新高。负极材料项目投产。"
    snippet = make_snippet(text, words("晋中", "锂电池", "负极材料"), ANALYZER, passages=1)
    assert marked(snippet) == ["晋中", "锂电池", "负极材料"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_highlight_marks_every_occurrence_of_any_fragment_and_nothing_else(texts, data):
    """A fragment cut from the text anywhere (across jieba's word boundaries too) is marked at
    each of its occurrences, and nothing else is marked."""
    text = data.draw(st.sampled_from(texts))
    runs = [m for m in re.finditer(r"[\u4e00-\u9fff]{2,}", text) if m.end() < SCAN_CHARS]
    run = data.draw(st.sampled_from(runs)).group()
    start = data.draw(st.integers(min_value=0, max_value=len(run) - 1))
    length = data.draw(st.integers(min_value=1, max_value=min(6, len(run) - start)))
    fragment = run[start : start + length]
    marks = marked(highlight_text(text, words(fragment), ANALYZER))
    assert marks
    assert all(fragment in m and not m.replace(fragment, "") for m in marks), marks
    assert sum(m.count(fragment) for m in marks) == text.count(fragment)
