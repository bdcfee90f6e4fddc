"""Report languages (issue 14): the message catalogue, CLDR formatting, labels from the form, and the HTML's languages.

References for the expected values: Babel's CLDR data (``babel.dates.format_date``,
``babel.numbers.format_decimal``), which the project uses for symbols and date
patterns; the expected strings are also written out so a change in either shows.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal

from evalkit.params import parse_params
from evalkit.report import format as fmt
from evalkit.report import i18n

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the catalogue


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_catalogue_has_every_message_of_the_code_and_notebooks():
    code = _ids(i18n.extract_messages(ROOT))
    po = _ids(i18n.read_catalogue("mn"))
    missing = sorted(str(m) for m in code - po)
    assert not missing, (f"{len(missing)} message(s) are not in the Mongolian catalogue; run `python -m evalkit i18n` "
                         f"and translate them: {missing[:5]}")


def test_every_mongolian_entry_is_translated_and_keeps_its_placeholders():
    def ph(s: str) -> list[str]:
        return sorted(set(re.findall(r"\{[a-z_]+\}", s)))

    problems = []
    for m in i18n.read_catalogue("mn"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0][:60]!r}")
            continue
        for s in strings:
            if ph(s) != ph(ids[-1]):
                problems.append(f"placeholders differ: {ids[0][:60]!r}")
    assert not problems, f"{len(problems)} problem(s): {problems[:5]}"


def test_fstring_messages_are_extracted_on_every_python():
    # Babel reads f-string contents only on Python >= 3.12; the project's extractor finds them on 3.11 too.
    import io

    src = b'x = f"<p>{esc(_(\'Consent.\'))} {ngettext(\'{n} cat\', \'{n} cats\', n)}</p>"\n'
    found = {m[2] for m in i18n.extract_python(io.BytesIO(src), i18n.KEYWORDS, [], {})}
    assert "Consent." in found and ("{n} cat", "{n} cats") in found


@pytest.mark.parametrize("path", sorted((ROOT / "src/evalkit/report").glob("*.py")), ids=lambda p: p.name)
def test_no_message_is_built_at_run_time(path):
    # _(f"...") or _("a" + b) cannot be in the catalogue: the msgid must be a literal (or an N_-marked constant).
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
            for arg in node.args[: 2 if node.func.id == "ngettext" else 1]:
                if isinstance(arg, (ast.JoinedStr, ast.BinOp)):
                    bad.append(node.lineno)
    assert not bad, f"{path.name}: messages built at run time on lines {bad}"


def test_unknown_language_is_a_clear_error():
    with pytest.raises(Exception, match="not available; use one of: en, mn"):
        i18n.check_language("fr")


def test_markdown_cells_are_translated_and_remove_cells_left_alone():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "## Summary\n\nKey figures, and what this stage's "
                     "survey shows in one paragraph written from the results below."},
                    {"cell_type": "markdown", "metadata": {"tags": ["remove-cell"]}, "source": "Researchers' note"},
                    {"cell_type": "code", "metadata": {}, "source": "x = 1"}]}
    msgids = dict(i18n.markdown_messages(nb))
    assert list(msgids) == [0]
    i18n.translate_markdown_cells(nb, "mn")
    assert nb["cells"][1]["source"] == "Researchers' note" and nb["cells"][2]["source"] == "x = 1"
    assert nb["cells"][0]["source"] == i18n.translations("mn").gettext(msgids[0])


# --------------------------------------------------------------------------- CLDR formatting


def test_dates_follow_cldr_in_each_language():
    d = dt.date(2022, 1, 17)
    with i18n.use_language("en"):
        assert fmt.fmt_date(d) == "17 January 2022" == format_date(d, "d MMMM y", locale="en_GB")
    with i18n.use_language("mn"):
        assert fmt.fmt_date(d) == "2022\u202fоны 1-р сарын 17" == format_date(d, "medium", locale="mn")


@pytest.mark.parametrize("lang", ["en", "mn"])
def test_numbers_use_the_locale_symbols(lang):
    loc = i18n.CLDR_LOCALES[lang]
    with i18n.use_language(lang):
        assert fmt.fmt_int(1234567) == format_decimal(1234567, locale=loc)
        assert fmt.fmt_number(-4.2) == format_decimal(-4.2, format="0.0", locale=loc)
        assert fmt.fmt_pct(51.3) == "51.3%"  # CLDR percent pattern #,##0% in both
        assert fmt.fmt_int(float("nan")) == "\u2013"
        assert fmt.fmt_p(0.0004) == "<0.001" and fmt.fmt_p(0.01234) == "0.012"


def test_counted_nouns_use_the_catalogue_plural_rule():
    with i18n.use_language("en"):
        assert i18n.ngettext("{n} campaign stage with results.", "{n} campaign stages with results.", 1).format(n=1) \
            == "1 campaign stage with results."
        assert i18n.ngettext("{n} campaign stage with results.", "{n} campaign stages with results.", 3).format(n=3) \
            == "3 campaign stages with results."


# --------------------------------------------------------------------------- labels


def test_labels_come_from_params_then_the_form_then_english_marked(together_params):
    p = together_params
    with i18n.use_language("en"):
        assert fmt.group_label(p, "staff") == "School staff"
        assert fmt.indicator_label(p, p.indicators[0].id) == p.indicators[0].label
        assert fmt.label_fallbacks(p) == []
    with i18n.use_language("mn"):
        # The form has Mongolian labels for every question and group choice.
        staff = fmt.group_label(p, "staff")
        assert staff and not isinstance(staff, fmt.Foreign) and re.search("[А-Яа-яӨөҮү]", staff)
        assert fmt.label_fallbacks(p) == [] or all(isinstance(x, str) for x in fmt.label_fallbacks(p))
        assert fmt.group_label(p, "all") == i18n.translations("mn").gettext(fmt.ALL_GROUPS_LABEL)


def test_english_fallback_is_marked_with_lang(together_params):
    import dataclasses

    p = dataclasses.replace(together_params, groups={**together_params.groups, "other": "Other respondents"})
    with i18n.use_language("mn"):
        lab = fmt.group_label(p, "other")
        assert isinstance(lab, fmt.Foreign) and fmt.text_html(lab) == '<span lang="en">Other respondents</span>'
        assert "Other respondents" in fmt.label_fallbacks(p)
    with i18n.use_language("en"):
        assert fmt.text_html(fmt.params_text("Plain")) == "Plain"


def test_report_block_is_validated():
    from evalkit.errors import ConfigError

    base = (ROOT / "params/together.yaml").read_text(encoding="utf-8")
    import yaml

    data = yaml.safe_load(base)
    data["report"] = {"language": "fr"}
    with pytest.raises(ConfigError, match="report.language"):
        parse_params(data)
    data["report"] = {"text": {"mn": {"groups": {"nobody": "x"}}}}
    with pytest.raises(ConfigError, match="report.text.mn.groups"):
        parse_params(data)


@pytest.fixture
def together_params():
    from evalkit.params import load_params

    return load_params("together")


# --------------------------------------------------------------------------- the embedded font


def test_committed_font_subsets_are_reproducible():
    from evalkit.report import fonts

    for _w, source, target in fonts.FONTS:
        assert fonts.subset_woff(fonts._font_file(source)) == (fonts.FONT_DIR / target).read_bytes(), (
            f"{target} is not the subset of {source}: run `python -m evalkit.report.fonts`")


def test_embedded_font_covers_mongolian_cyrillic():
    from fontTools.ttLib import TTFont

    from evalkit.report import fonts

    for _w, _source, target in fonts.FONTS:
        cmap = TTFont(str(fonts.FONT_DIR / target)).getBestCmap()
        for ch in "АаӨөҮүЁёЯя–“”…\u202f":
            assert ord(ch) in cmap, f"{target} lacks {ch!r} (U+{ord(ch):04X})"


def test_report_css_starts_with_the_embedded_font():
    from evalkit.report.htmlexport import report_css

    css = report_css()
    assert css.count("@font-face") == 2 and 'font-family: "Evalkit Sans"' in css
    assert css.index("@font-face") < css.index("font-family: \"Evalkit Sans\", system-ui")


def test_figures_draw_text_as_paths(together_params):
    # Text as paths: a machine without fonts shows the same Cyrillic glyphs in figures.
    import pandas as pd

    from evalkit.report import figures

    by_type = pd.DataFrame({"content_type": ["video", "poster"], "engagements": [1.5e6, 0.5e6]})
    with i18n.use_language("mn"):
        svg = figures.figure_svg(figures.reach_by_type_figure(by_type)).decode("utf-8")
    assert "<text" not in svg and "<path" in svg
