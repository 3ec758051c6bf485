"""Imports run one way (issue 18): no cycle among the project's own modules.

The graph has an edge A -> B when module A imports module B at module level. Imports under
`if TYPE_CHECKING:` count: they are never executed, but they say which module knows about which,
and a tier that names the stack in a type hint depends on the stack as much as one that imports
it. Imports inside functions do not count: they are how a module defers a heavy load
(main.py's cdktf and tier imports) and run only when called.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FOLDERS = ("constructs", "environments", "policies", "cost", "tools", "provider_standin")


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for main.py and every module under the project's folders."""
    modules = {"main": ROOT / "main.py"}
    for folder in PROJECT_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports outside any function or class: the module's body, including `if` and `try` blocks."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, (ast.If, ast.Try)):
            pending.extend(node.body + node.orelse + getattr(node, "finalbody", []))
            pending.extend(part for handler in getattr(node, "handlers", []) for part in handler.body)
    return found


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in module_level_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(anchor + ([base] if base else []))
        # `from a import b` imports the module a.b when there is one, else the name b of module a.
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            targets.add(submodule if submodule in modules else base)
    return {target for target in targets if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest cycle through each module that lies on one, each cycle named once, from the
    strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    named: dict[tuple[str, ...], list[str]] = {}
    for component in components:
        for start in sorted(component):
            cycle = shortest_cycle(graph, component, start)
            rotation = cycle.index(min(cycle[:-1]))  # one name per cycle, whichever module it was found from
            key = tuple(cycle[rotation:-1] + cycle[:rotation])
            named.setdefault(key, [*key, key[0]])
    return sorted(named.values())


def shortest_cycle(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """A shortest path from `start` back to itself within its component (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & component):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if successor not in came_from:
                    came_from[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_the_graph_sees_the_project_and_its_type_checking_imports():
    graph = import_graph()
    assert {"main", "constructs.stack", "constructs.google", "environments.loader", "tools.validate"} <= graph.keys()
    assert "constructs.google" in graph["constructs.stack"]
    assert "environments.loader" in graph["main"]  # main.py's cdktf and tier imports wait inside functions


def test_cycles_are_found_and_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "b"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c", "a"], ["b", "c", "b"]]


def test_no_import_cycle_among_the_project_modules():
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


# constructs/ reads as the architecture (docs/layout.md): the parts shared by all sit below the
# tiers and the cross-cutting concerns, which sit below the stacks that compose them.
LAYERS = {
    "constructs.shared": {"constructs.google", "constructs.shared"},
    "constructs.tiers": {"constructs.google", "constructs.shared"},
    "constructs.concerns": {"constructs.google", "constructs.shared", "constructs.concerns"},
}
# A tier's own parts, which no other module uses; otherwise a tier imports no other tier.
TIER_PARTS = {
    "constructs.tiers.data": {"constructs.tiers.backup_copy", "constructs.tiers.sql_autopause"},
    "constructs.tiers.monitoring": {"constructs.tiers.monitoring_dashboard", "constructs.tiers.slo"},
}


def test_constructs_import_only_downward():
    graph = import_graph()
    wrong = []
    for module, imports in sorted(graph.items()):
        layer = next((prefix for prefix in LAYERS if module.startswith(f"{prefix}.")), None)
        if layer is None:
            continue
        allowed = LAYERS[layer] | TIER_PARTS.get(module, set())
        wrong += [f"{module} -> {target}" for target in sorted(imports) if target.startswith("constructs.")
                  and target not in allowed and target.rpartition(".")[0] not in allowed]
    assert wrong == [], "imports against the layout:\n" + "\n".join(wrong)
