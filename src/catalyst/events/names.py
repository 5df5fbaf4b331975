"""Event names and subscription patterns: what is valid, and why not (see :mod:`.bus`)."""

from __future__ import annotations


def _validate(text: object, label: str, shown: str, star: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{label} must be a str, not {type(text).__name__}")
    if not shown:
        raise ValueError(f"{label} must not be empty")
    if any(ch.isspace() for ch in text) or not text.isprintable():
        raise ValueError(f"{label} {shown!r} must not contain whitespace or control characters")
    if "*" in text:
        raise ValueError(f"{label} {shown!r} is invalid: {star}")
    if "" in text.split(":"):
        raise ValueError(
            f"{label} {shown!r} has an empty segment: segments are joined by a single ':' "
            "and the name must not start or end with ':'"
        )


def validate_event_name(name: str) -> str:
    """Return ``name`` if it is a valid event name, else raise ``ValueError`` saying why."""
    star = "wildcards are only for subscription patterns ('*' or 'prefix:*')"
    _validate(name, "event name", name, star)
    return name


def validate_pattern(pattern: str) -> str:
    """Return ``pattern`` if it is a valid subscription pattern, else raise ``ValueError``."""
    if pattern == "*":
        return pattern
    star = "'*' is only allowed as the whole pattern ('*') or as the final segment ('prefix:*')"
    prefix = pattern[:-2] if isinstance(pattern, str) and pattern.endswith(":*") else pattern
    _validate(prefix, "event pattern", pattern, star)
    return pattern
