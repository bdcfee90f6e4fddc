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


def protect_rows(counts: pd.DataFrame, *, k: int, line: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """Rows hidden whole (a group, a subgroup level): each has one count of people per column.

    A row is hidden when any of its counts is 1 to ``k - 1`` (primary), or to
    protect another row (complementary): rows with the same ``line`` value add
    up, column by column, to a published total (e.g. the groups of an
    indicator and its "all respondents" row); :func:`protect` is applied to
    every column, a row hidden in one column is hidden in all, until stable.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per published row, one numeric column per count (``n_baseline``,
        ``n_endline``); not modified.
    k : int, keyword-only
    line : pandas.Series, optional
        Same index; rows with equal values add up to a published total;
        missing = the row is in no line (e.g. the total itself).

    Returns
    -------
    (primary, complementary) : two boolean Series aligned with ``counts.index``

    Examples
    --------
    >>> c = pd.DataFrame({"n_baseline": [120, 5, 40], "n_endline": [118, 6, 44]})
    >>> p, c2 = protect_rows(c, k=10, line=pd.Series(["x", "x", "x"]))
    >>> p.tolist(), c2.tolist()
    ([False, True, False], [False, False, True])
    """
    n = counts.apply(pd.to_numeric, errors="coerce").reset_index(drop=True)
    lines = pd.Series(line.reindex(counts.index).to_numpy(dtype=object)) if line is not None else None
    primary = pd.Series(np.zeros(len(n), dtype=bool))
    for col in n.columns:
        primary |= is_small(n[col], k)
    hidden = primary.copy()
    changed = True
    while changed:  # column by column, each seeing the rows hidden so far (fewer complements)
        changed = False
        for col in n.columns:
            if lines is None:
                break
            mask = protect(pd.DataFrame({"n": n[col], "line": lines}), count="n", k=k, lines=[["line"]],
                           hidden=hidden)
            if (mask & ~hidden).any():
                hidden |= mask
                changed = True
    primary, hidden = (pd.Series(x.to_numpy(), index=counts.index) for x in (primary, hidden))
    return primary, hidden & ~primary


def hide(values: pd.Series, mask: pd.Series) -> pd.Series:
    """``values`` with the masked cells replaced by :data:`SUPPRESSED` (object dtype)."""
    return values.astype("object").where(~mask.reindex(values.index).fillna(False).astype(bool), SUPPRESSED)


def hidden_groups(responses: pd.DataFrame, groups: Sequence[str], *, k: int) -> dict[str, set[str]]:
    """Per wave, the respondent groups whose count the sample table hides.

    The groups of a wave add up to its published total (one line).
    """
    out: dict[str, set[str]] = {}
    for wave in ("baseline", "endline"):
        n = responses.loc[responses["wave"] == wave, "group"].value_counts().reindex(list(groups), fill_value=0)
        mask = protect(pd.DataFrame({"n": n.to_numpy(), "line": "groups"}, index=n.index), count="n", k=k,
                       lines=[["line"]])
        out[wave] = set(mask.index[mask])
    return out


def reveals_hidden_group(population: set[str], hidden: set[str]) -> bool:
    """A count over ``population`` gives away hidden groups: it holds some, not all, of them.

    The total is published and the shown groups are known, so a population
    count that includes all hidden groups (or none) reveals only their sum,
    which the gate already keeps at zero or at least ``k``.
    """
    return 0 < len(population & hidden) < len(hidden)


def missing_rates_table(rates: pd.DataFrame, *, k: int, populations: dict[str, set[str]] | None = None,
                        hidden: dict[str, set[str]] | None = None) -> pd.DataFrame:
    """:func:`evalkit.indicators.missing_rates` as the clean notebook may show it.

    ``n_asked`` and ``n_answered`` count people: hidden for 1 to ``k - 1``
    (together, since asked minus the answers gives the answered count), and
    when ``n_asked`` would reveal a hidden group (:func:`reveals_hidden_group`).
    The don't-know and refused counts and rates are about answers and stay,
    unless fewer than ``k`` were asked.

    Parameters
    ----------
    rates : pandas.DataFrame
        ``wave, indicator, n_asked, n_answered, n_dont_know, n_refused,
        dont_know_pct, refused_pct``; not modified.
    k : int, keyword-only
    populations : dict, optional
        Indicator id -> the groups asked it.
    hidden : dict, optional
        Wave -> hidden groups (:func:`hidden_groups`).

    Returns
    -------
    pandas.DataFrame
        Same columns, percentages rounded to 1 decimal, hidden cells
        :data:`SUPPRESSED`.
    """
    out = rates.copy()
    out[["dont_know_pct", "refused_pct"]] = out[["dont_know_pct", "refused_pct"]].round(1)
    base = pd.Series(is_small(out["n_asked"], k), index=out.index)
    people = base | pd.Series(is_small(out["n_answered"], k), index=out.index)
    if populations is not None and hidden is not None:
        people |= pd.Series([reveals_hidden_group(populations.get(r.indicator, set()), hidden.get(r.wave, set()))
                             for r in out.itertuples()], index=out.index, dtype=bool)
    for col in ("n_asked", "n_answered", "n_dont_know", "n_refused", "dont_know_pct", "refused_pct"):
        out[col] = hide(out[col], people if col in ("n_asked", "n_answered") else base)
    return out


def missing_rates_for(rates: pd.DataFrame, responses: pd.DataFrame, params: "Params") -> pd.DataFrame:  # noqa: F821
    """:func:`missing_rates_table` with the groups and populations of ``params`` (the clean notebook's call)."""
    return missing_rates_table(rates, k=params.min_cell_size,
                               populations={i.id: set(i.population) for i in params.indicators},
                               hidden=hidden_groups(responses, list(params.groups), k=params.min_cell_size))


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
