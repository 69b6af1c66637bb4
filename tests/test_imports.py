"""The package's import graph: no cycle between cmvoice_nb modules, read from the source with ast.

An import anywhere in a module counts, inside functions included: a "lazy" import that
closes a cycle still ties two modules into one unit a reader must hold in mind together
(the way ``spelling/build.py`` and ``spelling/check.py`` once imported each other). Only
``if TYPE_CHECKING:`` blocks are left out: they never run.
"""
from __future__ import annotations

import ast
from pathlib import Path

import cmvoice_nb

PACKAGE_DIR = Path(cmvoice_nb.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _import_nodes(node)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The cmvoice_nb modules *name* imports (a ``from pkg import sub`` counts as importing pkg.sub)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                       for alias in node.names]
        found.update(t for t in targets if t in known and t != name)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def package_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def test_the_package_has_no_import_cycle():
    assert find_cycles(package_graph()) == []


def test_the_graph_sees_relative_lazy_and_submodule_imports():
    graph = package_graph()
    # module level, relative
    assert "cmvoice_nb.errors" in graph["cmvoice_nb.instructions"]
    # "from .. import spec" inside the spelling package
    assert "cmvoice_nb.spec" in graph["cmvoice_nb.spelling.names"]
    # an import inside a function body still counts
    assert "cmvoice_nb.spelling.check" in graph["cmvoice_nb.spelling.build"]


def test_the_cycle_finder_reports_a_cycle_and_ignores_a_chain():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_type_checking_imports_are_not_edges(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import other\n"
                      "else:\n    from . import third\n", encoding="utf-8")
    known = {"pkg.other", "pkg.third"}
    assert imports_of("pkg.mod", source, known) == {"pkg.third"}
