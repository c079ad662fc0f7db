"""Key terms of a report: TF-IDF of its words against the index's document frequencies."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from zhsearch.corpus.chars import HAN_CLASS
from zhsearch.search.context import SearchContext

_WORD = re.compile(f"^(?:{HAN_CLASS}{{2,}}|[a-z][a-z0-9]{{2,}})$")
_TITLE_WEIGHT = 2  # a title word counts as this many body occurrences


def key_terms(ctx: SearchContext, stored: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The `limit` most characteristic words of a stored report, best first: term frequency in
    its title and text times log inverse document frequency in the content field."""
    analyzer = ctx.searcher.schema["content"].analyzer
    counts: Counter[str] = Counter()
    for text, weight in ((stored.get("title", ""), _TITLE_WEIGHT), (stored.get("content", ""), 1)):
        for token in analyzer(str(text or ""), mode="query"):
            if _WORD.match(token.text):
                counts[token.text] += weight
    reader = ctx.searcher.reader()
    n_docs = max(reader.doc_count(), 1)
    scored: list[tuple[float, str, int]] = []
    for term, tf in counts.items():
        df = reader.doc_frequency("content", term) or 1
        idf = math.log((n_docs + 1) / df) + 1.0
        scored.append(((1.0 + math.log(tf)) * idf, term, df))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [
        {"term": term, "weight": round(weight, 3), "doc_frequency": df}
        for weight, term, df in scored[:limit]
    ]
