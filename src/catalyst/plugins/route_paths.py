"""Route urls → regexes, in both notations plugins use, and their matching precedence.

* Starlette's: ``/items/{id}``, ``/items/{id:int}``, ``/files/{rest:path}``.
* The original system's (Fastify): ``/tickets/:id``, ``/near/:lat-:lng``, ``/file.:ext``, and
  ``/tickets/:id?``, an optional *last* segment (``/tickets`` and ``/tickets/7`` both match; the
  absent parameter is left out of ``path_params``). ``::`` is a literal colon, as in Fastify.

Everything else in a url is literal: characters with a meaning in regexes (``.``, ``~``) only
ever match themselves.
"""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.convertors import Convertor, StringConvertor
from starlette.routing import compile_path

_TOKEN: Final = re.compile(r"\{[^}]*\}|::|:([A-Za-z_][A-Za-z0-9_]*)(\?)?")
_PARAM_SEGMENT: Final = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}$")

STATIC, PARTIAL, PARAM, REST, END = 0, 1, 2, 3, 4


def to_starlette(url: str) -> tuple[str, str | None]:
    """``/tickets/:id?`` → (``/tickets/{id}``, ``"id"``): the url in Starlette's notation and the
    name of its optional last parameter, if any."""
    optional: list[str] = []

    def replace(m: re.Match[str]) -> str:
        text = m.group(0)
        if text.startswith("{"):
            return text
        if text == "::":
            return ":"
        name, question = m.group(1), m.group(2)
        if question:
            if m.end() != len(url) or url[m.start() - 1] != "/":
                raise ValueError(
                    f"an optional parameter (':{name}?') must be the whole last segment"
                )
            optional.append(name)
        return "{" + name + "}"

    if re.search(r"[:?]", _TOKEN.sub("", url)):
        raise ValueError("':' must start a parameter name (':id') and '?' end the last one")
    converted = _TOKEN.sub(replace, url)
    return converted, (optional[0] if optional else None)


def compile_url(url: str) -> tuple[re.Pattern[str], dict[str, Convertor[Any]]]:
    """The regex a request's sub-path must match, and the convertor of each parameter."""
    path, optional = to_starlette(url)
    regex, _fmt, convertors = compile_path(path)
    if optional is None:
        return regex, convertors
    tail = f"/(?P<{optional}>[^/]+)$"
    assert regex.pattern.endswith(tail), regex.pattern
    head = regex.pattern[: -len(tail)]
    # "/:id?" at the root matches "/" too; elsewhere the whole "/<id>" segment is optional.
    body = f"/(?P<{optional}>[^/]+)?$" if head == "^" else f"(?:/(?P<{optional}>[^/]+))?$"
    return re.compile(head + body), {**convertors, optional: StringConvertor()}


def specificity(url: str) -> tuple[int, ...]:
    """A sort key: per segment, static before partly-parametric before a parameter before a
    ``{x:path}`` catch-all; on a tie, the route with more segments first."""
    try:
        path, _optional = to_starlette(url)
    except ValueError:
        return (END,)
    ranks: list[int] = []
    for segment in path.strip("/").split("/") if path.strip("/") else []:
        if "{" not in segment:
            ranks.append(STATIC)
        elif segment.endswith(":path}"):
            ranks.append(REST)
        elif _PARAM_SEGMENT.match(segment):
            ranks.append(PARAM)
        else:
            ranks.append(PARTIAL)
    return (*ranks, END)
