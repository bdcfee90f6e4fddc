"""Named points where a test can stop a real run, without timing.

A crash-safety test must kill a run at a known moment (the kernel is executing
the cleaning notebook; a step has just published its outputs), not "after 1.5
seconds", which is a different moment on a slower or busier machine. The code
calls :func:`hold` at such moments; normally it does nothing. When the
environment variable ``EVALKIT_FAILPOINT`` names the point, :func:`hold`
writes the file named by ``EVALKIT_FAILPOINT_FILE`` (the test waits for it)
and then blocks until the process is killed or interrupted.

The variables are read at each call, so they also reach the notebook kernel
(papermill starts it with the parent's environment).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: Every point the code defines (a test naming another one would wait forever).
POINTS = frozenset({
    "clean-notebook",      # the kernel is inside the cleaning notebook's work
    "evaluate-notebook",   # the kernel is inside the evaluation notebook's work
    "published",           # a step has just published its outputs (make is still running)
    "before-replace",      # an atomic write has its complete temporary file, not yet moved
    "locked",              # a step holds its campaign's lock
})


def hold(point: str, *, detail: str = "") -> None:
    """Block here if a test asked for ``point`` (see the module docstring).

    Parameters
    ----------
    point : str
        One of :data:`POINTS`.
    detail : str, keyword-only
        Narrows the point: ``EVALKIT_FAILPOINT=before-replace:together.html``
        holds only while ``together.html`` is written. Empty matches any.
    """
    if point not in POINTS:
        raise ValueError(f"unknown failpoint {point!r}; known: {', '.join(sorted(POINTS))}")
    wanted = os.environ.get("EVALKIT_FAILPOINT")
    if not wanted:
        return
    name, _, want_detail = wanted.partition(":")
    if name != point or (want_detail and want_detail != detail):
        return
    marker = os.environ.get("EVALKIT_FAILPOINT_FILE")
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n", encoding="utf-8")
    while True:  # until SIGKILL, or SIGINT/SIGTERM raise out of the sleep
        time.sleep(3600)
