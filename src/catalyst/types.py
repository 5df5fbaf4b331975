"""Type aliases shared across layers. A leaf: it imports nothing from :mod:`catalyst`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

#: A JSON object as Python holds it (``json.loads`` of ``{...}``).
JSONObject: TypeAlias = dict[str, Any]
#: Emits a core event by name with a JSON-able payload (``EventBus.emit`` fits).
Emit: TypeAlias = Callable[[str, JSONObject], Awaitable[None]]
#: Undoes one registration; returned by every ``ctx`` method that registers something.
Unregister: TypeAlias = Callable[[], None]
#: Undoes one registration when its scope closes (may be async).
Disposer: TypeAlias = Callable[[], Awaitable[None] | None]
