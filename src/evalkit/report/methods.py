"""Methods and limitations text, filled from params and the tests actually used."""

from __future__ import annotations


import pandas as pd

from evalkit.params import Params
from evalkit.report.format import esc, fmt_int, fmt_number, label_fallbacks, params_text, text_html
from evalkit.report.i18n import N_, _, get_language, ngettext


#: Plain-language names of the tests evalkit.compare reports (``test`` and ``likert_test`` columns).
TEST_NAMES = {
    "mcnemar_midp": N_("McNemar's test (mid-p) on matched pairs, with Newcombe's interval for a paired difference"),
    "pearson_chi2": N_("Pearson's chi-squared test of two independent proportions, with Newcombe's hybrid score "
                       "interval"),
    "wilcoxon_signed_rank": N_("Wilcoxon signed-rank test on the agreement levels (matched pairs)"),
    "mann_whitney_u": N_("Mann-Whitney U test on the agreement levels"),
    "paired_t": N_("paired t-test on the change in a numeric answer's mean, with the median change and its "
                   "sign-test interval"),
    "welch_t": N_("Welch's t-test of two independent means, with the difference of medians and its bootstrap "
                  "interval"),
    "design_t": N_("design-based t test of the mean change per respondent (Taylor linearisation), with its "
                   "design-based interval"),
    "rao_scott_f": N_("Rao-Scott corrected chi-squared test (F form) of two independent survey samples, with the "
                      "design-based interval of the difference"),
}


def indicator_modes(params: Params) -> set[str]:
    """How the indicators were measured: ``self_reported`` and/or ``observed`` (params ``mode``; default self-reported)."""
    return {str(getattr(ind, "mode", "") or "self_reported").replace("-", "_") for ind in params.indicators}


def measurement_html(params: Params) -> str:
    """What the indicators can show, following how they were measured (self-reported, observed or both)."""
    modes = indicator_modes(params)
    parts = []
    if "self_reported" in modes:
        parts.append(_("Self-reported answers measure what people say they know, believe and do. They are prone to "
                       "social desirability bias, which may grow after a campaign that tells people the desired "
                       "answer, and reported practices are intentions or recalled behaviour."))
    if "observed" in modes:
        parts.append(_("Observed indicators were recorded by the enumerator at the interview; they show what was seen "
                       "on the day, which can differ from what happens on other days, and depend on how consistently "
                       "enumerators apply the definitions."))
    if modes == {"self_reported"}:
        parts.append(_("The results show changes in stated knowledge, attitudes and practices, not in observed "
                       "behaviour."))
    title = _("What the indicators can show.")
    return f"<p><strong>{esc(title)}</strong> {esc(' '.join(parts))}</p>"


def design_html(params: Params) -> str:
    """The design paragraph: panel or independent samples, and what a pre/post comparison cannot attribute."""
    if params.design == "paired":
        design = _("a panel: the same respondents were interviewed at baseline and endline, matched by a pseudonymous "
                   "identifier. Changes are estimated on matched pairs, so each respondent is their own comparison.")
        other = _("other events, seasonal effects and being interviewed twice can also change answers.")
    else:
        design = _("two independent cross-sections: different respondents at baseline and endline. Changes compare "
                   "two samples, so differences in who was interviewed can look like change; see the balance table.")
        other = _("other events, seasonal effects and differences between the two samples can also change the "
                  "results.")
    return ("<p><strong>{head}</strong> ".format(head=esc(_("Design.")))
            + esc(_("Pre/post KAP survey, {design} There is no comparison group that did not see the campaign, so a "
                    "change between waves cannot be attributed to the campaign alone: {other}").format(
                design=design, other=other)) + "</p>")


def _paragraph(head: str, text: str) -> str:
    return "<p><strong>{h}</strong> {t}</p>".format(h=esc(head), t=esc(text))


def ties_html(results: pd.DataFrame) -> str:
    """How the rank tests treat unchanged answers and ties (empty when no rank test was used)."""
    used = set(results["likert_test"].dropna().astype(str)) if "likert_test" in results.columns else set()
    if "wilcoxon_signed_rank" in used:
        return _paragraph(_("Ties."), _(
            "In the signed-rank test, pairs whose answer did not change are kept in the ranking and then left out of "
            "the signed sums (Pratt's method), so a panel where many answers did not move is not treated as if only "
            "the movers had been asked; tied differences get average ranks and the p-value uses the tie-corrected "
            "normal approximation."))
    if "mann_whitney_u" in used:
        return _paragraph(_("Ties."), _("In the Mann-Whitney test tied levels get average ranks and the p-value uses "
                                        "the tie-corrected normal approximation."))
    return ""


def families_html(params: Params) -> str:
    """The multiplicity families: primary (the pre-specified claims), secondary, and the rank tests."""
    if params.primary_family:
        first = _("the tests of change behind the published, pre-specified claims {claims} are the primary family and "
                  "are corrected only among themselves; every other row of the headline table is the secondary "
                  "family").format(claims=", ".join(params.primary_family))
    else:
        first = _("every row of the headline table is one family")
    return _paragraph(_("Multiplicity."), _(
        "Many indicators and groups are tested at once, so some would look significant by chance. p-values are "
        "adjusted with Holm's step-down method (family-wise error) within families: {first}; the rank tests on the "
        "agreement levels are a family of their own. A pooled row that repeats a single group's test is counted "
        "once. The reading uses the adjusted value; Benjamini-Hochberg q-values are in results.csv.").format(
        first=first))


def methods_html(params: Params, results: pd.DataFrame) -> str:
    """Methods and limitations text, filled from params, the design and the tests actually used.

    No sentence names the campaign's topic: limitations specific to it come
    from params (``report.text.<lang>.limitations``), in the report language
    or, failing that, in English marked as such.
    """
    used = [str(t) for col in ("test", "likert_test") if col in results.columns for t in results[col].dropna()]
    tests = [_(TEST_NAMES[t]) if t in TEST_NAMES else t for t in dict.fromkeys(used)]
    weighted = bool(results["weighted"].astype(str).str.lower().eq("true").any()) if "weighted" in results.columns else False
    alpha = fmt_number(params.alpha, digits=len(f"{params.alpha:g}".partition(".")[2]))
    items = [
        design_html(params),
        "<p><strong>{h}</strong> {t}</p>".format(h=esc(_("Indicators.")), t=esc(_(
            "Each indicator is the share of respondents giving a positive answer (for agreement scales: the agreeing "
            "levels). Don't know and refused answers are excluded from the denominator and reported separately."))),
        "<p><strong>{h}</strong> {t}</p>".format(h=esc(_("Tests.")), t=esc(
            _("Two-sided tests at the {alpha} level: {tests}.").format(alpha=alpha, tests="; ".join(tests) or _("none"))
            + (" " + _("Percentages are weighted with the survey weights.") if weighted else "")
            + (" " + _("Intervals, tests and design effects take the survey design (weights, strata, clusters) into "
                       "account by Taylor linearisation, as declared in the params file.")
               if "variance_method" in results.columns and results["variance_method"].eq("taylor").any() else "")
            + " " + _("The effect size is Cohen's h for the difference of two proportions. Confidence intervals are "
                      "95%. The minimum detectable effect (MDE) is the smallest change this sample would detect with "
                      "80% power: a planning figure for the next survey, not a verdict on this one."))),
        ties_html(results),
        families_html(params),
        _paragraph(_("What a reading means."), _(
            "Each row is read from the 95% confidence interval of its change: an increase or a decrease when the "
            "interval lies above or below zero (and the change is still significant after Holm's correction within "
            "its family; otherwise the reading says it is not), and otherwise no clear change, with the range of "
            "changes the data are compatible with. No clear change is not evidence of no effect: the interval shows "
            "how large an effect the survey cannot rule out. A published figure is \u201cconsistent, and the data "
            "show a change\u201d when it lies inside the interval and the interval excludes zero; \u201cconsistent "
            "with the published figure but also with no change\u201d when the interval also contains zero; "
            "\u201cinconsistent\u201d when it lies outside. Where a source does not say whether \u201cincreased by "
            "N%\u201d means percentage points or a share of the baseline, both readings are checked and the note "
            "says whether the data can tell them apart.")),
        _paragraph(_("Don't know and refused."), _(
            "The headline percentages leave these answers out of the denominator (complete cases). results.csv also "
            "gives the change with them counted as negative, as positive and at both extremes (a worst-case range: "
            "positive at baseline and negative at endline, and the reverse); where counting them all one way would "
            "move the confidence interval across zero, the section on don't-know answers says so.")),
        "<p><strong>{h}</strong> {t}</p>".format(h=esc(_("Subgroups.")), t=esc(_(
            "Breakdowns with fewer than {n} respondents in a cell are suppressed to protect respondents and because "
            "their percentages are unstable.").format(n=fmt_int(params.min_cell_size)))),
        measurement_html(params),
        campaign_limitations_html(params),
    ]
    if params.raw.reach:
        items.append("<p><strong>{h}</strong> {t}</p>".format(h=esc(_("Reach.")), t=esc(_(
            "Engagement counts come from the platform export and count repeat interactions; they are not the number "
            "of people reached."))))
    fallbacks = label_fallbacks(params)
    if fallbacks:
        items.append("<p><strong>{h}</strong> {t}</p>".format(h=esc(_("Labels.")), t=esc(ngettext(
            "{n} label is shown in English because neither the params nor the form give it in this language.",
            "{n} labels are shown in English because neither the params nor the form give them in this language.",
            len(fallbacks)).format(n=fmt_int(len(fallbacks))))))
    return "".join(x for x in items if x)


def campaign_limitations_html(params: Params) -> str:
    """Limitations the campaign team wrote for its topic (params ``report.text.<lang>.limitations``), or ``""``."""
    local = params.report.local(get_language()).limitations
    texts = list(local) or [params_text(x) for x in params.report.local("en").limitations]
    if not texts:
        return ""
    return ("<p><strong>{h}</strong></p><ul>".format(h=esc(_("Limitations specific to this campaign."))) + "".join(
        f"<li>{text_html(x)}</li>" for x in texts) + "</ul>")
