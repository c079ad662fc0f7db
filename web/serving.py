"""The production server's guards against slow clients and overload (waitress; `web/prefork.py`
uses the same shedding middleware under gunicorn).

- Slow clients: an idle or half-sent connection is closed after `channel_timeout_s`, a request
  that takes longer than `request_read_timeout_s` to arrive is closed too (waitress itself only
  times out *idle* connections, so a client trickling a byte a second would stay), headers are
  capped at `max_header_bytes` (a 431 in the API's JSON error shape), and `connection_limit`
  is high enough that a hundred such clients do not lock everyone out while they last.
- Overload: requests waiting for a thread beyond `max_queued_requests` are answered 503 with
  Retry-After at once instead of queueing without bound, and a request whose client hung up
  while it waited is dropped unanswered.
- `channel_request_lookahead=1` lets waitress notice a client that hangs up during a search
  (`waitress.client_disconnected`, the cancellation probe of the request's budget).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from zhsearch.index.settings import Settings
from zhsearch.web.context import SETTINGS_KEY, app_caches, client_gone

_RECV_BYTES = 8192  # one read of a channel; the whole request is capped by max_header_bytes
_MAX_BODY_BYTES = 65536  # every route is a GET: a body is never needed
_HTML_BUSY = (
    "<!doctype html><meta charset=utf-8><title>服务器繁忙</title>"
    "<h1>服务器繁忙</h1><p>请求太多，请稍后再试。</p>"
).encode()

_queue_depth: Callable[[], int] = lambda: 0  # noqa: E731 - replaced by the server in use


def waitress_options(settings: Settings) -> dict[str, Any]:
    """The waitress adjustments `serve` uses (keyword arguments of `waitress.create_server`)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "threads": settings.threads,
        "ident": "zhsearch",
        "connection_limit": settings.connection_limit,
        "channel_timeout": settings.channel_timeout_s,
        # maintenance runs this often; it enforces channel_timeout and the request-read limit
        "cleanup_interval": max(1, min(30, settings.channel_timeout_s // 3)),
        "max_request_header_size": settings.max_header_bytes,
        "max_request_body_size": _MAX_BODY_BYTES,
        "recv_bytes": _RECV_BYTES,
        "backlog": settings.listen_backlog,
        "channel_request_lookahead": 1,
        "asyncore_use_poll": True,  # select() cannot watch more than 1024 sockets
    }


def set_queue_depth(probe: Callable[[], int]) -> None:
    """Tell the shedding middleware how to count requests waiting for a thread."""
    global _queue_depth
    _queue_depth = probe


class ShedLoad:
    """WSGI middleware: 503 + Retry-After at once when more than `max_queued_requests` wait for
    a thread (cheap answers drain the queue), nothing at all for a client already gone
    (waitress's probe, or a peek at gunicorn's socket)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], settings: Settings) -> None:
        self.app = app
        self.max_queued = settings.max_queued_requests
        self.retry_after = str(settings.retry_after_s)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        gone = client_gone(environ)
        if gone is not None and gone():
            start_response("499 Client Closed Request", [("Content-Length", "0")])
            return [b""]
        waiting = _queue_depth()
        if waiting > self.max_queued:
            path = environ.get("PATH_INFO", "")
            if path == "/api" or path.startswith("/api/"):
                message = f"服务器繁忙（{waiting} 个请求在排队），请 {self.retry_after} 秒后再试"
                error = {"code": "overloaded", "message": message}
                body = json.dumps({"ok": False, "error": error}, ensure_ascii=False).encode()
                kind = "application/json"
            else:
                body, kind = _HTML_BUSY, "text/html; charset=utf-8"
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", kind),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", self.retry_after),
                    ("X-Content-Type-Options", "nosniff"),
                ],
            )
            return [body]
        return self.app(environ, start_response)


def create_waitress_server(app: Any, settings: Settings, **overrides: Any) -> Any:
    """A waitress server for `app` with the options above, load shedding and the slow-request
    limit; `.run()` serves, `.close()` stops. `overrides` change waitress options (tests)."""
    from waitress.server import BaseWSGIServer, create_server
    from waitress.task import ThreadedTaskDispatcher

    options = {**waitress_options(settings), **overrides}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(options["threads"])
    set_queue_depth(lambda: len(dispatcher.queue))
    server = create_server(ShedLoad(app, settings), _dispatcher=dispatcher, **options)
    listeners = [server] if isinstance(server, BaseWSGIServer) else list(server.map.values())
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            _guard(listener, settings.request_read_timeout_s)
    return server


def serve(settings: Settings) -> None:
    """Serve the page and the API until interrupted: gunicorn's pre-fork workers when
    `workers` > 1, else one waitress process with the guards above, warmed up at start."""
    if settings.workers > 1:
        from zhsearch.web.prefork import serve_prefork

        serve_prefork(settings)
        return
    from zhsearch.search.warmup import warm_in_background
    from zhsearch.web.app import create_app

    app = create_app({SETTINGS_KEY: settings})
    server = create_waitress_server(app, settings)  # binds now: a busy port fails before warming
    if settings.warm_up:
        warm_in_background(settings, app_caches(app))
    _run(server)


def _run(server: Any) -> None:
    try:
        server.run()
    finally:
        server.close()


def _guard(listener: Any, read_timeout_s: int) -> None:
    """Give one listening socket the JSON error channel and the request-read time limit."""
    listener.channel_class = _channel_class()
    plain = listener.maintenance

    def maintenance(now: float) -> None:
        plain(now)
        cutoff = time.monotonic() - read_timeout_s
        for channel in list(listener.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is not None and started < cutoff and not channel.requests:
                channel.will_close = True  # closed by the main loop at its next pass

    listener.maintenance = maintenance


_CHANNEL: type | None = None


def _channel_class() -> type:
    """waitress's channel, remembering when the request being read began, with its own errors
    (431, 400…) in the API's JSON shape."""
    global _CHANNEL
    if _CHANNEL is not None:
        return _CHANNEL
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class JsonErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            error = self.request.error
            if error.code == 431:
                message = (
                    f"请求头太大，最多 {self.channel.adj.max_request_header_size} 字节；"
                    "请缩短地址或减少筛选条件"
                )
            else:
                message = f"无法解析的请求：{error.reason}（{error.body}）"
            code = "internal" if error.code >= 500 else "bad_parameter"
            body = json.dumps(
                {"ok": False, "error": {"code": code, "message": message}}, ensure_ascii=False
            ).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class GuardedChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = JsonErrorTask
        request_started: float | None = None

        def received(self, data: bytes) -> bool:
            if self.request is None and data and self.request_started is None:
                self.request_started = time.monotonic()
            result = super().received(data)
            if self.request is None:
                self.request_started = None  # every request read so far is complete
            return result

    _CHANNEL = GuardedChannel
    return _CHANNEL
