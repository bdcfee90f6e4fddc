"""Tables of findings: results by indicator and group, published claims, subgroup breakdowns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evalkit.params import Params
from evalkit.report.format import fmt_ci, fmt_int, fmt_p, fmt_pct, fmt_pp, group_label
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
            return badge("not reported, to protect a small group", "na")
        text, kind = reading(r, alpha=alpha, min_n=min_n)
        return badge(text, kind)

    def hide(fmt: Callable[[pd.Series], str], *, text: str = "suppressed") -> Callable[[pd.Series], str]:
        return lambda r: text if r["_hidden"] else fmt(r)

    def label(r: pd.Series) -> str:
        try:
            return params.indicator(str(r["indicator"])).label
        except KeyError:
            return str(r.get("label", r["indicator"]))

    n_col = (lambda r: f"{fmt_int(r['n_baseline'])} / {fmt_int(r['n_endline'])}") if "n_baseline" in df.columns \
        else (lambda r: fmt_int(r["n"]))
    cols = [
        Column("group", "Group", fmt=lambda r: group_label(params, r["group"])),
        Column("n", "n (base / end)" if "n_baseline" in df.columns else "n", numeric=True,
               fmt=lambda r: f"fewer than {min_n}" if too_small(r, min_n) else "suppressed" if r["_hidden"] else n_col(r)),
        Column("baseline_pct", "Baseline", fmt=hide(lambda r: fmt_pct(r["baseline_pct"])), numeric=True),
        Column("endline_pct", "Endline", fmt=hide(lambda r: fmt_pct(r["endline_pct"])), numeric=True),
        Column("change_pp", "Change (95% CI)", numeric=True,
               fmt=hide(lambda r: f"{fmt_pp(r['change_pp'])} {fmt_ci(r['ci_low_pp'], r['ci_high_pp'])}")),
        Column("p_value", "p", fmt=hide(lambda r: fmt_p(r["p_value"]), text="\u2013"), numeric=True),
        Column("p_holm", "Holm p", fmt=hide(lambda r: fmt_p(r["p_holm"]), text="\u2013"), numeric=True),
        Column("mde_pp", "MDE", fmt=hide(lambda r: fmt_pp(r["mde_pp"], sign=False), text="\u2013"), numeric=True),
        Column("reading", "Reading", html=read_html),
    ]
    return html_table(df, cols, caption="Headline results by indicator and respondent group", table_id="tbl-results",
                      section=label)



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
        return "increase (no figure)" if kind == "increase" else "\u2013"
    if isinstance(pub, (int, float, np.integer, np.floating)):
        return f"{float(pub):+g} pp" if _claim_unit(r) == " pp" else f"{float(pub):g}%"
    return str(pub)


def _fmt_estimate(r: pd.Series) -> str:
    est = r.get("estimate")
    if est is None or pd.isna(est):
        return "\u2013"
    unit = _claim_unit(r)
    val = f"{float(est):+.1f}{unit}" if unit == " pp" else f"{float(est):.1f}{unit}"
    return f"{val} {fmt_ci(r.get('ci_low'), r.get('ci_high'))}"


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
    kinds = {"consistent": "up", "not consistent": "down", "not testable": "na"}
    kind_names = {"change_pp": "change", "endline_pct": "endline", "baseline_pct": "baseline",
                  "baseline_endline_pct": "baseline and endline", "increase": "direction of change"}
    cols = [
        Column("part", "Figure", fmt=lambda r: str(r["part"]) if "part" in r and pd.notna(r["part"])
               else kind_names.get(str(r.get("kind")), str(r.get("kind")))),
        Column("group", "Group", fmt=lambda r: group_label(params, r["group"])),
        Column("published", "Published", fmt=_fmt_published, numeric=True),
        Column("estimate", "This data (95% CI)", numeric=True,
               fmt=lambda r: "suppressed" if too_small(r, params.min_cell_size) else _fmt_estimate(r)),
        Column("verdict", "Verdict", html=lambda r: badge(str(r["verdict"]), kinds.get(str(r["verdict"]), "none"))),
        Column("note", "Note", fmt=lambda r: "" if pd.isna(r.get("note")) else str(r.get("note"))),
    ]
    return html_table(claims, cols, caption="Published figures compared with this data", table_id="tbl-claims",
                      section=lambda r: f"{r['claim_id']}: {r['text']}",
                      empty="this stage has no published figures to check")



def subgroups_table(subgroups: pd.DataFrame, params: Params) -> str:
    """Subgroup breakdowns with suppressed small cells marked (escaped HTML).

    Suppressed cells (fewer than ``params.min_cell_size`` respondents) show
    "suppressed" instead of percentages.
    """
    def sup(r: pd.Series) -> bool:
        flagged = bool(r.get("suppressed")) and str(r.get("suppressed")).lower() not in ("false", "0", "nan", "<na>")
        return flagged or too_small(r, params.min_cell_size)  # also when a cell is small but was not flagged

    def pct(key: str) -> Callable[[pd.Series], str]:
        return lambda r: "suppressed" if sup(r) else fmt_pct(r[key])

    def label(r: pd.Series) -> str:
        try:
            return params.indicator(str(r["indicator"])).label
        except KeyError:
            return str(r["indicator"])

    cols = [
        Column("group", "Group", fmt=lambda r: group_label(params, r["group"])),
        Column("subgroup", "Breakdown", fmt=lambda r: str(r["subgroup"]).replace("_", " ").capitalize()),
        Column("level", "Level", fmt=lambda r: str(r["level"]).replace("_", " ")),
        Column("n", "n (baseline / endline)", numeric=True,
               fmt=lambda r: "suppressed" if sup(r) else f"{fmt_int(r['n_baseline'])} / {fmt_int(r['n_endline'])}"),
        Column("baseline_pct", "Baseline", fmt=pct("baseline_pct"), numeric=True),
        Column("endline_pct", "Endline", fmt=pct("endline_pct"), numeric=True),
        Column("change_pp", "Change", fmt=lambda r: "suppressed" if sup(r) else fmt_pp(r["change_pp"]), numeric=True),
        Column("note", "Note", fmt=lambda r: "" if pd.isna(r.get("note")) else str(r.get("note"))),
    ]
    return html_table(subgroups, cols, caption=f"Results by subgroup (cells with fewer than {params.min_cell_size} "
                      f"respondents suppressed)", table_id="tbl-subgroups", section=label)
