"""Simulation: the design-based paired test holds its nominal size when the change rate depends on the weight.

The issue's check found the old method (McNemar on the weighted table shrunk to
Kish's effective n) at 6.3-6.7% type I error for a nominal 5% when the share of
respondents who change answer rises with the weight. Here, under the null (in
every weight class a gain is as likely as a loss, so the weighted mean change is
0) and with that weight-dependent change rate, the design-based test of
evalkit.designbased (svy domain mean of the per-respondent difference, t test
on the design df) must reject at 5% within Monte Carlo error.

Fast (a few seconds): the replicates are stacked as strata of one design, 100 per
svy call (each replicate a domain in its own stratum, so its variance and
degrees of freedom are exactly those of a separate analysis; checked below on
two replicates). Seeded, so the figure is the same on every run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.designbased import _p_two_sided
from evalkit.stats.survey import SurveyDesign, domain_means, prepare_sample

N_PAIRS, REPLICATES, ALPHA = 200, 4000, 0.05


def _simulate(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = N_PAIRS * REPLICATES
    w = rng.lognormal(0.0, 0.8, n)  # unequal weights, Kish deff about 1.9
    rank = pd.Series(w).rank(pct=True).to_numpy()
    change = 0.05 + 0.40 * rank  # the share who change answer rises with the weight
    u = rng.random(n)
    d = np.where(u < change / 2, 1.0, np.where(u < change, -1.0, 0.0))  # gain as likely as loss: H0 holds
    return pd.DataFrame({"rep": np.repeat(np.arange(REPLICATES), N_PAIRS).astype(str), "weight": w, "d": d})


def _p_values(frame: pd.DataFrame) -> np.ndarray:
    prepared = prepare_sample(frame, ["d"], SurveyDesign(strata="rep"), labels=["rep"])
    m = domain_means(prepared, ["d"], by="rep", alpha=ALPHA)
    return np.array([_p_two_sided(e, s, df) for e, s, df in zip(m["estimate"], m["se"], m["df"])])


def test_stacked_replicates_equal_separate_analyses():
    frame = _simulate(1)
    two = frame[frame["rep"].isin(["0", "1"])]
    stacked = _p_values(two)
    separate = [_p_values(two[two["rep"] == r])[0] for r in ("0", "1")]
    assert stacked == pytest.approx(separate, rel=1e-9)


def test_weighted_paired_test_holds_its_size(capsys):
    frame = _simulate(20261203)
    chunk = frame["rep"].astype(int) // 100  # 100 replicates per svy call (svy's by= grows with levels x rows)
    p = np.concatenate([_p_values(part) for _k, part in frame.groupby(chunk, sort=True)])
    assert p.size == REPLICATES and not np.isnan(p).any()
    size = float((p < ALPHA).mean())
    mc_se = np.sqrt(ALPHA * (1 - ALPHA) / REPLICATES)  # 0.0034
    with capsys.disabled():
        print(f"\nsimulated type I error of the design-based paired test: {size:.4f} "
              f"(nominal {ALPHA}, Monte Carlo SE {mc_se:.4f}, {REPLICATES} replicates of {N_PAIRS} pairs)")
    assert abs(size - ALPHA) < 3 * mc_se  # within 3 Monte Carlo SE: [0.040, 0.060]
