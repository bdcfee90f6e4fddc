"""Tests for evalkit.codebook: headers and answers of every export flavour map to codebook names."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import fixtures_raw as fx
from evalkit.codebook import format_rows, harmonise, normalise_label
from evalkit.errors import CodebookError
from evalkit.params import DateRange, WaveFile
from evalkit.readers import read_codebook, read_export

FW = DateRange(dt.date(2022, 1, 17), dt.date(2022, 1, 28))


@pytest.fixture
def codebook(tmp_path):
    return read_codebook(fx.write_codebook(tmp_path / "kap_form.xlsx"))


def _export(tmp_path, rows, **flavour):
    head, body = fx.export_rows(rows, **flavour)
    return read_export(fx.write_csv(tmp_path / "e.csv", head, body), WaveFile(file="e.csv", fieldwork=FW))


# The reference: the fixture rows themselves, in codebook names (fixtures_raw.baseline_rows).
ROWS = fx.baseline_rows()[:5]
EXPECTED = pd.DataFrame(ROWS)


@pytest.mark.parametrize("flavour", [
    dict(headers="xml", values="xml", language="en", sep="/"),
    dict(headers="xml", values="xml", language="en", sep="-"),
    dict(headers="label", values="label", language="mn", sep="-"),
    dict(headers="label", values="label", language="en", sep="/"),
    dict(headers="xml", values="label", language="mn", sep="/"),
])
def test_every_flavour_harmonises_to_the_same_answers(tmp_path, codebook, flavour):
    raw = _export(tmp_path, ROWS, **flavour)
    wf = WaveFile(file="e.csv", fieldwork=FW, headers=flavour["headers"], values=flavour["values"],
                  language=flavour["language"], group_separator=flavour["sep"])
    out = harmonise(raw, codebook, wave_file=wf, file="e.csv")
    for col in ["consent", "resp/resp_type", "demo/sex", "know/know_level", "know/self_know_sen", "prac/give_info",
                "prac/channels"]:
        assert out[col].tolist() == EXPECTED[col].tolist(), col
    assert out.index.tolist() == [2, 3, 4, 5, 6]
    assert "prac/channels/tv" not in out and "prac/channels-tv" not in out  # 0/1 dummies dropped
    assert out["resp/grade"].dtype == "Float64"
    assert raw.equals(_export(tmp_path, ROWS, **flavour))  # input not modified


def test_labels_with_stray_whitespace_and_case(tmp_path, codebook):
    raw = pd.DataFrame({"know/self_know_sen": ["  STRONGLY agree ", "Бүрэн санал  нийлж байна", "agree"],
                        "prac/channels": ["Facebook At school", "television", None]}, index=[2, 3, 4])
    out = harmonise(raw, codebook, wave_file=WaveFile(file="x", fieldwork=FW, values="label"))
    assert out["know/self_know_sen"].tolist() == ["strongly_agree", "strongly_agree", "agree"]
    assert out["prac/channels"].tolist()[:2] == ["facebook school", "tv"]
    assert pd.isna(out["prac/channels"].iloc[2])


def test_renamed_question(tmp_path, codebook):
    raw = pd.DataFrame({"know-know_well": ["agree"]}, index=[2])
    wf = WaveFile(file="x", fieldwork=FW, group_separator="-")
    out = harmonise(raw, codebook, wave_file=wf, renames={"know/know_well": "know/self_know_sen"})
    assert out.columns.tolist() == ["know/self_know_sen"]


def test_unknown_answers_are_all_listed(codebook):
    raw = pd.DataFrame({"know/know_level": ["good", "maybe", "good", "maybe", "maybe", "excellent"],
                        "demo/sex": ["male", "female", "other", "male", "male", "male"],
                        "resp/grade": ["4", "four", "5", "", "6", "7"]}, index=range(2, 8))
    with pytest.raises(CodebookError) as exc:
        harmonise(raw, codebook, wave_file=WaveFile(file="x", fieldwork=FW), file="baseline.csv")
    message = str(exc.value)
    assert "baseline.csv" in message and "4 answer(s)" in message
    assert "column 'know/know_level' has the value 'maybe' in 3 row(s): 3, 5-6" in message
    assert "'excellent' in 1 row(s): 7" in message
    assert "column 'demo/sex' has the value 'other' in 1 row(s): 4" in message
    assert "column 'resp/grade' has the value 'four' in 1 row(s): 3" in message
    assert "expected one of: very_poor, poor" in message


def test_unknown_column_suggests_rename(codebook):
    raw = pd.DataFrame({"know/know_well": ["agree"], "demo/shoe_size": ["42"]}, index=[2])
    with pytest.raises(CodebookError) as exc:
        harmonise(raw, codebook, wave_file=WaveFile(file="x", fieldwork=FW), file="b.csv", wave="baseline")
    message = str(exc.value)
    assert "column 1 'know/know_well'" in message and "column 2 'demo/shoe_size'" in message
    assert "renames: {baseline: {'know/know_well': <codebook name>}}" in message


def test_rename_to_unknown_question(codebook):
    raw = pd.DataFrame({"a": ["1"]}, index=[2])
    with pytest.raises(CodebookError, match="renamed to 'know/nope'"):
        harmonise(raw, codebook, wave_file=WaveFile(file="x", fieldwork=FW), renames={"a": "know/nope"})


def test_two_columns_same_question(codebook):
    raw = pd.DataFrame({"demo/sex": ["male"], "demo-sex": ["male"]}, index=[2])
    with pytest.raises(CodebookError, match="both hold question 'demo/sex'"):
        harmonise(raw, codebook, wave_file=WaveFile(file="x", fieldwork=FW, group_separator="-"))


def test_format_rows_and_normalise():
    assert format_rows([7, 2, 3, 4, 9]) == "2-4, 7, 9"
    assert format_rows(list(range(2, 200, 2)), limit=3) == "2, 4, 6 and 96 more"
    assert normalise_label("  Strongly   AGREE ") == "strongly agree"


def test_vectorised_on_many_rows(codebook):
    # 200k rows are mapped through their distinct values only (a smoke test of the vectorised path).
    raw = pd.DataFrame({"know/know_level": ["Good", "poor", "Маш сайн", None] * 50_000})
    out = harmonise(raw, codebook, wave_file=WaveFile(file="x", fieldwork=FW, values="label"))
    counts = out["know/know_level"].value_counts()
    assert counts[counts > 0].to_dict() == {"good": 50_000, "poor": 50_000, "very_good": 50_000}
