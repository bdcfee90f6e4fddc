"""HTML report -> a paginated PDF (``reports/<campaign>.pdf``), printed by Chromium.

The PDF is the finished HTML report printed with its print stylesheet
(``report.css``, ``@media print``: A4, rows and figures never split across
pages, table headers repeated) by Debian's headless Chromium, driven through
Playwright; no browser is ever downloaded. Chromium's own printing adds
"Page N of M" in the footer, PDF bookmarks from the headings (``outline``) and
a tagged (accessible) PDF; SVG figures stay vector graphics.

Chromium stamps each PDF with the time of printing and numbers its structure
elements with the browser's DOM node ids, which depend on how many nodes the
browser created before. :func:`normalise_pdf` replaces both with fixed values
of the same length (the cross-reference offsets stay valid), so the same HTML
and the same Chromium give a byte-identical PDF.

References
----------
Chrome DevTools Protocol, ``Page.printToPDF`` (``generateDocumentOutline``,
``generateTaggedPDF``, ``footerTemplate``); Playwright ``Page.pdf``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from evalkit.atomic import atomic_path
from evalkit.report.docexport import SCREEN_ONLY, html_for_print, source_epoch
from evalkit.errors import EvalkitError

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
#: Footer printed on every page (Chromium fills in the two page-number spans).
FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;font-family:sans-serif;">'
          'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')
INSTALL_HINT = ("The PDF copy is printed by Chromium, which is not installed here ({path} is missing). "
                "Install it with: sudo apt-get install chromium (Debian/Ubuntu; .ci/run does this), then build the "
                "PDF again. The HTML report and the Word copy do not need it.")

_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}")
_NODE = re.compile(rb"\(node(\d{8})\)")


class PdfExportError(EvalkitError):
    """The PDF copy of a report cannot be printed."""


def chromium_path() -> Path:
    """The Chromium binary: ``EVALKIT_CHROMIUM`` if set, else Debian's :data:`CHROMIUM`."""
    return Path(os.environ.get("EVALKIT_CHROMIUM") or CHROMIUM)


def normalise_pdf(data: bytes) -> bytes:
    """Replace the varying bytes of a Chromium PDF by fixed ones of the same length.

    Parameters
    ----------
    data : bytes
        The PDF as Chromium wrote it.

    Returns
    -------
    bytes
        The same PDF with ``/CreationDate`` and ``/ModDate`` set to the fixed
        source date and the structure-element ids ``(nodeNNNNNNNN)`` shifted
        to start at 0 (their order, used by the sorted ``/IDTree``, is kept).
        Every byte offset is unchanged.
    """
    stamp = dt.datetime.fromtimestamp(source_epoch(), tz=dt.timezone.utc).strftime("%Y%m%d%H%M%S").encode()
    data = _DATE.sub(lambda m: b"/" + m.group(1) + b" (D:" + stamp, data)
    ids = [int(x) for x in _NODE.findall(data)]
    low = min(ids, default=0)
    return _NODE.sub(lambda m: b"(node%08d)" % (int(m.group(1)) - low), data)


def export_pdf(report_html: Path, out_pdf: Path, *, chromium: Path | None = None) -> Path:
    """Print an HTML report to PDF with headless Chromium, atomically.

    Parameters
    ----------
    report_html : Path
        The finished report (``reports/<campaign>.html``).
    out_pdf : Path
        Destination (``reports/<campaign>.pdf``).
    chromium : Path or None, keyword-only
        The browser binary; default :func:`chromium_path`.

    Returns
    -------
    Path
        ``out_pdf``.

    Raises
    ------
    PdfExportError
        If Chromium or Playwright is missing (the message says how to install
        it), the HTML report does not exist, or printing fails.

    Examples
    --------
    >>> export_pdf(Path("reports/together.html"), Path("reports/together.pdf"))  # doctest: +SKIP
    PosixPath('reports/together.pdf')
    """
    report_html, out_pdf = Path(report_html).resolve(), Path(out_pdf)
    chromium = Path(chromium) if chromium is not None else chromium_path()
    if not Path(chromium).is_file():
        raise PdfExportError(INSTALL_HINT.format(path=chromium))
    if not report_html.is_file():
        raise PdfExportError(f"The HTML report {report_html} does not exist yet; the PDF is printed from it. "
                             f"Build it first (make report CAMPAIGN=<campaign>).")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PdfExportError("The PDF copy needs the Python package 'playwright' (it drives Chromium); "
                             "run make setup and try again.") from None
    page_html, _, _ = html_for_print(report_html.read_text(encoding="utf-8"), drop=SCREEN_ONLY)
    try:
        with sync_playwright() as pw, atomic_path(out_pdf) as tmp:
            browser = pw.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
            try:
                page = browser.new_page()
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
                page.set_content(page_html, wait_until="load")
                data = page.pdf(format="A4", prefer_css_page_size=True, print_background=True,
                                display_header_footer=True, header_template="<span></span>",
                                footer_template=FOOTER, outline=True, tagged=True)
            finally:
                browser.close()
            tmp.write_bytes(normalise_pdf(data))
    except PlaywrightError as exc:
        raise PdfExportError(f"Chromium could not print {report_html.name} to PDF: {str(exc).strip()[:500]}") from None
    return out_pdf
