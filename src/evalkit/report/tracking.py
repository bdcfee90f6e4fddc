"""Indicator tracking: baseline, target, endline with CI, and a status from the CI.

Donor M&E frameworks track each indicator against a baseline and a target. The
status is judged from the 95% confidence interval, not from the point estimate:

* ``met``: the whole interval lies above the target;
* ``not met``: the whole interval lies below the target;
* ``not yet clear``: the interval contains the target.

An ``endline_pct`` target is judged with the endline share's interval, a
``change_pp`` target with the change's interval. A target on a cell the report
suppresses (fewer than ``min_cell_size`` respondents, or hidden to protect a
small group) gets no status and no numbers.

References
----------
USAID (2017). Performance Indicator Reference Sheet guidance (ADS 201):
baseline, target and actual per indicator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.params import Params
from evalkit.report.format import stage_name
from evalkit.report.i18n import N_, _

#: Columns of ``tracking.csv`` (public API).
TRACKING_COLUMNS = ["campaign", "indicator", "label", "group", "target_kind", "target_value", "target_source",
                    "baseline_pct", "endline_pct", "estimate", "ci_low", "ci_high", "suppressed", "status"]

#: The rule printed under every tracking table.
STATUS_RULE = N_("Status is judged from the 95% confidence interval (CI) of the figure the target is about "
               "(the endline share, or the change in percentage points): met = the whole CI lies above the target; "
               "not met = the whole CI lies below it; not yet clear = the CI contains the target. A target on a "
               "group too small to publish gets no status.")
#: Target statuses as shown to readers.
STATUS_NAMES = {"met": N_("met"), "not met": N_("not met"), "not yet clear": N_("not yet clear")}

STATUSES = ("met", "not met", "not yet clear")


def status_from_ci(ci_low: float, ci_high: float, target: float) -> str:
    """Status of a target given the interval ``[ci_low, ci_high]``.

    Returns ``""`` when either end is missing.

    Examples
    --------
    >>> status_from_ci(61.0, 70.0, 60.0), status_from_ci(40.0, 59.0, 60.0), status_from_ci(55.0, 65.0, 60.0)
    ('met', 'not met', 'not yet clear')
    """
    if pd.isna(ci_low) or pd.isna(ci_high) or pd.isna(target):
        return ""
    if float(ci_low) > float(target):
        return "met"
    if float(ci_high) < float(target):
        return "not met"
    return "not yet clear"


def tracking_table(results: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per target in ``params.evaluation.targets``, with its status.

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` rows (contract columns).
    params : Params

    Returns
    -------
    pandas.DataFrame
        :data:`TRACKING_COLUMNS`. ``estimate, ci_low, ci_high`` are the endline
        share or the change, as the target's kind says; all numbers are NaN and
        ``status`` is empty when ``suppressed`` is True or the cell has no result.
    """
    from evalkit.report.suppress import suppression_mask  # the one small-cell gate

    rows = []
    hidden = suppression_mask(results, params) if not results.empty else pd.Series(dtype=bool)
    for t in params.evaluation.targets:
        label = params.indicator(t.indicator).label
        match = results[(results["indicator"] == t.indicator) & (results["group"] == t.group)] \
            if not results.empty else results
        row = {"campaign": params.campaign, "indicator": t.indicator, "label": label, "group": t.group,
               "target_kind": t.kind, "target_value": float(t.value), "target_source": t.source,
               "baseline_pct": np.nan, "endline_pct": np.nan, "estimate": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "suppressed": False, "status": ""}
        if not match.empty:
            r = match.iloc[0]
            if bool(hidden.loc[match.index[0]]):
                row["suppressed"] = True
            else:
                est, lo, hi = (("endline_pct", "endline_ci_low_pct", "endline_ci_high_pct") if t.kind == "endline_pct"
                               else ("change_pp", "ci_low_pp", "ci_high_pp"))
                row.update(baseline_pct=r.get("baseline_pct"), endline_pct=r.get("endline_pct"),
                           estimate=r.get(est), ci_low=r.get(lo), ci_high=r.get(hi))
                row["status"] = status_from_ci(row["ci_low"], row["ci_high"], t.value)
        rows.append(row)
    return pd.DataFrame(rows, columns=TRACKING_COLUMNS)


def status_counts(tracking: pd.DataFrame) -> dict[str, int]:
    """Number of targets per status, plus ``no status`` (suppressed or no result)."""
    s = tracking["status"].fillna("").astype(str) if not tracking.empty else pd.Series(dtype=str)
    out = {k: int((s == k).sum()) for k in STATUSES}
    out["no status"] = int((s == "").sum())
    return out


def target_text(kind: str, value: float) -> str:
    """``endline >= 60%`` or ``change >= +10 pp`` (in the report language)."""
    from evalkit.report.format import fmt_pct, fmt_pp

    digits = len(f"{float(value):g}".partition(".")[2])
    if kind == "endline_pct":
        return _("endline \u2265 {value}").format(value=fmt_pct(value, digits=digits))
    return _("change \u2265 {value}").format(value=fmt_pp(value, digits=digits))


def tracking_html(tracking: pd.DataFrame, params: Params, *, caption: str | None = None,
                  table_id: str = "tbl-tracking") -> str:
    """Escaped HTML tracking table with the status rule stated under it.

    Returns ``""`` when the params set no target (nothing is invented).
    """
    from evalkit.report.format import esc, fmt_ci, fmt_pct, fmt_pp, group_label, indicator_label, params_text
    from evalkit.report.tables import Column, badge, html_table

    if tracking.empty:
        return ""
    caption = _("Indicator tracking against targets") if caption is None else caption
    kinds = {"met": "up", "not met": "down", "not yet clear": "none"}

    def endline(r: pd.Series) -> str:
        if r["suppressed"]:
            return _("suppressed")
        return f"{fmt_pct(r['endline_pct'])} {fmt_ci(r['ci_low'], r['ci_high'])}" if r["target_kind"] == "endline_pct" \
            else fmt_pct(r["endline_pct"])

    def change(r: pd.Series) -> str:
        if r["suppressed"]:
            return _("suppressed")
        return f"{fmt_pp(r['estimate'])} {fmt_ci(r['ci_low'], r['ci_high'])}" if r["target_kind"] == "change_pp" \
            else "\u2013"

    def status(r: pd.Series) -> str:
        if r["suppressed"]:
            return badge(_("no status: group too small to publish"), "na")
        return (badge(_(STATUS_NAMES[r["status"]]), kinds[r["status"]]) if r["status"]
                else badge(_("no result"), "na"))

    cols = [Column("label", _("Indicator"), fmt=lambda r: indicator_label(params, str(r["indicator"]))),
            Column("group", _("Group"), fmt=lambda r: group_label(params, r["group"])),
            Column("baseline_pct", _("Baseline"), numeric=True,
                   fmt=lambda r: _("suppressed") if r["suppressed"] else fmt_pct(r["baseline_pct"])),
            Column("target_value", _("Target"), fmt=lambda r: target_text(r["target_kind"], r["target_value"])),
            Column("endline_pct", _("Endline (95% CI)"), numeric=True, fmt=endline),
            Column("estimate", _("Change (95% CI)"), numeric=True, fmt=change),
            Column("status", _("Status"), html=status),
            Column("target_source", _("Target source"), fmt=lambda r: params_text(r["target_source"] or ""))]
    return (html_table(tracking, cols, caption=caption, table_id=table_id)
            + f'<p class="ek-rule">{esc(_(STATUS_RULE))}</p>')


def write_tracking(tracking: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``tracking.csv`` (atomic, formula-safe) and ``tracking.xlsx`` into ``out_dir``."""
    from evalkit.atomic import write_csv_atomic

    out_dir = Path(out_dir)
    return [write_csv_atomic(tracking, out_dir / "tracking.csv", index=False),
            write_xlsx_atomic(tracking, out_dir / "tracking.xlsx", sheet="tracking")]


def write_xlsx_atomic(df: pd.DataFrame, final: Path, *, sheet: str) -> Path:
    """Write ``df`` as a one-sheet XLSX atomically; text that looks like a formula is neutralised.

    Missing numbers become empty cells; floats are rounded to 12 significant
    digits, as in the CSV.
    """
    from openpyxl import Workbook

    from evalkit.atomic import neutralise_formula, write_with

    def cell(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(f"{float(v):.12g}")
        return neutralise_formula(str(v))

    def writer(tmp: Path) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([cell(v) for v in row])
        for c in ws.iter_rows():
            for x in c:
                if isinstance(x.value, str):
                    x.data_type = "s"  # never a formula
        wb.save(tmp)

    return write_with(final, writer)


def tracking_across_stages(stages: list) -> pd.DataFrame:
    """The tracking tables of several stages stacked, for the index page.

    Parameters
    ----------
    stages : list of evalkit.report.index.Stage
        Each with ``params`` and ``results``; the table is recomputed with
        :func:`tracking_table`, so the index and the reports agree.

    Returns
    -------
    pandas.DataFrame
        :data:`TRACKING_COLUMNS` plus ``stage`` and ``year``, ordered by
        indicator (first appearance) then campaign start date.
    """
    frames = []
    for s in stages:
        t = tracking_table(s.results, s.params)
        if not t.empty:
            frames.append(t.assign(stage=stage_name(s.params), year=s.params.campaign_period.start.year))
    if not frames:
        return pd.DataFrame(columns=[*TRACKING_COLUMNS, "stage", "year"])
    out = pd.concat(frames, ignore_index=True)
    first = {k: i for i, k in enumerate(dict.fromkeys(out["label"]))}
    out = out.assign(_o=out["label"].map(first)).sort_values(["_o", "year"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def stages_tracking_html(stages: list) -> str:
    """Escaped HTML of :func:`tracking_across_stages`: one section per indicator, one row per stage and target."""
    from evalkit.report.format import esc, fmt_ci, fmt_pct, fmt_pp, group_label
    from evalkit.report.tables import Column, badge, html_table

    from evalkit.report.format import indicator_label, params_text

    tab = tracking_across_stages(stages)
    if tab.empty:
        return f'<p class="ek-empty">{esc(_("No stage sets indicator targets."))}</p>'
    by_campaign = {s.campaign: s.params for s in stages}
    kinds = {"met": "up", "not met": "down", "not yet clear": "none"}

    def figure(r: pd.Series) -> str:
        if r["suppressed"]:
            return _("suppressed")
        unit = fmt_pct(r["estimate"]) if r["target_kind"] == "endline_pct" else fmt_pp(r["estimate"])
        return f"{unit} {fmt_ci(r['ci_low'], r['ci_high'])}"

    def status(r: pd.Series) -> str:
        if r["suppressed"]:
            return badge(_("no status: group too small to publish"), "na")
        return (badge(_(STATUS_NAMES[r["status"]]), kinds[r["status"]]) if r["status"]
                else badge(_("no result"), "na"))

    cols = [Column("stage", _("Stage")),
            Column("group", _("Group"), fmt=lambda r: group_label(by_campaign[r["campaign"]], r["group"])),
            Column("baseline_pct", _("Baseline"), numeric=True,
                   fmt=lambda r: _("suppressed") if r["suppressed"] else fmt_pct(r["baseline_pct"])),
            Column("target_value", _("Target"), fmt=lambda r: target_text(r["target_kind"], r["target_value"])),
            Column("estimate", _("Result (95% CI)"), numeric=True, fmt=figure),
            Column("status", _("Status"), html=status),
            Column("target_source", _("Target source"), fmt=lambda r: params_text(r["target_source"] or ""))]
    return (html_table(tab, cols, caption=_("Indicator tracking across stages"), table_id="tbl-tracking-stages",
                       section=lambda r: indicator_label(by_campaign[r["campaign"]], str(r["indicator"])))
            + f'<p class="ek-rule">{esc(_(STATUS_RULE))}</p>')


def tracking_section_html(tracking: pd.DataFrame, params: Params) -> str:
    """:func:`tracking_html`, or a note that the params file sets no targets."""
    from evalkit.report.format import esc

    return tracking_html(tracking, params) or f'<p class="ek-empty">{esc(_("The params file sets no indicator targets."))}</p>'
