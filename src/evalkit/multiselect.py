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
        text = dummies[col].astype("string").str.strip().str.casefold()
        is_blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
        is_on = text.isin(ON).to_numpy(dtype=bool, na_value=False)
        is_off = text.isin(OFF).to_numpy(dtype=bool, na_value=False)
        bad = ~(is_blank | is_on | is_off)
        if bad.any():
            unreadable.append((str(col), dummies.index.to_numpy()[bad]))
        chosen[:, j], blank[:, j] = is_on, is_blank
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
    names = np.asarray([str(c) for c in dummies.columns], dtype=object)
    patterns, codes = np.unique(chosen, axis=0, return_inverse=True) if len(dummies) else (chosen, np.array([], int))
    spelled = np.asarray([" ".join(names[p]) for p in patterns], dtype=object)
    out = pd.Series(spelled[np.asarray(codes).ravel()] if len(dummies) else [], index=dummies.index, dtype=object)
    out[empty] = pd.NA
    return out


def _as_sets(values: pd.Series) -> pd.Series:
    return values.astype(object).map(lambda v: frozenset(str(v).split()) if pd.notna(v) else frozenset())


def summary_disagreements(summary: pd.Series, dummies: pd.DataFrame) -> pd.Index:
    """Rows where the summary column and the 0/1 columns of a select_multiple differ.

    Compared as sets of the choice names that have a 0/1 column (order and
    spacing ignored); an empty summary equals all-empty or all-0 dummies.

    Returns
    -------
    pandas.Index
        Index labels (spreadsheet rows) that disagree; empty when they agree.
    """
    names = frozenset(str(c) for c in dummies.columns)  # choices without a 0/1 column are not compared
    a = _as_sets(summary).map(lambda v: v & names)
    b = _as_sets(summary_from_dummies(dummies))
    return summary.index[(a != b).to_numpy()]
