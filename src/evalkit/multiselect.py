"""A select_multiple answer as an export writes it: a summary column, 0/1 columns, or both.

KoboToolbox and ODK Central write a select_multiple question as a
space-separated summary column (``prac/channels`` = ``"facebook tv"``), as one
0/1 column per choice (``prac/channels/facebook``), or both. evalkit reads
whichever the export has (:func:`summary_from_dummies` spells the answer
from the 0/1 columns) and, when both are present, requires them to agree
(:func:`summary_disagreements`): a disagreement means the export was edited
by hand, and evalkit cannot tell which column is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Cell texts read as "chosen" / "not chosen" in a 0/1 column (after strip + case-fold).
ON = frozenset({"1", "1.0", "true", "yes"})
OFF = frozenset({"0", "0.0", "false", "no"})


def dummy_states(dummies: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    """(chosen, empty, unreadable) of 0/1 columns.

    Returns
    -------
    chosen : numpy.ndarray of bool, shape (rows, choices)
    empty : numpy.ndarray of bool, shape (rows,)
        Every cell of the row is empty (the question was not asked).
    unreadable : list of (column, row labels)
        Cells that are neither 0/1 (nor true/false) nor empty.
    """
    chosen = np.zeros(dummies.shape, bool)
    blank = np.zeros(dummies.shape, bool)
    unreadable = []
    for j, col in enumerate(dummies.columns):
        codes, uniques = pd.factorize(dummies[col].astype(object), use_na_sentinel=True)  # few distinct cells
        text = [str(u).strip().casefold() for u in uniques]
        state = np.array([1 if t in ON else 0 if t in OFF else 2 if t == "" else 3 for t in text] + [2], dtype=np.int8)
        cell = state[codes]
        if (cell == 3).any():
            unreadable.append((str(col), dummies.index.to_numpy()[cell == 3]))
        chosen[:, j], blank[:, j] = cell == 1, cell == 2
    return chosen, blank.all(axis=1) if dummies.shape[1] else np.ones(len(dummies), bool), unreadable


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
        Choice names in column order joined by a space (``""`` when none is
        chosen); missing when every cell of the row is empty.

    Examples
    --------
    >>> summary_from_dummies(pd.DataFrame({"a": ["1", "0", None], "b": ["1", "0", None]})).tolist()
    ['a b', '', <NA>]
    """
    chosen, empty, _ = dummy_states(dummies)
    names = [str(c) for c in dummies.columns]
    bits = chosen.astype(np.int64) @ (np.int64(1) << np.arange(len(names), dtype=np.int64))  # one int per pattern
    patterns, codes = np.unique(bits, return_inverse=True)
    spelled = np.asarray([" ".join(n for k, n in enumerate(names) if p >> k & 1) for p in patterns], dtype=object)
    out = pd.Series(spelled[codes.ravel()], index=dummies.index, dtype=object)
    out[empty] = pd.NA
    return out


def _as_set(value: object, keep: frozenset[str] | None = None) -> frozenset[str]:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return frozenset()
    names = frozenset(str(value).split())
    return names & keep if keep is not None else names


def summary_disagreements(summary: pd.Series, dummies: pd.DataFrame) -> pd.Index:
    """Rows where the summary column and the 0/1 columns of a select_multiple differ.

    Compared as sets of the choice names that have a 0/1 column (order and
    spacing ignored); an empty summary equals all-empty or all-0 dummies.
    Only distinct (summary, 0/1 pattern) pairs are compared, so a large
    export costs little more than a small one.

    Returns
    -------
    pandas.Index
        Index labels (spreadsheet rows) that disagree; empty when they agree.
    """
    names = frozenset(str(c) for c in dummies.columns)  # choices without a 0/1 column are not compared
    spelled = summary_from_dummies(dummies)
    a_codes, a_uniques = pd.factorize(summary.astype(object), use_na_sentinel=True)
    b_codes, b_uniques = pd.factorize(spelled.astype(object), use_na_sentinel=True)
    width = np.int64(len(b_uniques) + 1)  # codes shifted by one: 0 = missing
    pairs, inverse = np.unique((a_codes.astype(np.int64) + 1) * width + (b_codes + 1), return_inverse=True)
    a_sets = [frozenset()] + [_as_set(u, names) for u in a_uniques]
    b_sets = [frozenset()] + [_as_set(u) for u in b_uniques]
    differ = np.array([a_sets[int(p // width)] != b_sets[int(p % width)] for p in pairs], dtype=bool)
    return summary.index[differ[inverse.ravel()]] if len(summary) else summary.index[:0]
