"""The ``make check`` measurement of ``make bench``: fieldwork checks on a partial export.

Issue 20 asks that ``make check`` on a partial export of a shipped campaign
(the first five days of the endline) writes the fieldwork page in under
2 x the floor ``F``. :func:`write_partial_raw` makes that partial export in
the bench's working folder, from the shipped raw folder (read only): the
codebook and baseline as they are, and the endline cut to the submissions
started in the first ``days`` days of its fieldwork (earlier test submissions
included, as a real export has them). :func:`evalkit.bench.make_project_copy`
then links it as the campaign's raw folder of a throw-away project, where
``make check`` is timed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

#: The campaign, wave and number of fieldwork days of the partial export, and the target (x F).
CAMPAIGN, WAVE, DAYS, LIMIT_X_FLOOR = "together", "endline", 5, 2.0


def _cut_rows(rows: list[list[object]], *, last_day: dt.date) -> list[list[object]]:
    """Header plus the rows whose ``start`` (ISO text, local time) is on or before ``last_day``."""
    head = [str(h) for h in rows[0]]
    i = head.index("start")
    return [rows[0]] + [r for r in rows[1:] if str(r[i])[:10] <= last_day.isoformat()]


def write_partial_raw(source_raw: Path, dest: Path, *, params: object, days: int = DAYS) -> tuple[Path, int]:
    """Write the campaign's raw folder with the endline cut to its first ``days`` fieldwork days.

    Parameters
    ----------
    source_raw : Path
        The shipped ``data/raw/<campaign>/`` (only read).
    dest : Path
        Folder to fill (created; inside the bench's working folder).
    params : Params
        The campaign's params (file names, endline fieldwork start).
    days : int, keyword-only

    Returns
    -------
    (Path, int)
        ``dest`` and the number of endline submissions kept.
    """
    import openpyxl
    from python_calamine import CalamineWorkbook

    dest.mkdir(parents=True, exist_ok=True)
    wf = params.wave_file(WAVE)
    for entry in sorted(source_raw.iterdir()):
        if entry.is_file() and entry.name != wf.file:
            shutil.copy2(entry, dest / entry.name)
    last_day = wf.fieldwork.start + dt.timedelta(days=days - 1)
    src = source_raw / wf.file
    if src.suffix.casefold() == ".csv":
        import csv
        import io

        text = src.read_text(encoding="utf-8-sig")
        rows = _cut_rows(list(csv.reader(io.StringIO(text))), last_day=last_day)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        (dest / wf.file).write_text(buf.getvalue(), encoding="utf-8")
        return dest, len(rows) - 1
    book = CalamineWorkbook.from_path(str(src))
    out = openpyxl.Workbook(write_only=True)
    kept = 0
    for k, name in enumerate(book.sheet_names):
        rows = book.get_sheet_by_name(name).to_python()
        if k == 0:
            rows = _cut_rows(rows, last_day=last_day)
            kept = len(rows) - 1
        ws = out.create_sheet(name)
        for r in rows:
            ws.append([None if v == "" else v for v in r])
    out.save(dest / wf.file)
    return dest, kept
