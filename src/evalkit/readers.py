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
import hashlib
import html
import io
import math
import re
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit import paths
from evalkit.encoding import decode_strict, detect_bytes_encoding
from evalkit.errors import CodebookError, RawDataError, format_problems
from evalkit.limits import check_xlsx_expansion
from evalkit.params import WaveFile

#: Name of the index of every export DataFrame: the row number a spreadsheet
#: shows (the header is row 1, the first answer row is row 2).
ROW = "row"

#: Kobo/ODK metadata columns kept as they are (never matched to the codebook).
METADATA_COLUMNS = frozenset({
    "start", "end", "today", "username", "deviceid", "phonenumber", "simserial", "subscriberid",
    "audit", "instanceID", "_id", "_uuid", "_submission_time", "_index", "_validation_status",
    "_status", "_submitted_by", "__version__", "_tags", "_notes", "_version_", "_xform_id_string",
    "_attachments", "_geolocation", "_parent_index", "_parent_table_name",
})
_META_PREFIXES = ("_", "meta/", "meta-", "formhub/", "formhub-")

#: XLSForm types that carry no answer column in an export.
_NO_COLUMN_TYPES = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat", "note"})
_KNOWN_TYPES = frozenset({
    "select_one", "select_multiple", "text", "integer", "decimal", "range", "date", "time", "datetime",
    "start", "end", "today", "username", "deviceid", "phonenumber", "simserial", "subscriberid",
    "note", "calculate", "geopoint", "geotrace", "geoshape", "image", "audio", "video", "file",
    "barcode", "acknowledge", "hidden", "audit", "begin_group", "end_group", "begin_repeat", "end_repeat",
})


@dataclass(frozen=True)
class Question:
    """One XLSForm question.

    Attributes
    ----------
    name : str
        Full name: group path and question name joined with ``/``
        (``resp/resp_type``).
    short_name : str
        The ``name`` cell (``resp_type``).
    type : str
        Base type (``select_one``, ``select_multiple``, ``text``, ``integer``...).
    list_name : str or None
        Choice list of a select question.
    label_en, label_mn : str
        English and Mongolian labels ("" when absent).
    groups : tuple of str
        Names of the enclosing groups, outermost first.
    group_labels_en, group_labels_mn : tuple of str
        Their labels.
    """

    name: str
    short_name: str
    type: str
    list_name: str | None
    label_en: str
    label_mn: str
    groups: tuple[str, ...] = ()
    group_labels_en: tuple[str, ...] = ()
    group_labels_mn: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        """The label in ``"en"`` or ``"mn"``."""
        return self.label_mn if language == "mn" else self.label_en

    def group_labels(self, language: str) -> tuple[str, ...]:
        """Labels of the enclosing groups in ``"en"`` or ``"mn"``."""
        return self.group_labels_mn if language == "mn" else self.group_labels_en


@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list (``name`` is the coded value)."""

    list_name: str
    name: str
    label_en: str
    label_mn: str


@dataclass(frozen=True)
class Codebook:
    """An XLSForm: questions and choice lists.

    Attributes
    ----------
    path : Path
        The file read.
    form_id, version : str
        From the ``settings`` sheet ("" when absent).
    questions : dict
        Full name -> :class:`Question`, in form order (answer questions only,
        no groups or notes).
    choices : dict
        List name -> list of :class:`Choice`, in sheet order.
    """

    path: Path
    form_id: str
    version: str
    questions: dict[str, Question] = field(default_factory=dict)
    choices: dict[str, list[Choice]] = field(default_factory=dict)

    def question(self, name: str) -> Question:
        """The question with this full name (``CodebookError`` if unknown)."""
        try:
            return self.questions[name]
        except KeyError:
            raise CodebookError(f"The codebook {self.path.name} has no question {name!r}; check params "
                                f"(columns, demographics, indicators) against the survey sheet.") from None

    def choice_names(self, question: str) -> list[str]:
        """Choice names of a select question ([] for other types)."""
        q = self.question(question)
        return [c.name for c in self.choices.get(q.list_name or "", [])]


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
        ``utf-8``, ``utf-8-sig``, ``cp1251`` for CSV; ``xlsx`` or ``sav``.
    """

    frame: pd.DataFrame
    path: Path
    sha256: str
    bytes: int
    encoding: str


def read_bytes(path: Path | str) -> bytes:
    """Read a raw file read-only, with a clear error if it is missing.

    Only regular files inside the project are read (see
    :func:`evalkit.paths.require_regular_file`): a FIFO would block forever.
    """
    path = paths.require_regular_file(Path(path))
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        present = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
        raise RawDataError(f"The raw file {path} does not exist. Files in {path.parent}: "
                           f"{', '.join(present) or 'none'}. Check the file name under 'raw' in the "
                           f"params file.") from None
    except IsADirectoryError:
        raise RawDataError(f"The raw file {path} is a folder, not a file; check 'raw' in the params file.") from None


def sha256_hex(data: bytes) -> str:
    """SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- codebook


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _label_columns(header: list[str]) -> tuple[int | None, int | None]:
    en = mn = plain = None
    for i, h in enumerate(header):
        low = h.casefold()
        if not low.startswith("label"):
            continue
        if low == "label":
            plain = i
        elif "(en)" in low or low.endswith("::en") or "english" in low:
            en = i
        elif "(mn)" in low or low.endswith("::mn") or "mongolian" in low or "монгол" in low:
            mn = i
    return (en if en is not None else plain), mn


def _sheet_rows(wb: object, name: str, path: Path, problems: list[str]) -> list[list[str]]:
    sheets = {ws.title.casefold(): ws for ws in wb.worksheets}
    ws = sheets.get(name)
    if ws is None:
        if name != "settings":
            problems.append(f"sheet '{name}' is missing (sheets found: {', '.join(wb.sheetnames)})")
        return []
    rows = [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
    return [r for r in rows if any(r)]


def read_codebook(path: Path | str) -> Codebook:
    """Read an XLSForm codebook (read-only).

    Parameters
    ----------
    path : Path or str
        The ``.xlsx`` form with sheets ``survey`` (``type``, ``name``,
        ``label::English (en)``, ``label::Mongolian (mn)``), ``choices``
        (``list_name``, ``name``, labels) and optionally ``settings``.

    Returns
    -------
    Codebook
        Questions by full name (group path joined with ``/``) and choice lists.

    Raises
    ------
    CodebookError
        Listing every problem: missing sheets or columns, unbalanced groups,
        duplicate names, select questions whose list is missing.

    References
    ----------
    XLSForm specification, https://xlsform.org/en/ ; World Bank DIME
    ``iecodebook`` (codebook-driven harmonisation).

    Examples
    --------
    >>> cb = read_codebook("data/raw/together/kap_form.xlsx")  # doctest: +SKIP
    >>> cb.choice_names("resp/resp_type")  # doctest: +SKIP
    ['parent_sen', 'parent_nosen', 'staff']
    """
    import openpyxl

    path = Path(path)
    data = read_bytes(path)
    check_xlsx_expansion(data, path)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for non-xlsx input
        raise CodebookError(f"The codebook {path} is not a readable .xlsx workbook ({exc}). Save the "
                            f"XLSForm as Excel .xlsx.") from None
    problems: list[str] = []
    survey = _sheet_rows(wb, "survey", path, problems)
    choice_rows = _sheet_rows(wb, "choices", path, problems)
    settings = _sheet_rows(wb, "settings", path, problems)
    wb.close()
    if problems:
        raise CodebookError(format_problems(f"The codebook {path} cannot be used; fix the XLSForm (it needs the "
                                            f"sheets 'survey' and 'choices', see docs/design.md):", problems))

    choices: dict[str, list[Choice]] = {}
    if choice_rows:
        head = [h for h in choice_rows[0]]
        en, mn = _label_columns(head)
        for col in ("list_name", "name"):
            if col not in head:
                problems.append(f"sheet 'choices' has no column '{col}' (columns: {', '.join(head)})")
        if not problems:
            li, ni = head.index("list_name"), head.index("name")
            seen: set[tuple[str, str]] = set()
            for r, row in enumerate(choice_rows[1:], start=2):
                row = row + [""] * (len(head) - len(row))
                if not row[li] and not row[ni]:
                    continue
                if (row[li], row[ni]) in seen:
                    problems.append(f"sheet 'choices' row {r}: choice {row[ni]!r} appears twice in list {row[li]!r}")
                seen.add((row[li], row[ni]))
                choices.setdefault(row[li], []).append(Choice(
                    row[li], row[ni], row[en] if en is not None else "", row[mn] if mn is not None else ""))

    questions: dict[str, Question] = {}
    if survey:
        head = survey[0]
        en, mn = _label_columns(head)
        for col in ("type", "name"):
            if col not in head:
                problems.append(f"sheet 'survey' has no column '{col}' (columns: {', '.join(head)})")
        if problems:
            raise CodebookError(format_problems(f"The codebook {path} cannot be used; fix the XLSForm (it needs the "
                                            f"sheets 'survey' and 'choices', see docs/design.md):", problems))
        ti, ni = head.index("type"), head.index("name")
        stack: list[tuple[str, str, str]] = []
        for r, row in enumerate(survey[1:], start=2):
            row = row + [""] * (len(head) - len(row))
            parts = row[ti].replace("begin group", "begin_group").replace("end group", "end_group").split()
            if not parts:
                continue
            base = parts[0]
            lab_en = row[en] if en is not None else ""
            lab_mn = row[mn] if mn is not None else ""
            if base not in _KNOWN_TYPES:
                problems.append(f"sheet 'survey' row {r}: type {row[ti]!r} is not an XLSForm type")
                continue
            if base in ("begin_group", "begin_repeat"):
                stack.append((row[ni], lab_en, lab_mn))
                continue
            if base in ("end_group", "end_repeat"):
                if not stack:
                    problems.append(f"sheet 'survey' row {r}: {base} without a matching begin_group")
                else:
                    stack.pop()
                continue
            if base in _NO_COLUMN_TYPES or not row[ni]:
                continue
            list_name = None
            if base in ("select_one", "select_multiple"):
                if len(parts) < 2:
                    problems.append(f"sheet 'survey' row {r}: {base} needs a list name ('{base} yes_no')")
                    continue
                list_name = parts[1]
                if list_name not in choices:
                    problems.append(f"sheet 'survey' row {r}: question {row[ni]!r} uses choice list "
                                    f"{list_name!r}, which is not in the 'choices' sheet")
            full = "/".join([g[0] for g in stack] + [row[ni]])
            if full in questions:
                problems.append(f"sheet 'survey' row {r}: question name {full!r} is used twice")
            questions[full] = Question(full, row[ni], base, list_name, lab_en, lab_mn,
                                       tuple(g[0] for g in stack), tuple(g[1] for g in stack),
                                       tuple(g[2] for g in stack))
        if stack:
            problems.append(f"sheet 'survey': group(s) {', '.join(g[0] for g in stack)} are never closed "
                            f"with end_group")
    form_id = version = ""
    if len(settings) >= 2:
        sh, sv = settings[0], settings[1] + [""] * len(settings[0])
        form_id = sv[sh.index("form_id")] if "form_id" in sh else ""
        version = sv[sh.index("version")] if "version" in sh else ""
    if problems:
        raise CodebookError(format_problems(
            f"The codebook {path} has {len(problems)} problem(s); fix the XLSForm and run again:", problems))
    return Codebook(path, form_id, version, questions, choices)


# --------------------------------------------------------------------------- exports


def _text_cell(value: object) -> str | None:
    """One spreadsheet/SPSS value as export text (None = empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _frame(columns: list[str], data: dict[str, object], n: int) -> pd.DataFrame:
    df = pd.DataFrame(data, columns=columns)
    df.index = pd.RangeIndex(2, n + 2, name=ROW)
    return df


def _check_header(header: list[str], path: Path) -> None:
    problems = []
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        if h == "":
            problems.append(f"column {i} has an empty header")
        elif h in seen:
            problems.append(f"header {h!r} appears twice (columns {seen[h]} and {i})")
        else:
            seen[h] = i
    if problems:
        raise RawDataError(format_problems(
            f"The header row (row 1) of {path} has {len(problems)} problem(s); every column needs a "
            f"distinct name:", problems))


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


def _read_csv(data: bytes, path: Path, *, encoding: str | None = None, plan: ColumnPlan | None = None
              ) -> tuple[pd.DataFrame, str]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    original = data
    sampled = encoding is None
    if sampled:  # UTF-8 decided from a sample; Arrow validates every cell below
        encoding = detect_bytes_encoding(data, name=str(path), validate=False)
    if encoding == "cp1251":
        data = decode_strict(data, "cp1251", name=str(path)).encode("utf-8")
    elif encoding == "utf-8-sig":
        data = data[3:]
    head_text = data[:1 << 16].decode("utf-8", errors="ignore")
    first_line = head_text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    try:
        header = next(csv.reader(io.StringIO(head_text), delimiter=delimiter))
    except StopIteration:
        raise RawDataError(f"The export {path} is empty; expected a header row and one row per "
                           f"submission.") from None
    header = [h.strip() for h in header]
    _check_header(header, path)
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
            return _read_csv(original, path, encoding=full, plan=plan)
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


_XL_ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_XL_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_XL_ATTR = re.compile(r'\b(r|t|s)="([^"]*)"')
_XL_V = re.compile(r"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
_XL_T = re.compile(r"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_XL_RPH = re.compile(r"<rPh\b.*?</rPh>", re.S)
_XL_ESC = re.compile(r"_x([0-9A-Fa-f]{4})_")
_XL_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])


def _xl_text(fragment: str) -> str:
    text = "".join(_XL_T.findall(_XL_RPH.sub("", fragment)))
    text = html.unescape(text) if "&" in text else text
    return _XL_ESC.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _xl_attr(attrs: str, key: str) -> str | None:
    """Value of one attribute (``key`` like `` t="``) in a tag's attribute text."""
    i = (" " + attrs).find(key)
    if i < 0:
        return None
    start = i - 1 + len(key)
    return attrs[start:attrs.index('"', start)]


def _xl_col(ref: str) -> int:
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + (ord(ch.upper()) - 64)
    return n - 1


def _xl_date_styles(styles: str) -> set[int]:
    """Indexes of cell styles whose number format shows a date or time."""
    custom = {}
    for fid, code in re.findall(r'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"', styles):
        bare = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", html.unescape(code)).casefold()
        custom[int(fid)] = bool(re.search(r"[dmyhs]", bare)) and bare != "general"
    xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    out = set()
    for i, xf in enumerate(re.findall(r"<xf\b([^>]*)", xfs.group(1) if xfs else "")):
        m = re.search(r'numFmtId="(\d+)"', xf)
        fid = int(m.group(1)) if m else 0
        if fid in _XL_DATE_IDS or custom.get(fid, False):
            out.add(i)
    return out


def _xl_serial(value: str, base: dt.datetime) -> str:
    days = float(value)
    stamp = base + dt.timedelta(days=days)
    return (stamp + dt.timedelta(microseconds=500_000)).replace(microsecond=0).isoformat()


def _xl_number(value: str) -> str:
    if value.isdigit() and (len(value) == 1 or value[0] != "0"):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _read_xlsx_fast(data: bytes, path: Path) -> pd.DataFrame | None:
    """Parse the first sheet's XML directly (about 50x faster than openpyxl).

    Returns None when the workbook uses a layout this parser does not handle
    (namespace prefixes, no sheet found), and the caller falls back to
    openpyxl. Index = the row numbers written in the file.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        wb = zf.read("xl/workbook.xml").decode("utf-8")
        first = re.search(r'<sheet\b[^>]*\br:id="([^"]+)"', wb) or re.search(r'<sheet\b[^>]*\bid="([^"]+)"', wb)
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        target = None
        if first:
            for rel in re.findall(r"<Relationship\b[^>]*>", rels):
                if f'Id="{first.group(1)}"' in rel:
                    target = re.search(r'Target="([^"]+)"', rel).group(1)
        if target is None:
            return None
        target = target.lstrip("/")
        sheet_name = target if target.startswith("xl/") else "xl/" + target
        sheet = zf.read(sheet_name).decode("utf-8")
        shared = []
        if "xl/sharedStrings.xml" in names:
            sst = zf.read("xl/sharedStrings.xml").decode("utf-8")
            shared = [_xl_text(si) for si in re.findall(r"<si>(.*?)</si>|<si/>", sst, re.S)]
        date_styles = _xl_date_styles(zf.read("xl/styles.xml").decode("utf-8")) if "xl/styles.xml" in names else set()
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError, AttributeError):
        return None
    if re.search(r"<\w+:(?:row|c)\b", sheet):
        return None
    base = dt.datetime(1904, 1, 1) if re.search(r'date1904="(?:1|true)"', wb) else dt.datetime(1899, 12, 30)
    rows: list[tuple[int, dict[int, str]]] = []
    next_row = 1
    for row_attrs, row_body in _XL_ROW.findall(sheet):
        m = re.search(r'\br="(\d+)"', row_attrs)
        rnum = int(m.group(1)) if m else next_row
        next_row = rnum + 1
        cells: dict[int, str] = {}
        pos = 0
        for attrs, body in _XL_CELL.findall(row_body or ""):
            ref = _xl_attr(attrs, ' r="')
            col = _xl_col(ref) if ref else pos
            pos = col + 1
            kind = _xl_attr(attrs, ' t="') or "n"
            if kind == "inlineStr":
                inner = body[7:-9] if body.startswith("<is><t>") and body.endswith("</t></is>") else None
                if inner is None or "<" in inner:
                    value = _xl_text(body)
                else:
                    value = html.unescape(inner) if "&" in inner else inner
                    if "_x" in value:
                        value = _XL_ESC.sub(lambda m: chr(int(m.group(1), 16)), value)
            else:
                v = _XL_V.search(body) if body else None
                if v is None:
                    continue
                raw = v.group(1)
                if kind == "s":
                    value = shared[int(raw)]
                elif kind in ("str", "e", "d"):
                    value = html.unescape(raw) if "&" in raw else raw
                elif kind == "b":
                    value = "1" if raw.strip() in ("1", "true") else "0"
                elif date_styles and int(_xl_attr(attrs, ' s="') or 0) in date_styles:
                    value = _xl_serial(raw, base)
                else:
                    value = _xl_number(raw)
            if value != "":
                cells[col] = value
        if cells:
            rows.append((rnum, cells))
    if not rows:
        raise RawDataError(f"The export {path} has an empty first sheet; expected a header row.")
    head_cells = rows[0][1]
    width = max(head_cells) + 1
    header = [head_cells.get(i, "").strip() for i in range(width)]
    while header and header[-1] == "":
        header.pop()
    _check_header(header, path)
    body = rows[1:]
    columns = {h: [r[1].get(i) for r in body] for i, h in enumerate(header)}
    df = pd.DataFrame(columns, columns=header, dtype="str")
    df.index = pd.Index([r[0] for r in body], name=ROW)
    return df


def _read_xlsx(data: bytes, path: Path) -> pd.DataFrame:
    check_xlsx_expansion(data, path)
    fast = _read_xlsx_fast(data, path)
    if fast is not None:
        return fast
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise RawDataError(f"The export {path} is not a readable .xlsx workbook ({exc}); re-export it "
                           f"as XLSX or CSV.") from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header_cells = next(rows)
    except StopIteration:
        wb.close()
        raise RawDataError(f"The export {path} has an empty first sheet; expected a header row.") from None
    header = [_cell(v) for v in header_cells]
    while header and header[-1] == "":
        header.pop()
    _check_header(header, path)
    width = len(header)
    body = [r[:width] for r in rows]
    wb.close()
    while body and all(v is None or v == "" for v in body[-1]):
        body.pop()
    body = [tuple(r) + (None,) * (width - len(r)) if len(r) < width else r for r in body]
    cols = list(zip(*body)) if body else [()] * width
    data_cols = {h: [v if isinstance(v, str) and v != "" else _text_cell(v) for v in col]
                 for h, col in zip(header, cols)}
    df = _frame(header, data_cols, len(body))
    return df.astype("str") if len(df.columns) else df


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
    _check_header(header, path)
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
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm", ".sav"):
        raise RawDataError(f"The export {path} has the file type {suffix or '(none)'!r}; expected a "
                           f".csv, .xlsx or .sav export from KoboToolbox/ODK.")
    data = read_bytes(path)
    digest = sha256_hex(data)
    if suffix in (".csv", ".txt"):
        frame, encoding = _read_csv(data, path, plan=plan)
    else:
        if suffix in (".xlsx", ".xlsm"):
            frame, encoding = _read_xlsx(data, path), "xlsx"
        else:
            frame, encoding = _read_sav(path, wave_file), "sav"
        include, dictionary = plan(list(frame.columns)) if plan is not None else (None, ())
        if include is not None:
            frame = frame[[c for c in frame.columns if c in include]]
        cats = {c: frame[c].astype("category") for c in dictionary if c in frame}
        frame = frame.assign(**cats) if cats else frame
    return RawExport(frame, path, digest, len(data), encoding)


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
