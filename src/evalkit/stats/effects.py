"""Effect sizes for binary pre/post comparisons: Cohen's h and odds ratios.

(The rank-biserial correlation for Likert levels comes with the rank tests in
:mod:`~evalkit.stats.paired` and :mod:`~evalkit.stats.independent`.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evalkit.errors import AnalysisError
from evalkit.stats._checks import check_counts


def cohens_h(p1: ArrayLike, p2: ArrayLike) -> np.ndarray | float:
    """Cohen's h for two proportions: ``2 asin(sqrt(p1)) - 2 asin(sqrt(p2))``.

    Parameters
    ----------
    p1, p2 : array_like
        Proportions as fractions in [0, 1] (e.g. endline, baseline).

    Returns
    -------
    float or numpy.ndarray
        h; positive when ``p1 > p2``. Cohen's benchmarks: 0.2 small, 0.5
        medium, 0.8 large. NaN where a proportion is NaN.

    References
    ----------
    Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences,
    2nd ed., chapter 6.

    Examples
    --------
    >>> round(float(cohens_h(0.65, 0.45)), 4)
    0.4049
    """
    a, b = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    h = 2 * np.arcsin(np.sqrt(a)) - 2 * np.arcsin(np.sqrt(b))
    return float(h) if h.ndim == 0 else h


def odds_ratio(count1: float, nobs1: float, count2: float, nobs2: float) -> float:
    """Odds ratio of two independent proportions, ``odds1 / odds2``.

    Haldane's correction: when any of the four cells (positives and
    negatives of each sample) is 0, 0.5 is added to every cell, so the ratio
    stays finite. Counts may be non-integer (weighted).

    Parameters
    ----------
    count1, nobs1, count2, nobs2 : float
        Positives and respondents in the first (endline) and second
        (baseline) sample.

    Returns
    -------
    float
        The odds ratio; NaN when a sample is empty.

    References
    ----------
    Haldane JBS (1956). The estimation and significance of the logarithm of a
    ratio of frequencies. Annals of Human Genetics 20:309-311.

    Examples
    --------
    >>> round(odds_ratio(56, 70, 48, 80), 4)
    2.6667
    """
    check_counts(count1, nobs1, what="odds_ratio() (first sample)")
    check_counts(count2, nobs2, what="odds_ratio() (second sample)")
    if nobs1 <= 0 or nobs2 <= 0:
        return float("nan")
    cells = np.array([count1, nobs1 - count1, count2, nobs2 - count2], dtype=float)
    if (cells == 0).any():
        cells = cells + 0.5
    a, b, c, d = cells
    return float((a / b) / (c / d))


def paired_odds_ratio(b: float, c: float) -> float:
    """Conditional (McNemar) odds ratio of a paired table, ``b / c``.

    ``b`` and ``c`` are the discordant cells: positive at the first
    measurement only, and at the second only. Haldane's correction: 0.5 is
    added to both when either is 0. NaN when there are no discordant pairs.

    References
    ----------
    Agresti A (2013). Categorical Data Analysis, 3rd ed., section 11.2.3.

    Examples
    --------
    >>> round(paired_odds_ratio(150, 86), 4)
    1.7442
    """
    if b < 0 or c < 0:
        raise AnalysisError(f"paired_odds_ratio() needs non-negative counts; got b={b}, c={c}.")
    if b + c == 0:
        return float("nan")
    if b == 0 or c == 0:
        b, c = b + 0.5, c + 0.5
    return float(b / c)
