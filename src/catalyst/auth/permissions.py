"""Permission strings and wildcard matching.

A permission is a dotted string such as ``server.read``. A grant may end in ``*``: ``*`` grants
everything, ``server.*`` grants ``server.read``, ``server.write`` and ``server.console.read``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

#: Every permission the host knows, with what it allows. Plugins may only request these.
CATALOG: Final[Mapping[str, str]] = {
    "admin.read": "See plugins, their configuration, logs and the audit log",
    "admin.write": "Install, enable, disable, reload and configure plugins",
    "server.read": "See game servers",
    "server.write": "Create, start, stop and delete game servers",
    "user.read": "See user accounts (never password hashes)",
    "user.write": "Create and change user accounts",
    "http.public": "Serve HTTP routes to callers who are not logged in",
    "net.outbound": "Open network connections to other hosts (process runtime: TCP connect)",
    "host.full": (
        "Full access to the host: the plugin runs inside the Catalyst process (runtime "
        "'inprocess'), where its code can read every secret and the database and act as any user"
    ),
}

#: The permission an ``"runtime": "inprocess"`` plugin requests implicitly.
HOST_FULL: Final = "host.full"


def grants(granted: str, required: str) -> bool:
    """True when the single grant ``granted`` covers ``required``."""
    if granted == "*" or granted == required:
        return True
    if granted.endswith(".*"):
        return required.startswith(granted[:-1])
    return False


def has_permission(granted: Iterable[str], required: str) -> bool:
    """True when any of ``granted`` covers ``required``."""
    return any(grants(g, required) for g in granted)
