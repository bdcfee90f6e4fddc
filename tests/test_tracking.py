"""Indicator tracking: every status checked against an independent rule on fixtures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import build_params
from openpyxl import load_workbook

from evalkit.report import tracking
from evalkit.errors import ConfigError
from evalkit.evaluation import Evaluation, Target
from evalkit.params import parse_params


def _row(indicator, group, *, n, end, end_lo, end_hi, change, lo, hi):
    return {"indicator": indicator, "group": group, "n_baseline": n, "n_endline": n, "baseline_pct": end - change,
            "endline_pct": end, "change_pp": change, "ci_low_pp": lo, "ci_high_pp": hi,
            "endline_ci_low_pct": end_lo, "endline_ci_high_pct": end_hi, "note": ""}


@pytest.fixture
def fixture_case():
    """Four targets: met (CI above), not met (CI below), not yet clear (CI contains), and one on a small cell."""
    params = build_params(min_cell_size=10)
    results = pd.DataFrame([
        _row("knows", "parent", n=200, end=70.0, end_lo=63.0, end_hi=76.0, change=12.0, lo=5.0, hi=19.0),
        _row("knows", "staff", n=150, end=40.0, end_lo=32.0, end_hi=48.0, change=1.0, lo=-6.0, hi=8.0),
        _row("knows", "all", n=350, end=57.0, end_lo=52.0, end_hi=62.0, change=7.0, lo=2.0, hi=12.0),
        _row("agrees", "parent", n=6, end=83.3, end_lo=41.1, end_hi=97.7, change=21.7, lo=-19.9, hi=61.3),
        _row("agrees", "all", n=6, end=80.0, end_lo=40.0, end_hi=96.0, change=20.0, lo=-20.0, hi=60.0),
    ])
    targets = [Target("knows", "parent", "endline_pct", 60.0, "logframe"),       # CI 63-76 above 60 -> met
               Target("knows", "staff", "change_pp", 10.0, "logframe"),         # CI -6 to 8 below 10 -> not met
               Target("knows", "all", "change_pp", 5.0, "proposal"),            # CI 2-12 contains 5 -> not yet clear
               Target("agrees", "parent", "endline_pct", 50.0, "proposal")]     # n = 6 < 10 -> no status
    return dataclasses.replace(params, evaluation=Evaluation(targets=targets)), results


def independent_status(lo: float, hi: float, target: float) -> str:
    """The rule written another way: where the target falls relative to the interval's two ends."""
    below_both = (target - lo) < 0 and (target - hi) < 0
    above_both = (target - lo) > 0 and (target - hi) > 0
    return {(True, False): "met", (False, True): "not met"}.get((below_both, above_both), "not yet clear")


def test_every_status_matches_an_independent_rule(fixture_case):
    params, results = fixture_case
    tab = tracking.tracking_table(results, params)
    assert tab.columns.tolist() == tracking.TRACKING_COLUMNS
    assert tab["status"].tolist() == ["met", "not met", "not yet clear", ""]
    for (_, t), target in zip(tab.iterrows(), params.evaluation.targets):
        if t["suppressed"]:
            continue
        src = results[(results.indicator == t.indicator) & (results.group == t.group)].iloc[0]
        lo, hi = ((src.endline_ci_low_pct, src.endline_ci_high_pct) if target.kind == "endline_pct"
                  else (src.ci_low_pp, src.ci_high_pp))
        assert (t.ci_low, t.ci_high) == (lo, hi)  # copied, not recomputed
        assert t.status == independent_status(lo, hi, target.value)


def test_target_on_a_suppressed_cell_shows_no_status_and_no_numbers(fixture_case):
    params, results = fixture_case
    tab = tracking.tracking_table(results, params)
    small = tab[tab.indicator == "agrees"].iloc[0]
    assert bool(small.suppressed) and small.status == ""
    assert small[["baseline_pct", "endline_pct", "estimate", "ci_low", "ci_high"]].isna().all()
    html = tracking.tracking_html(tab, params)
    assert "no status: group too small to publish" in html
    assert not any(x in html for x in ("83.3", "41.1", "97.7", "21.7", "61.3"))  # the small cell's figures never reach the page
    assert tracking.STATUS_RULE in html
    assert tracking.status_counts(tab) == {"met": 1, "not met": 1, "not yet clear": 1, "no status": 1}


def test_secondary_suppression_also_removes_the_status():
    """One group hidden by primary suppression and the pooled row shown: the smallest other group is hidden too."""
    params = build_params(min_cell_size=10)
    results = pd.DataFrame([
        _row("knows", "parent", n=5, end=70.0, end_lo=40.0, end_hi=90.0, change=10.0, lo=-20.0, hi=40.0),
        _row("knows", "staff", n=50, end=70.0, end_lo=63.0, end_hi=76.0, change=12.0, lo=5.0, hi=19.0),
        _row("knows", "all", n=55, end=70.0, end_lo=63.0, end_hi=76.0, change=12.0, lo=5.0, hi=19.0),
    ])
    p = dataclasses.replace(params, evaluation=Evaluation(targets=[Target("knows", "staff", "endline_pct", 60.0)]))
    row = tracking.tracking_table(results, p).iloc[0]
    assert bool(row.suppressed) and row.status == ""


@pytest.mark.parametrize(("lo", "hi", "target", "expected"), [
    (60.0, 70.0, 60.0, "not yet clear"),   # lower end equal to the target: not entirely above
    (50.0, 60.0, 60.0, "not yet clear"),   # upper end equal
    (60.0, 60.0, 60.0, "not yet clear"),   # zero-width interval on the target
    (0.0, 0.0, 0.0, "not yet clear"),
    (100.0, 100.0, 99.0, "met"),
    (np.nan, 10.0, 5.0, ""),               # no interval: no status
])
def test_status_edges(lo, hi, target, expected):
    assert tracking.status_from_ci(lo, hi, target) == expected
    if expected:
        assert independent_status(lo, hi, target) == expected


def test_no_targets_gives_no_table():
    params = build_params()
    tab = tracking.tracking_table(pd.DataFrame(), params)
    assert tab.empty and tracking.tracking_html(tab, params) == ""


def test_csv_and_xlsx_carry_the_same_rows(fixture_case, tmp_path):
    params, results = fixture_case
    tab = tracking.tracking_table(results, params)
    tab.loc[0, "target_source"] = "=HYPERLINK(\"x\")"  # a formula canary
    csv, xlsx = tracking.write_tracking(tab, tmp_path)
    back = pd.read_csv(csv, keep_default_na=False)
    assert back["status"].tolist() == ["met", "not met", "not yet clear", ""]
    ws = load_workbook(xlsx)["tracking"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == tracking.TRACKING_COLUMNS
    status = [r[tracking.TRACKING_COLUMNS.index("status")] for r in rows[1:]]
    assert status == ["met", "not met", "not yet clear", None]
    src = rows[1][tracking.TRACKING_COLUMNS.index("target_source")]
    assert src.startswith("'=") and back.loc[0, "target_source"].startswith("'=")


def test_a_target_on_an_unknown_indicator_is_refused():
    base = build_params()
    data = {"campaign": "testcamp", "title": "T", "stage": "S", "design": "paired",
            "campaign_period": {"start": "2022-01-01", "end": "2022-01-31"},
            "raw": {"codebook": "kap_form.xlsx", "baseline": {"file": "b.csv", "fieldwork": {"start": "2022-01-01", "end": "2022-01-02"}},
                    "endline": {"file": "e.csv", "fieldwork": {"start": "2022-01-01", "end": "2022-01-02"}}},
            "columns": {"respondent_id": "resp/id", "group": "resp/type", "consent": "consent"},
            "groups": dict(base.groups),
            "indicators": [dataclasses.asdict(base.indicators[0])],
            "evaluation": {"targets": [{"indicator": "nope", "group": "all", "kind": "change_pp", "value": 5}]}}
    with pytest.raises(ConfigError, match=r"evaluation.targets\[0\].indicator"):
        parse_params(data, source="test params")
