"""The suggestion lexicon the indexer writes with each commit, and the lookups made on it."""

from __future__ import annotations

import mmap
import shutil

import pytest
from pypinyin import Style, lazy_pinyin
from whoosh import index as whoosh_index

from zhsearch.index.lexicon import build_lexicon, open_lexicon
from zhsearch.index.settings import Settings
from zhsearch.index.store import IndexStore
from zhsearch.index.writer import Indexer
from zhsearch.search.context import open_context
from zhsearch.search.suggest import complete, lexicon


def _rows(table: bytes) -> list[list[str]]:
    return [line.split("\t") for line in bytes(table).decode("utf-8").split("\n") if line]


@pytest.fixture
def own_sample(tmp_path, sample_dir) -> Settings:
    settings = Settings.load(overrides={"index_dir": str(tmp_path / "ix")}, env={})
    Indexer(settings).run([sample_dir])
    return settings


def test_each_commit_writes_the_lexicon_searches_map(own_sample):
    generation = IndexStore(own_sample.index_dir).current()
    ix = whoosh_index.open_dir(str(generation))
    with ix.reader() as reader:
        toc = reader.generation()
        built = build_lexicon(reader, own_sample.suggest_terms)
    ix.close()
    mapped = open_lexicon(generation, toc, own_sample.suggest_terms)
    assert mapped is not None and isinstance(mapped.words, mmap.mmap)
    assert bytes(mapped.words) == built.words and bytes(mapped.pinyin) == built.pinyin
    words = _rows(built.words)
    assert [w for w, _ in words] == sorted(w for w, _ in words)
    assert {"锂电池", "负极材料", "招商引资"} <= {w for w, _ in words}
    with open_context(own_sample) as ctx:
        assert isinstance(lexicon(ctx).words, mmap.mmap)  # opened, not rebuilt


def test_lookups_agree_with_a_plain_scan_of_the_tables(sample_settings):
    with open_context(sample_settings) as ctx:
        lex = lexicon(ctx)
    words = {w: int(n) for w, n in _rows(lex.words)}
    keys = [(k, w, int(n)) for k, w, n in _rows(lex.pinyin)]
    assert len(words) > 500
    for word, n in words.items():
        assert lex.df(word) == n and word in lex
        assert lex.df(word + "龘") == 0
    assert lex.df("") == 0 and lex.df("龘龘") == 0 and "不存在的词语" not in lex
    for prefix in ["锂", "负极", "招商", "光", "a", "龘", "电池"]:
        expected = [(w, n) for w, n in sorted(words.items()) if w.startswith(prefix)]
        assert lex.prefixed(prefix, 10_000) == expected
        assert lex.prefixed(prefix, 2) == expected[:2]
    for key in ["li", "lidianchi", "fujicailiao", "zhaoshangyinzi", "x", "zzzz"]:
        expected = [(k, w, n) for k, w, n in keys if k.startswith(key)]
        assert lex.pinyin_prefixed(key, 10_000) == expected
        exact = sorted(((w, n) for k, w, n in keys if k == key), key=lambda wn: (-wn[1], wn[0]))
        assert lex.by_pinyin(key) == [w for w, _ in exact]
    assert "锂电池" in lex.by_pinyin("".join(lazy_pinyin("锂电池", style=Style.NORMAL)))


def test_a_new_commit_replaces_the_lexicon_of_the_one_before(own_sample, sample_dir, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(sample_dir, corpus)
    Indexer(own_sample).run([corpus], rebuild=True)
    generation = IndexStore(own_sample.index_dir).current()
    before = sorted(p.name for p in generation.glob("lexicon-*"))
    with open_context(own_sample) as ctx:
        old_words = {w for w, _ in _rows(lexicon(ctx).words)}
    text = "# 钒液流电池项目签约\n\n钒液流电池储能项目在攀枝花签约。"
    (corpus / "new.md").write_text(text, "utf-8")
    Indexer(own_sample).run([corpus])
    after = sorted(p.name for p in generation.glob("lexicon-*"))
    assert len(before) == len(after) == 3 and before != after
    with open_context(own_sample) as ctx:
        lex = lexicon(ctx)
        assert isinstance(lex.words, mmap.mmap)
        new_words = {w for w, _ in _rows(lex.words)} - old_words
        assert {"攀枝花", "液流"} <= new_words and all(w in text for w in new_words)
        assert ("液流", 1) in lex.prefixed("液流", 10)


def test_an_index_without_the_lexicon_builds_it_and_suggests_the_same(own_sample):
    with open_context(own_sample) as ctx:
        expected = complete(ctx, "fuji"), complete(ctx, "锂")
    generation = IndexStore(own_sample.index_dir).current()
    for path in generation.glob("lexicon-*"):
        path.unlink()
    with open_context(own_sample) as ctx:
        assert isinstance(lexicon(ctx).words, bytes)  # built in memory
        assert (complete(ctx, "fuji"), complete(ctx, "锂")) == expected
        assert "负极材料" in [s["term"] for s in expected[0]]


def test_a_lexicon_of_other_limits_is_not_used(own_sample):
    generation = IndexStore(own_sample.index_dir).current()
    toc = int(next(generation.glob("lexicon-*.json")).stem.split("-")[1])
    assert open_lexicon(generation, toc, own_sample.suggest_terms) is not None
    assert open_lexicon(generation, toc, own_sample.suggest_terms - 1) is None
    assert open_lexicon(generation, toc + 1, own_sample.suggest_terms) is None
