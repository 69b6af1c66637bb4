"""The package's shape: stages that import one way, modules a reader can hold, no private reaching across.

Read from the source with :mod:`ast` (nothing is imported): every ``import`` counts, at module level,
under ``if TYPE_CHECKING:`` and inside functions alike, because each is a dependency a reader has to
follow.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cmvoice_nb"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """``(module imported, name imported from it or None, line)`` for every import in *path*."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                # "from . import x" imports the module x; "from .m import f" imports f from m
                found.append((full, None, node.lineno) if full in MODULES else (target, alias.name, node.lineno))
    return [(t, n, line) for t, n, line in found if t == "cmvoice_nb" or t.startswith("cmvoice_nb.")]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_a_reader_can_hold(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES})"


def test_callbacks_never_import_campaign_and_campaign_never_imports_the_simulator():
    wrong = [(name, target, line) for name, imports in GRAPH.items() for target, _n, line in imports
             if (name.startswith("cmvoice_nb.callbacks") and target.startswith("cmvoice_nb.campaign"))
             or (name.startswith("cmvoice_nb.campaign") and target.startswith("cmvoice_nb.simulator"))]
    assert wrong == []


def _package_of(module: str) -> str:
    """The sub-package a module belongs to, for the cycle check (``cmvoice_nb.campaign.plan._api`` →
    ``cmvoice_nb.campaign.plan``): modules of one package may lean on each other; packages may not."""
    if module not in MODULES:
        return module
    path = MODULES[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def test_no_two_modules_import_each_other_directly_or_through_others():
    """A module-level import cycle between modules (imports inside functions and TYPE_CHECKING included)."""
    edges = {name: {t for t, _n, _l in imports if t in MODULES and t != name} for name, imports in GRAPH.items()}
    # A package imports its own modules to export their names; its modules importing the package
    # back for a sibling's name is the cycle to avoid, so keep __init__ → module edges only.
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [])
    shown = [" -> ".join(c) for c in cycles[:10]]
    assert cycles == [], "import cycles:\n" + "\n".join(shown)


def test_no_module_imports_another_package_s_private_names():
    """``from x import _private`` across packages (a module's own package may share its private helpers)."""
    wrong = []
    for name, imports in GRAPH.items():
        home = _package_of(name)
        for target, imported, line in imports:
            private_module = any(part.startswith("_") and not part.startswith("__")
                                 for part in target.split(".")[1:])
            private_name = imported is not None and imported.startswith("_") and not imported.startswith("__")
            if not (private_module or private_name):
                continue
            target_home = _package_of(target)
            if target_home == home or target_home.startswith(home + ".") or home.startswith(target_home + "."):
                continue  # inside one package tree
            if target.rpartition(".")[2] in ("_lazy", "_fsutil", "_tables", "_xlsx", "_archive") and \
                    target.count(".") == 1:
                continue  # the package's shared private utilities, at its root
            wrong.append(f"{name}:{line} imports {target}{'.' + imported if imported else ''}")
    assert wrong == []


def test_every_package_declares_its_public_names():
    missing = [name for name, path in MODULES.items() if path.name == "__init__.py"
               and not {"__all__", "lazy_exports"} & set(re.findall(r"\w+", path.read_text(encoding="utf-8")))]
    assert missing == []
