"""Adversarial: no personal data from the raw exports reaches anything published.

Every respondent name, phone number (also the ones written inside free-text
comments), school name, raw respondent id, GPS position, device id,
submission uuid and enumerator user name in the shipped Together raw exports
is searched for in everything a run writes: ``data/processed/`` (every Parquet
value, column name and schema metadata; every CSV), the executed notebooks
(raw JSON and every decoded string, papermill's stored parameters and
metadata included), the CSVs under ``reports/`` and the HTML report (raw,
unescaped, and its base64 figures decoded). Zero hits allowed.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from evalkit.deid import PHONE_RE

from .helpers import CAMPAIGN

pytestmark = pytest.mark.slow

KINDS = ["name", "phone", "school", "respondent_id", "comment_phone", "gps", "deviceid", "uuid", "enumerator"]
LOCATIONS = ["processed", "notebooks", "report_csvs", "html"]
#: Shorter raw values (``0000``, ``123``, ``test`` typed as ids) are not searched for.
MIN_LENGTH = 6


def _raw_frames(root: Path) -> list[pd.DataFrame]:
    raw = root / "data" / "raw" / CAMPAIGN
    frames = [pd.read_csv(raw / "baseline.csv", dtype=str, keep_default_na=False)]
    wb = openpyxl.load_workbook(raw / "endline.xlsx", read_only=True, data_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    frames.append(pd.DataFrame([["" if v is None else str(v) for v in r] for r in rows[1:]],
                               columns=[str(h) for h in rows[0]]))
    return frames


def _phone_forms(phone: str) -> set[str]:
    digits = re.sub(r"\D", "", phone)
    local = digits[-8:]
    return {phone.strip(), local, f"{local[:4]} {local[4:]}", f"{local[:4]}-{local[4:]}", "976" + local}


def identifiers(root: Path) -> dict[str, set[str]]:
    """Every personal identifier in the raw Together exports, by kind."""
    found: dict[str, set[str]] = {k: set() for k in KINDS}
    params_text = (root / "params" / f"{CAMPAIGN}.yaml").read_text(encoding="utf-8").casefold()
    for df in _raw_frames(root):
        def values(column: str) -> list[str]:
            return [v.strip() for v in df.get(column, pd.Series([], dtype=str)).tolist() if v and v.strip()]

        found["name"] |= set(values("resp/name"))
        for p in values("resp/phone"):
            found["phone"] |= _phone_forms(p)
        found["school"] |= set(values("resp/school"))
        found["respondent_id"] |= set(values("resp/resp_id"))
        for c in values("comments"):
            for m in PHONE_RE.finditer(c):
                found["comment_phone"] |= _phone_forms(m.group(0))
        for g in values("gps"):
            found["gps"].add(g)
            found["gps"] |= {x for x in g.split()[:2] if len(x) >= 8}  # latitude, longitude
        found["deviceid"] |= set(values("deviceid"))
        found["uuid"] |= set(values("_uuid"))
        # enumerators named in params (test accounts) are configuration, not personal data
        found["enumerator"] |= {u for u in values("username") if u.casefold() not in params_text}
    for kind, vals in found.items():
        # junk values such as '0000' or 'test' identify nobody and occur in any text
        found[kind] = {v for v in vals if len(v) >= MIN_LENGTH}
        assert found[kind], f"no {kind} found in the raw fixtures: the scan would prove nothing"
    return found


def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(k) + _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [str(obj)] if obj is not None else []


def _parquet_text(path: Path) -> str:
    table = pq.read_table(path)
    parts = [path.name, json.dumps({k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
                                    for k, v in (table.schema.metadata or {}).items()})]
    parts += table.column_names
    for name in table.column_names:
        parts += [str(v) for v in table.column(name).to_pylist()]
    return "\n".join(parts)


def _html_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    parts = [text, html.unescape(text)]
    for m in re.finditer(r"data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)", text):
        try:
            parts.append(base64.b64decode(m.group(1)).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            pass  # a PNG: no text in it
    return "\n".join(parts)


def corpus(root: Path, location: str) -> str:
    """All text of one kind of output of a built project copy."""
    proc, rep = root / "data" / "processed" / CAMPAIGN, root / "reports" / CAMPAIGN
    parts: list[str] = []
    if location == "processed":
        files = sorted(proc.iterdir())
        assert any(f.suffix == ".parquet" for f in files)
        for f in files:
            parts.append(_parquet_text(f) if f.suffix == ".parquet" else f.read_text(encoding="utf-8"))
    elif location == "notebooks":
        files = sorted(rep.glob("*.ipynb"))
        assert len(files) >= 2
        for f in files:
            text = f.read_text(encoding="utf-8")
            parts += [text, *_strings(json.loads(text))]
    elif location == "report_csvs":
        parts += [f.read_text(encoding="utf-8") for f in sorted(rep.glob("*.csv"))]
    else:
        parts.append(_html_text(root / "reports" / f"{CAMPAIGN}.html"))
        if (root / "reports" / "index.html").exists():
            parts.append(_html_text(root / "reports" / "index.html"))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def raw_identifiers(pristine) -> dict[str, set[str]]:
    return identifiers(pristine)


@pytest.fixture(scope="module")
def corpora(built) -> dict[str, str]:
    return {loc: corpus(built, loc) for loc in LOCATIONS}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_no_personal_data_in_outputs(raw_identifiers, corpora, kind, location):
    text = corpora[location]
    hits = sorted(v for v in raw_identifiers[kind] if v in text)
    assert hits == [], f"{len(hits)} {kind} value(s) from the raw exports found in {location}: {hits[:5]}"


def test_scrubbed_free_text_keeps_no_phone_number(canary_built):
    """With ``free_text: keep_scrubbed`` the comments are kept, their phone numbers are not."""
    responses = pd.read_parquet(canary_built / "data" / "processed" / CAMPAIGN / "responses.parquet")
    text_cols = [c for c in responses.columns if c.startswith("text_")]
    assert text_cols, "keep_scrubbed kept no free-text column"
    for loc in LOCATIONS:
        text = corpus(canary_built, loc)
        assert "99112233" not in text and "9911 2233" not in text, f"a phone number in a comment reached {loc}"


# ---------------------------------------------------------------- issue 17: identifiers that hide


@pytest.mark.parametrize("text", ["+97699112233", "97699112233", "99 11 22 33", "9911\u20132233",
                                  "+976 9911 2233", "0097699112233"])
def test_every_form_of_a_phone_number_is_scrubbed(text):
    from evalkit.deid import scrub_free_text

    out = scrub_free_text(pd.Series([f"call {text} please"])).iloc[0]
    assert re.sub(r"\D", "", out) == "", out


def test_full_width_at_email_is_scrubbed():
    from evalkit.deid import scrub_free_text

    assert scrub_free_text(pd.Series(["name\uff20gmail.com"])).iloc[0] == "[email]"


def test_civil_register_number_has_its_own_rule():
    from evalkit.deid import REGISTER_RE, scrub_free_text

    assert REGISTER_RE.fullmatch("УБ12345678")
    assert scrub_free_text(pd.Series(["регистр УБ12345678"])).iloc[0] == "регистр [register number]"


@pytest.mark.parametrize(("column", "kind"), [("resp/ner", "name"), ("resp/utas", "phone"),
                                              ("resp/surguuli", "school")])
def test_transliterated_mongolian_names_are_personal(column, kind):
    from evalkit.deid import detect_pii_columns

    assert detect_pii_columns([column]) == {column: kind}


def test_reach_post_titles_are_scrubbed(tmp_path):
    from evalkit.reach import REACH_COLUMNS, read_reach

    row = {c: "1" for c in REACH_COLUMNS} | {"post_id": "p1", "date": "2024-05-01", "content_type": "video",
                                            "title": "Call Bold on 9911 2233 or bold\uff20mail.mn"}
    path = tmp_path / "reach.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    title = read_reach(path)["title"].iloc[0]
    assert "2233" not in title and "mail.mn" not in title, title


def test_a_text_question_labelled_child_name_is_personal():
    from types import SimpleNamespace

    from evalkit.deid import detect_pii_columns
    from evalkit.readers import Question

    q = Question(name="q3", short_name="q3", type="text", list_name=None, labels={"mn": "Хүүхдийн нэр"})
    assert detect_pii_columns(["q3"], SimpleNamespace(questions={"q3": q})) == {"q3": "name"}


# ---------------------------------------------------------------- issue 17 (b): personal by its values


def _disguise_question(root: Path, short: str, new_short: str, *, qtype: str | None = None) -> str:
    """Give question ``resp/<short>`` an innocent name and label (``resp/<new_short>``, "Question"), in
    the codebook and both exports; optionally another type. Returns the new full name."""
    from .test_bad_input import edit_xlsx, raw, read_rows, sheet_header, write_rows

    def form(wb):
        ws = wb["survey"]
        head = sheet_header(ws)
        for row in ws.iter_rows(min_row=2):
            if row[head.index("name")].value == short:
                row[head.index("name")].value = new_short
                for j, h in enumerate(head):
                    if str(h).startswith("label"):
                        row[j].value = "Question"
                if qtype:
                    row[head.index("type")].value = qtype

    edit_xlsx(raw(root, "kap_form.xlsx"), form)
    rows = read_rows(raw(root, "baseline.csv"))
    rows[0] = [f"resp/{new_short}" if h == f"resp/{short}" else h for h in rows[0]]
    write_rows(raw(root, "baseline.csv"), rows)

    def export(wb):
        for cell in next(wb.worksheets[0].iter_rows(min_row=1, max_row=1)):
            if cell.value == f"resp/{short}":
                cell.value = f"resp/{new_short}"

    edit_xlsx(raw(root, "endline.xlsx"), export)
    return f"resp/{new_short}"


def _keep_scrubbed(root: Path) -> None:
    import yaml

    path = root / "params" / f"{CAMPAIGN}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("cleaning", {})["free_text"] = "keep_scrubbed"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(("values", "kind"), [
    (["Д. Ариунаа", "Н. Төмөрбаатар", "Bat-Erdene Bold", "М. Дорж", "Ж. Ганбаатар", "Б. Сараа"], "name"),
    (["+976 96276494", "99112233", "9911-2233", "88137943", "95756541"], "phone"),
    (["TG-0106", "TG-0792", "TG-0215", "TG-0147", "TG-0499"], "id"),
    (["a@b.mn", "bold\uff20mail.mn", "x.y@gmail.com"], "email"),
    (["Улаанбаатар хотын 5-р сургууль", "Ховд аймгийн 4-р сургууль", "Архангай аймгийн 3-р сургууль",
      "School No. 5", "Дархан 1-р сургууль"], "school"),
])
def test_a_column_is_personal_by_its_values(values, kind):
    from evalkit.deid import detect_pii_values

    assert detect_pii_values(pd.DataFrame({"q7": values * 3})) == {"q7": kind}


@pytest.mark.parametrize("values", [["ulaanbaatar", "Arkhangai", "Khovd"] * 50, ["2022-05-03", "2022-05-04"] * 9,
                                    ["Сайн байна", "Ямар нэг санал алга", "Энэ маш хэрэгтэй"] * 5,
                                    ["1", "2", "3", "4", "5"] * 10, ["Agree", "Disagree", "Don't know"] * 9])
def test_ordinary_answers_are_not_personal(values):
    from evalkit.deid import detect_pii_values

    assert detect_pii_values(pd.DataFrame({"q7": values})) == {}


def test_names_in_an_innocent_text_question_do_not_reach_processed_data(project, pristine):
    """keep_scrubbed kept a text question 'resp/q3' labelled 'Question' that holds the respondents' names."""
    from .test_bad_input import clean

    _disguise_question(project, "name", "q3")
    _keep_scrubbed(project)
    result = clean(project)
    names = identifiers(pristine)["name"]
    text = _parquet_text(project / "data" / "processed" / CAMPAIGN / "responses.parquet")
    assert [n for n in names if n in text] == []
    assert "resp/q3" in set(result.pii_columns["column"]), "the name column is not reported as personal"


def test_an_error_never_echoes_a_personal_value(project, pristine):
    """A phone question typed 'integer' under an innocent name is validated; its error shows no number."""
    from evalkit.errors import EvalkitError

    from .test_bad_input import clean

    _disguise_question(project, "phone", "q5", qtype="integer")
    with pytest.raises(EvalkitError) as err:
        clean(project)
    message = str(err.value)
    assert "resp/q5" in message and "personal data" in message, message[:500]
    digits = {re.sub(r"\D", "", p)[-8:] for p in identifiers(pristine)["phone"]}
    assert [d for d in digits if d in re.sub(r"[\s\-+]", "", message)] == [], message[:500]


def test_other_echoed_values_are_cut():
    from evalkit.errors import SHOWN_VALUE_CHARS, shown_value

    assert len(shown_value("x" * 500)) <= SHOWN_VALUE_CHARS
    assert "99112233" not in shown_value("99112233", personal=True)


def test_a_failed_run_shows_no_personal_value_on_stderr_or_in_the_failed_notebook(project, pristine):
    """The full run (make report) with the disguised phone question: stderr and 01_clean.FAILED.ipynb stay clean."""
    from .helpers import run

    _disguise_question(project, "phone", "q5", qtype="integer")
    res = run(["make", "report", f"CAMPAIGN={CAMPAIGN}"], project)
    assert res.returncode != 0, "the run should stop at the unexpected answers"
    failed = sorted((project / "reports").rglob("*.FAILED.ipynb"))
    assert failed, res.stderr[-2000:]
    texts = {"stdout": res.stdout, "stderr": res.stderr, **{f.name: f.read_text(encoding="utf-8") for f in failed}}
    assert any("personal data" in t for t in texts.values()), res.stderr[-2000:]
    digits = {re.sub(r"\D", "", p)[-8:] for p in identifiers(pristine)["phone"]}
    for where, text in texts.items():
        flat = re.sub(r"[\s\-+]", "", text)
        assert [d for d in digits if d in flat] == [], f"a phone number is echoed in {where}"


def test_the_fieldwork_checks_never_carry_a_personal_value(project, pristine):
    """The unknown answers of a disguised phone question (typed integer) reach the fieldwork checks redacted."""
    from evalkit.corrections import load_decisions
    from evalkit.fieldwork import load_wave
    from evalkit.params import load_params
    from evalkit.readers import read_codebook

    _disguise_question(project, "phone", "q5", qtype="integer")
    params = load_params(CAMPAIGN)
    codebook = read_codebook(params.raw_path(params.raw.codebook, what="raw.codebook"))
    wd = load_wave(params, "baseline", codebook, load_decisions(params))
    q5 = [u for u in wd.unknown if u[1] == "resp/q5"]
    assert q5, "the unexpected answers of resp/q5 were not reported"
    digits = {re.sub(r"\D", "", p)[-8:] for p in identifiers(pristine)["phone"]}
    shown = re.sub(r"[\s\-+]", "", " ".join(str(u[2]) for u in wd.unknown))
    assert [d for d in digits if d in shown] == []
