"""The JSON envelope every API answer uses."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse as _StarletteJSON

#: Starlette's ``json.dumps`` arguments, in one encoder made once (same bytes, less work).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class JSONResponse(_StarletteJSON):
    """Starlette's JSON answer, which can also carry text holding a lone surrogate (stored
    before such input was refused, or made by plugin code): such text cannot be UTF-8, so the
    body falls back to ASCII escapes (``\\ud800``, valid JSON) instead of failing with a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return _ENCODER.encode(content).encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
            return text.encode("ascii")


def ok(data: Any = None, message: str | None = None, status_code: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"success": True}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["message"] = message
    return JSONResponse(body, status_code=status_code)


def fail(error: str, status_code: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"success": False, "error": error}, status_code=status_code, headers=headers
    )
