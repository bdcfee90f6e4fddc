"""The survey design of ``make bench``'s scale runs: clustered, stratified and weighted.

The scale runs (:mod:`evalkit.bench`, 10k, 100k and 1M respondents per wave)
time the together stage with a real survey design, so that the design-based
estimation (:mod:`evalkit.designbased`) is inside the measured limits:

- strata and clusters: the synthetic form's stratum and cluster questions
  (:data:`evalkit.synth.forms.TOGETHER_DESIGN`; the cluster is pseudonymised by
  the cleaning step), the "adjust" rule for a stratum with one cluster;
- weights: the synthetic exports have no weight question, so the bench adds
  one to *its copy* of the scale data (never to ``data/raw/``): a ``decimal``
  question ``weight`` in a copy of the XLSForm and a ``weight`` column in each
  wave's CSV, seeded, so every bench sees the same data.

Only the bench uses this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit.synth.forms import TOGETHER_DESIGN

#: Name of the weight question the bench adds.
WEIGHT_QUESTION = "weight"
#: The ``sampling:`` block of the scale runs' params.
SAMPLING = {**TOGETHER_DESIGN, "lonely_psu": "adjust"}
#: Marker written once the design columns are in a scale folder.
MARKER = ".design-complete"
#: Seed of the bench weights.
SEED = 20261203


def design_params(data: dict) -> dict:
    """The scale params with the weight column and the sampling block (a new dict)."""
    out = dict(data)
    out["columns"] = {**data["columns"], "weight": WEIGHT_QUESTION}
    out["sampling"] = dict(SAMPLING)
    return out


def _add_weight_question(codebook: Path) -> None:
    """Replace the linked codebook by a copy with a ``decimal`` weight question (written atomically)."""
    import io

    import openpyxl

    from evalkit.atomic import write_bytes_atomic

    book = openpyxl.load_workbook(io.BytesIO(codebook.read_bytes()))
    sheet = book["survey"]
    header = [c.value for c in sheet[1]]
    row = ["" for _ in header]
    row[header.index("type")] = "decimal"
    row[header.index("name")] = WEIGHT_QUESTION
    for i, h in enumerate(header):
        if str(h or "").startswith("label"):
            row[i] = "Survey weight"
    sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    codebook.unlink()  # a link to data/raw: replaced, never written through
    write_bytes_atomic(codebook, buffer.getvalue())


def _add_weight_column(path: Path, rng: np.random.Generator) -> None:
    """Append a ``weight`` column (0.5-2.5, seeded) to a generated UTF-8 CSV wave."""
    import pandas as pd

    from evalkit.synth.export import write_csv

    table = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
    table[WEIGHT_QUESTION] = np.round(rng.uniform(0.5, 2.5, len(table)), 4).astype(str)
    write_csv(table, path)


def add_design(folder: Path, files: dict[str, str], *, codebook: str) -> None:
    """Give a generated scale folder its weight question and columns (once; a marker records it).

    Parameters
    ----------
    folder : Path
        ``bench-data/scale/raw-<campaign>-<N>/``.
    files : dict
        Wave -> CSV file name in ``folder``.
    codebook : str
        The XLSForm's file name in ``folder`` (a link to ``data/raw/``).
    """
    marker = folder / MARKER
    if marker.exists():
        return
    rng = np.random.default_rng(SEED)
    for wave in ("baseline", "endline"):
        _add_weight_column(folder / files[wave], rng)
    _add_weight_question(folder / codebook)
    marker.write_text("weight column and question added\n", encoding="utf-8")
