"""Composed sections: the figures of a KAP theme and the reach section."""

from __future__ import annotations


import pandas as pd

from evalkit.params import Params
from evalkit.report.format import content_type_label, esc, fmt_int, fmt_pct
from evalkit.report.i18n import N_, _
from evalkit.report.tables import Column, html_table

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
