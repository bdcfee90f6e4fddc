"""Fixtures of the adversarial suite (helpers live in ``helpers.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import CAMPAIGN, clone_tree, make_project_copy, run


@pytest.fixture(scope="session")
def pristine(tmp_path_factory) -> Path:
    """An input-only project copy; never modified (copy it before mutating)."""
    root = make_project_copy(tmp_path_factory.mktemp("pristine"))
    if not (root / "data" / "raw" / CAMPAIGN).is_dir():
        pytest.skip(f"no shipped raw data in data/raw/{CAMPAIGN} yet")
    return root


@pytest.fixture
def project(pristine, tmp_path, monkeypatch) -> Iterator[Path]:
    """A fresh, mutable project copy; ``EVALKIT_ROOT`` points at it in-process."""
    root = clone_tree(pristine, tmp_path / "project")
    monkeypatch.setenv("EVALKIT_ROOT", str(root))
    yield root


@pytest.fixture(scope="session")
def built(pristine, tmp_path_factory) -> Path:
    """A project copy on which ``make report CAMPAIGN=together`` has run (read only)."""
    root = clone_tree(pristine, tmp_path_factory.mktemp("built") / "project")
    res = run(["make", "report", f"CAMPAIGN={CAMPAIGN}"], root)
    if res.returncode != 0:
        pytest.fail(f"make report failed on an unmodified copy:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}")
    return root
