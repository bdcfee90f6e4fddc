"""Composed sections: the figures of a KAP theme, knowledge scores and the reach section."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from evalkit.params import Params
from evalkit.report.format import (content_type_label, esc, fmt_ci, fmt_int, fmt_number, fmt_pct, indicator_label,
                                   wave_name)
from evalkit.report.i18n import N_, _
from evalkit.report.tables import Column, html_table
from evalkit.smallcells import protect

#: Note for a KAP theme without indicators in this stage.
THEME_EMPTY = {"knowledge": N_("This stage has no knowledge indicator with results."),
               "attitudes": N_("This stage has no attitudes indicator with results."),
               "practices": N_("This stage has no practices indicator with results.")}


def reach_summary_html(total: float | None, params: Params) -> str:
    """Sentence comparing the reach export's total engagements with the published total."""
    if total is None or pd.isna(total):
        return f"<p>{esc(_('No reach export was provided for this stage.'))}</p>"
    text = _("The reach export counts {n} engagements (reactions, comments, shares and video views).").format(
        n=fmt_int(total))
    if params.published_reach:
        ratio = 100.0 * float(total) / params.published_reach
        text += " " + _("The published total is {n}; the export accounts for {share} of it.").format(
            n=fmt_int(params.published_reach), share=fmt_pct(ratio, digits=0))
    else:
        joint = params.published_reach_across_stages
        text += " " + (_("No total was published for this stage alone; the published figure ({text}) covers several "
                         "stages and is compared with the sum of their reach exports on the index page.").format(
            text=joint.text) if joint else _("No total was published for this stage."))
    return f"<p>{esc(text)}</p>"



def theme_html(results: pd.DataFrame, responses: pd.DataFrame, params: Params, *, theme: str) -> str:
    """Figures of one KAP theme: baseline vs endline with CIs, then Likert bars.

    Returns
    -------
    str
        One or two ``<figure>`` elements, or a note when the theme has no
        indicator in this stage.
    """
    from evalkit.report import figures as plots

    parts = [plots.figure_html(plots.theme_figure(results, params, theme=theme)),
             plots.figure_html(plots.likert_figure(responses, params, theme=theme))]
    out = "".join(p for p in parts if p)
    return out or f'<p class="ek-empty">{esc(_(THEME_EMPTY[theme]) if theme in THEME_EMPTY else theme)}</p>'


def reach_html(reach: pd.DataFrame | None, params: Params) -> str:
    """Reach section: total vs published, engagements by content type and over time."""
    from evalkit.report import figures as plots
    from evalkit import reach as ek_reach

    if reach is None or reach.empty:
        return reach_summary_html(None, params)
    by_type = ek_reach.reach_by_type(reach)
    by_date = ek_reach.reach_by_date(reach)
    total = ek_reach.total_engagements(reach)
    cols = [Column("content_type", _("Content type"), fmt=lambda r: content_type_label(r["content_type"])),
            Column("posts", _("Posts"), fmt=lambda r: fmt_int(r["posts"]), numeric=True),
            Column("reach", _("Reach"), fmt=lambda r: fmt_int(r["reach"]), numeric=True),
            Column("impressions", _("Impressions"), fmt=lambda r: fmt_int(r["impressions"]), numeric=True),
            Column("engagements", _("Engagements"), fmt=lambda r: fmt_int(r["engagements"]), numeric=True),
            Column("engagements_pct", _("Share"), fmt=lambda r: fmt_pct(r["engagements_pct"]), numeric=True)]
    return (reach_summary_html(total, params)
            + plots.figure_html(plots.reach_by_type_figure(by_type))
            + plots.figure_html(plots.reach_over_time_figure(by_date, published=params.published_reach))
            + html_table(by_type, cols, caption=_("Posts and engagements by content type"), table_id="tbl-reach"))


def scores_html(responses: pd.DataFrame, params: Params) -> str:
    """Knowledge scores: mean, median, share with good knowledge, Cronbach's alpha and the distribution.

    One summary table (a row per score and wave) and one distribution table
    (share of respondents per score). A wave with fewer than
    ``params.min_cell_size`` scored respondents is not reported; distribution
    cells with fewer are hidden, with complementary suppression. "" when the
    stage has no score indicator.

    Returns
    -------
    str
        Escaped HTML.
    """
    from evalkit.scores import score_distribution, score_summary

    summary = score_summary(responses, params)
    if summary.empty:
        return ""
    min_n = params.min_cell_size

    def shown(fmt: Callable[[pd.Series], str]) -> Callable[[pd.Series], str]:
        return lambda r: _("fewer than {n} respondents").format(n=fmt_int(min_n)) if r["n"] < min_n else fmt(r)

    def alpha(r: pd.Series) -> str:
        value = fmt_number(r["cronbach_alpha"], digits=2)
        return value if pd.isna(r["alpha_ci_low"]) else f"{value} {fmt_ci(r['alpha_ci_low'], r['alpha_ci_high'], digits=2)}"

    def section(r: pd.Series) -> str:
        return indicator_label(params, str(r["indicator"]))

    cols = [Column("wave", _("Wave"), fmt=lambda r: wave_name(r["wave"])),
            Column("n", _("Respondents"), fmt=shown(lambda r: fmt_int(r["n"])), numeric=True),
            # TRANSLATORS: a knowledge score's mean out of its maximum, "2.35 of 5".
            Column("mean_score", _("Mean score"), numeric=True, fmt=shown(lambda r: _("{mean} of {items}").format(
                mean=fmt_number(r["mean_score"], digits=2), items=fmt_int(r["items"])))),
            Column("median_score", _("Median"), fmt=shown(lambda r: fmt_number(r["median_score"])), numeric=True),
            # TRANSLATORS: share with good knowledge and the cut-off score, "57.1% (score 4.0 or more)".
            Column("good_pct", _("Good knowledge"), numeric=True, fmt=shown(lambda r: _("{share} (score {cut} or more)")
                                                                          .format(share=fmt_pct(r["good_pct"]),
                                                                                  cut=fmt_number(r["cut_off_score"])))),
            Column("cronbach_alpha", _("Cronbach's alpha (95% CI)"), numeric=True, fmt=shown(alpha))]
    out = html_table(summary, cols, caption=_("Knowledge scores by wave"), table_id="tbl-scores", section=section)
    dist = score_distribution(responses, params)
    totals = summary.set_index(["indicator", "wave"])["n"]
    dist = dist[[totals.get((r.indicator, r.wave), 0) >= min_n for r in dist.itertuples()]]
    if dist.empty:
        return out
    # the one small-cell gate: each indicator x wave's score cells add up to its published n
    dist = dist.assign(_hidden=protect(dist, count="n", k=min_n, lines=[["indicator", "wave"]]))
    cols = [Column("wave", _("Wave"), fmt=lambda r: wave_name(r["wave"])),
            Column("score", _("Score"), fmt=lambda r: fmt_int(r["score"]), numeric=True),
            Column("pct", _("Share of respondents"), numeric=True,
                   fmt=lambda r: _("not shown (small group)") if r["_hidden"] else fmt_pct(r["pct"]))]
    return out + html_table(dist, cols, caption=_("Distribution of knowledge scores"),
                            table_id="tbl-score-distribution", section=section)
