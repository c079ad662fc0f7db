"""The web layer: the Flask app (pages + JSON API) and the CLI.

`flask --app zhsearch.web run` finds `create_app` here; it is imported lazily so that the CLI can be
imported (and every command but `serve` run) without loading flask.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from zhsearch.web.app import create_app

        return create_app
    raise AttributeError(name)
