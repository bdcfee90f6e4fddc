"""Planning the next survey: sample sizes for 80% power, and the power the current survey had.

For every published ``results.csv`` row (suppressed rows stay out), the change
to detect is, in order: a published change for that indicator and group
(params ``claims``: ``change_pp``, or ``baseline_endline_pct``), an
``evaluation.targets`` entry (``change_pp``, or ``endline_pct`` minus the
observed baseline), else the observed change. From the observed design effect
(``deff``, 1 for a simple random sample), the observed share of discordant pairs
and the observed attrition (panel), :func:`plan_table` gives:

- ``n_pairs_needed``: matched pairs for a panel (McNemar power, Connor 1987,
  with the observed discordance), times the design effect;
- ``n_baseline_needed``: baseline interviews to end with those pairs, given
  the observed attrition;
- ``n_per_wave_independent``: respondents per wave for two independent
  samples (Cohen's h), times the design effect;
- ``power_current``: the power this survey had for that change.

All at the params ``alpha`` (two-sided) and power 0.8 (:data:`POWER`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evalkit.params import Params
from evalkit.stats.power import n_pairs_needed, n_per_wave_needed, power_independent, power_paired

#: Power the plan targets.
POWER = 0.8

#: Columns of :func:`plan_table`.
PLAN_COLUMNS = ("indicator", "label", "group", "design", "target_change_pp", "target_source", "baseline_pct",
                "n", "deff", "discordant_pct", "attrition_pct", "n_pairs_needed", "n_baseline_needed",
                "n_per_wave_independent", "power_current", "note")


def _target(params: Params, row: pd.Series) -> tuple[float, str]:
    for c in params.claims:
        if c.indicator == row["indicator"] and c.group == row["group"] and c.compare_with is None:
            if c.kind == "change_pp" and c.value is not None:
                return float(c.value), f"published change ({c.id})"
            if c.kind == "baseline_endline_pct" and c.baseline is not None and c.endline is not None:
                return float(c.endline - c.baseline), f"published change ({c.id})"
    for t in params.evaluation.targets:
        if t.indicator == row["indicator"] and t.group == row["group"]:
            if t.kind == "change_pp":
                return float(t.value), "target change"
            if t.kind == "endline_pct" and np.isfinite(row["baseline_pct"]):
                return float(t.value - row["baseline_pct"]), "target endline %"
    return float(row["change_pp"]), "observed change"


def _panel_facts(responses: pd.DataFrame, indicator: str, members: list[str]) -> tuple[float, float]:
    """Observed share of discordant pairs and of baseline respondents lost (unweighted)."""
    from evalkit.compare import match_pairs

    base = responses.loc[(responses["wave"] == "baseline") & responses["group"].isin(members)]
    end = responses.loc[(responses["wave"] == "endline") & responses["group"].isin(members)]
    if indicator not in responses.columns or base.empty:
        return float("nan"), float("nan")
    pairs, _note = match_pairs(base[["respondent_id", "group", indicator]], end[["respondent_id", "group", indicator]])
    yb = pairs[f"{indicator}_b"].to_numpy(dtype="float64", na_value=np.nan)
    ye = pairs[f"{indicator}_e"].to_numpy(dtype="float64", na_value=np.nan)
    ok = ~(np.isnan(yb) | np.isnan(ye))
    discordant = float((yb[ok] != ye[ok]).mean()) if ok.any() else float("nan")
    lost = 1 - pairs["respondent_id"].nunique() / base["respondent_id"].nunique()
    return discordant, float(lost)


def plan_table(responses: pd.DataFrame, results: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Sample sizes for the next survey, per indicator and group.

    Parameters
    ----------
    responses : pandas.DataFrame
        ``responses.parquet``; not modified.
    results : pandas.DataFrame
        This stage's ``results.csv`` (already suppressed: rows without ``n``
        are left out).
    params : Params

    Returns
    -------
    pandas.DataFrame
        :data:`PLAN_COLUMNS`; ``*_pct`` in percent, sizes rounded up to whole
        respondents, ``power_current`` a fraction; NaN with a ``note`` when
        undefined (no change to detect, a change larger than the discordance).

    References
    ----------
    Connor RJ (1987). Sample size for testing differences in proportions for
    the paired-sample design. Biometrics 43:207-211. Cohen J (1988).
    Statistical Power Analysis for the Behavioral Sciences, ch. 6.
    """
    rows = []
    published = results.loc[pd.to_numeric(results["n"], errors="coerce").notna()]
    for _i, r in published.iterrows():
        ind = params.indicator(str(r["indicator"]))
        members = list(ind.population) if r["group"] == "all" else [str(r["group"])]
        change, source = _target(params, r)
        deff = float(r["deff"]) if pd.notna(r.get("deff")) and float(r["deff"]) > 0 else 1.0
        pb = float(r["baseline_pct"]) / 100
        out = {"indicator": r["indicator"], "label": r["label"], "group": r["group"], "design": params.design,
               "target_change_pp": change, "target_source": source, "baseline_pct": r["baseline_pct"],
               "n": int(r["n"]), "deff": deff, "discordant_pct": np.nan, "attrition_pct": np.nan, "note": ""}
        delta = change / 100
        out["n_per_wave_independent"] = _ceil(n_per_wave_needed(pb, pb + delta, deff=deff, alpha=params.alpha,
                                                                power=POWER))
        if params.design == "paired":
            psi, lost = _panel_facts(responses, ind.id, members)
            pairs = n_pairs_needed(delta, discordant=psi, deff=deff, alpha=params.alpha, power=POWER)
            out.update(discordant_pct=100 * psi, attrition_pct=100 * lost, n_pairs_needed=_ceil(pairs),
                       n_baseline_needed=_ceil(pairs / (1 - lost)) if lost < 1 else np.nan,
                       power_current=power_paired(int(r["n"]), delta, discordant=psi, deff=deff, alpha=params.alpha))
            if math.isnan(pairs):
                out["note"] = ("no change to detect" if change == 0 else
                               "the change is larger than the observed share of respondents who changed answer")
        else:
            out.update(n_pairs_needed=np.nan, n_baseline_needed=np.nan,
                       power_current=power_independent(pb, pb + delta, float(r["n_baseline"]), float(r["n_endline"]),
                                                       deff=deff, alpha=params.alpha))
        if math.isnan(out["n_per_wave_independent"]) and not out["note"]:
            out["note"] = "no change to detect"
        rows.append(out)
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if np.isfinite(x) else float("nan")


def plan_html(plan: pd.DataFrame, params: Params) -> str:
    """The plan as an escaped, accessible HTML table (group labels from params)."""
    from evalkit.report.format import fmt_number, fmt_pct, fmt_pp, group_label, indicator_label
    from evalkit.report.i18n import _
    from evalkit.report.tables import Column, html_table

    def count(key: str):
        return lambda r: "" if pd.isna(r[key]) else fmt_number(r[key], digits=0)

    cols = [Column("label", _("Indicator"), fmt=lambda r: indicator_label(params, str(r["indicator"]))),
            Column("group", _("Group"), fmt=lambda r: group_label(params, r["group"])),
            Column("target_change_pp", _("Change to detect"), fmt=lambda r: fmt_pp(r["target_change_pp"]),
                   numeric=True),
            Column("target_source", _("From")),
            Column("deff", _("Design effect"), fmt=lambda r: fmt_number(r["deff"], digits=2), numeric=True)]
    if params.design == "paired":
        cols += [Column("discordant_pct", _("Changed answer"), fmt=lambda r: fmt_pct(r["discordant_pct"]),
                        numeric=True),
                 Column("attrition_pct", _("Attrition"), fmt=lambda r: fmt_pct(r["attrition_pct"]), numeric=True),
                 Column("n_pairs_needed", _("Pairs needed"), fmt=count("n_pairs_needed"), numeric=True),
                 Column("n_baseline_needed", _("Baseline interviews needed"), fmt=count("n_baseline_needed"),
                        numeric=True)]
    cols += [Column("n_per_wave_independent", _("Per wave, independent samples"),
                    fmt=count("n_per_wave_independent"), numeric=True),
             Column("n", _("n now"), fmt=count("n"), numeric=True),
             Column("power_current", _("Power now"), fmt=lambda r: fmt_pct(100 * r["power_current"], digits=0),
                    numeric=True),
             Column("note", _("Note"))]
    caption = _("Sample needed for {power} power at significance level {alpha}").format(
        power=fmt_pct(100 * POWER, digits=0), alpha=fmt_number(params.alpha, digits=2))
    return html_table(plan, cols, caption=caption, table_id="ek-plan")
