"""Statistics for pre/post comparisons, each method small and tested.

Every function here is documented with the paper it comes from and tested
against published or independently computed reference values
(``tests/test_stats_*.py``).

Conventions
-----------
- Differences are *first minus second*, as in the literature and in
  pingouin/statsmodels: ``newcombe_independent_ci(x1, n1, x2, n2)`` is for
  ``p1 - p2``; a paired table ``[[a, b], [c, d]]`` has the first measurement
  in rows and the second in columns, and its difference is
  ``(a + b)/n - (a + c)/n``. :mod:`evalkit.compare` passes the endline first,
  so a positive change is an increase.
- Statistics return a one-row :class:`pandas.DataFrame` with identifier-safe
  columns and a ``note`` column that explains any NaN; small vectorised
  helpers (Wilson limits, Cohen's h, Kish's design effect, Holm) return
  floats or arrays.
- Undefined results (no data, ``n < 2``) are NaN with a note, never an
  exception; malformed arguments (negative counts, a table that is not 2x2)
  raise :class:`evalkit.errors.AnalysisError`.

Modules: :mod:`~evalkit.stats.proportions` (Wilson interval, square-and-add),
:mod:`~evalkit.stats.paired`, :mod:`~evalkit.stats.independent`,
:mod:`~evalkit.stats.effects`, :mod:`~evalkit.stats.multiplicity`,
:mod:`~evalkit.stats.weights`, :mod:`~evalkit.stats.power`,
:mod:`~evalkit.stats.bounds` (don't-know / refused bounds),
:mod:`~evalkit.stats.verdicts` (a change read from its confidence interval).
"""

from evalkit.lazy import lazy_exports

#: Each re-exported name -> its module, imported on first use (:mod:`evalkit.lazy`): ``from evalkit.stats
#: import ci_reading`` does not load pingouin.
_EXPORTS: dict[str, str] = {
    "adjust_within_families": "multiplicity",
    "benjamini_hochberg": "multiplicity",
    "ci_reading": "verdicts",
    "cohens_h": "effects",
    "dont_know_bounds": "bounds",
    "effective_n": "weights",
    "holm": "multiplicity",
    "kish_deff": "weights",
    "mann_whitney": "independent",
    "mcnemar": "paired",
    "mde_pp_independent": "power",
    "mde_pp_paired": "power",
    "newcombe_independent_ci": "independent",
    "newcombe_paired_ci": "paired",
    "odds_ratio": "effects",
    "paired_odds_ratio": "effects",
    "paired_table": "paired",
    "square_and_add": "proportions",
    "two_proportion_test": "independent",
    "weighted_pct": "weights",
    "wilcoxon_paired": "paired",
    "wilson_ci": "proportions",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = sorted(_EXPORTS)
