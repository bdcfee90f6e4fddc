"""Deterministic synthetic raw exports, calibrated to the published figures.

The real survey microdata is private, so the project ships synthetic raw
exports shaped exactly like what evaluators receive from the field
(``docs/design.md``, "Raw export format") and documented in
``data/raw/README.md``. The same seed always gives the same bytes.

Usage::

    python -m evalkit.synth --all                       # regenerate data/raw/
    python -m evalkit.synth --campaign together --out data/raw/together
    python -m evalkit.synth --campaign together --out /tmp/big --respondents-per-wave 1000000

Modules: :mod:`~evalkit.synth.forms` (the XLSForms),
:mod:`~evalkit.synth.scenario` (sizes, rates, unpublished targets),
:mod:`~evalkit.synth.respondents` (people and calibrated answers),
:mod:`~evalkit.synth.waves` (metadata and fieldwork mess),
:mod:`~evalkit.synth.export` (Kobo flavours, reproducible CSV/XLSX),
:mod:`~evalkit.synth.reach` (the per-post reach export).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit import paths
from evalkit.errors import ConfigError
from evalkit.params import Params, load_params
from evalkit.synth import scenario
from evalkit.synth.export import render, write_csv, write_xlsform, write_xlsx
from evalkit.synth.forms import form_for
from evalkit.synth.reach import reach_table
from evalkit.synth.scenario import CAMPAIGNS, SEED
from evalkit.synth.waves import build_waves, iter_waves, scaled_sizes

__all__ = ["CAMPAIGNS", "SEED", "generate_campaign", "generate_all", "all_params"]


def all_params() -> dict[str, Params]:
    """The params of every campaign the generator knows (claims may span stages)."""
    return {c: load_params(c) for c in CAMPAIGNS}


def _rng(seed: int, campaign: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, CAMPAIGNS.index(campaign), stream])


def generate_campaign(campaign: str, out: Path | str | None = None, *, seed: int = SEED,
                      respondents_per_wave: int | None = None,
                      params_by_campaign: dict[str, Params] | None = None) -> list[Path]:
    """Write one stage's raw exports: codebook, baseline, endline and reach.

    Parameters
    ----------
    campaign : str
        One of :data:`CAMPAIGNS`.
    out : Path or str, optional
        Output folder; default ``data/raw/<campaign>/``. Created if needed.
    seed : int, keyword-only
        Random seed; the committed data uses :data:`SEED`.
    respondents_per_wave : int, optional, keyword-only
        Scale mode for benchmarks: about this many clean respondents per
        wave, same shape and mess proportions. Both waves are then written as
        CSV (the endline as ``endline.csv`` in its own header/answer flavour)
        because XLSX at a million rows is impractical.
    params_by_campaign : dict, optional, keyword-only
        Params to use instead of ``params/*.yaml`` (tests).

    Returns
    -------
    list of Path
        The files written, in the order codebook, baseline, endline, reach.

    Raises
    ------
    ConfigError
        If the campaign is unknown or the params contradict the scenario.

    Examples
    --------
    >>> generate_campaign("together", tmp_path)  # doctest: +SKIP
    [.../kap_form.xlsx, .../baseline.csv, .../endline.xlsx, .../reach.csv]
    """
    if campaign not in CAMPAIGNS:
        raise ConfigError(f"The synthetic-data generator knows the campaigns {', '.join(CAMPAIGNS)}; "
                          f"got {campaign!r}.")
    if respondents_per_wave is not None and respondents_per_wave < 10:
        raise ConfigError(f"--respondents-per-wave must be at least 10, got {respondents_per_wave}.")
    everything = params_by_campaign or all_params()
    params = everything[campaign]
    targets, pooled = scenario.resolve_targets(everything)
    out = Path(out) if out is not None else paths.campaign_raw_dir(campaign)
    form = form_for(campaign)
    sizes = scaled_sizes(campaign, respondents_per_wave)
    waves = iter_waves(_rng(seed, campaign, 0), campaign, params, form, sizes, targets, pooled)
    noise_rng = _rng(seed, campaign, 1)
    written = [write_xlsform(form, out / params.raw.codebook)]
    for wave, rows in waves:  # one wave at a time: each is written and freed before the next is built
        wf = params.wave_file(wave)
        table = render(rows, form, wf, renames=params.renames.get(wave, {}), rng=noise_rng,
                       label_noise=scenario.LABEL_NOISE_RATE)
        del rows
        name = wf.file
        if respondents_per_wave is not None:
            name = str(Path(name).with_suffix(".csv"))
        target = out / name
        if target.suffix.lower() == ".csv":
            written.append(write_csv(table, target, encoding=scenario.CSV_ENCODINGS.get((campaign, wave), "utf-8")))
        elif target.suffix.lower() == ".xlsx":
            written.append(write_xlsx(table, target, sheet=form.form_id))
        else:
            raise ConfigError(f"params/{campaign}.yaml names the {wave} export {wf.file!r}; the generator "
                              f"writes only .csv or .xlsx files.")
        del table
    if params.raw.reach:
        written.append(write_csv(reach_table(_rng(seed, campaign, 2), campaign, params), out / params.raw.reach))
    return written


def generate_all(root: Path | str | None = None, *, seed: int = SEED) -> list[Path]:
    """Regenerate every stage into ``root/<campaign>/`` (default ``data/raw/``)."""
    root = Path(root) if root is not None else paths.raw_dir()
    everything = all_params()
    return [p for c in CAMPAIGNS
            for p in generate_campaign(c, root / c, seed=seed, params_by_campaign=everything)]
