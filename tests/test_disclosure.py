"""Tests of evalkit.disclosure: k-anonymity, local suppression, demographic levels."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from evalkit.disclosure import OTHER_LEVEL, class_sizes, k_anonymity, local_suppression


def counter_k(frame: pd.DataFrame, qis: list[str]) -> int:
    """Independent reference: the smallest count of identical QI tuples (missing = its own value)."""
    rows = [tuple("<NA>" if pd.isna(v) else str(v) for v in r) for r in frame[qis].itertuples(index=False)]
    return min(Counter(rows).values()) if rows else 0


def random_frame(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"aimag": rng.choice(list("abcdefg"), n), "sex": rng.choice(["f", "m"], n),
                         "age": rng.choice(["18", "30", "40", "50"], n), "group": rng.choice(["p", "s"], n)})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_k_anonymity_matches_an_independent_count(seed):
    df = random_frame(seed)
    assert k_anonymity(df, ["aimag", "sex", "age", "group"]) == counter_k(df, ["aimag", "sex", "age", "group"])


def test_class_sizes_edges():
    assert class_sizes(pd.DataFrame({"a": []}), ["a"]).tolist() == []
    assert k_anonymity(pd.DataFrame({"a": []}), ["a"]) == 0
    assert class_sizes(pd.DataFrame({"a": ["x"] * 4}), ["a"]).tolist() == [4, 4, 4, 4]  # all one class
    assert class_sizes(pd.DataFrame({"a": ["x", None, None]}), ["a"]).tolist() == [1, 2, 2]  # missing = a value
    assert class_sizes(pd.DataFrame({"a": [1, 2]}), []).tolist() == [2, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [2, 5, 10])
def test_local_suppression_meets_k_and_changes_only_offending_rows(seed, k):
    df = random_frame(seed)
    qis = ["aimag", "sex", "age", "group"]
    res = local_suppression(df, qis, k=k, order=["aimag", "age", "sex"])
    assert counter_k(res.frame, qis) >= k and res.k_after >= k and res.residual == 0
    assert res.k_before == counter_k(df, qis)
    assert res.frame["group"].equals(df["group"]), "the protected group must never change"
    assert df.notna().all().all(), "the input must not be modified"
    changed = (res.frame[["aimag", "sex", "age"]].isna()).any(axis=1)
    assert sum(res.suppressed.values()) == int(res.frame[["aimag", "sex", "age"]].isna().sum().sum())
    before = class_sizes(df, qis)
    # a row that was already safe keeps all its values, unless it was taken to complete an all-missing class
    kept_safe = (before >= k) & changed & ~res.frame[["aimag", "sex", "age"]].isna().all(axis=1)
    assert not kept_safe.any()
    assert res.below_k == int((before < k).sum())


def test_nothing_to_do_and_a_protected_class_too_small():
    df = pd.DataFrame({"sex": ["f"] * 6, "group": ["p"] * 6})
    res = local_suppression(df, ["sex", "group"], k=5, order=["sex"])
    assert res.suppressed == {} and res.k_after == 6 and res.frame.equals(df)
    df = pd.DataFrame({"sex": ["f"] * 6 + ["m", "f"], "group": ["p"] * 6 + ["s", "s"]})
    res = local_suppression(df, ["sex", "group"], k=5, order=["sex"])
    assert res.residual == 2 and res.k_after == 2  # group 's' has two members: nothing can hide them
    assert res.frame["sex"].iloc[:6].tolist() == ["f"] * 6


def _params(demographics, *, min_cell=10, subgroups=()):
    from types import SimpleNamespace

    return SimpleNamespace(demographics=dict.fromkeys(demographics, "q"), min_cell_size=min_cell, k_anonymity=5,
                           subgroups=list(subgroups), campaign="test")


def test_a_demographic_with_more_levels_than_the_data_can_protect_is_refused():
    from evalkit.disclosure import check_demographic_levels
    from evalkit.errors import ConfigError

    n = 900
    df = pd.DataFrame({"wave": ["baseline"] * n, "school": [f"s{i % 179}" for i in range(n)],
                       "sex": ["f", "m"] * (n // 2)})
    with pytest.raises(ConfigError) as err:
        check_demographic_levels(df, _params(["school", "sex"]))
    assert "demographics.school" in str(err.value) and "179 levels" in str(err.value)


def test_a_few_rare_levels_are_merged_into_other():
    from evalkit.disclosure import check_demographic_levels

    df = pd.DataFrame({"wave": ["baseline"] * 100 + ["endline"] * 100,
                       "aimag": (["a"] * 60 + ["b"] * 37 + ["c"] * 3) * 2})
    out, notes = check_demographic_levels(df, _params(["aimag"]))
    assert sorted(out["aimag"].unique()) == ["a", "b", OTHER_LEVEL] and (out["aimag"] == OTHER_LEVEL).sum() == 6
    assert notes and "1 level(s)" in notes[0] and "'c'" not in notes[0]  # a rare level is not named
    assert (df["aimag"] == "c").sum() == 6, "the input must not be modified"
