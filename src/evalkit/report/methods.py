"""Methods and limitations text, filled from params and the tests actually used."""

from __future__ import annotations


import pandas as pd

from evalkit.params import Params
from evalkit.report.format import esc


#: Plain-language names of the tests evalkit.compare reports (``test`` and ``likert_test`` columns).
TEST_NAMES = {
    "mcnemar_midp": "McNemar's test (mid-p) on matched pairs, with Newcombe's interval for a paired difference",
    "pearson_chi2": "Pearson's chi-squared test of two independent proportions, with Newcombe's hybrid score interval",
    "wilcoxon_signed_rank": "Wilcoxon signed-rank test on the five agreement levels (matched pairs)",
    "mann_whitney_u": "Mann-Whitney U test on the five agreement levels",
}


def methods_html(params: Params, results: pd.DataFrame) -> str:
    """Methods and limitations text, filled from params and the tests actually used."""
    used = [str(t) for col in ("test", "likert_test") if col in results.columns for t in results[col].dropna()]
    tests = [TEST_NAMES.get(t, t) for t in dict.fromkeys(used)]
    weighted = bool(results["weighted"].astype(str).str.lower().eq("true").any()) if "weighted" in results.columns else False
    design = ("a panel: the same respondents were interviewed at baseline and endline, matched by a pseudonymous "
              "identifier. Changes are estimated on matched pairs, so each respondent is their own comparison."
              if params.design == "paired" else
              "two independent cross-sections: different respondents at baseline and endline. Changes compare "
              "two samples, so differences in who was interviewed can look like change; see the balance table.")
    items = [
        f"<p><strong>Design.</strong> Pre/post KAP survey, {esc(design)} There is no comparison group that did not "
        f"see the campaign, so a change between waves cannot be attributed to the campaign alone: other events, "
        f"seasonal effects and being interviewed twice can also change answers.</p>",
        f"<p><strong>Indicators.</strong> Each indicator is the share of respondents giving a positive answer "
        f"(for agreement scales: agree or strongly agree). Don't know and refused answers are excluded from the "
        f"denominator and reported separately.</p>",
        f"<p><strong>Tests.</strong> Two-sided tests at the {params.alpha:g} level: {esc('; '.join(tests) or 'none')}. "
        + ("Percentages are weighted with the survey weights and intervals use Kish's effective sample size. "
           if weighted else "")
        + f"The effect size is Cohen's h for the difference of two proportions. "
        f"Confidence intervals are 95%. The minimum detectable effect (MDE) is the smallest change this sample "
        f"would detect with 80% power; a non-significant change smaller than the MDE is reported as smaller than "
        f"the survey can detect, not as no change.</p>",
        "<p><strong>Multiplicity.</strong> Many indicators and groups are tested at once, so some would look "
        "significant by chance. p-values are adjusted with Holm's step-down method (family-wise error), and the "
        "reading uses the adjusted value; Benjamini-Hochberg q-values are in results.csv.</p>",
        f"<p><strong>Subgroups.</strong> Breakdowns with fewer than {params.min_cell_size} respondents in a cell are "
        f"suppressed to protect respondents and because their percentages are unstable.</p>",
        "<p><strong>What self-reported answers can show.</strong> KAP surveys measure what people say they know, "
        "believe and do. Answers about attitudes towards children with disabilities are prone to social "
        "desirability bias, which may grow after a campaign that tells people the desired answer. Reported "
        "practices are intentions or recalled behaviour, not observed behaviour. The results show changes in "
        "stated knowledge and attitudes; they do not show changes in enrolment or in how children with special "
        "needs are treated.</p>",
        "<p><strong>Reach.</strong> Engagement counts come from the platform export and count repeat interactions; "
        "they are not the number of people reached.</p>",
    ]
    return "".join(items)
