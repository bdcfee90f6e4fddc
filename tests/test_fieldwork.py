"""Tests for evalkit.fieldwork and evalkit.fieldwork_page: each check on an export with planted problems.

The fieldwork fixture (built here from ``fixtures_raw``' row and export helpers) has five
enumerators over two baseline days, and plants one problem per check: an enumerator far
below the daily target, one whose interviews are all too short, a submission sent twice,
a respondent interviewed twice, consent refusals, an enumerator whose answers are all
"don't know", "other" answers, an outdated form version still in use, an answer outside
its choice list, one outside the form's constraint, and baseline respondents not yet
re-interviewed at endline.
"""

from __future__ import annotations

import hashlib

import numpy as np
import openpyxl
import pandas as pd
import pytest
import scipy.stats

import fixtures_raw as fx
from evalkit import deid
from evalkit.fieldwork import modified_z, parse_constraint, run_checks
from evalkit.fieldwork_page import build_fieldwork
from evalkit.report.htmlexport import external_references
from evalkit.params import load_params

ENUMS = ["enum1", "enum2", "enum3", "enum4", "enum5"]


def _baseline_rows() -> list[dict]:
    rows, i = [], 0
    for day in (18, 19):
        for e in ENUMS:
            for k in range(3 if not (e == "enum4" and day == 19) else 1):  # enum4: 1 on day 19 (target 3)
                i += 1
                r = fx._row(i, f"R{i:03d}", ["parent_sen", "parent_nosen", "staff"][i % 3], day=day, user=e,
                            hour=8 + k, minutes=2 if e == "enum5" else 12 + (i % 3),
                            know="dont_know" if e == "enum2" else "good",
                            agree="dont_know" if e == "enum2" else "agree")
                r["__version__"] = "v1" if e == "enum1" or day == 18 else "v2"  # enum1 never updated the form
                if e == "enum3" and k == 0:
                    r["consent"] = "no"
                rows.append(r)
    rows[0]["prac/channels"] = "facebook other"
    rows[1]["prac/channels"] = "other"
    rows[2]["know/know_level"] = "excellent"  # not in the choice list
    rows[3]["resp/grade"] = "42"  # the form allows 1-10
    rows[6]["resp/grade"] = "twelve"  # not a number
    rows[4]["resp/resp_id"] = "R001"  # the same respondent interviewed twice (another _uuid)
    rows.append(dict(rows[5]))  # the same submission sent twice (same _uuid)
    rows.append(fx._row(99, "R099", "staff", day=18, user="test"))  # a test submission
    return rows


def _endline_rows(n: int) -> list[dict]:
    return [fx._row(200 + i, f"R{i:03d}", ["parent_sen", "parent_nosen", "staff"][i % 3], month=3, day=8,
                    hour=9) for i in range(1, n + 1)]


def _fieldwork_project(tmp_path, monkeypatch, *, endline: int | None = 10, extra_yaml: str = "") -> object:
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    monkeypatch.delenv(deid.KEY_ENV, raising=False)
    raw = fx.make_project(tmp_path)
    survey = [(("select_multiple channel or_other", *row[1:]) if row[1] == "channels" else row) for row in fx.SURVEY]
    fx.write_codebook(raw / "kap_form.xlsx", survey=survey)
    wb = openpyxl.load_workbook(raw / "kap_form.xlsx")
    ws = wb["survey"]
    for row in ws.iter_rows(min_row=2):
        if row[1].value == "grade":
            row[6].value = ". >= 1 and . <= 10"
    wb.save(raw / "kap_form.xlsx")
    head, body = fx.export_rows(_baseline_rows(), renames={"know/self_know_sen": "know/know_well"})
    fx.write_csv(raw / "baseline.csv", head, body)
    if endline is None:
        (raw / "endline.xlsx").unlink()
    else:
        head, body = fx.export_rows(_endline_rows(endline), headers="label", values="label", language="mn", sep="-")
        fx.write_xlsx(raw / "endline.xlsx", head, body)
    params = tmp_path / "params" / "fixture.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace(
        "cleaning:\n", f"fieldwork:\n  target_per_day: 3\n{extra_yaml}cleaning:\n"), encoding="utf-8")
    return raw


def _check(table, check, wave="baseline"):
    return table[(table["check"] == check) & (table["wave"] == wave)]


@pytest.fixture
def checked(tmp_path, monkeypatch):
    raw = _fieldwork_project(tmp_path, monkeypatch)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in raw.iterdir()}
    result = run_checks(load_params("fixture"))
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in raw.iterdir()}
    assert after == before  # the checks never touch data/raw
    return result


def test_submissions_per_day_against_the_target(checked):
    s = _check(checked.table, "submissions")
    flagged = s[s["flag"] == "below target"]
    assert flagged[["day", "enumerator", "value"]].values.tolist() == [["2022-01-19", "enum4", 1]]
    total = s[(s["enumerator"] == "all")].set_index("day")["value"]
    assert total.to_dict() == {"2022-01-18": 16, "2022-01-19": 13}  # incl. the re-sent submission, not the test
    assert checked.waves[0].n_tests == 1


def test_durations_flag_the_enumerator_whose_interviews_are_too_short(checked):
    d = _check(checked.table, "duration").set_index(["enumerator", "measure"])
    assert d.loc[("enum5", "median_minutes"), "value"] == pytest.approx(2.0, abs=1e-9)  # every interview 2 min
    assert d.loc[("enum5", "median_minutes"), "flag"] == "outlier"
    assert d.loc[("enum5", "share_under_minimum"), "value"] == pytest.approx(1.0, abs=1e-9)
    # the others: 12-14 minutes (12 + i % 3), medians checked against numpy's median
    enum1 = [12 + (i % 3) for i in (1, 2, 3, 16, 17, 18)]  # its interviews are rows i = 1-3 and 16-18
    assert d.loc[("enum1", "median_minutes"), "value"] == pytest.approx(float(np.median(enum1)), abs=0.05)
    assert d.loc[("enum5", "share_under_minimum"), "flag"] == "too many short"
    others = d.drop(index="enum5", level=0)
    assert (others["flag"] == "").all()


def test_duplicates_listed_with_key_fields_and_pseudonyms(checked):
    t = checked.table
    uu = _check(t, "duplicate_uuid")
    assert len(uu) == 2 and uu["submission"].nunique() == 1 and uu["value"].nunique() == 2  # two export rows
    rr = _check(t, "duplicate_respondent")
    assert len(rr) == 2 and rr["submission"].nunique() == 2
    pid = deid.pseudonymise(pd.Series(["R001"]), deid.pseudonym_key().key).iloc[0]
    assert set(rr["respondent"]) == {pid}
    assert not t.astype(str).apply(lambda c: c.str.contains(r"\bR0\d\d\b")).any().any()  # raw ids never shown


def test_consent_dont_know_and_other_shares(checked):
    t = checked.table
    consent = _check(t, "consent").set_index("enumerator")
    assert consent.loc["enum3", "value"] == pytest.approx(2 / 6, abs=1e-4)  # 1 refusal a day, 3 interviews a day
    assert consent.loc["enum3", "flag"] == "outlier"
    dk = _check(t, "dont_know_refused")
    enum2 = dk[(dk["enumerator"] == "enum2") & (dk["measure"] == "dont_know_rate")].iloc[0]
    assert enum2["flag"] == "outlier" and enum2["value"] > 0.2
    per_q = dk[(dk["enumerator"] == "all") & (dk["question"] == "know/know_level")
               & (dk["measure"] == "dont_know_rate")].iloc[0]
    # 29 submissions (the re-sent one counts until resolved) less 2 refusals and 1 answer not in the list = 26;
    # enum2's 6 interviews and the re-sent copy of one of them say "don't know": 7
    assert per_q["value"] == pytest.approx(7 / 26, abs=1e-4) and per_q["n"] == 26
    other = _check(t, "other_specify").set_index("question")
    assert other.loc["prac/channels", "value"] == pytest.approx(2 / other.loc["prac/channels", "n"], abs=1e-4)


def test_form_versions_and_answers_outside_lists_and_constraints(checked):
    t = checked.table
    v = _check(t, "form_version").set_index("question")
    assert v.loc["v1", "flag"] == "older version in use" and v.loc["v2", "flag"] == ""
    a = _check(t, "answers").set_index("measure")
    assert a.loc["not_in_choice_list", "question"] == "know/know_level"
    assert a.loc["not_in_choice_list", "value"] == 1 and "row(s) 4" in a.loc["not_in_choice_list", "note"]
    cons = a.loc["outside_constraint"]
    assert cons["question"] == "resp/grade" and cons["value"] == 1 and "row(s) 5" in cons["note"]
    assert a.loc["outside_range_check", "value"] == 1  # params range check 1-10 too
    assert a.loc["not_a_number", "question"] == "resp/grade" and "row(s) 8" in a.loc["not_a_number", "note"]
    assert "excellent" not in t.to_csv()  # values are not echoed, rows are


def test_panel_follow_up_by_location_with_small_cells_suppressed(tmp_path, monkeypatch):
    _fieldwork_project(tmp_path, monkeypatch, endline=12)
    f = _check(run_checks(load_params("fixture")).table, "panel_follow_up", "endline")
    total = f[f["level"] == "all"].set_index("measure")["value"]
    # R001-R028 less R005 (its row says R001) and R007, R022 (refused consent): 25 baseline respondents;
    # the endline so far has R001-R012, 10 of them (not R005, R007)
    assert total["baseline_respondents"] == 25 and total["not_yet_reinterviewed"] == 25 - 10
    by = f[f["level"] != "all"]
    assert set(by["level"]) == {"urban", "rural"}
    # rural (i % 3 == 0): 9 respondents < 10 -> suppressed, and urban too (else derivable from the total)
    assert (by["flag"] == "suppressed").all() and by["value"].isna().all()


def test_panel_follow_up_published_when_cells_are_large_enough(tmp_path, monkeypatch):
    _fieldwork_project(tmp_path, monkeypatch, endline=12, extra_yaml="")
    p = tmp_path / "params" / "fixture.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "min_cell_size: 3\n", encoding="utf-8")
    f = _check(run_checks(load_params("fixture")).table, "panel_follow_up", "endline")
    by = f[(f["level"] != "all") & (f["measure"] == "baseline_respondents")].set_index("level")["value"]
    assert by.to_dict() == {"rural": 9, "urban": 16} and (f["flag"] != "suppressed").all()


def test_partial_export_page_is_offline_pseudonymised_and_written(tmp_path, monkeypatch):
    raw = _fieldwork_project(tmp_path, monkeypatch, endline=None)
    params = load_params("fixture")
    out = build_fieldwork(params)
    html = out.read_text(encoding="utf-8")
    csv_text = (out.parent / "fieldwork.csv").read_text(encoding="utf-8")
    assert out == tmp_path / "reports" / "fixture" / "fieldwork.html"
    assert external_references(html) == [] and "<script" not in html
    assert "Not exported yet: endline" in html and "<caption>" in html and 'scope="col"' in html
    assert 'href="#ek-main"' in html  # the report's skip link
    for value in fx.PII_VALUES + ["R001", "R002"]:
        assert value not in html and value not in csv_text
    assert "enum5" in html  # enumerators are staff: shown as the team knows them
    assert build_fieldwork(params).read_bytes() == html.encode("utf-8")  # same bytes on a second run
    assert not (raw / "endline.xlsx").exists()


def test_enumerators_can_be_pseudonymised(tmp_path, monkeypatch):
    _fieldwork_project(tmp_path, monkeypatch, endline=None, extra_yaml="  enumerator_ids: pseudonymise\n")
    t = run_checks(load_params("fixture")).table
    assert not t["enumerator"].isin(ENUMS).any() and t["enumerator"].dropna().str.match(r"^(e[0-9a-f]{8}|all)$").all()


def test_modified_z_matches_scipy_mad():
    # Reference: scipy.stats.median_abs_deviation(scale="normal") = 1.4826 MAD; tolerance 1e-12.
    x = np.array([10.0, 11.5, 12.0, 12.5, 13.0, 30.0])
    ref = (x - np.median(x)) / scipy.stats.median_abs_deviation(x, scale="normal")
    assert np.allclose(modified_z(pd.Series(x)).to_numpy(), ref, rtol=0, atol=1e-12)
    # MAD = 0 (most rates 0): mean absolute deviation around the median x sqrt(pi/2), as IBM SPSS does
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.5])
    ref = (y - 0.0) / (np.sqrt(np.pi / 2) * np.mean(np.abs(y - 0.0)))
    assert np.allclose(modified_z(pd.Series(y)).to_numpy(), ref, rtol=0, atol=1e-12)
    # edges: all equal, fewer than three values, empty
    assert modified_z(pd.Series([3.0, 3.0, 3.0])).isna().all()
    assert modified_z(pd.Series([1.0, 9.0])).isna().all()
    assert modified_z(pd.Series([], dtype=float)).empty


def test_parse_constraint():
    assert parse_constraint(". >= 1 and . <= 10") == [(">=", 1.0), ("<=", 10.0)]
    assert parse_constraint("(. > 0)") == [(">", 0.0)]
    assert parse_constraint("regex(., '^[0-9]+$')") is None
    assert parse_constraint("") == []


def test_checks_see_the_teams_corrections(tmp_path, monkeypatch):
    raw = _fieldwork_project(tmp_path, monkeypatch, endline=None)
    (raw / "corrections.csv").write_text("_uuid,question,current_value,corrected_value,reason,who,when\n"
                                         "uuid-0004,resp/grade,42,4,typo,Bat,2022-01-20\n", encoding="utf-8")
    a = _check(run_checks(load_params("fixture")).table, "answers").set_index("measure")
    assert a.loc["outside_constraint", "value"] == 0
    (raw / "corrections.csv").write_text("_uuid,question,current_value,corrected_value,reason,who,when\n"
                                         "uuid-0004,resp/grade,41,4,typo,Bat,2022-01-20\n", encoding="utf-8")
    from evalkit.errors import RawDataError

    with pytest.raises(RawDataError, match="the export changed under the correction"):
        run_checks(load_params("fixture"))


@pytest.mark.parametrize("n_rows", [0, 1])
def test_an_export_with_no_or_one_submission_gives_a_page(tmp_path, monkeypatch, n_rows):
    # the first morning of fieldwork: a header row and nothing (or one interview) yet
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    raw = fx.make_project(tmp_path)
    head, body = fx.export_rows(fx.baseline_rows()[:n_rows])
    fx.write_csv(raw / "baseline.csv", head, body)
    (raw / "endline.xlsx").unlink()
    out = build_fieldwork(load_params("fixture"))
    table = pd.read_csv(out.parent / "fieldwork.csv")
    assert (table["check"] == "submissions").sum() == 2 * n_rows  # the enumerator's day and the day's total
    d = table[table["check"] == "duration"]
    assert n_rows == 0 or d["note"].str.contains("undefined").any()  # one enumerator: no outlier rule, said so


def test_cli_fieldwork_command(tmp_path, monkeypatch, capsys):
    from evalkit import cli

    raw = _fieldwork_project(tmp_path, monkeypatch, endline=None)
    assert cli.main(["fieldwork", "fixture"]) == 0
    assert "reports/fixture/fieldwork.html" in capsys.readouterr().out
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\n,x,Bat,2022-01-22\n", encoding="utf-8")
    assert cli.main(["fieldwork", "fixture"]) == 2
    assert "duplicates.csv row 2: the column '_uuid' is empty" in capsys.readouterr().err


def test_a_decision_for_a_wave_not_exported_yet_is_listed_not_an_error(tmp_path, monkeypatch):
    raw = _fieldwork_project(tmp_path, monkeypatch, endline=None)
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0999,x,Bat,2022-03-09\n", encoding="utf-8")
    out = build_fieldwork(load_params("fixture"))
    t = pd.read_csv(out.parent / "fieldwork.csv")
    row = t[t["check"] == "decisions"].iloc[0]
    assert (row["question"], row["value"], row["submission"], row["flag"]) == ("duplicates.csv", 2, "uuid-0999",
                                                                              "not found yet")
    assert "Decisions not matched yet" in out.read_text(encoding="utf-8")
    _fieldwork_project(tmp_path, monkeypatch, endline=3)  # every wave exported now, and still no such _uuid
    from evalkit.errors import RawDataError

    with pytest.raises(RawDataError, match="duplicates.csv row 2: no export has a submission with _uuid uuid-0999"):
        run_checks(load_params("fixture"))


def test_shipped_campaign_checks_show_no_personal_data(tmp_path, monkeypatch):
    """together's real-shaped exports: no respondent id, name or phone of the raw export on the page."""
    import csv as _csv

    from evalkit import paths
    from evalkit.fieldwork_page import render_page

    monkeypatch.delenv(deid.KEY_ENV, raising=False)
    params = load_params("together")
    result = run_checks(params)
    html, text = render_page(result, params), result.table.to_csv()
    with open(paths.campaign_raw_dir("together") / "baseline.csv", encoding="utf-8") as f:
        rows = list(_csv.DictReader(f))
    personal = {r[k] for r in rows[:200] for k in ("resp/resp_id", "resp/name", "resp/phone") if r[k]}
    assert personal and not [v for v in personal if v in html or v in text]
    assert set(result.table["check"]) >= {"submissions", "duration", "duplicate_uuid", "duplicate_respondent",
                                          "consent", "dont_know_refused", "form_version", "panel_follow_up"}


def test_duplicates_show_the_teams_resolution(tmp_path, monkeypatch):
    raw = _fieldwork_project(tmp_path, monkeypatch, endline=None)
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0005,x,Bat,2022-01-20\n", encoding="utf-8")
    t = run_checks(load_params("fixture")).table
    rr = _check(t, "duplicate_respondent").set_index("submission")["flag"]
    assert rr.to_dict() == {"uuid-0001": "dropped (duplicates.csv row 2)", "uuid-0005": "kept (duplicates.csv row 2)"}
    assert set(_check(t, "duplicate_uuid")["flag"]) == {"first kept"}


def test_make_check_builds_once_and_rebuilds_when_a_decision_file_comes_or_goes(tmp_path):
    """``make check`` (issue 20): a real file target; times set explicitly, so nothing depends on the clock."""
    import os

    from test_pipeline import make_project_copy, run

    root = make_project_copy(tmp_path / "p")
    res = run(["make", "check", "CAMPAIGN=together"], root)
    page = root / "reports" / "together" / "fieldwork.html"
    assert res.returncode == 0 and page.is_file() and (page.parent / "fieldwork.csv").is_file(), res.stderr[-2000:]
    assert "up to date" in run(["make", "check", "CAMPAIGN=together"], root).stdout

    def age_everything_but_the_page() -> None:  # inputs older than the page, whatever the file system's clock
        old = page.stat().st_mtime_ns - 10**10
        for p in [root / "params" / "together.yaml", *(root / "data" / "raw").rglob("*"), root / "data" / "raw" /
                  "together", *(root / "src").rglob("*")]:
            os.utime(p, ns=(old, old), follow_symlinks=False)

    raw = root / "data" / "raw" / "together"
    decisions = raw / "duplicates.csv"
    decisions.write_text("_uuid,reason,who,when\n", encoding="utf-8")
    age_everything_but_the_page()
    new = page.stat().st_mtime_ns + 10**9
    os.utime(decisions, ns=(new, new))
    assert "Fieldwork checks:" in run(["make", "check", "CAMPAIGN=together"], root).stdout  # a new file: rebuilt
    decisions.unlink()
    age_everything_but_the_page()
    new = page.stat().st_mtime_ns + 10**9
    os.utime(raw, ns=(new, new))  # what deleting a file does to its folder
    assert "Fieldwork checks:" in run(["make", "check", "CAMPAIGN=together"], root).stdout  # a deletion: rebuilt
    assert run(["make", "check", "CAMPAIGN=nope"], root).returncode == 2


def test_page_summarises_what_to_act_on(tmp_path, monkeypatch):
    from evalkit.fieldwork_page import render_page

    _fieldwork_project(tmp_path, monkeypatch, endline=None)
    params = load_params("fixture")
    result = run_checks(params)
    html = render_page(result, params)
    top = html[html.index('id="tbl-to-act-on"'):html.index("</table>", html.index('id="tbl-to-act-on"'))]
    assert "Submissions per day" in top and "Interview duration" in top and "Respondent duplicates" in top
    assert "Form versions" in top and "Answers outside lists and constraints" in top
