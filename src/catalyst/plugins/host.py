"""What the host lends to every plugin context: the event bus, the WebSocket sender, config,
and factories for a plugin's own storage and database facade. Only :class:`ContextCore` holds
it; plugin code never sees it (see :mod:`catalyst.plugins.sealing`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from catalyst.events.bus import EventBus
from catalyst.plugins.config import ConfigStore
from catalyst.plugins.dbfacade import PluginDb
from catalyst.plugins.storage import StorageService


class Sender(Protocol):
    def send(self, client_id: str, message: Mapping[str, Any]) -> bool: ...

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int: ...

    def broadcast(self, message: Mapping[str, Any], permission: str | None = None) -> int: ...


@dataclass
class PluginHost:
    """What the host lends to every plugin context."""

    bus: EventBus
    sender: Sender
    config: ConfigStore
    storage: Callable[[str], StorageService]
    db: Callable[[str], PluginDb]
    #: What the plugin is granted now (core events it hears are gated by it).
    granted: Callable[[str], frozenset[str]] = lambda _name: frozenset()
    #: The plugin's own writable folder (``<data_dir>/plugins/<name>``; created on first use).
    data_dir: Callable[[str], Path] = lambda name: Path("data") / "plugins" / name
