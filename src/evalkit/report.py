"""Report building blocks: escaped HTML tables, templated text, provenance.

The evaluation notebook displays what these functions return with
``IPython.display.HTML``. Every value that comes from data or params (labels,
group names, claim text, answers) goes through :func:`html.escape`, because
pandas' ``Styler`` does not escape by default and ``display(Markdown(...))``
passes HTML through. Every number in the text is computed here from the results;
no number is typed.

References
----------
World Health Organization (2008). Advocacy, communication and social
mobilization for TB control: a guide to developing knowledge, attitude and
practice surveys. WHO/HTM/STB/2008.46 (report structure: results with tests,
limitations, recommendations).
Imbens, G. W. & Wooldridge, J. M. (2009). Recent developments in the
econometrics of program evaluation. J. Econ. Lit. 47(1), 5-86 (normalised
differences; |d| > 0.25 flags imbalance).
DIME Analytics, ``iebaltab`` (ietoolkit for Stata): balance tables with
normalised differences.
"""

from __future__ import annotations

import html
import importlib.metadata
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from evalkit import paths
from evalkit.errors import AnalysisError
from evalkit.params import Params, params_as_dict

#: Packages whose versions the provenance section lists.
PROVENANCE_PACKAGES = ("evalkit", "pandas", "numpy", "scipy", "statsmodels", "pingouin", "seaborn",
                       "matplotlib", "pyarrow", "papermill", "nbconvert", "nbformat", "pyyaml")

#: Normalised differences above this (in absolute value) are flagged (Imbens & Wooldridge 2009).
IMBALANCE_THRESHOLD = 0.25


def esc(value: object) -> str:
    """HTML-escape any value as text (``None``/NaN become an empty string)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------- formatting


def fmt_pct(x: object, *, digits: int = 1) -> str:
    """``51.3%`` or an en dash for a missing value."""
    return "\u2013" if pd.isna(x) else f"{float(x):.{digits}f}%"


def fmt_pp(x: object, *, digits: int = 1, sign: bool = True) -> str:
    """``+4.2 pp`` (signed) or an en dash."""
    if pd.isna(x):
        return "\u2013"
    return f"{float(x):+.{digits}f} pp" if sign else f"{float(x):.{digits}f} pp"


def fmt_ci(lo: object, hi: object, *, digits: int = 1, unit: str = "") -> str:
    """``(-1.2 to 9.6)``; an en dash when either end is missing."""
    if pd.isna(lo) or pd.isna(hi):
        return "\u2013"
    return f"({float(lo):.{digits}f} to {float(hi):.{digits}f}{unit})"


def fmt_p(p: object) -> str:
    """p-value as ``<0.001``, ``0.012`` or an en dash."""
    if pd.isna(p):
        return "\u2013"
    p = float(p)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def fmt_date(d: Any) -> str:
    """``17 January 2022``: English month names whatever the locale (``%B`` follows LC_TIME)."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def fmt_count(x: object, min_n: int) -> str:
    """A count, or ``fewer than <min_n>`` for 1 to ``min_n - 1`` (small-cell suppression)."""
    if pd.notna(x) and 0 < float(x) < min_n:
        return f"fewer than {min_n}"
    return fmt_int(x)


def fmt_int(x: object) -> str:
    """Whole number with thousands separators, or an en dash."""
    return "\u2013" if pd.isna(x) else f"{int(round(float(x))):,}"


def plural(n: int, word: str) -> str:
    """``"1 indicator"``, ``"3 indicators"``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


#: Label of the pooled row ``all``: the groups the indicator's question was
#: asked of, together (for a parents-only question, all parents).
ALL_GROUPS_LABEL = "All groups asked"


def group_label(params: Params, group: object) -> str:
    """Label shown for a group name (``all`` is :data:`ALL_GROUPS_LABEL`)."""
    if group == "all":
        return ALL_GROUPS_LABEL
    return params.groups.get(str(group), str(group))



# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    """One column of an HTML table.

    Attributes
    ----------
    key : str
        DataFrame column read by the default formatter.
    header : str
        Header text (escaped).
    fmt : callable or None
        ``fmt(row) -> str`` returning *plain text* (it is escaped); default
        ``str(row[key])``.
    numeric : bool
        Right-align (numbers).
    html : callable or None
        ``html(row) -> str`` returning already-escaped HTML (for badges); takes
        precedence over ``fmt``.
    """

    key: str
    header: str
    fmt: Callable[[pd.Series], str] | None = None
    numeric: bool = False
    html: Callable[[pd.Series], str] | None = None


def html_table(df: pd.DataFrame, columns: list[Column], *, caption: str, table_id: str | None = None,
               empty: str = "No rows.", section: Callable[[pd.Series], str] | None = None) -> str:
    """Build an accessible HTML table from a DataFrame, escaping every cell.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows to show (not modified).
    columns : list of Column
        What to show and how.
    caption : str, keyword-only
        Table caption (escaped); also the scroll region's accessible name.
    table_id : str or None, keyword-only
        ``id`` attribute (escaped).
    empty : str, keyword-only
        Text shown instead of an empty table.
    section : callable or None, keyword-only
        ``section(row) -> str`` (plain text); a full-width header row is
        inserted whenever its value changes (e.g. one per indicator).

    Returns
    -------
    str
        ``<div class="ek-table-wrap">`` holding a ``<table>`` with a
        ``<caption>``, ``<th scope="col">`` headers and escaped cells.
    """
    if df.empty:
        return f'<p class="ek-empty">{esc(caption)}: {esc(empty)}</p>'
    tid = f' id="{esc(table_id)}"' if table_id else ""
    num = ' class="num"'
    head = "".join(f'<th scope="col"{num if c.numeric else ""}>{esc(c.header)}</th>' for c in columns)
    body = []
    current = None
    for _, row in df.iterrows():
        if section is not None and section(row) != current:
            current = section(row)
            body.append(f'<tr class="ek-section"><th colspan="{len(columns)}" scope="colgroup">'
                        f'<span class="ek-stick">{esc(current)}</span></th></tr>')
        cells = []
        for c in columns:
            if c.html is not None:
                content = c.html(row)
            else:
                content = esc(c.fmt(row) if c.fmt is not None else row.get(c.key))
            cells.append(f'<td{num if c.numeric else ""}>{content}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="ek-table-wrap" role="region" tabindex="0" aria-label="{esc(caption)}">'
            f'<table{tid}><caption><span class="ek-stick">{esc(caption)}</span></caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def frame_table(df: pd.DataFrame, *, caption: str, headers: Mapping[str, str] | None = None) -> str:
    """Escaped HTML table of every column of ``df`` (numbers right-aligned)."""
    headers = dict(headers or {})
    cols = []
    for key in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[key]) and not pd.api.types.is_bool_dtype(df[key])
        cols.append(Column(key=str(key), header=headers.get(key, str(key).replace("_", " ")), numeric=numeric,
                           fmt=(lambda r, k=key: "" if pd.isna(r[k]) else f"{r[k]:,}" if isinstance(r[k], (int, np.integer))
                                else f"{r[k]:,.2f}" if isinstance(r[k], (float, np.floating)) else str(r[k]))))
    return html_table(df, cols, caption=caption)


def badge(text: str, kind: str) -> str:
    """``<span class="ek-badge ek-badge-<kind>">`` with escaped text."""
    return f'<span class="ek-badge ek-badge-{esc(kind)}">{esc(text)}</span>'


# --------------------------------------------------------------------------- readings


def row_n(row: Mapping[str, Any]) -> float:
    """Smallest sample size of a results row: ``min(n_baseline, n_endline)``, else ``n`` (NaN if none)."""
    vals = [row.get(k) for k in ("n_baseline", "n_endline")]
    vals = [float(v) for v in vals if v is not None and pd.notna(v)]
    if not vals and row.get("n") is not None and pd.notna(row.get("n")):
        vals = [float(row.get("n"))]
    return min(vals) if vals else float("nan")


def too_small(row: Mapping[str, Any], min_n: int) -> bool:
    """True when a row's smallest sample is below ``min_n`` (small-cell suppression)."""
    note = row.get("note")
    if isinstance(note, str) and note.startswith("suppressed"):  # by compare.suppress_small_groups
        return True
    n = row_n(row)
    return bool(min_n) and pd.notna(n) and n < min_n


def suppression_mask(results: pd.DataFrame, params: Params) -> pd.Series:
    """Rows of ``results`` the report must not show, with complementary suppression.

    Primary: rows with fewer than ``params.min_cell_size`` respondents
    (:func:`too_small`). Secondary: when exactly one group of an indicator is
    hidden and the pooled ``all`` row is shown, the smallest other group is
    hidden too, so that the hidden group cannot be derived as "all respondents
    minus the other groups".

    Returns
    -------
    pandas.Series of bool
        Aligned with ``results.index``; True = do not show.

    References
    ----------
    Hundepool, A. et al. (2012). Statistical Disclosure Control, ch. 5
    (secondary cell suppression). Wiley.
    """
    k = params.min_cell_size
    mask = pd.Series([too_small(r, k) for _, r in results.iterrows()], index=results.index, dtype=bool)
    for _, idx in results.groupby("indicator", sort=False).groups.items():
        sub = results.loc[idx]
        groups = sub[sub["group"] != "all"]
        pooled = sub[sub["group"] == "all"]
        hidden = groups.index[mask.loc[groups.index]]
        shown = groups.index[~mask.loc[groups.index]]
        if len(hidden) == 1 and len(pooled) and not mask.loc[pooled.index].all() and len(shown):
            sizes = pd.Series({i: row_n(results.loc[i]) for i in shown})
            mask.loc[sizes.fillna(np.inf).idxmin()] = True
    return mask


def reading(row: Mapping[str, Any], *, alpha: float = 0.05, min_n: int = 0) -> tuple[str, str]:
    """Plain-language reading of one results row.

    Significance uses the Holm-adjusted p-value; a change that is not
    significant is "smaller than this survey can detect" when its size is below
    the minimum detectable effect (``mde_pp``).

    Parameters
    ----------
    row : mapping
        A ``results.csv`` row (``change_pp, p_value, p_holm, mde_pp``).
    alpha : float, keyword-only
        Significance level.
    min_n : int, keyword-only
        Rows with fewer respondents (``params.min_cell_size``) are not read.

    Returns
    -------
    (str, str)
        The reading and a kind for styling: ``up``, ``down``, ``none``,
        ``small`` or ``na``.

    Examples
    --------
    >>> reading({"change_pp": 6.0, "p_value": 0.001, "p_holm": 0.004, "mde_pp": 5.0})
    ('increase, statistically significant', 'up')
    """
    if too_small(row, min_n):
        return (f"fewer than {min_n} respondents: not reported", "na")
    change, p, p_holm, mde = (row.get(k) for k in ("change_pp", "p_value", "p_holm", "mde_pp"))
    if change is None or pd.isna(change) or p is None or pd.isna(p):
        return ("not enough data to test", "na")
    p_adj = p if p_holm is None or pd.isna(p_holm) else p_holm
    direction = "increase" if change > 0 else "decrease"
    if p_adj < alpha:
        return (f"{direction}, statistically significant", "up" if change > 0 else "down")
    if p < alpha:
        return (f"{direction}, not significant after correction for multiple comparisons", "none")
    if mde is not None and pd.notna(mde) and abs(change) < mde:
        return ("change smaller than this survey can detect", "small")
    return ("no statistically significant change", "none")


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


def reading_counts(results: pd.DataFrame, *, alpha: float = 0.05, min_n: int = 0) -> dict[str, int]:
    """Count results rows by reading kind (``up, down, none, small, na``); see :func:`reading`."""
    counts = {"up": 0, "down": 0, "none": 0, "small": 0, "na": 0}
    for _, r in results.iterrows():
        counts[reading(r, alpha=alpha, min_n=min_n)[1]] += 1
    return counts


def summary_paragraph(results: pd.DataFrame, params: Params, *, claims: pd.DataFrame | None = None,
                      responses: pd.DataFrame | None = None) -> str:
    """One-paragraph summary written from the computed results (escaped HTML).

    The paragraph is a template filled from the numbers: sample sizes, how many
    pooled indicator results increased or decreased significantly (Holm), the
    largest significant change with its CI, and how many published claims the
    data is consistent with.

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` rows.
    params : Params
    claims : pandas.DataFrame or None, keyword-only
        ``claims.csv`` rows (``verdict`` column).
    responses : pandas.DataFrame or None, keyword-only
        Used for the number of respondents per wave.

    Returns
    -------
    str
        ``<p class="ek-summary">...</p>``.
    """
    parts: list[str] = []
    design = ("the same respondents interviewed before and after the campaign (a panel)" if params.design == "paired"
              else "independent samples interviewed before and after the campaign")
    if responses is not None and not responses.empty:
        n_b = int((responses["wave"] == "baseline").sum())
        n_e = int((responses["wave"] == "endline").sum())
        parts.append(f"This report compares {n_b:,} baseline and {n_e:,} endline interviews with "
                     f"{esc(design)}, across {len(params.indicators)} knowledge, attitude and practice indicators.")
    else:
        parts.append(f"This report compares {esc(design)} across {len(params.indicators)} indicators.")
    pooled = results[results["group"] == "all"]
    if pooled.empty:
        pooled = results
    counts = reading_counts(pooled, alpha=params.alpha, min_n=params.min_cell_size)
    tested = len(pooled) - counts["na"]
    parts.append(f"Of {plural(tested, 'indicator')} tested for all respondents, {counts['up']} increased and "
                 f"{counts['down']} decreased significantly after Holm correction for multiple comparisons at "
                 f"the {params.alpha:g} level; {counts['small']} changed less than the survey could detect.")
    sig = results[[reading(r, alpha=params.alpha, min_n=params.min_cell_size)[1] in ("up", "down")
                   for _, r in results.iterrows()]]
    if not sig.empty:
        top = sig.loc[sig["change_pp"].abs().idxmax()]
        try:
            lab = params.indicator(str(top["indicator"])).label
        except KeyError:
            lab = str(top["indicator"])
        who = group_label(params, top["group"])
        who = who[:1].lower() + who[1:]
        parts.append(f"The largest significant change was in \u201c{esc(lab)}\u201d among {esc(who)}: "
                     f"{esc(fmt_pct(top['baseline_pct']))} to {esc(fmt_pct(top['endline_pct']))}, "
                     f"{esc(fmt_pp(top['change_pp']))} (95% CI {esc(fmt_ci(top['ci_low_pp'], top['ci_high_pp'])[1:-1])}).")
    if claims is not None and not claims.empty and "verdict" in claims.columns:
        v = claims["verdict"].astype(str)
        n_cons, n_not, n_nt = int((v == "consistent").sum()), int((v == "not consistent").sum()), int((v == "not testable").sum())
        parts.append(f"Of {plural(len(claims), 'published figure')} for this stage, {n_cons} {'is' if n_cons == 1 else 'are'} "
                     f"consistent with this data, {n_not} {'is' if n_not == 1 else 'are'} not"
                     + (f", and {n_nt} cannot be tested with it." if n_nt else "."))
    if params.synthetic:
        parts.append("The data behind this report is synthetic (see the notice above).")
    return f'<p class="ek-summary">{" ".join(parts)}</p>'


# --------------------------------------------------------------------------- header and notices


def title_block(params: Params) -> str:
    """Report header: title, campaign, stage, campaign and fieldwork dates (escaped).

    Returns
    -------
    str
        ``<header class="ek-title">`` with an ``<h1>`` and a definition list.
    """
    def rng(r: Any) -> str:
        return f"{fmt_date(r.start)} to {fmt_date(r.end)}"

    items = [("Campaign", params.campaign), ("Stage", params.stage), ("Campaign period", rng(params.campaign_period)),
             ("Baseline fieldwork", rng(params.raw.baseline.fieldwork)),
             ("Endline fieldwork", rng(params.raw.endline.fieldwork)),
             ("Design", "panel (same respondents at both waves)" if params.design == "paired"
              else "two independent cross-sections")]
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items)
    return (f'<header class="ek-title"><p class="ek-kicker">Evaluation report \u00b7 pre/post KAP survey</p>'
            f"<h1>{esc(params.title)}</h1><dl class=\"ek-meta\">{dl}</dl></header>")


def synthetic_notice(params: Params) -> str:
    """Visible notice that the data is synthetic; empty unless ``params.synthetic``."""
    if not params.synthetic:
        return ""
    return ('<aside class="ek-notice" role="note" aria-label="Synthetic data notice"><strong>Synthetic data.</strong> '
            "The survey microdata behind the published figures is not public. This report runs on synthetic raw "
            "exports generated to be calibrated to the published figures, so it demonstrates the method and checks "
            "that the published figures are reproducible in principle; its numbers are not new evidence about the "
            "campaign. Run on the real exports, the same pipeline produces the real report.</aside>")


# --------------------------------------------------------------------------- claims


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


# --------------------------------------------------------------------------- subgroups


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


# --------------------------------------------------------------------------- sample and data quality


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

    A count of 1 to ``min_cell_size - 1`` shows as "fewer than ..."; when only
    one group of a wave is hidden, the smallest other group is hidden too, so
    the total minus the shown groups does not reveal it.
    """
    t = sample_table(responses, params)
    k = params.min_cell_size
    shown: dict[str, list[bool]] = {}
    for wave in ("baseline", "endline"):
        groups = t[t["group"] != "all"]
        small = (groups[wave] > 0) & (groups[wave] < k)
        hide = small.copy()
        if int(small.sum()) == 1 and (~small).any():
            hide.loc[groups.loc[~small, wave].idxmin()] = True
        shown[wave] = [not hide.get(i, False) for i in t.index]

    def count(wave: str) -> Callable[[pd.Series], str]:
        return lambda r: (fmt_int(r[wave]) if shown[wave][t.index.get_loc(r.name)]
                          else fmt_count(r[wave], k) if 0 < r[wave] < k else "suppressed")

    cols = [Column("group_label", "Group"),
            Column("baseline", "Baseline", fmt=count("baseline"), numeric=True),
            Column("endline", "Endline", fmt=count("endline"), numeric=True)]
    return html_table(t, cols, caption="Respondents per wave and group (after cleaning)", table_id="tbl-sample")


def cleaning_log_html(log: pd.DataFrame) -> str:
    """Escaped HTML of ``cleaning_log.csv``."""
    cols = [Column("step", "Step"), Column("rule", "Rule", fmt=lambda r: str(r["rule"]).replace("_", " ")),
            Column("rows_in", "Rows in", fmt=lambda r: fmt_int(r["rows_in"]), numeric=True),
            Column("rows_dropped", "Dropped", fmt=lambda r: fmt_int(r["rows_dropped"]), numeric=True),
            Column("rows_out", "Rows out", fmt=lambda r: fmt_int(r["rows_out"]), numeric=True),
            Column("reason", "Reason")]
    return html_table(log, cols, caption="Cleaning log: rows removed at each step", table_id="tbl-cleaning-log",
                      section=lambda r: f"{str(r['wave']).capitalize()} survey" if "wave" in r else "")


def panel_summary_html(panel: pd.DataFrame | None, params: Params) -> str:
    """Panel attrition (paired design): matched, baseline-only and endline-only counts."""
    if params.design != "paired" or panel is None or panel.empty:
        return ('<p>This stage used independent samples at baseline and endline, so there is no panel attrition; '
                "the balance table compares the composition of the two samples instead.</p>")
    r = panel.iloc[0]
    matched, b_only, e_only = (int(r[k]) for k in ("matched", "baseline_only", "endline_only"))
    base = matched + b_only
    rate = 100.0 * b_only / base if base else float("nan")
    k = params.min_cell_size
    if 0 < b_only < k:  # a handful of drop-outs: do not publish their number (nor the matched count)
        return (f"<p>Of {base:,} baseline respondents, all but fewer than {k} were interviewed again at endline; "
                f"changes are estimated on the matched respondents.</p>")
    return (f"<p>Of {base:,} baseline respondents, {matched:,} were interviewed again at endline and "
            f"{b_only:,} were not (attrition {esc(fmt_pct(rate))}); {e_only:,} endline interviews had no "
            f"baseline match. Changes are estimated on the {matched:,} matched respondents.</p>")


def _balance_variables(responses: pd.DataFrame, params: Params) -> list[tuple[str, str, pd.Series]]:
    """(name, label, 0/1-or-numeric series) for the balance table, over ``responses``' index."""
    out: list[tuple[str, str, pd.Series]] = []
    if len(params.groups) > 1:
        for g, lab in params.groups.items():
            out.append((f"group={g}", f"Group: {lab}", (responses["group"] == g).astype(float)))
    for key in params.demographics:
        if key not in responses.columns:
            continue
        col = responses[key].astype("string")
        for level in sorted(col.dropna().unique()):
            out.append((f"{key}={level}", f"{key.replace('_', ' ').capitalize()}: {str(level).replace('_', ' ')}",
                        (col == level).astype("float").where(col.notna())))
    for ind in params.indicators:
        if ind.id in responses.columns:
            s = responses[ind.id].astype("Float64").astype(float)
            s = s.where(responses["group"].isin(ind.population))
            out.append((ind.id, f"{ind.label} (baseline answer)", s))
    return out


def balance_table(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Balance table with normalised differences (iebaltab style).

    For a panel (``design: paired``) it compares, at baseline, respondents who
    completed the endline (group 1) with those who dropped out (group 0). For
    independent samples it compares the endline sample (1) with the baseline
    sample (0).

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


def balance_table_html(responses: pd.DataFrame, params: Params) -> str:
    """Escaped HTML of :func:`balance_table`, shares shown as percentages."""
    t = balance_table(responses, params)
    one, zero = ("Completers", "Drop-outs") if params.design == "paired" else ("Endline sample", "Baseline sample")
    k = params.min_cell_size
    small = (t["n_1"] < k) | (t["n_0"] < k)  # a side too small to publish: no means, no difference
    t = t.assign(flag=t["flag"] & ~small, _small=small)
    cols = [Column("label", "Characteristic at baseline" if params.design == "paired" else "Characteristic"),
            Column("mean_1", f"{one} (%)", numeric=True,
                   fmt=lambda r: "suppressed" if r["n_1"] < k else fmt_pct(100 * r["mean_1"])),
            Column("n_1", f"{one} n", numeric=True,  # with the total known, n_1 would give n_0
                   fmt=lambda r: fmt_count(r["n_1"], k) if r["n_1"] < k else "suppressed" if r["_small"] else fmt_int(r["n_1"])),
            Column("mean_0", f"{zero} (%)", numeric=True,
                   fmt=lambda r: "suppressed" if r["n_0"] < k else fmt_pct(100 * r["mean_0"])),
            Column("n_0", f"{zero} n", numeric=True,
                   fmt=lambda r: fmt_count(r["n_0"], k) if r["n_0"] < k else "suppressed" if r["_small"] else fmt_int(r["n_0"])),
            Column("normalised_difference", "Normalised difference", numeric=True,
                   fmt=lambda r: "\u2013" if r["_small"] or pd.isna(r["normalised_difference"])
                   else f"{r['normalised_difference']:+.2f}"),
            Column("flag", "Imbalance", html=lambda r: badge("|d| > 0.25", "down") if r["flag"] else "")]
    n_flag = int(t["flag"].sum()) if not t.empty else 0
    caption = (f"Balance of {one.lower()} vs {zero.lower()}: {n_flag} of {len(t)} characteristics differ by more than "
               f"0.25 standard deviations")
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
            rows.append({"indicator": ind.id, "label": ind.label, "wave": wave, "n_asked": asked, "dont_know": dk,
                         "refused": rf, "dont_know_pct": 100.0 * dk / asked if asked else np.nan,
                         "refused_pct": 100.0 * rf / asked if asked else np.nan})
    return pd.DataFrame(rows, columns=["indicator", "label", "wave", "n_asked", "dont_know", "refused",
                                       "dont_know_pct", "refused_pct"])


def dont_know_html(responses: pd.DataFrame, params: Params) -> str:
    """Escaped HTML of :func:`dont_know_rates`."""
    t = dont_know_rates(responses, params)
    cols = [Column("wave", "Wave", fmt=lambda r: str(r["wave"]).capitalize()),
            Column("n_asked", "Asked", fmt=lambda r: fmt_int(r["n_asked"]), numeric=True),
            Column("dont_know_pct", "Don't know", fmt=lambda r: fmt_pct(r["dont_know_pct"]), numeric=True),
            Column("refused_pct", "Refused", fmt=lambda r: fmt_pct(r["refused_pct"]), numeric=True)]
    return html_table(t, cols, caption="Don't know and refused answers (excluded from percentages)", table_id="tbl-dont-know",
                      section=lambda r: str(r["label"]))


# --------------------------------------------------------------------------- reach


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


# --------------------------------------------------------------------------- methods


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


# --------------------------------------------------------------------------- provenance


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce a report.

    Attributes
    ----------
    params_yaml : str
        The params used, as YAML.
    raw_files : pandas.DataFrame
        ``file, sha256, bytes, rows, encoding`` of every raw file.
    packages : dict
        Package name -> installed version (``"not installed"`` if absent).
    git_commit : str
        ``git rev-parse HEAD`` of the project, or ``"unknown"``.
    run_date : str
        Latest interview date in the data (ISO), so re-runs are identical.
    """

    params_yaml: str
    raw_files: pd.DataFrame
    packages: dict[str, str] = field(default_factory=dict)
    git_commit: str = "unknown"
    run_date: str = "unknown"


def package_versions(names: tuple[str, ...] = PROVENANCE_PACKAGES) -> dict[str, str]:
    """Installed versions via :mod:`importlib.metadata`."""
    out = {}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def git_commit(*, cwd: Path | None = None) -> str:
    """Current git commit of the project, or ``"unknown"`` outside a repository.

    A commit whose tracked files have local changes is marked
    ``"<sha> (with uncommitted changes)"``: the code that ran is then not
    exactly that commit.
    """
    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", *args], cwd=cwd or paths.project_root(), capture_output=True, text=True,
                                  timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return "unknown"
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = status is not None and status.returncode == 0 and status.stdout.strip() != ""
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def run_date(responses: pd.DataFrame) -> str:
    """Latest ``interview_date`` in the data (ISO date), or ``"unknown"``."""
    if "interview_date" not in responses.columns:
        return "unknown"
    # Parse each distinct date once: a survey has a few fieldwork days but up to millions of rows.
    d = pd.to_datetime(responses["interview_date"].drop_duplicates(), errors="coerce").dropna()
    return "unknown" if d.empty else d.max().date().isoformat()


def provenance(params: Params, *, responses: pd.DataFrame, raw_files: pd.DataFrame) -> Provenance:
    """Collect the provenance of a report run.

    Parameters
    ----------
    params : Params
    responses : pandas.DataFrame, keyword-only
        ``responses.parquet`` (for the run date).
    raw_files : pandas.DataFrame, keyword-only
        ``raw_files.csv`` written by the cleaning step.
    """
    text = yaml.safe_dump(params_as_dict(params), sort_keys=False, allow_unicode=True, width=100)
    return Provenance(params_yaml=text, raw_files=raw_files.copy(), packages=package_versions(),
                      git_commit=git_commit(), run_date=run_date(responses))


def provenance_html(prov: Provenance) -> str:
    """Escaped HTML of a :class:`Provenance`."""
    raw_cols = [Column("file", "File"), Column("sha256", "SHA-256", html=lambda r: f"<code class=\"ek-hash\">{esc(r['sha256'])}</code>"),
                Column("bytes", "Bytes", fmt=lambda r: fmt_int(r["bytes"]), numeric=True),
                Column("rows", "Rows", fmt=lambda r: fmt_int(r.get("rows")), numeric=True),
                Column("encoding", "Encoding")]
    pk = pd.DataFrame({"package": list(prov.packages), "version": list(prov.packages.values())})
    return ("<dl class=\"ek-meta\">"
            f"<div><dt>Data as of (latest interview)</dt><dd>{esc(prov.run_date)}</dd></div>"
            f"<div><dt>Git commit</dt><dd><code>{esc(prov.git_commit)}</code></dd></div></dl>"
            + html_table(prov.raw_files, raw_cols, caption="Raw files and their SHA-256 checksums", table_id="tbl-raw-files")
            + html_table(pk, [Column("package", "Package"), Column("version", "Version")],
                         caption="Package versions", table_id="tbl-packages")
            + f'<details class="ek-params"><summary>Params used</summary><pre>{esc(prov.params_yaml)}</pre></details>')


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class EvaluationInputs:
    """The processed files the evaluation notebook reads.

    Attributes
    ----------
    params : Params
    responses : pandas.DataFrame
        ``responses.parquet``.
    cleaning_log, raw_files : pandas.DataFrame
        ``cleaning_log.csv`` and ``raw_files.csv``.
    panel : pandas.DataFrame or None
        ``panel.csv`` (paired design only).
    reach : pandas.DataFrame or None
        ``reach.parquet`` if the stage has a reach export.
    other_responses : dict
        Campaign -> responses of stages named in claims' ``compare_with``.
    """

    params: Params
    responses: pd.DataFrame
    cleaning_log: pd.DataFrame
    raw_files: pd.DataFrame
    panel: pd.DataFrame | None = None
    reach: pd.DataFrame | None = None
    other_responses: dict[str, pd.DataFrame] = field(default_factory=dict)


def load_inputs(campaign: str) -> EvaluationInputs:
    """Read a campaign's params and processed files.

    Raises
    ------
    AnalysisError
        Listing every missing processed file and the command that makes it.
    """
    from evalkit.errors import format_problems
    from evalkit.params import load_params

    params = load_params(campaign)
    pdir = paths.campaign_processed_dir(params.campaign)
    need = ["responses.parquet", "cleaning_log.csv", "raw_files.csv"]
    others = sorted({c.compare_with.campaign for c in params.claims if c.compare_with is not None})
    missing = [f"{pdir / n} is missing" for n in need if not (pdir / n).is_file()]
    missing += [f"{paths.campaign_processed_dir(o) / 'responses.parquet'} is missing (claims compare with {o})"
                for o in others if not (paths.campaign_processed_dir(o) / "responses.parquet").is_file()]
    if missing:
        raise AnalysisError(format_problems(
            f"The processed data for '{params.campaign}' is incomplete; run `python -m evalkit clean <campaign>` "
            f"for the campaigns named below:", missing))
    panel = pd.read_csv(pdir / "panel.csv") if (pdir / "panel.csv").is_file() else None
    reach = pd.read_parquet(pdir / "reach.parquet") if (pdir / "reach.parquet").is_file() else None
    return EvaluationInputs(
        params=params, responses=pd.read_parquet(pdir / "responses.parquet"),
        cleaning_log=pd.read_csv(pdir / "cleaning_log.csv", keep_default_na=False, na_values=[""]),
        raw_files=pd.read_csv(pdir / "raw_files.csv"), panel=panel, reach=reach,
        other_responses={o: pd.read_parquet(paths.campaign_processed_dir(o) / "responses.parquet") for o in others})


def output_dir(campaign: str, output_dir: str | Path = "") -> Path:
    """Resolve the notebook's ``output_dir`` parameter ("" = ``reports/<campaign>/``), inside the project."""
    out = paths.campaign_reports_dir(campaign) if str(output_dir) == "" else paths.project_root() / output_dir
    out = paths.ensure_output_path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out



# --------------------------------------------------------------------------- composed sections


def theme_html(results: pd.DataFrame, responses: pd.DataFrame, params: Params, *, theme: str) -> str:
    """Figures of one KAP theme: baseline vs endline with CIs, then Likert bars.

    Returns
    -------
    str
        One or two ``<figure>`` elements, or a note when the theme has no
        indicator in this stage.
    """
    from evalkit import plots

    parts = [plots.figure_html(plots.theme_figure(results, params, theme=theme)),
             plots.figure_html(plots.likert_figure(responses, params, theme=theme))]
    out = "".join(p for p in parts if p)
    return out or f'<p class="ek-empty">This stage has no {esc(theme)} indicator with results.</p>'


def reach_html(reach: pd.DataFrame | None, params: Params) -> str:
    """Reach section: total vs published, engagements by content type and over time."""
    from evalkit import plots
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


def key_figures_html(results: pd.DataFrame, params: Params, *, claims: pd.DataFrame | None = None,
                     responses: pd.DataFrame | None = None, reach: pd.DataFrame | None = None) -> str:
    """Four headline numbers as cards: interviews, significant increases, claims consistent, engagements.

    Returns
    -------
    str
        ``<ul class="ek-keyfigs">`` of escaped cards (computed from the data).
    """
    cards: list[tuple[str, str, str]] = []
    if responses is not None and not responses.empty:
        n_b, n_e = (int((responses["wave"] == w).sum()) for w in ("baseline", "endline"))
        cards.append((f"{n_b:,} / {n_e:,}", "interviews", "baseline / endline, after cleaning"))
    pooled = results[results["group"] == "all"] if (results["group"] == "all").any() else results
    c = reading_counts(pooled, alpha=params.alpha, min_n=params.min_cell_size)
    cards.append((f"{c['up']} of {len(pooled) - c['na']}", "indicators increased",
                  "all respondents; significant after Holm correction"))
    if claims is not None and not claims.empty and "verdict" in claims.columns:
        v = claims["verdict"].astype(str)
        testable = int((v != "not testable").sum())
        cards.append((f"{int((v == 'consistent').sum())} of {testable}", "published figures consistent",
                      "with this survey's 95% confidence intervals"))
    if reach is not None and not reach.empty and "engagements" in reach.columns:
        total = float(pd.to_numeric(reach["engagements"], errors="coerce").sum())
        sub = f"published: {params.published_reach / 1e6:.1f} million" if params.published_reach else "from the reach export"
        cards.append((f"{total / 1e6:.2f} million", "engagements", sub))
    items = "".join(f'<li class="ek-keyfig"><span class="ek-keyfig-value">{esc(v)}</span>'
                    f'<span class="ek-keyfig-label">{esc(lab)}</span><span class="ek-keyfig-sub">{esc(sub)}</span></li>'
                    for v, lab, sub in cards)
    return f'<ul class="ek-keyfigs" aria-label="Key figures">{items}</ul>'
