"""Detect the text encoding of a raw export: UTF-8, UTF-8 with BOM, Windows-1251 or Windows-1252.

Survey exports arrive in one of four encodings: UTF-8 (Kobo and ODK), UTF-8
with a byte-order mark (Excel's "CSV UTF-8"), Windows-1251 (Excel's "CSV" on
a Cyrillic Windows) and Windows-1252 (Excel's "CSV" on a Western European,
Latin American or African Windows). Anything else is refused with a message
naming the file and saying how to re-save it. Bytes are never "replaced": a
file either decodes strictly or is rejected.

A second failure mode is *mojibake*: text that was decoded with the wrong
code page and saved again, so that ``а`` (UTF-8 ``D0 B0``) shows as ``Р°``
(cp1251) or ``Ð°`` (Latin-1), and ``é`` (UTF-8 ``C3 A9``) as ``Ã©``. Such a
file decodes without error but its answers would never match the codebook, so
it is refused too. Only these double-encoding signatures are flagged: valid
text in any Latin-script language (French, Spanish, Portuguese, ...) passes.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from evalkit.errors import EncodingDetectionError

#: Encodings evalkit accepts, as Python codec names.
SUPPORTED = ("utf-8", "utf-8-sig", "cp1251", "cp1252")

_BOM = codecs.BOM_UTF8
_CHUNK = 1 << 24  # validate UTF-8 in 16 MiB chunks (bounded memory)
_SAMPLE = 1 << 20  # plausibility checks look at the first 1 MiB of text

# Characters that bytes 0x80-0xBF (UTF-8 continuation bytes) become in cp1251
# and Latin-1: a Cyrillic lead byte (D0-D3 -> Р С Т У / Ð Ñ Ò Ó) followed by one
# of them is the signature of UTF-8 text read in the wrong code page.
_CONT_CP1251 = re.escape(bytes(b for b in range(0x80, 0xC0) if b != 0x98).decode("cp1251"))
_CONT_LATIN1 = re.escape(bytes(range(0x80, 0xC0)).decode("latin-1"))
_MOJIBAKE_CP1251 = re.compile(f"[РСТУ][{_CONT_CP1251}]")
_LEAD_CP1251 = re.compile("[РСТУ]")
_MOJIBAKE_LATIN1 = re.compile(f"[ÐÑÒÓ][{_CONT_LATIN1}]")
# UTF-8 Latin letters (lead byte C2/C3) read as Windows-1252: "Ã©" for "é".
_CONT_CP1252 = re.escape(bytes(b for b in range(0x80, 0xC0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)).decode("cp1252"))
_MOJIBAKE_CP1252 = re.compile(f"[ÂÃ][{_CONT_CP1252}]")
_LEAD_CP1252 = re.compile("[ÂÃ]")
# cp1251 Cyrillic letters read as Latin-1 become *runs* of accented Latin
# letters ("Òàíä"); in real Latin-script text accented letters stand alone
# among ASCII letters, so three in a row is the signature.
_LATIN1_RUN = re.compile("[\u00c0-\u00ff]{3,}")
_LATIN1_LETTERS = re.compile("[\u00c0-\u00ff]")
# In plausible cp1252 text, non-ASCII characters are Latin letters or typographic punctuation.
_CP1252_PLAUSIBLE = re.compile("[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                               "\u02c6\u02dc\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030"
                               "\u2039\u203a\u20ac\u2122]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_MIXED_SCRIPT = re.compile("[A-Za-z][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
# In plausible cp1251 text, non-ASCII characters are Cyrillic letters or
# common typographic punctuation (quotes, dashes, No., degree, NBSP).
_CP1251_PLAUSIBLE = re.compile("[\u0400-\u04ff\u00a0\u00ab\u00bb\u00b0\u00b1\u00a7\u00a9\u00ae\u00b7"
                               "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u2116\u20ac]")

_ADVICE = ("Open it in a spreadsheet or text editor and re-save it as UTF-8 "
           "(Excel: 'CSV UTF-8 (Comma delimited)'; LibreOffice: character set 'Unicode (UTF-8)').")


def _fail(name: str, detail: str) -> EncodingDetectionError:
    return EncodingDetectionError(
        f"The file {name} is not in a supported text encoding (UTF-8, UTF-8 with BOM, "
        f"Windows-1251 or Windows-1252): {detail}. {_ADVICE}")


def _is_strict_utf8(data: bytes) -> tuple[bool, int]:
    """Validate UTF-8 chunk by chunk; return (ok, offset of the first bad byte)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    for start in range(0, len(data), _CHUNK):
        try:
            decoder.decode(view[start:start + _CHUNK], final=start + _CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            return False, start + exc.start
    if not data:
        decoder.decode(b"", final=True)
    return True, -1


def _check_mojibake(text: str, name: str) -> None:
    hits = len(_MOJIBAKE_CP1251.findall(text))
    # Genuine text has Р/С/Т/У mostly before letters; mojibake nearly always
    # before a continuation character.
    if hits >= 2 and hits >= 0.5 * len(_LEAD_CP1251.findall(text)):
        example = _MOJIBAKE_CP1251.search(text).group(0)
        raise _fail(name, f"it looks like UTF-8 text that was opened as Windows-1251 and saved again "
                          f"({hits} sequences such as {example!r} instead of Cyrillic letters)")
    hits = len(_MOJIBAKE_LATIN1.findall(text))
    if hits >= 2 and hits >= 0.5 * len(re.findall("[ÐÑÒÓ]", text)):
        example = _MOJIBAKE_LATIN1.search(text).group(0)
        raise _fail(name, f"it looks like UTF-8 text that was opened as Latin-1/Windows-1252 and saved "
                          f"again ({hits} sequences such as {example!r} instead of Cyrillic letters)")
    hits = len(_MOJIBAKE_CP1252.findall(text))
    if hits >= 2 and hits >= 0.5 * len(_LEAD_CP1252.findall(text)):
        example = _MOJIBAKE_CP1252.search(text).group(0)
        raise _fail(name, f"it looks like UTF-8 text that was opened as Latin-1/Windows-1252 and saved "
                          f"again ({hits} sequences such as {example!r} instead of accented letters)")
    runs = _LATIN1_RUN.findall(text)
    latin = len(_LATIN1_LETTERS.findall(text))
    if len(runs) >= 5 and sum(len(r) for r in runs) >= 0.5 * latin:
        raise _fail(name, f"it holds {len(runs)} runs of accented Latin letters (such as {runs[0]!r}) that "
                          f"are Cyrillic words in disguise: Windows-1251 text was probably opened as Latin-1 "
                          f"and saved again")


def detect_bytes_encoding(data: bytes, *, name: str = "<data>", validate: bool = True) -> str:
    """Detect the encoding of raw bytes already read from a file.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str, keyword-only
        File name used in error messages.
    validate : bool, keyword-only
        If False, UTF-8 is decided from the first MiB only and the caller
        promises to validate the rest strictly (the CSV reader's Arrow parser
        checks every string cell); on failure it calls again with True.

    Returns
    -------
    str
        ``"utf-8"``, ``"utf-8-sig"`` (UTF-8 with byte-order mark),
        ``"cp1251"`` (Windows-1251) or ``"cp1252"`` (Windows-1252); a Python
        codec name.

    Raises
    ------
    EncodingDetectionError
        If the bytes are none of these, contain NUL bytes (UTF-16, binary
        files) or show mojibake; the message names the file and suggests
        re-saving as UTF-8.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _fail(name, "it is UTF-16 (a byte-order mark FF FE or FE FF starts the file)")
    if b"\x00" in data[:_SAMPLE]:
        raise _fail(name, "it contains NUL bytes, so it is UTF-16 or a binary file (an .xlsx or .sav "
                          "renamed to .csv?)")
    if data.isascii():
        return "utf-8"
    has_bom = data.startswith(_BOM)
    if not validate and len(data) > _SAMPLE:
        try:
            sample = codecs.getincrementaldecoder("utf-8")("strict").decode(data[:_SAMPLE], final=False)
        except UnicodeDecodeError:
            pass
        else:
            _check_mojibake(sample, name)
            return "utf-8-sig" if has_bom else "utf-8"
    ok, bad_at = _is_strict_utf8(data)
    if ok:
        _check_mojibake(data[:_SAMPLE].decode("utf-8", errors="ignore"), name)
        return "utf-8-sig" if has_bom else "utf-8"
    if has_bom:
        raise _fail(name, f"it starts with a UTF-8 byte-order mark but byte {bad_at} "
                          f"(0x{data[bad_at]:02X}) is not valid UTF-8")
    try:
        text = data.decode("cp1251")  # strict: byte 0x98 is undefined in cp1251
    except UnicodeDecodeError as exc:
        western = _as_cp1252(data)
        if western is not None:
            _check_mojibake(western[:_SAMPLE], name)
            return "cp1252"
        raise _fail(name, f"it is not valid UTF-8 (byte {bad_at}, 0x{data[bad_at]:02X}) nor Windows-1251 "
                          f"(byte {exc.start}, 0x{data[exc.start]:02X}) nor Windows-1252") from None
    sample = text[:_SAMPLE]
    non_ascii = _NON_ASCII.findall(sample)
    plausible = len(_CP1251_PLAUSIBLE.findall(sample))
    mixed = len(_MIXED_SCRIPT.findall(sample))
    if (not non_ascii or plausible >= 0.9 * len(non_ascii)) and not (mixed >= 2 and mixed > 0.05 * len(non_ascii)):
        _check_mojibake(sample, name)
        return "cp1251"
    western = _as_cp1252(data)
    if western is not None:
        _check_mojibake(western[:_SAMPLE], name)
        return "cp1252"
    if non_ascii and plausible < 0.9 * len(non_ascii):
        odd = next(c for c in non_ascii if not _CP1251_PLAUSIBLE.match(c))
        raise _fail(name, f"it is not valid UTF-8 (byte {bad_at}, 0x{data[bad_at]:02X}), and read as "
                          f"Windows-1251 only {plausible} of {len(non_ascii)} non-ASCII characters are "
                          f"Cyrillic (for example {odd!r}), nor does it read as Windows-1252 text; it may be "
                          f"in another code page")
    example = _MIXED_SCRIPT.search(sample).group(0)
    raise _fail(name, f"it is not valid UTF-8 (byte {bad_at}, 0x{data[bad_at]:02X}), and read as "
                      f"Windows-1251 its words mix Latin and Cyrillic letters ({mixed} times, such as "
                      f"{example!r}), nor does it read as Windows-1252 text")


def _as_cp1252(data: bytes) -> str | None:
    """The text, if the bytes are plausible Windows-1252 (Latin letters and punctuation, no Cyrillic in disguise)."""
    try:
        text = data.decode("cp1252")  # strict: 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined
    except UnicodeDecodeError:
        return None
    sample = text[:_SAMPLE]
    non_ascii = _NON_ASCII.findall(sample)
    if len(_CP1252_PLAUSIBLE.findall(sample)) < 0.9 * len(non_ascii):
        return None
    runs = _LATIN1_RUN.findall(sample)
    if runs and sum(len(r) for r in runs) >= 0.5 * len(_LATIN1_LETTERS.findall(sample)):
        return None  # Cyrillic words read in the wrong code page, not Western text
    return text


def detect_encoding(path: Path | str) -> str:
    """Detect whether a text file is UTF-8, UTF-8 with BOM or Windows-1251.

    The file is opened read-only. UTF-8 is tried first, strictly, over the
    whole file; then Windows-1251, accepted only if the non-ASCII characters
    are mostly Cyrillic letters. Mojibake (``Р°``, ``Ð°``) is refused.

    Parameters
    ----------
    path : Path or str
        The file.

    Returns
    -------
    str
        ``"utf-8"``, ``"utf-8-sig"`` or ``"cp1251"``: pass it to ``open``.

    Raises
    ------
    EncodingDetectionError
        Naming the file, what was found and suggesting to re-save it as UTF-8.

    References
    ----------
    Unicode Consortium, "UTF-8, UTF-16, UTF-32 & BOM" FAQ; Microsoft code page
    1251 (Cyrillic) table.

    Examples
    --------
    >>> detect_encoding("data/raw/together/baseline.csv")  # doctest: +SKIP
    'utf-8'
    """
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read()
    return detect_bytes_encoding(data, name=str(path))


def decode_strict(data: bytes, encoding: str, *, name: str = "<data>") -> str:
    """Decode bytes strictly with a detected encoding (never replacing bytes)."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _fail(name, f"byte {exc.start} (0x{data[exc.start]:02X}) is not valid {encoding}") from None
