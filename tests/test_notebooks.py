"""The committed notebooks: no outputs, one parameters cell, no library logic."""

from __future__ import annotations

import ast

import nbformat
import pytest

from evalkit import paths

NOTEBOOKS = ["01_clean.ipynb", "02_evaluate.ipynb", "03_plan.ipynb"]


@pytest.fixture(params=NOTEBOOKS)
def nb(request):
    path = paths.notebooks_dir() / request.param
    if not path.exists():
        pytest.fail(f"{path} is missing")
    return nbformat.read(path, as_version=4)


def test_committed_without_outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], "commit notebooks without outputs (clear them first)"
            assert cell.execution_count is None


def test_exactly_one_parameters_cell_with_campaign_and_output_dir(nb):
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    names = {t.id for node in ast.walk(ast.parse(tagged[0].source)) if isinstance(node, ast.Assign) for t in node.targets}
    assert {"campaign", "output_dir"} <= names


def test_notebooks_hold_no_library_logic(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))]
            assert not defs, f"move this logic into evalkit: {cell.source[:80]!r}"


def test_every_code_cell_is_short_and_narrated(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 15, f"cell {i} is long; move logic into evalkit"
    assert nb.cells[0].cell_type == "markdown"
