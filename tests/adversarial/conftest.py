"""Fixtures of the adversarial suite (helpers live in ``helpers.py``).

The three full pipeline runs the suite needs (``built``: the shipped data;
``rerun_tz``: the same under another time zone and locale; ``canary_built``:
inputs full of injection canaries) are independent, so they start together in
the background as soon as the session begins (only those the selected tests
use) and each fixture waits for its own. The in-process cases run meanwhile.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import CAMPAIGN, RUN_TIMEOUT, clone_tree, make_project_copy, run_env

#: Environment of the second determinism run: another time zone and locale.
OTHER_ENV = {"TZ": "Asia/Ulaanbaatar", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONHASHSEED": "12345"}
BACKGROUND = ("built", "rerun_tz", "canary_built")


class BackgroundRun:
    """``make report CAMPAIGN=together`` on a project copy, in a child process."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.log = root.parent / f"{root.name}.make.log"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(["make", "report", f"CAMPAIGN={CAMPAIGN}"], cwd=root,
                                         env=run_env(root, **env), stdout=fh, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def wait(self) -> Path:
        """Wait for the run; fail the test with make's output if it failed."""
        try:
            code = self.proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"make report on {self.root} did not finish in {RUN_TIMEOUT} s")
        if code != 0:
            out = self.log.read_text(encoding="utf-8", errors="backslashreplace")
            pytest.fail(f"make report failed on {self.root} (exit {code}):\n{out[-6000:]}")
        return self.root

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def pytest_collection_modifyitems(config, items) -> None:
    """Remember which background runs the selected tests need."""
    here = Path(__file__).parent
    needed = set()
    for item in items:
        if Path(str(item.path)).is_relative_to(here):
            needed |= set(BACKGROUND) & set(getattr(item, "fixturenames", ()))
    if "rerun_tz" in needed or "canary_built" in needed:
        needed.add("built")
    config._adversarial_runs = needed  # noqa: SLF001


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
    """An input-only project copy; never modified (copy it before mutating)."""
    return make_project_copy(tmp_path_factory.mktemp("pristine") / "project")


@pytest.fixture(scope="session")
def pristine(inputs) -> Path:
    """Like ``inputs``, for cases that need the shipped raw data."""
    if not (inputs / "data" / "raw" / CAMPAIGN).is_dir():
        pytest.fail(f"no shipped raw data in data/raw/{CAMPAIGN}")
    return inputs


@pytest.fixture(scope="session", autouse=True)
def background_runs(request, tmp_path_factory) -> Iterator[dict[str, BackgroundRun]]:
    """Start the full runs the selected tests need, all at once."""
    needed = getattr(request.config, "_adversarial_runs", set())
    runs: dict[str, BackgroundRun] = {}
    if needed:
        pristine = request.getfixturevalue("pristine")
        if "built" in needed:
            runs["built"] = BackgroundRun(clone_tree(pristine, tmp_path_factory.mktemp("built") / "project"))
        if "rerun_tz" in needed:
            runs["rerun_tz"] = BackgroundRun(clone_tree(pristine, tmp_path_factory.mktemp("rerun") / "project"),
                                             **OTHER_ENV)
        if "canary_built" in needed:
            from .canaries import plant_canaries

            root = clone_tree(pristine, tmp_path_factory.mktemp("canary") / "project")
            plant_canaries(root)
            runs["canary_built"] = BackgroundRun(root)
    yield runs
    for r in runs.values():
        r.stop()


def _wait(runs: dict[str, BackgroundRun], name: str) -> Path:
    if name not in runs:
        pytest.fail(f"the background run {name!r} was not started (fixture used indirectly?)")
    return runs[name].wait()


@pytest.fixture(scope="session")
def built(background_runs) -> Path:
    """A project copy on which ``make report CAMPAIGN=together`` has run (read only)."""
    return _wait(background_runs, "built")


@pytest.fixture(scope="session")
def rerun_tz(background_runs) -> Path:
    """Another copy, same inputs, built under ``TZ=Asia/Ulaanbaatar LC_ALL=C.UTF-8`` (read only)."""
    return _wait(background_runs, "rerun_tz")


@pytest.fixture(scope="session")
def canary_built(background_runs) -> Path:
    """A copy whose inputs carry injection canaries, built with ``make report`` (read only)."""
    return _wait(background_runs, "canary_built")


@pytest.fixture
def project(pristine, tmp_path, monkeypatch) -> Iterator[Path]:
    """A fresh, mutable project copy; ``EVALKIT_ROOT`` points at it in-process."""
    root = clone_tree(pristine, tmp_path / "project")
    monkeypatch.setenv("EVALKIT_ROOT", str(root))
    yield root


@pytest.fixture
def params_project(inputs, tmp_path, monkeypatch) -> Iterator[Path]:
    """A fresh project copy for params cases (raw data not needed)."""
    root = clone_tree(inputs, tmp_path / "project")
    monkeypatch.setenv("EVALKIT_ROOT", str(root))
    yield root
