"""Report figures: seaborn charts with alt text and captions computed from data.

Every function returns a :class:`ReportFigure`: the matplotlib figure plus the
alt text and caption the report shows with it. Figures are built with the
object-oriented API (``matplotlib.figure.Figure``), not ``pyplot``, so a
notebook never displays them twice, and they are rendered to deterministic SVG
(fixed ``svg.hashsalt``, no date metadata) so that two runs give identical
bytes. :func:`figure_html` embeds the SVG as a base64 ``<img alt=...>`` inside a
``<figure>`` with a ``<figcaption>``: the report needs no image files and opens
offline.

Colours are the Okabe-Ito colour-blind-safe palette; baseline and endline also
differ in marker shape, so the charts survive grey-scale printing.

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures
and presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
Robbins, N. B. & Heiberger, R. M. (2011). Plotting Likert and other rating
scales. JSM Proceedings, Section on Survey Research Methods, 1058-1066.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from dataclasses import dataclass

import matplotlib
import matplotlib.dates
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from evalkit.params import Params
from evalkit.report.format import (choice_label_of, content_type_label, fmt_date, fmt_int, fmt_number, fmt_pct, fmt_short_date,
                                   group_label, indicator_label, wave_name)
from evalkit.report.i18n import N_, _, get_language, ngettext

#: Okabe-Ito palette (Okabe & Ito 2008).
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}
WAVE_STYLE = {
    "baseline": {"color": OKABE_ITO["orange"], "marker": "o"},
    "endline": {"color": OKABE_ITO["blue"], "marker": "s"},
}
#: Likert levels 1-5, strongly disagree to strongly agree (diverging, colour-blind safe).
LIKERT_COLOURS = [OKABE_ITO["vermillion"], OKABE_ITO["orange"], "#BBBBBB", OKABE_ITO["sky_blue"], OKABE_ITO["blue"]]
THEME_TITLES = {"knowledge": N_("Knowledge"), "attitudes": N_("Attitudes"), "practices": N_("Practices")}


def theme_title(theme: str) -> str:
    """A KAP theme's name in the report language."""
    return _(THEME_TITLES[theme]) if theme in THEME_TITLES else theme

_RC = {
    "svg.hashsalt": "evalkit",
    # Text as paths, drawn with the DejaVu Sans that ships with matplotlib (it covers Latin and Cyrillic,
    # including Mongolian \u04e8 \u04e9 \u04ae \u04af): the figures look the same on a machine with no fonts
    # installed. Their words are in the alt text and the caption for screen readers.
    "svg.fonttype": "path",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.titlesize": 11,
    "figure.dpi": 100,
}


@dataclass(frozen=True)
class ReportFigure:
    """A figure ready for the report.

    Attributes
    ----------
    name : str
        Identifier-safe name (``theme_knowledge``), used for file names.
    figure : matplotlib.figure.Figure
        The figure (object-oriented; not registered with pyplot).
    alt : str
        Alt text: what the figure shows, with the key numbers, in words.
    caption : str
        Caption shown under the figure.
    """

    name: str
    figure: Figure
    alt: str
    caption: str


# --------------------------------------------------------------------------- helpers


def _mpl_text(text: object) -> str:
    """Text safe for matplotlib: a ``$`` in a label must not start mathtext."""
    return str(text).replace("$", r"\$")


def _wrap(text: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(_mpl_text(text), width=width)) or _mpl_text(text)


def wave_ci(row: pd.Series, wave: str) -> tuple[float, float]:
    """95% interval of one wave's percentage in a results row, in percent.

    Uses the Wilson columns ``compare`` writes; a table without them (e.g. an
    older ``results.csv``) gets the same Wilson interval from
    :func:`evalkit.stats.proportions.wilson_ci`.
    """
    from evalkit.stats.proportions import wilson_ci

    lo, hi = row.get(f"{wave}_ci_low_pct", np.nan), row.get(f"{wave}_ci_high_pct", np.nan)
    if pd.notna(lo) and pd.notna(hi):
        return (float(lo), float(hi))
    pct, n = row.get(f"{wave}_pct", np.nan), row.get(f"n_{wave}", row.get("n", np.nan))
    if pd.isna(pct) or pd.isna(n) or float(n) <= 0:
        return (np.nan, np.nan)
    low, high = wilson_ci(float(pct) / 100.0 * float(n), float(n))
    return (100.0 * float(low), 100.0 * float(high))


def error_bar_lengths(pct: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Matplotlib ``xerr`` (2 x n) for estimates ``pct`` with limits ``lo``, ``hi``.

    A missing limit draws no bar on that side; a limit a rounding error on the
    wrong side of its estimate (an upper Wilson limit of 99.99999999999999
    at 100%) draws a bar of length 0 instead of failing: matplotlib refuses
    negative lengths.
    """
    pct, lo, hi = (np.asarray(a, dtype=float) for a in (pct, lo, hi))
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lo) & np.isfinite(pct), pct - lo, 0.0)
        above = np.where(np.isfinite(hi) & np.isfinite(pct), hi - pct, 0.0)
    return np.clip(np.vstack([below, above]), 0.0, None)


def _smallest_n(row: pd.Series) -> float:
    """``min(n_baseline, n_endline)``, else ``n``; +inf when unknown (nothing to suppress)."""
    ns = [float(row[k]) for k in ("n_baseline", "n_endline") if k in row.index and pd.notna(row[k])]
    if not ns and "n" in row.index and pd.notna(row["n"]):
        ns = [float(row["n"])]
    return min(ns) if ns else float("inf")


def plot_rows(results: pd.DataFrame, params: Params, *, theme: str) -> pd.DataFrame:
    """Rows of ``results`` shown in a theme figure, in display order.

    The pooled ``all`` row is dropped when an indicator's population is a single
    group (it would repeat that group's row), and rows with fewer respondents
    than ``params.min_cell_size`` are dropped (small-cell suppression).

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator, label, group, group_label, baseline_pct, endline_pct,
        baseline_lo, baseline_hi, endline_lo, endline_hi, change_pp``.
    """
    from evalkit.report.suppress import suppression_mask

    ids = [i.id for i in params.indicators if i.theme == theme and i.type != "numeric"]  # numeric: a mean, not a %
    results = results[~suppression_mask(results, params)]  # small cells and their complements are not drawn
    rows = []
    for ind_id in ids:
        ind = params.indicator(ind_id)
        sub = results[results["indicator"] == ind_id]
        order = (["all"] if len(ind.population) > 1 else []) + list(ind.population)
        for g in order:
            r = sub[sub["group"] == g]
            if r.empty:
                continue
            row = r.iloc[0]
            if _smallest_n(row) < params.min_cell_size:
                continue  # small cell: suppressed in the report, so not drawn either
            b_lo, b_hi = wave_ci(row, "baseline")
            e_lo, e_hi = wave_ci(row, "endline")
            rows.append({"indicator": ind_id, "label": indicator_label(params, ind_id), "group": g,
                         "group_label": group_label(params, g),
                         "baseline_pct": float(row["baseline_pct"]), "endline_pct": float(row["endline_pct"]),
                         "baseline_lo": b_lo, "baseline_hi": b_hi, "endline_lo": e_lo, "endline_hi": e_hi,
                         "change_pp": float(row["change_pp"])})
    return pd.DataFrame(rows, columns=["indicator", "label", "group", "group_label", "baseline_pct", "endline_pct",
                                       "baseline_lo", "baseline_hi", "endline_lo", "endline_hi", "change_pp"])


def _fmt_pct(x: float) -> str:
    return _("n/a") if not np.isfinite(x) else fmt_pct(x, digits=0)


# --------------------------------------------------------------------------- figures


def theme_figure(results: pd.DataFrame, params: Params, *, theme: str) -> ReportFigure | None:
    """Baseline vs endline percentages with 95% CIs for one KAP theme.

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` rows (columns ``indicator, group, baseline_pct,
        endline_pct, change_pp`` and, if present, ``baseline_ci_low_pct`` ...).
    params : Params
        Campaign params (indicator labels, themes, groups).
    theme : {"knowledge", "attitudes", "practices"}, keyword-only

    Returns
    -------
    ReportFigure or None
        ``None`` when the theme has no indicator with results.

    Examples
    --------
    >>> fig = theme_figure(results, params, theme="knowledge")  # doctest: +SKIP
    >>> fig.alt[:40]
    'Dot chart of 2 knowledge indicators ...'
    """
    rows = plot_rows(results, params, theme=theme)
    if rows.empty:
        return None
    n_rows = len(rows)
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(8.0, 1.2 + 0.55 * n_rows), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(n_rows)[::-1].astype(float)
        for offset, wave in ((0.13, "baseline"), (-0.13, "endline")):
            st = WAVE_STYLE[wave]
            pct = rows[f"{wave}_pct"].to_numpy()
            lo, hi = rows[f"{wave}_lo"].to_numpy(), rows[f"{wave}_hi"].to_numpy()
            err = error_bar_lengths(pct, lo, hi)
            ax.errorbar(pct, y + offset, xerr=err, fmt="none", ecolor=st["color"], elinewidth=1.6, capsize=3)
            sns.scatterplot(x=pct, y=y + offset, ax=ax, color=st["color"], marker=st["marker"], s=55,
                            label=wave_name(wave), edgecolor="black", linewidth=0.5, zorder=3)
        ticks = [f"{_wrap(r.label + ':', 44)}\n{_wrap(r.group_label, 44)}" if i == 0 or rows.iloc[i - 1]["indicator"] != r.indicator
                 else _wrap(r.group_label, 44) for i, r in enumerate(rows.itertuples())]
        ax.set_yticks(y, ticks, fontsize=8)
        ax.grid(axis="y", visible=False)
        for i in range(1, n_rows):  # a rule between indicators
            if rows.iloc[i]["indicator"] != rows.iloc[i - 1]["indicator"]:
                ax.axhline(y[i] + 0.5, color="#999999", linewidth=0.8)
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.7, n_rows - 0.3)
        ax.set_xlabel(_mpl_text(_("Respondents with a positive answer (%), with 95% confidence interval")))
        ax.set_title(_mpl_text(_("{theme}: baseline and endline").format(theme=theme_title(theme))), loc="left")
        ax.get_legend().remove()
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2, frameon=False)
    parts = [_("{indicator} ({group}): {baseline} at baseline, {endline} at endline").format(
        indicator=r.label, group=r.group_label, baseline=_fmt_pct(r.baseline_pct), endline=_fmt_pct(r.endline_pct))
        for r in rows.itertuples()]
    n_ind = rows["indicator"].nunique()
    alt = ngettext("Dot chart of {n} indicator ({theme}): the share of respondents with a positive answer at baseline "
                   "(orange circles) and endline (blue squares), with 95% confidence intervals.",
                   "Dot chart of {n} indicators ({theme}): the share of respondents with a positive answer at baseline "
                   "(orange circles) and endline (blue squares), with 95% confidence intervals.", n_ind).format(
        n=fmt_int(n_ind), theme=theme_title(theme)) + " " + "; ".join(parts) + "."
    caption = _("{theme} indicators: percentage of respondents with a positive answer at baseline and endline, by "
                "respondent group. Horizontal lines are 95% confidence intervals. Overlapping intervals do not mean "
                "that the change is not significant: the change and its test are in the headline results table."
                ).format(theme=theme_title(theme))
    return ReportFigure(name=f"theme_{theme}", figure=fig, alt=alt, caption=caption)


def likert_distribution(responses: pd.DataFrame, params: Params, *, indicator: str) -> pd.DataFrame:
    """Weighted share of each Likert level by wave, over the indicator's population.

    Returns
    -------
    pandas.DataFrame
        One row per wave: ``wave, n, level_1_pct ... level_5_pct`` (percent of
        respondents who chose a level; don't know / refused excluded).
    """
    ind = params.indicator(indicator)
    col = f"{indicator}_level"
    out = []
    for wave in ("baseline", "endline"):
        if col not in responses.columns:
            continue
        mask = (responses["wave"] == wave) & responses["group"].isin(ind.population)
        d = responses.loc[mask, [c for c in (col, "weight") if c in responses.columns]]  # two columns, not the frame
        lev = pd.to_numeric(d[col], errors="coerce")
        if ind.reverse:  # a reverse-coded item's level counts from the last answer: draw the answers as given
            lev = len(ind.levels) + 1 - lev
        w = pd.to_numeric(d["weight"], errors="coerce").fillna(1.0) if "weight" in d.columns else pd.Series(1.0, index=d.index)
        ok = lev.notna()
        total = float(w[ok].sum())
        row = {"wave": wave, "n": int(ok.sum())}
        for k in range(1, 6):
            row[f"level_{k}_pct"] = 100.0 * float(w[ok & (lev == k)].sum()) / total if total > 0 else np.nan
        out.append(row)
    return pd.DataFrame(out, columns=["wave", "n"] + [f"level_{k}_pct" for k in range(1, 6)])


def _level_label(name: str, params: Params | None = None, question: str = "") -> str:
    """An answer level as shown: the form's choice label in the report language, else its name humanised."""
    label = choice_label_of(params, question, str(name)) if params is not None and question else ""
    return _mpl_text(label or str(name).replace("_", " ").capitalize())


def likert_figure(responses: pd.DataFrame, params: Params, *, theme: str) -> ReportFigure | None:
    """Diverging stacked bars of the Likert items of one theme, baseline and endline.

    Disagreement extends left of zero, agreement right, and the neutral level is
    split across zero (Robbins & Heiberger 2011).

    Returns
    -------
    ReportFigure or None
        ``None`` when the theme has no Likert indicator with data.
    """
    items = [i for i in params.indicators if i.theme == theme and i.type == "likert"]
    dists = []
    for ind in items:
        d = likert_distribution(responses, params, indicator=ind.id)
        for r in d.itertuples():
            if r.n > 0:
                dists.append((ind, r))
    if not dists:
        return None
    levels = items[0].levels or [_("level {k}").format(k=k) for k in range(1, 6)]
    n_rows = len(dists)
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(8.0, 1.8 + 0.45 * n_rows), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(n_rows)[::-1].astype(float)
        shares = np.array([[getattr(r, f"level_{k}_pct") for k in range(1, 6)] for _i, r in dists], dtype=float)
        shares = np.nan_to_num(shares)
        left = -(shares[:, 0] + shares[:, 1] + shares[:, 2] / 2)
        for k in range(5):
            ax.barh(y, shares[:, k], left=left, color=LIKERT_COLOURS[k], edgecolor="white", linewidth=0.6,
                    label=_level_label(levels[k], params, items[0].question), height=0.7)
            left = left + shares[:, k]
        ax.axvline(0, color="black", linewidth=0.8)
        labels = [f"{_wrap(indicator_label(params, ind.id), 44)}\n{wave_name(r.wave)} (n={fmt_int(r.n)})"
                  if i == 0 or dists[i - 1][0].id != ind.id
                  else f"{wave_name(r.wave)} (n={fmt_int(r.n)})" for i, (ind, r) in enumerate(dists)]
        ax.set_yticks(y, labels, fontsize=8)
        ax.grid(axis="y", visible=False)
        for i in range(1, n_rows):  # a rule between items
            if dists[i][0].id != dists[i - 1][0].id:
                ax.axhline(y[i] + 0.5, color="#999999", linewidth=0.8)
        ax.set_xlim(-100, 100)
        ax.set_xticks([-100, -50, 0, 50, 100], [_mpl_text(fmt_pct(v, digits=0)) for v in (100, 50)] + ["0"]
                      + [_mpl_text(fmt_pct(v, digits=0)) for v in (50, 100)])
        ax.set_xlabel(_mpl_text(_("Share of respondents (%): disagree to the left, agree to the right")))
        ax.set_title(_mpl_text(_("{theme}: answers on the agreement scale").format(theme=theme_title(theme))), loc="left")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=5, frameon=False, fontsize=8)
    parts = [_("{indicator}, {wave}: {agree} agree, {disagree} disagree").format(
        indicator=indicator_label(params, ind.id), wave=wave_name(r.wave).lower() if get_language() == "en" else wave_name(r.wave),
        agree=fmt_pct(shares[i, 3] + shares[i, 4], digits=0), disagree=fmt_pct(shares[i, 0] + shares[i, 1], digits=0))
        for i, (ind, r) in enumerate(dists)]
    alt = _("Diverging stacked bar chart of answers on a five-point agreement scale, baseline and endline:") + " " \
        + "; ".join(parts) + "."
    caption = _("{theme}: distribution of answers to the agreement-scale questions (all groups asked the question, "
                "weighted). Neutral answers are split across the centre line; don't know and refused are excluded."
                ).format(theme=theme_title(theme))
    return ReportFigure(name=f"likert_{theme}", figure=fig, alt=alt, caption=caption)


def reach_by_type_figure(by_type: pd.DataFrame, *, value: str = "engagements") -> ReportFigure:
    """Horizontal bars of engagements per content type.

    Parameters
    ----------
    by_type : pandas.DataFrame
        Columns ``content_type`` and ``value`` (e.g. ``engagements``).
    value : str, keyword-only
        Column to plot.
    """
    d = by_type.sort_values(value, ascending=True).reset_index(drop=True)
    labels = [_mpl_text(content_type_label(c)) for c in d["content_type"]]
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(7.0, 1.0 + 0.45 * len(d)), layout="constrained")
        ax = fig.add_subplot()
        ax.barh(labels, d[value].to_numpy(dtype=float) / 1e6, color=OKABE_ITO["blue"], height=0.6)
        ax.set_xlabel(_mpl_text(_("Engagements (millions)")))
        ax.set_title(_mpl_text(_("Engagements by content type")), loc="left")
    total = float(d[value].sum())
    million = _("{x} million")
    parts = [f"{lab}: {million.format(x=fmt_number(v / 1e6, digits=2))}"
             for lab, v in zip(labels[::-1], d[value].to_numpy(dtype=float)[::-1])]
    alt = _("Bar chart of social-media engagements by content type, {total} in total.").format(
        total=million.format(x=fmt_number(total / 1e6, digits=2))) + " " + "; ".join(parts) + "."
    caption = _("Engagements (reactions, comments, shares and video views) per content type, from the platform's "
                "reach export.")
    return ReportFigure(name="reach_by_type", figure=fig, alt=alt, caption=caption)


def reach_over_time_figure(by_date: pd.DataFrame, *, value: str = "engagements",
                           published: float | None = None) -> ReportFigure:
    """Cumulative engagements over the campaign, with the published total.

    Parameters
    ----------
    by_date : pandas.DataFrame
        Columns ``date`` and ``value``, one row per day.
    published : float or None, keyword-only
        Published total of engagements, drawn as a dashed line.
    """
    d = by_date.sort_values("date").reset_index(drop=True)
    dates = pd.to_datetime(d["date"])
    cum = d[value].to_numpy(dtype=float).cumsum() / 1e6
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(7.0, 3.2), layout="constrained")
        ax = fig.add_subplot()
        ax.plot(dates, cum, color=OKABE_ITO["blue"], linewidth=2,
                label=_mpl_text(_("Cumulative engagements (reach export)")))
        if published is not None:
            ax.axhline(published / 1e6, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.5,
                       label=_mpl_text(_("Published total")))
        ax.set_ylabel(_mpl_text(_("Engagements (millions)")))
        top = max([cum[-1] if len(cum) else 0.0] + ([published / 1e6] if published is not None else []))
        ax.set_ylim(0, top * 1.25 if top > 0 else 1)
        ax.set_title(_mpl_text(_("Cumulative engagements over time")), loc="left")
        ax.legend(loc="upper left", frameon=False, fontsize=8, ncol=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda x, _pos: _mpl_text(fmt_short_date(matplotlib.dates.num2date(x).date()))))
        fig.autofmt_xdate()
    total = cum[-1] if len(cum) else 0.0
    first = fmt_date(dates.min().date()) if len(d) else _("n/a")
    last = fmt_date(dates.max().date()) if len(d) else _("n/a")
    million = _("{x} million")
    alt = _("Line chart of cumulative engagements from {first} to {last}, reaching {total}.").format(
        first=first, last=last, total=million.format(x=fmt_number(total, digits=2)))
    if published is not None:
        alt += " " + _("The published total is {total} (dashed line).").format(
            total=million.format(x=fmt_number(published / 1e6, digits=2)))
    caption = _("Cumulative engagements by post date.") + (
        " " + _("The dashed line is the published total.") if published is not None else "")
    return ReportFigure(name="reach_over_time", figure=fig, alt=alt, caption=caption)


# --------------------------------------------------------------------------- output


def figure_svg(fig: ReportFigure) -> bytes:
    """Render a figure to deterministic SVG bytes (no date, fixed hash salt)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.figure.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def figure_html(fig: ReportFigure | None) -> str:
    """``<figure>`` with the SVG as a base64 ``<img alt>`` and an escaped ``<figcaption>``.

    Returns an empty string for ``None`` (a theme without data).
    """
    if fig is None:
        return ""
    data = base64.b64encode(figure_svg(fig)).decode("ascii")
    w, h = (int(round(v * 100)) for v in fig.figure.get_size_inches())
    return (f'<figure class="ek-figure" id="fig-{html.escape(fig.name)}">'
            f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(fig.alt)}" width="{w}" height="{h}">'
            f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>")


def stage_comparison_figure(shared: pd.DataFrame) -> ReportFigure | None:
    """Small multiples: each shared indicator's baseline and endline in every stage.

    Parameters
    ----------
    shared : pandas.DataFrame
        Pooled results rows of indicators measured in several stages, with
        ``indicator, label, stage, year, baseline_pct, endline_pct`` (and the
        per-wave CI columns if present); see :func:`evalkit.report.index.shared_indicators`.

    Returns
    -------
    ReportFigure or None
        ``None`` when ``shared`` is empty.
    """
    if shared.empty:
        return None
    ids = list(dict.fromkeys(shared["indicator"]))
    n = len(ids)
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(8.0, 0.6 + 2.3 * n), layout="constrained")
        axes = fig.subplots(n, 1, squeeze=False)[:, 0]
        for ax, ind in zip(axes, ids):
            d = shared[shared["indicator"] == ind].reset_index(drop=True)
            y = np.arange(len(d))[::-1].astype(float)
            for offset, wave in ((0.12, "baseline"), (-0.12, "endline")):
                st = WAVE_STYLE[wave]
                cis = [wave_ci(r, wave) for _i, r in d.iterrows()]
                pct = d[f"{wave}_pct"].to_numpy(dtype=float)
                lo = np.array([c[0] for c in cis]); hi = np.array([c[1] for c in cis])
                err = error_bar_lengths(pct, lo, hi)
                ax.errorbar(pct, y + offset, xerr=err, fmt="none", ecolor=st["color"], elinewidth=1.6, capsize=3)
                sns.scatterplot(x=pct, y=y + offset, ax=ax, color=st["color"], marker=st["marker"], s=55,
                                label=wave_name(wave) if ax is axes[0] else None, edgecolor="black", linewidth=0.5,
                                zorder=3)
            ax.set_yticks(y, [_wrap(f"{r.stage}", 34) for r in d.itertuples()], fontsize=8)
            ax.set_xlim(0, 100)
            ax.set_ylim(-0.6, len(d) - 0.4)
            ax.set_title(_wrap(d["label"].iloc[0], 75), loc="left", fontsize=10)
            ax.set_xlabel(_mpl_text(_("Respondents with a positive answer (%), 95% CI")))
            if ax is not axes[0] and ax.get_legend() is not None:
                ax.get_legend().remove()
        handles = axes[0].get_legend_handles_labels()
        for ax in axes:
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        fig.legend(*handles, loc="outside lower center", ncol=2, frameon=False)
    parts = []
    for ind in ids:
        d = shared[shared["indicator"] == ind]
        parts.append(f"{d['label'].iloc[0]}: " + ", ".join(
            _("{stage} {baseline} to {endline}").format(stage=r.stage, baseline=_fmt_pct(r.baseline_pct),
                                                        endline=_fmt_pct(r.endline_pct)) for r in d.itertuples()))
    alt = _("Dot charts comparing stages: for each indicator measured in more than one stage, the share with a "
            "positive answer at baseline (orange circles) and endline (blue squares) with 95% confidence intervals.") \
        + " " + "; ".join(parts) + "."
    caption = _("Indicators measured in more than one campaign stage, all respondents. Each stage's baseline and "
                "endline come from its own survey.")
    return ReportFigure(name="stage_comparison", figure=fig, alt=alt, caption=caption)
