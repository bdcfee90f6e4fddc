"""The XLSX-read measurement of ``make bench``: a 100,000-row Kobo-like wave read by :func:`evalkit.readers.load_export`.

The workbook is written directly as SpreadsheetML (shared strings, numbers,
one date column), which takes seconds where openpyxl would take minutes; its
content is fixed, so every bench reads the same bytes.
"""

from __future__ import annotations

import datetime as dt
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

#: Rows and columns of the measured wave, and the limit from issue 12.
ROWS, COLUMNS, LIMIT_S = 100_000, 42, 5.0

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="survey" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
           '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
           '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>')
_ANSWERS = ("yes", "no", "dont_know", "agree", "disagree", "strongly_agree", "Тийм", "Үгүй", "Мэдэхгүй")


def _col(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def write_wave_xlsx(path: Path, *, rows: int = ROWS, columns: int = COLUMNS) -> Path:
    """Write a Kobo-like wave: a date column, a number column, then select answers as shared strings."""
    header = ["start", "_id"] + [f"grp/q{k:02d}" for k in range(columns - 2)]
    strings = header + list(_ANSWERS)
    index = {s: k for k, s in enumerate(strings)}
    refs = [_col(c) for c in range(columns)]
    base = dt.datetime(1899, 12, 30)
    first_day = (dt.datetime(2022, 1, 17, 9) - base).total_seconds() / 86400
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WB)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        zf.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns='
                    f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
                    f'uniqueCount="{len(strings)}">{sst}</sst>')
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
                     b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            head = "".join(f'<c r="{refs[c]}1" t="s"><v>{index[h]}</v></c>' for c, h in enumerate(header))
            fh.write(f'<row r="1">{head}</row>'.encode())
            for r in range(2, rows + 2):
                cells = [f'<c r="A{r}" s="1"><v>{first_day + r / 1440:.8f}</v></c>', f'<c r="B{r}"><v>{r + 1000}</v></c>']
                cells += [f'<c r="{refs[c]}{r}" t="s"><v>{index[_ANSWERS[(r * 7 + c * 3) % len(_ANSWERS)]]}</v></c>'
                          for c in range(2, columns)]
                fh.write(f'<row r="{r}">{"".join(cells)}</row>'.encode())
            fh.write(b"</sheetData></worksheet>")
    return path


def measure_xlsx_read(work: Path, *, rows: int = ROWS, columns: int = COLUMNS) -> dict[str, object]:
    """Write the wave (if absent) and time one :func:`~evalkit.readers.load_export` of it.

    Returns
    -------
    dict
        ``status``, ``rows``, ``columns``, ``read_s`` (wall seconds of the
        read), ``limit_s``.
    """
    from evalkit.params import DateRange, WaveFile
    from evalkit.readers import load_export

    path = work / f"xlsx-read-{rows}x{columns}.xlsx"
    if not path.is_file():
        write_wave_xlsx(path, rows=rows, columns=columns)
    wave = WaveFile(file=path.name, fieldwork=DateRange(dt.date(2022, 1, 1), dt.date(2022, 12, 31)))
    started = time.perf_counter()
    raw = load_export(path, wave)
    seconds = time.perf_counter() - started
    if raw.frame.shape != (rows, columns):
        return {"status": f"failed: read {raw.frame.shape}, expected {(rows, columns)}"}
    return {"status": "ok", "rows": rows, "columns": columns, "read_s": seconds, "limit_s": LIMIT_S}
