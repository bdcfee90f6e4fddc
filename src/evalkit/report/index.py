"""``reports/index.html``: the stages side by side.

The index lists every campaign stage whose ``reports/<campaign>/results.csv``
exists, with its headline numbers and a link to its report, and compares the
indicators that several stages share (e.g. "attends a regular school": 2019,
2020, 2022) using each stage's own ``results.csv``. Like the reports, it is one
offline HTML file: inline CSS, figures as ``data:`` URIs, no scripts, and no
timestamps (byte-identical on re-runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import paths
from evalkit.atomic import write_text_atomic
from evalkit.params import Params, load_params
from evalkit.report.format import (esc, fmt_ci, fmt_int, fmt_number, fmt_p, fmt_pct, fmt_pp, indicator_label,
                                   params_text, report_title, stage_name)
from evalkit.report.i18n import LANGUAGE_NAMES, _, check_language, get_language, ngettext, use_language
from evalkit.reportspec import REPORT_LANGUAGES
from evalkit.report.summary import claim_counts, reading, reading_counts
from evalkit.report.suppress import too_small
from evalkit.report.tables import Column, badge, html_table

@dataclass(frozen=True)
class Stage:
    """One campaign stage with results.

    Attributes
    ----------
    campaign : str
    params : Params
    results : pandas.DataFrame
        Its ``results.csv``.
    claims : pandas.DataFrame or None
        Its ``claims.csv``, if present.
    report : Path
        ``reports/<campaign>.html`` (may not exist yet).
    reports : dict
        Language -> the report in that language (see :func:`stage_reports`).
    """

    campaign: str
    params: Params
    results: pd.DataFrame
    claims: pd.DataFrame | None
    report: Path
    reports: dict[str, Path] = field(default_factory=dict)


def stage_reports(campaign: str, params: Params) -> dict[str, Path]:
    """Language -> report file: ``<c>.html`` in the params' default language, ``<c>.<lang>.html`` in the others."""
    default = params.report.language
    return {lang: paths.report_html(campaign) if lang == default else paths.report_html(campaign, lang)
            for lang in (default, *(x for x in REPORT_LANGUAGES if x != default))}


def load_stages() -> list[Stage]:
    """Every campaign whose ``results.csv`` exists, ordered by campaign start date."""
    stages = []
    for c in paths.available_campaigns():
        rdir = paths.campaign_reports_dir(c)
        res = rdir / "results.csv"
        if not res.is_file():
            continue
        claims = rdir / "claims.csv"
        params = load_params(c)
        stages.append(Stage(campaign=c, params=params, results=pd.read_csv(res, keep_default_na=True),
                            claims=pd.read_csv(claims) if claims.is_file() else None, report=paths.report_html(c),
                            reports=stage_reports(c, params)))
    return sorted(stages, key=lambda s: (s.params.campaign_period.start, s.campaign))


def reach_total(campaign: str) -> float:
    """Total engagements in a stage's processed reach export (NaN when there is none)."""
    f = paths.campaign_processed_dir(campaign) / "reach.parquet"
    if not f.is_file():
        return np.nan
    df = pd.read_parquet(f)
    if "engagements" not in df.columns:
        return np.nan
    return float(pd.to_numeric(df["engagements"], errors="coerce").sum())


def stage_summary(stages: list[Stage]) -> pd.DataFrame:
    """Headline numbers per stage.

    Returns
    -------
    pandas.DataFrame
        Columns ``campaign, title, stage, year, design, n_baseline, n_endline,
        indicators, increased, decreased, claims_consistent, claims_testable,
        engagements`` (from the pooled ``all`` rows of results.csv, claims.csv
        and the processed reach export).
    """
    rows = []
    for s in stages:
        r = s.results
        pooled = r[r["group"] == "all"] if (r["group"] == "all").any() else r
        counts = reading_counts(pooled, alpha=s.params.alpha, min_n=s.params.min_cell_size)
        nb = pd.to_numeric(r.get("n_baseline", r.get("n")), errors="coerce")
        ne = pd.to_numeric(r.get("n_endline", r.get("n")), errors="coerce")
        cons = test = np.nan
        if s.claims is not None and "verdict" in s.claims.columns:
            c = claim_counts(s.claims)  # per claim, as the stage's own report counts them
            cons, test = c["consistent"], c["testable"]
        rows.append({"campaign": s.campaign, "title": report_title(s.params), "stage": stage_name(s.params),
                     "year": s.params.campaign_period.start.year, "design": s.params.design,
                     "n_baseline": nb.max(), "n_endline": ne.max(), "indicators": int(pooled["indicator"].nunique()),
                     "increased": counts["up"], "decreased": counts["down"],
                     "claims_consistent": cons, "claims_testable": test, "engagements": reach_total(s.campaign)})
    return pd.DataFrame(rows, columns=["campaign", "title", "stage", "year", "design", "n_baseline", "n_endline",
                                       "indicators", "increased", "decreased", "claims_consistent", "claims_testable",
                                       "engagements"])


def shared_indicators(stages: list[Stage]) -> pd.DataFrame:
    """Pooled (``all``) results of every indicator measured in two or more stages.

    Returns
    -------
    pandas.DataFrame
        ``results.csv`` rows of group ``all`` with ``campaign, year, stage,
        indicator, label, ...``, ordered by indicator then stage date.
    """
    frames = []
    for s in stages:
        r = s.results[s.results["group"] == "all"].copy()
        r["campaign"] = s.campaign
        r["year"] = s.params.campaign_period.start.year
        r["stage"] = stage_name(s.params)
        r["_start"] = s.params.campaign_period.start
        r["label"] = [indicator_label(s.params, i) for i in r["indicator"]]
        frames.append(r)
    if not frames:
        return pd.DataFrame()
    allr = pd.concat(frames, ignore_index=True)
    counts = allr.groupby("indicator")["campaign"].nunique()
    shared = counts[counts >= 2].index
    out = allr[allr["indicator"].isin(shared)].assign(
        _k=lambda d: -pd.to_numeric(d["indicator"].map(counts), errors="coerce").astype("float64"))
    out = out.sort_values(["_k", "indicator", "_start", "campaign"], kind="stable")
    return out.drop(columns=["_start", "_k"]).reset_index(drop=True)


def joint_reach(stages: list[Stage]) -> pd.DataFrame:
    """Published multi-stage reach figures vs. the sum of the stages' reach exports.

    The figures come from each stage's ``published_reach_across_stages``
    params setting (a figure published for several stages together, e.g.
    Differently Different's "more than 4 million" for 2019 and 2020).

    Parameters
    ----------
    stages : list of Stage
        The stages with results; their params are searched for joint figures.

    Returns
    -------
    pandas.DataFrame
        ``text, campaigns, published_min, total, verdict`` (``verdict`` is
        "consistent", "not consistent" or "not testable" when a stage has no
        processed reach export).
    """
    rows = []
    claims = []
    for stage in stages:
        claim = stage.params.published_reach_across_stages
        if claim is not None and claim not in claims:
            claims.append(claim)
    for claim in claims:
        totals = [reach_total(c) for c in claim.campaigns]
        missing = any(np.isnan(t) for t in totals)
        total = int(sum(t for t in totals if not np.isnan(t)))
        verdict = "not testable" if missing else ("consistent" if total > claim.more_than else "not consistent")
        rows.append({"text": claim.text, "campaigns": ", ".join(claim.campaigns),
                     "published_min": claim.more_than, "total": np.nan if missing else total, "verdict": verdict})
    return pd.DataFrame(rows, columns=["text", "campaigns", "published_min", "total", "verdict"])


def _cards_html(summary: pd.DataFrame, stages: list[Stage]) -> str:
    out = []
    for s, (_i, r) in zip(stages, summary.iterrows()):
        links = []
        for lang, path in s.reports.items():
            if not path.is_file():
                continue
            name = LANGUAGE_NAMES.get(lang, lang)
            text = _("Open the report") if lang == get_language() else _("Open the report in {language}").format(language=name)
            links.append(f'<a href="{esc(path.name)}" hreflang="{esc(lang)}">{esc(text)}'
                         f'<span class="ek-sr">: {esc(r["stage"])}</span></a>')
        link = " \u00b7 ".join(links) if links else f"<span>{esc(_('Report not built yet'))}</span>"
        claims = ("\u2013" if pd.isna(r["claims_testable"])
                  else _("{k} of {n}").format(k=fmt_int(r["claims_consistent"]), n=fmt_int(r["claims_testable"])))
        reach = "\u2013" if pd.isna(r["engagements"]) else _("{x} million").format(x=fmt_number(r["engagements"] / 1e6, digits=2))
        design = _("panel") if r["design"] == "paired" else _("independent samples")
        out.append(
            f'<li class="ek-card"><h3>{esc(r["stage"])}</h3><dl>'
            f"<dt>{esc(_('Respondents compared (baseline / endline, largest comparison)'))}</dt><dd>{fmt_int(r['n_baseline'])} / {fmt_int(r['n_endline'])}</dd>"
            f"<dt>{esc(_('Indicators increased significantly'))}</dt><dd>{esc(_('{k} of {n}').format(k=fmt_int(r['increased']), n=fmt_int(r['indicators'])))}</dd>"
            f"<dt>{esc(_('Published figures consistent'))}</dt><dd>{esc(claims)}</dd>"
            f"<dt>{esc(_('Engagements (reach export)'))}</dt><dd>{esc(reach)}</dd>"
            f"<dt>{esc(_('Design'))}</dt><dd>{esc(design)}</dd>"
            f"</dl><p>{link}</p></li>")
    return '<ul class="ek-cards">' + "".join(out) + "</ul>"


def _shared_html(shared: pd.DataFrame, stages: list[Stage]) -> str:
    if shared.empty:
        return f"<p>{esc(_('No indicator is measured in more than one stage with results.'))}</p>"
    from evalkit.report import figures as plots

    alpha = {s.campaign: s.params.alpha for s in stages}
    min_n = {s.campaign: s.params.min_cell_size for s in stages}
    visible = shared[[not too_small(r, min_n.get(r["campaign"], 0)) for _i, r in shared.iterrows()]]
    parts = [plots.figure_html(plots.stage_comparison_figure(visible))]

    def hide(fmt, text=None):
        return lambda r: (_("suppressed") if text is None else text) if too_small(r, min_n.get(r["campaign"], 0)) else fmt(r)

    cols = [Column("stage", _("Stage")),
            Column("n", _("n (base / end)"), numeric=True,
                   fmt=hide(lambda r: f"{fmt_int(r.get('n_baseline', r['n']))} / {fmt_int(r.get('n_endline', r['n']))}",
                            text=_("too few"))),
            Column("baseline_pct", _("Baseline"), fmt=hide(lambda r: fmt_pct(r["baseline_pct"])), numeric=True),
            Column("endline_pct", _("Endline"), fmt=hide(lambda r: fmt_pct(r["endline_pct"])), numeric=True),
            Column("change_pp", _("Change (95% CI)"), numeric=True,
                   fmt=hide(lambda r: f"{fmt_pp(r['change_pp'])} {fmt_ci(r['ci_low_pp'], r['ci_high_pp'])}")),
            Column("p_holm", _("Holm p"), fmt=hide(lambda r: fmt_p(r["p_holm"]), text="\u2013"), numeric=True),
            Column("reading", _("Reading"), html=lambda r: badge(*reading(r, alpha=alpha.get(r["campaign"], 0.05),
                                                                           min_n=min_n.get(r["campaign"], 0))))]
    parts.append(html_table(shared, cols, caption=_("Indicators measured in more than one stage (all respondents)"),
                            table_id="tbl-shared", section=lambda r: str(r["label"])))
    return "".join(parts)


def _reach_html(joint: pd.DataFrame) -> str:
    if joint.empty:
        return ""
    kinds = {"consistent": "up", "not consistent": "down", "not testable": "na"}
    names = {"consistent": _("consistent"), "not consistent": _("not consistent"), "not testable": _("not testable")}
    cols = [Column("text", _("Published figure"), fmt=lambda r: params_text(r["text"])),
            Column("published_min", _("Published"), fmt=lambda r: _("more than {n}").format(n=fmt_int(r["published_min"])),
                   numeric=True),
            Column("total", _("Sum of the reach exports"), fmt=lambda r: fmt_int(r["total"]), numeric=True),
            Column("verdict", _("Verdict"), html=lambda r: badge(names.get(str(r["verdict"]), str(r["verdict"])),
                                                                  kinds.get(str(r["verdict"]), "none")))]
    return html_table(joint, cols, caption=_("Published reach across stages"), table_id="tbl-joint-reach")


def _years(stages: list[Stage]) -> str:
    """``2019`` or ``2019 to 2022``: the fieldwork years the stages span."""
    years = sorted({d.year for s in stages for d in (s.params.raw.baseline.fieldwork.start, s.params.raw.endline.fieldwork.end)})
    return str(years[0]) if len(years) == 1 else _("{low} to {high}").format(low=years[0], high=years[-1])


def render_index(stages: list[Stage], *, language: str = "en") -> str:
    """The complete ``index.html`` text for these stages, in ``language``."""
    from evalkit.report import tracking as ek_tracking
    from evalkit.report.htmlexport import add_toc, report_css

    with use_language(language):
        summary = stage_summary(stages)
        synthetic = any(s.params.synthetic for s in stages)
        notice = ('<aside class="ek-notice" role="note" aria-label="{label}"><strong>{head}</strong> {text}</aside>'.format(
            label=esc(_("Synthetic data notice")), head=esc(_("Synthetic data.")),
            text=esc(_("At least one stage below runs on synthetic survey data calibrated to the published figures; "
                       "see the notice in each report.")))) if synthetic else ""
        if stages:
            n = len(stages)
            body = (f"<p>{esc(ngettext('{n} campaign stage with results.', '{n} campaign stages with results.', n).format(n=n))} "
                    f"{esc(_('Each card links to the full report; the sections below compare the indicators the stages share.'))}</p>"
                    + notice
                    + f"<h2>{esc(_('Stages'))}</h2>" + _cards_html(summary, stages)
                    + f"<h2>{esc(_('Indicator tracking across stages'))}</h2>"
                    + "<p>" + esc(_("Each indicator with a target, stage by stage ({years}), so one indicator can be "
                                    "followed over time.").format(years=_years(stages))) + "</p>"
                    + ek_tracking.stages_tracking_html(stages)
                    + f"<h2>{esc(_('Indicators shared across stages'))}</h2>"
                    + "<p>" + esc(_("The same indicator in each stage that measured it, for all respondents. Stages "
                                    "differ in design, sample and timing, so compare directions and confidence intervals "
                                    "rather than exact values.")) + "</p>"
                    + _shared_html(shared_indicators(stages), stages)
                    + f"<h2>{esc(_('Reach across stages'))}</h2>" + _reach_html(joint_reach(stages)))
        else:
            body = "<p>" + _("No stage has results yet. Build them with {make} (or {run}).").format(
                make="<code>make reports</code>", run="<code>python -m evalkit run &lt;campaign&gt;</code>") + "</p>"
        body, nav = add_toc(body, levels=(2,))
        others = " \u00b7 ".join(
            f'<a href="{esc(index_name(lang))}" hreflang="{lang}" lang="{lang}">{esc(LANGUAGE_NAMES[lang])}</a>'
            for lang in REPORT_LANGUAGES if lang != language)
        title = _("Evaluation reports")
        doc = (
            f'<!DOCTYPE html>\n<html lang="{esc(language)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="generator" content="evalkit">\n'
            f"<title>{esc(title)}</title>\n"
            f"<style>\n{report_css()}\n</style>\n</head>\n<body>\n"
            f'<a class="ek-skip" href="#ek-main">{esc(_("Skip to the content"))}</a>\n<div class="ek-layout">\n<main id="ek-main">\n'
            f'<header class="ek-title"><p class="ek-kicker">{esc(_("Evaluation reports"))} \u00b7 {esc(_("pre/post KAP surveys"))}</p>'
            f"<h1>{esc(title)}</h1><p class=\"ek-langs\">{others}</p></header>\n"
            f"{nav}\n{body}\n</main>\n</div>\n</body>\n</html>\n")
    return "\n".join(line.rstrip() for line in doc.splitlines()) + "\n"


def index_name(language: str = "en") -> str:
    """File name of the index in ``language``: ``index.html`` (English) or ``index.<lang>.html``."""
    return "index.html" if language == "en" else f"index.{language}.html"


def build_index(language: str = "en") -> Path:
    """Write ``reports/index.html`` from every stage's results, atomically.

    Returns
    -------
    Path
        ``reports/index.html``.

    Examples
    --------
    >>> build_index()  # doctest: +SKIP
    PosixPath('.../reports/index.html')
    """
    out = paths.reports_dir() / index_name(check_language(language))
    return write_text_atomic(out, render_index(load_stages(), language=language))

