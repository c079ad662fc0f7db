"""`run_search`: the one search function behind the web page, the JSON API and the CLI."""

from __future__ import annotations

import heapq
import time
from typing import Any

from whoosh import query as wq

from zhsearch.search.arrays import doc_arrays
from zhsearch.search.context import SearchContext
from zhsearch.search.doccache import ShownDocument, shown_document
from zhsearch.search.docsets import matching_docs
from zhsearch.search.explain import explain_hit
from zhsearch.search.facets import (
    industry_facet,
    known_industry,
    region_facet,
    region_name,
    stored_industries,
    stored_region,
)
from zhsearch.search.query import ParsedQuery, match_terms, parse_query
from zhsearch.search.ranking import rank
from zhsearch.search.request import BadRequest, SearchRequest
from zhsearch.search.result import Facets, Hit, SearchResult, page_count
from zhsearch.search.snippets import MatchTerms, highlight_text, make_snippet
from zhsearch.search.suggest import best_first, candidates, suggestion
from zhsearch.search.synonyms import Expansion, SynonymTable, expand_synonyms, load_synonyms

# Parameters that alone are no search to suggest (an empty query with only these finds all).
_NOT_A_SEARCH = {"page", "size", "highlight", "explain", "synonyms"}


def run_search(request: SearchRequest, ctx: SearchContext) -> SearchResult:
    """Parse, filter, count facets, rank, page and highlight one search.

    Limits and codes are checked before any searching; every user mistake is a BadRequest.
    The text query (with the date and source filters) is matched once as a set of document
    numbers; facets and the exact total come from that set, and only the requested page is
    scored, sorted and highlighted.
    """
    started = time.perf_counter()
    settings = ctx.settings
    request.validate(settings)
    _check_codes(request, ctx)
    notices: list[str] = []
    parsed, text_q, expansions = _text_query(request, ctx, notices)
    # Snippets mark the words as typed; synonyms only where those words do not occur.
    synonym_terms = match_terms(text_q) if expansions else MatchTerms()
    by_date = request.sort == "date" or parsed.query is None

    text_docs = matching_docs(ctx, text_q)
    shared_docs = _shared_docs(ctx, request)
    base = text_docs if shared_docs is None else text_docs & shared_docs
    region_docs = _docs_for_codes(ctx, "region_codes", request.regions)
    industry_docs = _docs_for_codes(ctx, "industries", request.industries)
    region_view = base if industry_docs is None else base & industry_docs
    industry_view = base if region_docs is None else base & region_docs
    matching = region_view if region_docs is None else region_view & region_docs

    arrays = doc_arrays(ctx)
    region_values, region_path = region_facet(
        arrays.regions.count(region_view), request.regions, arrays, ctx.gazetteer
    )
    facets = Facets(
        region=region_values,
        region_path=region_path,
        industry=industry_facet(
            arrays.industries.count(industry_view), request.industries, ctx.taxonomy
        ),
    )

    hits: list[Hit] = []
    offset = (request.page - 1) * request.size
    if offset < len(matching):
        limit = offset + request.size
        if by_date:
            dates = arrays.dates
            top = heapq.nlargest(limit, matching, key=lambda d: (dates[d], -d))
            page: list[tuple[int, float | None]] = [(d, None) for d in top[offset:]]
        else:
            page = list(rank(ctx, text_q, matching, limit)[offset:])
        ctx.budget.check()
        terms = parsed.terms if request.highlight else MatchTerms()
        wider = synonym_terms if request.highlight else MatchTerms()
        hits = [_hit(shown_document(ctx, d), score, terms, ctx, wider) for d, score in page]
        if request.explain:
            for hit, (docnum, score) in zip(hits, page, strict=True):
                hit.explain = explain_hit(ctx, text_q, docnum, score, request.sort)

    suggestions: list[dict[str, Any]] = []
    if request.q and len(matching) < settings.suggest_below and request.page == 1:
        suggestions = _did_you_mean(request, ctx, len(matching), text_docs)

    return SearchResult(
        request=request,
        parsed=parsed.parsed,
        total=len(matching),
        took_ms=(time.perf_counter() - started) * 1000,
        pages=page_count(len(matching), request.size, settings.max_depth),
        hits=hits,
        facets=facets,
        notices=notices,
        expanded=[e.to_dict() for e in expansions],
        suggestions=suggestions,
    )


def _text_query(
    request: SearchRequest, ctx: SearchContext, notices: list[str]
) -> tuple[ParsedQuery, wq.Query, list[Expansion]]:
    """The parsed query, the query to run (synonyms expanded) and the synonym expansions made;
    `notices` gets what the user should know."""
    parsed = parse_query(request.q, ctx.searcher.schema, ctx.settings)
    notices.extend(parsed.notices)
    if parsed.query is None:
        return parsed, wq.Every(), []
    q = parsed.query
    expansions: list[Expansion] = []
    if request.synonyms:
        try:
            table = load_synonyms(ctx.settings.synonyms)
        except (OSError, UnicodeDecodeError) as exc:  # a broken file must not break searching
            notices.append(f"同义词文件无法读取，未使用同义词：{exc}")
            table = SynonymTable()
        q, expansions = expand_synonyms(q, table, ctx.searcher.schema)
        if expansions:
            said = "；".join(f"{e.term} → {'、'.join(e.synonyms)}" for e in expansions)
            notices.append(f"已用同义词扩展查询：{said}")
    return parsed, q, expansions


def _did_you_mean(
    request: SearchRequest, ctx: SearchContext, total: int, text_docs: set[int]
) -> list[dict[str, Any]]:
    """Candidate searches (`suggest.candidates`) that find more than `total`, counted until
    `suggest_budget_ms` runs out; a candidate with the same words reuses `text_docs`."""
    settings = ctx.settings
    deadline = time.perf_counter() + settings.suggest_budget_ms / 1000
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for candidate in candidates(request, ctx):
        if time.perf_counter() > deadline or len(out) >= settings.max_suggestions:
            break
        changed = candidate.request
        params = changed.to_params(settings)
        key = tuple(sorted((k, str(v)) for k, v in params.items()))
        if key in seen or not params.keys() - _NOT_A_SEARCH:  # nothing left to search for
            continue
        seen.add(key)
        same_words = (changed.q, changed.synonyms) == (request.q, request.synonyms)
        try:
            n = _count(changed, ctx, text_docs if same_words else None)
        except BadRequest:  # a candidate the parser refuses is simply not offered
            continue
        if n > total:
            out.append(suggestion(candidate, n, settings))
    return best_first(out)


def _count(request: SearchRequest, ctx: SearchContext, text_docs: set[int] | None) -> int:
    """How many documents `request` matches (text, filters and facet selections), no ranking;
    `text_docs` are its text query's documents when already known."""
    if text_docs is None:
        _parsed, text_q, _ = _text_query(request, ctx, [])
        text_docs = matching_docs(ctx, text_q)
    docs = text_docs
    for selected in (
        _shared_docs(ctx, request),
        _docs_for_codes(ctx, "region_codes", request.regions),
        _docs_for_codes(ctx, "industries", request.industries),
    ):
        if selected is not None:
            docs = docs & selected
    return len(docs)


def _check_codes(request: SearchRequest, ctx: SearchContext) -> None:
    for code in request.regions:
        if not region_name(ctx.gazetteer, code):
            raise BadRequest("bad_parameter", f"未知的地区代码 {code!r}")
    for code in request.industries:
        if not known_industry(ctx.taxonomy, code):
            raise BadRequest("bad_parameter", f"未知的行业代码 {code!r}")


def _shared_docs(ctx: SearchContext, request: SearchRequest) -> set[int] | None:
    """Documents passing the filters that are not facets (so they apply to the facet counts
    too): date and source; None when neither is set."""
    filters: list[wq.Query] = []
    start, end = request.date_range()
    if start is not None or end is not None:
        filters.append(wq.DateRange("date", start, end))
    if request.sources:
        filters.append(wq.Or([wq.Term("source", s) for s in request.sources]))
    if not filters:
        return None
    return matching_docs(ctx, filters[0] if len(filters) == 1 else wq.And(filters))


def _docs_for_codes(ctx: SearchContext, fieldname: str, codes: list[str]) -> set[int] | None:
    """Documents carrying any of `codes` (OR within a facet); None when nothing is selected."""
    if not codes:
        return None
    return matching_docs(ctx, wq.Or([wq.Term(fieldname, c) for c in codes]))


def _hit(
    doc: ShownDocument,
    score: float | None,
    terms: MatchTerms,
    ctx: SearchContext,
    wider: MatchTerms | None = None,
) -> Hit:
    hit = _make_hit(doc, score, terms, ctx)
    if wider and "<mark>" not in hit.snippet + hit.title_html:
        hit = _make_hit(doc, score, wider, ctx)
    return hit


def _make_hit(
    doc: ShownDocument, score: float | None, terms: MatchTerms, ctx: SearchContext
) -> Hit:
    analyzer = ctx.searcher.schema["content"].analyzer
    settings = ctx.settings
    stored = doc.stored
    title = stored.get("title", "")
    return Hit(
        id=stored.get("id", ""),
        title=title,
        title_html=highlight_text(doc.title, terms, analyzer),
        date=stored.get("date_text") or None,
        source=stored.get("source", ""),
        url=stored.get("url", ""),
        region=stored_region(stored),
        industries=stored_industries(stored, ctx.taxonomy),
        snippet=make_snippet(
            doc.content,
            terms,
            analyzer,
            settings.snippet_chars,
            settings.snippet_passages,
        ),
        score=score,
    )
