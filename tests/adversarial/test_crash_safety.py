"""Adversarial: a killed or interrupted run never damages the previous outputs.

The cases SIGKILL a real ``python -m evalkit run together`` (the process that
drives papermill) while its kernel executes the cleaning notebook and while it
executes the evaluation notebook, and kill ``python -m evalkit report`` while it
writes the HTML. After each kill the previous report, results and processed
data must be byte-identical and readable, and the next run must succeed. The
atomic-write primitives are also interrupted in-process (``KeyboardInterrupt``)
and in a child process (SIGKILL half-way through a write).

Every kill is aimed at a named point (:mod:`evalkit.failpoints`): the run
writes a marker there and blocks until it is killed, so the case tests the
same moment on a fast machine and on a slow, loaded one; nothing is timed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from evalkit.atomic import atomic_path, write_csv_atomic, write_text_atomic, write_with

from .helpers import CAMPAIGN, PY, clone_tree, descendants, evalkit, kill_tree, start, wait_for_failpoint

pytestmark = pytest.mark.slow

KEY_OUTPUTS = (
    f"reports/{CAMPAIGN}.html",
    f"reports/{CAMPAIGN}/results.csv",
    f"reports/{CAMPAIGN}/02_evaluate.ipynb",
    f"data/processed/{CAMPAIGN}/responses.parquet",
    f"data/processed/{CAMPAIGN}/cleaning_log.csv",
)


# ---------------------------------------------------------------- helpers


def _kernel_running(proc: subprocess.Popen) -> bool:
    return any(b"kernel" in _cmdline(pid) for pid in descendants(proc.pid))


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _snapshot(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in KEY_OUTPUTS}


def _assert_intact_and_readable(root: Path, before: dict[str, bytes]) -> None:
    assert _snapshot(root) == before, "a previous output changed after the kill"
    soup = BeautifulSoup((root / KEY_OUTPUTS[0]).read_text(encoding="utf-8"), "html.parser")
    assert soup.find("h1") is not None
    assert len(pd.read_csv(root / KEY_OUTPUTS[1])) > 0
    assert len(pd.read_parquet(root / KEY_OUTPUTS[3])) > 0


@pytest.fixture(scope="module")
def victim(built, tmp_path_factory) -> Path:
    """A private copy of the built project that the kills are aimed at."""
    return clone_tree(built, tmp_path_factory.mktemp("crash") / "project")


# ---------------------------------------------------------------- real runs killed


@pytest.mark.parametrize("command", ["clean", "evaluate"], ids=["during-clean-notebook", "during-evaluate-notebook"])
def test_sigkill_while_papermill_runs_keeps_previous_outputs(victim, command):
    """The kernel is blocked inside the notebook's main work (a failpoint in
    ``clean_campaign`` / ``compare_indicators``) when the run is killed."""
    before = _snapshot(victim)
    proc = start(victim, [PY, "-m", "evalkit", command, CAMPAIGN], failpoint=f"{command}-notebook:{CAMPAIGN}")
    wait_for_failpoint(proc)
    assert _kernel_running(proc)
    kill_tree(proc)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    _assert_intact_and_readable(victim, before)


def test_ctrl_c_while_papermill_runs_keeps_previous_outputs_and_stops_the_kernel(victim):
    """SIGINT (Ctrl-C in a terminal) during the evaluation notebook."""
    before = _snapshot(victim)
    proc = start(victim, [PY, "-m", "evalkit", "evaluate", CAMPAIGN], failpoint=f"evaluate-notebook:{CAMPAIGN}")
    wait_for_failpoint(proc)
    kernels = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        pytest.fail("the run did not stop within 300 s of Ctrl-C")
    assert proc.returncode != 0, "an interrupted run must not report success"
    _assert_intact_and_readable(victim, before)
    deadline = time.monotonic() + 120  # a bound, not a timing: papermill stops its kernel before exiting
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{k}") for k in kernels):
        time.sleep(0.2)
    alive = [k for k in kernels if os.path.exists(f"/proc/{k}") and b"kernel" in _cmdline(k)]
    for k in alive:
        os.kill(k, signal.SIGKILL)
    assert alive == [], "Ctrl-C left the notebook kernel running"


@pytest.mark.parametrize("point", [f"locked:{CAMPAIGN}", f"before-replace:{CAMPAIGN}.html"],
                         ids=["before-the-export", "html-written-not-yet-moved"])
def test_sigkill_while_the_html_is_written(victim, point):
    """Kill ``evalkit report`` before it exports, and when the new HTML is
    complete in its temporary file but not yet moved over the old one."""
    before = _snapshot(victim)
    proc = start(victim, [PY, "-m", "evalkit", "report", CAMPAIGN], failpoint=point)
    wait_for_failpoint(proc)
    kill_tree(proc)
    _assert_intact_and_readable(victim, before)
    assert not [p for p in (victim / "reports").iterdir() if p.name not in (f"{CAMPAIGN}.html", CAMPAIGN)
                and not p.name.startswith(".")], "a stray file is visible in reports/"


def test_next_run_after_kills_succeeds_and_matches(victim):
    before = _snapshot(victim)
    res = evalkit(victim, "run", CAMPAIGN)
    assert res.returncode == 0, res.stderr[-3000:]
    for leftover in (victim / "reports" / CAMPAIGN / ".staging", victim / "data" / "processed" / CAMPAIGN / ".staging"):
        assert not leftover.exists(), f"{leftover} left behind by the killed run was not cleaned up"
    assert not (victim / "reports" / CAMPAIGN / "01_clean.FAILED.ipynb").exists()
    assert _snapshot(victim)[KEY_OUTPUTS[1]] == before[KEY_OUTPUTS[1]], "results changed after a re-run"
    _assert_intact_and_readable(victim, _snapshot(victim))


# ---------------------------------------------------------------- the write primitives


def test_keyboard_interrupt_inside_an_atomic_write(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("previous", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(out) as tmp:
            tmp.write_text("<html>half", encoding="utf-8")
            raise KeyboardInterrupt
    assert out.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_exception_inside_write_with_and_write_csv(tmp_path):
    out = tmp_path / "results.csv"
    out.write_text("a\n1\n", encoding="utf-8")

    def broken(path: Path) -> None:
        path.write_text("a\n", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_with(out, broken)
    with pytest.raises(Exception):
        write_csv_atomic(pd.DataFrame({"a": [object()]}), out, compression="no-such-compression")
    assert out.read_text(encoding="utf-8") == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_sigkill_half_way_through_an_atomic_write(tmp_path):
    out = tmp_path / "responses.parquet"
    write_text_atomic(out, "previous complete file")
    script = textwrap.dedent(f"""
        import signal
        from evalkit.atomic import write_with
        def slow(p):
            with open(p, "wb") as fh:
                fh.write(b"x" * 1_000_000)
                fh.flush()
                print("half-written", flush=True)  # the test reads this line, then kills us
                while True:
                    signal.pause()  # until SIGKILL: no timer, whatever the machine's speed
        write_with({str(out)!r}, slow)
    """)
    proc = subprocess.Popen([PY, "-c", script], start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "half-written", "the writer stopped before writing"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert out.read_text(encoding="utf-8") == "previous complete file"
    # the next write succeeds even with the dead writer's temporary file around
    write_text_atomic(out, "next")
    assert out.read_text(encoding="utf-8") == "next"
