"""Sample and data-quality sections: sample sizes, cleaning log, panel attrition, balance, don't know.

References
----------
Imbens, G. W. & Wooldridge, J. M. (2009). Recent developments in the
econometrics of program evaluation. J. Econ. Lit. 47(1), 5-86 (normalised
differences; |d| > 0.25 flags imbalance).
DIME Analytics, ``iebaltab`` (ietoolkit for Stata): balance tables with
normalised differences.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evalkit.params import Params
from evalkit.report.format import (demographic_label, esc, fmt_count, fmt_int, fmt_number, fmt_pct, group_label,
                                   indicator_label, level_label, params_text, text_html, wave_name)
from evalkit.report.i18n import N_, _
from evalkit.report.tables import Column, badge, html_table


#: Normalised differences above this (in absolute value) are flagged (Imbens & Wooldridge 2009).
IMBALANCE_THRESHOLD = 0.25


def sample_table(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Respondents per wave and group.

    Returns
    -------
    pandas.DataFrame
        Columns ``group, group_label, baseline, endline`` plus a final ``all`` row.
    """
    rows = []
    for g in [*params.groups, "all"]:
        d = responses if g == "all" else responses[responses["group"] == g]
        rows.append({"group": g, "group_label": group_label(params, g),
                     "baseline": int((d["wave"] == "baseline").sum()), "endline": int((d["wave"] == "endline").sum())})
    return pd.DataFrame(rows, columns=["group", "group_label", "baseline", "endline"])


def sample_table_html(responses: pd.DataFrame, params: Params) -> str:
    """Escaped HTML of :func:`sample_table`, with small counts suppressed.

    A count of 1 to ``min_cell_size - 1`` shows as "fewer than ..."; other
    groups are hidden as needed so that the total minus the shown groups does
    not reveal it (:func:`evalkit.smallcells.hidden_groups`, the small-cell gate).
    """
    from evalkit.smallcells import hidden_groups

    t = sample_table(responses, params)
    k = params.min_cell_size
    hidden = hidden_groups(responses, list(params.groups), k=k)

    def count(wave: str) -> Callable[[pd.Series], str]:
        return lambda r: (fmt_count(r[wave], k) if 0 < r[wave] < k
                          else _("suppressed") if r["group"] in hidden[wave] else fmt_int(r[wave]))

    cols = [Column("group_label", _("Group"), fmt=lambda r: group_label(params, r["group"])),
            Column("baseline", _("Baseline"), fmt=count("baseline"), numeric=True),
            Column("endline", _("Endline"), fmt=count("endline"), numeric=True)]
    return html_table(t, cols, caption=_("Respondents per wave and group (after cleaning)"), table_id="tbl-sample")


#: Plain-language names of the cleaning log's rules (``cleaning_log.csv`` column ``rule``).
RULE_NAMES = {
    "read": N_("Export read"), "columns_left_out": N_("Columns left out"),
    "duplicate_submission": N_("Duplicate submissions"), "test_submission": N_("Test interviews"),
    "consent": N_("No consent"), "short_interview": N_("Too short interviews"),
    "missing_respondent_id": N_("Missing respondent id"), "duplicate_respondent": N_("Respondent interviewed twice"),
    "unknown_group": N_("Unknown respondent group"), "dont_know_refused": N_("Don't know and refused answers"),
    "deidentify": N_("De-identification"), "pseudonymise": N_("Pseudonymisation"), "free_text": N_("Free text"),
    "disclosure_check": N_("Disclosure check"), "k_anonymity": N_("Disclosure check (k-anonymity)"), "range": N_("Value out of range"),
    "consistency": N_("Inconsistent answers"), "repeat_groups_left_out": N_("Repeat groups left out"),
    "enumerator_rule": N_("Test-enumerator rule"), "correction": N_("Corrections applied"),
    "recode_other": N_("\u201cOther (specify)\u201d recoded"), "duplicate_resolution": N_("Duplicates resolved"),
}


def rule_name(rule: object) -> str:
    """The cleaning rule's plain-language name in the report language (its code when the rule is unknown)."""
    code = str(rule)
    base, _sep, detail = code.partition(":")
    if base in RULE_NAMES:
        name = _(RULE_NAMES[base])
        return f"{name}: {detail}" if detail else name
    return code.replace("_", " ")


def rule_name_html(rule: object) -> str:
    """:func:`rule_name` as HTML: a detail from params (a consistency check's name) is marked as English."""
    code = str(rule)
    base, _sep, detail = code.partition(":")
    if base in RULE_NAMES and detail:
        return f"{esc(_(RULE_NAMES[base]))}: {text_html(params_text(detail))}"
    return esc(rule_name(rule))


def cleaning_step_text(row: pd.Series) -> str:
    """The cleaning log's reason for a step, as recorded (English); marked as English in another report language."""
    reason = row.get("reason")
    return params_text(reason) if reason is not None and pd.notna(reason) else rule_name(row.get("rule"))


def cleaning_log_html(log: pd.DataFrame) -> str:
    """Escaped HTML of ``cleaning_log.csv``: the rule's name in the report language, the recorded reason as is."""
    cols = [Column("step", _("Step")), Column("rule", _("Rule"), html=lambda r: rule_name_html(r["rule"])),
            Column("rows_in", _("Rows in"), fmt=lambda r: fmt_int(r["rows_in"]), numeric=True),
            Column("rows_dropped", _("Dropped"), fmt=lambda r: fmt_int(r["rows_dropped"]), numeric=True),
            Column("rows_out", _("Rows out"), fmt=lambda r: fmt_int(r["rows_out"]), numeric=True),
            Column("reason", _("Reason (as recorded)"), fmt=cleaning_step_text)]
    return html_table(log, cols, caption=_("Cleaning log: rows removed at each step"), table_id="tbl-cleaning-log",
                      section=lambda r: _("{wave} survey").format(wave=wave_name(r["wave"])) if "wave" in r else "")


def panel_summary_html(panel: pd.DataFrame | None, params: Params) -> str:
    """Panel attrition (paired design): matched, baseline-only and endline-only counts."""
    if params.design != "paired" or panel is None or panel.empty:
        return "<p>" + esc(_("This stage used independent samples at baseline and endline, so there is no panel "
                             "attrition; the balance table compares the composition of the two samples instead.")) + "</p>"
    r = panel.iloc[0]
    matched, b_only, e_only = (int(r[k]) for k in ("matched", "baseline_only", "endline_only"))
    base = matched + b_only
    rate = 100.0 * b_only / base if base else float("nan")
    k = params.min_cell_size
    from evalkit.smallcells import SUPPRESSED, panel_table

    shown = panel_table(panel, k=k).iloc[0]
    if 0 < b_only < k:  # a handful of drop-outs: do not publish their number (nor the matched count)
        return "<p>" + esc(_("Of {n} baseline respondents, all but fewer than {k} were interviewed again at endline; "
                             "changes are estimated on the matched respondents.").format(n=fmt_int(base), k=fmt_int(k))) + "</p>"
    if (shown == SUPPRESSED).any():  # a handful of endline-only interviews: attrition would give matched, and so them
        return "<p>" + esc(_("{n} respondents were interviewed at baseline. How many of them were interviewed again, and "
                             "how many endline interviews had no baseline match, is not shown: one of these numbers is "
                             "below {k}. Changes are estimated on the matched respondents.").format(
            n=fmt_int(base), k=fmt_int(k))) + "</p>"
    return "<p>" + esc(_("Of {n} baseline respondents, {matched} were interviewed again at endline and {lost} were not "
                         "(attrition {rate}); {new} endline interviews had no baseline match. Changes are estimated on "
                         "the {matched} matched respondents.").format(
        n=fmt_int(base), matched=fmt_int(matched), lost=fmt_int(b_only), rate=fmt_pct(rate), new=fmt_int(e_only))) + "</p>"


def _balance_variables(responses: pd.DataFrame, params: Params) -> list[tuple[str, str, pd.Series]]:
    """(name, label, 0/1-or-numeric series) for the balance table, over ``responses``' index."""
    out: list[tuple[str, str, pd.Series]] = []
    if len(params.groups) > 1:
        for g in params.groups:
            out.append((f"group={g}", _("Group: {group}").format(group=group_label(params, g)),
                        (responses["group"] == g).astype(float)))
    for key in params.demographics:
        if key not in responses.columns:
            continue
        col = responses[key].astype("string")
        for level in sorted(col.dropna().unique()):
            out.append((f"{key}={level}", f"{demographic_label(params, key)}: {level_label(params, key, level)}",
                        (col == level).astype("float").where(col.notna())))
    # Outcomes at baseline only in a panel (completers vs drop-outs, before the campaign); with independent
    # samples the endline outcome is the campaign's effect, not an imbalance, so it is never compared here.
    if params.design == "paired":
        for ind in params.indicators:
            if ind.id in responses.columns:
                s = responses[ind.id].astype("Float64").astype(float)
                s = s.where(responses["group"].isin(ind.population))
                out.append((ind.id, _("{indicator} (baseline answer)").format(indicator=indicator_label(params, ind.id)), s))
    return out


def balance_label_html(params: Params, variable: str) -> str:
    """HTML label of a balance-table variable (``group=g``, ``<demographic>=<level>`` or an indicator id).

    Built when shown, so a label in another language than the report's keeps its ``lang`` mark.
    """
    key, eq, level = variable.partition("=")
    if eq and key == "group":
        return esc(_("Group:")) + " " + text_html(group_label(params, level))
    if eq:
        return text_html(demographic_label(params, key)) + ": " + text_html(level_label(params, key, level))
    return text_html(indicator_label(params, variable)) + " " + esc(_("(baseline answer)"))


def balance_table(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Balance table with normalised differences (iebaltab style).

    For a panel (``design: paired``) it compares, at baseline, respondents who
    completed the endline (group 1) with those who dropped out (group 0). For
    independent samples it compares the endline sample (1) with the baseline
    sample (0) on demographics and group only: an outcome differs between the
    waves because of the campaign, which is not an imbalance.

    The normalised difference is ``(mean1 - mean0) / sqrt((var1 + var0) / 2)``
    (Imbens & Wooldridge 2009); ``flag`` is true when its absolute value exceeds
    0.25.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, label, n_1, mean_1, n_0, mean_0, difference,
        normalised_difference, flag``. ``normalised_difference`` is NaN when a
        group is empty or both variances are zero.

    Examples
    --------
    >>> balance_table(responses, params).columns[-2:].tolist()  # doctest: +SKIP
    ['normalised_difference', 'flag']
    """
    if params.design == "paired":
        is_base = (responses["wave"] == "baseline").to_numpy()
        base = responses[is_base]
        # Integer codes keep the set logic vectorised (isin on millions of text ids takes seconds).
        codes = pd.factorize(responses["respondent_id"])[0]
        completed = np.unique(codes[(responses["wave"] == "endline").to_numpy()])
        g1 = pd.Series(np.isin(codes[is_base], completed), index=base.index, name="respondent_id")
        data = base
    else:
        data = responses
        g1 = responses["wave"] == "endline"
    rows = []
    for name, label, s in _balance_variables(data, params):
        a, b = s[g1].dropna(), s[~g1].dropna()
        m1, m0 = (float(a.mean()) if len(a) else np.nan), (float(b.mean()) if len(b) else np.nan)
        v1 = float(a.var(ddof=1)) if len(a) > 1 else np.nan
        v0 = float(b.var(ddof=1)) if len(b) > 1 else np.nan
        denom = np.sqrt((v1 + v0) / 2) if np.isfinite(v1) and np.isfinite(v0) else np.nan
        nd = (m1 - m0) / denom if np.isfinite(denom) and denom > 0 else np.nan
        rows.append({"variable": name, "label": label, "n_1": int(len(a)), "mean_1": m1, "n_0": int(len(b)),
                     "mean_0": m0, "difference": m1 - m0, "normalised_difference": nd,
                     "flag": bool(np.isfinite(nd) and abs(nd) > IMBALANCE_THRESHOLD)})
    return pd.DataFrame(rows, columns=["variable", "label", "n_1", "mean_1", "n_0", "mean_0", "difference",
                                       "normalised_difference", "flag"])


def balance_suppression(table: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Which shares of :func:`balance_table` to hide (the small-cell gate).

    A share of a group or demographic level stands for ``mean * n`` people
    ("Drop-outs 7.7 %" of 104 is 8 people): hidden for 1 to ``k - 1``
    people. The levels of one variable on one side add up to that side's
    published ``n``, and a level's two sides to its baseline total, so those
    are the lines of the complementary suppression
    (:func:`evalkit.smallcells.protect`). Shares of indicator answers are
    hidden only when their side has fewer than ``k`` respondents.

    Returns
    -------
    pandas.DataFrame of bool
        Same index, columns ``mean_1`` and ``mean_0``.
    """
    from evalkit.smallcells import people_in_share, protect

    variable = table["variable"].astype("string")
    key = variable.str.partition("=")[0].where(variable.str.contains("=", regex=False))
    cells = []
    for side in ("1", "0"):
        n = table[f"n_{side}"]
        is_level = key.notna()
        cells.append(pd.DataFrame({"side": side, "variable": table["variable"], "key": key.astype("object"),
                                   "n": people_in_share(100 * table[f"mean_{side}"], n).where(is_level, n),
                                   "base_small": (n > 0) & (n < k)}))
    long = pd.concat(cells, ignore_index=True)
    long["key_side"] = (long["key"] + "|" + long["side"]).where(long["key"].notna())
    long["level"] = long["variable"].where(long["key"].notna())
    mask = protect(long, count="n", k=k, lines=[["key_side"], ["level"]], hidden=long["base_small"])
    return pd.DataFrame({f"mean_{side}": mask[long["side"] == side].to_numpy() for side in ("1", "0")},
                        index=table.index)


def balance_table_html(responses: pd.DataFrame, params: Params) -> str:
    """Escaped HTML of :func:`balance_table`, shares shown as percentages, small cells hidden."""
    t = balance_table(responses, params)
    paired = params.design == "paired"
    k = params.min_cell_size
    hidden = balance_suppression(t, k=k)
    small = (t["n_1"] < k) | (t["n_0"] < k) | hidden.any(axis=1)  # a side hidden: no difference either
    t = t.assign(flag=t["flag"] & ~small, _small=small, _h1=hidden["mean_1"], _h0=hidden["mean_0"])
    sup = _("suppressed")
    cols = [Column("label", _("Characteristic at baseline") if paired else _("Characteristic"),
                   html=lambda r: balance_label_html(params, str(r["variable"]))),
            Column("mean_1", _("Completers (%)") if paired else _("Endline sample (%)"), numeric=True,
                   fmt=lambda r: sup if r["_h1"] or r["n_1"] < k else fmt_pct(100 * r["mean_1"])),
            Column("n_1", _("Completers n") if paired else _("Endline sample n"), numeric=True,  # with the total known, n_1 would give n_0
                   fmt=lambda r: fmt_count(r["n_1"], k) if r["n_1"] < k else sup if r["n_0"] < k else fmt_int(r["n_1"])),
            Column("mean_0", _("Drop-outs (%)") if paired else _("Baseline sample (%)"), numeric=True,
                   fmt=lambda r: sup if r["_h0"] or r["n_0"] < k else fmt_pct(100 * r["mean_0"])),
            Column("n_0", _("Drop-outs n") if paired else _("Baseline sample n"), numeric=True,
                   fmt=lambda r: fmt_count(r["n_0"], k) if r["n_0"] < k else sup if r["n_1"] < k else fmt_int(r["n_0"])),
            Column("normalised_difference", _("Normalised difference"), numeric=True,
                   fmt=lambda r: "\u2013" if r["_small"] or pd.isna(r["normalised_difference"])
                   else fmt_number(r["normalised_difference"], digits=2, sign=True)),
            Column("flag", _("Imbalance"), html=lambda r: badge("|d| > " + fmt_number(IMBALANCE_THRESHOLD, digits=2), "down")
                   if r["flag"] else "")]
    n_flag = int(t["flag"].sum()) if not t.empty else 0
    caption = (_("Balance of completers vs drop-outs: {k} of {n} characteristics differ by more than 0.25 standard "
                 "deviations") if paired else
               _("Balance of the endline vs the baseline sample: {k} of {n} characteristics differ by more than 0.25 "
                 "standard deviations")).format(k=fmt_int(n_flag), n=fmt_int(len(t)))
    return html_table(t, cols, caption=caption, table_id="tbl-balance")


def dont_know_rates(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Share of "don't know" and "refused" answers per indicator and wave.

    The denominator is the respondents in the indicator's population at that
    wave (those asked the question).

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator, label, wave, n_asked, dont_know, refused,
        dont_know_pct, refused_pct``.
    """
    rows = []
    for ind in params.indicators:
        col = f"{ind.id}_missing_reason"
        for wave in ("baseline", "endline"):
            mask = (responses["wave"] == wave) & responses["group"].isin(ind.population)
            # Select the one column, not the whole (wide) frame, before filtering rows.
            reason = (responses.loc[mask, col].astype("string") if col in responses.columns
                      else pd.Series(pd.NA, index=responses.index[mask], dtype="string"))
            asked = int((reason != "not_asked").fillna(True).sum())
            dk, rf = int((reason == "dont_know").fillna(False).sum()), int((reason == "refused").fillna(False).sum())
            rows.append({"indicator": ind.id, "label": indicator_label(params, ind.id), "wave": wave, "n_asked": asked, "dont_know": dk,
                         "refused": rf, "dont_know_pct": 100.0 * dk / asked if asked else np.nan,
                         "refused_pct": 100.0 * rf / asked if asked else np.nan})
    return pd.DataFrame(rows, columns=["indicator", "label", "wave", "n_asked", "dont_know", "refused",
                                       "dont_know_pct", "refused_pct"])


def dont_know_conclusions_html(results: pd.DataFrame, params: Params) -> str:
    """The results rows whose conclusion depends on how don't-know answers are counted (escaped HTML).

    One item per row with a ``dont_know_note`` (results.csv; computed English
    text, marked as such in another report language), else a sentence saying
    that no conclusion depends on them.
    """
    if "dont_know_note" not in results.columns:
        return ""
    notes = results.loc[results["dont_know_note"].fillna("").astype(str) != ""]
    if notes.empty:
        return "<p>{t}</p>".format(t=esc(_(
            "Counting the don't-know and refused answers as negative, or as positive, changes no conclusion of the "
            "headline table (results.csv gives the change both ways and the full range).")))
    def item(r: pd.Series) -> str:
        # labels may be English in another report language: each keeps its own lang mark
        head = esc(_("\u201c{indicator}\u201d, {group}:")).format(
            indicator=text_html(indicator_label(params, str(r["indicator"]))),
            group=text_html(group_label(params, r["group"])))
        return f"<li>{head} {text_html(params_text(r['dont_know_note']))}</li>"

    lis = "".join(item(r) for _i, r in notes.iterrows())
    return "<p>{t}</p><ul>{lis}</ul>".format(
        t=esc(_("Where the conclusion depends on how don't-know and refused answers are counted:")), lis=lis)


def dont_know_suppression(rates: pd.DataFrame, responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Which cells of :func:`dont_know_rates` to hide (the small-cell gate).

    ``n_asked`` counts people: hidden for 1 to ``min_cell_size - 1``, and when
    it would reveal a group the sample table hides
    (:func:`evalkit.smallcells.reveals_hidden_group`). The don't-know and
    refused shares are about answers; they are hidden only with a small base.

    Returns
    -------
    pandas.DataFrame of bool
        Same index, columns ``n_asked`` and ``rates``.
    """
    from evalkit.smallcells import hidden_groups, is_small, reveals_hidden_group

    k = params.min_cell_size
    hidden = hidden_groups(responses, list(params.groups), k=k)
    population = {ind.id: set(ind.population) for ind in params.indicators}
    small = pd.Series(is_small(rates["n_asked"], k), index=rates.index)
    derived = pd.Series([reveals_hidden_group(population[r.indicator], hidden[r.wave]) for r in rates.itertuples()],
                        index=rates.index, dtype=bool)
    return pd.DataFrame({"n_asked": small | derived, "rates": small})


def dont_know_html(responses: pd.DataFrame, params: Params, *, results: pd.DataFrame | None = None) -> str:
    """Escaped HTML of :func:`dont_know_rates`, small counts of people hidden; with ``results``, also
    :func:`dont_know_conclusions_html`."""
    t = dont_know_rates(responses, params)
    after = "" if results is None else dont_know_conclusions_html(results, params)
    k = params.min_cell_size
    hidden = dont_know_suppression(t, responses, params)
    t = t.assign(_h_asked=hidden["n_asked"], _h_rates=hidden["rates"])
    sup = _("suppressed")
    cols = [Column("wave", _("Wave"), fmt=lambda r: wave_name(r["wave"])),
            Column("n_asked", _("Asked"), numeric=True,
                   fmt=lambda r: (fmt_count(r["n_asked"], k) if 0 < r["n_asked"] < k else sup) if r["_h_asked"]
                   else fmt_int(r["n_asked"])),
            Column("dont_know_pct", _("Don't know"), numeric=True,
                   fmt=lambda r: sup if r["_h_rates"] else fmt_pct(r["dont_know_pct"])),
            Column("refused_pct", _("Refused"), numeric=True,
                   fmt=lambda r: sup if r["_h_rates"] else fmt_pct(r["refused_pct"]))]
    return html_table(t, cols, caption=_("Don't know and refused answers (excluded from percentages)"), table_id="tbl-dont-know",
                      section=lambda r: indicator_label(params, str(r["indicator"]))) + after
