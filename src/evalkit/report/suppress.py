"""Small-cell suppression of results rows: which rows the report must not show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evalkit.params import Params


def row_n(row: Mapping[str, Any]) -> float:
    """Smallest sample size of a results row: ``min(n_baseline, n_endline)``, else ``n`` (NaN if none)."""
    vals = [row.get(k) for k in ("n_baseline", "n_endline")]
    vals = [float(v) for v in vals if v is not None and pd.notna(v)]
    if not vals and row.get("n") is not None and pd.notna(row.get("n")):
        vals = [float(row.get("n"))]
    return min(vals) if vals else float("nan")


def too_small(row: Mapping[str, Any], min_n: int) -> bool:
    """True when a row's smallest sample is below ``min_n`` (small-cell suppression)."""
    note = row.get("note")
    if isinstance(note, str) and note.startswith("suppressed"):  # by compare.suppress_small_groups
        return True
    n = row_n(row)
    return bool(min_n) and pd.notna(n) and n < min_n


def suppression_mask(results: pd.DataFrame, params: Params) -> pd.Series:
    """Rows of ``results`` the report must not show, with complementary suppression.

    Primary: rows with fewer than ``params.min_cell_size`` respondents
    (:func:`too_small`). Secondary: when exactly one group of an indicator is
    hidden and the pooled ``all`` row is shown, the smallest other group is
    hidden too, so that the hidden group cannot be derived as "all respondents
    minus the other groups".

    Returns
    -------
    pandas.Series of bool
        Aligned with ``results.index``; True = do not show.

    References
    ----------
    Hundepool, A. et al. (2012). Statistical Disclosure Control, ch. 5
    (secondary cell suppression). Wiley.
    """
    k = params.min_cell_size
    mask = pd.Series([too_small(r, k) for _i, r in results.iterrows()], index=results.index, dtype=bool)
    for _i, idx in results.groupby("indicator", sort=False).groups.items():
        sub = results.loc[idx]
        groups = sub[sub["group"] != "all"]
        pooled = sub[sub["group"] == "all"]
        hidden = groups.index[mask.loc[groups.index]]
        shown = groups.index[~mask.loc[groups.index]]
        if len(hidden) == 1 and len(pooled) and not mask.loc[pooled.index].all() and len(shown):
            sizes = pd.Series({i: row_n(results.loc[i]) for i in shown})
            mask.loc[sizes.fillna(np.inf).idxmin()] = True
    return mask
