"""Serve the admin web UI (the built React app in ``frontend/dist``) at ``/``.

Files of ``dist`` are served as they are; any other path that is not the API's falls back to
``index.html`` so that client-side routes (``/plugins/example-plugin``) survive a reload. The API
(``/api/...``), the WebSocket (``/ws``) and the OpenAPI pages are never answered from here, so an
unknown API path stays a JSON 404. ``dist`` is looked at on every request: building the UI while
the server runs needs no restart, and a missing build answers a short page saying how to get one.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from starlette.datastructures import URLPath
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

__all__ = ["UI_EXCLUDED_PREFIXES", "UIRoute", "mount_ui"]

#: Paths the UI never answers (exact, or followed by ``/``).
UI_EXCLUDED_PREFIXES: Final = ("/api", "/ws", "/docs", "/redoc", "/openapi.json", "/metrics")

#: Vite puts content-hashed files here: they never change, so browsers may keep them for good.
_ASSETS_DIR: Final = "assets"
_IMMUTABLE: Final = "public, max-age=31536000, immutable"
_REVALIDATE: Final = "no-cache"

# Some systems map .js to text/plain; browsers refuse ES modules served with it.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/json", ".map")

_NOT_BUILT: Final = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Catalyst</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:16px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;
color:#1f2937}code{background:#f3f4f6;padding:.1em .4em;border-radius:4px}
</style></head>
<body>
<h1>Catalyst is running</h1>
<p>The admin web UI has not been built yet. Run <code>make run</code>: it builds the UI
(<code>frontend/</code>, needs Node 20) and serves it here. To build it alone:
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>
<p>The API works meanwhile: see <a href="/docs">/docs</a>.</p>
</body>
</html>
"""


def is_excluded(path: str) -> bool:
    """True for the paths of the API, the WebSocket and the OpenAPI pages."""
    return any(path == p or path.startswith(p + "/") for p in UI_EXCLUDED_PREFIXES)


class UIRoute(BaseRoute):
    """A catch-all route for GET and HEAD of every path :func:`is_excluded` leaves to the UI."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or is_excluded(scope["path"]):
            return Match.NONE, {}
        return Match.FULL, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.respond(scope["method"], scope["path"])
        await response(scope, receive, send)

    def respond(self, method: str, path: str) -> Response:
        if method not in ("GET", "HEAD"):
            return PlainTextResponse("Method not allowed", 405, headers={"Allow": "GET, HEAD"})
        root = self.dist.resolve()
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, headers={"Cache-Control": _REVALIDATE})
        relative = path.lstrip("/")
        if relative and "\x00" not in relative:
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                in_assets = candidate.is_relative_to(root / _ASSETS_DIR)
                cache = _IMMUTABLE if in_assets else _REVALIDATE
                return FileResponse(candidate, headers={"Cache-Control": cache})
            if relative.startswith(_ASSETS_DIR + "/"):
                # A missing bundle file must not come back as HTML (the browser would try to
                # run it): it is an old tab asking for a build that was replaced.
                return PlainTextResponse("Not found", 404)
        return FileResponse(index, headers={"Cache-Control": _REVALIDATE})


def mount_ui(app: FastAPI, dist: Path) -> None:
    """Serve the UI built into ``dist`` at ``/``. Call it after every other route is added."""
    if getattr(app.state, "ui_mounted", False):
        return
    app.state.ui_mounted = True
    app.router.routes.append(UIRoute(dist))
