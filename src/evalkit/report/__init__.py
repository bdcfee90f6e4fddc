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

from evalkit.report.findings import claims_table, results_table, subgroups_table
from evalkit.report.format import (ALL_GROUPS_LABEL, esc, fmt_ci, fmt_count, fmt_date, fmt_int, fmt_p, fmt_pct, fmt_pp,
                                   group_label)
from evalkit.report.i18n import get_language, set_language, use_language
from evalkit.report.inputs import EvaluationInputs, load_inputs, output_dir
from evalkit.report.methods import TEST_NAMES, methods_html
from evalkit.report.provenance import (PROVENANCE_PACKAGES, Provenance, git_commit, package_versions, provenance,
                                       provenance_html, run_date)
from evalkit.report.quality import (IMBALANCE_THRESHOLD, balance_table, balance_table_html, cleaning_log_html,
                                    dont_know_html, dont_know_rates, panel_summary_html, sample_table,
                                    sample_table_html)
from evalkit.report.sections import reach_html, reach_summary_html, scores_html, theme_html
from evalkit.report.summary import (key_figures_html, reading, reading_counts, summary_paragraph, synthetic_notice,
                                    title_block)
from evalkit.report.suppress import row_n, suppression_mask, too_small
from evalkit.report.tables import Column, badge, frame_table, html_table

__all__ = [
    "ALL_GROUPS_LABEL", "IMBALANCE_THRESHOLD", "PROVENANCE_PACKAGES", "TEST_NAMES", "Column", "EvaluationInputs",
    "Provenance", "badge", "balance_table", "balance_table_html", "claims_table", "cleaning_log_html",
    "dont_know_html", "dont_know_rates", "esc", "fmt_ci", "fmt_count", "fmt_date", "fmt_int", "fmt_p", "fmt_pct",
    "fmt_pp", "frame_table", "get_language", "git_commit", "group_label", "html_table", "key_figures_html", "load_inputs",
    "methods_html", "output_dir", "package_versions", "panel_summary_html", "provenance",
    "provenance_html", "reach_html", "reach_summary_html", "reading", "reading_counts", "results_table", "row_n",
    "run_date", "sample_table", "sample_table_html", "scores_html", "set_language", "subgroups_table",
    "summary_paragraph", "suppression_mask", "synthetic_notice", "theme_html", "title_block", "too_small", "use_language",
]
