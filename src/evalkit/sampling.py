"""Params schema of the ``sampling:`` block: the survey design of a campaign stage.

KAP surveys are rarely simple random samples: respondents are drawn by
school, village or enumeration area, often within strata, and weighted. The
optional ``sampling:`` block declares that design so that every interval in
``results.csv`` is design-based (Taylor linearisation, :mod:`evalkit.stats.design`):

.. code-block:: yaml

    columns:
      weight: design/weight            # the weight stays in columns.weight
    sampling:
      strata: design/province          # codebook question holding the stratum
      cluster: design/school_code      # the primary sampling unit (PSU)
      cluster_kind: sampling_unit      # or: enumerator (no sampling cluster known; stated in the report)
      fpc: design/n_schools            # clusters in the stratum's population (or a sampling fraction <= 1)
      lonely_psu: adjust               # a stratum with one cluster: fail / remove / certainty / adjust / average
      panel_weight: baseline           # panel: baseline, or baseline_attrition_adjusted
      population_shares: {parent_sen: 0.15, parent_nosen: 0.85}

The key is ``sampling`` because ``design`` already names the paired /
independent comparison. Every key is optional; without the block (and with
equal weights) the exact methods of :mod:`evalkit.compare` are used unchanged.
:mod:`evalkit.params` loads this block strictly like the rest of the file
(``Params.sampling``); the user documentation is in ``params/README.md``.

This module imports nothing from evalkit, so :mod:`evalkit.params` can use it
without an import cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

#: Column names the design variables get in ``responses.parquet``.
STRATUM_COLUMN = "stratum"
CLUSTER_COLUMN = "cluster"
FPC_COLUMN = "fpc"

#: Tolerance on the sum of ``population_shares`` (they must add up to 1).
SHARES_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Sampling:
    """The survey design: strata, clusters, finite population correction, panel weight.

    Attributes
    ----------
    strata : str or None
        Codebook question whose answer is the respondent's stratum (region,
        province, urban/rural). ``None``: one stratum.
    cluster : str or None
        Codebook question whose answer identifies the primary sampling unit
        (school, village, enumeration area). Its values are pseudonymised in
        ``responses.parquet`` (a school name is personal data). ``None``: no
        clustering, unless ``cluster_kind`` is ``enumerator``.
    cluster_kind : {"sampling_unit", "enumerator"}
        ``sampling_unit`` (default): ``cluster`` is the real PSU.
        ``enumerator``: no sampling cluster is known, and the interviewer
        (``columns.enumerator``) is used as the cluster so that interviewer
        effects widen the intervals; ``cluster`` must then be empty, and the
        report states the choice.
    fpc : str or None
        Codebook question holding, per respondent, the number of clusters in
        the population of its stratum (a whole number >= the clusters
        sampled) or the sampling fraction (a number in (0, 1]); as R
        survey's ``fpc``. ``None``: sampling with replacement (no correction).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        What to do with a stratum that has a single cluster, as R survey's
        ``options(survey.lonely.psu=)``: ``fail`` stops with an error;
        ``remove`` and ``certainty`` give that stratum no variance
        contribution; ``adjust`` (default) centres its cluster on the grand
        mean instead of the stratum mean (conservative); ``average`` gives it
        the average variance of the other strata.
    panel_weight : {"baseline", "baseline_attrition_adjusted"}
        Paired design: the weight of a matched pair. ``baseline`` (default):
        the respondent's baseline weight; ``baseline_attrition_adjusted``:
        baseline weight divided by the estimated probability of staying in
        the panel (:mod:`evalkit.attrition`).
    population_shares : dict
        Group -> its share of the population (shares add up to 1, one per
        group of every indicator's population). When given, the pooled
        ``all`` row weights the groups by these shares instead of by their
        share of the sample.
    """

    strata: str | None = None
    cluster: str | None = None
    cluster_kind: Literal["sampling_unit", "enumerator"] = "sampling_unit"
    fpc: str | None = None
    lonely_psu: Literal["fail", "remove", "certainty", "adjust", "average"] = "adjust"
    panel_weight: Literal["baseline", "baseline_attrition_adjusted"] = "baseline"
    population_shares: dict[str, float] = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        """True when any design feature beyond weights is declared."""
        return bool(self.strata or self.cluster or self.cluster_kind == "enumerator" or self.fpc
                    or self.population_shares or self.panel_weight != "baseline")

    def questions(self, *, enumerator: str) -> dict[str, str]:
        """Params key -> codebook question of every declared design variable."""
        named = {"sampling.strata": self.strata, "sampling.fpc": self.fpc,
                 "sampling.cluster": enumerator if self.cluster_kind == "enumerator" else self.cluster}
        return {k: v for k, v in named.items() if v}


def check_sampling(s: Sampling, *, design: str, groups: list[str], populations: list[list[str]],
                   fail: Callable[[str, str], Any]) -> None:
    """Report (through ``fail(key, message)``) inconsistent ``sampling`` settings.

    Parameters
    ----------
    s : Sampling
    design : {"paired", "independent"}, keyword-only
        The params ``design``.
    groups : list of str, keyword-only
        The params ``groups``.
    populations : list of list of str, keyword-only
        Every indicator's population, to check that the shares cover it.
    fail : callable, keyword-only
        Called once per problem with the dotted key and a message.
    """
    if s.cluster_kind == "enumerator" and s.cluster:
        fail("sampling.cluster", "must be empty when cluster_kind is 'enumerator' (the enumerator column "
             "columns.enumerator is then the cluster); remove one of the two settings")
    if s.fpc and not (s.cluster or s.cluster_kind == "enumerator"):
        fail("sampling.fpc", "needs a cluster (sampling.cluster): the correction counts clusters")
    if s.panel_weight != "baseline" and design != "paired":
        fail("sampling.panel_weight", f"only applies to a panel (design: paired), but design is '{design}'; "
             f"remove the setting")
    if not s.population_shares:
        return
    for g, share in s.population_shares.items():
        if g not in groups:
            fail(f"sampling.population_shares.{g}", f"'{g}' is not a group in 'groups' ({', '.join(groups)})")
        elif not (isinstance(share, float) and math.isfinite(share) and 0 < share <= 1):
            fail(f"sampling.population_shares.{g}", f"must be a share between 0 and 1, got {share}")
    total = sum(v for v in s.population_shares.values() if isinstance(v, float))
    if abs(total - 1) > SHARES_TOLERANCE:
        fail("sampling.population_shares", f"the shares add up to {total:.6g}; they must add up to 1")
    missing = sorted({g for pop in populations for g in pop} - set(s.population_shares))
    if missing:
        fail("sampling.population_shares", f"no share for group(s) {', '.join(missing)}, which indicators "
             f"pool in their 'all' row; give a share for every group")
