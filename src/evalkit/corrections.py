"""The fieldwork team's decisions, applied by the cleaning step: corrections, recodes, duplicates.

Three small CSV files the survey team keeps next to the raw exports in
``data/raw/<campaign>/`` (or at the paths set in params ``cleaning``). None of
them is needed; each is used when it exists. The raw export is never edited:
the decisions are applied to the answers in memory, and every one that is
applied is a line of the cleaning log.

``corrections.csv`` (World Bank DIME ``iecorrect``)
    ``_uuid, question, current_value, corrected_value, reason, who, when``:
    one answer of one submission to change, e.g. a mistyped respondent id
    found by a back-check. Applied before any cleaning rule. The export's
    value must still be ``current_value`` (else the export changed under the
    correction: an error), and the ``_uuid`` must be in an export (else an
    error). An empty ``corrected_value`` empties the answer.
``other_recodes.csv``
    ``question, other_text, recode_to, new_choice, reason, who, when``: an
    "other (specify)" answer whose text (``<question>_other``, compared
    ignoring case and spaces) says what it is gets the choice ``recode_to``
    instead of ``other``. ``recode_to`` must be a choice of the question,
    unless ``new_choice`` is ``yes``. Applied after the corrections.
``duplicates.csv`` (World Bank DIME ``ieduplicates``)
    ``_uuid, reason, who, when``: for a respondent interviewed more than once
    in a wave, the submission to keep. Applied instead of the default rule
    (params ``cleaning.duplicate_respondent_keep``) for that respondent.

Values of free-text and identifying questions are never written to the log
or to an error message; choice names, numbers and times are. The ``reason``
column is free text too: the log names the file and row it is in, and says
who decided and when.

References
----------
World Bank DIME Analytics, ``iefieldkit``: ``iecorrect``, ``ieduplicates``.
Innovations for Poverty Action, high-frequency checks (``ipacheck``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from evalkit.errors import RawDataError, format_problems

#: Columns of ``corrections.csv``.
CORRECTION_COLUMNS = ("_uuid", "question", "current_value", "corrected_value", "reason", "who", "when")
#: Columns of ``other_recodes.csv`` (``new_choice`` optional).
RECODE_COLUMNS = ("question", "other_text", "recode_to", "new_choice", "reason", "who", "when")
#: Columns of ``duplicates.csv``.
DUPLICATE_COLUMNS = ("_uuid", "reason", "who", "when")
#: Default file names in ``data/raw/<campaign>/``.
DEFAULT_FILES = {"corrections": "corrections.csv", "other_recodes": "other_recodes.csv",
                 "duplicate_resolutions": "duplicates.csv"}
_OPTIONAL = {"new_choice"}


@dataclass(frozen=True)
class Decisions:
    """The team's decision files of one campaign stage, read and checked.

    Attributes
    ----------
    corrections, recodes, duplicates : pandas.DataFrame
        The three tables (text; index = the file's spreadsheet row); empty
        when the file does not exist.
    files : dict
        Kind (``corrections``...) -> file name relative to the raw folder,
        for messages.
    raw_files : list of dict
        ``file, sha256, bytes, rows, encoding`` of each file read (for
        ``raw_files.csv``).
    """

    corrections: pd.DataFrame
    recodes: pd.DataFrame
    duplicates: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    raw_files: list[dict] = field(default_factory=list)

    def uuids(self) -> set[str]:
        """Every ``_uuid`` the corrections and duplicate resolutions name."""
        return set(self.corrections["_uuid"]) | set(self.duplicates["_uuid"])

    def found_in(self, df: pd.DataFrame) -> set[str]:
        """The ``_uuid`` values named here that ``df`` has (cheap: only the named ones are compared)."""
        named = self.uuids()
        if not named or "_uuid" not in df:
            return set()
        uuid = df["_uuid"]
        return set(uuid[uuid.isin(list(named))].astype("str"))


class Applied(NamedTuple):
    """One applied decision, for the cleaning log (``rows_dropped`` is 0 for corrections and recodes)."""

    rule: str
    reason: str


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _read_table(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, dict]:
    """Read one decision CSV (UTF-8, BOM, Windows-1251: as Excel saves it); headers case-insensitive."""
    from evalkit.readers import _read_csv, read_bytes, sha256_hex

    data = read_bytes(path)
    frame, encoding = _read_csv(data, path)
    rename = {h: h.strip().casefold().replace(" ", "_") for h in frame.columns}
    frame = frame.rename(columns=rename)
    missing = [c for c in columns if c not in frame.columns and c not in _OPTIONAL]
    if missing:
        raise RawDataError(f"The file {path} lacks the column(s) {', '.join(missing)}; its header row must be: "
                           f"{','.join(columns)} (see README, 'During fieldwork').")
    out = pd.DataFrame(index=frame.index)
    for c in columns:
        col = frame[c] if c in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        out[c] = col.astype(object).where(col.notna(), None).map(lambda v: v.strip() if isinstance(v, str) else v)
        out[c] = out[c].map(lambda v: None if v == "" else v)
    info = {"file": path.name, "sha256": sha256_hex(data), "bytes": len(data), "rows": len(out), "encoding": encoding}
    return out, info


def load_decisions(params: object) -> Decisions:
    """Read the decision files named in params ``cleaning`` (or the default names, when present).

    Parameters
    ----------
    params : Params

    Returns
    -------
    Decisions

    Raises
    ------
    RawDataError
        A file named in params that does not exist, a missing column, an
        empty ``_uuid``/``question``/``recode_to``, a ``_uuid`` listed twice
        in ``duplicates.csv``; every problem listed with its file and row.
    """
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    infos: list[dict] = []
    columns = {"corrections": CORRECTION_COLUMNS, "other_recodes": RECODE_COLUMNS,
               "duplicate_resolutions": DUPLICATE_COLUMNS}
    problems: list[str] = []
    for kind, default in DEFAULT_FILES.items():
        configured = getattr(params.cleaning, kind)
        name = configured or default
        path = params.raw_path(name, what=f"cleaning.{kind}")
        if not path.exists() and configured is None:
            tables[kind] = _empty(columns[kind])
            continue
        table, info = _read_table(path, columns[kind])
        tables[kind], files[kind] = table, name
        infos.append(info)
        required = {"corrections": ("_uuid", "question"), "other_recodes": ("question", "other_text", "recode_to"),
                    "duplicate_resolutions": ("_uuid",)}[kind]
        for col in required:
            for row in table.index[table[col].isna()]:
                problems.append(f"{name} row {row}: the column {col!r} is empty; fill it in or delete the row")
    dup = tables["duplicate_resolutions"]
    for uuid, rows in dup.groupby("_uuid").groups.items():
        if len(rows) > 1:
            problems.append(f"{files['duplicate_resolutions']} rows {', '.join(str(r) for r in rows)} name the same "
                            f"submission {uuid}; keep one row per decision")
    if problems:
        raise RawDataError(format_problems(f"The fieldwork decision files of {params.campaign} have "
                                           f"{len(problems)} problem(s):", problems))
    return Decisions(tables["corrections"], tables["other_recodes"], tables["duplicate_resolutions"], files, infos)


def needed_questions(decisions: Decisions) -> set[str]:
    """Questions the decisions read: corrected questions and the ``_other`` text of recoded ones."""
    out = set(decisions.corrections["question"].dropna())
    out |= {f"{q}_other" for q in decisions.recodes["question"].dropna()}
    return out


# --------------------------------------------------------------------------- values


def _is_private(question: str, codebook: object) -> bool:
    """True for free text and identifiers: their values are never shown."""
    from evalkit.deid import detect_pii_columns

    q = codebook.questions.get(question)
    return (q is not None and q.type == "text") or question in detect_pii_columns([question], codebook)


def _canonical(value: str | None, question: str, codebook: object, wave_file: object) -> object:
    """A decision-file value in the form the harmonised answers have (choice name, number, text)."""
    from evalkit.codebook import answer_lookup, normalise_label

    if value is None:
        return None
    q = codebook.questions.get(question)
    if q is not None and q.type == "select_one":
        return answer_lookup(codebook, q, wave_file=wave_file).get(normalise_label(value), value)
    if q is not None and q.type == "select_multiple":
        lookup = answer_lookup(codebook, q, wave_file=wave_file)
        return " ".join(lookup.get(normalise_label(v), v) for v in value.split())
    if q is not None and q.type in ("integer", "decimal", "range"):
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return value
    return value


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA:
        return b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str) and " " in a:  # select_multiple: order does not matter
        return sorted(a.split()) == sorted(b.split())
    return str(a).strip() == str(b).strip()


def _cell(series: pd.Series, row: object) -> object:
    v = series.loc[row]
    return None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


def _set(series: pd.Series, rows: list, value: object) -> pd.Series:
    """A copy of ``series`` with ``value`` at ``rows`` (categories added as needed)."""
    out = series.copy()
    if isinstance(out.dtype, pd.CategoricalDtype):
        if value is not None and value not in out.cat.categories:
            out = out.cat.add_categories([value])
        out.loc[rows] = value if value is not None else np.nan
    elif value is None:
        out.loc[rows] = None
    elif pd.api.types.is_float_dtype(out.dtype) and not isinstance(value, float):
        raise TypeError(value)  # caught by the caller: not a number
    else:
        out.loc[rows] = value
    return out


def _shown(value: object, private: bool) -> str:
    if private:
        return "(value not shown: free text or identifier)"
    if value is None:
        return "(empty)"
    return repr(f"{value:g}" if isinstance(value, float) else value)


def _who(row: pd.Series) -> str:
    """Who decided and when, for the log; the reason is free text, so it stays in the file (data/raw)."""
    from evalkit.deid import scrub_free_text

    who = scrub_free_text(pd.Series([row.get("who") or "unknown"])).iloc[0]
    when = row.get("when") or "unknown date"
    reason = "reason in the file" if row.get("reason") else "NO REASON GIVEN in the file"
    return f"by {who} on {when}; {reason}"


def apply_corrections(df: pd.DataFrame, decisions: Decisions, *, codebook: object, wave_file: object,
                      file: str) -> tuple[pd.DataFrame, list[Applied], set[str]]:
    """Apply the corrections whose ``_uuid`` is in this export (before any cleaning rule).

    Parameters
    ----------
    df : pandas.DataFrame
        Harmonised answers of one export (not modified), with ``_uuid``.
    decisions : Decisions
    codebook : Codebook, keyword-only
    wave_file : WaveFile, keyword-only
        For labels in ``current_value``/``corrected_value`` (names or labels
        are both accepted for select questions).
    file : str, keyword-only
        The export's name, for messages.

    Returns
    -------
    (pandas.DataFrame, list of Applied, set of str)
        The corrected copy, one log line per correction, and the ``_uuid``
        values found in this export.

    Raises
    ------
    RawDataError
        Listing every correction whose current value differs from the
        export's, whose question is not in the export, or whose corrected
        value is not a choice or a number the question allows.
    """
    corr = decisions.corrections
    name = decisions.files.get("corrections", DEFAULT_FILES["corrections"])
    if corr.empty or "_uuid" not in df:
        return df, [], set()
    named = df["_uuid"][df["_uuid"].isin(list(set(corr["_uuid"])))].astype("str")  # one pass over the export
    rows_of = {u: list(rows) for u, rows in named.groupby(named, sort=False).groups.items()}
    present = set(rows_of)
    columns = {}
    problems, applied = [], []
    for frow, c in corr.iterrows():
        if c["_uuid"] not in present:
            continue
        q = c["question"]
        where = f"{name} row {frow} (submission {c['_uuid']}, export row(s) {', '.join(map(str, rows_of[c['_uuid']]))})"
        if q == "_uuid":
            problems.append(f"{where}: the _uuid itself cannot be corrected (it names the submission); delete the row")
            continue
        if q not in df and q not in columns:
            problems.append(f"{where}: the question {q!r} is not in {file}; use the codebook name of the question "
                            f"(e.g. group/question) or the export's metadata column name")
            continue
        series = columns.get(q, df[q])
        private = _is_private(q, codebook)
        current = _canonical(c["current_value"], q, codebook, wave_file)
        corrected = _canonical(c["corrected_value"], q, codebook, wave_file)
        found = [_cell(series, r) for r in rows_of[c["_uuid"]]]
        if not all(_same(current, v) for v in found):
            problems.append(f"{where}: {q} is {_shown(found[0], private)} in the export, not the current_value "
                            f"{_shown(current, private)} the correction expects; the export changed under the "
                            f"correction: check it and update or delete the row")
            continue
        q_obj = codebook.questions.get(q)
        if q_obj is not None and q_obj.type == "select_one" and corrected is not None \
                and corrected not in codebook.choice_names(q):
            problems.append(f"{where}: corrected_value {corrected!r} is not a choice of {q} "
                            f"({', '.join(codebook.choice_names(q))})")
            continue
        try:
            columns[q] = _set(series, rows_of[c["_uuid"]], corrected)
        except (TypeError, ValueError):
            problems.append(f"{where}: corrected_value {_shown(c['corrected_value'], private)} is not a number, "
                            f"and {q} holds numbers")
            continue
        applied.append(Applied("correction", f"{name} row {frow}: {q} of {len(rows_of[c['_uuid']])} row(s) changed "
                                             f"from {_shown(current, private)} to {_shown(corrected, private)} "
                                             f"({_who(c)})"))
    if problems:
        raise RawDataError(format_problems(f"The corrections in {name} cannot be applied to {file} "
                                           f"({len(problems)} problem(s)); the export is unchanged:", problems))
    return (df.assign(**columns) if columns else df), applied, present


def apply_recodes(df: pd.DataFrame, decisions: Decisions, *, codebook: object, file: str
                  ) -> tuple[pd.DataFrame, list[Applied]]:
    """Recode "other (specify)" answers by their text, as ``other_recodes.csv`` says.

    Parameters
    ----------
    df : pandas.DataFrame
        Harmonised (and corrected) answers of one export; not modified.
    decisions : Decisions
    codebook : Codebook, keyword-only
    file : str, keyword-only

    Returns
    -------
    (pandas.DataFrame, list of Applied)
        The recoded copy and one log line per recode row (also when it
        matched no answer in this export, so nothing goes unseen).

    Raises
    ------
    RawDataError
        A question that is not a select question of the codebook, or a
        ``recode_to`` that is not one of its choices (unless ``new_choice``
        is ``yes``).
    """
    from evalkit.codebook import normalise_label

    rec = decisions.recodes
    name = decisions.files.get("other_recodes", DEFAULT_FILES["other_recodes"])
    if rec.empty:
        return df, []
    problems, applied, columns = [], [], {}
    for frow, r in rec.iterrows():
        q, target = r["question"], r["recode_to"]
        q_obj = codebook.questions.get(q)
        if q_obj is None or q_obj.type not in ("select_one", "select_multiple"):
            problems.append(f"{name} row {frow}: {q!r} is not a select question of the codebook "
                            f"{codebook.path.name}")
            continue
        new = str(r.get("new_choice") or "").casefold() in ("yes", "true", "1")
        if target not in codebook.choice_names(q) and not new:
            problems.append(f"{name} row {frow}: recode_to {target!r} is not a choice of {q} "
                            f"({', '.join(codebook.choice_names(q))}); fix it, or write yes in new_choice to add it")
            continue
        text_q = f"{q}_other"
        if q not in df or text_q not in df:
            applied.append(Applied("other_recode", f"{name} row {frow}: {q} or its text {text_q} is not in {file}; "
                                                   f"nothing recoded"))
            continue
        answers = columns.get(q, df[q])
        text = df[text_q].astype("str").map(lambda v: normalise_label(v) if isinstance(v, str) else None)
        tokens = answers.astype("str")
        is_other = tokens.map(lambda v: isinstance(v, str) and "other" in v.split()).astype(bool)
        hit = is_other & (text == normalise_label(r["other_text"])).fillna(False).astype(bool)
        rows = list(df.index[hit.to_numpy()])
        if rows and q_obj.type == "select_one":
            answers = _set(answers, rows, target)
        elif rows:
            answers = answers.astype(object).copy()
            for row in rows:
                words = [target if w == "other" else w for w in str(answers.loc[row]).split()]
                answers.loc[row] = " ".join(dict.fromkeys(sorted(words)))
            answers = answers.astype("category")
        columns[q] = answers
        applied.append(Applied("other_recode", f"{name} row {frow}: {len(rows)} 'other' answer(s) of {q} whose "
                                               f"specified text matches recoded to {target!r}"
                                               f"{' (a new choice)' if new else ''} ({_who(r)})"))
    if problems:
        raise RawDataError(format_problems(f"The recodes in {name} cannot be applied to {file} "
                                           f"({len(problems)} problem(s)):", problems))
    return (df.assign(**columns) if columns else df), applied


class Resolution(NamedTuple):
    """A duplicate resolution applied to one wave: which rows to drop and the log line."""

    drop: np.ndarray
    reason: str


def resolve_duplicates(df: pd.DataFrame, decisions: Decisions, *, id_column: str, in_export: set[str]
                       ) -> list[Resolution]:
    """The team's duplicate resolutions that concern this wave, one per ``duplicates.csv`` row.

    For each row whose kept submission (``_uuid``) is in ``df``, every other
    row of ``df`` with the same respondent id is dropped; the default rule
    then has nothing left to decide for that respondent. A kept submission
    that is in the export but was already dropped by an earlier rule (refused
    consent, too short...) gives a log line that says so (the default rule
    then decides), never a quiet no-op.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows entering the duplicate rule (after consent, duration, id rules);
        index = export rows (unique).
    decisions : Decisions
    id_column : str, keyword-only
    in_export : set of str, keyword-only
        The ``_uuid`` values named in ``duplicates.csv`` that this wave's
        export has (:meth:`Decisions.found_in` of the export).

    Returns
    -------
    list of Resolution
        In file order; each ``drop`` is a mask over ``df``'s rows, and the
        masks of different rows never overlap.

    Raises
    ------
    RawDataError
        Two rows of ``duplicates.csv`` keep two submissions of the same
        respondent.
    """
    dup = decisions.duplicates
    name = decisions.files.get("duplicate_resolutions", DEFAULT_FILES["duplicate_resolutions"])
    if dup.empty or "_uuid" not in df:
        return []
    uuid = df["_uuid"]
    hit = np.flatnonzero(uuid.isin(list(set(dup["_uuid"]))).to_numpy())  # one pass over the rows
    first_at = {}
    for pos, u in zip(hit, uuid.iloc[hit].astype("str")):
        first_at.setdefault(u, pos)
    id_col = df[id_column]
    ids = id_col.astype("str").str.strip().to_numpy(dtype=object) if len(first_at) else np.array([], dtype=object)
    out, owner, problems = [], {}, []
    for frow, d in dup.iterrows():
        at = [first_at[d["_uuid"]]] if d["_uuid"] in first_at else []
        if len(at) == 0:
            if d["_uuid"] in in_export:
                out.append(Resolution(np.zeros(len(df), bool),
                                      f"{name} row {frow}: the submission to keep was already dropped by an earlier "
                                      f"rule (see above); the default rule decides for this respondent"))
            continue  # otherwise: another wave's submission
        rid = ids[at[0]]
        if rid in owner:
            problems.append(f"{name} rows {owner[rid]} and {frow} keep two different submissions of the same "
                            f"respondent; keep one of the two rows")
            continue
        owner[rid] = frow
        same = ids == rid
        drop = same.copy()
        drop[at[0]] = False
        out.append(Resolution(drop, f"{name} row {frow}: respondent interviewed {int(same.sum())} time(s) in this "
                                    f"wave; the team kept the submission this row names instead of the default rule "
                                    f"({_who(d)})"))
    if problems:
        raise RawDataError(format_problems(f"The duplicate resolutions in {name} contradict each other:", problems))
    return out


def not_found(decisions: Decisions, found: set[str]) -> list[tuple[str, int, str]]:
    """``(file, row, _uuid)`` of every correction or duplicate resolution whose ``_uuid`` is not in ``found``."""
    out = []
    for kind, table in (("corrections", decisions.corrections), ("duplicate_resolutions", decisions.duplicates)):
        name = decisions.files.get(kind, DEFAULT_FILES[kind])
        out += [(name, int(frow), u) for frow, u in table["_uuid"].items() if u not in found]
    return out


def check_all_found(decisions: Decisions, found: set[str]) -> None:
    """Raise if a correction or duplicate resolution names a ``_uuid`` that no export has.

    Raises
    ------
    RawDataError
        Naming the file, the row and the ``_uuid``: a typo, or a submission
        deleted on the server.
    """
    problems = [f"{name} row {frow}: no export has a submission with _uuid {u}; check the _uuid (copy it from the "
                f"export or the fieldwork page) or delete the row" for name, frow, u in not_found(decisions, found)]
    if problems:
        raise RawDataError(format_problems("Some fieldwork decisions name submissions that are in no export:",
                                           problems))
