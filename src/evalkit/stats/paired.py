"""Paired (panel) pre/post comparisons: McNemar, Newcombe's paired interval,
Wilcoxon signed-rank.

A paired 2x2 table ``[[a, b], [c, d]]`` has the *first* measurement in rows
and the *second* in columns (row/column 0 = positive): ``a`` positive at both,
``b`` positive first only, ``c`` positive second only, ``d`` at neither. The
difference is ``p1 - p2 = (b - c) / n``. :func:`paired_table` builds it from
two outcome vectors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
from numpy.typing import ArrayLike
from scipy.stats import binom, chi2

from evalkit.errors import AnalysisError
from evalkit.stats._checks import as_float_array, as_table
from evalkit.stats.proportions import square_and_add, wilson_ci


def paired_table(first: ArrayLike, second: ArrayLike, *, weights: ArrayLike | None = None) -> np.ndarray:
    """Cross-tabulate two binary outcomes of the same respondents.

    Parameters
    ----------
    first, second : array_like of bool or 0/1 (NaN / pandas NA = missing)
        Outcome at the first and second measurement, aligned by respondent.
        Pairs missing at either measurement are left out.
    weights : array_like, optional, keyword-only
        One weight per pair; the table then holds sums of weights.

    Returns
    -------
    numpy.ndarray
        ``[[a, b], [c, d]]`` as floats (see the module docstring).

    Examples
    --------
    >>> paired_table([1, 1, 0, 0], [1, 0, 1, 1]).tolist()
    [[1.0, 1.0], [2.0, 0.0]]
    """
    x, y = as_float_array(first), as_float_array(second)
    w = np.ones_like(x) if weights is None else as_float_array(weights)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y, w = x[ok] > 0.5, y[ok] > 0.5, w[ok]
    return np.array([[w[x & y].sum(), w[x & ~y].sum()], [w[~x & y].sum(), w[~x & ~y].sum()]], dtype=float)


def mcnemar(table: ArrayLike) -> pd.DataFrame:
    """McNemar test for a paired 2x2 table: exact, mid-p and asymptotic.

    The headline p-value is the **mid-p** (``p_midp``), which Fagerland,
    Lydersen & Laake (2013) recommend over the exact conditional test (too
    conservative) and the asymptotic test (too liberal for small counts).
    With ``k = min(b, c)`` and ``X ~ Binomial(b + c, 1/2)``:
    ``p_exact = min(1, 2 P(X <= k))`` and
    ``p_midp = min(1, 2 P(X <= k) - P(X = k))`` -- the mid-p is computed from
    the *uncapped* doubled tail, so with ``b == c`` it is exactly 1 (the
    doubled tail exceeds 1 there, and capping it before subtracting
    ``P(X = k)`` would give values below 1 and a p-value that is not monotone
    in ``|b - c|``). Non-integer cells are rounded for the exact and mid-p.

    Parameters
    ----------
    table : array_like, shape (2, 2)
        ``[[a, b], [c, d]]``; only the discordant cells ``b`` and ``c`` enter.

    Returns
    -------
    pandas.DataFrame
        One row: ``n`` (pairs), ``b``, ``c``, ``chi2`` (``(b-c)^2/(b+c)``),
        ``chi2_cc`` (``max(|b-c|-1, 0)^2/(b+c)``, Edwards' continuity correction, never above ``chi2``),
        ``p_asymptotic``, ``p_asymptotic_cc``, ``p_exact``, ``p_midp``,
        ``note`` (why values are NaN, else empty). With no discordant pairs
        (``b + c = 0``) the chi-squared statistics are NaN and the exact and
        mid-p values are 1.

    References
    ----------
    McNemar Q (1947). Psychometrika 12:153-157.
    Fagerland MW, Lydersen S, Laake P (2013). The McNemar test for binary
    matched-pairs data: mid-p and asymptotic are better than exact
    conditional. BMC Medical Research Methodology 13:91.

    Examples
    --------
    >>> mcnemar([[59, 6], [16, 80]])[["p_exact", "p_midp"]].round(6).values.tolist()
    [[0.052479, 0.03469]]
    """
    t = as_table(table, what="mcnemar()")
    b, c = float(t[0, 1]), float(t[1, 0])
    n, s = float(t.sum()), b + c
    note = ""
    if s > 0:
        stat = (b - c) ** 2 / s
        stat_cc = max(abs(b - c) - 1, 0) ** 2 / s
        p_asym, p_asym_cc = float(chi2.sf(stat, 1)), float(chi2.sf(stat_cc, 1))
        bi, ci = int(round(b)), int(round(c))
        k, m = min(bi, ci), bi + ci
        p_exact = min(1.0, 2 * float(binom.cdf(k, m, 0.5)))
        # 2 P(X <= k) - P(X = k) = 2 P(X < k) + P(X = k), which is exactly 1 when b == c
        p_midp = 1.0 if bi == ci else min(1.0, 2 * float(binom.cdf(k - 1, m, 0.5)) + float(binom.pmf(k, m, 0.5)))
    else:
        stat = stat_cc = p_asym = p_asym_cc = np.nan
        p_exact = p_midp = 1.0 if n > 0 else np.nan
        note = "no discordant pairs: the chi-squared statistic is undefined" if n > 0 else "no pairs"
    return pd.DataFrame({"n": [n], "b": [b], "c": [c], "chi2": [stat], "chi2_cc": [stat_cc],
                         "p_asymptotic": [p_asym], "p_asymptotic_cc": [p_asym_cc], "p_exact": [p_exact],
                         "p_midp": [p_midp], "note": [note]})


def _corrected_phi(t: np.ndarray) -> float:
    """Newcombe's (1998b) corrected phi: ``max(ad - bc - n/2, 0)`` if ``ad > bc``, ``ad - bc`` if negative."""
    (a, b), (c, d) = t
    n = t.sum()
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    if denom <= 0:
        return 0.0
    num = a * d - b * c
    corrected = num - n / 2 if num > n / 2 else (num if num < 0 else 0.0)
    return float(corrected / np.sqrt(denom))


def newcombe_paired_ci(table: ArrayLike, *, alpha: float = 0.05) -> pd.DataFrame:
    """Newcombe's square-and-add interval for a paired difference of proportions.

    Method 10 of Newcombe (1998b): the Wilson intervals of the two marginal
    proportions combined by square-and-add, allowing for their correlation
    through the phi coefficient of the table with Newcombe's correction
    (numerator ``ad - bc - n/2`` when ``ad - bc > n/2``, 0 when
    ``0 <= ad - bc <= n/2``, ``ad - bc`` when negative; phi = 0 when a margin
    is empty).

    Parameters
    ----------
    table : array_like, shape (2, 2)
        ``[[a, b], [c, d]]``, first measurement in rows. Counts may be
        non-integer (weighted tables rescaled to the effective n).
    alpha : float, keyword-only
        Two-sided level; 0.05 gives a 95% interval.

    Returns
    -------
    pandas.DataFrame
        One row: ``n``, ``p1`` (``(a+b)/n``), ``p2`` (``(a+c)/n``),
        ``difference`` (``p1 - p2``), ``ci_low``, ``ci_high``, ``phi``,
        ``note``. All proportions are fractions (0-1). ``n = 0`` gives NaN.

    References
    ----------
    Newcombe RG (1998b). Improved confidence intervals for the difference
    between binomial proportions based on paired data. Statistics in Medicine
    17:2635-2650. Fagerland MW, Lydersen S, Laake P (2017). Statistical
    Analysis of Contingency Tables, chapter 8 (R package contingencytables,
    ``Newcombe_square_and_add_CI_paired_2x2``).

    Examples
    --------
    >>> newcombe_paired_ci([[59, 6], [16, 80]])[["difference", "ci_low", "ci_high"]].round(4).values.tolist()
    [[-0.0621, -0.1186, -0.0046]]
    """
    t = as_table(table, what="newcombe_paired_ci()")
    n = float(t.sum())
    if n <= 0:
        return pd.DataFrame({"n": [0.0], "p1": [np.nan], "p2": [np.nan], "difference": [np.nan],
                             "ci_low": [np.nan], "ci_high": [np.nan], "phi": [np.nan], "note": ["no pairs"]})
    x1, x2 = t[0].sum(), t[:, 0].sum()
    p1, p2 = x1 / n, x2 / n
    (l1, l2), (u1, u2) = wilson_ci([x1, x2], n, alpha=alpha)
    phi = _corrected_phi(t)
    lo, hi = square_and_add(p1, l1, u1, p2, l2, u2, phi=phi)
    return pd.DataFrame({"n": [n], "p1": [p1], "p2": [p2], "difference": [p1 - p2], "ci_low": [float(lo)],
                         "ci_high": [float(hi)], "phi": [phi], "note": [""]})


def wilcoxon_paired(x: ArrayLike, y: ArrayLike) -> pd.DataFrame:
    """Wilcoxon signed-rank test of ``x - y`` with the matched-pairs rank-biserial.

    Calls :func:`pingouin.wilcoxon` on the differences ``x - y`` (pingouin's
    common-language effect size needs an n-by-n matrix, so it is not
    computed; this keeps memory linear for a million pairs).

    Zero and tie handling, stated: ``zero_method="pratt"`` (Pratt 1959) --
    pairs with ``x == y`` are kept in the ranking of ``|x - y|`` (they take the
    lowest ranks) and then left out of the signed-rank sums, so a panel where
    many answers did not move is not treated as if only the movers had been
    asked. Wilcoxon's original rule (``zero_method="wilcox"``, zeros dropped
    before ranking) is reported alongside as ``p_value_wilcox``; with 29-46%
    of Likert pairs at zero the two can differ noticeably. Tied absolute
    differences get average ranks; the p-value uses the normal approximation
    with the tie-corrected variance and a continuity correction of 0.5
    (pingouin's default ``correction=True``; scipy's ``method="auto"`` has no
    exact distribution with zeros or ties, so it takes the approximation or,
    for at most 13 pairs, an exhaustive permutation).

    Parameters
    ----------
    x, y : array_like
        Paired observations (e.g. endline and baseline Likert levels); pairs
        with a NaN / NA in either are dropped.

    Returns
    -------
    pandas.DataFrame
        One row: ``n`` (complete pairs), ``n_nonzero`` (pairs with a
        difference), ``W`` (scipy's statistic under Pratt's ranking: the
        smaller of the positive and negative rank sums), ``p_value``
        (two-sided, Pratt), ``p_value_wilcox`` (two-sided, zeros dropped),
        ``rank_biserial``
        (Kerby 2014: ``(R+ - R-)/(R+ + R-)``, positive when ``x`` tends to be
        larger), ``note``.

    References
    ----------
    Wilcoxon F (1945). Biometrics Bulletin 1:80-83. Pratt JW (1959).
    Remarks on zeros and ties in the Wilcoxon signed rank procedures. JASA
    54:655-667. Kerby DS (2014). The
    simple difference formula. Comprehensive Psychology 3:11.IT.3.1.
    Vallat R (2018). Pingouin: statistics in Python. JOSS 3(31):1026.

    Examples
    --------
    >>> x = [20, 22, 19, 20, 22, 18, 24, 20, 19, 24, 26, 13]
    >>> y = [38, 37, 33, 29, 14, 12, 20, 22, 17, 25, 26, 16]
    >>> wilcoxon_paired(x, y)[["W", "p_value", "p_value_wilcox", "rank_biserial"]].round(6).values.tolist()
    [[24.5, 0.291992, 0.288086, -0.378788]]
    """
    a, b = as_float_array(x), as_float_array(y)
    if a.shape != b.shape:
        raise AnalysisError(f"wilcoxon_paired() needs x and y of the same length; got {a.size} and {b.size}.")
    ok = ~(np.isnan(a) | np.isnan(b))
    d = a[ok] - b[ok]
    n, n_nonzero = int(d.size), int(np.count_nonzero(d))
    out = {"n": n, "n_nonzero": n_nonzero, "W": np.nan, "p_value": np.nan, "p_value_wilcox": np.nan,
           "rank_biserial": np.nan, "note": ""}
    if n < 2:
        out["note"] = f"fewer than 2 complete pairs (n = {n})"
    elif n_nonzero == 0:
        out.update(p_value=1.0, p_value_wilcox=1.0, rank_biserial=0.0,
                   note="every pair has the same value at both waves")
    else:
        res = pg.wilcoxon(d, alternative="two-sided", zero_method="pratt", correction=True, method="auto")
        wil = pg.wilcoxon(d, alternative="two-sided", zero_method="wilcox", correction=True, method="auto")
        out.update(W=float(res["W_val"].iloc[0]), p_value=float(res["p_val"].iloc[0]),
                   p_value_wilcox=float(wil["p_val"].iloc[0]), rank_biserial=float(res["RBC"].iloc[0]))
    return pd.DataFrame({k: [v] for k, v in out.items()})
