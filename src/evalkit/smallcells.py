"""The small-cell rule: no count of 1 to ``min_cell_size - 1`` people is published or derivable.

Every table, figure, alt text and notebook output that shows a count of
people, or a percentage of a published total of people, decides what to hide
here, with :func:`protect`:

- **Primary suppression.** A cell describing 1 to ``min_cell_size - 1``
  people is hidden. A percentage counts as the people it stands for:
  "Drop-outs 7.7 % of 104 live in Orkhon" is 8 people
  (:func:`people_in_share`).
- **Complementary suppression.** Cells that add up to a published total form
  a *line* (the groups of a wave, the levels of a demographic among the
  drop-outs). In every line the hidden cells must be either none, or at least
  two that together describe ``min_cell_size`` people or more; otherwise the
  smallest shown cell of the line is hidden too, and lines are re-checked
  until none changes (Hundepool et al. 2012, ch. 5). A line whose total is
  itself 1 to ``min_cell_size - 1`` people cannot be protected inside it: the
  total is a cell of the table around it (give it to :func:`protect` there).

**What is a count of people** (protected): respondents in a group, a wave, a
demographic level, the population asked a question, the panel's matched,
baseline-only and endline-only respondents, drop-outs and completers, and any
share of these.

**What is a data-quality count about answers** (published as is): rows an
individual cleaning rule dropped (submissions, not a description of who the
respondents are), the number or share of "don't know" and "refused"
*answers* among those asked, and indicator results (shares of answers, each
published only when its base has at least ``min_cell_size`` respondents). When
the base of such a rate is hidden, the rate is hidden with it.

References
----------
Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley, ch. 5
(threshold rule, secondary cell suppression).
Office for National Statistics (2022). Statistical disclosure control for
tables produced from surveys, sections 3-4.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Text shown in place of a hidden number.
SUPPRESSED = "suppressed"


def is_small(counts: pd.Series | np.ndarray | float, k: int) -> np.ndarray:
    """True where a count describes 1 to ``k - 1`` people (missing counts are not small).

    Examples
    --------
    >>> is_small(pd.Series([0, 1, 9, 10, None]), 10).tolist()
    [False, True, True, False, False]
    """
    n = pd.to_numeric(pd.Series(np.atleast_1d(counts)), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (n >= 1) & (n < k)


def people_in_share(share_pct: pd.Series, total: pd.Series) -> pd.Series:
    """The number of people a percentage of a known total stands for (rounded).

    Examples
    --------
    >>> people_in_share(pd.Series([7.7]), pd.Series([104])).tolist()
    [8.0]
    """
    return (pd.to_numeric(share_pct, errors="coerce") / 100 * pd.to_numeric(total, errors="coerce")).round()


def protect(cells: pd.DataFrame, *, count: str, k: int, lines: Sequence[Sequence[str]] = (),
            hidden: pd.Series | None = None) -> pd.Series:
    """Which cells to hide: primary plus complementary suppression.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per published cell; not modified.
    count : str, keyword-only
        Column with the number of people each cell describes.
    k : int, keyword-only
        ``params.min_cell_size``.
    lines : sequence of sequences of str, keyword-only
        Each a list of columns: cells with equal values in them add up to a
        published (or derivable) total; a cell with a missing value in them is
        in no line of that kind. A cell may belong to several lines.
    hidden : pandas.Series of bool, optional
        Cells hidden for another reason (or not shown at all but part of a
        line); they count as hidden when lines are checked.

    Returns
    -------
    pandas.Series of bool
        Aligned with ``cells.index``; True = do not show.

    Examples
    --------
    >>> t = pd.DataFrame({"wave": ["b"] * 3, "group": ["p", "s", "t"], "n": [300, 4, 50]})
    >>> protect(t, count="n", k=10, lines=[["wave"]]).tolist()
    [False, True, True]
    """
    n = pd.to_numeric(cells[count], errors="coerce").fillna(0).astype(float)
    mask = pd.Series(is_small(n.to_numpy(), k), index=cells.index)
    if hidden is not None:
        mask |= hidden.reindex(cells.index).fillna(False).astype(bool)
    groups = [list(cells.groupby(line[0] if len(line) == 1 else list(line), sort=False, dropna=True).groups.values())
              for line in lines]
    changed = True
    while changed:
        changed = False
        for line_groups in groups:
            for idx in line_groups:
                h = mask.loc[idx]
                positive = n.loc[idx][h] > 0
                total_hidden = float(n.loc[idx][h].sum())
                if not (int(positive.sum()) == 1 or 0 < total_hidden < k):
                    continue
                shown = n.loc[idx][~h]
                if shown.empty:
                    continue  # everything in the line is hidden already
                # the smallest shown cell with people in it; a zero cell only when no other is left
                order = shown.sort_values(kind="stable")
                pick = order[order > 0].index[:1] if (order > 0).any() else order.index[:1]
                mask.loc[pick] = True
                changed = True
    return mask


def hide(values: pd.Series, mask: pd.Series) -> pd.Series:
    """``values`` with the masked cells replaced by :data:`SUPPRESSED` (object dtype)."""
    return values.astype("object").where(~mask.reindex(values.index).fillna(False).astype(bool), SUPPRESSED)


def missing_rates_table(rates: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """:func:`evalkit.indicators.missing_rates` as the clean notebook may show it.

    ``n_asked`` and ``n_answered`` count people: hidden for 1 to ``k - 1``
    (and, since asked minus the answers is the answered count, together). The
    don't-know and refused counts and rates are about answers and stay,
    except where nobody may know the base (fewer than ``k`` asked).

    Parameters
    ----------
    rates : pandas.DataFrame
        ``wave, indicator, n_asked, n_answered, n_dont_know, n_refused,
        dont_know_pct, refused_pct``; not modified.
    k : int, keyword-only

    Returns
    -------
    pandas.DataFrame
        Same columns, percentages rounded to 1 decimal, hidden cells
        :data:`SUPPRESSED`.
    """
    out = rates.copy()
    out[["dont_know_pct", "refused_pct"]] = out[["dont_know_pct", "refused_pct"]].round(1)
    base = pd.Series(is_small(out["n_asked"], k), index=out.index)
    answered = pd.Series(is_small(out["n_answered"], k), index=out.index)
    for col in ("n_asked", "n_answered", "n_dont_know", "n_refused", "dont_know_pct", "refused_pct"):
        out[col] = hide(out[col], base | answered if col in ("n_asked", "n_answered") else base)
    return out


def panel_table(panel: pd.DataFrame | None, *, k: int) -> pd.DataFrame | None:
    """The panel counts (matched, baseline-only, endline-only) as the clean notebook may show them.

    Baseline respondents = matched + baseline-only and endline respondents =
    matched + endline-only are published elsewhere, so each of the two sums is
    a line: hiding a small baseline-only count hides the matched count too.
    """
    if panel is None or panel.empty:
        return panel
    r = panel.iloc[0]
    cells = pd.DataFrame({"n": [r["matched"], r["baseline_only"], r["endline_only"]],
                          "baseline": ["b", "b", None], "endline": ["e", None, "e"]},
                         index=["matched", "baseline_only", "endline_only"])
    mask = protect(cells, count="n", k=k, lines=[["baseline"], ["endline"]])
    out = panel.astype("object").copy()
    for col in mask.index[mask]:
        out[col] = SUPPRESSED
    return out
