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
- ``<id>_level`` (``likert`` and ``scale`` only): ``Int8`` 1..k, lowest
  level first (a reverse-coded item counts from its last level);
- ``numeric``: ``<id>`` is the number (``Float64``), its don't-know and
  refused codes missing with the reason kept;
- ``score``: ``<id>`` is "good knowledge" (score >= cut-off), ``<id>_score``
  the number of items answered correctly (``Float64``) and ``<id>_item<k>``
  (``Int8`` 0/1) each item, for the scale's internal consistency.

"Don't know" and "refused" are never merged silently into "no": they are
missing, with the reason kept, unless the indicator's ``denominator`` says
they count as negative (the reason is kept then too).
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
    need = (indicator.at_least if indicator.at_least is not None
            else len(set(indicator.positive)) if indicator.mentions == "all" else 1)
    return _mentions(answers, indicator.positive, need)


def _mentions(answers: pd.Series, positive: list[str], need: int) -> np.ndarray:
    """True where an answer (space-separated choice names) holds at least ``need`` of ``positive``."""
    positive_set = set(positive)
    if isinstance(answers.dtype, pd.CategoricalDtype):
        codes, uniques = answers.cat.codes.to_numpy(), list(answers.cat.categories)
    else:
        codes, uniques = pd.factorize(answers.astype(object), use_na_sentinel=True)
        uniques = list(uniques)
    hit = np.array([len(positive_set & set(str(u).split())) >= need for u in uniques] + [False], dtype=bool)
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
        Column name -> Series (``boolean``, ``str``, and ``Int8`` levels for likert/scale; a numeric
        indicator gives ``Float64`` values, see :func:`numeric_columns`).

    Examples
    --------
    >>> cols = indicator_columns(df["know/know_level"], df["resp/resp_type"], ind,
    ...                          dont_know=["dont_know"], refused=["refused"])  # doctest: +SKIP
    """
    if indicator.type == "numeric":
        return numeric_columns(answers, group, indicator)
    in_population = group.isin(indicator.population).to_numpy()
    asked = in_population & answers.notna().to_numpy()
    is_dk = asked & answers.isin(dont_know).to_numpy()
    is_ref = asked & answers.isin(refused).to_numpy() & ~is_dk
    substantive = asked & ~is_dk & ~is_ref
    positive = mentions_positive(answers, indicator)
    policy = indicator.denominator
    counted = (substantive | (is_dk & (policy.dont_know == "negative")) | (is_ref & (policy.refused == "negative"))
               | (in_population & ~asked & (policy.not_asked == "negative")))
    value = pd.array(np.where(substantive, positive, False), dtype="boolean")
    value[~counted] = pd.NA
    out = {indicator.id: pd.Series(value, index=answers.index),
           f"{indicator.id}_missing_reason": _reasons(asked, is_dk, is_ref, answers.index)}
    if indicator.type in ("likert", "scale"):
        codes = np.where(substantive, _positions(answers, indicator.levels), -1)
        if indicator.reverse:
            codes = np.where(codes >= 0, len(indicator.levels) - 1 - codes, -1)
        level = pd.array(np.where(codes >= 0, codes + 1, 0), dtype="Int8")
        level[codes < 0] = pd.NA
        out[f"{indicator.id}_level"] = pd.Series(level, index=answers.index)
    return out


def _reasons(asked: np.ndarray, is_dk: np.ndarray, is_ref: np.ndarray, index: pd.Index) -> pd.Series:
    """``<id>_missing_reason`` from the masks (codes into :data:`MISSING_REASONS`)."""
    reason = np.full(len(index), -1, dtype=np.int32)
    reason[~asked] = 2
    reason[is_dk] = 0
    reason[is_ref] = 1
    return text_from_codes(reason, MISSING_REASONS, index)


def numeric_columns(answers: pd.Series, group: pd.Series, indicator: Indicator) -> dict[str, pd.Series]:
    """``<id>`` (the number, ``Float64``) and ``<id>_missing_reason`` of a numeric indicator.

    Values equal to one of ``dont_know_codes`` / ``refused_codes`` (e.g.
    98, 99, 999, 9999) become missing with reason ``dont_know`` /
    ``refused``; an empty answer or a respondent outside the population is
    ``not_asked``.

    Examples
    --------
    >>> ind = Indicator(id="meals", label="M", theme="practices", question="q", type="numeric",
    ...                 population=["p"], dont_know_codes=[98.0])
    >>> numeric_columns(pd.Series([2.0, 98.0, None]), pd.Series(["p", "p", "p"]), ind)["meals"].tolist()
    [2.0, <NA>, <NA>]
    """
    num = pd.to_numeric(answers, errors="coerce").astype("Float64")
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    asked = group.isin(indicator.population).to_numpy() & ~np.isnan(values)
    is_dk = asked & np.isin(values, np.asarray(indicator.dont_know_codes, dtype=float))
    is_ref = asked & np.isin(values, np.asarray(indicator.refused_codes, dtype=float)) & ~is_dk
    keep = asked & ~is_dk & ~is_ref
    value = pd.array(np.where(keep, values, 0.0), dtype="Float64")
    value[~keep] = pd.NA
    return {indicator.id: pd.Series(value, index=answers.index),
            f"{indicator.id}_missing_reason": _reasons(asked, is_dk, is_ref, answers.index)}


def score_columns(items: pd.DataFrame, group: pd.Series, indicator: Indicator, *,
                  dont_know: list[str], refused: list[str]) -> dict[str, pd.Series]:
    """The columns of a knowledge score: good knowledge, the score and each item.

    An item scores 1 when its answer is (or, for a select_multiple,
    mentions) one of its ``correct`` choices, 0 for any other answer,
    "don't know" and "refused" included (the respondent did not give the
    correct answer). A respondent with an item left empty (not asked) has no
    score (reason ``not_asked``). "Good knowledge" = score >= ``cut_off`` x
    number of items.

    Parameters
    ----------
    items : pandas.DataFrame
        One column per item question (codebook names), choice names.
    group : pandas.Series
    indicator : Indicator
        A ``score`` indicator.
    dont_know, refused : list of str, keyword-only
        Accepted for a uniform call; they score 0 like any wrong answer.

    Returns
    -------
    dict
        ``<id>`` (boolean), ``<id>_score`` (Float64), ``<id>_item<k>``
        (Int8, k from 1), ``<id>_missing_reason``.

    Notes
    -----
    The cut-off is the evaluator's, stated in params; 80% of the maximum
    score is a common KAP convention.
    """
    in_population = group.isin(indicator.population).to_numpy()
    answered = np.ones(len(items), bool)
    item_scores = []
    for it in indicator.items:
        ans = items[it.question] if it.question in items else pd.Series(pd.NA, index=items.index, dtype=object)
        answered &= ans.notna().to_numpy()
        need = len(set(it.correct)) if it.mentions == "all" else 1
        item_scores.append(_mentions(ans, it.correct, need).astype(np.int8))
    asked = in_population & answered
    score = np.sum(item_scores, axis=0, dtype=float) if item_scores else np.zeros(len(items))
    good = score >= indicator.cut_off * len(indicator.items) - 1e-9
    out = {}
    value = pd.array(good, dtype="boolean")
    value[~asked] = pd.NA
    out[indicator.id] = pd.Series(value, index=items.index)
    total = pd.array(score, dtype="Float64")
    total[~asked] = pd.NA
    out[f"{indicator.id}_score"] = pd.Series(total, index=items.index)
    for k, sc in enumerate(item_scores, start=1):
        col = pd.array(sc, dtype="Int8")
        col[~asked] = pd.NA
        out[f"{indicator.id}_item{k}"] = pd.Series(col, index=items.index)
    none = np.zeros(len(items), bool)
    out[f"{indicator.id}_missing_reason"] = _reasons(asked, none, none, items.index)
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
    dk, ref = params.cleaning.dont_know, params.cleaning.refused
    out.update(_design_columns(answers, params, cluster=cluster))
    for ind in params.indicators:
        if ind.type == "score":
            items = answers[[q for q in ind.questions if q in answers]]
            out.update(score_columns(items, group, ind, dont_know=dk, refused=ref))
            continue
        ans = answers[ind.question] if ind.question in answers else pd.Series(pd.NA, index=answers.index, dtype="str")
        out.update(indicator_columns(ans, group, ind, dont_know=dk, refused=ref))
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
