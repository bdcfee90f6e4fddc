"""Tests for evalkit.stats.weights: Kish design effect, effective n, weighted percentages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.errors import AnalysisError
from evalkit.stats import effective_n, kish_deff, weighted_pct


def test_kish_vector():
    # Kish (1965), section 11.7: deff = n sum(w^2) / sum(w)^2 = 4 * 22 / 64 = 1.375;
    # n_eff = 64 / 22 = 2.9091.
    assert kish_deff([1, 1, 2, 4]) == pytest.approx(1.375, abs=1e-4)
    assert effective_n([1, 1, 2, 4]) == pytest.approx(2.9091, abs=1e-4)


def test_equal_weights_and_degenerate():
    assert kish_deff([2.5] * 7) == pytest.approx(1.0)
    assert effective_n([2.5] * 7) == pytest.approx(7.0)
    assert np.isnan(kish_deff([])) and np.isnan(effective_n([0, 0]))
    with pytest.raises(AnalysisError):
        kish_deff([1, -1])


def test_weighted_pct():
    # (1 + 1) / (1 + 3 + 1) = 40%: the missing answer and its weight are left out.
    assert weighted_pct([True, False, True, None], [1, 3, 1, 5]) == pytest.approx(40.0)
    assert weighted_pct(pd.array([True, pd.NA, False], dtype="boolean")) == pytest.approx(50.0)
    assert np.isnan(weighted_pct([None, None], [1, 1]))
    with pytest.raises(AnalysisError):
        weighted_pct([True], [1, 2])


@given(st.lists(st.floats(0.01, 100), min_size=1, max_size=50))
def test_deff_at_least_one(w):
    assert kish_deff(w) >= 1 - 1e-12
    assert effective_n(w) == pytest.approx(len(w) / kish_deff(w), rel=1e-9)
