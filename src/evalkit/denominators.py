"""Does an indicator's denominator policy change its published percentage?

Each indicator's params ``denominator`` says whether "not asked", "don't
know" and "refused" are left out of the percentage (default) or counted as a
negative outcome (:class:`evalkit.indicator_spec.Denominator`). Both are
defensible; a reader should know when the choice matters.
:func:`policy_shift` recomputes each wave's percentage with each of the
three choices flipped and reports the largest move; when it is larger than
the wave's margin of error (half the width of its 95% interval),
:func:`evalkit.compare.compare_indicators` says so in ``note`` and sets
``denominator_flag``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.frames import float_column
from evalkit.params import Indicator

#: The reasons a policy can flip, with the words used in notes.
_REASONS = {"not_asked": "'not asked'", "dont_know": "'don't know'", "refused": "'refused'"}
#: Kinds with a percentage and a denominator policy.
POLICY_KINDS = ("binary", "likert", "scale")


def _wave(frame: pd.DataFrame, column: str, suffix: str, weight: str
          ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """The 0/1 outcome, one mask per reason of :data:`_REASONS`, and the weights (missing = 0)."""
    y = float_column(frame, f"{column}{suffix}")
    rc = f"{column}_missing_reason{suffix}"
    if rc in frame:  # compared in the column's own dtype: no text copy of a 1M-row column
        reasons = {r: frame[rc].eq(r).to_numpy(dtype=bool, na_value=False) for r in _REASONS}
    else:
        reasons = {r: np.zeros(len(frame), dtype=bool) for r in _REASONS}
    w = float_column(frame, weight) if weight in frame else np.ones(len(frame))
    return y, reasons, np.nan_to_num(w, nan=0.0)


def policy_shift(ind: Indicator, base: pd.DataFrame, end: pd.DataFrame | None, *, design: str) -> list[dict]:
    """Each wave's percentage with each denominator choice flipped.

    Parameters
    ----------
    ind : Indicator
    base, end : pandas.DataFrame
        One indicator x group's frames as :func:`evalkit.compare_rows.comparison_row`
        receives them (paired: the matched pairs with ``_b``/``_e`` columns,
        ``end`` None); they carry ``<id>_missing_reason``.
    design : {"paired", "independent"}, keyword-only

    Returns
    -------
    list of dict
        One per wave x reason present: ``wave, reason, flipped_to,
        pct, pct_flipped, shift_pp`` (weighted like the headline).
    """
    if ind.type not in POLICY_KINDS:
        return []
    # weighted like the headline: a pair by its baseline weight at both waves
    frames = ({"baseline": (base, "_b", "weight_b"), "endline": (base, "_e", "weight_b")} if design == "paired"
              else {"baseline": (base, "", "weight"), "endline": (end, "", "weight")})
    out = []
    for wave, (frame, suffix, weight) in frames.items():
        if frame is None or len(frame) == 0:
            continue
        y, reasons, w = _wave(frame, ind.id, suffix, weight)
        counted = ~np.isnan(y)
        total, x = w[counted].sum(), (w[counted] * y[counted]).sum()
        if total <= 0:
            continue
        for r in _REASONS:
            m = w[reasons[r]].sum()
            if m == 0:
                continue
            current = getattr(ind.denominator, r)
            flipped = total + m if current == "excluded" else total - m
            if flipped <= 0:
                continue
            out.append({"wave": wave, "reason": r, "flipped_to": "negative" if current == "excluded" else "excluded",
                        "pct": 100 * x / total, "pct_flipped": 100 * x / flipped,
                        "shift_pp": 100 * x / flipped - 100 * x / total})
    return out


def flag(row: dict, shifts: list[dict]) -> tuple[float, bool, str]:
    """(largest shift in pp, whether it exceeds the margin of error, the note sentence or "").

    The margin of error of a wave is half the width of its published 95%
    Wilson interval (``<wave>_ci_low_pct`` / ``<wave>_ci_high_pct`` of ``row``).
    """
    if not shifts:
        return np.nan, False, ""
    worst = max(shifts, key=lambda s: abs(s["shift_pp"]))
    notes = []
    for s in sorted(shifts, key=lambda s: -abs(s["shift_pp"])):
        moe = (row.get(f"{s['wave']}_ci_high_pct", np.nan) - row.get(f"{s['wave']}_ci_low_pct", np.nan)) / 2
        if np.isfinite(moe) and abs(s["shift_pp"]) > moe:
            what = "counted as negative" if s["flipped_to"] == "negative" else "left out"
            notes.append(f"with {_REASONS[s['reason']]} answers {what} the {s['wave']} percentage would be "
                         f"{s['pct_flipped']:.1f}% instead of {s['pct']:.1f}%, more than its margin of error "
                         f"(+/-{moe:.1f} pp)")
    return float(worst["shift_pp"]), bool(notes), ("denominator choice matters: " + "; ".join(notes[:2])
                                                    if notes else "")
