"""Panel attrition: inverse-probability-of-retention weights and the sensitivity estimate.

In a panel the change is estimated on the respondents interviewed at both
waves. When those who drop out differ from those who stay (in the Together
data, parents without a SEN child who dropped out had 46.8% good knowledge at
baseline against 33.9% for those who stayed), the complete-pairs change may
not be the change of the baseline population. The standard sensitivity check
re-weights the complete pairs by the inverse of their estimated probability of
staying in the panel, modelled from baseline characteristics and the baseline
outcome (inverse probability weighting; Robins, Rotnitzky & Zhao 1995;
Seaman & White 2013):

- retention model, per indicator: a logistic regression (statsmodels GLM,
  binomial) of "interviewed again with an answer" on the respondent group, the
  params ``demographics``, the baseline answer and group x baseline answer,
  among the baseline respondents who answered the indicator;
- weight = baseline weight / estimated retention probability (probabilities
  clipped at :data:`MIN_RETENTION`, with a note); when the model cannot be fitted
  (perfect separation, a single class) the retention rate of each group x
  baseline answer cell is used instead, with a note.

:func:`evalkit.compare.compare_indicators` puts the re-weighted, design-based
change of every paired row in ``results.csv`` (``attrition_change_pp``,
``attrition_differs``); :func:`attrition_findings` says in words where it
differs from the complete-pairs change by more than the margin of error (half
the width of the complete-pairs 95% interval). With
``sampling.panel_weight: baseline_attrition_adjusted`` the re-weighted change is
the headline estimate instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Smallest retention probability used (weights are at most 1 / this times the baseline weight).
MIN_RETENTION = 0.05

#: Name of the re-weighted pair weight column.
IPW_COLUMN = "weight_ipw"


def _design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    parts = [pd.Series(1.0, index=frame.index, name="const"), frame["_yb"].rename("y_baseline")]
    for c in ["group", *covariates]:
        if c in frame.columns:
            dummies = pd.get_dummies(frame[c].astype("string").fillna("missing"), prefix=c, drop_first=True,
                                     dtype=float)
            parts.append(dummies)
            if c == "group":
                parts.append(dummies.mul(frame["_yb"], axis=0).add_suffix(":y_baseline"))
    x = pd.concat(parts, axis=1)
    return x.loc[:, x.std(ddof=0).gt(0) | (x.columns == "const")]


def retention_probability(frame: pd.DataFrame, *, covariates: Sequence[str] = ()) -> tuple[pd.Series, str]:
    """Estimated probability that each baseline respondent stays in the panel.

    Parameters
    ----------
    frame : pandas.DataFrame
        Baseline respondents who answered: ``group``, ``_yb`` (baseline
        answer, 0/1), ``_kept`` (1 when interviewed again with an answer),
        and the ``covariates`` columns; not modified.
    covariates : sequence of str, keyword-only
        Baseline characteristics (demographics) in the model.

    Returns
    -------
    (probability, note) : tuple
        Probabilities (same index, clipped at :data:`MIN_RETENTION`) and a
        note (empty, or which fallback or clipping was used).

    References
    ----------
    Seaman SR, White IR (2013). Review of inverse probability weighting for
    dealing with missing data. Stat Methods Med Res 22(3):278-295.
    """
    from statsmodels.genmod.families import Binomial  # not statsmodels.api: it imports all of statsmodels (0.4 s)
    from statsmodels.genmod.generalized_linear_model import GLM

    kept = frame["_kept"].to_numpy(dtype=float)
    note = ""
    if kept.size == 0 or kept.min() == kept.max():
        return pd.Series(float(kept.mean()) if kept.size else np.nan, index=frame.index), note
    # Every covariate is categorical, so the fit runs on the distinct covariate patterns with their
    # counts (a binomial GLM on grouped data has the same maximum-likelihood estimates), not on every row.
    keys = ["group", *[c for c in covariates if c in frame.columns], "_yb"]
    grouped = frame[keys].astype({k: "string" for k in keys if k != "_yb"}).fillna({k: "missing" for k in keys
                                                                                    if k != "_yb"})
    by = grouped.groupby(keys, sort=True, dropna=False)
    inverse = by.ngroup().to_numpy()
    first = by.head(1).assign(_g=lambda d: by.ngroup().loc[d.index]).sort_values("_g")
    patterns = _design_matrix(first.reset_index(drop=True), covariates).to_numpy()
    trials = np.bincount(inverse, minlength=len(patterns)).astype(float)
    successes = np.bincount(inverse, weights=kept, minlength=len(patterns))
    try:
        with warnings.catch_warnings():
            # statsmodels warns about a saturated grouped model (no residual df; "perfect prediction"),
            # which is fine here; real separation shows as fitted probabilities of 0 or 1, checked below.
            warnings.simplefilter("ignore")
            # converged to machine precision, so results.csv does not depend on where IRLS stopped
            fit = GLM(np.column_stack([successes, trials - successes]), patterns,
                      family=Binomial()).fit(tol=1e-14, maxiter=200)
        fitted = np.asarray(fit.predict(patterns), dtype=float)
        if not fit.converged or not np.all(np.isfinite(fitted)) or ((fitted < 1e-8) | (fitted > 1 - 1e-8)).any():
            raise ValueError("separation")
        prob = pd.Series(fitted[inverse], index=frame.index)
    except Exception:  # noqa: BLE001 (statsmodels raises several kinds; the fallback is always valid)
        cells = frame.groupby(["group", "_yb"], dropna=False)["_kept"].transform("mean")
        prob = cells.astype(float)
        note = "retention model could not be fitted; retention rates of group x baseline-answer cells used"
    low = prob < MIN_RETENTION
    if low.any():
        note = "; ".join(filter(None, [note, f"{int(low.sum())} retention probabilities below {MIN_RETENTION} "
                                             f"raised to it"]))
    return prob.clip(lower=MIN_RETENTION), note


def link_pairs(base: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """For each baseline row, the position of its matched pair (-1: not matched or an earlier duplicate).

    Computed once per table (one hash of the ids); :func:`ipw_pairs` then works on positions.
    """
    pos = pd.Index(pairs["respondent_id"]).get_indexer(base["respondent_id"])
    later = base["respondent_id"].duplicated(keep="last").to_numpy()  # match_pairs keeps the last row of an id
    return np.where(later, -2, pos)


def ipw_pairs(base: pd.DataFrame, pairs: pd.DataFrame, indicator_id: str, *, covariates: Sequence[str] = (),
              links: np.ndarray | None = None) -> tuple[pd.DataFrame, str]:
    """Matched pairs with :data:`IPW_COLUMN` = baseline weight / retention probability.

    Parameters
    ----------
    base : pandas.DataFrame
        Every baseline respondent (processed-data shape).
    pairs : pandas.DataFrame
        The matched pairs (:func:`evalkit.compare.match_pairs`), ``_b``/``_e`` columns.
    indicator_id : str
    covariates : sequence of str, keyword-only
    links : numpy.ndarray, optional, keyword-only
        :func:`link_pairs` of ``base`` and ``pairs`` (computed here when not given).

    Returns
    -------
    (pairs, note) : tuple
        A copy of ``pairs`` with the weight column (NaN where the pair has
        no answer at both waves) and the model's note.
    """
    ye_col = f"{indicator_id}_e"
    if indicator_id not in base.columns or ye_col not in pairs.columns:
        return pairs.assign(**{IPW_COLUMN: np.nan}), ""
    links = link_pairs(base, pairs) if links is None else links
    yb = base[indicator_id].to_numpy(dtype="float64", na_value=np.nan)
    ye = pairs[ye_col].to_numpy(dtype="float64", na_value=np.nan)
    population = (links > -2) & ~np.isnan(yb)  # baseline respondents who answered (last row of an id)
    matched = links >= 0
    kept = np.zeros(len(base), dtype=bool)
    kept[matched] = ~np.isnan(ye[links[matched]])
    cols = ["group", *[c for c in covariates if c in base.columns]]
    answered = base.loc[population, cols].assign(_yb=yb[population], _kept=kept[population].astype(float))
    prob, note = retention_probability(answered, covariates=[c for c in covariates if c in answered.columns])
    p = np.full(len(pairs), np.nan)
    stay = kept[population]
    p[links[population][stay]] = prob.to_numpy()[stay]
    w = pd.to_numeric(pairs["weight_b"], errors="coerce").to_numpy(dtype=float)
    return pairs.assign(**{IPW_COLUMN: w / p}), note


def attrition_findings(results: pd.DataFrame, *, labels: dict[str, str] | None = None,
                       indicator_labels: dict[str, str] | None = None) -> list[str]:
    """Sentences for the report: rows whose attrition-adjusted change differs by more than the margin of error.

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` rows (already suppressed), with ``attrition_change_pp``
        and ``attrition_differs``.
    labels : dict, optional, keyword-only
        Group name -> label shown in the report.
    indicator_labels : dict, optional, keyword-only
        Indicator id -> label shown in the report (default: the ``label`` column).

    Returns
    -------
    list of str
        One sentence per row that differs, in the report language
        (:mod:`evalkit.report.i18n`); empty when none does or the design is
        not a panel.
    """
    from evalkit.report.format import fmt_pp
    from evalkit.report.i18n import _

    if "attrition_differs" not in results.columns:
        return []
    labels = labels or {}
    out = []
    for _i, r in results.loc[results["attrition_differs"].astype("boolean").fillna(False)].iterrows():
        margin = (r["ci_high_pp"] - r["ci_low_pp"]) / 2
        group = labels.get(str(r["group"]), str(r["group"]))
        out.append(_("{label} ({group}): re-weighted for who stayed in the panel, the change is {adjusted} instead "
                     "of {change} on the complete pairs, a difference larger than the margin of error ({margin}); "
                     "drop-out may bias this result.").format(
            label=(indicator_labels or {}).get(str(r["indicator"]), r["label"]), group=group, adjusted=fmt_pp(r["attrition_change_pp"]), change=fmt_pp(r["change_pp"]),
            margin=fmt_pp(margin, sign=False)))
    return out


def attrition_html(results: pd.DataFrame, params: object) -> str:
    """The report's paragraph on the attrition sensitivity check (panels only; empty otherwise).

    Lists :func:`attrition_findings`, or says that no result moved by more
    than its margin of error. Text is escaped and in the report language.
    """
    from evalkit.report.format import esc, group_label, indicator_label
    from evalkit.report.i18n import _

    if getattr(params, "design", "") != "paired" or "attrition_differs" not in results.columns:
        return ""
    intro = _("Sensitivity to drop-out: each change was re-estimated on the complete pairs re-weighted by the "
              "inverse of their estimated probability of staying in the panel (from the respondent group, "
              "characteristics and baseline answer).")
    labels = {str(g): group_label(params, g) for g in results["group"].dropna().unique()}
    found = attrition_findings(results, labels=labels, indicator_labels={
        str(i): indicator_label(params, str(i)) for i in results["indicator"].dropna().unique()})
    if not found:
        return f"<p>{esc(intro)} {esc(_('No result changes by more than its margin of error.'))}</p>"
    items = "".join(f"<li>{esc(s)}</li>" for s in found)
    more = _("These results change by more than their margin of error:")
    return f"<p>{esc(intro)} {esc(more)}</p><ul>{items}</ul>"


def attrition_values(ind_id: str, base: pd.DataFrame, pairs: pd.DataFrame, member_sets: Sequence[tuple[str, ...]],
                     *, sampling: object, covariates: Sequence[str], alpha: float, full: bool = False,
                     links: np.ndarray | None = None) -> tuple[dict[tuple[str, ...], dict], str]:
    """Values of every row of one indicator on the complete pairs re-weighted for retention.

    Parameters
    ----------
    full : bool, keyword-only
        ``False`` (the sensitivity check): only the re-weighted change, a
        weighted mean of the per-respondent difference (no variance is
        needed to compare it with the complete-pairs margin of error).
        ``True`` (``sampling.panel_weight: baseline_attrition_adjusted``): the
        full design-based row (:func:`evalkit.designbased.design_rows`).
    links : numpy.ndarray, optional, keyword-only
        :func:`link_pairs`, computed once per table.

    Returns
    -------
    (values, note) : tuple
        members -> values (``change_pp`` at least), and the retention model's note.
    """
    weighted, note = ipw_pairs(base, pairs, ind_id, covariates=covariates, links=links)
    if full:
        from evalkit.designbased import design_rows

        values = design_rows(ind_id, weighted, None, member_sets, design="paired", sampling=sampling, alpha=alpha,
                             weight=IPW_COLUMN)
        return dict(values), note
    yb, ye = (weighted[f"{ind_id}{s}"].to_numpy(dtype="float64", na_value=np.nan)
              if f"{ind_id}{s}" in weighted else np.full(len(weighted), np.nan) for s in ("_b", "_e"))
    w = weighted[IPW_COLUMN].to_numpy(dtype=float)
    ok = ~(np.isnan(yb) | np.isnan(ye) | np.isnan(w))
    group = weighted["group"].to_numpy(dtype=object)
    out = {}
    for members in member_sets:
        m = ok & np.isin(group, list(members))
        if m.sum() < 2 or not w[m].sum() > 0:
            out[members] = {"_skip": True}
            continue
        out[members] = {"change_pp": 100 * float(np.average(ye[m] - yb[m], weights=w[m]))}
    return out, note


def sensitivity_columns(complete: dict, adjusted: dict | None) -> dict:
    """``attrition_change_pp`` and ``attrition_differs`` (|difference| > half the complete-pairs CI width).

    ``complete`` is the complete-pairs row (baseline weights) even when the
    adjusted change is the headline (``panel_weight:
    baseline_attrition_adjusted``), so the check always compares the two
    estimates.
    """
    if not adjusted or adjusted.get("_skip"):
        return {"attrition_change_pp": np.nan, "attrition_differs": pd.NA}
    change = adjusted["change_pp"]
    margin = (complete["ci_high_pp"] - complete["ci_low_pp"]) / 2
    differs = bool(abs(change - complete["change_pp"]) > margin) if np.isfinite(margin) else pd.NA
    return {"attrition_change_pp": change, "attrition_differs": differs}

