"""Published claims compared with the data, each with a verdict.

Each ``params.claims`` entry is checked against the estimate of its indicator
and group, with a 95% confidence interval (or ``1 - params.alpha``):

==========================  ===========================  =====================================
kind                        estimate and interval        verdict ``consistent`` when
==========================  ===========================  =====================================
``change_pp``               change (pp), Newcombe CI     the published change lies in the CI
``baseline_pct``            baseline %, Wilson CI        the published % lies in the CI
``endline_pct``             endline %, Wilson CI         the published % lies in the CI
``baseline_endline_pct``    both %, Wilson CIs           *both* published % lie in their CIs
``increase``                change (pp), Newcombe CI     the CI lies entirely above 0
==========================  ===========================  =====================================

Verdicts are exactly ``consistent``, ``not consistent`` or ``not testable``;
``note`` says why in words:

- ``change_pp``, ``*_pct``: ``not consistent`` when the published figure lies
  outside the interval.
- ``increase``: ``not consistent`` when the interval lies entirely at or below
  0; ``not testable`` with the note "the change is not statistically
  distinguishable from zero" when the interval contains 0.
- Any kind: ``not testable`` when the indicator or group has no data (or
  fewer than two respondents/pairs), or a ``compare_with`` stage's responses
  were not given.

``verdict`` keeps these three values (the public contract); ``verdict_detail``
says what the data can and cannot tell (issue 15):

- ``consistent, and the data show a change``: a claim that publishes a change
  (``change_pp``, ``increase``, ``baseline_endline_pct``) is consistent and the
  change's CI excludes zero;
- ``consistent with the published figure but also with no change``: consistent,
  but the change's CI contains zero (DD's +2 pp with CI -3.5 to +7.3 pp: 0 is
  just as consistent); for ``increase`` this is the "not testable" case;
- ``consistent with the published figure``: a level claim (one wave's %);
- ``inconsistent`` and ``not testable``.

``family``, ``p_value`` and ``p_holm`` give the claim's test of change: claims
listed in ``params.primary_family`` are Holm-adjusted among themselves (each
claim one test); other claims keep their results row's family and ``p_holm``.
When a consistent claim's test is not significant after that correction, the
note says so.

A ``baseline_endline_pct`` claim gives **two rows** with the same
``claim_id`` (``part`` = ``baseline`` and ``endline``), so ``published``,
``estimate``, ``ci_low`` and ``ci_high`` stay numeric; both rows carry the
claim's overall verdict and each note says how its own figure compares.

Claims with ``compare_with`` (a figure spanning two stages) take the baseline
sample from ``other_responses[compare_with.campaign]`` at ``compare_with.wave``
and this stage's endline, compared as independent samples
(:func:`evalkit.compare.compare_samples`). Other claims read the matching
``results.csv`` row, so paired-design percentages are on matched pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import paths
from evalkit.atomic import write_csv_atomic
from evalkit.families import PRIMARY
from evalkit.params import ALL_GROUPS, CHANGE_CLAIM_KINDS, Claim, Params
from evalkit.stats import adjust_within_families

#: Columns of ``claims.csv``: the documented contract first, then extras.
CLAIM_COLUMNS: tuple[str, ...] = ("claim_id", "text", "indicator", "group", "kind", "published", "estimate",
                                  "ci_low", "ci_high", "verdict", "note", "part", "n", "source", "verdict_detail",
                                  "family", "p_value", "p_holm", "unit", "published_other_reading_pp",
                                  "verdict_other_reading")

CONSISTENT, NOT_CONSISTENT, NOT_TESTABLE = "consistent", "not consistent", "not testable"

#: ``verdict_detail`` values: what the data can and cannot tell about the claim.
SHOWS_CHANGE = "consistent, and the data show a change"
ALSO_NO_CHANGE = "consistent with the published figure but also with no change"
CONSISTENT_LEVEL = "consistent with the published figure"
INCONSISTENT = "inconsistent"

# kind -> parts: (part, results column of the estimate, of its CI low, of its CI high)
_PARTS = {
    "change_pp": [("change", "change_pp", "ci_low_pp", "ci_high_pp")],
    "increase": [("change", "change_pp", "ci_low_pp", "ci_high_pp")],
    "baseline_pct": [("baseline", "baseline_pct", "baseline_ci_low_pct", "baseline_ci_high_pct")],
    "endline_pct": [("endline", "endline_pct", "endline_ci_low_pct", "endline_ci_high_pct")],
    "baseline_endline_pct": [("baseline", "baseline_pct", "baseline_ci_low_pct", "baseline_ci_high_pct"),
                             ("endline", "endline_pct", "endline_ci_low_pct", "endline_ci_high_pct")],
}


def _fmt(x: float, unit: str) -> str:
    return f"{x:+.1f}{unit}" if unit == " pp" else f"{x:.1f}{unit}"


def _estimate_row(claim: Claim, params: Params, results: pd.DataFrame, responses: pd.DataFrame,
                  other_responses: Mapping[str, pd.DataFrame] | None) -> tuple[pd.Series | None, str, str]:
    """The results-shaped row a claim is judged on, its source, and a reason when there is none."""
    ind = params.indicator(claim.indicator)
    groups = list(ind.population) if claim.group == ALL_GROUPS else [claim.group]
    if claim.compare_with is not None:
        cw = claim.compare_with
        source = f"{cw.campaign} {cw.wave} vs this stage's endline (independent samples)"
        other = (other_responses or {}).get(cw.campaign)
        if other is None:
            return None, source, (f"needs the responses of stage {cw.campaign} "
                                  f"(data/processed/{cw.campaign}/responses.parquet), which were not given")
        if "wave" not in other.columns or "group" not in other.columns:
            return None, source, f"the responses of stage {cw.campaign} lack a 'wave' or 'group' column"
        base = other.loc[other["wave"] == cw.wave]
        end = responses.loc[responses["wave"] == "endline"]
        from evalkit.compare import compare_samples  # here: the index page reads claims without the test stack

        row = compare_samples(base, end, ind, groups, design="independent", alpha=params.alpha).iloc[0]
        return row, source, ""
    source = "results.csv"
    match = results.loc[(results["indicator"] == claim.indicator) & (results["group"] == claim.group)]
    if match.empty:
        return None, source, f"results.csv has no row for indicator {claim.indicator!r}, group {claim.group!r}"
    return match.iloc[0], source, ""


def _judge(kind: str, published: float, est: float, lo: float, hi: float, unit: str, *,
           level: str = "95%") -> tuple[str, str]:
    ci = f"{level} CI {_fmt(lo, unit)} to {_fmt(hi, unit)}"
    if kind == "increase":
        if lo > 0:
            return CONSISTENT, f"the change {_fmt(est, unit)} is above zero ({ci})"
        if hi <= 0:
            return NOT_CONSISTENT, f"the change {_fmt(est, unit)} is not an increase ({ci} lies at or below zero)"
        return NOT_TESTABLE, f"the change {_fmt(est, unit)} is not statistically distinguishable from zero ({ci})"
    if lo <= published <= hi:
        return CONSISTENT, f"published {_fmt(published, unit)} lies inside the {ci}"
    return NOT_CONSISTENT, (f"published {_fmt(published, unit)} lies outside the {ci}; "
                            f"the estimate differs by {abs(est - published):.1f} pp")


def _detail(claim: Claim, verdict: str, row: pd.Series | None) -> str:
    """``verdict_detail`` from the coarse verdict and whether the change's CI excludes zero.

    A claim that publishes a change (``change_pp``, ``increase``,
    ``baseline_endline_pct``) and lies inside the interval "shows a change"
    only when the change's CI excludes zero; otherwise no change is just as
    consistent with the data. A level claim is consistent or not.
    """
    if verdict == NOT_CONSISTENT:
        return INCONSISTENT
    if claim.kind not in CHANGE_CLAIM_KINDS or row is None:
        return CONSISTENT_LEVEL if verdict == CONSISTENT else NOT_TESTABLE
    lo, hi = (float(row[c]) if pd.notna(row[c]) else np.nan for c in ("ci_low_pp", "ci_high_pp"))
    if np.isnan([lo, hi]).any():
        return NOT_TESTABLE
    if claim.kind == "increase":  # "not testable" here means the CI contains zero
        return SHOWS_CHANGE if lo > 0 else ALSO_NO_CHANGE
    if verdict != CONSISTENT:
        return NOT_TESTABLE
    return SHOWS_CHANGE if lo > 0 or hi < 0 else ALSO_NO_CHANGE


def _claim_rows(claim: Claim, row: pd.Series | None, source: str, reason: str, *, alpha: float) -> list[dict]:
    published = {"change_pp": [claim.value], "baseline_pct": [claim.value], "endline_pct": [claim.value],
                 "baseline_endline_pct": [claim.baseline, claim.endline], "increase": [None]}[claim.kind]
    unit = " pp" if claim.kind in ("change_pp", "increase") else "%"
    out = []
    for (part, est_col, lo_col, hi_col), pub in zip(_PARTS[claim.kind], published):
        pub_f = np.nan if pub is None else float(pub)
        if claim.kind == "change_pp" and claim.unit == "relative":
            pub_f = _relative_as_pp(pub_f, row)
        base = {"claim_id": claim.id, "text": claim.text, "indicator": claim.indicator, "group": claim.group,
                "kind": claim.kind, "published": pub_f, "part": part, "source": source,
                "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": pd.NA}
        if row is None:
            out.append(base | {"verdict": NOT_TESTABLE, "note": reason})
            continue
        est, lo, hi = (float(row[c]) if pd.notna(row[c]) else np.nan for c in (est_col, lo_col, hi_col))
        base.update(estimate=est, ci_low=lo, ci_high=hi, n=row["n"])
        if np.isnan([est, lo, hi]).any():
            why = str(row["note"]) if pd.notna(row["note"]) and str(row["note"]) else "no estimate"
            out.append(base | {"verdict": NOT_TESTABLE, "note": f"not enough data: {why}"})
        else:
            verdict, note = _judge(claim.kind, pub_f, est, lo, hi, unit, level=f"{100 * (1 - alpha):g}%")
            out.append(base | {"verdict": verdict, "note": note})
    if len(out) > 1:  # baseline_endline_pct: one verdict for the claim, on both rows
        verdicts = {r["verdict"] for r in out}
        overall = (NOT_CONSISTENT if NOT_CONSISTENT in verdicts else
                   NOT_TESTABLE if NOT_TESTABLE in verdicts else CONSISTENT)
        for r in out:
            r["note"] = f"{r['part']}: {r['note']}; the claim needs both figures inside their CIs"
            r["verdict"] = overall
    for r in out:
        r["verdict_detail"] = _detail(claim, r["verdict"], row)
        if r["verdict_detail"] == ALSO_NO_CHANGE and claim.kind == "baseline_endline_pct":
            r["note"] += (f"; the change's {100 * (1 - alpha):g}% CI ({_fmt(float(row['ci_low_pp']), ' pp')} to "
                          f"{_fmt(float(row['ci_high_pp']), ' pp')}) includes no change")
        elif r["verdict_detail"] == ALSO_NO_CHANGE and claim.kind == "change_pp":
            r["note"] += "; so does no change (0 pp)"
        has_test = claim.kind in CHANGE_CLAIM_KINDS and row is not None
        r["p_value"] = float(row["p_value"]) if has_test and pd.notna(row["p_value"]) else np.nan
        r["p_holm"] = float(row["p_holm"]) if has_test and pd.notna(row.get("p_holm", np.nan)) else np.nan
        r["family"] = str(row["family"]) if has_test and pd.notna(row.get("family", np.nan)) else ""
        r.update(_other_reading(claim, r, row, alpha=alpha))
    return out


def _relative_as_pp(relative_pct: float, row: pd.Series | None) -> float:
    """A relative change (% of the baseline) in percentage points, from the estimated baseline %."""
    if row is None or pd.isna(row["baseline_pct"]):
        return np.nan
    return float(row["baseline_pct"]) * relative_pct / 100


def _other_reading(claim: Claim, r: dict, row: pd.Series | None, *, alpha: float) -> dict:
    """``unit`` and, for a claim whose unit is ambiguous, the verdict under the other reading.

    "Increased by 13%" is +13 pp, or 13% of the baseline (47.8% x 0.13 = +6.2
    pp). The other reading is judged on the same CI; the note says whether
    the data can tell the two apart (one inside the CI, the other outside).
    """
    out = {"unit": claim.unit if claim.kind == "change_pp" else "", "published_other_reading_pp": np.nan,
           "verdict_other_reading": ""}
    if claim.kind != "change_pp" or not claim.unit_ambiguous or row is None or np.isnan(r["ci_low"]):
        return out
    value = float(claim.value)
    other = _relative_as_pp(value, row) if claim.unit == "pp" else value
    if np.isnan(other):
        return out
    verdict, _ = _judge("change_pp", other, r["estimate"], r["ci_low"], r["ci_high"], " pp")
    detail = _detail(claim, verdict, row)
    out.update(published_other_reading_pp=other, verdict_other_reading=detail)
    base = float(row["baseline_pct"])
    as_pp = _fmt(_relative_as_pp(value, row), " pp")
    words = {"pp": f"{value:+g} percentage points",
             "relative": f"{value:+g}% of the baseline ({base:.1f}% x {value / 100:g} = {as_pp})"}
    this, that = words[claim.unit], words["relative" if claim.unit == "pp" else "pp"]
    inside = (r["verdict"] == CONSISTENT, verdict == CONSISTENT)
    tell = {(True, True): "both readings lie inside the CI: the data cannot tell them apart",
            (True, False): f"only the reading as {this} lies inside the CI: the data tell them apart",
            (False, True): f"only the reading as {that} lies inside the CI: the data tell them apart",
            (False, False): "neither reading lies inside the CI"}[inside]
    r["note"] = (f"{r['note']}; the source does not say whether it means {this} or {that}; "
                 f"{tell}")
    return out


def _adjust_primary(out: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Holm-adjust the tests of the claims in ``params.primary_family`` among themselves.

    Each claim is one test (the two rows of a ``baseline_endline_pct`` claim
    share it); claims outside the family keep their results row's
    ``p_holm`` and ``family`` (``compare_with`` claims outside it: none).
    """
    primary = out["claim_id"].isin(params.primary_family) & out["p_value"].notna()
    if primary.any():
        h, _ = adjust_within_families(out.loc[primary, "p_value"].to_numpy(dtype=float),
                                      np.full(int(primary.sum()), PRIMARY), out.loc[primary, "claim_id"].tolist())
        out.loc[primary, "p_holm"], out.loc[primary, "family"] = h, PRIMARY
    return out


def _significance_notes(out: pd.DataFrame, *, alpha: float) -> pd.DataFrame:
    """Say when a consistent claim's test of change is not significant after its family's correction."""
    weak = out["verdict"].eq(CONSISTENT) & out["p_holm"].notna() & (out["p_holm"] >= alpha)
    for i in out.index[weak]:
        fam = out.at[i, "family"] or "its"
        out.at[i, "note"] = (f"{out.at[i, 'note']}; its test of change is not significant after Holm's correction "
                             f"within the {fam} family (p = {out.at[i, 'p_value']:.3f}, Holm p = "
                             f"{out.at[i, 'p_holm']:.3f})")
    return out


def evaluate_claims(params: Params, results: pd.DataFrame, responses: pd.DataFrame, *,
                    other_responses: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Compare every published claim of a stage with the data.

    Parameters
    ----------
    params : evalkit.params.Params
        The stage's params (``claims``, ``indicators``, ``alpha``).
    results : pandas.DataFrame
        The stage's results table (:func:`evalkit.compare.compare_indicators`).
    responses : pandas.DataFrame
        The stage's ``responses.parquet`` (its endline is used for
        ``compare_with`` claims); not modified.
    other_responses : mapping of campaign -> DataFrame, optional, keyword-only
        Responses of the stages named in claims' ``compare_with``.

    Returns
    -------
    pandas.DataFrame
        :data:`CLAIM_COLUMNS`: ``claim_id, text, indicator, group, kind,
        published, estimate, ci_low, ci_high, verdict, note`` (the
        ``claims.csv`` contract), then ``part`` (``change``, ``baseline`` or
        ``endline``), ``n`` and ``source``. Percentages and changes in 0-100
        / pp. One row per claim, two for ``baseline_endline_pct``.

    Examples
    --------
    >>> claims = evaluate_claims(params, results, responses)  # doctest: +SKIP
    >>> claims[["claim_id", "published", "estimate", "verdict"]]  # doctest: +SKIP
    """
    rows: list[dict] = []
    for claim in params.claims:
        row, source, reason = _estimate_row(claim, params, results, responses, other_responses)
        rows += _claim_rows(claim, row, source, reason, alpha=params.alpha)
    out = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    for c in ("published", "estimate", "ci_low", "ci_high", "p_value", "p_holm"):
        out[c] = out[c].astype(float)
    out = _significance_notes(_adjust_primary(out, params), alpha=params.alpha)
    out["n"] = out["n"].astype("Int64")
    for c in ("claim_id", "text", "indicator", "group", "kind", "verdict", "note", "part", "source",
              "verdict_detail", "family"):
        out[c] = out[c].astype("string")
    return out


def claim_estimates_within(claims: pd.DataFrame, *, tol_pp: float = 0.5) -> pd.DataFrame:
    """How far each estimate is from its published figure.

    The synthetic data is calibrated so that every point estimate reproduces
    its published figure within 0.5 pp; this is what a test asserts.

    Parameters
    ----------
    claims : pandas.DataFrame
        Output of :func:`evaluate_claims`.
    tol_pp : float, keyword-only
        Tolerance in percentage points.

    Returns
    -------
    pandas.DataFrame
        ``claim_id``, ``part``, ``published``, ``estimate``, ``abs_diff_pp``,
        ``within`` (nullable boolean: NA when the claim has no published
        figure, e.g. ``increase``, or no estimate).

    Examples
    --------
    >>> check = claim_estimates_within(claims)  # doctest: +SKIP
    >>> bool(check["within"].dropna().all())  # doctest: +SKIP
    True
    """
    diff = (claims["estimate"].astype(float) - claims["published"].astype(float)).abs()
    within = pd.array(np.where(diff.isna(), None, diff <= tol_pp), dtype="boolean")
    return pd.DataFrame({"claim_id": claims["claim_id"], "part": claims["part"],
                         "published": claims["published"], "estimate": claims["estimate"],
                         "abs_diff_pp": diff, "within": within})


def claims_path(campaign: str) -> Path:
    """``reports/<campaign>/claims.csv``."""
    return paths.campaign_reports_dir(campaign) / "claims.csv"


def write_claims(claims: pd.DataFrame, campaign: str) -> Path:
    """Write the claims table to ``reports/<campaign>/claims.csv`` atomically."""
    return write_csv_atomic(claims, claims_path(campaign))
