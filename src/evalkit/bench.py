"""Measure how fast and how lean the report pipeline is (``make bench``).

Timings on a shared machine are noisy, so every speed target is a *ratio* to
a floor ``F`` measured in the same run: papermill executing a notebook that
imports pandas, seaborn and pingouin and draws one plot, plus nbconvert of it
to HTML. The floor and the pipeline runs are interleaved so that a change of
machine load hits both.

What is measured (medians of ``--runs`` runs):

- ``floor``: F, as above;
- ``report``: ``make report CAMPAIGN=together`` from empty ``data/processed/``
  and ``reports/`` (the venv exists), and its ratio to F;
- ``noop``: the same ``make report`` again with nothing changed;
- ``check``: ``make check CAMPAIGN=together`` (the fieldwork checks) on a
  partial export, the first five days of the endline
  (:mod:`evalkit.bench_fieldwork`), and its ratio to F;
- ``reports_j2``: ``make -j2 reports REPORT_LANGS=`` (every stage and the index, default language), ratio to F;
- ``breakdown``: where the time of the together report goes (process start,
  kernel start, imports, read, clean, statistics, plots, HTML export), from
  papermill's per-cell timings in the executed notebooks;
- ``scale``: the synthetic generator at several respondents per wave for one
  stage, then clean + evaluate + HTML: wall time and peak RSS per size, with a
  clustered, stratified, weighted survey design (:mod:`evalkit.bench_design`);
- ``profiles``: pyinstrument profiles of the notebooks' code and the HTML
  export, to show where the time goes;
- ``import_costs``: wall and CPU time of importing papermill, nbconvert and
  the analysis libraries in a fresh interpreter.

Every build runs in a throw-away copy of the project under the git-ignored
``bench-data/`` (a snapshot of the code, notebooks, params and raw data, a
symlink to ``.venv``; ``EVALKIT_ROOT`` points evalkit there), so a
bench never deletes the reports a user is looking at and edits made while it
runs do not trigger rebuilds. Results go to ``reports/bench.md`` and
``reports/bench.json``, written atomically.

Peak RSS is the largest resident set of any single process in the measured
process tree (``ru_maxrss`` from :func:`os.wait4`, which includes reaped
descendants such as the Jupyter kernel).

Run ``python -m evalkit.bench --help`` for the options; ``--smoke`` is the
tiny version CI runs (no targets asserted).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evalkit import paths
from evalkit.atomic import write_text_atomic

#: Campaign whose report is timed and which the scale runs generate.
REPORT_CAMPAIGN = "together"
#: Respondents per wave of the full scale runs, and of ``--smoke``.
FULL_SIZES: tuple[int, ...] = (10_000, 100_000, 1_000_000)
SMOKE_SIZES: tuple[int, ...] = (200,)
#: Measurements ``--skip`` can leave out.
SKIPPABLE = ("report", "formats", "reports_j2", "breakdown", "profile", "imports", "scale", "xlsx", "check")
#: Left out of ``--smoke`` unless ``--skip`` says otherwise: the scale run
#: already exercises the per-step breakdown, and ``-j2`` is the same code as
#: ``make report`` with another target.
SMOKE_SKIP = frozenset({"reports_j2", "breakdown", "imports", "formats"})
#: Size at which the scale run is also profiled (full mode).
FULL_PROFILE_SIZE = 100_000
#: Top-level project entries a bench copy leaves out.
NOT_COPIED = {"data", "reports", "bench-data", "build", ".git", "node_modules", "tests", "docs"}
#: Linked rather than copied (large, and never changed by a bench).
LINKED = {".venv"}
#: Breakdown categories, in the order shown.
CATEGORIES = (
    "process_start",
    "kernel_start",
    "imports",
    "read",
    "clean",
    "statistics",
    "plots",
    "write",
    "other_cells",
    "kernel_shutdown",
    "html_export",
)
#: Words in a cell's code that put it in a category (first match wins). A
#: cell that calls ``display`` shows report content: it counts as ``plots``.
CATEGORY_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("plots", frozenset({"plots", "plot", "sns", "seaborn", "plt", "figure", "fig", "chart", "histplot", "barplot", "display"})),
    (
        "statistics",
        frozenset(
            {"stats", "compare", "subgroups", "claims", "paired", "independent", "multiplicity", "weights",
             "power", "estimate", "estimates", "results", "mcnemar", "ttest", "pingouin", "pg"}
        ),
    ),
    (
        "clean",
        frozenset(
            {"cleaning", "codebook", "deid", "indicators", "encoding", "reach", "clean", "harmonise",
             "pseudonymise", "scrub", "dedupe"}
        ),
    ),
    ("read", frozenset({"readers", "read", "load", "parquet"})),
    ("write", frozenset({"write", "save", "publish", "to_csv", "to_parquet"})),
)
#: The ``-j2`` build the target is about: every stage and the index in the default language only. The
#: target (issue 7) predates the Mongolian copies; ``make -j2 reports`` with them does twice the report work.
J2_COMMAND: tuple[str, ...] = ("make", "-j2", "reports", "REPORT_LANGS=")
#: ``FORMATS`` of the donor-ready build measured against HTML alone (issue 18).
ALL_FORMATS = "html,docx,pdf"
#: Targets from issue 7: (id, what, comparison, limit, unit).
TARGETS: tuple[tuple[str, str, str, float, str], ...] = (
    ("report_vs_floor", "make report CAMPAIGN=together, as a multiple of F", "<=", 1.5, "x F"),
    ("noop_rebuild", "second make report with nothing changed", "<", 0.5, "s"),
    ("reports_j2_vs_floor", "make -j2 reports REPORT_LANGS= (three stages and the index, one language), as a multiple of F",
     "<=", 2.5, "x F"),
    ("scale_1m_wall", "1M respondents per wave, clean + evaluate + HTML", "<=", 60.0, "s"),
    ("scale_1m_peak_rss", "1M respondents per wave, peak RSS", "<=", 4.0, "GiB"),
    ("scale_1m_over_100k", "time(1M) / time(100k)", "<=", 12.0, "ratio"),
    ("xlsx_read_100k", "read a 100,000 x 42 XLSX wave (python-calamine, issue 12)", "<", 5.0, "s"),
    ("check_vs_floor", "make check CAMPAIGN=together on the first 5 endline days (issue 20), as a multiple of F",
     "<=", 2.0, "x F"),
)

#: Fresh-interpreter import costs measured in full mode: (label, code).
IMPORT_PROBES: tuple[tuple[str, str], ...] = (
    ("python start-up", "pass"),
    ("papermill", "import papermill"),
    ("nbconvert", "import nbconvert"),
    ("nbformat", "import nbformat"),
    ("nbformat without rfc3987_syntax", "import sys; sys.modules['rfc3987_syntax'] = None; import nbformat"),
    ("pandas", "import pandas"),
    ("pingouin", "import pingouin"),
    ("seaborn", "import seaborn"),
    ("evalkit.cleaning", "import evalkit.cleaning"),
    ("evalkit.compare", "import evalkit.compare"),
    ("evalkit.report", "import evalkit.report"),
    ("evalkit.report.figures", "import evalkit.report.figures"),
)

FLOOR_CELLS = (
    "import matplotlib.pyplot as plt\nimport numpy as np\nimport pandas as pd\nimport pingouin as pg\nimport seaborn as sns",
    'rng = np.random.default_rng(7)\ndf = pd.DataFrame({"score": rng.normal(size=500), "wave": rng.choice(["baseline", "endline"], 500)})\n'
    'ax = sns.histplot(data=df, x="score", hue="wave")\nplt.show()',
)


# --------------------------------------------------------------------------
# Measuring child processes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One timed child process (and everything it started).

    Attributes
    ----------
    wall_s : float
        Wall-clock seconds from start to exit (``time.perf_counter``).
    cpu_s : float
        User + system CPU seconds of the process tree.
    peak_rss_mib : float
        Largest resident set of any single process in the tree, MiB.
    returncode : int
        Exit code (negative: killed by that signal).
    log : str
        Path of the file holding the command's stdout and stderr.
    """

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    returncode: int
    log: str

    @property
    def ok(self) -> bool:
        """True when the command exited with code 0."""
        return self.returncode == 0


class StepFailed(Exception):
    """A measured command failed; the message ends with its last log lines."""


def child_env(root: Path | None) -> dict[str, str]:
    """Environment for a measured command: ``EVALKIT_ROOT`` set, make's own flags removed.

    ``MAKEFLAGS`` from an outer ``make bench`` (job server, ``-j``) would
    change how the inner ``make`` runs, so it is dropped.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    if root is not None:
        env["EVALKIT_ROOT"] = str(root)
    else:
        env.pop("EVALKIT_ROOT", None)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_measured(cmd: Sequence[str], *, cwd: Path, log: Path, root: Path | None = None) -> Measured:
    """Run ``cmd`` to completion and measure its wall time, CPU time and peak RSS.

    Parameters
    ----------
    cmd : sequence of str
        The command (no shell).
    cwd : Path
        Working folder.
    log : Path
        File receiving stdout and stderr (appended to).
    root : Path, optional, keyword-only
        Project root given to evalkit through ``EVALKIT_ROOT``.

    Returns
    -------
    Measured
        Timing and resources; ``returncode`` tells whether it succeeded.

    Examples
    --------
    >>> m = run_measured(["true"], cwd=Path("."), log=Path("/tmp/x.log"))  # doctest: +SKIP
    >>> m.ok
    True
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(f"$ {' '.join(cmd)}\n".encode())
        fh.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=child_env(root), stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss_mib = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Measured(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=rss_mib,
        returncode=proc.returncode,
        log=str(log),
    )


def log_tail(log: str | Path, *, lines: int = 12) -> str:
    """Last ``lines`` lines of a log file, for failure messages."""
    try:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def require_ok(m: Measured, what: str) -> Measured:
    """Return ``m``, or raise :class:`StepFailed` naming ``what`` and the log."""
    if not m.ok:
        raise StepFailed(f"{what} failed (exit code {m.returncode}); log {m.log}:\n{log_tail(m.log)}")
    return m


def median(values: Sequence[float]) -> float | None:
    """Median of ``values``, or None when there are none."""
    return float(statistics.median(values)) if values else None


# --------------------------------------------------------------------------
# Throw-away project copies
# --------------------------------------------------------------------------


def _remove_tree(path: Path, *, inside: Path) -> None:
    """Delete ``path`` (a real folder inside ``inside``), never through a symlink."""
    path = Path(path)
    if path.is_symlink():
        path.unlink()
        return
    if not path.exists():
        return
    if not path.resolve().is_relative_to(Path(inside).resolve()):
        raise RuntimeError(f"refusing to delete {path}: it is not inside {inside}")
    shutil.rmtree(path)


def make_project_copy(
    root: Path,
    *,
    source: Path,
    work: Path,
    params: dict[str, str] | None = None,
    raw: dict[str, Path] | None = None,
) -> Path:
    """Create a project copy at ``root``: a snapshot of ``source``'s code, notebooks and params.

    The code, notebooks, params, raw data and Makefile are copied
    (modification times kept), so files other people edit while a bench runs
    cannot make ``make`` rebuild; evalkit itself is still imported from the
    installed package. ``.venv`` is a symlink.

    Parameters
    ----------
    root : Path
        Folder to create (deleted first if it exists; it must be inside ``work``).
    source : Path
        The real project root.
    work : Path
        The bench's working folder (``bench-data/``).
    params : dict of str to str, optional, keyword-only
        Campaign name -> YAML text; when given, ``params/`` is a real folder
        holding only these files instead of a link to the project's params.
    raw : dict of str to Path, optional, keyword-only
        Campaign name -> folder of raw exports; when given, ``data/raw/`` is a
        folder of links to these instead of a copy of the project's raw data.

    Returns
    -------
    Path
        ``root``, ready for ``EVALKIT_ROOT=root``; ``data/processed/`` and
        ``reports/`` are real, empty folders.
    """
    _remove_tree(root, inside=work)
    root.mkdir(parents=True)
    for entry in sorted(source.iterdir()):
        name = entry.name
        if name in NOT_COPIED or (name.startswith(".") and name not in LINKED) or (name == "params" and params is not None):
            continue
        if name in LINKED:
            (root / name).symlink_to(entry)
        elif entry.is_dir():
            shutil.copytree(entry, root / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints"))
        else:
            shutil.copy2(entry, root / name)
    _keep_venv_stamp_fresh(root, source)
    if params is not None:
        (root / "params").mkdir()
        for campaign, text in params.items():
            (root / "params" / f"{campaign}.yaml").write_text(text, encoding="utf-8")
    (root / "data").mkdir()
    if raw is None:
        shutil.copytree(source / "data" / "raw", root / "data" / "raw", symlinks=True)
    else:
        (root / "data" / "raw").mkdir()
        for campaign, folder in raw.items():
            (root / "data" / "raw" / campaign).symlink_to(Path(folder).resolve())
    reset_outputs(root)
    return root


#: The Makefile's venv stamp and the files it is built from.
VENV_STAMP = Path(".venv") / ".evalkit-installed"
VENV_STAMP_INPUTS = ("pyproject.toml", "requirements.lock")


def _keep_venv_stamp_fresh(root: Path, source: Path) -> None:
    """Make sure ``make`` in a copy never re-installs the shared venv.

    The copy links ``.venv``; if the copied ``pyproject.toml`` or
    ``requirements.lock`` were newer than the venv's stamp, ``make`` would run
    ``pip install -e .`` from the copy and point the project's venv at it. The
    bench measures with the venv as it is, so the copies get the stamp's time
    when they are newer.

    Raises
    ------
    StepFailed
        If the venv is not set up (no stamp): run ``make setup`` first.
    """
    stamp = source / VENV_STAMP
    if not stamp.is_file():
        raise StepFailed(f"The virtual environment is not set up ({stamp} is missing); run make setup first.")
    limit = stamp.stat().st_mtime_ns
    for name in VENV_STAMP_INPUTS:
        copy = root / name
        if copy.is_file() and not copy.is_symlink() and copy.stat().st_mtime_ns > limit:
            os.utime(copy, ns=(limit, limit))


def reset_outputs(root: Path) -> None:
    """Empty a project copy's ``data/processed/``, ``reports/`` and ``build/``."""
    for sub in (root / "data" / "processed", root / "reports", root / "build"):
        _remove_tree(sub, inside=root)
    (root / "data" / "processed").mkdir(parents=True)
    (root / "reports").mkdir()


def output_mtimes(root: Path) -> dict[str, int]:
    """Modification times (ns) of every file under ``data/processed/`` and ``reports/``."""
    found = {}
    for sub in ("data/processed", "reports"):
        for p in sorted((root / sub).rglob("*")):
            if p.is_file():
                found[str(p.relative_to(root))] = p.stat().st_mtime_ns
    return found


# --------------------------------------------------------------------------
# The floor
# --------------------------------------------------------------------------


def write_floor_notebook(path: Path) -> Path:
    """Write the floor notebook: imports pandas, seaborn and pingouin and draws one plot."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Bench floor\nThe least a report notebook costs.")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in FLOOR_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def measure_floor(work: Path, *, index: int) -> dict[str, float]:
    """Time papermill on the floor notebook plus nbconvert of it to HTML.

    Returns
    -------
    dict
        ``wall_s`` (the sum), ``papermill_s``, ``nbconvert_s``, ``peak_rss_mib``,
        and the papermill run split into ``process_start_s``, ``kernel_start_s``,
        ``imports_s``, ``plot_s`` and ``kernel_shutdown_s``.
    """
    folder = work / "floor"
    nb = write_floor_notebook(folder / "floor.ipynb")
    executed = folder / "floor.executed.ipynb"
    log = work / "logs" / f"floor-{index}.log"
    py = sys.executable
    pm = require_ok(
        run_measured(
            [py, "-m", "papermill", str(nb), str(executed), "-k", "python3", "--no-progress-bar", "--cwd", str(folder)],
            cwd=folder,
            log=log,
        ),
        "floor: papermill",
    )
    nc = require_ok(
        run_measured([py, "-m", "nbconvert", "--to", "html", str(executed), "--output", "floor"], cwd=folder, log=log),
        "floor: nbconvert",
    )
    timing = notebook_timing(executed)
    cells = {c["category"]: c["duration_s"] for c in timing["cells"]}
    return {
        "wall_s": pm.wall_s + nc.wall_s,
        "cpu_s": pm.cpu_s + nc.cpu_s,
        "papermill_s": pm.wall_s,
        "nbconvert_s": nc.wall_s,
        "peak_rss_mib": max(pm.peak_rss_mib, nc.peak_rss_mib),
        "process_start_s": max(0.0, pm.wall_s - timing["duration_s"]),
        "kernel_start_s": timing["kernel_start_s"],
        "imports_s": cells.get("imports", 0.0),
        "plot_s": cells.get("plots", 0.0),
        "kernel_shutdown_s": timing["kernel_shutdown_s"],
    }


# --------------------------------------------------------------------------
# Breakdown of the report's time, from papermill's cell timings
# --------------------------------------------------------------------------


def _words(node: ast.AST) -> set[str]:
    """Identifier words in ``node`` (``cleaning.apply_rules`` -> cleaning, apply, rules)."""
    found: set[str] = set()
    for sub in ast.walk(node):
        name = None
        if isinstance(sub, ast.Name):
            name = sub.id
        elif isinstance(sub, ast.Attribute):
            name = sub.attr
        elif isinstance(sub, ast.alias):
            name = sub.name
        if name:
            found.add(name.lower())
            found.update(w for w in re.split(r"[_.]", name.lower()) if w)
    return found


def classify_cell(source: str, *, tags: Sequence[str] = ()) -> str:
    """Put a notebook code cell into one breakdown category.

    Parameters
    ----------
    source : str
        The cell's code.
    tags : sequence of str, keyword-only
        The cell's tags (``parameters`` cells are ``other_cells``).

    Returns
    -------
    str
        ``imports`` when the cell only imports; otherwise the first of
        ``plots, statistics, clean, read, write`` whose words occur in the
        cell's code (see :data:`CATEGORY_WORDS`), else ``other_cells``.

    Examples
    --------
    >>> classify_cell("from evalkit.report import figures as plots")
    'imports'
    >>> classify_cell("fig = plots.change_bars(results)")
    'plots'
    """
    if {"parameters", "injected-parameters"} & set(tags):
        return "other_cells"
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return "other_cells"
    body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if body and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body):
        return "imports"
    words: set[str] = set()
    for stmt in body:
        if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
            words |= _words(stmt)
    for category, vocabulary in CATEGORY_WORDS:
        if words & vocabulary:
            return category
    return "other_cells"


def _timestamp(value: object) -> dt.datetime | None:
    """Parse one of papermill's ISO timestamps."""
    if not isinstance(value, str) or not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def notebook_timing(path: Path, *, import_s: dict[int, float] | None = None) -> dict[str, object]:
    """Kernel start/stop and per-cell times of a notebook executed by papermill.

    Parameters
    ----------
    path : Path
        An executed notebook (papermill writes ``metadata.papermill``).
    import_s : dict of int to float, optional, keyword-only
        Seconds the import statements of each cell (by index) take, from
        :func:`measure_import_times`; stored per cell as ``import_s``.

    Returns
    -------
    dict
        ``notebook`` (file name), ``duration_s``, ``kernel_start_s`` (notebook
        start to first cell start), ``kernel_shutdown_s`` (last cell end to
        notebook end) and ``cells``: one dict per code cell with ``index``,
        ``category``, ``duration_s`` and ``first_line``.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill", {})
    start, end = _timestamp(meta.get("start_time")), _timestamp(meta.get("end_time"))
    cells, starts, ends = [], [], []
    injected = 0  # papermill inserts a cell after the parameters cell; indices are those of the committed notebook
    for pos, cell in enumerate(nb.cells):
        pm = cell.get("metadata", {}).get("papermill", {})
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            injected += 1
        i = pos - injected
        if cell.cell_type != "code" or pm.get("duration") is None:
            continue
        starts.append(_timestamp(pm.get("start_time")))
        ends.append(_timestamp(pm.get("end_time")))
        first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
        cells.append(
            {
                "index": i,
                "category": classify_cell(cell.source, tags=cell.get("metadata", {}).get("tags", [])),
                "duration_s": float(pm["duration"]),
                "import_s": min(float((import_s or {}).get(i, 0.0)), float(pm["duration"])),
                "first_line": first[:90],
            }
        )
    starts = [s for s in starts if s]
    ends = [e for e in ends if e]
    return {
        "notebook": path.name,
        "duration_s": float(meta.get("duration") or 0.0),
        "kernel_start_s": (min(starts) - start).total_seconds() if start and starts else None,
        "kernel_shutdown_s": (end - max(ends)).total_seconds() if end and ends else None,
        "cells": cells,
    }


_IMPORTS_CHILD = r"""
import json, sys, time
import IPython, ipykernel.ipkernel, matplotlib_inline.backend_inline  # loaded in a kernel before cell 1
cells = json.loads(sys.argv[1])
out = {}
for index, code in cells:
    start = time.perf_counter()
    exec(compile(code, f"cell {index}", "exec"), {})
    out[index] = time.perf_counter() - start
print("BENCH-IMPORTS " + json.dumps(out))
"""


def measure_import_times(notebook: Path, *, root: Path, log: Path) -> dict[int, float]:
    """Seconds the import statements of each code cell take, in a fresh interpreter.

    The cells' top-level ``import`` statements run in order in one new
    process (after what a kernel has loaded anyway), so each cell is charged
    only for modules no earlier cell imported.

    Returns
    -------
    dict of int to float
        Cell index -> seconds, for cells that import something.
    """
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse("\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        imports = [ast.unparse(s) for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        if imports:
            cells.append((i, "\n".join(imports)))
    if not cells:
        return {}
    m = require_ok(
        run_measured([sys.executable, "-c", _IMPORTS_CHILD, json.dumps(cells)], cwd=root, log=log, root=root),
        f"timing the imports of {notebook.name}",
    )
    line = next(ln for ln in reversed(Path(m.log).read_text(encoding="utf-8").splitlines()) if ln.startswith("BENCH-IMPORTS "))
    return {int(k): float(v) for k, v in json.loads(line[len("BENCH-IMPORTS ") :]).items()}


def breakdown_from(step_walls: dict[str, float], notebooks: Sequence[dict[str, object]]) -> dict[str, float]:
    """Sum a report's time into :data:`CATEGORIES`.

    Parameters
    ----------
    step_walls : dict
        Wall seconds of the ``clean``, ``evaluate`` and ``report`` processes.
    notebooks : sequence of dict
        :func:`notebook_timing` of the executed clean and evaluate notebooks.

    Returns
    -------
    dict
        Seconds per category; ``process_start`` is what the clean and evaluate
        processes spent outside their notebook (Python start-up, importing
        papermill, publishing outputs), ``html_export`` the report process.
        The import statements of a cell count as ``imports``, the rest of the
        cell as its category.
    """
    out = dict.fromkeys(CATEGORIES, 0.0)
    notebook_total = 0.0
    for nb in notebooks:
        notebook_total += float(nb["duration_s"])
        out["kernel_start"] += float(nb["kernel_start_s"] or 0.0)
        out["kernel_shutdown"] += float(nb["kernel_shutdown_s"] or 0.0)
        for cell in nb["cells"]:
            imported = cell.get("import_s", 0.0) if cell["category"] != "imports" else cell["duration_s"]
            out["imports"] += imported
            out[cell["category"]] += cell["duration_s"] - imported
    out["process_start"] = max(0.0, step_walls.get("clean", 0.0) + step_walls.get("evaluate", 0.0) - notebook_total)
    out["html_export"] = step_walls.get("report", 0.0)
    return out


def run_steps(root: Path, campaign: str, *, log: Path) -> dict[str, object]:
    """Run ``python -m evalkit clean|evaluate|report`` one by one in a project copy.

    Returns
    -------
    dict
        ``steps`` (wall seconds per step), ``wall_s`` (their sum),
        ``peak_rss_mib`` (largest of the steps), ``notebooks``
        (:func:`notebook_timing` of both notebooks), ``breakdown`` (seconds per
        category) and ``cpu_s``.
    """
    walls, rss, cpu = {}, [], 0.0
    for step in ("clean", "evaluate", "report"):
        m = require_ok(
            run_measured([sys.executable, "-m", "evalkit", step, campaign], cwd=root, log=log, root=root),
            f"python -m evalkit {step} {campaign}",
        )
        walls[step], cpu = m.wall_s, cpu + m.cpu_s
        rss.append(m.peak_rss_mib)
    nb_dir = root / "reports" / campaign
    notebooks = []
    for name in ("01_clean.ipynb", "02_evaluate.ipynb"):
        imports = measure_import_times(root / "notebooks" / name, root=root, log=log)
        notebooks.append(notebook_timing(nb_dir / name, import_s=imports))
    return {
        "steps": walls,
        "wall_s": sum(walls.values()),
        "cpu_s": cpu,
        "peak_rss_mib": max(rss),
        "notebooks": notebooks,
        "breakdown": breakdown_from(walls, notebooks),
    }


# --------------------------------------------------------------------------
# Profiles (pyinstrument), run in a child process
# --------------------------------------------------------------------------

_PROFILE_CHILD = r"""
import json, os, sys, time
from pathlib import Path
spec = json.loads(sys.argv[1])
os.chdir(spec["root"])
from pyinstrument import Profiler
from IPython.core.interactiveshell import InteractiveShell
import nbformat
shell = InteractiveShell.instance()
import matplotlib
from matplotlib_inline.backend_inline import configure_inline_support
matplotlib.use("module://matplotlib_inline.backend_inline")  # as in the kernel: open figures are drawn after each cell
configure_inline_support(shell, "module://matplotlib_inline.backend_inline")
results = {}
for job in spec["jobs"]:
    profiler = Profiler(interval=0.002)
    out_dir = Path(job["output_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    profiler.start()
    if job["kind"] == "notebook":
        nb = nbformat.read(job["notebook"], as_version=4)
        shell.user_ns.clear()
        overrides = f"campaign = {spec['campaign']!r}\noutput_dir = {job['output_dir']!r}"
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            is_parameters = "parameters" in cell.get("metadata", {}).get("tags", [])
            # the parameters cell's defaults first (every parameter defined), then ours, as papermill injects them
            res = shell.run_cell(cell.source + ("\n" + overrides if is_parameters else ""), silent=True)
            if not res.success:
                profiler.stop()
                raise SystemExit(f"profile: a cell of {job['notebook']} failed: {res.error_in_exec or res.error_before_exec!r}")
    else:
        from evalkit.report.htmlexport import export_html
        export_html(Path(job["notebook"]), out_dir / "report.html")
    profiler.stop()
    wall = time.perf_counter() - start
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    flat = profiler.output_text(unicode=False, color=False, flat=True)
    Path(job["text"]).write_text(text, encoding="utf-8")
    results[job["name"]] = {"wall_s": wall, "cpu_s": profiler.last_session.cpu_time, "flat": flat}
print("BENCH-PROFILE " + json.dumps(results))
"""


def profile_report(root: Path, campaign: str, *, out_dir: Path, label: str, log: Path) -> dict[str, object]:
    """Profile the clean and evaluate notebooks' code and the HTML export with pyinstrument.

    The notebooks' code cells run in one IPython shell (inline plots, as in
    the kernel) under :class:`pyinstrument.Profiler`; the executed notebook of
    the project copy is then exported with :func:`evalkit.report.htmlexport.export_html`.

    Parameters
    ----------
    root : Path
        A project copy whose pipeline already ran once (the evaluate notebook
        reads ``data/processed/``, the export reads ``reports/<c>/02_evaluate.ipynb``).
    campaign : str
        Campaign name.
    out_dir : Path
        Where the text profiles are written (``bench-profile-<label>-<step>.txt``).
    label : str
        Name of this profile set (``together``, ``scale-100000``).
    log : Path
        Log file.

    Returns
    -------
    dict
        Per step (``clean``, ``evaluate``, ``html_export``): ``wall_s``,
        ``cpu_s``, ``file`` (the text profile) and ``top`` (the heaviest
        functions, own time).
    """
    scratch = root / "build" / "profile"
    jobs = []
    for name, nb in (("clean", "01_clean.ipynb"), ("evaluate", "02_evaluate.ipynb")):
        jobs.append(
            {
                "name": name,
                "kind": "notebook",
                "notebook": str(root / "notebooks" / nb),
                "output_dir": os.path.relpath(scratch / name, root),
                "text": str(out_dir / f"bench-profile-{label}-{name}.txt"),
            }
        )
    jobs.append(
        {
            "name": "html_export",
            "kind": "html",
            "notebook": str(root / "reports" / campaign / "02_evaluate.ipynb"),
            "output_dir": str(scratch / "html"),
            "text": str(out_dir / f"bench-profile-{label}-html_export.txt"),
        }
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = json.dumps({"root": str(root), "campaign": campaign, "jobs": jobs})
    m = require_ok(
        run_measured([sys.executable, "-c", _PROFILE_CHILD, spec], cwd=root, log=log, root=root), f"profile {label}"
    )
    line = next(ln for ln in reversed(Path(m.log).read_text(encoding="utf-8").splitlines()) if ln.startswith("BENCH-PROFILE "))
    found = json.loads(line[len("BENCH-PROFILE ") :])
    return {
        job["name"]: {
            "wall_s": found[job["name"]]["wall_s"],
            "cpu_s": found[job["name"]].get("cpu_s"),
            "file": job["text"],
            "top": top_functions(found[job["name"]]["flat"]),
        }
        for job in jobs
    }


def top_functions(flat_text: str, *, limit: int = 8) -> list[dict[str, object]]:
    """The heaviest functions (own time) from pyinstrument's flat text output.

    Returns
    -------
    list of dict
        ``seconds``, ``function`` and ``where`` (file:line), heaviest first.
    """
    rows = []
    for ln in flat_text.splitlines():
        m = re.match(r"^\s*([0-9.]+)\s+(\S.*?)\s+(\S+:\d+)\s*$", ln)
        if m:
            rows.append({"seconds": float(m.group(1)), "function": m.group(2), "where": m.group(3)})
    return sorted(rows, key=lambda r: -r["seconds"])[:limit]


def measure_import_costs(work: Path) -> dict[str, object]:
    """Wall and CPU seconds of importing each of :data:`IMPORT_PROBES` in a fresh interpreter.

    Returns
    -------
    dict
        ``status`` and ``rows``: one dict per probe with ``what``, ``code``,
        ``wall_s`` and ``cpu_s`` (CPU time is the steadier figure on a busy machine).
    """
    rows = []
    for what, code in IMPORT_PROBES:
        m = require_ok(run_measured([sys.executable, "-c", code], cwd=work, log=work / "logs" / "imports.log"), f"import probe {what!r}")
        rows.append({"what": what, "code": code, "wall_s": m.wall_s, "cpu_s": m.cpu_s})
    return {"status": "ok", "rows": rows}


# --------------------------------------------------------------------------
# Scale runs
# --------------------------------------------------------------------------


def scale_params_text(source: Path, campaign: str, files: dict[str, str]) -> str:
    """The campaign's params YAML with the raw wave file names replaced.

    Parameters
    ----------
    source : Path
        Real project root.
    campaign : str
        Campaign name.
    files : dict
        ``baseline`` / ``endline`` -> file name written by the generator.
    """
    import yaml

    data = yaml.safe_load((source / "params" / f"{campaign}.yaml").read_text(encoding="utf-8"))
    for wave, name in files.items():
        data["raw"][wave]["file"] = name
    from evalkit.bench_design import design_params

    data = design_params(data)  # clustered, stratified, weighted (issue 16)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def generate_scale_data(work: Path, campaign: str, size: int, *, source: Path, log: Path) -> tuple[Path, dict[str, str], float | None]:
    """Generate (or reuse) raw exports of ``size`` respondents per wave.

    The generator (``python -m evalkit.synth --campaign C --out DIR
    --respondents-per-wave N``) writes into ``bench-data/scale/raw-<C>-<N>/``;
    a ``.complete`` marker makes later benches reuse it. Files the generator
    does not write (codebook, reach export) are linked from ``data/raw/<C>/``.

    Returns
    -------
    tuple
        The raw folder, the wave -> file name mapping, and the generation wall
        time (None when reused).
    """
    folder = work / "scale" / f"raw-{campaign}-{size}"
    marker = folder / ".complete"
    seconds = None
    if not marker.exists():
        _remove_tree(folder, inside=work)
        folder.mkdir(parents=True)
        cmd = [sys.executable, "-m", "evalkit.synth", "--campaign", campaign, "--out", str(folder), "--respondents-per-wave", str(size)]
        seconds = require_ok(run_measured(cmd, cwd=source, log=log), f"generator at {size} respondents per wave").wall_s
        marker.write_text(f"{size}\n", encoding="utf-8")
    files: dict[str, str] = {}
    for wave in ("baseline", "endline"):
        candidates = sorted(
            p.name for p in folder.iterdir() if p.is_file() and wave in p.name.lower() and p.suffix.lower() in {".csv", ".xlsx", ".sav"}
        )
        if not candidates:
            raise StepFailed(f"the generator wrote no {wave} file into {folder} (found: {sorted(p.name for p in folder.iterdir())})")
        files[wave] = next((c for c in candidates if c.lower().endswith(".csv")), candidates[0])
    import yaml

    raw_cfg = yaml.safe_load((source / "params" / f"{campaign}.yaml").read_text(encoding="utf-8"))["raw"]
    for key in ("codebook", "reach"):
        name = raw_cfg.get(key)
        if name and not (folder / name).exists():
            (folder / name).symlink_to((source / "data" / "raw" / campaign / name).resolve())
    from evalkit.bench_design import add_design

    add_design(folder, files, codebook=raw_cfg["codebook"])  # weight question and column, once
    return folder, files, seconds


def measure_scale(size: int, *, source: Path, work: Path, campaign: str, profile: bool, out_dir: Path) -> dict[str, object]:
    """Generate ``size`` respondents per wave and time clean + evaluate + HTML.

    Returns
    -------
    dict
        ``respondents_per_wave``, ``status``, ``generate_s``, ``wall_s``,
        ``steps``, ``peak_rss_mib``, ``peak_rss_gib``, ``breakdown`` and,
        when profiled, ``profile``.
    """
    log = work / "logs" / f"scale-{size}.log"
    raw, files, gen_s = generate_scale_data(work, campaign, size, source=source, log=log)
    root = make_project_copy(
        work / "scale" / f"project-{size}",
        source=source,
        work=work,
        params={campaign: scale_params_text(source, campaign, files)},
        raw={campaign: raw},
    )
    run = run_steps(root, campaign, log=log)
    result = {
        "respondents_per_wave": size,
        "status": "ok",
        "generate_s": gen_s,
        "wall_s": run["wall_s"],
        "cpu_s": run["cpu_s"],
        "steps": run["steps"],
        "peak_rss_mib": run["peak_rss_mib"],
        "peak_rss_gib": run["peak_rss_mib"] / 1024,
        "breakdown": run["breakdown"],
        "notebooks": run["notebooks"],
        "content_sha256": content_fingerprint(root, campaign),
    }
    if profile:
        result["profile"] = profile_report(root, campaign, out_dir=out_dir, label=f"scale-{size}", log=log)
    return result


# --------------------------------------------------------------------------
# The whole bench
# --------------------------------------------------------------------------


@dataclass
class BenchConfig:
    """Options of one bench run (see ``python -m evalkit.bench --help``)."""

    smoke: bool = False
    runs: int = 3
    sizes: tuple[int, ...] = FULL_SIZES
    profile_size: int | None = FULL_PROFILE_SIZE
    profile: bool = True
    skip: frozenset[str] = field(default_factory=frozenset)
    work: Path | None = None
    out: Path | None = None


def _missing_pipeline(source: Path, campaign: str) -> str | None:
    """Why the report pipeline cannot run yet, or None when it can."""
    import importlib.util

    for nb in ("01_clean.ipynb", "02_evaluate.ipynb"):
        if not (source / "notebooks" / nb).is_file():
            return f"notebooks/{nb} does not exist yet"
    if not (source / "data" / "raw" / campaign).is_dir() or not any((source / "data" / "raw" / campaign).iterdir()):
        return f"data/raw/{campaign}/ holds no raw exports yet"
    for module in ("evalkit.report.htmlexport", "evalkit.report.index"):
        if importlib.util.find_spec(module) is None:
            return f"{module} does not exist yet"
    return None


def _not_available(reason: str) -> dict[str, object]:
    return {"status": f"not available yet: {reason}"}


def _failed(exc: Exception) -> dict[str, object]:
    return {"status": f"failed: {exc}"}


def _summarise(values: list[float], floor: float | None) -> dict[str, object]:
    """Runs, median and ratio to the floor of a list of wall times."""
    med = median(values)
    return {
        "status": "ok",
        "runs_s": values,
        "median_s": med,
        "ratio_to_floor": (med / floor) if med is not None and floor else None,
    }


@dataclass
class _BuildRuns:
    """What the interleaved floor / make runs collected (see :func:`_measure_builds`)."""

    floors: list[dict[str, float]] = field(default_factory=list)
    report: list[Measured] = field(default_factory=list)
    noop: list[float] = field(default_factory=list)
    noop_did_nothing: list[bool] = field(default_factory=list)
    reports_j2: list[Measured] = field(default_factory=list)
    formats: list[Measured] = field(default_factory=list)
    check: list[Measured] = field(default_factory=list)
    check_kept: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def _make_failed(m: Measured, what: str) -> str:
    return f"{what} failed (exit code {m.returncode}); log {m.log}:\n{log_tail(m.log)}"


def _measure_builds(cfg: BenchConfig, project: Path | None, work: Path) -> _BuildRuns:
    """Run the floor, ``make report`` (+ no-op) and ``make -j2 reports``, interleaved, ``cfg.runs`` times."""
    runs = _BuildRuns()
    make_report = ["make", "report", f"CAMPAIGN={REPORT_CAMPAIGN}"]
    check_project = _check_project(cfg, work, runs)
    for i in range(cfg.runs):
        _progress(f"run {i + 1}/{cfg.runs}: floor")
        try:
            runs.floors.append(measure_floor(work, index=i))
        except StepFailed as exc:
            runs.errors["floor"] = str(exc)
        if check_project is not None and "check" not in runs.errors:
            _measure_check(check_project, work, runs, index=i)
        if project is None:
            continue
        if "report" not in cfg.skip and "report" not in runs.errors:
            _progress(f"run {i + 1}/{cfg.runs}: make report CAMPAIGN={REPORT_CAMPAIGN}")
            reset_outputs(project)
            log = work / "logs" / f"report-{i}.log"
            m = run_measured(make_report, cwd=project, log=log, root=project)
            if not m.ok:
                runs.errors["report"] = _make_failed(m, "make report")
            else:
                runs.report.append(m)
                before = output_mtimes(project)
                n = run_measured(make_report, cwd=project, log=log, root=project)
                if n.ok:
                    runs.noop.append(n.wall_s)
                    runs.noop_did_nothing.append(output_mtimes(project) == before)
        if {"report", "formats"}.isdisjoint(cfg.skip) and not {"report", "formats"} & set(runs.errors):
            _progress(f"run {i + 1}/{cfg.runs}: make report CAMPAIGN={REPORT_CAMPAIGN} FORMATS={ALL_FORMATS}")
            reset_outputs(project)
            m = run_measured(make_report + [f"FORMATS={ALL_FORMATS}"], cwd=project, log=work / "logs" / f"formats-{i}.log", root=project)
            if m.ok:
                runs.formats.append(m)
            else:
                runs.errors["formats"] = _make_failed(m, f"make report FORMATS={ALL_FORMATS}")
        if "reports_j2" not in cfg.skip and "reports_j2" not in runs.errors:
            _progress(f"run {i + 1}/{cfg.runs}: make -j2 reports")
            reset_outputs(project)
            # The target's work: three stages and the index in the default language (REPORT_LANGS= leaves out
            # the Mongolian copies, which issue 14 added and which double the work; see J2_COMMAND).
            m = run_measured(list(J2_COMMAND), cwd=project, log=work / "logs" / f"reports-j2-{i}.log", root=project)
            if m.ok:
                runs.reports_j2.append(m)
            else:
                runs.errors["reports_j2"] = _make_failed(m, "make -j2 reports")
    return runs


def _check_project(cfg: BenchConfig, work: Path, runs: _BuildRuns) -> Path | None:
    """A throw-away project whose together endline holds only its first five fieldwork days (None if skipped)."""
    if "check" in cfg.skip:
        return None
    from evalkit import bench_fieldwork
    from evalkit.params import load_params

    campaign = bench_fieldwork.CAMPAIGN
    try:
        _remove_tree(work / "partial-raw", inside=work)
        raw, runs.check_kept = bench_fieldwork.write_partial_raw(
            paths.campaign_raw_dir(campaign), work / "partial-raw" / campaign, params=load_params(campaign))
        return make_project_copy(work / "check-project", source=paths.project_root(), work=work, raw={campaign: raw})
    except Exception as exc:  # a bench section reports its failure; it never hides it
        runs.errors["check"] = f"{type(exc).__name__}: {exc}"[:500]
        return None


def _measure_check(project: Path, work: Path, runs: _BuildRuns, *, index: int) -> None:
    """One timed ``make check`` from empty outputs in the partial-export project."""
    from evalkit.bench_fieldwork import CAMPAIGN

    _progress(f"run {index + 1}: make check CAMPAIGN={CAMPAIGN} (partial endline)")
    reset_outputs(project)
    m = run_measured(["make", "check", f"CAMPAIGN={CAMPAIGN}"], cwd=project, log=work / "logs" / f"check-{index}.log",
                     root=project)
    if m.ok and (project / "reports" / CAMPAIGN / "fieldwork.html").is_file():
        runs.check.append(m)
    else:
        runs.errors["check"] = _make_failed(m, "make check")


def _check_section(runs: _BuildRuns, *, cfg: BenchConfig, floor: dict[str, object]) -> dict[str, object]:
    """The ``check`` entry: ``make check`` on the partial export, x F (target: at most 2 F, issue 20)."""
    from evalkit.bench_fieldwork import DAYS

    if "check" in cfg.skip:
        return {"status": "skipped (--skip)"}
    if "check" in runs.errors:
        return {"status": f"failed: {runs.errors['check']}"}
    if not runs.check:
        return {"status": "not measured"}
    out = _summarise([m.wall_s for m in runs.check], floor.get("median_s"))
    out["peak_rss_mib"] = max(m.peak_rss_mib for m in runs.check)
    out["endline_submissions"], out["days"] = runs.check_kept, DAYS
    return out


def _floor_section(runs: _BuildRuns) -> dict[str, object]:
    """The ``floor`` entry of bench.json: medians of the floor runs and F's split."""
    floors = runs.floors
    if not floors:
        return {"status": f"failed: {runs.errors.get('floor', 'no run')}"}
    return {
        "status": "ok",
        "runs_s": [f["wall_s"] for f in floors],
        "median_s": median([f["wall_s"] for f in floors]),
        "cpu_median_s": median([f["cpu_s"] for f in floors]),
        "papermill_median_s": median([f["papermill_s"] for f in floors]),
        "nbconvert_median_s": median([f["nbconvert_s"] for f in floors]),
        "peak_rss_mib": max(f["peak_rss_mib"] for f in floors),
        "split_median_s": {
            k: median([f[k] for f in floors if f.get(k) is not None])
            for k in ("process_start_s", "kernel_start_s", "imports_s", "plot_s", "kernel_shutdown_s", "nbconvert_s")
        },
    }


def _build_section(name: str, measured: list[Measured], *, cfg: BenchConfig, runs: _BuildRuns,
                   missing: str | None, floor: dict[str, object]) -> dict[str, object]:
    """The ``report`` or ``reports_j2`` entry: medians, ratios to F (wall and CPU), peak RSS."""
    if missing is not None:
        return _not_available(missing)
    if name in cfg.skip:
        return {"status": "skipped (--skip)"}
    if name in runs.errors:
        return {"status": f"failed: {runs.errors[name]}"}
    out = _summarise([m.wall_s for m in measured], floor.get("median_s"))
    out["peak_rss_mib"] = max(m.peak_rss_mib for m in measured)
    out["cpu_median_s"] = median([m.cpu_s for m in measured])
    floor_cpu = floor.get("cpu_median_s")
    out["cpu_ratio_to_floor"] = (out["cpu_median_s"] / floor_cpu) if floor_cpu else None
    return out


def _formats_section(report: dict[str, object], runs: _BuildRuns, *, cfg: BenchConfig,
                     floor: dict[str, object]) -> dict[str, object]:
    """The ``formats`` entry: ``make report FORMATS=html,docx,pdf`` and its extra time over HTML alone, x F."""
    if "formats" in cfg.skip:
        return {"status": "skipped (--skip)"}
    if "formats" in runs.errors:
        return {"status": f"failed: {runs.errors['formats']}"}
    if report.get("status") != "ok" or not runs.formats:
        return dict(report) if report.get("status") != "ok" else {"status": "not measured"}
    out = _summarise([m.wall_s for m in runs.formats], floor.get("median_s"))
    out["extra_s"] = out["median_s"] - report["median_s"]
    out["extra_ratio_to_floor"] = out["extra_s"] / floor["median_s"] if floor.get("median_s") else None
    return out


def _noop_section(report: dict[str, object], runs: _BuildRuns) -> dict[str, object]:
    """The ``noop`` entry: the second ``make report`` and whether it rebuilt anything."""
    if report.get("status") != "ok":
        return dict(report)
    out = _summarise(runs.noop, None)
    out.pop("ratio_to_floor")
    out["did_nothing"] = bool(runs.noop_did_nothing) and all(runs.noop_did_nothing)
    return out


def run_bench(cfg: BenchConfig) -> dict[str, object]:
    """Run every measurement and return the bench results (the content of bench.json).

    Parameters
    ----------
    cfg : BenchConfig
        What to run.

    Returns
    -------
    dict
        Keys ``meta``, ``floor``, ``report``, ``noop``, ``formats``, ``check``, ``reports_j2``,
        ``breakdown``, ``profiles``, ``import_costs``, ``scale`` and
        ``targets``. A measurement that cannot run has ``status`` ``"not
        available yet: <reason>"`` or ``"failed: <message>"`` instead of figures.
    """
    source = paths.project_root()
    work = (cfg.work or source / "bench-data").resolve()
    out_dir = (cfg.out or paths.reports_dir()).resolve()
    work.mkdir(parents=True, exist_ok=True)
    _remove_tree(work / "logs", inside=work)
    started = time.perf_counter()
    res: dict[str, object] = {"meta": _meta(cfg, source, work)}
    missing = _missing_pipeline(source, REPORT_CAMPAIGN)
    project = None
    if missing is None:
        try:
            project = make_project_copy(work / "project", source=source, work=work)
        except StepFailed as exc:
            missing = str(exc)

    runs = _measure_builds(cfg, project, work)
    res["floor"] = _floor_section(runs)
    common = {"cfg": cfg, "runs": runs, "missing": missing, "floor": res["floor"]}
    res["report"] = _build_section("report", runs.report, **common)
    res["noop"] = _noop_section(res["report"], runs)
    res["formats"] = _formats_section(res["report"], runs, cfg=cfg, floor=res["floor"])
    res["check"] = _check_section(runs, cfg=cfg, floor=res["floor"])
    res["reports_j2"] = _build_section("reports_j2", runs.reports_j2, **common)
    res["breakdown"], res["profiles"] = _breakdown_and_profile(cfg, project, missing, work, out_dir)
    res["import_costs"] = _import_costs(cfg, work)
    res["xlsx_read"] = _xlsx_read(cfg, work)
    res["scale"] = _scale(cfg, source, work, out_dir, missing)
    res["meta"]["loadavg_end"] = list(os.getloadavg())
    res["meta"]["bench_wall_s"] = time.perf_counter() - started
    res["targets"] = evaluate_targets(res, asserted=not cfg.smoke)
    return res


def _xlsx_read(cfg: BenchConfig, work: Path) -> dict[str, object]:
    """The ``xlsx_read`` entry: one read of a 100,000 x 42 XLSX wave (2,000 rows in smoke mode)."""
    from evalkit.bench_xlsx import measure_xlsx_read

    if "xlsx" in cfg.skip:
        return {"status": "skipped (--skip)"}
    _progress("XLSX read")
    try:
        return measure_xlsx_read(work, rows=2_000) if cfg.smoke else measure_xlsx_read(work)
    except Exception as exc:  # a bench section reports its failure; it never hides it
        return {"status": f"failed: {type(exc).__name__}: {exc}"[:500]}


def _import_costs(cfg: BenchConfig, work: Path) -> dict[str, object]:
    """The ``import_costs`` entry (skipped in smoke mode)."""
    if "imports" in cfg.skip:
        return {"status": "skipped (--skip)"}
    _progress("import costs")
    try:
        return measure_import_costs(work)
    except StepFailed as exc:
        return _failed(exc)


def content_fingerprint(root: Path, campaign: str) -> dict[str, str]:
    """SHA-256 of the report's result tables and HTML, to show optimisations left the content unchanged.

    Returns
    -------
    dict
        File (relative to ``root``) -> hex digest, for those that exist.
    """
    import hashlib

    files = [root / "reports" / campaign / name for name in ("results.csv", "claims.csv", "subgroups.csv")]
    files.append(root / "reports" / f"{campaign}.html")
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def _breakdown_and_profile(
    cfg: BenchConfig, project: Path | None, missing: str | None, work: Path, out_dir: Path
) -> tuple[dict[str, object], dict[str, object]]:
    """The together report's time per category, and its pyinstrument profiles."""
    if missing is not None or project is None:
        return _not_available(missing or "no project copy"), _not_available(missing or "no project copy")
    if "breakdown" in cfg.skip:
        return {"status": "skipped (--skip)"}, {"status": "skipped (--skip)"}
    _progress(f"breakdown: python -m evalkit clean|evaluate|report {REPORT_CAMPAIGN}")
    reset_outputs(project)
    try:
        run = run_steps(project, REPORT_CAMPAIGN, log=work / "logs" / "breakdown.log")
    except StepFailed as exc:
        return _failed(exc), _not_available("the breakdown run failed")
    breakdown = {"status": "ok", **{k: run[k] for k in ("steps", "wall_s", "peak_rss_mib", "breakdown", "notebooks")}}
    breakdown["content_sha256"] = content_fingerprint(project, REPORT_CAMPAIGN)
    if not cfg.profile or "profile" in cfg.skip:
        return breakdown, {"status": "skipped"}
    _progress("profile: pyinstrument on the together report")
    try:
        prof = profile_report(project, REPORT_CAMPAIGN, out_dir=out_dir, label=REPORT_CAMPAIGN, log=work / "logs" / "profile.log")
    except (StepFailed, StopIteration) as exc:
        return breakdown, _failed(exc if isinstance(exc, StepFailed) else StepFailed("no profile output"))
    return breakdown, {"status": "ok", REPORT_CAMPAIGN: prof}


def _scale(cfg: BenchConfig, source: Path, work: Path, out_dir: Path, missing: str | None) -> dict[str, object]:
    """Scale runs at every size in ``cfg.sizes``."""
    import importlib.util

    if missing is not None:
        return _not_available(missing)
    if "scale" in cfg.skip:
        return {"status": "skipped (--skip)"}
    if importlib.util.find_spec("evalkit.synth") is None:
        return _not_available("the generator evalkit.synth does not exist yet")
    sizes = []
    for size in cfg.sizes:
        _progress(f"scale: {size} respondents per wave")
        try:
            sizes.append(
                measure_scale(
                    size,
                    source=source,
                    work=work,
                    campaign=REPORT_CAMPAIGN,
                    profile=cfg.profile and size == cfg.profile_size,
                    out_dir=out_dir,
                )
            )
        except (StepFailed, StopIteration, OSError) as exc:
            sizes.append({"respondents_per_wave": size, "status": f"failed: {exc}"})
    by_size = {s["respondents_per_wave"]: s for s in sizes if s["status"] == "ok"}
    ratio = None
    if 1_000_000 in by_size and 100_000 in by_size:
        ratio = by_size[1_000_000]["wall_s"] / by_size[100_000]["wall_s"]
    return {"status": "ok", "campaign": REPORT_CAMPAIGN, "sizes": sizes, "ratio_1m_over_100k": ratio}


def _meta(cfg: BenchConfig, source: Path, work: Path) -> dict[str, object]:
    """When, where and how the bench ran."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "schema": 1,
        "created_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit or None,
        "mode": "smoke" if cfg.smoke else "full",
        "runs": cfg.runs,
        "sizes": list(cfg.sizes),
        "cpus": os.cpu_count(),
        "loadavg_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "work_dir": str(work),
    }


def _measured_for(target: str, res: dict[str, object]) -> tuple[float | None, str]:
    """The measured figure of one target, or None and why it is missing."""
    def get(section: str, key: str) -> tuple[float | None, str]:
        sec = res.get(section, {})
        if sec.get("status") != "ok":
            return None, str(sec.get("status", "not measured")).split("\n")[0]
        return sec.get(key), ""

    if target == "report_vs_floor":
        return get("report", "ratio_to_floor")
    if target == "noop_rebuild":
        value, why = get("noop", "median_s")
        return value, why or ("" if value is not None else "the second make report failed")
    if target == "reports_j2_vs_floor":
        return get("reports_j2", "ratio_to_floor")
    if target == "xlsx_read_100k":
        return get("xlsx_read", "read_s")
    if target == "check_vs_floor":
        return get("check", "ratio_to_floor")
    scale = res.get("scale", {})
    if scale.get("status") != "ok":
        return None, str(scale.get("status", "not measured")).split("\n")[0]
    by_size = {s["respondents_per_wave"]: s for s in scale["sizes"]}
    big = by_size.get(1_000_000)
    if target == "scale_1m_over_100k":
        if scale.get("ratio_1m_over_100k") is None:
            return None, "needs successful runs at 100000 and 1000000 respondents per wave"
        return scale["ratio_1m_over_100k"], ""
    if big is None:
        return None, "1000000 respondents per wave not in --sizes"
    if big["status"] != "ok":
        return None, big["status"].split("\n")[0]
    return (big["wall_s"], "") if target == "scale_1m_wall" else (big["peak_rss_gib"], "")


def evaluate_targets(res: dict[str, object], *, asserted: bool) -> list[dict[str, object]]:
    """Compare each measured figure with its target from issue 7.

    Returns
    -------
    list of dict
        One per target: ``id``, ``what``, ``limit`` (with ``op`` and
        ``unit``), ``measured``, ``met`` (True/False, None when not measured
        or, in smoke mode, not asserted) and ``note``.
    """
    rows = []
    for tid, what, op, limit, unit in TARGETS:
        value, why = _measured_for(tid, res)
        met = None
        if value is not None and asserted:
            met = bool(value <= limit) if op == "<=" else bool(value < limit)
        if tid == "noop_rebuild" and res.get("noop", {}).get("did_nothing") is False:
            met, why = (False if asserted else None), "the second make report rebuilt something"
        if value is not None and not asserted:
            why = "smoke run: not asserted"
        rows.append({"id": tid, "what": what, "op": op, "limit": limit, "unit": unit, "measured": value, "met": met, "note": why})
    return rows


def _progress(text: str) -> None:
    print(f"[bench] {dt.datetime.now().strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# bench.md
# --------------------------------------------------------------------------


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines + [""]


def _status_line(sec: dict[str, object]) -> list[str]:
    status = str(sec.get("status", "not measured"))
    if status == "ok":
        return []
    first, *rest = status.split("\n")
    lines = [f"**{first}**", ""]
    if rest:
        lines += ["```", *rest, "```", ""]
    return lines


def render_markdown(res: dict[str, object]) -> str:
    """Render the bench results as ``reports/bench.md``.

    Parameters
    ----------
    res : dict
        What :func:`run_bench` returned.

    Returns
    -------
    str
        Markdown: the targets table first, then each measurement, the time
        breakdown, the heaviest functions of each profile, and for every
        target not met a computed account of where its time goes.
    """
    meta = res["meta"]
    md = [
        "# evalkit bench",
        "",
        f"Run {meta['created_utc']} on commit {meta['git_commit'] or 'unknown'}, {meta['mode']} mode, "
        f"{meta['runs']} run(s) per measurement (medians), {meta['cpus']} CPUs, load average "
        f"{_fmt(meta['loadavg_start'][0])} at start and {_fmt(meta.get('loadavg_end', [None])[0])} at the end; "
        f"the bench took {_fmt(meta.get('bench_wall_s'), 0)} s. Python {meta['python']}.",
        "",
        "Speed targets are ratios to the floor F measured in the same run (the machine is shared and noisy).",
        "",
        "## Targets",
        "",
    ]
    md += _table(
        ["target", "limit", "measured", "met", "note"],
        [
            [t["what"], f"{t['op']} {t['limit']:g} {t['unit']}", _fmt(t["measured"]), _fmt(t["met"]) if t["met"] is not None else "-", t["note"]]
            for t in res["targets"]
        ],
    )
    floor = res["floor"]
    md += ["## Floor F", "", "papermill on a notebook importing pandas, seaborn and pingouin and drawing one plot, then nbconvert to HTML.", ""]
    md += _status_line(floor)
    if floor.get("status") == "ok":
        md += _table(
            ["F median (s)", "papermill (s)", "nbconvert (s)", "runs (s)", "CPU median (s)", "peak RSS (MiB)"],
            [[floor["median_s"], floor["papermill_median_s"], floor["nbconvert_median_s"], ", ".join(_fmt(v) for v in floor["runs_s"]), floor.get("cpu_median_s"), floor["peak_rss_mib"]]],
        )
        split = floor.get("split_median_s", {})
        md += ["F split (medians, s): " + ", ".join(f"{k.removesuffix('_s')} {_fmt(v)}" for k, v in split.items()) + ".", ""]
    for key, title in (
        ("report", f"make report CAMPAIGN={REPORT_CAMPAIGN} (clean data/processed/ and reports/)"),
        ("noop", "Second make report, nothing changed"),
        ("reports_j2", "make -j2 reports REPORT_LANGS= (every stage and the index, default language, from clean)"),
    ):
        sec = res[key]
        md += [f"## {title}", ""] + _status_line(sec)
        if sec.get("status") == "ok":
            row = [sec["median_s"], sec.get("ratio_to_floor"), ", ".join(_fmt(v) for v in sec["runs_s"]), sec.get("peak_rss_mib"),
                   sec.get("cpu_median_s"), sec.get("cpu_ratio_to_floor")]
            header = ["median (s)", "x F", "runs (s)", "peak RSS (MiB)", "CPU median (s)", "CPU x F's CPU"]
            if key == "noop":
                header, row = ["median (s)", "runs (s)", "rebuilt nothing"], [row[0], row[2], sec.get("did_nothing")]
            md += _table(header, [row])
    fmt = res.get("formats", {"status": "not measured"})
    md += [f"## make report FORMATS={ALL_FORMATS} (Word and PDF copies too, from clean)", ""] + _status_line(fmt)
    if fmt.get("status") == "ok":
        md += _table(["median (s)", "x F", "extra over HTML alone (s)", "extra x F", "runs (s)"],
                     [[fmt["median_s"], fmt.get("ratio_to_floor"), fmt["extra_s"], fmt.get("extra_ratio_to_floor"),
                       ", ".join(_fmt(v) for v in fmt["runs_s"])]])
    chk = res.get("check", {"status": "not measured"})
    md += ["", "## make check CAMPAIGN=together on a partial export (fieldwork checks, issue 20)", ""]
    md += _status_line(chk)
    if chk.get("status") == "ok":
        md += _table(["endline submissions (first days)", "median (s)", "x F", "runs (s)", "peak RSS (MiB)"],
                     [[f"{chk['endline_submissions']} ({chk['days']} days)", chk["median_s"], chk.get("ratio_to_floor"),
                       ", ".join(_fmt(v) for v in chk["runs_s"]), chk.get("peak_rss_mib")]])
    xl = res.get("xlsx_read", {"status": "not measured"})
    md += ["", "## XLSX wave read (python-calamine)", ""] + _status_line(xl)
    if xl.get("status") == "ok":
        md += _table(["rows", "columns", "read (s)", "limit (s)"], [[xl["rows"], xl["columns"], xl["read_s"], xl["limit_s"]]])
    md += _render_breakdown(res["breakdown"])
    md += _render_imports(res.get("import_costs", {"status": "not measured"}))
    md += _render_scale(res["scale"])
    md += _render_profiles(res["profiles"], res["scale"])
    md += _render_unmet(res)
    return "\n".join(md).rstrip() + "\n"


def _render_breakdown(sec: dict[str, object]) -> list[str]:
    md = [f"## Where the together report's time goes", ""] + _status_line(sec)
    if sec.get("status") != "ok":
        return md
    total = sec["wall_s"]
    md += [
        f"One sequential run of `python -m evalkit clean|evaluate|report {REPORT_CAMPAIGN}`: "
        f"{_fmt(total)} s in all (clean {_fmt(sec['steps']['clean'])} s, evaluate {_fmt(sec['steps']['evaluate'])} s, "
        f"HTML {_fmt(sec['steps']['report'])} s). Cells are put in categories by the names they use "
        "(`evalkit.bench.classify_cell`); process start is Python start-up, importing papermill and publishing outputs.",
        "",
    ]
    if sec.get("content_sha256"):
        md += ["Content fingerprint (SHA-256; equal digests across benches mean an optimisation left the report unchanged): "
               + ", ".join(f"`{k}` {v[:16]}" for k, v in sec["content_sha256"].items()) + ".", ""]
    md += _table(["step", "seconds", "share"], [[k, v, f"{100 * v / total:.0f}%" if total else "-"] for k, v in sec["breakdown"].items()])
    cells = [dict(c, notebook=nb["notebook"]) for nb in sec["notebooks"] for c in nb["cells"]]
    cells.sort(key=lambda c: -c["duration_s"])
    md += ["Slowest cells:", ""]
    md += _table(["notebook", "cell", "category", "seconds", "first line"], [[c["notebook"], c["index"], c["category"], c["duration_s"], f"`{c['first_line']}`"] for c in cells[:8]])
    return md


def _render_imports(sec: dict[str, object]) -> list[str]:
    md = ["## Import costs (fresh interpreter each)", ""] + _status_line(sec)
    if sec.get("status") != "ok":
        return md
    md += ["Every pipeline process pays some of these: papermill (clean, evaluate), nbconvert (HTML), "
           "and the kernels import the analysis libraries. CPU seconds are steadier than wall seconds on a busy machine.", ""]
    return md + _table(["import", "wall (s)", "CPU (s)"], [[r["what"], r["wall_s"], r["cpu_s"]] for r in sec["rows"]])


def _render_scale(sec: dict[str, object]) -> list[str]:
    md = ["## Scale: respondents per wave, one stage, clean + evaluate + HTML", ""] + _status_line(sec)
    if sec.get("status") != "ok":
        return md
    rows = []
    for s in sec["sizes"]:
        if s["status"] != "ok":
            rows.append([s["respondents_per_wave"], s["status"].split("\n")[0], "-", "-", "-", "-", "-", "-"])
            continue
        st = s["steps"]
        rows.append([s["respondents_per_wave"], s["wall_s"], s.get("cpu_s"), st["clean"], st["evaluate"], st["report"], s["peak_rss_gib"], s["generate_s"]])
    md += _table(["respondents/wave", "wall (s)", "CPU (s)", "clean (s)", "evaluate (s)", "HTML (s)", "peak RSS (GiB)", "generate (s, excluded)"], rows)
    if sec.get("ratio_1m_over_100k") is not None:
        md += [f"time(1M) / time(100k) = {_fmt(sec['ratio_1m_over_100k'])}.", ""]
    ok = [s for s in sec["sizes"] if s["status"] == "ok"]
    if ok:
        md += ["Breakdown per size (seconds):", ""]
        md += _table(["step"] + [str(s["respondents_per_wave"]) for s in ok], [[k] + [s["breakdown"][k] for s in ok] for k in CATEGORIES])
    for s in sec["sizes"]:
        if s["status"] != "ok" and "\n" in s["status"]:
            md += [f"Size {s['respondents_per_wave']}:", "", "```", *s["status"].split("\n")[1:], "```", ""]
    return md


def _render_profiles(prof: dict[str, object], scale: dict[str, object]) -> list[str]:
    md = ["## Profiles (pyinstrument, own time of the heaviest functions)", ""]
    sets = []
    if prof.get("status") == "ok":
        sets += [(k, v) for k, v in prof.items() if k != "status"]
    else:
        md += _status_line(prof)
    for s in scale.get("sizes", []) if scale.get("status") == "ok" else []:
        if "profile" in s:
            sets.append((f"scale-{s['respondents_per_wave']}", s["profile"]))
    for label, steps in sets:
        for step, p in steps.items():
            md += [f"### {label}: {step} ({_fmt(p['wall_s'])} s wall, {_fmt(p.get('cpu_s'))} s CPU; full tree in `{Path(p['file']).name}`)", ""]
            md += _table(["seconds", "function", "where"], [[r["seconds"], f"`{r['function']}`", f"`{r['where']}`"] for r in p["top"]])
            tree = _profile_tree(Path(p["file"]))
            if tree:
                md += ["Call tree (inclusive seconds, first lines):", "", "```", *tree, "```", ""]
    return md


def _profile_tree(path: Path, *, lines: int = 45) -> list[str]:
    """The first lines of a pyinstrument text profile's call tree (after its banner)."""
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    start = next((i for i, ln in enumerate(text) if ln.startswith("Profile at")), -1) + 1
    body = [ln for ln in text[start:] if ln.strip()]
    return body[:lines]


def _render_unmet(res: dict[str, object]) -> list[str]:
    """For each target not met: the measured figure and where the time goes (all computed)."""
    unmet = [t for t in res["targets"] if t["met"] is False]
    if not unmet:
        return []
    md = ["## Targets not met: where the time goes", ""]
    bd = res["breakdown"].get("breakdown") if res["breakdown"].get("status") == "ok" else None
    floor = res["floor"].get("median_s")
    for t in unmet:
        md += [f"### {t['what']}: {_fmt(t['measured'])} {t['unit']} (limit {t['op']} {t['limit']:g})", ""]
        if t["id"] in ("report_vs_floor", "reports_j2_vs_floor") and bd and floor:
            fixed = bd["process_start"] + bd["kernel_start"] + bd["imports"] + bd["kernel_shutdown"] + bd["html_export"]
            work = sum(bd[k] for k in ("read", "clean", "statistics", "plots", "write", "other_cells"))
            md += [
                f"The report runs two notebooks (two kernels) and one export; F runs one of each. "
                f"Fixed costs (process start, kernel start/stop, imports, HTML export) are {_fmt(fixed)} s = "
                f"{_fmt(fixed / floor)} x F; the analysis itself (read, clean, statistics, plots, writing) is "
                f"{_fmt(work)} s = {_fmt(work / floor)} x F. See the breakdown and profiles above.",
                "",
            ]
            rep = res["report"].get("median_s") if res["report"].get("status") == "ok" else None
            if t["id"] == "reports_j2_vs_floor" and rep:
                md += [
                    f"`make -j2 reports` builds three stages, each costing about one `make report` "
                    f"({_fmt(rep / floor)} x F), plus the index; on two cores the best case is about "
                    f"{_fmt(1.5 * rep / floor)} x F, and the 2020 stage also waits for the 2019 stage's cleaning.",
                    "",
                ]
        if t["id"] == "noop_rebuild":
            md += [
                "A no-op `make report` still runs `python -m evalkit check <campaign>` (the `check-campaign` "
                "prerequisite) and a recursive make; the Python start-up and params validation dominate.",
                "",
            ]
        if t["id"].startswith("scale_"):
            big = next((s for s in res["scale"].get("sizes", []) if s.get("respondents_per_wave") == 1_000_000 and s["status"] == "ok"), None)
            if big:
                top = sorted(big["breakdown"].items(), key=lambda kv: -kv[1])[:4]
                md += ["At 1M respondents per wave the largest steps are " + ", ".join(f"{k} {_fmt(v)} s" for k, v in top) + ".", ""]
                if big.get("cpu_s"):
                    md += [f"The run used {_fmt(big['cpu_s'])} s of CPU for {_fmt(big['wall_s'])} s of wall time; the steps "
                           "run one after the other, mostly on one core, so the wall time cannot fall much below the CPU time "
                           "without removing work. The profiles above (the largest profiled size) show which functions that work is in.", ""]
    return md


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s.replace("_", "")) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated whole numbers (e.g. 10000,100000), got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--sizes needs at least one positive number, got {text!r}")
    return sizes


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evalkit.bench", description="Measure report speed and memory (writes reports/bench.md and reports/bench.json).")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no profiles, no -j2 or separate breakdown run; targets not asserted (CI)")
    p.add_argument("--runs", type=int, default=None, help="runs per measurement, medians reported (default 3; 1 with --smoke)")
    p.add_argument("--sizes", type=_sizes, default=None, help="respondents per wave of the scale runs (default 10000,100000,1000000)")
    p.add_argument("--profile-size", type=int, default=None, help="scale size also profiled with pyinstrument (default 100000)")
    p.add_argument("--no-profile", action="store_true", help="skip the pyinstrument profiles")
    p.add_argument("--skip", default="", help=f"comma-separated measurements to skip: {', '.join(SKIPPABLE)}")
    p.add_argument("--work", type=Path, default=None, help="working folder (default bench-data/, git-ignored)")
    p.add_argument("--out", type=Path, default=None, help="folder for bench.md, bench.json and profiles (default reports/)")
    return p


def config_from_args(argv: Sequence[str] | None = None) -> BenchConfig:
    """Parse the command line into a :class:`BenchConfig`."""
    args = _parser().parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.smoke else 3)
    if runs < 1:
        _parser().error("--runs must be at least 1")
    skip = frozenset(s.strip() for s in args.skip.split(",") if s.strip())
    if args.smoke and not args.skip:
        skip = SMOKE_SKIP
    unknown = skip - set(SKIPPABLE)
    if unknown:
        _parser().error(f"--skip: unknown measurement(s) {sorted(unknown)}; use {', '.join(SKIPPABLE)}")
    return BenchConfig(
        smoke=args.smoke,
        runs=runs,
        sizes=args.sizes or (SMOKE_SIZES if args.smoke else FULL_SIZES),
        profile_size=args.profile_size if args.profile_size is not None else (None if args.smoke else FULL_PROFILE_SIZE),
        profile=not (args.no_profile or args.smoke),
        skip=skip,
        work=args.work,
        out=args.out,
    )


def write_results(res: dict[str, object], out_dir: Path) -> tuple[Path, Path]:
    """Write ``bench.json`` and ``bench.md`` atomically into ``out_dir``."""
    js = write_text_atomic(out_dir / "bench.json", json.dumps(res, indent=2, default=str) + "\n")
    md = write_text_atomic(out_dir / "bench.md", render_markdown(res))
    return js, md


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; return 0 when it wrote its results (targets met or not)."""
    cfg = config_from_args(argv)
    res = run_bench(cfg)
    out_dir = (cfg.out or paths.reports_dir()).resolve()
    js, md = write_results(res, out_dir)
    for t in res["targets"]:
        verdict = {True: "met", False: "NOT MET", None: "-"}[t["met"]]
        print(f"{t['what']}: {_fmt(t['measured'])} {t['unit']} (limit {t['op']} {t['limit']:g}) {verdict} {t['note']}")
    print(f"Bench: {md} and {js}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
