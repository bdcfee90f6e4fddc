"""Tests for evalkit.stats.paired: McNemar (exact, mid-p, asymptotic), Newcombe's
paired interval, Wilcoxon signed-rank. Tolerance 1e-4 unless stated."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from evalkit.errors import AnalysisError
from evalkit.stats import mcnemar, newcombe_paired_ci, paired_table, wilcoxon_paired

TOL = 1e-4
# Cavo et al. (2012) complete response before/after consolidation therapy, as tabulated
# in Fagerland, Lydersen & Laake (2017), Statistical Analysis of Contingency Tables,
# chapter 8, and their R package contingencytables (data `cavo_2012`).
CAVO = [[59, 6], [16, 80]]
# Agresti (1990), Categorical Data Analysis, table 10.1: presidential approval,
# first survey in rows, second in columns.
AGRESTI = [[794, 150], [86, 570]]


def test_newcombe_paired_cavo():
    # Fagerland et al. (2017) table 8.x / contingencytables::Newcombe_square_and_add_CI_paired_2x2(cavo_2012):
    # estimate -0.0621, 95% CI -0.1186 to -0.0046.
    r = newcombe_paired_ci(CAVO).iloc[0]
    assert r["difference"] == pytest.approx(-0.0621, abs=TOL)
    assert r["ci_low"] == pytest.approx(-0.1186, abs=TOL)
    assert r["ci_high"] == pytest.approx(-0.0046, abs=TOL)


def test_newcombe_paired_agresti():
    # Newcombe (1998b), Statistics in Medicine 17:2635-2650, worked example on Agresti's
    # approval data: 0.59 - 0.55 = 0.04, method 10 CI 0.0212 to 0.0587.
    r = newcombe_paired_ci(AGRESTI).iloc[0]
    assert (r["p1"], r["p2"]) == pytest.approx((0.59, 0.55), abs=1e-12)
    assert r["ci_low"] == pytest.approx(0.0212, abs=TOL)
    assert r["ci_high"] == pytest.approx(0.0587, abs=TOL)


def test_mcnemar_cavo_exact_midp_asymptotic():
    # Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, and contingencytables
    # on cavo_2012: exact conditional p 0.052479, mid-p 0.034690, asymptotic p 0.033006.
    r = mcnemar(CAVO).iloc[0]
    assert r["p_exact"] == pytest.approx(0.052479, abs=TOL)
    assert r["p_midp"] == pytest.approx(0.034690, abs=TOL)
    assert r["p_asymptotic"] == pytest.approx(0.033006, abs=TOL)


# Bentur et al. (2009) airway hyper-responsiveness before/after stem cell transplantation,
# Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, table 1 (b = 1, c = 7):
# asymptotic McNemar P = 0.034, exact conditional P = 0.070, mid-p P = 0.039 (their table 3).
BENTUR = [[1, 1], [7, 12]]


def test_mcnemar_bentur_published_values():
    r = mcnemar(BENTUR).iloc[0]
    assert r["p_asymptotic"] == pytest.approx(0.034, abs=5e-4)
    assert r["p_exact"] == pytest.approx(0.070, abs=5e-4)
    assert r["p_midp"] == pytest.approx(0.039, abs=5e-4)


def _midp_reference(b: int, c: int) -> float:
    """Fagerland et al. (2013), eq. for the McNemar mid-p: 2 [P(X < k) + P(X = k) / 2], capped at 1,
    with X ~ Bin(b + c, 1/2) and k = min(b, c); summed term by term from scipy.stats.binom.pmf."""
    k, m = min(b, c), b + c
    below = sum(scipy.stats.binom.pmf(x, m, 0.5) for x in range(k))
    return min(1.0, 2 * (below + 0.5 * scipy.stats.binom.pmf(k, m, 0.5)))


@pytest.mark.parametrize("b", range(0, 16))
def test_mcnemar_midp_every_small_table_matches_reference(b):
    for c in range(0, 16):
        if b + c == 0:
            continue
        got = mcnemar([[3, b], [c, 4]]).iloc[0]["p_midp"]
        assert got == pytest.approx(_midp_reference(b, c), abs=1e-12), (b, c)


@pytest.mark.parametrize("k", [1, 2, 4, 5, 10, 50])
def test_mcnemar_midp_is_one_when_discordant_cells_are_equal(k):
    # b == c: the doubled lower tail is P(X <= k) + P(X >= k) > 1 and the mid-p is exactly 1
    # (issue 15: b = c = 4 gave 0.727 and b = c = 1 gave 0.5, from capping before subtracting).
    r = mcnemar([[0, k], [k, 0]]).iloc[0]
    assert r["p_midp"] == 1.0 and r["p_exact"] == 1.0


def test_mcnemar_midp_is_monotone_in_the_imbalance():
    # For a fixed b, moving c away from b can only lower the p-value (issue 15: b = 5, c = 6
    # gave 0.774, more than b = c = 5's 0.754).
    for b in range(0, 20):
        ps = [mcnemar([[0, b], [c, 0]]).iloc[0]["p_midp"] for c in range(max(b, 1), 30)]
        assert all(later <= earlier + 1e-12 for earlier, later in zip(ps, ps[1:])), b
        assert all(p <= mcnemar([[0, b], [c, 0]]).iloc[0]["p_exact"] for c, p in zip(range(max(b, 1), 30), ps))


def test_mcnemar_agresti_statistic():
    # Agresti (1990), section 10.1.1: McNemar z^2 = 17.36; continuity-corrected 16.82.
    r = mcnemar(AGRESTI).iloc[0]
    assert r["chi2"] == pytest.approx(17.36, abs=0.005)
    assert r["chi2_cc"] == pytest.approx(16.82, abs=0.005)


@pytest.mark.parametrize("table", [CAVO, AGRESTI, [[3, 0], [7, 2]], [[10, 4], [5, 10]]])
def test_mcnemar_matches_statsmodels(table):
    # Independent implementation: statsmodels.stats.contingency_tables.mcnemar.
    r = mcnemar(table).iloc[0]
    assert r["p_exact"] == pytest.approx(sm_mcnemar(np.array(table), exact=True).pvalue, abs=1e-10)
    asym = sm_mcnemar(np.array(table), exact=False, correction=False)
    assert r["chi2"] == pytest.approx(asym.statistic, abs=1e-10)
    assert r["p_asymptotic"] == pytest.approx(asym.pvalue, abs=1e-10)
    cc = sm_mcnemar(np.array(table), exact=False, correction=True)
    assert r["p_asymptotic_cc"] == pytest.approx(cc.pvalue, abs=1e-10)


def test_mcnemar_continuity_correction_does_not_overshoot():
    # With b == c the corrected statistic is 0 (max(|b - c| - 1, 0)), not 1/(b + c) as
    # statsmodels' literal (|b - c| - 1)^2 would give: the correction never increases it.
    r = mcnemar([[10, 4], [4, 10]]).iloc[0]
    assert r["chi2_cc"] == 0 and r["p_asymptotic_cc"] == 1.0


def test_mcnemar_no_discordant_pairs_and_empty():
    r = mcnemar([[5, 0], [0, 5]]).iloc[0]
    assert r["p_midp"] == 1.0 and r["p_exact"] == 1.0 and np.isnan(r["chi2"]) and "discordant" in r["note"]
    e = mcnemar([[0, 0], [0, 0]]).iloc[0]
    assert np.isnan(e["p_midp"]) and e["note"] == "no pairs"
    n = newcombe_paired_ci([[0, 0], [0, 0]]).iloc[0]
    assert np.isnan(n["ci_low"]) and n["note"] == "no pairs"


@pytest.mark.parametrize("bad", [[[1, 2, 3], [4, 5, 6]], [[1, -1], [2, 3]], [[np.nan, 1], [2, 3]]])
def test_bad_tables_raise(bad):
    with pytest.raises(AnalysisError):
        mcnemar(bad)
    with pytest.raises(AnalysisError):
        newcombe_paired_ci(bad)


def test_paired_table_drops_incomplete_pairs_and_weights():
    first = [True, True, False, False, None]
    second = [True, False, True, True, True]
    assert paired_table(first, second).tolist() == [[1, 1], [2, 0]]
    assert paired_table(first, second, weights=[2, 1, 1, 3, 9]).tolist() == [[2, 1], [4, 0]]


def _pratt_normal_reference(d: np.ndarray) -> float:
    """Pratt (1959) signed-rank test, normal approximation written out: rank |d| with the zeros,
    T+ = sum of the ranks of positive d, E = sum(nonzero ranks)/2, Var = sum(nonzero ranks^2)/4
    (exact conditional variance, ties included), continuity correction 0.5 (Conover 1999, 5.7)."""
    r = scipy.stats.rankdata(np.abs(d))
    nz = d != 0
    dev = r[d > 0].sum() - r[nz].sum() / 2
    dev = np.sign(dev) * max(abs(dev) - 0.5, 0.0)
    return float(2 * scipy.stats.norm.sf(abs(dev) / np.sqrt((r[nz] ** 2).sum() / 4)))


def test_wilcoxon_pingouin_docstring_vector():
    # pingouin.wilcoxon docstring (v0.7), zeros dropped: W = 20.5, p = 0.288086, RBC = -0.378788.
    x = [20, 22, 19, 20, 22, 18, 24, 20, 19, 24, 26, 13]
    y = [38, 37, 33, 29, 14, 12, 20, 22, 17, 25, 26, 16]
    r = wilcoxon_paired(x, y).iloc[0]
    assert r["p_value_wilcox"] == pytest.approx(0.288086, abs=TOL)
    assert r["rank_biserial"] == pytest.approx(-0.378788, abs=TOL)
    assert (r["n"], r["n_nonzero"]) == (12, 11)
    # Headline is Pratt: scipy.stats.wilcoxon(zero_method="pratt") gives W = 24.5, p = 0.291992
    # (exhaustive permutation for 12 pairs).
    ref = scipy.stats.wilcoxon(x, y, zero_method="pratt")
    assert r["W"] == pytest.approx(24.5) and r["p_value"] == pytest.approx(ref.pvalue, abs=1e-10)
    assert r["p_value"] == pytest.approx(0.291992, abs=TOL)


def test_wilcoxon_large_likert_uses_pratt_tie_corrected_normal_approximation():
    rng = np.random.default_rng(3)
    x, y = rng.integers(1, 6, 2000), rng.integers(1, 6, 2000)
    r = wilcoxon_paired(x, y).iloc[0]
    # Independent: the formula written out above; and scipy with the same options.
    assert r["p_value"] == pytest.approx(_pratt_normal_reference(x - y), rel=1e-9)
    ref = scipy.stats.wilcoxon(x, y, zero_method="pratt", correction=True, method="asymptotic")
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    wil = scipy.stats.wilcoxon(x, y, zero_method="wilcox", correction=True, method="asymptotic")
    assert r["p_value_wilcox"] == pytest.approx(wil.pvalue, rel=1e-9)


def test_wilcoxon_many_zeros_pratt_differs_from_dropping_them():
    # 40% of pairs unchanged (like the Likert panels): the zeros take the lowest ranks, so the
    # movers' ranks and the variance change; Pratt's p is the one reported.
    d = np.array([0] * 40 + [1] * 30 + [-1] * 15 + [2] * 10 + [-2] * 5)
    r = wilcoxon_paired(d, np.zeros_like(d)).iloc[0]
    assert r["p_value"] == pytest.approx(_pratt_normal_reference(d), rel=1e-9)
    assert r["p_value"] != pytest.approx(r["p_value_wilcox"], rel=1e-3)


def test_wilcoxon_undefined_cases_give_nan_with_note():
    r = wilcoxon_paired([1.0], [2.0]).iloc[0]
    assert np.isnan(r["p_value"]) and "fewer than 2" in r["note"]
    same = wilcoxon_paired([3, 4, 5], [3, 4, 5]).iloc[0]
    assert same["p_value"] == 1.0 and same["note"]
    na = wilcoxon_paired([1, np.nan, 3, 4], [2, 2, np.nan, 1]).iloc[0]
    assert na["n"] == 2


tables = st.lists(st.integers(0, 60), min_size=4, max_size=4).filter(lambda v: sum(v) > 0)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_properties_paired(v):
    t = np.array(v, dtype=float).reshape(2, 2)
    ci = newcombe_paired_ci(t).iloc[0]
    assert ci["ci_low"] - 1e-12 <= ci["difference"] <= ci["ci_high"] + 1e-12
    assert -1 - 1e-12 <= ci["ci_low"] and ci["ci_high"] <= 1 + 1e-12
    # swapping the waves (transposing the table) negates the difference and the interval
    sw = newcombe_paired_ci(t.T).iloc[0]
    assert sw["difference"] == pytest.approx(-ci["difference"], abs=1e-12)
    assert (sw["ci_low"], sw["ci_high"]) == pytest.approx((-ci["ci_high"], -ci["ci_low"]), abs=1e-12)
    m = mcnemar(t).iloc[0]
    for p in ("p_exact", "p_midp"):
        assert 0 <= m[p] <= 1
    assert m["p_midp"] <= m["p_exact"] + 1e-12
    assert mcnemar(t.T).iloc[0]["p_midp"] == pytest.approx(m["p_midp"], abs=1e-12)
