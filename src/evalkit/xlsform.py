"""Read an XLSForm codebook: questions, choice lists and labels in every language it carries.

An XLSForm (https://xlsform.org) names its label columns ``label`` (no
language) or ``label::<Language> (<code>)``, e.g. ``label::French (fr)``;
ODK matches a language on the code in parentheses, so evalkit does too (a
column ``label::French`` without a code is known by its name). The
``settings`` sheet may name the ``default_language``.

A question that has no label in the language of an export is shown by
KoboToolbox under its XML name (formpack's ``_get_label``: "When formpack
cannot find a label for the requested translation, it returns the XML name
instead"); :meth:`Question.export_label` does the same. A choice without a
label in that language is shown with its label in the default language.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import CodebookError, format_problems
from evalkit.limits import check_xlsx_expansion
from evalkit.rawfile import read_bytes

#: XLSForm types that carry no answer column in an export.
NO_COLUMN_TYPES = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat", "note"})
_KNOWN_TYPES = frozenset({
    "select_one", "select_multiple", "select_one_from_file", "select_multiple_from_file", "rank",
    "text", "integer", "decimal", "range", "date", "time", "datetime",
    "start", "end", "today", "username", "deviceid", "phonenumber", "simserial", "subscriberid", "email",
    "note", "calculate", "geopoint", "geotrace", "geoshape", "start-geopoint", "image", "audio", "video",
    "file", "barcode", "acknowledge", "hidden", "audit", "background-audio", "xml-external", "csv-external",
    "begin_group", "end_group", "begin_repeat", "end_repeat",
})
_SELECT = ("select_one", "select_multiple")
_TYPE_ALIASES = {"begin group": "begin_group", "end group": "end_group", "begin repeat": "begin_repeat",
                 "end repeat": "end_repeat", "select one ": "select_one ", "select multiple ": "select_multiple ",
                 "select_one_external ": "select_one "}
_LANG = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[^()]+)\)\s*$")

#: Label pyxform gives the text question it adds for ``select_one <list> or_other``.
OTHER_LABEL = "Specify other."


_SPACES = re.compile(r"\s+")


def normalise_label(text: str) -> str:
    """Strip, collapse inner whitespace and case-fold (for label matching)."""
    return _SPACES.sub(" ", str(text)).strip().casefold()


def parse_language(text: str) -> tuple[str, str]:
    """``"French (fr)"`` -> ``("fr", "French")``; ``"fr"`` -> ``("fr", "fr")``; ``""`` -> ``("", "")``.

    The first item is the key evalkit uses for the language: the code when
    there is one (ODK convention), else the name.
    """
    text = text.strip()
    m = _LANG.match(text)
    if m:
        code = m.group("code").strip()
        return code, m.group("name").strip() or code
    return text, text


def _label_columns(header: list[str]) -> dict[str, int]:
    """Language key -> column index, for ``label`` and every ``label::...`` column, in sheet order."""
    out: dict[str, int] = {}
    for i, h in enumerate(header):
        low = h.strip().casefold()
        if low == "label":
            out.setdefault("", i)
        elif low.startswith("label::"):
            out.setdefault(parse_language(h.strip()[7:])[0], i)
    return out


def _language_names(header: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for h in header:
        if h.strip().casefold() == "label":
            names.setdefault("", "(no language)")
        elif h.strip().casefold().startswith("label::"):
            key, name = parse_language(h.strip()[7:])
            names.setdefault(key, name)
    return names


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
    labels : dict
        Language key (``"en"``, ``"fr"``, ``""`` for a plain ``label``
        column) -> label; languages without a label are absent.
    groups : tuple of str
        Names of the enclosing groups, outermost first.
    group_label_sets : tuple of dict
        Their labels, one language dict per group.
    repeat : str or None
        Full name of the innermost enclosing repeat group (its answers are on
        the repeat's own sheet or CSV, not in the main table).
    or_other : bool
        ``select_one <list> or_other``: the answer may be ``other``, with the
        text in the question ``<name>_other``.
    constraint : str
        The XLSForm ``constraint`` cell ("" when none), e.g. ``. >= 18``.
    relevant : tuple of str
        The XLSForm ``relevant`` expressions of the enclosing groups
        (outermost first) and of the question; it is asked when all hold.
    """

    name: str
    short_name: str
    type: str
    list_name: str | None
    labels: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    group_label_sets: tuple[dict[str, str], ...] = ()
    repeat: str | None = None
    or_other: bool = False
    constraint: str = ""
    relevant: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        """The label in this language ("" when the form has none)."""
        return self.labels.get(language, "")

    def export_label(self, language: str) -> str:
        """The header Kobo writes for it in this language: its label, else its XML name."""
        return self.labels.get(language) or self.short_name

    def group_labels(self, language: str) -> tuple[str, ...]:
        """Labels of the enclosing groups in this language (a group's XML name where it has none)."""
        return tuple(labels.get(language) or name for name, labels in zip(self.groups, self.group_label_sets))


@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list (``name`` is the coded value; ``labels`` by language key)."""

    list_name: str
    name: str
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, language: str) -> str:
        """The label in this language ("" when absent)."""
        return self.labels.get(language, "")


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
    languages : dict
        Language key -> its name, in the order of the survey sheet's label
        columns (``""`` = a plain ``label`` column).
    default_language : str
        Key of the settings' ``default_language`` ("" when absent); a plain
        ``label`` column is in this language.
    notes : tuple of Question
        The ``note`` rows (type ``note``; Kobo may export an empty column for each).
    """

    path: Path
    form_id: str
    version: str
    questions: dict[str, Question] = field(default_factory=dict)
    choices: dict[str, list[Choice]] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    default_language: str = ""
    notes: tuple[Question, ...] = ()

    def question(self, name: str) -> Question:
        """The question with this full name (``CodebookError`` if unknown)."""
        try:
            return self.questions[name]
        except KeyError:
            raise CodebookError(f"The codebook {self.path.name} has no question {name!r}; check params "
                                f"(columns, demographics, indicators) against the survey sheet.") from None

    def choice_names(self, question: str) -> list[str]:
        """Choice names of a select question ([] for other types); ``other`` last for ``or_other``."""
        q = self.question(question)
        names = [c.name for c in self.choices.get(q.list_name or "", [])]
        return names + ["other"] if q.or_other and "other" not in names else names

    def resolve_language(self, language: str) -> str | None:
        """The language key params ``language`` means, or None if the form has no such language.

        ``""`` is the form's default language (settings ``default_language``,
        else the first label column). Otherwise the code or the name of a
        label column, case-insensitively (``fr``, ``French``, ``French (fr)``).
        """
        if not self.languages:
            return ""
        if language.strip() == "":
            if self.default_language in self.languages:
                return self.default_language
            return "" if "" in self.languages else next(iter(self.languages))
        wanted = {language.strip().casefold(), parse_language(language)[0].casefold()}
        for key, name in self.languages.items():
            if key and (key.casefold() in wanted or name.casefold() in wanted):
                return key
        if "" in self.languages and self.default_language.casefold() in wanted:
            return ""  # a plain 'label' column is in the settings' default_language
        return None

    def choice_label(self, choice: Choice, language: str) -> str:
        """A choice's label in this language, else in the default language, else its name (as Kobo exports it)."""
        default = self.resolve_language("")
        return choice.labels.get(language) or choice.labels.get(default or "") or choice.name


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_rows(wb: object, name: str, problems: list[str]) -> list[list[str]]:
    sheets = {ws.title.casefold(): ws for ws in wb.worksheets}
    ws = sheets.get(name)
    if ws is None:
        if name != "settings":
            problems.append(f"sheet '{name}' is missing (sheets found: {', '.join(wb.sheetnames)})")
        return []
    rows = [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
    return [r for r in rows if any(r)]


def _labels(row: list[str], columns: dict[str, int]) -> dict[str, str]:
    return {lang: row[i] for lang, i in columns.items() if i < len(row) and row[i]}


def _read_choices(rows: list[list[str]], problems: list[str]) -> dict[str, list[Choice]]:
    choices: dict[str, list[Choice]] = {}
    if not rows:
        return choices
    head = [h.strip().casefold() if h.strip().casefold() in ("list_name", "list name", "name") else h for h in rows[0]]
    head = ["list_name" if h == "list name" else h for h in head]
    for col in ("list_name", "name"):
        if col not in head:
            problems.append(f"sheet 'choices' has no column '{col}' (columns: {', '.join(rows[0])})")
    if problems:
        return choices
    li, ni, labels = head.index("list_name"), head.index("name"), _label_columns(rows[0])
    seen: set[tuple[str, str]] = set()
    for r, row in enumerate(rows[1:], start=2):
        row = row + [""] * (len(head) - len(row))
        if not row[li] and not row[ni]:
            continue
        if (row[li], row[ni]) in seen:
            problems.append(f"sheet 'choices' row {r}: choice {row[ni]!r} appears twice in list {row[li]!r}")
        seen.add((row[li], row[ni]))
        choices.setdefault(row[li], []).append(Choice(row[li], row[ni], _labels(row, labels)))
    return choices


def _base_type(cell: str) -> list[str]:
    text = " ".join(cell.split())
    for alias, canonical in _TYPE_ALIASES.items():
        if text.startswith(alias) or text == alias.strip():
            text = canonical + text[len(alias):]
    return text.split()


def _read_survey(rows: list[list[str]], choices: dict[str, list[Choice]], problems: list[str]
                 ) -> tuple[dict[str, Question], list[Question]]:
    head = rows[0]
    for col in ("type", "name"):
        if col not in head:
            problems.append(f"sheet 'survey' has no column '{col}' (columns: {', '.join(head)})")
    if problems:
        return {}, []
    ti, ni, label_cols = head.index("type"), head.index("name"), _label_columns(head)
    ci = head.index("constraint") if "constraint" in head else None
    ri = next((i for i, h in enumerate(head) if h.strip().casefold() == "relevant"), None)
    questions: dict[str, Question] = {}
    notes: list[Question] = []
    stack: list[tuple[str, dict[str, str], bool, str]] = []  # (name, labels, is_repeat, relevant)
    for r, row in enumerate(rows[1:], start=2):
        row = row + [""] * (len(head) - len(row))
        parts = _base_type(row[ti])
        if not parts:
            continue
        base, labels = parts[0], _labels(row, label_cols)
        relevant = row[ri] if ri is not None else ""
        if base not in _KNOWN_TYPES:
            problems.append(f"sheet 'survey' row {r}: type {row[ti]!r} is not an XLSForm type")
            continue
        if base in ("begin_group", "begin_repeat"):
            stack.append((row[ni], labels, base == "begin_repeat", relevant))
            continue
        if base in ("end_group", "end_repeat"):
            if not stack:
                problems.append(f"sheet 'survey' row {r}: {base} without a matching begin_group")
            else:
                stack.pop()
            continue
        full = "/".join([g[0] for g in stack] + [row[ni]])
        repeats = [i for i, g in enumerate(stack) if g[2]]
        common = {"groups": tuple(g[0] for g in stack), "group_label_sets": tuple(g[1] for g in stack),
                  "repeat": "/".join(g[0] for g in stack[:repeats[-1] + 1]) if repeats else None,
                  "relevant": tuple(x for x in (*(g[3] for g in stack), relevant) if x)}
        if base == "note" and row[ni]:
            notes.append(Question(full, row[ni], "note", None, labels, **common))
        if base in NO_COLUMN_TYPES or not row[ni]:
            continue
        list_name, or_other = None, False
        if base in _SELECT:
            if len(parts) < 2:
                problems.append(f"sheet 'survey' row {r}: {base} needs a list name ('{base} yes_no')")
                continue
            list_name, or_other = parts[1], parts[-1] == "or_other"
            if list_name not in choices:
                problems.append(f"sheet 'survey' row {r}: question {row[ni]!r} uses choice list "
                                f"{list_name!r}, which is not in the 'choices' sheet")
        elif base.endswith("_from_file") or base == "rank":
            base = "text" if base == "rank" else base  # answers from an external list: kept as text
        if full in questions:
            problems.append(f"sheet 'survey' row {r}: question name {full!r} is used twice")
        questions[full] = Question(full, row[ni], base, list_name, labels, or_other=or_other,
                                   constraint=row[ci].strip() if ci is not None else "", **common)
        if or_other:  # pyxform adds a text question <name>_other for the "other" answer
            other = full + "_other"
            questions[other] = Question(other, row[ni] + "_other", "text", None,
                                        dict.fromkeys(label_cols, OTHER_LABEL), **common)
    if stack:
        problems.append(f"sheet 'survey': group(s) {', '.join(g[0] for g in stack)} are never closed "
                        f"with end_group")
    return questions, notes


def read_codebook(path: Path | str) -> Codebook:
    """Read an XLSForm codebook (read-only).

    Parameters
    ----------
    path : Path or str
        The ``.xlsx`` form with sheets ``survey`` (``type``, ``name``,
        ``label`` and/or ``label::<Language> (<code>)`` columns),
        ``choices`` (``list_name``, ``name``, labels) and optionally
        ``settings`` (``form_id``, ``version``, ``default_language``).

    Returns
    -------
    Codebook
        Questions by full name (group path joined with ``/``), choice lists
        and the languages of the form.

    Raises
    ------
    CodebookError
        Listing every problem: missing sheets or columns, unbalanced groups,
        duplicate names, select questions whose list is missing.

    References
    ----------
    XLSForm specification, https://xlsform.org/en/ ("Multiple language
    support"); World Bank DIME ``iecodebook`` (codebook-driven harmonisation).

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
    survey = _sheet_rows(wb, "survey", problems)
    choice_rows = _sheet_rows(wb, "choices", problems)
    settings = _sheet_rows(wb, "settings", problems)
    wb.close()
    if problems:
        raise CodebookError(format_problems(f"The codebook {path} cannot be used; fix the XLSForm (it needs the "
                                            f"sheets 'survey' and 'choices', see docs/design.md):", problems))
    choices = _read_choices(choice_rows, problems)
    questions, notes = _read_survey(survey, choices, problems) if survey else ({}, [])
    if problems and not questions:
        raise CodebookError(format_problems(f"The codebook {path} cannot be used; fix the XLSForm (it needs the "
                                            f"sheets 'survey' and 'choices', see docs/design.md):", problems))
    settings_of: dict[str, str] = {}
    if len(settings) >= 2:
        values = settings[1] + [""] * len(settings[0])
        settings_of = {h.strip(): values[i] for i, h in enumerate(settings[0])}
    languages = _language_names(survey[0]) if survey else {}
    default = parse_language(settings_of.get("default_language", ""))[0]
    if default and default not in languages:  # "English" named where the column is "label::English (en)"
        default = next((k for k, n in languages.items() if n.casefold() == default.casefold()), default)
    if problems:
        raise CodebookError(format_problems(
            f"The codebook {path} has {len(problems)} problem(s); fix the XLSForm and run again:", problems))
    return Codebook(path, settings_of.get("form_id", ""), settings_of.get("version", ""), questions, choices,
                    languages, default, tuple(notes))
