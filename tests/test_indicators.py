"""Tests for evalkit.indicators: binary outcome, missing reason and Likert level per indicator."""

from __future__ import annotations

import pandas as pd

from evalkit.indicators import indicator_columns, missing_rates
from evalkit.params import Indicator

LEVELS = ["strongly_disagree", "disagree", "neutral", "agree", "strongly_agree"]
LIKERT = Indicator(id="agrees", label="A", theme="attitudes", question="a/q", positive=["agree", "strongly_agree"],
                   population=["parent"], type="likert", levels=LEVELS)


def test_truth_table():
    answers = pd.Series(["agree", "disagree", "dont_know", "refused", None, "strongly_agree", "neutral"])
    group = pd.Series(["parent"] * 5 + ["staff", "parent"])
    out = indicator_columns(answers, group, LIKERT, dont_know=["dont_know"], refused=["refused"])
    # Reference: the contract in docs/design.md ("Processed data contract"), row by row.
    assert out["agrees"].dtype == "boolean" and out["agrees_level"].dtype == "Int8"
    assert out["agrees"].tolist() == [True, False, pd.NA, pd.NA, pd.NA, pd.NA, False]
    reason = out["agrees_missing_reason"]
    assert reason.fillna("-").tolist() == ["-", "-", "dont_know", "refused", "not_asked", "not_asked", "-"]
    assert out["agrees_level"].tolist() == [4, 2, pd.NA, pd.NA, pd.NA, pd.NA, 3]


def test_binary_has_no_level():
    ind = Indicator(id="knows", label="K", theme="knowledge", question="k", positive=["yes"], population=["parent"])
    out = indicator_columns(pd.Series(["yes", "no"]), pd.Series(["parent", "parent"]), ind, dont_know=[], refused=[])
    assert set(out) == {"knows", "knows_missing_reason"}
    assert out["knows"].tolist() == [True, False]


def test_missing_rates():
    df = pd.DataFrame({"wave": ["baseline"] * 4, "agrees": pd.array([True, pd.NA, pd.NA, pd.NA], dtype="boolean"),
                       "agrees_missing_reason": [None, "dont_know", "refused", "not_asked"]})
    class P:  # missing_rates only reads params.indicators
        indicators = [LIKERT]

    rates = missing_rates(df, P)
    row = rates.iloc[0]
    # 3 asked (not_asked excluded): 1 don't know = 33.3 %, 1 refused = 33.3 %.
    assert (row.n_asked, row.n_answered, row.n_dont_know, row.n_refused) == (3, 1, 1, 1)
    assert abs(row.dont_know_pct - 100 / 3) < 1e-9
