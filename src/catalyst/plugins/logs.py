"""``ctx.logger``: a logger bound to the plugin, keeping its last records for the admin API."""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from typing import Any

import structlog

from catalyst.errors import describe, traceback_of

DEFAULT_KEEP = 500
#: Bounds of one record: a plugin logging megabytes (a request body, say) must neither fill the
#: host's memory (``DEFAULT_KEEP`` records per plugin) nor push megabytes to every admin client.
MAX_MESSAGE = 10_000  # characters of the message
MAX_TEXT = 20_000  # characters of each text value in the fields (a traceback included)
MAX_ITEMS = 100  # fields of a record, items of a list or dict among them


class LogBuffer:
    """The last ``keep`` records of one plugin, newest last. Survives reloads of the plugin."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._seq = 0
        #: Plugin code logs from its worker threads too: numbering and keeping are one step.
        self._lock = threading.Lock()

    def add(self, level: str, message: str, fields: dict[str, Any]) -> dict[str, Any]:
        record = {
            "seq": 0,
            "time": time.time(),
            "level": level,
            "message": clip(message, MAX_MESSAGE),
            "fields": _jsonable(fields),
        }
        with self._lock:
            self._seq += 1
            record["seq"] = self._seq
            self.records.append(record)
        return record

    def tail(
        self, limit: int = 100, since: int = 0, level: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:  # a worker thread may be appending
            records = list(self.records)
        out = [r for r in records if r["seq"] > since and (level is None or r["level"] == level)]
        return out[-limit:]


def clip(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, str):
        return clip(value, MAX_TEXT)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {clip(str(k), 200): _jsonable(v) for k, v in items}
    return clip(repr(value), MAX_TEXT)


_RESERVED = frozenset({"event", "plugin", "component", "level", "timestamp", "logger"})


class PluginLogger:
    """``debug/info/warning/error/exception(message, **fields)``; each record is also buffered."""

    def __init__(self, plugin: str, buffer: LogBuffer) -> None:
        self.plugin = plugin
        self.buffer = buffer
        self._log = structlog.get_logger("plugin").bind(plugin=plugin)
        self.on_record: list[Any] = []  # callables(plugin, record) for live log pushes
        _register(self)

    def _emit(self, level: str, message: str, fields: dict[str, Any]) -> None:
        record = self.buffer.add(level, str(message), fields)
        # structlog's first argument is named "event": a field of that name is passed renamed.
        # A field named like one the host's log line carries itself is passed renamed, so a
        # plugin cannot write a line that claims another plugin or a host component.
        safe = {(f"{k}_" if k in _RESERVED else k): v for k, v in record["fields"].items()}
        getattr(self._log, level)(record["message"], **safe)
        for listener in self.on_record:
            try:
                listener(self.plugin, record)
            except Exception:  # noqa: BLE001 - a broken listener must not break plugin logging
                continue

    def debug(self, message: str, **fields: Any) -> None:
        self._emit("debug", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._emit("info", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._emit("warning", message, fields)

    warn = warning

    def error(self, message: str, **fields: Any) -> None:
        self._emit("error", message, fields)

    def exception(self, message: str, **fields: Any) -> None:
        fields = {**fields, "traceback": traceback.format_exc()}
        self._emit("error", message, fields)


# -- a plugin's own failures, reported by the host into the plugin's log stream ----------------

#: The logger of each plugin's record (its buffer and live pushes), by plugin name.
_loggers: dict[str, PluginLogger] = {}


def _register(logger: PluginLogger) -> None:
    # The first logger made for a record carries the live-push listeners; later ones made for
    # the same buffer (a new generation, a one-off message) add nothing. A new buffer means a
    # new record (a new host in the same process): it takes over.
    current = _loggers.get(logger.plugin)
    if current is None or current.buffer is not logger.buffer:
        _loggers[logger.plugin] = logger


def logger_for(plugin: str) -> PluginLogger | None:
    """The logger whose records reach ``plugin``'s log stream, if the plugin is known."""
    return _loggers.get(plugin)


def plugin_error(
    plugin: str | PluginLogger,
    message: str,
    exc: BaseException | None = None,
    *,
    level: str = "error",
    host: bool = True,
    **fields: Any,
) -> None:
    """Write a failure of ``plugin``'s code (a route, task, listener, WebSocket handler, a loop
    stall) to the plugin's own log stream: ``GET /api/plugins/<name>/logs``, the live
    ``plugin:log`` push and the UI's "Recent logs", as well as the host log.

    ``exc`` adds ``error`` ("Type: message") and its ``traceback`` to the record's fields.
    ``host=False`` when the caller already wrote the host log line."""
    logger = plugin if isinstance(plugin, PluginLogger) else _loggers.get(plugin)
    if exc is not None:
        fields = {
            **fields,
            "error": describe(exc),
            "traceback": traceback_of(exc),
        }
    if logger is None:  # an unknown plugin: the host log is all there is
        if host:
            getattr(structlog.get_logger("plugin"), level)(message, plugin=plugin, **fields)
        return
    if host:
        logger._emit(level, message, fields)
        return
    record = logger.buffer.add(level, message, fields)
    for listener in logger.on_record:
        try:
            listener(logger.plugin, record)
        except Exception:  # noqa: BLE001 - a broken listener must not break plugin logging
            continue
