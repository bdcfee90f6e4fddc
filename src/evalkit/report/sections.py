"""Composed sections: the figures of a KAP theme and the reach section."""

from __future__ import annotations


import pandas as pd

from evalkit.params import Params
from evalkit.report.format import esc, fmt_int, fmt_pct
from evalkit.report.tables import Column, html_table


def reach_summary_html(total: float | None, params: Params) -> str:
    """Sentence comparing the reach export's total engagements with the published total."""
    if total is None or pd.isna(total):
        return "<p>No reach export was provided for this stage.</p>"
    text = f"The reach export counts {fmt_int(total)} engagements (reactions, comments, shares and video views)."
    if params.published_reach:
        ratio = 100.0 * float(total) / params.published_reach
        text += (f" The published total is {fmt_int(params.published_reach)}; the export accounts for "
                 f"{ratio:.0f}% of it.")
    else:
        joint = params.published_reach_across_stages
        text += (f" No total was published for this stage alone; the published figure ({joint.text}) covers several "
                 f"stages and is compared with the sum of their reach exports on the index page." if joint
                 else " No total was published for this stage.")
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
    return out or f'<p class="ek-empty">This stage has no {esc(theme)} indicator with results.</p>'


def reach_html(reach: pd.DataFrame | None, params: Params) -> str:
    """Reach section: total vs published, engagements by content type and over time."""
    from evalkit.report import figures as plots
    from evalkit import reach as ek_reach

    if reach is None or reach.empty:
        return reach_summary_html(None, params)
    by_type = ek_reach.reach_by_type(reach)
    by_date = ek_reach.reach_by_date(reach)
    total = ek_reach.total_engagements(reach)
    cols = [Column("content_type", "Content type", fmt=lambda r: str(r["content_type"]).replace("_", " ").capitalize()),
            Column("posts", "Posts", fmt=lambda r: fmt_int(r["posts"]), numeric=True),
            Column("reach", "Reach", fmt=lambda r: fmt_int(r["reach"]), numeric=True),
            Column("impressions", "Impressions", fmt=lambda r: fmt_int(r["impressions"]), numeric=True),
            Column("engagements", "Engagements", fmt=lambda r: fmt_int(r["engagements"]), numeric=True),
            Column("engagements_pct", "Share", fmt=lambda r: fmt_pct(r["engagements_pct"]), numeric=True)]
    return (reach_summary_html(total, params)
            + plots.figure_html(plots.reach_by_type_figure(by_type))
            + plots.figure_html(plots.reach_over_time_figure(by_date, published=params.published_reach))
            + html_table(by_type, cols, caption="Posts and engagements by content type", table_id="tbl-reach"))
