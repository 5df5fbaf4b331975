"""JSON from untrusted callers, with a bound on nesting depth.

``json.loads`` recurses once per level: a few thousand ``[`` raise ``RecursionError`` (not
``ValueError``), and a value nested hundreds of levels deep breaks code that walks it later. The
bound is checked without recursion, and only when the text could exceed it.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JSONTooDeep(ValueError):
    """The JSON text nests arrays and objects more deeply than allowed."""


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, but every failure is a ``ValueError`` and depth is at most ``max_depth``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(f"JSON nested too deeply (the limit is {max_depth} levels)") from None
    if isinstance(text, bytes):
        opening = text.count(b"[") + text.count(b"{")
    else:
        opening = text.count("[") + text.count("{")
    if opening > max_depth and depth(value) > max_depth:
        raise JSONTooDeep(f"JSON nested too deeply (the limit is {max_depth} levels)")
    return value


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children)
    return deepest
