"""The host's exception hierarchy. Each class carries the HTTP status the API answers with.

Our exception hierarchy::

    CatalystError (500)
    ├── BadRequest (400)
    ├── NotAuthenticated (401)
    ├── PermissionDenied (403)
    ├── NotFound (404)
    ├── Conflict (409)
    │   └── InvalidTransition (409)   names the current and the required state
    ├── TooManyRequests (429)
    ├── BadGateway (502)              a plugin's child process failed the request
    └── ServiceUnavailable (503)
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import ClassVar


class CatalystError(Exception):
    """Root of every error the host raises on purpose."""

    status_code: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(CatalystError):
    status_code = 400


class NotAuthenticated(CatalystError):
    status_code = 401

    def __init__(self, message: str = "Not authenticated") -> None:
        super().__init__(message)


class PermissionDenied(CatalystError):
    status_code = 403


class NotFound(CatalystError):
    status_code = 404


class Conflict(CatalystError):
    status_code = 409


class InvalidTransition(Conflict):
    """A state change asked of something that is not in a state that allows it."""

    def __init__(self, what: str, action: str, current: str, required: Iterable[str]) -> None:
        needed = sorted(required)
        self.current = current
        self.required = needed
        need = " or ".join(needed) if needed else "no state (never allowed)"
        super().__init__(f"Cannot {action} {what}: it is {current}, but needs to be {need}")


class TooManyRequests(CatalystError):
    status_code = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadGateway(CatalystError):
    """A plugin's child process ended (or broke the protocol) before answering."""

    status_code = 502


class ServiceUnavailable(CatalystError):
    status_code = 503


def describe(exc: BaseException) -> str:
    """``"Type: message"``, or just ``"Type"`` when the message is empty (``KeyboardInterrupt``)."""
    remote = getattr(exc, "remote_description", None)  # raised in a plugin's child process
    if isinstance(remote, str):
        return remote
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def type_name(exc: BaseException) -> str:
    """The exception's type name: for an error a plugin's child reported, the child's type."""
    remote = getattr(exc, "kind", None)
    return remote if isinstance(remote, str) and remote else type(exc).__name__


def traceback_of(exc: BaseException) -> str:
    """The traceback where ``exc`` was raised: the child's, for an error a plugin's child process
    reported, else this process's."""
    remote = getattr(exc, "remote_traceback", None)
    if isinstance(remote, str) and remote:
        return remote
    return "".join(traceback.format_exception(exc))
