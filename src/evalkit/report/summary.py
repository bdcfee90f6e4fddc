"""Plain-language readings of results rows, the summary paragraph, key figures and the title block.

Every number in the text is computed here from the results; no number is typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evalkit.claims import ALSO_NO_CHANGE
from evalkit.params import Params
from evalkit.report.format import (esc, fmt_ci, fmt_date, fmt_int, fmt_number, fmt_pct, fmt_pp, group_label,
                                   indicator_label, report_title, stage_name, text_html)
from evalkit.report.i18n import _, get_language, ngettext
from evalkit.report.suppress import too_small
from evalkit.stats import ci_reading


def reading(row: Mapping[str, Any], *, alpha: float = 0.05, min_n: int = 0) -> tuple[str, str]:
    """Plain-language reading of one results row, from its confidence interval.

    "increase" / "decrease" when the 95% CI of the change excludes zero (and
    its Holm-adjusted p within the row's family is below ``alpha``; else
    "..., but not significant after correction for multiple comparisons"),
    otherwise "no clear change: the data are compatible with anything from
    X to Y pp" (:func:`evalkit.stats.verdicts.ci_reading`, translated here).
    The MDE is a planning figure, not a reading.

    Parameters
    ----------
    row : mapping
        A ``results.csv`` row (``ci_low_pp, ci_high_pp, p_holm``).
    alpha : float, keyword-only
        Significance level.
    min_n : int, keyword-only
        Rows with fewer respondents (``params.min_cell_size``) are not read.

    Returns
    -------
    (str, str)
        The reading and a kind for styling: ``up``, ``down``, ``none`` or ``na``.

    Examples
    --------
    >>> reading({"change_pp": 6.0, "ci_low_pp": 2.0, "ci_high_pp": 10.0, "p_holm": 0.004})
    ('increase', 'up')
    """
    if too_small(row, min_n):
        return (_("fewer than {n} respondents: not reported").format(n=fmt_int(min_n)), "na")
    numeric = row.get("indicator_type") == "numeric"  # a mean, not a percentage: its interval is change_mean's
    keys = ("change_mean_ci_low", "change_mean_ci_high") if numeric else ("ci_low_pp", "ci_high_pp")
    (lo, hi), p_holm = (row.get(k) for k in keys), row.get("p_holm")
    r = ci_reading(None if lo is None or pd.isna(lo) else float(lo), None if hi is None or pd.isna(hi) else float(hi),
                   p_adjusted=None if p_holm is None or pd.isna(p_holm) else float(p_holm), alpha=alpha)
    texts = {"no_data": _("not enough data to test"), "increase": _("increase"), "decrease": _("decrease"),
             "increase_uncorrected": _("increase, but not significant after correction for multiple comparisons"),
             "decrease_uncorrected": _("decrease, but not significant after correction for multiple comparisons")}
    if r.code == "no_clear_change":
        high = fmt_number(r.high, digits=1, sign=True) if numeric else fmt_pp(r.high)
        return (_("no clear change: the data are compatible with anything from {low} to {high}").format(
            low=fmt_number(r.low, digits=1, sign=True), high=high), r.kind)
    return (texts[r.code], r.kind)



def reading_counts(results: pd.DataFrame, *, alpha: float = 0.05, min_n: int = 0) -> dict[str, int]:
    """Count results rows by reading kind (``up, down, none, na``); see :func:`reading`."""
    counts = {"up": 0, "down": 0, "none": 0, "na": 0}
    for _i, r in results.iterrows():
        counts[reading(r, alpha=alpha, min_n=min_n)[1]] += 1
    return counts


def claim_counts(claims: pd.DataFrame | None) -> dict[str, int]:
    """Published claims by overall verdict: ``total, consistent, not_consistent, not_testable, testable``,
    and ``also_no_change`` (``verdict_detail``: consistent, but no change is just as consistent).

    One count per claim (a claim with a baseline and an endline figure has two
    rows in ``claims.csv`` and one verdict). The summary paragraph, the key
    figures and the index all count claims with this function, so they agree.
    """
    out = {"total": 0, "consistent": 0, "not_consistent": 0, "not_testable": 0, "testable": 0, "also_no_change": 0}
    if claims is None or claims.empty or "verdict" not in claims.columns:
        return out
    per_claim = claims.drop_duplicates("claim_id") if "claim_id" in claims.columns else claims
    if "verdict_detail" in per_claim.columns:
        out["also_no_change"] = int(per_claim["verdict_detail"].astype(str).eq(ALSO_NO_CHANGE).sum())
    for v in per_claim["verdict"].astype(str):
        kind = ("not_testable" if v == "not testable" else "consistent" if v.startswith("consistent")
                else "not_consistent")
        out[kind] += 1
    out["total"] = len(per_claim)
    out["testable"] = out["total"] - out["not_testable"]
    return out


def design_phrase(params: Params) -> str:
    """The design in a few words, for sentences (panel or independent samples)."""
    return (_("the same respondents interviewed before and after the campaign (a panel)") if params.design == "paired"
            else _("independent samples interviewed before and after the campaign"))


def summary_paragraph(results: pd.DataFrame, params: Params, *, claims: pd.DataFrame | None = None,
                      responses: pd.DataFrame | None = None) -> str:
    """One-paragraph summary written from the computed results (escaped HTML).

    The paragraph is a template filled from the numbers: sample sizes, how many
    pooled indicator results increased or decreased significantly (Holm), the
    largest significant change with its CI, and how many published claims the
    data is consistent with (:func:`claim_counts`, as in the key figures).

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` rows.
    params : Params
    claims : pandas.DataFrame or None, keyword-only
        ``claims.csv`` rows (``verdict`` column).
    responses : pandas.DataFrame or None, keyword-only
        Used for the number of respondents per wave.

    Returns
    -------
    str
        ``<p class="ek-summary">...</p>``.
    """
    parts: list[str] = []
    n_ind = len(params.indicators)
    if responses is not None and not responses.empty:
        n_b = int((responses["wave"] == "baseline").sum())
        n_e = int((responses["wave"] == "endline").sum())
        parts.append(ngettext(
            "This report compares {n_b} baseline and {n_e} endline interviews with {design}, across {n} knowledge, "
            "attitude or practice indicator.",
            "This report compares {n_b} baseline and {n_e} endline interviews with {design}, across {n} knowledge, "
            "attitude and practice indicators.", n_ind).format(n_b=fmt_int(n_b), n_e=fmt_int(n_e),
                                                              design=design_phrase(params), n=fmt_int(n_ind)))
    else:
        parts.append(ngettext("This report compares {design} across {n} indicator.",
                              "This report compares {design} across {n} indicators.", n_ind).format(
            design=design_phrase(params), n=fmt_int(n_ind)))
    pooled = results[results["group"] == "all"]
    if pooled.empty:
        pooled = results
    counts = reading_counts(pooled, alpha=params.alpha, min_n=params.min_cell_size)
    tested = len(pooled) - counts["na"]
    parts.append(ngettext(
        "Of {n} indicator tested for all respondents, {up} increased and {down} decreased significantly after Holm "
        "correction for multiple comparisons at the {alpha} level; for {none} the data show no clear change (the 95% "
        "confidence interval of the change includes zero, or the change is not significant after correction).",
        "Of {n} indicators tested for all respondents, {up} increased and {down} decreased significantly after Holm "
        "correction for multiple comparisons at the {alpha} level; for {none} the data show no clear change (the 95% "
        "confidence interval of the change includes zero, or the change is not significant after correction).",
        tested).format(n=fmt_int(tested), up=fmt_int(counts["up"]), down=fmt_int(counts["down"]),
                       alpha=fmt_number(params.alpha, digits=len(f"{params.alpha:g}".split(".")[-1])),
                       none=fmt_int(counts["none"])))
    sig = results[[reading(r, alpha=params.alpha, min_n=params.min_cell_size)[1] in ("up", "down")
                   for _i, r in results.iterrows()]]
    if not sig.empty:
        top = sig.loc[sig["change_pp"].abs().idxmax()]
        who = group_label(params, top["group"])
        who = who[:1].lower() + who[1:] if get_language() == "en" else who
        parts.append(_("The largest significant change was in \u201c{indicator}\u201d among {group}: {baseline} to "
                       "{endline}, {change} (95% CI {ci}).").format(
            indicator=indicator_label(params, str(top["indicator"])), group=who, baseline=fmt_pct(top["baseline_pct"]),
            endline=fmt_pct(top["endline_pct"]), change=fmt_pp(top["change_pp"]),
            ci=fmt_ci(top["ci_low_pp"], top["ci_high_pp"])[1:-1]))
    c = claim_counts(claims)
    if c["total"]:
        sentence = ngettext("Of {n} published figure for this stage, {k} is consistent with this data and {m} is not.",
                            "Of {n} published figures for this stage, {k} are consistent with this data and {m} are not.",
                            c["total"]).format(n=fmt_int(c["total"]), k=fmt_int(c["consistent"]),
                                               m=fmt_int(c["not_consistent"]))
        if c["not_testable"]:
            sentence += " " + ngettext("{n} cannot be tested with it.", "{n} cannot be tested with it.",
                                       c["not_testable"]).format(n=fmt_int(c["not_testable"]))
        if c["also_no_change"]:
            sentence += " " + ngettext(
                "{n} of them is also consistent with no change at all: the data cannot show the published change.",
                "{n} of them are also consistent with no change at all: the data cannot show the published change.",
                c["also_no_change"]).format(n=fmt_int(c["also_no_change"]))
        parts.append(sentence)
    if params.synthetic:
        parts.append(_("The data behind this report is synthetic (see the notice above)."))
    return f'<p class="ek-summary">{" ".join(esc(x) for x in parts)}</p>'


def title_block(params: Params) -> str:
    """Report header: title, campaign, stage, campaign and fieldwork dates (escaped).

    Returns
    -------
    str
        ``<header class="ek-title">`` with an ``<h1>`` and a definition list.
    """
    def rng(r: Any) -> str:
        return _("{start} to {end}").format(start=fmt_date(r.start), end=fmt_date(r.end))

    items = [(_("Campaign"), params.campaign), (_("Stage"), stage_name(params)),
             (_("Campaign period"), rng(params.campaign_period)),
             (_("Baseline fieldwork"), rng(params.raw.baseline.fieldwork)),
             (_("Endline fieldwork"), rng(params.raw.endline.fieldwork)),
             (_("Design"), _("panel (same respondents at both waves)") if params.design == "paired"
              else _("two independent cross-sections"))]
    # The campaign's name is a code (file names, make CAMPAIGN=...), shown as such.
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{f'<code>{esc(v)}</code>' if i == 0 else text_html(v)}</dd></div>"
                 for i, (k, v) in enumerate(items))
    return (f'<header class="ek-title"><p class="ek-kicker">{esc(_("Evaluation report"))} \u00b7 '
            f'{esc(_("pre/post KAP survey"))}</p><h1>{text_html(report_title(params))}</h1><dl class="ek-meta">{dl}</dl></header>')


def synthetic_notice(params: Params) -> str:
    """Visible notice that the data is synthetic; empty unless ``params.synthetic``."""
    if not params.synthetic:
        return ""
    return (f'<aside class="ek-notice" role="note" aria-label="{esc(_("Synthetic data notice"))}"><strong>'
            f'{esc(_("Synthetic data."))}</strong> '
            + esc(_("The survey microdata behind the published figures is not public. This report runs on synthetic "
                    "raw exports generated to be calibrated to the published figures, so it demonstrates the method and "
                    "checks that the published figures are reproducible in principle; its numbers are not new evidence "
                    "about the campaign. Run on the real exports, the same pipeline produces the real report."))
            + "</aside>")


def key_figures_html(results: pd.DataFrame, params: Params, *, claims: pd.DataFrame | None = None,
                     responses: pd.DataFrame | None = None, reach: pd.DataFrame | None = None) -> str:
    """Four headline numbers as cards: interviews, significant increases, claims consistent, engagements.

    Returns
    -------
    str
        ``<ul class="ek-keyfigs">`` of escaped cards (computed from the data; the
        claim counts are :func:`claim_counts`, as in the summary paragraph).
    """
    cards: list[tuple[str, str, str]] = []
    if responses is not None and not responses.empty:
        n_b, n_e = (int((responses["wave"] == w).sum()) for w in ("baseline", "endline"))
        cards.append((f"{fmt_int(n_b)} / {fmt_int(n_e)}", _("interviews"), _("baseline / endline, after cleaning")))
    pooled = results[results["group"] == "all"] if (results["group"] == "all").any() else results
    c = reading_counts(pooled, alpha=params.alpha, min_n=params.min_cell_size)
    cards.append((_("{k} of {n}").format(k=fmt_int(c["up"]), n=fmt_int(len(pooled) - c["na"])), _("indicators increased"),
                  _("all respondents; significant after Holm correction")))
    cc = claim_counts(claims)
    if cc["total"]:
        sub = _("with this survey's 95% confidence intervals")
        if cc["not_testable"]:
            sub = ngettext("of {n} published; {m} cannot be tested", "of {n} published; {m} cannot be tested",
                           cc["total"]).format(n=fmt_int(cc["total"]), m=fmt_int(cc["not_testable"]))
        cards.append((_("{k} of {n}").format(k=fmt_int(cc["consistent"]), n=fmt_int(cc["testable"])),
                      _("testable published figures consistent"), sub))
    if reach is not None and not reach.empty and "engagements" in reach.columns:
        total = float(pd.to_numeric(reach["engagements"], errors="coerce").sum())
        sub = (_("published: {x} million").format(x=fmt_number(params.published_reach / 1e6, digits=1))
               if params.published_reach else _("from the reach export"))
        cards.append((_("{x} million").format(x=fmt_number(total / 1e6, digits=2)), _("engagements"), sub))
    items = "".join(f'<li class="ek-keyfig"><span class="ek-keyfig-value">{esc(v)}</span>'
                    f'<span class="ek-keyfig-label">{esc(lab)}</span><span class="ek-keyfig-sub">{esc(sub)}</span></li>'
                    for v, lab, sub in cards)
    return f'<ul class="ek-keyfigs" aria-label="{esc(_("Key figures"))}">{items}</ul>'
