"""The write side of the engine seam beyond the bulk writer: finishing and installing segments."""

from __future__ import annotations

from typing import Any

from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter


def finish_segment(writer: SegmentWriter) -> Segment:
    """Write out a segment writer's buffered documents and return the finished segment, without
    committing a TOC (a parallel build commits every worker's segments at once)."""
    return writer._finalize_segment()


def install_segments(writer: SegmentWriter, segments: list[Segment]) -> None:
    """Make `segments` the whole of what `writer`'s next `commit(merge=False)` lists in the TOC
    (a fresh index, built by bulk writers)."""
    writer.segments = list(segments)


def toc_segment_ids(folder: str, schema: Any) -> list[str]:
    """The ids of the segments the latest TOC in `folder` lists (raises when it is unreadable)."""
    toc = whoosh_index.TOC.read(FileStorage(folder), whoosh_index._DEF_INDEX_NAME, schema=schema)
    return [segment.segment_id() for segment in toc.segments]
