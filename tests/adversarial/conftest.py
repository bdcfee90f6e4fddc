"""Fixtures of the adversarial suite (helpers live in ``helpers.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import CAMPAIGN, clone_tree, make_project_copy, run


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
    """An input-only project copy; never modified (copy it before mutating)."""
    return make_project_copy(tmp_path_factory.mktemp("pristine"))


@pytest.fixture(scope="session")
def pristine(inputs) -> Path:
    """Like ``inputs``, for cases that need the shipped raw data."""
    if not (inputs / "data" / "raw" / CAMPAIGN).is_dir():
        pytest.fail(f"no shipped raw data in data/raw/{CAMPAIGN}")
    return inputs


@pytest.fixture
def params_project(inputs, tmp_path, monkeypatch) -> Iterator[Path]:
    """A fresh project copy for params cases (raw data not needed)."""
    root = clone_tree(inputs, tmp_path / "project")
    monkeypatch.setenv("EVALKIT_ROOT", str(root))
    yield root


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
