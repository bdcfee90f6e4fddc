"""The Word and PDF copies of a report carry exactly the HTML report's content.

The real ``reports/together.html`` (built by ``make -j2 reports`` on a project
copy, see ``conftest.built_reports``) is converted to ``.docx`` (pandoc +
python-docx) and printed to ``.pdf`` (Debian's Chromium). The Word file is
opened with python-docx: every section heading of the HTML is a Word heading,
every HTML table a Word table with the same cell texts and a repeating header
row, every figure a picture with the HTML's alt text. The PDF's text
(``pdftotext``, Debian ``poppler-utils``) holds the HTML's headline numbers, and
page 1 is rendered with ``pdftoppm`` into ``reports/screenshots/`` next to the
browser screenshots. PDF tests are skipped, saying why, without Chromium or
poppler-utils.

Byte stability: the DOCX is byte-identical across builds (fixed dates, fixed
zip entry times). Chromium's PDF varies only in ``/CreationDate``,
``/ModDate`` and the DOM node ids of its structure tree; ``normalise_pdf``
fixes both, so two prints are byte-identical too (tested).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from evalkit import paths
from evalkit.report import docexport, pdfexport
from evalkit.report.docexport import DocxExportError, export_docx
from evalkit.report.pdfexport import PdfExportError, export_pdf

SCREENSHOTS = paths.PROJECT_ROOT / "reports" / "screenshots"
#: The together report prints on 14 A4 pages today; a layout change may move it a little.
PDF_PAGES = range(8, 25)
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def _pdf_skip_reason() -> str | None:
    if not pdfexport.chromium_path().is_file():
        return f"{pdfexport.chromium_path()} is absent: install the Debian package 'chromium'"
    for tool in ("pdftotext", "pdftoppm", "pdfinfo", "pdfimages"):
        if shutil.which(tool) is None:
            return f"{tool} is absent: install the Debian package 'poppler-utils' (.ci/run does this)"
    return None


PDF_SKIP = _pdf_skip_reason()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00b6", "")).strip()


def _html_parts(html_path: Path) -> dict[str, object]:
    """Headings, tables (rows of cell texts), figures (alt, caption) and key figures of a report."""
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    for el in soup.select("nav.ek-toc"):
        el.decompose()
    tables = []
    for t in soup.find_all("table"):
        rows = [[_squash(c.get_text(" ")) for c in tr.find_all(["th", "td"])] for tr in t.find_all("tr")]
        tables.append({"id": t.get("id"), "caption": _squash(t.caption.get_text(" ")) if t.caption else "", "rows": rows})
    return {
        "headings": [_squash(h.get_text(" ")) for h in soup.find_all(["h1", "h2", "h3", "h4"])],
        "tables": tables,
        "figures": [(f.img.get("alt", ""), _squash(f.figcaption.get_text(" ")) if f.figcaption else "")
                    for f in soup.find_all("figure")],
        "keyfigs": [_squash(k.get_text(" ")) for k in soup.select(".ek-keyfig-value")],
        "text": _squash(soup.get_text(" ")),
    }


def _word_tables(doc) -> list[list[list[str]]]:
    """Each Word table as rows of distinct cells (a merged cell counted once)."""
    from docx.table import _Cell

    out = []
    for table in doc.tables:
        rows = []
        for tr in table._tbl.tr_lst:
            rows.append([_squash(_Cell(tc, table).text) for tc in tr.tc_lst])
        out.append(rows)
    return out


@pytest.fixture(scope="module")
def together_html(built_reports) -> Path:
    return built_reports / "together.html"


@pytest.fixture(scope="module")
def together_docx(together_html, tmp_path_factory) -> Path:
    return export_docx(together_html, tmp_path_factory.mktemp("docx") / "together.docx")


@pytest.fixture(scope="module")
def together_pdf(together_html, tmp_path_factory) -> Path:
    if PDF_SKIP:
        pytest.skip(PDF_SKIP)
    return export_pdf(together_html, tmp_path_factory.mktemp("pdf") / "together.pdf")


# --------------------------------------------------------------------------- Word


def test_every_html_heading_is_a_word_heading(together_html, together_docx):
    import docx

    doc = docx.Document(str(together_docx))
    word = [(_squash(p.text), p.style.name) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    html_headings = _html_parts(together_html)["headings"]
    assert len(html_headings) >= 10
    word_texts = [t for t, _ in word]
    assert word_texts == html_headings  # same headings, same order, nothing extra
    levels = {t: s for t, s in word}
    assert levels["Summary"] == "Heading 2" and levels["Knowledge"] == "Heading 3"


def test_every_html_table_is_a_word_table_with_the_same_cells(together_html, together_docx):
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(str(together_docx))
    html_tables = _html_parts(together_html)["tables"]
    word_tables = _word_tables(doc)
    assert len(html_tables) >= 8 and len(word_tables) == len(html_tables)
    for h, w in zip(html_tables, word_tables):
        assert w == h["rows"], f"table {h['id']} differs"
    for table in doc.tables:
        rows = table._tbl.tr_lst
        assert rows[0].trPr is not None and rows[0].trPr.find(qn("w:tblHeader")) is not None  # repeats on each page
        assert all(r.trPr.find(qn("w:cantSplit")) is not None for r in rows)  # a row never splits
    captions = [_squash(p.text) for p in doc.paragraphs if p.style.name == "Table Caption"]
    assert captions == [h["caption"] for h in html_tables]


def test_every_figure_is_a_picture_with_alt_text_and_caption(together_html, together_docx):
    import docx

    doc = docx.Document(str(together_docx))
    body = doc.element.body
    alts = [d.get("descr") for d in body.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
    figures = _html_parts(together_html)["figures"]
    assert len(figures) >= 5
    assert alts == [a for a, _ in figures] and all(alts)
    captions = [_squash(p.text) for p in doc.paragraphs if p.style.name == "Image Caption"]
    assert captions == [c for _, c in figures]
    with zipfile.ZipFile(together_docx) as z:  # figures stay vector (SVG), not screenshots of tables
        assert sum(n.endswith(".svg") for n in z.namelist()) == len(figures)


def test_word_copy_has_notice_provenance_page_numbers_and_fixed_properties(together_html, together_docx):
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(str(together_docx))
    text = _squash(" ".join(p.text for p in doc.paragraphs))
    assert "Synthetic data." in text and "Provenance" in text
    html = _html_parts(together_html)
    for value in html["keyfigs"]:
        assert value in text
    footer = doc.sections[0].footer._element
    assert "PAGE" in " ".join(i.text for i in footer.iter(qn("w:instrText")))
    props = doc.core_properties
    assert props.title == html["headings"][0] and props.language == "en"
    assert props.created.year == 2000 and props.modified == props.created

    assert all((round(s.page_width.mm), round(s.page_height.mm)) == (210, 297) for s in doc.sections)  # A4, not Letter


def test_word_copy_has_no_number_the_html_does_not_show(together_html, together_docx):
    # Built from the suppressed HTML, so no suppressed (or any other) value can appear that the HTML hides.
    import docx

    doc = docx.Document(str(together_docx))
    parts = [p.text for p in doc.paragraphs] + [c for t in _word_tables(doc) for r in t for c in r]
    html_numbers = set(_NUM.findall(_html_parts(together_html)["text"]))
    extra = {n for n in _NUM.findall(" ".join(parts)) if n not in html_numbers}
    assert not extra


def test_word_copy_is_byte_stable(together_html, together_docx, tmp_path):
    again = export_docx(together_html, tmp_path / "again.docx")
    assert again.read_bytes() == together_docx.read_bytes()


def test_canaries_stay_text_in_word(tmp_path):
    import docx
    from test_htmlexport import cached_fake_notebook
    from test_report import CANARY

    from evalkit.report.htmlexport import render_html

    html = tmp_path / "canary.html"
    html.write_text(render_html(cached_fake_notebook("together", canary=True)), encoding="utf-8")
    out = export_docx(html, tmp_path / "canary.docx")
    doc = docx.Document(str(out))
    cells = [c for t in _word_tables(doc) for r in t for c in r]
    assert any(CANARY in c for c in cells)  # shown literally, as text
    with zipfile.ZipFile(out) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "<script" not in xml and "&lt;script&gt;" in xml


def test_organisation_template_is_used_and_gets_page_numbers(together_html, tmp_path):
    import docx

    ref = docx.Document()
    ref.styles["Normal"].font.name = "Arial"
    ref.sections[0].header.paragraphs[0].text = "Save the Children"
    ref.save(str(tmp_path / "reference.docx"))
    out = export_docx(together_html, tmp_path / "branded.docx", reference_docx=tmp_path / "reference.docx")
    doc = docx.Document(str(out))
    assert doc.styles["Normal"].font.name == "Arial"
    assert doc.sections[0].header.paragraphs[0].text == "Save the Children"
    assert "Page" in doc.sections[0].footer.paragraphs[0].text


def test_word_errors_say_what_to_do(tmp_path):
    with pytest.raises(DocxExportError, match="Build it first"):
        export_docx(tmp_path / "missing.html", tmp_path / "x.docx")
    (tmp_path / "r.html").write_text("<html><body><h1>x</h1></body></html>", encoding="utf-8")
    with pytest.raises(DocxExportError, match="reference_docx"):
        export_docx(tmp_path / "r.html", tmp_path / "x.docx", reference_docx=tmp_path / "nope.docx")
    assert not (tmp_path / "x.docx").exists()


# --------------------------------------------------------------------------- PDF


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_has_the_html_headline_numbers_and_page_numbers(together_html, together_pdf):
    text = _squash(_pdftotext(together_pdf))
    html = _html_parts(together_html)
    assert len(html["keyfigs"]) >= 3
    for value in html["keyfigs"]:
        assert value in text
    results = next(t for t in html["tables"] if t["id"] == "tbl-results")
    for row in results["rows"][1:]:  # every change (95% CI) of the headline table
        if len(row) > 4:
            assert row[4] in text, row
    info = subprocess.run(["pdfinfo", str(together_pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages in PDF_PAGES
    assert re.search(r"^Page size:\s+59[45].*\(A4\)", info, re.M)
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Synthetic data." in text and "Provenance" in text


def test_pdf_has_bookmarks_vector_figures_and_no_network(together_html, together_pdf):
    data = together_pdf.read_bytes()
    assert b"/Outlines" in data
    for heading in ("Summary", "Headline results", "Provenance"):
        assert f"/Title ({heading})".encode() in data
    images = subprocess.run(["pdfimages", "-list", str(together_pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # header lines only: no raster image, figures stay vector


def test_pdf_is_byte_stable(together_html, together_pdf, tmp_path):
    again = export_pdf(together_html, tmp_path / "again.pdf")
    assert again.read_bytes() == together_pdf.read_bytes()


def test_pdf_page_one_is_saved_with_the_browser_screenshots(together_pdf):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = SCREENSHOTS / "together-pdf-page1"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(together_pdf), str(stem)],
                   check=True)
    png = stem.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_normalise_pdf_keeps_length_and_order():
    raw = b"/CreationDate (D:20261202203837+00'00')\n(node00000121) (node00000130) 999"
    out = pdfexport.normalise_pdf(raw)
    assert len(out) == len(raw)
    assert out == b"/CreationDate (D:20000101000000+00'00')\n(node00000000) (node00000009) 999"


def test_missing_chromium_fails_the_pdf_only(built_reports, tmp_path, monkeypatch, capsys):
    # A project with just the params and a built HTML report: --formats docx,pdf writes Word, then
    # fails on the PDF with the install command.
    shutil.copytree(paths.project_root() / "params", tmp_path / "params")
    (tmp_path / "reports").mkdir()
    shutil.copy2(built_reports / "together.html", tmp_path / "reports" / "together.html")
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    monkeypatch.setenv("EVALKIT_CHROMIUM", str(tmp_path / "no-chromium"))
    from evalkit.cli import main

    assert main(["report", "together", "--formats", "docx,pdf"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install chromium" in err and "Word copy do not need it" in err
    assert (tmp_path / "reports" / "together.docx").is_file()
    assert not list((tmp_path / "reports").glob("*.pdf")) and not list((tmp_path / "reports").glob(".*.tmp"))
    with pytest.raises(PdfExportError, match="apt-get install chromium"):
        export_pdf(tmp_path / "reports" / "together.html", tmp_path / "x.pdf")


def test_unknown_formats_are_refused(capsys):
    from evalkit.cli import main

    with pytest.raises(SystemExit):
        main(["report", "together", "--formats", "html,odt"])
    assert "expected a comma-separated list of: html, docx, pdf" in capsys.readouterr().err
    res = subprocess.run(["make", "--no-print-directory", "report", "FORMATS=html,odt"], cwd=paths.project_root(),
                         capture_output=True, text=True)
    assert res.returncode == 2 and "unknown format(s) 'odt'" in res.stderr


def test_source_date_epoch_overrides_the_fixed_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert docexport.source_epoch() == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not a number")
    assert docexport.source_epoch() == docexport.FIXED_EPOCH


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice (Debian 'libreoffice-writer-nogui') or poppler-utils is absent: "
                           "the Word copy is not rendered to a screenshot")
def test_libreoffice_opens_the_word_copy_and_page_one_is_saved(together_html, together_docx, tmp_path):
    # An independent reader: LibreOffice lays the .docx out, with the key figures and page numbers.
    res = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                          "--convert-to", "pdf", "--outdir", str(tmp_path), str(together_docx)],
                         capture_output=True, text=True, timeout=300)
    pdf = tmp_path / "together.pdf"
    assert pdf.is_file(), res.stderr[-2000:]
    text = _squash(_pdftotext(pdf))
    for value in _html_parts(together_html)["keyfigs"]:
        assert value in text
    assert "Page 1 of" in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = SCREENSHOTS / "together-docx-page1"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)], check=True)
    assert stem.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(PDF_SKIP is not None, reason=str(PDF_SKIP))
def test_make_builds_each_copy_as_its_own_target(built_reports, together_docx, together_pdf):
    from test_pipeline import run

    root = built_reports.parent
    html = built_reports / "together.html"
    html_mtime = html.stat().st_mtime_ns
    first = run(["make", "--no-print-directory", "report", "CAMPAIGN=together", "FORMATS=html,docx,pdf"], root)
    assert first.returncode == 0, first.stderr[-3000:]
    assert html.stat().st_mtime_ns == html_mtime  # the HTML was up to date and is not rebuilt
    docx_out, pdf_out = built_reports / "together.docx", built_reports / "together.pdf"
    # Same bytes as the copies made in this process from the same HTML: stable across processes too.
    assert docx_out.read_bytes() == together_docx.read_bytes()
    assert pdf_out.read_bytes() == together_pdf.read_bytes()
    stamps = (docx_out.stat().st_mtime_ns, pdf_out.stat().st_mtime_ns)
    second = run(["make", "--no-print-directory", "report", "CAMPAIGN=together", "FORMATS=html,docx,pdf"], root)
    assert second.returncode == 0 and "'reports/together.pdf' is up to date" in second.stdout
    assert (docx_out.stat().st_mtime_ns, pdf_out.stat().st_mtime_ns) == stamps
    assert not list(built_reports.glob(".*.tmp"))


def test_the_executive_summary_stands_on_one_printed_page(together_pdf):
    """Issue 19: in print the executive summary starts a page and fits on it, with the
    findings, the tracking status counts and the computed recommendations."""
    pages = _pdftotext(together_pdf).split("\f")
    at = [i for i, p in enumerate(pages) if re.search(r"^\s*Executive summary\s*$", p, re.M)]
    assert len(at) == 1, "the executive summary heading should be on exactly one page"
    page = _squash(pages[at[0]])
    assert page.startswith("Executive summary"), page[:200]
    for part in ("indicator targets:", "Recommendations that follow from the statistics", "95% CI"):
        assert part in page, part
    following = _squash(pages[at[0] + 1])
    assert "Recommendations that follow from the statistics" not in following
