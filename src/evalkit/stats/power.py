"""Minimum detectable effect (MDE) of a pre/post comparison of a proportion.

The MDE is a planning figure (how large a sample the next wave needs), not a
verdict on an observed change: the report reads an observed change from its
confidence interval. Both functions return the
MDE in percentage points at the given power (default 0.8) and two-sided
alpha (default 0.05), using the effective sample size ``n / deff``.

Independent samples (Cohen 1988, chapter 6; the arcsine transformation):
    ``h = (z_{1-alpha/2} + z_{power}) * sqrt(deff * (1/n_baseline + 1/n_endline))``
    and the MDE is the change in percentage points from the baseline
    proportion ``p0`` that this Cohen's h represents,
    ``|sin^2(asin(sqrt(p0)) +/- h/2) - p0|``, taken in the direction of 50%
    (the larger of the two, so conservative). This equals solving
    statsmodels' ``NormalIndPower`` for the effect size (it adds the
    negligible opposite tail), which the tests check.

Paired samples (McNemar; Connor 1987): with ``psi`` the proportion of
discordant pairs, ``n`` effective pairs, the detectable difference ``delta``
solves ``sqrt(n) delta = z_{1-alpha/2} sqrt(psi) + z_{power} sqrt(psi - delta^2)``,
whose root is
    ``delta = sqrt(psi) (sqrt(n) z_a + z_b sqrt(n - z_a^2 + z_b^2)) / (n + z_b^2)``.
"""

from __future__ import annotations

import math

from scipy.stats import norm

from evalkit.stats.effects import cohens_h


def _z_alpha(alpha: float) -> float:
    """The two-sided critical value ``z_{1-alpha/2}``."""
    return float(norm.ppf(1 - alpha / 2))


def _z(alpha: float, power: float) -> tuple[float, float]:
    return _z_alpha(alpha), float(norm.ppf(power))


def mde_pp_independent(baseline_p: float, n_baseline: float, n_endline: float, *, deff: float = 1.0,
                       alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable change (pp) between two independent samples.

    Parameters
    ----------
    baseline_p : float
        Baseline proportion as a fraction (0-1).
    n_baseline, n_endline : float
        Respondents with an answer at each wave.
    deff : float, keyword-only
        Design effect (Kish's, for unequal weights); the sizes are divided
        by it.
    alpha, power : float, keyword-only
        Two-sided significance level and power.

    Returns
    -------
    float
        MDE in percentage points (positive); NaN when a wave has no
        respondents or ``baseline_p`` is NaN.

    References
    ----------
    Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences,
    2nd ed., chapter 6 (effect size h, arcsine transformation).

    Examples
    --------
    >>> round(mde_pp_independent(0.5, 400, 400), 2)
    9.84
    """
    if not (n_baseline > 0 and n_endline > 0) or math.isnan(baseline_p) or not deff > 0:
        return float("nan")
    za, zb = _z(alpha, power)
    h = (za + zb) * math.sqrt(deff * (1 / n_baseline + 1 / n_endline))
    theta0 = math.asin(math.sqrt(min(max(baseline_p, 0.0), 1.0)))
    theta1 = theta0 + h / 2 if baseline_p <= 0.5 else theta0 - h / 2
    theta1 = min(max(theta1, 0.0), math.pi / 2)
    return 100 * abs(math.sin(theta1) ** 2 - baseline_p)


def mde_pp_paired(n_pairs: float, *, discordant: float | None = None, baseline_p: float | None = None,
                  deff: float = 1.0, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable change (pp) for a McNemar comparison of paired proportions.

    Parameters
    ----------
    n_pairs : float
        Matched pairs with an answer at both waves.
    discordant : float, optional, keyword-only
        Proportion of pairs whose answer changed (``(b + c) / n``), as
        observed. When ``None`` (planning, before any data), the answers are
        assumed independent between waves around ``baseline_p``:
        ``psi = 2 p0 (1 - p0)``, conservative for a panel whose answers are
        positively correlated. An *observed* 0 (no pair changed its answer)
        gives NaN: the McNemar test conditions on the discordant pairs, so a
        panel in which nobody changed says nothing about the size of change it
        could detect, and the independent-samples guess (29.4 pp for 40 stable
        pairs around 50%) would be a figure the data contradict.
    baseline_p : float, optional, keyword-only
        Baseline proportion (fraction), used only when ``discordant`` is not.
    deff, alpha, power : float, keyword-only
        Design effect (pairs divided by it), significance level, power.

    Returns
    -------
    float
        MDE in percentage points; NaN when undefined (fewer than 4 pairs, no
        discordant pair observed, or ``discordant`` and ``baseline_p`` both
        missing).

    References
    ----------
    Connor RJ (1987). Sample size for testing differences in proportions for
    the paired-sample design. Biometrics 43:207-211.

    Examples
    --------
    >>> round(mde_pp_paired(300, discordant=0.2), 2)
    7.21
    """
    if not deff > 0 or not n_pairs > 0:
        return float("nan")
    n = n_pairs / deff
    if discordant is not None and not math.isnan(discordant):
        if not discordant > 0:
            return float("nan")
        psi = discordant
    else:
        if baseline_p is None or math.isnan(baseline_p) or not 0 < baseline_p < 1:
            return float("nan")
        psi = 2 * baseline_p * (1 - baseline_p)
    za, zb = _z(alpha, power)
    inner = n - za**2 + zb**2
    if inner < 0 or n <= za**2:
        return float("nan")
    delta = math.sqrt(psi) * (math.sqrt(n) * za + zb * math.sqrt(inner)) / (n + zb**2)
    return 100 * delta


def _psi_ok(change: float, discordant: float) -> bool:
    return (not math.isnan(change) and not math.isnan(discordant) and change != 0
            and 0 < discordant <= 1 and abs(change) < discordant)


def n_pairs_needed(change: float, *, discordant: float, deff: float = 1.0, alpha: float = 0.05,
                   power: float = 0.8) -> float:
    """Matched pairs needed to detect a paired change (McNemar; Connor 1987), times the design effect.

    ``n = deff (z_{1-alpha/2} sqrt(psi) + z_power sqrt(psi - delta^2))^2 / delta^2`` with ``psi`` the
    share of discordant pairs and ``delta`` the change (fractions). The inverse of :func:`mde_pp_paired`.

    Returns
    -------
    float
        Pairs (not rounded); NaN when undefined (no change, no discordance,
        or a change larger than the discordance, which no panel can show).

    Examples
    --------
    >>> round(n_pairs_needed(0.0721, discordant=0.2))
    300
    """
    if not _psi_ok(change, discordant) or not deff > 0:
        return float("nan")
    za, zb = _z(alpha, power)
    d2 = change**2
    return deff * (za * math.sqrt(discordant) + zb * math.sqrt(discordant - d2)) ** 2 / d2


def power_paired(n_pairs: float, change: float, *, discordant: float, deff: float = 1.0,
                 alpha: float = 0.05) -> float:
    """Power of the paired comparison for a true ``change`` with ``n_pairs`` (Connor 1987).

    ``Phi((sqrt(n / deff) |delta| - z_{1-alpha/2} sqrt(psi)) / sqrt(psi - delta^2))``; NaN when undefined.
    """
    if not _psi_ok(change, discordant) or not (deff > 0 and n_pairs > 0):
        return float("nan")
    za = _z_alpha(alpha)
    n = n_pairs / deff
    return float(norm.cdf((math.sqrt(n) * abs(change) - za * math.sqrt(discordant)) / math.sqrt(discordant - change**2)))


def n_per_wave_needed(baseline_p: float, endline_p: float, *, deff: float = 1.0, alpha: float = 0.05,
                      power: float = 0.8) -> float:
    """Respondents per wave needed for two independent samples (Cohen's h, equal sizes), times deff.

    ``n = deff * 2 ((z_{1-alpha/2} + z_power) / h)^2``, ``h = 2 asin sqrt(p1) - 2 asin sqrt(p0)``
    (Cohen 1988, ch. 6; statsmodels ``NormalIndPower.solve_power`` up to the negligible other tail).
    NaN when the proportions are equal or outside [0, 1].
    """
    if any(math.isnan(p) or not 0 <= p <= 1 for p in (baseline_p, endline_p)) or not deff > 0:
        return float("nan")
    h = float(cohens_h(endline_p, baseline_p))
    if h == 0:
        return float("nan")
    za, zb = _z(alpha, power)
    return deff * 2 * ((za + zb) / h) ** 2


def power_independent(baseline_p: float, endline_p: float, n_baseline: float, n_endline: float, *,
                      deff: float = 1.0, alpha: float = 0.05) -> float:
    """Power of the two-sample comparison (Cohen's h) for the given sizes and design effect.

    ``Phi(|h| / sqrt(deff (1/n_b + 1/n_e)) - z_{1-alpha/2})``; NaN when undefined.
    """
    if any(math.isnan(p) or not 0 <= p <= 1 for p in (baseline_p, endline_p)):
        return float("nan")
    if not (deff > 0 and n_baseline > 0 and n_endline > 0):
        return float("nan")
    h = float(cohens_h(endline_p, baseline_p))
    za = _z_alpha(alpha)
    return float(norm.cdf(abs(h) / math.sqrt(deff * (1 / n_baseline + 1 / n_endline)) - za))
