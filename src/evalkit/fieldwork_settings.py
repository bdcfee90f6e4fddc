"""Params schema of the ``fieldwork:`` block: settings of the daily fieldwork checks.

Read by :mod:`evalkit.params` (``Params.fieldwork``) strictly like the rest of
the file; used by :mod:`evalkit.fieldwork`. Every key is optional. This module
imports nothing from evalkit, so :mod:`evalkit.params` can use it without an
import cycle. User documentation: ``params/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FieldworkSettings:
    """How ``make check`` judges a partial export.

    Attributes
    ----------
    target_per_day : int or None
        Submissions each enumerator should make per fieldwork day; a day
        below it is flagged. None: no target, counts only.
    enumerator_ids : {"as_is", "pseudonymise"}
        Enumerators are staff: shown by the username the team knows
        (default), or by a keyed pseudonym where the page leaves the team.
    max_short_share : float
        An enumerator with more than this share of interviews shorter than
        ``cleaning.min_duration_minutes`` is flagged (0.1 = 10%).
    outlier_z : float
        Robust outlier threshold: an enumerator whose median duration (or
        don't-know/refusal rate) has a modified z-score above this, in
        absolute value, is flagged (Iglewicz and Hoaglin 1993 recommend 3.5).
    follow_up_by : str or None
        Demographics key (e.g. ``location``) by which a panel endline counts
        the baseline respondents not yet re-interviewed. None: ``location``
        when it is a demographics key, else totals only.
    """

    target_per_day: int | None = None
    enumerator_ids: Literal["as_is", "pseudonymise"] = "as_is"
    max_short_share: float = 0.1
    outlier_z: float = 3.5
    follow_up_by: str | None = None
