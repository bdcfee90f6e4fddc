"""The processed files the evaluation notebook reads, and where it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit import paths
from evalkit.errors import AnalysisError
from evalkit.params import Params


@dataclass(frozen=True)
class EvaluationInputs:
    """The processed files the evaluation notebook reads.

    Attributes
    ----------
    params : Params
    responses : pandas.DataFrame
        ``responses.parquet``.
    cleaning_log, raw_files : pandas.DataFrame
        ``cleaning_log.csv`` and ``raw_files.csv``.
    panel : pandas.DataFrame or None
        ``panel.csv`` (paired design only).
    reach : pandas.DataFrame or None
        ``reach.parquet`` if the stage has a reach export.
    other_responses : dict
        Campaign -> responses of stages named in claims' ``compare_with``.
    """

    params: Params
    responses: pd.DataFrame
    cleaning_log: pd.DataFrame
    raw_files: pd.DataFrame
    panel: pd.DataFrame | None = None
    reach: pd.DataFrame | None = None
    other_responses: dict[str, pd.DataFrame] = field(default_factory=dict)


def load_inputs(campaign: str) -> EvaluationInputs:
    """Read a campaign's params and processed files.

    Raises
    ------
    AnalysisError
        Listing every missing processed file and the command that makes it.
    """
    from evalkit.errors import format_problems
    from evalkit.params import load_params

    params = load_params(campaign)
    pdir = paths.campaign_processed_dir(params.campaign)
    need = ["responses.parquet", "cleaning_log.csv", "raw_files.csv"]
    others = sorted({c.compare_with.campaign for c in params.claims if c.compare_with is not None})
    missing = [f"{pdir / n} is missing" for n in need if not (pdir / n).is_file()]
    missing += [f"{paths.campaign_processed_dir(o) / 'responses.parquet'} is missing (claims compare with {o})"
                for o in others if not (paths.campaign_processed_dir(o) / "responses.parquet").is_file()]
    if missing:
        raise AnalysisError(format_problems(
            f"The processed data for '{params.campaign}' is incomplete; run `python -m evalkit clean <campaign>` "
            f"for the campaigns named below:", missing))
    panel = pd.read_csv(pdir / "panel.csv") if (pdir / "panel.csv").is_file() else None
    reach = pd.read_parquet(pdir / "reach.parquet") if (pdir / "reach.parquet").is_file() else None
    return EvaluationInputs(
        params=params, responses=pd.read_parquet(pdir / "responses.parquet"),
        cleaning_log=pd.read_csv(pdir / "cleaning_log.csv", keep_default_na=False, na_values=[""]),
        raw_files=pd.read_csv(pdir / "raw_files.csv"), panel=panel, reach=reach,
        other_responses={o: pd.read_parquet(paths.campaign_processed_dir(o) / "responses.parquet") for o in others})


def output_dir(campaign: str, output_dir: str | Path = "") -> Path:
    """Resolve the notebook's ``output_dir`` parameter ("" = ``reports/<campaign>/``), inside the project."""
    out = paths.campaign_reports_dir(campaign) if str(output_dir) == "" else paths.project_root() / output_dir
    out = paths.ensure_output_path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out
