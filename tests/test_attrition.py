"""evalkit.attrition: retention weights and the attrition sensitivity columns.

References: with only the group, the baseline answer and their interaction in
the model, the logistic regression is saturated, so its fitted retention
probabilities equal the observed retention rate of each group x baseline-answer
cell (closed form); and inverse-probability weights from a saturated model
reproduce, on the complete pairs, the baseline percentage of *all* baseline
respondents (Horvitz-Thompson within cells; Seaman & White 2013, section 2).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from evalkit.attrition import IPW_COLUMN, attrition_findings, ipw_pairs, retention_probability
from evalkit.compare import compare_indicators, match_pairs
from evalkit.designbased import design_rows
from evalkit.sampling import Sampling


def _selective_dropout(r: pd.DataFrame, seed: int, *, rate_if_yes: float, rate_if_no: float) -> pd.DataFrame:
    """Remove endline rows: respondents with a positive baseline answer drop out at rate_if_yes."""
    rng = np.random.default_rng(seed)
    b = r[r.wave == "baseline"].set_index("respondent_id")["knows"]
    yes = b.astype("boolean").fillna(False).to_numpy(dtype=bool)
    drop = rng.random(len(b)) < np.where(yes, rate_if_yes, rate_if_no)
    gone = set(b.index[drop])
    return r[~((r.wave == "endline") & r["respondent_id"].isin(gone))].reset_index(drop=True)


@pytest.fixture
def panel(make_responses, make_params):
    r = make_responses({"parent": 400, "staff": 150}, {"knows": (0.40, 0.50)}, seed=21)
    return r, make_params(design="paired", indicators=[
        {"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
         "population": ["parent", "staff"]}])


def test_saturated_model_gives_cell_retention_rates(panel):
    r, _ = panel
    r = _selective_dropout(r, 1, rate_if_yes=0.5, rate_if_no=0.1)
    base = r[r.wave == "baseline"]
    pairs, _note = match_pairs(base, r[r.wave == "endline"])
    yb = base["knows"].to_numpy(dtype="float64", na_value=np.nan)
    frame = base.loc[~np.isnan(yb)].assign(_yb=yb[~np.isnan(yb)])
    frame = frame.assign(_kept=frame["respondent_id"].isin(pairs.dropna(subset=["knows_e"])["respondent_id"])
                         .astype(float))
    prob, note = retention_probability(frame, covariates=())
    cells = frame.groupby(["group", "_yb"])["_kept"].transform("mean")
    assert note == ""
    np.testing.assert_allclose(prob.to_numpy(), cells.to_numpy(), atol=1e-6)


def test_ipw_restores_the_baseline_percentage_of_everyone(panel):
    r, _ = panel
    r = _selective_dropout(r, 2, rate_if_yes=0.6, rate_if_no=0.1)
    base = r[r.wave == "baseline"]
    pairs, _note = match_pairs(base, r[r.wave == "endline"])
    weighted, _note = ipw_pairs(base, pairs, "knows", covariates=())
    values = design_rows("knows", weighted, None, [("parent",)], design="paired", sampling=Sampling(), alpha=0.05,
                         weight=IPW_COLUMN)[("parent",)]
    everyone = base.loc[base.group == "parent", "knows"].dropna().astype(float).mean()
    complete = weighted.dropna(subset=["knows_b", "knows_e"])
    naive = complete.loc[complete.group == "parent", "knows_b"].astype(float).mean()
    assert values["baseline_pct"] / 100 == pytest.approx(everyone, abs=1e-9)
    assert abs(naive - everyone) > 0.05  # the complete pairs alone are biased by the drop-out


def test_selective_dropout_is_flagged_and_said(panel):
    r, p = panel
    r = _selective_dropout(r, 3, rate_if_yes=0.7, rate_if_no=0.05)
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    row = res.loc[("knows", "parent")]
    # those who knew dropped out: the complete pairs understate the baseline, so overstate the change
    assert row["attrition_change_pp"] < row["change_pp"] - (row["ci_high_pp"] - row["ci_low_pp"]) / 2
    assert row["attrition_differs"]
    res_flat = res.reset_index()
    differs = res_flat["attrition_differs"].astype("boolean").fillna(False)
    sentences = attrition_findings(res_flat, labels={"parent": "Parents", "staff": "Staff"})
    assert len(sentences) == int(differs.sum())
    for s in sentences:
        assert "margin of error" in s and "drop-out may bias" in s


def test_no_dropout_adjusted_equals_complete_pairs(panel):
    r, p = panel
    res = compare_indicators(r, p)
    np.testing.assert_allclose(res["attrition_change_pp"], res["change_pp"], atol=1e-9)
    assert not res["attrition_differs"].any()
    assert attrition_findings(res) == []


def test_panel_weight_rule_makes_it_the_headline(panel):
    """The adjusted headline (design-based, svy) is the sensitivity run's re-weighted change (a numpy weighted
    mean of the same pairs), and the check still compares it with the complete pairs, not with itself."""
    r, p = panel
    r = _selective_dropout(r, 3, rate_if_yes=0.7, rate_if_no=0.05)
    check = compare_indicators(r, p).set_index(["indicator", "group"])  # panel_weight: baseline
    p = dataclasses.replace(p, sampling=Sampling(panel_weight="baseline_attrition_adjusted"))
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    np.testing.assert_allclose(res["change_pp"], check["attrition_change_pp"], atol=1e-9)
    assert set(res["variance_method"]) == {"taylor"}
    assert res.loc[("knows", "parent"), "attrition_differs"]  # as in the baseline-weight run above
    assert (res["attrition_differs"].astype("boolean").fillna(False)
            == check["attrition_differs"].astype("boolean").fillna(False)).all()


def test_independent_design_has_no_attrition_columns(make_responses, make_params):
    r = make_responses({"parent": 100}, {"knows": (0.4, 0.5)}, design="independent", seed=5)
    res = compare_indicators(r, make_params(design="independent", groups={"parent": "Parents"}, indicators=[
        {"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
         "population": ["parent"]}]))
    assert res["attrition_change_pp"].isna().all() and res["attrition_differs"].isna().all()


def test_attrition_html_names_rows_and_escapes(panel):
    from evalkit.attrition import attrition_html

    r, p = panel
    res = compare_indicators(_selective_dropout(r, 3, rate_if_yes=0.7, rate_if_no=0.05), p)
    hostile = dataclasses.replace(p, groups={"parent": "Parents <b>this</b>", "staff": "Staff"})
    html = attrition_html(res, hostile)
    assert "<li>" in html and "&lt;b&gt;this&lt;/b&gt;" in html and "<b>this" not in html
    assert "No result changes" in attrition_html(compare_indicators(r, p), p)
    assert attrition_html(res, dataclasses.replace(p, design="independent")) == ""


def test_everyone_retained_in_a_cell_falls_back_to_cell_rates_with_a_note():
    # a cell where everybody stayed has a fitted probability of 1: the cell rates are used and said
    frame = pd.DataFrame({"group": ["a"] * 40 + ["b"] * 40, "_yb": [0.0, 1.0] * 40,
                          "_kept": [1.0] * 40 + [1.0, 0.0, 1.0, 1.0] * 10})
    prob, note = retention_probability(frame)
    cells = frame.groupby(["group", "_yb"])["_kept"].transform("mean")
    np.testing.assert_allclose(prob.to_numpy(), cells.clip(lower=0.05).to_numpy(), atol=1e-9)
    assert "could not be fitted" in note
