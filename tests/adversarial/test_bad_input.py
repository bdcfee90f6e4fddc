"""Adversarial: broken raw exports, codebooks and params files.

Each case mutates a COPY of the shipped raw data (or params) in a fresh project
copy and runs the cleaning step with a direct library call
(``clean_campaign`` then ``write_processed``, what ``notebooks/01_clean.ipynb``
does); a few also go through ``python -m evalkit clean`` and ``make``. A case
either expects

- a clear error: an :class:`evalkit.errors.EvalkitError` whose message names the
  file, the column or row, and says what to do; the raw files byte-identical
  afterwards (SHA-256 before and after) and no output written at the final
  paths (a previous run's outputs stay as they were); or
- correct acceptance, for input that is odd but legitimate (UTF-8 with BOM,
  Windows-1251, stray whitespace in answer labels, a one-respondent group, an
  indicator nobody answered): the result equals the unmodified run's, or is
  computed with NaN and a note instead of a crash.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import shutil
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evalkit import paths
from evalkit.errors import EvalkitError
from evalkit.params import load_params

from .helpers import CAMPAIGN, evalkit, output_hashes, raw_hashes

#: Words of an instruction: every error message must say what to do.
WHAT_TO_DO = re.compile(
    r"\b(fix|check|re-?save|save|re-?export|add|remove|delete|rename|use|correct|replace|set|open|"
    r"map|give|write|put|run|convert|keep|expected|expect|must|should|needs?)\b", re.IGNORECASE)

SENTINELS = {"responses.parquet": b"previous responses", "cleaning_log.csv": b"previous log\n"}


# ---------------------------------------------------------------- helpers


def raw(root: Path, name: str, campaign: str = CAMPAIGN) -> Path:
    return root / "data" / "raw" / campaign / name


def read_rows(path: Path) -> list[list[str]]:
    """A UTF-8 CSV export as rows of text (header first)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def col(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


def data_rows(rows: list[list[str]], column: str, value: str | None = None) -> list[int]:
    """Indexes (into ``rows``) of data rows, optionally where ``column == value``."""
    j = col(rows, column)
    return [i for i in range(1, len(rows)) if value is None or rows[i][j] == value]


def edit_xlsx(path: Path, edit) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)


def sheet_header(ws) -> list[str]:
    return [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]


def clean(root: Path, campaign: str = CAMPAIGN):
    """What the clean notebook does: clean, then write to the final folder."""
    from evalkit.cleaning import clean_campaign, write_processed

    params = load_params(campaign)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the demo pseudonym key
        result = clean_campaign(params)
    write_processed(result, paths.campaign_processed_dir(campaign))
    return result


def plant_previous_outputs(root: Path, campaign: str = CAMPAIGN) -> None:
    out = root / "data" / "processed" / campaign
    out.mkdir(parents=True, exist_ok=True)
    for name, data in SENTINELS.items():
        (out / name).write_bytes(data)


def expect_error(root: Path, file: str, *where: str, campaign: str = CAMPAIGN) -> str:
    """Run the clean step; assert a clear error and that nothing was touched.

    ``file`` must appear in the message, and each of ``where`` (a column
    name, ``"row"``, a key, a value).
    """
    plant_previous_outputs(root, campaign)
    raw_before, out_before = raw_hashes(root), output_hashes(root)
    with pytest.raises(EvalkitError) as err:
        clean(root, campaign)
    msg = str(err.value)
    assert file in msg, f"the message does not name the file {file!r}:\n{msg}"
    for w in where:
        assert w in msg, f"the message does not mention {w!r}:\n{msg}"
    assert WHAT_TO_DO.search(msg), f"the message does not say what to do:\n{msg}"
    assert "Traceback" not in msg
    assert raw_hashes(root) == raw_before, "a raw file changed"
    assert output_hashes(root) == out_before, "output was written at a final path"
    return msg


@pytest.fixture(scope="session")
def reference(pristine) -> pd.DataFrame:
    """``responses`` of the unmodified shipped data (for the acceptance cases)."""
    old = os.environ.get("EVALKIT_ROOT")
    os.environ["EVALKIT_ROOT"] = str(pristine)
    try:
        from evalkit.cleaning import clean_campaign

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return clean_campaign(load_params(CAMPAIGN)).responses
    finally:
        if old is None:
            os.environ.pop("EVALKIT_ROOT", None)
        else:
            os.environ["EVALKIT_ROOT"] = old


def assert_same_responses(result, reference: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(result.responses.reset_index(drop=True), reference.reset_index(drop=True))


# ---------------------------------------------------------------- whole files


def test_empty_file(project):
    raw(project, "baseline.csv").write_bytes(b"")
    expect_error(project, "baseline.csv", "empty")


def test_header_only(project):
    f = raw(project, "baseline.csv")
    f.write_bytes(f.read_bytes().split(b"\n", 1)[0] + b"\n")
    expect_error(project, "baseline.csv", "row")


def test_png_named_csv(project):
    raw(project, "baseline.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    expect_error(project, "baseline.csv", "binary")


def test_xlsx_renamed_to_csv(project):
    shutil.copy2(raw(project, "endline.xlsx"), raw(project, "baseline.csv"))
    expect_error(project, "baseline.csv", ".xlsx")


def test_pdf_text_named_csv(project):
    raw(project, "baseline.csv").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    expect_error(project, "baseline.csv")


def test_truncated_xlsx(project):
    f = raw(project, "endline.xlsx")
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    expect_error(project, "endline.xlsx", "xlsx")


def test_csv_text_named_xlsx(project):
    shutil.copy2(raw(project, "baseline.csv"), raw(project, "endline.xlsx"))
    expect_error(project, "endline.xlsx", "xlsx")


def test_raw_file_is_a_folder(project):
    f = raw(project, "baseline.csv")
    f.unlink()
    f.mkdir()
    expect_error(project, "baseline.csv")


# ---------------------------------------------------------------- encodings

#: Mongolian letters missing from Windows-1251, written as Windows tools do (design.md).
CP1251_FALLBACK = str.maketrans({"Ө": "О", "ө": "о", "Ү": "У", "ү": "у"})


def test_windows_1251_is_read_as_windows_1251(project, reference):
    f = raw(project, "baseline.csv")
    text = f.read_bytes().decode("utf-8").translate(CP1251_FALLBACK)
    f.write_bytes(text.encode("cp1251"))
    before = raw_hashes(project)
    result = clean(project)
    assert raw_hashes(project) == before
    assert_same_responses(result, reference)
    enc = result.raw_files.set_index("file").loc["baseline.csv", "encoding"]
    assert enc == "cp1251"


def test_utf8_with_bom_is_accepted(project, reference):
    f = raw(project, "baseline.csv")
    f.write_bytes(codecs.BOM_UTF8 + f.read_bytes())
    result = clean(project)
    assert_same_responses(result, reference)
    assert not any("\ufeff" in c for c in result.responses.columns)


def test_utf8_read_as_windows_1251_mojibake(project):
    """UTF-8 opened as Windows-1251 and saved again as UTF-8: 'а' becomes 'Р°'."""
    f = raw(project, "baseline.csv")
    f.write_bytes(_mojibake(f.read_bytes(), "cp1251"))
    msg = expect_error(project, "baseline.csv", "UTF-8")
    assert "Р" in msg or "Windows-1251" in msg


def test_utf8_read_as_latin1_mojibake(project):
    f = raw(project, "baseline.csv")
    f.write_bytes(_mojibake(f.read_bytes(), "latin-1"))
    expect_error(project, "baseline.csv", "UTF-8")


def test_windows_1251_saved_as_latin1_mojibake(project):
    """Windows-1251 bytes opened as Latin-1 and saved as UTF-8: Cyrillic becomes accented Latin."""
    f = raw(project, "baseline.csv")
    cp = f.read_bytes().decode("utf-8").translate(CP1251_FALLBACK).encode("cp1251")
    f.write_bytes(cp.decode("latin-1").encode("utf-8"))
    expect_error(project, "baseline.csv", "UTF-8")


def test_utf8_with_one_invalid_byte_is_not_replaced(project):
    f = raw(project, "baseline.csv")
    data = f.read_bytes()
    i = data.index("а".encode("utf-8"))  # a Cyrillic letter in a name or label
    f.write_bytes(data[:i] + b"\xff" + data[i + 1:])
    expect_error(project, "baseline.csv", "byte")


def test_utf16(project):
    f = raw(project, "baseline.csv")
    f.write_bytes(f.read_bytes().decode("utf-8").encode("utf-16"))
    expect_error(project, "baseline.csv", "UTF-16")


def _mojibake(data: bytes, codec: str) -> bytes:
    """``data`` (UTF-8) decoded with ``codec`` and re-encoded as UTF-8, as a careless editor does."""
    text = data.decode("utf-8")
    out = []
    for ch in text:
        b = ch.encode("utf-8")
        try:
            out.append(b.decode(codec))
        except UnicodeDecodeError:
            out.append("?")
    return "".join(out).encode("utf-8")


# ---------------------------------------------------------------- CSV structure


def test_row_with_an_extra_field(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    rows[5] = rows[5] + ["surplus"]
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "row 6")


def test_truncated_csv(project):
    f = raw(project, "baseline.csv")
    data = f.read_bytes()
    cut = data.rindex(b",", 0, len(data) - 10)
    f.write_bytes(data[: cut - 40])
    expect_error(project, "baseline.csv", "row")


def test_unterminated_quote(project):
    f = raw(project, "baseline.csv")
    lines = f.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b",", b',"', 1)
    f.write_bytes(b"\n".join(lines))
    expect_error(project, "baseline.csv")


# ---------------------------------------------------------------- columns


@pytest.mark.parametrize("column", ["resp/resp_type", "consent", "start"])
def test_missing_required_column(project, column):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    j = col(rows, column)
    write_rows(f, [r[:j] + r[j + 1:] for r in rows])
    expect_error(project, "baseline.csv", column)


def test_indicator_column_renamed_without_a_mapping(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    rows[0][col(rows, "att/no_harm")] = "att/no_harm_v3"
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "att/no_harm", "renames")


def test_duplicate_column_names(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    rows[0][col(rows, "demo/location")] = "demo/sex"
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "demo/sex", "twice")


def test_empty_header_cell(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    rows[0][col(rows, "demo/location")] = ""
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "header")


def test_duplicate_column_names_in_xlsx(project):
    def edit(wb):
        ws = wb.worksheets[0]
        header = sheet_header(ws)
        ws.cell(row=1, column=header.index("demo/location") + 1, value="demo/sex")

    edit_xlsx(raw(project, "endline.xlsx"), edit)
    expect_error(project, "endline.xlsx", "demo/sex")


# ---------------------------------------------------------------- values


def test_unknown_answer_code(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    i = data_rows(rows, "att/no_harm", "agree")[3]
    rows[i][col(rows, "att/no_harm")] = "maybe"
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "att/no_harm", "'maybe'", f"{i + 1}")


def test_unknown_answer_label_in_a_label_export(project):
    def edit(wb):
        ws = wb.worksheets[0]
        j = sheet_header(ws).index("att/no_harm") + 1
        for r in range(2, ws.max_row + 1):
            if ws.cell(row=r, column=j).value:
                ws.cell(row=r, column=j, value="Мэдэхгүй байх аа")
                edit.row = r
                return

    edit_xlsx(raw(project, "endline.xlsx"), edit)
    expect_error(project, "endline.xlsx", "att/no_harm", "Мэдэхгүй байх аа", str(edit.row))


def test_stray_whitespace_and_case_in_answer_labels_is_accepted(project, reference):
    def edit(wb):
        ws = wb.worksheets[0]
        j = sheet_header(ws).index("att/no_harm") + 1
        for r in range(2, ws.max_row + 1):
            v = ws.cell(row=r, column=j).value
            if isinstance(v, str) and v:
                ws.cell(row=r, column=j, value=f"  {v.upper()} ")

    edit_xlsx(raw(project, "endline.xlsx"), edit)
    assert_same_responses(clean(project), reference)


def test_numeric_column_with_text(project):
    """An ``integer`` question (``resp/grade`` of Differently Different) answered with a word."""
    campaign = "differently-different-2019"
    f = raw(project, "endline.xlsx", campaign)
    where = {}

    def edit(wb):
        ws = wb.worksheets[0]
        header = sheet_header(ws)
        name = next(h for h in header if h and h.rsplit("/", 1)[-1] == "grade")
        j = header.index(name) + 1
        r = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=j).value not in (None, ""))
        ws.cell(row=r, column=j, value="five")
        where.update(name=name, row=r)

    edit_xlsx(f, edit)
    expect_error(project, f.name, where["name"], "five", str(where["row"]), campaign=campaign)


def test_reach_number_with_text(project):
    f = raw(project, "reach.csv")
    rows = read_rows(f)
    rows[4][col(rows, "reach")] = "lots"
    write_rows(f, rows)
    expect_error(project, "reach.csv", "reach", "5")


# ---------------------------------------------------------------- dates


def _set_times(rows: list[list[str]], fmt: str, n: int = 5) -> list[int]:
    """Rewrite ``start`` and ``end`` of ``n`` consenting rows in local time with ``fmt``."""
    done = []
    for i in data_rows(rows, "consent", "yes")[:n]:
        for j in (col(rows, "start"), col(rows, "end")):
            rows[i][j] = pd.Timestamp(rows[i][j]).strftime(fmt)
        done.append(i)
    return done


@pytest.mark.parametrize("fmt", ["%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%d.%m.%Y %H:%M:%S"],
                         ids=["day-first", "us-month-first", "dotted"])
def test_non_iso_dates_are_refused_not_guessed(project, fmt):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    done = _set_times(rows, fmt)
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "start", f"{done[0] + 1}")


def test_iso_dates_without_offset_or_t_are_read_the_same_day(project, reference):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    _set_times(rows, "%Y-%m-%d %H:%M:%S", n=len(rows))
    write_rows(f, rows)
    result = clean(project)
    got = result.responses.loc[result.responses["wave"] == "baseline", "interview_date"]
    want = reference.loc[reference["wave"] == "baseline", "interview_date"]
    assert got.reset_index(drop=True).equals(want.reset_index(drop=True))


def test_excel_serial_dates(project):
    """Unformatted Excel serials (``44628.42``) are refused with the column and rows, never guessed."""
    def edit(wb):
        ws = wb.worksheets[0]
        j = sheet_header(ws).index("start") + 1
        for r in range(2, 8):
            v = ws.cell(row=r, column=j).value
            if v:
                t = pd.Timestamp(v).tz_localize(None) if pd.Timestamp(v).tzinfo else pd.Timestamp(v)
                ws.cell(row=r, column=j, value=(t - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1))

    edit_xlsx(raw(project, "endline.xlsx"), edit)
    expect_error(project, "endline.xlsx", "start", "row")


def test_excel_datetime_cells_are_read_the_same_day(project, reference):
    """Real Excel date-time cells (local time, no offset) give the same interview dates."""
    def edit(wb):
        ws = wb.worksheets[0]
        header = sheet_header(ws)
        for name in ("start", "end"):
            j = header.index(name) + 1
            for r in range(2, ws.max_row + 1):
                v = ws.cell(row=r, column=j).value
                if isinstance(v, str) and v:
                    ws.cell(row=r, column=j, value=pd.Timestamp(v).tz_localize(None).to_pydatetime())

    edit_xlsx(raw(project, "endline.xlsx"), edit)
    result = clean(project)
    got = result.responses.loc[result.responses["wave"] == "endline", "interview_date"]
    want = reference.loc[reference["wave"] == "endline", "interview_date"]
    assert got.reset_index(drop=True).equals(want.reset_index(drop=True))


def test_garbage_submission_time(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    rows[2][col(rows, "_submission_time")] = "yesterday"
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "_submission_time", "3")


# ---------------------------------------------------------------- semantics


def test_all_respondents_refused_consent(project):
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    j = col(rows, "consent")
    for r in rows[1:]:
        r[j] = "no"
    write_rows(f, rows)
    expect_error(project, "baseline.csv", "consent")


def test_one_wave_missing(project):
    raw(project, "endline.xlsx").unlink()
    expect_error(project, "endline.xlsx", "raw")


def test_a_group_with_one_respondent(project):
    """Odd but legal: one staff member in the panel; the analysis runs and publishes no percentage for them."""
    f = raw(project, "baseline.csv")
    original = read_rows(f)
    endline_ids = set(pd.read_excel(raw(project, "endline.xlsx"), dtype=str)["resp/resp_id"].dropna())
    j = col(original, "resp/resp_id")
    staff = data_rows(original, "resp/resp_type", "staff")
    candidates = [i for i in staff if original[i][j] in endline_ids and original[i][col(original, "consent")] == "yes"]
    for keep_row in candidates[:5]:
        drop = set(staff) - {keep_row}
        write_rows(f, [r for i, r in enumerate(original) if i not in drop])
        result = clean(project)
        resp = result.responses[result.responses["group"] == "staff"]
        if resp.groupby("respondent_id")["wave"].nunique().eq(2).sum() == 1:  # one matched staff pair
            tables = evaluate(result.responses)
            staff_rows = tables["results"][tables["results"]["group"] == "staff"]
            break
    else:
        pytest.fail("could not build a panel with exactly one staff member")
    assert staff_rows["baseline_pct"].isna().all(), (
        f"a one-respondent group's percentage is published: {staff_rows[['indicator', 'n', 'baseline_pct']]}")


def test_an_indicator_with_all_answers_missing(project):
    """Odd but legal: every answer empty gives missing values, not a crash."""
    f = raw(project, "baseline.csv")
    rows = read_rows(f)
    j = col(rows, "prac/give_info")
    for r in rows[1:]:
        r[j] = ""
    write_rows(f, rows)
    result = clean(project)
    base = result.responses[result.responses["wave"] == "baseline"]
    assert base["give_info"].isna().all()
    results = evaluate(result.responses)["results"]
    rows = results[results["indicator"] == "give_info"]
    assert rows["change_pp"].isna().all() and rows["p_value"].isna().all()
    assert rows["note"].fillna("").str.len().gt(0).all(), "an undefined result needs a visible note"


def evaluate(responses: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What the evaluation notebook computes from processed data (no crash allowed)."""
    from evalkit.claims import evaluate_claims
    from evalkit.compare import compare_indicators
    from evalkit.subgroups import subgroup_table

    params = load_params(CAMPAIGN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = compare_indicators(responses, params)
        return {"results": results, "subgroups": subgroup_table(responses, params),
                "claims": evaluate_claims(params, results, responses)}


# ---------------------------------------------------------------- the codebook


def test_codebook_without_choices_sheet(project):
    edit_xlsx(raw(project, "kap_form.xlsx"), lambda wb: wb.remove(wb["choices"]))
    expect_error(project, "kap_form.xlsx", "choices")


def test_codebook_is_not_a_workbook(project):
    raw(project, "kap_form.xlsx").write_bytes(b"type,name\nselect_one yes_no,consent\n")
    expect_error(project, "kap_form.xlsx")


def test_codebook_truncated(project):
    f = raw(project, "kap_form.xlsx")
    f.write_bytes(f.read_bytes()[:1000])
    expect_error(project, "kap_form.xlsx")


def test_codebook_missing_a_choice_the_params_need(project):
    def edit(wb):
        ws = wb["choices"]
        header = sheet_header(ws)
        for r in range(ws.max_row, 1, -1):
            if ws.cell(row=r, column=header.index("name") + 1).value == "very_good":
                ws.delete_rows(r)

    edit_xlsx(raw(project, "kap_form.xlsx"), edit)
    expect_error(project, "kap_form.xlsx", "very_good")


# ---------------------------------------------------------------- params files


def _params_text(root: Path) -> str:
    return (root / "params" / f"{CAMPAIGN}.yaml").read_text(encoding="utf-8")


def _write_params_text(root: Path, text: str | bytes) -> Path:
    f = root / "params" / f"{CAMPAIGN}.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return f


def _expect_params_error(root: Path, *where: str) -> str:
    before = raw_hashes(root), output_hashes(root)
    from evalkit import cli

    with pytest.raises(EvalkitError) as err:
        load_params(CAMPAIGN)
    msg = str(err.value)
    assert f"{CAMPAIGN}.yaml" in msg
    for w in where:
        assert w in msg, f"{w!r} not in:\n{msg}"
    assert WHAT_TO_DO.search(msg), msg
    assert cli.main(["check", CAMPAIGN]) == 2
    assert (raw_hashes(root), output_hashes(root)) == before
    return msg


def test_params_unknown_key(params_project):
    _write_params_text(params_project, _params_text(params_project).replace("min_cell_size: 10", "min_cell_size: 10\nmin_cel_size: 5"))
    _expect_params_error(params_project, "min_cel_size", "unknown setting")


def test_params_nested_unknown_key(params_project):
    _write_params_text(params_project, _params_text(params_project).replace("  free_text: drop", "  free_text: drop\n  freetext: keep"))
    _expect_params_error(params_project, "cleaning.freetext")


@pytest.mark.parametrize("old,new,key", [
    ("min_cell_size: 10", "min_cell_size: ten", "min_cell_size"),
    ("alpha: 0.05", "alpha: '0.05'", "alpha"),
    ("synthetic: true", "synthetic: 'yes'", "synthetic"),
    ("campaign_period: {start: 2022-02-01", "campaign_period: {start: 2022-02-31", "campaign_period.start"),
    ("design: paired", "design: [paired]", "design"),
], ids=["text-for-int", "text-for-float", "text-for-bool", "impossible-date", "list-for-choice"])
def test_params_wrong_type(params_project, old, new, key):
    text = _params_text(params_project)
    assert old in text
    _write_params_text(params_project, text.replace(old, new, 1))
    _expect_params_error(params_project, key)


def test_params_path_that_does_not_exist(project):
    _write_params_text(project, _params_text(project).replace("file: baseline.csv", "file: baseline_final_v2.csv"))
    expect_error(project, "baseline_final_v2.csv", "raw")


@pytest.mark.parametrize("breakage", [
    lambda t: t.replace("campaign_period: {start: 2022-02-01, end: 2022-02-28}", "campaign_period: {start: 2022-02-01"),
    lambda t: t.replace("\n  codebook:", "\n\tcodebook:"),
    lambda t: t.replace('title: "Together', 'title: "Together\n', 1).replace("inclusive education in Mongolia\"", "x", 1),
    lambda t: t.replace("design: paired", "design: paired\n  stage: oops"),
    lambda t: t.replace("  - id: know_well", "  - id: know_well\n - id: broken"),
], ids=["unclosed-brace", "tab-indent", "unclosed-quote", "bad-indent", "bad-list-indent"])
def test_params_yaml_syntax_error(params_project, breakage):
    text = _params_text(params_project)
    broken = breakage(text)
    assert broken != text
    _write_params_text(params_project, broken)
    msg = _expect_params_error(params_project, "YAML", "line")
    assert "Check" in msg


def test_params_duplicate_key(params_project):
    """YAML silently keeps the last of two equal keys; a duplicated setting must be an error."""
    _write_params_text(params_project, _params_text(params_project).replace("min_cell_size: 10", "min_cell_size: 10\nmin_cell_size: 3"))
    _expect_params_error(params_project, "min_cell_size")


@pytest.mark.parametrize("content", [b"", b"# only a comment\n", b"- campaign: together\n", b"just text\n"],
                         ids=["empty", "comment-only", "a-list", "a-string"])
def test_params_not_a_mapping(params_project, content):
    _write_params_text(params_project, content)
    _expect_params_error(params_project, "mapping")


def test_params_not_utf8(params_project):
    text = _params_text(params_project).replace('title: "Together', 'title: "Хамтдаа Together')
    text = text.split("\n# Report language")[0]  # the Mongolian report block has letters (ү, ө) cp1251 lacks
    _write_params_text(params_project, text.encode("cp1251"))
    _expect_params_error(params_project, "UTF-8")


def test_params_question_not_in_codebook(project):
    _write_params_text(project, _params_text(project).replace("question: att/no_harm", "question: att/no_harms"))
    expect_error(project, "together.yaml", "att/no_harms", "indicators[4].question")


# ---------------------------------------------------------------- the same through the command line and make


def test_cli_clean_with_a_broken_export_keeps_previous_outputs(built, tmp_path):
    from .helpers import clone_tree

    root = clone_tree(built, tmp_path / "project")
    f = raw(root, "baseline.csv")
    rows = read_rows(f)
    rows[3][col(rows, "att/no_harm")] = "maybe"
    write_rows(f, rows)
    raw_before, out_before = raw_hashes(root), output_hashes(root)
    res = evalkit(root, "clean", CAMPAIGN)
    assert res.returncode == 2
    assert res.stderr.startswith("error:") or "error:" in res.stderr
    assert "baseline.csv" in res.stderr and "att/no_harm" in res.stderr and "maybe" in res.stderr
    assert raw_hashes(root) == raw_before
    after = {k: v for k, v in output_hashes(root).items() if "FAILED" not in k and not k.endswith(".log")}
    assert after == out_before, "the failed clean step changed a final output"


# ---------------------------------------------------------------- bytes are never silently replaced


def test_no_decode_with_errors_replace_in_the_library():
    """A decode with ``errors="replace"`` (or a ``surrogateescape`` round trip) would turn a wrong
    encoding into silent question marks; every decode of data must be strict."""
    import ast

    src = Path(__file__).resolve().parents[2] / "src" / "evalkit"
    not_data = {"bench.py"}  # reads its own log files, never survey data
    found = []
    for f in sorted(p for p in src.rglob("*.py") if p.name not in not_data):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if (kw.arg in ("errors", "encoding_errors") and isinstance(kw.value, ast.Constant)
                            and kw.value.value in ("replace", "surrogateescape", "backslashreplace")):
                        found.append(f"{f.relative_to(src)}:{node.lineno}")
    assert found == []
