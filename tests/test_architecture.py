"""The layers hold: no import cycle in ``catalyst``, and the import-linter contract bites.

grimp counts every import, including those inside functions and ``TYPE_CHECKING`` blocks, so
neither can hide a cycle.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "catalyst"


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def cycle_in(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """One import cycle through the first module of ``component``, for the failure message."""
    first, members = component[0], set(component)
    for nxt in sorted(graph.find_modules_directly_imported_by(first) & members):
        path = graph.find_shortest_chain(importer=nxt, imported=first)
        if path:
            return [first, *path]
    return component


def test_no_import_cycle_among_catalyst_modules() -> None:
    graph = grimp.build_graph("catalyst", cache_dir=None)
    cycles = [cycle_in(graph, c) for c in strongly_connected(graph)]
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert strongly_connected(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert cycle_in(graph, ["pkg.a", "pkg.b", "pkg.c"]) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def _lint_imports(tmp_path: Path, upward: str | None) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the project's contract on a copy of the package, with ``upward``
    (an import statement) added to ``catalyst/db/models.py``."""
    shutil.copytree(SRC, tmp_path / "catalyst", ignore=shutil.ignore_patterns("__pycache__"))
    if upward is not None:
        models = tmp_path / "catalyst" / "db" / "models.py"
        models.write_text(models.read_text() + f"\n{upward}  # deliberately upward\n")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_package"] == "catalyst"
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_contract_holds_on_a_faithful_copy(tmp_path: Path) -> None:
    result = _lint_imports(tmp_path, None)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    result = _lint_imports(tmp_path, "import catalyst.services")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "catalyst.db is not allowed to import catalyst.services" in result.stdout
