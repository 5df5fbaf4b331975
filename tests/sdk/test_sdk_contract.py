"""The SDK's public surface is complete, documented and tested."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Iterable
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


def test_every_ctx_test_uses_the_member_it_names() -> None:
    assert unexercised(CTX_TESTS, ctx_members()) == []


def test_every_hook_test_has_a_plugin_that_defines_the_hook() -> None:
    assert undefined_hooks(CTX_TESTS, hooks.HOOKS) == []


def test_the_checker_catches_a_test_renamed_to_a_member_it_does_not_use() -> None:
    swapped = (
        CTX_TESTS.replace("def test_ctx_emit(", "def SWAP(")
        .replace("def test_ctx_on(", "def test_ctx_emit(")
        .replace("def SWAP(", "def test_ctx_on(")
    )
    assert sorted(unexercised(swapped, ctx_members())) == ["test_ctx_emit", "test_ctx_on"]
    # A name in a comment, a string or on another object is not a use of ctx's member...
    fake = """
async def test_ctx_get_storage(env):
    # env.ctx.get_storage
    await env.ctx.set_storage("get_storage", 1)
    env.client.get_storage()
"""
    assert unexercised(fake, ["get_storage"]) == ["test_ctx_get_storage"]
    # ...while one in a helper it calls, a fixture it takes or a plugin source it names is.
    via_helpers = r"""
CODE = "def on_load(ctx):\n    ctx.schedule_task('* * * * *', print)\n"

def check(env, decorator):
    decorator("/x")

@pytest.fixture
def plugin(tmp_path):
    return write(tmp_path, CODE)

async def test_ctx_get(env):
    check(env, env.ctx.get)

async def test_ctx_schedule_task(plugin):
    pass

async def test_ctx_post(env):
    check(env, env.ctx.get)
"""
    assert unexercised(via_helpers, ["get", "schedule_task", "post"]) == ["test_ctx_post"]


# -- what a test_ctx_<member> uses ------------------------------------------------------------


def unexercised(source: str, members: Iterable[str]) -> list[str]:
    """The ``test_ctx_<member>`` functions in ``source`` that never access ``.member`` on a ctx
    (``ctx.member``, ``env.ctx.member``), in their body, the module's functions they call, the
    fixtures they take or the plugin sources (module string constants) those name."""
    module = ast.parse(source)
    functions = {
        node.name: node
        for node in module.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    strings = {
        target.id: node.value.value
        for node in module.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return [
        f"test_ctx_{member}"
        for member in members
        if f"test_ctx_{member}" in functions
        and member not in ctx_attributes(functions[f"test_ctx_{member}"], functions, strings)
    ]


def ctx_attributes(
    test: ast.FunctionDef | ast.AsyncFunctionDef,
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
    strings: dict[str, str],
) -> set[str]:
    seen: set[str] = set()
    found: set[str] = set()
    todo: list[ast.AST] = [test]
    while todo:
        tree = todo.pop()
        if isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef):
            params = [a.arg for a in tree.args.args + tree.args.kwonlyargs]
            todo += [functions[p] for p in params if p in functions and p not in seen]
            seen.update(params)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and is_ctx(node.value):
                found.add(node.attr)
            elif isinstance(node, ast.Name) and node.id not in seen:
                seen.add(node.id)
                if node.id in functions:
                    todo.append(functions[node.id])
                elif node.id in strings:
                    todo.append(parsed(strings[node.id]))
    return found


def is_ctx(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "ctx") or (
        isinstance(node, ast.Attribute) and node.attr == "ctx"
    )


def parsed(text: str) -> ast.AST:
    try:
        return ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def undefined_hooks(source: str, hook_names: Iterable[str]) -> list[str]:
    """Hooks that no plugin source (module string constant) in ``source`` defines."""
    defined = {
        node.name
        for constant in ast.walk(ast.parse(source))
        if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
        for node in ast.walk(parsed(constant.value))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return [name for name in hook_names if name not in defined]
