"""Survey weights: weighted percentages, Kish's design effect and effective n."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evalkit.errors import AnalysisError
from evalkit.stats._checks import as_float_array


def _weights(w: ArrayLike) -> np.ndarray:
    arr = as_float_array(w)
    arr = arr[~np.isnan(arr)]
    if (arr < 0).any() or np.isinf(arr).any():
        raise AnalysisError("Weights must be finite and non-negative; check the 'weight' column of "
                            "responses.parquet.")
    return arr


def kish_deff(weights: ArrayLike) -> float:
    """Kish's design effect due to unequal weights: ``n sum(w^2) / sum(w)^2``.

    Parameters
    ----------
    weights : array_like
        One weight per respondent (NaN ignored).

    Returns
    -------
    float
        1 for equal weights, larger for unequal ones; NaN when there are no
        weights or they sum to 0.

    References
    ----------
    Kish L (1965). Survey Sampling. Wiley, section 11.7.

    Examples
    --------
    >>> kish_deff([1, 1, 2, 4])
    1.375
    """
    w = _weights(weights)
    s = w.sum()
    return float(w.size * (w**2).sum() / s**2) if s > 0 else float("nan")


def effective_n(weights: ArrayLike) -> float:
    """Kish's effective sample size ``sum(w)^2 / sum(w^2)`` (= n / deff).

    Examples
    --------
    >>> round(effective_n([1, 1, 2, 4]), 4)
    2.9091
    """
    w = _weights(weights)
    s2 = (w**2).sum()
    return float(w.sum() ** 2 / s2) if s2 > 0 else float("nan")


def weighted_pct(outcome: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Weighted percentage of positive outcomes, ignoring missing ones.

    Parameters
    ----------
    outcome : array_like of bool / 0-1 (NaN or pandas NA = missing)
    weights : array_like, optional
        Same length; ``None`` means equal weights.

    Returns
    -------
    float
        ``100 * sum(w y) / sum(w)`` over respondents with an answer; NaN if
        there are none.

    Examples
    --------
    >>> weighted_pct([True, False, True, None], [1, 3, 1, 5])
    40.0
    """
    y = as_float_array(outcome)
    w = np.ones_like(y) if weights is None else as_float_array(weights)
    if w.shape != y.shape:
        raise AnalysisError(f"weighted_pct() needs one weight per answer; got {w.size} weights and {y.size} answers.")
    ok = ~(np.isnan(y) | np.isnan(w))
    s = w[ok].sum()
    return float(100 * (w[ok] * y[ok]).sum() / s) if s > 0 else float("nan")


def weights_vary(weights: ArrayLike) -> bool:
    """True when the known (non-NaN) weights are not all equal: the sample is weighted.

    Examples
    --------
    >>> weights_vary([1.0, 1.0, float("nan")]), weights_vary([1.0, 2.0])
    (False, True)
    """
    w = np.asarray(weights, dtype=float)
    w = w[~np.isnan(w)]
    return w.size > 1 and float(np.ptp(w)) > 1e-12
