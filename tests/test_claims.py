"""Tests for evalkit.claims: verdicts for published figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.claims import CLAIM_COLUMNS, claim_estimates_within, evaluate_claims
from evalkit.compare import compare_indicators, compare_samples
from evalkit.params import load_params

CONTRACT = ("claim_id", "text", "indicator", "group", "kind", "published", "estimate", "ci_low", "ci_high",
            "verdict", "note")


def _claim(cid, kind, indicator="knows", group="parent", **kw):
    return {"id": cid, "text": f"claim {cid}", "indicator": indicator, "group": group, "kind": kind, **kw}


@pytest.fixture
def stage(make_responses, make_params):
    """A paired stage where knows rises 40% -> 60% and agrees stays at 50%."""
    r = make_responses({"parent": 400, "staff": 60}, {"knows": (0.40, 0.60), "agrees": (0.50, 0.50)},
                       likert=["agrees"], seed=11)

    def run(claims, other=None):
        p = make_params(design="paired", claims=claims)
        res = compare_indicators(r, p)
        return evaluate_claims(p, res, r, other_responses=other), res

    return r, run


def test_contract_columns(stage):
    _, run = stage
    out, _ = run([_claim("A", "change_pp", value=20)])
    assert tuple(out.columns[: len(CONTRACT)]) == CONTRACT and tuple(out.columns) == CLAIM_COLUMNS


def test_change_pp_in_and_out_of_ci(stage):
    _, run = stage
    out, res = run([_claim("IN", "change_pp", value=20), _claim("OUT", "change_pp", value=2)])
    row = res.set_index(["indicator", "group"]).loc[("knows", "parent")]
    v = out.set_index("claim_id")
    assert v.loc["IN", "estimate"] == pytest.approx(row["change_pp"])
    assert (v.loc["IN", "ci_low"], v.loc["IN", "ci_high"]) == pytest.approx((row["ci_low_pp"], row["ci_high_pp"]))
    assert v.loc["IN", "verdict"] == "consistent" and "inside" in v.loc["IN", "note"]
    assert v.loc["OUT", "verdict"] == "not consistent" and "outside" in v.loc["OUT", "note"]


def test_wave_percentages_use_wilson_ci(stage):
    _, run = stage
    out, res = run([_claim("E", "endline_pct", value=60), _claim("B", "baseline_pct", value=80)])
    row = res.set_index(["indicator", "group"]).loc[("knows", "parent")]
    v = out.set_index("claim_id")
    assert v.loc["E", "estimate"] == pytest.approx(row["endline_pct"])
    assert v.loc["E", "ci_low"] == pytest.approx(row["endline_ci_low_pct"])
    assert v.loc["E", "verdict"] == "consistent"
    assert v.loc["B", "verdict"] == "not consistent" and v.loc["B", "part"] == "baseline"


def test_baseline_endline_gives_two_rows_with_one_verdict(stage):
    _, run = stage
    out, _ = run([_claim("BOTH", "baseline_endline_pct", group="all", baseline=40, endline=60),
                  _claim("HALF", "baseline_endline_pct", group="all", baseline=40, endline=90)])
    both, half = out[out.claim_id == "BOTH"], out[out.claim_id == "HALF"]
    assert both["part"].tolist() == ["baseline", "endline"] and both["published"].tolist() == [40, 60]
    assert (both["verdict"] == "consistent").all()
    assert (half["verdict"] == "not consistent").all()
    assert "inside" in half["note"].iloc[0] and "outside" in half["note"].iloc[1]


def test_increase_verdicts(stage, make_responses):
    r, run = stage
    out, _ = run([_claim("UP", "increase"), _claim("FLAT", "increase", indicator="agrees")])
    v = out.set_index("claim_id")
    assert np.isnan(v.loc["UP", "published"]) and v.loc["UP", "verdict"] == "consistent"
    assert v.loc["FLAT", "verdict"] == "not testable"
    assert "not statistically distinguishable from zero" in v.loc["FLAT", "note"]


def test_increase_not_consistent_for_a_clear_decrease(make_responses, make_params):
    r = make_responses({"parent": 400}, {"knows": (0.6, 0.4), "agrees": (0.5, 0.5)}, likert=["agrees"], seed=12)
    p = make_params(design="paired", claims=[_claim("DOWN", "increase")])
    out = evaluate_claims(p, compare_indicators(r, p), r)
    assert out["verdict"].iloc[0] == "not consistent" and "not an increase" in out["note"].iloc[0]


def test_compare_with_uses_other_stage_baseline(stage, make_responses):
    r, run = stage
    other = make_responses({"parent": 300}, {"knows": (0.30, 0.5), "agrees": (0.5, 0.5)}, likert=["agrees"],
                           design="independent", seed=13)
    claim = _claim("X", "change_pp", value=30, compare_with={"campaign": "earlier", "wave": "baseline"})
    out, _ = run([claim], other={"earlier": other})
    row = out.iloc[0]
    from evalkit.params import Indicator  # the reference: the same comparison done directly
    ind = Indicator(id="knows", label="Knows", theme="knowledge", question="k/knows", positive=["yes"],
                    population=["parent", "staff"])
    ref = compare_samples(other[other.wave == "baseline"], r[r.wave == "endline"], ind, ["parent"],
                          design="independent").iloc[0]
    assert row["estimate"] == pytest.approx(ref["change_pp"]) and row["ci_low"] == pytest.approx(ref["ci_low_pp"])
    assert "earlier baseline" in row["source"] and row["n"] == ref["n"]
    missing, _ = run([claim])
    assert missing["verdict"].iloc[0] == "not testable" and "earlier" in missing["note"].iloc[0]


def test_group_without_data_is_not_testable(make_responses, make_params):
    r = make_responses({"parent": 100}, {"knows": (0.4, 0.5), "agrees": (0.5, 0.5)}, likert=["agrees"], seed=14)
    p = make_params(design="paired", claims=[_claim("S", "change_pp", group="staff", value=5)])
    out = evaluate_claims(p, compare_indicators(r, p), r)
    assert out["verdict"].iloc[0] == "not testable" and "not enough data" in out["note"].iloc[0]
    empty = evaluate_claims(p, compare_indicators(r, p).iloc[0:0], r)
    assert empty["verdict"].iloc[0] == "not testable" and "no row" in empty["note"].iloc[0]


def test_claim_estimates_within():
    claims = pd.DataFrame({"claim_id": ["A", "B", "C"], "part": ["change", "endline", "change"],
                           "published": [13.0, 95.0, np.nan], "estimate": [13.4, 94.2, 5.0]})
    out = claim_estimates_within(claims, tol_pp=0.5)
    assert out["within"].tolist() == [True, False, pd.NA]
    assert out["abs_diff_pp"].iloc[1] == pytest.approx(0.8)


def test_real_params_claims_run_on_contract_shaped_data(make_responses):
    # Every claim kind in params/together.yaml evaluates on data in the processed shape.
    p = load_params("together")
    spec = {ind.id: (0.45, 0.55) for ind in p.indicators}
    likert = [ind.id for ind in p.indicators if ind.type == "likert"]
    r = make_responses({g: 120 for g in p.groups}, spec, likert=likert, seed=15)
    out = evaluate_claims(p, compare_indicators(r, p), r)
    assert out["claim_id"].tolist() == ["T1", "T2", "T3", "T4", "T4", "T5", "T6", "T6"]
    assert set(out["verdict"]) <= {"consistent", "not consistent", "not testable"}
    assert out["estimate"].notna().all()


# --------------------------------------------------------------------------- verdict detail and the family (issue 15 point 3)


def test_verdict_detail_separates_change_no_change_and_inconsistent(stage):
    """knows rises 40% -> 60% (CI excludes 0), agrees stays at 50% (CI contains 0)."""
    from evalkit.claims import ALSO_NO_CHANGE, CONSISTENT_LEVEL, INCONSISTENT, SHOWS_CHANGE

    _, run = stage
    out, res = run([_claim("UP", "change_pp", value=20), _claim("FLAT", "change_pp", indicator="agrees", value=1),
                    _claim("FAR", "change_pp", value=45), _claim("LVL", "endline_pct", value=60),
                    _claim("INC", "increase", indicator="agrees"),
                    _claim("BE", "baseline_endline_pct", indicator="agrees", baseline=50, endline=50)])
    rows = res.set_index(["indicator", "group"])
    assert rows.loc[("knows", "parent"), "ci_low_pp"] > 0
    assert rows.loc[("agrees", "parent"), "ci_low_pp"] < 0 < rows.loc[("agrees", "parent"), "ci_high_pp"]
    v = out.groupby("claim_id")["verdict_detail"].first()
    assert v["UP"] == SHOWS_CHANGE
    assert v["FLAT"] == ALSO_NO_CHANGE and v["INC"] == ALSO_NO_CHANGE and v["BE"] == ALSO_NO_CHANGE
    assert v["FAR"] == INCONSISTENT and v["LVL"] == CONSISTENT_LEVEL
    note = out.set_index("claim_id").loc["FLAT", "note"]
    assert "so does no change (0 pp)" in note


def test_primary_claims_are_holm_adjusted_among_themselves(make_responses, make_params):
    """Reference: statsmodels multipletests(method="holm") on the family's distinct tests, tolerance 1e-12;
    a consistent claim whose Holm p is >= alpha says so in its note."""
    from statsmodels.stats.multitest import multipletests

    r = make_responses({"parent": 120, "staff": 60}, {"knows": (0.40, 0.50), "agrees": (0.50, 0.53)},
                       likert=["agrees"], seed=5)
    claims = [_claim("A", "change_pp", value=10), _claim("B", "change_pp", indicator="agrees", value=3),
              _claim("C", "baseline_endline_pct", group="staff", baseline=40, endline=50),
              _claim("D", "endline_pct", value=50)]
    p = make_params(design="paired", claims=claims, extra={"primary_family": ["A", "B", "C"]})
    res = compare_indicators(r, p)
    out = evaluate_claims(p, res, r)
    first = out.groupby("claim_id", sort=False).first()
    raw = first.loc[["A", "B", "C"], "p_value"].to_numpy()
    assert first.loc[["A", "B", "C"], "p_holm"].to_numpy() == pytest.approx(
        multipletests(raw, method="holm")[1], rel=1e-12)
    assert (out.loc[out["claim_id"] == "C", "p_holm"].nunique()) == 1  # two rows, one test
    assert pd.isna(first.loc["D", "p_holm"]) and first.loc["D", "family"] == ""  # a level claim has no test of change
    weak = first.loc[(first["verdict"] == "consistent") & (first["p_holm"] >= 0.05)]
    assert len(weak) and all("not significant after Holm's correction within the primary family" in n
                             for n in weak["note"])


# --------------------------------------------------------------------------- claim unit (issue 15 point 4)


def test_relative_unit_is_a_share_of_the_baseline(stage):
    """'+50%' of a 40% baseline is +20 pp (hand arithmetic on the row's own baseline %, tolerance 1e-9)."""
    _, run = stage
    out, res = run([_claim("R", "change_pp", value=50, unit="relative"),
                    _claim("AMB", "change_pp", value=50, unit="pp", unit_ambiguous=True),
                    _claim("SAME", "change_pp", value=20, unit="pp", unit_ambiguous=True)])
    row = res.set_index(["indicator", "group"]).loc[("knows", "parent")]
    v = out.set_index("claim_id")
    as_pp = row["baseline_pct"] * 0.50
    assert v.loc["R", "published"] == pytest.approx(as_pp, abs=1e-9) and v.loc["R", "unit"] == "relative"
    assert row["ci_low_pp"] <= as_pp <= row["ci_high_pp"] < 50  # relative reading inside, pp reading outside
    assert v.loc["R", "verdict"] == "consistent"
    # ambiguous: +50 pp is outside, +50% of the baseline inside: the data tell them apart
    assert v.loc["AMB", "verdict"] == "not consistent"
    assert v.loc["AMB", "published_other_reading_pp"] == pytest.approx(as_pp, abs=1e-9)
    assert v.loc["AMB", "verdict_other_reading"] == "consistent, and the data show a change"
    assert "only the reading as +50% of the baseline" in v.loc["AMB", "note"]
    assert "the data tell them apart" in v.loc["AMB", "note"]
    # +20: the pp reading is inside; 20% of 40% = +8 pp may or may not be: the note follows the CI
    other = row["baseline_pct"] * 0.20
    both = row["ci_low_pp"] <= other <= row["ci_high_pp"]
    assert ("cannot tell them apart" in v.loc["SAME", "note"]) == both


def test_worked_example_from_the_issue():
    """Issue 15: 'increased by 13%' of a 47.8% baseline is 47.8 x 0.13 = +6.2 pp."""
    from evalkit.claims import _relative_as_pp

    assert _relative_as_pp(13.0, pd.Series({"baseline_pct": 47.8})) == pytest.approx(6.214, abs=1e-9)
    assert np.isnan(_relative_as_pp(13.0, None))


def test_unit_only_on_change_claims(make_params):
    from evalkit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"claims\[0\]\.unit.*only a claim of kind 'change_pp'"):
        make_params(claims=[_claim("E", "endline_pct", value=50, unit="relative")])
