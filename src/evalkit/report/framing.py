"""Report framing an evaluation reviewer expects: metadata, questions, logic model, ethics, recommendations.

Every block is built from the optional ``evaluation:`` params block
(:mod:`evalkit.evaluation`) or computed from the processed data; a block whose
params are absent renders as ``""`` (nothing is invented). All text goes
through the escaping helpers of :mod:`evalkit.report`.

References
----------
UNEG (2010). UNEG Quality Checklist for Evaluation Reports. UNEG/G(2010)/2.
OECD-DAC (2010). Quality Standards for Development Evaluation.
"""

from __future__ import annotations

import pandas as pd

from evalkit.params import Params
from evalkit.report.format import esc, fmt_date, fmt_int, fmt_pct, plural
from evalkit.report.tables import Column, html_table


def metadata_html(params: Params) -> str:
    """Commissioning organisation, evaluation team, funder, locations, version and date (a ``<dl>``)."""
    ev = params.evaluation
    items = [("Commissioned by", ev.commissioned_by), ("Evaluation team", "; ".join(ev.evaluation_team) or None),
             ("Funder", ev.funder), ("Locations", "; ".join(ev.locations) or None),
             ("Report version", ev.report_version),
             ("Report date", fmt_date(ev.report_date) if ev.report_date is not None else None)]
    rows = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items if v)
    return f'<dl class="ek-meta ek-framing">{rows}</dl>' if rows else ""


def _label(params: Params, indicator_id: str) -> str:
    return params.indicator(indicator_id).label


def questions_html(params: Params) -> str:
    """The evaluation questions, each with the sections and indicators that answer it (a table)."""
    qs = params.evaluation.questions
    if not qs:
        return ""
    df = pd.DataFrame([{"id": q.id, "text": q.text, "sections": "; ".join(q.sections),
                        "indicators": "; ".join(_label(params, i) for i in q.indicators)} for q in qs])
    return html_table(df, [Column("id", "Question"), Column("text", "Evaluation question"),
                           Column("sections", "Answered in section(s)"),
                           Column("indicators", "Indicators that answer it")],
                      caption="Evaluation questions and where the report answers them", table_id="tbl-questions")


def logic_model_alt(params: Params, reach_total: float | None = None) -> str:
    """Alt text of the logic-model figure: the whole chain in one sentence (plain text)."""
    lm = params.evaluation.logic_model
    if lm is None:
        return ""
    outputs = list(lm.outputs) + ([f"{fmt_int(reach_total)} engagements measured"] if reach_total else [])
    return ("Logic model. Activities: " + ("; ".join(lm.activities) or "none given") + ". Lead to outputs: "
            + ("; ".join(outputs) or "none given") + ". Which aim at outcomes measured by the indicators: "
            + ("; ".join(_label(params, i) for i in lm.outcomes) or "none given") + ".")


def logic_model_html(params: Params, *, reach_total: float | None = None) -> str:
    """A simple three-column figure, activities -> outputs -> outcomes, with alt text.

    The figure is HTML boxes (it reflows on a phone); its ``aria-label`` is the
    whole chain as a sentence (:func:`logic_model_alt`). ``reach_total`` (from
    the reach export) is added as a measured output.
    """
    lm = params.evaluation.logic_model
    if lm is None:
        return ""
    outputs = list(lm.outputs) + ([f"{fmt_int(reach_total)} engagements (reach export)"] if reach_total else [])
    cols = [("Activities", list(lm.activities)), ("Outputs", outputs),
            ("Outcomes (indicators)", [_label(params, i) for i in lm.outcomes])]
    boxes = []
    for i, (head, items) in enumerate(cols):
        lis = "".join(f"<li>{esc(x)}</li>" for x in items) or "<li>none given</li>"
        boxes.append(f'<div class="ek-lm-box"><p class="ek-lm-head">{esc(head)}</p><ul>{lis}</ul></div>')
        if i < len(cols) - 1:
            boxes.append('<div class="ek-lm-arrow" aria-hidden="true">\u2192</div>')
    alt = logic_model_alt(params, reach_total)
    # A <div role="img"> rather than <figure>: report figures are images with alt text, and this one is
    # HTML boxes that reflow on a phone; the aria-label carries the whole chain as its text alternative.
    return (f'<div class="ek-logic-model" role="img" aria-label="{esc(alt)}">'
            f'<div class="ek-lm-row">{"".join(boxes)}</div>'
            f'<p class="ek-lm-caption">Logic model: from campaign activities to the outcomes this survey measures.</p>'
            f"</div>")


def consent_rate(cleaning_log: pd.DataFrame) -> pd.DataFrame:
    """Consent per wave from the cleaning log's ``consent`` rule.

    Returns
    -------
    pandas.DataFrame
        ``wave, asked, consented, consent_pct``; ``asked`` is the rows the
        consent rule saw (after earlier rules such as test interviews).
    """
    log = cleaning_log[cleaning_log["rule"] == "consent"] if "rule" in cleaning_log.columns else cleaning_log.iloc[0:0]
    rows = []
    for _, r in log.iterrows():
        asked, dropped = int(r["rows_in"]), int(r["rows_dropped"])
        rows.append({"wave": r["wave"], "asked": asked, "consented": asked - dropped,
                     "consent_pct": 100.0 * (asked - dropped) / asked if asked else float("nan")})
    return pd.DataFrame(rows, columns=["wave", "asked", "consented", "consent_pct"])


def ethics_html(params: Params, cleaning_log: pd.DataFrame) -> str:
    """Ethics and data protection: consent rate, personal-data handling (from the log), safeguarding."""
    parts = []
    cr = consent_rate(cleaning_log)
    if not cr.empty:
        txt = "; ".join(f"{r['wave']}: {fmt_int(r['consented'])} of {fmt_int(r['asked'])} ({fmt_pct(r['consent_pct'])})"
                        for _, r in cr.iterrows())
        parts.append(f"<p><strong>Consent.</strong> Interviews where the respondent gave consent ({esc(txt)}). "
                     "Interviews without consent were removed before any analysis.</p>")
    else:
        parts.append("<p><strong>Consent.</strong> The cleaning log has no consent step, so the consent rate "
                     "cannot be reported.</p>")
    handling = []
    if "rule" in cleaning_log.columns:
        for _, r in cleaning_log.iterrows():
            rule = str(r["rule"])
            if rule in ("deidentify", "pseudonymise", "free_text", "disclosure_check") or rule.startswith("deid"):
                handling.append(f"{r['wave']}: {r['reason']}" if pd.notna(r.get("reason")) else f"{r['wave']}: {rule}")
    if handling:
        parts.append("<p><strong>Personal data.</strong> De-identification steps applied before analysis, as "
                     "recorded in the cleaning log:</p><ul>" + "".join(f"<li>{esc(h)}</li>" for h in handling) + "</ul>")
    parts.append(f"<p><strong>Small cells.</strong> No figure based on fewer than {params.min_cell_size} respondents "
                 "is published, and a second cell is hidden where one could be derived from the others.</p>")
    if params.evaluation.safeguarding:
        parts.append(f"<p><strong>Safeguarding.</strong> {esc(params.evaluation.safeguarding)}</p>")
    else:
        parts.append("<p><strong>Safeguarding.</strong> The params file gives no safeguarding statement "
                     "(<code>evaluation.safeguarding</code>); none is shown.</p>")
    return "".join(parts)


_PRIORITY = {"high": 0, "medium": 1, "low": 2}


def evaluator_recommendations_html(params: Params) -> str:
    """Recommendations written by the evaluators (params), with owner, priority and timeline, as a table."""
    recs = params.evaluation.recommendations
    if not recs:
        return ""
    df = pd.DataFrame([{"text": r.text, "owner": r.owner, "priority": r.priority, "timeline": r.timeline,
                        "_o": _PRIORITY[r.priority]} for r in recs]).sort_values("_o", kind="stable")
    return html_table(df, [Column("text", "Recommendation"), Column("owner", "Owner"),
                           Column("priority", "Priority"), Column("timeline", "Timeline")],
                      caption="Recommendations of the evaluation team", table_id="tbl-recommendations")


def executive_summary_html(results: pd.DataFrame, params: Params, *, tracking: pd.DataFrame,
                           claims: pd.DataFrame | None = None, responses: pd.DataFrame | None = None) -> str:
    """A stand-alone executive summary from the same computed figures as the body.

    Campaign and design, the summary paragraph (main findings with numbers),
    the tracking status counts, the evaluators' recommendations (how many)
    and the recommendations computed from the results (listed). In print it
    stands on a page of its own (report.css).
    """
    from evalkit.report import tracking as ek_tracking
    from evalkit.report.summary import summary_paragraph

    parts = [f"<p><strong>{esc(params.title)}</strong> ({esc(params.stage)}).</p>",
             summary_paragraph(results, params, claims=claims, responses=responses)]
    if not tracking.empty:
        c = ek_tracking.status_counts(tracking)
        parts.append(f"<p>Of {plural(len(tracking), 'indicator target')}: {c['met']} met, {c['not met']} not met, "
                     f"{c['not yet clear']} not yet clear from the 95% confidence intervals"
                     + (f", and {c['no status']} without a status (group too small to publish or no result)."
                        if c["no status"] else ".") + "</p>")
    n_eval = len(params.evaluation.recommendations)
    if n_eval:
        high = sum(r.priority == "high" for r in params.evaluation.recommendations)
        parts.append(f"<p>The evaluation team makes {plural(n_eval, 'recommendation')} ({high} high priority), "
                     "listed with owner and timeline under Recommendations.</p>")
    parts.append("<p><strong>Recommendations that follow from the statistics:</strong></p>"
                 + computed_recommendations_html(results, params))
    return '<div class="ek-exec-summary">' + "".join(parts) + "</div>"


def questions_and_logic_model_html(params: Params, *, reach: pd.DataFrame | None = None) -> str:
    """The evaluation questions table and the logic model figure, or a note that the params give neither."""
    total = None
    if reach is not None and not reach.empty and "engagements" in reach.columns:
        total = float(pd.to_numeric(reach["engagements"], errors="coerce").sum())
    out = questions_html(params) + logic_model_html(params, reach_total=total)
    return out or '<p class="ek-empty">The params file gives no evaluation questions and no logic model.</p>'


def recommendations_section_html(results: pd.DataFrame, params: Params) -> str:
    """Both kinds of recommendation, kept apart: computed from the statistics, then the evaluators' table."""
    out = "<h4>Following from the statistics</h4>" + computed_recommendations_html(results, params)
    evaluator = evaluator_recommendations_html(params)
    if evaluator:
        out += "<h4>From the evaluation team</h4>" + evaluator
    return out


def computed_recommendations_html(results: pd.DataFrame, params: Params) -> str:
    """Recommendations that follow from the pooled results, each stating the statistic behind it.

    One item per pooled indicator whose reading (:func:`evalkit.report.reading`)
    is a significant increase, a significant decrease, or a change smaller than
    the minimum detectable effect (MDE); for the last, the sample needed to
    detect a change of the observed size is about ``(MDE / |change|)^2`` times
    the current one (the MDE scales with one over the square root of n).
    Suppressed rows give no recommendation. Two design recommendations follow.
    """
    from evalkit.report.format import fmt_ci, fmt_pp
    from evalkit.report.summary import reading
    from evalkit.report.suppress import suppression_mask

    if results.empty:
        return "<ul><li>No results: no recommendation follows from the statistics.</li></ul>"
    hidden = suppression_mask(results, params)
    pooled = results[(results["group"] == "all") & ~hidden] if (results["group"] == "all").any() else results[~hidden]
    recs = []
    for _, r in pooled.iterrows():
        kind = reading(r, alpha=params.alpha, min_n=params.min_cell_size)[1]
        try:
            lab = params.indicator(str(r["indicator"])).label
        except KeyError:
            lab = str(r["indicator"])
        stat = f"{fmt_pp(r['change_pp'])}, 95% CI {fmt_ci(r['ci_low_pp'], r['ci_high_pp'])[1:-1]}"
        if kind == "up":
            recs.append(f"\u201c{lab}\u201d rose ({stat}, significant after Holm correction): keep the messages behind it.")
        elif kind == "down":
            recs.append(f"\u201c{lab}\u201d fell ({stat}, significant after Holm correction): review the messages on it.")
        elif kind == "small" and pd.notna(r.get("mde_pp")) and abs(float(r["change_pp"])) > 0:
            factor = (float(r["mde_pp"]) / abs(float(r["change_pp"]))) ** 2
            recs.append(f"\u201c{lab}\u201d changed by {fmt_pp(r['change_pp'])}, below the minimum detectable effect "
                        f"of {fmt_pp(r['mde_pp'], sign=False)}: detecting a change of this size would need a sample "
                        f"about {factor:.1f} times larger; plan the next wave's sample from the MDE.")
    recs.append("No comparison group was surveyed, so changes cannot be attributed to the campaign: add one "
                "(e.g. a province the campaign did not target).")
    recs.append("The indicators are self-reports: complement them with observed outcomes (enrolment of children "
                "with SEN in regular schools).")
    return "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in recs) + "</ul>"
