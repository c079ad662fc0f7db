"""Serving with several processes: gunicorn's pre-fork workers, each with threads.

One Python process uses one core for searching (the GIL), so `--workers N` runs N processes
behind one listening socket. The master builds the app and the quick per-generation caches
(facet arrays, date order) before forking (`preload_app`), so workers answer at once and share
them copy-on-write; each worker still opens a searcher per request and warms the slow caches
(lexicons, suggestions) in its own background thread after the fork.
"""

from __future__ import annotations

import gc
from typing import Any

from corpus.settings import Settings

_WARM_UP_DELAY_S = 1.0  # workers answer the first requests after a start before warming up


def serve_prefork(settings: Settings) -> None:
    """Serve with `settings.workers` gunicorn workers of `settings.threads` threads each."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # Windows: gunicorn needs fork
        import click

        raise click.ClickException(
            "--workers above 1 needs gunicorn, which does not run on this platform"
        ) from None

    host = f"[{settings.host}]" if ":" in settings.host else settings.host

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{settings.port}",
                "workers": settings.workers,
                "threads": settings.threads,
                "worker_class": "gthread",
                "preload_app": True,
                "timeout": 120,
                "graceful_timeout": 10,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "post_worker_init": _post_worker_init,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from web.app import create_app

            app = create_app({"ZHSEARCH_SETTINGS": settings})
            if settings.warm_up:
                from search.warmup import warm_now

                warm_now(settings)
            gc.freeze()  # what the workers inherit stays shared: their collections skip it
            return app

    def _post_worker_init(_worker: Any) -> None:
        if not settings.warm_up:
            return
        from search.context import open_context
        from search.warmup import warm_in_background

        try:
            # Registering the generation now keeps the first request from starting a warm-up
            # at once: the slow steps would halve its share of the GIL.
            with open_context(settings) as ctx:
                warm_in_background(settings, ctx, delay=_WARM_UP_DELAY_S)
        except Exception:  # no usable index yet: the first request that opens one warms it
            pass

    _Server().run()
