"""Serving with several processes: gunicorn's pre-fork workers, each with threads.

One Python process uses one core for searching (the GIL), so `--workers N` runs N processes
behind one listening socket. Each worker builds its own app (and its own per-generation caches,
warmed in the background after it starts); nothing is shared but the index files.
"""

from __future__ import annotations

from typing import Any

from corpus.settings import Settings


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

            return create_app({"ZHSEARCH_SETTINGS": settings})

    def _post_worker_init(_worker: Any) -> None:
        if settings.warm_up:
            from search.warmup import warm_in_background

            warm_in_background(settings)

    _Server().run()
