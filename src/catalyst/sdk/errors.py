"""Exceptions a plugin may raise (or catch) on purpose."""

from __future__ import annotations


class PluginError(Exception):
    """Root of the errors the SDK defines."""


class HTTPError(PluginError):
    """Raise from a route handler or middleware to answer ``{"success": false, "error": message}``.

    >>> raise HTTPError(404, "No such item")
    """

    def __init__(self, status_code: int, message: str) -> None:
        if not 400 <= status_code <= 599:
            raise ValueError(f"HTTPError needs a 4xx or 5xx status, not {status_code}")
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class PluginPermissionError(PluginError, PermissionError):
    """A ctx call needs a permission the plugin was not granted."""


class RegistrationError(PluginError, ValueError):
    """A ctx registration was refused (bad route, bad cron, reserved path …); says why."""


class ConfigError(PluginError, ValueError):
    """``set_config`` got an unknown key or a value of the wrong type."""
