"""Knowledge scores: mean, distribution, share above the cut-off, internal consistency.

A ``score`` indicator (:mod:`evalkit.indicator_spec`) is built by
:func:`evalkit.indicators.score_columns` into ``<id>`` (good knowledge),
``<id>_score`` and ``<id>_item<k>``; this module describes it per wave, for
the report: :func:`score_summary` (one row per score x wave) and
:func:`score_distribution` (how many respondents have each score).
Cronbach's alpha is pingouin's, with its confidence interval (Feldt).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg

from evalkit.params import Params

#: Columns of :func:`score_summary`.
SUMMARY_COLUMNS = ["indicator", "wave", "n", "items", "cut_off_score", "mean_score", "mean_score_pct", "sd_score",
                   "median_score", "good_pct", "cronbach_alpha", "alpha_ci_low", "alpha_ci_high", "note"]
#: Columns of :func:`score_distribution`.
DISTRIBUTION_COLUMNS = ["indicator", "wave", "score", "n", "pct"]


def _scored(responses: pd.DataFrame, ind: object, wave: str) -> pd.DataFrame:
    mask = (responses["wave"] == wave) & responses["group"].isin(ind.population)
    cols = [f"{ind.id}_score", ind.id] + [f"{ind.id}_item{k}" for k in range(1, len(ind.items) + 1)]
    if any(c not in responses.columns for c in cols):  # not built (an older responses.parquet): nothing scored
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    part = responses.loc[mask, cols]
    return part[part[f"{ind.id}_score"].notna()]


def score_summary(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Mean, spread, share with good knowledge and Cronbach's alpha of every score, per wave.

    Parameters
    ----------
    responses : pandas.DataFrame
        ``responses.parquet``; not modified.
    params : Params

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`; ``cut_off_score`` = ``cut_off`` x items;
        ``mean_score_pct`` = the mean share of items answered correctly;
        alpha is NaN with a note for fewer than 2 respondents, fewer than 2
        items or no variance. Unweighted.

    References
    ----------
    Cronbach L. J. (1951), "Coefficient alpha and the internal structure of
    tests", Psychometrika 16: 297-334; pingouin ``cronbach_alpha``.
    """
    rows = []
    for ind in (i for i in params.indicators if i.type == "score"):
        for wave in ("baseline", "endline"):
            part = _scored(responses, ind, wave)
            score = part[f"{ind.id}_score"].astype(float) if len(part) else pd.Series(dtype=float)
            row = {"indicator": ind.id, "wave": wave, "n": len(part), "items": len(ind.items),
                   "cut_off_score": ind.cut_off * len(ind.items), "note": ""}
            row.update(mean_score=score.mean(), mean_score_pct=100 * score.mean() / len(ind.items),
                       sd_score=score.std(ddof=1) if len(score) > 1 else np.nan,
                       median_score=score.median(),
                       good_pct=100 * part[ind.id].astype(float).mean() if len(part) else np.nan)
            items = part[[f"{ind.id}_item{k}" for k in range(1, len(ind.items) + 1)]].astype(float)
            alpha, low, high = np.nan, np.nan, np.nan
            if len(part) < 2 or len(ind.items) < 2:
                row["note"] = "Cronbach's alpha needs at least 2 respondents and 2 items"
            elif items.var(ddof=1).sum() == 0 or score.var(ddof=1) == 0:
                row["note"] = "Cronbach's alpha undefined: the items do not vary"
            else:
                alpha, ci = pg.cronbach_alpha(data=items)
                low, high = ci
            row.update(cronbach_alpha=float(alpha), alpha_ci_low=float(low), alpha_ci_high=float(high))
            rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def score_distribution(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """How many respondents have each possible score (0 to the number of items), per score and wave.

    Returns
    -------
    pandas.DataFrame
        :data:`DISTRIBUTION_COLUMNS`, every score from 0 to the maximum
        listed (0 respondents included); ``pct`` of the wave's scored
        respondents (NaN when none). Small cells are not suppressed here:
        the report's suppression gate applies.
    """
    rows = []
    for ind in (i for i in params.indicators if i.type == "score"):
        for wave in ("baseline", "endline"):
            score = _scored(responses, ind, wave)[f"{ind.id}_score"].astype(float)
            total = len(score)
            for k in range(len(ind.items) + 1):
                n = int((score == k).sum())
                rows.append({"indicator": ind.id, "wave": wave, "score": k, "n": n,
                             "pct": 100 * n / total if total else np.nan})
    return pd.DataFrame(rows, columns=DISTRIBUTION_COLUMNS)
