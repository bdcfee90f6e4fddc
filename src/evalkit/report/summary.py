"""Plain-language readings of results rows, the summary paragraph, key figures and the title block.

Every number in the text is computed here from the results; no number is typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evalkit.params import Params
from evalkit.report.format import esc, fmt_ci, fmt_date, fmt_pct, fmt_pp, group_label, plural
from evalkit.report.suppress import too_small


def reading(row: Mapping[str, Any], *, alpha: float = 0.05, min_n: int = 0) -> tuple[str, str]:
    """Plain-language reading of one results row.

    Significance uses the Holm-adjusted p-value; a change that is not
    significant is "smaller than this survey can detect" when its size is below
    the minimum detectable effect (``mde_pp``).

    Parameters
    ----------
    row : mapping
        A ``results.csv`` row (``change_pp, p_value, p_holm, mde_pp``).
    alpha : float, keyword-only
        Significance level.
    min_n : int, keyword-only
        Rows with fewer respondents (``params.min_cell_size``) are not read.

    Returns
    -------
    (str, str)
        The reading and a kind for styling: ``up``, ``down``, ``none``,
        ``small`` or ``na``.

    Examples
    --------
    >>> reading({"change_pp": 6.0, "p_value": 0.001, "p_holm": 0.004, "mde_pp": 5.0})
    ('increase, statistically significant', 'up')
    """
    if too_small(row, min_n):
        return (f"fewer than {min_n} respondents: not reported", "na")
    change, p, p_holm, mde = (row.get(k) for k in ("change_pp", "p_value", "p_holm", "mde_pp"))
    if change is None or pd.isna(change) or p is None or pd.isna(p):
        return ("not enough data to test", "na")
    p_adj = p if p_holm is None or pd.isna(p_holm) else p_holm
    direction = "increase" if change > 0 else "decrease"
    if p_adj < alpha:
        return (f"{direction}, statistically significant", "up" if change > 0 else "down")
    if p < alpha:
        return (f"{direction}, not significant after correction for multiple comparisons", "none")
    if mde is not None and pd.notna(mde) and abs(change) < mde:
        return ("change smaller than this survey can detect", "small")
    return ("no statistically significant change", "none")



def reading_counts(results: pd.DataFrame, *, alpha: float = 0.05, min_n: int = 0) -> dict[str, int]:
    """Count results rows by reading kind (``up, down, none, small, na``); see :func:`reading`."""
    counts = {"up": 0, "down": 0, "none": 0, "small": 0, "na": 0}
    for _, r in results.iterrows():
        counts[reading(r, alpha=alpha, min_n=min_n)[1]] += 1
    return counts


def summary_paragraph(results: pd.DataFrame, params: Params, *, claims: pd.DataFrame | None = None,
                      responses: pd.DataFrame | None = None) -> str:
    """One-paragraph summary written from the computed results (escaped HTML).

    The paragraph is a template filled from the numbers: sample sizes, how many
    pooled indicator results increased or decreased significantly (Holm), the
    largest significant change with its CI, and how many published claims the
    data is consistent with.

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
    design = ("the same respondents interviewed before and after the campaign (a panel)" if params.design == "paired"
              else "independent samples interviewed before and after the campaign")
    if responses is not None and not responses.empty:
        n_b = int((responses["wave"] == "baseline").sum())
        n_e = int((responses["wave"] == "endline").sum())
        parts.append(f"This report compares {n_b:,} baseline and {n_e:,} endline interviews with "
                     f"{esc(design)}, across {len(params.indicators)} knowledge, attitude and practice indicators.")
    else:
        parts.append(f"This report compares {esc(design)} across {len(params.indicators)} indicators.")
    pooled = results[results["group"] == "all"]
    if pooled.empty:
        pooled = results
    counts = reading_counts(pooled, alpha=params.alpha, min_n=params.min_cell_size)
    tested = len(pooled) - counts["na"]
    parts.append(f"Of {plural(tested, 'indicator')} tested for all respondents, {counts['up']} increased and "
                 f"{counts['down']} decreased significantly after Holm correction for multiple comparisons at "
                 f"the {params.alpha:g} level; {counts['small']} changed less than the survey could detect.")
    sig = results[[reading(r, alpha=params.alpha, min_n=params.min_cell_size)[1] in ("up", "down")
                   for _, r in results.iterrows()]]
    if not sig.empty:
        top = sig.loc[sig["change_pp"].abs().idxmax()]
        try:
            lab = params.indicator(str(top["indicator"])).label
        except KeyError:
            lab = str(top["indicator"])
        who = group_label(params, top["group"])
        who = who[:1].lower() + who[1:]
        parts.append(f"The largest significant change was in \u201c{esc(lab)}\u201d among {esc(who)}: "
                     f"{esc(fmt_pct(top['baseline_pct']))} to {esc(fmt_pct(top['endline_pct']))}, "
                     f"{esc(fmt_pp(top['change_pp']))} (95% CI {esc(fmt_ci(top['ci_low_pp'], top['ci_high_pp'])[1:-1])}).")
    if claims is not None and not claims.empty and "verdict" in claims.columns:
        v = claims["verdict"].astype(str)
        n_cons, n_not, n_nt = int((v == "consistent").sum()), int((v == "not consistent").sum()), int((v == "not testable").sum())
        parts.append(f"Of {plural(len(claims), 'published figure')} for this stage, {n_cons} {'is' if n_cons == 1 else 'are'} "
                     f"consistent with this data, {n_not} {'is' if n_not == 1 else 'are'} not"
                     + (f", and {n_nt} cannot be tested with it." if n_nt else "."))
    if params.synthetic:
        parts.append("The data behind this report is synthetic (see the notice above).")
    return f'<p class="ek-summary">{" ".join(parts)}</p>'



def title_block(params: Params) -> str:
    """Report header: title, campaign, stage, campaign and fieldwork dates (escaped).

    Returns
    -------
    str
        ``<header class="ek-title">`` with an ``<h1>`` and a definition list.
    """
    def rng(r: Any) -> str:
        return f"{fmt_date(r.start)} to {fmt_date(r.end)}"

    items = [("Campaign", params.campaign), ("Stage", params.stage), ("Campaign period", rng(params.campaign_period)),
             ("Baseline fieldwork", rng(params.raw.baseline.fieldwork)),
             ("Endline fieldwork", rng(params.raw.endline.fieldwork)),
             ("Design", "panel (same respondents at both waves)" if params.design == "paired"
              else "two independent cross-sections")]
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items)
    return (f'<header class="ek-title"><p class="ek-kicker">Evaluation report \u00b7 pre/post KAP survey</p>'
            f"<h1>{esc(params.title)}</h1><dl class=\"ek-meta\">{dl}</dl></header>")


def synthetic_notice(params: Params) -> str:
    """Visible notice that the data is synthetic; empty unless ``params.synthetic``."""
    if not params.synthetic:
        return ""
    return ('<aside class="ek-notice" role="note" aria-label="Synthetic data notice"><strong>Synthetic data.</strong> '
            "The survey microdata behind the published figures is not public. This report runs on synthetic raw "
            "exports generated to be calibrated to the published figures, so it demonstrates the method and checks "
            "that the published figures are reproducible in principle; its numbers are not new evidence about the "
            "campaign. Run on the real exports, the same pipeline produces the real report.</aside>")



def key_figures_html(results: pd.DataFrame, params: Params, *, claims: pd.DataFrame | None = None,
                     responses: pd.DataFrame | None = None, reach: pd.DataFrame | None = None) -> str:
    """Four headline numbers as cards: interviews, significant increases, claims consistent, engagements.

    Returns
    -------
    str
        ``<ul class="ek-keyfigs">`` of escaped cards (computed from the data).
    """
    cards: list[tuple[str, str, str]] = []
    if responses is not None and not responses.empty:
        n_b, n_e = (int((responses["wave"] == w).sum()) for w in ("baseline", "endline"))
        cards.append((f"{n_b:,} / {n_e:,}", "interviews", "baseline / endline, after cleaning"))
    pooled = results[results["group"] == "all"] if (results["group"] == "all").any() else results
    c = reading_counts(pooled, alpha=params.alpha, min_n=params.min_cell_size)
    cards.append((f"{c['up']} of {len(pooled) - c['na']}", "indicators increased",
                  "all respondents; significant after Holm correction"))
    if claims is not None and not claims.empty and "verdict" in claims.columns:
        v = claims["verdict"].astype(str)
        testable = int((v != "not testable").sum())
        cards.append((f"{int((v == 'consistent').sum())} of {testable}", "published figures consistent",
                      "with this survey's 95% confidence intervals"))
    if reach is not None and not reach.empty and "engagements" in reach.columns:
        total = float(pd.to_numeric(reach["engagements"], errors="coerce").sum())
        sub = f"published: {params.published_reach / 1e6:.1f} million" if params.published_reach else "from the reach export"
        cards.append((f"{total / 1e6:.2f} million", "engagements", sub))
    items = "".join(f'<li class="ek-keyfig"><span class="ek-keyfig-value">{esc(v)}</span>'
                    f'<span class="ek-keyfig-label">{esc(lab)}</span><span class="ek-keyfig-sub">{esc(sub)}</span></li>'
                    for v, lab, sub in cards)
    return f'<ul class="ek-keyfigs" aria-label="Key figures">{items}</ul>'
