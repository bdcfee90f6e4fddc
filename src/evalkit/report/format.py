"""Formatting of numbers, percentages, dates and labels for report text.

One place for how a value is written (the language-dependent part of the
report), and :func:`esc`, the HTML-escaping gate every data or params value
passes through.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from evalkit.params import Params


def esc(value: object) -> str:
    """HTML-escape any value as text (``None``/NaN become an empty string)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)



def fmt_pct(x: object, *, digits: int = 1) -> str:
    """``51.3%`` or an en dash for a missing value."""
    return "\u2013" if pd.isna(x) else f"{float(x):.{digits}f}%"


def fmt_pp(x: object, *, digits: int = 1, sign: bool = True) -> str:
    """``+4.2 pp`` (signed) or an en dash."""
    if pd.isna(x):
        return "\u2013"
    return f"{float(x):+.{digits}f} pp" if sign else f"{float(x):.{digits}f} pp"


def fmt_ci(lo: object, hi: object, *, digits: int = 1, unit: str = "") -> str:
    """``(-1.2 to 9.6)``; an en dash when either end is missing."""
    if pd.isna(lo) or pd.isna(hi):
        return "\u2013"
    return f"({float(lo):.{digits}f} to {float(hi):.{digits}f}{unit})"


def fmt_p(p: object) -> str:
    """p-value as ``<0.001``, ``0.012`` or an en dash."""
    if pd.isna(p):
        return "\u2013"
    p = float(p)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def fmt_date(d: Any) -> str:
    """``17 January 2022``: English month names whatever the locale (``%B`` follows LC_TIME)."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def fmt_count(x: object, min_n: int) -> str:
    """A count, or ``fewer than <min_n>`` for 1 to ``min_n - 1`` (small-cell suppression)."""
    if pd.notna(x) and 0 < float(x) < min_n:
        return f"fewer than {min_n}"
    return fmt_int(x)


def fmt_int(x: object) -> str:
    """Whole number with thousands separators, or an en dash."""
    return "\u2013" if pd.isna(x) else f"{int(round(float(x))):,}"


def plural(n: int, word: str) -> str:
    """``"1 indicator"``, ``"3 indicators"``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


#: Label of the pooled row ``all``: the groups the indicator's question was
#: asked of, together (for a parents-only question, all parents).
ALL_GROUPS_LABEL = "All groups asked"


def group_label(params: Params, group: object) -> str:
    """Label shown for a group name (``all`` is :data:`ALL_GROUPS_LABEL`)."""
    if group == "all":
        return ALL_GROUPS_LABEL
    return params.groups.get(str(group), str(group))
