"""Every import points down: no two modules of bot/, index/ and ui/ import each other (directly or round a circle),
index/ never imports bot/ or ui/, bot/ never imports ui/, and inside index/ each room imports only the rooms before it
(documents -> embedding -> search -> store -> milvus). Imports inside functions and under TYPE_CHECKING count too."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot", "ui")
# Lower numbers sit lower; a module may import its own rank or below. Longest matching prefix wins.
RANKS = {
    "index": 0,  # errors, diskspace, npyfiles, threads: shared by every room
    "index.documents": 1,
    "index.embedding": 2,
    "index.search": 3,
    "index.store": 4,
    "index.milvus": 5,
    "index.pipeline": 6,
    "index.access": 6,
    "bot": 10,
    "bot.checks": 11,
    "ui": 20,
}
Graph = dict[str, set[str]]


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module names of the packages' .py files. Example: index/store/build.py -> "index.store.build"."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement (or import_module("x") call) may load."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parent = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                parent = parent.rpartition(".")[0]
            base = f"{parent}.{base}".rstrip(".")
        return [base] + [f"{base}.{a.name}" for a in node.names]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module":
        return [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> Graph:
    """Each module's imports of the other modules of `packages` (by file: a name inside a module counts as it)."""
    known = modules(root, packages)

    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names = (n for node in ast.walk(tree) for n in _imported(node, module, path.name == "__init__.py"))
        graph[module] = {o for n in names if (o := owner(n)) is not None and o != module}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (Tarjan's strongly connected components of more than one module).

    Example: {"a": {"b"}, "b": {"a"}, "c": {"a"}} -> [["a", "b"]]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            if group:
                found.append(sorted([v, *group]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def rank_of(ranks: Mapping[str, int]) -> Callable[[str], int]:
    """The rank of a module: that of the longest prefix of its name in `ranks`."""

    def rank(module: str) -> int:
        parts = module.split(".")
        return next(ranks[p] for i in range(len(parts), 0, -1) if (p := ".".join(parts[:i])) in ranks)

    return rank


def upward(graph: Mapping[str, set[str]], ranks: Mapping[str, int]) -> list[str]:
    """The imports that point up: "a -> b" where b ranks above a. Example: index.x -> bot.y with index 0, bot 1."""
    rank = rank_of(ranks)
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets if rank(b) > rank(a))


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(import_graph(ROOT)) == []


def test_every_import_points_down() -> None:
    assert upward(import_graph(ROOT), RANKS) == []


def test_every_module_has_a_rank() -> None:
    rank = rank_of(RANKS)
    assert all(isinstance(rank(m), int) for m in modules(ROOT, PACKAGES))


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "low/a.py": "from low import b\n",
                "low/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from low.a import X\n",
            },
            [["low.a", "low.b"]],
        ),  # fmt: skip
        (
            {
                "low/a.py": "def f():\n    from .b import g\n",
                "low/b.py": "def g():\n    import low.c\n",
                "low/c.py": "import low.a\n",
            },
            [["low.a", "low.b", "low.c"]],
        ),  # fmt: skip
        ({"low/a.py": "import low.b\n", "low/b.py": "import json\n"}, []),
    ],
)
def test_the_checker_finds_a_planted_cycle(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    root = _package(tmp_path, {"low/__init__.py": "", **files})
    assert cycles(import_graph(root, ["low"])) == expected


def test_the_checker_finds_an_upward_import(tmp_path: Path) -> None:
    root = _package(tmp_path, {"low/__init__.py": "", "low/a.py": "def f():\n    from high.b import g\n",
                               "high/__init__.py": "", "high/b.py": "from low.a import f\n",
                               "low/c.py": "import importlib\nimportlib.import_module('high.b')\n"})  # fmt: skip
    graph = import_graph(root, ["low", "high"])
    assert upward(graph, {"low": 0, "high": 1}) == ["low.a -> high.b", "low.c -> high.b"]
    assert cycles(graph) == [["high.b", "low.a"]]
