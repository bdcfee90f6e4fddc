"""Size limits on what a raw file may expand to, checked before it is parsed.

An ``.xlsx`` file is a zip archive: a 1 MB file can declare gigabytes of sheet
XML (a "zip bomb") and take the reader, and the machine, down. Before any
workbook is opened, :func:`check_xlsx_expansion` reads the archive's table of
contents (no decompression) and refuses a workbook whose parts expand beyond
the limits. The limits are generous for real exports (a 100,000-row, 40-column
KoboToolbox export expands to about 150 MB) and can be raised with
environment variables.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

from evalkit.errors import RawDataError

#: Default limit on the total uncompressed size of a workbook's parts (bytes).
DEFAULT_MAX_XLSX_BYTES = 2 * 1024**3
#: Default limit on the cells a workbook's sheets may declare.
DEFAULT_MAX_XLSX_CELLS = 50_000_000
BYTES_ENV = "EVALKIT_MAX_XLSX_BYTES"
CELLS_ENV = "EVALKIT_MAX_XLSX_CELLS"

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _limit(env: str, default: int) -> int:
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        raise RawDataError(f"The environment variable {env}={text[:40]!r} is not a positive whole number; "
                           f"unset it to use the default limit ({default:,}).")
    return int(text)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.decode("ascii"):
        n = n * 26 + ord(ch) - 64
    return n


def _gb(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 / 10 else f"{n / 1024**2:.0f} MB"


def check_xlsx_expansion(data: bytes, path: Path | str) -> None:
    """Refuse a workbook that would expand beyond the size or cell limits.

    Parameters
    ----------
    data : bytes
        The ``.xlsx`` file's bytes.
    path : Path or str
        Shown in the message.

    Raises
    ------
    RawDataError
        If the parts' declared uncompressed size exceeds
        ``EVALKIT_MAX_XLSX_BYTES`` (default 2 GB) or a sheet's declared range
        exceeds ``EVALKIT_MAX_XLSX_CELLS`` (default 50 million cells). A
        file that is not a zip archive is left to the reader's own message.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    max_bytes, max_cells = _limit(BYTES_ENV, DEFAULT_MAX_XLSX_BYTES), _limit(CELLS_ENV, DEFAULT_MAX_XLSX_CELLS)
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise RawDataError(
                f"The workbook {path} ({_gb(len(data))} on disk) expands to {_gb(total)} when unpacked; the limit "
                f"is {_gb(max_bytes)}. A real export this large is unusual: check that the file is the survey export. "
                f"If it is, set the environment variable {BYTES_ENV} to a larger number of bytes, or export CSV instead.")
        for info in infos:
            if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                continue
            with zf.open(info) as fh:
                head = fh.read(4096)
            m = _DIMENSION.search(head)
            if not m or not m.group(3):
                continue
            cells = (int(m.group(4)) - int(m.group(2)) + 1) * (_col_number(m.group(3)) - _col_number(m.group(1)) + 1)
            if cells > max_cells:
                raise RawDataError(
                    f"The workbook {path} declares {cells:,} cells in {info.filename}; the limit is {max_cells:,}. "
                    f"Check that the file is the survey export; if it is, set the environment variable {CELLS_ENV} "
                    f"to a larger number, or export CSV instead.")
