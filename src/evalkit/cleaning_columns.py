"""Which columns of an export cleaning reads, which it leaves out, and which are personal.

Before any export is read the params are checked against the XLSForm
(:func:`check_params_against_codebook`); for each wave :func:`column_plan`
decides which columns are read, and the personal-data detection (by header,
by label in every form language, and by values: :mod:`evalkit.deid`) keeps
names, phones and ids out of everything downstream. :func:`_needed_columns`
then keeps only the columns cleaning and ``responses.parquet`` use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evalkit.errors import ConfigError, format_problems
from evalkit.params import Params
from evalkit.relevance import RELEVANT

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


def configured_questions(params: Params) -> list[str]:
    """Every question the params give a job: structural columns, demographics, each indicator's questions
    (a score's items), range and consistency checks, the weight and the design's questions; in that order,
    each once. The one list the column choice of :func:`column_plan` and :func:`_needed_columns` start from.
    """
    c, cl = params.columns, params.cleaning
    out = [c.respondent_id, c.group, c.consent, *params.demographics.values(),
           *(q for i in params.indicators for q in i.questions), *(r.question for r in cl.range_checks),
           *(q for k in cl.consistency_checks for q in (k.if_question, k.then_question))]
    if c.weight:
        out.append(c.weight)
    out += list(params.sampling.questions(enumerator=c.enumerator).values())
    return list(dict.fromkeys(out))


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
    needed = {c.enumerator, *configured_questions(params), *(d.question for d in params.derived)}
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
    keep = ["start", "end", "_submission_time", "_uuid", c.enumerator, *configured_questions(params)]
    if cl.free_text == "keep_scrubbed":
        keep += [n for n, q in codebook.questions.items() if q.type == "text"]
    cols = [k for k in dict.fromkeys(keep) if k in df] + [k for k in df.columns if str(k).startswith(RELEVANT)]
    out = df[cols]
    to_category = {k: _as_category(out[k]) for k in ("_uuid", c.enumerator, c.respondent_id)
                   if k in out and not isinstance(out[k].dtype, pd.CategoricalDtype)}
    return out.assign(**to_category)
