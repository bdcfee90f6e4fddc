"""Issue 13 (1): ``positive`` on a select_multiple question means "mentions any of".

The reference is recomputed independently with plain pandas from the raw
export's 0/1 dummy columns (``prac/channels/<choice>``), never from evalkit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import fixtures_raw as fx
from evalkit.codebook import harmonise
from evalkit.indicators import indicator_columns, mentions_positive
from evalkit.params import DateRange, Indicator, WaveFile
from evalkit.readers import read_codebook, read_export

FW = DateRange(dt.date(2022, 1, 17), dt.date(2022, 1, 28))


def _ind(positive, **kw):
    return Indicator(id="seen", label="S", theme="practices", question="prac/channels", positive=positive,
                     population=["parent_sen", "parent_nosen", "staff"], **kw)


@pytest.fixture
def exported(tmp_path):
    rows = fx.baseline_rows()[:9]
    head, body = fx.export_rows(rows)
    path = fx.write_csv(tmp_path / "e.csv", head, body)
    codebook = read_codebook(fx.write_codebook(tmp_path / "kap_form.xlsx"))
    wf = WaveFile(file="e.csv", fieldwork=FW)
    answers = harmonise(read_export(path, wf), codebook, wave_file=wf, file="e.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)  # independent reference
    return answers, raw


@pytest.mark.parametrize("positive, rule, reference", [
    (["tv"], {}, lambda r: r["prac/channels/tv"] == "1"),
    (["tv", "school"], {}, lambda r: (r["prac/channels/tv"] == "1") | (r["prac/channels/school"] == "1")),
    (["tv", "facebook"], {"mentions": "all"},
     lambda r: (r["prac/channels/tv"] == "1") & (r["prac/channels/facebook"] == "1")),
    (["tv", "facebook", "school"], {"at_least": 2},
     lambda r: (r[["prac/channels/tv", "prac/channels/facebook", "prac/channels/school"]] == "1").sum(axis=1) >= 2),
])
def test_select_multiple_share_matches_the_raw_dummy_columns(exported, positive, rule, reference):
    answers, raw = exported
    ind = _ind(positive, **rule)
    out = indicator_columns(answers["prac/channels"], answers["resp/resp_type"], ind, dont_know=[], refused=[])
    expected = reference(raw).tolist()
    assert out["seen"].astype(bool).tolist() == expected
    assert sum(expected) > 0  # not vacuous


def test_the_old_exact_match_rule_would_have_counted_nobody(exported):
    # The published bug: isin(["tv"]) is False for "facebook tv"; the fixture's tv answers all mention facebook too.
    answers, raw = exported
    assert not answers["prac/channels"].isin(["tv"]).any()
    assert (raw["prac/channels/tv"] == "1").sum() > 0
    assert mentions_positive(answers["prac/channels"], _ind(["tv"])).sum() == (raw["prac/channels/tv"] == "1").sum()


@pytest.mark.parametrize("values, positive, rule, expected", [
    (["eating toilet", "eating", "toilet", None, ""], ["toilet"], {}, [True, False, True, False, False]),
    (["eating toilet", "toilet", "other"], ["toilet", "eating"], {"mentions": "all"}, [True, False, False]),
    (["a b c", "a b", "a", "d"], ["a", "b", "c"], {"at_least": 2}, [True, True, False, False]),
    (["a b c", "a"], ["a", "b", "c"], {"at_least": 3}, [True, False]),
    ([], ["toilet"], {}, []),
])
def test_mentions_edges(values, positive, rule, expected):
    assert mentions_positive(pd.Series(values, dtype=object), _ind(positive, **rule)).tolist() == expected


def test_select_one_answers_are_unchanged():
    # A select_one answer is one name, so "mentions any of" is the old "is one of".
    s = pd.Series(["yes", "no", "dont_know", None], dtype="category")
    assert mentions_positive(s, _ind(["yes"])).tolist() == s.isin(["yes"]).tolist()
