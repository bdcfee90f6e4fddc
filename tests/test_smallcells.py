"""Tests of evalkit.smallcells: the one small-cell rule (primary + complementary suppression)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from evalkit.smallcells import SUPPRESSED, is_small, missing_rates_table, panel_table, people_in_share, protect

K = 10


def derivable(cells: pd.DataFrame, mask: pd.Series, lines: list[list[str]]) -> set:
    """Independent check by brute force: the hidden cells whose value, or whose sum with other hidden cells of a
    line, is pinned to 1..K-1 by the published line totals (each line's total minus its shown cells)."""
    bad = set()
    for line in lines:
        for _, part in cells.dropna(subset=line).groupby(line):
            h = part[mask.loc[part.index]]
            if 0 < part["n"].sum() < K:
                continue  # a small total is itself a cell: protecting it is the job of the line it is in
            if len(h) == 1 and 0 < h["n"].iloc[0]:
                bad.add(h.index[0])  # the only hidden cell of its line: total minus the shown ones
            if 0 < h["n"].sum() < K:
                bad |= set(h.index)  # together the hidden cells of the line describe a small group
    return bad


def test_is_small_edges():
    assert is_small(pd.Series([0, 1, 9, 10, np.nan]), K).tolist() == [False, True, True, False, False]
    assert is_small(5, K).tolist() == [True]


def test_people_in_share_is_the_count_behind_a_percentage():
    # "Aimag: orkhon, Drop-outs 7.7%, n 104": 8 people; "0.4% of 746": 3 people
    assert people_in_share(pd.Series([7.7, 0.4, 0.0]), pd.Series([104, 746, 50])).tolist() == [8, 3, 0]


@pytest.mark.parametrize("counts", [[300, 4, 50], [300, 4, 5, 80], [1, 2, 3], [0, 4, 200], [4, 0, 0],
                                    [12, 15, 300], [9, 9, 9, 500]])
def test_one_line_is_protected(counts):
    cells = pd.DataFrame({"line": "w", "n": counts})
    mask = protect(cells, count="n", k=K, lines=[["line"]])
    assert derivable(cells, mask, [["line"]]) <= {i for i in cells.index if cells.loc[i, "n"] == 0} or mask.all()
    assert not mask[cells["n"] >= K].any() or is_small(cells["n"], K).any()  # no hiding without a small cell
    assert mask[is_small(cells["n"], K)].all()


def test_nothing_small_hides_nothing():
    cells = pd.DataFrame({"line": "w", "n": [10, 20, 30]})
    assert not protect(cells, count="n", k=K, lines=[["line"]]).any()


def test_two_way_table_with_row_and_column_totals():
    """A 3x3 table of people with row and column totals published: no hidden cell can be recovered."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = rng.choice([0, 3, 7, 15, 40, 120], size=9)
        cells = pd.DataFrame({"r": np.repeat(["a", "b", "c"], 3), "c": ["x", "y", "z"] * 3, "n": n})
        mask = protect(cells, count="n", k=K, lines=[["r"], ["c"]])
        assert mask[is_small(cells["n"], K)].all()
        zeros = set(cells.index[cells["n"] == 0])
        assert derivable(cells, mask, [["r"], ["c"]]) - zeros == set() or mask.all(), (n, mask.tolist())


def test_cells_outside_a_line_and_already_hidden_cells():
    cells = pd.DataFrame({"a": ["x", "x", None], "n": [100, 200, 3]})
    mask = protect(cells, count="n", k=K, lines=[["a"]])
    assert mask.tolist() == [False, False, True]  # the small cell is in no line: nothing to complement
    mask = protect(cells, count="n", k=K, lines=[["a"]], hidden=pd.Series([True, False, False]))
    assert mask.tolist() == [True, True, True]  # one hidden cell in a line gets a partner


def test_missing_rates_table_hides_people_keeps_answers():
    rates = pd.DataFrame({"wave": ["baseline"] * 2, "indicator": ["a", "b"], "n_asked": [4, 600],
                          "n_answered": [2, 590], "n_dont_know": [2, 7], "n_refused": [0, 3],
                          "dont_know_pct": [50.0, 7 / 6], "refused_pct": [0.0, 0.5]})
    out = missing_rates_table(rates, k=K)
    assert (out.iloc[0][["n_asked", "n_answered", "n_dont_know", "dont_know_pct"]] == SUPPRESSED).all()
    assert out.iloc[1]["n_asked"] == 600 and out.iloc[1]["n_dont_know"] == 7  # answers about quality stay
    assert out.iloc[1]["dont_know_pct"] == pytest.approx(1.2, abs=1e-9)
    assert rates["n_asked"].tolist() == [4, 600], "the input must not be modified"


@pytest.mark.parametrize(("matched", "b_only", "e_only", "hidden"), [
    (740, 106, 30, set()), (740, 6, 30, {"matched", "baseline_only", "endline_only"}),
    (740, 0, 0, set()), (5, 0, 0, {"matched", "baseline_only", "endline_only"})])
def test_panel_table(matched, b_only, e_only, hidden):
    out = panel_table(pd.DataFrame([{"matched": matched, "baseline_only": b_only, "endline_only": e_only}]), k=K)
    assert {c for c in out.columns if out.iloc[0][c] == SUPPRESSED} == hidden


def test_every_small_subset_sum_is_protected_brute_force():
    """All lines of 4 cells with values in {0, 2, 8, 30}: the hidden part is 0 or >= K, never a single cell."""
    for combo in itertools.product([0, 2, 8, 30], repeat=4):
        cells = pd.DataFrame({"line": "w", "n": list(combo)})
        mask = protect(cells, count="n", k=K, lines=[["line"]])
        h = cells["n"][mask]
        if mask.all():
            continue
        assert h.sum() == 0 or (h.sum() >= K and (h > 0).sum() >= 2), (combo, mask.tolist())
