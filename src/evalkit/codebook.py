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

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import CodebookError, ConfigError, format_problems, shown_value
from evalkit.params import WaveFile
from evalkit.readers import METADATA_COLUMNS, _META_PREFIXES, Codebook, Question, header_text
from evalkit.xlsform import normalise_label  # noqa: F401 (defined with the form reader; used and re-exported here)

_MAX_ROWS_SHOWN = 50


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
        Codebook full name, metadata column name, the select_multiple
        question a 0/1 dummy column belongs to, or (``ignored``) the question
        or metadata the column comes from.
    kind : {"question", "metadata", "dummy", "ignored"}
        ``ignored`` columns are left out and counted in the cleaning log.
    reason : str
        Why an ``ignored`` column is left out: ``note``, ``gps part``,
        ``repeat``, ``params ignore``; for a ``dummy``, the choice name its
        0/1 cells stand for ("" otherwise).
    """

    header: str
    target: str
    kind: str
    reason: str = ""


def _is_metadata(header: str) -> bool:
    return header in METADATA_COLUMNS or header.startswith(_META_PREFIXES)


def wave_language(codebook: Codebook, wave_file: WaveFile, *, wave: str = "") -> str:
    """The codebook language key of a wave's params ``language`` (``ConfigError`` naming the choices)."""
    key = codebook.resolve_language(wave_file.language)
    if key is None:
        langs = ", ".join(f"{n} ({k})" if k and k != n else (k or "plain 'label'")
                          for k, n in codebook.languages.items())
        raise ConfigError(f"key 'raw.{wave or '<wave>'}.language': the codebook {codebook.path.name} has labels in "
                          f"{langs or 'no language'}; got {wave_file.language!r}. Use the code in parentheses of "
                          f"a label column (label::French (fr) -> language: fr), or leave it out for the form's "
                          f"default language.")
    return key


_GPS_PARTS = ("latitude", "longitude", "altitude", "precision")


def _forms(q: Question, lang: str, sep: str) -> tuple[set[str], set[str]]:
    """(XML-name headers, label headers in ``lang``) Kobo/ODK may write for a question.

    Label headers with and without group labels ("with/without group
    names"); where the question or a group has no label in ``lang``, Kobo
    writes its XML name, and so does this.
    """
    xml = {q.name, sep.join(q.groups + (q.short_name,)), q.short_name}
    lab = q.export_label(lang)
    labels = {lab, sep.join(q.group_labels(lang) + (lab,))}
    return xml, labels


class _Tables:
    """Candidate questions for a header, by tier (XML names, labels in the wave's language, other languages)."""

    def __init__(self, codebook: Codebook, wave_file: WaveFile, lang: str) -> None:
        sep = wave_file.group_separator
        self.xml: dict[str, list[str]] = {}
        self.label: dict[str, list[str]] = {}
        self.other: dict[str, list[str]] = {}
        self.dummies: dict[str, tuple[str, str]] = {}  # header -> (question, choice)
        self.ignored: dict[str, tuple[str, str]] = {}
        others = [k for k in codebook.languages if k != lang]

        def add(table: dict[str, list[str]], key: str, name: str) -> None:
            names = table.setdefault(key, [])
            if name not in names:
                names.append(name)

        for q in codebook.questions.values():
            xml, labels = _forms(q, lang, sep)
            if q.repeat is not None:  # answers on the repeat group's own sheet / CSV
                for h in xml | labels:
                    self.ignored.setdefault(normalise_label(h), (q.name, "repeat"))
                continue
            for h in xml:
                add(self.xml, h, q.name)
            for h in labels:
                add(self.label, normalise_label(h), q.name)
            other_labels = set()
            for o in others:
                other_labels |= {h for h in _forms(q, o, sep)[1] if q.label(o)}
            for h in other_labels:
                add(self.other, normalise_label(h), q.name)
            if q.type == "select_multiple":
                suffixes = {c.name: c.name for c in codebook.choices.get(q.list_name or "", [])}
                for c in codebook.choices.get(q.list_name or "", []):
                    for text in (codebook.choice_label(c, lang), *c.labels.values()):
                        suffixes.setdefault(text, c.name)
                if q.or_other:
                    suffixes.setdefault("other", "other")
                for base in xml | labels | other_labels:
                    for suffix, choice in suffixes.items():
                        for s in {sep, "/"}:
                            if suffix:
                                self.dummies.setdefault(normalise_label(f"{base}{s}{suffix}"), (q.name, choice))
            if q.type == "geopoint":
                prefixes = {g for k in (lang, *others) for g in (sep.join(q.group_labels(k)), "/".join(q.group_labels(k)))}
                bases = {q.short_name, *(q.export_label(k) for k in (lang, *others))}
                self._gps(bases, xml | labels | other_labels, prefixes | {sep.join(q.groups), "/".join(q.groups)},
                          q.name, sep)
        for n in codebook.notes:
            xml, labels = _forms(n, lang, sep)
            for h in xml | labels:
                self.ignored.setdefault(normalise_label(h), (n.name, "note"))

    def _gps(self, bases: set[str], forms: set[str], prefixes: set[str], name: str, sep: str) -> None:
        """Kobo's ``[<groups><sep>]_<question>_latitude`` ... and ODK Central's ``<question>-Latitude`` columns."""
        prefixes = prefixes - {""}
        for base in bases:
            for part in _GPS_PARTS:
                for head in {f"_{base}_{part}"} | {f"{p}{s}_{base}_{part}" for p in prefixes for s in {sep, "/"}}:
                    self.ignored.setdefault(normalise_label(head), (name, "gps part"))
        for full in forms:
            for part in ("latitude", "longitude", "altitude", "accuracy"):
                self.ignored.setdefault(normalise_label(f"{full}-{part}"), (name, "gps part"))


def _by_position(candidates: list[str], order: dict[str, int], used: dict[str, str], last: int
                 ) -> tuple[str | None, list[str]]:
    """Pick among questions with the same header: Kobo writes columns in form order.

    Returns the first unused candidate after the last matched question, or
    the only unused one; otherwise None and the candidates left (ambiguous).
    """
    free = [c for c in candidates if c not in used]
    if len(candidates) == 1:
        return candidates[0], []
    after = [c for c in free if order[c] > last]
    if after:
        return min(after, key=order.__getitem__), []
    if len(free) == 1:
        return free[0], []
    return None, free or candidates


def _unknown_advice(i: int, header: str, codebook: Codebook, wave_file: WaveFile, wave: str,
                    tables: _Tables, n_label_hits: int, n_xml_hits: int) -> str:
    """The message for a column that is neither a question, metadata nor a known export extra."""
    w = wave or "<wave>"
    hint = ""
    close = difflib.get_close_matches(normalise_label(header), list(tables.label) + [normalise_label(k) for k in
                                      tables.xml], n=1, cutoff=0.75)
    if close:
        key = close[0]
        target = (tables.label.get(key) or tables.xml.get(key) or
                  next((v for k, v in tables.xml.items() if normalise_label(k) == key), [""]))[0]
        hint = f" It resembles question {target!r}."
    if wave_file.headers == "xml" and n_label_hits > n_xml_hits:
        hint += f" Most headers of this export are question labels: set 'raw.{w}.headers: label'."
    elif wave_file.headers == "label" and n_xml_hits > n_label_hits:
        hint += f" Most headers of this export are XML names: set 'raw.{w}.headers: xml'."
    return (f"column {i} {header!r} is neither a question of the codebook {codebook.path.name} nor Kobo/ODK "
            f"metadata.{hint} Likely causes: the question was renamed (add to params: renames: {{{w}: "
            f"{{{header!r}: <codebook name>}}}}), the export comes from another version of the form (use that "
            f"version's XLSForm), or the 'headers'/'group_separator'/'language' settings of raw.{w} do not match "
            f"the export. If the column is not needed, leave it out by adding to params under raw.{w}: "
            f"ignore: [{header!r}]")


def match_headers(headers: list[str], codebook: Codebook, *, wave_file: WaveFile,
                  renames: Mapping[str, str] | None = None, file: str = "<export>",
                  wave: str = "") -> list[HeaderMatch]:
    """Match every export header to a codebook question, metadata, a dummy column or a known extra.

    Parameters
    ----------
    headers : list of str
        Export headers as read, in file order.
    codebook : Codebook
    wave_file : WaveFile, keyword-only
        Header flavour (``xml`` or ``label``), language, group separator and
        the ``ignore`` list.
    renames : mapping, keyword-only
        Export header (or its ``/`` form) -> codebook name, from params
        ``renames.<wave>``.
    file, wave : str, keyword-only
        For error messages.

    Returns
    -------
    list of HeaderMatch
        One per header, in order. Note columns, geopoint parts (Kobo
        ``_<q>_latitude``...), repeat-group questions and params ``ignore``
        columns have kind ``ignored``. A header that several questions share
        (a repeated label) goes to the first of them after the question of
        the column before (Kobo writes columns in form order).

    Raises
    ------
    CodebookError
        Listing every header that matches nothing (with its likely cause and
        the params line that fixes it), every truly ambiguous header (with
        its candidates), every rename whose target is not in the codebook,
        and questions that two headers map to.
    """
    renames = dict(renames or {})
    lang = wave_language(codebook, wave_file, wave=wave)
    tables = _Tables(codebook, wave_file, lang)
    order = {name: k for k, name in enumerate(codebook.questions)}
    ignore = {normalise_label(h) for h in getattr(wave_file, "ignore", [])}
    problems: list[str] = []
    for old, new in renames.items():
        if new not in codebook.questions:
            problems.append(f"params renames.{wave or '<wave>'}: {old!r} is renamed to {new!r}, which is not a "
                            f"question in the codebook {codebook.path.name}")
    first, second = (tables.xml, tables.label) if wave_file.headers == "xml" else (tables.label, tables.xml)
    out: list[HeaderMatch] = []
    used: dict[str, str] = {}
    last = -1
    unknown: list[tuple[int, str]] = []
    hits = {"xml": 0, "label": 0}
    sep = wave_file.group_separator
    for i, header in enumerate(headers, start=1):
        h = header_text(header).strip()
        key = normalise_label(h)
        slash = h.replace(sep, "/") if sep != "/" else h
        candidates = None
        if h in renames or slash in renames:
            match = HeaderMatch(header, renames.get(h, renames.get(slash, "")), "question")
        elif key in ignore:
            match = HeaderMatch(header, h, "ignored", "params ignore")
        elif h in METADATA_COLUMNS or _is_metadata(h) and h not in tables.xml and key not in tables.ignored:
            match = HeaderMatch(header, h, "metadata")
        else:
            for table in (first, second, tables.other):
                candidates = table.get(h if table is tables.xml else key)
                if candidates:
                    hits["xml" if table is tables.xml else "label"] += 1
                    break
            if candidates:
                target, left = _by_position(candidates, order, used, last)
                if target is None:
                    problems.append(f"column {i} {h!r} could be question {left[0]!r} or {left[1]!r} (the "
                                    f"same header, and the column order does not tell which); map it in params: "
                                    f"renames: {{{wave or '<wave>'}: {{{h!r}: <one of them>}}}}")
                    continue
                match = HeaderMatch(header, target, "question")
            elif key in tables.dummies:
                match = HeaderMatch(header, tables.dummies[key][0], "dummy", tables.dummies[key][1])
            elif key in tables.ignored:
                target, reason = tables.ignored[key]
                match = HeaderMatch(header, target, "ignored", reason)
            elif _is_metadata(h):
                match = HeaderMatch(header, h, "metadata")
            else:
                unknown.append((i, h))
                continue
        if match.kind == "question":
            if match.target in used and header_text(used[match.target]) == h:
                problems.append(f"the header {h!r} appears twice; remove one of the two columns (or re-export "
                                f"the form), so that each question has one column")
            elif match.target in used:
                problems.append(f"columns {header_text(used[match.target])!r} and {h!r} both hold question "
                                f"{match.target!r}; remove one or fix params renames")
            used[match.target] = header
            last = max(last, order.get(match.target, last))
        out.append(match)
    for i, header in unknown:
        problems.append(_unknown_advice(i, header, codebook, wave_file, wave, tables, hits["label"], hits["xml"]))
    if problems:
        raise CodebookError(format_problems(
            f"The export {file} has {len(problems)} column(s) that do not match the codebook "
            f"{codebook.path.name}:", problems))
    return out


def answer_lookup(codebook: Codebook, question: Question, *, wave_file: WaveFile) -> dict[str, str]:
    """Normalised answer text -> choice name, for one select question.

    Choice names win over labels; labels in the wave's language (a choice
    without one: its label in the default language, as Kobo exports it) win
    over labels in the form's other languages, which are accepted too.
    Matching strips, collapses spaces and case-folds.
    """
    lookup: dict[str, str] = {}
    choices = codebook.choices.get(question.list_name or "", [])
    lang = codebook.resolve_language(wave_file.language) or ""
    for c in choices:
        lookup.setdefault(normalise_label(c.name), c.name)
    if question.or_other:
        lookup.setdefault("other", "other")
    for c in choices:
        lookup.setdefault(normalise_label(codebook.choice_label(c, lang)), c.name)
    for key in codebook.languages:
        for c in choices:
            if c.label(key):
                lookup.setdefault(normalise_label(c.label(key)), c.name)
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


def _from_dummies(raw: pd.DataFrame, question: str, heads: dict[str, str], summary: pd.Series | None,
                  codebook: Codebook, file: str, problems: list[str]) -> pd.Series:
    """A select_multiple answer from its 0/1 columns, or the summary column checked against them.

    Unreadable 0/1 cells and rows where the summary column disagrees with
    the 0/1 columns are added to ``problems`` (file, column, rows).
    """
    from evalkit.multiselect import dummy_states, summary_disagreements, summary_from_dummies

    order = codebook.choice_names(question)
    names = sorted(heads, key=lambda c: order.index(c) if c in order else len(order))
    frame = pd.DataFrame({c: raw[heads[c]] for c in names}, index=raw.index)
    for col, rows in dummy_states(frame)[2]:
        problems.append(f"column {heads[col]!r} (0/1 column of {question}) has values other than 1, 0 or empty in "
                        f"{len(rows)} row(s): {format_rows(rows)}; expected 1 (chosen) or 0 (not chosen)")
    if summary is not None:
        bad = summary_disagreements(summary, frame)
        if len(bad):
            problems.append(f"the summary column of {question} and its 0/1 columns ({', '.join(heads.values())}) "
                            f"disagree in {len(bad)} row(s): {format_rows(bad)}; the export was probably edited. "
                            f"Re-export it from Kobo/ODK, or correct one of the two")
        return summary
    spelled = summary_from_dummies(frame).replace("", pd.NA)  # nothing chosen: as an empty summary cell
    codes, uniques = pd.factorize(spelled, use_na_sentinel=True)
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(list(uniques), dtype=object))
    return pd.Series(cat, index=raw.index)


def harmonise(raw: pd.DataFrame, codebook: Codebook, *, wave_file: WaveFile,
              renames: Mapping[str, str] | None = None, file: str = "<export>", wave: str = "",
              unknown_answers: list | None = None, personal: Collection[str] = ()) -> pd.DataFrame:
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
    unknown_answers : list, keyword-only
        Given (the fieldwork checks): answers the codebook does not know are
        appended to it as ``(question, header, value, rows)`` and left empty
        in the result, instead of raising.
    personal : collection of str, keyword-only
        Export headers of personal-data columns (by name, label, type or
        values: :func:`evalkit.deid.detect_pii_columns`,
        :func:`evalkit.deid.detect_pii_values`). Their values are never shown
        in an error nor handed to ``unknown_answers``; other values are shown
        cut to 40 characters.

    Returns
    -------
    pandas.DataFrame
        Same index (spreadsheet rows). Metadata columns as exported; one
        column per codebook question found: select_one -> choice name
        (``category`` dtype, categories = the list's choices), select_multiple
        -> space-separated choice names (``category``), integer/decimal ->
        ``Float64``, everything else -> text. A select_multiple's 0/1 columns
        give its answer when the export has no summary column, and must
        agree with the summary column when it has both.

    Raises
    ------
    CodebookError
        Unknown columns (see :func:`match_headers`), and every answer the
        codebook does not know: file, column, value and all its rows, listed
        together; 0/1 columns that are not 0/1 or disagree with the summary.

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
    dummies: dict[str, dict[str, str]] = {}  # question -> choice -> header
    for m in matches:
        col = raw[m.header]
        if m.kind == "metadata":
            columns[m.target] = col
            continue
        if m.kind == "dummy":
            dummies.setdefault(m.target, {}).setdefault(m.reason, m.header)
            continue
        if m.kind == "ignored":
            continue
        q = codebook.questions[m.target]
        if q.type in ("select_one", "select_multiple"):
            out, unknown = _map_column(col, q, codebook, wave_file=wave_file)
            expected = ", ".join(codebook.choice_names(q.name))
            hint = (f"expected one of: {expected} (or their labels); fix the answer or add it "
                    f"to the choice list {q.list_name!r} of the codebook")
        elif q.type in ("integer", "decimal", "range"):
            out, unknown = _numeric_column(col)
            hint = "expected a number; correct the value in the export"
        else:
            out, unknown = col, []
            hint = ""
        where = f"column {m.header!r}" + (f" (question {q.name})" if m.header != q.name else "")
        if unknown and m.header in personal:
            # issue 17: a value of a personal-data column is never echoed, not even in an error
            if unknown_answers is not None:
                unknown_answers.extend((q.name, m.header, shown_value(v, personal=True), r) for v, r in unknown)
                unknown = []
            else:
                rows = np.concatenate([r for _, r in unknown])
                problems.append(f"{where} has {len(unknown)} unexpected value(s) in {len(rows)} row(s): "
                                f"{format_rows(rows)}; the values are not shown because the column holds personal "
                                f"data; {hint}")
                unknown = []
        if unknown_answers is not None:
            unknown_answers.extend((q.name, m.header, value, rows) for value, rows in unknown)
            unknown = []
        for value, rows in unknown:
            problems.append(f"{where} has the value {shown_value(value)} in {len(rows)} row(s): "
                            f"{format_rows(rows)}; {hint}")
        columns[q.name] = out
    for question, heads in dummies.items():
        columns[question] = _from_dummies(raw, question, heads, columns.get(question), codebook, file, problems)
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
