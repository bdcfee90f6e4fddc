"""Formatting of numbers, percentages, dates and labels for report text.

One place for how a value is written (the language-dependent part of the
report), and :func:`esc`, the HTML-escaping gate every data or params value
passes through.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from babel.dates import format_date, format_skeleton
from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol, get_plus_sign_symbol

from evalkit.params import Params
from evalkit.errors import EvalkitError
from evalkit.report.i18n import CLDR_LOCALES, SOURCE_LANGUAGE, N_, _, get_language, ngettext


def esc(value: object) -> str:
    """HTML-escape any value as text (``None``/NaN become an empty string)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


class Foreign(str):
    """Text in another language than the report's (e.g. an English label in a Mongolian report).

    :func:`text_html` marks it up with ``lang`` (WCAG 3.1.2, language of parts),
    so screen readers pronounce it right and the untranslated-text check knows
    it is campaign text, not a missing translation.
    """

    lang: str = SOURCE_LANGUAGE

    def __new__(cls, text: str, lang: str = SOURCE_LANGUAGE) -> "Foreign":
        obj = super().__new__(cls, text)
        obj.lang = lang
        return obj


def params_text(text: object) -> str:
    """Campaign text from params (written in English): a :class:`Foreign` in a report in another language."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = str(text)
    return Foreign(s) if get_language() != SOURCE_LANGUAGE and s else s


def text_html(value: object) -> str:
    """:func:`esc`, plus a ``<span lang>`` around :class:`Foreign` text; for element content, never attributes."""
    out = esc(value)
    if isinstance(value, Foreign) and value.lang != get_language() and out:
        return f'<span lang="{esc(value.lang)}">{out}</span>'
    return out



def _number(text: str) -> str:
    """Python-formatted number text (``-1,234.5``) with the current language's CLDR symbols.

    Digits are rounded by Python's formatting (the same digits in every
    language and on every machine); Babel supplies the decimal and group
    separators and the minus and plus signs of the locale.
    """
    loc = CLDR_LOCALES[get_language()]
    table = {".": get_decimal_symbol(loc), ",": get_group_symbol(loc), "-": get_minus_sign_symbol(loc),
             "+": get_plus_sign_symbol(loc)}
    return "".join(table.get(ch, ch) for ch in text)


def fmt_number(x: object, *, digits: int = 1, sign: bool = False) -> str:
    """A decimal number (``4.2``, ``+4.2`` with ``sign``) in the current language, or an en dash."""
    if pd.isna(x):
        return "\u2013"
    return _number(f"{float(x):{'+' if sign else ''},.{digits}f}")


def fmt_pct(x: object, *, digits: int = 1) -> str:
    """``51.3%`` (the language's percent pattern) or an en dash for a missing value."""
    if pd.isna(x):
        return "\u2013"
    loc = Locale.parse(CLDR_LOCALES[get_language()])
    pattern = loc.percent_formats[None].pattern
    num = _number(f"{float(x):.{digits}f}")
    return pattern.replace("#,##0", num, 1).replace("%", loc.number_symbols["latn"]["percentSign"], 1)


def fmt_pp(x: object, *, digits: int = 1, sign: bool = True) -> str:
    """``+4.2 pp`` (signed) or an en dash; the unit is translated (percentage points)."""
    if pd.isna(x):
        return "\u2013"
    # TRANSLATORS: abbreviation of "percentage points" after a number (glossary: percentage points).
    return f"{fmt_number(x, digits=digits, sign=sign)} {_('pp')}"


def fmt_ci(lo: object, hi: object, *, digits: int = 1, unit: str = "") -> str:
    """``(-1.2 to 9.6)``; an en dash when either end is missing."""
    if pd.isna(lo) or pd.isna(hi):
        return "\u2013"
    return "(" + _("{low} to {high}").format(low=fmt_number(lo, digits=digits),
                                            high=fmt_number(hi, digits=digits) + unit) + ")"


def fmt_p(p: object) -> str:
    """p-value as ``<0.001``, ``0.012`` or an en dash."""
    if pd.isna(p):
        return "\u2013"
    p = float(p)
    return "<" + _number("0.001") if p < 0.001 else _number(f"{p:.3f}")


def fmt_date(d: Any) -> str:
    """A long date in the current language from CLDR: ``17 January 2022``, ``2022 оны 1-р сарын 17``.

    Babel's CLDR data, not the machine's locale (``%B`` follows LC_TIME).
    """
    lang = get_language()
    fmt = "d MMMM y" if lang == "en" else "medium"
    return format_date(d, format=fmt, locale=CLDR_LOCALES[lang])


def fmt_count(x: object, min_n: int) -> str:
    """A count, or ``fewer than <min_n>`` for 1 to ``min_n - 1`` (small-cell suppression)."""
    if pd.notna(x) and 0 < float(x) < min_n:
        return _("fewer than {n}").format(n=fmt_int(min_n))
    return fmt_int(x)


def fmt_int(x: object) -> str:
    """Whole number with the language's thousands separators, or an en dash."""
    return "\u2013" if pd.isna(x) else _number(f"{int(round(float(x))):,}")


#: Label of the pooled row ``all``: the groups the indicator's question was
#: asked of, together (for a parents-only question, all parents).
ALL_GROUPS_LABEL = N_("All groups asked")


@functools.lru_cache(maxsize=16)
def _form(path: str, mtime_ns: int) -> Any:
    from evalkit.xlsform import read_codebook

    return read_codebook(Path(path))


def form_codebook(params: Params) -> Any:
    """The campaign's XLSForm (:class:`evalkit.xlsform.Codebook`), read once per file version; None if unreadable.

    Only labels are taken from it here; the cleaning step has already checked
    the form, so an unreadable form only means English labels (see
    :func:`label_fallbacks`).
    """
    try:
        path = params.raw_path(params.raw.codebook, what="codebook")
        return _form(str(path), path.stat().st_mtime_ns)
    except (OSError, EvalkitError):
        return None


def _form_question_label(params: Params, question: str, language: str) -> str:
    form = form_codebook(params)
    if form is None or question not in form.questions:
        return ""
    key = form.resolve_language(language)
    return form.questions[question].label(key) if key is not None else ""


def _form_choice_label(params: Params, question: str, choice: str, language: str) -> str:
    form = form_codebook(params)
    if form is None or question not in form.questions:
        return ""
    key = form.resolve_language(language)
    q = form.questions[question]
    for c in form.choices.get(q.list_name or "", []):
        if c.name == choice and key is not None:
            return c.label(key)
    return ""


def choice_label_of(params: Params, question: str, choice: str) -> str:
    """A choice's label in the report language from the campaign's form ("" when the form has none)."""
    return _form_choice_label(params, question, choice, get_language())


def fmt_short_date(d: Any) -> str:
    """A short date for axis ticks: CLDR's month-day skeleton (``17 Jan``, ``1-р сарын 17``)."""
    return format_skeleton("MMMd", d, locale=CLDR_LOCALES[get_language()])


def report_title(params: Params) -> str:
    """The report title in the current language (params ``report.text.<lang>.title``, else ``title``)."""
    return params.report.local(get_language()).title or params_text(params.title)


def stage_name(params: Params) -> str:
    """The stage line in the current language (params ``report.text.<lang>.stage``, else ``stage``)."""
    return params.report.local(get_language()).stage or params_text(params.stage)


def indicator_label(params: Params, indicator_id: str) -> str:
    """An indicator's label in the current language.

    English: the params' ``label``. Another language: params
    ``report.text.<lang>.indicators``, else the XLSForm question's label in
    that language (``label::Mongolian (mn)``), else the English label (listed
    by :func:`label_fallbacks`, which the report shows).
    """
    try:
        ind = params.indicator(str(indicator_id))
    except KeyError:
        return str(indicator_id)
    lang = get_language()
    if lang == SOURCE_LANGUAGE:
        return ind.label
    return params.report.local(lang).indicators.get(ind.id) or _form_label(params, ind, lang) or Foreign(ind.label)


def _form_label(params: Params, ind: Any, lang: str) -> str:
    """The form's label of an indicator in ``lang``: its question's, and for a per-option indicator its choice's too."""
    question = _form_question_label(params, ind.question, lang)
    option = getattr(ind, "option", "")
    if not option:
        return question
    choice = _form_choice_label(params, ind.question, option, lang)
    # TRANSLATORS: a per-option indicator's label: the question, then the answer option it counts.
    return _("{question}: {option}").format(question=question, option=choice) if question and choice else ""


def group_label(params: Params, group: object) -> str:
    """Label shown for a group name in the current language (``all`` is :data:`ALL_GROUPS_LABEL`).

    Another language than English: params ``report.text.<lang>.groups``, else
    the XLSForm choice label of the group question, else the English label.
    """
    if group == "all":
        return _(ALL_GROUPS_LABEL)
    english = params.groups.get(str(group), str(group))
    lang = get_language()
    if lang == SOURCE_LANGUAGE:
        return english
    return (params.report.local(lang).groups.get(str(group))
            or _form_choice_label(params, params.columns.group, str(group), lang) or Foreign(english))


#: The two waves as shown to readers.
WAVE_NAMES = {"baseline": N_("Baseline"), "endline": N_("Endline")}


#: Reach export content types (``reach.content_type``) as shown to readers.
CONTENT_TYPES = {"video": N_("Video"), "image": N_("Image"), "text": N_("Text"), "link": N_("Link"),
                 "live": N_("Live"), "story": N_("Story"), "reel": N_("Reel"), "album": N_("Album"),
                 "status": N_("Status"), "photo": N_("Photo"), "event": N_("Event"), "poster": N_("Poster"),
                 "cover_image": N_("Cover image"), "success_story": N_("Success story")}


def content_type_label(value: object) -> str:
    """A reach content type as shown (translated when known, else the export's own word)."""
    key = str(value).strip().lower()
    return _(CONTENT_TYPES[key]) if key in CONTENT_TYPES else str(value).replace("_", " ").capitalize()


def wave_name(wave: object) -> str:
    """``Baseline`` / ``Endline`` in the report language (any other value as is)."""
    return _(WAVE_NAMES[str(wave)]) if str(wave) in WAVE_NAMES else str(wave)


def demographic_label(params: Params, key: str) -> str:
    """A demographic's name: English ``Age band`` from its params key; another language: the form's question label."""
    english = key.replace("_", " ").capitalize()
    lang = get_language()
    if lang == SOURCE_LANGUAGE:
        return english
    return _form_question_label(params, params.demographics.get(key, ""), lang) or Foreign(english)


def level_label(params: Params, key: str, level: object) -> str:
    """A demographic level: English its code (``orkhon``); another language: the form's choice label."""
    english = str(level).replace("_", " ")
    lang = get_language()
    if lang == SOURCE_LANGUAGE:
        return english
    return _form_choice_label(params, params.demographics.get(key, ""), str(level), lang) or Foreign(english)


def label_fallbacks(params: Params) -> list[str]:
    """Indicator and group labels shown in English because neither params nor the form give one in the current language."""
    lang = get_language()
    if lang == SOURCE_LANGUAGE:
        return []
    out = [ind.label for ind in params.indicators
           if not (params.report.local(lang).indicators.get(ind.id) or _form_label(params, ind, lang))]
    out += [label for g, label in params.groups.items()
            if not (params.report.local(lang).groups.get(g) or _form_choice_label(params, params.columns.group, g, lang))]
    return out
