"""Render raw rows as KoboToolbox exports and write them byte-for-byte reproducibly.

:func:`render` applies a wave's export flavour (``xml`` or ``label`` headers
and answers, language, group separator, renamed questions); :func:`write_csv`
and :func:`write_xlsx` write the result. XLSX files carry no timestamps that
change between runs: workbook properties are fixed and the zip is rewritten
with sorted entries and a fixed date, so the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.atomic import write_bytes_atomic, write_with
from evalkit.params import WaveFile
from evalkit.synth.forms import CHOICE_COLUMNS, SURVEY_COLUMNS, Form
from evalkit.synth.respondents import Table, nrows
from evalkit.synth.waves import META_HEAD, META_TAIL

#: Fixed timestamp written into every XLSX (document properties and zip entries).
FIXED_DOCPROPS_TIME = "2024-01-01T00:00:00Z"
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)

#: Windows-1251 has no Ө ө Ү ү; Windows tools write them as О о У у.
CP1251_REPLACEMENTS = str.maketrans({"Ө": "О", "ө": "о", "Ү": "У", "ү": "у"})


def _noisy(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """Give a share of labels stray whitespace or another letter case (as typed exports do)."""
    out = values.copy()
    hit = pd.notna(out) & (rng.random(len(out)) < rate)
    kind = rng.integers(0, 4, len(out))
    for k, fn in enumerate((lambda s: s + " ", lambda s: " " + s, str.lower, str.upper)):
        m = np.flatnonzero(hit & (kind == k))
        out[m] = [fn(v) for v in out[m]]
    return out


def _map_unique(values: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` once per distinct non-missing value (fast on a million rows)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return lookup[codes]


def render(rows: Table, form: Form, wave_file: WaveFile, *, renames: dict[str, str],
           rng: np.random.Generator, label_noise: float) -> Table:
    """One wave's rows in the wave's export flavour.

    Parameters
    ----------
    rows : Table
        Output of :func:`evalkit.synth.waves.build_waves` for one wave
        (codebook names, choice names). Not modified.
    form : Form
        The codebook form.
    wave_file : WaveFile
        The wave's export flavour from the params.
    renames : dict, keyword-only
        The params ``renames`` of this wave: export name -> codebook name.
    rng : numpy.random.Generator, keyword-only
        For label noise.
    label_noise : float, keyword-only
        Share of label answers written with stray whitespace or another case.

    Returns
    -------
    Table
        Export header -> column, in Kobo order: metadata, questions
        (``select_multiple`` as summary plus one 0/1 column per choice),
        metadata tail.
    """
    wf = wave_file
    sep, lang = wf.group_separator, wf.language
    inverse = {new: old for old, new in renames.items()}
    n = nrows(rows)
    cols: Table = {c: rows[c] for c in META_HEAD}
    expected = len(META_HEAD) + len(META_TAIL)
    for q in form.questions:
        name = inverse.get(q.name, q.name)
        if wf.headers == "xml":
            head = name.replace("/", sep)
        else:
            head = sep.join([g[lang] for g in q.group_labels] + [q.labels[lang]])
        values = rows.get(q.name, np.full(n, None, dtype=object))
        expected += 1
        if q.kind == "select_one":
            if wf.values == "label":
                labels = form.choice_labels(q.list_name, lang)
                values = _noisy(rng, _map_unique(values, labels.__getitem__), label_noise)
            cols[head] = values
        elif q.kind == "select_multiple":
            labels = form.choice_labels(q.list_name, lang)
            if wf.values == "label":
                cols[head] = _map_unique(values, lambda s: " ".join(labels[c] for c in s.split()))
            else:
                cols[head] = values
            for choice in form.choice_names(q.list_name):
                tag = labels[choice] if wf.headers == "label" else choice
                cols[f"{head}{sep}{tag}"] = _map_unique(values, lambda s, c=choice: int(c in s.split()))
                expected += 1
        else:
            cols[head] = values
    for c in META_TAIL:
        cols[c] = rows[c]
    if len(cols) != expected:
        raise ValueError("two export columns got the same header; check the form labels")  # a bug here
    return cols


def _arrow_table(table: Table | pd.DataFrame):
    import pyarrow as pa

    if isinstance(table, pd.DataFrame):
        table = {c: table[c].to_numpy() for c in table.columns}
    return pa.table({h: _arrow(v) for h, v in table.items()})


def _write_arrow_csv(arrow, sink) -> None:
    import pyarrow.csv as pacsv

    pacsv.write_csv(arrow, sink, write_options=pacsv.WriteOptions(quoting_style="needed"))


def csv_bytes(table: Table | pd.DataFrame, *, encoding: str) -> bytes:
    """A table as CSV bytes, as Kobo writes them: text quoted, numbers bare, empty cell for missing.

    Written with pyarrow (fast enough for a million rows); ``\\n`` line ends.
    ``encoding`` is ``utf-8``, ``utf-8-sig`` (with BOM) or ``cp1251`` (with
    :data:`CP1251_REPLACEMENTS` applied first).
    """
    buf = io.BytesIO()
    _write_arrow_csv(_arrow_table(table), buf)
    data = buf.getvalue()
    if encoding == "utf-8":
        return data
    text = data.decode("utf-8")
    if encoding == "cp1251":
        text = text.translate(CP1251_REPLACEMENTS)
    return text.encode(encoding)


def _arrow(values: np.ndarray):
    """A column as a pyarrow array; object columns with few distinct values go through a dictionary."""
    import pyarrow as pa

    if isinstance(values, pa.Array):
        return values
    if values.dtype == object and len(values) > 10_000 and len(pd.unique(values[:2000])) < 100:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        dictionary = pa.array(np.asarray(uniques, dtype=object), from_pandas=True)
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary).dictionary_decode()
    return pa.array(values, from_pandas=True)


def write_csv(table: Table | pd.DataFrame, path: Path, *, encoding: str = "utf-8") -> Path:
    """Write :func:`csv_bytes` atomically (UTF-8 is streamed straight to the file)."""
    if encoding == "utf-8":
        arrow = _arrow_table(table)
        return write_with(path, lambda tmp: _write_arrow_csv(arrow, str(tmp)))
    return write_bytes_atomic(path, csv_bytes(table, encoding=encoding))


def _cell(v: object) -> object:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    return v


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[object]]]]) -> bytes:
    """A workbook with the given sheets, without run-dependent timestamps.

    Parameters
    ----------
    sheets : sequence of (title, header, rows)

    Returns
    -------
    bytes
        The XLSX file: document properties fixed to
        :data:`FIXED_DOCPROPS_TIME`, zip entries sorted and dated
        :data:`FIXED_ZIP_TIME`.
    """
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title)
        ws.append(list(header))
        for r in rows:
            ws.append([_cell(v) for v in r])
    wb.properties.creator = "evalkit.synth"
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            content = src.read(name)
            if name == "docProps/core.xml":
                text = content.decode("utf-8")
                for tag in ("created", "modified"):
                    text = re.sub(rf"(<dcterms:{tag}[^>]*>)[^<]*(</dcterms:{tag}>)",
                                  rf"\g<1>{FIXED_DOCPROPS_TIME}\g<2>", text)
                content = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            dst.writestr(info, content)
    return out.getvalue()


def write_xlsx(table: Table, path: Path, *, sheet: str) -> Path:
    """Write one table as a single-sheet XLSX atomically (reproducible bytes)."""
    rows = zip(*[v.to_pylist() if hasattr(v, "to_pylist") else v.tolist() for v in table.values()])
    return write_bytes_atomic(path, xlsx_bytes([(sheet[:31], list(table), rows)]))


def write_xlsform(form: Form, path: Path) -> Path:
    """Write the XLSForm codebook (sheets ``survey``, ``choices``, ``settings``)."""
    return write_bytes_atomic(path, xlsx_bytes([
        ("survey", SURVEY_COLUMNS, [[v or None for v in r] for r in form.survey]),
        ("choices", CHOICE_COLUMNS, [list(r) for r in form.choices]),
        ("settings", ("form_title", "form_id", "version", "default_language"),
         [[form.title, form.form_id, form.version, "English (en)"]]),
    ]))
