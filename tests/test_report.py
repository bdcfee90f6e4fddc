"""Tests for evalkit.report: escaping, readings, summary text, balance, don't-know, provenance.

The builders at the top make small synthetic inputs of exactly the processed
and results shapes (docs/design.md); tests/test_plots.py, test_htmlexport.py,
test_index.py and test_browser.py reuse them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from evalkit import report
from evalkit.report import framing
from evalkit.params import Params, load_params

CANARY = '<img src=x onerror=alert(1)><script>alert("x")</script>'


# --------------------------------------------------------------------------- builders


def synthetic_responses(params: Params, *, n: int = 60, seed: int = 1, attrition: float = 0.15) -> pd.DataFrame:
    """``responses.parquet``-shaped data for ``params`` (panel ids if paired, fresh ids if independent)."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in params.groups:
        for i in range(n):
            for wave in ("baseline", "endline"):
                rid = f"{g}-{i:03d}" if params.design == "paired" else f"{g}-{wave}-{i:03d}"
                r = {"respondent_id": rid, "wave": wave, "group": g, "weight": 1.0,
                     "interview_date": (params.raw.baseline if wave == "baseline" else params.raw.endline).fieldwork.start}
                for k in params.demographics:
                    r[k] = str(rng.choice(["urban", "rural"] if k == "location" else ["a", "b", "c"]))
                for ind in params.indicators:
                    r[f"{ind.id}_missing_reason"] = pd.NA
                    if ind.type == "likert":
                        r[f"{ind.id}_level"] = pd.NA
                    if g not in ind.population:
                        r[ind.id], r[f"{ind.id}_missing_reason"] = pd.NA, "not_asked"
                    elif rng.random() < 0.05:
                        r[ind.id], r[f"{ind.id}_missing_reason"] = pd.NA, "dont_know"
                    elif ind.type == "likert":
                        lev = int(rng.integers(1, 6) if wave == "baseline" else min(5, rng.integers(2, 7)))
                        r[f"{ind.id}_level"], r[ind.id] = lev, lev >= 4
                    else:
                        r[ind.id] = bool(rng.random() < (0.45 if wave == "baseline" else 0.6))
                rows.append(r)
    df = pd.DataFrame(rows)
    if params.design == "paired" and attrition > 0:
        drop = df[df["wave"] == "endline"].sample(frac=attrition, random_state=seed).index
        df = df.drop(drop).reset_index(drop=True)
    for ind in params.indicators:
        df[ind.id] = df[ind.id].astype("boolean")
        df[f"{ind.id}_missing_reason"] = df[f"{ind.id}_missing_reason"].astype("string")
        if ind.type == "likert":
            df[f"{ind.id}_level"] = df[f"{ind.id}_level"].astype("Int8")
    return df


def synthetic_results(params: Params, responses: pd.DataFrame) -> pd.DataFrame:
    """results.csv from the real evalkit.compare on ``responses``."""
    from evalkit.compare import compare_indicators

    return compare_indicators(responses, params)


def synthetic_claims(params: Params, results: pd.DataFrame) -> pd.DataFrame:
    """claims.csv-shaped rows: estimate = the matching results value, verdict by CI."""
    rows = []
    for c in params.claims:
        r = results[(results["indicator"] == c.indicator) & (results["group"] == c.group)].iloc[0]
        if c.kind == "endline_pct":
            est, lo, hi, pub = r["endline_pct"], r["endline_ci_low_pct"], r["endline_ci_high_pct"], c.value
        elif c.kind == "baseline_pct":
            est, lo, hi, pub = r["baseline_pct"], r["baseline_ci_low_pct"], r["baseline_ci_high_pct"], c.value
        else:
            est, lo, hi = r["change_pp"], r["ci_low_pp"], r["ci_high_pp"]
            pub = c.value if c.kind == "change_pp" else (c.endline - c.baseline if c.endline is not None else None)
        verdict = "not testable" if pub is None else ("consistent" if lo <= pub <= hi else "not consistent")
        rows.append(dict(claim_id=c.id, text=c.text, indicator=c.indicator, group=c.group, kind=c.kind,
                         published=pub, estimate=est, ci_low=lo, ci_high=hi, verdict=verdict, note=""))
    return pd.DataFrame(rows, columns=["claim_id", "text", "indicator", "group", "kind", "published", "estimate",
                                       "ci_low", "ci_high", "verdict", "note"])


def synthetic_subgroups(params: Params) -> pd.DataFrame:
    """subgroups.csv-shaped rows, one suppressed level per breakdown."""
    rows = []
    for ind in params.indicators:
        for s in params.subgroups:
            for lev, n in (("urban", 40), ("rural", params.min_cell_size - 1)):
                sup = n < params.min_cell_size
                rows.append(dict(indicator=ind.id, group="all", subgroup=s, level=lev, n_baseline=n, n_endline=n,
                                 baseline_pct=np.nan if sup else 50.0, endline_pct=np.nan if sup else 55.0,
                                 change_pp=np.nan if sup else 5.0, suppressed=sup,
                                 note=f"fewer than {params.min_cell_size} respondents" if sup else ""))
    return pd.DataFrame(rows)


def synthetic_reach(*, seed: int = 3) -> pd.DataFrame:
    """reach.parquet-shaped data with an ``engagements`` column (as evalkit.reach.read_reach returns)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-02-01", "2022-02-28")
    types = ["success_story", "poster", "video", "cover_image"]
    df = pd.DataFrame({"post_id": [f"p{i}" for i in range(24)], "date": [days[i].date() for i in range(24)],
                       "content_type": [types[i % 4] for i in range(24)], "title": [f"Post {i}" for i in range(24)],
                       "reach": rng.integers(10_000, 100_000, 24), "impressions": rng.integers(100_000, 200_000, 24),
                       "reactions": rng.integers(10_000, 50_000, 24), "comments": rng.integers(100, 1_000, 24),
                       "shares": rng.integers(100, 5_000, 24)})
    df["video_views"] = np.where(df["content_type"] == "video", rng.integers(0, 100_000, 24), 0)
    df["engagements"] = (df["reactions"] + df["comments"] + df["shares"] + df["video_views"]).astype("Int64")
    return df


def canary_params(params: Params) -> Params:
    """``params`` with every label shown in the report replaced by an HTML-injection canary."""
    inds = [dataclasses.replace(i, label=CANARY) for i in params.indicators]
    return dataclasses.replace(params, title=CANARY, stage=CANARY, groups={k: CANARY for k in params.groups},
                               indicators=inds)


def assert_no_injection(fragment: str) -> None:
    """No ``<script>``/``<img src=x>`` element and no ``on*`` attribute survived (BeautifulSoup)."""
    soup = BeautifulSoup(fragment, "html.parser")
    assert soup.find("script") is None
    assert not [i for i in soup.find_all("img") if i.get("src") == "x"]
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
    assert "alert(1)" in soup.get_text() or "alert" not in fragment  # the text is shown, escaped


@pytest.fixture(scope="module")
def together() -> Params:
    return load_params("together")


@pytest.fixture(scope="module")
def inputs(together):
    responses = synthetic_responses(together)
    results = synthetic_results(together, responses)
    return together, responses, results


# --------------------------------------------------------------------------- readings


@pytest.mark.parametrize(("row", "expected"), [
    # Hand-made rows; the rules are those of report.reading's docstring (issue 15 point 7: from the CI).
    ({"change_pp": 6.0, "ci_low_pp": 2.0, "ci_high_pp": 10.0, "p_holm": 0.004, "mde_pp": 5.0}, ("increase", "up")),
    ({"change_pp": -6.0, "ci_low_pp": -10.0, "ci_high_pp": -2.0, "p_holm": 0.004, "mde_pp": 5.0},
     ("decrease", "down")),
    ({"change_pp": 6.0, "ci_low_pp": 1.0, "ci_high_pp": 11.0, "p_holm": 0.2, "mde_pp": 5.0},
     ("increase, but not significant after correction for multiple comparisons", "none")),
    # the issue's example: +4.8 pp with CI -0.66 to +10.19 and MDE 7.8 was "smaller than this survey can detect"
    ({"change_pp": 4.79, "ci_low_pp": -0.66, "ci_high_pp": 10.19, "p_holm": 0.66, "mde_pp": 7.75},
     ("no clear change: the data are compatible with anything from -0.7 to +10.2 pp", "none")),
    ({"change_pp": 0.0, "ci_low_pp": -5.0, "ci_high_pp": 5.0, "p_holm": 1.0, "mde_pp": np.nan},
     ("no clear change: the data are compatible with anything from -5.0 to +5.0 pp", "none")),
    ({"change_pp": np.nan, "ci_low_pp": np.nan, "ci_high_pp": np.nan, "p_holm": np.nan, "mde_pp": np.nan},
     ("not enough data to test", "na")),
])
def test_reading(row, expected):
    assert report.reading(row, alpha=0.05) == expected


def test_formatters():
    import datetime as dt

    assert report.fmt_date(dt.date(2022, 1, 7)) == "7 January 2022"  # locale-independent
    assert report.fmt_p(0.0004) == "<0.001"
    assert report.fmt_p(0.01234) == "0.012"
    assert report.fmt_pp(4.25) == "+4.2 pp" or report.fmt_pp(4.25) == "+4.3 pp"  # banker's rounding either way
    assert report.fmt_ci(-1.234, 9.6) == "(-1.2 to 9.6)"
    assert report.fmt_pct(np.nan) == "\u2013"


# --------------------------------------------------------------------------- escaping


def test_every_table_escapes_canaries(inputs):
    params, responses, results = inputs
    bad = canary_params(params)
    res = results.assign(label=CANARY)
    claims = synthetic_claims(params, results).assign(text=CANARY, note=CANARY)
    subs = synthetic_subgroups(params).assign(level=CANARY, note=CANARY)
    log = pd.DataFrame([dict(step=1, rule=CANARY, wave="baseline", rows_in=10, rows_dropped=1, rows_out=9, reason=CANARY)])
    raw = pd.DataFrame([dict(file=CANARY, sha256=CANARY, bytes=1, rows=1, encoding=CANARY)])
    prov = report.provenance(bad, responses=responses, raw_files=raw)
    fragments = [
        report.title_block(bad), report.summary_paragraph(res, bad, claims=claims, responses=responses),
        report.results_table(res, bad), report.claims_table(claims, bad), report.subgroups_table(subs, bad),
        report.sample_table_html(responses, bad), report.cleaning_log_html(log),
        report.balance_table_html(responses, bad), report.dont_know_html(responses, bad),
        report.methods_html(bad, res.assign(test=CANARY)), framing.recommendations_section_html(res, bad),
        report.provenance_html(prov), report.key_figures_html(res, bad, claims=claims, responses=responses),
        report.frame_table(pd.DataFrame({CANARY: [CANARY]}), caption=CANARY),
    ]
    for f in fragments:
        assert_no_injection(f)
    assert "&lt;script&gt;" in report.results_table(res, bad)


def test_html_table_structure():
    df = pd.DataFrame({"a": ["x", "y"], "b": [1.5, 2.0]})
    out = report.html_table(df, [report.Column("a", "A"), report.Column("b", "B", numeric=True)],
                            caption="Cap", section=lambda r: "S")
    soup = BeautifulSoup(out, "html.parser")
    assert soup.find("caption").get_text() == "Cap"
    assert [th.get("scope") for th in soup.find("thead").find_all("th")] == ["col", "col"]
    assert len(soup.select("tr.ek-section")) == 1  # one section header: the value never changes
    assert soup.select_one("div.ek-table-wrap")["tabindex"] == "0"
    assert "No rows" in report.html_table(df.iloc[:0], [report.Column("a", "A")], caption="Cap")


# --------------------------------------------------------------------------- summary and notices


def test_summary_paragraph_uses_computed_counts(inputs):
    params, responses, results = inputs
    text = BeautifulSoup(report.summary_paragraph(results, params, responses=responses), "html.parser").get_text()
    pooled = results[results["group"] == "all"]
    counts = report.reading_counts(pooled, alpha=params.alpha)
    n_b = int((responses["wave"] == "baseline").sum())
    assert f"{n_b:,} baseline" in text
    assert f"{counts['up']} increased" in text
    n = len(pooled) - counts["na"]
    assert f"Of {n:,} indicator{'' if n == 1 else 's'} tested" in text


def test_synthetic_notice_only_when_synthetic(together):
    assert "Synthetic data" in report.synthetic_notice(together)
    assert report.synthetic_notice(dataclasses.replace(together, synthetic=False)) == ""


# --------------------------------------------------------------------------- balance and data quality


def test_balance_normalised_difference_matches_formula(together):
    responses = synthetic_responses(together, attrition=0.3, seed=5)
    bal = report.balance_table(responses, together).set_index("variable")
    # Independent computation of (mean1 - mean0) / sqrt((var1 + var0) / 2) for one variable
    # (Imbens & Wooldridge 2009, eq. 3; DIME iebaltab "normdiff").
    base = responses[responses["wave"] == "baseline"]
    done = base["respondent_id"].isin(responses.loc[responses["wave"] == "endline", "respondent_id"])
    x = (base["location"] == "urban").astype(float)
    a, b = x[done], x[~done]
    expected = (a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert bal.loc["location=urban", "normalised_difference"] == pytest.approx(expected, rel=1e-12)
    assert bal.loc["location=urban", "n_1"] == int(done.sum())
    assert bal["flag"].tolist() == (bal["normalised_difference"].abs() > 0.25).tolist()


def test_balance_independent_compares_samples():
    p = load_params("differently-different-2019")
    responses = synthetic_responses(p, n=30)
    bal = report.balance_table(responses, p)
    assert (bal["n_1"] > 0).all() and (bal["n_0"] > 0).all()
    assert "independent samples" in report.panel_summary_html(None, p)


def test_dont_know_rates_count_reasons(together):
    responses = synthetic_responses(together, seed=2)
    dk = report.dont_know_rates(responses, together)
    row = dk[(dk["indicator"] == "good_knowledge") & (dk["wave"] == "baseline")].iloc[0]
    d = responses[(responses["wave"] == "baseline")]
    # Direct count from the data: reason == dont_know among the indicator's population.
    expected = int((d["good_knowledge_missing_reason"] == "dont_know").fillna(False).sum())
    assert row["dont_know"] == expected
    assert row["dont_know_pct"] == pytest.approx(100 * expected / row["n_asked"], abs=1e-12)
    # give_info is asked only to parents: staff rows are not in the denominator.
    gi = dk[(dk["indicator"] == "give_info") & (dk["wave"] == "baseline")].iloc[0]
    assert gi["n_asked"] <= int(d["group"].isin(["parent_sen", "parent_nosen"]).sum())


def test_suppressed_subgroup_rows_show_no_numbers(together):
    soup = BeautifulSoup(report.subgroups_table(synthetic_subgroups(together), together), "html.parser")
    for tr in soup.find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        if "suppressed" in cells:
            assert not any(ch.isdigit() for c in cells[3:7] for ch in c), cells


def test_panel_summary_attrition(together):
    html = report.panel_summary_html(pd.DataFrame([dict(matched=80, baseline_only=20, endline_only=12)]), together)
    assert "attrition 20.0%" in html  # 20 / (80 + 20)
    # issue 17: 2 endline-only interviews are not published, nor derivable (attrition gives matched)
    html = report.panel_summary_html(pd.DataFrame([dict(matched=80, baseline_only=20, endline_only=2)]), together)
    assert "20.0%" not in html and " 2 " not in html and "80" not in html


# --------------------------------------------------------------------------- provenance


def test_provenance_is_reproducible(together, tmp_path, monkeypatch):
    responses = synthetic_responses(together)
    raw = pd.DataFrame([dict(file="baseline.csv", sha256="ab" * 32, bytes=10, rows=2, encoding="utf-8")])
    prov = report.provenance(together, responses=responses, raw_files=raw)
    assert prov.run_date == together.raw.endline.fieldwork.start.isoformat()  # latest interview date in the data
    assert prov.packages["pandas"] == pd.__version__
    assert "campaign: together" in prov.params_yaml
    assert report.git_commit(cwd=tmp_path) == "unknown"  # not a repository
    import re
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "f.txt").write_text("a", encoding="utf-8")
    subprocess.run(["git", "add", "f.txt"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    assert re.fullmatch(r"[0-9a-f]{40}", report.git_commit(cwd=repo))
    (repo / "f.txt").write_text("b", encoding="utf-8")
    assert report.git_commit(cwd=repo).endswith("(with uncommitted changes)")
    html = report.provenance_html(prov)
    assert "ab" * 32 in html and "Params used" in html


def test_output_dir_resolves_inside_project(tmp_path, monkeypatch):
    from evalkit import paths
    from evalkit.errors import UnsafePathError

    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    assert report.output_dir("together", "") == (tmp_path / "reports" / "together").resolve()
    assert report.output_dir("together", "reports/together/.staging").is_dir()
    with pytest.raises(UnsafePathError):
        report.output_dir("together", "../elsewhere")
    assert paths.project_root() == tmp_path.resolve()


# --------------------------------------------------------------------------- small cells


def _small_staff(responses: pd.DataFrame, size: int) -> pd.DataFrame:
    """Keep only ``size`` staff respondents (both waves)."""
    staff = sorted(responses.loc[responses["group"] == "staff", "respondent_id"].unique())[:size]
    return responses[(responses["group"] != "staff") | responses["respondent_id"].isin(staff)].reset_index(drop=True)


def test_small_groups_are_suppressed_in_every_table(inputs):
    params, responses, _ = inputs
    small = _small_staff(responses, 4)
    results = synthetic_results(params, small)
    staff = params.groups["staff"]
    soup = BeautifulSoup(report.results_table(results, params), "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.find_all("tr")]
    staff_rows = [r for r in rows if r and r[0] == staff]
    assert staff_rows
    for r in staff_rows:
        assert not any("%" in c for c in r) and "not reported" in r[-1]
    sample = BeautifulSoup(report.sample_table_html(small, params), "html.parser").get_text(" ")
    assert "fewer than 10" in sample
    # The summary does not count suppressed rows as tested.
    counts = report.reading_counts(results, alpha=params.alpha, min_n=params.min_cell_size)
    assert counts["na"] >= len(staff_rows)


def test_few_drop_outs_get_no_published_means(together):
    responses = synthetic_responses(together, attrition=0.0)
    end = responses[responses["wave"] == "endline"]
    gone = end["respondent_id"].iloc[:5]  # exactly 5 drop-outs
    data = responses[~((responses["wave"] == "endline") & responses["respondent_id"].isin(gone))]
    soup = BeautifulSoup(report.balance_table_html(data, together), "html.parser")
    for tr in soup.find("tbody").find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        assert cells[3] == "suppressed" and cells[4] in ("fewer than 10", "0") and cells[5] == "\u2013", cells


def test_claims_from_small_groups_are_suppressed(together, inputs):
    _, _, results = inputs
    claims = synthetic_claims(together, results).assign(n=4)
    soup = BeautifulSoup(report.claims_table(claims, together), "html.parser")
    assert "suppressed" in soup.get_text() and "%" not in " ".join(
        td.get_text() for tr in soup.find("tbody").find_all("tr") for td in tr.find_all("td")[3:4])


def test_complementary_suppression(inputs):
    params, responses, _ = inputs
    results = synthetic_results(params, _small_staff(responses, 4))
    mask = report.suppression_mask(results, params)
    for ind in ["good_knowledge", "know_well"]:  # populations: parent_sen, parent_nosen, staff
        hidden = set(results.loc[mask & (results["indicator"] == ind), "group"])
        # staff (4 people) and one more group, so "all" minus the shown group does not give staff.
        assert "staff" in hidden and len(hidden - {"all"}) == 2
    # The sample table hides a second count in each wave for the same reason.
    soup = BeautifulSoup(report.sample_table_html(_small_staff(responses, 4), params), "html.parser")
    cells = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in soup.find("tbody").find_all("tr")]
    for col in (1, 2):
        assert sum(not c[col].replace(",", "").isdigit() for c in cells[:-1]) == 2


def test_methods_state_families_ties_dont_know_and_verdicts(inputs):
    """Issue 15: the Methods text names the primary family's claims, Pratt's tie handling, the don't-know
    bounds and what a reading and a claim verdict mean; the MDE is a planning figure."""
    params, _, results = inputs
    text = report.methods_html(params, results)
    assert "T1, T3, T4, T5, T6 are the primary family" in text
    assert "rank tests on the agreement levels are a family of their own" in text
    assert "counted once" in text
    assert "Pratt" in text and "average ranks" in text
    assert "counted as negative, as positive and at both extremes" in text
    assert "no clear change" in text and "consistent with the published figure but also with no change" in text
    assert "planning figure" in text and "smaller than the survey can detect" not in text


def test_dont_know_conclusions_listed_under_the_dont_know_table(together):
    """Rows with a dont_know_note are listed by indicator label and group, escaped; none: one sentence."""
    from evalkit.report.quality import dont_know_conclusions_html

    rows = pd.DataFrame({"indicator": ["good_knowledge", "know_well"], "group": ["all", "parent_sen"],
                         "dont_know_note": ["counting the 3 don't-know or refused answers as negative, <b>x</b>", ""]})
    html = dont_know_conclusions_html(rows, together)
    assert html.count("<li>") == 1 and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
    assert together.indicator("good_knowledge").label.split()[0] in html
    none = dont_know_conclusions_html(rows.assign(dont_know_note=""), together)
    assert "changes no conclusion" in none
