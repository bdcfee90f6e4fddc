"""Executed notebook -> one self-contained, offline HTML report.

nbconvert's default ``lab`` template loads require.js and MathJax from a CDN
and ships several hundred kilobytes of JupyterLab CSS. The ``evalkit_report``
template (``src/evalkit/report/templates/evalkit_report/``) has no scripts and no
external URLs: the stylesheet is inlined, figures are ``data:`` URIs, code and
prompts are hidden (unless ``include_code=True``), and papermill's
injected-parameters cell is dropped. After rendering, headings get stable ids
and a table of contents is inserted, so the output is byte-identical across
runs (no random ids, no timestamps).

References
----------
nbconvert documentation, "Customizing templates" and ``TemplateExporter``
options ``exclude_input``, ``exclude_input_prompt``, ``exclude_output_prompt``.
"""

from __future__ import annotations

import base64
import copy
import html
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from evalkit.atomic import write_text_atomic
from evalkit.errors import EvalkitError
from evalkit.report.format import esc
from evalkit.report.i18n import _, translate_markdown_cells, use_language

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "evalkit_report"
#: Cells with these tags are never shown to readers of the HTML report.
HIDDEN_TAGS = ("injected-parameters", "parameters", "remove-cell")
TOC_MARKER = "<!--EVALKIT-TOC-->"

_HEADING = re.compile(r"<h([1-3])(\s[^>]*)?>(.*?)</h\1>", re.DOTALL | re.IGNORECASE)
_ANCHOR = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
#: Attributes whose URL a browser fetches on load (``<a href>`` is followed only on a click).
_FETCH_ATTRS = {"src", "srcset", "poster", "data", "background", "action", "formaction", "xlink:href"}
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_FETCH = re.compile(r"url\(\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import", re.IGNORECASE)

class HtmlExportError(EvalkitError):
    """The notebook cannot be exported, or the result would not work offline."""


def report_css() -> str:
    """The report stylesheet (``templates/evalkit_report/report.css``), after the embedded font (:mod:`.fonts`)."""
    from evalkit.report.fonts import font_face_css

    return font_face_css() + (TEMPLATES_DIR / TEMPLATE_NAME / "report.css").read_text(encoding="utf-8")


#: Mongolian Cyrillic -> Latin for heading ids (MNS 5217:2012-style, lower case).
_CYRILLIC_LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "ye", "ё": "yo", "ж": "j", "з": "z", "и": "i", "й": "i",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "ө": "u", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ү": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya"})


def slugify(text: str) -> str:
    """Identifier-safe, ASCII slug of a heading (``"2. Claims vs data"`` -> ``"claims-vs-data"``)."""
    t = html.unescape(text).lower().translate(_CYRILLIC_LATIN)  # Mongolian headings get readable ids too
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    t = re.sub(r"^[\d.\s]+", "", t)
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return t or "section"


def _heading_text(inner: str) -> str:
    return re.sub(r"\s+", " ", _TAG.sub("", _ANCHOR.sub("", inner))).replace("\u00b6", "").strip()


def add_toc(body: str, *, levels: tuple[int, ...] = (2, 3)) -> tuple[str, str]:
    """Give every heading a stable id and build a nested table of contents.

    Parameters
    ----------
    body : str
        Rendered HTML.
    levels : tuple of int, keyword-only
        Heading levels listed in the contents.

    Returns
    -------
    (str, str)
        The HTML with ids set (nbconvert's anchor links removed) and the
        ``<nav>`` element of the contents.
    """
    seen: dict[str, int] = {}
    entries: list[tuple[int, str, str]] = []

    def repl(m: re.Match[str]) -> str:
        level, attrs, inner = int(m.group(1)), m.group(2) or "", m.group(3)
        inner = _ANCHOR.sub("", inner)
        text = _heading_text(inner)
        slug = slugify(text)
        seen[slug] = seen.get(slug, 0) + 1
        if seen[slug] > 1:
            slug = f"{slug}-{seen[slug]}"
        attrs = re.sub(r'\s+id="[^"]*"', "", attrs)
        if level in levels:
            entries.append((level, slug, text))
        return f'<h{level} id="{slug}"{attrs}>{inner}</h{level}>'

    out = _HEADING.sub(repl, body)
    items: list[str] = []
    open_sub = False
    for level, slug, text in entries:
        # ``text`` is already escaped HTML text (tags stripped), so it is inserted as is.
        link = f'<a href="#{slug}">{text}</a>'
        if level == min(levels):
            if open_sub:
                items.append("</ol></li>")
                open_sub = False
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
        else:
            if not open_sub:
                items.append("<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    if open_sub:
        items.append("</ol></li>")
    elif items:
        items.append("</li>")
    nav = (f'<nav class="ek-toc" aria-labelledby="ek-toc-title"><h2 id="ek-toc-title">{esc(_("Contents"))}</h2>'
           f"<ol>{''.join(items)}</ol></nav>") if entries else ""
    return out, nav


def insert_toc(body: str, nav: str) -> str:
    """Put the contents right after the report's title ``</header>``, else at the marker."""
    start = body.find(TOC_MARKER)
    end = body.find("</header>", start) if start >= 0 else -1
    if end >= 0:
        end += len("</header>")
        return body[:start] + body[start + len(TOC_MARKER):end] + nav + body[end:]
    return body.replace(TOC_MARKER, nav, 1)


class _FetchFinder(HTMLParser):
    """Collect what would make a browser load something: scripts, remote URLs, CSS fetches."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(f"<script> element at line {self.getpos()[0]}")
        if tag == "style":
            self._in_style = True
        for name, value in attrs:
            value = value or ""
            if (name in _FETCH_ATTRS or (tag == "link" and name == "href")) and _REMOTE.match(value):
                self.found.append(f"<{tag} {name}={value[:80]!r}> at line {self.getpos()[0]}")
            if name == "style" and _CSS_FETCH.search(value):
                self.found.append(f"<{tag} style=...> loads CSS from the network at line {self.getpos()[0]}")
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> event handler at line {self.getpos()[0]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and _CSS_FETCH.search(data):
            self.found.append(f"a <style> element loads from the network at line {self.getpos()[0]}")


def external_references(text: str) -> list[str]:
    """Places in an HTML document that would load or run something when it is opened.

    The document is parsed (text that merely mentions ``url(//...)`` or
    ``<script>``, escaped, is fine): ``<script>`` elements, event-handler
    attributes, fetching attributes (``src``, ``<link href>`` ...) with a remote
    URL, and CSS ``url(//...)`` / ``@import`` in ``<style>`` or ``style=`` are
    reported. Links (``<a href>``) are allowed.
    """
    finder = _FetchFinder()
    finder.feed(text)
    finder.close()
    return finder.found

def _title(body: str, default: str) -> str:
    m = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.DOTALL | re.IGNORECASE)
    return html.unescape(_heading_text(m.group(1))) if m else default


def _b64encode_text(value: str) -> str:
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def render_html(nb: "nbformat.NotebookNode", *, include_code: bool = False, title: str = "Evaluation report",  # noqa: F821
                language: str = "en") -> str:
    """Render a notebook node to the report's HTML text (no file written).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook; not modified.
    include_code : bool, keyword-only
        Keep code cells (for researchers); prompts stay hidden.
    title : str, keyword-only
        Document title when the report has no ``<h1>``.
    language : str, keyword-only
        Report language: the shown Markdown cells are translated through the
        message catalogue and ``<html lang>`` is set (WCAG 3.1.1).

    Returns
    -------
    str
        The complete HTML document.
    """
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    translate_markdown_cells(nb, language)
    hidden = ("remove-cell",) if include_code else HIDDEN_TAGS
    nb.cells = [c for c in nb.cells if not set(c.get("metadata", {}).get("tags", [])) & set(hidden)]
    for c in nb.cells:  # execution metadata carries timestamps; never render it
        c.get("metadata", {}).pop("execution", None)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=not include_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    exporter.register_filter("b64encode_text", _b64encode_text)
    with use_language(language):
        text = {"skip": _("Skip to the report"), "built": _("Built with evalkit from the executed notebook."),
                "all_reports": _("All evaluation reports"),
                "index_href": "index.html" if language == "en" else f"index.{language}.html"}
    resources = {"evalkit_css": report_css(), "evalkit_title": "", "evalkit_include_code": include_code,
                 "evalkit_lang": language, "evalkit_text": text}
    body, _res = exporter.from_notebook_node(nb, resources=resources)
    main = body.split("<main", 1)[-1]
    doc_title = _title(main, title)
    body = body.replace("<title></title>", f"<title>{html.escape(doc_title)}</title>", 1)
    with use_language(language):
        body, nav = add_toc(body)
    body = insert_toc(body, nav)
    body = "\n".join(line.rstrip() for line in body.splitlines()) + "\n"
    return body


def export_html(executed_notebook: Path, out_html: Path, *, include_code: bool = False, language: str = "en") -> Path:
    """Write an executed notebook as one self-contained HTML report, atomically.

    Parameters
    ----------
    executed_notebook : Path
        The notebook papermill executed (``reports/<campaign>/02_evaluate.ipynb``).
    out_html : Path
        Destination (``reports/<campaign>.html``).
    include_code : bool, keyword-only
        Keep the code cells, for researchers.
    language : str, keyword-only
        Report language (see :func:`render_html`).

    Returns
    -------
    Path
        ``out_html``.

    Raises
    ------
    HtmlExportError
        If the notebook cannot be read, or the HTML would load anything from
        the network (the report must open offline).

    Examples
    --------
    >>> export_html(Path("reports/together/02_evaluate.ipynb"), Path("reports/together.html"))  # doctest: +SKIP
    PosixPath('reports/together.html')
    """
    import nbformat

    executed_notebook, out_html = Path(executed_notebook), Path(out_html)
    try:
        nb = nbformat.read(executed_notebook, as_version=4)
    except (OSError, ValueError) as exc:
        raise HtmlExportError(f"Cannot read the executed notebook {executed_notebook}: {exc}. "
                              f"Run the evaluation step again (python -m evalkit evaluate <campaign>).") from None
    text = render_html(nb, include_code=include_code, title=executed_notebook.stem, language=language)
    problems = external_references(text)
    if problems:
        from evalkit.errors import format_problems

        raise HtmlExportError(format_problems(
            f"The report for {executed_notebook} would load content from the network, so it would not open "
            f"offline; remove these from the notebook's outputs:", problems))
    return write_text_atomic(out_html, text)
