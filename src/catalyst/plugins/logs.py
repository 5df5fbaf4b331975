"""``ctx.logger``: a logger bound to the plugin, keeping its last records for the admin API."""

from __future__ import annotations

import time
import traceback
from collections import deque
from typing import Any

import structlog

DEFAULT_KEEP = 500


class LogBuffer:
    """The last ``keep`` records of one plugin, newest last. Survives reloads of the plugin."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._seq = 0

    def add(self, level: str, message: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        record = {
            "seq": self._seq,
            "time": time.time(),
            "level": level,
            "message": message,
            "fields": {k: _jsonable(v) for k, v in fields.items()},
        }
        self.records.append(record)
        return record

    def tail(
        self, limit: int = 100, since: int = 0, level: str | None = None
    ) -> list[dict[str, Any]]:
        out = [
            r for r in self.records if r["seq"] > since and (level is None or r["level"] == level)
        ]
        return out[-limit:]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


class PluginLogger:
    """``debug/info/warning/error/exception(message, **fields)``; each record is also buffered."""

    def __init__(self, plugin: str, buffer: LogBuffer) -> None:
        self.plugin = plugin
        self.buffer = buffer
        self._log = structlog.get_logger("plugin").bind(plugin=plugin)
        self.on_record: list[Any] = []  # callables(plugin, record) for live log pushes

    def _emit(self, level: str, message: str, fields: dict[str, Any]) -> None:
        record = self.buffer.add(level, str(message), fields)
        # structlog's first argument is named "event": a field of that name is passed renamed.
        safe = {("event_" if k == "event" else k): v for k, v in fields.items()}
        getattr(self._log, level)(str(message), **safe)
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
