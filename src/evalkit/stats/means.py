"""Means and medians of a numeric answer, paired or independent, with intervals.

Differences are *first minus second* (:mod:`evalkit.stats` convention;
:mod:`evalkit.compare` passes the endline first).

- :func:`mean_change`: paired t-test and its t interval on the differences,
  or Welch's unequal-variance t-test and its Welch-Satterthwaite interval
  (both from :mod:`scipy.stats`), and Cohen's d (pingouin);
- :func:`median_change`: paired, the median of the differences with the
  distribution-free order-statistic interval (the sign test inverted,
  :func:`scipy.stats.quantile_test`); independent, the difference of the two
  medians with a seeded percentile bootstrap interval
  (:func:`scipy.stats.bootstrap`), so the output is the same on every run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
from numpy.typing import ArrayLike
from scipy import stats

from evalkit.stats._checks import as_float_array

#: Columns of :func:`mean_change`.
MEAN_COLUMNS = ["test", "n1", "n2", "mean1", "mean2", "diff", "ci_low", "ci_high", "t", "df", "p_value",
                "cohens_d", "note"]
#: Columns of :func:`median_change`.
MEDIAN_COLUMNS = ["method", "n1", "n2", "median1", "median2", "diff", "ci_low", "ci_high", "note"]
#: Seed and size of the bootstrap of :func:`median_change` (independent samples).
BOOTSTRAP_SEED, BOOTSTRAP_RESAMPLES = 20221, 4000


def _clean(first: ArrayLike, second: ArrayLike, paired: bool) -> tuple[np.ndarray, np.ndarray]:
    x, y = as_float_array(first), as_float_array(second)
    if paired:
        ok = ~(np.isnan(x) | np.isnan(y))
        return x[ok], y[ok]
    return x[~np.isnan(x)], y[~np.isnan(y)]


def mean_change(first: ArrayLike, second: ArrayLike, *, paired: bool, alpha: float = 0.05) -> pd.DataFrame:
    """Difference of means (first - second) with its interval and t-test.

    Parameters
    ----------
    first, second : array_like of float (NaN = missing)
        Paired: aligned by respondent (a pair missing either value is left
        out). Independent: the two samples.
    paired : bool, keyword-only
    alpha : float, keyword-only
        Two-sided level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row: ``test`` (``paired_t`` / ``welch_t``), ``n1, n2, mean1,
        mean2, diff, ci_low, ci_high, t, df, p_value, cohens_d`` (as
        :func:`pingouin.compute_effsize` computes it), ``note``.
        Fewer than 2 values (pairs), or no variation, give NaN and a note.

    References
    ----------
    Welch B. L. (1947), "The generalization of Student's problem when several
    different population variances are involved", Biometrika 34: 28-35.

    Examples
    --------
    >>> mean_change([3, 4, 5, 6], [1, 2, 2, 4], paired=True)["diff"].iloc[0]
    2.25
    """
    x, y = _clean(first, second, paired)
    row = {c: np.nan for c in MEAN_COLUMNS} | {"test": "paired_t" if paired else "welch_t", "note": "",
                                              "n1": len(x), "n2": len(y)}
    row.update(mean1=float(x.mean()) if len(x) else np.nan, mean2=float(y.mean()) if len(y) else np.nan)
    row["diff"] = row["mean1"] - row["mean2"]
    if min(len(x), len(y)) < 2:
        row["note"] = f"fewer than 2 {'pairs' if paired else 'values in a sample'}: no test or interval"
        return pd.DataFrame([row], columns=MEAN_COLUMNS)
    spread = np.std(x - y) if paired else max(np.std(x), np.std(y))
    if spread == 0:
        row["note"] = "no variation in the values: no test or interval"
        return pd.DataFrame([row], columns=MEAN_COLUMNS)
    res = stats.ttest_rel(x, y) if paired else stats.ttest_ind(x, y, equal_var=False)
    ci = res.confidence_interval(confidence_level=1 - alpha)
    row.update(ci_low=float(ci.low), ci_high=float(ci.high), t=float(res.statistic), df=float(res.df),
               p_value=float(res.pvalue),
               cohens_d=float(pg.compute_effsize(x, y, paired=paired, eftype="cohen")))
    return pd.DataFrame([row], columns=MEAN_COLUMNS)


def _median_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis) - np.median(y, axis=axis)


def median_change(first: ArrayLike, second: ArrayLike, *, paired: bool, alpha: float = 0.05) -> pd.DataFrame:
    """Change in the median (first vs second) with a distribution-free interval.

    Parameters
    ----------
    first, second : array_like of float (NaN = missing)
    paired : bool, keyword-only
        True: the median of the paired differences, with the order-statistic
        interval of the sign test (exact binomial; ties and zeros allowed).
        False: the difference of the two medians, with a percentile
        bootstrap interval (:data:`BOOTSTRAP_RESAMPLES` resamples of each
        sample, seed :data:`BOOTSTRAP_SEED`).
    alpha : float, keyword-only

    Returns
    -------
    pandas.DataFrame
        One row: ``method`` (``sign_test_order_statistics`` /
        ``percentile_bootstrap``), ``n1, n2, median1, median2, diff, ci_low,
        ci_high, note``.

    References
    ----------
    Conover W. J. (1999), Practical Nonparametric Statistics, 3rd ed.,
    section 3.2 (confidence interval for a quantile). Efron B. & Tibshirani
    R. (1993), An Introduction to the Bootstrap, chapter 13 (percentile interval).

    Examples
    --------
    >>> median_change([3, 4, 5, 6, 7], [1, 2, 2, 4, 5], paired=True)["diff"].iloc[0]
    2.0
    """
    x, y = _clean(first, second, paired)
    row = {c: np.nan for c in MEDIAN_COLUMNS} | {
        "method": "sign_test_order_statistics" if paired else "percentile_bootstrap", "note": "",
        "n1": len(x), "n2": len(y)}
    row.update(median1=float(np.median(x)) if len(x) else np.nan, median2=float(np.median(y)) if len(y) else np.nan)
    if paired:
        d = x - y
        row["diff"] = float(np.median(d)) if len(d) else np.nan
    else:
        row["diff"] = row["median1"] - row["median2"]
    if min(len(x), len(y)) < 2:
        row["note"] = f"fewer than 2 {'pairs' if paired else 'values in a sample'}: no interval"
        return pd.DataFrame([row], columns=MEDIAN_COLUMNS)
    if paired:
        ci = stats.quantile_test(d, q=0, p=0.5).confidence_interval(confidence_level=1 - alpha)
    else:
        res = stats.bootstrap((x, y), _median_diff, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                              confidence_level=1 - alpha, vectorized=True, paired=False,
                              rng=np.random.default_rng(BOOTSTRAP_SEED))
        ci = res.confidence_interval
    low, high = float(ci.low), float(ci.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        row["note"] = "too few values for a distribution-free interval at this level"
    row.update(ci_low=low, ci_high=high)
    return pd.DataFrame([row], columns=MEDIAN_COLUMNS)
