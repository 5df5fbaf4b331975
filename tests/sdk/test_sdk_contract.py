"""The SDK's public surface is complete, documented and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import catalyst.sdk
from catalyst.plugins.context import PluginContext as HostContext
from catalyst.sdk import hooks
from catalyst.sdk.context import PluginContext

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "PLUGIN_DEVELOPMENT.md").read_text()
CTX_TESTS = (ROOT / "tests" / "sdk" / "test_ctx_api.py").read_text()


def ctx_members() -> dict[str, Any]:
    members = {n: o for n, o in vars(PluginContext).items() if not n.startswith("_")}
    members.update(dict.fromkeys(PluginContext.__annotations__))
    return members


def signature(name: str, obj: Any) -> str:
    """``ctx.name(a, b=None, *, c=False)`` as the guide's headings spell it."""
    if obj is None or isinstance(obj, property):
        return f"ctx.{name}"
    parts: list[str] = []
    star = False
    for p in list(inspect.signature(obj).parameters.values())[1:]:
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    prefix = "async " if inspect.iscoroutinefunction(obj) else ""
    return f"{prefix}ctx.{name}({', '.join(parts)})"


def test_all_is_sorted_and_complete() -> None:
    exported = catalyst.sdk.__all__
    assert exported == sorted(exported, key=lambda s: (not s.isupper(), s))
    public = {n for n in vars(catalyst.sdk) if not n.startswith("_")}
    modules = {"context", "errors", "hooks", "request", "testing"}  # submodules, not names
    assert public - modules == set(exported)


def test_host_context_implements_the_protocol_with_the_same_signatures() -> None:
    for name, obj in ctx_members().items():
        assert hasattr(HostContext, name) or name in ("name", "version", "logger"), name
        if callable(obj):
            host = getattr(HostContext, name)
            assert inspect.signature(host).parameters.keys() == (
                inspect.signature(obj).parameters.keys()
            ), name
            assert inspect.iscoroutinefunction(host) == inspect.iscoroutinefunction(obj), name


def test_every_ctx_member_is_documented_with_its_signature() -> None:
    headings = set(re.findall(r"^### `(.+)`$", GUIDE, flags=re.M))
    missing = [signature(n, o) for n, o in ctx_members().items() if signature(n, o) not in headings]
    assert missing == []


def test_every_hook_is_documented_with_its_signature() -> None:
    for name in hooks.HOOKS:
        params = ", ".join(inspect.signature(getattr(hooks, name)).parameters)
        assert f"### `{name}({params})`" in GUIDE, name


def test_every_ctx_member_and_hook_has_a_test() -> None:
    names = [f"test_ctx_{n}" for n in ctx_members()] + [f"test_hook_{h}" for h in hooks.HOOKS]
    missing = [n for n in names if f"def {n}(" not in CTX_TESTS]
    assert missing == []
