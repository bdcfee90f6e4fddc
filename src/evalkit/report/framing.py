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
from evalkit.report.format import (esc, fmt_date, fmt_int, fmt_number, fmt_pct, indicator_label, params_text,
                                   report_title, stage_name, text_html, wave_name)
from evalkit.report.i18n import _, get_language, ngettext
from evalkit.report.quality import cleaning_step_text
from evalkit.report.tables import Column, html_table


def metadata_html(params: Params) -> str:
    """Commissioning organisation, evaluation team, funder, locations, version and date (a ``<dl>``)."""
    ev = params.evaluation
    items = [(_("Commissioned by"), params_text(ev.commissioned_by)),
             (_("Evaluation team"), params_text("; ".join(ev.evaluation_team)) or None),
             (_("Funder"), params_text(ev.funder)), (_("Locations"), params_text("; ".join(ev.locations)) or None),
             (_("Report version"), ev.report_version),
             (_("Report date"), fmt_date(ev.report_date) if ev.report_date is not None else None)]
    rows = "".join(f"<div><dt>{esc(k)}</dt><dd>{text_html(v)}</dd></div>" for k, v in items if v)
    return f'<dl class="ek-meta ek-framing">{rows}</dl>' if rows else ""


def _label(params: Params, indicator_id: str) -> str:
    return indicator_label(params, indicator_id)


def questions_html(params: Params) -> str:
    """The evaluation questions, each with the sections and indicators that answer it (a table)."""
    qs = params.evaluation.questions
    if not qs:
        return ""
    df = pd.DataFrame([{"id": q.id, "text": q.text, "sections": "; ".join(q.sections),
                        "indicators": [_label(params, i) for i in q.indicators]} for q in qs])
    return html_table(df, [Column("id", _("Question")),
                           Column("text", _("Evaluation question"), fmt=lambda r: params_text(r["text"])),
                           Column("sections", _("Answered in section(s)"), fmt=lambda r: params_text(r["sections"])),
                           Column("indicators", _("Indicators that answer it"),
                                  html=lambda r: "; ".join(text_html(x) for x in r["indicators"]))],
                      caption=_("Evaluation questions and where the report answers them"), table_id="tbl-questions")


def logic_model_alt(params: Params, reach_total: float | None = None) -> str:
    """Alt text of the logic-model figure: the whole chain in one sentence (plain text)."""
    lm = params.evaluation.logic_model
    if lm is None:
        return ""
    outputs = list(lm.outputs) + ([_("{n} engagements measured").format(n=fmt_int(reach_total))] if reach_total else [])
    none = _("none given")
    return _("Logic model. Activities: {activities}. Lead to outputs: {outputs}. Which aim at outcomes measured by "
             "the indicators: {outcomes}.").format(
        activities="; ".join(lm.activities) or none, outputs="; ".join(outputs) or none,
        outcomes="; ".join(_label(params, i) for i in lm.outcomes) or none)


def logic_model_html(params: Params, *, reach_total: float | None = None) -> str:
    """A simple three-column figure, activities -> outputs -> outcomes, with alt text.

    The figure is HTML boxes (it reflows on a phone); its ``aria-label`` is the
    whole chain as a sentence (:func:`logic_model_alt`). ``reach_total`` (from
    the reach export) is added as a measured output.
    """
    lm = params.evaluation.logic_model
    if lm is None:
        return ""
    outputs = [params_text(x) for x in lm.outputs] + (
        [_("{n} engagements (reach export)").format(n=fmt_int(reach_total))] if reach_total else [])
    cols = [(_("Activities"), [params_text(x) for x in lm.activities]), (_("Outputs"), outputs),
            (_("Outcomes (indicators)"), [_label(params, i) for i in lm.outcomes])]
    boxes = []
    for i, (head, items) in enumerate(cols):
        lis = "".join(f"<li>{text_html(x)}</li>" for x in items) or f"<li>{esc(_('none given'))}</li>"
        boxes.append(f'<div class="ek-lm-box"><p class="ek-lm-head">{esc(head)}</p><ul>{lis}</ul></div>')
        if i < len(cols) - 1:
            boxes.append('<div class="ek-lm-arrow" aria-hidden="true">\u2192</div>')
    alt = logic_model_alt(params, reach_total)
    # A <div role="img"> rather than <figure>: report figures are images with alt text, and this one is
    # HTML boxes that reflow on a phone; the aria-label carries the whole chain as its text alternative.
    return (f'<div class="ek-logic-model" role="img" aria-label="{esc(alt)}">'
            f'<div class="ek-lm-row">{"".join(boxes)}</div>'
            f'<p class="ek-lm-caption">{esc(_("Logic model: from campaign activities to the outcomes this survey measures."))}</p>'
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
    for _i, r in log.iterrows():
        asked, dropped = int(r["rows_in"]), int(r["rows_dropped"])
        rows.append({"wave": r["wave"], "asked": asked, "consented": asked - dropped,
                     "consent_pct": 100.0 * (asked - dropped) / asked if asked else float("nan")})
    return pd.DataFrame(rows, columns=["wave", "asked", "consented", "consent_pct"])


def ethics_html(params: Params, cleaning_log: pd.DataFrame) -> str:
    """Ethics and data protection: consent rate, personal-data handling (from the log), safeguarding."""
    parts = []
    cr = consent_rate(cleaning_log)
    if not cr.empty:
        txt = "; ".join(_("{wave}: {k} of {n} ({pct})").format(wave=wave_name(r["wave"]), k=fmt_int(r["consented"]),
                                                              n=fmt_int(r["asked"]), pct=fmt_pct(r["consent_pct"]))
                        for _i, r in cr.iterrows())
        parts.append(f"<p><strong>{esc(_('Consent.'))}</strong> "
                     + esc(_("Interviews where the respondent gave consent ({rates}). Interviews without consent were "
                             "removed before any analysis.").format(rates=txt)) + "</p>")
    else:
        parts.append(f"<p><strong>{esc(_('Consent.'))}</strong> "
                     + esc(_("The cleaning log has no consent step, so the consent rate cannot be reported.")) + "</p>")
    handling = []
    if "rule" in cleaning_log.columns:
        for _i, r in cleaning_log.iterrows():
            rule = str(r["rule"])
            if rule in ("deidentify", "pseudonymise", "free_text", "disclosure_check") or rule.startswith("deid"):
                handling.append((wave_name(r["wave"]), cleaning_step_text(r)))
    if handling:
        parts.append(f"<p><strong>{esc(_('Personal data.'))}</strong> "
                     + esc(_("De-identification steps applied before analysis, as recorded in the cleaning log:"))
                     + "</p><ul>" + "".join(f"<li>{esc(w)}: {text_html(h)}</li>" for w, h in handling) + "</ul>")
    parts.append(f"<p><strong>{esc(_('Small cells.'))}</strong> "
                 + esc(_("No figure based on fewer than {n} respondents is published, and a second cell is hidden where "
                         "one could be derived from the others.").format(n=fmt_int(params.min_cell_size))) + "</p>")
    if params.evaluation.safeguarding:
        parts.append(f"<p><strong>{esc(_('Safeguarding.'))}</strong> {text_html(params_text(params.evaluation.safeguarding))}</p>")
    else:
        parts.append(f"<p><strong>{esc(_('Safeguarding.'))}</strong> "
                     + esc(_("The params file gives no safeguarding statement ({key}); none is shown.")).format(
                         key="<code>evaluation.safeguarding</code>") + "</p>")
    return "".join(parts)


_PRIORITY = {"high": 0, "medium": 1, "low": 2}


def evaluator_recommendations_html(params: Params) -> str:
    """Recommendations written by the evaluators (params), with owner, priority and timeline, as a table."""
    recs = params.evaluation.recommendations
    if not recs:
        return ""
    names = {"high": _("high"), "medium": _("medium"), "low": _("low")}
    df = pd.DataFrame([{"text": r.text, "owner": r.owner, "priority": names[r.priority],
                        "timeline": r.timeline, "_o": _PRIORITY[r.priority]} for r in recs]
                      ).sort_values("_o", kind="stable")
    return html_table(df, [Column("text", _("Recommendation"), fmt=lambda r: params_text(r["text"])),
                           Column("owner", _("Owner"), fmt=lambda r: params_text(r["owner"])),
                           Column("priority", _("Priority")),
                           Column("timeline", _("Timeline"), fmt=lambda r: params_text(r["timeline"]))],
                      caption=_("Recommendations of the evaluation team"), table_id="tbl-recommendations")


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

    parts = [f"<p><strong>{text_html(report_title(params))}</strong> ({text_html(stage_name(params))}).</p>",
             summary_paragraph(results, params, claims=claims, responses=responses)]
    if not tracking.empty:
        c = ek_tracking.status_counts(tracking)
        n = len(tracking)
        text = ngettext("Of {n} indicator target: {met} met, {not_met} not met, {unclear} not yet clear from the 95% "
                        "confidence intervals.",
                        "Of {n} indicator targets: {met} met, {not_met} not met, {unclear} not yet clear from the 95% "
                        "confidence intervals.", n).format(n=fmt_int(n), met=fmt_int(c["met"]),
                                                           not_met=fmt_int(c["not met"]),
                                                           unclear=fmt_int(c["not yet clear"]))
        if c["no status"]:
            text += " " + _("{n} without a status (group too small to publish or no result).").format(
                n=fmt_int(c["no status"]))
        parts.append(f"<p>{esc(text)}</p>")
    n_eval = len(params.evaluation.recommendations)
    if n_eval:
        high = sum(r.priority == "high" for r in params.evaluation.recommendations)
        parts.append("<p>" + esc(ngettext(
            "The evaluation team makes {n} recommendation ({high} high priority), listed with owner and timeline "
            "under Recommendations.",
            "The evaluation team makes {n} recommendations ({high} high priority), listed with owner and timeline "
            "under Recommendations.", n_eval).format(n=fmt_int(n_eval), high=fmt_int(high))) + "</p>")
    parts.append(f"<p><strong>{esc(_('Recommendations that follow from the statistics:'))}</strong></p>"
                 + computed_recommendations_html(results, params))
    return '<div class="ek-exec-summary">' + "".join(parts) + "</div>"


def questions_and_logic_model_html(params: Params, *, reach: pd.DataFrame | None = None) -> str:
    """The evaluation questions table and the logic model figure, or a note that the params give neither."""
    total = None
    if reach is not None and not reach.empty and "engagements" in reach.columns:
        total = float(pd.to_numeric(reach["engagements"], errors="coerce").sum())
    out = questions_html(params) + logic_model_html(params, reach_total=total)
    return out or f'<p class="ek-empty">{esc(_("The params file gives no evaluation questions and no logic model."))}</p>'


def recommendations_section_html(results: pd.DataFrame, params: Params) -> str:
    """Both kinds of recommendation, kept apart: computed from the statistics, then the evaluators' table."""
    out = f"<h4>{esc(_('Following from the statistics'))}</h4>" + computed_recommendations_html(results, params)
    evaluator = evaluator_recommendations_html(params)
    if evaluator:
        out += f"<h4>{esc(_('From the evaluation team'))}</h4>" + evaluator
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
        return f"<ul><li>{esc(_('No results: no recommendation follows from the statistics.'))}</li></ul>"
    hidden = suppression_mask(results, params)
    pooled = results[(results["group"] == "all") & ~hidden] if (results["group"] == "all").any() else results[~hidden]
    recs = []
    for _i, r in pooled.iterrows():
        kind = reading(r, alpha=params.alpha, min_n=params.min_cell_size)[1]
        lab = indicator_label(params, str(r["indicator"]))
        stat = _("{change}, 95% CI {ci}").format(change=fmt_pp(r["change_pp"]),
                                                 ci=fmt_ci(r["ci_low_pp"], r["ci_high_pp"])[1:-1])
        if kind == "up":
            recs.append(_("\u201c{indicator}\u201d rose ({stat}, significant after Holm correction): keep the messages "
                          "behind it.").format(indicator=lab, stat=stat))
        elif kind == "down":
            recs.append(_("\u201c{indicator}\u201d fell ({stat}, significant after Holm correction): review the messages "
                          "on it.").format(indicator=lab, stat=stat))
        elif kind == "none" and pd.notna(r.get("mde_pp")) and 0 < abs(float(r["change_pp"])) < float(r["mde_pp"]):
            factor = (float(r["mde_pp"]) / abs(float(r["change_pp"]))) ** 2
            recs.append(_("\u201c{indicator}\u201d changed by {change}, below the minimum detectable effect of {mde}: "
                          "detecting a change of this size would need a sample about {factor} times larger; plan the "
                          "next wave's sample from the MDE.").format(
                indicator=lab, change=fmt_pp(r["change_pp"]), mde=fmt_pp(r["mde_pp"], sign=False),
                factor=fmt_number(factor, digits=1)))
    recs.extend(design_recommendations(params))
    return "<ul>" + "".join(f"<li>{text_html(x)}</li>" for x in recs) + "</ul>"


def design_recommendations(params: Params) -> list[str]:
    """Recommendations on the evaluation design, following the params (no topic is named by the code).

    Without a comparison group no change can be attributed to the campaign;
    the params may name one (``report.text.<lang>.comparison_group``). When
    every indicator is self-reported, observed measures are suggested.
    """
    local = params.report.local(get_language())
    english = params.report.local("en")
    group = local.comparison_group or (params_text(english.comparison_group) if english.comparison_group else "")
    out = [_("No comparison group was surveyed, so changes cannot be attributed to the campaign: add one.")
           + (" " + _("Suggested: {group}.").format(group=group) if group else "")]
    from evalkit.report.methods import indicator_modes

    if indicator_modes(params) == {"self_reported"}:
        out.append(_("All indicators are self-reported: where the campaign aims at a behaviour, complement them with "
                     "an observed measure of it."))
    return out
