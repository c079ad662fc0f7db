"""The one JSON error shape of the API, and the error handlers that route every failure to it
(under /api) or to the error page (everywhere else)."""

from __future__ import annotations

from typing import Literal

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from index.store import IndexMissing, IndexOutdated
from search.request import BadRequest

ErrorCode = Literal["bad_query", "bad_parameter", "not_found", "index_unavailable", "internal"]

# Titles of the error page, by status.
_TITLES = {
    400: "请求有误",
    404: "未找到",
    405: "不支持的请求方法",
    500: "服务器内部错误",
    503: "索引暂不可用",
}


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


def error_response(code: ErrorCode, message: str, status: int) -> Response | tuple[str, int]:
    """JSON under /api, the error page elsewhere."""
    if _wants_json():
        return json_error(code, message, status)
    title = _TITLES.get(status, "出错了")
    return render_template("error.html", status=status, title=title, message=message), status


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    """Install handlers so no failure escapes as Werkzeug's HTML page or a bare traceback."""

    @app.errorhandler(BadRequest)
    def _bad_request(exc: BadRequest):
        return error_response(exc.code, exc.message, exc.status)

    @app.errorhandler(IndexMissing)
    @app.errorhandler(IndexOutdated)
    def _index_unavailable(exc: Exception):
        return error_response("index_unavailable", str(exc), 503)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        response = app.make_response(error_response(_code_for(status), _http_message(exc), status))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return error_response("internal", "服务器内部错误，请稍后再试", 500)


def _http_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"没有这个地址：{request.path}"
    if exc.code == 405:
        return f"{request.method} 不能用于 {request.path}"
    return exc.description or exc.name
