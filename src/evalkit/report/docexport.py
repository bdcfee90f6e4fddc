"""HTML report -> an editable Word document (``reports/<campaign>.docx``).

The Word copy is converted from the finished HTML report, never from the data:
every value in it has already passed the report's gates (small-cell
suppression, HTML escaping), so the two cannot disagree and nothing the HTML
suppresses can reach Word. pandoc (shipped inside the ``pypandoc-binary``
wheel) reads the HTML: headings become Word heading styles, tables real Word
tables with a repeating header row, ``<figure>`` images pictures with their
alt text (``descr``) and a caption. python-docx then adds what pandoc does not:
page numbers in the footer, rows that do not split across pages, and fixed
document properties. The package is finally re-zipped with fixed timestamps,
so the same HTML gives a byte-identical ``.docx``.

References
----------
pandoc User's Guide, "Options affecting specific writers: --reference-doc";
ECMA-376 Part 1, 17.4.49 ``tblHeader`` and 17.4.6 ``cantSplit``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import zipfile
from pathlib import Path

from evalkit.atomic import atomic_path
from evalkit.errors import EvalkitError

#: Creation and modification date written into every copy (and the zip entries),
#: so that outputs are byte-stable; ``SOURCE_DATE_EPOCH`` overrides it.
FIXED_EPOCH = 946684800  # 2000-01-01T00:00:00Z
#: Parts of the HTML page that make no sense in a printed or Word copy: the
#: "skip to the report" link, the on-screen contents (Word's navigation pane
#: and the PDF bookmarks replace it) and the footer link to the HTML index.
SCREEN_ONLY = ("a.ek-skip", "nav.ek-toc", "footer.ek-footer")
#: Also dropped for Word: the head's stylesheet, title and meta tags (pandoc
#: would turn them into a duplicate title paragraph and custom properties).
HEAD_PARTS = ("style", "title", "meta")


class DocxExportError(EvalkitError):
    """The Word copy of a report cannot be built."""


def source_epoch() -> int:
    """Seconds since 1970 written as the documents' date (``SOURCE_DATE_EPOCH`` or :data:`FIXED_EPOCH`)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else FIXED_EPOCH


def html_for_print(html_text: str, *, drop: tuple[str, ...] = SCREEN_ONLY + HEAD_PARTS) -> tuple[str, str, str]:
    """Strip the screen-only parts of a report and read its title and language.

    Parameters
    ----------
    html_text : str
        The complete HTML report (already escaped and suppressed).
    drop : tuple of str, keyword-only
        CSS selectors of the elements to remove.

    Returns
    -------
    (str, str, str)
        The HTML without the ``drop`` elements, the report title (the
        ``<h1>`` text) and the language code of ``<html lang>`` (``"en"`` if unset).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, "html.parser")
    html_el = soup.find("html")
    lang = str(html_el.get("lang") or "en") if html_el else "en"
    h1 = soup.find("h1")
    title = re.sub(r"\s+", " ", h1.get_text(" ", strip=True)) if h1 else "Evaluation report"
    for selector in drop:
        for el in soup.select(selector):
            el.decompose()
    return str(soup), title, lang


def _lines_for_word(html_text: str) -> str:
    """Put each part of a key-figure card on its own line, the value in bold.

    The HTML lays the card's spans out as blocks with CSS, which Word does not
    read; without this "850 / 759", "interviews" and "baseline / endline"
    would run together in one word.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, "html.parser")
    for card in soup.select(".ek-keyfig"):
        parts = card.find_all("span", recursive=False)
        for span in parts[:-1]:
            span.insert_after(soup.new_tag("br"))
        if parts and "ek-keyfig-value" in (parts[0].get("class") or []):
            parts[0].wrap(soup.new_tag("strong"))
    return str(soup)


def _no_rsvg_warning(record: logging.LogRecord) -> bool:
    """Drop pandoc's "could not convert image ... rsvg-convert" warning.

    Without ``rsvg-convert`` (Debian ``librsvg2-bin``) pandoc embeds the SVG
    figures without a PNG fallback: Word 2016 and later and LibreOffice show
    them; only Word 2013 and older would need the fallback (docs/design.md).
    """
    return "rsvg-convert" not in record.getMessage()


def _pandoc(html_text: str, out: Path, *, reference_docx: Path | None, lang: str) -> None:
    try:
        import pypandoc
    except ImportError:
        raise DocxExportError("The Word copy needs pandoc, shipped in the Python package 'pypandoc-binary'; "
                              "run make setup (it installs requirements.lock) and try again.") from None
    args = ["--metadata", f"lang={lang}", "--wrap=none"]
    if reference_docx is not None:
        args += ["--reference-doc", str(reference_docx)]
    env_before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(source_epoch())  # pandoc's own dates and zip times
    log = logging.getLogger("pypandoc")
    log.addFilter(_no_rsvg_warning)
    try:
        pypandoc.convert_text(html_text, "docx", format="html", outputfile=str(out), extra_args=args)
    except (RuntimeError, OSError) as exc:
        raise DocxExportError(f"pandoc could not convert the report to Word: {str(exc).strip()[:500]}") from None
    finally:
        log.removeFilter(_no_rsvg_warning)
        if env_before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = env_before


def _add_page_numbers(doc: "docx.document.Document", *, lang: str) -> None:  # noqa: F821
    """Put "Page N of M" in each section's footer unless it already has a PAGE field."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def field(run_parent: object, code: str) -> None:
        for kind in ("begin", None, "end"):
            r = OxmlElement("w:r")
            if kind is None:
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = f" {code} "
                r.append(instr)
            else:
                fc = OxmlElement("w:fldChar")
                fc.set(qn("w:fldCharType"), kind)
                r.append(fc)
            run_parent._p.append(r)  # type: ignore[attr-defined]

    for section in doc.sections:
        footer = section.footer
        if "PAGE" in "".join(t.text or "" for t in footer._element.iter(qn("w:instrText"))):
            continue
        footer.is_linked_to_previous = False
        para = footer.paragraphs[0] if footer.paragraphs and not footer.paragraphs[0].text else footer.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.add_run("Page ")
        field(para, "PAGE")
        para.add_run(" of ")
        field(para, "NUMPAGES")


def _table_rows_keep_together(doc: "docx.document.Document") -> int:  # noqa: F821
    """Mark every table row ``cantSplit`` and the first row ``tblHeader`` (repeats on each page)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for table in doc.tables:
        for i, tr in enumerate(table._tbl.tr_lst):
            tr_pr = tr.get_or_add_trPr()
            wanted = ["w:cantSplit"] + (["w:tblHeader"] if i == 0 else [])
            for tag in wanted:
                if tr_pr.find(qn(tag)) is None:
                    tr_pr.append(OxmlElement(tag))
    return len(doc.tables)


def _a4(doc: "docx.document.Document") -> None:  # noqa: F821
    """Set A4 paper (pandoc's default template is US Letter); a reference_docx keeps its own."""
    from docx.shared import Mm

    for section in doc.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)


def _fix_properties(doc: "docx.document.Document", *, title: str, lang: str) -> None:  # noqa: F821
    props = doc.core_properties
    when = dt.datetime.fromtimestamp(source_epoch(), tz=dt.timezone.utc).replace(tzinfo=None)
    props.title = title
    props.language = lang
    props.author = "evalkit"
    props.last_modified_by = "evalkit"
    props.created = when
    props.modified = when
    props.revision = 1


def normalise_zip(path: Path) -> None:
    """Rewrite a ``.docx`` package in place with fixed entry dates and attributes.

    python-docx stamps each zip entry with the time of saving; this is the only
    part of its output that varies between runs.
    """
    when = dt.datetime.fromtimestamp(source_epoch(), tz=dt.timezone.utc).timetuple()[:6]
    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    entries.sort(key=lambda e: (e[0] != "[Content_Types].xml", e[0]))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zout.writestr(info, data)


def export_docx(report_html: Path, out_docx: Path, *, reference_docx: Path | None = None) -> Path:
    """Write the Word copy of an HTML report, atomically.

    Parameters
    ----------
    report_html : Path
        The finished report (``reports/<campaign>.html``).
    out_docx : Path
        Destination (``reports/<campaign>.docx``).
    reference_docx : Path or None, keyword-only
        An organisation template (fonts, colours, heading styles, header logo),
        as pandoc's ``--reference-doc``. Page numbers are added to its footer
        unless it already has a page-number field.

    Returns
    -------
    Path
        ``out_docx``.

    Raises
    ------
    DocxExportError
        If the HTML report or the template is missing, or pandoc fails.

    Examples
    --------
    >>> export_docx(Path("reports/together.html"), Path("reports/together.docx"))  # doctest: +SKIP
    PosixPath('reports/together.docx')
    """
    import docx

    report_html, out_docx = Path(report_html), Path(out_docx)
    if not report_html.is_file():
        raise DocxExportError(f"The HTML report {report_html} does not exist yet; the Word copy is made from it. "
                              f"Build it first (make report CAMPAIGN=<campaign>).")
    if reference_docx is not None and not Path(reference_docx).is_file():
        raise DocxExportError(f"The Word template (reference_docx) {reference_docx} does not exist. Fix the "
                              f"'reference_docx' path in the params file (relative to the project folder) or remove it.")
    text, title, lang = html_for_print(report_html.read_text(encoding="utf-8"))
    text = _lines_for_word(text)
    with atomic_path(out_docx) as tmp:
        _pandoc(text, tmp, reference_docx=reference_docx, lang=lang)
        document = docx.Document(str(tmp))
        _table_rows_keep_together(document)
        _add_page_numbers(document, lang=lang)
        if reference_docx is None:
            _a4(document)
        _fix_properties(document, title=title, lang=lang)
        document.save(str(tmp))
        normalise_zip(tmp)
    return out_docx
