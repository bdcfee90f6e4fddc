"""Tests for evalkit.deid: PII column detection, keyed pseudonyms, free-text scrubbing."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

import fixtures_raw as fx
from evalkit import deid
from evalkit.readers import read_codebook


@pytest.mark.parametrize(("column", "kind"), [
    ("resp/resp_name", "name"), ("first_name", "name"), ("Оролцогчийн нэр", "name"), ("Нэр", "name"),
    ("Овог", "name"), ("ФИО", "name"), ("Фамилия", "name"), ("resp/phone", "phone"), ("tel", "phone"),
    ("Утасны дугаар", "phone"), ("Телефон", "phone"), ("school_name", "school"), ("Сургуулийн нэр", "school"),
    ("_geolocation", "gps"), ("gps-latitude", "gps"), ("Байршил (GPS)", "gps"), ("email", "email"),
    ("И-мэйл хаяг", "email"), ("comments", "free_text"), ("Санал хүсэлт", "free_text"),
])
def test_pii_names_detected(column, kind):
    assert deid.detect_pii_columns([column]) == {column: kind}


@pytest.mark.parametrize("column", ["demo/sex", "demo/location", "resp/resp_type", "att/no_harm", "Энэрэл",
                                    "know/know_level", "demo/age_band", "Телевиз"])
def test_safe_columns_not_flagged(column):
    # "Энэрэл" (compassion) contains "нэр" but not at a word start; "Телевиз" is not "тел".
    assert deid.detect_pii_columns([column]) == {}


def test_codebook_types(tmp_path):
    cb = read_codebook(fx.write_codebook(tmp_path / "f.xlsx"))
    found = deid.detect_pii_columns(list(cb.questions), cb)
    assert found["comments"] == "free_text" and found["resp/resp_name"] == "name"
    assert found["resp/resp_id"] == "free_text"  # a text question; the id is pseudonymised, never kept as is
    assert "demo/location" not in found  # its Mongolian label "Байршил" is not searched


def test_pseudonymise_is_keyed_hmac():
    ids = pd.Series(["R001", " R001", "R002", None], index=[5, 6, 7, 8])
    out = deid.pseudonymise(ids, b"secret")
    # Reference: the standard library's HMAC-SHA256 of the stripped id, first 16 hex digits.
    ref = "r" + hmac.new(b"secret", b"R001", hashlib.sha256).hexdigest()[:16]
    assert out.loc[5] == ref and out.loc[6] == ref and out.loc[7] != ref and pd.isna(out.loc[8])
    assert out.index.tolist() == [5, 6, 7, 8]
    assert deid.pseudonymise(ids, "other key").loc[5] != ref
    assert ids.loc[6] == " R001"  # input not modified


def test_key_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    monkeypatch.delenv(deid.KEY_ENV, raising=False)
    assert deid.pseudonym_key() == (deid.DEMO_KEY.encode(), "demo")
    (tmp_path / deid.KEY_FILE).write_text("file-secret\n", encoding="utf-8")
    assert deid.pseudonym_key() == (b"file-secret", "file")
    monkeypatch.setenv(deid.KEY_ENV, "env-secret")
    assert deid.pseudonym_key() == (b"env-secret", "env")


def test_scrub_free_text():
    texts = pd.Series(["Call 99112233 please", "утас: +976 8811-4455", "mail bat.dorj@mail.mn now",
                       "grade 5, 1234 pupils", None])
    out = deid.scrub_free_text(texts)
    assert out.tolist()[:4] == ["Call [phone] please", "утас: [phone]", "mail [email] now", "grade 5, 1234 pupils"]
    assert pd.isna(out.iloc[4])


def test_pseudonymise_long_key_and_categories():
    key = b"k" * 100  # longer than the SHA-256 block: RFC 2104 hashes it first
    ids = pd.Series(["A", "B", None, "A "], dtype="category")
    out = deid.pseudonymise(ids, key)
    # Reference: the standard library's hmac module.
    assert out.iloc[0] == "r" + hmac.new(key, b"A", hashlib.sha256).hexdigest()[:16] == out.iloc[3]
    assert out.iloc[1] == "r" + hmac.new(key, b"B", hashlib.sha256).hexdigest()[:16] and pd.isna(out.iloc[2])


def test_key_notice():
    assert deid.key_notice("demo").startswith("WARNING") and deid.KEY_ENV in deid.key_notice("demo")
    assert "environment variable" in deid.key_notice("env") and deid.KEY_FILE in deid.key_notice("file")
