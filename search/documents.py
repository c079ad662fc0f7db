"""One stored document by id, and statistics of the open index."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zhsearch.index.store import META, IndexStore
from zhsearch.search.arrays import doc_arrays
from zhsearch.search.cache import Slot
from zhsearch.search.context import SearchContext
from zhsearch.search.facets import (
    industry_label,
    region_name,
    stored_industries,
    stored_region,
)
from zhsearch.search.keyterms import key_terms
from zhsearch.search.related import related_reports

# (docnum, limits) → key terms and related reports of a shown report
DOCUMENT_EXTRAS: Slot[dict[str, Any]] = Slot("document_extras", "extras_cache_mb")
_EXTRAS_BYTES = 2_000  # a few short strings and ids per report


def get_document(ctx: SearchContext, doc_id: str) -> dict[str, Any] | None:
    """The stored fields of the article with this id (looked up by the `id` term only, never a
    path), shaped for the document page and API, with its key terms and related reports; None
    when there is no such article."""
    if not doc_id:
        return None
    docnum = ctx.searcher.document_number(id=doc_id)
    if docnum is None:
        return None
    stored = ctx.searcher.stored_fields(docnum)
    date = stored.get("date")
    counts: dict[str, int] = stored.get("mention_counts") or {}
    mentions = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "id": stored.get("id", doc_id),
        "title": stored.get("title", ""),
        "subtitle": stored.get("subtitle", ""),
        "content": stored.get("content", ""),
        "date": date.date().isoformat() if isinstance(date, dt.datetime) else None,
        "date_text": stored.get("date_text") or None,
        "source": stored.get("source", ""),
        "author": stored.get("author", ""),
        "url": stored.get("url", ""),
        "tags": [t for t in str(stored.get("tags", "")).split(",") if t],
        "region": {
            **stored_region(stored),
            "mentions": [
                {"code": code, "label": region_name(ctx.gazetteer, code) or code, "count": n}
                for code, n in mentions
            ],
        },
        "industries": stored_industries(stored, ctx.taxonomy),
        "industry_primary": stored.get("industry_primary", ""),
        "source_format": stored.get("source_format", ""),
        **_extras(ctx, docnum, stored),
    }


def _extras(ctx: SearchContext, docnum: int, stored: dict[str, Any]) -> dict[str, Any]:
    """Key terms and related reports of a document, computed once per index generation: both
    re-read the whole text, which for a long report takes seconds on every view."""
    settings = ctx.settings
    extras = ctx.cache.bounded(DOCUMENT_EXTRAS, weigh=lambda _value: _EXTRAS_BYTES)
    key = (docnum, settings.key_terms, settings.related_count)
    found = extras.get(key)
    if found is None:
        found = extras.put(
            key,
            {
                "key_terms": key_terms(ctx, stored, settings.key_terms),
                "related": related_reports(ctx, docnum, settings.related_count),
            },
        )
    return {"key_terms": list(found["key_terms"]), "related": list(found["related"])}


def index_stats(ctx: SearchContext) -> dict[str, Any]:
    """Documents, generation, location, size on disk, build time, analyzer fingerprint, and
    document counts per province and per industry."""
    generation = ctx.index_path
    meta = IndexStore.read_json(generation, META) if generation.is_dir() else {}
    size = sum(p.stat().st_size for p in generation.rglob("*") if p.is_file())
    reader = ctx.searcher.reader()
    arrays = doc_arrays(ctx)
    live = list(reader.all_doc_ids())
    regions = arrays.regions.count(live)
    provinces = [c for c in regions if arrays.parents.get(c) is None]
    industries = arrays.industries.count(live)
    return {
        "documents": ctx.searcher.doc_count(),
        "generation": generation.name,
        "index_dir": str(ctx.settings.index_dir),
        "size_bytes": size,
        "built": meta.get("created", ""),
        "analyzer": meta.get("analyzer", ""),
        "regions": [
            {"value": c, "label": region_name(ctx.gazetteer, c) or c, "count": regions[c]}
            for c in sorted(provinces, key=lambda c: (-regions[c], c))
        ],
        "industries": [
            {"value": c, "label": industry_label(ctx.taxonomy, c), "count": industries[c]}
            for c in sorted(industries, key=lambda c: (-industries[c], c))
        ],
    }


def index_health(ctx: SearchContext) -> str | None:
    """None when a quick probe of every segment reads cleanly (first and last stored document,
    the postings of each field's first term), else why not: a damaged index must not look
    healthy to monitoring while every search fails."""
    try:
        for leaf in ctx.searcher.reader().leaf_readers():
            reader = leaf[0] if isinstance(leaf, tuple) else leaf
            last = reader.doc_count_all() - 1
            if last >= 0:
                reader.stored_fields(0)
                reader.stored_fields(last)
            for fieldname in reader.indexed_field_names():
                for term in reader.lexicon(fieldname):
                    for _docid in reader.postings(fieldname, term).all_ids():
                        pass
                    break
    except Exception as exc:  # any failure to read is the answer, not an error of the probe
        detail = str(exc).split(". ")[0][:200]
        return (
            f"索引文件无法读取（{type(exc).__name__}: {detail}），"
            "请运行 zhsearch index --rebuild 重建索引"
        )
    return None
