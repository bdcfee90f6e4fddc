"""Tables of findings: results by indicator and group, published claims, subgroup breakdowns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evalkit.claims import ALSO_NO_CHANGE, CONSISTENT_LEVEL, INCONSISTENT, NOT_TESTABLE, SHOWS_CHANGE
from evalkit.params import Params
from evalkit.report.format import (demographic_label, fmt_ci, fmt_count, fmt_int, fmt_number, fmt_p, fmt_pct, fmt_pp,
                                   group_label, indicator_label, level_label, params_text)
from evalkit.report.i18n import _, get_language
from evalkit.report.suppress import suppression_mask, too_small
from evalkit.report.summary import reading
from evalkit.report.tables import Column, badge, html_table


def results_table(results: pd.DataFrame, params: Params, *, group: str | None = None) -> str:
    """Headline results: indicator x group with change, CI, p, Holm p, MDE and reading.

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` (contract columns).
    params : Params
    group : str or None, keyword-only
        Only this group's rows (``None``: all rows).

    Returns
    -------
    str
        Escaped HTML table.
    """
    df = results if group is None else results[results["group"] == group]
    order = {ind.id: i for i, ind in enumerate(params.indicators)}
    gorder = {g: i for i, g in enumerate(["all", *params.groups])}
    df = df.assign(_o=df["indicator"].map(order).fillna(999), _g=df["group"].map(gorder).fillna(999))
    df = df.sort_values(["_o", "_g"], kind="stable")
    df = df.assign(_hidden=suppression_mask(results, params).reindex(df.index).fillna(False))
    alpha, min_n = params.alpha, params.min_cell_size

    def read_html(r: pd.Series) -> str:
        if r["_hidden"] and not too_small(r, min_n):
            return badge(_("not reported, to protect a small group"), "na")
        text, kind = reading(r, alpha=alpha, min_n=min_n)
        return badge(text, kind)

    def hide(fmt: Callable[[pd.Series], str], *, text: str | None = None) -> Callable[[pd.Series], str]:
        return lambda r: (_("suppressed") if text is None else text) if r["_hidden"] else fmt(r)

    n_col = (lambda r: f"{fmt_int(r['n_baseline'])} / {fmt_int(r['n_endline'])}") if "n_baseline" in df.columns \
        else (lambda r: fmt_int(r["n"]))

    def numeric(r: pd.Series) -> bool:  # a numeric indicator (issue 13): means, not percentages
        return r.get("indicator_type") == "numeric"

    def level(r: pd.Series, wave: str) -> str:
        if not numeric(r):
            return fmt_pct(r[f"{wave}_pct"])
        mean = r.get(f"{wave}_mean")
        # TRANSLATORS: the average of a numeric answer (e.g. times hands were washed), "mean 2.35".
        return "\u2013" if pd.isna(mean) else _("mean {value}").format(value=fmt_number(mean, digits=2))

    def change(r: pd.Series) -> str:
        if not numeric(r):
            return f"{fmt_pp(r['change_pp'])} {fmt_ci(r['ci_low_pp'], r['ci_high_pp'])}"
        diff = r.get("change_mean")
        return "\u2013" if pd.isna(diff) else (f"{fmt_number(diff, digits=2, sign=True)} "
                                               f"{fmt_ci(r.get('change_mean_ci_low'), r.get('change_mean_ci_high'), digits=2)}")

    cols = [
        Column("group", _("Group"), fmt=lambda r: group_label(params, r["group"])),
        Column("n", _("n (base / end)") if "n_baseline" in df.columns else "n", numeric=True,
               fmt=lambda r: fmt_count(1, min_n) if too_small(r, min_n) else _("suppressed") if r["_hidden"] else n_col(r)),
        Column("baseline_pct", _("Baseline"), fmt=hide(lambda r: level(r, "baseline")), numeric=True),
        Column("endline_pct", _("Endline"), fmt=hide(lambda r: level(r, "endline")), numeric=True),
        Column("change_pp", _("Change (95% CI)"), numeric=True, fmt=hide(change)),
        Column("p_value", "p", fmt=hide(lambda r: fmt_p(r["p_value"]), text="\u2013"), numeric=True),
        Column("p_holm", _("Holm p (family)"), fmt=hide(_holm_with_family, text="\u2013"), numeric=True),
        Column("mde_pp", _("MDE (planning)"), fmt=hide(lambda r: fmt_pp(r["mde_pp"], sign=False), text="\u2013"),
               numeric=True),
        Column("reading", _("Reading"), html=read_html),
    ]
    return html_table(df, cols, caption=_("Headline results by indicator and respondent group"), table_id="tbl-results",
                      section=lambda r: indicator_label(params, str(r["indicator"])))



def _holm_with_family(r: pd.Series) -> str:
    """The Holm p with its family in brackets for a primary row ("0.041 (primary)")."""
    fam = r.get("family")
    if isinstance(fam, str) and fam == "primary":
        return _("{p} (primary)").format(p=fmt_p(r["p_holm"]))
    return fmt_p(r["p_holm"])


def _claim_unit(r: pd.Series) -> str:
    """" pp" for a change, "%" for a percentage at one wave (from ``part``, else ``kind``)."""
    part = r.get("part")
    if isinstance(part, str) and part:
        return " pp" if part == "change" else "%"
    return " pp" if str(r.get("kind", "")) in ("change_pp", "increase", "baseline_endline_pct") else "%"


def _fmt_published(r: pd.Series) -> str:
    pub = r.get("published")
    kind = str(r.get("kind", ""))
    if pub is None or pd.isna(pub):
        return _("increase (no figure)") if kind == "increase" else "\u2013"
    if isinstance(pub, (int, float, np.integer, np.floating)):
        digits = len(f"{float(pub):g}".partition(".")[2])
        return fmt_pp(pub, digits=digits) if _claim_unit(r) == " pp" else fmt_pct(pub, digits=digits)
    return params_text(pub)


def _fmt_estimate(r: pd.Series) -> str:
    est = r.get("estimate")
    if est is None or pd.isna(est):
        return "\u2013"
    val = fmt_pp(est) if _claim_unit(r) == " pp" else fmt_pct(est)
    return f"{val} {fmt_ci(r.get('ci_low'), r.get('ci_high'))}"


def _verdict_badge(r: pd.Series) -> tuple[str, str]:
    """Badge text and style: ``verdict_detail`` (what the data can tell) when present, else ``verdict``.

    Styles: up = consistent (with a change shown), none = consistent but also
    with no change, down = inconsistent, na = not testable.
    """
    coarse = {"consistent": (_("consistent"), "up"), "not consistent": (_("not consistent"), "down"),
              "not testable": (_("not testable"), "na")}
    details = {SHOWS_CHANGE: (_("consistent, and the data show a change"), "up"),
               ALSO_NO_CHANGE: (_("consistent with the published figure but also with no change"), "none"),
               CONSISTENT_LEVEL: (_("consistent with the published figure"), "up"),
               INCONSISTENT: (_("inconsistent"), "down"), NOT_TESTABLE: (_("not testable"), "na")}
    detail = r.get("verdict_detail")
    if isinstance(detail, str) and detail in details:
        return details[detail]
    verdict = str(r["verdict"])
    return coarse.get(verdict, (params_text(verdict), "none"))


def claims_table(claims: pd.DataFrame, params: Params) -> str:
    """Published claims vs. this data: published value, estimate with 95% CI, verdict.

    Parameters
    ----------
    claims : pandas.DataFrame
        ``claims.csv`` (``claim_id, text, indicator, group, kind, published,
        estimate, ci_low, ci_high, verdict, note``).

    Returns
    -------
    str
        Escaped HTML table.
    """
    kind_names = {"change_pp": _("change"), "endline_pct": _("endline"), "baseline_pct": _("baseline"),
                  "baseline_endline_pct": _("baseline and endline"), "increase": _("direction of change"),
                  "change": _("change"), "endline": _("endline"), "baseline": _("baseline")}

    def figure(r: pd.Series) -> str:
        key = str(r["part"]) if "part" in r and pd.notna(r["part"]) else str(r.get("kind"))
        return kind_names.get(key, key)

    def text(r: pd.Series) -> str:
        local = params.report.local(get_language()).claims.get(str(r["claim_id"]))
        return f"{r['claim_id']}: {local}" if local else params_text(f"{r['claim_id']}: {r['text']}")

    cols = [
        Column("part", _("Figure"), fmt=figure),
        Column("group", _("Group"), fmt=lambda r: group_label(params, r["group"])),
        Column("published", _("Published"), fmt=_fmt_published, numeric=True),
        Column("estimate", _("This data (95% CI)"), numeric=True,
               fmt=lambda r: _("suppressed") if too_small(r, params.min_cell_size) else _fmt_estimate(r)),
        Column("verdict", _("Verdict"), html=lambda r: badge(*_verdict_badge(r))),
        Column("note", _("Note (as computed)"), fmt=lambda r: "" if pd.isna(r.get("note")) else params_text(r.get("note"))),
    ]
    return html_table(claims, cols, caption=_("Published figures compared with this data"), table_id="tbl-claims",
                      section=text, empty=_("this stage has no published figures to check"))



def subgroups_table(subgroups: pd.DataFrame, params: Params) -> str:
    """Subgroup breakdowns with suppressed small cells marked (escaped HTML).

    Suppressed cells (fewer than ``params.min_cell_size`` respondents) show
    "suppressed" instead of percentages.
    """
    def sup(r: pd.Series) -> bool:
        flagged = bool(r.get("suppressed")) and str(r.get("suppressed")).lower() not in ("false", "0", "nan", "<na>")
        return flagged or too_small(r, params.min_cell_size)  # also when a cell is small but was not flagged

    def pct(key: str) -> Callable[[pd.Series], str]:
        return lambda r: _("suppressed") if sup(r) else fmt_pct(r[key])

    cols = [
        Column("group", _("Group"), fmt=lambda r: group_label(params, r["group"])),
        Column("subgroup", _("Breakdown"), fmt=lambda r: demographic_label(params, str(r["subgroup"]))),
        Column("level", _("Level"), fmt=lambda r: level_label(params, str(r["subgroup"]), r["level"])),
        Column("n", _("n (baseline / endline)"), numeric=True,
               fmt=lambda r: _("suppressed") if sup(r) else f"{fmt_int(r['n_baseline'])} / {fmt_int(r['n_endline'])}"),
        Column("baseline_pct", _("Baseline"), fmt=pct("baseline_pct"), numeric=True),
        Column("endline_pct", _("Endline"), fmt=pct("endline_pct"), numeric=True),
        Column("change_pp", _("Change"), fmt=lambda r: _("suppressed") if sup(r) else fmt_pp(r["change_pp"]), numeric=True),
        Column("note", _("Note (as computed)"), fmt=lambda r: "" if pd.isna(r.get("note")) else params_text(r.get("note"))),
    ]
    return html_table(subgroups, cols, caption=_("Results by subgroup (cells with fewer than {n} respondents "
                                                 "suppressed)").format(n=fmt_int(params.min_cell_size)),
                      table_id="tbl-subgroups", section=lambda r: indicator_label(params, str(r["indicator"])))
