"""The engine seam: every private Whoosh attribute and hand-written piece of its W3 format.

Whoosh's public API answers one document or one posting at a time and writes through a sorting
pool; matching, facets and ranking over whole sets need whole posting lists, columns and field
lengths, and a fresh build of a large corpus needs segments written a term at a time. Those
reach into `whoosh3==3.54.0`'s codec, so they live here and nowhere else (`tests/test_seam.py`
checks): a Whoosh upgrade or a new field is this package's work. The rest of zhsearch uses this
interface and Whoosh's public API.

Reading (`reading`):
- `posting_arrays(matcher)` → (docnums, weights) of one segment's posting list;
- `column_values(reader, field)`, `segment_values(column)` → every document's column value;
- `field_lengths(leaf, field)` → every document's length of a scorable field;
- `bm25_parameters(weighting, field)` → (B, K1) of a BM25F weighting for a field;
- `idf(doc_count, doc_frequency)` → Whoosh's idf formula for a known document frequency;
- `text_column(leaf, folder, column)` → a segment's text column as one mapped `TextColumn`.

Writing (`bulk`, `segments`):
- `BulkSegmentWriter(ix)` → one new segment from documents added in docnum order;
  `supports(ix)` says whether an index's schema allows it;
- `finish_segment(writer)` → the finished segment, no TOC written;
- `install_segments(writer, segments)` → the segments the next `commit(merge=False)` lists;
- `toc_segment_ids(folder, schema)` → the segments the latest TOC of a folder lists.
"""

from zhsearch.index.engine.bulk import BulkSegmentWriter, supports
from zhsearch.index.engine.reading import (
    TextColumn,
    bm25_parameters,
    column_values,
    field_lengths,
    idf,
    posting_arrays,
    segment_values,
    text_column,
)
from zhsearch.index.engine.segments import finish_segment, install_segments, toc_segment_ids

__all__ = [
    "BulkSegmentWriter",
    "TextColumn",
    "bm25_parameters",
    "column_values",
    "field_lengths",
    "finish_segment",
    "idf",
    "install_segments",
    "posting_arrays",
    "segment_values",
    "supports",
    "text_column",
    "toc_segment_ids",
]
