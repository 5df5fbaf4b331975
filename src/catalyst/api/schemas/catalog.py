"""What ``/api/catalog`` answers: the host's fixed vocabularies, for the UI to show."""

from __future__ import annotations

from catalyst.api.schemas.base import WireModel
from catalyst.plugins.state import PluginState


class PermissionInfo(WireModel):
    """A permission of the host's catalogue and what it allows."""

    name: str
    description: str


class Catalog(WireModel):
    permissions: list[PermissionInfo]
    #: Every state a plugin can be in, in lifecycle order.
    plugin_states: list[PluginState]
