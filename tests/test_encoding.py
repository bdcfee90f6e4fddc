"""Tests for evalkit.encoding: UTF-8, UTF-8 BOM, Windows-1251 and Windows-1252 are detected; anything else is refused."""

from __future__ import annotations

import codecs

import pytest

from evalkit.encoding import decode_strict, detect_bytes_encoding, detect_encoding
from evalkit.errors import EncodingDetectionError

TEXT = "Оролцогчийн төрөл,Сургуулийн ажилтан,Тийм,Үгүй\nМэдлэг,Маш сайн,Хот,Хөдөө\n"
RUSSIAN = "Фамилия,Имя,Телефон,Школа\nИванов,Пётр,Москва,Школа номер пять\n"  # cp1251 has no Ө/Ү
# Issue 12: 451 accented letters in a valid UTF-8 French export were refused as mojibake.
FRENCH = ("Êtes-vous d'accord pour participer ?,Très bien,Élève,À l'école,Garçon,Bien sûr,"
          "Où avez-vous vu la campagne ?,Peut-être,Enquête réalisée\n") * 60
SPANISH = "¿Está de acuerdo?,Sí,Niño,Educación,Año escolar,Señora Muñoz\n" * 20


@pytest.mark.parametrize(("data", "expected"), [
    (b"a,b\n1,2\n", "utf-8"),
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (RUSSIAN.encode("cp1251"), "cp1251"),
    (FRENCH.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + SPANISH.encode("utf-8"), "utf-8-sig"),
    ("Vietnamese: Bạn có đồng ý tham gia không? Có, Không\n".encode("utf-8") * 30, "utf-8"),
    (FRENCH.encode("cp1252"), "cp1252"),
    (SPANISH.encode("cp1252"), "cp1252"),
    ("Grüße aus München, Straße, Größe\n".encode("latin-1"), "cp1252"),
])
def test_detects_supported_encodings(tmp_path, data, expected):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == expected
    assert path.read_bytes() == data  # read-only: unchanged


def _error(data: bytes, tmp_path) -> str:
    path = tmp_path / "bad_export.csv"
    path.write_bytes(data)
    with pytest.raises(EncodingDetectionError) as exc:
        detect_encoding(path)
    message = str(exc.value)
    assert "bad_export.csv" in message and "re-save it as UTF-8" in message
    return message


def test_utf16_refused(tmp_path):
    assert "UTF-16" in _error(TEXT.encode("utf-16"), tmp_path)


def test_binary_refused(tmp_path):
    assert "NUL" in _error(b"PK\x03\x04\x00\x00binary", tmp_path)


def test_mojibake_utf8_read_as_cp1251_refused(tmp_path):
    # "а" (UTF-8 D0 B0) shown as "Р°" in cp1251, then saved again as UTF-8.
    garbled = TEXT.encode("utf-8").decode("cp1251", errors="ignore").encode("utf-8")
    assert "Windows-1251" in _error(garbled, tmp_path)


def test_mojibake_utf8_read_as_latin1_refused(tmp_path):
    garbled = TEXT.encode("utf-8").decode("latin-1").encode("utf-8")
    assert "Latin-1" in _error(garbled, tmp_path)


def test_cp1251_read_as_latin1_refused(tmp_path):
    garbled = RUSSIAN.encode("cp1251").decode("latin-1").encode("utf-8")
    assert "accented Latin" in _error(garbled, tmp_path)


def test_mojibake_french_read_as_cp1252_refused(tmp_path):
    # "é" (UTF-8 C3 A9) shown as "Ã©" in Windows-1252, then saved again as UTF-8.
    garbled = FRENCH.encode("utf-8").decode("cp1252").encode("utf-8")
    assert "instead of accented letters" in _error(garbled, tmp_path)


def test_cp1252_text_decodes_to_the_original(tmp_path):
    path = tmp_path / "fr.csv"
    path.write_bytes(FRENCH.encode("cp1252"))
    assert decode_strict(path.read_bytes(), detect_encoding(path)) == FRENCH


def test_french_read_as_cp1251_is_not_taken_for_cyrillic(tmp_path):
    # cp1252 bytes of French decode as cp1251 too ("é" -> "й"), mixing scripts in words: read as cp1252.
    data = FRENCH.encode("cp1252")
    assert data.decode("cp1251") != FRENCH and detect_bytes_encoding(data) == "cp1252"


def test_invalid_utf8_after_bom_refused(tmp_path):
    assert "byte-order mark" in _error(codecs.BOM_UTF8 + b"abc\xff\xfe", tmp_path)


def test_undefined_cp1251_byte_refused(tmp_path):
    # 0x98 is undefined in cp1251 and invalid as a UTF-8 start byte.
    assert "nor Windows-1251" in _error(b"abc \x98 \x81 def", tmp_path)


def test_decode_strict_never_replaces():
    with pytest.raises(EncodingDetectionError, match="x.csv"):
        decode_strict(b"ok \xff", "utf-8", name="x.csv")
    assert decode_strict("Тийм".encode("cp1251"), "cp1251") == "Тийм"


def test_detect_bytes_encoding_names_the_file():
    with pytest.raises(EncodingDetectionError, match="endline.csv"):
        detect_bytes_encoding(b"\xff\xfeA\x00", name="endline.csv")


def test_cp1252_with_a_byte_cp1251_lacks(tmp_path):
    # 0x98 is "˜" in cp1252 but undefined in cp1251.
    data = "Señor ˜ niño, café\n".encode("cp1252")
    assert b"\x98" in data and detect_bytes_encoding(data) == "cp1252"
