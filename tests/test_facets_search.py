"""Disjunctive facets on the sample index, checked against counts computed from the hits."""

from __future__ import annotations

from collections import Counter

import pytest

from zhsearch.search.context import open_context
from zhsearch.search.facets import doc_arrays
from zhsearch.search.request import SearchRequest
from zhsearch.search.run import run_search


@pytest.fixture(scope="module")
def ctx(sample_settings):
    with open_context(sample_settings) as context:
        yield context


def search(ctx, **params):
    params.setdefault("size", "100")
    return run_search(SearchRequest.from_params(params, ctx.settings), ctx)


def expected(ctx, q: str, regions: list[str], industries: list[str]):
    """Total, region counts and industry counts computed by brute force from unfiltered hits."""
    hits = search(ctx, q=q).hits

    def in_regions(h):
        return not regions or any(c in h.region["codes"] for c in regions)

    def in_industries(h):
        return not industries or any(i["code"] in industries for i in h.industries)

    total = sum(1 for h in hits if in_regions(h) and in_industries(h))
    region_counts = Counter(c for h in hits if in_industries(h) for c in h.region["codes"])
    industry_counts = Counter(i["code"] for h in hits if in_regions(h) for i in h.industries)
    return total, region_counts, industry_counts


def selections(ctx):
    """Region and industry selections taken from the sample's own facets."""
    facets = search(ctx).facets
    provinces = [v.value for v in facets.region]
    industries = [v.value for v in facets.industry]
    cities = [v.value for v in search(ctx, region=provinces[0]).facets.region if v.level == 2]
    return provinces, cities, industries


@pytest.mark.parametrize("q", ["", "锂", "项目", "光伏"])
def test_facets_match_brute_force_counts(ctx, q):
    provinces, cities, industries = selections(ctx)
    cases = [
        ([], []),
        ([provinces[0]], []),
        ([provinces[-1]], []),
        ([cities[0]], []),
        ([], [industries[0]]),
        ([], industries[:2]),
        ([provinces[0]], [industries[-1]]),
        ([cities[-1]], industries[1:3]),
    ]
    for regions, inds in cases:
        result = search(ctx, q=q, region=regions, industry=inds)
        total, region_counts, industry_counts = expected(ctx, q, regions, inds)
        assert result.total == total, (regions, inds)
        for v in result.facets.region:
            assert v.count == region_counts[v.value], (regions, inds, v)
        for v in result.facets.industry:
            assert v.count == industry_counts[v.value], (regions, inds, v)
        listed = {v.value for v in result.facets.region if v.level == 1}
        assert listed >= {c for c, n in region_counts.items() if n and c.endswith("0000")}


def test_selecting_a_province_keeps_the_other_provinces(ctx):
    all_provinces = {v.value: v.count for v in search(ctx).facets.region if v.level == 1}
    assert len(all_provinces) >= 2, "the sample covers more than one province"
    smallest = min(all_provinces, key=all_provinces.get)
    result = search(ctx, region=smallest)
    assert result.total == all_provinces[smallest]
    level1 = {v.value: v for v in result.facets.region if v.level == 1}
    assert {c: v.count for c, v in level1.items()} == all_provinces  # disjunctive
    assert level1[smallest].selected
    assert not any(v.selected for c, v in level1.items() if c != smallest)
    assert [c for c, _ in result.facets.region_path] == [smallest]


def test_selected_region_shows_its_children_in_tree_order(ctx):
    provinces, cities, _ = selections(ctx)
    result = search(ctx, region=cities[0])
    values = result.facets.region
    codes = [v.value for v in values]
    province = provinces[0]
    assert [c for c, _ in result.facets.region_path] == [province, cities[0]]
    # Pre-order: the province, then its cities (including the selected one), then that city's
    # children right after it.
    i_prov, i_city = codes.index(province), codes.index(cities[0])
    assert i_prov < i_city
    assert all(v.level == 2 for v in values[i_prov + 1 : i_city])
    city = values[i_city]
    assert city.selected and city.level == 2
    for v in values[i_city + 1 :]:
        if v.level <= 2:
            break
        assert v.level == 3 and v.value.startswith(cities[0][:4])
    arrays = doc_arrays(ctx)
    assert all(arrays.parents.get(v.value) == cities[0] for v in values if v.level == 3)


def test_industry_selection_is_or_within_and_across_facets(ctx):
    _, _, industries = selections(ctx)
    a, b = industries[0], industries[-1]
    only_a = {h.id for h in search(ctx, industry=a).hits}
    only_b = {h.id for h in search(ctx, industry=b).hits}
    both = search(ctx, industry=[a, b])
    assert {h.id for h in both.hits} == only_a | only_b
    # The industry facet ignores the industry selection (disjunctive)…
    unfiltered = {v.value: v.count for v in search(ctx).facets.industry}
    assert {v.value: v.count for v in both.facets.industry} == unfiltered
    assert {v.value for v in both.facets.industry if v.selected} == {a, b}
    # …but the region facet honours it.
    assert sum(v.count for v in both.facets.region if v.level == 1) <= both.total


def test_industry_facet_lists_top_level_classes_with_labels(ctx):
    facets = search(ctx, q="锂").facets
    assert facets.industry
    top = set(ctx.taxonomy.codes())
    assert all(v.value in top and v.label and v.label != v.value for v in facets.industry)
    counts = [v.count for v in facets.industry]
    assert counts == sorted(counts, reverse=True)


def test_date_and_source_filters_apply_to_facets(ctx):
    hits = search(ctx).hits
    dated = sorted(h.date for h in hits if h.date)
    assert dated, "the sample has dated articles"
    day = dated[0]
    result = search(ctx, **{"from": day, "to": day})
    assert result.total == sum(1 for h in hits if h.date == day)
    assert sum(v.count for v in result.facets.region if v.level == 1) <= result.total
    sources = {h.source for h in hits if h.source}
    if sources:
        source = sorted(sources)[0]
        result = search(ctx, source=source)
        assert result.total == sum(1 for h in hits if h.source == source)
