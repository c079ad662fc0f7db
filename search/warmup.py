"""Build what searching caches per index generation before users ask for it.

Facet arrays, field lengths, the date order, the lexicons behind single-character expansion and
the suggestion lexicon (pinyin included) are built on first use and kept per generation. Built
lazily, they land on whoever searches first after a start or a reindex: seconds for the
suggestion lexicon on the full corpus. `warm_up` builds them all; `warm_in_background` does it
once per generation in a daemon thread, so serving starts at once and is warm soon after;
`warm_now` builds the quick ones every search needs (a pre-fork master, before forking).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from whoosh import query as wq

from zhsearch.index.settings import Settings
from zhsearch.search.arrays import doc_arrays
from zhsearch.search.cache import GenerationKey, SearchCaches
from zhsearch.search.context import SearchContext, open_context
from zhsearch.search.docsets import matching_docs, prepare_text_columns
from zhsearch.search.ranking import prepare_lengths
from zhsearch.search.suggest import prepare_suggestions


def warm_up(ctx: SearchContext, quick: bool = False) -> dict[str, float]:
    """Build every per-generation cache for what `ctx` reads, or with `quick` only those every
    search needs; seconds per step."""
    steps: list[tuple[str, Callable[[], object]]] = [
        ("facet_arrays", lambda: doc_arrays(ctx)),
        (
            "date_order",
            lambda: matching_docs(ctx, wq.DateRange("date", dt.datetime(1, 1, 1), None)),
        ),
    ]
    if not quick:  # lexicons and suggestions take seconds; field lengths serve ranking only
        steps += [
            ("field_lengths", lambda: prepare_lengths(ctx)),
            ("text_columns", lambda: prepare_text_columns(ctx)),
            ("suggestions", lambda: prepare_suggestions(ctx)),
        ]
    timings: dict[str, float] = {}
    for name, step in steps:
        started = time.perf_counter()
        step()
        timings[name] = round(time.perf_counter() - started, 3)
    return timings


def warm_now(settings: Settings, caches: SearchCaches) -> dict[str, float]:
    """The quick `warm_up` of the live generation into `caches`, in this thread; {} when the
    index cannot be opened (serving goes on and says why)."""
    try:
        with open_context(settings, caches) as ctx:
            caches.claim_warm_up(ctx.cache_key)
            return warm_up(ctx, quick=True)
    except Exception:
        return {}


def warm_in_background(
    settings: Settings,
    caches: SearchCaches,
    generation: GenerationKey | None = None,
    delay: float = 0.0,
) -> bool:
    """Start a warm-up of the live generation into `caches` in a daemon thread, unless one was
    started for `generation` already; True when this call started one. The thread waits `delay`
    seconds, then opens (and closes) its own context."""
    if generation is not None and not caches.claim_warm_up(generation):
        return False
    thread = threading.Thread(
        target=_run, args=(settings, caches, delay), name="zhsearch-warm-up", daemon=True
    )
    thread.start()
    return True


def _run(settings: Settings, caches: SearchCaches, delay: float) -> None:
    time.sleep(delay)
    try:
        with open_context(settings, caches) as ctx:
            caches.claim_warm_up(ctx.cache_key)
            warm_up(ctx)
    except Exception:  # a warm-up is only a head start: the searches build what they need
        pass
