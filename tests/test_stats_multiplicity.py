"""Tests for evalkit.stats.multiplicity: Holm and Benjamini-Hochberg, against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from evalkit.errors import AnalysisError
from evalkit.stats import benjamini_hochberg, holm

P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04]


def test_holm_matches_statsmodels_holm_not_default():
    # Reference: statsmodels multipletests(method="holm"); its default is Holm-Sidak.
    ref = multipletests(P, method="holm")[1]
    assert holm(P) == pytest.approx(ref, abs=1e-12)
    assert not np.allclose(holm(P), multipletests(P)[1])


def test_bh_matches_statsmodels_fdr_bh():
    ref = multipletests(P, method="fdr_bh")[1]
    assert benjamini_hochberg(P) == pytest.approx(ref, abs=1e-12)


def test_small_worked_example():
    # Holm (1979): sorted 0.01, 0.03, 0.04 -> 3*0.01, 2*0.03, max(0.06, 1*0.04).
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    # BH (1995): 3*0.01/1, 3*0.03/2 = 0.045 -> min with 0.04, 0.04.
    assert benjamini_hochberg([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.04, 0.04])


def test_nan_excluded_and_kept():
    p = [0.01, np.nan, 0.04, 0.03]
    out = holm(p)
    assert np.isnan(out[1])
    assert out[[0, 2, 3]] == pytest.approx(holm([0.01, 0.04, 0.03]))
    assert np.isnan(benjamini_hochberg(p)[1])
    assert holm([]).size == 0 and np.isnan(holm([np.nan])).all()


def test_out_of_range_raises():
    with pytest.raises(AnalysisError):
        holm([0.5, 1.2])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_properties(p):
    arr = np.array(p)
    h, q = holm(arr), benjamini_hochberg(arr)
    assert (h >= arr - 1e-15).all() and (h <= 1).all()
    assert (q >= arr - 1e-15).all() and (q <= h + 1e-12).all()


@settings(max_examples=25, deadline=None)  # multipletests takes ~50 ms a call
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_random_inputs_match_statsmodels(p):
    arr = np.array(p)
    assert holm(arr) == pytest.approx(multipletests(arr, method="holm")[1], abs=1e-12)
    assert benjamini_hochberg(arr) == pytest.approx(multipletests(arr, method="fdr_bh")[1], abs=1e-12)
