"""The Catalyst plugin SDK: the only package plugin authors import.

>>> from catalyst.sdk import PluginContext, Request
"""

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from catalyst.auth.sessions import Principal as User
from catalyst.sdk.context import (
    Database,
    Logger,
    Middleware,
    PluginContext,
    Unregister,
    WebSocketClient,
)
from catalyst.sdk.errors import (
    ConfigError,
    HTTPError,
    PluginError,
    PluginPermissionError,
    RegistrationError,
)
from catalyst.sdk.hooks import HOOKS
from catalyst.sdk.request import Request

__all__ = [
    "HOOKS",
    "ConfigError",
    "Database",
    "HTMLResponse",
    "HTTPError",
    "JSONResponse",
    "Logger",
    "Middleware",
    "PlainTextResponse",
    "PluginContext",
    "PluginError",
    "PluginPermissionError",
    "RegistrationError",
    "Request",
    "Response",
    "Unregister",
    "User",
    "WebSocketClient",
]
