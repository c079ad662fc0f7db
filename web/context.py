"""The per-request search context: opened lazily on first use, closed when the request ends.

Opening per request (not per process) means a reindex that switches the index to a new
generation is served from the next request on, without a restart.
"""

from __future__ import annotations

from flask import current_app, g

from corpus.settings import Settings
from search.context import SearchContext, open_context
from search.warmup import warm_in_background

SETTINGS_KEY = "ZHSEARCH_SETTINGS"


def current_settings() -> Settings:
    """The settings the running app was created with."""
    return current_app.config[SETTINGS_KEY]


def search_context() -> SearchContext:
    """This request's search context, opened on first use."""
    ctx = g.get("zhsearch_context")
    if ctx is None:
        settings = current_settings()
        ctx = open_context(settings)
        g.zhsearch_context = ctx
        if settings.warm_up:
            warm_in_background(settings, ctx)  # once per generation: after a reindex too
    return ctx


def close_search_context(_exc: BaseException | None = None) -> None:
    """Teardown: close the context if this request opened one."""
    ctx = g.pop("zhsearch_context", None)
    if ctx is not None:
        ctx.close()
