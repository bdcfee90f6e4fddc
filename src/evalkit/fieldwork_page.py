"""The fieldwork page: ``reports/<campaign>/fieldwork.html`` and ``fieldwork.csv``.

One offline, self-contained HTML file in the report's house style (the same
stylesheet, skip link, contents, captioned tables with column headers, every
cell escaped by :func:`evalkit.report.tables.html_table`), built from the tables of
:func:`evalkit.fieldwork.run_checks`. Flags are words, not colours only.
Both files are written atomically; ``make check CAMPAIGN=x`` (``python -m
evalkit fieldwork x``) builds them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalkit import paths
from evalkit.atomic import write_csv_atomic, write_text_atomic
from evalkit.fieldwork import FieldworkResult, run_checks
from evalkit.params import Params

_MEASURES = {
    "submissions": "Submissions", "median_minutes": "Median minutes", "share_under_minimum": "Share under minimum",
    "export_row": "Export row", "refusal_rate": "Consent refused", "dont_know_rate": "Don't know",
    "refused_rate": "Refused", "other_share": "Share 'other'", "not_in_choice_list": "Not in the choice list",
    "not_a_number": "Not a number", "file_row": "File row",
    "outside_constraint": "Outside the form's constraint", "outside_range_check": "Outside the params range check",
    "baseline_respondents": "Baseline respondents", "not_yet_reinterviewed": "Not yet re-interviewed",
    "share_not_yet": "Share not yet",
}


#: Flags that ask the team to act (shown as a warning badge; the others are information).
_ACT = {"below target", "outlier", "too many short", "resolve", "fix", "older version in use", "not found yet"}


def _value(row: pd.Series) -> str:
    from evalkit.report.format import fmt_int

    v = row["value"]
    if v is None or pd.isna(v):
        return "\u2013"
    if str(row["measure"]).endswith(("_rate", "_share", "share_under_minimum", "share_not_yet")):
        return f"{100 * float(v):.1f}%"
    if row["measure"] == "median_minutes":
        return f"{float(v):.1f}"
    return fmt_int(v)


def _flag(row: pd.Series) -> str:
    from evalkit.report.tables import badge

    f = row["flag"]
    return badge(str(f), "down" if f in _ACT else "na") if f else ""


def _table(df: pd.DataFrame, keys: list[str], *, caption: str, table_id: str, empty: str,
           rename: dict[str, str] | None = None) -> str:
    from evalkit.report.tables import Column, html_table

    headers = {"day": "Day", "enumerator": "Enumerator", "question": "Question", "level": "Level",
               "respondent": "Respondent (pseudonym)", "submission": "Submission _uuid",
               "n": "n", "note": "Note", "kind": "Duplicate"} | (rename or {})
    cols = []
    for k in keys:
        if k == "measure":
            cols.append(Column(k, "Measure", fmt=lambda r: _MEASURES.get(str(r["measure"]), str(r["measure"]))))
        elif k == "value":
            head = (rename or {}).get("value") or ("Export row" if set(df["measure"]) == {"export_row"} else "Value")
            cols.append(Column(k, head, fmt=_value, numeric=True))
        elif k == "flag":
            cols.append(Column(k, "Flag", html=_flag))
        elif k == "n":
            cols.append(Column(k, "n", fmt=lambda r: "" if pd.isna(r["n"]) else f"{int(r['n']):,}", numeric=True))
        else:
            cols.append(Column(k, headers[k], fmt=lambda r, k=k: "" if r[k] is None or pd.isna(r[k]) else str(r[k])))
    return html_table(df, cols, caption=caption, table_id=table_id, empty=empty)


def _submissions_table(subs: pd.DataFrame, *, wave: str) -> str:
    """Enumerators x days (the last row: all); a count under the target says so in words, not only in colour."""
    from evalkit.report.tables import Column, badge, html_table

    if subs.empty:
        return _table(subs, ["day"], caption=f"{wave}: submissions per day", table_id=f"tbl-{wave}-submissions",
                      empty="no submissions")
    cell = subs.assign(text=[f"{int(v):,}" + (" below target" if f == "below target" else "")
                             for v, f in zip(subs["value"], subs["flag"].fillna(""))])
    wide = cell.pivot(index="enumerator", columns="day", values="text").fillna("0")
    order = [e for e in wide.index if e != "all"] + ["all"]
    wide = wide.loc[order].reset_index()
    days = [c for c in wide.columns if c != "enumerator"]

    def fmt(day: str):
        def html(r: pd.Series) -> str:
            text = str(r[day])
            return (f"{text.split()[0]} " + badge("below target", "down")) if "below" in text else text
        return html

    cols = [Column("enumerator", "Enumerator")] + [Column(d, d[5:], html=fmt(d), numeric=True) for d in days]
    return html_table(wide, cols, caption=f"{wave}: submissions per enumerator (rows) and day (columns, MM-DD)",
                      table_id=f"tbl-{wave}-submissions")


def _durations_table(d: pd.DataFrame, *, wave: str) -> str:
    """One row per enumerator: median minutes and its robust z-score, share of short interviews, flags."""
    from evalkit.report.tables import Column, badge, html_table

    if d.empty:
        return _table(d, ["enumerator"], caption=f"{wave}: duration per enumerator", table_id=f"tbl-{wave}-duration",
                      empty="no interview has both a start and an end time")
    med = d[d["measure"] == "median_minutes"].set_index("enumerator")
    short = d[d["measure"] == "share_under_minimum"].set_index("enumerator")
    wide = pd.DataFrame({"enumerator": med.index, "median": med["value"].to_numpy(),
                         "z": med["note"].str.replace("modified z = ", "", regex=False).to_numpy(),
                         "short": short["value"].reindex(med.index).to_numpy(), "n": med["n"].to_numpy(),
                         "flags": [", ".join(f for f in (a, b) if f) for a, b in
                                   zip(med["flag"].fillna(""), short["flag"].reindex(med.index).fillna(""))]})
    cols = [Column("enumerator", "Enumerator"),
            Column("median", "Median minutes", fmt=lambda r: f"{float(r['median']):.1f}", numeric=True),
            Column("z", "Robust z of the median"),
            Column("short", "Share under minimum", fmt=lambda r: f"{100 * float(r['short']):.1f}%", numeric=True),
            Column("n", "Interviews", fmt=lambda r: f"{int(r['n']):,}", numeric=True),
            Column("flags", "Flag", html=lambda r: " ".join(badge(f, "down") for f in str(r["flags"]).split(", ")
                                                            if f))]
    return html_table(wide, cols, caption=f"{wave}: duration per enumerator", table_id=f"tbl-{wave}-duration")


def _section(result: FieldworkResult, wave: str, params: Params) -> str:
    t = result.table[result.table["wave"] == wave]
    wd = next(w for w in result.waves if w.wave == wave)
    fw, cl = params.fieldwork, params.cleaning
    pick = lambda check: t[t["check"] == check]  # noqa: E731
    subs = pick("submissions")
    days = subs["day"].nunique()
    target = (f"Target: {fw.target_per_day} submissions per enumerator per day (params fieldwork.target_per_day)."
              if fw.target_per_day else "No daily target set (params fieldwork.target_per_day).")
    dup = pd.concat([pick("duplicate_uuid"), pick("duplicate_respondent")])
    dk = pick("dont_know_refused")
    parts = [
        f"<h2>{wave.capitalize()}: {wd.file}</h2>",
        f"<p>{wd.n_read:,} submissions read over {days} day(s); {wd.n_tests:,} test submission(s) (test "
        f"enumerators {', '.join(cl.test_enumerators) or 'none'}, or before fieldwork began on "
        f"{params.wave_file(wave).fieldwork.start.isoformat()}) left out of every check.</p>",
        f"<h3>Submissions per day and enumerator</h3><p>{target}</p>",
        _submissions_table(subs, wave=wave),
        "<h3>Interview duration per enumerator</h3>"
        f"<p>Outlier rule: an enumerator's median duration is flagged when its modified z-score "
        f"0.6745 &times; (median &minus; median of all enumerators' medians) / MAD exceeds {fw.outlier_z:g} in "
        f"absolute value (Iglewicz and Hoaglin 1993; when more than half the medians are equal, MAD is "
        f"replaced by 1.2533 &times; the mean absolute deviation). The same rule flags don't-know and refusal "
        f"rates. The share of interviews under "
        f"{cl.min_duration_minutes:g} minutes is flagged above {fw.max_short_share:.0%}.</p>",
        _durations_table(pick("duration"), wave=wave),
        "<h3>Duplicates to resolve</h3><p>Submissions sharing a <code>_uuid</code> (the same submission sent "
        "twice) or a respondent id (shown as a keyed pseudonym). Answer each respondent duplicate in "
        "<code>duplicates.csv</code> with the <code>_uuid</code> to keep and why; a mistyped id is a line of "
        "<code>corrections.csv</code> instead.</p>",
        _table(dup.assign(kind=dup["check"].map({"duplicate_uuid": "same _uuid (sent twice)",
                                                 "duplicate_respondent": "same respondent"})),
               ["kind", "respondent", "submission", "day", "enumerator", "value", "flag", "note"],
               caption=f"{wave}: duplicate submissions and respondents", table_id=f"tbl-{wave}-duplicates",
               empty="no duplicates"),
        "<h3>Consent refusals per enumerator</h3>",
        _table(pick("consent"), ["enumerator", "value", "n", "flag", "note"], caption=f"{wave}: consent refused",
               table_id=f"tbl-{wave}-consent", empty="no submissions"),
        "<h3>Don't know and refused answers</h3><p>Over the answers of consented interviews to the questions "
        "that offer such a choice; "
        f"don't know = {', '.join(cl.dont_know)}, refused = {', '.join(cl.refused)} (params cleaning).</p>",
        _table(dk[dk["enumerator"] != "all"], ["enumerator", "measure", "value", "n", "flag", "note"],
               caption=f"{wave}: don't know and refused per enumerator", table_id=f"tbl-{wave}-dk-enum",
               empty="no select answers"),
        _table(dk[dk["enumerator"] == "all"], ["question", "measure", "value", "n"],
               caption=f"{wave}: don't know and refused per question", table_id=f"tbl-{wave}-dk-question",
               empty="no select answers"),
        "<h3>Other (specify)</h3><p>Share of answers that are 'other' per question that offers it; recode "
        "frequent texts in <code>other_recodes.csv</code>.</p>",
        _table(pick("other_specify"), ["question", "value", "n"], caption=f"{wave}: share of 'other' answers",
               table_id=f"tbl-{wave}-other", empty="no question offers 'other'"),
        "<h3>Form versions in use</h3>",
        _table(pick("form_version"), ["question", "day", "value", "flag", "note"],
               caption=f"{wave}: form versions (Kobo __version__)", table_id=f"tbl-{wave}-versions",
               empty="no versions"),
        "<h3>Answers outside choice lists and constraints</h3><p>Counts and export rows; the values are not "
        "shown. Correct them in <code>corrections.csv</code>.</p>",
        _table(pick("answers"), ["question", "measure", "value", "flag", "note"],
               caption=f"{wave}: answers outside lists and constraints", table_id=f"tbl-{wave}-answers",
               empty="every answer is in its choice list and within its constraints"),
    ]
    return "\n".join(parts)


_CHECK_NAMES = {"submissions": "Submissions per day", "duration": "Interview duration",
                "duplicate_respondent": "Respondent duplicates", "consent": "Consent refusals",
                "dont_know_refused": "Don't know / refused", "form_version": "Form versions",
                "answers": "Answers outside lists and constraints", "decisions": "Decision files"}


def _to_act_on(table: pd.DataFrame) -> str:
    """Summary at the top: how many figures of each check and wave ask the team to act (flags in :data:`_ACT`)."""
    from evalkit.report.tables import Column, html_table

    act = table[table["flag"].isin(_ACT)]
    counts = (act.groupby(["wave", "check"], sort=False).size().rename("n").reset_index()
              .assign(what=lambda d: d["check"].map(_CHECK_NAMES).fillna(d["check"])))
    cols = [Column("wave", "Wave"), Column("what", "Check"),
            Column("n", "Flagged rows", fmt=lambda r: f"{int(r['n']):,}", numeric=True)]
    return ("<h2>To act on</h2>" + html_table(counts, cols, caption="Rows flagged per check (fieldwork.csv rows)",
                                                 table_id="tbl-to-act-on", empty="nothing is flagged"))


def render_page(result: FieldworkResult, params: Params) -> str:
    """The complete ``fieldwork.html`` text (offline: inline stylesheet, no script, no external URL)."""
    from evalkit.report.format import esc
    from evalkit.report.htmlexport import add_toc, report_css

    body = [f"<p>Data-quality checks on the exports received so far, for the team to act on while fieldwork "
            f"runs. Respondents appear only as keyed pseudonyms; names, phone numbers and free text are not read. "
            f"Enumerators are shown {'by username' if params.fieldwork.enumerator_ids == 'as_is' else 'by pseudonym'}"
            f". Figures by location with fewer than {params.min_cell_size} respondents are suppressed. The same "
            f"figures are in <code>fieldwork.csv</code>.</p>"]
    if result.missing_waves:
        body.append(f"<p>Not exported yet: {esc(', '.join(result.missing_waves))}.</p>")
    body.append(_to_act_on(result.table))
    pending = result.table[result.table["check"] == "decisions"]
    if not pending.empty:
        body += ["<h2>Decisions not matched yet</h2><p>Lines of the team's decision files whose <code>_uuid</code> "
                 "is in no export read so far. Check them: once every wave is exported, an unknown "
                 "<code>_uuid</code> stops the cleaning step.</p>",
                 _table(pending, ["question", "value", "submission", "flag", "note"],
                        caption="Decision-file lines not matched yet", table_id="tbl-decisions-pending", empty="",
                        rename={"question": "File", "value": "Row"})]
    for wd in result.waves:
        body.append(_section(result, wd.wave, params))
    follow = result.table[result.table["check"] == "panel_follow_up"]
    if not follow.empty:
        body += ["<h2>Panel: baseline respondents not yet re-interviewed</h2>"
                 "<p>Consented baseline respondents without a consented endline interview so far, by "
                 f"{esc(follow['question'].iloc[0] or 'total')}.</p>",
                 _table(follow, ["level", "measure", "value", "flag", "note"], caption="Panel follow-up",
                        table_id="tbl-panel-follow-up", empty="no baseline respondents")]
    html_body, nav = add_toc("\n".join(body), levels=(2,))
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="generator" content="evalkit">\n'
        f"<title>Fieldwork checks: {esc(params.title)}</title>\n"
        f"<style>\n{report_css()}\n</style>\n</head>\n<body>\n"
        '<a class="ek-skip" href="#ek-main">Skip to the content</a>\n<div class="ek-layout">\n<main id="ek-main">\n'
        f'<header class="ek-title"><p class="ek-kicker">Fieldwork checks \u00b7 {esc(params.stage)}</p>'
        f"<h1>Fieldwork checks: {esc(params.title)}</h1></header>\n"
        f"{nav}\n{html_body}\n</main>\n</div>\n</body>\n</html>\n")
    return "\n".join(line.rstrip() for line in doc.splitlines()) + "\n"


def build_fieldwork(params: Params) -> Path:
    """Run the checks and write ``fieldwork.csv`` then ``fieldwork.html`` atomically; return the HTML path."""
    result = run_checks(params)
    out = paths.campaign_reports_dir(params.campaign)
    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(result.table, out / "fieldwork.csv")
    return write_text_atomic(out / "fieldwork.html", render_page(result, params))
