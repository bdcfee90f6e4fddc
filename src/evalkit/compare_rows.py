"""One ``results.csv`` row: an indicator x group, baseline vs endline, with the exact methods.

:func:`comparison_row` builds the row from the two waves' frames (paired: the
matched pairs): binary and Likert indicators with McNemar mid-p and
Newcombe's paired interval, or Pearson chi-squared and Newcombe's hybrid
score interval; the rank test on Likert levels (Wilcoxon signed-rank with
Pratt's zeros, or Mann-Whitney U); numeric and score means
(:mod:`evalkit.compare_means`); the don't-know / refused bounds and their
sentence. Design-based values (:mod:`evalkit.designbased`) replace the exact
ones when given. :mod:`evalkit.compare` loops over indicators and groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.compare_means import MEAN_RESULT_COLUMNS, numeric_row
from evalkit.frames import float_column
from evalkit.designbased import DESIGN_COLUMNS
from evalkit.indicator_spec import ORDINAL_KINDS
from evalkit.params import Indicator
from evalkit.stats import (cohens_h, dont_know_bounds, mann_whitney, mcnemar,
                           mde_pp_independent, mde_pp_paired, newcombe_independent_ci, newcombe_paired_ci,
                           odds_ratio, paired_odds_ratio, two_proportion_test, wilcoxon_paired, wilson_ci)
from evalkit.stats.weights import weights_vary
from evalkit.stats.bounds import UNKNOWN_REASONS

#: The public ``results.csv`` columns, in order (``docs/results-contract.md``).
CONTRACT_COLUMNS: tuple[str, ...] = (
    "campaign", "indicator", "label", "group", "design", "n", "baseline_pct", "endline_pct", "change_pp",
    "ci_low_pp", "ci_high_pp", "test", "p_value", "p_holm", "q_bh", "effect_size", "effect_size_name", "mde_pp",
)

#: Further columns that follow the contract ones (also documented; may grow).
EXTRA_COLUMNS: tuple[str, ...] = (
    "theme", "indicator_type", "n_baseline", "n_endline", "baseline_ci_low_pct", "baseline_ci_high_pct",
    "endline_ci_low_pct", "endline_ci_high_pct", "p_exact", "odds_ratio", "likert_test", "likert_n",
    "likert_p_value", "likert_effect_size", "likert_effect_size_name", "weighted", "deff", "n_eff", "note",
    "family", "likert_p_holm", "likert_q_bh", "n_dont_know", "change_pp_dk_negative", "change_pp_dk_positive",
    "change_pp_dk_low", "change_pp_dk_high", "dont_know_note",
) + MEAN_RESULT_COLUMNS + ("denominator_shift_pp", "denominator_flag") + (
    *DESIGN_COLUMNS, "attrition_change_pp", "attrition_differs",
)


def _empty_row() -> dict:
    return {c: np.nan for c in CONTRACT_COLUMNS + EXTRA_COLUMNS} | {"note": "", "weighted": False}


def _wave_cis(row: dict, count_b: float, count_e: float, n_b: float, n_e: float, alpha: float) -> None:
    (lb, le), (hb, he) = wilson_ci([count_b, count_e], [n_b, n_e], alpha=alpha)
    row.update(baseline_ci_low_pct=100 * lb, baseline_ci_high_pct=100 * hb,
               endline_ci_low_pct=100 * le, endline_ci_high_pct=100 * he)


def _binary_paired(yb: np.ndarray, ye: np.ndarray, w: np.ndarray, *, alpha: float) -> dict:
    """Headline numbers for matched pairs (yb, ye aligned; w = baseline weight)."""
    row = _empty_row() | {"test": "mcnemar_midp", "effect_size_name": "cohens_h"}
    ok = ~(np.isnan(yb) | np.isnan(ye) | np.isnan(w))
    n = int(ok.sum())
    row.update(n=n, n_baseline=n, n_endline=n)
    if n == 0:
        row["note"] = "no matched pairs with an answer at both waves"
        return row
    b_pos, e_pos = yb[ok] > 0.5, ye[ok] > 0.5
    # rows = endline, columns = baseline, so the difference is endline - baseline
    table = np.array([[(e_pos & b_pos).sum(), (e_pos & ~b_pos).sum()],
                      [(~e_pos & b_pos).sum(), (~e_pos & ~b_pos).sum()]], dtype=float)
    row.update(n_eff=float(n), deff=1.0, variance_method="exact")
    n_eff = row["n_eff"]
    pb, pe = table[:, 0].sum() / n_eff, table[0].sum() / n_eff
    row.update(baseline_pct=100 * pb, endline_pct=100 * pe, change_pp=100 * (pe - pb))
    _wave_cis(row, table[:, 0].sum(), table[0].sum(), n_eff, n_eff, alpha)
    if n < 2:
        row["note"] = f"fewer than 2 matched pairs (n = {n}): no test or interval"
        return row
    ci = newcombe_paired_ci(table, alpha=alpha).iloc[0]
    test = mcnemar(table).iloc[0]
    gained, lost = table[0, 1], table[1, 0]
    row.update(ci_low_pp=100 * ci["ci_low"], ci_high_pp=100 * ci["ci_high"], p_value=test["p_midp"],
               p_exact=test["p_exact"], effect_size=cohens_h(pe, pb), odds_ratio=paired_odds_ratio(gained, lost),
               mde_pp=mde_pp_paired(n_eff, discordant=(gained + lost) / n_eff, baseline_p=pb, alpha=alpha))
    if test["note"]:
        row["note"] = str(test["note"])
    return row


def _binary_independent(yb: np.ndarray, wb: np.ndarray, ye: np.ndarray, we: np.ndarray, *,
                        alpha: float) -> dict:
    """Headline numbers for two independent samples."""
    row = _empty_row() | {"test": "pearson_chi2", "effect_size_name": "cohens_h"}
    okb, oke = ~(np.isnan(yb) | np.isnan(wb)), ~(np.isnan(ye) | np.isnan(we))
    nb, ne = int(okb.sum()), int(oke.sum())
    row.update(n=nb + ne, n_baseline=nb, n_endline=ne)
    if nb == 0 or ne == 0:
        row["note"] = f"no respondents with an answer at {'baseline' if nb == 0 else 'endline'}"
        return row
    yb, ye = yb[okb] > 0.5, ye[oke] > 0.5
    neb, nee = float(nb), float(ne)
    pb, pe = float(yb.mean()), float(ye.mean())
    row.update(n_eff=neb + nee, deff=1.0, variance_method="exact", baseline_pct=100 * pb, endline_pct=100 * pe,
               change_pp=100 * (pe - pb))
    xb, xe = pb * neb, pe * nee
    _wave_cis(row, xb, xe, neb, nee, alpha)
    if nb < 2 or ne < 2:
        row["note"] = f"fewer than 2 respondents at a wave (baseline {nb}, endline {ne}): no test or interval"
        return row
    test = two_proportion_test(xe, nee, xb, neb).iloc[0]
    ci = newcombe_independent_ci(xe, nee, xb, neb, alpha=alpha).iloc[0]
    row.update(ci_low_pp=100 * ci["ci_low"], ci_high_pp=100 * ci["ci_high"], p_value=test["p_value"],
               effect_size=cohens_h(pe, pb), odds_ratio=odds_ratio(xe, nee, xb, neb),
               mde_pp=mde_pp_independent(pb, neb, nee, alpha=alpha))
    if test["note"]:
        row["note"] = str(test["note"])
    return row


def _likert(lb: np.ndarray, le: np.ndarray, *, paired: bool) -> dict:
    """Rank test on the levels (endline vs baseline), unweighted."""
    if paired:
        res = wilcoxon_paired(le, lb).iloc[0]
        out = {"likert_test": "wilcoxon_signed_rank", "likert_n": res["n"]}
    else:
        res = mann_whitney(le, lb).iloc[0]
        out = {"likert_test": "mann_whitney_u", "likert_n": res["n1"] + res["n2"]}
    out.update(likert_p_value=res["p_value"], likert_effect_size=res["rank_biserial"],
               likert_effect_size_name="rank_biserial")
    if res["note"]:
        out["likert_note"] = f"levels: {res['note']}"
    return out


def comparison_row(ind: Indicator, base: pd.DataFrame, end: pd.DataFrame | None, *, design: str,
                    alpha: float, design_values: dict | None = None) -> dict:
    """One row from baseline/endline frames (paired: one merged frame with _b/_e columns).

    ``design_values`` (from :func:`evalkit.designbased.design_rows`) replace
    the exact estimates, interval and test when the sample is not a simple
    random one.
    """
    notes = []
    if ind.type == "numeric":  # no percentages: the headline is the change in the mean (issue 13)
        row = _empty_row() | numeric_row(ind, base, end, design=design, alpha=alpha)
        row.update(indicator=ind.id, label=ind.label, theme=ind.theme, indicator_type=ind.type, mode=ind.mode,
                   dk_sentence="")  # don't-know codes of a number are missing, with a reason: no bounds
        return row
    if design == "paired":
        yb, ye = float_column(base, f"{ind.id}_b"), float_column(base, f"{ind.id}_e")
        w = float_column(base, "weight_b")
        row = _binary_paired(yb, ye, w, alpha=alpha)
        levels = (float_column(base, f"{ind.id}_level_b"), float_column(base, f"{ind.id}_level_e"))
    else:
        w = np.concatenate([float_column(base, "weight"), float_column(end, "weight")])
        row = _binary_independent(float_column(base, ind.id), float_column(base, "weight"), float_column(end, ind.id),
                                  float_column(end, "weight"), alpha=alpha)
        levels = (float_column(base, f"{ind.id}_level"), float_column(end, f"{ind.id}_level"))
    if design_values is not None and not design_values.get("_skip"):
        row.update({k: v for k, v in design_values.items() if not k.startswith("_")})
        row["note"] = "; ".join(design_values["_notes"])
    row["weighted"] = weights_vary(w)
    if row["note"]:
        notes.append(row["note"])
    design_based = design_values is not None and not design_values.get("_skip")
    row.update(_dk_bounds(ind, base, end, complete=row, alpha=alpha,  # caller: dk_sentence -> dont_know_note
                          sentence=not design_based))
    if ind.type == "score":  # good knowledge is the headline; the mean and median score alongside
        means = numeric_row(ind, base, end, design=design, alpha=alpha)
        notes.append(f"score: {means['note']}" if means["note"] else "")
        row.update({k: means[k] for k in MEAN_RESULT_COLUMNS if k in means})
    if ind.type in ORDINAL_KINDS:
        lik = _likert(*levels, paired=design == "paired")
        if "likert_note" in lik:
            notes.append(lik.pop("likert_note"))
        row.update(lik)
        if row["weighted"]:
            notes.append("rank test on levels is unweighted")
    row.update(indicator=ind.id, label=ind.label, theme=ind.theme, indicator_type=ind.type, mode=ind.mode,
               note="; ".join(n for n in notes if n))
    return row


def _unknown(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Whether each answer is a don't know or refused (``<indicator>_missing_reason``)."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].isin(UNKNOWN_REASONS).to_numpy(dtype=bool, na_value=False)


def _dk_bounds(ind: Indicator, base: pd.DataFrame, end: pd.DataFrame | None, *, complete: dict,
               alpha: float, sentence: bool = True) -> dict:
    """The change with don't-know / refused answers counted negative, positive and at both extremes.

    Also ``dk_sentence``: when counting them all as negative, or all as
    positive, moves the CI across zero compared with the ``complete``-case
    row (an increase or decrease becomes no clear change, or the reverse),
    a sentence saying so; else empty. Paired (``end`` is None): only pairs
    whose two answers are each known or unknown enter, weighted by the
    baseline weight; independent: each wave's respondents who were asked.
    """
    if end is None:
        yb, ye = float_column(base, f"{ind.id}_b"), float_column(base, f"{ind.id}_e")
        ub, ue = _unknown(base, f"{ind.id}_missing_reason_b"), _unknown(base, f"{ind.id}_missing_reason_e")
        keep = (~np.isnan(yb) | ub) & (~np.isnan(ye) | ue)
        w = float_column(base, "weight_b")[keep]
        yb, ye, ub, ue = yb[keep], ye[keep], ub[keep], ue[keep]
        out = dont_know_bounds(yb, ub, w, ye, ue, w)

        def ci(fb: float, fe: float) -> dict:
            return _binary_paired(np.where(ub, fb, yb), np.where(ue, fe, ye), w, alpha=alpha)
    else:
        yb, ye = float_column(base, ind.id), float_column(end, ind.id)
        ub, ue = _unknown(base, f"{ind.id}_missing_reason"), _unknown(end, f"{ind.id}_missing_reason")
        wb, we = float_column(base, "weight"), float_column(end, "weight")
        out = dont_know_bounds(yb, ub, wb, ye, ue, we)

        def ci(fb: float, fe: float) -> dict:
            return _binary_independent(np.where(ub, fb, yb), wb, np.where(ue, fe, ye), we, alpha=alpha)
    out["dk_sentence"] = ""
    # The sentence compares exact CIs with the row's CI: under a survey design the row's CI is design-based and
    # the filled CIs would have to be too, so only the bounds columns are given (docs/results-contract.md).
    if out["n_dont_know"] and sentence:
        for name, fill in (("negative", 0.0), ("positive", 1.0)):
            other = ci(fill, fill)
            if _ci_side(other) != _ci_side(complete) and not pd.isna(_ci_side(complete)):
                out["dk_sentence"] = (
                    f"counting the {out['n_dont_know']:.0f} don't-know or refused answers as {name}, "
                    f"the {100 * (1 - alpha):g}% CI of the change is {other['ci_low_pp']:+.1f} to "
                    f"{other['ci_high_pp']:+.1f} pp, "
                    f"{_SIDE_WORDS[_ci_side(other)]} (counted either way, the change lies anywhere from "
                    f"{out['change_pp_dk_low']:+.1f} to {out['change_pp_dk_high']:+.1f} pp)")
                break
    return out


_SIDE_WORDS = {1: "an increase", -1: "a decrease", 0: "which includes no change"}


def _ci_side(row: dict) -> float:
    """+1 when the CI lies above zero, -1 below, 0 when it contains zero, NaN without a CI."""
    lo, hi = row["ci_low_pp"], row["ci_high_pp"]
    if pd.isna(lo) or pd.isna(hi):
        return np.nan
    return 1 if lo > 0 else -1 if hi < 0 else 0
