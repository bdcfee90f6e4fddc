"""Read raw survey exports and the XLSForm codebook.

Supported inputs (see ``docs/design.md``, "Raw export format"):

- the XLSForm codebook (``survey``, ``choices`` and ``settings`` sheets);
- KoboToolbox / ODK survey exports as CSV (UTF-8, UTF-8 with BOM or
  Windows-1251; comma, semicolon or tab separated), XLSX, or SPSS ``.sav``.

Readers return the answers as text exactly as exported (empty cell = missing);
harmonising headers and answers to codebook names is :mod:`evalkit.codebook`'s
job. Every raw file is opened read-only and read once: its SHA-256 is computed
from the same bytes that are parsed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit import paths
from evalkit.encoding import decode_strict, detect_bytes_encoding
from evalkit.errors import RawDataError, format_problems
from evalkit.limits import check_xlsx_expansion
from evalkit.params import WaveFile
from evalkit.rawfile import read_bytes, sha256_hex
from evalkit.xlsform import Choice, Codebook, Question, _cell, read_codebook

__all__ = ["ROW", "METADATA_COLUMNS", "Choice", "Codebook", "Question", "RawExport", "load_export", "read_bytes",
           "read_codebook", "read_export", "sha256_hex", "count_text_rows"]

#: Name of the index of every export DataFrame: the row number a spreadsheet
#: shows (the header is row 1, the first answer row is row 2).
ROW = "row"

#: Kobo/ODK metadata columns kept as they are (never matched to the codebook):
#: XLSForm metadata questions, the columns KoboToolbox (formpack) adds to an
#: export, and those ODK Central adds to its CSV (``SubmissionDate`` ...
#: ``FormVersion``; ``KEY``/``PARENT_KEY`` link repeat CSVs to the main one).
METADATA_COLUMNS = frozenset({
    "start", "end", "today", "username", "deviceid", "phonenumber", "simserial", "subscriberid", "email",
    "audit", "instanceID", "instanceName", "_id", "_uuid", "_submission_time", "_index", "_validation_status",
    "_status", "_submitted_by", "__version__", "_tags", "_notes", "_version_", "_xform_id_string",
    "_attachments", "_geolocation", "_parent_index", "_parent_table_name", "_submission__id",
    "_submission__uuid", "_submission__submission_time", "_submission__validation_status",
    "_submission__notes", "_submission__status", "_submission__submitted_by", "_submission___version__",
    "_submission__tags",
    "SubmissionDate", "KEY", "PARENT_KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
    "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
})
_META_PREFIXES = ("_", "meta/", "meta-", "formhub/", "formhub-")

@dataclass(frozen=True)
class RawExport:
    """A survey export as read, with the provenance of the file.

    Attributes
    ----------
    frame : pandas.DataFrame
        Answers as text (missing = empty cell), original headers, index
        ``row`` = spreadsheet row number (header = row 1).
    path : Path
    sha256 : str
        Hex digest of the bytes read.
    bytes : int
        File size.
    encoding : str
        ``utf-8``, ``utf-8-sig``, ``cp1251``, ``cp1252`` for CSV (a CSV zip
        has the encoding of its main CSV); ``xlsx`` or ``sav``.
    repeats : dict
        Repeat-group tables (Kobo XLSX: one sheet per repeat group; ODK
        Central CSV zip: one CSV per repeat), by sheet or file name, each
        with its ``_index``/``_parent_index`` or ``KEY``/``PARENT_KEY``
        columns. Not harmonised: no indicator reads a repeat group yet.
    """

    frame: pd.DataFrame
    path: Path
    sha256: str
    bytes: int
    encoding: str
    repeats: dict[str, pd.DataFrame] = field(default_factory=dict)


def _text_cell(value: object) -> str | None:
    """One spreadsheet/SPSS value as export text (None = empty cell).

    Whole numbers lose the ``.0`` a spreadsheet stores them with; dates and
    times become ISO 8601 text rounded to the second (a date alone is
    midnight), as Kobo writes them in a CSV export.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    return str(value)


def _frame(columns: list[str], data: dict[str, object], n: int) -> pd.DataFrame:
    df = pd.DataFrame(data, columns=columns)
    df.index = pd.RangeIndex(2, n + 2, name=ROW)
    return df


#: Joins a repeated header to its column number, so that every DataFrame column is distinct
#: (U+2063 INVISIBLE SEPARATOR never occurs in a real header). :func:`header_text` removes it.
DUPLICATE_MARK = "\u2063#"


def header_text(column: str) -> str:
    """The header as exported (a repeated header loses the column number the reader added)."""
    return column.split(DUPLICATE_MARK, 1)[0]


def _check_header(header: list[str], path: Path) -> list[str]:
    """Refuse empty headers; return the headers with every repeat made distinct.

    Real forms repeat labels ("Please specify ..."), so a label export may
    hold the same header twice; the second and later copies become
    ``<header>\u2063#<column number>`` and are matched to the codebook by
    position (:func:`evalkit.codebook.match_headers`).
    """
    problems = []
    seen: set[str] = set()
    out = []
    for i, h in enumerate(header, start=1):
        if h == "":
            problems.append(f"column {i} has an empty header")
        out.append(f"{h}{DUPLICATE_MARK}{i}" if h in seen else h)
        seen.add(h)
    if problems:
        raise RawDataError(format_problems(
            f"The header row (row 1) of {path} has {len(problems)} problem(s); every column needs a "
            f"name:", problems))
    return out


def _ragged_rows(data: bytes, delimiter: str, width: int) -> list[str]:
    """Spreadsheet rows whose field count differs from the header's (error path only)."""
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return []  # the caller reports the rows Arrow found; the encoding error comes on re-reading
    out = []
    for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        if number > 1 and len(record) != width and any(record):
            out.append(f"row {number}: expected {width} columns, found {len(record)}")
    return out


#: A column plan: export headers -> (headers to keep or None for all, headers to dictionary-encode).
ColumnPlan = Callable[[list[str]], tuple[Collection[str] | None, Collection[str]]]


def _detect_delimiter(head_text: str) -> str:
    """``,``, ``;`` or tab: the separator that splits the header (outside quotes) into most fields.

    Kobo's CSV export uses ``;`` by default and quotes every cell; a label
    may itself hold a comma, so separators inside quotes are not counted.
    When the second row splits into a different number of fields than the
    header, the candidate is set back (ties keep the order ``,``, ``;``, tab).
    """
    def score(delimiter: str) -> tuple[int, int]:
        rows = csv.reader(io.StringIO(head_text, newline=""), delimiter=delimiter)
        header = next(rows, [])
        second = next(rows, None)
        consistent = second is None or len(second) == len(header)
        return int(consistent and len(header) > 1), len(header)

    return max([",", ";", "\t"], key=score)


def _read_csv(data: bytes, path: Path, *, encoding: str | None = None, plan: ColumnPlan | None = None,
              separator: str = "auto") -> tuple[pd.DataFrame, str]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    original = data
    sampled = encoding is None
    if sampled:  # UTF-8 decided from a sample; Arrow validates every cell below
        encoding = detect_bytes_encoding(data, name=str(path), validate=False)
    if encoding in ("cp1251", "cp1252"):
        data = decode_strict(data, encoding, name=str(path)).encode("utf-8")
    elif encoding == "utf-8-sig":
        data = data[3:]
    head_text = data[:1 << 16].decode("utf-8", errors="ignore")
    delimiter = _detect_delimiter(head_text) if separator == "auto" else separator
    try:
        header = next(csv.reader(io.StringIO(head_text), delimiter=delimiter))
    except StopIteration:
        raise RawDataError(f"The export {path} is empty; expected a header row and one row per "
                           f"submission.") from None
    header = [h.strip() for h in header]
    header = _check_header(header, path)
    include, dictionary = plan(header) if plan is not None else (None, ())
    bad_rows: list[str] = []

    def on_invalid(row: object) -> str:
        bad_rows.append(f"row {row.number}: expected {row.expected_columns} columns, found {row.actual_columns}"
                        if row.number is not None else
                        f"a row with {row.actual_columns} columns instead of {row.expected_columns}")
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.dictionary(pa.int32(), pa.string()) if h in dictionary else pa.string()
                              for h in header},
                include_columns=[h for h in header if include is None or h in include],
                null_values=[""], strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        if sampled:  # maybe bytes after the sample are not UTF-8: check the whole file now
            full = detect_bytes_encoding(original, name=str(path))  # raises if neither UTF-8 nor cp1251
            return _read_csv(original, path, encoding=full, plan=plan, separator=separator)
        raise RawDataError(f"The export {path} is not a well-formed CSV file ({exc}). Re-export it from "
                           f"Kobo/ODK.") from None
    if bad_rows:
        bad_rows = _ragged_rows(data, delimiter, len(header)) or bad_rows
        raise RawDataError(format_problems(
            f"The export {path} has {len(bad_rows)} row(s) with the wrong number of columns (a stray "
            f"separator or quote?); fix them or re-export the file:", bad_rows))
    df = table.to_pandas()
    df.index = pd.RangeIndex(2, len(df) + 2, name=ROW)
    return df, encoding


def _xlsx_sheets(data: bytes, path: Path) -> dict[str, list[list[object]]]:
    """Every sheet of a workbook as rows of cell values, read by python-calamine.

    calamine (Rust) reads a 100,000-row sheet in a few seconds, where
    openpyxl needs minutes; it returns numbers as float/int, dates as
    ``datetime``/``date``/``time``, booleans as bool and empty cells as "".
    """
    from python_calamine import CalamineWorkbook

    check_xlsx_expansion(data, path)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    except Exception as exc:  # calamine raises its own error types for non-xlsx input
        raise RawDataError(f"The export {path} is not a readable .xlsx workbook ({exc}); re-export it "
                           f"as XLSX or CSV.") from None


def _text_column(values: pd.Series) -> pd.Series:
    """One column of calamine values as export text: only non-text cells are converted one by one."""
    kinds = values.map(type)
    text = kinds == str
    if bool(text.all()):
        return values.where(values != "", None)
    out = values.where(text & (values != ""), None)
    other = ~text
    out[other] = values[other].map(_text_cell)
    return out


def _sheet_frame(rows: list[list[object]], path: Path, sheet: str) -> pd.DataFrame:
    """One sheet's rows as a text DataFrame (index = the row numbers the spreadsheet shows)."""
    if not rows or not any(_text_cell(v) for v in rows[0]):
        raise RawDataError(f"The export {path} has an empty sheet {sheet!r}; expected a header row.")
    header = [_cell(v) for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    header = _check_header(header, path)
    width = len(header)
    body = pd.DataFrame(rows[1:], dtype=object)
    body = body.reindex(columns=range(width)) if body.shape[1] != width else body
    body.index = pd.RangeIndex(2, len(body) + 2, name=ROW)
    cols = {h: _text_column(body[i]) if len(body) else body[i] for i, h in enumerate(header)}
    df = pd.DataFrame(cols, columns=header, index=body.index)
    df = df[df.notna().any(axis=1)] if len(df) else df
    return df.astype("str")


def _read_xlsx(data: bytes, path: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The first sheet (the survey) and the other sheets (repeat groups, by sheet name)."""
    sheets = _xlsx_sheets(data, path)
    if not sheets:
        raise RawDataError(f"The export {path} has no sheet; re-export it as XLSX or CSV.")
    names = list(sheets)
    main = _sheet_frame(sheets[names[0]], path, names[0])
    repeats = {n: _sheet_frame(sheets[n], path, n) for n in names[1:] if sheets[n] and any(sheets[n][0])}
    return main, repeats


def _read_sav(path: Path, wave_file: WaveFile) -> pd.DataFrame:
    import pyreadstat

    try:
        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=True, formats_as_category=False)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise RawDataError(f"The export {path} is not a readable SPSS .sav file ({exc}).") from None
    labels = meta.column_names_to_labels or {}
    header = []
    for name in df.columns:
        label = (labels.get(name) or "").strip()
        header.append(label or name)  # Kobo puts the question (name or label) in the variable label
    header = _check_header(header, path)
    data = {}
    for name, h in zip(df.columns, header):
        col = df[name]
        if pd.api.types.is_float_dtype(col.dtype):
            vals = col.to_numpy()
            data[h] = [None if math.isnan(v) else (str(int(v)) if float(v).is_integer() else repr(float(v)))
                       for v in vals]
        else:
            data[h] = [_text_cell(v) for v in col.tolist()]
    return _frame(header, data, len(df)).astype("str")


def load_export(path: Path | str, wave_file: WaveFile, *, plan: ColumnPlan | None = None) -> RawExport:
    """Read one survey export with its provenance (hash, size, encoding).

    Parameters
    ----------
    path : Path or str
        ``.csv``, ``.xlsx`` or ``.sav`` file, opened read-only.
    wave_file : WaveFile
        The wave's flavour from params (headers, values, language, separator).
    plan : callable, keyword-only
        Given the header row, returns ``(include, dictionary)``: the headers
        to keep (None = all; columns left out of a CSV are never converted,
        so identifiers that are not needed are not even held in memory) and
        the headers to return as ``category`` (the same text,
        dictionary-encoded while parsing a CSV; cheap for answers with few
        distinct values). Default: every column, as text.

    Returns
    -------
    RawExport
        ``frame`` has the original headers and text answers (index = the
        spreadsheet row number).

    Raises
    ------
    RawDataError
        Unknown file type, unreadable file, bad encoding (naming the file and
        suggesting re-saving as UTF-8), duplicate headers, ragged rows.
    """
    path = Path(path)
    suffix = path.suffix.casefold()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm", ".sav", ".zip"):
        raise RawDataError(f"The export {path} has the file type {suffix or '(none)'!r}; expected a "
                           f".csv, .xlsx, .sav or ODK Central .zip export from KoboToolbox/ODK.")
    data = read_bytes(path)
    digest = sha256_hex(data)
    repeats: dict[str, pd.DataFrame] = {}
    separator = getattr(wave_file, "separator", "auto")
    if suffix in (".csv", ".txt"):
        frame, encoding = _read_csv(data, path, plan=plan, separator=separator)
    elif suffix == ".zip":
        main, repeat_files = _zip_members(data, path)
        frame, encoding = _read_csv(main[1], path, plan=plan, separator=separator)
        repeats = {name: _read_csv(body, path / name, separator=separator)[0] for name, body in repeat_files}
    else:
        if suffix in (".xlsx", ".xlsm"):
            (frame, repeats), encoding = _read_xlsx(data, path), "xlsx"
        else:
            frame, encoding = _read_sav(path, wave_file), "sav"
        include, dictionary = plan(list(frame.columns)) if plan is not None else (None, ())
        if include is not None:
            frame = frame[[c for c in frame.columns if c in include]]
        cats = {c: frame[c].astype("category") for c in dictionary if c in frame}
        frame = frame.assign(**cats) if cats else frame
    return RawExport(frame, path, digest, len(data), encoding, repeats)


def _zip_members(data: bytes, path: Path) -> tuple[tuple[str, bytes], list[tuple[str, bytes]]]:
    """The main CSV and the repeat CSVs of an ODK Central "CSV zip" export.

    ODK Central writes ``<form>.csv`` (one row per submission) and one
    ``<form>-<repeat>.csv`` per repeat group (plus attachments in
    ``media/``). The main CSV is the one whose name, without ``.csv``,
    starts every other CSV's name.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        csvs = sorted((n for n in zf.namelist() if n.casefold().endswith(".csv") and "/" not in n.strip("/")),
                      key=len)
        if not csvs:
            raise RawDataError(f"The export {path} is a zip file without a CSV file in it; expected the ODK "
                               f"Central 'CSV zip' download (a <form>.csv and one CSV per repeat group).")
        main = csvs[0]
        stem = main[:-4]
        others = [n for n in csvs[1:] if not n.startswith(stem)]
        if others:
            raise RawDataError(f"The export {path} holds several unrelated CSV files ({main}, "
                               f"{', '.join(others)}); expected one ODK Central 'CSV zip' of one form.")
        return (main, zf.read(main)), [(n, zf.read(n)) for n in csvs[1:]]
    except zipfile.BadZipFile:
        raise RawDataError(f"The export {path} is not a readable zip file; download the ODK Central "
                           f"'CSV zip' again.") from None


def read_export(path: Path | str, wave_file: WaveFile, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read one survey export as text, with its original headers.

    Parameters
    ----------
    path : Path or str
        CSV (UTF-8, UTF-8 BOM or Windows-1251), XLSX or SPSS ``.sav``.
    wave_file : WaveFile
        The wave's flavour from params.
    codebook : Codebook, optional
        Unused by the readers themselves; accepted so that callers can pass
        the codebook uniformly (harmonisation is :func:`evalkit.codebook.harmonise`).

    Returns
    -------
    pandas.DataFrame
        One column per export column (text; missing = empty cell); the index
        ``row`` is the spreadsheet row number (header = row 1).

    Examples
    --------
    >>> raw = read_export(p.raw_path("baseline.csv"), p.raw.baseline)  # doctest: +SKIP
    """
    return load_export(path, wave_file).frame


def count_text_rows(path: Path | str) -> int:
    """Number of data rows in a simple CSV file (for the raw-file table)."""
    data = read_bytes(path)
    encoding = detect_bytes_encoding(data, name=str(path))
    text = decode_strict(data, encoding, name=str(path))
    return max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0)
