"""Tiny raw-data fixtures in exactly the shape of ``docs/design.md`` ("Raw export format").

:func:`make_project` writes a complete project folder (``params/fixture.yaml``,
``data/raw/fixture/{kap_form.xlsx, baseline.csv, endline.xlsx, reach.csv}``)
whose rows exercise every cleaning rule once; the expected counts are in
:data:`EXPECTED_DROPS`. The same rows can be exported in every flavour
(XML or label headers, ``/`` or ``-``, names or labels, CSV / XLSX / SAV,
UTF-8 / BOM / Windows-1251) with :func:`export_rows`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

EN, MN = "label::English (en)", "label::Mongolian (mn)"

# (type, name, en, mn); groups by begin_group/end_group rows.
SURVEY = [
    ("start", "start", "", ""),
    ("end", "end", "", ""),
    ("username", "username", "", ""),
    ("select_one yes_no", "consent", "Do you agree to take part?", "Та оролцохыг зөвшөөрч байна уу?"),
    ("begin_group", "resp", "Respondent", "Оролцогч"),
    ("text", "resp_id", "Respondent ID", "Оролцогчийн дугаар"),
    ("text", "resp_name", "Name", "Нэр"),
    ("text", "phone", "Phone number", "Утасны дугаар"),
    ("select_one resp_type", "resp_type", "Respondent type", "Оролцогчийн төрөл"),
    ("select_one yes_no", "has_sen_child", "Do you have a child with SEN?", "Танд СБХ хүүхэд бий юу?"),
    ("integer", "grade", "Grade", "Анги"),
    ("end_group", "", "", ""),
    ("begin_group", "demo", "Demographics", "Хүн ам зүй"),
    ("select_one sex", "sex", "Sex", "Хүйс"),
    ("select_one location", "location", "Location", "Байршил"),
    ("end_group", "", "", ""),
    ("begin_group", "know", "Knowledge", "Мэдлэг"),
    ("select_one know_level", "know_level", "Your knowledge of people with special needs",
     "Тусгай хэрэгцээт хүмүүсийн талаарх таны мэдлэг"),
    ("select_one agree5", "self_know_sen", "I know well about people with SEN", "Би СБХ хүмүүсийн талаар сайн мэднэ"),
    ("end_group", "", "", ""),
    ("begin_group", "prac", "Practices", "Дадал"),
    ("select_one yes_no_dk", "give_info", "Would you give your children information?",
     "Та хүүхдэдээ мэдээлэл өгөх үү?"),
    ("select_multiple channel", "channels", "Where did you see the campaign?", "Аяныг хаанаас харсан бэ?"),
    ("end_group", "", "", ""),
    ("text", "comments", "Comments", "Санал хүсэлт"),
]

CHOICES = [
    ("yes_no", "yes", "Yes", "Тийм"), ("yes_no", "no", "No", "Үгүй"),
    ("resp_type", "parent_sen", "Parent of a child with SEN", "СБХ хүүхдийн эцэг эх"),
    ("resp_type", "parent_nosen", "Parent of a child without SEN", "Энгийн хүүхдийн эцэг эх"),
    ("resp_type", "staff", "School staff", "Сургуулийн ажилтан"),
    ("sex", "male", "Male", "Эрэгтэй"), ("sex", "female", "Female", "Эмэгтэй"),
    ("location", "urban", "Urban", "Хот"), ("location", "rural", "Rural", "Хөдөө"),
    ("know_level", "very_poor", "Very poor", "Маш муу"), ("know_level", "poor", "Poor", "Муу"),
    ("know_level", "average", "Average", "Дунд"), ("know_level", "good", "Good", "Сайн"),
    ("know_level", "very_good", "Very good", "Маш сайн"), ("know_level", "dont_know", "Don't know", "Мэдэхгүй"),
    ("agree5", "strongly_disagree", "Strongly disagree", "Огт санал нийлэхгүй"),
    ("agree5", "disagree", "Disagree", "Санал нийлэхгүй"), ("agree5", "neutral", "Neutral", "Дунд зэрэг"),
    ("agree5", "agree", "Agree", "Санал нийлж байна"), ("agree5", "strongly_agree", "Strongly agree", "Бүрэн санал нийлж байна"),
    ("agree5", "dont_know", "Don't know", "Мэдэхгүй"), ("agree5", "refused", "Refused", "Хариулахаас татгалзсан"),
    ("yes_no_dk", "yes", "Yes", "Тийм"), ("yes_no_dk", "no", "No", "Үгүй"),
    ("yes_no_dk", "dont_know", "Don't know", "Мэдэхгүй"), ("yes_no_dk", "refused", "Refused", "Татгалзсан"),
    ("channel", "facebook", "Facebook", "Фэйсбүүк"), ("channel", "tv", "Television", "Телевиз"),
    ("channel", "school", "At school", "Сургууль дээр"),
]

META = ["start", "end", "today", "username", "deviceid", "_id", "_uuid", "_submission_time", "_index",
        "_validation_status", "_status", "_submitted_by", "__version__", "_tags", "_notes"]

#: PII values in the fixture rows; none may reach data/processed/.
PII_VALUES = ["Бат-Эрдэнэ Дорж", "Saraa Bold", "99112233", "+976 8811 4455", "Оюунаа Ганбаатар",
              "call me on 95554433", "saraa@example.mn"]


def _row(i: int, rid: str, rtype: str | None, *, day: int = 18, minutes: int = 12, user: str = "enum1",
         consent: str = "yes", know: str = "good", agree: str | None = "agree", give: str | None = "yes",
         has_sen: str | None = None, grade: str | None = None, uuid: str | None = None, name: str = "Saraa Bold",
         phone: str = "99112233", comments: str = "", month: int = 1, hour: int = 10) -> dict:
    start = f"2022-{month:02d}-{day:02d}T{hour:02d}:00:00.000+08:00"
    end = f"2022-{month:02d}-{day:02d}T{hour:02d}:{minutes:02d}:00.000+08:00"
    return {
        "start": start, "end": end, "today": start[:10], "username": user, "deviceid": "dev1", "_id": str(1000 + i),
        "_uuid": uuid or f"uuid-{i:04d}", "_submission_time": f"2022-{month:02d}-{day:02d}T{hour + 1:02d}:00:00",
        "_index": str(i), "_validation_status": "", "_status": "submitted_via_web", "_submitted_by": "",
        "__version__": "v1", "_tags": "", "_notes": "",
        "consent": consent, "resp/resp_id": rid, "resp/resp_name": name, "resp/phone": phone, "resp/resp_type": rtype,
        "resp/has_sen_child": has_sen if has_sen is not None else ("yes" if rtype == "parent_sen" else "no"),
        "resp/grade": grade, "demo/sex": "female" if i % 2 else "male", "demo/location": "urban" if i % 3 else "rural",
        "know/know_level": know, "know/self_know_sen": agree, "prac/give_info": give if rtype != "staff" else None,
        "prac/channels": "facebook tv" if i % 2 else "school", "comments": comments,
    }


def baseline_rows() -> list[dict]:
    """Baseline rows: 16 read; the expected drops are in :data:`EXPECTED_DROPS`."""
    return [
        _row(1, "R001", "parent_sen", name="Бат-Эрдэнэ Дорж", comments="call me on 95554433"),
        _row(2, "R002", "parent_nosen", know="dont_know", agree="dont_know", phone="+976 8811 4455"),
        _row(3, "R003", "staff", know="average", agree="refused", name="Оюунаа Ганбаатар"),
        _row(4, "R004", "parent_sen", know="very_good", agree="strongly_agree", give="refused"),
        _row(5, "R005", "parent_nosen", know="poor", agree="disagree", give="no", comments="saraa@example.mn"),
        _row(5, "R005", "parent_nosen", know="poor", agree="disagree", give="no"),  # same _uuid: exact duplicate
        _row(6, "R006", "staff", user="Test"),  # test enumerator
        _row(7, "R007", "parent_sen", day=10),  # before fieldwork (starts 2022-01-17)
        _row(8, "R008", "parent_nosen", consent="no"),  # refused consent
        _row(9, "R009", "parent_sen", minutes=2),  # too short
        _row(10, "R010", "parent_nosen", hour=9),  # first interview of R010 (complete)
        _row(11, "R010", "parent_nosen", hour=11, agree=None),  # later but incomplete -> dropped
        _row(12, "R012", "parent_sen", has_sen="no"),  # inconsistent
        _row(13, "R013", "staff", grade="12"),  # out of range 1-10
        _row(14, "", "parent_sen"),  # no respondent id
        _row(15, "R015", None),  # no respondent group
    ]


def endline_rows() -> list[dict]:
    """Endline rows: 6 read, 1 duplicate respondent (R001 twice; latest kept)."""
    return [
        _row(21, "R001", "parent_sen", month=3, day=8, know="very_good", agree="strongly_agree", hour=9),
        _row(22, "R001", "parent_sen", month=3, day=8, know="good", agree="agree", hour=12),
        _row(23, "R002", "parent_nosen", month=3, day=8, know="average", agree="neutral"),
        _row(24, "R003", "staff", month=3, day=9, agree="agree"),
        _row(25, "R020", "parent_sen", month=3, day=9, know="poor", give="dont_know"),
        _row(26, "R021", "parent_nosen", month=3, day=9, know="good", agree="strongly_disagree", give="yes"),
    ]


#: Rows dropped per rule in the fixture baseline / endline.
EXPECTED_DROPS = {
    "baseline": {"duplicate_submission": 1, "test_submission": 2, "consent": 1, "short_interview": 1,
                 "missing_respondent_id": 1, "duplicate_respondent": 1, "unknown_group": 1,
                 "range:resp/grade": 1, "consistency:SEN parent reports no child with SEN": 1},
    "endline": {"duplicate_submission": 0, "test_submission": 0, "consent": 0, "short_interview": 0,
                "missing_respondent_id": 0, "duplicate_respondent": 1, "unknown_group": 0,
                "range:resp/grade": 0, "consistency:SEN parent reports no child with SEN": 0},
}


def write_codebook(path: Path, *, survey: list = SURVEY, choices: list = CHOICES, version: str = "v2") -> Path:
    """Write the XLSForm codebook with openpyxl."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", EN, MN, "required", "relevant", "constraint"])
    for t, n, en, mn in survey:
        ws.append([t, n or None, en or None, mn or None, None, None, None])
    ws = wb.create_sheet("choices")
    ws.append(["list_name", "name", EN, MN])
    for row in choices:
        ws.append(list(row))
    ws = wb.create_sheet("settings")
    ws.append(["form_title", "form_id", "version"])
    ws.append(["Fixture KAP", "fixture_kap", version])
    wb.save(path)
    return path


def _questions() -> list[tuple[str, str, str | None, tuple[str, str], tuple[tuple[str, str], ...]]]:
    """(full name, type, list, (en, mn) label, group labels) for every answer column."""
    out, stack = [], []
    for t, n, en, mn in SURVEY:
        base = t.split()[0]
        if base == "begin_group":
            stack.append((n, en, mn))
        elif base == "end_group":
            stack.pop()
        elif base not in ("start", "end", "username"):
            out.append(("/".join([g[0] for g in stack] + [n]), base, t.split()[1] if " " in t else None, (en, mn),
                        tuple((g[1], g[2]) for g in stack), tuple(g[0] for g in stack), n))
    return out


def _label(list_name: str, name: str, language: str) -> str:
    for ln, n, en, mn in CHOICES:
        if ln == list_name and n == name:
            return mn if language == "mn" else en
    return name


def export_rows(rows: list[dict], *, headers: str = "xml", values: str = "xml", language: str = "en",
                sep: str = "/", renames: dict[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of an export in one flavour (with select_multiple dummies)."""
    renames = renames or {}
    li = 1 if language == "mn" else 0
    header = list(META)
    getters = [lambda r, m=m: r.get(m, "") or "" for m in META]
    for full, base, list_name, labels, glabels, gnames, short in _questions():
        if headers == "xml":
            head = renames.get(full, sep.join([*gnames, short]))
        else:
            head = sep.join([g[li] for g in glabels] + [labels[li]])
        header.append(head)

        def get(r: dict, full: str = full, base: str = base, list_name: str | None = list_name) -> str:
            v = r.get(full)
            if v is None or v == "":
                return ""
            if values == "label" and base == "select_one":
                return "  " + _label(list_name, v, language).upper() + " " if v == "neutral" else _label(list_name, v, language)
            if values == "label" and base == "select_multiple":
                return " ".join(_label(list_name, x, language) for x in v.split())
            return v

        getters.append(get)
        if base == "select_multiple":
            for ln, n, en, mn in CHOICES:
                if ln == list_name:
                    header.append(f"{head}{sep}{n}")
                    getters.append(lambda r, full=full, n=n: ("1" if n in (r.get(full) or "").split() else "0")
                                   if r.get(full) else "")
    return header, [[g(r) for g in getters] for r in rows]


def write_csv(path: Path, header: list[str], body: list[list[str]], *, encoding: str = "utf-8",
              delimiter: str = ",") -> Path:
    """Write an export as CSV in ``utf-8``, ``utf-8-sig`` or ``cp1251``."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(body)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], body: list[list[str]]) -> Path:
    """Write an export as XLSX (numbers stored as numbers, as Kobo does)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Fixture KAP"
    ws.append(header)
    for row in body:
        ws.append([int(v) if v.isdigit() and not v.startswith("0") else (v or None) for v in row])
    wb.save(path)
    return path


def write_sav(path: Path, header: list[str], body: list[list[str]]) -> Path:
    """Write an export as SPSS .sav: SPSS names (no '/'), the header as variable label."""
    import pandas as pd
    import pyreadstat

    names = [f"v{i}" for i in range(len(header))]
    df = pd.DataFrame([[v if v != "" else None for v in row] for row in body], columns=names, dtype=object)
    pyreadstat.write_sav(df, str(path), column_labels=header)
    return path


REACH_CSV = """post_id,date,content_type,title,reach,impressions,reactions,comments,shares,video_views
p1,2022-02-01,success_story,Story 1,1000,1500,100,10,5,
p2,2022-02-01,poster,Poster 1,800,900,50,3,2,
p3,2022-02-03,video,Video 1,2000,3000,200,20,10,700
p4,2022-02-05,cover_image,Cover,300,400,30,0,1,
"""

PARAMS_YAML = """campaign: fixture
title: Fixture campaign
stage: Fixture stage
design: paired
campaign_period: {{start: 2022-02-01, end: 2022-02-28}}
raw:
  codebook: kap_form.xlsx
  baseline:
    file: {baseline_file}
    headers: {baseline_headers}
    values: {baseline_values}
    language: {baseline_language}
    group_separator: "{baseline_sep}"
    form_version: v1
    fieldwork: {{start: 2022-01-17, end: 2022-01-28}}
  endline:
    file: {endline_file}
    headers: label
    values: label
    language: mn
    group_separator: "-"
    form_version: v2
    fieldwork: {{start: 2022-03-07, end: 2022-03-18}}
  reach: reach.csv
columns:
  respondent_id: resp/resp_id
  group: resp/resp_type
  consent: consent
groups:
  parent_sen: Parents of children with SEN
  parent_nosen: Parents of children without SEN
  staff: School staff
demographics:
  sex: demo/sex
  location: demo/location
renames:
  baseline: {{know/know_well: know/self_know_sen}}
cleaning:
  test_enumerators: [test, demo]
  min_duration_minutes: 3
  duplicate_respondent_keep: {keep}
  free_text: {free_text}
  range_checks:
    - {{question: resp/grade, min: 1, max: 10}}
  consistency_checks:
    - name: SEN parent reports no child with SEN
      if_question: resp/resp_type
      if_value: parent_sen
      then_question: resp/has_sen_child
      then_values: ["yes"]
indicators:
  - id: good_knowledge
    label: Good knowledge
    theme: knowledge
    question: know/know_level
    positive: [good, very_good]
    population: [parent_sen, parent_nosen, staff]
  - id: know_well
    label: Knows well
    theme: knowledge
    question: know/self_know_sen
    type: likert
    levels: [strongly_disagree, disagree, neutral, agree, strongly_agree]
    positive: [agree, strongly_agree]
    population: [parent_sen, parent_nosen, staff]
  - id: give_info
    label: Would give information
    theme: practices
    question: prac/give_info
    positive: ["yes"]
    population: [parent_sen, parent_nosen]
"""


def make_project(root: Path, *, baseline_format: str = "csv", encoding: str = "utf-8", baseline_headers: str = "xml",
                 baseline_values: str = "xml", baseline_language: str = "en", baseline_sep: str = "/",
                 keep: str = "latest_complete", free_text: str = "drop") -> Path:
    """Write a complete fixture project under ``root``; return the raw folder.

    Use with ``monkeypatch.setenv("EVALKIT_ROOT", str(root))`` and
    ``load_params("fixture")``.
    """
    raw = root / "data" / "raw" / "fixture"
    raw.mkdir(parents=True, exist_ok=True)
    (root / "params").mkdir(exist_ok=True)
    write_codebook(raw / "kap_form.xlsx")
    head, body = export_rows(baseline_rows(), headers=baseline_headers, values=baseline_values,
                             language=baseline_language, sep=baseline_sep,
                             renames={"know/self_know_sen": baseline_sep.join(["know", "know_well"])})
    baseline_file = {"csv": "baseline.csv", "xlsx": "baseline.xlsx", "sav": "baseline.sav"}[baseline_format]
    if baseline_format == "csv":
        write_csv(raw / baseline_file, head, body, encoding=encoding)
    elif baseline_format == "xlsx":
        write_xlsx(raw / baseline_file, head, body)
    else:
        write_sav(raw / baseline_file, head, body)
    head, body = export_rows(endline_rows(), headers="label", values="label", language="mn", sep="-")
    write_xlsx(raw / "endline.xlsx", head, body)
    (raw / "reach.csv").write_text(REACH_CSV, encoding="utf-8")
    (root / "params" / "fixture.yaml").write_text(PARAMS_YAML.format(
        baseline_file=baseline_file, baseline_headers=baseline_headers, baseline_values=baseline_values,
        baseline_language=baseline_language, baseline_sep=baseline_sep, endline_file="endline.xlsx", keep=keep,
        free_text=free_text), encoding="utf-8")
    return raw
