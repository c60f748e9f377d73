"""The package in layers (README "How it works"): every module imports on its own, imports point
only down the layer table, there is no import cycle, and no module imports another module's
private name."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "symphony"

# Lowest first. A module may import from its own subpackage and from layers of a lower rank.
LAYERS = {
    "errors": 0, "settings": 0,
    "music": 1,
    "formats": 2,
    "model": 3,
    "decoding": 4, "understanding": 4,
    "training": 5, "tasks": 5,
    "evaluation": 6,
    "server": 7,  # the HTTP API and the studio's server
    "cli": 8, "": 8,  # symphony/__init__.py: the Python API
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


# Alembic runs the migration scripts (env.py and versions/*.py) itself, inside its context: they are
# not modules to import (a revision's file name may start with a digit).
MODULES = sorted(module_name(p) for p in PKG.rglob("*.py") if "migrations" not in p.relative_to(PKG).parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_of(path: Path) -> list[tuple[str, str | None, bool]]:
    """(imported module, imported name or None, at module level) for every symphony import,
    except those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "symphony" or target.startswith("symphony."):
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in MODULES:
                        out.append((sub, None, id(node) in top))
                    else:
                        out.append((target, alias.name, id(node) in top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("symphony"):
                    out.append((alias.name, None, id(node) in top))
    return out


GRAPH = {module_name(p): imports_of(p) for p in PKG.rglob("*.py")}


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_on_its_own(module):
    """In a fresh interpreter, with nothing imported before it."""
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_imports_point_down_the_layer_table():
    wrong = []
    for module, imports in GRAPH.items():
        mine = layer_of(module)
        for target, _name, _top in imports:
            theirs = layer_of(target)
            if theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports that point up or across the layer table: " + ", ".join(wrong)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycles():
    """Function-local imports count too: a cycle hidden inside a function is still a cycle."""
    edges = {m: {t for t, _n, _top in imps if t in GRAPH and t != m} for m, imps in GRAPH.items()}
    # a package's __init__ re-exporting its own modules is not a cycle through them
    for m in edges:
        edges[m] = {t for t in edges[m] if not (m != "symphony" and t.startswith(m + "."))}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_another_modules_private_name():
    private = [f"{module} imports {target}.{name}" for module, imports in GRAPH.items()
               for target, name, _top in imports
               if name and name.startswith("_") and not name.startswith("__") and target != module]
    assert not private, ", ".join(private)


def test_the_graph_reader_sees_private_and_local_imports(tmp_path):
    f = PKG / "music" / "_probe_for_test.py"
    try:
        f.write_text("def f():\n    from .score import _private_thing\n")
        assert imports_of(f) == [("symphony.music.score", "_private_thing", False)]
    finally:
        f.unlink()
