"""The report package: every part of a report, one module per job.

=================  =====================================================================
Module             Job
=================  =====================================================================
``i18n``           report language, message catalogue (gettext via Babel)
``format``         how a number, percentage, date or label is written; :func:`esc`
``tables``         accessible, escaped HTML tables and badges
``suppress``       which results rows the small-cell rule hides
``summary``        readings of results rows, summary paragraph, key figures, title
``findings``       results, claims and subgroup tables
``quality``        sample, cleaning log, panel attrition, balance, don't-know tables
``methods``        Methods and limitations text
``sections``       composed sections: a theme's figures, reach
``framing``        executive summary, evaluation framing, recommendations
``tracking``       indicator tracking table (targets) and its CSV/XLSX
``annex``          questionnaire annex from the XLSForm
``provenance``     raw-file checksums, package versions, git commit, params
``inputs``         the processed files the evaluation notebook reads
``figures``        matplotlib/seaborn figures with alt text
``htmlexport``     executed notebook -> one self-contained HTML file
``docexport``      Word copy (pandoc); ``pdfexport``: PDF copy (Chromium)
``index``          the index page of all campaigns
=================  =====================================================================

Modules import each other only downwards in this table's dependency order
(``format`` and ``tables`` first; nothing imports this package's ``__init__``
from inside it), so there is no import cycle. For the notebooks, the text
functions are re-exported here (``from evalkit import report;
report.results_table(...)``); figures and exports are imported from their
modules, so importing the text functions does not load matplotlib or nbconvert.

References
----------
World Health Organization (2008). Advocacy, communication and social
mobilization for TB control: a guide to developing knowledge, attitude and
practice surveys. WHO/HTM/STB/2008.46 (report structure: results with tests,
limitations, recommendations).
"""

from evalkit.lazy import lazy_exports

#: Each re-exported name -> its module, imported on first use (PEP 562): ``evalkit.report.htmlexport``
#: or ``figures`` alone then never loads the statistics stack, and a notebook's first ``report.x`` loads
#: only what ``x`` needs.
_EXPORTS: dict[str, str] = {
    "ALL_GROUPS_LABEL": "format",
    "Column": "tables",
    "EvaluationInputs": "inputs",
    "IMBALANCE_THRESHOLD": "quality",
    "PROVENANCE_PACKAGES": "provenance",
    "Provenance": "provenance",
    "TEST_NAMES": "methods",
    "badge": "tables",
    "balance_table": "quality",
    "balance_table_html": "quality",
    "claims_table": "findings",
    "cleaning_log_html": "quality",
    "dont_know_html": "quality",
    "dont_know_rates": "quality",
    "esc": "format",
    "fmt_ci": "format",
    "fmt_count": "format",
    "fmt_date": "format",
    "fmt_int": "format",
    "fmt_p": "format",
    "fmt_pct": "format",
    "fmt_pp": "format",
    "frame_table": "tables",
    "get_language": "i18n",
    "git_commit": "provenance",
    "group_label": "format",
    "html_table": "tables",
    "key_figures_html": "summary",
    "load_inputs": "inputs",
    "methods_html": "methods",
    "output_dir": "inputs",
    "package_versions": "provenance",
    "panel_summary_html": "quality",
    "provenance": "provenance",
    "provenance_html": "provenance",
    "reach_html": "sections",
    "reach_summary_html": "sections",
    "reading": "summary",
    "reading_counts": "summary",
    "results_table": "findings",
    "row_n": "suppress",
    "run_date": "provenance",
    "sample_table": "quality",
    "sample_table_html": "quality",
    "scores_html": "sections",
    "set_language": "i18n",
    "subgroups_table": "findings",
    "summary_paragraph": "summary",
    "suppression_mask": "suppress",
    "synthetic_notice": "summary",
    "theme_html": "sections",
    "title_block": "summary",
    "too_small": "suppress",
    "use_language": "i18n",
}


# ``provenance`` is both a module and its main function: import the function now, so that loading the
# module (which binds the module to this package's attribute) can never shadow it later.
from evalkit.report.provenance import provenance  # noqa: E402, F401 (re-exported)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = sorted(_EXPORTS)
