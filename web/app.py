"""The Flask application factory: `flask --app zhsearch.web.app run` finds `create_app`."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Flask, Response, current_app, request

from zhsearch.index.settings import Settings
from zhsearch.search.cache import SearchCaches
from zhsearch.web.api import bp as api_bp
from zhsearch.web.context import CACHES_KEY, SETTINGS_KEY, close_search_context
from zhsearch.web.errors import error_response, register_error_handlers
from zhsearch.web.pages import bp as pages_bp
from zhsearch.web.render import RENDERED_KEY, rendered_cache

_SETTING_NAMES = frozenset(f.name for f in fields(Settings))

# Defence in depth behind autoescaping and nh3: only our own script, style and forms, no frames,
# no plugins; referrers (which carry queries) never leave the site.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` may hold `ZHSEARCH_SETTINGS` (a Settings), setting names
    (`index_dir`, `page_size`…) and ordinary Flask config keys."""
    config = dict(config or {})
    settings = config.pop(SETTINGS_KEY, None)
    overrides = {k: config.pop(k) for k in list(config) if k in _SETTING_NAMES}
    if settings is None:
        settings = Settings.load(overrides)
    elif overrides:
        settings = settings.replace(**overrides)

    # No rule merges slashes: `/api//search` was answered with a redirect whose Location
    # Werkzeug builds from the Host header, so a forged Host sent clients to a foreign site.
    # Flask adds its static route in the constructor, so that one is added here, after.
    app = Flask(__name__, static_folder=None)
    app.url_map.merge_slashes = False
    app.static_folder = "static"
    app.add_url_rule(
        f"{app.static_url_path}/<path:filename>",
        endpoint="static",
        view_func=app.send_static_file,
    )
    app.config.update(config)
    app.config[SETTINGS_KEY] = settings
    app.extensions[CACHES_KEY] = SearchCaches(settings)
    app.extensions[RENDERED_KEY] = rendered_cache()
    app.json.ensure_ascii = False  # Chinese as UTF-8, not \u escapes
    app.json.sort_keys = False  # keep the documented field order
    app.before_request(_request_limits)
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.teardown_appcontext(close_search_context)
    app.after_request(_security_headers)
    register_error_handlers(app)
    return app


def _request_limits() -> Response | None:
    """Refuse an over-long URL or too many parameters with 400, before anything parses them
    (the query string is only counted here, in linear time)."""
    settings = current_app.config[SETTINGS_KEY]
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    query = request.query_string
    path_bytes = len(raw_uri.split("?", 1)[0]) or len(request.path.encode("utf-8"))
    size = path_bytes + (len(query) + 1 if query else 0)
    if size > settings.max_url_bytes:
        message = f"请求地址太长（{size} 字节），最多 {settings.max_url_bytes} 字节；请减少筛选条件"
        return error_response("bad_parameter", message, 400)
    if query and query.count(b"&") + 1 > settings.max_params:
        message = f"参数太多，最多 {settings.max_params} 个；请减少筛选条件"
        return error_response("bad_parameter", message, 400)
    return None


def _security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
