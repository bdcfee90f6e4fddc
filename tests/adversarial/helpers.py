"""Helpers of the adversarial suite: project copies, runs, hashes.

Every case works on a COPY of the project (params, raw data, notebooks,
Makefile) with ``EVALKIT_ROOT`` pointing at it, so the repository's own files
are never touched. Expensive things are built once per session:

- ``pristine``: a copy of the project's inputs, never modified; cases copy it
  (cheap: a few MB) and mutate their own copy.
- ``built``: a copy on which ``make report CAMPAIGN=together`` has run; read
  only (the personal-data, small-cell and determinism cases inspect it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
CAMPAIGN = "together"
#: Seconds a full ``make report`` may take on a busy 2-core machine.
RUN_TIMEOUT = 600


def make_project_copy(dest: Path, *, src: Path = REPO) -> Path:
    """Copy what a run reads into ``dest`` (mtimes kept); link the venv.

    The same set of files as ``tests/test_pipeline.py``'s helper, plus the
    pseudonymisation key if the source has one (two copies then give the same
    pseudonyms).
    """
    dest.mkdir(parents=True, exist_ok=True)
    for sub in ("params", "data/raw", "notebooks", "src"):
        origin = src / sub
        if origin.exists():
            shutil.copytree(origin, dest / sub,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for f in ("Makefile", "pyproject.toml", "requirements.lock", ".evalkit-key"):
        if (src / f).exists():
            shutil.copy2(src / f, dest / f)
    venv = REPO / ".venv"
    if not (dest / ".venv").exists():
        (dest / ".venv").symlink_to(venv)
    from test_pipeline import align_setup_mtimes

    align_setup_mtimes(dest)
    return dest


def clone_tree(src: Path, dest: Path) -> Path:
    """Copy a project copy (outputs included) keeping mtimes and the venv link."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def run_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment for a subprocess run on the project copy ``root``."""
    env = {**os.environ, "EVALKIT_ROOT": str(root), "PYTHONHASHSEED": "0"}
    env.update(extra)
    return env


def run(cmd: list[str], root: Path, *, timeout: float = RUN_TIMEOUT, **extra_env: str) -> subprocess.CompletedProcess:
    """Run ``cmd`` in ``root`` with ``EVALKIT_ROOT=root``; capture text output."""
    return subprocess.run(cmd, cwd=root, env=run_env(root, **extra_env), capture_output=True,
                          text=True, timeout=timeout)


def evalkit(root: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """``python -m evalkit <args>`` on the project copy ``root``."""
    return run([PY, "-m", "evalkit", *args], root, **extra_env)


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below ``folder`` (links not followed).

    Directories are listed too (value ``"<dir>"``) so that a created, empty
    folder also counts as a change.
    """
    out: dict[str, str] = {}
    if not folder.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if not (d / n).is_symlink() and n not in ("__pycache__", ".venv")]
        for n in dirnames:
            out[str((d / n).relative_to(folder))] = "<dir>"
        for n in filenames:
            p = d / n
            if p.is_symlink():
                out[str(p.relative_to(folder))] = "<link>" + os.readlink(p)
            else:
                out[str(p.relative_to(folder))] = sha256(p)
    return out


def output_hashes(root: Path) -> dict[str, str]:
    """Hashes of everything a run may write: ``data/processed`` and ``reports``."""
    return {**{f"data/processed/{k}": v for k, v in tree_hashes(root / "data" / "processed").items()},
            **{f"reports/{k}": v for k, v in tree_hashes(root / "reports").items()}}


def raw_hashes(root: Path) -> dict[str, str]:
    """Hashes of every raw file (they must never change)."""
    return tree_hashes(root / "data" / "raw")


