"""Keep error messages short whatever the input: long values and long lists are cut."""

from __future__ import annotations

from collections.abc import Iterable


def shorten(text: str, limit: int = 100) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_bounded(parts: Iterable[str], *, most: int = 10, sep: str = "; ") -> str:
    """The first ``most`` parts joined; then ``(and N more)``."""
    shown: list[str] = []
    extra = 0
    for part in parts:
        if len(shown) < most:
            shown.append(part)
        else:
            extra += 1
    text = sep.join(shown)
    return f"{text}{sep}(and {extra} more)" if extra else text
