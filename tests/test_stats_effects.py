"""Tests for evalkit.stats.effects: Cohen's h and odds ratios (tolerance 1e-10 unless stated)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_effectsize

from evalkit.errors import AnalysisError
from evalkit.stats import cohens_h, odds_ratio, paired_odds_ratio


@pytest.mark.parametrize("p1, p2", [(0.65, 0.45), (0.5, 0.5), (0.95, 0.8), (0.0, 1.0)])
def test_cohens_h_matches_statsmodels(p1, p2):
    # Independent implementation: statsmodels proportion_effectsize (Cohen 1988, chapter 6).
    assert cohens_h(p1, p2) == pytest.approx(proportion_effectsize(p1, p2), abs=1e-10)


def test_cohens_h_known_value_and_vectorised():
    # Cohen (1988), table 6.2.1: phi(0.50) = 1.5708, phi(0.30) = 1.1593 -> h = 0.4115.
    assert cohens_h(0.5, 0.3) == pytest.approx(0.4115, abs=1e-4)
    out = cohens_h(np.array([0.5, 0.3]), np.array([0.3, 0.5]))
    assert out.shape == (2,) and out[0] == pytest.approx(-out[1])


def test_odds_ratio_plain_and_haldane():
    # (56/14) / (48/32) = 4 / 1.5 = 2.6667 (Newcombe 1998a example counts).
    assert odds_ratio(56, 70, 48, 80) == pytest.approx(8 / 3)
    # A zero cell: Haldane (1956) adds 0.5 to every cell: (5.5/51.5) / (0.5/29.5).
    assert odds_ratio(5, 56, 0, 29) == pytest.approx((5.5 / 51.5) / (0.5 / 29.5))
    assert np.isnan(odds_ratio(0, 0, 3, 10))
    with pytest.raises(AnalysisError):
        odds_ratio(5, 4, 1, 2)


def test_paired_odds_ratio():
    # Agresti (2013), section 11.2.3: conditional OR = b / c = 150 / 86 = 1.744.
    assert paired_odds_ratio(150, 86) == pytest.approx(150 / 86)
    assert paired_odds_ratio(4, 0) == pytest.approx(4.5 / 0.5)  # Haldane
    assert np.isnan(paired_odds_ratio(0, 0))
    with pytest.raises(AnalysisError):
        paired_odds_ratio(-1, 2)


@given(st.floats(0, 1), st.floats(0, 1))
def test_cohens_h_antisymmetric_and_sign(p1, p2):
    h = cohens_h(p1, p2)
    assert h == pytest.approx(-cohens_h(p2, p1), abs=1e-12)
    assert np.sign(round(h, 12)) == np.sign(round(p1 - p2, 12)) or abs(p1 - p2) < 1e-9
