"""evalkit: reproducible pre/post evaluation reports for awareness campaigns.

The package is organised one module per job (see ``docs/design.md``):

- :mod:`evalkit.paths` -- every project path and the campaign-name rule;
- :mod:`evalkit.params` -- the typed, validated campaign configuration;
- :mod:`evalkit.atomic` -- atomic writes for every output file;
- :mod:`evalkit.errors` -- the exceptions a user may see;
- readers, cleaning, de-identification, statistics, plots and report assembly
  live in their own modules.
"""

__version__ = "0.1.0"

import os as _os

# python-docx (the Word copy of a report) needs lxml. Once lxml is installed,
# openpyxl writes XLSX through it by default, which changes the bytes of the
# synthetic raw .xlsx exports (tests/test_synth.py compares them byte for
# byte). Keep openpyxl's own writer; this must run before openpyxl is imported.
_os.environ.setdefault("OPENPYXL_LXML", "False")
