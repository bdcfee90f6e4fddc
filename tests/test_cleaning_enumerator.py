"""Issue 13 (9): the test-enumerator rule reads a text form question and never logs a rule it did not run."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from evalkit.cleaning import drop_test_submissions

START = dt.date(2022, 1, 17)


def _frame(names):
    return pd.DataFrame({"resp/Enum_Name": names, "start": ["2022-01-18T10:00:00.000+08:00"] * len(names)})


def test_names_from_a_text_question_are_normalised_before_matching():
    df = _frame([" Test ", "TEST", "Saraa", None, "tester"])
    out = drop_test_submissions(df, enumerator_column="resp/Enum_Name", test_enumerators=["test "],
                                fieldwork_start=START)
    # Reference: strip + casefold by hand.
    expected_kept = [n for n in df["resp/Enum_Name"] if not (isinstance(n, str) and n.strip().casefold() == "test")]
    assert out.kept["resp/Enum_Name"].tolist() == expected_kept
    assert out.log.rows_dropped == 2
    assert "NOT APPLIED" not in out.log.reason


def test_a_rule_that_cannot_run_says_so():
    df = _frame(["Test", "Saraa"]).drop(columns=["resp/Enum_Name"])
    out = drop_test_submissions(df, enumerator_column="resp/Enum_Name", test_enumerators=["test"],
                                fieldwork_start=START)
    assert out.log.rows_dropped == 0
    assert "NOT APPLIED" in out.log.reason and "resp/Enum_Name" in out.log.reason
