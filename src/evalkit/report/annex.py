"""Annex: the questionnaire rendered from the XLSForm, so a reader sees exactly what was asked.

Question text and choices come from :func:`evalkit.readers.read_codebook`;
the ``relevant`` (skip logic) column is read from the ``survey`` sheet and put
into words (``${resp_type} != 'staff'`` -> "asked when Respondent type is not
School staff"). Relevance of an enclosing group applies to every question in it.
Expressions this module cannot put into words are shown as written.

References
----------
XLSForm specification, "Relevant" (https://xlsform.org/en/#relevant).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from evalkit.readers import Codebook, read_codebook
from evalkit.report.i18n import N_, _

#: XLSForm question types as shown in the annex.
QUESTION_TYPES = {"select_one": N_("select one"), "select_multiple": N_("select multiple"), "integer": N_("integer"),
                  "decimal": N_("decimal"), "text": N_("text"), "date": N_("date"), "geopoint": N_("GPS location"),
                  "range": N_("range"), "rank": N_("rank"), "image": N_("photo"), "audio": N_("audio"),
                  "time": N_("time"), "datetime": N_("date and time"), "acknowledge": N_("acknowledge")}

#: Question types that are not asked (metadata the device records).
_NOT_ASKED = {"start", "end", "today", "username", "deviceid", "phonenumber", "audit", "calculate", "note",
              "hidden", "simserial", "subscriberid"}

_COMPARE = re.compile(r"^\$\{(\w+)\}\s*(=|!=)\s*'([^']*)'$")
_SELECTED = re.compile(r"^selected\(\s*\$\{(\w+)\}\s*,\s*'([^']*)'\s*\)$")


def relevance_by_name(path: Path | str) -> dict[str, str]:
    """Full question name -> its ``relevant`` expression, with enclosing groups' joined by ``and``."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(wb["survey"].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return {}
    head = [str(h or "").strip().lower() for h in rows[0]]
    col = {h: i for i, h in enumerate(head)}
    if "relevant" not in col:
        return {}
    out: dict[str, str] = {}
    stack: list[tuple[str, str]] = []
    for r in rows[1:]:
        typ = str(r[col["type"]] or "").strip() if col.get("type") is not None else ""
        name = str(r[col["name"]] or "").strip() if col.get("name") is not None and len(r) > col["name"] else ""
        rel = str(r[col["relevant"]] or "").strip() if len(r) > col["relevant"] else ""
        if typ in ("begin_group", "begin group", "begin_repeat", "begin repeat"):
            stack.append((name, rel))
            continue
        if typ in ("end_group", "end group", "end_repeat", "end repeat"):
            if stack:
                stack.pop()
            continue
        if not name:
            continue
        full = "/".join([g for g, _lab in stack] + [name])
        conds = [c for _i, c in stack if c] + ([rel] if rel else [])
        out[full] = " and ".join(f"({c})" if " or " in c else c for c in conds)
    return out


def relevance_in_words(expr: str, codebook: Codebook, *, language: str = "en") -> str:
    """Put an XLSForm ``relevant`` expression into words; unknown forms are returned as written."""
    if not expr.strip():
        return _("always asked")
    by_short = {q.short_name: q for q in codebook.questions.values()}

    def choice_label(q_short: str, value: str) -> str:
        q = by_short.get(q_short)
        for c in codebook.choices.get(q.list_name or "", []) if q is not None else []:
            if c.name == value:
                return c.label(language) or value
        return value

    def one(part: str) -> str | None:
        part = part.strip().strip("()").strip()
        m = _COMPARE.match(part)
        if m:
            q = by_short.get(m.group(1))
            lab = (q.label(language) if q is not None else "") or m.group(1)
            text = _("\u201c{question}\u201d is \u201c{choice}\u201d") if m.group(2) == "=" else \
                _("\u201c{question}\u201d is not \u201c{choice}\u201d")
            return text.format(question=lab, choice=choice_label(m.group(1), m.group(3)))
        m = _SELECTED.match(part)
        if m:
            q = by_short.get(m.group(1))
            lab = (q.label(language) if q is not None else "") or m.group(1)
            return _("\u201c{question}\u201d includes \u201c{choice}\u201d").format(
                question=lab, choice=choice_label(m.group(1), m.group(2)))
        return None

    words = []
    for part in re.split(r"\s+and\s+", expr.strip()):
        alts = [one(a) for a in re.split(r"\s+or\s+", part.strip().strip("()"))]
        if any(a is None for a in alts):
            return _("asked when: {expression}").format(expression=expr.strip())
        words.append(_(" or ").join(a for a in alts if a))
    return _("asked when {conditions}").format(conditions=_(" and ").join(words))


def questionnaire(path: Path | str, *, language: str = "en") -> pd.DataFrame:
    """The questions actually asked, in form order.

    Returns
    -------
    pandas.DataFrame
        ``section, name, question, type, choices, relevance`` (plain text).
    """
    cb = read_codebook(path)
    language = cb.resolve_language(language) or ""
    rel = relevance_by_name(path)
    rows = []
    for q in cb.questions.values():
        if q.type in _NOT_ASKED:
            continue
        choices = cb.choices.get(q.list_name or "", []) if q.list_name else []
        rows.append({"section": " / ".join(q.group_labels(language)) or _("General"),
                     "name": q.name, "question": q.label(language) or q.name,
                     "type": _(QUESTION_TYPES[q.type]) if q.type in QUESTION_TYPES else q.type.replace("_", " "),
                     "choices": "; ".join(c.label(language) or c.name for c in choices),
                     "relevance": relevance_in_words(rel.get(q.name, ""), cb, language=language)})
    return pd.DataFrame(rows, columns=["section", "name", "question", "type", "choices", "relevance"])


def questionnaire_html(path: Path | str, *, language: str = "en") -> str:
    """Escaped HTML of :func:`questionnaire`, one section header per question group."""
    from evalkit.report.tables import Column, html_table

    from evalkit.report.format import Foreign, esc
    from evalkit.report.i18n import LANGUAGE_NAMES, get_language

    language = language or get_language()
    cb = read_codebook(path)
    shown = cb.resolve_language(language)
    note = ""
    if shown is None:  # the form has no labels in this language: its default language, marked as such
        shown = cb.resolve_language("") or ""
        note = _("The form has no labels in {language}; the questionnaire is shown in the form's own language.").format(
            language=LANGUAGE_NAMES.get(language, language))
    lang_code = shown or "und"

    def mark(text: object) -> str:
        s = "" if text is None else str(text)
        return Foreign(s, lang_code) if s and lang_code != get_language() else s

    df = questionnaire(path, language=shown)
    cols = [Column("name", _("Name"), html=lambda r: f"<code>{_esc(r['name'])}</code>"),
            Column("question", _("Question"), fmt=lambda r: mark(r["question"])), Column("type", _("Type")),
            Column("choices", _("Answer choices"), fmt=lambda r: mark(r["choices"])),
            Column("relevance", _("Asked when"))]
    caption = _("Questionnaire ({language})").format(language=LANGUAGE_NAMES.get(shown, cb.languages.get(shown, shown)))
    table = html_table(df, cols, caption=caption, table_id="tbl-questionnaire", section=lambda r: mark(r["section"]))
    return (f'<p class="ek-note">{esc(note)}</p>' if note else "") + table


def _esc(v: object) -> str:
    from evalkit.report.format import esc

    return esc(v)
