"""evalkit.relevance: the XLSForm relevance subset, against truth tables written out by hand (XPath 1.0 rules)."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.relevance import UnsupportedExpression, _Parser

ANSWERS = pd.DataFrame({"a": pd.Series(["yes", "no", None, "yes"], dtype="category"),
                        "m": ["x y", "y", None, "x"], "n": pd.array([1.0, 5.0, None, 3.0], dtype="Float64")})


@pytest.mark.parametrize("expression, expected", [
    ("${a} = 'yes'", [True, False, False, True]),
    ("${a} != 'yes'", [False, True, True, False]),  # an empty answer is '' in XPath, so != 'yes' holds
    ("${a} = ''", [False, False, True, False]),
    ("selected(${m}, 'x')", [True, False, False, True]),
    ("count-selected(${m}) >= 2", [True, False, False, False]),
    ("${n} > 2", [False, True, False, True]),  # '' as a number is NaN: every comparison false ...
    ("${n} != 2", [True, True, True, True]),  # ... but != true
    ("${n} = '3'", [False, False, False, True]),  # a number question compared with quoted text: numerically
    ("not(${a} = 'yes') and ${n} >= 1", [False, True, False, False]),
    ("(${a} = 'yes' or ${a} = 'no') and string-length(${a}) > 0", [True, True, False, True]),
    ("true()", [True] * 4),
    ("false() or ${a}='no'", [False, True, False, False]),
])
def test_expressions(expression, expected):
    assert _Parser(expression, lambda s: ANSWERS[s], len(ANSWERS)).parse().tolist() == expected


@pytest.mark.parametrize("expression", ["${a}", ". > 3", "${a} > 'x'", "if(${a} = 'x', 1, 0)", "${a} = 'x' and",
                                        "${a} = 'x')", "position(..) = 1"])
def test_anything_else_is_unsupported_not_guessed(expression):
    with pytest.raises(UnsupportedExpression):
        _Parser(expression, lambda s: ANSWERS[s], len(ANSWERS)).parse()
