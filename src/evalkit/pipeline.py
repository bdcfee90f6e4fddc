"""Run the pipeline's notebooks with papermill, safely.

Each step executes a committed notebook with the campaign's parameters into a
staging folder, and only when every cell succeeded moves the executed notebook
and the files it wrote into their final place (each move atomic, the make
target last). A failing cell therefore never leaves half-written outputs at
the final paths, and the previous report stays readable.

The caller holds the campaign's lock (:mod:`evalkit.locks`, taken by the
command line), so the staging folder is this run's alone. Publishing works
across filesystems (:func:`evalkit.atomic.move_atomic`).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from evalkit import failpoints, paths
from evalkit.atomic import move_atomic
from evalkit.errors import EvalkitError

#: Notebooks in run order.
CLEAN_NOTEBOOK = "01_clean.ipynb"
EVALUATE_NOTEBOOK = "02_evaluate.ipynb"
PLAN_NOTEBOOK = "03_plan.ipynb"
STAGING = ".staging"


class NotebookFailedError(EvalkitError):
    """A notebook cell raised an error while papermill executed it."""


def _kernel_manager_class(stderr_log: Path) -> type:
    """A kernel manager whose kernel writes its stderr to ``stderr_log``.

    The kernel's own start-up and shutdown chatter (transport warnings, the
    interrupt at shutdown) would otherwise be printed between the pipeline's
    progress lines; errors inside cells are in the executed notebook anyway,
    and the log is kept next to it when a run fails.
    """
    from jupyter_client.manager import AsyncKernelManager

    class _LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
            with open(stderr_log, "ab") as log:  # the kernel process keeps its own copy
                kw["stderr"] = log
                return await super()._async_launch_kernel(kernel_cmd, **kw)

    return _LoggedKernelManager


def _execute(notebook: str, campaign: str, final_dir: Path, *, target: str,
             extra: dict[str, str] | None = None, executed_name: str | None = None) -> Path:
    """Execute ``notebooks/<notebook>`` for ``campaign``; publish on success.

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    campaign : str
        Validated campaign name.
    final_dir : Path
        Folder receiving the notebook's outputs.
    target : str
        Name of the output file make tracks; it is moved into place last.
    extra : dict, keyword-only
        More notebook parameters (e.g. ``language``).
    executed_name : str, keyword-only
        File name of the executed notebook under ``reports/<campaign>/``
        (default: the notebook's own name).

    Returns
    -------
    Path
        The executed notebook, kept under ``reports/<campaign>/``.

    Raises
    ------
    NotebookFailedError
        With papermill's error and the path of the executed notebook that
        shows the failing cell.
    """
    import papermill as pm

    root = paths.project_root()
    final_dir = paths.ensure_output_path(final_dir)
    stem = Path(executed_name or notebook).stem
    # One staging folder per executed notebook: two languages of one campaign may run at once (make -j2 reports).
    staging = final_dir / (STAGING + stem.removeprefix(Path(notebook).stem))
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    nb_dir = paths.ensure_output_path(paths.campaign_reports_dir(campaign))
    nb_dir.mkdir(parents=True, exist_ok=True)
    executed = staging / notebook
    kernel_log = nb_dir / f".{stem}.kernel.log"
    print(f"[evalkit] {campaign}: running notebooks/{notebook} ...", file=sys.stderr, flush=True)
    try:
        pm.execute_notebook(
            str(paths.notebooks_dir() / notebook),
            str(executed),
            parameters={"campaign": campaign, "output_dir": os.path.relpath(staging, root), **(extra or {})},
            cwd=str(root),
            kernel_name="python3",
            progress_bar=sys.stderr.isatty(),
            log_output=False,
            request_save_on_cell_execute=False,
            kernel_manager_class=_kernel_manager_class(kernel_log),
            # Every cell has run and every output file is written and closed by then; a graceful
            # shutdown only waits (~0.35 s per notebook) for the kernel's atexit hooks, of which there are none.
            shutdown_kernel="immediate",
        )
    except Exception as exc:  # papermill raises PapermillExecutionError, or kernel errors
        failed = nb_dir / f"{stem}.FAILED.ipynb"
        if executed.exists():
            move_atomic(executed, failed)
        shutil.rmtree(staging, ignore_errors=True)
        detail = str(exc).strip()
        kept_log = nb_dir / f"{stem}.FAILED.kernel.log"
        if kernel_log.exists():
            os.replace(kernel_log, kept_log)
        raise NotebookFailedError(
            f"notebooks/{notebook} failed for campaign '{campaign}'.\n{detail}\n"
            f"The executed notebook showing the failing cell is {os.path.relpath(failed, root)} "
            f"(the kernel's own messages are in {os.path.relpath(kept_log, root)}); "
            f"open it in JupyterLab (make lab) to see the error. Nothing was written to {os.path.relpath(final_dir, root)}."
        ) from None
    published_nb = nb_dir / (executed_name or notebook)
    _relative_papermill_paths(executed, root, final=published_nb)
    # Publish: every file the notebook wrote, then the executed notebook, then the make target.
    produced = sorted(p for p in staging.iterdir() if p.is_file() and p.name != notebook)
    produced.sort(key=lambda p: p.name == target)
    for p in produced:
        move_atomic(p, final_dir / p.name)
    move_atomic(executed, published_nb)
    for stale in (nb_dir / f"{stem}.FAILED.ipynb", nb_dir / f"{stem}.FAILED.kernel.log", kernel_log):
        if stale.exists():
            stale.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    failpoints.hold("published", detail=f"{campaign}:{target}")
    return published_nb


def _relative_papermill_paths(executed: Path, root: Path, *, final: Path) -> None:
    """Store papermill's input and output paths relative to the project.

    Papermill records the absolute paths it was given in the notebook's
    metadata; they would reveal the folder layout (e.g. a user's home) of the
    machine that built the report to anyone the notebook is shared with.
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("papermill", {})
    if meta.get("input_path"):
        meta["input_path"] = Path(os.path.relpath(meta["input_path"], root)).as_posix()
    if meta.get("output_path"):
        meta["output_path"] = Path(os.path.relpath(final, root)).as_posix()
    nbformat.write(nb, executed)


def run_clean(campaign: str) -> Path:
    """Clean a campaign's raw exports into ``data/processed/<campaign>/``."""
    campaign = paths.require_campaign(campaign)
    _execute(CLEAN_NOTEBOOK, campaign, paths.campaign_processed_dir(campaign), target="responses.parquet")
    return paths.campaign_processed_dir(campaign) / "responses.parquet"


def evaluated_notebook(campaign: str, language: str | None = None) -> Path:
    """The executed evaluation notebook of a report language (``02_evaluate[.<lang>].ipynb``)."""
    stem = Path(EVALUATE_NOTEBOOK).stem
    return paths.campaign_reports_dir(campaign) / f"{stem}{paths.language_suffix(language)}.ipynb"


def report_language(campaign: str, language: str | None = None) -> str:
    """The language a report is written in: ``language``, else the params' ``report.language``."""
    from evalkit.params import load_params
    from evalkit.report.i18n import check_language

    return check_language(language or load_params(campaign).report.language)


def run_evaluate(campaign: str, *, language: str | None = None) -> Path:
    """Run the evaluation notebook; writes ``reports/<campaign>/results.csv``.

    With ``language`` (``"mn"``), the executed notebook is
    ``02_evaluate.<lang>.ipynb`` and its text is in that language; without, it
    is ``02_evaluate.ipynb`` in the params' default language. ``results.csv``
    and the other tables are the same in every language.
    """
    campaign = paths.require_campaign(campaign)
    processed = paths.campaign_processed_dir(campaign) / "responses.parquet"
    if not processed.is_file():
        raise EvalkitError(
            f"No processed data for '{campaign}' ({os.path.relpath(processed, paths.project_root())} is missing). "
            f"Run the cleaning step first: make report CAMPAIGN={campaign} does both, or python -m evalkit clean {campaign}."
        )
    lang = report_language(campaign, language)
    _execute(EVALUATE_NOTEBOOK, campaign, paths.campaign_reports_dir(campaign), target="results.csv",
             extra={"language": lang}, executed_name=evaluated_notebook(campaign, language).name)
    return paths.campaign_reports_dir(campaign) / "results.csv"


def run_report(campaign: str, *, include_code: bool = False, language: str | None = None) -> Path:
    """Convert the executed evaluation notebook into ``reports/<campaign>.html``.

    With ``include_code=True`` the researchers' variant, code cells kept, is
    written to ``reports/<campaign>/report-with-code.html`` instead, so the
    reviewers' report is never replaced by it.
    """
    from evalkit.report.htmlexport import export_html

    campaign = paths.require_campaign(campaign)
    executed = evaluated_notebook(campaign, language)
    lang_opt = f" --lang {language}" if language else ""
    if not executed.is_file():
        raise EvalkitError(
            f"There is no executed evaluation notebook for '{campaign}' yet ({executed} is missing). "
            f"Run python -m evalkit evaluate {campaign}{lang_opt} first, or make report CAMPAIGN={campaign}"
            + (f" REPORT_LANG={language}." if language else ".")
        )
    if include_code:
        out = paths.report_with_code_html(campaign) if not language else (
            paths.campaign_reports_dir(campaign) / f"report-with-code.{language}.html")
    else:
        out = paths.report_html(campaign, language)
    print(f"[evalkit] {campaign}: writing {os.path.relpath(out, paths.project_root())} ...", file=sys.stderr, flush=True)
    return export_html(executed, out, include_code=include_code, language=report_language(campaign, language))


def run_plan(campaign: str) -> Path:
    """Run the planning notebook (``plan.csv``) and write ``reports/<campaign>/plan.html``.

    Needs the stage's ``results.csv`` (``python -m evalkit evaluate <campaign>``).
    """
    from evalkit.report.htmlexport import export_html

    campaign = paths.require_campaign(campaign)
    results = paths.campaign_reports_dir(campaign) / "results.csv"
    if not results.is_file():
        raise EvalkitError(
            f"There are no results for '{campaign}' yet ({os.path.relpath(results, paths.project_root())} is "
            f"missing). Run make report CAMPAIGN={campaign} first; make plan CAMPAIGN={campaign} does it for you.")
    executed = _execute(PLAN_NOTEBOOK, campaign, paths.campaign_reports_dir(campaign), target="plan.csv")
    out = paths.plan_html(campaign)
    print(f"[evalkit] {campaign}: writing {os.path.relpath(out, paths.project_root())} ...", file=sys.stderr, flush=True)
    return export_html(executed, out)


def run_copy(campaign: str, fmt: str, *, language: str | None = None) -> Path:
    """Write the Word (``fmt="docx"``) or PDF (``"pdf"``) copy of ``reports/<campaign>.html``.

    Both are made from the finished HTML, so they carry exactly its numbers
    (see :mod:`evalkit.report.docexport`, :mod:`evalkit.report.pdfexport`).
    """
    from evalkit.params import load_params

    campaign = paths.require_campaign(campaign)
    html, out = paths.report_html(campaign, language), paths.report_copy(campaign, fmt, language)
    print(f"[evalkit] {campaign}: writing {os.path.relpath(out, paths.project_root())} ...", file=sys.stderr, flush=True)
    if fmt == "docx":
        from evalkit.report.docexport import export_docx

        ref = load_params(campaign).reference_docx
        template = paths.safe_join(paths.project_root(), ref, what="reference_docx") if ref else None
        return export_docx(html, out, reference_docx=template)
    from evalkit.report.pdfexport import export_pdf

    return export_pdf(html, out)
