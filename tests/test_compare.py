"""Tests for evalkit.compare: the results.csv table (contract, methods, undefined cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import compare
from evalkit.compare import CONTRACT_COLUMNS, compare_indicators, compare_samples
from evalkit.errors import AnalysisError
from evalkit.stats import (holm, mcnemar, newcombe_independent_ci, newcombe_paired_ci, two_proportion_test,
                           wilcoxon_paired)

GROUPS = {"parent": 300, "staff": 60}
INDICATORS = {"knows": (0.40, 0.52), "agrees": (0.60, 0.70, ["parent"])}


@pytest.fixture
def paired(make_responses, make_params):
    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], missing_rate=0.05, attrition=0.1, seed=1)
    return r, make_params(design="paired")


@pytest.fixture
def independent(make_responses, make_params):
    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], design="independent", missing_rate=0.05, seed=2)
    return r, make_params(design="independent")


def _swap_waves(r: pd.DataFrame) -> pd.DataFrame:
    return r.assign(wave=r["wave"].map({"baseline": "endline", "endline": "baseline"}))


def test_contract_columns_first_and_rows(paired):
    r, p = paired
    res = compare_indicators(r, p)
    assert tuple(res.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert list(zip(res["indicator"], res["group"])) == [
        ("knows", "parent"), ("knows", "staff"), ("knows", "all"), ("agrees", "parent"), ("agrees", "all")]
    assert set(res["design"]) == {"paired"} and set(res["campaign"]) == {p.campaign}
    assert set(res["test"]) == {"mcnemar_midp"} and set(res["effect_size_name"]) == {"cohens_h"}
    assert compare_indicators(r, p, campaign="other")["campaign"].eq("other").all()


def test_paired_row_equals_direct_computation(paired):
    # Reference: the stats functions applied by hand to the matched pairs of the parents.
    r, p = paired
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    b = r[(r.wave == "baseline") & (r.group == "parent")].set_index("respondent_id")["knows"]
    e = r[(r.wave == "endline") & (r.group == "parent")].set_index("respondent_id")["knows"]
    both = pd.concat([b.rename("b"), e.rename("e")], axis=1, join="inner").dropna()
    xb, xe = both["b"].astype(bool), both["e"].astype(bool)
    table = [[(xe & xb).sum(), (xe & ~xb).sum()], [(~xe & xb).sum(), (~xe & ~xb).sum()]]
    row = res.loc[("knows", "parent")]
    assert row["n"] == len(both)
    assert row["baseline_pct"] == pytest.approx(100 * xb.mean())
    assert row["endline_pct"] == pytest.approx(100 * xe.mean())
    ci = newcombe_paired_ci(table).iloc[0]
    assert row["change_pp"] == pytest.approx(100 * ci["difference"])
    assert (row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx((100 * ci["ci_low"], 100 * ci["ci_high"]))
    assert row["p_value"] == pytest.approx(mcnemar(table).iloc[0]["p_midp"])


def test_paired_all_pools_population_groups(paired):
    r, p = paired
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    assert res.loc[("knows", "all"), "n"] == res.loc[("knows", "parent"), "n"] + res.loc[("knows", "staff"), "n"]
    # agrees is asked of parents only: its 'all' row is the parents' row
    assert res.loc[("agrees", "all"), "change_pp"] == pytest.approx(res.loc[("agrees", "parent"), "change_pp"])


def test_paired_likert_levels_use_wilcoxon(paired):
    r, p = paired
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    b = r[(r.wave == "baseline") & (r.group == "parent")].set_index("respondent_id")["agrees_level"]
    e = r[(r.wave == "endline") & (r.group == "parent")].set_index("respondent_id")["agrees_level"]
    both = pd.concat([b.rename("b"), e.rename("e")], axis=1, join="inner")
    ref = wilcoxon_paired(both["e"], both["b"]).iloc[0]
    row = res.loc[("agrees", "parent")]
    assert row["likert_test"] == "wilcoxon_signed_rank"
    assert row["likert_p_value"] == pytest.approx(ref["p_value"])
    assert row["likert_effect_size"] == pytest.approx(ref["rank_biserial"])
    assert pd.isna(res.loc[("knows", "parent"), "likert_test"])


def test_independent_row_equals_direct_computation(independent):
    r, p = independent
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    row = res.loc[("knows", "all")]
    b = r.loc[r.wave == "baseline", "knows"].dropna().astype(bool)
    e = r.loc[r.wave == "endline", "knows"].dropna().astype(bool)
    assert (row["n_baseline"], row["n_endline"], row["n"]) == (len(b), len(e), len(b) + len(e))
    assert row["test"] == "pearson_chi2"
    ref = two_proportion_test(e.sum(), len(e), b.sum(), len(b)).iloc[0]
    ci = newcombe_independent_ci(e.sum(), len(e), b.sum(), len(b)).iloc[0]
    assert row["p_value"] == pytest.approx(ref["p_value"])
    assert row["change_pp"] == pytest.approx(100 * ref["difference"])
    assert (row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx((100 * ci["ci_low"], 100 * ci["ci_high"]))
    assert res.loc[("agrees", "parent"), "likert_test"] == "mann_whitney_u"


@pytest.mark.parametrize("design", ["paired", "independent"])
def test_swapping_waves_negates_changes(design, paired, independent):
    r, p = paired if design == "paired" else independent
    a, s = compare_indicators(r, p), compare_indicators(_swap_waves(r), p)
    assert s["change_pp"].to_numpy() == pytest.approx(-a["change_pp"].to_numpy())
    assert s["ci_low_pp"].to_numpy() == pytest.approx(-a["ci_high_pp"].to_numpy())
    assert s["p_value"].to_numpy() == pytest.approx(a["p_value"].to_numpy())


def test_multiplicity_within_one_family_without_primary(independent):
    r, p = independent
    res = compare_indicators(r, p)
    distinct = ~((res["indicator"] == "agrees") & (res["group"] == "all"))  # repeats agrees/parent
    assert res.loc[distinct, "p_holm"].to_numpy() == pytest.approx(holm(res.loc[distinct, "p_value"].to_numpy()),
                                                                   nan_ok=True)
    ok = res["p_value"].notna()
    assert (res.loc[ok, "p_holm"] >= res.loc[ok, "p_value"]).all()
    assert (res.loc[ok, "q_bh"] <= res.loc[ok, "p_holm"] + 1e-12).all()


def test_inputs_not_mutated(paired):
    r, p = paired
    before = r.copy(deep=True)
    compare_indicators(r, p)
    pd.testing.assert_frame_equal(r, before)


def test_undefined_results_are_nan_with_note(make_responses, make_params):
    p = make_params(design="paired")
    r = make_responses({"parent": 50, "staff": 1}, {"knows": (0.4, 0.5), "agrees": (0.5, 0.6)},
                       likert=["agrees"], seed=3)
    r["agrees"] = pd.array([pd.NA] * len(r), dtype="boolean")  # all missing
    r["agrees_level"] = pd.array([pd.NA] * len(r), dtype="Int8")
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    staff = res.loc[("knows", "staff")]
    assert pd.isna(staff["n"]) and np.isnan(staff["p_value"]) and "fewer than 2" in staff["note"]
    assert staff["note"].startswith("suppressed: fewer than 10 respondents")  # small-cell rule, no n published
    allm = res.loc[("agrees", "parent")]
    assert allm["n"] == 0 and np.isnan(allm["baseline_pct"]) and "no matched pairs" in allm["note"]
    assert np.isnan(allm["likert_p_value"])


def test_missing_indicator_column_is_a_note_not_an_error(paired):
    r, p = paired
    res = compare_indicators(r.drop(columns=["knows"]), p)
    knows = res[res.indicator == "knows"]
    assert knows["p_value"].isna().all() and knows["note"].str.contains("column 'knows' is not in").all()


def test_missing_structural_column_raises_once(paired):
    r, p = paired
    with pytest.raises(AnalysisError, match="column 'group' is missing") as info:
        compare_indicators(r.drop(columns=["group", "wave"]), p)
    assert "column 'wave' is missing" in str(info.value)
    with pytest.raises(AnalysisError, match="'midline'"):
        compare_indicators(r.assign(wave="midline"), p)


def test_group_switchers_and_duplicates_not_matched(paired):
    r, p = paired
    r = r.copy()
    answered = r.groupby("respondent_id")["knows"].transform(lambda s: s.notna().sum() == 2)
    first = r.index[(r.wave == "endline") & (r.group == "parent") & answered][0]
    r.loc[first, "group"] = "staff"  # this respondent is no longer a matched pair
    n_before = compare_indicators(paired[0], p).set_index(["indicator", "group"]).loc[("knows", "parent"), "n"]
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    assert res.loc[("knows", "parent"), "n"] == n_before - 1
    dup = pd.concat([paired[0], paired[0].iloc[[0]]], ignore_index=True)
    assert compare_indicators(dup, p)["note"].str.contains("duplicate respondent id").all()


def test_weights_weighted_pct_and_deff(make_responses, make_params):
    p = make_params(design="independent")
    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], design="independent", seed=4,
                       weight=lambda rng, n: rng.choice([1.0, 3.0], n))
    row = compare_indicators(r, p).set_index(["indicator", "group"]).loc[("knows", "all")]
    b = r[r.wave == "baseline"].dropna(subset=["knows"])
    w = b["weight"].to_numpy()
    assert row["weighted"]
    assert row["baseline_pct"] == pytest.approx(100 * np.average(b["knows"].astype(float), weights=w))
    assert row["deff"] > 1 and row["n_eff"] < row["n"]
    # constant weights give exactly the unweighted result
    r2 = r.assign(weight=2.0)
    a = compare_indicators(r2, p)
    u = compare_indicators(r.assign(weight=1.0), p)
    assert not a["weighted"].any()
    pd.testing.assert_series_equal(a["ci_low_pp"], u["ci_low_pp"])


def test_paired_weighted_uses_baseline_weight(make_responses, make_params):
    p = make_params(design="paired")
    r = make_responses({"parent": 200}, {"knows": (0.4, 0.5), "agrees": (0.5, 0.6)}, likert=["agrees"], seed=6,
                       weight=lambda rng, n: rng.choice([1.0, 2.0], n))
    res = compare_indicators(r, p).set_index(["indicator", "group"])
    row = res.loc[("knows", "parent")]
    b = r[r.wave == "baseline"].set_index("respondent_id")
    e = r[r.wave == "endline"].set_index("respondent_id")
    ok = b["knows"].notna() & e["knows"].notna()
    assert row["baseline_pct"] == pytest.approx(100 * np.average(b.loc[ok, "knows"].astype(float),
                                                                 weights=b.loc[ok, "weight"]))
    assert row["endline_pct"] == pytest.approx(100 * np.average(e.loc[ok, "knows"].astype(float),
                                                                weights=b.loc[ok, "weight"]))
    assert row["ci_low_pp"] < row["change_pp"] < row["ci_high_pp"]
    assert "rank test on levels is unweighted" in res.loc[("agrees", "parent"), "note"]


def test_mde_present_and_positive(independent):
    r, p = independent
    res = compare_indicators(r, p)
    assert (res["mde_pp"] > 0).all()
    # bigger groups detect smaller changes
    k = res.set_index(["indicator", "group"])["mde_pp"]
    assert k[("knows", "all")] < k[("knows", "staff")]


def test_compare_samples_one_row(independent):
    r, p = independent
    row = compare_samples(r[r.wave == "baseline"], r[r.wave == "endline"], p.indicator("knows"), ["parent"],
                          design="independent")
    full = compare_indicators(r, p).set_index(["indicator", "group"]).loc[("knows", "parent")]
    assert len(row) == 1 and row["change_pp"].iloc[0] == pytest.approx(full["change_pp"])


def test_write_results_atomic(tmp_path, monkeypatch, independent):
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    r, p = independent
    res = compare_indicators(r, p)
    out = compare.write_results(res, p.campaign)
    assert out == tmp_path / "reports" / p.campaign / "results.csv"
    back = pd.read_csv(out)
    assert tuple(back.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS and len(back) == len(res)
    with pytest.raises(AnalysisError, match="contract columns"):
        compare.write_results(res[list(reversed(res.columns))], p.campaign)


# --------------------------------------------------------------------------- multiplicity families (issue 15 point 2)


def test_one_group_all_row_is_counted_once(make_responses, make_params):
    """The 'all' row of a one-group population is the same test as its group: Holm's m counts it once.

    Reference: statsmodels ``multipletests(method="holm")`` / ``"fdr_bh"`` on the distinct tests only
    (an independent implementation), tolerance 1e-12.
    """
    from statsmodels.stats.multitest import multipletests

    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], design="independent", missing_rate=0.05, seed=2)
    res = compare_indicators(r, make_params(design="independent"))
    # 'agrees' is asked of parents only: its 'all' row repeats the parent row
    a = res.set_index(["indicator", "group"])
    assert a.loc[("agrees", "all"), "p_value"] == pytest.approx(a.loc[("agrees", "parent"), "p_value"], rel=1e-12)
    distinct = res.loc[~((res["indicator"] == "agrees") & (res["group"] == "all"))]
    assert len(distinct) == len(res) - 1
    ref_h = multipletests(distinct["p_value"].to_numpy(), method="holm")[1]
    ref_q = multipletests(distinct["p_value"].to_numpy(), method="fdr_bh")[1]
    assert distinct["p_holm"].to_numpy() == pytest.approx(ref_h, rel=1e-12, abs=1e-15)
    assert distinct["q_bh"].to_numpy() == pytest.approx(ref_q, rel=1e-12, abs=1e-15)
    assert a.loc[("agrees", "all"), "p_holm"] == pytest.approx(a.loc[("agrees", "parent"), "p_holm"], rel=1e-12)
    assert set(res["family"]) == {"secondary"}  # no primary_family in these params


def test_primary_family_adjusted_among_themselves(make_responses, make_params):
    """Rows of the primary claims are Holm/BH-adjusted only among themselves; Likert rank tests on their own.

    Reference: statsmodels ``multipletests`` on each family's distinct p-values, tolerance 1e-12.
    """
    from statsmodels.stats.multitest import multipletests

    r = make_responses(GROUPS, INDICATORS, likert=["agrees"], design="independent", missing_rate=0.05, seed=2)
    base = make_params(design="independent")
    claims = [{"id": "C1", "text": "knows +12", "indicator": "knows", "group": "all", "kind": "change_pp", "value": 12},
              {"id": "C2", "text": "agrees +10", "indicator": "agrees", "group": "parent", "kind": "increase"},
              {"id": "C3", "text": "knows 40%", "indicator": "knows", "group": "staff", "kind": "baseline_pct",
               "value": 40}]
    p = make_params(design="independent", claims=claims, extra={"primary_family": ["C1", "C2"]})
    res = compare_indicators(r, p)
    prim = res["family"] == "primary"
    # agrees/all repeats the primary agrees/parent test (parents only), so it is in the primary family too
    assert sorted(zip(res.loc[prim, "indicator"], res.loc[prim, "group"])) == [
        ("agrees", "all"), ("agrees", "parent"), ("knows", "all")]
    for fam in ("primary", "secondary"):
        rows = res.loc[res["family"] == fam]
        rows = rows.loc[~((rows["indicator"] == "agrees") & (rows["group"] == "all"))]  # same test as agrees/parent
        ref = multipletests(rows["p_value"].to_numpy(), method="holm")[1]
        assert rows["p_holm"].to_numpy() == pytest.approx(ref, rel=1e-12, abs=1e-15)
    lik = res.loc[(res["indicator"] == "agrees") & (res["group"] == "parent")]
    assert lik["likert_p_holm"].iloc[0] == pytest.approx(lik["likert_p_value"].iloc[0], rel=1e-12)  # one rank test
    assert res.loc[res["likert_p_value"].isna(), "likert_p_holm"].isna().all()
    assert base.primary_family == []



# --------------------------------------------------------------------------- don't-know bounds (issue 15 point 5)


def _cross_sections(counts: dict[tuple[str, str], tuple[int, ...]]) -> pd.DataFrame:
    """Independent waves answering 'knows': (group, wave) -> (yes, no) or (yes, no, don't know), no weights."""
    rows = []
    for (group, wave), (yes, no, *dk) in counts.items():
        n_dk = dk[0] if dk else 0
        vals = [True] * yes + [False] * no + [pd.NA] * n_dk
        reasons = [None] * (yes + no) + ["dont_know"] * n_dk
        for i, (v, why) in enumerate(zip(vals, reasons)):
            rows.append({"respondent_id": f"{group}-{wave}-{i}", "wave": wave, "group": group, "weight": 1.0,
                         "knows": v, "knows_missing_reason": why})
    out = pd.DataFrame(rows)
    out["knows"] = out["knows"].astype("boolean")
    out["knows_missing_reason"] = out["knows_missing_reason"].astype("string")
    return out


def _independent_with_dont_know(yes_b: int, no_b: int, dk_b: int, yes_e: int, no_e: int, dk_e: int) -> pd.DataFrame:
    """Two cross-sections of parents answering 'knows' with yes / no / don't know."""
    return _cross_sections({("parent", "baseline"): (yes_b, no_b, dk_b), ("parent", "endline"): (yes_e, no_e, dk_e)})


def test_dont_know_bounds_by_hand_and_the_sentence(make_params):
    """Bounds: hand arithmetic on the counts; the CI behind the sentence: statsmodels' Newcombe interval.

    Baseline 40 yes / 60 no / 5 don't know, endline 56 / 44 / 5. Complete cases: 56% - 40% = +16 pp.
    Reference CIs: statsmodels ``confint_proportions_2indep(method="newcomb")`` (tolerance 1e-9).
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    groups = {"parent": "Parents"}
    ind = [{"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
            "population": ["parent"]}]
    p = make_params(design="independent", groups=groups, indicators=ind)
    row = compare_indicators(_independent_with_dont_know(40, 60, 5, 56, 44, 5), p).iloc[0]
    assert row["n_dont_know"] == 10
    assert row["change_pp"] == pytest.approx(16.0, abs=1e-9)
    assert row["change_pp_dk_negative"] == pytest.approx(100 * (56 - 40) / 105, abs=1e-9)
    assert row["change_pp_dk_positive"] == pytest.approx(100 * (61 - 45) / 105, abs=1e-9)
    assert row["change_pp_dk_low"] == pytest.approx(100 * (56 - 45) / 105, abs=1e-9)
    assert row["change_pp_dk_high"] == pytest.approx(100 * (61 - 40) / 105, abs=1e-9)
    lo_cc, _ = confint_proportions_2indep(56, 100, 40, 100, method="newcomb")
    lo_neg, _ = confint_proportions_2indep(56, 105, 40, 105, method="newcomb")
    lo_pos, _ = confint_proportions_2indep(61, 105, 45, 105, method="newcomb")
    assert row["ci_low_pp"] == pytest.approx(100 * lo_cc, abs=1e-9)
    assert min(lo_cc, lo_neg, lo_pos) > 0  # an increase however they are counted: no sentence
    assert row["dont_know_note"] == "" and "don't-know" not in row["note"]
    # a smaller change: complete cases just an increase, don't-know as negative not
    row = compare_indicators(_independent_with_dont_know(40, 60, 12, 54, 46, 0), p).iloc[0]
    lo_cc, _ = confint_proportions_2indep(54, 100, 40, 100, method="newcomb")
    lo_neg, hi_neg = confint_proportions_2indep(54, 100, 40, 112, method="newcomb")
    lo_pos, hi_pos = confint_proportions_2indep(54, 100, 52, 112, method="newcomb")
    assert lo_cc > 0 and lo_neg > 0 and lo_pos <= 0 <= hi_pos
    assert (f"counting the 12 don't-know or refused answers as positive, the 95% CI of the change is "
            f"{100 * lo_pos:+.1f} to {100 * hi_pos:+.1f} pp, which includes no change") in row["dont_know_note"]


def test_dont_know_bounds_paired_leave_out_not_asked_and_zero_unknowns(make_responses, make_params):
    """Panel: a pair whose answer was not asked at one wave is not in the bounds; no unknowns: bounds = change."""
    r = make_responses({"parent": 200}, {"knows": (0.4, 0.5)}, missing_rate=0.1, seed=4)
    p = make_params(design="paired", groups={"parent": "Parents"},
                    indicators=[{"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows",
                                 "positive": ["yes"], "population": ["parent"]}])
    one = r.index[(r["wave"] == "endline") & r["knows"].notna()][0]
    r.loc[one, "knows"], r.loc[one, "knows_missing_reason"] = pd.NA, "not_asked"
    row = compare_indicators(r, p).iloc[0]
    b = r.loc[r["wave"] == "baseline"].set_index("respondent_id")
    e = r.loc[r["wave"] == "endline"].set_index("respondent_id")
    both = b.merge(e, left_index=True, right_index=True, suffixes=("_b", "_e"))
    known_or_dk = (both["knows_missing_reason_b"].fillna("") != "not_asked") & (both["knows_missing_reason_e"].fillna("") != "not_asked")
    both = both.loc[known_or_dk]
    # reference: hand arithmetic with pandas, don't know counted as negative at both waves
    ref = 100 * (both["knows_e"].fillna(False).astype(float).mean() - both["knows_b"].fillna(False).astype(float).mean())
    assert row["change_pp_dk_negative"] == pytest.approx(ref, abs=1e-9)
    assert row["n_dont_know"] == both["knows_b"].isna().sum() + both["knows_e"].isna().sum()
    clean = make_responses({"parent": 200}, {"knows": (0.4, 0.5)}, seed=4)
    row = compare_indicators(clean, p).iloc[0]
    assert row["n_dont_know"] == 0
    for c in ("change_pp_dk_negative", "change_pp_dk_positive", "change_pp_dk_low", "change_pp_dk_high"):
        assert row[c] == pytest.approx(row["change_pp"], abs=1e-9)


# --------------------------------------------------------------------------- pooling groups seen at one wave (issue 15 point 8)


def test_pooled_row_leaves_out_a_group_seen_at_one_wave(make_params):
    """The edge case of issue 15: the only two-wave group changes +10.0 pp; a group interviewed only at
    endline, with a high share, made the pooled row +21.8 pp. Pooled now = that group's comparison.
    Reference: scipy chi2_contingency(correction=False) on the two-wave group's table, tolerance 1e-10."""
    from scipy.stats import chi2_contingency

    r = _cross_sections({("parent", "baseline"): (40, 60), ("parent", "endline"): (50, 50),
                         ("staff", "endline"): (44, 8)})
    ind = [{"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
            "population": ["parent", "staff"]}]
    res = compare_indicators(r, make_params(design="independent", indicators=ind, min_cell_size=1))
    a = res.set_index("group")
    before = 100 * ((50 + 44) / (100 + 52) - 40 / 100)  # what the pooled row said before the fix
    assert round(before, 1) == 21.8
    assert a.loc["parent", "change_pp"] == pytest.approx(10.0, abs=1e-9)
    assert a.loc["all", "change_pp"] == pytest.approx(10.0, abs=1e-9)
    ref_p = chi2_contingency(np.array([[50, 50], [40, 60]]), correction=False)[1]
    assert a.loc["all", "p_value"] == pytest.approx(ref_p, rel=1e-10)
    assert "left out: staff (endline only)" in a.loc["all", "note"]
    assert a.loc["all", "p_holm"] == pytest.approx(a.loc["parent", "p_holm"], rel=1e-12)  # the same test, once
    assert np.isnan(a.loc["staff", "p_value"]) and "baseline" in a.loc["staff", "note"]


def test_pooled_row_unchanged_when_every_group_has_both_waves(make_params):
    r = _cross_sections({("parent", "baseline"): (40, 60), ("parent", "endline"): (50, 50),
                         ("staff", "baseline"): (10, 20), ("staff", "endline"): (15, 15)})
    ind = [{"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
            "population": ["parent", "staff"]}]
    row = compare_indicators(r, make_params(design="independent", indicators=ind, min_cell_size=1)).iloc[-1]
    assert row["group"] == "all" and row["change_pp"] == pytest.approx(100 * (65 / 130 - 50 / 130), abs=1e-9)
    assert "left out" not in row["note"]


def test_dont_know_sentence_never_on_a_suppressed_row(make_params):
    """The sentence quotes the row's change and CI: a suppressed row must not carry it."""
    ind = [{"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
            "population": ["parent", "staff"]}]
    counts = {("parent", "baseline"): (40, 60, 12), ("parent", "endline"): (54, 46, 0),
              ("staff", "baseline"): (4, 4, 1), ("staff", "endline"): (5, 3, 0)}
    loud = compare_indicators(_cross_sections(counts), make_params(design="independent", indicators=ind,
                                                                   min_cell_size=1)).set_index("group")
    assert "don't-know" in loud.loc["parent", "dont_know_note"]  # the sentence exists when published
    res = compare_indicators(_cross_sections(counts), make_params(design="independent", indicators=ind,
                                                                  min_cell_size=20)).set_index("group")
    # staff is small and parent is suppressed with it (complementary): neither carries numbers in its note
    for g in ("parent", "staff"):
        assert res.loc[g, "note"].startswith("suppressed") and res.loc[g, "dont_know_note"] == ""
        assert "don't-know" not in res.loc[g, "note"]
        assert pd.isna(res.loc[g, "n_dont_know"]) and pd.isna(res.loc[g, "change_pp_dk_low"])


def test_dont_know_sentence_left_out_of_design_based_rows(make_params):
    """Under a survey design the row's CI is design-based; the sentence's exact CIs would contradict it
    (a weighted sample gave a headline of +22 to +37 pp next to 'counting them as negative: -3.5 to +12.1')."""
    ind = [{"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows", "positive": ["yes"],
            "population": ["parent"]}]
    p = make_params(design="independent", groups={"parent": "Parents"}, indicators=ind)
    data = _independent_with_dont_know(40, 60, 12, 54, 46, 0)
    exact = compare_indicators(data, p).iloc[0]
    assert "don't-know" in exact["dont_know_note"]  # the same answers, unweighted: the sentence is there
    weights = np.random.default_rng(5).uniform(0.5, 2.0, len(data))
    row = compare_indicators(data.assign(weight=weights), p).iloc[0]
    assert row["variance_method"] == "taylor" and row["n_dont_know"] == 12
    assert row["dont_know_note"] == ""
    assert np.isfinite(row["change_pp_dk_negative"]) and np.isfinite(row["change_pp_dk_positive"])
