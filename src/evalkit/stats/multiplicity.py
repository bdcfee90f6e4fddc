"""Multiplicity adjustment across all rows of one report: Holm and Benjamini-Hochberg.

Both ignore NaN p-values (rows without a test) and keep them NaN; ``m`` is
the number of non-NaN p-values. Note that statsmodels' ``multipletests``
defaults to Holm-Sidak; these are plain Holm and BH, tested against
``multipletests(method="holm")`` and ``method="fdr_bh"``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from evalkit.errors import AnalysisError


def _valid(p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(p, dtype=float).ravel()
    ok = ~np.isnan(arr)
    if ((arr[ok] < 0) | (arr[ok] > 1)).any():
        raise AnalysisError(f"p-values must lie in [0, 1]; got {arr[ok][(arr[ok] < 0) | (arr[ok] > 1)][:5].tolist()}.")
    return arr, ok


def _adjust_sorted(p: ArrayLike, step: "Callable[[np.ndarray, int], np.ndarray]") -> np.ndarray:
    """Apply an adjustment defined on ascending p-values; keep input order and NaN.

    ``step(v, m)`` gets the ``m`` valid p-values sorted ascending and returns
    their adjusted values (capped at 1 here).
    """
    arr, ok = _valid(p)
    out = np.full_like(arr, np.nan)
    v = arr[ok]
    if v.size:
        order = np.argsort(v, kind="stable")
        res = np.empty(v.size)
        res[order] = np.minimum(step(v[order], v.size), 1.0)
        out[ok] = res
    return out


def holm(p: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate).

    ``p_holm[(i)] = max_{j <= i} min(1, (m - j + 1) p_(j))`` over the sorted
    p-values.

    Parameters
    ----------
    p : array_like
        Raw p-values; NaN entries are skipped.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order (NaN kept), each >= the raw one.

    References
    ----------
    Holm S (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics 6:65-70.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    return _adjust_sorted(p, lambda v, m: np.maximum.accumulate((m - np.arange(m)) * v))


def benjamini_hochberg(p: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg q-values (false discovery rate).

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the sorted p-values.

    Parameters
    ----------
    p : array_like
        Raw p-values; NaN entries are skipped.

    Returns
    -------
    numpy.ndarray
        q-values in the input order (NaN kept).

    References
    ----------
    Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate.
    JRSS B 57:289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    return _adjust_sorted(p, lambda v, m: np.minimum.accumulate((v * m / np.arange(1, m + 1))[::-1])[::-1])


def adjust_within_families(p: ArrayLike, families: ArrayLike, tests: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Holm and BH within each family, counting each distinct test once.

    Rows that are the same test (the pooled "all" row of a population with a
    single group is that group's test) share a ``tests`` key; the family's
    ``m`` counts keys, not rows, and every row of a key gets the key's
    adjusted p-value.

    Parameters
    ----------
    p : array_like
        Raw p-values, one per row; NaN rows are left NaN and not counted.
    families : array_like of str
        Family of each row (e.g. ``primary``, ``secondary``); rows of
        different families are adjusted separately.
    tests : array_like of hashable
        Identity of the test behind each row; rows with equal keys must
        carry equal p-values (the first one is used).

    Returns
    -------
    (p_holm, q_bh) : tuple of numpy.ndarray
        In the input order; NaN where ``p`` is NaN.

    Examples
    --------
    >>> h, q = adjust_within_families([0.01, 0.01, 0.04], ["a", "a", "a"], ["t1", "t1", "t2"])
    >>> h.round(4).tolist(), q.round(4).tolist()
    ([0.02, 0.02, 0.04], [0.02, 0.02, 0.04])
    """
    arr, ok = _valid(p)
    fam, key = np.asarray(families, dtype=object).ravel(), list(tests)
    if not (fam.size == arr.size == len(key)):
        raise AnalysisError(f"adjust_within_families() needs one family and one test key per p-value; got "
                            f"{arr.size} p-values, {fam.size} families and {len(key)} keys.")
    out_h, out_q = np.full_like(arr, np.nan), np.full_like(arr, np.nan)
    for f in dict.fromkeys(fam[ok].tolist()):
        rows = [i for i in range(arr.size) if ok[i] and fam[i] == f]
        first: dict = {}
        for i in rows:
            first.setdefault(key[i], i)
        distinct = list(first.values())
        h, q = holm(arr[distinct]), benjamini_hochberg(arr[distinct])
        by_key = {key[i]: (h[j], q[j]) for j, i in enumerate(distinct)}
        for i in rows:
            out_h[i], out_q[i] = by_key[key[i]]
    return out_h, out_q
