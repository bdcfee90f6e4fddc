"""Daily data-quality checks on partial exports, while fieldwork still runs.

The checks are IPA's high-frequency checks (``ipacheck``) and the World Bank
DIME ``iefieldkit`` ones, on whatever the exports hold so far (one wave, some
days): submissions per day and enumerator against a target, interview
durations, duplicates, consent refusals, don't-know/refusal rates, "other
(specify)" shares, form versions, answers outside choice lists and
constraints, and, for a panel endline, baseline respondents not yet
re-interviewed. Each check returns a small table with fixed columns;
:func:`run_checks` collects them and :mod:`evalkit.fieldwork_page` writes
``reports/<campaign>/fieldwork.html`` and ``fieldwork.csv``.

The exports are read as the cleaning step reads them, with the team's
corrections and recodes applied (:mod:`evalkit.corrections`), but nothing is
dropped: an answer the codebook does not know is listed instead of stopping
the run. Test submissions (test enumerators, before fieldwork) are left out
of every check and counted. Respondent ids are shown only as keyed
pseudonyms (:func:`evalkit.deid.pseudonymise`); names, phones and free text
are never read. Enumerators are shown by username (staff), or pseudonymised
(params ``fieldwork.enumerator_ids``).

Robust outlier rule (stated on the page): the modified z-score
``M = 0.6745 (x - median) / MAD`` of each enumerator's value among all
enumerators' values, flagged when ``|M| > fieldwork.outlier_z`` (3.5); when
MAD = 0 the scaled mean absolute deviation replaces it (:func:`modified_z`).

References
----------
Iglewicz, B. and Hoaglin, D. (1993). *How to Detect and Handle Outliers*.
ASQC Quality Press, p. 11-13 (modified z-score, threshold 3.5).
Innovations for Poverty Action, ``ipacheck``; World Bank DIME Analytics,
``iefieldkit`` (``ieduplicates``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalkit.cleaning_columns import column_plan, harmonise_group_values, personal_headers
from evalkit.cleaning_rules import DAY, add_times, drop_test_submissions, interview_minutes
from evalkit.errors import RawDataError
from evalkit.params import WAVES, Params

#: Columns of ``fieldwork.csv``: one row per figure of every check.
FIELDWORK_COLUMNS = ["check", "wave", "day", "enumerator", "question", "level", "respondent", "submission", "measure",
                     "value", "n", "flag", "note"]
#: Choices counted as "other (specify)".
OTHER = "other"


@dataclass(frozen=True)
class WaveData:
    """One wave's export, read for the checks.

    Attributes
    ----------
    wave : str
    file : str
    answers : pandas.DataFrame
        Harmonised, corrected answers (index = export rows), with the
        internal time columns of :func:`evalkit.cleaning.add_times`; test
        submissions left out.
    n_read, n_tests : int
        Submissions in the export, and test submissions left out.
    unknown : list of tuple
        ``(question, header, value, rows)``: answers the codebook does not know.
    found_uuids : frozenset of str
        ``_uuid`` values of the team's decision files found in this export.
    """

    wave: str
    file: str
    answers: pd.DataFrame
    n_read: int
    n_tests: int
    unknown: list = field(default_factory=list)
    found_uuids: frozenset = frozenset()


def load_wave(params: Params, wave: str, codebook: object, decisions: object) -> WaveData | None:
    """Read one wave's export for the checks (None when the file does not exist yet).

    Raises
    ------
    RawDataError, CodebookError
        As the cleaning step: unreadable file, unknown columns, unreadable
        times, a correction that no longer matches the export.
    """
    from evalkit.codebook import harmonise
    from evalkit.corrections import apply_corrections, apply_recodes, needed_questions
    from evalkit.readers import load_export

    wf = params.wave_file(wave)
    path = params.raw_path(wf.file, what=f"raw.{wave}.file")
    if not path.exists():
        return None
    renames = params.renames.get(wave, {})
    plan = column_plan(params, codebook, wf, renames, str(path), wave, seen=[],
                       extra={"__version__"} | needed_questions(decisions))
    raw = load_export(path, wf, plan=plan)
    unknown: list = []
    df = harmonise(raw.frame, codebook, wave_file=wf, renames=renames, file=str(path), wave=wave,
                   unknown_answers=unknown,  # a personal column's values never reach the fieldwork page
                   personal=personal_headers(raw.frame, params, codebook, wave_file=wf, renames=renames))
    for col in ("start", "end", params.columns.consent):
        if col not in df:
            raise RawDataError(f"The export {path} has no column for {col!r}; the fieldwork checks need the "
                               f"consent answer and the start/end times. Check the headers or params renames.{wave}.")
    df, _, found = apply_corrections(df, decisions, codebook=codebook, wave_file=wf, file=wf.file)
    df, _ = apply_recodes(df, decisions, codebook=codebook, file=wf.file)
    df = harmonise_group_values(df, group_column=params.columns.group, groups=list(params.groups))
    df = add_times(df, str(path))
    c = params.columns
    kept = drop_test_submissions(df, enumerator_column=c.enumerator, test_enumerators=params.cleaning.test_enumerators,
                                 fieldwork_start=wf.fieldwork.start).kept
    return WaveData(wave, wf.file, kept, len(df), len(df) - len(kept), unknown,
                    frozenset(found | decisions.found_in(df)))


# --------------------------------------------------------------------------- helpers


def modified_z(values: pd.Series) -> pd.Series:
    """Robust z-scores: ``(x - median) / (1.4826 MAD)``, or ``/ (1.2533 MeanAD)`` when MAD = 0.

    ``(x - median) / (1.4826 MAD)`` is Iglewicz and Hoaglin's modified
    z-score ``0.6745 (x - median) / MAD``. When more than half of the values
    are equal (MAD = 0, common for rates that are mostly 0), the mean
    absolute deviation around the median is used instead, scaled by
    ``sqrt(pi / 2) = 1.2533`` so that both estimate the standard deviation
    of normal data (the convention of IBM SPSS's robust z-score).

    Parameters
    ----------
    values : pandas.Series
        One value per unit (e.g. each enumerator's median duration).

    Returns
    -------
    pandas.Series
        Same index; NaN where undefined: fewer than 3 values, or every value
        equal (nothing stands out).

    References
    ----------
    Iglewicz, B. and Hoaglin, D. (1993). *How to Detect and Handle
    Outliers*, p. 11-13.

    Examples
    --------
    >>> modified_z(pd.Series([10.0, 11.0, 12.0, 30.0])).round(2).tolist()
    [-1.01, -0.34, 0.34, 12.48]
    """
    x = values.astype(float)
    med = x.median()
    dev = (x - med).abs()
    mad, mean_ad = dev.median(), dev.mean()
    if x.notna().sum() < 3 or not mean_ad > 0:
        return pd.Series(np.nan, index=values.index)
    scale = 1.482602218505602 * mad if mad > 0 else 1.2533141373155001 * mean_ad
    return (x - med) / scale


def _rows(check: str, wave: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.assign(check=check, wave=wave)
    for col in FIELDWORK_COLUMNS:
        if col not in out:
            out[col] = None
    return out[FIELDWORK_COLUMNS].reset_index(drop=True)


def enumerators(df: pd.DataFrame, params: Params) -> pd.Series:
    """Enumerator as shown: the username (staff), or a keyed pseudonym (params ``fieldwork.enumerator_ids``)."""
    from evalkit.codebook import as_text

    col = params.columns.enumerator
    if col not in df:
        return pd.Series("(no enumerator column)", index=df.index, dtype=object)
    names = as_text(df[col]).str.strip().astype(object).where(df[col].notna(), "(empty)")
    if params.fieldwork.enumerator_ids == "pseudonymise":
        from evalkit.deid import pseudonym_key, pseudonymise

        return "e" + pseudonymise(names, pseudonym_key().key).str.slice(1, 9).astype(object)
    return names


# --------------------------------------------------------------------------- the checks


def submissions_per_day(wd: WaveData, params: Params) -> pd.DataFrame:
    """Submissions per fieldwork day and enumerator, against ``fieldwork.target_per_day``.

    Returns
    -------
    pandas.DataFrame
        :data:`FIELDWORK_COLUMNS`; check ``submissions``, measure
        ``submissions``, one row per day x enumerator and one per day with
        enumerator ``all``; ``flag`` ``below target`` where the enumerator's
        count is under the target.
    """
    df = wd.answers
    target = params.fieldwork.target_per_day
    t = pd.DataFrame({"day": df[DAY].dt.date.astype(str), "enumerator": enumerators(df, params)})
    per = t.groupby(["day", "enumerator"], sort=True).size().rename("value").reset_index()
    total = t.groupby("day", sort=True).size().rename("value").reset_index().assign(enumerator="all")
    out = pd.concat([per, total], ignore_index=True).sort_values(["day", "enumerator"], kind="stable")
    out["measure"], out["n"] = "submissions", out["value"]
    if target is not None:
        below = (out["enumerator"] != "all") & (out["value"] < target)
        out["flag"] = np.where(below, "below target", "")
        out["note"] = np.where(out["enumerator"] != "all", f"target {target} per enumerator per day", "")
    return _rows("submissions", wd.wave, out)


def durations(wd: WaveData, params: Params) -> pd.DataFrame:
    """Interview duration per enumerator: median minutes, share under the minimum, robust outliers.

    Returns
    -------
    pandas.DataFrame
        Check ``duration``; per enumerator two rows: measure
        ``median_minutes`` (flag ``outlier`` when its modified z-score
        among enumerators exceeds ``fieldwork.outlier_z``; the score in
        ``note``) and ``share_under_minimum`` (flag ``too many short`` above
        ``fieldwork.max_short_share``). ``n`` = interviews with both times.
    """
    df = wd.answers
    fw, minimum = params.fieldwork, params.cleaning.min_duration_minutes
    t = pd.DataFrame({"enumerator": enumerators(df, params), "minutes": interview_minutes(df)}).dropna()
    if t.empty:
        return _rows("duration", wd.wave, pd.DataFrame())
    g = t.groupby("enumerator", sort=True)["minutes"]
    summary = pd.DataFrame({"median": g.median(), "short": g.apply(lambda m: float((m < minimum).mean())),
                            "n": g.size()})
    z = modified_z(summary["median"])
    med = summary.reset_index().assign(measure="median_minutes", value=lambda d: d["median"].round(1))
    med["flag"] = np.where(z.abs().to_numpy() > fw.outlier_z, "outlier", "")
    med["note"] = [f"modified z = {v:.1f}" if pd.notna(v) else "modified z undefined (fewer than 3 enumerators "
                   "or all medians equal)" for v in z.to_numpy()]
    short = summary.reset_index().assign(measure="share_under_minimum", value=lambda d: d["short"].round(3))
    short["flag"] = np.where(short["short"] > fw.max_short_share, "too many short", "")
    short["note"] = f"minimum {minimum:g} minutes; flagged above {fw.max_short_share:.0%}"
    return _rows("duration", wd.wave, pd.concat([med, short], ignore_index=True)
                 .sort_values(["enumerator", "measure"], kind="stable"))


def duplicates(wd: WaveData, params: Params, *, kept: dict[str, int] | None = None) -> pd.DataFrame:
    """Submissions sharing a ``_uuid`` or a respondent id, with both rows' key fields.

    Respondent ids are shown as keyed pseudonyms (``respondent``);
    ``submission`` holds the ``_uuid`` (what ``duplicates.csv`` and
    ``corrections.csv`` need), ``value`` the export row, ``note`` the
    duration, consent and group. Check ``duplicate_uuid`` (flag ``first
    kept``: cleaning keeps the first copy by itself) / ``duplicate_respondent``
    (flag ``resolve``, or ``kept``/``dropped`` with the ``duplicates.csv`` row
    once the team has answered it).

    Parameters
    ----------
    wd : WaveData
    params : Params
    kept : dict, keyword-only
        ``_uuid`` -> row of ``duplicates.csv`` that keeps it.
    """
    from evalkit.codebook import as_text
    from evalkit.deid import pseudonym_key, pseudonymise

    df, c = wd.answers, params.columns
    out = []
    uuid = as_text(df["_uuid"]).str.strip() if "_uuid" in df else pd.Series(pd.NA, index=df.index, dtype="str")
    rid = (as_text(df[c.respondent_id]).str.strip() if c.respondent_id in df
           else pd.Series(pd.NA, index=df.index, dtype="str"))
    rid = rid.where(rid != "")
    pid = pseudonymise(rid, pseudonym_key().key)
    minutes = interview_minutes(df)
    resent = uuid.notna() & uuid.duplicated(keep="first")  # the same submission again: not a second interview
    for check, key in (("duplicate_uuid", uuid), ("duplicate_respondent", rid.where(~resent))):
        dup = key.notna() & key.duplicated(keep=False)
        if not dup.any():
            continue
        d = df[dup.to_numpy()]
        frame = pd.DataFrame({
            "day": d[DAY].dt.date.astype(str), "enumerator": enumerators(d, params), "submission": uuid[dup],
            "respondent": pid[dup], "measure": "export_row", "value": d.index.to_numpy(dtype=np.int64), "n": 1,
            "note": [(f"{m:.0f} min" if pd.notna(m) else "no duration") + f", consent {cn}, group {gr}"
                     for m, cn, gr in zip(minutes[dup], as_text(d[c.consent]).fillna("(empty)"),
                                          (as_text(d[c.group]).fillna("(empty)") if c.group in d
                                           else pd.Series("", index=d.index)))],
            "flag": "first kept" if check == "duplicate_uuid" else "resolve"})
        if check == "duplicate_respondent" and kept:
            answered = {p: kept[u] for p, u in zip(frame["respondent"], frame["submission"]) if u in kept}
            frame["flag"] = [("kept" if u in kept else "dropped") + f" (duplicates.csv row {answered[p]})"
                             if p in answered else "resolve" for p, u in zip(frame["respondent"], frame["submission"])]
        out.append(frame.sort_values(["respondent" if check == "duplicate_respondent" else "submission", "value"],
                                     kind="stable").assign(check=check))
    if not out:
        return _rows("duplicate_respondent", wd.wave, pd.DataFrame())
    frame = pd.concat(out, ignore_index=True)
    return pd.concat([_rows(ch, wd.wave, part) for ch, part in frame.groupby("check", sort=False)],
                     ignore_index=True)


def _per_enumerator_rates(flags: pd.DataFrame, enum: pd.Series, check: str, wave: str, params: Params
                          ) -> pd.DataFrame:
    """Share of True in ``flags`` (columns = measures, NaN = not asked) per enumerator, robust outliers flagged."""
    rows = []
    for measure in flags.columns:
        f = flags[measure]
        num = f.fillna(0.0).astype(float).groupby(enum).sum()
        den = f.notna().astype(float).groupby(enum).sum()
        rate = (num / den.where(den > 0)).round(4)
        z = modified_z(rate)
        for e in rate.index:
            small = den[e] < params.min_cell_size
            rows.append({"enumerator": e, "measure": measure, "value": rate[e], "n": int(den[e]),
                         "flag": "outlier" if abs(z[e]) > params.fieldwork.outlier_z else "",
                         "note": (f"modified z = {z[e]:.1f}" if pd.notna(z[e]) else "")
                         + ("; few answers: read with care" if small else "")})
    return _rows(check, wave, pd.DataFrame(rows))


def consent_and_missing(wd: WaveData, params: Params, codebook: object) -> pd.DataFrame:
    """Consent refusals and don't-know / refused rates per enumerator and per question, "other" shares.

    Returns
    -------
    pandas.DataFrame
        Checks ``consent`` (measure ``refusal_rate`` per enumerator),
        ``dont_know_refused`` (``dont_know_rate``, ``refused_rate`` per
        enumerator over every answer to a question that offers a don't-know
        or refused choice, and per such question with enumerator ``all``) and ``other_specify`` (share of answers that are
        "other" per question that offers it).
    """
    df, c, cl = wd.answers, params.columns, params.cleaning
    enum = enumerators(df, params)
    refused_consent = (df[c.consent] != c.consent_yes).fillna(True).astype(float)
    parts = [_per_enumerator_rates(pd.DataFrame({"refusal_rate": refused_consent}), enum, "consent", wd.wave, params)]
    consented = (df[c.consent] == c.consent_yes).fillna(False).to_numpy(dtype=bool)
    selects = [q for q, qq in codebook.questions.items()
               if q in df and qq.type in ("select_one", "select_multiple") and q not in (c.consent, c.group)]
    dk_set, ref_set = set(cl.dont_know), set(cl.refused)
    dk, ref, per_q = {}, {}, []
    for q in selects:
        words = df[q].astype(object).where(df[q].notna())[consented]
        answered = words.notna()
        if not answered.any():
            continue
        mentions = {v: set(str(v).split()) for v in pd.unique(words[answered])}  # each distinct answer once
        given = words[answered]
        n = int(answered.sum())
        if set(codebook.choice_names(q)) & (dk_set | ref_set):  # only questions that offer the choice
            is_dk = given.map({v: bool(m & dk_set) for v, m in mentions.items()}).astype(bool)
            is_ref = given.map({v: bool(m & ref_set) for v, m in mentions.items()}).astype(bool)
            dk[q], ref[q] = is_dk.reindex(words.index), is_ref.reindex(words.index)
            for measure, hits in (("dont_know_rate", is_dk), ("refused_rate", is_ref)):
                per_q.append({"check": "dont_know_refused", "enumerator": "all", "question": q, "measure": measure,
                              "value": round(float(hits.mean()), 4), "n": n})
        if OTHER in codebook.choice_names(q):
            is_other = given.map({v: OTHER in m for v, m in mentions.items()}).astype(bool)
            per_q.append({"check": "other_specify", "enumerator": "all", "question": q, "measure": "other_share",
                          "value": round(float(is_other.mean()), 4), "n": n})
    if dk:
        stacked = {"dont_know_rate": pd.DataFrame(dk).stack(), "refused_rate": pd.DataFrame(ref).stack()}
        e = enum[consented]
        long_enum = pd.Series(e.reindex(stacked["dont_know_rate"].index.get_level_values(0)).to_numpy())
        flags = pd.DataFrame({k: v.astype(float).to_numpy() for k, v in stacked.items()})
        parts.append(_per_enumerator_rates(flags, long_enum, "dont_know_refused", wd.wave, params))
    q = pd.DataFrame(per_q)
    if not q.empty:
        parts += [_rows(ch, wd.wave, part) for ch, part in q.groupby("check", sort=False)]
    return pd.concat(parts, ignore_index=True)


def form_versions(wd: WaveData, params: Params) -> pd.DataFrame:
    """Form versions (Kobo ``__version__``) in use: submissions, first and last day, enumerators.

    A version still used after a later version first appeared is flagged
    ``older version in use``: some tablets were not updated.
    """
    from evalkit.codebook import as_text

    df = wd.answers
    if "__version__" not in df:
        return _rows("form_version", wd.wave, pd.DataFrame([{"measure": "submissions", "note": "no __version__ "
                                                               "column in this export: not checked"}]))
    t = pd.DataFrame({"version": as_text(df["__version__"]).fillna("(empty)"), "day": df[DAY],
                      "enumerator": enumerators(df, params)})
    g = t.groupby("version", sort=False)
    s = pd.DataFrame({"n": g.size(), "first": g["day"].min(), "last": g["day"].max(),
                      "enumerators": g["enumerator"].nunique()}).sort_values(["first", "n"], kind="stable")
    newest_start = s["first"].max()
    rows = [{"question": v, "measure": "submissions", "value": int(r["n"]), "n": int(r["n"]),
             "day": f"{r['first']:%Y-%m-%d} to {r['last']:%Y-%m-%d}",
             "flag": "older version in use" if r["first"] < newest_start and r["last"] >= newest_start else "",
             "note": f"{int(r['enumerators'])} enumerator(s)"} for v, r in s.iterrows()]
    return _rows("form_version", wd.wave, pd.DataFrame(rows))


_BOUND = re.compile(r"^\s*\.\s*(>=|<=|>|<|!=|=)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_constraint(text: str) -> list[tuple[str, float]] | None:
    """Numeric bounds of an XLSForm constraint such as ``. >= 18 and . <= 99`` (None when not of that form)."""
    if not text.strip():
        return []
    parts = re.split(r"\s+and\s+", text.strip())
    out = []
    for p in parts:
        m = _BOUND.match(p.strip("() "))
        if not m:
            return None
        out.append((m.group(1), float(m.group(2))))
    return out


_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "!=": np.not_equal,
        "=": np.equal}


def outside_lists_and_constraints(wd: WaveData, params: Params, codebook: object) -> pd.DataFrame:
    """Answers outside the choice lists, the XLSForm numeric constraints and params range checks.

    One row per question and problem (``measure`` ``not_in_choice_list``,
    ``not_a_number``, ``outside_constraint`` or ``outside_range_check``) with the count in
    ``value``, the export rows in ``note``; a constraint that is not a simple
    numeric bound is listed as ``not checked``, never skipped quietly.
    Values are not shown (they may be typed text); rows are.
    """
    from evalkit.codebook import format_rows

    rows = []
    for question, header, _value, where in wd.unknown:
        numeric = codebook.questions[question].type in ("integer", "decimal", "range")
        rows.append({"question": question, "measure": "not_a_number" if numeric else "not_in_choice_list",
                     "value": len(where), "n": len(where), "flag": "fix",
                     "note": f"export row(s) {format_rows(where)}" + (f" (column {header})" if header != question
                                                                      else "")})
    df = wd.answers
    checks = [(q, qq.constraint, "outside_constraint") for q, qq in codebook.questions.items()
              if q in df and qq.constraint]
    checks += [(r.question, f". >= {r.min:g} and . <= {r.max:g}", "outside_range_check")
               for r in params.cleaning.range_checks if r.question in df]
    for q, text, measure in checks:
        bounds = parse_constraint(text)
        if bounds is None:
            rows.append({"question": q, "measure": measure, "flag": "not checked",
                         "note": "constraint is not a simple numeric bound (. >= a and . <= b): check it in Kobo"})
            continue
        x = pd.to_numeric(df[q], errors="coerce").astype(float).to_numpy()
        ok = np.ones(len(x), bool)
        for op, v in bounds:
            ok &= _OPS[op](x, v) | np.isnan(x)
        bad = df.index[~ok]
        rows.append({"question": q, "measure": measure, "value": len(bad), "n": int((~np.isnan(x)).sum()),
                     "flag": "fix" if len(bad) else "", "note": (f"export row(s) {format_rows(bad)}; " if len(bad)
                                                                  else "") + f"rule: {text}"})
    return _rows("answers", wd.wave, pd.DataFrame(rows))


def panel_follow_up(base: WaveData, end: WaveData, params: Params) -> pd.DataFrame:
    """Panel endline: baseline respondents (consented) not yet re-interviewed, by location.

    Small cells (``min_cell_size``) are suppressed with the rule of
    :func:`evalkit.subgroups.suppress` (primary and complementary), so no
    count under the threshold can be read or derived from the total.

    Returns
    -------
    pandas.DataFrame
        Check ``panel_follow_up``; per level of ``fieldwork.follow_up_by``
        and ``all``: measures ``baseline_respondents``, ``not_yet_reinterviewed``
        and ``share_not_yet``; suppressed cells empty with ``suppressed`` in
        ``flag``.
    """
    from evalkit.codebook import as_text
    from evalkit.subgroups import suppress

    c = params.columns
    fw = params.fieldwork
    by = fw.follow_up_by or ("location" if "location" in params.demographics else None)

    def ids(wd: WaveData) -> pd.Series:
        d = wd.answers
        ok = (d[c.consent] == c.consent_yes).fillna(False).to_numpy(dtype=bool)
        r = as_text(d[c.respondent_id]).str.strip()[ok] if c.respondent_id in d else pd.Series(dtype="str")
        return r[r.notna() & (r != "")]

    b, e = ids(base), ids(end)
    level = (as_text(base.answers[params.demographics[by]]).reindex(b.index).fillna("missing")
             if by and params.demographics[by] in base.answers else pd.Series("all", index=b.index))
    t = pd.DataFrame({"id": b.to_numpy(), "level": level.to_numpy()}).drop_duplicates("id", keep="last")
    t["missing"] = ~t["id"].isin(set(e))
    g = t.groupby("level", sort=True)
    n_base, n_miss = g.size(), g["missing"].sum()
    primary, comp = suppress(n_base.to_numpy(), n_miss.to_numpy(), min_cell_size=params.min_cell_size)
    hidden = primary | comp if len(n_base) > 1 else primary
    rows = []
    for (lv, nb, nm), h in zip(zip(n_base.index, n_base, n_miss), hidden):
        rows += [{"level": lv, "measure": m, "value": None if h else v, "n": None if h else int(nb),
                  "flag": "suppressed" if h else "", "note": f"fewer than {params.min_cell_size}, or derivable"
                  if h else ""} for m, v in (("baseline_respondents", int(nb)), ("not_yet_reinterviewed", int(nm)),
                                             ("share_not_yet", round(nm / nb, 4)))]
    nb, nm = len(t), int(t["missing"].sum())
    rows += [{"level": "all", "measure": m, "value": v, "n": nb} for m, v in
             (("baseline_respondents", nb), ("not_yet_reinterviewed", nm), ("share_not_yet", round(nm / nb, 4)
                                                                             if nb else None))]
    return _rows("panel_follow_up", "endline", pd.DataFrame(rows).assign(question=by or ""))


@dataclass(frozen=True)
class FieldworkResult:
    """Every check of a campaign stage's exports so far.

    Attributes
    ----------
    table : pandas.DataFrame
        ``fieldwork.csv``: :data:`FIELDWORK_COLUMNS`.
    waves : list of WaveData
        The waves read (a wave whose export does not exist yet is absent).
    missing_waves : list of str
    """

    table: pd.DataFrame
    waves: list[WaveData]
    missing_waves: list[str]


def run_checks(params: Params) -> FieldworkResult:
    """Run every fieldwork check on the exports that exist so far.

    A correction or duplicate resolution whose ``_uuid`` no export has is an
    error when every wave is exported (as in cleaning), else a row of check
    ``decisions`` flagged ``not found yet``.

    Raises
    ------
    RawDataError
        No export exists yet, or an export cannot be read (as in cleaning).
    """
    from evalkit.corrections import check_all_found, load_decisions, not_found
    from evalkit.readers import read_codebook

    codebook = read_codebook(params.raw_path(params.raw.codebook, what="raw.codebook"))
    decisions = load_decisions(params)
    waves, missing = [], []
    for wave in WAVES:
        wd = load_wave(params, wave, codebook, decisions)
        (waves.append(wd) if wd is not None else missing.append(wave))
    if not waves:
        raise RawDataError(f"No export of {params.campaign} exists yet (expected "
                           f"{params.raw.baseline.file} or {params.raw.endline.file} in data/raw/{params.campaign}/).")
    found = set().union(*(w.found_uuids for w in waves))
    parts = []
    if not missing:
        check_all_found(decisions, found)  # as the cleaning step: a _uuid in no export is an error
    else:  # the submission may be in the wave not exported yet: listed, not an error
        rows = [{"question": name, "submission": u, "measure": "file_row", "value": frow, "flag": "not found yet",
                 "note": f"no export read so far has this _uuid (not exported yet: {', '.join(missing)})"}
                for name, frow, u in not_found(decisions, found)]
        if rows:
            parts.append(_rows("decisions", "", pd.DataFrame(rows)))
    for wd in waves:
        kept = {u: int(r) for r, u in decisions.duplicates["_uuid"].items()}
        parts += [submissions_per_day(wd, params), durations(wd, params), duplicates(wd, params, kept=kept),
                  consent_and_missing(wd, params, codebook), form_versions(wd, params),
                  outside_lists_and_constraints(wd, params, codebook)]
    if params.design == "paired" and len(waves) == 2:
        parts.append(panel_follow_up(waves[0], waves[1], params))
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    return FieldworkResult(table[FIELDWORK_COLUMNS], waves, missing)
