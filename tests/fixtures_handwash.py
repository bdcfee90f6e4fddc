"""A campaign of the project's own on another subject: hand-washing in Kenya, independent samples, observed practice.

Issue 14 asks that no sentence of a report be false for a campaign unlike the
shipped ones. This fixture is one: a WASH (water, sanitation and hygiene)
behaviour-change campaign in three Kenyan counties, measured by two
independent cross-sections of households (different people at baseline and
endline), with an enumerator-observed indicator (soap and water at the
hand-washing place) next to self-reported ones. The form is in English and
Kiswahili only, so a Mongolian report must fall back to English labels and
mark them. Rows are generated from a seeded generator (same bytes every run).

:func:`make_project` writes ``params/handwash.yaml`` and
``data/raw/handwash/{wash_form.xlsx, baseline.csv, endline.csv}`` into a
project folder (e.g. a copy from ``test_pipeline.make_project_copy``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import openpyxl

EN, SW = "label::English (en)", "label::Kiswahili (sw)"

SURVEY = [
    ("start", "start", "", ""), ("end", "end", "", ""), ("username", "username", "", ""),
    ("select_one yes_no", "consent", "Do you agree to take part in this survey?", "Unakubali kushiriki?"),
    ("begin_group", "hh", "Household", "Kaya"),
    ("text", "hh_id", "Household ID", "Nambari ya kaya"),
    ("select_one setting", "setting", "Settlement type", "Aina ya makazi"),
    ("end_group", "", "", ""),
    ("begin_group", "demo", "Respondent", "Mhojiwa"),
    ("select_one county", "county", "County", "Kaunti"),
    ("select_one sex", "sex", "Sex", "Jinsia"),
    ("end_group", "", "", ""),
    ("begin_group", "wash", "Hand-washing", "Kunawa mikono"),
    ("select_one yes_no", "soap_observed", "Enumerator: soap and water seen at the hand-washing place",
     "Mhojaji: sabuni na maji vimeonekana"),
    ("select_multiple moments", "wash_moments", "When do you wash your hands?", "Unanawa mikono lini?"),
    ("select_one yes_no_dk", "germs", "Can germs on hands cause diarrhoea?", "Vijidudu mikononi husababisha kuhara?"),
    ("end_group", "", "", ""),
]
CHOICES = [
    ("yes_no", "yes", "Yes", "Ndiyo"), ("yes_no", "no", "No", "Hapana"),
    ("yes_no_dk", "yes", "Yes", "Ndiyo"), ("yes_no_dk", "no", "No", "Hapana"),
    ("yes_no_dk", "dont_know", "Don't know", "Sijui"),
    ("setting", "urban", "Urban household", "Kaya ya mjini"), ("setting", "rural", "Rural household", "Kaya ya vijijini"),
    ("county", "kisumu", "Kisumu", "Kisumu"), ("county", "nakuru", "Nakuru", "Nakuru"), ("county", "kitui", "Kitui", "Kitui"),
    ("sex", "male", "Male", "Mwanaume"), ("sex", "female", "Female", "Mwanamke"),
    ("moments", "after_toilet", "After using the toilet", "Baada ya choo"),
    ("moments", "before_eating", "Before eating", "Kabla ya kula"),
    ("moments", "before_cooking", "Before cooking", "Kabla ya kupika"),
    ("moments", "after_changing", "After changing a child", "Baada ya kumbadilisha mtoto"),
]
META = ["start", "end", "today", "username", "deviceid", "_id", "_uuid", "_submission_time", "_index",
        "_validation_status", "_status", "_submitted_by", "__version__", "_tags", "_notes"]
MOMENTS = ["after_toilet", "before_eating", "before_cooking", "after_changing"]

PARAMS_YAML = """\
campaign: handwash
title: "Clean Hands Kenya: hand-washing with soap"
stage: "Clean Hands radio and community campaign, 2023"
design: independent
campaign_period: {start: 2023-04-01, end: 2023-05-31}
raw:
  codebook: wash_form.xlsx
  baseline: {file: baseline.csv, headers: xml, values: xml, form_version: v1,
             fieldwork: {start: 2023-03-06, end: 2023-03-17}}
  endline: {file: endline.csv, headers: xml, values: xml, form_version: v1,
            fieldwork: {start: 2023-06-05, end: 2023-06-16}}
columns:
  respondent_id: hh/hh_id
  group: hh/setting
  consent: consent
groups:
  urban: Urban households
  rural: Rural households
demographics:
  county: demo/county
  sex: demo/sex
cleaning:
  test_enumerators: [test]
  min_duration_minutes: 3
indicators:
  - id: soap_seen
    label: Soap and water at the hand-washing place (observed)
    theme: practices
    question: wash/soap_observed
    positive: ["yes"]
    mode: observed
    population: [urban, rural]

  - id: after_toilet
    label: Washes hands after using the toilet
    theme: practices
    question: wash/wash_moments
    positive: [after_toilet]
    population: [urban, rural]
  - id: germs
    label: Knows germs on hands can cause diarrhoea
    theme: knowledge
    question: wash/germs
    positive: ["yes"]
    population: [urban, rural]
claims:
  - id: H1
    text: "Households with soap and water at the hand-washing place: +10 percentage points"
    indicator: soap_seen
    group: all
    kind: change_pp
    value: 10
report:
  text:
    en:
      comparison_group: "households in a county the radio campaign did not reach"
"""


def _rows(wave: str, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    month, day0 = (3, 6) if wave == "baseline" else (6, 5)
    p_soap, p_toilet, p_germs = (0.42, 0.55, 0.60) if wave == "baseline" else (0.55, 0.70, 0.72)
    out = []
    for i in range(n):
        setting = "urban" if i % 2 else "rural"
        day = day0 + int(i % 10)
        start = f"2023-{month:02d}-{day:02d}T09:{i % 50:02d}:00.000+03:00"
        end = f"2023-{month:02d}-{day:02d}T10:{i % 50:02d}:00.000+03:00"
        moments = [m for m, p in zip(MOMENTS, (p_toilet, 0.6, 0.4, 0.3)) if rng.random() < p]
        germs = "dont_know" if rng.random() < 0.08 else ("yes" if rng.random() < p_germs else "no")
        out.append({
            "start": start, "end": end, "today": start[:10], "username": f"enum{1 + i % 4}", "deviceid": "dev",
            "_id": str(i + 1), "_uuid": f"{wave[:1]}-{i:05d}", "_submission_time": start[:19], "_index": str(i + 1),
            "_validation_status": "", "_status": "submitted_via_web", "_submitted_by": "", "__version__": "v1",
            "_tags": "", "_notes": "", "consent": "yes", "hh/hh_id": f"{wave[:1].upper()}{i:05d}",
            "hh/setting": setting, "demo/county": ("kisumu", "nakuru", "kitui")[i % 3],
            "demo/sex": "female" if rng.random() < 0.6 else "male",
            "wash/soap_observed": "yes" if rng.random() < p_soap else "no",
            "wash/wash_moments": " ".join(moments), "wash/germs": germs})
    return out


def _export(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    header = list(META)
    cols = []
    stack: list[str] = []
    for t, name, _en, _sw in SURVEY:
        base = t.split()[0]
        if base == "begin_group":
            stack.append(name)
            continue
        if base == "end_group":
            stack.pop()
            continue
        if base in ("start", "end", "username"):
            continue
        full = "/".join([*stack, name])
        cols.append((full, base))
    body_getters = [lambda r, m=m: r.get(m, "") for m in META]
    for full, base in cols:
        header.append(full)
        body_getters.append(lambda r, f=full: r.get(f, ""))
        if base == "select_multiple":
            for m in MOMENTS:
                header.append(f"{full}/{m}")
                body_getters.append(lambda r, f=full, m=m: "1" if m in r.get(f, "").split() else "0")
    return header, [[g(r) for g in body_getters] for r in rows]


def _write_form(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", EN, SW, "required", "relevant"])
    for t, n, en, sw in SURVEY:
        ws.append([t, n or None, en or None, sw or None, None, None])
    ws = wb.create_sheet("choices")
    ws.append(["list_name", "name", EN, SW])
    for row in CHOICES:
        ws.append(list(row))
    ws = wb.create_sheet("settings")
    ws.append(["form_title", "form_id", "version", "default_language"])
    ws.append(["Clean Hands household survey", "clean_hands", "v1", "English (en)"])
    wb.save(path)


def make_project(root: Path, *, n_per_wave: int = 320) -> Path:
    """Write the hand-washing campaign into the project at ``root``; return its raw folder."""
    raw = root / "data" / "raw" / "handwash"
    raw.mkdir(parents=True, exist_ok=True)
    _write_form(raw / "wash_form.xlsx")
    for wave, seed in (("baseline", 11), ("endline", 12)):
        header, body = _export(_rows(wave, n_per_wave, seed))
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(body)
        (raw / f"{wave}.csv").write_text(buf.getvalue(), encoding="utf-8")
    (root / "params" / "handwash.yaml").write_text(PARAMS_YAML, encoding="utf-8")
    return raw
