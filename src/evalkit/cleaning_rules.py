"""The cleaning rules: small functions that each drop the rows one rule rejects, with a log entry.

Each rule takes one wave's answers and returns the rows it keeps plus one
:class:`LogEntry` (rows in, rows dropped, rows out, the reason in words);
:func:`evalkit.cleaning.clean_wave` chains them in the order its module
docstring gives. Interview times (``start``, ``end``, ``_submission_time``)
are parsed here too (:func:`add_times`), since the duration and fieldwork-date
rules read them.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import pandas as pd

from evalkit.errors import RawDataError, format_problems
from evalkit.params import ConsistencyCheck, RangeCheck
from evalkit.relevance import RELEVANT

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
