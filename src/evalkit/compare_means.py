"""The mean and median columns of ``results.csv``: numeric indicators and scores.

A ``numeric`` indicator's row has no percentages: its headline is the change
in the mean (paired t / Welch t, in ``test`` and ``p_value``, so it enters
the table's multiplicity adjustment like any other row), and the change in
the median. A ``score`` indicator's headline is the share with good
knowledge (a binary row); these columns add its mean and median score.
Methods: :mod:`evalkit.stats.means`. Means and medians are unweighted; a
weighted sample says so in ``note``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.frames import float_column
from evalkit.params import Indicator
from evalkit.stats.means import mean_change, median_change
from evalkit.stats.weights import weights_vary

#: Columns added to ``results.csv`` (documented in docs/results-contract.md).
MEAN_RESULT_COLUMNS: tuple[str, ...] = (
    "mode", "baseline_mean", "endline_mean", "change_mean", "change_mean_ci_low", "change_mean_ci_high",
    "mean_p_value", "baseline_median", "endline_median", "change_median", "change_median_ci_low",
    "change_median_ci_high",
)


def value_column(ind: Indicator) -> str | None:
    """The ``responses.parquet`` column whose mean is reported (None for other kinds)."""
    return {"numeric": ind.id, "score": f"{ind.id}_score"}.get(ind.type)


def mean_columns(first: np.ndarray, second: np.ndarray, *, paired: bool, alpha: float) -> dict:
    """``baseline_mean`` ... ``change_median_ci_high`` from the endline (first) and baseline (second) values.

    Returns
    -------
    dict
        The :data:`MEAN_RESULT_COLUMNS` but ``mode``, plus ``test``,
        ``p_value``, ``effect_size``, ``effect_size_name`` and ``note`` for a
        numeric indicator's headline.
    """
    mean = mean_change(first, second, paired=paired, alpha=alpha).iloc[0]
    median = median_change(first, second, paired=paired, alpha=alpha).iloc[0]
    notes = [f"mean: {mean['note']}" if mean["note"] else "", f"median: {median['note']}" if median["note"] else ""]
    return {"baseline_mean": mean["mean2"], "endline_mean": mean["mean1"], "change_mean": mean["diff"],
            "change_mean_ci_low": mean["ci_low"], "change_mean_ci_high": mean["ci_high"],
            "mean_p_value": mean["p_value"], "baseline_median": median["median2"],
            "endline_median": median["median1"], "change_median": median["diff"],
            "change_median_ci_low": median["ci_low"], "change_median_ci_high": median["ci_high"],
            "test": mean["test"], "p_value": mean["p_value"], "effect_size": mean["cohens_d"],
            "effect_size_name": "cohens_d", "n_baseline": int(mean["n2"]), "n_endline": int(mean["n1"]),
            "note": "; ".join(n for n in notes if n)}


def numeric_row(ind: Indicator, base: pd.DataFrame, end: pd.DataFrame | None, *, design: str,
                alpha: float) -> dict:
    """Mean/median columns of one indicator x group (paired: one merged frame with ``_b``/``_e`` columns).

    Parameters
    ----------
    ind : Indicator
        A ``numeric`` or ``score`` indicator.
    base, end : pandas.DataFrame
        As :func:`evalkit.compare_rows.comparison_row` receives them.
    design : {"paired", "independent"}, keyword-only
    alpha : float, keyword-only

    Returns
    -------
    dict
        See :func:`mean_columns`; ``n`` too for a numeric indicator.
    """
    col = value_column(ind)
    paired = design == "paired"
    if paired:
        first, second = float_column(base, f"{col}_e"), float_column(base, f"{col}_b")
        w = float_column(base, "weight_b")
    else:
        first, second = float_column(end, col), float_column(base, col)
        w = np.concatenate([float_column(base, "weight"), float_column(end, "weight")])
    out = mean_columns(first, second, paired=paired, alpha=alpha)
    out["n"] = out["n_baseline"] if paired else out["n_baseline"] + out["n_endline"]
    if weights_vary(w):
        out["note"] = "; ".join(filter(None, [out["note"], "means and medians are unweighted"]))
    return out
