"""The bulk segment writer writes what Whoosh's own writer writes: same terms, term statistics,
postings, stored fields, lengths and columns, read back through Whoosh's reader."""

from __future__ import annotations

import gzip
import hashlib
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index

from tests.helpers import fixture_reports, write_jsonl
from zhsearch.corpus.facets import extract_facets
from zhsearch.corpus.industries import load_taxonomy
from zhsearch.corpus.readers import read_file
from zhsearch.index.documents import article_fields
from zhsearch.index.engine import BulkSegmentWriter
from zhsearch.index.schema import build_schema
from zhsearch.index.settings import Settings
from zhsearch.index.writer import Indexer
from zhsearch.search.context import open_context
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search


def _documents(paths: list[Path]) -> list[dict[str, Any]]:
    taxonomy = load_taxonomy(Settings.load(env={}).taxonomy)
    docs = []
    for path in paths:
        for article in read_file(path).articles:
            extract_facets(article, taxonomy)
            docs.append(article_fields(article))
    return docs


def _stock(docs: list[dict[str, Any]], where: Path) -> whoosh_index.Index:
    where.mkdir()
    ix = whoosh_index.create_in(str(where), build_schema())
    with ix.writer(compound=False) as writer:
        for fields in docs:
            writer.add_document(**fields)
    return ix


def _bulk(docs: list[dict[str, Any]], where: Path) -> whoosh_index.Index:
    where.mkdir()
    ix = whoosh_index.create_in(str(where), build_schema())
    bulk = BulkSegmentWriter(ix, compound=False)
    for fields in docs:
        bulk.add_document(**fields)
    segment = bulk._finalize_segment()
    writer = ix.writer()
    writer.segments = [segment]
    writer.commit(merge=False)
    return ix


def _terminfo(info: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(info).items() if k not in ("_offset", "_length")}


def _column_digests(ix: whoosh_index.Index) -> dict[str, str]:
    (segment,) = ix._segments()
    folder = Path(ix.storage.folder)
    return {
        path.name.split(".", 1)[1]: hashlib.md5(path.read_bytes()).hexdigest()
        for path in folder.glob(f"*{segment.segment_id()}*.col")
    }


def assert_same_index(a: whoosh_index.Index, b: whoosh_index.Index) -> int:
    """Everything a reader can see is equal; returns the number of terms compared."""
    with a.reader() as ra, b.reader() as rb:
        assert ra.doc_count_all() == rb.doc_count_all()
        terms_a, terms_b = list(ra.all_terms()), list(rb.all_terms())
        assert terms_a == terms_b
        for fieldname, text in terms_a:
            assert _terminfo(ra.term_info(fieldname, text)) == _terminfo(
                rb.term_info(fieldname, text)
            ), (fieldname, text)
            pa = ra.postings(fieldname, text)
            pb = rb.postings(fieldname, text)
            assert list(pa.all_items()) == list(pb.all_items()), (fieldname, text)
        for docnum in range(ra.doc_count_all()):
            assert ra.stored_fields(docnum) == rb.stored_fields(docnum)
            for fieldname in ("title", "subtitle", "content", "tags"):
                assert ra.doc_field_length(docnum, fieldname) == rb.doc_field_length(
                    docnum, fieldname
                )
        for fieldname in ("title", "subtitle", "content", "tags"):
            assert ra.field_length(fieldname) == rb.field_length(fieldname)
    assert _column_digests(a) == _column_digests(b)
    return len(terms_a)


def test_the_sample_corpus_is_written_as_whoosh_writes_it(sample_dir: Path, tmp_path: Path):
    docs = _documents(sorted(sample_dir.iterdir()))
    assert len(docs) == 6
    assert assert_same_index(_stock(docs, tmp_path / "a"), _bulk(docs, tmp_path / "b")) > 1000


@pytest.fixture(params=["fixture", "xwlb"])
def many_reports(request, tmp_path: Path) -> tuple[Path, int, int]:
    """A JSONL file of reports with terms in more documents than one 128-posting block holds,
    the least document frequency of its commonest word and the least number of terms: the
    fixture's 400 reports always, 400 xwlb items with ../shared."""
    path = tmp_path / "reports.jsonl"
    if request.param == "fixture":
        write_jsonl(path, fixture_reports())
        return path, 300, 3_000
    shared_dir = request.getfixturevalue("shared_dir")
    with gzip.open(shared_dir / "corpora" / "xwlb.jsonl.gz", "rt", encoding="utf-8") as fh:
        path.write_text("".join(islice(fh, 400)), encoding="utf-8")
    return path, 300, 15_000


def test_reports_with_multi_block_terms_are_written_as_whoosh_writes_them(
    many_reports: tuple[Path, int, int], tmp_path: Path
):
    path, commonest, terms = many_reports
    docs = _documents([path])
    # A document boost and a field boost go into the weights as Whoosh applies them.
    docs[3]["_boost"] = 0.7
    docs[5]["_title_boost"] = 1.1  # not exact in binary: the order of products matters
    a, b = _stock(docs, tmp_path / "a"), _bulk(docs, tmp_path / "b")
    with b.reader() as reader:
        # Terms in more documents than one 128-posting block holds.
        assert max(reader.doc_frequency("content", t) for _, t in reader.all_terms()) > commonest
    assert assert_same_index(a, b) > terms


def test_a_small_writer_memory_gives_more_segments_and_the_same_answers(
    sample_dir: Path, tmp_path: Path
):
    one = Settings.load(overrides={"index_dir": str(tmp_path / "one")}, env={})
    many = one.replace(index_dir=str(tmp_path / "many"), writer_memory_mb=0)
    Indexer(one).run([sample_dir])
    Indexer(many).run([sample_dir])
    with open_context(one) as a, open_context(many) as b:
        assert len(list(a.searcher.reader().leaf_readers())) == 1
        assert len(list(b.searcher.reader().leaf_readers())) > 1
        for q in ("锂电池", "光伏 项目", '"负极材料"', "招商引资 -山西"):
            ra = run_search(SearchRequest.from_params({"q": q}, one), a)
            rb = run_search(SearchRequest.from_params({"q": q}, many), b)
            assert ra.total == rb.total > 0, q
            assert ra.facets == rb.facets, q
            assert [(h.id, round(h.score, 6)) for h in ra.hits] == [
                (h.id, round(h.score, 6)) for h in rb.hits
            ], q


@pytest.mark.parametrize("procs", [1, 2])
def test_a_rebuild_leaves_only_the_segments_files_and_no_temporary_ones(
    sample_dir: Path, tmp_path: Path, procs: int
):
    settings = Settings.load(overrides={"index_dir": str(tmp_path), "procs": procs}, env={})
    report = Indexer(settings).run([sample_dir], rebuild=True)
    assert report.documents == 6
    generation = tmp_path / report.generation
    leftovers = [p.name for p in generation.iterdir() if p.suffix in (".tmp", ".ctmp")]
    assert leftovers == []
    ix = whoosh_index.open_dir(str(generation), schema=build_schema())
    segment_ids = {s.segment_id() for s in ix._segments()}
    for path in generation.glob("MAIN_*.*"):
        assert path.name.split(".", 1)[0].removeprefix("MAIN_") in {
            i.removeprefix("MAIN_") for i in segment_ids
        }, path.name
