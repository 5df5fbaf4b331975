"""``docs/plugin-protocol.md`` against the code that speaks the protocol.

The document is what an SDK in another language is written from, so it must not drift from the
Python implementation. These tests read the process runtime's sources and fail when a message
type, a field either side writes or reads, a ``ctx`` call, a ``db`` operation, a registration kind
or a protocol constant is not in the document (names in backticks).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import catalyst.plugins.process as process_package
from catalyst.plugins.process import bootstrap, host_calls, link, restarts, template
from catalyst.plugins.process.protocol import MAX_FRAME, PROTOCOL_VERSION

PACKAGE = Path(process_package.__file__).resolve().parent
DOC = Path(__file__).resolve().parents[1] / "docs" / "plugin-protocol.md"
#: The sandbox layers and the restart policy build no messages (the template's control messages,
#: Python-only, are in the document's appendix and scanned like the rest).
NOT_PROTOCOL = {"sandbox.py", "landlock.py", "seccomp.py", "restarts.py", "status.py"}
#: child.py also builds ASGI scopes and events (Starlette's vocabulary): there, only maps with a
#: ``"t"`` key (and the maps inside them) are messages.
ASGI_TOO = {"child.py"}
#: Variables that hold a received message or one of its parts, whose keys are protocol fields.
_READ = re.compile(
    r"\b(?:message|answer|chunk|hello|args|user|body|raw|loaded)"
    r"""(?:\.get\(|\[)["']([A-Za-z_][\w.]*)["']"""
)


def _sources() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name not in NOT_PROTOCOL:
            yield path.name, path.read_text(encoding="utf-8")


def _const_keys(node: ast.Dict) -> dict[str, ast.expr]:
    return {
        k.value: v
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }


def _keys_within(node: ast.Dict) -> Iterator[str]:
    for key, value in _const_keys(node).items():
        yield key
        for inner in ast.walk(value):
            if isinstance(inner, ast.Dict):
                yield from _const_keys(inner)


def message_types() -> set[str]:
    """Every ``"t"`` a map literal of the package sets, and every request the child serves
    (``Child._on_<type>``, dots spelt as underscores)."""
    found: set[str] = set()
    for name, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Dict):
                t = _const_keys(node).get("t")
                if isinstance(t, ast.Constant) and isinstance(t.value, str):
                    found.add(t.value)
            if (
                name == "child.py"
                and isinstance(node, ast.AsyncFunctionDef)
                and node.name.startswith("_on_")
            ):
                found.add(node.name[len("_on_") :].replace("_", "."))
    return found


def field_names() -> set[str]:
    """Keys of the maps the package writes (messages, call arguments, the maps inside them) and
    of the maps it reads from a received message."""
    found: set[str] = set()
    for name, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Dict):
                continue
            keys = _const_keys(node)
            if name in ASGI_TOO and "t" not in keys:
                continue
            found.update(_keys_within(node))
        found.update(_READ.findall(text))
    return found


def call_names() -> set[str]:
    """The ``ctx`` calls the host serves, the ``db`` tables and their operations."""
    names = set(host_calls._SYNC) | set(host_calls._ASYNC) | set(host_calls.DB_OPS)
    for ops in host_calls.DB_OPS.values():
        names |= ops
    return names


def _function(module: str, name: str) -> ast.AST:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def registration_kinds() -> set[str]:
    """The ``kind`` of each ``register`` the child sends, and the kinds the host accepts."""
    found: set[str] = set()
    tree = ast.parse((PACKAGE / "child_host.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            kind = _const_keys(node).get("kind")
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                found.add(kind.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "_announce":
            arg = node.args[1] if len(node.args) > 1 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    for node in ast.walk(_function("host_calls.py", "_register")):
        if isinstance(node, ast.Compare) and ast.unparse(node.left) == "kind":
            for right in node.comparators:
                if isinstance(right, ast.Constant) and isinstance(right.value, str):
                    found.add(right.value)
    return found


def missing(names: Iterable[str], doc: str) -> list[str]:
    """The names that are not in ``doc`` as a code span (```name```)."""
    return sorted(n for n in set(names) if f"`{n}`" not in doc)


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


# -- the scanners find what they are meant to (so an empty scan cannot pass) -----------------


def test_scanners_find_the_known_protocol() -> None:
    assert {"hello", "load", "hook", "release", "http", "http.response", "http.start"} <= (
        message_types()
    )
    assert {"http.body", "ws", "event", "task", "call", "log", "ping", "pong"} <= message_types()
    assert {"cancel", "config", "shutdown", "result", "error"} <= message_types()
    assert {"rid", "full_path", "query_string", "more", "landlockAbi", "traceback"} <= (
        field_names()
    )
    assert {"client_id", "changes", "by", "kwargs", "values", "hooks"} <= field_names()
    assert {"register", "storage.get", "config.set", "db", "find_many", "servers"} <= (call_names())
    assert registration_kinds() == {"route", "middleware", "ws", "task", "listener"}


def test_missing_reports_a_name_the_document_lacks() -> None:
    doc = "`hello` and `load`, but storage.get without backticks"
    assert missing(["hello", "load", "storage.get", "ping"], doc) == ["ping", "storage.get"]


# -- the document covers the code ------------------------------------------------------------


def test_every_message_type_is_documented() -> None:
    assert missing(message_types(), _doc()) == []


def test_every_field_is_documented() -> None:
    assert missing(field_names(), _doc()) == []


def test_every_ctx_call_and_db_operation_is_documented() -> None:
    assert missing(call_names(), _doc()) == []


def test_every_registration_kind_is_documented() -> None:
    assert missing(registration_kinds(), _doc()) == []


def test_the_document_states_the_protocol_version_and_constants() -> None:
    doc = _doc()
    assert f"**Protocol version: {PROTOCOL_VERSION}**" in doc.splitlines()[:5]
    # the worked example and the checklist speak the current version
    assert f'"protocol": {PROTOCOL_VERSION},' in doc
    assert f"`protocol` {PROTOCOL_VERSION}" in doc
    assert str(MAX_FRAME) in doc
    for code in (bootstrap.EXIT_OK, bootstrap.EXIT_PROTOCOL, bootstrap.EXIT_OUT_OF_MEMORY):
        assert f"`{code}`" in doc
    assert f"descriptor **{template.CHILD_FD}**" in doc
    assert f"fd {template.CHILD_FD}" in doc
    assert f"**{link.TAIL_BYTES} bytes**" in doc
    assert f"{restarts.FIRST_DELAY:g} s, doubling" in doc
    assert f"at most {restarts.MAX_DELAY:g} s" in doc
