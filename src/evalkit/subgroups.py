"""Subgroup breakdowns (e.g. urban/rural, sex) with small-cell suppression.

For each indicator and each ``params.subgroups`` variable, the pooled group
``all`` (the indicator's population) is broken down by the variable's levels:
baseline and endline percentages and the change. A respondent with no value
for the variable is counted in the level ``missing``, so the levels always
add up to the ``all`` row of ``results.csv``.

Disclosure control (``params.min_cell_size``, default 10):

1. Primary suppression: a level with between 1 and ``min_cell_size - 1``
   respondents at either wave is suppressed.
2. Complementary suppression: the ``all`` total is published in
   ``results.csv``, so if exactly one level of a breakdown is suppressed its
   numbers could be derived from the total minus the other levels. The next
   smallest level (preferring one with respondents at both waves) is then
   suppressed too.

A suppressed row publishes neither percentages nor counts (``n_baseline``,
``n_endline`` are empty) and says why in ``note``.

Paired design: the breakdown is over matched pairs with an answer at both
waves (as in ``results.csv``), by the respondent's baseline value of the
variable. Independent design: each wave's respondents by their own value.
Weighted percentages when ``weight`` varies.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import paths
from evalkit.atomic import write_csv_atomic
from evalkit.compare import _analysis_columns, _check_columns, _wave, match_pairs
from evalkit.frames import float_column
from evalkit.params import ALL_GROUPS, Params

#: Columns of ``subgroups.csv``, in order.
SUBGROUP_COLUMNS: tuple[str, ...] = ("indicator", "group", "subgroup", "level", "n_baseline", "n_endline",
                                     "baseline_pct", "endline_pct", "change_pp", "suppressed", "note")

#: Level used for respondents without a value of the breakdown variable.
MISSING_LEVEL = "missing"


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer level codes of a column (missing values get the level ``missing``)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [str(u) for u in uniques]
    if (codes < 0).any():
        if MISSING_LEVEL in names:
            codes = np.where(codes < 0, names.index(MISSING_LEVEL), codes)
        else:
            codes = np.where(codes < 0, len(names), codes)
            names.append(MISSING_LEVEL)
    return np.asarray(codes, dtype=np.int64), names


def _by_level(codes: np.ndarray, y: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Respondents with an answer and weighted % positive, per level code (vectorised)."""
    ok = ~(np.isnan(y) | np.isnan(w))
    c = codes[ok]
    n = np.bincount(c, minlength=k).astype(float)
    sw = np.bincount(c, weights=w[ok], minlength=k)
    swy = np.bincount(c, weights=w[ok] * (y[ok] > 0.5), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(sw > 0, 100 * swy / sw, np.nan)
    return n, pct


def suppress(n_baseline: np.ndarray, n_endline: np.ndarray, *, min_cell_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Decide which levels of one breakdown to suppress.

    Parameters
    ----------
    n_baseline, n_endline : numpy.ndarray
        Respondents per level at each wave.
    min_cell_size : int, keyword-only
        Smallest publishable cell.

    Returns
    -------
    (primary, complementary) : tuple of bool arrays
        ``primary``: a wave has 1 to ``min_cell_size - 1`` respondents.
        ``complementary``: the levels suppressed so that no primary cell,
        nor the sum of the hidden ones, can be derived from the published
        total and the other levels (:func:`evalkit.smallcells.protect_rows`,
        the one small-cell gate).

    Examples
    --------
    >>> p, c = suppress(np.array([120, 5, 40]), np.array([118, 6, 44]), min_cell_size=10)
    >>> p.tolist(), c.tolist()
    ([False, True, False], [False, False, True])
    """
    from evalkit.smallcells import protect_rows

    counts = pd.DataFrame({"n_baseline": np.asarray(n_baseline, float), "n_endline": np.asarray(n_endline, float)})
    # the levels of one breakdown add up to the published total of each wave (the small-cell gate)
    primary, complementary = protect_rows(counts, k=min_cell_size, line=pd.Series("levels", index=counts.index))
    primary, complementary = primary.to_numpy(), complementary.to_numpy()
    return primary, complementary


def subgroup_table(responses: pd.DataFrame, params: Params, *, source: str = "responses.parquet") -> pd.DataFrame:
    """Break every indicator down by each subgroup variable, with suppression.

    Parameters
    ----------
    responses : pandas.DataFrame
        ``responses.parquet`` (processed-data contract); not modified.
    params : evalkit.params.Params
        Uses ``design``, ``indicators``, ``subgroups`` and ``min_cell_size``.
    source : str, keyword-only
        Name of the input used in error messages.

    Returns
    -------
    pandas.DataFrame
        :data:`SUBGROUP_COLUMNS`: ``indicator``, ``group`` (``all``),
        ``subgroup`` (the variable), ``level``, ``n_baseline``,
        ``n_endline`` (Int64, empty when suppressed), ``baseline_pct``,
        ``endline_pct``, ``change_pp`` (NaN when suppressed or undefined),
        ``suppressed`` (bool), ``note``. Levels are sorted, ``missing`` last.

    Examples
    --------
    >>> subgroup_table(responses, load_params("together"))  # doctest: +SKIP
    """
    _check_columns(responses, params, source=source)
    columns = _analysis_columns(responses, params)
    present = [v for v in params.subgroups if v in responses.columns]
    columns += [v for v in present if v not in columns]
    base, end = _wave(responses, "baseline", columns), _wave(responses, "endline", columns)
    paired = params.design == "paired"
    if paired:
        pairs, _ = match_pairs(base, end)
        frames = (pairs, pairs)
        level_codes = {v: _codes(pairs[f"{v}_b"]) for v in present}  # baseline value of each pair
        split = {v: (c, c) for v, (c, _) in level_codes.items()}
    else:
        frames = (base, end)
        level_codes = {v: _codes(pd.concat([base[v], end[v]], ignore_index=True)) for v in present}
        split = {v: (c[: len(base)], c[len(base):]) for v, (c, _) in level_codes.items()}
    rows: list[dict] = []
    for ind in params.indicators:
        if ind.type == "numeric":  # a mean, not a percentage: results.csv has its breakdown-free comparison
            continue
        masks = [f["group"].isin(list(ind.population)).to_numpy() for f in frames]
        if paired:
            yb, ye = float_column(pairs, f"{ind.id}_b"), float_column(pairs, f"{ind.id}_e")
            both = np.where(np.isnan(yb) | np.isnan(ye), np.nan, 1.0)
            w = float_column(pairs, "weight_b")
            ys, ws = (yb * both, ye * both), (w, w)
        else:
            ys = (float_column(base, ind.id), float_column(end, ind.id))
            ws = (float_column(base, "weight"), float_column(end, "weight"))
        for var in params.subgroups:
            if var not in present:
                rows.append({"indicator": ind.id, "group": ALL_GROUPS, "subgroup": var, "level": pd.NA,
                             "suppressed": False, "note": f"column '{var}' is not in {source}"})
                continue
            names = level_codes[var][1]
            (nb, pb), (ne, pe) = (_by_level(c[m], y[m], wt[m], len(names))
                                  for c, m, y, wt in zip(split[var], masks, ys, ws))
            order = [i for i in sorted(range(len(names)), key=lambda i: (names[i] == MISSING_LEVEL, names[i]))
                     if nb[i] + ne[i] > 0]
            rows += _rows(ind.id, var, [names[i] for i in order], nb[order], ne[order], pb[order], pe[order],
                          min_cell_size=params.min_cell_size)
    return _typed(pd.DataFrame(rows, columns=list(SUBGROUP_COLUMNS)))


def _rows(indicator: str, var: str, names: list[str], nb: np.ndarray, ne: np.ndarray, pb: np.ndarray,
          pe: np.ndarray, *, min_cell_size: int) -> list[dict]:
    primary, complementary = suppress(nb, ne, min_cell_size=min_cell_size)
    out = []
    for i, level in enumerate(names):
        row = {"indicator": indicator, "group": ALL_GROUPS, "subgroup": var, "level": level,
               "n_baseline": nb[i], "n_endline": ne[i], "baseline_pct": pb[i], "endline_pct": pe[i],
               "change_pp": pe[i] - pb[i], "suppressed": False, "note": ""}
        if primary[i] or complementary[i]:
            row.update(n_baseline=np.nan, n_endline=np.nan, baseline_pct=np.nan, endline_pct=np.nan,
                       change_pp=np.nan, suppressed=True,
                       note=(f"suppressed: fewer than {min_cell_size} respondents" if primary[i] else
                             "suppressed so that a small cell cannot be derived from the total "
                             "(complementary suppression)"))
        elif nb[i] == 0 or ne[i] == 0:
            row["note"] = f"no respondents with an answer at {'baseline' if nb[i] == 0 else 'endline'}"
        out.append(row)
    return out


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    out[["n_baseline", "n_endline"]] = out[["n_baseline", "n_endline"]].astype("Float64").round().astype("Int64")
    out[["baseline_pct", "endline_pct", "change_pp"]] = out[["baseline_pct", "endline_pct", "change_pp"]].astype(float)
    out["suppressed"] = out["suppressed"].astype(bool)
    for c in ("indicator", "group", "subgroup", "level", "note"):
        out[c] = out[c].astype("string")
    return out


def subgroups_path(campaign: str) -> Path:
    """``reports/<campaign>/subgroups.csv``."""
    return paths.campaign_reports_dir(campaign) / "subgroups.csv"


def write_subgroups(table: pd.DataFrame, campaign: str) -> Path:
    """Write the subgroup table to ``reports/<campaign>/subgroups.csv`` atomically."""
    return write_csv_atomic(table, subgroups_path(campaign))
