"""The Flask application factory: `flask --app web.app run` finds `create_app`."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Flask, Response

from corpus.settings import Settings
from web.api import bp as api_bp
from web.context import SETTINGS_KEY, close_search_context
from web.errors import register_error_handlers
from web.pages import bp as pages_bp

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

    app = Flask(__name__)
    app.config.update(config)
    app.config[SETTINGS_KEY] = settings
    app.json.ensure_ascii = False  # Chinese as UTF-8, not \u escapes
    app.json.sort_keys = False  # keep the documented field order
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.teardown_appcontext(close_search_context)
    app.after_request(_security_headers)
    register_error_handlers(app)
    return app


def _security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
