"""Turn an Article into the field values of one Whoosh document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zhsearch.corpus.article import Article
from zhsearch.index.chargrams import chars_field, text_column, text_value
from zhsearch.index.schema import SEARCH_FIELDS


def article_fields(article: Article) -> dict[str, Any]:
    """Field values for `writer.add_document`; empty values are left out, not indexed as ""."""
    fields: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "subtitle": article.subtitle,
        "content": article.content,
        "source": article.source,
        "author": article.author,
        "url": article.url,
        "tags": ",".join(t.replace(",", " ") for t in article.tags),
        "source_path": article.source_path,
        "source_format": article.source_format,
        "chars": len(article.content),
    }
    for name in SEARCH_FIELDS:
        text = fields[name]
        if text:
            fields[chars_field(name)] = text
            fields[text_column(name)] = text_value(text)
    if article.date is not None and article.date_precision != "unknown":
        fields["date"] = dt.datetime.combine(article.date, dt.time())
        fields["date_text"] = article.date_text
    region = article.region
    if region is not None:
        fields["region_status"] = region.status
        fields["region_codes"] = " ".join(region.codes)
        fields["region_path"] = region.path
        fields["mentions"] = " ".join(sorted(region.mentions))
        fields["mention_counts"] = dict(region.mentions)
        fields["zone"] = region.zone
    industries = article.industries
    if industries is not None:
        fields["industries"] = " ".join(industries.codes)
        fields["industry_primary"] = industries.primary
    return {k: v for k, v in fields.items() if v not in ("", None, [], {})}
