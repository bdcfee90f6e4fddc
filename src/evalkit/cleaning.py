"""Cleaning rules and the cleaning log: raw exports -> ``data/processed/<campaign>/``.

The checks are those field-survey teams already trust: IPA's high-frequency
checks (consent, duplicates, duration, don't-know and refusal rates, outliers)
and the World Bank DIME ``ieduplicates`` (duplicates resolved by a stated
rule). Each rule is a small function that takes one wave's answers and returns
the rows it keeps plus one :class:`LogEntry`; :func:`clean_wave` chains them,
so for every wave the log reads as an account of every raw row:

    rows_in (first rule) = raw rows;  rows_in = previous rows_out;
    rows_out = rows_in - rows_dropped;  rows_out (last rule) = rows in
    responses.parquet for that wave.

Rules, in order: ``read``, then the fieldwork team's decisions
(:mod:`evalkit.corrections`: one ``correction`` and one ``other_recode`` row
per applied line, dropping nothing), ``duplicate_submission`` (same ``_uuid``),
``test_submission`` (test enumerators, or started before fieldwork),
``consent``, ``short_interview``, ``missing_respondent_id``,
``duplicate_resolution`` (one row per line of the team's ``duplicates.csv``
for this wave, if any), ``duplicate_respondent`` (keep rule from params, for
the rest), ``unknown_group``, one
``range:<question>`` per range check, one ``consistency:<name>`` per
consistency check, then two rows that drop nothing: ``dont_know_refused``
(how many answers became missing, with the reason kept) and ``deidentify``
(columns dropped, pseudonym key used). Don't-know and refusal rates per
indicator are a separate table (:func:`evalkit.indicators.missing_rates`)
shown in the clean notebook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from evalkit import failpoints, paths
from evalkit.atomic import write_csv_atomic, write_with
from evalkit.errors import ConfigError, RawDataError, format_problems
from evalkit.indicator_spec import (negative_policy_text, numeric_codes_text, numeric_missing_codes,
                                   required_questions)
from evalkit.params import WAVES, ConsistencyCheck, Params, RangeCheck
from evalkit.relevance import RELEVANT, add_relevance

if TYPE_CHECKING:
    from evalkit.corrections import Decisions

#: Columns of ``cleaning_log.csv``.
LOG_COLUMNS = ["step", "rule", "wave", "rows_in", "rows_dropped", "rows_out", "reason"]
#: Columns of ``raw_files.csv``.
RAW_FILE_COLUMNS = ["file", "sha256", "bytes", "rows", "encoding"]
#: Columns of ``panel.csv``.
PANEL_COLUMNS = ["matched", "baseline_only", "endline_only"]
#: Internal columns added by :func:`add_times` (never written): start, end and
#: submission time in UTC (naive ``datetime64``) and the local interview day.
_START, _END, _SUBMITTED, DAY = "__start_utc", "__end_utc", "__submitted", "__day"


def _per_value(series: pd.Series, func: object, *, na: bool) -> np.ndarray:
    """Apply a vectorised text test once per distinct value (categoricals) or per row.

    ``func`` maps a Series of text to booleans; missing values give ``na``.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = pd.Series(series.cat.categories.astype("str"))
        table = np.append(np.asarray(func(cats).fillna(na), dtype=bool), na)
        return table[series.cat.codes.to_numpy()]
    text = series.astype("str")
    return np.where(text.isna().to_numpy(), na, np.asarray(func(text).fillna(na), dtype=bool))


class LogEntry(NamedTuple):
    """One row of the cleaning log (``step`` and ``wave`` are added by :func:`clean_wave`)."""

    rule: str
    rows_in: int
    rows_dropped: int
    rows_out: int
    reason: str


class RuleResult(NamedTuple):
    """What a cleaning rule returns: the rows it keeps and its log entry."""

    kept: pd.DataFrame
    log: LogEntry


def _apply(df: pd.DataFrame, drop: np.ndarray | pd.Series, rule: str, reason: str) -> RuleResult:
    drop = np.asarray(drop, dtype=bool)
    kept = df.loc[~drop]
    n_drop = int(drop.sum())
    return RuleResult(kept, LogEntry(rule, len(df), n_drop, len(kept), reason))


def drop_duplicate_submissions(df: pd.DataFrame, *, uuid_column: str = "_uuid") -> RuleResult:
    """Drop exact duplicate submissions (same ``_uuid``), keeping the first.

    Returns
    -------
    RuleResult
        Rule ``duplicate_submission``.

    References
    ----------
    IPA high-frequency checks, "duplicates"; KoboToolbox exports the same
    submission twice when a device re-sends it.
    """
    if uuid_column not in df:
        return _apply(df, np.zeros(len(df), bool), "duplicate_submission", f"no {uuid_column} column: not checked")
    uuid = df[uuid_column]
    drop = uuid.notna() & uuid.duplicated(keep="first")
    return _apply(df, drop, "duplicate_submission",
                  f"same {uuid_column} as an earlier row (the same submission exported twice); first kept")


def drop_test_submissions(df: pd.DataFrame, *, enumerator_column: str, test_enumerators: list[str],
                          fieldwork_start: dt.date) -> RuleResult:
    """Drop test submissions: a test enumerator, or started before fieldwork.

    Returns
    -------
    RuleResult
        Rule ``test_submission``.
    """
    tests = {t.strip().casefold() for t in test_enumerators}
    is_test = np.zeros(len(df), bool)
    ran = enumerator_column in df
    if ran:
        is_test |= _per_value(df[enumerator_column], lambda t: t.str.strip().str.casefold().isin(tests), na=False)
    day = df[DAY] if DAY in df else local_day(df["start"])
    early = (day < pd.Timestamp(fieldwork_start)).to_numpy()
    if not test_enumerators:
        who = "no test enumerators listed"
    elif ran:
        who = f"{enumerator_column} is one of {', '.join(test_enumerators)} (ignoring case and spaces)"
    else:  # never claim a rule ran that could not (issue 13)
        who = (f"test-enumerator rule NOT APPLIED: the column {enumerator_column!r} (params columns.enumerator) "
               f"is not in this export, so interviews by {', '.join(test_enumerators)} could not be found")
    return _apply(df, is_test | early, "test_submission",
                  f"{who}; or started before fieldwork began on {fieldwork_start.isoformat()}")


def drop_refused_consent(df: pd.DataFrame, *, consent: str, consent_yes: str) -> RuleResult:
    """Keep only interviews whose consent answer is ``consent_yes``.

    Returns
    -------
    RuleResult
        Rule ``consent``; a missing consent answer counts as not given.
    """
    drop = (df[consent] != consent_yes).fillna(True)
    return _apply(df, drop, "consent", f"{consent} is not {consent_yes!r} (refused or missing)")


def interview_minutes(df: pd.DataFrame) -> pd.Series:
    """Interview length ``end - start`` in minutes (NaN without both times), from :func:`add_times` columns."""
    return (df[_END] - df[_START]).dt.total_seconds() / 60


def drop_short_interviews(df: pd.DataFrame, *, min_minutes: float) -> RuleResult:
    """Drop interviews shorter than ``min_minutes`` (``end - start``) or without times.

    Returns
    -------
    RuleResult
        Rule ``short_interview``.
    """
    minutes = interview_minutes(df)
    drop = ~(minutes >= min_minutes).fillna(False).to_numpy(dtype=bool)  # missing times: dropped
    return _apply(df, drop, "short_interview",
                  f"interview shorter than {min_minutes:g} minutes (end - start), or start/end missing")


def drop_missing_ids(df: pd.DataFrame, *, id_column: str) -> RuleResult:
    """Drop rows without a respondent id (they cannot be de-duplicated or matched)."""
    drop = _per_value(df[id_column], lambda t: t.str.strip() == "", na=True)
    return _apply(df, drop, "missing_respondent_id", f"{id_column} is empty")


def drop_duplicate_respondents(df: pd.DataFrame, *, id_column: str, keep: str,
                               required: dict[str, list[str]], group_column: str,
                               unknown_relevance: tuple[str, ...] = ()) -> RuleResult:
    """Keep one interview per respondent id, by the rule stated in params.

    Parameters
    ----------
    df : pandas.DataFrame
    id_column : str, keyword-only
    keep : {"latest_complete", "latest", "first"}, keyword-only
        ``latest_complete``: the latest interview among those that answered
        every indicator question asked of the respondent's group (the latest
        of all if none is complete); ``latest``: the latest by ``end``;
        ``first``: the earliest by ``start``.
    required : dict, keyword-only
        Indicator question -> groups it is asked of (defines "complete").
        Where ``df`` has a column ``__relevant:<question>`` (from
        :func:`add_relevance`), only rows where it is True need an answer.
    group_column : str, keyword-only
    unknown_relevance : tuple of str, keyword-only
        Relevance expressions that could not be evaluated, named in the log.

    Returns
    -------
    RuleResult
        Rule ``duplicate_respondent``.

    References
    ----------
    World Bank DIME Analytics, ``ieduplicates`` (documented resolution of
    duplicates).
    """
    ids = df[id_column]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        stripped = pd.Series(ids.cat.categories.astype("str")).str.strip()
        id_codes = np.append(pd.factorize(stripped)[0], -1)[ids.cat.codes.to_numpy()]
    else:
        id_codes = pd.factorize(ids.astype("str").str.strip())[0]
    complete = np.ones(len(df), bool)
    if keep == "latest_complete":
        for question, groups in required.items():
            if question in df:
                asked = df[group_column].isin(groups).to_numpy()
                if RELEVANT + question in df:  # skipped by the form's relevance: not needed to be complete
                    asked = asked & df[RELEVANT + question].to_numpy(dtype=bool)
                complete &= ~(asked & df[question].isna().to_numpy())
    order = pd.DataFrame({"id": id_codes, "complete": complete, "end": df[_END].to_numpy(),
                          "start": df[_START].to_numpy(), "sub": df[_SUBMITTED].to_numpy(),
                          "pos": np.arange(len(df))})
    if keep == "first":
        order = order.sort_values(["id", "start", "sub", "pos"], na_position="last", kind="stable")
        kept_pos = order.drop_duplicates("id", keep="first")["pos"].to_numpy()
    else:
        by = ["id", "complete", "end", "sub", "pos"] if keep == "latest_complete" else ["id", "end", "sub", "pos"]
        order = order.sort_values(by, na_position="first", kind="stable")
        kept_pos = order.drop_duplicates("id", keep="last")["pos"].to_numpy()
    drop = np.ones(len(df), bool)
    drop[kept_pos] = False
    text = {"latest_complete": "the latest complete interview kept (complete: every indicator question the "
                               "form's relevance asked is answered)",
            "latest": "the latest interview kept", "first": "the first interview kept"}[keep]
    if keep == "latest_complete" and unknown_relevance:
        text += "; relevance NOT APPLIED (treated as always asked) for " + "; ".join(unknown_relevance)
    return _apply(df, drop, "duplicate_respondent", f"{id_column} interviewed more than once in the wave; {text} "
                  f"(params cleaning.duplicate_respondent_keep: {keep})")


def drop_unknown_groups(df: pd.DataFrame, *, group_column: str, groups: list[str]) -> RuleResult:
    """Drop respondents whose group is missing or not one of the params ``groups``."""
    drop = ~df[group_column].isin(groups).fillna(False)
    return _apply(df, drop, "unknown_group", f"{group_column} is empty or not one of: {', '.join(groups)}")


def drop_out_of_range(df: pd.DataFrame, check: RangeCheck, *, missing_codes: tuple[float, ...] = ()) -> RuleResult:
    """Drop rows whose numeric answer lies outside ``[min, max]`` (missing is kept).

    ``missing_codes`` (a numeric indicator's don't-know / refused codes, e.g.
    98) are not out of range: they become missing with their reason.
    """
    values = pd.to_numeric(df[check.question], errors="coerce")
    drop = ((values < check.min) | (values > check.max)).fillna(False) & ~values.isin(missing_codes)
    codes = f" (don't know / refused codes {', '.join(f'{c:g}' for c in missing_codes)} kept)" if missing_codes else ""
    return _apply(df, drop, f"range:{check.question}",
                  f"{check.question} outside {check.min:g}-{check.max:g}{codes}")


def drop_inconsistent(df: pd.DataFrame, check: ConsistencyCheck) -> RuleResult:
    """Drop rows where ``if_question == if_value`` but ``then_question`` is not in ``then_values``.

    An empty ``then_question`` also counts as inconsistent (the answer that
    would confirm ``if_value`` is missing), as params' ``ConsistencyCheck``
    states.
    """
    cond = (df[check.if_question] == check.if_value).fillna(False)
    ok = df[check.then_question].isin(check.then_values).fillna(False)
    return _apply(df, cond & ~ok, f"consistency:{check.name}",
                  f"{check.if_question} is {check.if_value!r} but {check.then_question} is not "
                  f"{' or '.join(repr(v) for v in check.then_values)}")


# --------------------------------------------------------------------------- one wave, one campaign


@dataclass(frozen=True)
class WaveResult:
    """One cleaned wave.

    Attributes
    ----------
    wave : str
    answers : pandas.DataFrame
        Kept rows, harmonised (codebook names, choice names), not yet
        de-identified: never written to disk.
    log : list of LogEntry
        From ``read`` to the last consistency rule.
    raw_file : dict
        ``file, sha256, bytes, rows, encoding`` of the export.
    pii_columns : dict
        Export header -> PII kind, as detected (all are left out of the output).
    found_uuids : frozenset of str
        The ``_uuid`` values of the team's decision files found in this export.
    """

    wave: str
    answers: pd.DataFrame
    log: list[LogEntry]
    raw_file: dict
    pii_columns: dict[str, str]
    found_uuids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CleanResult:
    """A cleaned campaign stage, ready for :func:`write_processed`.

    Attributes
    ----------
    campaign : str
    responses : pandas.DataFrame
        The ``responses.parquet`` table (both waves).
    log : pandas.DataFrame
        ``cleaning_log.csv``: ``step, rule, wave, rows_in, rows_dropped,
        rows_out, reason``.
    raw_files : pandas.DataFrame
        ``raw_files.csv``: ``file, sha256, bytes, rows, encoding``.
    panel : pandas.DataFrame or None
        ``panel.csv`` (paired design): ``matched, baseline_only,
        endline_only``; None for independent samples.
    missing_rates : pandas.DataFrame
        Don't-know / refusal rates (see :func:`evalkit.indicators.missing_rates`).
    pii_columns : pandas.DataFrame
        ``wave, column, kind``: identifying or free-text columns left out.
    reach : pandas.DataFrame or None
        The typed reach export, if params name one.
    key_source : str
        ``env``, ``file`` or ``demo`` (see :mod:`evalkit.deid`).
    """

    campaign: str
    responses: pd.DataFrame
    log: pd.DataFrame
    raw_files: pd.DataFrame
    panel: pd.DataFrame | None
    missing_rates: pd.DataFrame
    pii_columns: pd.DataFrame
    reach: pd.DataFrame | None
    key_source: str


def local_day(start: pd.Series) -> pd.Series:
    """The interview day as written in the local time of ``start`` (``datetime64``, midnight)."""
    return pd.to_datetime(start.astype("str").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")


def _parse_times(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(UTC time, local day) of ISO 8601 text; one parse when every offset is the same."""
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed UTC offsets
        parsed = None
    if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed.dtype):
        if getattr(parsed.dt, "tz", None) is not None:
            return (parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]"),
                    parsed.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]"))
        return parsed.astype("datetime64[ns]"), parsed.dt.normalize().astype("datetime64[ns]")
    utc = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return utc.dt.tz_localize(None).astype("datetime64[ns]"), local_day(text).astype("datetime64[ns]")


def add_times(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """Parse ``start``, ``end`` and ``_submission_time`` once, vectorised.

    Parameters
    ----------
    df : pandas.DataFrame
        Harmonised answers; not modified.
    file : str
        For error messages.

    Returns
    -------
    pandas.DataFrame
        A copy with internal columns ``__start_utc``, ``__end_utc``,
        ``__submitted`` (naive UTC ``datetime64``) and ``__day`` (the local
        day of ``start``).

    Raises
    ------
    RawDataError
        ``start``/``end`` missing, or times that are not ISO 8601, listing
        the rows.
    """
    from evalkit.codebook import format_rows

    problems = []
    out = {}
    for col, name in (("start", _START), ("end", _END), ("_submission_time", _SUBMITTED)):
        if col not in df:
            if col != "_submission_time":
                problems.append(f"column {col!r} is missing; Kobo/ODK exports have it (the interview "
                                f"{'start' if col == 'start' else 'end'} time)")
            out[name] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
            continue
        text = df[col].astype("str").str.strip()
        utc, day = _parse_times(text)
        bad = utc.isna() & text.notna() & (text != "")
        if bad.any():
            examples = ", ".join(repr(v) for v in text[bad].unique()[:3])
            problems.append(f"column {col!r} has times that are not ISO 8601 (such as {examples}) in row(s) "
                            f"{format_rows(df.index[bad])}; expected e.g. 2022-01-17T10:03:21.000+08:00")
        out[name] = utc
        if col == "start":
            out[DAY] = day
    if problems:
        raise RawDataError(format_problems(f"The export {file} has {len(problems)} problem(s) with interview "
                                           f"times (rows are spreadsheet rows):", problems))
    # The parsed times replace the text ones: cheaper to filter, one meaning.
    return df.drop(columns=[c for c in ("start", "end", "_submission_time") if c in df]).assign(**out)


def check_params_against_codebook(params: Params, codebook: object | None = None) -> None:
    """Check every question, choice and indicator the params name against the XLSForm, before any export is read.

    Parameters
    ----------
    params : Params
    codebook : Codebook, optional
        Read from ``raw.codebook`` when not given.

    Raises
    ------
    ConfigError
        Listing every problem at once (unknown questions and choices, an
        indicator kind that does not fit its question's type, derived
        variables that do not fit, identifying demographics).
    """
    if codebook is None:
        from evalkit.readers import read_codebook

        codebook = read_codebook(params.raw_path(params.raw.codebook, what="raw.codebook"))
    from evalkit.deid import detect_pii_columns

    questions = codebook.questions
    problems = []
    c = params.columns
    needed = {"columns.respondent_id": c.respondent_id, "columns.group": c.group, "columns.consent": c.consent}
    needed.update({f"demographics.{k}": v for k, v in params.demographics.items()})
    needed.update({f"cleaning.range_checks[{i}].question": r.question
                   for i, r in enumerate(params.cleaning.range_checks)})
    for i, k in enumerate(params.cleaning.consistency_checks):
        needed[f"cleaning.consistency_checks[{i}].if_question"] = k.if_question
        needed[f"cleaning.consistency_checks[{i}].then_question"] = k.then_question
    if c.weight:
        needed["columns.weight"] = c.weight
    from evalkit.derived import derived_problems
    derived = {d.name: d.values() for d in params.derived}
    problems.extend(derived_problems(params.derived, codebook))
    needed.update({k: q for k, q in params.sampling.questions(enumerator=c.enumerator).items() if q != c.enumerator})
    for key, question in needed.items():
        if question not in questions and question not in derived:
            problems.append(f"key '{key}': {question!r} is not a question in the codebook {codebook.path.name}")
    from evalkit.indicator_spec import codebook_problems
    problems.extend(codebook_problems(params.indicators, codebook,  # questions, types, choices (issue 13)
                                      missing_choices=(*params.cleaning.dont_know, *params.cleaning.refused),
                                      derived=derived))
    pii = detect_pii_columns(params.demographics.values(), codebook)
    for k, v in params.demographics.items():
        if pii.get(v) not in (None, "free_text") or (v in questions and questions[v].type == "text"):
            problems.append(f"key 'demographics.{k}': {v!r} looks like a direct identifier or free text "
                            f"({pii.get(v, 'free_text')}); it must not reach processed data. Remove it")
    if problems:
        raise ConfigError(format_problems(
            f"The params of {params.campaign} do not match the codebook {codebook.path}; fix params/"
            f"{params.campaign}.yaml:", problems))


def _pii_report(raw_headers: pd.Index, columns: pd.Index, params: Params, codebook: object, *, wave_file: object,
                renames: dict) -> dict[str, str]:
    """Identifying / free-text columns of a wave, by codebook name (structural columns excluded)."""
    from evalkit.codebook import match_headers
    from evalkit.deid import detect_pii_columns

    by_raw = detect_pii_columns(raw_headers)
    pii = {}
    for m in match_headers(list(raw_headers), codebook, wave_file=wave_file, renames=renames):
        if m.kind == "dummy":
            continue
        kind = detect_pii_columns([m.target], codebook).get(m.target) or by_raw.get(m.header)
        if kind:
            pii[m.target] = kind
    configured = {params.columns.respondent_id, params.columns.group, params.columns.consent,
                  *params.demographics.values(), *(q for i in params.indicators for q in i.questions),
                  *params.sampling.questions(enumerator=params.columns.enumerator).values()}
    return {k: v for k, v in pii.items() if k not in configured}


def _personal_by_values(frame: pd.DataFrame, params: Params, codebook: object, *, wave_file: object,
                        renames: dict, file: str, refuse: bool = True) -> dict[str, tuple[str, str]]:
    """Export columns whose values look personal: header -> (codebook name, kind) (issue 17).

    Whatever a column's header, label or type, answers that look like person
    names, phone numbers, e-mails, register numbers, school names or ids make
    it personal (:func:`evalkit.deid.personal_kind_of_values`). Kobo/ODK
    metadata and the respondent id (pseudonymised anyway) are not tested. A
    demographic whose values look personal is refused, naming the column and
    the kind but no value.

    Raises
    ------
    ConfigError
        A demographic holds personal data.
    """
    from evalkit.codebook import match_headers
    from evalkit.deid import detect_pii_values

    targets = {m.header: m.target for m in match_headers(list(frame.columns), codebook, wave_file=wave_file,
                                                         renames=renames) if m.kind not in ("metadata", "ignored")}
    skip = [h for h in frame.columns if targets.get(h) in (None, params.columns.respondent_id)]
    found = {h: (targets[h], kind) for h, kind in detect_pii_values(frame, skip=skip).items()}
    demographics = {q: k for k, q in params.demographics.items()}
    problems = [f"key 'demographics.{demographics[t]}': the answers in column {h!r} look like {kind} data "
                f"(personal), whatever the column is called; remove it from demographics"
                for h, (t, kind) in found.items() if t in demographics]
    if problems and refuse:
        raise ConfigError(format_problems(f"A demographic of {params.campaign} holds personal data ({file}); fix "
                                          f"params/{params.campaign}.yaml:", problems))
    return found


def personal_headers(frame: pd.DataFrame, params: Params, codebook: object, *, wave_file: object,
                     renames: dict) -> set[str]:
    """Export headers whose values must never be shown: personal by name, label, type or values.

    For :func:`evalkit.codebook.harmonise` ``personal=`` (cleaning and the
    fieldwork checks alike).
    """
    by_values = _personal_by_values(frame, params, codebook, wave_file=wave_file, renames=renames, file="",
                                    refuse=False)
    return set(by_values) | _personal_by_name(frame.columns, codebook, wave_file=wave_file, renames=renames)


def _personal_by_name(headers: pd.Index, codebook: object, *, wave_file: object, renames: dict) -> set[str]:
    """Export headers of questions personal by name, label or type (free text aside): never echoed."""
    from evalkit.codebook import match_headers
    from evalkit.deid import detect_pii_columns

    targets = {m.header: m.target for m in match_headers(list(headers), codebook, wave_file=wave_file,
                                                         renames=renames) if m.kind == "question"}
    kinds = detect_pii_columns(list(targets.values()), codebook)
    return {h for h, t in targets.items() if kinds.get(t) not in (None, "free_text")}


def column_plan(params: Params, codebook: object, wave_file: object, renames: dict, file: str, wave: str, *,
                 seen: list[str], extra: set[str] = frozenset()) -> Callable[[list[str]], tuple[set[str], set[str]]]:
    """Which export columns to read, and which to read dictionary-encoded.

    Kept: every select question (all are checked against the codebook), the
    columns cleaning and the output need, and the columns PII detection
    reports on. Left out: identifiers and free text that are not needed,
    GPS, unused metadata. Select answers and low-cardinality metadata are
    dictionary-encoded. ``seen`` receives the full header row; ``extra``
    names questions the team's decision files read (corrected questions,
    "other" texts).
    """
    from evalkit.codebook import match_headers

    c, cl = params.columns, params.cleaning
    needed = {c.respondent_id, c.group, c.consent, c.enumerator, *params.demographics.values(),
              *(i.question for i in params.indicators), *(r.question for r in cl.range_checks),
              *(q for k in cl.consistency_checks for q in (k.if_question, k.then_question))}
    if c.weight:
        needed.add(c.weight)
    needed |= {d.question for d in params.derived}
    needed |= set(params.sampling.questions(enumerator=c.enumerator).values())
    if cl.free_text == "keep_scrubbed":
        needed |= {n for n, q in codebook.questions.items() if q.type == "text"}
    meta_needed = {"start", "end", "_submission_time", "_uuid", c.enumerator, *extra}
    from evalkit.deid import detect_pii_columns

    # Identifying questions nothing needs are never read, so never validated and never echoed (issue 17).
    personal = {k for k, v in detect_pii_columns(list(codebook.questions), codebook).items()
                if v != "free_text"} - needed
    needed |= set(extra) - personal  # never read an identifier only because a correction names it

    def plan(header: list[str]) -> tuple[set[str], set[str]]:
        seen[:] = header  # the full header, for the PII report
        include, dictionary = set(), set()
        for m in match_headers(header, codebook, wave_file=wave_file, renames=renames, file=file, wave=wave):
            q = codebook.questions.get(m.target)
            if m.target in personal:
                continue
            select = q is not None and q.type in ("select_one", "select_multiple")
            dummy = m.kind == "dummy" and m.target in needed  # 0/1 columns: the answer, or checked against it
            if m.kind == "metadata" and m.target in meta_needed or dummy or m.kind == "question" and (
                    select or m.target in needed or q.type in ("integer", "decimal", "range")):
                include.add(m.header)
                if select or dummy or m.target == c.enumerator:  # few distinct values (not ids, uuids)
                    dictionary.add(m.header)
        return include, dictionary

    return plan


def left_out_columns(header: list[str], read: set[str], codebook: object, *, wave_file: object,
                     renames: dict) -> str:
    """One cleaning-log sentence counting the export columns left out, by kind ("" if none).

    Parameters
    ----------
    header : list of str
        The export's full header row.
    read : set of str
        The headers actually read (the column plan's choice).
    codebook : Codebook
    wave_file : WaveFile, keyword-only
    renames : dict, keyword-only

    Returns
    -------
    str
        E.g. ``"12 export columns left out: 4 Kobo/ODK metadata, 2 notes, 4
        GPS parts, 2 questions the analysis does not use"``.
    """
    from evalkit.codebook import match_headers

    kinds = {"metadata": "Kobo/ODK metadata", "note": "notes", "gps part": "GPS parts",
             "repeat": "repeat-group questions", "params ignore": "listed in params ignore",
             "question": "questions the analysis does not use", "dummy": "select_multiple 0/1 columns"}
    counts: dict[str, int] = {}
    for m in match_headers(header, codebook, wave_file=wave_file, renames=renames):
        if m.kind == "ignored" or m.header not in read:
            key = m.reason if m.kind == "ignored" else m.kind
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return ""
    parts = ", ".join(f"{n} {kinds.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: list(kinds).index(kv[0])
                                                                    if kv[0] in kinds else 99))
    return f"{sum(counts.values())} export columns left out: {parts}"


def harmonise_group_values(df: pd.DataFrame, *, group_column: str, groups: list[str]) -> pd.DataFrame:
    """Group answers that differ from a params group only in case or spaces get that group's name.

    A select group is already mapped to choice names by
    :func:`evalkit.codebook.harmonise`; a ``calculate``/``text`` group
    (``az``, `` AZ ``) is matched here the same way: strip, collapse
    spaces, case-fold. Other values stay and are dropped as ``unknown_group``.
    """
    from evalkit.codebook import normalise_label

    if group_column not in df:
        return df
    col = df[group_column]
    values = col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else pd.Index(col.dropna().unique())
    target = {normalise_label(g): g for g in groups}
    mapping = {v: target[normalise_label(v)] for v in values
               if isinstance(v, str) and normalise_label(v) in target and target[normalise_label(v)] != v}
    if not mapping:
        return df
    mapped = col.astype("object").map(lambda v: mapping.get(v, v))  # missing stays missing
    return df.assign(**{group_column: mapped.astype("category" if isinstance(col.dtype, pd.CategoricalDtype)
                                                    else col.dtype)})


def _as_category(values: pd.Series) -> pd.Series:
    """Text as ``category`` without sorting the categories (cheap for a million ids)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    categories = pd.Index(np.asarray(uniques, dtype=object))  # distinct by construction: no validation needed
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories, validate=False), index=values.index)


def _needed_columns(df: pd.DataFrame, params: Params, codebook: object) -> pd.DataFrame:
    """Only the columns cleaning and the processed table use; text ids/enumerators as categories.

    Everything else (names, phones, GPS, unused questions) is left behind
    here, so it can never reach an output, and filtering rows stays cheap.
    """
    c, cl = params.columns, params.cleaning
    keep = ["start", "end", "_submission_time", "_uuid", c.enumerator, c.respondent_id, c.group, c.consent,
            *params.demographics.values(), *(q for i in params.indicators for q in i.questions),
            *(r.question for r in cl.range_checks),
            *(q for k in cl.consistency_checks for q in (k.if_question, k.then_question))]
    if c.weight:
        keep.append(c.weight)
    keep += list(params.sampling.questions(enumerator=c.enumerator).values())
    if cl.free_text == "keep_scrubbed":
        keep += [n for n, q in codebook.questions.items() if q.type == "text"]
    cols = [k for k in dict.fromkeys(keep) if k in df] + [k for k in df.columns if str(k).startswith(RELEVANT)]
    out = df[cols]
    to_category = {k: _as_category(out[k]) for k in ("_uuid", c.enumerator, c.respondent_id)
                   if k in out and not isinstance(out[k].dtype, pd.CategoricalDtype)}
    return out.assign(**to_category)


def drop_team_duplicates(df: pd.DataFrame, decisions: Decisions, *, id_column: str, in_export: set[str]
                         ) -> list[RuleResult]:
    """Rule ``duplicate_resolution``: one entry per ``duplicates.csv`` row that concerns this wave.

    Runs just before ``duplicate_respondent``, which then finds nothing left
    to decide for the respondents the team resolved (see
    :func:`evalkit.corrections.resolve_duplicates`).
    """
    from evalkit.corrections import resolve_duplicates

    out, rows = [], df.index  # every mask is over the rows entering this rule
    for res in resolve_duplicates(df, decisions, id_column=id_column, in_export=in_export):
        drop = pd.Series(res.drop, index=rows)
        result = _apply(df, drop.loc[df.index].to_numpy(), "duplicate_resolution", res.reason)
        df = result.kept
        out.append(result)
    return out


def clean_wave(params: Params, wave: str, codebook: object, *, decisions: Decisions | None = None) -> WaveResult:
    """Read, harmonise and clean one wave (no de-identification yet).

    Parameters
    ----------
    params : Params
    wave : {"baseline", "endline"}
    codebook : Codebook
        From :func:`evalkit.readers.read_codebook`.
    decisions : Decisions, keyword-only
        The team's corrections, "other" recodes and duplicate resolutions
        (:func:`evalkit.corrections.load_decisions`); corrections and recodes
        are applied before any rule, each one a log line. None: no decisions.

    Returns
    -------
    WaveResult

    Raises
    ------
    RawDataError, CodebookError
        Unreadable file, unknown columns or answers, unreadable times.
    """
    from evalkit.codebook import harmonise
    from evalkit.corrections import apply_corrections, apply_recodes, needed_questions
    from evalkit.readers import load_export

    wf = params.wave_file(wave)
    path = params.raw_path(wf.file, what=f"raw.{wave}.file")
    renames = params.renames.get(wave, {})
    header: list[str] = []
    extra = needed_questions(decisions) if decisions is not None else set()
    raw = load_export(path, wf, plan=column_plan(params, codebook, wf, renames, str(path), wave, seen=header,
                                                   extra=extra))
    if len(raw.frame) == 0:
        raise RawDataError(f"The export {path} has a header row but no submissions (nothing from row 2 on); "
                           f"re-export the {wave} data from Kobo/ODK with its submissions.")
    by_values = _personal_by_values(raw.frame, params, codebook, wave_file=wf, renames=renames, file=str(path))
    df = harmonise(raw.frame, codebook, wave_file=wf, renames=renames, file=str(path), wave=wave,
                   personal=set(by_values) | _personal_by_name(raw.frame.columns, codebook, wave_file=wf,
                                                               renames=renames))
    pii = _pii_report(pd.Index(header), df.columns, params, codebook, wave_file=wf, renames=renames)
    pii.update({t: k for t, k in by_values.values() if pii.get(t, "free_text") == "free_text"})
    derived_names = {d.name for d in params.derived}
    for col in ("start", "end", params.columns.respondent_id, params.columns.group, params.columns.consent):
        if col not in df and col not in derived_names:
            raise RawDataError(f"The export {path} has no column for {col!r}; every wave needs the respondent id, "
                               f"group, consent and start/end times. Check the headers or params renames.{wave}.")
    applied, found = [], set()
    if decisions is not None:  # the team's decisions come before any rule (never written to data/raw)
        df, applied, found = apply_corrections(df, decisions, codebook=codebook, wave_file=wf, file=wf.file)
        df, recoded = apply_recodes(df, decisions, codebook=codebook, file=wf.file)
        applied += recoded
    in_export = decisions.found_in(df) if decisions is not None else set()
    derived_log: list[str] = []
    if params.derived:  # from the corrected answers, before any rule: the group or a check may be derived
        from evalkit.derived import apply_derived
        df, derived_log = apply_derived(df, params.derived)
    df = harmonise_group_values(df, group_column=params.columns.group, groups=list(params.groups))
    unknown_relevance: list[str] = []
    if params.cleaning.duplicate_respondent_keep == "latest_complete":
        df, unknown_relevance = add_relevance(df, list(required_questions(params.indicators)), codebook)
    df = add_times(_needed_columns(df, params, codebook), str(path))
    c, cl = params.columns, params.cleaning
    log = [LogEntry("read", len(df), 0, len(df), f"{wf.file}: {len(df)} submissions read ({raw.encoding})")]
    left_out = left_out_columns(header, set(raw.frame.columns), codebook, wave_file=wf, renames=renames)
    if left_out:
        log.append(LogEntry("columns_left_out", len(df), 0, len(df), left_out))
    if raw.repeats:  # no indicator reads a repeat group yet: say so rather than drop them quietly
        sheets = ", ".join(f"{name} ({len(t)} rows)" for name, t in sorted(raw.repeats.items()))
        log.append(LogEntry("repeat_groups_left_out", len(df), 0, len(df),
                            f"repeat-group tables not used by any indicator, left out: {sheets}"))
    log += [LogEntry(a.rule, len(df), 0, len(df), a.reason) for a in applied]
    log += [LogEntry(f"derived:{d.name}", len(df), 0, len(df), line) for d, line in zip(params.derived, derived_log)]
    rules = [
        lambda d: drop_duplicate_submissions(d),
        lambda d: drop_test_submissions(d, enumerator_column=c.enumerator, test_enumerators=cl.test_enumerators,
                                        fieldwork_start=wf.fieldwork.start),
        lambda d: drop_refused_consent(d, consent=c.consent, consent_yes=c.consent_yes),
        lambda d: drop_short_interviews(d, min_minutes=cl.min_duration_minutes),
        lambda d: drop_missing_ids(d, id_column=c.respondent_id),
        *([lambda d: drop_team_duplicates(d, decisions, id_column=c.respondent_id, in_export=in_export)]
          if decisions is not None and not decisions.duplicates.empty else []),
        lambda d: drop_duplicate_respondents(
            d, id_column=c.respondent_id, keep=cl.duplicate_respondent_keep, group_column=c.group,
            required=required_questions(params.indicators), unknown_relevance=tuple(unknown_relevance)),
        lambda d: drop_unknown_groups(d, group_column=c.group, groups=list(params.groups)),
        *[lambda d, r=r: drop_out_of_range(d, r, missing_codes=numeric_missing_codes(params.indicators, r.question))
          for r in cl.range_checks],
        *[lambda d, k=k: drop_inconsistent(d, k) for k in cl.consistency_checks],
    ]
    for rule in rules:
        results = rule(df)
        for df, entry in results if isinstance(results, list) else [results]:
            log.append(entry)
        if results and len(df) == 0:
            counts = "; ".join(f"{e.rule}: {e.rows_dropped}" for e in log[1:] if e.rows_dropped)
            raise RawDataError(
                f"No submission of {path} is left after cleaning: rule '{entry.rule}' dropped the last "
                f"{entry.rows_dropped} row(s) ({entry.reason}). Rows dropped per rule: {counts}. Check the export "
                f"and the 'cleaning' and 'columns' settings in params/{params.campaign}.yaml.")
    info = {"file": wf.file, "sha256": raw.sha256, "bytes": raw.bytes, "rows": len(raw.frame),
            "encoding": raw.encoding}
    return WaveResult(wave, df, log, info, pii, frozenset(found | in_export))


def _free_text_columns(answers: pd.DataFrame, codebook: object, pii: dict[str, str], params: Params
                       ) -> dict[str, pd.Series]:
    """Scrubbed free-text answers (only for ``cleaning.free_text: keep_scrubbed``).

    Only text questions that are not identifiers (by name) and not a
    structural column (respondent id, enumerator) are kept.
    """
    import re

    from evalkit.deid import detect_pii_columns, scrub_free_text

    skip = {params.columns.respondent_id, params.columns.enumerator}
    out = {}
    for name, q in codebook.questions.items():
        kind = pii.get(name) or detect_pii_columns([name], codebook).get(name, "free_text")
        if q.type == "text" and name in answers and name not in skip and kind == "free_text":
            out["text_" + re.sub(r"\W+", "_", name).strip("_")] = scrub_free_text(answers[name]).reset_index(drop=True)
    return out


def _k_anonymous(responses: pd.DataFrame, params: Params, log_rows: list[dict]) -> tuple[pd.DataFrame, list[dict]]:
    """Statistical disclosure control (:mod:`evalkit.disclosure`); a ``k_anonymity`` log row closes each wave."""
    from evalkit.disclosure import protect_responses

    protected, entries = protect_responses(responses, params)
    rows = list(log_rows)
    for e in entries:
        last = max(i for i, r in enumerate(rows) if r["wave"] == e["wave"])
        rows.insert(last + 1, {"step": rows[last]["step"] + 1, "rule": "k_anonymity", "wave": e["wave"],
                               "rows_in": e["rows"], "rows_dropped": 0, "rows_out": e["rows"], "reason": e["reason"]})
    return protected, rows


def clean_campaign(params: Params) -> CleanResult:
    """Clean a campaign stage's raw exports into the processed tables.

    Parameters
    ----------
    params : Params
        From :func:`evalkit.params.load_params`.

    Returns
    -------
    CleanResult
        Nothing is written; pass it to :func:`write_processed`.

    Raises
    ------
    ConfigError
        Params that name questions or choices the codebook lacks, or
        demographics that are identifiers.
    RawDataError, CodebookError, EncodingDetectionError
        Problems in the raw files, each naming file, column, value and rows.

    References
    ----------
    Innovations for Poverty Action, ``ipacheck`` high-frequency checks; World
    Bank DIME Analytics, ``iefieldkit`` (``iecodebook``, ``ieduplicates``).

    Examples
    --------
    >>> from evalkit.params import load_params
    >>> result = clean_campaign(load_params("together"))  # doctest: +SKIP
    >>> result.log[["wave", "rule", "rows_dropped"]]  # doctest: +SKIP
    """
    failpoints.hold("clean-notebook", detail=params.campaign)
    from evalkit.deid import pseudonym_key, pseudonymise
    from evalkit.encoding import detect_bytes_encoding
    from evalkit.indicators import build_responses, missing_rates
    from evalkit.readers import read_bytes, read_codebook, sha256_hex

    codebook_path = params.raw_path(params.raw.codebook, what="raw.codebook")
    codebook = read_codebook(codebook_path)
    check_params_against_codebook(params, codebook)
    key = pseudonym_key()  # the demo key is flagged in the log ('deidentify') and by deid.key_notice
    cb_bytes = read_bytes(codebook_path)
    raw_files = [{"file": params.raw.codebook, "sha256": sha256_hex(cb_bytes), "bytes": len(cb_bytes),
                  "rows": len(codebook.questions), "encoding": "xlsx"}]
    from evalkit.corrections import check_all_found, load_decisions

    decisions = load_decisions(params)
    found: set[str] = set()
    parts, log_rows, pii_rows = [], [], []
    for wave in WAVES:
        wr = clean_wave(params, wave, codebook, decisions=decisions)
        found |= wr.found_uuids
        ids = pseudonymise(wr.answers[params.columns.respondent_id], key.key)
        cluster_q = params.sampling.questions(enumerator=params.columns.enumerator).get("sampling.cluster")
        clusters = (pseudonymise(wr.answers[cluster_q], key.key)  # a school name is personal data
                    if cluster_q and cluster_q in wr.answers else None)
        part = build_responses(wr.answers, params, wave=wave, respondent_id=ids, cluster=clusters)
        if params.cleaning.free_text == "keep_scrubbed":
            part = part.assign(**_free_text_columns(wr.answers, codebook, wr.pii_columns, params))
        reasons = [part[f"{i.id}_missing_reason"] for i in params.indicators]
        n_dk = int(sum((r == "dont_know").sum() for r in reasons))
        n_ref = int(sum((r == "refused").sum() for r in reasons))
        n = len(part)
        entries = list(wr.log) + [
            LogEntry("dont_know_refused", n, 0, n,
                     f"{n_dk} 'don't know' ({', '.join(params.cleaning.dont_know)}) and {n_ref} 'refused' "
                     f"({', '.join(params.cleaning.refused)}) answers across {len(params.indicators)} indicators set "
                     f"to missing, reason kept in <indicator>_missing_reason; rates per indicator in the clean "
                     f"notebook" + numeric_codes_text(params.indicators) + negative_policy_text(params.indicators)),
            LogEntry("deidentify", n, 0, n,
                     f"identifying or free-text columns left out: {', '.join(sorted(wr.pii_columns)) or 'none'}; "
                     f"free text: {params.cleaning.free_text}; respondent ids"
                     + (" and clusters (params sampling)" if cluster_q else "")
                     + " replaced by HMAC-SHA256 pseudonyms "
                     + ("(WARNING: public demo key used; set EVALKIT_PSEUDONYM_KEY for real data)"
                        if key.source == "demo" else f"(key from {'EVALKIT_PSEUDONYM_KEY' if key.source == 'env' else '.evalkit-key'})")),
        ]
        for step, e in enumerate(entries, start=1):
            log_rows.append({"step": step, "rule": e.rule, "wave": wave, "rows_in": e.rows_in,
                             "rows_dropped": e.rows_dropped, "rows_out": e.rows_out, "reason": e.reason})
        pii_rows += [{"wave": wave, "column": col, "kind": kind} for col, kind in wr.pii_columns.items()]
        raw_files.append(wr.raw_file)
        parts.append(part.sort_values("respondent_id", kind="stable"))
    check_all_found(decisions, found)
    responses = pd.concat(parts, ignore_index=True)
    responses, log_rows = _k_anonymous(responses, params, log_rows)
    panel = None
    if params.design == "paired":
        codes = pd.factorize(responses["respondent_id"])[0]  # integers: set logic stays vectorised
        is_base = (responses["wave"] == "baseline").to_numpy()
        base, end = np.unique(codes[is_base & (codes >= 0)]), np.unique(codes[~is_base & (codes >= 0)])
        matched = int(np.isin(base, end, assume_unique=True).sum())
        panel = pd.DataFrame([{"matched": matched, "baseline_only": len(base) - matched,
                               "endline_only": len(end) - matched}], columns=PANEL_COLUMNS)
    reach = None
    if params.raw.reach:
        from evalkit.reach import read_reach

        reach_path = params.raw_path(params.raw.reach, what="raw.reach")
        reach = read_reach(reach_path)
        rb = read_bytes(reach_path)
        raw_files.append({"file": params.raw.reach, "sha256": sha256_hex(rb), "bytes": len(rb), "rows": len(reach),
                          "encoding": detect_bytes_encoding(rb, name=str(reach_path))})
    raw_files += decisions.raw_files  # the team's decision files, hashed like the exports
    return CleanResult(
        campaign=params.campaign, responses=responses, log=pd.DataFrame(log_rows, columns=LOG_COLUMNS),
        raw_files=pd.DataFrame(raw_files, columns=RAW_FILE_COLUMNS), panel=panel,
        missing_rates=missing_rates(responses, params),
        pii_columns=pd.DataFrame(pii_rows, columns=["wave", "column", "kind"]), reach=reach, key_source=key.source)


def processed_output_dir(campaign: str, out_dir: Path | str | None = None) -> Path:
    """Resolve the clean notebook's ``output_dir`` safely inside the project.

    Parameters
    ----------
    campaign : str
    out_dir : Path or str, optional
        Empty or None: ``data/processed/<campaign>/``. A relative path is
        taken from the project root (as the pipeline passes its staging
        folder); an absolute one must lie inside the project.

    Raises
    ------
    UnsafePathError
        For a NUL byte, a name over 255 characters, or a folder outside the
        project (``..``, another absolute path).
    """
    from evalkit.errors import UnsafePathError

    if out_dir is None or str(out_dir) == "":
        return paths.campaign_processed_dir(campaign)
    text = str(out_dir)
    if "\x00" in text or len(text) > 255:
        shown = repr(text)[:60]
        raise UnsafePathError(f"The output folder {shown} is not allowed (it contains a NUL byte or is longer "
                              f"than 255 characters); leave output_dir empty to write data/processed/{campaign}/.")
    out = Path(text) if Path(text).is_absolute() else paths.project_root() / text
    return paths.ensure_output_path(out)


def write_processed(result: CleanResult, out_dir: Path | str | None = None) -> Path:
    """Write the processed tables atomically; ``responses.parquet`` last.

    Parameters
    ----------
    result : CleanResult
    out_dir : Path or str, optional
        Folder to write to, inside the project (see
        :func:`processed_output_dir`); default ``data/processed/<campaign>/``.

    Returns
    -------
    Path
        The folder written: ``cleaning_log.csv``, ``raw_files.csv``,
        ``panel.csv`` (paired design), ``reach.parquet`` (if a reach export
        exists) and ``responses.parquet``. Each file is written to a temporary
        name and renamed, and ``responses.parquet`` (the file ``make`` tracks)
        comes last, so an interrupted run never looks complete.
    """
    out = processed_output_dir(result.campaign, out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(result.log, out / "cleaning_log.csv")
    write_csv_atomic(result.raw_files, out / "raw_files.csv")
    if result.panel is not None:
        write_csv_atomic(result.panel, out / "panel.csv")
    if result.reach is not None:
        write_with(out / "reach.parquet", lambda p: result.reach.to_parquet(p, index=False))
    write_with(out / "responses.parquet", lambda p: result.responses.to_parquet(p, index=False))
    return out
