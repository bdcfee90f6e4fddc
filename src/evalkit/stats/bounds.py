"""Bounds on a change when "don't know" and "refused" answers are counted either way.

The headline percentages drop don't-know and refused answers from the
denominator (complete cases). Whether that matters is shown by recomputing
the change with those answers counted as negative, as positive, and at the
two extremes (worst case for an increase: positive at baseline, negative at
endline; best case: the reverse). These are Manski-style worst-case bounds
for item non-response (Manski 1989; Horowitz & Manski 2000), applied to a
difference of two proportions. Only answers of respondents who were asked
enter; questions not asked (``not_asked``) stay out.
"""

from __future__ import annotations

import numpy as np

#: ``<indicator>_missing_reason`` values counted in the bounds.
UNKNOWN_REASONS = ("dont_know", "refused")


def _share(y: np.ndarray, unknown: np.ndarray, w: np.ndarray, fill: float) -> float:
    v = np.where(unknown, fill, y)
    return float((w * v).sum() / w.sum())


def dont_know_bounds(yb: np.ndarray, unknown_b: np.ndarray, wb: np.ndarray, ye: np.ndarray,
                     unknown_e: np.ndarray, we: np.ndarray) -> dict[str, float]:
    """The change (endline - baseline, pp) with don't-know / refused answers imputed four ways.

    Parameters
    ----------
    yb, ye : numpy.ndarray
        Outcome (0/1, NaN = missing) at each wave. For a panel both are
        aligned by pair; for independent samples they are the two waves.
    unknown_b, unknown_e : numpy.ndarray of bool
        Whether the missing answer is a don't know or refused (same length
        as ``yb`` / ``ye``).
    wb, we : numpy.ndarray
        Weights (for a panel, pass the baseline weight twice).

    Returns
    -------
    dict
        ``change_pp_dk_negative`` (unknown = 0 at both waves),
        ``change_pp_dk_positive`` (unknown = 1 at both), ``change_pp_dk_low``
        (1 at baseline, 0 at endline), ``change_pp_dk_high`` (0 at baseline,
        1 at endline), and ``n_dont_know`` (unknown answers counted, both
        waves). NaN when nobody is left. For a panel, pass only the pairs
        whose two answers are each known or unknown (not when one was not
        asked), so both waves describe the same people.

    References
    ----------
    Manski CF (1989). Anatomy of the selection problem. Journal of Human
    Resources 24:343-360. Horowitz JL, Manski CF (2000). Nonparametric
    analysis of randomized experiments with missing covariate and outcome
    data. JASA 95:77-84.

    Examples
    --------
    >>> import numpy as np
    >>> yb, ye = np.array([0.0, 1.0, np.nan, 0.0]), np.array([1.0, 1.0, 0.0, np.nan])
    >>> dk_b, dk_e = np.array([False, False, True, False]), np.array([False, False, False, True])
    >>> w = np.ones(4)
    >>> b = dont_know_bounds(yb, dk_b, w, ye, dk_e, w)
    >>> b["change_pp_dk_low"], b["change_pp_dk_high"], b["n_dont_know"]
    (0.0, 50.0, 2.0)
    """
    yb, ye = np.asarray(yb, dtype=float), np.asarray(ye, dtype=float)
    ub, ue = np.asarray(unknown_b, dtype=bool), np.asarray(unknown_e, dtype=bool)
    wb, we = np.asarray(wb, dtype=float), np.asarray(we, dtype=float)
    okb = (~np.isnan(yb) | ub) & ~np.isnan(wb)
    oke = (~np.isnan(ye) | ue) & ~np.isnan(we)
    nan = {"change_pp_dk_negative": np.nan, "change_pp_dk_positive": np.nan, "change_pp_dk_low": np.nan,
           "change_pp_dk_high": np.nan, "n_dont_know": 0.0}
    if not okb.any() or not oke.any():
        return nan
    yb, ub, wb = np.nan_to_num(yb[okb]) > 0.5, ub[okb], wb[okb]
    ye, ue, we = np.nan_to_num(ye[oke]) > 0.5, ue[oke], we[oke]
    if wb.sum() <= 0 or we.sum() <= 0:
        return nan

    def change(fb: float, fe: float) -> float:
        return 100 * (_share(ye, ue, we, fe) - _share(yb, ub, wb, fb))

    return {"change_pp_dk_negative": change(0.0, 0.0), "change_pp_dk_positive": change(1.0, 1.0),
            "change_pp_dk_low": change(1.0, 0.0), "change_pp_dk_high": change(0.0, 1.0),
            "n_dont_know": float(ub.sum() + ue.sum())}
