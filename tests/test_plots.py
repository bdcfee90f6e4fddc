"""Tests for evalkit.report.figures: data-driven alt text, deterministic SVG, embedded figures."""

from __future__ import annotations

import base64

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from test_report import CANARY, assert_no_injection, synthetic_reach, synthetic_responses, synthetic_results

from evalkit.report import figures as plots
from evalkit.params import load_params


@pytest.fixture(scope="module")
def data():
    p = load_params("together")
    responses = synthetic_responses(p)
    return p, responses, synthetic_results(p, responses)


def test_theme_figure_alt_text_has_the_numbers(data):
    p, _, results = data
    fig = plots.theme_figure(results, p, theme="knowledge")
    assert isinstance(fig, plots.ReportFigure) and fig.name == "theme_knowledge"
    row = results[(results["indicator"] == "good_knowledge") & (results["group"] == "parent_sen")].iloc[0]
    assert f"{row['baseline_pct']:.0f}% at baseline" in fig.alt
    assert f"{row['endline_pct']:.0f}% at endline" in fig.alt
    assert "95% confidence" in fig.alt and fig.caption


def test_plot_rows_drop_duplicate_pooled_row(data):
    p, _, results = data
    rows = plots.plot_rows(results, p, theme="practices")
    # adapted_lesson has a single-group population (staff): no separate "all" row.
    assert rows[rows["indicator"] == "adapted_lesson"]["group"].tolist() == ["staff"]
    assert rows[rows["indicator"] == "give_info"]["group"].tolist() == ["all", "parent_sen", "parent_nosen"]


def test_wilson_fallback_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    # Reference: statsmodels proportion_confint(method="wilson"), 45 of 120.
    lo, hi = proportion_confint(45, 120, alpha=0.05, method="wilson")
    row = pd.Series({"baseline_pct": 100 * 45 / 120, "n_baseline": 120})  # no CI columns: fallback
    got = plots.wave_ci(row, "baseline")
    assert got == pytest.approx((100 * lo, 100 * hi), abs=1e-9)
    given = pd.Series({"baseline_pct": 37.5, "baseline_ci_low_pct": 1.0, "baseline_ci_high_pct": 2.0})
    assert plots.wave_ci(given, "baseline") == (1.0, 2.0)  # compare's columns win


def test_svg_is_deterministic_and_not_in_pyplot(data):
    p, responses, results = data
    before = plt.get_fignums()
    a = plots.figure_svg(plots.theme_figure(results, p, theme="attitudes"))
    b = plots.figure_svg(plots.theme_figure(results, p, theme="attitudes"))
    assert a == b
    assert b"<dc:date>" not in a
    assert plt.get_fignums() == before  # never registered with pyplot: no double display in notebooks


def test_likert_distribution_sums_to_100(data):
    p, responses, _ = data
    d = plots.likert_distribution(responses, p, indicator="no_harm")
    shares = d[[f"level_{k}_pct" for k in range(1, 6)]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx([100.0, 100.0], abs=1e-9)
    # Direct count for level 5 at baseline over the indicator's population (parents only).
    base = responses[(responses["wave"] == "baseline") & responses["group"].isin(["parent_sen", "parent_nosen"])]
    lev = base["no_harm_level"].dropna()
    assert d.iloc[0]["level_5_pct"] == pytest.approx(100 * (lev == 5).mean(), abs=1e-9)


def test_likert_figure_none_without_likert_items(data):
    p, responses, _ = data
    assert plots.likert_figure(responses, p, theme="practices") is None
    assert plots.likert_figure(responses, p, theme="attitudes").alt.startswith("Diverging stacked bar chart")


def test_figure_html_embeds_svg_with_alt_and_caption(data):
    p, _, results = data
    fig = plots.theme_figure(results, p, theme="practices")
    html = plots.figure_html(fig)
    soup = BeautifulSoup(html, "html.parser")
    img = soup.find("figure").find("img")
    assert img["alt"] == fig.alt
    assert img["src"].startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(img["src"].split(",", 1)[1]).startswith(b"<?xml")
    assert soup.find("figcaption").get_text() == fig.caption
    assert plots.figure_html(None) == ""


def test_figure_html_escapes_alt_text(data):
    p, _, results = data
    fig = plots.theme_figure(results.assign(label=CANARY), p, theme="practices")
    bad = plots.ReportFigure(name=fig.name, figure=fig.figure, alt=CANARY, caption=CANARY)
    assert_no_injection(plots.figure_html(bad))


def test_dollar_signs_in_labels_are_not_mathtext(data):
    p, _, results = data
    # A label with "$" would start matplotlib mathtext (and fail on an unbalanced "$") unless escaped.
    import dataclasses

    bad = dataclasses.replace(p, indicators=[dataclasses.replace(i, label="costs $5 a $") for i in p.indicators],
                              groups={k: "$x" for k in p.groups})
    fig = plots.theme_figure(results, bad, theme="practices")
    assert b"costs $5 a $" in plots.figure_svg(fig)


def test_reach_figures():
    from evalkit import reach

    df = synthetic_reach()
    total = float(df["engagements"].sum())
    by_type = reach.reach_by_type(df)
    f1 = plots.reach_by_type_figure(by_type)
    assert f"{total / 1e6:.2f} million in total" in f1.alt
    f2 = plots.reach_over_time_figure(reach.reach_by_date(df), published=2_900_000)
    assert "2.90 million (dashed line)" in f2.alt
    assert f"reaching {total / 1e6:.2f} million" in f2.alt


def test_stage_comparison_figure():
    shared = pd.DataFrame({"indicator": ["x", "x"], "label": ["X", "X"], "stage": ["S1", "S2"], "year": [2019, 2022],
                           "baseline_pct": [40.0, 50.0], "endline_pct": [45.0, 55.0], "n_baseline": [100, 100],
                           "n_endline": [100, 100]})
    fig = plots.stage_comparison_figure(shared)
    assert "S1 40% to 45%" in fig.alt and "S2 50% to 55%" in fig.alt
    assert plots.stage_comparison_figure(shared.iloc[:0]) is None
    assert np.isfinite(plots.wave_ci(pd.Series({'endline_pct': 40.0, 'n': 100}), 'endline')).all()


def test_small_cells_are_not_drawn(data):
    p, _, results = data
    small = results.assign(n_baseline=results["n_baseline"].where(results["group"] != "staff", 4))
    rows = plots.plot_rows(small, p, theme="knowledge")
    assert "staff" not in set(rows["group"])
