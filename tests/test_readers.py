"""Tests for evalkit.readers: the XLSForm codebook and CSV / XLSX / SAV exports."""

from __future__ import annotations

import datetime as dt
import hashlib

import openpyxl
import pandas as pd
import pytest

import fixtures_raw as fx
from evalkit.errors import CodebookError, EncodingDetectionError, RawDataError
from evalkit.params import DateRange, WaveFile
from evalkit.readers import ROW, load_export, read_codebook, read_export

FW = DateRange(dt.date(2022, 1, 17), dt.date(2022, 1, 28))
XML = WaveFile(file="x", fieldwork=FW)
LABEL_MN = WaveFile(file="x", fieldwork=FW, headers="label", values="label", language="mn", group_separator="-")


@pytest.fixture
def codebook(tmp_path):
    return read_codebook(fx.write_codebook(tmp_path / "kap_form.xlsx"))


def test_codebook_questions_groups_and_labels(codebook):
    q = codebook.question("resp/resp_type")
    assert (q.type, q.list_name, q.groups, q.short_name) == ("select_one", "resp_type", ("resp",), "resp_type")
    assert q.label("mn") == "Оролцогчийн төрөл" and q.group_labels("mn") == ("Оролцогч",)
    assert codebook.languages == {"en": "English", "mn": "Mongolian"}
    assert codebook.choice_names("know/self_know_sen")[:2] == ["strongly_disagree", "disagree"]
    assert codebook.question("prac/channels").type == "select_multiple"
    assert codebook.version == "v2" and codebook.form_id == "fixture_kap"
    assert "resp" not in codebook.questions  # groups are not questions


def test_codebook_problems_are_collected(tmp_path):
    survey = [("select_one nolist", "q1", "Q1", ""), ("begin_group", "g", "G", ""), ("bogus_type", "q2", "", "")]
    path = fx.write_codebook(tmp_path / "bad.xlsx", survey=survey)
    with pytest.raises(CodebookError) as exc:
        read_codebook(path)
    message = str(exc.value)
    assert "bad.xlsx" in message
    assert "'nolist'" in message and "never closed" in message and "'bogus_type'" in message


def test_codebook_missing_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "survey"
    wb.save(tmp_path / "form.xlsx")
    with pytest.raises(CodebookError, match="sheet 'choices' is missing"):
        read_codebook(tmp_path / "form.xlsx")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_csv_encodings(tmp_path, encoding):
    head, body = fx.export_rows(fx.baseline_rows()[:3])
    if encoding == "cp1251":  # cp1251 has no Mongolian Ө/Ү: use Russian-compatible text
        body = [[v.replace("Бат-Эрдэнэ", "Иван") for v in r] for r in body]
    path = fx.write_csv(tmp_path / "b.csv", head, body, encoding=encoding)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    raw = load_export(path, XML)
    assert raw.encoding == encoding and raw.sha256 == before
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # raw file untouched
    df = raw.frame
    assert list(df.columns) == head and len(df) == 3
    assert df.index.name == ROW and list(df.index) == [2, 3, 4]  # spreadsheet rows, header = row 1
    assert df.loc[2, "resp/resp_type"] == "parent_sen"
    assert df.loc[2, "_validation_status"] != df.loc[2, "_validation_status"]  # empty cell -> missing


def test_csv_keeps_text_exactly(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("resp/resp_id;note;n\n007;NA;1\n010;\"a;b\";\n", encoding="utf-8")  # Kobo's ';' export
    df = read_export(path, XML)
    assert df["resp/resp_id"].tolist() == ["007", "010"]  # leading zeros kept
    assert df.loc[2, "note"] == "NA" and df.loc[3, "note"] == "a;b"  # "NA" is text, not missing
    assert df["n"].isna().tolist() == [False, True]


def test_csv_encoding_error_names_file(tmp_path):
    path = tmp_path / "endline.csv"
    path.write_bytes("a,b\nГрюße,x\n".encode("utf-16"))
    with pytest.raises(EncodingDetectionError, match="endline.csv.*re-save it as UTF-8"):
        read_export(path, XML)


def test_csv_ragged_rows_listed(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b,c\n1,2,3\n1,2\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(RawDataError) as exc:
        read_export(path, XML)
    message = str(exc.value)
    assert "r.csv" in message and "2 row(s)" in message
    assert "row 3: expected 3 columns, found 2" in message and "row 4: expected 3 columns, found 4" in message


def test_repeated_headers_are_kept_apart(tmp_path):
    # Issue 12, point 5: a label export repeats labels; both columns are read, the second one marked.
    from evalkit.readers import header_text

    path = tmp_path / "d.csv"
    path.write_text("a,b,a\n1,2,3\n", encoding="utf-8")
    df = read_export(path, XML)
    assert [header_text(c) for c in df.columns] == ["a", "b", "a"] and df.iloc[0].tolist() == ["1", "2", "3"]


def test_empty_header_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="column 2 has an empty header"):
        read_export(path, XML)


def test_missing_file_lists_folder(tmp_path):
    (tmp_path / "baseline.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="does not exist.*baseline.csv"):
        read_export(tmp_path / "baseline.cvs.csv", XML)


def test_unknown_file_type(tmp_path):
    with pytest.raises(RawDataError, match="'.json'"):
        read_export(tmp_path / "x.json", XML)


def test_xlsx_export_as_text(tmp_path):
    head, body = fx.export_rows(fx.endline_rows(), headers="label", values="label", language="mn", sep="-")
    path = fx.write_xlsx(tmp_path / "e.xlsx", head, body)
    raw = load_export(path, LABEL_MN)
    df = raw.frame
    assert raw.encoding == "xlsx" and len(df) == 6 and list(df.index)[:2] == [2, 3]
    assert df.loc[2, "_id"] == "1021"  # numbers come back as text without ".0"
    assert df.loc[2, "Оролцогч-Оролцогчийн төрөл"] == "СБХ хүүхдийн эцэг эх"


def test_sav_export(tmp_path):
    head, body = fx.export_rows(fx.baseline_rows()[:4])
    path = fx.write_sav(tmp_path / "b.sav", head, body)
    raw = load_export(path, XML)
    assert raw.encoding == "sav" and list(raw.frame.columns) == head  # headers from variable labels
    assert raw.frame.loc[3, "know/know_level"] == "dont_know"


def test_xlsx_cells_as_export_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["start", "n", "x", "text", "flag"])
    ws.append([dt.datetime(2022, 1, 17, 10, 3, 21), 12, 12.5, "a & b <c>", True])
    ws.append([dt.date(2022, 1, 18), None, 0.1, "Өвөрхангай", False])
    ws.append([None, None, None, None, None])
    ws.append(["2022-01-19T10:00:00.000+08:00", 7, -3, "", None])
    wb.save(tmp_path / "t.xlsx")
    df = read_export(tmp_path / "t.xlsx", XML)
    # Reference: the values written above, as Kobo's CSV export would show them.
    assert df.loc[2, "start"] == "2022-01-17T10:03:21" and df.loc[3, "start"] == "2022-01-18T00:00:00"
    assert df.loc[2, "text"] == "a & b <c>" and df.loc[2, "n"] == "12" and df.loc[2, "x"] == "12.5"
    assert df.loc[3, "x"] == "0.1" and df.loc[5, "x"] == "-3" and df.loc[2, "flag"] == "1" and df.loc[3, "flag"] == "0"
    assert pd.isna(df.loc[3, "n"]) and pd.isna(df.loc[5, "text"]) and df.loc[3, "text"] == "Өвөрхангай"
    assert df.index.tolist() == [2, 3, 5]  # the blank row 4 is skipped; row numbers stay those of the sheet


def test_quoted_newlines_detected(tmp_path):
    path = tmp_path / "n.csv"
    path.write_bytes(b'comments,n\r\n"line one\r\nline two",2\r\nplain,3\r\n')
    df = read_export(path, XML)
    assert df["comments"].tolist() == ["line one\r\nline two", "plain"] and df.index.tolist() == [2, 3]


def test_late_non_utf8_bytes_are_found(tmp_path):
    # The first MiB is ASCII, Windows-1251 Cyrillic comes later: the sample says UTF-8, Arrow's
    # strict check fails, and the whole file is then detected as cp1251 (never "replaced").
    body = "a,b\n" + "x,y\n" * 300_000 + "Иван,Школа номер пять\n"
    path = tmp_path / "late.csv"
    path.write_bytes(body.encode("cp1251"))
    raw = load_export(path, XML)
    assert raw.encoding == "cp1251" and raw.frame["a"].iloc[-1] == "Иван"
    # 0x98 is undefined in Windows-1251 and 0x81 in Windows-1252: neither code page can read it.
    path.write_bytes(body.encode("ascii", errors="ignore") + b"\xff\xfe\x98\x81,bad\n")
    with pytest.raises(EncodingDetectionError, match="late.csv"):
        load_export(path, XML)


def test_sav_value_labels(tmp_path):
    # Kobo's "SPSS labels" export: numeric codes with value labels, question names as variable labels.
    import pyreadstat

    df = pd.DataFrame({"v1": [1.0, 2.0, None], "v2": [3.0, 4.5, 10.0]})
    pyreadstat.write_sav(df, str(tmp_path / "l.sav"), column_labels=["consent", "resp/grade"],
                         variable_value_labels={"v1": {1.0: "Yes", 2.0: "No"}})
    out = read_export(tmp_path / "l.sav", XML)
    assert out.columns.tolist() == ["consent", "resp/grade"]
    assert out["consent"].tolist()[:2] == ["Yes", "No"] and pd.isna(out["consent"].iloc[2])
    assert out["resp/grade"].tolist() == ["3", "4.5", "10"]
