"""evalkit.derived: recodes and bands, with references written out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.derived import Band, Derived, apply_derived, derive_column

AGE = Derived(name="age_band", question="demo/age",
              bands=[Band("under_18", max=17), Band("18_59", min=18, max=59), Band("60_plus", min=60)])


@pytest.mark.parametrize("age, band", [(0, "under_18"), (17, "under_18"), (17.5, None), (18, "18_59"),
                                       (59, "18_59"), (60, "60_plus"), (104, "60_plus"), (None, None)])
def test_age_bands_are_inclusive_at_both_ends(age, band):
    out, unmapped = derive_column(pd.Series([age], dtype="Float64"), AGE)
    assert (None if pd.isna(out.iloc[0]) else out.iloc[0]) == band
    assert unmapped == (1 if age is not None and band is None else 0)


def test_first_matching_band_wins_and_text_numbers_are_read():
    d = Derived(name="b", question="q", bands=[Band("low", max=10), Band("any", min=0)])
    out, _ = derive_column(pd.Series(["5", " 12 ", "7,5", "abc"]), d)
    assert out.tolist()[:3] == ["low", "any", "low"] and pd.isna(out.iloc[3])


def test_map_matches_case_and_spaces_and_counts_unmapped():
    d = Derived(name="g", question="calc/group", map={"SEN": "parent_sen", "no sen": "parent_nosen"})
    src = pd.Series(["sen", " No  SEN ", "other", None, "SEN"], dtype=object)  # a calculate: free text
    out, unmapped = derive_column(src, d)
    assert [None if pd.isna(v) else v for v in out] == ["parent_sen", "parent_nosen", None, None, "parent_sen"]
    assert unmapped == 1
    kept, n = derive_column(src, Derived(name="g", question="q", map={"sen": "parent_sen"}, unmapped="keep"))
    assert [None if pd.isna(v) else v for v in kept] == ["parent_sen", " No  SEN ", "other", None, "parent_sen"]
    assert n == 2


def test_apply_in_order_so_one_derived_variable_can_use_another_and_logs_each():
    df = pd.DataFrame({"demo/age": pd.array([12, 30, 70, None], dtype="Float64")})
    adult = Derived(name="adult", question="age_band", map={"18_59": "yes", "60_plus": "yes", "under_18": "no"})
    out, lines = apply_derived(df, [AGE, adult])
    assert [None if pd.isna(v) else v for v in out["adult"]] == ["no", "yes", "yes", None]
    assert lines[0].startswith("age_band from demo/age: answers put in bands (under_18, 18_59, 60_plus); 0 answer(s)")
    assert list(df.columns) == ["demo/age"]  # input not modified


def test_a_missing_source_column_gives_an_empty_variable_and_says_so():
    out, lines = apply_derived(pd.DataFrame({"x": [1]}), [AGE])
    assert out["age_band"].isna().all() and "has no column for demo/age" in lines[0]
