"""An OpenAPI document that says what the API really answers.

FastAPI documents a 422 with its own error model for every operation that validates input; this
API answers such errors ``400`` with its envelope ``{"success": false, "error": "..."}`` (see
``api/exception_handlers.py``). :func:`install_openapi` rewrites the generated document once:
every 422 becomes a 400 with the envelope, every operation documents its other errors (401, 403,
404, 405, 409, 413, 429, 503 …) as a ``default`` response with the envelope (the success answers
are documented by the routes' response models, ``api/schemas``); those answering files say so.
Operations that need a login name the bearer token and the session cookie as their security;
links say which call may follow another.
"""

from __future__ import annotations

import typing
from typing import Any, Final

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

ERROR: Final = "ErrorEnvelope"

_SCHEMAS: Final[dict[str, Any]] = {
    ERROR: {
        "title": ERROR,
        "type": "object",
        "required": ["success", "error"],
        "properties": {
            "success": {"type": "boolean", "enum": [False]},
            "error": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Why each field was refused (config validation)",
            },
        },
    },
}


#: OpenAPI links (what a generated client, or a stateful fuzzer, may call next with a value of
#: the answer): (path, method, status) → link name → (target path, method, parameters).
LINKS: Final[dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]]] = {
    ("/api/servers", "post", "201"): {
        "GetServer": ("/api/servers/{server_id}", "get", {"server_id": "$response.body#/data/id"}),
        "StartServer": (
            "/api/servers/{server_id}/start",
            "post",
            {"server_id": "$response.body#/data/id"},
        ),
        "StopServer": (
            "/api/servers/{server_id}/stop",
            "post",
            {"server_id": "$response.body#/data/id"},
        ),
        "DeleteServer": (
            "/api/servers/{server_id}",
            "delete",
            {"server_id": "$response.body#/data/id"},
        ),
    },
    ("/api/plugins", "get", "200"): {
        "GetPlugin": ("/api/plugins/{name}", "get", {"name": "$response.body#/data/0/name"}),
        "PluginLogs": ("/api/plugins/{name}/logs", "get", {"name": "$response.body#/data/0/name"}),
        "ReloadPlugin": (
            "/api/plugins/{name}/reload",
            "post",
            {"name": "$response.body#/data/0/name"},
        ),
    },
}


#: How a caller authenticates: a bearer token (``POST /api/auth/login`` answers one) or the
#: session cookie the login sets.
def security_schemes(cookie_name: str) -> dict[str, Any]:
    return {
        "bearerAuth": {"type": "http", "scheme": "bearer"},
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": cookie_name},
    }


def _needs_login(route: RouteContext) -> bool:
    """True when the route depends on ``current_principal`` or a ``require(...)`` check."""
    original = route.original_route
    if not isinstance(original, APIRoute):
        return False
    pending = list(original.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        name = getattr(dependency.call, "__name__", "")
        if name == "current_principal" or name.startswith("require_"):
            return True
        pending.extend(dependency.dependencies)
    return False


def _operation_ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _add_links(schema: dict[str, Any]) -> None:
    paths = schema.get("paths", {})
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        response["links"] = {
            name: {"operationRef": _operation_ref(target, verb), "parameters": params}
            for name, (target, verb, params) in links.items()
            if verb in paths.get(target, {})
        }


def _json(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def _answers(route: RouteContext) -> type[Response] | None:
    """The Response class an endpoint declares it returns, if any."""
    if not isinstance(route.original_route, APIRoute) or route.endpoint is None:
        return None
    try:
        returned = typing.get_type_hints(route.endpoint).get("return")
    except (NameError, TypeError):
        return None
    return returned if isinstance(returned, type) and issubclass(returned, Response) else None


def rewrite(schema: dict[str, Any], app: FastAPI, cookie_name: str) -> dict[str, Any]:
    schemes = security_schemes(cookie_name)
    answers = {
        (route.path_format, method.lower()): returned
        for route in iter_route_contexts(app.routes)
        if (returned := _answers(route)) is not None
        for method in route.methods or ()
    }
    secured = {
        (route.path_format, method.lower())
        for route in iter_route_contexts(app.routes)
        if _needs_login(route)
        for method in route.methods or ()
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if (path, method) in secured:
                operation["security"] = [{name: []} for name in schemes]
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses["400"] = _json(ERROR, "Invalid request: a parameter or the body")
            responses["default"] = _json(ERROR, "Any other error, in the error envelope")
            returned = answers.get((path, method))
            if returned is None or not issubclass(returned, FileResponse):
                continue
            for status, response in responses.items():
                ok = response.get("content", {}).get("application/json")
                if status.startswith("2") and ok is not None and not ok.get("schema"):
                    response["content"] = {
                        "*/*": {"schema": {"type": "string", "format": "binary"}}
                    }
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(_SCHEMAS)
    schema["components"].setdefault("securitySchemes", {}).update(schemes)
    _add_links(schema)
    return schema


def install_openapi(app: FastAPI, *, cookie_name: str) -> None:
    generate = app.openapi
    rewritten: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, cached until the routes change
        if rewritten != [id(schema)]:
            rewritten[:] = [id(rewrite(schema, app, cookie_name))]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
