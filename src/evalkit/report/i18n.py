"""The report language: message catalogue (gettext via Babel) and the current language.

Every user-visible sentence of a report is written in English in the code,
wrapped in :func:`_` (or :func:`ngettext` for counted nouns), and looked up in
``locale/<lang>/LC_MESSAGES/evalkit.po``. The ``.po`` files are the only
translation source in the repository; they are compiled in memory the first
time a language is used (Babel's ``read_po`` and ``write_mo``), so there is no
build step and no compiled file to keep in sync. The notebook's Markdown cells
go through the same catalogue when the report is exported
(:func:`translate_markdown_cells`), so one notebook serves every language.

Maintainers refresh the catalogue with ``python -m evalkit i18n``
(:func:`extract_messages` / :func:`update_catalogues`); a test fails when the
code has a message the catalogue lacks or a Mongolian entry is untranslated.

Formatting of numbers and dates in the current language lives in
:mod:`evalkit.report.format` (Babel's CLDR data).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from evalkit.atomic import write_text_atomic
from evalkit.errors import ConfigError
from evalkit.reportspec import REPORT_LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "evalkit"
#: Source language of the messages in the code.
SOURCE_LANGUAGE = "en"
#: Language names as shown to readers (in that language), for links between languages.
LANGUAGE_NAMES = {"en": "English", "mn": "Монгол"}
#: CLDR locale used for number and date formatting of each report language.
CLDR_LOCALES = {"en": "en_GB", "mn": "mn"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("evalkit_report_language", default=SOURCE_LANGUAGE)


def check_language(language: str) -> str:
    """Return ``language`` if it is a report language, else raise :class:`ConfigError` listing them."""
    lang = (language or SOURCE_LANGUAGE).strip().lower()
    if lang not in REPORT_LANGUAGES:
        raise ConfigError(f"The report language {language[:20]!r} is not available; use one of: "
                          f"{', '.join(REPORT_LANGUAGES)} (e.g. REPORT_LANG=mn).")
    return lang


def set_language(language: str) -> None:
    """Make ``language`` the current report language (for this thread/context).

    Returns nothing, so a notebook cell ending with this call shows no output.
    """
    _current.set(check_language(language))


def get_language() -> str:
    """The current report language code (``en`` unless :func:`set_language` was called)."""
    return _current.get()


@contextlib.contextmanager
def use_language(language: str) -> Iterator[str]:
    """Context manager: the report language is ``language`` inside the block."""
    token = _current.set(check_language(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def po_path(language: str) -> Path:
    """Path of a language's ``.po`` file."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Catalog:
    """The parsed ``.po`` catalogue of ``language``."""
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


@functools.lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """gettext translations of ``language``, compiled in memory from its ``.po`` file.

    Fuzzy entries are not used (gettext's rule): a message whose English text
    changed falls back to English until a translator confirms it, and the
    catalogue test fails meanwhile.
    """
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, read_catalogue(language), use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def _(message: str) -> str:
    """``message`` in the current report language (gettext)."""
    return translations(get_language()).gettext(message)


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it where it is shown with :func:`_`."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a counted message in the current language (CLDR plural rules)."""
    return translations(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, disambiguated by ``context`` (a word with two meanings)."""
    return translations(get_language()).pgettext(context, message)


def lang_attr(language: str | None = None) -> str:
    """``lang="mn"``-style attribute for the current (or given) language (WCAG 3.1.1/3.1.2)."""
    return f'lang="{language or get_language()}"'


def foreign(text_html: str, language: str) -> str:
    """Wrap already-escaped HTML that is in ``language`` when it differs from the report's (WCAG 3.1.2)."""
    if not text_html or language == get_language():
        return text_html
    return f'<span lang="{language}">{text_html}</span>'


# --------------------------------------------------------------------------- notebook Markdown cells


def markdown_messages(nb: Any) -> list[tuple[int, str]]:
    """``(cell index, text)`` of every Markdown cell a report shows (cells tagged ``remove-cell`` are not shown)."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") == "markdown" and "remove-cell" not in tags:
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            if src.strip():
                out.append((i, src.strip()))
    return out


def translate_markdown_cells(nb: Any, language: str) -> Any:
    """Replace each shown Markdown cell's text by its translation (in place; returns ``nb``).

    The msgid is the cell's whole text, so a researcher who edits a cell sees
    the catalogue test fail until the translation is updated.
    """
    with use_language(language):
        for i, text in markdown_messages(nb):
            nb["cells"][i]["source"] = _(text)
    return nb


def extract_python(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel's Python extraction, plus messages inside f-strings (``f"<p>{esc(_('Consent.'))}</p>"``).

    Babel reads f-string contents only on Python 3.12 and newer (where the
    tokenizer splits them); on 3.11 an f-string is one token. The literal
    ``_()`` / ``ngettext()`` / ``pgettext()`` calls inside f-strings are found
    with :mod:`ast` here, so the catalogue is the same on every Python.
    """
    import ast
    import tokenize

    from babel.messages.extract import extract_python as babel_extract_python

    data = fileobj.read()
    yield from babel_extract_python(io.BytesIO(data), keywords, comment_tags, options)
    text = data.decode("utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.STRING or not tok.string.lstrip("rRbB")[:1] in ("f", "F"):
            continue
        try:
            tree = ast.parse(tok.string, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "ngettext" and len(args) >= 2:
                yield (tok.start[0] + node.lineno - 1, "ngettext", (args[0], args[1]), [])
            elif node.func.id == "pgettext" and len(args) >= 2:
                yield (tok.start[0] + node.lineno - 1, "pgettext", (args[0], args[1]), [])
            elif node.func.id in ("_", "N_") and args:
                yield (tok.start[0] + node.lineno - 1, node.func.id, args[0], [])


def extract_notebook(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel extraction method for ``.ipynb`` files: the shown Markdown cells (see :func:`markdown_messages`)."""
    import nbformat

    nb = nbformat.read(io.TextIOWrapper(fileobj, encoding="utf-8"), as_version=4)
    for i, text in markdown_messages(nb):
        yield (i + 1, None, text, [])


# --------------------------------------------------------------------------- maintaining the catalogue


#: Where messages are extracted from (relative to the project root), and how.
EXTRACT_METHODS = [("src/evalkit/**.py", "evalkit.report.i18n:extract_python"),
                   ("notebooks/**.ipynb", "evalkit.report.i18n:extract_notebook")]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


def extract_messages(root: Path) -> Catalog:
    """A catalogue template (``.pot``) of every message in the code and the notebooks under ``root``."""
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(domain=DOMAIN, project="evalkit reports", charset="utf-8")
    for dirname, method_glob in (("src/evalkit", "**.py"), ("notebooks", "**.ipynb")):
        method = dict(EXTRACT_METHODS)[f"{dirname}/{method_glob}"]
        for filename, lineno, message, comments, context in extract_from_dir(
                root / dirname, method_map=[(method_glob, method)], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
                strip_comment_tags=True):
            catalog.add(message, None, [(f"{dirname}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def update_catalogues(root: Path) -> dict[str, int]:
    """Merge the code's messages into every language's ``.po`` (new ones untranslated); returns untranslated counts."""
    from babel.messages.pofile import write_po

    template = extract_messages(root)
    counts = {}
    for lang in REPORT_LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        path = po_path(lang)
        cat = read_catalogue(lang) if path.is_file() else Catalog(locale=lang, domain=DOMAIN)
        template.creation_date = cat.creation_date  # the header changes only when a translator edits it
        cat.update(template, no_fuzzy_matching=True)
        cat.project = "evalkit reports"
        for m in cat:  # messages use str.format ({name}); "95% c..." is not a %-directive
            m.flags.discard("python-format")
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        write_po(buf, cat, width=100, omit_header=False, sort_output=False, include_previous=False, ignore_obsolete=True)
        write_text_atomic(path, buf.getvalue().decode("utf-8"))
        counts[lang] = sum(1 for m in cat if m.id and not m.string)
    translations.cache_clear()
    return counts
