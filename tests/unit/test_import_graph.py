"""Imports between our modules go one way: no circle, read from the source with ``ast``.

At import time (module-level imports) no module of ``service`` or ``stores`` imports itself back
through others; in ``service.cli`` not even an import inside a function does (the commands were
once a circle of modules importing ``service.cli`` back for its settings helper).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(*packages: str) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules("service", "stores")


def _imports(nodes: Iterator[ast.AST] | list[ast.stmt]) -> Iterator[str]:
    """Our modules named by these import statements (``from pkg import mod`` names ``pkg.mod``)."""
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                if name in MODULES:
                    yield name
                elif node.module in MODULES:
                    yield node.module


def _graph(names: dict[str, Path], *, everywhere: bool) -> dict[str, set[str]]:
    graph = {}
    for name, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # module level: the statements run at import (an ``if TYPE_CHECKING:`` block does not)
        nodes = ast.walk(tree) if everywhere else tree.body
        graph[name] = {m for m in _imports(nodes) if m in names and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_back_at_import_time() -> None:
    assert _cycles(_graph(MODULES, everywhere=False)) == []


def test_the_cli_modules_import_each_other_without_a_circle() -> None:
    cli = {name: path for name, path in MODULES.items() if name.startswith("service.cli")}
    assert {"service.cli", "service.cli.main", "service.cli.common"} <= cli.keys()
    graph = _graph(cli, everywhere=True)
    assert _cycles(graph) == []
    assert not any("service.cli" in imported for imported in graph.values())
    assert graph["service.cli.common"] == set()  # what the commands share depends on none


def test_the_worker_composes_its_jobs_without_an_arrow_back_up() -> None:
    graph = _graph(MODULES, everywhere=True)
    assert not {m for m in graph["service.bootstrap"] if m.startswith("service.workers")}


def test_settings_depend_on_no_use_case() -> None:
    below = _graph(MODULES, everywhere=True)["service.settings"]
    assert not {m for m in below if m.startswith(("service.usecases", "stores", "service.api"))}
