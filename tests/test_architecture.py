"""The package's shape: no import cycles between evalkit modules, and the report package stays split by job.

The import graph is read statically (``ast``) from every module under
``src/evalkit``, including imports inside functions: a cycle hidden behind a
function-level import is still a cycle a maintainer has to untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "evalkit"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """Module -> the evalkit modules it imports (a ``from pkg import sub`` counts as importing ``pkg.sub``)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                           for a in node.names]
            for t in targets:
                if t.startswith("evalkit") and t in mods and t != name:
                    graph[name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules (first == last), or ``[]``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return []

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return []


def test_find_cycle_detects_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle == [], "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("path", sorted((PKG / "report").glob("*.py")), ids=lambda p: p.name)
def test_report_modules_stay_small(path):
    # One job per module (the guide: split a module past ~600 lines).
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 650, f"{path.name} grew past one job; split it"


def test_report_submodules_do_not_import_the_package_root():
    graph = import_graph()
    offenders = sorted(m for m, deps in graph.items() if m.startswith("evalkit.report.") and "evalkit.report" in deps)
    assert offenders == []


def _fresh_python(code: str) -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_report_package_names_are_the_functions_whatever_was_imported_first():
    """Every name the package re-exports is its module's object, also after every submodule was loaded
    (a submodule binds itself to the package on import: ``provenance`` is both)."""
    out = _fresh_python(
        "import importlib, pkgutil, evalkit.report as r\n"
        "for m in pkgutil.iter_modules(r.__path__): importlib.import_module('evalkit.report.' + m.name)\n"
        "bad = [n for n, mod in r._EXPORTS.items()\n"
        "       if getattr(r, n) is not getattr(importlib.import_module('evalkit.report.' + mod), n)]\n"
        "print(sorted(bad), sorted(set(r.__all__) ^ set(r._EXPORTS)))\n")
    assert out.strip() == "[] []"


@pytest.mark.parametrize("module, heavy", [
    ("evalkit.report.htmlexport", ("pingouin", "statsmodels", "matplotlib")),  # converts a notebook
    ("evalkit.report.index", ("pingouin", "statsmodels")),  # reads results.csv and claims.csv, draws one figure
    ("evalkit.claims", ("pingouin",)),
])
def test_light_steps_do_not_load_the_statistics_stack(module, heavy):
    """The HTML export and the index page run in their own processes: importing pingouin there costs 1-2 s."""
    out = _fresh_python(f"import sys, {module}\nprint(sorted(m for m in {heavy!r} if m in sys.modules))")
    assert out.strip() == "[]"
