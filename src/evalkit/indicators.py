"""Build the analysis table (``responses.parquet``) from cleaned answers.

One row per respondent per wave (contract in ``docs/design.md``, "Processed
data contract"): ``respondent_id`` (keyed pseudonym), ``wave``, ``group``,
``interview_date``, the demographics, ``weight``, and per indicator:

- ``<id>``: pandas ``boolean``: True when the answer mentions one of the
  indicator's ``positive`` choices (a select_multiple answer is a
  space-separated set of choice names, so "eating toilet" mentions
  ``toilet``; ``mentions: all`` / ``at_least: k`` ask for all / k of them),
  False for any other substantive answer, missing when
  the question was not asked, or answered "don't know" or "refused";
- ``<id>_missing_reason``: ``dont_know``, ``refused``, ``not_asked`` (empty
  cell, or the respondent's group is not in the indicator's population), or
  missing when there is an answer;
- ``<id>_level`` (Likert indicators only): ``Int8`` 1-5, lowest level first.

"Don't know" and "refused" are never merged silently into "no": they are
missing, with the reason kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.codebook import as_text, text_from_codes
from evalkit.params import Indicator, Params
from evalkit.sampling import CLUSTER_COLUMN, FPC_COLUMN, STRATUM_COLUMN

#: Values of ``<id>_missing_reason``.
MISSING_REASONS = ("dont_know", "refused", "not_asked")


def _date_column(answers: pd.DataFrame) -> pd.Series:
    """``interview_date``: the local day of ``start`` as an Arrow ``date32`` column."""
    import pyarrow as pa

    if "__day" in answers:
        day = answers["__day"]
    elif "start" in answers:
        day = pd.to_datetime(answers["start"].astype("str").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    else:
        day = pd.Series(pd.NaT, index=answers.index, dtype="datetime64[ns]")
    arr = pa.array(day.to_numpy().astype("datetime64[D]"), type=pa.date32(), from_pandas=True)
    return pd.Series(arr, index=answers.index, dtype=pd.ArrowDtype(pa.date32()))


def _positions(answers: pd.Series, levels: list[str]) -> np.ndarray:
    """0-based position of each answer in ``levels`` (-1 if absent or missing)."""
    if isinstance(answers.dtype, pd.CategoricalDtype):
        table = np.append(pd.Index(levels).get_indexer(answers.cat.categories), -1)
        return table[answers.cat.codes.to_numpy()]
    return pd.Index(levels).get_indexer(answers.astype(object))


def mentions_positive(answers: pd.Series, indicator: Indicator) -> np.ndarray:
    """True where an answer mentions the indicator's ``positive`` choices as it asks.

    An answer is a set of choice names separated by white space (one name for
    a select_one; XLSForm choice names of a select_multiple hold no spaces).
    ``mentions: any`` (default) needs one of ``positive``, ``mentions: all``
    every one, ``at_least: k`` at least k. Only distinct answers are split.

    Parameters
    ----------
    answers : pandas.Series
        Choice names (missing = empty cell, never positive).
    indicator : Indicator

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> ind = Indicator(id="w", label="W", theme="practices", question="q", positive=["toilet"],
    ...                 population=["p"])
    >>> mentions_positive(pd.Series(["eating toilet", "eating", None]), ind).tolist()
    [True, False, False]
    """
    positive = set(indicator.positive)
    need = (indicator.at_least if indicator.at_least is not None
            else len(positive) if indicator.mentions == "all" else 1)
    if isinstance(answers.dtype, pd.CategoricalDtype):
        codes, uniques = answers.cat.codes.to_numpy(), list(answers.cat.categories)
    else:
        codes, uniques = pd.factorize(answers.astype(object), use_na_sentinel=True)
        uniques = list(uniques)
    hit = np.array([len(positive & set(str(u).split())) >= need for u in uniques] + [False], dtype=bool)
    return hit[codes]


def indicator_columns(answers: pd.Series, group: pd.Series, indicator: Indicator, *,
                      dont_know: list[str], refused: list[str]) -> dict[str, pd.Series]:
    """The ``<id>``, ``<id>_missing_reason`` and ``<id>_level`` columns of one indicator.

    Parameters
    ----------
    answers : pandas.Series
        Choice names of the indicator's question (missing = empty cell).
    group : pandas.Series
        Respondent group choice names, same index.
    indicator : Indicator
    dont_know, refused : list of str, keyword-only
        Choice names meaning "don't know" / "refused" (params ``cleaning``).

    Returns
    -------
    dict
        Column name -> Series (``boolean``, ``str``, and ``Int8`` for Likert).

    Examples
    --------
    >>> cols = indicator_columns(df["know/know_level"], df["resp/resp_type"], ind,
    ...                          dont_know=["dont_know"], refused=["refused"])  # doctest: +SKIP
    """
    asked = group.isin(indicator.population).to_numpy() & answers.notna().to_numpy()
    is_dk = asked & answers.isin(dont_know).to_numpy()
    is_ref = asked & answers.isin(refused).to_numpy() & ~is_dk
    substantive = asked & ~is_dk & ~is_ref
    positive = mentions_positive(answers, indicator)
    value = pd.array(np.where(substantive, positive, False), dtype="boolean")
    value[~substantive] = pd.NA
    reason = np.full(len(answers), -1, dtype=np.int32)  # codes into MISSING_REASONS
    reason[~asked] = 2
    reason[is_dk] = 0
    reason[is_ref] = 1
    out = {indicator.id: pd.Series(value, index=answers.index),
           f"{indicator.id}_missing_reason": text_from_codes(reason, MISSING_REASONS, answers.index)}
    if indicator.type == "likert":
        codes = np.where(substantive, _positions(answers, indicator.levels), -1)
        level = pd.array(np.where(codes >= 0, codes + 1, 0), dtype="Int8")
        level[codes < 0] = pd.NA
        out[f"{indicator.id}_level"] = pd.Series(level, index=answers.index)
    return out


def _design_columns(answers: pd.DataFrame, params: Params, *, cluster: pd.Series | None) -> dict[str, pd.Series]:
    """``stratum``, ``cluster`` (pseudonymised upstream) and ``fpc`` when ``params.sampling`` declares them."""
    s = params.sampling
    out: dict[str, pd.Series] = {}
    if s.strata:
        out[STRATUM_COLUMN] = (as_text(answers[s.strata]) if s.strata in answers
                               else pd.Series(pd.NA, index=answers.index, dtype="str"))
    if cluster is not None:
        out[CLUSTER_COLUMN] = pd.Series(cluster.to_numpy(), index=answers.index).astype("str")
    elif s.cluster or s.cluster_kind == "enumerator":
        out[CLUSTER_COLUMN] = pd.Series(pd.NA, index=answers.index, dtype="str")
    if s.fpc:
        out[FPC_COLUMN] = (pd.to_numeric(answers[s.fpc], errors="coerce").astype("float64") if s.fpc in answers
                           else pd.Series(np.nan, index=answers.index, dtype="float64"))
    return out


def build_responses(answers: pd.DataFrame, params: Params, *, wave: str, respondent_id: pd.Series,
                    cluster: pd.Series | None = None) -> pd.DataFrame:
    """One wave's part of ``responses.parquet``.

    Parameters
    ----------
    answers : pandas.DataFrame
        Cleaned, harmonised answers of one wave (codebook names as columns,
        choice names as values, a ``__day`` column from
        :func:`evalkit.cleaning.add_times` or a ``start`` column); not modified.
    params : Params
    wave : {"baseline", "endline"}, keyword-only
    respondent_id : pandas.Series, keyword-only
        Pseudonymised ids, same index as ``answers``.
    cluster : pandas.Series, optional, keyword-only
        Pseudonymised cluster (PSU) ids, same index, when ``params.sampling``
        declares a cluster.

    Returns
    -------
    pandas.DataFrame
        Columns ``respondent_id, wave, group, interview_date, <demographics>,
        weight``, the declared design columns (``stratum, cluster, fpc``) then, per indicator, ``<id>, <id>_missing_reason`` and for
        Likert ``<id>_level``. Default integer index.
    """
    cols = params.columns
    group = answers[cols.group]
    out: dict[str, pd.Series] = {
        "respondent_id": as_text(respondent_id),
        "wave": text_from_codes(np.zeros(len(answers), np.int32), [wave], answers.index),
        "group": as_text(group),
        "interview_date": _date_column(answers),
    }
    for name, question in params.demographics.items():
        out[name] = (as_text(answers[question]) if question in answers
                     else pd.Series(pd.NA, index=answers.index, dtype="str"))
    if cols.weight and cols.weight in answers:
        out["weight"] = pd.to_numeric(answers[cols.weight], errors="coerce").astype("float64")
    else:
        out["weight"] = pd.Series(1.0, index=answers.index, dtype="float64")
    out.update(_design_columns(answers, params, cluster=cluster))
    for ind in params.indicators:
        ans = answers[ind.question] if ind.question in answers else pd.Series(pd.NA, index=answers.index, dtype="str")
        out.update(indicator_columns(ans, group, ind, dont_know=params.cleaning.dont_know,
                                     refused=params.cleaning.refused))
    return pd.DataFrame(out).reset_index(drop=True)


def missing_rates(responses: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Don't-know and refusal rates per wave and indicator (IPA high-frequency check).

    Parameters
    ----------
    responses : pandas.DataFrame
        The ``responses.parquet`` table.
    params : Params

    Returns
    -------
    pandas.DataFrame
        ``wave, indicator, n_asked, n_answered, n_dont_know, n_refused,
        dont_know_pct, refused_pct`` (percentages of those asked; NaN when
        nobody was asked).

    References
    ----------
    Innovations for Poverty Action, "High-frequency checks" (ipacheck):
    don't-know and refusal rates by question.
    """
    rows = []
    for wave, part in responses.groupby("wave", sort=False):
        for ind in params.indicators:
            reason = part[f"{ind.id}_missing_reason"]
            n_dk = int((reason == "dont_know").sum())
            n_ref = int((reason == "refused").sum())
            n_asked = int((reason != "not_asked").sum())
            rows.append({"wave": wave, "indicator": ind.id, "n_asked": n_asked,
                         "n_answered": int(part[ind.id].notna().sum()), "n_dont_know": n_dk, "n_refused": n_ref,
                         "dont_know_pct": 100 * n_dk / n_asked if n_asked else np.nan,
                         "refused_pct": 100 * n_ref / n_asked if n_asked else np.nan})
    return pd.DataFrame(rows, columns=["wave", "indicator", "n_asked", "n_answered", "n_dont_know", "n_refused",
                                       "dont_know_pct", "refused_pct"])


def each_option_indicators(template: Indicator, codebook: object, *, exclude: list[str]) -> list[Indicator]:
    """One binary indicator per option of a select question ("mentioned <option>").

    Parameters
    ----------
    template : Indicator
        Gives the question, theme, population; the generated ids are
        ``<template.id>_<choice>``, labels ``<template.label>: <choice label>``.
    codebook : Codebook
        From :func:`evalkit.readers.read_codebook`.
    exclude : list of str, keyword-only
        Choices to skip (params ``cleaning.dont_know`` + ``cleaning.refused``).

    Returns
    -------
    list of Indicator
        In choice-list order, each with ``positive = [choice]``.

    Examples
    --------
    >>> inds = each_option_indicators(ind, cb, exclude=["dont_know", "refused"])  # doctest: +SKIP
    """
    from dataclasses import replace

    q = codebook.question(template.question)
    out = []
    for c in codebook.choices.get(q.list_name or "", []):
        if c.name in exclude:
            continue
        out.append(replace(template, id=f"{template.id}_{c.name}".lower(), label=f"{template.label}: {codebook.choice_label(c, 'en')}",
                           positive=[c.name], mentions="any", at_least=None))
    return out


def summary_from_dummies(dummies: pd.DataFrame) -> pd.Series:
    """The space-separated answer a select_multiple's 0/1 columns spell.

    Parameters
    ----------
    dummies : pandas.DataFrame
        One column per choice, named by the choice name, cells ``1``/``0``
        (text or numbers); an empty row (all missing) is an unanswered question.

    Returns
    -------
    pandas.Series
        Choice names in column order joined by a space; missing when every
        cell of the row is empty.
    """
    on = dummies.apply(lambda s: pd.to_numeric(s, errors="coerce")).fillna(0).to_numpy() == 1
    empty = dummies.isna().all(axis=1).to_numpy() | (dummies.astype(str).apply(lambda s: s.str.strip()) == "").all(axis=1).to_numpy()
    names = list(dummies.columns)
    joined = [" ".join(n for n, v in zip(names, row) if v) for row in on]
    return pd.Series([pd.NA if e else j for e, j in zip(empty, joined)], index=dummies.index, dtype=object)


def summary_disagreements(summary: pd.Series, dummies: pd.DataFrame) -> pd.Index:
    """Rows where the summary column and the 0/1 columns of a select_multiple differ.

    Compared as sets of choice names (order and spacing ignored); an empty
    summary equals all-empty or all-0 dummies.

    Returns
    -------
    pandas.Index
        Index labels (spreadsheet rows) that disagree; empty when they agree.
    """
    spelled = summary_from_dummies(dummies)
    a = summary.astype(object).map(lambda v: frozenset(str(v).split()) if pd.notna(v) else frozenset())
    b = spelled.map(lambda v: frozenset(str(v).split()) if pd.notna(v) else frozenset())
    return summary.index[(a != b).to_numpy()]


#: Question types each indicator form reads.
_FITS = {"binary": ("select_one", "select_multiple"), "likert": ("select_one",)}


def codebook_problems(params: Params, codebook: object) -> list[str]:
    """Indicator definitions that do not fit their question's type in the codebook.

    ``binary`` needs a select_one or select_multiple, ``likert`` a
    select_one; ``mentions: all`` and ``at_least`` need a select_multiple.
    Unknown questions and choices are reported by the caller's own check.

    Returns
    -------
    list of str
        One plain sentence per problem, naming the params key (all problems, not the first).
    """
    problems = []
    for i, ind in enumerate(params.indicators):
        if ind.question not in codebook.questions:
            continue
        qtype = codebook.questions[ind.question].type
        if qtype not in _FITS[ind.type]:
            problems.append(f"key 'indicators[{i}].type': a {ind.type} indicator needs a "
                            f"{' or '.join(_FITS[ind.type])} question, but {ind.question} is {qtype}")
        if (ind.mentions == "all" or ind.at_least is not None) and qtype != "select_multiple":
            problems.append(f"key 'indicators[{i}]': 'mentions: all' and 'at_least' apply to a select_multiple "
                            f"question, but {ind.question} is {qtype}; remove them")
    return problems
