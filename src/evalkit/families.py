"""Multiplicity families of one stage: which tests are corrected together.

Three families, each adjusted by Holm and by Benjamini-Hochberg on its own
(:func:`evalkit.stats.adjust_within_families`), each distinct test counted
once:

- ``primary``: the tests of change behind the published claims listed in
  ``params.primary_family`` (pre-specified, so corrected only among
  themselves);
- ``secondary``: every other row of the headline table;
- the Likert rank tests (``likert_p_value``), a family of their own.

Two rows are the same test when they compare the same indicator on the same
respondents: the pooled ``all`` row of a population with one group (or with
only one group that answered) repeats that group's test, and counting it
twice would inflate every adjusted p-value.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from evalkit.params import Params
from evalkit.stats import adjust_within_families

PRIMARY, SECONDARY, LIKERT = "primary", "secondary", "likert"


def primary_rows(params: Params) -> set[tuple[str, str]]:
    """``(indicator, group)`` of the results rows that are primary claims' tests.

    A claim with ``compare_with`` is tested on another stage's baseline, not
    on a row of this stage's results, so it adds no row here (its test is
    adjusted with the other primary claims in ``claims.csv``).
    """
    wanted = set(params.primary_family)
    return {(c.indicator, c.group) for c in params.claims if c.id in wanted and c.compare_with is None}


def adjust_results(results: pd.DataFrame, params: Params, test_keys: Sequence[Hashable]) -> pd.DataFrame:
    """Set ``family``, ``p_holm``, ``q_bh``, ``likert_p_holm`` and ``likert_q_bh`` of a results table.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of :func:`evalkit.compare.compare_indicators` (``indicator``,
        ``group``, ``p_value``, ``likert_p_value``); not modified.
    params : evalkit.params.Params
        Gives ``primary_family`` and the claims.
    test_keys : sequence of hashable
        Identity of each row's test (equal keys = the same test on the same
        respondents), one per row.

    Returns
    -------
    pandas.DataFrame
        A copy with the five columns set; adjusted values are NaN where the
        raw p-value is.

    Examples
    --------
    >>> adjust_results(results, params, keys)[["family", "p_holm"]]  # doctest: +SKIP
    """
    out = results.copy()
    primary = primary_rows(params)
    keys = list(test_keys)
    # a row repeating a primary row's test (one-group population) is that primary test, not a second one
    primary_keys = {k for k, i, g in zip(keys, out["indicator"], out["group"]) if (i, g) in primary}
    out["family"] = [PRIMARY if (i, g) in primary or k in primary_keys else SECONDARY
                     for k, i, g in zip(keys, out["indicator"], out["group"])]
    p = out["p_value"].to_numpy(dtype=float, na_value=np.nan)
    out["p_holm"], out["q_bh"] = adjust_within_families(p, out["family"].to_numpy(), keys)
    lp = out["likert_p_value"].to_numpy(dtype=float, na_value=np.nan)
    out["likert_p_holm"], out["likert_q_bh"] = adjust_within_families(lp, np.full(len(out), LIKERT), keys)
    return out
