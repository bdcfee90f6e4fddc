"""Tests for evalkit.subgroups: breakdowns and small-cell suppression."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from evalkit.compare import compare_indicators
from evalkit.subgroups import SUBGROUP_COLUMNS, subgroup_table, suppress


def test_suppress_rules():
    # primary: 1 <= n < 10 at either wave; complementary: the next smallest level
    p, c = suppress(np.array([120, 5, 40, 30]), np.array([118, 12, 44, 31]), min_cell_size=10)
    assert p.tolist() == [False, True, False, False] and c.tolist() == [False, False, False, True]
    # two primary cells of 15 people protect each other: no complementary suppression
    p, c = suppress(np.array([120, 5, 10, 6]), np.array([118, 6, 12, 9]), min_cell_size=10)
    assert p.tolist() == [False, True, False, True] and not c.any()
    # issue 17: two primary cells that together describe 9 people: their sum follows from the total, so the
    # smallest other level is hidden too
    p, c = suppress(np.array([120, 5, 4, 30]), np.array([118, 6, 3, 31]), min_cell_size=10)
    assert p.tolist() == [False, True, True, False] and c.tolist() == [False, False, False, True]
    # zero is not a small cell (nothing to disclose)
    p, c = suppress(np.array([120, 0]), np.array([118, 0]), min_cell_size=10)
    assert not p.any() and not c.any()
    # complementary prefers a level with respondents at both waves
    p, c = suppress(np.array([100, 3, 0, 50]), np.array([100, 4, 20, 50]), min_cell_size=10)
    assert c.tolist() == [False, False, False, True]


@pytest.fixture
def small_cell(make_responses, make_params):
    r = make_responses({"parent": 200, "staff": 50}, {"knows": (0.4, 0.5), "agrees": (0.5, 0.6, ["parent"])},
                       likert=["agrees"], seed=7,
                       demographics={"location": ["urban", "rural", "remote"], "sex": ["female", "male"]})
    ids = r["respondent_id"].unique()
    r.loc[r["respondent_id"].isin(ids[:6]), "location"] = "island"   # 6 pairs: a small cell
    r.loc[r["respondent_id"].isin(ids[6:9]), "sex"] = pd.NA         # 3 with no sex recorded
    return r, make_params(design="paired")


def test_columns_and_levels(small_cell):
    r, p = small_cell
    t = subgroup_table(r, p)
    assert tuple(t.columns) == SUBGROUP_COLUMNS
    assert set(t["group"]) == {"all"} and set(t["subgroup"]) == {"location", "sex"}
    sex = t[(t.indicator == "knows") & (t.subgroup == "sex")]
    assert sex["level"].tolist() == ["female", "male", "missing"]


def test_small_cell_and_its_complement_suppressed_without_counts(small_cell):
    r, p = small_cell
    t = subgroup_table(r, p)
    loc = t[(t.indicator == "knows") & (t.subgroup == "location")].set_index("level")
    island = loc.loc["island"]
    assert island["suppressed"] and pd.isna(island["n_baseline"]) and np.isnan(island["baseline_pct"])
    assert "fewer than 10" in island["note"]
    others = loc.drop(index="island")
    comp = others[others["suppressed"]]
    assert len(comp) == 1 and "complementary" in comp["note"].iloc[0]
    assert comp["n_baseline"].isna().all() and comp["change_pp"].isna().all()
    # the suppressed one is the smallest of the others
    sizes = subgroup_table(r, dataclasses.replace(p, min_cell_size=1))
    sizes = sizes[(sizes.indicator == "knows") & (sizes.subgroup == "location")].set_index("level")["n_baseline"]
    assert comp.index[0] == sizes.drop(index="island").idxmin()


def test_no_published_cell_below_min_cell_size(small_cell):
    r, p = small_cell
    t = subgroup_table(r, p)
    shown = t[~t["suppressed"]]
    assert ((shown["n_baseline"] == 0) | (shown["n_baseline"] >= p.min_cell_size)).all()
    assert ((shown["n_endline"] == 0) | (shown["n_endline"] >= p.min_cell_size)).all()
    # a suppressed cell cannot be derived: each breakdown has 0 or at least 2 suppressed levels
    per = t.groupby(["indicator", "subgroup"])["suppressed"].sum()
    assert (per != 1).all()


def test_levels_add_up_to_results_all_row(make_responses, make_params):
    r = make_responses({"parent": 150, "staff": 40}, {"knows": (0.4, 0.5), "agrees": (0.5, 0.6)},
                       likert=["agrees"], design="independent", missing_rate=0.1, seed=8)
    p = make_params(design="independent")
    t = subgroup_table(r, p)
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    for var in ("location", "sex"):
        sub = t[(t.indicator == "knows") & (t.subgroup == var)]
        assert sub["n_baseline"].sum() == res.loc[("knows", "all"), "n_baseline"]
        assert sub["n_endline"].sum() == res.loc[("knows", "all"), "n_endline"]
        # weighted mean of the level percentages is the pooled percentage
        pooled = (sub["baseline_pct"] * sub["n_baseline"]).sum() / sub["n_baseline"].sum()
        assert pooled == pytest.approx(res.loc[("knows", "all"), "baseline_pct"])


def test_paired_percentages_match_results(small_cell):
    r, p = small_cell
    t = subgroup_table(r, p)
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    sex = t[(t.indicator == "knows") & (t.subgroup == "sex") & ~t.suppressed]
    assert (sex["n_baseline"] == sex["n_endline"]).all()  # matched pairs
    assert sex["n_baseline"].sum() <= res.loc[("knows", "all"), "n"]


def test_missing_subgroup_column_is_a_note(small_cell):
    r, p = small_cell
    t = subgroup_table(r.drop(columns=["sex"]), p)
    row = t[t.subgroup == "sex"]
    assert len(row) == 2 and row["note"].str.contains("column 'sex' is not in").all()


def test_inputs_not_mutated(small_cell):
    r, p = small_cell
    before = r.copy(deep=True)
    subgroup_table(r, p)
    pd.testing.assert_frame_equal(r, before)
