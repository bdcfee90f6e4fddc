"""Issue 13: scales (3/4/7 points, reverse-coded), numeric indicators, knowledge scores, mode.

A small XLSForm and a raw Kobo-style CSV export (XML headers, summary and 0/1
columns) are written here with a seeded generator; every reference value is
recomputed from the raw CSV cells with plain pandas, or with an independent
library (statsmodels, scipy), never with evalkit's own functions.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

import fixtures_raw as fx
from evalkit.codebook import harmonise
from evalkit.compare import compare_indicators
from evalkit.indicator_spec import codebook_problems
from evalkit.indicators import build_responses
from evalkit.params import parse_params
from evalkit.readers import read_codebook, read_export

SURVEY = [
    ("start", "start", "", ""), ("end", "end", "", ""), ("username", "username", "", ""),
    ("select_one yes_no", "consent", "Consent", "Consent"),
    ("begin_group", "resp", "Respondent", "R"), ("text", "resp_id", "ID", "ID"),
    ("select_one resp_type", "resp_type", "Type", "Type"), ("end_group", "", "", ""),
    ("begin_group", "att", "Attitudes", "A"),
    ("select_one agree3", "a3", "Three-point item", "3"), ("select_one agree4", "a4", "Four-point item", "4"),
    ("select_one agree7", "a7", "Seven-point item, negatively worded", "7"), ("end_group", "", "", ""),
    ("begin_group", "num", "Numbers", "N"), ("integer", "meals", "Meals yesterday", "M"), ("end_group", "", "", ""),
    ("begin_group", "know", "Knowledge", "K"),
    ("select_one yes_no_dk", "k1", "Can a child with SEN learn at a regular school?", "k1"),
    ("select_one yes_no_dk", "k2", "Is a disability contagious?", "k2"),
    ("select_multiple sign", "k3", "Which are signs of a hearing difficulty?", "k3"), ("end_group", "", "", ""),
    ("select_one yes_no", "soap_seen", "Soap seen at the hand-washing place (enumerator)", "S"),
]
A7 = [f"l{k}" for k in range(1, 8)]
CHOICES = ([("yes_no", "yes", "Yes", "Y"), ("yes_no", "no", "No", "N"),
            ("resp_type", "parent", "Parent", "P"), ("resp_type", "staff", "Staff", "S")]
           + [("agree3", n, n, n) for n in ("disagree", "neutral", "agree", "dont_know")]
           + [("agree4", n, n, n) for n in ("sd", "d", "a", "sa")]
           + [("agree7", n, n, n) for n in A7]
           + [("yes_no_dk", n, n, n) for n in ("yes", "no", "dont_know", "refused")]
           + [("sign", n, n, n) for n in ("a", "b", "c", "d")])
SIGNS = ["a", "b", "c", "d"]
N = 80


def _rows(rng: np.random.Generator, wave: str) -> list[dict]:
    shift = 1 if wave == "endline" else 0
    rows = []
    for i in range(N):
        day = "2022-01-18" if wave == "baseline" else "2022-03-08"
        signs = [s for s in SIGNS if rng.random() < 0.4 + 0.1 * shift]
        meals = str(int(rng.integers(0, 5) + shift * rng.integers(0, 2)))
        if rng.random() < 0.08:
            meals = str(rng.choice(["98", "99"]))
        if rng.random() < 0.05:
            meals = ""
        rows.append({
            "start": f"{day}T10:00:00.000+08:00", "end": f"{day}T10:20:00.000+08:00", "username": "enum1",
            "consent": "yes", "resp/resp_id": f"R{i:03d}", "resp/resp_type": "parent" if i % 3 else "staff",
            "att/a3": str(rng.choice(["disagree", "neutral", "agree", "dont_know"], p=[.3, .3, .35, .05])),
            "att/a4": str(rng.choice(["sd", "d", "a", "sa"])), "att/a7": str(rng.choice(A7)),
            "num/meals": meals,
            "know/k1": str(rng.choice(["yes", "no", "dont_know"], p=[.5 + .2 * shift, .4 - .2 * shift, .1])),
            "know/k2": "" if rng.random() < 0.05 else str(rng.choice(["yes", "no", "refused"], p=[.4, .55, .05])),
            "know/k3": " ".join(signs),
            "soap_seen": str(rng.choice(["yes", "no"])),
        })
    return rows


def _write_csv(path, rows):
    head = ["start", "end", "username", "consent", "resp/resp_id", "resp/resp_type", "att/a3", "att/a4", "att/a7",
            "num/meals", "know/k1", "know/k2", "know/k3", *[f"know/k3/{s}" for s in SIGNS], "soap_seen", "_uuid"]
    body = []
    for j, r in enumerate(rows):
        dummies = [("1" if s in r["know/k3"].split() else "0") if r["know/k3"] else "" for s in SIGNS]
        body.append([r[h] for h in head[:13]] + dummies + [r["soap_seen"], f"u-{path.stem}-{j}"])
    return fx.write_csv(path, head, body)


INDICATORS = [
    {"id": "s3", "label": "Agrees (3-point)", "theme": "attitudes", "question": "att/a3", "type": "scale",
     "levels": ["disagree", "neutral", "agree"], "positive": ["agree"], "population": ["parent", "staff"]},
    {"id": "s4", "label": "Agrees (4-point)", "theme": "attitudes", "question": "att/a4", "type": "scale",
     "levels": ["sd", "d", "a", "sa"], "positive": ["a", "sa"], "population": ["parent", "staff"]},
    {"id": "s7", "label": "Rejects the negative statement (7-point, reverse-coded)", "theme": "attitudes",
     "question": "att/a7", "type": "scale", "levels": A7, "reverse": True, "positive": ["l1", "l2"],
     "population": ["parent", "staff"]},
    {"id": "meals", "label": "Meals yesterday", "theme": "practices", "question": "num/meals", "type": "numeric",
     "dont_know_codes": [98], "refused_codes": [99], "population": ["parent", "staff"]},
    {"id": "knows", "label": "Good knowledge (2 of 3 items)", "theme": "knowledge", "type": "score",
     "items": [{"question": "know/k1", "correct": ["yes"]}, {"question": "know/k2", "correct": ["no"]},
               {"question": "know/k3", "correct": ["a", "b"], "mentions": "all"}],
     "cut_off": 0.66, "population": ["parent", "staff"]},
    {"id": "soap", "label": "Soap at the hand-washing place", "theme": "practices", "question": "soap_seen",
     "positive": ["yes"], "mode": "observed", "population": ["parent"]},
]


def _params_data(design: str = "paired", indicators=None, **extra) -> dict:
    wave = {"file": "x.csv", "fieldwork": {"start": "2022-01-17", "end": "2022-03-30"}}
    return {"campaign": "kinds", "title": "T", "stage": "S", "design": design,
            "campaign_period": {"start": "2022-02-01", "end": "2022-02-28"},
            "raw": {"codebook": "form.xlsx", "baseline": wave, "endline": wave},
            "columns": {"respondent_id": "resp/resp_id", "group": "resp/resp_type", "consent": "consent"},
            "groups": {"parent": "Parents", "staff": "Staff"}, "indicators": indicators or INDICATORS,
            "min_cell_size": 5, **extra}


def _params(design: str = "paired", indicators=None):
    return parse_params(_params_data(design, indicators))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(codebook, {wave: (raw text frame, harmonised answers)}) from the seeded exports."""
    tmp = tmp_path_factory.mktemp("kinds")
    codebook = read_codebook(fx.write_codebook(tmp / "form.xlsx", survey=SURVEY, choices=CHOICES))
    rng = np.random.default_rng(13)
    out = {}
    from evalkit.params import DateRange, WaveFile
    import datetime as dt
    wf = WaveFile(file="x.csv", fieldwork=DateRange(dt.date(2022, 1, 17), dt.date(2022, 3, 30)))
    for wave in ("baseline", "endline"):
        path = _write_csv(tmp / f"{wave}.csv", _rows(rng, wave))
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        answers = harmonise(read_export(path, wf), codebook, wave_file=wf, file=path.name)
        out[wave] = (raw, answers)
    return codebook, out


def _responses(exported, params):
    parts = []
    for wave, (_, answers) in exported[1].items():
        parts.append(build_responses(answers, params, wave=wave, respondent_id=answers["resp/resp_id"]))
    return pd.concat(parts, ignore_index=True)


def test_every_definition_fits_the_codebook(exported):
    codebook, _ = exported
    assert codebook_problems(_params().indicators, codebook, missing_choices=("dont_know", "refused")) == []


@pytest.mark.parametrize("ind_id, column, levels, reverse", [
    ("s3", "att/a3", ["disagree", "neutral", "agree"], False),
    ("s4", "att/a4", ["sd", "d", "a", "sa"], False),
    ("s7", "att/a7", A7, True),
])
def test_scale_levels_and_positive_share_match_the_raw_cells(exported, ind_id, column, levels, reverse):
    params = _params()
    responses = _responses(exported, params)
    positive = params.indicator(ind_id).positive
    for wave, (raw, _) in exported[1].items():
        got = responses[responses.wave == wave]
        cells = raw[column]
        # reference: position in the declared order, counted from the other end when reverse-coded
        ref_level = [(len(levels) - levels.index(c) if reverse else levels.index(c) + 1) if c in levels else None
                     for c in cells]
        assert [None if pd.isna(v) else int(v) for v in got[f"{ind_id}_level"]] == ref_level
        ref_pos = [(c in positive) if c in levels else None for c in cells]
        assert [None if pd.isna(v) else bool(v) for v in got[ind_id]] == ref_pos


def test_scale_rank_test_runs_on_any_number_of_points(exported):
    params = _params()
    table = compare_indicators(_responses(exported, params), params)
    for ind_id, k in (("s3", 3), ("s4", 4), ("s7", 7)):
        row = table[(table.indicator == ind_id) & (table.group == "all")].iloc[0]
        assert row["likert_test"] == "wilcoxon_signed_rank" and row["indicator_type"] == "scale"
        # reference: scipy's signed-rank test with Pratt's zero handling on the paired levels
        r = _responses(exported, params)
        b = r[r.wave == "baseline"].set_index("respondent_id")[f"{ind_id}_level"].astype(float)
        e = r[r.wave == "endline"].set_index("respondent_id")[f"{ind_id}_level"].astype(float)
        both = b.index[(b.notna() & e.reindex(b.index).notna()).to_numpy()]
        ref = sps.wilcoxon(e[both], b[both], zero_method="pratt", method="approx", correction=True)  # as stats.paired
        assert row["likert_p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
        assert b.max() <= k


def test_reverse_coding_flips_the_level_but_not_the_positive_share(exported):
    ind = dict(INDICATORS[2])
    plain = _params(indicators=[ind | {"reverse": False}])
    reverse = _params(indicators=[ind])
    a, b = _responses(exported, plain), _responses(exported, reverse)
    assert a["s7"].tolist() == b["s7"].tolist()
    ok = a["s7_level"].notna()
    assert ((a.loc[ok, "s7_level"].astype(int) + b.loc[ok, "s7_level"].astype(int)) == 8).all()


def test_numeric_values_and_dont_know_codes_match_the_raw_cells(exported):
    params = _params()
    responses = _responses(exported, params)
    for wave, (raw, _) in exported[1].items():
        got = responses[responses.wave == wave]
        cells = raw["num/meals"]
        ref = [float(c) if c not in ("", "98", "99") else None for c in cells]
        assert [None if pd.isna(v) else float(v) for v in got["meals"]] == ref
        ref_reason = [{"98": "dont_know", "99": "refused", "": "not_asked"}.get(c) for c in cells]
        assert [None if pd.isna(v) else v for v in got["meals_missing_reason"]] == ref_reason
        assert {"98", "99", ""} <= set(cells)  # not vacuous


def _pairs(responses, column, group=None):
    r = responses if group is None else responses[responses.group == group]
    b = r[r.wave == "baseline"].set_index("respondent_id")[column].astype(float)
    e = r[r.wave == "endline"].set_index("respondent_id")[column].astype(float)
    both = b.index.intersection(e.index)
    ok = b[both].notna() & e[both].notna()
    return b[both][ok].to_numpy(), e[both][ok].to_numpy()


def test_numeric_paired_mean_and_median_against_statsmodels_and_order_statistics(exported):
    params = _params()
    responses = _responses(exported, params)
    table = compare_indicators(responses, params)
    row = table[(table.indicator == "meals") & (table.group == "all")].iloc[0]
    b, e = _pairs(responses, "meals")
    d = DescrStatsW(e - b)  # statsmodels: t interval of the mean difference
    low, high = d.tconfint_mean(alpha=0.05)
    assert row["test"] == "paired_t" and row["n"] == len(b)
    assert row["change_mean"] == pytest.approx((e - b).mean(), abs=1e-12)
    assert (row["change_mean_ci_low"], row["change_mean_ci_high"]) == pytest.approx((low, high), rel=1e-9)
    assert row["p_value"] == pytest.approx(d.ttest_mean(0)[1], rel=1e-9)
    assert row["baseline_mean"] == pytest.approx(b.mean(), abs=1e-12)
    assert np.isnan(row["baseline_pct"]) and np.isnan(row["change_pp"])
    # median of the differences; interval [d_(k), d_(n+1-k)], k the largest with P(Bin(n, 1/2) < k) <= alpha/2
    # (Conover 1999, section 3.2)
    diffs = np.sort(e - b)
    n = len(diffs)
    k = max(j for j in range(1, n // 2 + 1) if sps.binom.cdf(j - 1, n, 0.5) <= 0.025)
    assert row["change_median"] == pytest.approx(np.median(diffs), abs=1e-12)
    assert (row["change_median_ci_low"], row["change_median_ci_high"]) == pytest.approx(
        (diffs[k - 1], diffs[n - k]), abs=1e-12)


def test_numeric_independent_mean_against_statsmodels_welch(exported):
    params = _params("independent")
    responses = _responses(exported, params)
    table = compare_indicators(responses, params)
    row = table[(table.indicator == "meals") & (table.group == "parent")].iloc[0]
    r = responses[responses.group == "parent"]
    b = r.loc[r.wave == "baseline", "meals"].dropna().astype(float).to_numpy()
    e = r.loc[r.wave == "endline", "meals"].dropna().astype(float).to_numpy()
    cm = CompareMeans.from_data(e, b)
    low, high = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    assert row["test"] == "welch_t"
    assert (row["n_baseline"], row["n_endline"]) == (len(b), len(e))
    assert (row["change_mean_ci_low"], row["change_mean_ci_high"]) == pytest.approx((low, high), rel=1e-9)
    assert row["p_value"] == pytest.approx(cm.ttest_ind(usevar="unequal")[1], rel=1e-9)
    assert row["change_median"] == pytest.approx(np.median(e) - np.median(b), abs=1e-12)
    assert row["change_median_ci_low"] <= row["change_median"] <= row["change_median_ci_high"]


def _score_reference(raw: pd.DataFrame) -> list:
    """Items answered correctly, from the raw cells (k3 from its 0/1 columns); None if an item is empty."""
    out = []
    for _, r in raw.iterrows():
        if "" in (r["know/k1"], r["know/k2"], r["know/k3"]):
            out.append(None)
            continue
        out.append(int(r["know/k1"] == "yes") + int(r["know/k2"] == "no")
                   + int(r["know/k3/a"] == "1" and r["know/k3/b"] == "1"))
    return out


def test_score_and_good_knowledge_match_the_raw_cells(exported):
    params = _params()
    responses = _responses(exported, params)
    for wave, (raw, _) in exported[1].items():
        got = responses[responses.wave == wave]
        ref = _score_reference(raw)
        assert [None if pd.isna(v) else int(v) for v in got["knows_score"]] == ref
        # cut_off 0.66 of 3 items = 1.98: good knowledge means 2 or 3 correct
        assert [None if pd.isna(v) else bool(v) for v in got["knows"]] == [None if s is None else s >= 2 for s in ref]
        assert None in ref and 0 in ref and 3 in ref  # not vacuous


def test_score_summary_alpha_against_the_textbook_formula(exported):
    from evalkit.scores import score_distribution, score_summary

    params = _params()
    responses = _responses(exported, params)
    summary = score_summary(responses, params)
    dist = score_distribution(responses, params)
    for wave in ("baseline", "endline"):
        r = responses[(responses.wave == wave) & responses.knows_score.notna()]
        items = r[["knows_item1", "knows_item2", "knows_item3"]].astype(float)
        k = items.shape[1]
        # Cronbach (1951): k / (k - 1) * (1 - sum of item variances / variance of the total)
        alpha = k / (k - 1) * (1 - items.var(ddof=1).sum() / items.sum(axis=1).var(ddof=1))
        row = summary[summary.wave == wave].iloc[0]
        assert row["cronbach_alpha"] == pytest.approx(alpha, abs=1e-9)
        assert row["mean_score"] == pytest.approx(r.knows_score.astype(float).mean(), abs=1e-12)
        assert row["mean_score_pct"] == pytest.approx(100 * r.knows_score.astype(float).mean() / 3, abs=1e-9)
        assert row["good_pct"] == pytest.approx(100 * (r.knows_score.astype(float) >= 2).mean(), abs=1e-9)
        d = dist[dist.wave == wave]
        assert d["score"].tolist() == [0, 1, 2, 3] and d["n"].sum() == len(r)


def test_score_row_in_results_has_good_knowledge_share_and_mean_score(exported):
    params = _params()
    responses = _responses(exported, params)
    row = compare_indicators(responses, params).query("indicator == 'knows' and group == 'all'").iloc[0]
    b, e = _pairs(responses, "knows_score")
    assert row["change_mean"] == pytest.approx((e - b).mean(), abs=1e-12)
    gb, ge = _pairs(responses, "knows")
    assert row["baseline_pct"] == pytest.approx(100 * gb.mean(), abs=1e-9)
    assert row["test"] == "mcnemar_midp"


def test_mode_is_in_results_as_the_params_give_it(exported):
    params = _params()
    table = compare_indicators(_responses(exported, params), params)
    assert set(table.loc[table.indicator == "soap", "mode"]) == {"observed"}
    assert set(table.loc[table.indicator == "s3", "mode"]) == {"self_reported"}
    assert params.indicator("soap").mode == "observed" and params.indicator("s3").mode == "self_reported"


def test_every_codebook_problem_is_collected_in_one_list(exported):
    codebook, _ = exported
    bad = [
        INDICATORS[0] | {"levels": ["disagree", "agree"] + ["neutral"], "question": "att/a3"},  # fine levels
        INDICATORS[1] | {"levels": ["sd", "d", "a"], "positive": ["a"]},  # 'sa' is neither a level nor DK
        INDICATORS[3] | {"question": "att/a4"},  # numeric on a select_one
        INDICATORS[4] | {"items": [{"question": "know/k9", "correct": ["yes"]},
                                   {"question": "know/k1", "correct": ["true"]}]},
        INDICATORS[5] | {"positive": ["oui"]},
    ]
    problems = codebook_problems(_params(indicators=bad).indicators, codebook, missing_choices=("dont_know",))
    text = "\n".join(problems)
    assert len(problems) == 5, text
    assert "'sa'" in text or "sa of att/a4" in text
    assert "numeric indicator needs a question of type integer or decimal or range, but att/a4 is select_one" in text
    assert "'know/k9' is not a question" in text and "'true' is not a choice of know/k1" in text
    assert "'oui' is not a choice of soap_seen (yes, no)" in text


K1 = {"id": "k1_yes", "label": "Says yes", "theme": "knowledge", "question": "know/k1", "positive": ["yes"],
      "population": ["parent", "staff"]}


@pytest.mark.parametrize("policy", ["excluded", "negative"])
def test_dont_know_policy_sets_the_denominator_as_recomputed_from_raw_cells(exported, policy):
    params = _params("independent", indicators=[K1 | {"denominator": {"dont_know": policy}}])
    responses = _responses(exported, params)
    table = compare_indicators(responses, params)
    row = table.query("indicator == 'k1_yes' and group == 'all'").iloc[0]
    moves = []
    for wave, (raw, _) in exported[1].items():
        cells = raw["know/k1"]
        yes, no, dk = (cells == "yes").sum(), (cells == "no").sum(), (cells == "dont_know").sum()
        assert dk > 0 and not cells.isin(["refused", "refuse"]).any()  # the one reason whose policy is flipped
        denominator = yes + no + (dk if policy == "negative" else 0)
        assert row[f"{wave}_pct"] == pytest.approx(100 * yes / denominator, abs=1e-9)
        # the other choice, recomputed by hand, and the margin of error of the published interval
        other = 100 * yes / (yes + no + (dk if policy == "excluded" else 0))
        moe = (row[f"{wave}_ci_high_pct"] - row[f"{wave}_ci_low_pct"]) / 2
        moves.append(abs(other - row[f"{wave}_pct"]) > moe)
    # flagged exactly when the hand-computed shift exceeds a wave's margin of error (here it does not;
    # test_a_denominator_choice_that_moves_a_percentage_beyond_its_margin_of_error_is_flagged has the other case)
    assert bool(row["denominator_flag"]) == any(moves)
    assert ("denominator choice matters" in row["note"]) == any(moves)
    shifts = []
    for wave, (raw, _) in exported[1].items():
        cells = raw["know/k1"]
        yes, no, dk = (cells == "yes").sum(), (cells == "no").sum(), (cells == "dont_know").sum()
        now = yes / (yes + no + (dk if policy == "negative" else 0))
        flipped = yes / (yes + no + (dk if policy == "excluded" else 0))
        shifts.append(100 * (flipped - now))
    assert row["denominator_shift_pp"] == pytest.approx(max(shifts, key=abs), abs=1e-9)


def test_not_asked_can_count_as_negative_and_is_flagged_when_it_matters():
    from evalkit.indicators import indicator_columns
    from evalkit.indicator_spec import Denominator, Indicator

    answers = pd.Series(["yes"] * 6 + ["no"] * 2 + [None] * 4 + ["dont_know"] * 2 + ["yes"], dtype=object)
    group = pd.Series(["p"] * 14 + ["other"])  # the last respondent is outside the population
    ind = Indicator(id="x", label="X", theme="practices", question="q", positive=["yes"], population=["p"],
                    denominator=Denominator(not_asked="negative", refused="negative"))
    out = indicator_columns(answers, group, ind, dont_know=["dont_know"], refused=["refused"])
    values = out["x"].tolist()
    assert values[:12] == [True] * 6 + [False] * 2 + [False] * 4  # empty answers of the population: negative
    assert pd.isna(values[12]) and pd.isna(values[14])  # don't know still excluded; outside the population: missing
    assert out["x_missing_reason"].tolist()[8:12] == ["not_asked"] * 4  # the reason is kept


def test_a_denominator_choice_that_moves_a_percentage_beyond_its_margin_of_error_is_flagged():
    # 40 yes, 20 no, 40 don't know per wave: excluded 66.7%, counted negative 40%; the 95% Wilson
    # half-width at n = 60 is about 12 pp, so the flip (26.7 pp) exceeds it.
    n = 100
    values = [True] * 40 + [False] * 20 + [None] * 40
    reasons = [None] * 60 + ["dont_know"] * 40
    responses = pd.DataFrame({
        "respondent_id": [f"b{i}" for i in range(n)] + [f"e{i}" for i in range(n)],
        "wave": ["baseline"] * n + ["endline"] * n, "group": ["parent"] * (2 * n), "weight": 1.0,
        "k1_yes": pd.array(values * 2, dtype="boolean"), "k1_yes_missing_reason": reasons * 2})
    params = _params("independent", indicators=[K1 | {"population": ["parent"]}])
    row = compare_indicators(responses, params).query("group == 'parent'").iloc[0]
    assert row["endline_pct"] == pytest.approx(200 / 3, abs=1e-9)
    assert row["denominator_shift_pp"] == pytest.approx(40 - 200 / 3, abs=1e-9)
    assert bool(row["denominator_flag"])
    assert "'don't know' answers counted as negative the baseline percentage would be 40.0% instead of 66.7%" \
        in row["note"]


def test_report_tables_show_a_numeric_indicator_as_means_and_read_its_change(exported):
    import re

    from evalkit.report import results_table

    params = _params()
    results = compare_indicators(_responses(exported, params), params)
    html = results_table(results, params)
    text = re.sub(r"<[^>]+>", " ", html[html.find("Meals yesterday"):])
    row = results.query("indicator == 'meals' and group == 'all'").iloc[0]
    assert f"mean {row['baseline_mean']:.2f}" in text and f"{row['change_mean']:+.2f}" in text
    assert "not enough data to test" not in text.split("Parents")[0]


@pytest.mark.parametrize("change, key", [
    (lambda i: i[3].update(denominator={"dont_know": "negative"}), "indicators[3].denominator"),
    (lambda i: i[3].update(positive=["1"]), "indicators[3].positive"),
    (lambda i: i[4].update(cut_off=1.5), "indicators[4].cut_off"),
    (lambda i: i[4].update(items=[]), "indicators[4].items"),
    (lambda i: i[0].update(levels=["disagree", "agree"]), "indicators[0].levels"),
    (lambda i: i[1].update(levels=["sd", "d", "a", "a"]), "indicators[1].levels"),
    (lambda i: i[5].update(reverse=True), "indicators[5].levels"),
    (lambda i: i[5].update(dont_know_codes=[98]), "indicators[5].dont_know_codes"),
    (lambda i: i[3].pop("question"), "indicators[3].question"),
])
def test_definitions_that_cannot_be_computed_are_refused_naming_the_key(change, key):
    import copy

    from evalkit.errors import ConfigError

    indicators = copy.deepcopy(INDICATORS)
    change(indicators)
    with pytest.raises(ConfigError, match=re.escape(key)):
        _params(indicators=indicators)


def test_a_published_percentage_cannot_be_checked_against_a_numeric_indicator():
    from evalkit.errors import ConfigError

    data = _params_data(claims=[{"id": "C1", "text": "More meals", "indicator": "meals", "group": "all", "kind": "increase"}])
    with pytest.raises(ConfigError, match=r"claims\[0\].indicator.*numeric indicator"):
        parse_params(data)


def test_report_scores_section_shows_mean_alpha_and_hides_small_distribution_cells(exported):
    from evalkit.report import scores_html
    from evalkit.scores import score_distribution, score_summary

    params = _params()
    responses = _responses(exported, params)
    html = scores_html(responses, params)
    summary = score_summary(responses, params)
    for r in summary.itertuples():
        assert f"{r.mean_score:.2f} of 3" in html and f"{r.cronbach_alpha:.2f}" in html
    dist = score_distribution(responses, params)
    small = dist[(dist.n > 0) & (dist.n < params.min_cell_size)]
    assert len(small) and html.count("not shown (small group)") >= len(small)
    for r in small.itertuples():  # the hidden shares are not printed anywhere
        assert f">{r.pct:.1f}%<" not in html and f">{r.pct:.0f}%<" not in html
    assert scores_html(responses, _params(indicators=[INDICATORS[0]])) == ""


def test_a_percentage_target_cannot_be_set_on_a_numeric_indicator():
    from evalkit.errors import ConfigError

    data = _params_data(evaluation={"targets": [{"indicator": "meals", "group": "all", "kind": "endline_pct", "value": 50}]})
    with pytest.raises(ConfigError, match=r"evaluation.targets\[0\].indicator.*numeric"):
        parse_params(data)
