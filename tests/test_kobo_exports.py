"""Real KoboToolbox / ODK Central export shapes (issue 12), on the French form of :mod:`fixtures_kobo`.

Each test names the issue point it proves. Reference values are the
submissions the fixture wrote (``fixtures_kobo.rows()``), by codebook name.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

import fixtures_kobo as fk
from evalkit.codebook import harmonise, match_headers
from evalkit.errors import CodebookError, ConfigError
from evalkit.params import DateRange, WaveFile
from evalkit.readers import header_text, load_export, read_codebook

FIELDWORK = DateRange(dt.date(2023, 5, 1), dt.date(2023, 5, 31))
SELECTS = ["consent", "menage/sexe", "menage/ecole", "connaissances/inclusion", "connaissances/canaux",
           "connaissances/savoir"]


def wave(**kw) -> WaveFile:
    return WaveFile(file="x", fieldwork=FIELDWORK, **kw)


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    return read_codebook(fk.write_form(tmp_path_factory.mktemp("form") / "cap_fr.xlsx"))


def _expected(question: str) -> list[str | None]:
    return [r.get(question) or None for r in fk.rows()]


def _answers(df: pd.DataFrame, question: str) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in df[question].astype("object")]


# --------------------------------------------------------------------------- point 1: any language


def test_point1_languages_from_label_columns_and_default_language(form):
    assert form.languages == {"fr": "Français", "es": "Español"}
    assert form.default_language == "fr"
    assert form.resolve_language("fr") == form.resolve_language("Français") == form.resolve_language("") == "fr"
    assert form.resolve_language("Español (es)") == "es" and form.resolve_language("de") is None


def test_point1_plain_label_column_is_the_default_language(tmp_path):
    cb = read_codebook(fk.write_form(tmp_path / "plain.xlsx", languages=("label",), default_language="French (fr)"))
    assert cb.languages == {"": "(no language)"}
    assert cb.resolve_language("fr") == cb.resolve_language("") == ""
    head, body = fk.kobo_export(fk.rows(), headers="label", values="label", lang="fr")
    df = harmonise(pd.DataFrame(body, columns=head), cb, wave_file=wave(headers="label", values="label",
                                                                          language="fr"))
    assert _answers(df, "connaissances/inclusion") == _expected("connaissances/inclusion")


def test_point1_unknown_language_names_the_key_and_the_languages(form):
    head, _ = fk.kobo_export(fk.rows())
    with pytest.raises(ConfigError) as exc:
        match_headers(head, form, wave_file=wave(language="de"), wave="endline")
    msg = str(exc.value)
    assert "raw.endline.language" in msg and "Français (fr)" in msg and "Español (es)" in msg


def test_point1_partial_translation_falls_back_as_kobo_does(form):
    # Spanish: 'savoir' and group 'connaissances' have no label -> XML name; 'tout_a_fait' has no
    # Spanish label -> its French one (formpack: labels.get(lang) or the default).
    head, body = fk.kobo_export(fk.rows(), headers="label", values="label", lang="es")
    assert "connaissances/savoir" in head and "Hogar/Sexo" in head
    df = harmonise(pd.DataFrame(body, columns=head), form, wave_file=wave(headers="label", values="label",
                                                                            language="es"))
    for q in SELECTS:
        assert _answers(df, q) == _expected(q), q


# --------------------------------------------------------------------------- every export option


OPTIONS = list(itertools.product(["xml", "label"], ["xml", "label"], [True, False], [True, False], [";", ","]))


@pytest.mark.parametrize(("headers", "values", "group_names", "extras", "delimiter"), OPTIONS)
def test_every_kobo_csv_option_reads_and_harmonises(tmp_path, form, headers, values, group_names, extras, delimiter):
    """Points 3, 4, 5, 6, 8: XML/label headers and values, with/without group names, notes and GPS, ';'/','."""
    head, body = fk.kobo_export(fk.rows(), headers=headers, values=values, group_names=group_names,
                                notes=extras, gps=extras)
    path = fk.write_csv(tmp_path / "export.csv", head, body, delimiter=delimiter)
    wf = wave(headers=headers, values=values, language="fr")
    raw = load_export(path, wf)
    assert [header_text(c) for c in raw.frame.columns] == head and len(raw.frame) == 6
    df = harmonise(raw.frame, form, wave_file=wf)
    for q in SELECTS + ["menage/precision1", "connaissances/precision2", "menage/ecole_other"]:
        assert _answers(df, q) == _expected(q), q
    kinds = {m.header: (m.kind, m.reason) for m in match_headers(list(raw.frame.columns), form, wave_file=wf)}
    ignored = sorted(r for k, r in kinds.values() if k == "ignored")
    assert ignored == (["gps part"] * 4 + ["note"] if extras else [])


@pytest.mark.parametrize(("headers", "values"), [("xml", "xml"), ("label", "label")])
def test_kobo_xlsx_with_repeat_sheet(tmp_path, form, headers, values):
    """Point 7 (XLSX): the first sheet is the survey; the repeat sheet is read beside it, not harmonised."""
    head, body = fk.kobo_export(fk.rows(), headers=headers, values=values)
    path = fk.write_xlsx(tmp_path / "export.xlsx", head, body, fk.rows())
    wf = wave(headers=headers, values=values)
    raw = load_export(path, wf)
    assert list(raw.repeats) == ["enfants"]
    rep = raw.repeats["enfants"]
    assert list(rep.columns[:4]) == ["age_enfant", "_index", "_parent_table_name", "_parent_index"]
    assert rep["_parent_index"].tolist() == [r["_index"] for r in fk.rows() for _ in r["children"]]
    df = harmonise(raw.frame, form, wave_file=wf)
    assert _answers(df, "connaissances/inclusion") == _expected("connaissances/inclusion")
    assert df["_id"].tolist() == [r["_id"] for r in fk.rows()]  # numbers as text, no ".0"


def test_odk_central_csv_zip(tmp_path, form):
    """Point 7 (ODK Central): the zip's main CSV is the wave, '-' between groups, Central's metadata kept out."""
    path = fk.central_zip(tmp_path / "cap_fr.zip", fk.rows())
    wf = wave(group_separator="-")
    raw = load_export(path, wf)
    assert list(raw.repeats) == ["cap_fr-enfants.csv"] and len(raw.repeats["cap_fr-enfants.csv"]) == 9
    matches = match_headers(list(raw.frame.columns), form, wave_file=wf)
    kinds = {m.header: m.kind for m in matches}
    assert all(kinds[h] == "metadata" for h in fk.CENTRAL_FIRST + fk.CENTRAL_LAST)
    assert kinds["menage-gps-Latitude"] == "ignored" and kinds["menage-note_intro"] == "ignored"
    df = harmonise(raw.frame, form, wave_file=wf)
    for q in SELECTS:
        assert _answers(df, q) == _expected(q), q


# --------------------------------------------------------------------------- points 4, 5: refusals


def test_point4_unknown_column_gives_the_cause_and_the_params_lines(form):
    head, body = fk.kobo_export(fk.rows(), headers="label", values="label")
    head = head + ["Nom du superviseur"]
    with pytest.raises(CodebookError) as exc:
        match_headers(head, form, wave_file=wave(headers="xml"), wave="baseline")
    msg = str(exc.value)
    assert "'Nom du superviseur'" in msg and "neither a question" in msg
    assert "ignore: ['Nom du superviseur']" in msg and "renames: {baseline: {'Nom du superviseur':" in msg
    assert "set 'raw.baseline.headers: label'" in msg  # the wrong 'headers' setting is named
    assert "map it in params: renames" not in msg


def test_point4_params_ignore_leaves_a_column_out(form):
    head, body = fk.kobo_export(fk.rows())
    head, body = head + ["superviseur"], [row + ["X"] for row in body]
    wf = wave(ignore=["superviseur"])
    m = {x.header: x for x in match_headers(head, form, wave_file=wf)}
    assert (m["superviseur"].kind, m["superviseur"].reason) == ("ignored", "params ignore")
    assert "superviseur" not in harmonise(pd.DataFrame(body, columns=head), form, wave_file=wf)


def test_point5_repeated_labels_resolved_by_position(form):
    head, _ = fk.kobo_export(fk.rows(), headers="label", group_names=False)
    assert head.count("Veuillez préciser") == 2
    targets = [m.target for m in match_headers(head, form, wave_file=wave(headers="label"))
               if m.header == "Veuillez préciser"]
    assert targets == ["menage/precision1", "connaissances/precision2"]


def test_point5_truly_ambiguous_header_names_both_candidates(form):
    # Both "Veuillez préciser" columns after every other question: the order cannot tell them apart.
    head, _ = fk.kobo_export(fk.rows(), headers="label", group_names=False)
    head = [h for h in head if h != "Veuillez préciser"] + ["Veuillez préciser", "Veuillez préciser"]
    with pytest.raises(CodebookError) as exc:
        match_headers(head, form, wave_file=wave(headers="label"))
    assert "'menage/precision1' or 'connaissances/precision2'" in str(exc.value)


# --------------------------------------------------------------------------- point 8: or_other


def test_point8_or_other_answer_and_text_column(form):
    from evalkit.deid import detect_pii_columns

    assert form.choice_names("menage/ecole") == ["publique", "privee", "other"]
    assert form.question("menage/ecole_other").type == "text"
    assert detect_pii_columns(["menage/ecole_other"], form) == {"menage/ecole_other": "free_text"}


# --------------------------------------------------------------------------- end to end: a French campaign


PARAMS = """campaign: cap
title: Campagne CAP
stage: Test
design: independent
campaign_period: {{start: 2023-05-01, end: 2023-05-31}}
raw:
  codebook: cap_fr.xlsx
  baseline:
    file: baseline.csv
    headers: label
    values: label
    language: fr
    fieldwork: {{start: 2023-05-01, end: 2023-05-31}}
  endline:
    file: endline.xlsx
    headers: label
    values: label
    language: es
    fieldwork: {{start: 2023-05-01, end: 2023-05-31}}
columns:
  respondent_id: menage/id_menage
  group: menage/groupe
  consent: consent
  consent_yes: oui
groups:
  AZ: Zone A
  WI: Zone W
demographics:
  sex: menage/sexe
cleaning:
  min_duration_minutes: 3
indicators:
  - id: inclusion
    label: Agrees with inclusion
    theme: attitudes
    question: connaissances/inclusion
    positive: [accord, tout_a_fait]
    population: [AZ, WI]
"""


def test_french_kobo_campaign_cleans_without_editing_the_export(tmp_path, monkeypatch):
    """Points 1-9 together: a French ';' CSV with notes and GPS, a Spanish XLSX with a repeat sheet."""
    from evalkit.cleaning import clean_campaign
    from evalkit.params import load_params

    raw = tmp_path / "data" / "raw" / "cap"
    raw.mkdir(parents=True)
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "cap.yaml").write_text(PARAMS.format(), encoding="utf-8")
    fk.write_form(raw / "cap_fr.xlsx")
    head, body = fk.kobo_export(fk.rows(), headers="label", values="label", lang="fr", notes=True, gps=True)
    fk.write_csv(raw / "baseline.csv", head, body, delimiter=";")
    head, body = fk.kobo_export(fk.rows(), headers="label", values="label", lang="es")
    fk.write_xlsx(raw / "endline.xlsx", head, body, fk.rows())
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    result = clean_campaign(load_params("cap"))
    log = result.log
    # Point 9: AZ, az, Az, " wi ", WI, wi are all kept (none dropped as unknown group).
    assert log.loc[log["rule"] == "unknown_group", "rows_dropped"].tolist() == [0, 0]
    assert sorted(result.responses["group"].astype(str).unique()) == ["AZ", "WI"]
    # Point 4: one log line per wave saying which columns were left out.
    left = log.loc[log["rule"] == "columns_left_out", "reason"].tolist()
    assert len(left) == 2 and "4 GPS parts" in left[0] and "1 notes" in left[0] and "Kobo/ODK metadata" in left[0]
    assert "questions the analysis does not use" in left[0]
    # Point 7: the endline's repeat sheet is not used by any indicator, and the log says so.
    repeats = log.loc[log["rule"] == "repeat_groups_left_out", ["wave", "reason"]]
    assert repeats["wave"].tolist() == ["endline"] and "enfants" in repeats["reason"].iloc[0]
