"""The lifecycle hooks a plugin may define, sync or async, as module functions or as methods of
a ``plugin`` object (or class, which is instantiated once per load).

Each hook runs under a timeout (``CATALYST_PLUGIN_HOOK_TIMEOUT``, 10 s by default). An exception
or a timeout puts the plugin in the ``error`` state with the message and traceback.
"""

from __future__ import annotations

from typing import Any

from catalyst.sdk.context import PluginContext


def on_load(ctx: PluginContext) -> None:
    """Called once when the plugin's code is loaded; registrations here live until unload."""


def on_enable(ctx: PluginContext) -> None:
    """Called when the plugin is enabled; registrations here are released on disable."""


def on_disable(ctx: PluginContext) -> None:
    """Called when the plugin is disabled, after its routes, tasks and listeners stopped."""


def on_unload(ctx: PluginContext) -> None:
    """Called before the plugin's code is dropped (shutdown, removal, old side of a reload)."""


def on_config_change(ctx: PluginContext, changes: dict[str, Any]) -> None:
    """Called after config values changed, with only the changed keys and their new values."""


HOOKS = ("on_load", "on_enable", "on_disable", "on_unload", "on_config_change")
