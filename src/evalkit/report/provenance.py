"""Provenance of a report run: raw-file checksums, package versions, git commit, params."""

from __future__ import annotations

import datetime as dt

import importlib.metadata
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from evalkit import paths
from evalkit.params import Params, params_as_dict
from evalkit.report.format import esc, fmt_date, fmt_int
from evalkit.report.i18n import _
from evalkit.report.tables import Column, html_table


#: Packages whose versions the provenance section lists.
PROVENANCE_PACKAGES = ("evalkit", "pandas", "numpy", "scipy", "statsmodels", "pingouin", "seaborn",
                       "matplotlib", "pyarrow", "papermill", "nbconvert", "nbformat", "pyyaml")


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce a report.

    Attributes
    ----------
    params_yaml : str
        The params used, as YAML.
    raw_files : pandas.DataFrame
        ``file, sha256, bytes, rows, encoding`` of every raw file.
    packages : dict
        Package name -> installed version (``"not installed"`` if absent).
    git_commit : str
        ``git rev-parse HEAD`` of the project, or ``"unknown"``.
    run_date : str
        Latest interview date in the data (ISO), so re-runs are identical.
    """

    params_yaml: str
    raw_files: pd.DataFrame
    packages: dict[str, str] = field(default_factory=dict)
    git_commit: str = "unknown"
    run_date: str = "unknown"


def package_versions(names: tuple[str, ...] = PROVENANCE_PACKAGES) -> dict[str, str]:
    """Installed versions via :mod:`importlib.metadata`."""
    out = {}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def git_commit(*, cwd: Path | None = None) -> str:
    """Current git commit of the project, or ``"unknown"`` outside a repository.

    A commit whose tracked files have local changes is marked
    ``"<sha> (with uncommitted changes)"``: the code that ran is then not
    exactly that commit.
    """
    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", *args], cwd=cwd or paths.project_root(), capture_output=True, text=True,
                                  timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return "unknown"
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = status is not None and status.returncode == 0 and status.stdout.strip() != ""
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def run_date(responses: pd.DataFrame) -> str:
    """Latest ``interview_date`` in the data (ISO date), or ``"unknown"``."""
    if "interview_date" not in responses.columns:
        return "unknown"
    # Parse each distinct date once: a survey has a few fieldwork days but up to millions of rows.
    d = pd.to_datetime(responses["interview_date"].drop_duplicates(), errors="coerce").dropna()
    return "unknown" if d.empty else d.max().date().isoformat()


def provenance(params: Params, *, responses: pd.DataFrame, raw_files: pd.DataFrame) -> Provenance:
    """Collect the provenance of a report run.

    Parameters
    ----------
    params : Params
    responses : pandas.DataFrame, keyword-only
        ``responses.parquet`` (for the run date).
    raw_files : pandas.DataFrame, keyword-only
        ``raw_files.csv`` written by the cleaning step.
    """
    text = yaml.safe_dump(params_as_dict(params), sort_keys=False, allow_unicode=True, width=100)
    return Provenance(params_yaml=text, raw_files=raw_files.copy(), packages=package_versions(),
                      git_commit=git_commit(), run_date=run_date(responses))


def provenance_html(prov: Provenance) -> str:
    """Escaped HTML of a :class:`Provenance` (file names, hashes and the params are shown as code, in English)."""
    raw_cols = [Column("file", _("File"), html=lambda r: f"<code>{esc(r['file'])}</code>"),
                Column("sha256", "SHA-256", html=lambda r: f"<code class=\"ek-hash\">{esc(r['sha256'])}</code>"),
                Column("bytes", _("Bytes"), fmt=lambda r: fmt_int(r["bytes"]), numeric=True),
                Column("rows", _("Rows"), fmt=lambda r: fmt_int(r.get("rows")), numeric=True),
                Column("encoding", _("Encoding"), html=lambda r: f"<code>{esc(r['encoding'])}</code>")]
    pk = pd.DataFrame({"package": list(prov.packages), "version": list(prov.packages.values())})
    commit, _sep, dirty = prov.git_commit.partition(" (with uncommitted changes)")
    commit_html = f"<code>{esc(commit)}</code>" + (f" ({esc(_('with uncommitted changes'))})" if _sep else "")
    run_date = prov.run_date
    try:
        run_date = fmt_date(dt.date.fromisoformat(prov.run_date))
    except ValueError:
        run_date = _("unknown") if prov.run_date == "unknown" else prov.run_date
    return ("<dl class=\"ek-meta\">"
            f"<div><dt>{esc(_('Data as of (latest interview)'))}</dt><dd>{esc(run_date)}</dd></div>"
            f"<div><dt>{esc(_('Git commit'))}</dt><dd>{commit_html}</dd></div></dl>"
            + html_table(prov.raw_files, raw_cols, caption=_("Raw files and their SHA-256 checksums"), table_id="tbl-raw-files")
            + html_table(pk, [Column("package", _("Package"), html=lambda r: f"<code>{esc(r['package'])}</code>"),
                              Column("version", _("Version"), html=lambda r: f"<code>{esc(r['version'])}</code>")],
                         caption=_("Package versions"), table_id="tbl-packages")
            + f'<details class="ek-params"><summary>{esc(_("Params used"))}</summary>'
              f'<pre lang="en">{esc(prov.params_yaml)}</pre></details>')
