"""Tests for evalkit.stats.power: minimum detectable effects (MDE)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2, norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from evalkit.stats import mde_pp_independent, mde_pp_paired


@pytest.mark.parametrize("p0, n1, n2", [(0.45, 400, 400), (0.8, 250, 300), (0.1, 1000, 900), (0.5, 120, 80)])
def test_independent_mde_matches_statsmodels_normalindpower(p0, n1, n2):
    # Independent solution: statsmodels NormalIndPower.solve_power for Cohen's h at power 0.8,
    # alpha 0.05 (it also counts the far tail, negligible here), converted back to pp.
    h = NormalIndPower().solve_power(effect_size=None, nobs1=n1, ratio=n2 / n1, alpha=0.05, power=0.8)
    mde = mde_pp_independent(p0, n1, n2)
    p1 = p0 + mde / 100 if p0 <= 0.5 else p0 - mde / 100
    assert abs(proportion_effectsize(p1, p0)) == pytest.approx(h, abs=1e-4)


def test_independent_mde_scales_with_deff_and_is_conservative_direction():
    base = mde_pp_independent(0.3, 500, 500)
    # deff 2 halves the effective sizes: same as n = 250 per wave.
    assert mde_pp_independent(0.3, 500, 500, deff=2.0) == pytest.approx(mde_pp_independent(0.3, 250, 250))
    assert mde_pp_independent(0.3, 500, 500, deff=2.0) > base
    # symmetric around 50%
    assert mde_pp_independent(0.3, 500, 500) == pytest.approx(mde_pp_independent(0.7, 500, 500))
    assert math.isnan(mde_pp_independent(0.3, 0, 500)) and math.isnan(mde_pp_independent(float("nan"), 9, 9))


def _mcnemar_power(delta, psi, n, alpha=0.05):
    # Connor (1987) eq. 3: power of the asymptotic McNemar test.
    za = norm.ppf(1 - alpha / 2)
    return norm.cdf((math.sqrt(n) * delta - za * math.sqrt(psi)) / math.sqrt(psi - delta**2))


@pytest.mark.parametrize("n, psi", [(300, 0.2), (1000, 0.1), (150, 0.35)])
def test_paired_mde_solves_connor_power_equation(n, psi):
    delta = mde_pp_paired(n, discordant=psi) / 100
    assert _mcnemar_power(delta, psi, n) == pytest.approx(0.8, abs=1e-9)


def test_paired_mde_monte_carlo_power():
    # Seeded simulation of the asymptotic McNemar test at the MDE: power should be ~0.8.
    rng = np.random.default_rng(2026)
    n, psi = 400, 0.25
    delta = mde_pp_paired(n, discordant=psi) / 100
    probs = [(psi + delta) / 2, (psi - delta) / 2, 1 - psi]  # gained, lost, unchanged
    draws = rng.multinomial(n, probs, size=20000)
    b, c = draws[:, 0], draws[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = (b - c) ** 2 / (b + c)
    power = float(np.mean(chi2.sf(stat, 1) < 0.05))
    assert power == pytest.approx(0.8, abs=0.02)


def test_paired_mde_fallback_and_undefined():
    # Planning (no data yet): assume independence, psi = 2 p0 (1 - p0).
    assert mde_pp_paired(300, baseline_p=0.4) == pytest.approx(mde_pp_paired(300, discordant=2 * 0.4 * 0.6))
    assert math.isnan(mde_pp_paired(300, baseline_p=1.0))
    # Observed: no pair changed. Issue 15: 40 stable pairs got the independent formula's
    # ~30 pp; the data carry no discordance to base an MDE on, so it is NaN.
    assert mde_pp_paired(40, baseline_p=0.5) > 25
    assert math.isnan(mde_pp_paired(40, discordant=0.0, baseline_p=0.5))
    assert math.isnan(mde_pp_paired(300, discordant=0.0, baseline_p=0.4))
    assert math.isnan(mde_pp_paired(3, discordant=0.5))
    assert mde_pp_paired(300, discordant=0.2, deff=2) == pytest.approx(mde_pp_paired(150, discordant=0.2))
