"""The tree shows the architecture, and keeps showing it: imports go down only (web → layers → geo),
nothing imports `app`, no two modules import each other (directly or round a longer circle), the two
stores do not reach into each other, every package says in one line what lives there, and no module
grows past the house style's ~400 lines.

Imports are read from the source with `ast` (every import, also those inside functions and under
TYPE_CHECKING: a lazy import is still a dependency), so the test needs nothing installed.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO

ROOTS = ("geo", "layers", "web", "data")
RANK = {"geo": 0, "layers": 1, "data": 1, "web": 2}
MAX_LINES = 400
FORBIDDEN = {  # package -> what it may never import
    "geo": ("layers", "web", "flask", "app", "psycopg2", "sqlite3"),
    "layers": ("web", "flask", "app"),
    "web": ("app",),
    "data": ("web", "flask", "app"),
}
APART = [("layers.embedded", "layers.postgis"), ("layers.postgis", "layers.embedded")]


def _modules() -> dict[str, Path]:
    found = {}
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> set[str]:
    """Every module name `path` imports (absolute, as written or resolved from a relative import)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parents + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def _internal(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


GRAPH: dict[str, set[str]] = defaultdict(set)
RAW: dict[str, set[str]] = {}
for _name, _path in MODULES.items():
    RAW[_name] = _imported(_name, _path)
    for _target in RAW[_name]:
        _mod = _internal(_target)
        if _mod and _mod != _name and not _name.startswith(_mod + "."):  # a package's own __init__ is no edge
            GRAPH[_name].add(_mod)


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in MODULES:
        if start in index:
            continue
        work = [(start, iter(sorted(GRAPH[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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


def test_the_checker_sees_the_tree():
    assert {"web.params", "layers.store", "geo.hours"} <= set(MODULES)
    assert any(m.startswith("layers.") for m in GRAPH["web.params"]), GRAPH["web.params"]


def test_no_import_circles():
    assert _cycles() == []


@pytest.mark.parametrize("root", ROOTS)
def test_imports_go_down_only(root):
    wrong = []
    for name, targets in RAW.items():
        if name.split(".")[0] != root:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top in FORBIDDEN[root] or (top in RANK and RANK[top] > RANK[root]):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("source, other", APART)
def test_the_stores_keep_apart(source, other):
    wrong = [f"{n} imports {t}" for n, ts in GRAPH.items() if n.startswith(source) for t in ts if t.startswith(other)]
    assert wrong == []


def test_nothing_imports_app():
    for name, targets in RAW.items():
        assert "app" not in targets, name


def test_every_package_says_what_lives_there():
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) == 1, f"{name}: one-line docstring wanted"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines (split it along its seams)"
