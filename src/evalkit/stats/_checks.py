"""Argument checks shared by the statistics modules (not public API)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evalkit.errors import AnalysisError


def as_table(table: ArrayLike, *, what: str) -> np.ndarray:
    """Return a 2x2 float table, or raise if it is not one of non-negative counts."""
    t = np.asarray(table, dtype=float)
    if t.shape != (2, 2):
        raise AnalysisError(f"{what} needs a 2x2 table of counts [[a, b], [c, d]]; got shape {t.shape}.")
    if np.isnan(t).any() or (t < 0).any():
        raise AnalysisError(f"{what} needs non-negative counts; got {t.tolist()}.")
    return t


def check_counts(count: float, nobs: float, *, what: str) -> None:
    """Raise if ``0 <= count <= nobs`` does not hold."""
    if not (np.isfinite(count) and np.isfinite(nobs) and 0 <= count <= nobs):
        raise AnalysisError(f"{what} needs 0 <= count <= nobs; got count={count}, nobs={nobs}.")


def as_float_array(x: ArrayLike) -> np.ndarray:
    """1-D float array (pandas NA becomes NaN)."""
    if hasattr(x, "to_numpy"):
        return np.asarray(x.to_numpy(dtype="float64", na_value=np.nan), dtype=float).ravel()
    return np.asarray(x, dtype=float).ravel()
