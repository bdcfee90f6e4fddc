"""Tests for evalkit.atomic: all-or-nothing writes and CSV formula neutralising."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.atomic import atomic_path, neutralise_formula, write_csv_atomic, write_text_atomic


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("previous")
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("killed")
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_successful_write_replaces(tmp_path):
    out = tmp_path / "sub" / "a.txt"
    write_text_atomic(out, "new")
    assert out.read_text() == "new"
    assert [p.name for p in out.parent.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "=HYPERLINK(\"x\")"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise_formula(cell) == "'" + cell


def test_numbers_and_plain_text_untouched():
    assert neutralise_formula(-3.2) == -3.2
    assert neutralise_formula("agree") == "agree"


def test_write_csv_atomic_neutralises_text_not_numbers(tmp_path):
    df = pd.DataFrame({"label": ["=cmd|' /C calc'!A0", "ok"], "change_pp": [-3.5, 2.0]})
    out = write_csv_atomic(df, tmp_path / "r.csv")
    back = pd.read_csv(out)
    assert back["label"].tolist() == ["'=cmd|' /C calc'!A0", "ok"]
    assert back["change_pp"].tolist() == [-3.5, 2.0]
    assert df["label"].iloc[0].startswith("=")  # input not mutated


def test_outputs_get_normal_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        out = write_text_atomic(tmp_path / "r.html", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
