"""The per-request search context: opened lazily on first use, closed when the request ends.

Opening per request (not per process) means a reindex that switches the index to a new
generation is served from the next request on, without a restart. Each context carries the
request's `Budget`: a deadline from the settings and, where the server can tell, a probe that
says the client has hung up, so the search stops instead of working for nobody.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request

from zhsearch.index.settings import Settings
from zhsearch.search.budget import Budget
from zhsearch.search.cache import SearchCaches
from zhsearch.search.context import SearchContext, open_context
from zhsearch.search.warmup import warm_in_background

SETTINGS_KEY = "ZHSEARCH_SETTINGS"
CACHES_KEY = "zhsearch_caches"  # app.extensions: the app's SearchCaches, made by create_app


def app_caches(app: Flask) -> SearchCaches:
    """The caches every request of `app` shares (per process: each pre-forked worker its own)."""
    return app.extensions[CACHES_KEY]


def current_settings() -> Settings:
    """The settings the running app was created with."""
    return current_app.config[SETTINGS_KEY]


def search_context(timeout_ms: int | None = None) -> SearchContext:
    """This request's search context, opened on first use, with the request's budget
    (`timeout_ms`, default `search_timeout_ms`; 0 means no deadline)."""
    ctx = g.get("zhsearch_context")
    if ctx is None:
        settings = current_settings()
        caches = app_caches(current_app)
        ctx = open_context(settings, caches)
        g.zhsearch_context = ctx
        if settings.warm_up:  # once per generation: after a reindex too
            warm_in_background(settings, caches, ctx.cache_key)
    if timeout_ms is not None or g.get("zhsearch_budget") is None:
        ms = current_settings().search_timeout_ms if timeout_ms is None else timeout_ms
        g.zhsearch_budget = ctx.budget = request_budget(ms, request.environ)
    return ctx


def request_budget(timeout_ms: int, environ: dict[str, Any]) -> Budget:
    """A budget of `timeout_ms` (0: none) with the server's client-gone probe, if it has one."""
    return Budget(timeout_ms / 1000 if timeout_ms > 0 else None, cancelled=client_gone(environ))


def client_gone(environ: dict[str, Any]) -> Callable[[], bool] | None:
    """A cheap `() -> bool` saying the client closed its connection, or None when the server
    cannot tell: waitress's `waitress.client_disconnected` (needs channel_request_lookahead ≥ 1),
    or a non-blocking peek at gunicorn's socket (an orderly close reads as b"")."""
    probe = environ.get("waitress.client_disconnected")
    if callable(probe):
        return probe
    sock = environ.get("gunicorn.socket")
    if sock is not None and hasattr(sock, "recv") and hasattr(sock, "fileno"):
        return lambda: _socket_closed(sock)
    return None


def _socket_closed(sock: Any) -> bool:
    try:
        # Poll first: a socket with a timeout would wait in recv() even with MSG_DONTWAIT.
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False  # nothing to read: still connected
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except (OSError, ValueError):
        return True  # reset, or already closed


def close_search_context(_exc: BaseException | None = None) -> None:
    """Teardown: close the context if this request opened one."""
    g.pop("zhsearch_budget", None)
    ctx = g.pop("zhsearch_context", None)
    if ctx is not None:
        ctx.close()
