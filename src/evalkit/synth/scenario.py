"""The assumptions behind the synthetic data: sizes, rates and target percentages.

Published figures are not written here: they are read from the claims in
``params/*.yaml`` (:func:`resolve_targets`), so the data and the params cannot
drift apart. What is here are the *unpublished* values a synthetic survey
still needs (baseline levels, other groups, within-stage changes), each
documented in ``data/raw/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalkit.errors import ConfigError
from evalkit.params import Params

#: Default seed of the committed data (``--seed`` overrides it).
SEED = 20220317

#: Campaign stages the generator knows.
CAMPAIGNS = ("together", "differently-different-2019", "differently-different-2020")


@dataclass(frozen=True)
class Sizes:
    """Clean sample sizes of one campaign stage.

    Attributes
    ----------
    baseline, endline : dict
        Group -> clean respondents interviewed at that wave. For a panel,
        ``endline`` holds the re-interviewed baseline respondents plus
        ``endline_only`` new ones.
    attrition : dict
        Panel only: group -> share of baseline respondents not re-interviewed.
    endline_only : dict
        Panel only: group -> respondents interviewed only at endline
        (replacements).
    """

    baseline: dict[str, int]
    endline: dict[str, int]
    attrition: dict[str, float]
    endline_only: dict[str, int]


_TG_BASE = {"parent_sen": 300, "parent_nosen": 400, "staff": 150}
_TG_ATTRITION = {"parent_sen": 0.12, "parent_nosen": 0.13, "staff": 0.11}
_TG_ENDLINE_ONLY = {"parent_sen": 4, "parent_nosen": 6, "staff": 3}

SIZES: dict[str, Sizes] = {
    "together": Sizes(
        baseline=_TG_BASE,
        endline={g: n - round(n * _TG_ATTRITION[g]) + _TG_ENDLINE_ONLY[g] for g, n in _TG_BASE.items()},
        attrition=_TG_ATTRITION, endline_only=_TG_ENDLINE_ONLY),
    "differently-different-2019": Sizes(
        baseline={"parent": 560, "child": 340}, endline={"parent": 545, "child": 330},
        attrition={}, endline_only={}),
    "differently-different-2020": Sizes(
        baseline={"parent": 575, "child": 355}, endline={"parent": 550, "child": 350},
        attrition={}, endline_only={}),
}

#: Mess rows per wave, as a share of the clean respondents of that wave
#: (at least 2 of each kind that applies).
MESS_RATES: dict[str, float] = {
    "exact_duplicate": 0.012,      # same submission sent twice (same _uuid)
    "reinterview": 0.010,          # same resp_id interviewed twice; one interview incomplete
    "test_enumerator": 0.004,      # username test/demo during fieldwork
    "before_fieldwork": 0.005,     # pilot interviews by real enumerators before fieldwork start
    "refused_consent": 0.020,      # consent = no
    "short_interview": 0.012,      # end - start under 3 minutes
    "out_of_range": 0.008,         # Differently Different: child grade outside 4-9
    "inconsistent": 0.006,         # Together: parent_sen with has_sen_child = no
}

#: Share of answers that are "don't know" or "refused" on questions whose
#: list offers them; 70 % of those are "don't know".
MISSING_RATE = 0.04
DONT_KNOW_SHARE = 0.70

#: Correlation of a panel respondent's baseline and endline answer: the
#: number of positive-at-both pairs is ``E + RHO * (max - E)`` where ``E`` is
#: the count expected under independence.
PANEL_RHO = 0.5

#: Unpublished target percentages (share positive among clean respondents
#: with a non-missing answer), per campaign -> wave -> indicator -> group.
#: Published figures are applied on top by :func:`resolve_targets`.
TARGETS: dict[str, dict[str, dict[str, dict[str, float]]]] = {
    "together": {
        "baseline": {
            "good_knowledge": {"parent_sen": 0.48, "parent_nosen": 0.34, "staff": 0.55},
            "know_well": {"parent_sen": 0.52, "parent_nosen": 0.31, "staff": 0.58},
            "equal_participation": {"parent_sen": 0.89, "parent_nosen": 0.78, "staff": 0.86},
            "attend_regular": {"parent_sen": 0.74, "parent_nosen": 0.62},
            "no_harm": {"parent_sen": 0.84, "parent_nosen": 0.75},
            "give_info": {"parent_sen": 0.52, "parent_nosen": 0.40},
            "adapted_lesson": {"staff": 0.36},
        },
        "endline": {
            "good_knowledge": {"parent_sen": 0.61, "parent_nosen": 0.39, "staff": 0.62},
            "know_well": {"parent_sen": 0.58, "parent_nosen": 0.38, "staff": 0.64},
            "equal_participation": {"parent_sen": 0.95, "parent_nosen": 0.83, "staff": 0.90},
            "attend_regular": {"parent_sen": 0.78, "parent_nosen": 0.66},
            "no_harm": {"parent_sen": 0.90, "parent_nosen": 0.85},
            "give_info": {"parent_sen": 0.56, "parent_nosen": 0.46},
            "adapted_lesson": {"staff": 0.44},
        },
    },
    "differently-different-2019": {
        "baseline": {"need_inclusive_ed": {"parent": 0.71}, "special_school_effective": {"parent": 0.82},
                     "attend_regular": {"parent": 0.47}, "develop_talents": {"parent": 0.58},
                     "proud_helping": {"child": 0.63}},
        "endline": {"need_inclusive_ed": {"parent": 0.72}, "special_school_effective": {"parent": 0.80},
                    "attend_regular": {"parent": 0.495}, "develop_talents": {"parent": 0.62},
                    "proud_helping": {"child": 0.68}},
    },
    "differently-different-2020": {
        "baseline": {"need_inclusive_ed": {"parent": 0.715}, "special_school_effective": {"parent": 0.79},
                     "attend_regular": {"parent": 0.49}, "develop_talents": {"parent": 0.61},
                     "proud_helping": {"child": 0.66}},
        "endline": {"need_inclusive_ed": {"parent": 0.73}, "special_school_effective": {"parent": 0.76},
                    "attend_regular": {"parent": 0.52}, "develop_talents": {"parent": 0.66},
                    "proud_helping": {"child": 0.71}},
    },
}

#: Reach exports: content type -> number of posts, and the total engagements
#: (reactions + comments + shares + video views) per stage. Together's total
#: is its published reach (params ``published_reach``); the Differently
#: Different totals are unpublished and only their sum (> 4 million) is.
REACH_POSTS: dict[str, dict[str, int]] = {
    "together": {"success_story": 5, "poster": 3, "video": 4, "cover_image": 2},
    "differently-different-2019": {"success_story": 6, "poster": 10, "video": 3, "cover_image": 1},
    "differently-different-2020": {"success_story": 8, "poster": 8, "video": 5, "cover_image": 1},
}
REACH_TOTALS: dict[str, int] = {
    "differently-different-2019": 1_874_315,
    "differently-different-2020": 2_251_608,
}

#: Windows-1251 is the encoding of this one CSV export; UTF-8 with BOM of
#: that one; every other CSV is UTF-8 without BOM.
CSV_ENCODINGS: dict[tuple[str, str], str] = {
    ("differently-different-2019", "baseline"): "utf-8-sig",
    ("differently-different-2020", "baseline"): "cp1251",
}

#: Share of label answers written with stray whitespace or another case.
LABEL_NOISE_RATE = 0.04


@dataclass(frozen=True)
class PooledTarget:
    """A published percentage for several groups pooled (claim group ``all``)."""

    groups: tuple[str, ...]
    value: float


def resolve_targets(all_params: dict[str, Params]) -> tuple[dict, dict]:
    """Apply the published claims of every params file to :data:`TARGETS`.

    Parameters
    ----------
    all_params : dict
        Campaign -> :class:`~evalkit.params.Params`, for every campaign in
        :data:`CAMPAIGNS` (claims may compare with another stage).

    Returns
    -------
    targets : dict
        ``(campaign, wave, indicator, group) -> share``; published figures
        replace the defaults.
    pooled : dict
        ``(campaign, wave, indicator) -> PooledTarget`` for claims about the
        pooled groups (``all``).

    Raises
    ------
    ConfigError
        If a claim names an indicator or group with no default target, or a
        published direction (``increase``) contradicts the targets.
    """
    targets = {(c, w, i, g): p for c, waves in TARGETS.items() for w, inds in waves.items()
               for i, groups in inds.items() for g, p in groups.items()}
    pooled: dict[tuple[str, str, str], PooledTarget] = {}
    for campaign, params in all_params.items():
        for claim in params.claims:
            ind = params.indicator(claim.indicator)
            groups = tuple(ind.population) if claim.group == "all" else (claim.group,)
            base_key = (claim.compare_with.campaign, claim.compare_with.wave) if claim.compare_with \
                else (campaign, "baseline")
            end_key = (campaign, "endline")
            missing = [g for g in groups for k in (base_key, end_key)
                       if (*k, claim.indicator, g) not in targets]
            if missing:
                raise ConfigError(f"Claim {claim.id} of params/{campaign}.yaml refers to indicator "
                                  f"{claim.indicator!r}, group(s) {', '.join(sorted(set(missing)))}, for which "
                                  f"evalkit.synth.scenario.TARGETS has no value; add one there.")

            def pooled_default(key: tuple[str, str]) -> float:
                return sum(targets[(*key, claim.indicator, g)] for g in groups) / len(groups)

            def put(key: tuple[str, str], value: float) -> None:
                if len(groups) == 1:
                    targets[(*key, claim.indicator, groups[0])] = value
                else:
                    shift = value - pooled_default(key)
                    for g in groups:
                        targets[(*key, claim.indicator, g)] += shift
                    pooled[(*key, claim.indicator)] = PooledTarget(groups, value)

            if claim.kind == "baseline_pct":
                put(base_key, claim.value / 100)
            elif claim.kind == "endline_pct":
                put(end_key, claim.value / 100)
            elif claim.kind == "baseline_endline_pct":
                put(base_key, claim.baseline / 100)
                put(end_key, claim.endline / 100)
            elif claim.kind == "change_pp":
                base = pooled[(*base_key, claim.indicator)].value if (*base_key, claim.indicator) in pooled \
                    else pooled_default(base_key)
                if len(groups) > 1 and (*base_key, claim.indicator) not in pooled:
                    put(base_key, base)
                put(end_key, base + claim.value / 100)
            elif claim.kind == "increase":
                if pooled_default(end_key) <= pooled_default(base_key):
                    raise ConfigError(f"Claim {claim.id} of params/{campaign}.yaml says {claim.indicator} "
                                      f"increased, but the synthetic targets do not increase; fix "
                                      f"evalkit.synth.scenario.TARGETS.")
    return targets, pooled
