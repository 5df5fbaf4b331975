"""Catalyst: a Python plugin platform for a game-server management panel."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("catalyst-panel")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
