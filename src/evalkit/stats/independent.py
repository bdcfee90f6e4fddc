"""Independent-samples (repeated cross-section) pre/post comparisons.

Binary outcomes: Pearson chi-squared without continuity correction (the
two-proportion z-test) and Newcombe's hybrid score interval. Likert levels:
Mann-Whitney U with the rank-biserial correlation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
from numpy.typing import ArrayLike
from scipy.stats import chi2, mannwhitneyu
from statsmodels.stats.proportion import confint_proportions_2indep

from evalkit.stats._checks import as_float_array, check_counts

#: Above this many x-y pairs, pingouin.mwu's n1-by-n2 matrix would not fit in
#: memory; :func:`mann_whitney` then computes the same quantities from U.
MWU_PINGOUIN_MAX_PAIRS = 4_000_000


def two_proportion_test(count1: float, nobs1: float, count2: float, nobs2: float) -> pd.DataFrame:
    """Pearson chi-squared test of two independent proportions, no continuity correction.

    Identical to the pooled two-proportion z-test (``chi2 = z**2``):
    ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with ``p`` the pooled
    proportion.

    Parameters
    ----------
    count1, nobs1 : float
        Positives and respondents in the first sample (e.g. endline).
    count2, nobs2 : float
        Positives and respondents in the second sample (e.g. baseline).

    Returns
    -------
    pandas.DataFrame
        One row: ``n1``, ``n2``, ``p1``, ``p2``, ``difference`` (``p1 - p2``),
        ``z``, ``chi2``, ``p_value`` (two-sided), ``note``. NaN with a note
        when a sample is empty or the pooled proportion is 0 or 1 (then
        ``p_value`` is 1: the samples cannot differ).

    References
    ----------
    Pearson K (1900); Fagerland MW, Lydersen S, Laake P (2015). Recommended
    tests and confidence intervals for paired binomial proportions /
    for the 2x2 table: the Pearson chi-squared test without continuity
    correction performs well even for small samples (Fagerland et al. 2017,
    Statistical Analysis of Contingency Tables, section 4.4).

    Examples
    --------
    >>> two_proportion_test(56, 70, 48, 80)[["difference", "p_value"]].round(4).values.tolist()
    [[0.2, 0.008]]
    """
    for c, n, what in ((count1, nobs1, "first"), (count2, nobs2, "second")):
        check_counts(c, n, what=f"two_proportion_test() ({what} sample)")
    out = {"n1": float(nobs1), "n2": float(nobs2), "p1": np.nan, "p2": np.nan, "difference": np.nan,
           "z": np.nan, "chi2": np.nan, "p_value": np.nan, "note": ""}
    if nobs1 <= 0 or nobs2 <= 0:
        out["note"] = "a wave has no respondents with an answer"
    else:
        p1, p2 = count1 / nobs1, count2 / nobs2
        pooled = (count1 + count2) / (nobs1 + nobs2)
        out.update(p1=p1, p2=p2, difference=p1 - p2)
        var = pooled * (1 - pooled) * (1 / nobs1 + 1 / nobs2)
        if var > 0:
            z = (p1 - p2) / np.sqrt(var)
            out.update(z=z, chi2=z * z, p_value=float(chi2.sf(z * z, 1)))
        else:
            out.update(p_value=1.0, note=f"every respondent answered the same (pooled proportion {pooled:g})")
    return pd.DataFrame({k: [v] for k, v in out.items()})


def newcombe_independent_ci(count1: float, nobs1: float, count2: float, nobs2: float, *,
                            alpha: float = 0.05) -> pd.DataFrame:
    """Newcombe's hybrid score interval for the difference of two independent proportions.

    Method 10 of Newcombe (1998a): the Wilson intervals of ``p1`` and ``p2``
    combined by square-and-add. Computed by statsmodels
    ``confint_proportions_2indep(method="newcomb", compare="diff")`` and
    cross-checked in the tests against :func:`evalkit.stats.square_and_add`.

    Parameters
    ----------
    count1, nobs1, count2, nobs2 : float
        Positives and respondents in the two samples (non-integer allowed).
    alpha : float, keyword-only
        Two-sided level.

    Returns
    -------
    pandas.DataFrame
        One row: ``difference`` (``p1 - p2``, fraction), ``ci_low``,
        ``ci_high``, ``note``. NaN when a sample is empty.

    References
    ----------
    Newcombe RG (1998a). Interval estimation for the difference between
    independent proportions: comparison of eleven methods. Statistics in
    Medicine 17:873-890, method 10.

    Examples
    --------
    >>> newcombe_independent_ci(56, 70, 48, 80)[["difference", "ci_low", "ci_high"]].round(4).values.tolist()
    [[0.2, 0.0524, 0.3339]]
    """
    for c, n, what in ((count1, nobs1, "first"), (count2, nobs2, "second")):
        check_counts(c, n, what=f"newcombe_independent_ci() ({what} sample)")
    if nobs1 <= 0 or nobs2 <= 0:
        return pd.DataFrame({"difference": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan],
                             "note": ["a wave has no respondents with an answer"]})
    low, high = confint_proportions_2indep(count1, nobs1, count2, nobs2, method="newcomb", compare="diff",
                                           alpha=alpha)
    return pd.DataFrame({"difference": [count1 / nobs1 - count2 / nobs2], "ci_low": [float(low)],
                         "ci_high": [float(high)], "note": [""]})


def mann_whitney(x: ArrayLike, y: ArrayLike) -> pd.DataFrame:
    """Mann-Whitney U test with the rank-biserial correlation.

    Calls :func:`pingouin.mwu` (two-sided, continuity correction, scipy's
    ``method="auto"``: exact for small samples without ties, else the normal
    approximation with tie-corrected variance). For samples with more than
    :data:`MWU_PINGOUIN_MAX_PAIRS` x-y pairs -- where pingouin would build an
    n1-by-n2 matrix -- the same quantities come from
    :func:`scipy.stats.mannwhitneyu` and ``U``; the tests check both paths
    agree.

    Parameters
    ----------
    x, y : array_like
        The two samples (e.g. endline and baseline Likert levels); NaN / NA
        dropped.

    Returns
    -------
    pandas.DataFrame
        One row: ``n1``, ``n2``, ``U`` (statistic of ``x``), ``p_value``,
        ``rank_biserial`` (Wendt 1972: ``2 U / (n1 n2) - 1``, positive when
        ``x`` tends to be larger), ``cles`` (``P(X > Y) + P(X = Y)/2``),
        ``note``.

    References
    ----------
    Mann HB, Whitney DR (1947). Annals of Mathematical Statistics 18:50-60.
    Wendt HW (1972). Dealing with a common problem in social science.
    European Journal of Social Psychology 2:197-201.

    Examples
    --------
    >>> mann_whitney([3, 4, 5, 5], [1, 2, 3, 3])[["U", "rank_biserial"]].values.tolist()
    [[15.0, 0.875]]
    """
    a, b = as_float_array(x), as_float_array(y)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n1, n2 = int(a.size), int(b.size)
    out = {"n1": n1, "n2": n2, "U": np.nan, "p_value": np.nan, "rank_biserial": np.nan, "cles": np.nan, "note": ""}
    if n1 < 1 or n2 < 1 or n1 + n2 < 3:
        out["note"] = f"too few answers for a rank test (n1 = {n1}, n2 = {n2})"
    elif np.unique(np.concatenate([a, b])).size == 1:
        out.update(U=n1 * n2 / 2, p_value=1.0, rank_biserial=0.0, cles=0.5,
                   note="every respondent gave the same answer")
    elif n1 * n2 <= MWU_PINGOUIN_MAX_PAIRS:
        res = pg.mwu(a, b, alternative="two-sided")
        out.update(U=float(res["U_val"].iloc[0]), p_value=float(res["p_val"].iloc[0]),
                   rank_biserial=float(res["RBC"].iloc[0]), cles=float(res["CLES"].iloc[0]))
    else:
        res = mannwhitneyu(a, b, alternative="two-sided", use_continuity=True, method="auto")
        u = float(res.statistic)
        out.update(U=u, p_value=float(res.pvalue), rank_biserial=2 * u / (n1 * n2) - 1, cles=u / (n1 * n2))
    return pd.DataFrame({k: [v] for k, v in out.items()})
