"""The dependency graph between plugins: order, cycles, missing or mismatched dependencies."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from catalyst.plugins.versioning import satisfies

#: plugin name → {dependency name: version range}
Graph = Mapping[str, Mapping[str, str]]


def find_cycles(graph: Graph) -> dict[str, str]:
    """Plugins on a dependency cycle → a message showing the cycle."""
    problems: dict[str, str] = {}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, {})):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                for member in cycle[:-1]:
                    problems.setdefault(member, "Dependency cycle: " + " → ".join(cycle))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return problems


def check(graph: Graph, versions: Mapping[str, str], broken: Mapping[str, str]) -> dict[str, str]:
    """Every plugin that cannot run because of its dependencies → why.

    ``versions`` holds the versions of the plugins present; ``broken`` those already in error.
    A plugin depending on a broken one is broken too, transitively.
    """
    problems = dict(find_cycles(graph))
    for name in sorted(graph):
        if name in problems:
            continue
        problem = unmet(graph[name], versions)
        if problem:
            problems[name] = problem
    bad = {**broken, **problems}
    changed = True
    while changed:
        changed = False
        for name in sorted(graph):
            if name in bad:
                continue
            for dep in sorted(graph[name]):
                if dep in bad:
                    bad[name] = problems[name] = f"needs {dep}, which is in error"
                    changed = True
                    break
    return problems


def unmet(
    wanted: Mapping[str, str],
    versions: Mapping[str, str],
    states: Mapping[str, str] | None = None,
    present: Collection[str] = (),
) -> str | None:
    """Why the dependencies ``wanted`` ({name: range}) are not met, or None when they are.

    ``versions`` holds the versions of the valid plugins present; ``present`` every plugin folder
    (valid or not); with ``states`` (name → state) given, a dependency must also be enabled.
    """
    for dep, needed in sorted(wanted.items()):
        if dep not in versions:
            if dep in present:
                return f"needs {dep}, which is in error"
            return f"needs {dep}, which is not installed"
        if not satisfies(versions[dep], needed):
            return f"needs {dep} {needed}, found {versions[dep]}"
        state = states.get(dep) if states is not None else "enabled"
        if state != "enabled":
            return f"needs {dep}, which is {'in error' if state == 'error' else 'not enabled'}"
    return None


def load_order(graph: Graph) -> list[str]:
    """Dependencies before dependents; alphabetical among equals; cycle members last."""
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(node: str) -> None:
        if node in done or node in visiting:
            return
        visiting.add(node)
        for dep in sorted(graph.get(node, {})):
            if dep in graph:
                visit(dep)
        visiting.discard(node)
        done.add(node)
        order.append(node)

    for node in sorted(graph):
        visit(node)
    return order


def dependents(graph: Graph, name: str) -> list[str]:
    """Plugins that depend on ``name`` directly."""
    return sorted(n for n, deps in graph.items() if name in deps)
