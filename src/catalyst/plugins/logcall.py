"""``ctx.logger`` call shapes: ours, the standard library's and the seed's (pino), never raising.

Accepted, for every level method:

- ours: ``info("message", key=value)``;
- stdlib: ``info("x=%s y=%d", x, y)``, ``error("msg", exc_info=True)`` (or an exception, or an
  ``exc_info`` tuple), ``info("msg", extra={...})``, ``stack_info=True``, ``stacklevel=``;
  ``log(logging.INFO or "info", ...)``, ``critical``/``fatal`` (logged as errors);
- the seed's: ``info("Received event:", data)`` (extra arguments are appended to the message,
  or fill ``%s``/``%d``/``%o``/``%j`` placeholders), ``error({"error": e}, "msg")`` (an object
  first: its keys become fields), ``error(err, "msg")`` (an exception first), ``trace``.

Exceptions among the values become ``"Type: message"`` and the first one's traceback is kept in
the ``traceback`` field. Whatever the arguments, a log call never raises.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from catalyst.plugins.logs import PluginLogger

_LEVELS = {"debug": "debug", "info": "info", "warning": "warning", "error": "error"}
_ALIASES = {"trace": "debug", "warn": "warning", "critical": "error", "fatal": "error"}
_PINO_PLACEHOLDER = re.compile(r"(?<!%)%[oOj]")
_NUMERIC = (
    ("error", logging.ERROR),
    ("warning", logging.WARNING),
    ("info", logging.INFO),
)
_MAX_DEPTH = 8
_MAX_TEXT = 10_000


def _text(value: Any) -> str:
    """A value as the seed's console would print it: strings as they are, data as JSON."""
    try:
        if isinstance(value, str):
            return value
        if isinstance(value, BaseException):
            return _describe(value)
        if isinstance(value, Mapping | list | tuple):
            return json.dumps(_safe(value), default=repr)[:_MAX_TEXT]
        return str(value)[:_MAX_TEXT]
    except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
        return f"<unprintable {type(value).__name__}>"


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
        return type(exc).__name__


def _safe(value: Any, depth: int = 0) -> Any:
    """A JSON-able copy of ``value``, bounded in depth (cycles end there too)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseException):
        return _describe(value)
    if depth >= _MAX_DEPTH:
        return "<nested too deeply>"
    if isinstance(value, Mapping):
        return {str(k): _safe(v, depth + 1) for k, v in list(value.items())}
    if isinstance(value, list | tuple | set | frozenset):
        return [_safe(v, depth + 1) for v in list(value)]
    try:
        return repr(value)[:_MAX_TEXT]
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break logging
        return f"<unprintable {type(value).__name__}>"


ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


def _exc_tuple(exc_info: Any) -> ExcInfo | None:
    if exc_info is None or exc_info is False:
        return None
    if isinstance(exc_info, BaseException):
        return type(exc_info), exc_info, exc_info.__traceback__
    if isinstance(exc_info, tuple):
        exc = exc_info[1] if len(exc_info) == 3 else None
        return (type(exc), exc, exc.__traceback__) if isinstance(exc, BaseException) else None
    current = sys.exc_info()
    return current if current[1] is not None else None


def normalize(
    args: tuple[Any, ...], kwargs: dict[str, Any], *, exc_default: bool = False
) -> tuple[str, dict[str, Any]]:
    """``(message, fields)`` for any accepted call shape."""
    kwargs = dict(kwargs)
    exc_info = kwargs.pop("exc_info", exc_default or None)
    extra = kwargs.pop("extra", None)
    stack_info = kwargs.pop("stack_info", False)
    kwargs.pop("stacklevel", None)
    rest = list(args)
    fields: dict[str, Any] = {}
    error: BaseException | None = None
    first: Any = rest.pop(0) if rest else None
    if isinstance(first, Mapping):  # pino: an object first, its keys are fields
        fields.update({str(k): v for k, v in first.items()})
    elif isinstance(first, BaseException):  # pino: logger.error(err, "msg")
        error = first
        fields["error"] = first
    elif args:
        rest.insert(0, first)
    if rest:
        message = _text(rest.pop(0))
    elif "message" in kwargs and not args:
        message = _text(kwargs.pop("message"))  # info(message="...")
    elif error is not None:
        message = _describe(error)
    elif "msg" in fields:
        message = _text(fields.pop("msg"))
    else:
        message = _text(first) if first is not None else ""
    if rest:
        message = _interpolate(message, rest)
    if isinstance(extra, Mapping):
        fields.update({str(k): v for k, v in extra.items()})
    fields.update(kwargs)
    if error is None:
        error = next((v for v in fields.values() if isinstance(v, BaseException)), None)
    found = _exc_tuple(exc_info)
    if found is None and error is not None and error.__traceback__ is not None:
        found = (type(error), error, error.__traceback__)
    out = {("message_" if k == "message" else k): _safe(v) for k, v in fields.items()}
    if found is not None:
        out["traceback"] = "".join(traceback.format_exception(*found))
    if stack_info:
        out["stack"] = "".join(traceback.format_stack()[:-3])
    return message, out


def _interpolate(message: str, args: list[Any]) -> str:
    """Fill ``%`` placeholders (stdlib and pino) from ``args``, else append them (console)."""
    if "%" in message:
        template = _PINO_PLACEHOLDER.sub("%s", message)
        values: Any = args[0] if len(args) == 1 and isinstance(args[0], Mapping) else tuple(args)
        if isinstance(values, tuple):
            values = tuple(_text(v) if isinstance(v, Mapping | list) else v for v in values)
        try:
            return str(template % values)
        except (TypeError, ValueError, KeyError):
            pass
    return " ".join([message, *(_text(a) for a in args)])


class PluginLogAdapter:
    """``ctx.logger``: every call shape above, on top of the plugin's :class:`PluginLogger`."""

    def __init__(self, logger: PluginLogger) -> None:
        self._logger = logger

    def __getattr__(self, name: str) -> Any:  # plugin, buffer, on_record …
        return getattr(self._logger, name)

    def _call(self, level: str, args: tuple[Any, ...], kwargs: dict[str, Any], exc: bool) -> None:
        try:
            message, fields = normalize(args, kwargs, exc_default=exc)
        except Exception as failure:  # noqa: BLE001 - never raise from a log call
            message = " ".join(_text(a) for a in args)
            fields = {"logCallError": _describe(failure)}
        try:
            getattr(self._logger, _LEVELS[level])(message, **fields)
        except Exception:  # noqa: BLE001 - never raise from a log call
            return

    def debug(self, *args: Any, **kwargs: Any) -> None:
        self._call("debug", args, kwargs, False)

    def trace(self, *args: Any, **kwargs: Any) -> None:
        self._call("debug", args, kwargs, False)

    def info(self, *args: Any, **kwargs: Any) -> None:
        self._call("info", args, kwargs, False)

    def warning(self, *args: Any, **kwargs: Any) -> None:
        self._call("warning", args, kwargs, False)

    warn = warning

    def error(self, *args: Any, **kwargs: Any) -> None:
        self._call("error", args, kwargs, False)

    def critical(self, *args: Any, **kwargs: Any) -> None:
        self._call("error", args, kwargs, False)

    fatal = critical

    def exception(self, *args: Any, **kwargs: Any) -> None:
        self._call("error", args, kwargs, True)

    def log(self, level: Any, *args: Any, **kwargs: Any) -> None:
        """``log(logging.INFO, ...)`` or ``log("info", ...)``."""
        if isinstance(level, int) and not isinstance(level, bool):
            name = next(
                (n for n, at in _NUMERIC if level >= at),
                "debug",
            )
        else:
            name = str(level).lower()
        self._call(_LEVELS.get(_ALIASES.get(name, name), "info"), args, kwargs, False)
