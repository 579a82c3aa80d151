"""The import direction of every layer of ``agentkit_app``, and no import cycles, read from the source.

Every import counts, wherever it stands: at the top, inside a function, or under ``TYPE_CHECKING``
(a type-only import is still a dependency a reader has to follow).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "agentkit_app"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# the store modules that hold only public data classes, which the transports may use as they are
STORE_DATA = ("agentkit_app.store.models", "agentkit_app.store.records", "agentkit_app.store.search")
# what each layer may import besides itself; a layer not named here (the app module) may import anything
ALLOWED: dict[str, tuple[str, ...]] = {
    "engine": (),
    "settings": (),
    "store": ("engine",),
    "service": ("store", "engine", "settings"),
    "api": ("service", "engine", "settings", *STORE_DATA),
    "ui": ("service", "engine", "settings", *STORE_DATA),
}

# The one allowlist: import edges that close a cycle today, left out of the cycle check. Every layer rule
# above holds without exceptions. Remove an entry when its import is gone; a new entry needs a reason.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    """Return the dotted name of a source file of the package (``__init__`` names its package)."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported(module: str, source: str, *, is_package: bool = False) -> Iterator[str]:
    """Yield the modules of ours that ``module`` imports (``from pkg import mod`` names ``pkg.mod``)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                yield target


GRAPH: dict[str, set[str]] = {
    m: set(imported(m, p.read_text(), is_package=p.name == "__init__.py")) - {m} for m, p in MODULES.items()
}


def layer(module: str) -> str | None:
    """Return the layer a module belongs to (None for the app module and the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def allowed(source: str, target: str) -> bool:
    """Return whether ``source`` may import ``target`` by the layer rules."""
    own = layer(source)
    if own is None or layer(target) == own:
        return True
    return any(target == rule or target.startswith(rule + ".") for rule in ALLOWED[own] if "." in rule) or (
        layer(target) in ALLOWED[own]
    )


def test_every_module_is_seen():
    assert {"engine", "store", "service", "api", "ui"} <= {layer(m) for m in MODULES}
    assert "agentkit_app.service.chat" in GRAPH["agentkit_app.api.security"]


def test_every_layer_imports_only_what_lies_below_it():
    wrong = sorted(
        (source, target)
        for source, targets in GRAPH.items()
        for target in targets
        if not allowed(source, target)
    )
    assert wrong == []


def test_the_engine_imports_nothing_of_ours_outside_it():
    assert [
        (m, t) for m, ts in GRAPH.items() if layer(m) == "engine" for t in ts if layer(t) != "engine"
    ] == []


def test_the_transports_reach_the_store_only_for_its_data_classes():
    store_imports = {
        t for m, ts in GRAPH.items() if layer(m) in ("api", "ui") for t in ts if layer(t) == "store"
    }
    assert store_imports <= set(STORE_DATA)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_type_only_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_agentkit_app_has_no_import_cycles():
    graph = {m: {t for t in ts if (m, t) not in KNOWN_CYCLE_EDGES} for m, ts in GRAPH.items()}
    assert cycles(graph) == []


def test_type_only_relative_and_local_imports_are_counted():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from agentkit_app.service.chat import ChatService\n"
        "def later():\n"
        "    from . import runs\n"
        "    from ..engine import events\n"
    )
    assert set(imported("agentkit_app.service.x", source)) == {
        "agentkit_app.service.chat",
        "agentkit_app.service.runs",
        "agentkit_app.engine.events",
    }
