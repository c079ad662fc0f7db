"""The start-up fast paths (whole-segment column reads, field lengths, libyaml) give exactly what
Whoosh's per-document reads and PyYAML's pure-Python loader give."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from whoosh import index as windex
from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

import zhsearch.corpus.industries as industries
from zhsearch.index.engine import column_values, field_lengths
from zhsearch.index.schema import SEARCH_FIELDS
from zhsearch.search.arrays import doc_arrays
from zhsearch.search.context import open_context

COLUMNS = ("region_codes", "industries", "date")


def whoosh_column(reader, fieldname: str) -> list:
    """Each document's column value read one at a time, segment by segment, as Whoosh does."""
    values = []
    for leaf, _ in reader.leaf_readers():
        column = leaf.column_reader(fieldname, translate=False)
        values.extend(column[d] for d in range(leaf.doc_count_all()))
    return values


def whoosh_lengths(leaf, fieldname: str) -> list[int]:
    """The length Whoosh's BM25F scorer uses for each document (default 1)."""
    return [leaf.doc_field_length(d, fieldname, 1) or 1 for d in range(leaf.doc_count_all())]


@pytest.fixture(scope="module")
def patchy_index(tmp_path_factory):
    """Two segments, the second without codes or subtitles and undated at its end."""
    schema = Schema(
        id=ID(stored=True),
        subtitle=TEXT(),
        content=TEXT(),
        region_codes=KEYWORD(sortable=True),
        date=DATETIME(sortable=True),
    )
    ix = windex.create_in(str(tmp_path_factory.mktemp("patchy")), schema)
    with ix.writer() as w:
        for i in range(40):
            w.add_document(
                id=f"a{i}",
                subtitle="副 标题 " * (i % 5),
                content="正文 " * (i + 1),
                region_codes="140000 140700" if i % 3 else "",
                date=dt.datetime(2020, 1, 1 + i % 28) if i % 4 else None,
            )
    w = ix.writer()
    for i in range(30):
        fields = {"id": f"b{i}", "content": "正文 " * (i + 2)}
        if i < 10:
            fields["date"] = dt.datetime(2021, 5, 1 + i)
        w.add_document(**fields)
    w.commit(merge=False)
    yield ix
    ix.close()


def test_column_values_equal_whoosh_reads(two_segments):
    with open_context(two_segments) as ctx:
        reader = ctx.searcher.reader()
        assert len(list(reader.leaf_readers())) >= 2
        for fieldname in COLUMNS:
            assert column_values(reader, fieldname) == whoosh_column(reader, fieldname)


def test_doc_arrays_hold_each_documents_codes_and_date(two_segments):
    with open_context(two_segments) as ctx:
        reader = ctx.searcher.reader()
        arrays = doc_arrays(ctx)
        regions = whoosh_column(reader, "region_codes")
        trades = whoosh_column(reader, "industries")
        missing = reader.schema["date"].column_type.default_value(False)
        dates = [-1 if v == missing else v for v in whoosh_column(reader, "date")]
        assert any(regions) and any(trades) and max(dates) > 0  # something to compare
        assert [arrays.regions.codes(d) for d in range(len(regions))] == [
            tuple(v.decode("utf-8").split()) for v in regions
        ]
        assert [arrays.industries.codes(d) for d in range(len(trades))] == [
            tuple(v.decode("utf-8").split()) for v in trades
        ]
        assert arrays.dates == dates


def test_column_values_fill_missing_and_short_columns_with_the_default(patchy_index):
    with patchy_index.searcher() as searcher:
        reader = searcher.reader()
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) == 2 and not leaves[1].has_column("region_codes")
        for fieldname in ("region_codes", "date"):
            assert column_values(reader, fieldname) == whoosh_column(reader, fieldname)


def test_field_lengths_equal_whoosh(two_segments, patchy_index):
    with open_context(two_segments) as ctx:
        for leaf, _ in ctx.searcher.reader().leaf_readers():
            for fieldname in SEARCH_FIELDS:
                assert field_lengths(leaf, fieldname) == whoosh_lengths(leaf, fieldname)
    with patchy_index.searcher() as searcher:
        leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
        assert whoosh_lengths(leaves[1], "subtitle") == [1] * 30  # no length column there
        for leaf in leaves:
            for fieldname in ("subtitle", "content"):
                assert field_lengths(leaf, fieldname) == whoosh_lengths(leaf, fieldname)


def test_taxonomy_is_the_same_with_libyaml_and_pure_python(monkeypatch):
    path = str(industries.default_taxonomy_path().resolve())
    if hasattr(yaml, "CSafeLoader"):
        assert industries._SAFE_LOADER is yaml.CSafeLoader
    fast = industries._load.__wrapped__(path, 0, "")
    monkeypatch.setattr(industries, "_SAFE_LOADER", yaml.SafeLoader)
    slow = industries._load.__wrapped__(path, 0, "")
    assert fast == slow
    assert fast.codes() and fast.keyword_count() > 0
