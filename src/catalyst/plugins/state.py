"""The plugin lifecycle: states, the transition table, and the refusal a bad move raises.

::

    discovered ──load──▶ loaded ──enable──▶ enabled ⇄ disabled
        │                  │                   │          │
        │                  └── restarting ◀────┴──────────┤  (process runtime: the child died)
        └──────────────────┴──── error ◀───────┴──────────┘
                           │
                        unloaded (removed from memory; may be loaded again)

Only :func:`catalyst.plugins.lifecycle.set_state` writes a record's state, and it checks this table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from catalyst.errors import InvalidTransition


class PluginState(enum.StrEnum):
    DISCOVERED = "discovered"
    """Manifest read and valid; no plugin code imported yet."""
    LOADED = "loaded"
    """Code imported and ``on_load`` done; not serving (never enabled, or enabled=false)."""
    ENABLED = "enabled"
    """``on_enable`` done; routes, handlers, tasks and listeners are live."""
    DISABLED = "disabled"
    """``on_disable`` done; everything it registered is stopped, its routes answer 503."""
    UNLOADED = "unloaded"
    """``on_unload`` done and everything it owned released; code removed from memory."""
    RESTARTING = "restarting"
    """Its child process ended unexpectedly (crash, out of memory, unresponsive); a new child is
    being started after a back-off. Back to the state it had, or ``error`` after repeated
    crashes in a short window."""
    ERROR = "error"
    """Invalid manifest, failed dependency, or a hook that raised or timed out; see ``error``."""


TRANSITIONS: Final[Mapping[PluginState, frozenset[PluginState]]] = {
    PluginState.DISCOVERED: frozenset({PluginState.LOADED, PluginState.ERROR}),
    PluginState.LOADED: frozenset(
        {PluginState.ENABLED, PluginState.UNLOADED, PluginState.RESTARTING, PluginState.ERROR}
    ),
    PluginState.ENABLED: frozenset(
        {PluginState.DISABLED, PluginState.RESTARTING, PluginState.ERROR}
    ),
    PluginState.DISABLED: frozenset(
        {PluginState.ENABLED, PluginState.UNLOADED, PluginState.RESTARTING, PluginState.ERROR}
    ),
    PluginState.RESTARTING: frozenset(
        {
            PluginState.LOADED,
            PluginState.ENABLED,
            PluginState.DISABLED,
            PluginState.UNLOADED,
            PluginState.RESTARTING,
            PluginState.ERROR,
        }
    ),
    PluginState.UNLOADED: frozenset({PluginState.LOADED, PluginState.ERROR}),
    PluginState.ERROR: frozenset({PluginState.LOADED, PluginState.UNLOADED, PluginState.ERROR}),
}

#: The states from which each state can be reached, for refusal messages.
SOURCES: Final[Mapping[PluginState, frozenset[PluginState]]] = {
    target: frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
    for target in PluginState
}

#: What an action is called in a refusal message, by the state it moves to.
ACTION_OF: Final[Mapping[PluginState, str]] = {
    PluginState.LOADED: "load",
    PluginState.ENABLED: "enable",
    PluginState.DISABLED: "disable",
    PluginState.UNLOADED: "unload",
    PluginState.ERROR: "fail",
    PluginState.RESTARTING: "restart",
    PluginState.DISCOVERED: "discover",
}


def check_transition(name: str, current: PluginState, target: PluginState) -> None:
    """Raise :class:`InvalidTransition` (HTTP 409) unless ``current → target`` is in the table."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"plugin {name!r}",
            ACTION_OF[target],
            current.value,
            (s.value for s in SOURCES[target]),
        )


def can_move(current: PluginState, target: PluginState) -> bool:
    return target in TRANSITIONS[current]
