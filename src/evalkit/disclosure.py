"""Statistical disclosure control of the processed responses (k-anonymity).

Removing names and phone numbers is not enough: a combination of aimag, sex,
age band, education and respondent group can single out a respondent. Before
``responses.parquet`` is written, every wave is checked on its
*quasi-identifiers* (the params' demographics and the respondent group):

1. A demographic with more levels than the data can protect (most
   respondents in levels of fewer than ``min_cell_size``, e.g. 179 schools for
   900 respondents) is refused (:func:`check_demographic_levels`); a few rare
   levels are merged into :data:`OTHER_LEVEL` (global recoding).
2. k-anonymity (Samarati & Sweeney 1998): each respondent's combination of
   quasi-identifiers is shared by at least ``k`` respondents of the wave
   (params ``k_anonymity``, default 5). Respondents in smaller classes have
   demographic values *locally suppressed* (set to missing), one variable at
   a time, as sdcMicro's ``localSuppression`` does
   (:func:`local_suppression`), until the wave meets ``k``. The respondent
   group is never suppressed (the analysis is by group); a group smaller than
   ``k`` is reported, and the report suppresses it (small-cell rule).

A missing value counts as a value of its own when classes are formed. That is
stricter than sdcMicro's convention (a missing value matches any value), so a
file that meets ``k`` here meets it there too.

References
----------
Samarati, P. & Sweeney, L. (1998). Protecting privacy when disclosing
information: k-anonymity and its enforcement through generalization and
suppression. SRI-CSL-98-04.
Templ, M., Kowarik, A. & Meindl, B. (2015). Statistical disclosure control for
micro-data using the R package sdcMicro. Journal of Statistical Software
67(4) (local suppression).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from evalkit.errors import ConfigError, format_problems
from evalkit.params import Params

#: Level that rare levels of a demographic are merged into.
OTHER_LEVEL = "other"
#: A demographic is refused when levels smaller than ``min_cell_size`` hold more than this share of a wave.
MAX_RARE_SHARE = 0.5


def _code_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``columns`` (rows x columns) and each column's code for a missing value.

    Values are compared as text (``1`` and ``"1"`` are one value); a missing
    value is a value of its own (the column's last code). Integers keep the
    class arithmetic of 1M-row waves fast.
    """
    codes = np.empty((len(frame), len(columns)), dtype=np.int64)
    missing = np.empty(len(columns), dtype=np.int64)
    for j, col in enumerate(columns):
        c, levels = pd.factorize(frame[col].astype("string"), use_na_sentinel=True)
        missing[j] = len(levels)
        codes[:, j] = np.where(c < 0, len(levels), c)
    return codes, missing


def _row_keys(codes: np.ndarray) -> np.ndarray:
    """One integer per row, equal exactly for equal rows of ``codes`` (0 for every row without columns)."""
    key = np.zeros(len(codes), dtype=np.int64)
    for j in range(codes.shape[1] if len(codes) else 0):
        # key < rows and code <= rows after each step, so key * (rows + 1) + code never overflows
        key = pd.factorize(key * (int(codes[:, j].max()) + 1) + codes[:, j])[0].astype(np.int64)
    return key


def _sizes(keys: np.ndarray) -> np.ndarray:
    """Size of each row's class from :func:`_row_keys`."""
    return np.bincount(keys)[keys] if len(keys) else np.zeros(0, dtype=np.int64)


def class_sizes(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    """Size of each row's equivalence class (rows with the same quasi-identifiers).

    Parameters
    ----------
    frame : pandas.DataFrame
        Not modified.
    quasi_identifiers : sequence of str
        Columns of ``frame``; a missing value is a value of its own.

    Returns
    -------
    pandas.Series
        Same index as ``frame``, integer class sizes (``len(frame)`` for every
        row when there is no quasi-identifier).

    Examples
    --------
    >>> class_sizes(pd.DataFrame({"sex": ["f", "f", "m"]}), ["sex"]).tolist()
    [2, 2, 1]
    """
    codes, _missing = _code_matrix(frame, list(quasi_identifiers))
    return pd.Series(_sizes(_row_keys(codes)), index=frame.index, dtype="int64")


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The ``k`` the table meets: the size of its smallest equivalence class (0 when empty).

    Examples
    --------
    >>> k_anonymity(pd.DataFrame({"sex": ["f", "f", "m"]}), ["sex"])
    1
    """
    return int(class_sizes(frame, quasi_identifiers).min()) if len(frame) else 0


class Suppression(NamedTuple):
    """Result of :func:`local_suppression`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The protected copy.
    k_before, k_after : int
        Smallest class size before and after.
    below_k : int
        Rows in classes smaller than ``k`` before suppression.
    suppressed : dict
        Column -> number of values set to missing.
    residual : int
        Rows still in classes smaller than ``k`` (only possible when the
        protected columns alone form a class smaller than ``k``).
    """

    frame: pd.DataFrame
    k_before: int
    k_after: int
    below_k: int
    suppressed: dict[str, int]
    residual: int


def local_suppression(frame: pd.DataFrame, quasi_identifiers: Sequence[str], *, k: int,
                      order: Sequence[str]) -> Suppression:
    """Set quasi-identifier values to missing until every class has at least ``k`` rows.

    Greedy local suppression in the manner of sdcMicro's ``localSuppression``
    (Templ et al. 2015): each row in a class smaller than ``k`` loses the
    one value (among the columns of ``order``) whose removal puts it in the
    largest existing class; ties go to the column listed first in ``order``.
    Class sizes are recomputed and this repeats until no class is smaller
    than ``k``. Rows left in a class of only missing values smaller than
    ``k`` are completed, within their protected values (e.g. the group), with
    rows of the largest class of the same protected values, which lose every
    value of ``order`` too. Only the protected columns (those of
    ``quasi_identifiers`` not in ``order``) are never changed.

    Parameters
    ----------
    frame : pandas.DataFrame
        Not modified.
    quasi_identifiers : sequence of str
        Every column that forms the classes.
    k : int, keyword-only
    order : sequence of str, keyword-only
        The columns that may be suppressed, preferred first.

    Returns
    -------
    Suppression

    Examples
    --------
    >>> df = pd.DataFrame({"sex": ["f"] * 5 + ["m"], "aimag": ["a"] * 5 + ["b"]})
    >>> res = local_suppression(df, ["sex", "aimag"], k=2, order=["aimag", "sex"])
    >>> res.k_after, res.suppressed  # the lone (m, b) and one (f, a) donor lose both values
    (2, {'aimag': 2, 'sex': 2})
    """
    qis, order = list(quasi_identifiers), list(order)
    n = len(frame)
    codes, missing = _code_matrix(frame, qis)
    pos = [qis.index(c) for c in order]
    sizes = _sizes(_row_keys(codes))
    k_before, below = (int(sizes.min()) if n else 0), int((sizes < k).sum())
    suppressed = dict.fromkeys(order, 0)
    while True:
        keys = _row_keys(codes)
        sizes = _sizes(keys)
        small = sizes < k
        if not small.any():
            break
        best, choice = np.full(n, -1.0), np.full(n, -1)
        for i, j in enumerate(pos):
            cand = np.flatnonzero(small & (codes[:, j] != missing[j]))
            if not cand.size:
                continue
            alt = codes[cand].copy()
            alt[:, j] = missing[j]
            both = _row_keys(np.vstack([codes, alt]))  # one key space for the table and the altered rows
            size = np.bincount(both[:n], minlength=int(both.max()) + 1)[both[n:]] + 1.0
            better = size > best[cand]  # strictly: a tie keeps the column listed first
            best[cand[better]], choice[cand[better]] = size[better], i
        if (choice < 0).all():
            break
        for i, j in enumerate(pos):
            hit = choice == i
            if hit.any():
                codes[hit, j] = missing[j]
                suppressed[order[i]] += int(hit.sum())
    extra = _complete_empty_classes(codes, missing, qis, k=k, order=order)
    for col, n_extra in extra.items():
        suppressed[col] += n_extra
    out = frame.copy()
    for col, j in zip(order, pos):
        out[col] = out[col].mask(codes[:, j] == missing[j])
    sizes = _sizes(_row_keys(codes))
    return Suppression(out, k_before, int(sizes.min()) if n else 0, below,
                       {c: v for c, v in suppressed.items() if v}, int((sizes < k).sum()))


def _complete_empty_classes(codes: np.ndarray, missing: np.ndarray, qis: list[str], *, k: int, order: list[str]
                            ) -> dict[str, int]:
    """Give a too-small class of rows with every ``order`` value missing rows of the same protected values.

    Works on the code matrix of :func:`local_suppression` in place; returns
    the values set to missing per column.
    """
    extra = dict.fromkeys(order, 0)
    pos = [qis.index(c) for c in order]
    protected = [qis.index(c) for c in qis if c not in order]
    keys = _row_keys(codes)
    sizes = _sizes(keys)
    empty = (codes[:, pos] == missing[pos]).all(axis=1) if pos else np.ones(len(codes), dtype=bool)
    pkeys = _row_keys(codes[:, protected])
    for pk in np.unique(pkeys[(sizes < k) & empty]):
        same = pkeys == pk
        need = k - int((same & empty).sum())  # the one empty class of these protected values
        donors = np.flatnonzero(same & ~empty)
        if not donors.size:
            continue  # the protected values alone form a class smaller than k
        # largest donor classes first, ties in row order
        take = donors[np.argsort(-sizes[donors], kind="stable")[:need]]
        for col, j in zip(order, pos):
            extra[col] += int((codes[take, j] != missing[j]).sum())
            codes[take, j] = missing[j]
    return extra


def check_demographic_levels(responses: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, list[str]]:
    """Refuse a demographic with more levels than the data can protect; merge a few rare levels.

    In each wave, a level with 1 to ``min_cell_size - 1`` respondents is rare.
    When rare levels hold more than :data:`MAX_RARE_SHARE` of a wave and the
    demographic has more levels than the wave has ``min_cell_size`` groups of
    respondents (and more than two), e.g. a ``select_one`` "School name" with
    179 schools of about 5 respondents, it cannot be published safely and is
    refused. When rare levels are a minority, they are merged into
    :data:`OTHER_LEVEL` in both waves (global recoding), and each merge is
    described; in a wave too small for any breakdown nothing is merged (the
    k-anonymity step and the report's small-cell rule protect it).

    Parameters
    ----------
    responses : pandas.DataFrame
        Both waves; not modified.
    params : Params

    Returns
    -------
    (pandas.DataFrame, list of str)
        The recoded copy and one sentence per recoded demographic (for the
        cleaning log); the merged levels are counted, not named.

    Raises
    ------
    ConfigError
        A demographic whose rare levels hold most respondents of a wave.
    """
    k = params.min_cell_size
    out, notes, problems = responses.copy(deep=False), [], []  # copy-on-write: recoded columns are replaced
    for key in params.demographics:
        if key not in out:
            continue
        col = out[key].astype("string")
        counts = col.groupby(out["wave"]).value_counts()
        rare = counts[(counts >= 1) & (counts < k)]
        mostly_rare = False
        for wave, n_wave in out.groupby("wave").size().items():
            in_rare = int(rare.loc[wave].sum()) if wave in rare.index.get_level_values(0) else 0
            n_levels = int(col[out["wave"] == wave].nunique())
            if n_wave and in_rare > MAX_RARE_SHARE * n_wave:
                mostly_rare = True  # merging would leave one 'other'; too few respondents for any breakdown
                if n_levels > max(2, n_wave / k):
                    problems.append(f"key 'demographics.{key}': {n_levels} levels for {n_wave} {wave} respondents; "
                                    f"{in_rare} of them are in levels with fewer than {k} respondents, so the "
                                    f"breakdown would publish tiny groups. Remove it from demographics, or recode "
                                    f"it into broader levels (e.g. aimag instead of school) in the codebook")
        levels = sorted(set(rare.index.get_level_values(1)))
        if levels and not mostly_rare:
            out[key] = col.where(~col.isin(levels), OTHER_LEVEL).astype(responses[key].dtype)
            # the levels are not named: naming one would say that 1 to k-1 respondents have it
            notes.append(f"{key}: {len(levels)} level(s) with fewer than {k} respondents in a wave merged into "
                         f"'{OTHER_LEVEL}'")
    if problems:
        raise ConfigError(format_problems(
            f"A demographic of {params.campaign} has more levels than the data can protect; fix "
            f"params/{params.campaign}.yaml:", problems))
    return out, notes


def suppression_order(responses: pd.DataFrame, params: Params) -> list[str]:
    """Demographics in the order they are suppressed: most levels first, breakdown variables last.

    Variables the report breaks results down by (params ``subgroups``) keep
    their values as long as possible: :func:`protect_responses` first
    suppresses only the others (the one with most levels, the most
    identifying, preferred; ties in params order), and the breakdown
    variables only where that cannot reach ``k``.
    """
    keys = [d for d in params.demographics if d in responses]
    levels = {d: int(responses[d].nunique()) for d in keys}
    return sorted(keys, key=lambda d: (d in params.subgroups, -levels[d], keys.index(d)))


def protect_responses(responses: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Recode rare levels and make each wave k-anonymous; one log entry per wave.

    Parameters
    ----------
    responses : pandas.DataFrame
        Both waves, as built by cleaning; not modified.
    params : Params
        ``demographics``, ``subgroups``, ``min_cell_size``, ``k_anonymity``.

    Returns
    -------
    (pandas.DataFrame, list of dict)
        The protected responses, and per wave ``{"wave", "rows", "reason",
        "k_before", "k_after", "below_k"}`` for the cleaning log.

    Raises
    ------
    ConfigError
        From :func:`check_demographic_levels`.
    """
    recoded, notes = check_demographic_levels(responses, params)
    k = params.k_anonymity
    qis = [d for d in params.demographics if d in recoded] + ["group"]
    order = suppression_order(recoded, params)
    entries, hidden = [], {c: np.zeros(len(recoded), dtype=bool) for c in order}
    for wave, rows in recoded.groupby("wave", sort=False).indices.items():
        part = recoded.iloc[rows][qis]  # only the classes' columns are copied and worked on
        # breakdown variables first stay whole (the other demographics absorb the suppression) ...
        res = local_suppression(part, qis, k=k, order=[d for d in order if d not in params.subgroups])
        if res.residual:  # ... and are suppressed only where that is not enough
            more = local_suppression(res.frame, qis, k=k, order=order)
            res = more._replace(k_before=res.k_before, below_k=res.below_k,
                                suppressed={c: res.suppressed.get(c, 0) + more.suppressed.get(c, 0)
                                            for c in order if res.suppressed.get(c, 0) + more.suppressed.get(c, 0)})
        for c in order:
            hidden[c][rows] = (res.frame[c].isna() & part[c].notna()).to_numpy()
        done = ", ".join(f"{c}: {n}" for c, n in res.suppressed.items()) or "none"
        reason = (f"k-anonymity (k = {k}) on {', '.join(qis)}: {res.below_k} respondent(s) were in combinations "
                  f"shared by fewer than {k} (k before = {res.k_before}); values set to missing (local "
                  f"suppression): {done}; k after = {res.k_after}")
        if res.residual:
            reason += (f"; {res.residual} respondent(s) stay below {k} because their group has fewer than {k} "
                       f"respondents in this wave (the report suppresses it)")
        if notes:
            reason += "; " + "; ".join(notes)
        entries.append({"wave": wave, "rows": len(part), "reason": reason, "k_before": res.k_before,
                        "k_after": res.k_after, "below_k": res.below_k})
    out = recoded.copy(deep=False)  # copy-on-write: only the suppressed columns get new data
    for c in order:
        if hidden[c].any():
            out[c] = out[c].mask(hidden[c])
    return out, entries
