"""Serving with several processes: gunicorn's pre-fork workers, each with threads.

One Python process uses one core for searching (the GIL), so `--workers N` runs N processes
behind one listening socket. The master builds the app and the quick per-generation caches
(facet arrays, date order) before forking (`preload_app`), so workers answer at once and share
them copy-on-write; each worker still opens a searcher per request and warms the slow caches
(lexicons, suggestions) in its own background thread after the fork.
"""

from __future__ import annotations

import functools
import gc
from typing import Any

from zhsearch.index.settings import Settings
from zhsearch.search.cache import SearchCaches
from zhsearch.web.context import app_caches
from zhsearch.web.serving import ShedLoad, set_queue_depth

_WARM_UP_DELAY_S = 1.0  # workers answer the first requests after a start before warming up
_GUNICORN_LINE_MAX = 8190  # gunicorn refuses larger limit_request_line values
_read_timeout_s: float = 20.0  # set by serve_prefork before the workers fork


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn settings that bound slow clients and queueing (besides bind and workers).

    `worker_connections` caps the connections a worker holds (threads busy plus a bounded
    queue); beyond it the kernel backlog (`listen_backlog`) holds them and then refuses.
    Request line and header fields are capped (gunicorn answers 400/431 itself); the worker
    class gives each read of a request a `request_read_timeout_s` socket timeout, because
    gthread reads a request's headers on a blocking socket with none.
    """
    line = min(settings.max_url_bytes + 64, settings.max_header_bytes, _GUNICORN_LINE_MAX)
    return {
        "threads": settings.threads,
        "worker_class": "zhsearch.web.prefork.TimedThreadWorker",
        "worker_connections": settings.threads + settings.max_queued_requests,
        "backlog": settings.listen_backlog,
        "keepalive": min(5, settings.channel_timeout_s),
        # the master restarts a worker whose main loop is stuck this long (threads finish
        # their own requests within their time budget)
        "timeout": max(30, settings.export_timeout_ms // 1000 * 2),
        "limit_request_line": line,
        "limit_request_fields": 100,
        "limit_request_field_size": min(settings.max_header_bytes, _GUNICORN_LINE_MAX),
    }


def _pool_queue(worker: Any) -> int:
    """Requests waiting for a thread of a gthread worker (its executor's work queue)."""
    queue = getattr(getattr(worker, "tpool", None), "_work_queue", None)
    return queue.qsize() if queue is not None else 0


class _ReadTimeoutSocket:
    """A client socket whose blocking mode has a timeout: gthread calls `setblocking(True)`
    before it reads a request, which would otherwise wait for a slow client forever."""

    __slots__ = ("_sock", "_timeout")

    def __init__(self, sock: Any, timeout: float) -> None:
        self._sock = sock
        self._timeout = timeout

    def setblocking(self, flag: bool) -> None:
        """Blocking means "with the read timeout"; non-blocking is passed on."""
        if flag:
            self._sock.settimeout(self._timeout)
        else:
            self._sock.setblocking(False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@functools.cache
def _thread_worker() -> type:
    from gunicorn.workers.gthread import ThreadWorker

    class TimedThreadWorker(ThreadWorker):  # type: ignore[misc]
        """gunicorn's gthread worker with a read timeout on every client socket."""

        def enqueue_req(self, conn: Any) -> None:
            if not isinstance(conn.sock, _ReadTimeoutSocket):
                conn.sock = _ReadTimeoutSocket(conn.sock, _read_timeout_s)
            super().enqueue_req(conn)

    return TimedThreadWorker


def __getattr__(name: str) -> Any:
    """`TimedThreadWorker` is built on first use: gunicorn is not importable everywhere."""
    if name == "TimedThreadWorker":
        return _thread_worker()
    raise AttributeError(name)


def serve_prefork(settings: Settings) -> None:
    """Serve with `settings.workers` gunicorn workers of `settings.threads` threads each."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # Windows: gunicorn needs fork
        import click

        raise click.ClickException(
            "--workers above 1 needs gunicorn, which does not run on this platform"
        ) from None

    global _read_timeout_s
    _read_timeout_s = float(settings.request_read_timeout_s)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    caches: list[SearchCaches] = []  # the preloaded app's, which every forked worker inherits

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{settings.port}",
                "workers": settings.workers,
                "preload_app": True,
                "graceful_timeout": 10,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "post_worker_init": _post_worker_init,
                **gunicorn_options(settings),
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from zhsearch.web.app import create_app

            flask_app = create_app({"ZHSEARCH_SETTINGS": settings})
            app = ShedLoad(flask_app, settings)
            caches.append(app_caches(flask_app))
            if settings.warm_up:
                from zhsearch.search.warmup import warm_now

                warm_now(settings, caches[0])
            gc.freeze()  # what the workers inherit stays shared: their collections skip it
            return app

    def _post_worker_init(worker: Any) -> None:
        set_queue_depth(lambda: _pool_queue(worker))
        if not settings.warm_up:
            return
        from zhsearch.search.context import open_context
        from zhsearch.search.warmup import warm_in_background

        try:
            # Registering the generation now keeps the first request from starting a warm-up
            # at once: the slow steps would halve its share of the GIL.
            with open_context(settings, caches[0]) as ctx:
                warm_in_background(settings, caches[0], ctx.cache_key, delay=_WARM_UP_DELAY_S)
        except Exception:  # no usable index yet: the first request that opens one warms it
            pass

    _Server().run()
