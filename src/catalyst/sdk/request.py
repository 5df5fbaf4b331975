"""The request object a plugin route handler and middleware receive."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request as _StarletteRequest

from catalyst.auth.sessions import Principal
from catalyst.sdk.errors import HTTPError

_NO_BODY = object()


class Request(_StarletteRequest):
    """A Starlette request plus what plugins need most.

    - ``request.path_params``: parameters from the route path (``/items/{id:int}``).
    - ``request.query``: query string as a plain ``dict`` (last value wins).
    - ``await request.json()``: the JSON body; invalid JSON answers 400 on its own.
    - ``request.user``: the logged-in user (``None`` on a public route without login).
    - ``request.plugin``: the name of the plugin serving the request.
    """

    @property
    def query(self) -> dict[str, str]:
        return dict(self.query_params)

    @property
    def user(self) -> Principal | None:
        principal: Principal | None = self.scope.get("catalyst.principal")
        return principal

    @property
    def plugin(self) -> str:
        name: str = self.scope["catalyst.plugin"]
        return name

    async def json(self) -> Any:
        cached = self.scope.get("catalyst.json", _NO_BODY)
        if cached is not _NO_BODY:
            return cached
        body = await self.body()
        if not body:
            value: Any = None
        else:
            try:
                value = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise HTTPError(400, f"Request body is not valid JSON: {exc}") from exc
            except RecursionError as exc:
                raise HTTPError(400, "Request body is JSON nested too deeply") from exc
        self.scope["catalyst.json"] = value
        return value
