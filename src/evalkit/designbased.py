"""Design-based ``results.csv`` rows: weights, strata, clusters (Taylor linearisation).

:func:`evalkit.compare.compare_indicators` computes every row with the exact
methods for simple random samples (McNemar mid-p, Newcombe). When the sample
is not one -- the weights vary, or params ``sampling:`` declares strata,
clusters, a finite population correction or population shares -- it calls
:func:`design_rows` once per indicator, which replaces each row's estimates,
interval, test, design effect and effective n by design-based ones
(:mod:`evalkit.stats.survey`, the svy library):

- **paired** (panel): each matched pair is one unit of the design with its
  baseline weight, stratum and cluster (or the attrition-adjusted weight,
  ``sampling.panel_weight``); the change is the design-based mean of the
  per-respondent difference ``y_endline - y_baseline`` (-1, 0, 1), its
  interval and t test use the design degrees of freedom (R
  ``svyttest(I(ye - yb) ~ 0)``); the clustering of the pairs is kept.
- **independent** (two cross-sections): the two waves are two independent
  samples, stacked as separate strata; the change is the difference of the
  two domain estimates with its design-based interval, and the test is the
  Rao-Scott second-order corrected chi-squared of wave x outcome
  (R ``svychisq(statistic = "F")``).
- the pooled ``all`` row with ``sampling.population_shares``:
  ``sum(share_g x estimate_g)`` over the indicator's groups (shares rescaled to
  them), its variance from the groups' joint covariance (svy contrast), and a
  design-based t test.

Groups are domains of the full design (never a subset of the rows). The
design effect ``deff`` is that of the change (its design-based variance over
the variance of the same estimate under simple random sampling of the same
size, with replacement), ``n_eff = n / deff``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from evalkit.errors import AnalysisError
from evalkit.sampling import CLUSTER_COLUMN, FPC_COLUMN, STRATUM_COLUMN, Sampling
from evalkit.stats import cohens_h, mde_pp_independent, mde_pp_paired, paired_odds_ratio
from evalkit.stats.survey import PreparedSample, SurveyDesign, combined_mean, domain_means, prepare_sample, rao_scott
from evalkit.stats.weights import weights_vary

#: Columns :func:`design_rows` adds to ``results.csv`` (after the existing extras).
DESIGN_COLUMNS: tuple[str, ...] = ("variance_method", "design_df", "n_clusters", "n_strata", "deff_baseline",
                                   "deff_endline")


def needs_design(weights: np.ndarray, sampling: Sampling) -> bool:
    """True when the rows must be design-based: varying weights or a declared design."""
    return sampling.declared or weights_vary(weights)


def _as_float(frame: pd.DataFrame, column: str) -> pd.Series:
    """A 0/1 (boolean) column as float, NA -> NaN; an absent column is all NaN."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    return pd.Series(frame[column].to_numpy(dtype="float64", na_value=np.nan), index=frame.index)


def _design(sampling: Sampling, frame: pd.DataFrame, *, suffix: str, weight: str) -> SurveyDesign:
    cols = {"strata": f"{STRATUM_COLUMN}{suffix}" if sampling.strata else None,
            "cluster": f"{CLUSTER_COLUMN}{suffix}" if (sampling.cluster or sampling.cluster_kind == "enumerator")
            else None,
            "fpc": f"{FPC_COLUMN}{suffix}" if sampling.fpc else None}
    missing = [c for c in cols.values() if c and c not in frame.columns]
    if missing:
        raise AnalysisError(f"The processed data has no column(s) {', '.join(missing)}, which params 'sampling' "
                            f"needs; re-run the cleaning notebook (make report CAMPAIGN=...) so that "
                            f"responses.parquet carries the design columns.")
    return SurveyDesign(weight=weight, lonely_psu=sampling.lonely_psu, **cols)


def _shares(sampling: Sampling, members: Sequence[str], present: Sequence[str] | None = None
            ) -> dict[str, float] | None:
    """Population shares of the pooled groups, rescaled to the groups with answers (``present``)."""
    if len(members) < 2 or not sampling.population_shares:
        return None
    kept = [g for g in members if present is None or g in present]
    total = sum(sampling.population_shares[g] for g in kept)
    return {g: sampling.population_shares[g] / total for g in kept} if total > 0 else None


def _share_note(members: Sequence[str], shares: dict[str, float]) -> str:
    missing = [g for g in members if g not in shares]
    text = "groups weighted by their population shares (params sampling.population_shares)"
    return text + (f"; no answers from {', '.join(missing)}: the other groups' shares rescaled" if missing else "")


def _srs_var(se: float, deff: float) -> float:
    """Variance the estimate would have under simple random sampling (svy's deff = var / var_srs)."""
    return se**2 / deff if deff > 0 else np.nan


def _p_two_sided(est: float, se: float, df: float) -> float:
    if not (se > 0) or not np.isfinite(df) or df < 1:
        return np.nan
    return float(2 * t_dist.sf(abs(est / se), df))


class _GroupCodes:
    """A group column as integer codes: membership and presence without per-row text (1M rows)."""

    def __init__(self, groups: pd.Series) -> None:
        codes, levels = pd.factorize(groups.astype("string"), use_na_sentinel=True)
        self.codes, self.levels = codes, [str(x) for x in levels]

    def isin(self, members: Sequence[str]) -> np.ndarray:
        """Whether each row's group is one of ``members``."""
        wanted = [i for i, g in enumerate(self.levels) if g in set(members)]
        return np.isin(self.codes, wanted)

    def present(self, mask: np.ndarray) -> set[str]:
        """The groups of the rows in ``mask``."""
        return {self.levels[i] for i in np.unique(self.codes[mask]) if i >= 0}


def _common(prepared: PreparedSample, sampling: Sampling) -> dict:
    notes = list(prepared.notes)
    if sampling.cluster_kind == "enumerator":
        notes.insert(0, "enumerator used as cluster (no sampling cluster known)")
    return {"variance_method": "taylor", "n_clusters": prepared.n_clusters, "n_strata": prepared.n_strata,
            "p_exact": np.nan, "_notes": notes}


def _paired_rows(ind_id: str, pairs: pd.DataFrame, member_sets: Sequence[tuple[str, ...]], *,
                 sampling: Sampling, weight: str, alpha: float) -> dict[tuple[str, ...], dict]:
    yb, ye = (_as_float(pairs, f"{ind_id}{s}") for s in ("_b", "_e"))
    answered = (yb.notna() & ye.notna()).to_numpy()
    if answered.sum() < 2:  # nothing to estimate: the exact row's NaNs and note stand
        return {members: {"_skip": True} for members in member_sets}
    frame = pd.DataFrame({"_yb": yb.to_numpy(), "_ye": ye.to_numpy(), "_d": (ye - yb).to_numpy(),
                          "_ans": answered.astype(float)}, index=pairs.index)
    keep = ["group", weight, *(f"{c}_b" for c in (STRATUM_COLUMN, CLUSTER_COLUMN, FPC_COLUMN))]
    frame = pd.concat([pairs[[c for c in keep if c in pairs.columns]], frame], axis=1)  # only what the design needs
    group = _GroupCodes(frame["group"])
    pooled = [m for m in member_sets if len(m) > 1]
    for k, members in enumerate(pooled):
        frame[f"_pool{k}"] = (answered & group.isin(members)).astype(float)
    variables = ["_yb", "_ye", "_d"]
    prepared = prepare_sample(frame, [*variables, "_ans", *(f"_pool{k}" for k in range(len(pooled)))],
                              _design(sampling, frame, suffix="_b", weight=weight), labels=["group"])
    w = pd.to_numeric(frame[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    # every group in one call (domains of the full design), then one call per pooled row
    by_group = domain_means(prepared, variables, domain="_ans", by="group", alpha=alpha).set_index(
        ["variable", "domain"])
    out = {}
    for members in member_sets:
        dom = answered & group.isin(members)
        n = int((dom & ~np.isnan(w)).sum())
        row = _common(prepared, sampling) | {"test": "design_t"}
        if n < 2:
            out[members] = row | {"_skip": True}
            continue
        shares = _shares(sampling, members, group.present(dom))
        if len(members) == 1:
            est = {v: by_group.loc[(v, members[0])].to_dict() for v in variables}
        elif shares is None:
            k = pooled.index(members)
            m = domain_means(prepared, variables, domain=f"_pool{k}", alpha=alpha).set_index("variable")
            est = {v: m.loc[v].to_dict() for v in variables}
        else:
            k = pooled.index(members)
            est, srs = {}, {}
            for v in variables:
                est[v] = combined_mean(prepared, v, by="group", coefficients=shares, domain=f"_pool{k}", alpha=alpha)
                srs[v] = sum(shares[x] ** 2 * _srs_var(by_group.loc[(v, x), "se"], by_group.loc[(v, x), "deff"])
                             for x in shares if (v, x) in by_group.index)
            row["_notes"].append(_share_note(members, shares))
        if shares is None or len(members) == 1:
            p_value = _p_two_sided(est["_d"]["estimate"], est["_d"]["se"], est["_d"]["df"])
            deff = {v: est[v]["deff"] for v in est}
        else:
            p_value = est["_d"]["p_value"]
            deff = {v: est[v]["se"] ** 2 / srs[v] if srs[v] > 0 else np.nan for v in est}
        pb, pe, d = est["_yb"]["estimate"], est["_ye"]["estimate"], est["_d"]
        ww, dd = w[dom], frame["_d"].to_numpy()[dom]
        gained, lost = float(ww[dd > 0.5].sum()), float(ww[dd < -0.5].sum())
        n_eff = n / deff["_d"] if deff["_d"] > 0 else np.nan
        row.update(baseline_pct=100 * pb, endline_pct=100 * pe, change_pp=100 * d["estimate"],
                   ci_low_pp=100 * d["ci_low"], ci_high_pp=100 * d["ci_high"], p_value=p_value,
                   baseline_ci_low_pct=100 * est["_yb"]["ci_low"], baseline_ci_high_pct=100 * est["_yb"]["ci_high"],
                   endline_ci_low_pct=100 * est["_ye"]["ci_low"], endline_ci_high_pct=100 * est["_ye"]["ci_high"],
                   effect_size=cohens_h(pe, pb), odds_ratio=paired_odds_ratio(gained, lost),
                   deff=deff["_d"], n_eff=n_eff, deff_baseline=deff["_yb"], deff_endline=deff["_ye"],
                   design_df=d["df"],
                   mde_pp=mde_pp_paired(n_eff, discordant=(gained + lost) / ww.sum(), baseline_p=pb, alpha=alpha)
                   if n_eff > 0 else np.nan)
        if not np.isfinite(row["p_value"]):
            row["_notes"].append("the design-based standard error of the change is 0 (every respondent changed "
                                 "the same way, or too few clusters): no test")
        out[members] = row
    return out


def _stacked(base: pd.DataFrame, end: pd.DataFrame, ind_id: str) -> pd.DataFrame:
    """Both waves in one frame; each wave its own set of strata and clusters (independent samples)."""
    keep = ["group", "weight", ind_id, STRATUM_COLUMN, CLUSTER_COLUMN, FPC_COLUMN]  # only what the design needs
    frame = pd.concat([f[[c for c in keep if c in f.columns]].assign(_wave=wave)
                       for f, wave in ((base, "baseline"), (end, "endline"))], ignore_index=True)
    y = _as_float(frame, ind_id)
    frame = frame.assign(_y=y, _is_end=(frame["_wave"] == "endline").astype(float))
    stratum = frame[STRATUM_COLUMN].astype("string") if STRATUM_COLUMN in frame else pd.Series("all", index=frame.index)
    frame["_h"] = frame["_wave"] + "|" + stratum.fillna("missing")
    if CLUSTER_COLUMN in frame:  # keep "no cluster" missing: prepare_sample makes such a respondent its own cluster
        frame["_c"] = frame["_wave"] + "|" + frame[CLUSTER_COLUMN].astype("string")
    frame["_wg"] = frame["_wave"] + "|" + frame["group"].astype("string")
    return frame


def _independent_rows(ind_id: str, base: pd.DataFrame, end: pd.DataFrame, member_sets: Sequence[tuple[str, ...]], *,
                      sampling: Sampling, alpha: float) -> dict[tuple[str, ...], dict]:
    frame = _stacked(base, end, ind_id)
    answered = frame["_y"].notna().to_numpy()
    groups = _GroupCodes(frame["group"])
    for k, members in enumerate(member_sets):
        frame[f"_dom{k}"] = (answered & groups.isin(members)).astype(float)
    base_design = _design(sampling, frame, suffix="", weight="weight")
    design = SurveyDesign(weight="weight", strata="_h", cluster="_c" if base_design.cluster else None,
                          fpc=base_design.fpc, lonely_psu=sampling.lonely_psu)
    prepared = prepare_sample(frame, ["_y", "_is_end", *(f"_dom{k}" for k in range(len(member_sets)))], design,
                              labels=["_wave", "_wg"])
    is_end = frame["_is_end"].to_numpy() == 1
    w_ok = pd.to_numeric(frame["weight"], errors="coerce").notna().to_numpy()
    out = {}
    for k, members in enumerate(member_sets):
        dom = (frame[f"_dom{k}"].to_numpy() == 1) & w_ok
        nb, ne = int((dom & ~is_end).sum()), int((dom & is_end).sum())
        row = _common(prepared, sampling) | {"test": "rao_scott_f"}
        if nb < 2 or ne < 2:
            out[members] = row | {"_skip": True}
            continue
        shares = _shares(sampling, members, groups.present(dom & ~is_end) & groups.present(dom & is_end))
        if shares is None:
            m = domain_means(prepared, ["_y"], domain=f"_dom{k}", by="_wave", alpha=alpha).set_index("domain")
            b, e = m.loc["baseline"], m.loc["endline"]
            diff = combined_mean(prepared, "_y", by="_wave", coefficients={"endline": 1.0, "baseline": -1.0},
                                 domain=f"_dom{k}", alpha=alpha)
            srs = _srs_var(b["se"], b["deff"]) + _srs_var(e["se"], e["deff"])
            rs = rao_scott(prepared, "_is_end", "_y", domain=f"_dom{k}")
            p_value, deff_b, deff_e, pb, pe = rs["f_p"], b["deff"], e["deff"], b["estimate"], e["estimate"]
            ci_b, ci_e = (b["ci_low"], b["ci_high"]), (e["ci_low"], e["ci_high"])
        else:
            g = domain_means(prepared, ["_y"], domain=f"_dom{k}", by="_wg", alpha=alpha).set_index("domain")
            coef = {f"endline|{x}": s for x, s in shares.items()} | {f"baseline|{x}": -s for x, s in shares.items()}
            diff = combined_mean(prepared, "_y", by="_wg", coefficients=coef, domain=f"_dom{k}", alpha=alpha)
            wave_est = {}
            for wave in ("baseline", "endline"):
                c = {f"{wave}|{x}": s for x, s in shares.items()}
                wave_est[wave] = combined_mean(prepared, "_y", by="_wg", coefficients=c, domain=f"_dom{k}", alpha=alpha)
            srs_w = {wave: sum(s**2 * _srs_var(g.loc[f"{wave}|{x}", "se"], g.loc[f"{wave}|{x}", "deff"])
                               for x, s in shares.items() if f"{wave}|{x}" in g.index) for wave in wave_est}
            srs = srs_w["baseline"] + srs_w["endline"]
            pb, pe = wave_est["baseline"]["estimate"], wave_est["endline"]["estimate"]
            deff_b, deff_e = (wave_est[x]["se"] ** 2 / srs_w[x] if srs_w[x] > 0 else np.nan for x in wave_est)
            ci_b = (wave_est["baseline"]["ci_low"], wave_est["baseline"]["ci_high"])
            ci_e = (wave_est["endline"]["ci_low"], wave_est["endline"]["ci_high"])
            p_value = diff["p_value"]
            row["test"] = "design_t"
            row["_notes"].append(_share_note(members, shares))
        deff = diff["se"] ** 2 / srs if srs > 0 else np.nan
        n_eff_b, n_eff_e = nb / deff_b if deff_b > 0 else np.nan, ne / deff_e if deff_e > 0 else np.nan
        row.update(baseline_pct=100 * pb, endline_pct=100 * pe, change_pp=100 * diff["estimate"],
                   ci_low_pp=100 * diff["ci_low"], ci_high_pp=100 * diff["ci_high"], p_value=p_value,
                   baseline_ci_low_pct=100 * ci_b[0], baseline_ci_high_pct=100 * ci_b[1],
                   endline_ci_low_pct=100 * ci_e[0], endline_ci_high_pct=100 * ci_e[1],
                   effect_size=cohens_h(pe, pb), deff=deff, n_eff=(nb + ne) / deff if deff > 0 else np.nan,
                   deff_baseline=deff_b, deff_endline=deff_e, design_df=diff["df"],
                   mde_pp=mde_pp_independent(pb, n_eff_b, n_eff_e, alpha=alpha))
        out[members] = row
    return out


def design_rows(ind_id: str, base: pd.DataFrame, end: pd.DataFrame | None, member_sets: Sequence[tuple[str, ...]], *,
                design: str, sampling: Sampling, alpha: float, weight: str = "weight_b"
                ) -> Mapping[tuple[str, ...], dict]:
    """Design-based row values of one indicator for each set of pooled groups.

    Parameters
    ----------
    ind_id : str
        Indicator id (its 0/1 column; paired: ``<id>_b`` and ``<id>_e``).
    base, end : pandas.DataFrame
        Paired: ``base`` is every matched pair (:func:`evalkit.compare.match_pairs`),
        ``end`` is None. Independent: the two waves, every group. The
        design columns ``stratum``, ``cluster``, ``fpc`` (``_b`` suffixed
        for pairs) must be present when ``sampling`` declares them.
    member_sets : sequence of tuple of str
        The groups pooled in each row (one group, or the population for ``all``).
    design : {"paired", "independent"}, keyword-only
    sampling : Sampling, keyword-only
    alpha : float, keyword-only
    weight : str, keyword-only
        Paired: the pair weight column (baseline weight, or the
        attrition-adjusted one).

    Returns
    -------
    dict
        members -> the row's new values (``results.csv`` columns) plus
        ``_notes`` (list of text) and ``_skip`` (True when fewer than two
        units: keep the exact row's NaNs and note).

    Raises
    ------
    AnalysisError
        A declared design column is missing from the data, or a stratum has
        a single cluster under ``lonely_psu: fail``.
    """
    if design == "paired":
        return _paired_rows(ind_id, base, member_sets, sampling=sampling, weight=weight, alpha=alpha)
    return _independent_rows(ind_id, base, end, member_sets, sampling=sampling, alpha=alpha)
