"""Tests for evalkit.stats.verdicts: readings from the confidence interval (issue 15 point 7)."""

from __future__ import annotations

import math

import pytest

from evalkit.stats.verdicts import ci_reading


@pytest.mark.parametrize(("lo", "hi", "p", "expected"), [
    (0.22, 7.94, 0.041, ("increase", "up")),
    (-7.9, -0.2, 0.01, ("decrease", "down")),
    (0.22, 7.94, 0.49, ("increase, but not significant after correction for multiple comparisons", "none")),
    (0.22, 7.94, None, ("increase", "up")),  # no adjusted p: the interval alone
    (-0.66, 10.19, 0.66, ("no clear change: the data are compatible with anything from -0.7 to +10.2 pp", "none")),
    (0.0, 4.0, 0.04, ("no clear change: the data are compatible with anything from +0.0 to +4.0 pp", "none")),  # edge
    (math.nan, 4.0, 0.04, ("not enough data to test", "na")),
])
def test_ci_reading(lo, hi, p, expected):
    r = ci_reading(lo, hi, p_adjusted=p)
    assert (r.text, r.kind) == expected


def test_reading_agrees_with_an_independent_interval():
    """Reference: statsmodels' Newcombe interval (confint_proportions_2indep, method='newcomb') for
    54/100 vs 40/100 lies above zero, for 45/100 vs 40/100 contains zero."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = (100 * x for x in confint_proportions_2indep(54, 100, 40, 100, method="newcomb"))
    assert ci_reading(lo, hi).kind == "up"
    lo, hi = (100 * x for x in confint_proportions_2indep(45, 100, 40, 100, method="newcomb"))
    assert ci_reading(lo, hi).text.startswith("no clear change: the data are compatible with anything from -")
