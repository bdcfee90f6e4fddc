"""evalkit.planning and the sample-size / power functions of evalkit.stats.power.

References: statsmodels ``NormalIndPower`` (independent samples, Cohen's h;
it adds the negligible opposite tail, hence rel 1e-3); the paired formulas are
checked as the exact inverse of the already tested ``mde_pp_paired`` (Connor
1987) and against the power at the MDE, which is 0.8 by construction.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower

from evalkit.compare import compare_indicators
from evalkit.planning import PLAN_COLUMNS, plan_html, plan_table
from evalkit.stats.power import (mde_pp_paired, n_pairs_needed, n_per_wave_needed, power_independent,
                                 power_paired)


def _h(p0, p1):
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))


@pytest.mark.parametrize("p0, p1, deff", [(0.4, 0.5, 1.0), (0.1, 0.2, 1.8), (0.7, 0.6, 2.5)])
def test_independent_size_and_power_match_statsmodels(p0, p1, deff):
    ref = NormalIndPower().solve_power(effect_size=abs(_h(p0, p1)), alpha=0.05, power=0.8, ratio=1)
    assert n_per_wave_needed(p0, p1, deff=deff) == pytest.approx(deff * ref, rel=1e-3)
    ref_power = NormalIndPower().power(effect_size=abs(_h(p0, p1)), nobs1=300 / deff, alpha=0.05, ratio=1)
    assert power_independent(p0, p1, 300, 300, deff=deff) == pytest.approx(ref_power, rel=1e-3)


@pytest.mark.parametrize("n, psi, deff", [(300, 0.2, 1.0), (120, 0.35, 1.5), (2000, 0.1, 3.0)])
def test_paired_size_is_the_inverse_of_the_mde(n, psi, deff):
    delta = mde_pp_paired(n, discordant=psi, deff=deff) / 100
    assert n_pairs_needed(delta, discordant=psi, deff=deff) == pytest.approx(n, rel=1e-9)
    assert power_paired(n, delta, discordant=psi, deff=deff) == pytest.approx(0.8, abs=1e-6)


def test_undefined_cases_are_nan():
    assert math.isnan(n_pairs_needed(0.0, discordant=0.2))
    assert math.isnan(n_pairs_needed(0.3, discordant=0.2))  # more change than discordance: impossible
    assert math.isnan(n_pairs_needed(0.05, discordant=0.0))
    assert math.isnan(n_per_wave_needed(0.4, 0.4))
    assert math.isnan(power_independent(0.4, 0.5, 0, 10))


@pytest.fixture
def paired(make_responses, make_params):
    r = make_responses({"parent": 300, "staff": 80}, {"knows": (0.40, 0.55)}, attrition=0.2, seed=31)
    claims = [{"id": "C1", "text": "Knowledge rose by 10 points", "indicator": "knows", "group": "parent",
               "kind": "change_pp", "value": 10}]
    p = make_params(design="paired", claims=claims, indicators=[
        {"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
         "population": ["parent", "staff"]}])
    return r, p


def test_plan_rows_use_published_change_observed_discordance_and_attrition(paired):
    r, p = paired
    results = compare_indicators(r, p)
    flat = plan_table(r, results, p)
    assert tuple(flat.columns) == PLAN_COLUMNS
    plan = flat.set_index("group")
    parent = plan.loc["parent"]
    assert parent["target_change_pp"] == 10 and parent["target_source"] == "published change (C1)"
    assert plan.loc["staff", "target_source"] == "observed change"
    # observed discordance and attrition, computed here by hand
    b = r[(r.wave == "baseline") & (r.group == "parent")].set_index("respondent_id")["knows"]
    e = r[(r.wave == "endline") & (r.group == "parent")].set_index("respondent_id")["knows"]
    both = pd.concat([b.rename("b"), e.rename("e")], axis=1, join="inner").dropna()
    psi = float((both["b"] != both["e"]).mean())
    lost = 1 - e.index.isin(b.index).sum() / len(b)
    assert parent["discordant_pct"] == pytest.approx(100 * psi)
    assert parent["attrition_pct"] == pytest.approx(100 * lost)
    pairs = n_pairs_needed(0.10, discordant=psi)
    assert parent["n_pairs_needed"] == math.ceil(pairs)
    assert parent["n_baseline_needed"] == math.ceil(pairs / (1 - lost))
    assert parent["power_current"] == pytest.approx(power_paired(parent["n"], 0.10, discordant=psi))
    assert parent["n_per_wave_independent"] > parent["n_pairs_needed"]  # a panel needs fewer respondents


def test_suppressed_rows_stay_out_and_html_escapes(make_responses, make_params):
    r = make_responses({"parent": 200, "staff": 5}, {"knows": (0.4, 0.5)}, seed=32)
    p = make_params(design="paired", groups={"parent": "Parents <b>", "staff": "Staff"})
    results = compare_indicators(r, p)
    plan = plan_table(r, results, p)
    published = results.loc[results["n"].notna(), ["indicator", "group"]]
    assert list(zip(plan["indicator"], plan["group"])) == list(zip(published["indicator"], published["group"]))
    assert ("knows", "staff") not in set(zip(plan["indicator"], plan["group"]))
    html = plan_html(plan, p)
    assert "Parents &lt;b&gt;" in html and "Parents <b>" not in html


def test_independent_plan_has_no_panel_columns(make_responses, make_params):
    r = make_responses({"parent": 200}, {"knows": (0.4, 0.5)}, design="independent", seed=33)
    p = make_params(design="independent", groups={"parent": "Parents"}, indicators=[
        {"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
         "population": ["parent"]}])
    plan = plan_table(r, compare_indicators(r, p), p)
    assert plan["n_pairs_needed"].isna().all() and (plan["n_per_wave_independent"] > 0).all()
    assert np.all((plan["power_current"] >= 0) & (plan["power_current"] <= 1))


@pytest.mark.slow
def test_make_plan_writes_plan_html_and_csv(built_reports):
    # The real thing: make plan on the project copy whose reports conftest built.
    from test_pipeline import run

    root = built_reports.parent
    res = run(["make", "plan", "CAMPAIGN=together"], root)
    assert res.returncode == 0, f"make plan failed:\n{res.stdout}\n{res.stderr}"
    html = (built_reports / "together" / "plan.html").read_text(encoding="utf-8")
    assert 'id="ek-plan"' in html and "Pairs needed" in html and "Power now" in html
    plan = pd.read_csv(built_reports / "together" / "plan.csv")
    assert (plan["target_source"] == "published change (T1)").any()
    again = run(["make", "plan", "CAMPAIGN=together"], root)
    assert "running notebooks/03_plan" not in again.stderr  # up to date: no work
