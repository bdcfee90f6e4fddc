"""Building blocks for proportions: the Wilson score interval and Newcombe's
square-and-add combination of two single-proportion intervals.

Both are vectorised (they accept arrays) and accept non-integer counts, which
:mod:`evalkit.compare` uses for weighted data rescaled to the effective sample
size.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm


def z_value(alpha: float) -> float:
    """Two-sided standard normal quantile ``z_{1 - alpha/2}`` (1.959964 for 0.05)."""
    return float(norm.ppf(1 - alpha / 2))


def wilson_ci(count: ArrayLike, nobs: ArrayLike, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion.

    Parameters
    ----------
    count, nobs : array_like
        Number of successes and of trials (may be non-integer). ``nobs == 0``
        gives NaN.
    alpha : float, keyword-only
        Two-sided level; 0.05 gives a 95% interval.

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        Lower and upper limits, in [0, 1]; exactly 0 (1) when
        ``count`` is 0 (equal to ``nobs``).

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22:209-212. Newcombe RG (1998), Statistics in
    Medicine 17:857-872, method 3.

    Examples
    --------
    >>> low, high = wilson_ci(81, 263)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2553, 0.3662)
    """
    x = np.asarray(count, dtype=float)
    n = np.asarray(nobs, dtype=float)
    z = z_value(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    # At x = 0 (x = n) the lower (upper) limit is exactly 0 (1); the formula
    # gives it only up to rounding (0.9999999999999999).
    low, high = np.where(x == 0, 0.0, low), np.where(x == n, 1.0, high)
    return low, high


def square_and_add(p1: ArrayLike, low1: ArrayLike, high1: ArrayLike, p2: ArrayLike, low2: ArrayLike,
                   high2: ArrayLike, *, phi: ArrayLike = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's square-and-add (MOVER) interval for ``p1 - p2``.

    Parameters
    ----------
    p1, low1, high1 : array_like
        First proportion and its (Wilson) limits.
    p2, low2, high2 : array_like
        Second proportion and its limits.
    phi : array_like, keyword-only
        Correlation between the two estimates: 0 for independent samples
        (Newcombe 1998a, method 10); the corrected phi coefficient of the
        paired table for paired data (Newcombe 1998b, method 10).

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        Limits for ``p1 - p2``.

    References
    ----------
    Newcombe RG (1998a). Interval estimation for the difference between
    independent proportions. Statistics in Medicine 17:873-890.
    Newcombe RG (1998b). Improved confidence intervals for the difference
    between binomial proportions based on paired data. Statistics in
    Medicine 17:2635-2650.
    """
    p1, l1, u1, p2, l2, u2, ph = (np.asarray(v, dtype=float) for v in (p1, low1, high1, p2, low2, high2, phi))
    d = p1 - p2
    lo = d - np.sqrt(np.maximum((p1 - l1) ** 2 - 2 * ph * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    hi = d + np.sqrt(np.maximum((p2 - l2) ** 2 - 2 * ph * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0.0))
    return lo, hi
