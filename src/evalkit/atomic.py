"""Atomic file writes: a failed or killed run never leaves a half-written file.

Every output (Parquet, CSV, HTML, notebook) is first written to a temporary
file in the destination folder, flushed to disk, then moved over the final
path with :func:`os.replace`, which is atomic on POSIX and Windows. Moving a
finished file from a staging folder that lies on another filesystem
(``reports/`` mounted elsewhere) copies it next to its destination first
(:func:`move_atomic`), so publishing is atomic there too.

CSV numbers are written at a fixed precision (:data:`CSV_FLOAT_FORMAT`, 12
significant digits): the last bits of a floating-point result differ between
CPUs and BLAS builds, and the files must be byte-identical on any machine.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(final: Path | str) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; move it into place on success.

    Parameters
    ----------
    final : Path or str
        Destination. Its folder is created if needed.

    Yields
    ------
    Path
        A path in the same folder that the caller writes to. On normal exit it
        replaces ``final`` atomically; on an exception it is deleted and
        ``final`` is left untouched.

    Examples
    --------
    >>> with atomic_path(out) as tmp:  # doctest: +SKIP
    ...     df.to_parquet(tmp)
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file 0600; give the output the usual permissions
    # (0666 less the umask), as a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        from evalkit import failpoints

        failpoints.hold("before-replace", detail=final.name)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(final: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``final`` atomically and return the final path."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return Path(final)


def write_text_atomic(final: Path | str, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``final`` atomically (UTF-8, ``\\n`` line ends)."""
    return write_bytes_atomic(final, text.encode(encoding))


def write_with(final: Path | str, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``final`` atomically.

    Useful for library writers that take a path, e.g.
    ``write_with(out, lambda p: df.to_parquet(p, index=False))``.
    """
    with atomic_path(final) as tmp:
        writer(tmp)
    return Path(final)


def move_atomic(src: Path | str, final: Path | str) -> Path:
    """Move a finished file to ``final`` atomically, across filesystems too.

    :func:`os.replace` cannot move between filesystems (``EXDEV``, "Invalid
    cross-device link"); then the file is copied to a temporary name next to
    ``final``, flushed, renamed over it, and the source is removed. Either way
    ``final`` is, at every moment, the old complete file or the new one.
    """
    src, final = Path(src), Path(final)
    try:
        os.replace(src, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with atomic_path(final) as tmp:
            shutil.copyfile(src, tmp)
        src.unlink()
    return final


#: ``printf`` format of every float in every CSV the project writes: 12
#: significant digits, enough for any survey statistic and far above the
#: last-bit noise (about 1e-16 relative) that differs between machines.
CSV_FLOAT_FORMAT = "%.12g"


#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A formula start right after a character that some spreadsheet uses as list
#: separator (``,`` ``;`` tab, then optional spaces): a spreadsheet opening the
#: file with that separator would start a new cell there and run it.
_AFTER_SEPARATOR = re.compile(r"([,;\t\uFF0C\uFF1B][ \u00A0]*)(?=[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])")


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with ``'``.

    Text cells starting with ``= + - @``, tab or carriage return are
    neutralised (OWASP "CSV injection"), and so is such a start after any
    character a spreadsheet may use as list separator (``,`` ``;`` tab): a
    locale whose separator is ``;`` would open ``Parents;=HYPERLINK(A1)`` as two
    cells, the second a live formula. Numbers are left alone, so a negative
    change such as ``-3.2`` stays a number.

    Examples
    --------
    >>> neutralise_formula("Parents;=HYPERLINK(A1)")
    "Parents;'=HYPERLINK(A1)"
    """
    if not isinstance(value, str):
        return value
    value = _AFTER_SEPARATOR.sub(r"\1'", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_text_cell(value: object) -> object:
    """Neutralise a text cell and turn its carriage returns into ``\\n``.

    The CSV is written with ``\\n`` line ends; a bare ``\\r`` would make a
    spreadsheet start a new row and could run the text after it as a formula.
    """
    value = neutralise_formula(value)
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _quote(text: str) -> str:
    """``text`` as a quoted CSV field (RFC 4180: double quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def quote_text_cells(csv_text: str, is_text: "pandas.DataFrame", *, header: bool = True) -> str:  # noqa: F821
    """Rewrite pandas' CSV so that every text cell, and every header, is quoted.

    pandas quotes a field only when it must (a comma, quote or line break
    inside). A spreadsheet that splits at another list separator (``;`` in
    Mongolian, Russian and most European locales) then sees the bare text
    and may read part of it as a formula or a number. Quoted, the whole text
    is one text cell in every locale (issue 17). Numbers, booleans and
    missing values stay bare, so they stay numbers.

    Parameters
    ----------
    csv_text : str
        What :meth:`pandas.DataFrame.to_csv` wrote (``\n`` line ends, ``,``).
    is_text : pandas.DataFrame of bool
        Same shape as the written table: True where the value is a string.
    header : bool, keyword-only
        The text starts with a header row.

    Returns
    -------
    str
    """
    import csv
    import io

    rows = list(csv.reader(io.StringIO(csv_text, newline="")))
    mask = is_text.to_numpy(dtype=bool)
    out = []
    for r, row in enumerate(rows):
        if header and r == 0:
            out.append(",".join(_quote(c) for c in row))
            continue
        flags = mask[r - 1 if header else r]
        out.append(",".join(_quote(c) if flag else (_quote(c) if any(x in c for x in ',"\n') else c)
                            for c, flag in zip(row, flags)))
    return "".join(line + "\n" for line in out)


def write_csv_atomic(df: "pandas.DataFrame", final: Path | str, **to_csv_kwargs: object) -> Path:  # noqa: F821
    """Write a DataFrame as UTF-8 CSV atomically: text quoted, formulas neutralised.

    Floats are written with :data:`CSV_FLOAT_FORMAT` (12 significant digits),
    so the bytes do not depend on the machine's floating-point last bits.
    Formula starts are neutralised at the start of a text cell and after any
    list separator (:func:`neutralise_formula`), and every text cell and
    header is quoted (:func:`quote_text_cells`), so a spreadsheet with any
    list separator reads it as one text cell. This is the one gate every CSV
    the project writes goes through.

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write; it is not modified.
    final : Path or str
        Destination path.
    **to_csv_kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (``index=False`` by
        default); ``sep``, ``quoting`` and ``lineterminator`` are fixed.
    """
    import pandas as pd

    for fixed in ("sep", "quoting", "lineterminator", "quotechar"):
        if fixed in to_csv_kwargs:
            raise TypeError(f"write_csv_atomic writes ',' CSV with quoted text; {fixed}= cannot be changed")
    out = df.reset_index() if to_csv_kwargs.pop("index", False) else df.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(_csv_text_cell, na_action="ignore")
    out.columns = [_csv_text_cell(str(c)) for c in out.columns]
    is_text = pd.DataFrame({i: out.iloc[:, i].map(lambda v: isinstance(v, str)).astype(bool)
                            for i in range(out.shape[1])})
    header = bool(to_csv_kwargs.get("header", True))
    to_csv_kwargs.setdefault("float_format", CSV_FLOAT_FORMAT)
    text = out.to_csv(index=False, lineterminator="\n", **to_csv_kwargs)
    return write_bytes_atomic(final, quote_text_cells(text, is_text, header=header).encode("utf-8"))
