"""Design-based estimates for weighted, stratified, clustered samples, with the svy library.

Thin wrappers around `svy <https://svylab.com/docs/svy>`_ (Taylor
linearisation, validated by its authors against R's survey package): build a
design from a pandas frame, estimate domain means with their standard error,
interval and design effect, a linear combination of domain means (population
shares), and the Rao-Scott corrected chi-squared test of a two-way table.
Nothing here re-implements a variance formula; the tests compare every
function with samplics and with hand-computed published formulas.

Conventions (as R survey with ``nest = TRUE``): clusters are nested in strata
(the same cluster code in two strata is two clusters); a respondent without a
cluster is its own cluster, one without a stratum is in stratum ``missing``;
domains (a group, the respondents who answered) are estimated on the whole
design (``where=``), never by dropping rows, so the degrees of freedom and the
lonely-PSU rule see every cluster. Design effects are against simple random
sampling with replacement (svy ``deff="wr"``, R ``deff = "replace"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import AnalysisError

#: ``lonely_psu`` params value -> svy's singleton method (None = stop with an error).
LONELY_PSU_METHODS: dict[str, str | None] = {"fail": None, "remove": "skip", "certainty": "skip",
                                             "adjust": "center", "average": "scale"}

#: Columns of :func:`domain_means`.
MEAN_COLUMNS = ("variable", "domain", "estimate", "se", "ci_low", "ci_high", "deff", "df", "n")


@dataclass(frozen=True)
class SurveyDesign:
    """Which columns of a frame carry the design.

    Attributes
    ----------
    weight : str
        Weight column (respondents with a missing weight are left out).
    strata, cluster, fpc : str or None
        Stratum, cluster (PSU) and finite-population-correction columns;
        ``None`` = absent. ``fpc`` holds the number of clusters in the
        stratum's population, or a sampling fraction (values <= 1).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        Rule for a stratum with a single cluster (R ``survey.lonely.psu``).
    """

    weight: str = "weight"
    strata: str | None = None
    cluster: str | None = None
    fpc: str | None = None
    lonely_psu: str = "adjust"


@dataclass(frozen=True)
class PreparedSample:
    """An svy sample and what was done to the design columns.

    Attributes
    ----------
    sample : svy.Sample
        The design-bearing sample (columns ``_w``, ``_h``, ``_psu`` and the data).
    notes : tuple of str
        Visible notes (respondents without a cluster or stratum, lonely
        clusters handled by the rule).
    n_clusters, n_strata : int
        Clusters and strata of the design (respondents with a weight).
    """

    sample: object
    notes: tuple[str, ...]
    n_clusters: int
    n_strata: int


def _factor(values: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes (-1 = missing), the levels, and the number missing (integers keep 1M rows fast)."""
    codes, levels = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(levels, dtype=object), int((codes < 0).sum())


def prepare_sample(frame: pd.DataFrame, columns: Sequence[str], design: SurveyDesign, *,
                   labels: Sequence[str] = ()) -> PreparedSample:
    """Build the svy design for ``frame`` (one row per respondent).

    Parameters
    ----------
    frame : pandas.DataFrame
        Respondents, with the design columns and ``columns``; not modified.
    columns : sequence of str
        Numeric analysis columns to carry (NaN/NA = missing).
    design : SurveyDesign
    labels : sequence of str, keyword-only
        Text columns to carry (for ``by=``), missing as ``""``.

    Returns
    -------
    PreparedSample

    Raises
    ------
    AnalysisError
        A negative or infinite weight; a stratum with one cluster when
        ``lonely_psu`` is ``fail`` (naming the stratum).
    """
    import polars as pl
    import svy

    w = pd.to_numeric(frame[design.weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(w)
    if (w[keep] < 0).any() or np.isinf(w[keep]).any():
        raise AnalysisError(f"Weights must be finite and non-negative; check the '{design.weight}' column "
                            f"(params columns.weight) of responses.parquet.")
    sub = frame.loc[keep]
    n = len(sub)
    notes = []
    h, h_levels = np.zeros(n, dtype=np.int64), np.array(["all"], dtype=object)
    if design.strata:
        h, h_levels, n_missing = _factor(sub[design.strata])
        if n_missing:
            h = np.where(h < 0, len(h_levels), h)
            h_levels = np.append(h_levels, "missing")
            notes.append(f"{n_missing} respondent(s) without a stratum were put in stratum 'missing'")
    if design.cluster:
        c, _levels, n_missing = _factor(sub[design.cluster])
        c = np.where(c < 0, -1 - np.arange(n), c)  # no cluster: each respondent its own (negative, unique)
        if n_missing:
            notes.append(f"{n_missing} respondent(s) without a cluster were each counted as their own cluster")
    else:
        c = np.arange(n, dtype=np.int64)
    c = c - (c.min() if n else 0)
    key = h * (int(c.max()) + 1 if n else 1) + c  # one integer per (stratum, cluster): nested, as R's nest=TRUE
    psu = pd.factorize(key)[0].astype(np.int64)
    data = {"_w": w[keep], "_h": h, "_psu": psu}
    for col in columns:
        data[col] = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for col in labels:
        data[col] = pl.Series(col, sub[col].astype("string").fillna("").to_numpy(dtype=object), dtype=pl.String)
    n_clusters = int(psu.max()) + 1 if n else 0
    psu_stratum = np.zeros(n_clusters, dtype=np.int64)
    psu_stratum[psu] = h
    per_stratum = pd.Series(np.bincount(psu_stratum, minlength=len(h_levels)), index=h_levels)
    per_stratum = per_stratum[per_stratum > 0]
    lonely = [str(x) for x in per_stratum.index[per_stratum == 1]]
    method = LONELY_PSU_METHODS[design.lonely_psu]
    if lonely and method is None and per_stratum.size > 1:
        shown = ", ".join(map(repr, lonely[:5])) + (" ..." if len(lonely) > 5 else "")
        raise AnalysisError(f"{len(lonely)} stratum/strata have a single cluster ({shown}), so their variance "
                            f"cannot be estimated; set params sampling.lonely_psu to remove, certainty, adjust or "
                            f"average (see params/README.md), or merge those strata in the data.")
    if lonely and method is not None:
        notes.append(f"{len(lonely)} stratum/strata with a single cluster handled by lonely_psu: "
                     f"{design.lonely_psu}")
    kwargs: dict = {"wgt": "_w", "psu": "_psu"}
    if per_stratum.size > 1:
        kwargs["stratum"] = "_h"
    if lonely and method is not None:
        kwargs["singleton"] = method
    if design.fpc:
        data["_fpc"] = _population_clusters(sub[design.fpc], h, psu)
        kwargs["pop_size"] = svy.PopSize(psu="_fpc")
    sample = svy.Sample(pl.DataFrame(data).fill_nan(None), svy.Design(**kwargs))
    return PreparedSample(sample=sample, notes=tuple(notes), n_clusters=n_clusters, n_strata=int(per_stratum.size))


def _population_clusters(fpc: pd.Series, h: np.ndarray, psu: np.ndarray) -> np.ndarray:
    """Clusters in each stratum's population from a count or a sampling fraction (<= 1)."""
    f = pd.to_numeric(fpc, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(f).any() or (f <= 0).any():
        raise AnalysisError("The finite population correction (params sampling.fpc) is missing or not positive "
                            f"for {int((np.isnan(f) | (f <= 0)).sum())} respondent(s); give it for every respondent.")
    sampled = pd.DataFrame({"h": h, "psu": psu}).groupby("h")["psu"].transform("nunique").to_numpy(dtype=float)
    return np.where(f <= 1, sampled / f, f)


def domain_means(prepared: PreparedSample, variables: Sequence[str], *, domain: str | None = None,
                 by: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Design-based means of ``variables`` in a domain, optionally by a grouping column.

    Parameters
    ----------
    prepared : PreparedSample
    variables : sequence of str
        Numeric columns (0/1 for a proportion, -1/0/1 for a paired change).
    domain : str, optional, keyword-only
        A 0/1 column: estimate among its 1 rows only (on the full design).
    by : str, optional, keyword-only
        A column whose levels are estimated separately (levels as text).
    alpha : float, keyword-only
        Two-sided level of the intervals (t with the design degrees of freedom).

    Returns
    -------
    pandas.DataFrame
        :data:`MEAN_COLUMNS`: ``variable, domain`` (the ``by`` level or
        ``""``), ``estimate, se, ci_low, ci_high, deff, df, n``.

    References
    ----------
    Wolter KM (2007). Introduction to Variance Estimation, 2nd ed., ch. 6;
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R, ch. 2-3.
    """
    import polars as pl

    from svy.errors import MethodError

    where = pl.col(domain) == 1 if domain else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # svy notes domain singletons on the result; we report our own notes
        def one(var: str | list[str], deff: str | None) -> object:
            return prepared.sample.estimation.mean(var, by=by, where=where, deff=deff, alpha=alpha,
                                                   drop_nulls=True)

        try:
            res = one(list(variables), "wr")
        except MethodError:  # a variable has no design effect (everyone in the domain gave the same answer)
            res = []
            for var in variables:
                try:
                    res.append(one(var, "wr"))
                except MethodError:
                    res.append(one(var, None))
    frames = []
    for var, est in zip(variables, res if isinstance(res, list) else [res]):
        t = est.to_polars().to_pandas()
        if t.empty:
            continue
        frames.append(pd.DataFrame({
            "variable": var, "domain": t[by].astype(str) if by else "", "estimate": t["est"], "se": t["se"],
            "ci_low": t["lci"], "ci_high": t["uci"], "deff": t["deff"] if "deff" in t else np.nan,
            "df": t["df"].astype(float), "n": t["n"].astype(int)}))
    if not frames:
        return pd.DataFrame(columns=list(MEAN_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(MEAN_COLUMNS)]


def combined_mean(prepared: PreparedSample, variable: str, *, by: str, coefficients: Mapping[str, float],
                  domain: str | None = None, alpha: float = 0.05) -> dict[str, float]:
    """``sum(c_g * mean_g)`` over the levels of ``by``, with its design-based SE (svy contrast).

    Used for the pooled ``all`` row with population shares: each group's
    estimate weighted by its population share, the covariance between groups
    (shared clusters) taken into account.

    Returns
    -------
    dict
        ``estimate, se, ci_low, ci_high, df, p_value`` (p of ``estimate = 0``).
    """
    import polars as pl

    where = pl.col(domain) == 1 if domain else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = prepared.sample.estimation.mean(variable, by=by, where=where, alpha=alpha, drop_nulls=True)
        known = set(map(str, est.keys()))
        coefs = {k: float(v) for k, v in coefficients.items() if str(k) in known}
        row = est.contrast(coefs, alpha=alpha).to_polars().to_pandas().iloc[0]
    return {"estimate": float(row["est"]), "se": float(row["se"]), "ci_low": float(row["lci"]),
            "ci_high": float(row["uci"]), "df": float(row["df"]), "p_value": float(row["p_value"])}


def rao_scott(prepared: PreparedSample, rows: str, columns: str, *, domain: str | None = None) -> dict[str, float]:
    """Rao-Scott corrected chi-squared test of independence of two categorical columns.

    Returns
    -------
    dict
        ``chi2`` (first-order corrected statistic), ``chi2_df``, ``chi2_p``,
        ``f`` (second-order, R ``svychisq(statistic = "F")``), ``f_df_num``,
        ``f_df_den``, ``f_p``.

    References
    ----------
    Rao JNK, Scott AJ (1984). On chi-squared tests for multiway contingency
    tables with cell proportions estimated from survey data. Annals of
    Statistics 12(1):46-60.
    """
    import polars as pl

    where = pl.col(domain) == 1 if domain else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = prepared.sample.categorical.tabulate(rows, columns, where=where, drop_nulls=True).stats
    return {"chi2": float(st.chisq.value), "chi2_df": float(st.chisq.df), "chi2_p": float(st.chisq.p_value),
            "f": float(st.f.value), "f_df_num": float(st.f.df_num), "f_df_den": float(st.f.df_den),
            "f_p": float(st.f.p_value)}
