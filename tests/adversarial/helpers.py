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




# ---------------------------------------------------------------- runs stopped at a failpoint

#: Safety net only: how long a run may take to reach its failpoint on a very busy machine.
FAILPOINT_TIMEOUT = 600


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid`` (read from /proc), deepest last."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out.extend(kids)
        todo.extend(kids)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a run we started: its session, then any kernel it spawned (kernels have their own)."""
    import signal

    pids = descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)


def _default_signals() -> None:
    """In the child: SIGINT/SIGTERM do what they do in a terminal.

    A test run started in the background (``pytest &``, some CI runners)
    inherits SIGINT ignored, and so would every run it starts: the Ctrl-C
    cases would then wait for a run that never stops.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(root: Path, cmd: list[str], *, failpoint: str | None = None) -> subprocess.Popen:
    """Start ``cmd`` in its own session on ``root``; output goes to ``proc.log_path``.

    With ``failpoint`` (see :mod:`evalkit.failpoints`) the run writes
    ``proc.marker`` when it reaches that point and blocks there until killed.
    """
    import time

    stamp = time.monotonic_ns()
    marker = root.parent / f"failpoint-{stamp}"
    extra = {"EVALKIT_FAILPOINT": failpoint, "EVALKIT_FAILPOINT_FILE": str(marker)} if failpoint else {}
    with open(root.parent / f"run-{stamp}.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=run_env(root, **extra), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_default_signals)
    proc.log_path = Path(log.name)  # type: ignore[attr-defined]
    proc.marker = marker  # type: ignore[attr-defined]
    return proc


def run_log(proc: subprocess.Popen) -> str:
    """What a run started with :func:`start` printed so far."""
    return proc.log_path.read_text(encoding="utf-8", errors="backslashreplace")


def wait_for_failpoint(proc: subprocess.Popen) -> None:
    """Wait until ``proc`` blocks at its failpoint; fail the test if it ends first."""
    import time

    import pytest

    deadline = time.monotonic() + FAILPOINT_TIMEOUT
    while not proc.marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before its failpoint:\n{run_log(proc)[-3000:]}")
        if time.monotonic() > deadline:
            kill_tree(proc)
            pytest.fail("the failpoint was never reached")
        time.sleep(0.05)
