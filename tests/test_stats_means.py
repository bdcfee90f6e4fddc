"""evalkit.stats.means against statsmodels, scipy and textbook formulas, with the edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from evalkit.stats.means import mean_change, median_change

RNG = np.random.default_rng(2022)
X = RNG.normal(10, 2, 40)
Y = X - RNG.normal(0.8, 1.5, 40)


def test_paired_mean_matches_statsmodels():
    row = mean_change(X, Y, paired=True).iloc[0]
    d = DescrStatsW(X - Y)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(d.tconfint_mean(alpha=0.05), rel=1e-10)
    assert row["p_value"] == pytest.approx(d.ttest_mean(0)[1], rel=1e-10)
    assert row["diff"] == pytest.approx(np.mean(X - Y), abs=1e-12)


def test_independent_mean_is_welch_as_statsmodels():
    x, y = X[:25], Y[5:] + 1
    row = mean_change(x, y, paired=False).iloc[0]
    cm = CompareMeans.from_data(x, y)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(cm.tconfint_diff(usevar="unequal"), rel=1e-10)
    assert row["p_value"] == pytest.approx(cm.ttest_ind(usevar="unequal")[1], rel=1e-10)
    assert row["df"] == pytest.approx(cm.ttest_ind(usevar="unequal")[2], rel=1e-10)


def test_missing_values_are_left_out_pairwise_or_per_sample():
    x = np.array([1.0, np.nan, 3.0, 4.0, 6.0])
    y = np.array([0.0, 2.0, np.nan, 1.0, 2.0])
    assert mean_change(x, y, paired=True).iloc[0]["n1"] == 3
    row = mean_change(x, y, paired=False).iloc[0]
    assert (row["n1"], row["n2"]) == (4, 4)


@pytest.mark.parametrize("x, y, note", [
    ([], [], "fewer than 2"),
    ([3.0], [1.0], "fewer than 2"),
    ([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], "no variation"),  # every difference is 1
])
def test_paired_edges_give_nan_and_a_note(x, y, note):
    row = mean_change(x, y, paired=True).iloc[0]
    assert np.isnan(row["p_value"]) and np.isnan(row["ci_low"]) and note in row["note"]


def test_independent_all_ties_give_nan_and_a_note():
    row = mean_change([2.0, 2.0, 2.0], [2.0, 2.0], paired=False).iloc[0]
    assert row["diff"] == 0 and np.isnan(row["p_value"]) and "no variation" in row["note"]


def test_paired_median_interval_is_the_sign_test_order_statistic_interval():
    # Conover (1999) section 3.2: [d_(k), d_(n+1-k)], k the largest with P(Bin(n, 1/2) <= k - 1) <= alpha / 2
    d = np.sort(X - Y)
    n = len(d)
    k = max(j for j in range(1, n // 2 + 1) if sps.binom.cdf(j - 1, n, 0.5) <= 0.025)
    row = median_change(X, Y, paired=True).iloc[0]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((d[k - 1], d[n - k]), abs=1e-12)
    assert row["diff"] == pytest.approx(np.median(d), abs=1e-12)


def test_independent_median_bootstrap_agrees_with_the_large_sample_interval():
    # Normal samples: the median's asymptotic standard error is sqrt(pi / 2) * sigma / sqrt(n)
    # (Kendall & Stuart, "The Advanced Theory of Statistics", vol. 1, 10.10); the percentile bootstrap
    # interval of the difference must be close to diff +/- 1.96 * sqrt(se1^2 + se2^2) (tolerance: 15% of its width).
    rng = np.random.default_rng(7)
    x, y = rng.normal(5, 2, 800), rng.normal(4, 3, 600)
    row = median_change(x, y, paired=False).iloc[0]
    se = np.sqrt(np.pi / 2 * (4 / 800 + 9 / 600))
    half = 1.959964 * se
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * half, rel=0.15)
    mid = (row["ci_high"] + row["ci_low"]) / 2
    assert mid == pytest.approx(row["diff"], abs=0.15 * 2 * half)


def test_bootstrap_is_the_same_on_every_run():
    a = median_change(X[:20], Y[:15], paired=False)
    b = median_change(X[:20], Y[:15], paired=False)
    pd.testing.assert_frame_equal(a, b)


def test_median_edges():
    row = median_change([1.0], [2.0], paired=True).iloc[0]
    assert row["diff"] == -1 and np.isnan(row["ci_low"]) and "fewer than 2" in row["note"]
    row = median_change([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], paired=True).iloc[0]  # all differences zero
    assert row["diff"] == 0
    row = median_change([], [1.0, 2.0], paired=False).iloc[0]
    assert np.isnan(row["diff"]) and "fewer than 2" in row["note"]
