"""The JSON answer class of the API, and the error envelope (success answers are the response
models of :mod:`catalyst.api.schemas`, in :class:`~catalyst.api.schemas.base.Envelope`).

The API's routers set ``default_response_class=JSONResponse`` (this one): FastAPI then dumps a
route's model to JSON-ready Python and this class renders it, as every answer was rendered before
the models (``json.dumps`` spacing and number format, the lone-surrogate fallback below), instead
of its own direct-to-bytes path."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse as _StarletteJSON

from catalyst.api.schemas.base import ErrorEnvelope

#: Starlette's ``json.dumps`` arguments, in one encoder made once (same bytes, less work).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_CONTENT_TYPE = b"application/json"


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

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        # Starlette's headers for a JSON body and no headers of its own, built directly.
        status = self.status_code
        if (
            headers is None
            and type(status) is int
            and status >= 200
            and status not in (204, 304)
            and self.media_type == "application/json"
        ):
            self.raw_headers = [
                (b"content-length", str(len(self.body)).encode("latin-1")),
                (b"content-type", _CONTENT_TYPE),
            ]
            return
        super().init_headers(headers)


def fail(error: str, status_code: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error envelope (:class:`ErrorEnvelope`)."""
    body = ErrorEnvelope(error=error).model_dump()
    return JSONResponse(body, status_code=status_code, headers=headers)
