"""Plain-language reading of a change from its confidence interval.

A reading says what the data can tell: an increase (the interval lies above
zero), a decrease (below zero), or no clear change, with the range of
changes the data are compatible with. The minimum detectable effect is a
planning figure for the next survey, not a verdict: a survey whose interval
reaches +10.2 pp cannot rule out a change larger than its MDE, so "smaller
than this survey can detect" is never a reading.

The direction comes from the interval; the multiplicity-adjusted p-value
only qualifies it: an interval that excludes zero while the family-adjusted
test is not significant reads "increase, but not significant after
correction for multiple comparisons".
"""

from __future__ import annotations

import math
from typing import NamedTuple

#: Reading kinds (for styling and counting).
UP, DOWN, NONE, NA = "up", "down", "none", "na"


class CIReading(NamedTuple):
    """What the interval of a change says.

    Attributes
    ----------
    code : str
        ``increase``, ``decrease``, ``increase_uncorrected`` /
        ``decrease_uncorrected`` (the CI excludes zero but the
        family-adjusted test is not significant), ``no_clear_change`` or
        ``no_data``; a report translates the sentence from it.
    kind : str
        ``up``, ``down``, ``none`` or ``na`` (styling and counting).
    text : str
        The reading in English.
    low, high : float
        The interval (pp), NaN without one.
    """

    code: str
    kind: str
    text: str
    low: float
    high: float


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def ci_reading(ci_low: float | None, ci_high: float | None, *, p_adjusted: float | None = None,
               alpha: float = 0.05) -> CIReading:
    """Read a change (pp) from its confidence interval.

    Parameters
    ----------
    ci_low, ci_high : float or None
        The interval of the change in percentage points (NaN/None: none).
    p_adjusted : float or None, keyword-only
        The test's p-value adjusted within its family (Holm); None or NaN:
        no qualification.
    alpha : float, keyword-only
        Significance level of the adjusted test.

    Returns
    -------
    CIReading
        ``code``, ``kind`` (``up``: increase, significant after correction;
        ``down``; ``none``: no clear change, or a direction not significant
        after correction; ``na``: no interval), the English ``text`` and the
        interval.

    References
    ----------
    Altman DG, Bland JM (1995). Absence of evidence is not evidence of
    absence. BMJ 311:485. Hoenig JM, Heisey DM (2001). The abuse of power:
    the pervasive fallacy of power calculations for data analysis. The
    American Statistician 55:19-24 (why a post-hoc MDE is no verdict).

    Examples
    --------
    >>> ci_reading(2.1, 9.9, p_adjusted=0.01)[:3]
    ('increase', 'up', 'increase')
    >>> ci_reading(-0.66, 10.19).text
    'no clear change: the data are compatible with anything from -0.7 to +10.2 pp'
    """
    if _missing(ci_low) or _missing(ci_high):
        return CIReading("no_data", NA, "not enough data to test", math.nan, math.nan)
    lo, hi = float(ci_low), float(ci_high)
    if lo > 0 or hi < 0:
        direction, kind = ("increase", UP) if lo > 0 else ("decrease", DOWN)
        if not _missing(p_adjusted) and float(p_adjusted) >= alpha:
            return CIReading(f"{direction}_uncorrected", NONE,
                             f"{direction}, but not significant after correction for multiple comparisons", lo, hi)
        return CIReading(direction, kind, direction, lo, hi)
    return CIReading("no_clear_change", NONE,
                     f"no clear change: the data are compatible with anything from {lo:+.1f} to {hi:+.1f} pp", lo, hi)
