"""The ``results.csv`` table: every indicator x respondent group, baseline vs endline.

:func:`compare_indicators` is the heart of evalkit. For each indicator and
each group of its population, plus the pooled group ``all``, it gives the
baseline and endline percentages, the change in percentage points with its
95% confidence interval, the test's p-value (adjusted by Holm and by
Benjamini-Hochberg within its family, each distinct test counted once:
:mod:`evalkit.families`), Cohen's h and the minimum detectable
effect. Its first columns are the public ``results.csv`` contract
(:data:`CONTRACT_COLUMNS`, documented in ``docs/results-contract.md``).

Methods (see :mod:`evalkit.stats`):

- paired design (panel): respondents matched by ``respondent_id`` within the
  group; a pair counts when the answer is known at both waves; McNemar mid-p,
  Newcombe's paired square-and-add interval; Likert levels: Wilcoxon
  signed-rank;
- independent design (repeated cross-sections): Pearson chi-squared without
  continuity correction, Newcombe's hybrid score interval; Likert levels:
  Mann-Whitney U.

Pooled ``all`` rows of independent samples pool only the groups answering at
both waves (a group seen at one wave only is named in the note).

For a Likert indicator the headline row is still the binary outcome
(positive = the indicator's ``positive`` levels, e.g. agree or strongly
agree); the rank test on the five levels is in the ``likert_*`` columns.

Survey design: when the sample is not a simple random one -- the ``weight``
column varies among the respondents compared, or params ``sampling``
declares strata, clusters, a finite population correction or population
shares -- every estimate, interval, test, design effect ``deff`` and effective
size ``n_eff`` is design-based (Taylor linearisation with svy,
:mod:`evalkit.designbased`): paired, on the per-respondent difference;
independent, the difference of the two waves' domain estimates with the
Rao-Scott test. Otherwise the exact methods above are used unchanged. Rank
tests on Likert levels are unweighted.

Undefined results -- no answers, fewer than two pairs or respondents -- give
NaN and a ``note``; data problems never raise here. Only a missing structural
column (``respondent_id``, ``wave``, ``group``) raises
:class:`~evalkit.errors.AnalysisError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import failpoints, paths
from evalkit.atomic import write_csv_atomic
from evalkit.compare_means import value_column
from evalkit.denominators import flag as policy_flag
from evalkit.denominators import policy_shift
from evalkit.errors import AnalysisError, format_problems
from evalkit.families import adjust_results
from evalkit.params import ALL_GROUPS, Indicator, Params
from evalkit.attrition import attrition_values, link_pairs, sensitivity_columns
from evalkit.designbased import design_rows, needs_design
from evalkit.sampling import CLUSTER_COLUMN, FPC_COLUMN, STRATUM_COLUMN, Sampling
from evalkit.compare_rows import CONTRACT_COLUMNS, EXTRA_COLUMNS, comparison_row
from evalkit.frames import float_column

_REQUIRED = ("respondent_id", "wave", "group")


# --------------------------------------------------------------------------- inputs


def _check_columns(responses: pd.DataFrame, params: Params, *, source: str) -> None:
    problems = [f"column '{c}' is missing" for c in _REQUIRED if c not in responses.columns]
    if "wave" in responses.columns:
        bad = sorted({str(v) for v in pd.unique(responses["wave"].dropna())} - {"baseline", "endline"})
        if bad:
            problems.append(f"column 'wave' has value(s) {', '.join(map(repr, bad[:5]))}; "
                            f"expected 'baseline' or 'endline'")
    if problems:
        raise AnalysisError(format_problems(
            f"{source} does not match the processed-data contract (docs/design.md); re-run the cleaning "
            f"notebook (make report CAMPAIGN={params.campaign}):", problems))


def _analysis_columns(responses: pd.DataFrame, params: Params) -> list[str]:
    cols = ["respondent_id", "group"] + [c for c in ("weight", STRATUM_COLUMN, CLUSTER_COLUMN, FPC_COLUMN)
                                         if c in responses.columns]
    for ind in params.indicators:
        cols += [c for c in (ind.id, f"{ind.id}_level", value_column(ind), f"{ind.id}_missing_reason")
                 if c and c in responses.columns]
    return list(dict.fromkeys(cols))


def _wave(responses: pd.DataFrame, wave: str, columns: list[str]) -> pd.DataFrame:
    out = responses.loc[responses["wave"] == wave, columns]
    if "weight" not in out.columns:
        out = out.assign(weight=1.0)
    return out


def _groups_in_both_waves(ind: Indicator, base: pd.DataFrame, end: pd.DataFrame,
                          groups: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """The groups of ``groups`` answering ``ind`` at both waves, and a note naming those left out.

    Independent samples: a group seen at one wave only would enter that
    wave's pooled percentage alone and manufacture a change (a group
    answering only at endline with a high share lifts the pooled endline),
    so the pooled row compares only groups present at both waves.
    """
    if ind.id not in base.columns or ind.id not in end.columns:
        return tuple(groups), ""
    seen = [set(map(str, f.loc[f[ind.id].notna(), "group"].unique())) for f in (base, end)]
    kept = tuple(g for g in groups if g in seen[0] and g in seen[1])
    only = [f"{g} ({'baseline' if g in seen[0] else 'endline'} only)" for g in groups
            if (g in seen[0]) != (g in seen[1])]
    if not only:
        return tuple(groups), ""
    return kept, (f"pooled over the groups answering at both waves; left out: {', '.join(only)}, which would "
                  f"otherwise enter one wave's percentage only")


def match_pairs(baseline: pd.DataFrame, endline: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Match panel respondents across waves by ``respondent_id`` within their group.

    Parameters
    ----------
    baseline, endline : pandas.DataFrame
        One wave each, with ``respondent_id``, ``group`` and outcome columns.

    Returns
    -------
    (pairs, note) : tuple
        ``pairs`` has one row per respondent present at both waves in the
        same group, with every other column suffixed ``_b`` / ``_e``;
        ``note`` reports duplicate ids (the last row of a duplicated id is
        kept) or is empty. A respondent whose group differs between waves is
        not matched.
    """
    notes = []
    frames = []
    for name, frame in (("baseline", baseline), ("endline", endline)):
        dup = frame["respondent_id"].duplicated(keep="last")
        if dup.any():
            notes.append(f"{int(dup.sum())} duplicate respondent id(s) at {name}; the last row of each was kept")
            frame = frame.loc[~dup]
        frames.append(frame)
    pairs = frames[0].merge(frames[1], on=["respondent_id", "group"], how="inner", suffixes=("_b", "_e"))
    return pairs, "; ".join(notes)


# --------------------------------------------------------------------------- public API


def _design_values(ind: Indicator, base: pd.DataFrame, end: pd.DataFrame | None,
                   member_sets: list[tuple[str, ...]], *, design: str, sampling: Sampling, alpha: float
                   ) -> Mapping[tuple[str, ...], dict]:
    """Design-based values per member set, or ``{}`` for a simple random sample (exact methods)."""
    weights = (float_column(base, "weight_b") if design == "paired"
               else np.concatenate([float_column(base, "weight"), float_column(end, "weight")]))
    if not needs_design(weights, sampling):
        return {}
    return design_rows(ind.id, base, end, member_sets, design=design, sampling=sampling, alpha=alpha)


def compare_samples(baseline: pd.DataFrame, endline: pd.DataFrame, indicator: Indicator,
                    groups: Sequence[str], *, design: str, alpha: float = 0.05,
                    sampling: Sampling | None = None) -> pd.DataFrame:
    """Compare one indicator between a baseline and an endline sample.

    Used for claims whose baseline comes from another campaign stage
    (``compare_with``), and by :func:`compare_indicators` for every row.

    Parameters
    ----------
    baseline, endline : pandas.DataFrame
        Respondents of each wave in the processed-data shape (the ``wave``
        column is not used).
    indicator : evalkit.params.Indicator
    groups : sequence of str
        Respondent groups pooled in the comparison.
    design : {"paired", "independent"}, keyword-only
    alpha : float, keyword-only
        Two-sided level of the intervals.
    sampling : Sampling, optional, keyword-only
        The survey design (params ``sampling``); none = weights only.

    Returns
    -------
    pandas.DataFrame
        One row with :data:`CONTRACT_COLUMNS` + :data:`EXTRA_COLUMNS`
        (``campaign``, ``group``, ``design`` are left for the caller;
        ``p_holm`` and ``q_bh`` are NaN: they need the whole table).

    Examples
    --------
    >>> row = compare_samples(base, end, params.indicator("give_info"), ["parent_sen"],
    ...                       design="independent")  # doctest: +SKIP
    """
    sampling = sampling or Sampling()
    b, e = (f.loc[f["group"].isin(list(groups))] for f in (baseline, endline))
    b, e = (f if "weight" in f.columns else f.assign(weight=1.0) for f in (b, e))
    members = tuple(groups)
    if design == "paired":
        pairs, note = match_pairs(b, e)
        dv = _design_values(indicator, pairs, None, [members], design="paired", sampling=sampling, alpha=alpha)
        row = comparison_row(indicator, pairs, None, design="paired", alpha=alpha, design_values=dv.get(members))
        if note:
            row["note"] = "; ".join(filter(None, [row["note"], note]))
    else:
        kept, one_wave = _groups_in_both_waves(indicator, b, e, list(groups))
        if one_wave:
            b, e = (f.loc[f["group"].isin(kept)] for f in (b, e))
            members = tuple(kept)
        dv = _design_values(indicator, b, e, [members], design="independent", sampling=sampling, alpha=alpha)
        row = comparison_row(indicator, b, e, design="independent", alpha=alpha, design_values=dv.get(members))
        row["note"] = "; ".join(filter(None, [row["note"], one_wave]))
    row["dont_know_note"] = row.pop("dk_sentence")
    row["design"] = design
    return pd.DataFrame([row], columns=list(CONTRACT_COLUMNS + EXTRA_COLUMNS))


def compare_indicators(responses: pd.DataFrame, params: Params, *, campaign: str | None = None,
                       source: str = "responses.parquet") -> pd.DataFrame:
    """Compare baseline and endline for every indicator x group: the ``results.csv`` table.

    Parameters
    ----------
    responses : pandas.DataFrame
        ``responses.parquet`` (docs/design.md, "Processed data contract");
        not modified.
    params : evalkit.params.Params
        The stage's params: design, indicators (with populations), alpha.
    campaign : str, optional, keyword-only
        Value of the ``campaign`` column; defaults to ``params.campaign``.
    source : str, keyword-only
        Name of the input used in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per indicator x group: the groups of the indicator's
        population, then ``all`` pooling them. Columns: first
        :data:`CONTRACT_COLUMNS` (campaign, indicator, label, group, design,
        n, baseline_pct, endline_pct, change_pp, ci_low_pp, ci_high_pp, test,
        p_value, p_holm, q_bh, effect_size, effect_size_name, mde_pp), then
        :data:`EXTRA_COLUMNS`. Percentages and changes are in 0-100 /
        percentage points; ``p_holm`` and ``q_bh`` adjust ``p_value`` within
        the row's ``family`` (``primary``: the tests of the claims in
        ``params.primary_family``; ``secondary``: the rest), ``likert_p_holm``
        and ``likert_q_bh`` adjust the rank tests among themselves; a test
        repeated by two rows (a one-group population's ``all`` row) counts once.

    Raises
    ------
    AnalysisError
        Only when ``respondent_id``, ``wave`` or ``group`` is missing or
        ``wave`` holds other values than baseline/endline.

    References
    ----------
    See :mod:`evalkit.stats` for each method's reference.

    Examples
    --------
    >>> results = compare_indicators(pd.read_parquet(path), load_params("together"))  # doctest: +SKIP
    >>> results.loc[results.group == "all", ["indicator", "change_pp", "p_holm"]]  # doctest: +SKIP
    """
    failpoints.hold("evaluate-notebook", detail=campaign or "")
    _check_columns(responses, params, source=source)
    columns = _analysis_columns(responses, params)
    base, end = _wave(responses, "baseline", columns), _wave(responses, "endline", columns)
    paired = params.design == "paired"
    match_note = ""
    if paired:
        pairs, match_note = match_pairs(base, end)
        links = link_pairs(base, pairs)  # baseline row -> its pair, for the attrition weights
    subsets: dict[tuple[str, ...], tuple[pd.DataFrame, pd.DataFrame | None]] = {}
    rows, test_keys, dk_sentences, denominator_notes = [], [], [], []
    for ind in params.indicators:
        missing = "" if ind.id in responses.columns else f"column '{ind.id}' is not in {source}"
        pooled, one_wave = tuple(ind.population), ""
        if not paired:  # independent samples: pool only the groups answering at both waves
            pooled, one_wave = _groups_in_both_waves(ind, base, end, ind.population)
            pooled = tuple(pooled)
        member_sets = [(g,) for g in ind.population] + [pooled]
        # one design-based estimation per indicator, every group a domain of the whole design
        design_values = _design_values(ind, pairs if paired else base, None if paired else end, member_sets,
                                       design=params.design, sampling=params.sampling, alpha=params.alpha)
        adjusted, ipw_note = ({}, "")
        headline_adjusted = paired and params.sampling.panel_weight == "baseline_attrition_adjusted"
        if paired:  # sensitivity: complete pairs re-weighted for who stayed (evalkit.attrition)
            adjusted, ipw_note = attrition_values(ind.id, base, pairs, member_sets, sampling=params.sampling,
                                                  covariates=list(params.demographics), alpha=params.alpha,
                                                  full=headline_adjusted, links=links)
        complete_values = design_values  # the complete-pairs rows the sensitivity check compares with
        if headline_adjusted:
            design_values = adjusted
        for group, members in zip([*ind.population, ALL_GROUPS], member_sets):
            if members not in subsets:  # each group's rows are selected once, not per indicator
                subsets[members] = ((pairs.loc[pairs["group"].isin(members)], None) if paired else
                                    (base.loc[base["group"].isin(members)], end.loc[end["group"].isin(members)]))
            sub_b, sub_e = subsets[members]
            row = comparison_row(ind, sub_b, sub_e, design=params.design, alpha=params.alpha,
                                  design_values=design_values.get(members))
            dk_sentences.append(row.pop("dk_sentence"))
            if paired:  # adjusted vs complete pairs, whichever of the two is the headline
                complete = row
                if headline_adjusted:  # the complete-pairs change and CI: design-based when it was, else exact
                    complete = complete_values.get(members) or {}
                    if "change_pp" not in complete:
                        complete = comparison_row(ind, sub_b, None, design=params.design, alpha=params.alpha)
                row.update(sensitivity_columns(complete, adjusted.get(members)))
            small = (f"fewer than {params.min_cell_size} respondents: interpret with care"
                     if 0 < row["n"] < params.min_cell_size else "")
            row["note"] = "; ".join(filter(None, [missing, row["note"], small, match_note,
                                                  one_wave if group == ALL_GROUPS else "",
                                                  f"attrition weights: {ipw_note}" if ipw_note else ""]))
            row.update(group=group, design=params.design, campaign=campaign or params.campaign)
            shift, row["denominator_flag"], text = policy_flag(row, policy_shift(ind, sub_b, sub_e,
                                                                                 design=params.design))
            row["denominator_shift_pp"] = shift
            rows.append(row)
            denominator_notes.append(text)
            test_keys.append((ind.id, _answering_groups(ind, sub_b, sub_e)))
    out = pd.DataFrame(rows, columns=list(CONTRACT_COLUMNS + EXTRA_COLUMNS))
    out = suppress_small_groups(out, params, min_cell_size=params.min_cell_size)
    shown = ~out["note"].fillna("").astype(str).str.startswith("suppressed")  # a hidden cell's numbers stay hidden
    for i in out.index[shown.to_numpy() & np.array([bool(t) for t in denominator_notes], dtype=bool)]:
        out.loc[i, "note"] = "; ".join(filter(None, [out.loc[i, "note"], denominator_notes[i]]))
    # the don't-know sentence quotes the row's numbers: only for rows that are published
    out["dont_know_note"] = [dk if s else "" for s, dk in zip(shown, dk_sentences)]
    return _typed(adjust_results(out, params, test_keys))


def _answering_groups(ind: Indicator, sub_b: pd.DataFrame, sub_e: pd.DataFrame | None) -> tuple[str, ...]:
    """Groups with an answer in a comparison: rows with equal groups are the same test.

    Paired: groups of the pairs answered at both waves; independent: groups
    answered at either wave.
    """
    if sub_e is None:  # paired: one frame of pairs
        cols = [f"{ind.id}_b", f"{ind.id}_e"]
        if not set(cols) <= set(sub_b.columns):
            return ()
        answered = sub_b.loc[sub_b[cols].notna().all(axis=1), "group"]
    else:
        if ind.id not in sub_b.columns:
            return ()
        answered = pd.concat([f.loc[f[ind.id].notna(), "group"] for f in (sub_b, sub_e)])
    return tuple(sorted(map(str, pd.unique(answered))))


#: Columns kept when a row is suppressed (everything else is a number derived from the cell).
_KEPT_WHEN_SUPPRESSED = ("campaign", "indicator", "label", "group", "design", "test", "effect_size_name", "theme",
                         "indicator_type", "likert_test", "likert_effect_size_name", "weighted", "note", "mode",
                         "variance_method")


def suppress_small_groups(results: pd.DataFrame, params: Params, *, min_cell_size: int) -> pd.DataFrame:
    """Blank every number of the indicator x group rows with 1 to ``min_cell_size - 1`` respondents.

    Primary suppression: a row whose ``n``, ``n_baseline`` or ``n_endline``
    lies between 1 and ``min_cell_size - 1``. Complementary suppression: the
    pooled ``all`` row is published, so when the suppressed groups of an
    indicator are one, or describe fewer than ``min_cell_size`` people
    together, the next smallest group is hidden too (else their numbers follow
    from ``all`` minus the other groups): :func:`evalkit.smallcells.protect_rows`,
    the small-cell gate every table uses.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows as built by :func:`compare_indicators`; not modified.
    params : evalkit.params.Params
        Gives each indicator's population.
    min_cell_size : int, keyword-only
        Smallest publishable group.

    Returns
    -------
    pandas.DataFrame
        A copy; suppressed rows keep their identifiers (``campaign``,
        ``indicator``, ``label``, ``group``, ``test`` ...) and say why in
        ``note``; their counts, percentages, intervals and p-values are empty.

    Examples
    --------
    >>> suppress_small_groups(results, params, min_cell_size=10)  # doctest: +SKIP
    """
    from evalkit.smallcells import protect_rows

    out = results.copy()
    counts = out[["n", "n_baseline", "n_endline"]].apply(pd.to_numeric, errors="coerce")
    # the groups of an indicator add up to its published 'all' row (the one small-cell gate)
    line = out["indicator"].astype("object").where(out["group"] != ALL_GROUPS)
    small, complementary = protect_rows(counts, k=min_cell_size, line=line)
    hide = small | complementary
    if hide.any():
        blank = [c for c in out.columns if c not in _KEPT_WHEN_SUPPRESSED]
        out[blank] = out[blank].astype(object)
        out.loc[hide, blank] = np.nan
        why = np.where(small, f"suppressed: fewer than {min_cell_size} respondents",
                       "suppressed so that a small group cannot be derived from the total (complementary suppression)")
        old = out["note"].fillna("").astype(str)
        out.loc[hide, "note"] = [w if not o else f"{w}; {o}" for w, o in zip(why[hide.to_numpy()], old[hide])]
    return out


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    ints = ["n", "n_baseline", "n_endline", "likert_n", "n_clusters", "n_strata"]
    out[ints] = out[ints].astype("Int64")
    out["weighted"] = out["weighted"].astype(bool)
    out["denominator_flag"] = out["denominator_flag"].astype("boolean")  # empty on a suppressed row
    out["attrition_differs"] = out["attrition_differs"].astype("boolean")
    text = ["campaign", "indicator", "label", "group", "design", "test", "effect_size_name", "theme",
            "indicator_type", "likert_test", "likert_effect_size_name", "note", "mode", "variance_method", "family",
            "dont_know_note"]
    out[text] = out[text].astype("string")
    floats = [c for c in out.columns if c not in ints + text + ["weighted", "denominator_flag", "attrition_differs"]]
    out[floats] = out[floats].astype("float64")
    return out


def results_path(campaign: str) -> Path:
    """``reports/<campaign>/results.csv``."""
    return paths.campaign_reports_dir(campaign) / "results.csv"


def write_results(results: pd.DataFrame, campaign: str) -> Path:
    """Write the results table to ``reports/<campaign>/results.csv`` atomically.

    Checks that the contract columns come first, in order, and raises
    :class:`~evalkit.errors.AnalysisError` otherwise.
    """
    head = list(results.columns[: len(CONTRACT_COLUMNS)])
    if head != list(CONTRACT_COLUMNS):
        raise AnalysisError(f"The results table does not start with the results.csv contract columns; "
                            f"expected {', '.join(CONTRACT_COLUMNS)}, got {', '.join(map(str, head))}.")
    return write_csv_atomic(results, results_path(campaign))
