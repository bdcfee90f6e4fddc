"""Design-based results.csv rows (evalkit.designbased via compare_indicators).

Reference: samplics 0.6 ``TaylorEstimator`` run by hand on the same respondents
(paired: the mean of the per-respondent difference on the matched pairs with
the baseline design; independent: each wave's estimate from its own design,
the two waves independent so the SE of the change is sqrt(se_b^2 + se_e^2)).
Tolerances: estimates 1e-6 (absolute, on fractions), standard errors 1e-4
(relative), as stated in the issue; the CI half-width is t(df) x SE.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as t_dist

from evalkit.compare import compare_indicators, compare_samples
from evalkit.sampling import Sampling

GROUPS = {"parent": 240, "staff": 90}
INDICATORS = {"knows": (0.40, 0.55), "agrees": (0.60, 0.70, ["parent"])}
EST_TOL, SE_REL = 1e-6, 1e-4


def _samplics_mean(y, w, h, c, domain=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam
        est = TaylorEstimator(PopParam.mean)
        est.estimate(y=y, samp_weight=w, stratum=h, psu=c, domain=domain)
    return est.point_est, est.stderror


def _with_design(r: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Strata and clusters for each respondent (fixed per respondent id, as a panel keeps its school)."""
    rng = np.random.default_rng(seed)
    ids = r["respondent_id"].unique()
    stratum = dict(zip(ids, rng.choice(["north", "south", "east"], len(ids))))
    cluster = {i: f"{stratum[i]}-{rng.integers(0, 8)}" for i in ids}
    weight = dict(zip(ids, rng.uniform(0.5, 3.0, len(ids))))
    out = r.assign(stratum=r["respondent_id"].map(stratum), cluster=r["respondent_id"].map(cluster),
                   weight=r["respondent_id"].map(weight))
    first = out["respondent_id"] == ids[0]
    return out.assign(cluster=np.where(first, "lonely-school", out["cluster"]))  # a cluster with one respondent


@pytest.fixture
def paired(make_responses, make_params):
    r = _with_design(make_responses(GROUPS, INDICATORS, likert=["agrees"], missing_rate=0.05, attrition=0.1,
                                    seed=11), 1)
    p = dataclasses.replace(make_params(design="paired"), sampling=Sampling(strata="design/h", cluster="design/c"))
    return r, p


@pytest.fixture
def independent(make_responses, make_params):
    r = _with_design(make_responses(GROUPS, INDICATORS, likert=["agrees"], design="independent",
                                    missing_rate=0.05, seed=12), 2)
    p = dataclasses.replace(make_params(design="independent"), sampling=Sampling(strata="design/h",
                                                                                  cluster="design/c"))
    return r, p


def _pairs(r: pd.DataFrame, group: str) -> pd.DataFrame:
    b = r[(r.wave == "baseline") & (r.group == group)].set_index("respondent_id")
    e = r[(r.wave == "endline") & (r.group == group)].set_index("respondent_id")
    return b.join(e[["knows"]].rename(columns={"knows": "knows_e"}), how="inner")


def test_paired_change_is_linearised_on_the_difference(paired):
    r, p = paired
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    row = res.loc[("knows", "parent")]
    # Reference: samplics on all matched pairs (both groups: the design is never subset), domain = parents answering.
    both = pd.concat([_pairs(r, g) for g in GROUPS])
    both = both.dropna(subset=["knows", "knows_e"])
    d = both["knows_e"].astype(float) - both["knows"].astype(float)
    est, se = _samplics_mean(d.to_numpy(), both["weight"].to_numpy(), both["stratum"].to_numpy(),
                             (both["stratum"] + "|" + both["cluster"]).to_numpy(), domain=both["group"].to_numpy())
    assert row["test"] == "design_t" and row["variance_method"] == "taylor"
    assert row["change_pp"] / 100 == pytest.approx(est["parent"], abs=EST_TOL)
    half = (row["ci_high_pp"] - row["ci_low_pp"]) / 200
    assert half / t_dist.ppf(0.975, row["design_df"]) == pytest.approx(se["parent"], rel=SE_REL)
    p_ref = 2 * t_dist.sf(abs(est["parent"] / se["parent"]), row["design_df"])
    assert row["p_value"] == pytest.approx(p_ref, rel=1e-4)
    assert row["n"] == (both["group"] == "parent").sum()
    assert row["deff"] > 0 and row["n_eff"] == pytest.approx(row["n"] / row["deff"])
    assert np.isnan(row["p_exact"])


def test_independent_change_is_difference_of_wave_estimates(independent):
    r, p = independent
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    row = res.loc[("knows", "all")]
    ests, ses = [], []
    for wave in ("baseline", "endline"):
        d = r[(r.wave == wave)].dropna(subset=["knows"])
        est, se = _samplics_mean(d["knows"].astype(float).to_numpy(), d["weight"].to_numpy(), d["stratum"].to_numpy(),
                                 (d["stratum"] + "|" + d["cluster"]).to_numpy())
        ests.append(est)
        ses.append(se)
    assert row["baseline_pct"] / 100 == pytest.approx(ests[0], abs=EST_TOL)
    assert row["endline_pct"] / 100 == pytest.approx(ests[1], abs=EST_TOL)
    assert row["change_pp"] / 100 == pytest.approx(ests[1] - ests[0], abs=EST_TOL)
    half = (row["ci_high_pp"] - row["ci_low_pp"]) / 200
    assert half / t_dist.ppf(0.975, row["design_df"]) == pytest.approx(np.hypot(ses[0], ses[1]), rel=SE_REL)
    assert row["test"] == "rao_scott_f" and 0 < row["p_value"] < 1
    assert row["n_clusters"] > 0 and row["n_strata"] == 6  # three strata per wave


def _results_with_shares(r, p, shares: dict[str, float]):
    """results.csv rows, indexed by indicator and group, with params sampling.population_shares set."""
    p = dataclasses.replace(p, sampling=dataclasses.replace(p.sampling, population_shares=shares))
    return compare_indicators(r, p).set_index(["indicator", "group"])


def test_population_shares_weight_the_pooled_row(paired):
    r, p = paired
    res = _results_with_shares(r, p, {"parent": 0.8, "staff": 0.2})
    g = [res.loc[("knows", x)] for x in ("parent", "staff")]
    for col in ("baseline_pct", "endline_pct", "change_pp"):
        assert res.loc[("knows", "all"), col] == pytest.approx(0.8 * g[0][col] + 0.2 * g[1][col], abs=1e-6)
    assert "population shares" in res.loc[("knows", "all"), "note"]
    # an indicator asked of one group only has no pooling to do: its all row equals the group row
    assert res.loc[("agrees", "all"), "change_pp"] == pytest.approx(res.loc[("agrees", "parent"), "change_pp"])


def test_unweighted_unclustered_keeps_exact_methods(make_responses, make_params):
    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], missing_rate=0.05, attrition=0.1, seed=11)
    res = compare_indicators(r, make_params(design="paired"))
    assert set(res["test"]) == {"mcnemar_midp"} and set(res["variance_method"]) == {"exact"}
    assert (res["deff"] == 1).all() and res["design_df"].isna().all()


def test_equal_weights_with_clusters_are_design_based(paired):
    r, p = paired
    res = compare_indicators(r.assign(weight=1.0), p)
    assert set(res["test"]) == {"design_t"} and not res["weighted"].any()


def test_weights_only_design_each_respondent_its_own_cluster(make_responses, make_params):
    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], design="independent", seed=4,
                       weight=lambda rng, n: rng.choice([1.0, 3.0], n))
    row = compare_indicators(r, make_params(design="independent")).set_index(["indicator", "group"]).loc[
        ("knows", "parent")]
    d = r[(r.wave == "baseline") & (r.group == "parent")].dropna(subset=["knows"])
    est, _ = _samplics_mean(d["knows"].astype(float).to_numpy(), d["weight"].to_numpy(), None, None)
    assert row["baseline_pct"] / 100 == pytest.approx(est, abs=EST_TOL)
    assert row["weighted"] and row["test"] == "rao_scott_f"
    assert row["n_clusters"] == len(r)  # both waves, every respondent its own cluster


def test_enumerator_as_cluster_is_stated(paired):
    r, p = paired
    p = dataclasses.replace(p, sampling=Sampling(cluster_kind="enumerator"))
    res = compare_indicators(r, p)
    assert res["note"].str.contains("enumerator used as cluster").all()


def test_lonely_psu_fail_is_an_error_naming_the_setting(paired):
    from evalkit.errors import AnalysisError

    r, p = paired
    r = r.assign(cluster=np.where(r["stratum"] == "south", "one-school", r["cluster"]))
    with pytest.raises(AnalysisError, match="sampling.lonely_psu"):
        compare_indicators(r, dataclasses.replace(p, sampling=dataclasses.replace(p.sampling, lonely_psu="fail")))
    res = compare_indicators(r, p)  # the default, adjust, runs and says so
    assert res["note"].str.contains("single cluster handled by lonely_psu: adjust").all()


def test_missing_design_column_says_rerun_cleaning(paired):
    from evalkit.errors import AnalysisError

    r, p = paired
    with pytest.raises(AnalysisError, match="re-run the cleaning notebook"):
        compare_indicators(r.drop(columns=["cluster"]), p)


def test_small_groups_are_still_suppressed(make_responses, make_params):
    r = _with_design(make_responses({"parent": 200, "staff": 6}, INDICATORS, likert=["agrees"], seed=3), 3)
    p = dataclasses.replace(make_params(design="paired"), sampling=Sampling(strata="design/h", cluster="design/c"))
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    assert res.loc[("knows", "staff"), "note"].startswith("suppressed")
    assert pd.isna(res.loc[("knows", "staff"), "deff"]) and pd.isna(res.loc[("knows", "staff"), "design_df"])


def test_compare_samples_uses_the_design_for_weights(make_responses):
    r = make_responses({"parent": 150}, {"knows": (0.4, 0.6)}, design="independent", seed=5,
                       weight=lambda rng, n: rng.uniform(0.5, 2, n))
    from conftest import build_params

    ind = build_params(design="independent").indicator("knows")
    row = compare_samples(r[r.wave == "baseline"], r[r.wave == "endline"], ind, ["parent"],
                          design="independent").iloc[0]
    assert row["variance_method"] == "taylor" and row["test"] == "rao_scott_f"


def test_population_shares_rescaled_when_a_group_has_no_answers(paired):
    r, p = paired
    r = r.assign(knows=r["knows"].where(r["group"] != "staff"))  # staff never answered 'knows'
    res = _results_with_shares(r, p, {"parent": 0.8, "staff": 0.2})
    assert res.loc[("knows", "all"), "change_pp"] == pytest.approx(res.loc[("knows", "parent"), "change_pp"],
                                                                  abs=1e-9)
    assert "no answers from staff" in res.loc[("knows", "all"), "note"]


def test_independent_population_shares_standardise_both_waves(independent):
    r, p = independent
    res = _results_with_shares(r, p, {"parent": 0.3, "staff": 0.7})
    g = [res.loc[("knows", x)] for x in ("parent", "staff")]
    for col in ("baseline_pct", "endline_pct", "change_pp"):
        assert res.loc[("knows", "all"), col] == pytest.approx(0.3 * g[0][col] + 0.7 * g[1][col], abs=1e-6)
    assert res.loc[("knows", "all"), "test"] == "design_t"


def test_no_variation_in_the_change_gives_no_test_and_says_why(paired):
    r, p = paired
    r = r.assign(knows=r["knows"].where(r["knows"].isna(), True))  # everyone knows at both waves: no change at all
    row = compare_indicators(r, p).set_index(["indicator", "group"]).loc[("knows", "parent")]
    assert row["change_pp"] == 0 and np.isnan(row["p_value"])
    assert "standard error of the change is 0" in row["note"]
