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


def _dummies(raw, choices=("facebook", "tv", "school")):
    return raw[[f"prac/channels/{c}" for c in choices]].rename(columns=lambda h: h.rsplit("/", 1)[1]).replace("", pd.NA)


def test_one_indicator_per_option_matches_each_dummy_column(tmp_path, exported):
    answers, raw = exported
    codebook = read_codebook(fx.write_codebook(tmp_path / "kap_form2.xlsx"))
    from evalkit.indicator_spec import expand_each_option
    generated = expand_each_option([_ind([], each_option=True)], codebook, exclude=["dont_know", "refused"])
    assert [g.id for g in generated] == ["seen_facebook", "seen_tv", "seen_school"]
    assert generated[1].label == "S: Television" and generated[1].positive == ["tv"]
    for g in generated:
        got = indicator_columns(answers["prac/channels"], answers["resp/resp_type"], g, dont_know=[], refused=[])
        choice = g.positive[0]
        assert got[g.id].astype(bool).tolist() == (raw[f"prac/channels/{choice}"] == "1").tolist(), choice


def test_summary_and_dummy_columns_agree_and_a_mismatch_is_found(exported):
    from evalkit.multiselect import summary_disagreements, summary_from_dummies
    _, raw = exported
    summary = raw["prac/channels"].replace("", pd.NA)
    assert list(summary_disagreements(summary, _dummies(raw))) == []
    spelled = summary_from_dummies(_dummies(raw))
    assert [frozenset(s.split()) for s in spelled] == [frozenset(s.split()) for s in summary]
    tampered = raw.copy()
    tampered.loc[3, "prac/channels/school"] = "1" if tampered.loc[3, "prac/channels/school"] == "0" else "0"
    assert list(summary_disagreements(summary, _dummies(tampered))) == [3]


def test_summary_from_dummies_edges():
    from evalkit.multiselect import summary_from_dummies
    d = pd.DataFrame({"a": ["1", "0", None, 1, "0"], "b": ["1", "0", None, 0, "1"]})
    assert summary_from_dummies(d).fillna("NA").tolist() == ["a b", "", "NA", "a", "b"]


def test_indicator_type_must_fit_the_question_type(tmp_path):
    from dataclasses import replace

    from evalkit.indicator_spec import codebook_problems
    codebook = read_codebook(fx.write_codebook(tmp_path / "kap_form.xlsx"))
    likert_on_multi = _ind(["tv"], type="likert", levels=["facebook", "tv", "school", "a", "b"])
    all_on_one = replace(_ind(["yes"], mentions="all"), question="prac/give_info")
    fine = _ind(["tv"], at_least=1)

    problems = codebook_problems([likert_on_multi, all_on_one, fine], codebook)
    assert len(problems) == 2  # collected, not the first only
    assert "indicators[0].type" in problems[0] and "select_multiple" in problems[0]
    assert "indicators[1]" in problems[1] and "prac/give_info is select_one" in problems[1]


def test_disagreements_with_empty_cells_on_either_side():
    from evalkit.multiselect import summary_disagreements

    dummies = pd.DataFrame({"a": ["1", "0", None, "0", None], "b": ["0", "1", None, "0", None]})
    summary = pd.Series(["a", None, None, "a", "b"], dtype=object)
    # row 1: 0/1 says b, summary empty; row 3: 0/1 says nothing, summary a; row 4: 0/1 empty, summary b
    assert list(summary_disagreements(summary, dummies)) == [1, 3, 4]
