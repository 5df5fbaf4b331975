"""Semantic versions and npm-style version ranges, wrapping the ``semantic_version`` library.

Plugins declare the host versions they run on (``catalystVersion``) and the versions of other
plugins they need (``dependencies``) as npm ranges: ``>=1.0.0``, ``^1.2``, ``~1.2.3``, ``1.x``,
``>=1 <2``, ``a || b`` or ``*``. Matching follows npm: a prerelease such as ``2.0.0-rc.1`` only
satisfies a range that names a prerelease of the same ``major.minor.patch``.
"""

from __future__ import annotations

import re
from typing import Final

import semantic_version

__all__ = ["parse_range", "parse_version", "satisfies"]

_EXAMPLES: Final = "e.g. >=1.0.0, ^1.2, ~1.2.3, 1.x, >=1 <2, 1.x || 2.x"

# npm accepts a space between an operator and its version (">= 1.0.0"); the library does not.
# This only closes that gap before handing the text to the library's own parser.
_OPERATOR_SPACE: Final = re.compile(r"(<=|>=|<|>|=|\^|~)\s+(?=[0-9xX*])")


def parse_version(text: str) -> semantic_version.Version:
    """Parse a strict semantic version (``1.2.3``, ``1.2.3-rc.1``, ``1.2.3+build``)."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a semantic version (expected a string such as 1.2.3)")
    try:
        return semantic_version.Version(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a semantic version (expected e.g. 1.2.3)") from None


def parse_range(text: str) -> semantic_version.NpmSpec:
    """Parse an npm-style version range."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a version range (expected a string, {_EXAMPLES})")
    cleaned = _OPERATOR_SPACE.sub(r"\1", text.strip())
    if not cleaned:
        raise ValueError(f"the version range is empty (expected {_EXAMPLES}; '*' means any)")
    try:
        return semantic_version.NpmSpec(cleaned)
    # The library reports most bad ranges as ValueError, but some malformed hyphen ranges
    # ("1 - 2 - 3") surface as AttributeError/IndexError from inside its parser.
    except (ValueError, AttributeError, IndexError, TypeError):
        raise ValueError(f"'{text}' is not a valid version range (expected {_EXAMPLES})") from None


def satisfies(version: str, range_text: str) -> bool:
    """True when ``version`` lies in ``range_text``; ValueError when either does not parse."""
    return bool(parse_range(range_text).match(parse_version(version)))
