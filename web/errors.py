"""The one JSON error shape of the API, and the error handlers that route every failure to it
(under /api) or to the error page (everywhere else)."""

from __future__ import annotations

import struct
import threading
import zlib
from typing import Literal

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from zhsearch.index.store import IndexProblem
from zhsearch.search.budget import SearchCancelled, SearchTimeout
from zhsearch.search.context import SearchContext
from zhsearch.search.request import BadRequest
from zhsearch.web.context import SETTINGS_KEY

ErrorCode = Literal[
    "bad_query",
    "bad_parameter",
    "not_found",
    "timeout",
    "overloaded",
    "index_unavailable",
    "internal",
]

# Titles of the error page, by status.
_TITLES = {
    400: "请求有误",
    404: "未找到",
    405: "不支持的请求方法",
    431: "请求头太大",
    500: "服务器内部错误",
    503: "暂时无法回答",
}
# The HTTP status of each library error: statuses live in the web layer, not below it.
STATUS: dict[type[Exception], int] = {BadRequest: 400, IndexProblem: 503, SearchTimeout: 503}
CLIENT_GONE_STATUS = 499  # nginx's "client closed request": logged, never read by anyone
# Exceptions that reading a damaged index file raises (besides whoosh's own and OSError).
_READ_ERRORS = (struct.error, zlib.error, EOFError)
_broken: dict[str, str] = {}  # generation directory → why it could not be read (this process)
_broken_lock = threading.Lock()


def json_error(code: ErrorCode, message: str, status: int) -> Response:
    """`{"ok": false, "error": {"code", "message"}}` with `status`: the one API error shape."""
    response = jsonify({"ok": False, "error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _code_for(status: int) -> ErrorCode:
    if status == 404:
        return "not_found"
    if status == 503:
        return "index_unavailable"
    if status >= 500:
        return "internal"
    return "bad_parameter"


def error_response(code: ErrorCode, message: str, status: int) -> Response:
    """JSON under /api, the error page elsewhere; a 503 says when to try again."""
    if _wants_json():
        response = json_error(code, message, status)
    else:
        title = _TITLES.get(status, "出错了")
        page = render_template("error.html", status=status, title=title, message=message)
        response = current_app.make_response((page, status))
    if status == 503:
        response.headers["Retry-After"] = str(current_app.config[SETTINGS_KEY].retry_after_s)
    return response


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def index_unreadable(ctx: SearchContext) -> str | None:
    """Why this process found the index `ctx` reads unreadable (a search hit a damaged file),
    or None."""
    with _broken_lock:
        return _broken.get(str(ctx.cache_key))


def _unreadable_index(exc: BaseException) -> str | None:
    """The reason when `exc` came from reading index files (whoosh code, or a read error inside
    it) rather than from a bug of ours; None otherwise."""
    whoosh_frame = False
    tb = exc.__traceback__
    while tb is not None:
        if "/whoosh/" in tb.tb_frame.f_code.co_filename.replace("\\", "/"):
            whoosh_frame = True
            break
        tb = tb.tb_next
    module = type(exc).__module__ or ""
    if not (module.startswith("whoosh") or whoosh_frame):
        return None
    if not (module.startswith("whoosh") or isinstance(exc, (*_READ_ERRORS, OSError))):
        return None
    detail = str(exc).split(". ")[0][:200]
    return (
        f"索引文件无法读取（{type(exc).__name__}: {detail}），"
        "请运行 zhsearch index --rebuild 重建索引"
    )


def register_error_handlers(app: Flask) -> None:
    """Install handlers so no failure escapes as Werkzeug's HTML page or a bare traceback."""

    @app.errorhandler(BadRequest)
    def _bad_request(exc: BadRequest):
        return error_response(exc.code, exc.message, STATUS[BadRequest])

    @app.errorhandler(IndexProblem)
    def _index_unavailable(exc: IndexProblem):
        return error_response("index_unavailable", str(exc), STATUS[IndexProblem])

    @app.errorhandler(SearchTimeout)
    def _timeout(exc: SearchTimeout):
        return error_response("timeout", exc.message, STATUS[SearchTimeout])

    @app.errorhandler(SearchCancelled)
    def _cancelled(_exc: SearchCancelled):
        # Nobody reads this: the client hung up. Close the connection, log nothing more.
        return Response(b"", status=CLIENT_GONE_STATUS, headers={"Connection": "close"})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        response = error_response(_code_for(status), _http_message(exc), status)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        reason = _unreadable_index(exc)
        ctx = g.get("zhsearch_context")
        if reason is not None:
            app.logger.error("index unreadable on %s: %r", request.path, exc)
            if ctx is not None:
                try:
                    key = str(ctx.cache_key)
                except Exception:  # the reader itself is unusable
                    key = str(ctx.index_path)
                with _broken_lock:
                    _broken[key] = reason
            return error_response("index_unavailable", reason, 503)
        app.logger.exception("unhandled error on %s", request.path)
        return error_response("internal", "服务器内部错误，请稍后再试", 500)


def _http_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"没有这个地址：{request.path}"
    if exc.code == 405:
        return f"{request.method} 不能用于 {request.path}"
    return exc.description or exc.name
