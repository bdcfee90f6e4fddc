"""Small-cell suppression of results rows: which rows the report must not show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    (:func:`too_small`). Secondary: the groups of an indicator add up to the
    pooled ``all`` row, so when its hidden groups are one, or describe fewer
    than ``min_cell_size`` people together, the smallest other group is hidden
    too (:func:`evalkit.smallcells.protect`, the one small-cell gate).

    Returns
    -------
    pandas.Series of bool
        Aligned with ``results.index``; True = do not show.

    References
    ----------
    Hundepool, A. et al. (2012). Statistical Disclosure Control, ch. 5
    (secondary cell suppression). Wiley.
    """
    from evalkit.smallcells import protect

    k = params.min_cell_size
    primary = pd.Series([too_small(r, k) for _i, r in results.iterrows()], index=results.index, dtype=bool)
    # blanked rows (n unknown) count as large: compare.suppress_small_groups already gave them their complement
    cells = pd.DataFrame({"n": [row_n(r) for _i, r in results.iterrows()],
                          "line": results["indicator"].astype("object").where(results["group"] != "all")},
                         index=results.index)
    cells["n"] = cells["n"].where(~(primary & cells["n"].isna()), float(k))
    return protect(cells, count="n", k=k, lines=[["line"]], hidden=primary)
