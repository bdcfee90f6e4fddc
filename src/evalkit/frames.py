"""Reading analysis columns out of a pandas frame, one way everywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd


def float_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 (NA -> NaN); an absent column is all NaN.

    Examples
    --------
    >>> float_column(pd.DataFrame({"y": pd.array([1, None], dtype="Int64")}), "y").tolist()
    [1.0, nan]
    >>> float_column(pd.DataFrame({"y": [1]}), "z").tolist()
    [nan]
    """
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(frame[column].to_numpy(dtype="float64", na_value=np.nan), dtype=float)
