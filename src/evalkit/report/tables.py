"""Accessible, escaped HTML tables (:class:`Column`, :func:`html_table`) and badges."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.report.format import esc, fmt_int, fmt_number, text_html
from evalkit.report.i18n import _


@dataclass(frozen=True)
class Column:
    """One column of an HTML table.

    Attributes
    ----------
    key : str
        DataFrame column read by the default formatter.
    header : str
        Header text (escaped).
    fmt : callable or None
        ``fmt(row) -> str`` returning *plain text* (it is escaped); default
        ``str(row[key])``.
    numeric : bool
        Right-align (numbers).
    html : callable or None
        ``html(row) -> str`` returning already-escaped HTML (for badges); takes
        precedence over ``fmt``.
    """

    key: str
    header: str
    fmt: Callable[[pd.Series], str] | None = None
    numeric: bool = False
    html: Callable[[pd.Series], str] | None = None


def html_table(df: pd.DataFrame, columns: list[Column], *, caption: str, table_id: str | None = None,
               empty: str | None = None, section: Callable[[pd.Series], str] | None = None) -> str:
    """Build an accessible HTML table from a DataFrame, escaping every cell.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows to show (not modified).
    columns : list of Column
        What to show and how.
    caption : str, keyword-only
        Table caption (escaped); also the scroll region's accessible name.
    table_id : str or None, keyword-only
        ``id`` attribute (escaped).
    empty : str or None, keyword-only
        Text shown instead of an empty table (default: "No rows." in the report language).
    section : callable or None, keyword-only
        ``section(row) -> str`` (plain text); a full-width header row is
        inserted whenever its value changes (e.g. one per indicator).

    Returns
    -------
    str
        ``<div class="ek-table-wrap">`` holding a ``<table>`` with a
        ``<caption>``, ``<th scope="col">`` headers and escaped cells.
    """
    if df.empty:
        return f'<p class="ek-empty">{esc(caption)}: {esc(_("No rows.") if empty is None else empty)}</p>'
    tid = f' id="{esc(table_id)}"' if table_id else ""
    num = ' class="num"'
    head = "".join(f'<th scope="col"{num if c.numeric else ""}>{esc(c.header)}</th>' for c in columns)
    body = []
    current = None
    for _i, row in df.iterrows():
        if section is not None and section(row) != current:
            current = section(row)
            body.append(f'<tr class="ek-section"><th colspan="{len(columns)}" scope="colgroup">'
                        f'<span class="ek-stick">{text_html(current)}</span></th></tr>')
        cells = []
        for c in columns:
            if c.html is not None:
                content = c.html(row)
            else:
                content = text_html(c.fmt(row) if c.fmt is not None else row.get(c.key))
            cells.append(f'<td{num if c.numeric else ""}>{content}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="ek-table-wrap" role="region" tabindex="0" aria-label="{esc(caption)}">'
            f'<table{tid}><caption><span class="ek-stick">{esc(caption)}</span></caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def frame_table(df: pd.DataFrame, *, caption: str, headers: Mapping[str, str] | None = None) -> str:
    """Escaped HTML table of every column of ``df`` (numbers right-aligned)."""
    headers = dict(headers or {})
    cols = []
    for key in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[key]) and not pd.api.types.is_bool_dtype(df[key])
        cols.append(Column(key=str(key), header=headers.get(key, str(key).replace("_", " ")), numeric=numeric,
                           fmt=(lambda r, k=key: "" if pd.isna(r[k]) else fmt_int(r[k]) if isinstance(r[k], (int, np.integer))
                                else fmt_number(r[k], digits=2) if isinstance(r[k], (float, np.floating)) else str(r[k]))))
    return html_table(df, cols, caption=caption)


def badge(text: str, kind: str) -> str:
    """``<span class="ek-badge ek-badge-<kind>">`` with escaped text."""
    return f'<span class="ek-badge ek-badge-{esc(kind)}">{esc(text)}</span>'
