"""The operations app's modules import each other in one direction: no module reaches back, at import time or
from inside a function, to one that imports it (annotation-only imports under TYPE_CHECKING aside)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "apps" / "operations"
PACKAGE = "apps.operations"


def _imports(path: Path) -> set[str]:
    """The apps.operations modules this file imports, wherever in the file, except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(f"{PACKAGE}.{a.name}" for a in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
    return {m for m in found if (APP / (m.removeprefix(PACKAGE + ".") + ".py")).exists()}


def _graph() -> dict[str, set[str]]:
    return {f"{PACKAGE}.{p.stem}": _imports(p) for p in APP.glob("*.py")}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of this graph, as the modules along it ([] when there is none)."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        for target in sorted(graph.get(module, ())):
            if found := visit(target, [*path, module]):
                return found
        done.add(module)
        return []

    for module in sorted(graph):
        if found := visit(module, []):
            return found
    return []


def test_the_finder_sees_a_cycle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_is_read_from_the_app():
    graph = _graph()
    assert f"{PACKAGE}.registry" in graph[f"{PACKAGE}.models"]  # a row's handler
    assert f"{PACKAGE}.runner" in graph[f"{PACKAGE}.tasks"]


def test_the_operations_modules_import_in_one_direction():
    assert _cycle(_graph()) == []
