"""Harmonise an export's headers and answers to codebook names.

Modelled on the World Bank DIME ``iecodebook``: the codebook (the XLSForm) is
the single reference. Whatever flavour an export has -- XML names or labels as
headers, ``/`` or ``-`` between groups, choice names or English / Mongolian
labels as answers, questions renamed between form versions -- the result has
one column per codebook question, named by its full name (``resp/resp_type``),
holding choice names (``parent_sen``).

Every answer the codebook does not know is collected (file, column, value and
all its row numbers) and reported in one :class:`~evalkit.errors.CodebookError`.
Work is vectorised: answers are factorised and only the distinct values are
looked up, so a million rows cost little more than a thousand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import CodebookError, format_problems
from evalkit.params import WaveFile
from evalkit.readers import METADATA_COLUMNS, _META_PREFIXES, Codebook, Question

_SPACES = re.compile(r"\s+")
_MAX_ROWS_SHOWN = 50


def normalise_label(text: str) -> str:
    """Strip, collapse inner whitespace and case-fold (for label matching)."""
    return _SPACES.sub(" ", str(text)).strip().casefold()


def format_rows(rows: np.ndarray | list[int], *, limit: int = _MAX_ROWS_SHOWN) -> str:
    """Spreadsheet row numbers as ``2, 5-9, 12`` (runs collapsed; long lists cut).

    Parameters
    ----------
    rows : array of int
        Sorted or unsorted row numbers.
    limit : int, keyword-only
        Show at most this many runs, then say how many rows were left out.
    """
    values = sorted(int(r) for r in rows)
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in runs[:limit]]
    text = ", ".join(parts)
    if len(runs) > limit:
        shown = sum(b - a + 1 for a, b in runs[:limit])
        text += f" and {len(values) - shown} more"
    return text


@dataclass(frozen=True)
class HeaderMatch:
    """Where an export column goes.

    Attributes
    ----------
    header : str
        The column header in the export.
    target : str
        Codebook full name, metadata column name, or the select_multiple
        question a 0/1 dummy column belongs to.
    kind : {"question", "metadata", "dummy"}
    """

    header: str
    target: str
    kind: str


def _is_metadata(header: str) -> bool:
    return header in METADATA_COLUMNS or header.startswith(_META_PREFIXES)


def _header_tables(codebook: Codebook, wave_file: WaveFile) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Lookup tables: exact header -> question, normalised label header -> question, dummies."""
    sep = wave_file.group_separator
    exact: dict[str, str] = {}
    labels: dict[str, str] = {}
    dummies: dict[str, str] = {}
    short_count: dict[str, int] = {}
    label_count: dict[str, int] = {}
    for q in codebook.questions.values():
        short_count[q.short_name] = short_count.get(q.short_name, 0) + 1
        for lang in ("en", "mn"):
            if q.label(lang):
                key = normalise_label(q.label(lang))
                label_count[key] = label_count.get(key, 0) + 1
    for q in codebook.questions.values():
        xml_names = {q.name, sep.join(q.groups + (q.short_name,))}
        if short_count[q.short_name] == 1:
            xml_names.add(q.short_name)
        for name in xml_names:
            exact.setdefault(name, q.name)
        label_heads = set()
        for lang in (wave_file.language, "en" if wave_file.language == "mn" else "mn"):
            lab = q.label(lang)
            if not lab:
                continue
            label_heads.add(sep.join(q.group_labels(lang) + (lab,)))
            if label_count[normalise_label(lab)] == 1:
                label_heads.add(lab)
        for head in label_heads:
            labels.setdefault(normalise_label(head), q.name)
        if q.type == "select_multiple":
            for c in codebook.choices.get(q.list_name or "", []):
                for base in xml_names | label_heads:
                    for suffix in {c.name, c.label_en, c.label_mn} - {""}:
                        for s in {sep, "/"}:
                            dummies.setdefault(normalise_label(f"{base}{s}{suffix}"), q.name)
    return exact, labels, dummies


def match_headers(headers: list[str], codebook: Codebook, *, wave_file: WaveFile,
                  renames: Mapping[str, str] | None = None, file: str = "<export>",
                  wave: str = "") -> list[HeaderMatch]:
    """Match every export header to a codebook question, metadata or a dummy column.

    Parameters
    ----------
    headers : list of str
        Export headers as read.
    codebook : Codebook
    wave_file : WaveFile, keyword-only
        Header flavour (``xml`` or ``label``), language and group separator.
    renames : mapping, keyword-only
        Export header (or its ``/`` form) -> codebook name, from params
        ``renames.<wave>``.
    file, wave : str, keyword-only
        For error messages.

    Returns
    -------
    list of HeaderMatch
        One per header, in order.

    Raises
    ------
    CodebookError
        Listing every header that matches nothing, every rename whose target
        is not in the codebook, and questions that two headers map to.
    """
    renames = dict(renames or {})
    exact, labels, dummies = _header_tables(codebook, wave_file)
    problems: list[str] = []
    for old, new in renames.items():
        if new not in codebook.questions:
            problems.append(f"params renames.{wave or '<wave>'}: {old!r} is renamed to {new!r}, which is not a "
                            f"question in the codebook {codebook.path.name}")
    out: list[HeaderMatch] = []
    used: dict[str, str] = {}
    sep = wave_file.group_separator
    for i, header in enumerate(headers, start=1):
        h = header.strip()
        slash = h.replace(sep, "/") if sep != "/" else h
        if h in renames or slash in renames:
            match = HeaderMatch(header, renames.get(h, renames.get(slash, "")), "question")
        elif _is_metadata(h):
            match = HeaderMatch(header, h, "metadata")
        elif wave_file.headers == "xml" and h in exact:
            match = HeaderMatch(header, exact[h], "question")
        elif normalise_label(h) in labels:
            match = HeaderMatch(header, labels[normalise_label(h)], "question")
        elif h in exact:
            match = HeaderMatch(header, exact[h], "question")
        elif normalise_label(h) in dummies:
            match = HeaderMatch(header, dummies[normalise_label(h)], "dummy")
        else:
            problems.append(
                f"column {i} {header!r} is not a question in the codebook {codebook.path.name} "
                f"(headers: {wave_file.headers}, separator {sep!r}); if the question was renamed between "
                f"form versions, map it in params: renames: {{{wave or '<wave>'}: {{{h!r}: <codebook name>}}}}")
            continue
        if match.kind == "question":
            if match.target in used:
                problems.append(f"columns {used[match.target]!r} and {header!r} both hold question "
                                f"{match.target!r}; remove one or fix params renames")
            used[match.target] = header
        out.append(match)
    if problems:
        raise CodebookError(format_problems(
            f"The export {file} has {len(problems)} column(s) that do not match the codebook "
            f"{codebook.path.name}:", problems))
    return out


def answer_lookup(codebook: Codebook, question: Question, *, wave_file: WaveFile) -> dict[str, str]:
    """Normalised answer text -> choice name, for one select question.

    Choice names win over labels; labels in the wave's language win over the
    other language. Both English and Mongolian labels are accepted.
    """
    lookup: dict[str, str] = {}
    choices = codebook.choices.get(question.list_name or "", [])
    other = "en" if wave_file.language == "mn" else "mn"
    for attr in ("name", f"label_{wave_file.language}", f"label_{other}"):
        for c in choices:
            text = getattr(c, attr)
            if text:
                lookup.setdefault(normalise_label(text), c.name)
    return lookup


def _split_multiple(value: str, lookup: Mapping[str, str]) -> str | None:
    """Greedy longest match of space-separated answers (labels may hold spaces)."""
    words = normalise_label(value).split(" ")
    out, i = [], 0
    while i < len(words):
        for j in range(len(words), i, -1):
            hit = lookup.get(" ".join(words[i:j]))
            if hit is not None:
                out.append(hit)
                i = j
                break
        else:
            return None
    return " ".join(out)


def _map_column(values: pd.Series, question: Question, codebook: Codebook, *, wave_file: WaveFile
                ) -> tuple[pd.Series, list[tuple[str, np.ndarray]]]:
    """Map one select column to choice names; return it and (unknown value, rows) pairs.

    Only the distinct answers are looked up; the result is a pandas
    ``Categorical`` (select_one: categories = the list's choice names in
    codebook order), so filtering a million rows stays cheap.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):  # dictionary-encoded by the reader: no hashing needed
        codes, uniques = values.cat.codes.to_numpy(), np.asarray(values.cat.categories.astype("str"), dtype=object)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    lookup = answer_lookup(codebook, question, wave_file=wave_file)
    if question.type == "select_multiple":
        mapped = [_split_multiple(u, lookup) for u in uniques]
        categories = sorted({m for m in mapped if m})
    else:
        mapped = [lookup.get(normalise_label(u)) for u in uniques]
        categories = codebook.choice_names(question.name)
    position = {c: i for i, c in enumerate(categories)}
    unknown = []
    new_codes = np.full(len(uniques) + 1, -1, dtype=np.int32)
    for k, (u, m) in enumerate(zip(uniques, mapped)):
        if m is None or m == "":
            if normalise_label(u) != "":
                unknown.append((str(u), values.index.to_numpy()[codes == k]))
        else:
            new_codes[k] = position[m]
    cat = pd.Categorical.from_codes(new_codes[codes], categories=pd.Index(categories, dtype=object))
    return pd.Series(cat, index=values.index), unknown


def _numeric_column(values: pd.Series) -> tuple[pd.Series, list[tuple[str, np.ndarray]]]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("str")
    num = pd.to_numeric(values.str.strip().str.replace(",", ".", regex=False), errors="coerce")
    bad = num.isna() & values.notna() & (values.str.strip() != "")
    unknown = []
    if bad.any():
        for v, rows in values[bad].groupby(values[bad], sort=True).groups.items():
            unknown.append((str(v), np.asarray(rows)))
    return num.astype("Float64"), unknown


def harmonise(raw: pd.DataFrame, codebook: Codebook, *, wave_file: WaveFile,
              renames: Mapping[str, str] | None = None, file: str = "<export>", wave: str = "") -> pd.DataFrame:
    """Rename columns to codebook names and map answers to choice names.

    Parameters
    ----------
    raw : pandas.DataFrame
        An export as read by :func:`evalkit.readers.read_export` (not modified).
    codebook : Codebook
    wave_file : WaveFile, keyword-only
        The wave's flavour (headers, values, language, separator).
    renames : mapping, keyword-only
        Params ``renames.<wave>``: export header -> codebook name.
    file, wave : str, keyword-only
        For error messages.

    Returns
    -------
    pandas.DataFrame
        Same index (spreadsheet rows). Metadata columns as exported; one
        column per codebook question found: select_one -> choice name
        (``category`` dtype, categories = the list's choices), select_multiple
        -> space-separated choice names (``category``), integer/decimal ->
        ``Float64``, everything else -> text. select_multiple 0/1 dummy
        columns are dropped (the summary column holds the same answers).

    Raises
    ------
    CodebookError
        Unknown columns (see :func:`match_headers`), and every answer the
        codebook does not know: file, column, value and all its rows, listed
        together.

    References
    ----------
    World Bank DIME Analytics, ``iefieldkit``: ``iecodebook apply``.

    Examples
    --------
    >>> clean = harmonise(raw, cb, wave_file=p.raw.endline, file="endline.xlsx")  # doctest: +SKIP
    """
    matches = match_headers(list(raw.columns), codebook, wave_file=wave_file, renames=renames,
                            file=file, wave=wave)
    columns: dict[str, pd.Series] = {}
    problems: list[str] = []
    for m in matches:
        col = raw[m.header]
        if m.kind == "metadata":
            columns[m.target] = col
            continue
        if m.kind == "dummy":
            continue
        q = codebook.questions[m.target]
        if q.type in ("select_one", "select_multiple"):
            out, unknown = _map_column(col, q, codebook, wave_file=wave_file)
            expected = ", ".join(codebook.choice_names(q.name))
            hint = (f"expected one of: {expected} (or their English/Mongolian labels); fix the answer or add it "
                    f"to the choice list {q.list_name!r} of the codebook")
        elif q.type in ("integer", "decimal", "range"):
            out, unknown = _numeric_column(col)
            hint = "expected a number; correct the value in the export"
        else:
            out, unknown = col, []
            hint = ""
        for value, rows in unknown:
            where = f"column {m.header!r}" + (f" (question {q.name})" if m.header != q.name else "")
            problems.append(f"{where} has the value {value!r} in {len(rows)} row(s): {format_rows(rows)}; {hint}")
        columns[q.name] = out
    if problems:
        raise CodebookError(format_problems(
            f"The export {file} has {len(problems)} answer(s) that the codebook {codebook.path.name} does not "
            f"know (rows are spreadsheet rows; the header is row 1):", problems, limit=200))
    return pd.DataFrame(columns, index=raw.index)


def text_from_codes(codes: np.ndarray, categories: list[str] | pd.Index, index: pd.Index) -> pd.Series:
    """A text Series (pandas ``str``) from integer codes into ``categories`` (-1 = missing).

    Built through Arrow's dictionary decoding, several times faster than
    converting a Python object array for a million rows.
    """
    import pyarrow as pa

    codes = np.asarray(codes, dtype=np.int32)
    indices = pa.array(codes, mask=codes < 0)
    arr = pa.DictionaryArray.from_arrays(indices, pa.array(list(categories), type=pa.string())).cast(pa.string())
    return pd.Series(pd.array(arr, dtype="str"), index=index)


def as_text(values: pd.Series) -> pd.Series:
    """Any answer column (categorical or not) as pandas ``str``, same index."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return text_from_codes(values.cat.codes.to_numpy(), values.cat.categories.astype("str"), values.index)
    return values.astype("str")
