"""A plugin's WebSocket handler as registered: the callable, how to call it, who may reach it.

Handlers are called by their shape, decided once at registration: ``handler(data, client_id)``
(the seed's shape, and any ``*args`` handler), ``handler(data, client_id, client)`` when the
handler takes a third positional parameter, ``client=`` when it has a keyword parameter named
``client``; ``handler(data)`` and ``handler()`` work too. ``client`` is a
:class:`catalyst.sdk.WebSocketClient`: the connection id and its user.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalyst.auth.sessions import Principal
from catalyst.plugins.callables import is_async
from catalyst.sdk.context import WebSocketClient

#: A plugin's handler as written (see the module docstring for the shapes it may take).
WsHandler = Callable[..., Any]


def client_of(client_id: str, principal: Principal) -> WebSocketClient:
    return WebSocketClient(
        id=client_id,
        user_id=principal.user_id,
        username=principal.username,
        roles=principal.roles,
        permissions=principal.permissions,
    )


@dataclass(eq=False)
class WsHandlerSpec:
    """One registered handler. Calling the spec calls the handler as it was written."""

    handler: Callable[..., Any]
    permission: str | None = None
    positional: int = field(init=False)
    keyword_client: bool = field(init=False)
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        self.positional, self.keyword_client = _shape(self.handler)
        self.is_async = is_async(self.handler)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.handler(*args, **kwargs)

    def arguments(
        self, data: Any, client: WebSocketClient
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword arguments for this handler's shape."""
        full = (data, client.id, client)
        kwargs = {"client": client} if self.keyword_client else {}
        return full[: self.positional], kwargs


def _shape(fn: Callable[..., Any]) -> tuple[int, bool]:
    """(positional arguments to pass: 0 to 3, whether to pass ``client=``)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return 2, False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2, False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    count = min(len(positional), 3)
    keyword = any(
        p.name == "client" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in params
        if p not in positional[:count]
    )
    return count, keyword
