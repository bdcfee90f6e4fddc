"""Issue 13: indicator kinds declared in params, wired through cleaning and comparison.

Every reference is recomputed independently from the raw export (plain
pandas on the CSV cells), never with evalkit's own functions.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import yaml

import fixtures_raw as fx
from evalkit.cleaning import clean_campaign
from evalkit.compare import compare_indicators
from evalkit.errors import CodebookError, ConfigError
from evalkit.params import load_params

CHANNELS = ["facebook", "tv", "school"]


def _project(tmp_path, monkeypatch, *, extra: list[dict], baseline_rows=None, drop_header=None,
             tamper=None) -> None:
    """The fixture project with ``extra`` indicators appended and an optionally reshaped baseline CSV."""
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    raw = fx.make_project(tmp_path)
    if baseline_rows is not None or drop_header or tamper:
        head, body = fx.export_rows(baseline_rows or fx.baseline_rows(),
                                    renames={"know/self_know_sen": "know/know_well"})
        if tamper:
            tamper(head, body)
        if drop_header:
            keep = [i for i, h in enumerate(head) if not drop_header(h)]
            head, body = [head[i] for i in keep], [[r[i] for i in keep] for r in body]
        fx.write_csv(raw / "baseline.csv", head, body)
    path = tmp_path / "params" / "fixture.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["indicators"] += extra
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _raw_baseline(tmp_path) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "data" / "raw" / "fixture" / "baseline.csv", dtype=str, keep_default_na=False)


EACH = {"id": "seen", "label": "Saw the campaign on", "theme": "practices", "question": "prac/channels",
        "each_option": True, "population": ["parent_sen", "parent_nosen", "staff"]}


def test_each_option_generates_one_indicator_per_choice_from_the_codebook(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch, extra=[EACH])
    p = load_params("fixture")
    generated = [i for i in p.indicators if i.id.startswith("seen_")]
    assert [i.id for i in generated] == [f"seen_{c}" for c in CHANNELS]
    assert [i.positive for i in generated] == [[c] for c in CHANNELS]
    assert generated[1].label == "Saw the campaign on: Television"


def _kept_baseline(params):
    """Cleaned baseline answers (index = spreadsheet rows) and the indicator columns built from them."""
    from evalkit.cleaning import clean_wave
    from evalkit.indicators import build_responses
    from evalkit.readers import read_codebook

    codebook = read_codebook(params.raw_path(params.raw.codebook))
    answers = clean_wave(params, "baseline", codebook).answers
    built = build_responses(answers, params, wave="baseline", respondent_id=answers[params.columns.respondent_id])
    return answers.index.to_numpy(), built


@pytest.mark.parametrize("shape", ["summary_and_dummies", "dummies_only", "summary_only"])
def test_per_option_shares_match_the_raw_export_whatever_columns_it_has(tmp_path, monkeypatch, shape):
    drop = {"dummies_only": lambda h: h == "prac/channels",
            "summary_only": lambda h: h.startswith("prac/channels/")}.get(shape)
    _project(tmp_path, monkeypatch, extra=[EACH], drop_header=drop)
    rows, built = _kept_baseline(load_params("fixture"))
    raw = pd.DataFrame(fx.baseline_rows())  # the rows the CSV was written from; spreadsheet row = position + 2
    for choice in CHANNELS:
        # reference: the choice is one of the raw cell's space-separated names
        expected = [choice in str(raw.loc[r - 2, "prac/channels"]).split() for r in rows]
        assert built[f"seen_{choice}"].astype(bool).tolist() == expected, choice
        assert 0 < sum(expected) < len(expected)


def test_summary_and_dummy_columns_that_disagree_are_an_error_naming_the_rows(tmp_path, monkeypatch):
    def tamper(head, body):
        j = head.index("prac/channels/school")
        body[0][j] = "1" if body[0][j] == "0" else "0"  # spreadsheet row 2

    _project(tmp_path, monkeypatch, extra=[EACH], tamper=tamper)
    with pytest.raises(CodebookError) as err:
        clean_campaign(load_params("fixture"))
    msg = str(err.value)
    assert "prac/channels" in msg and "disagree" in msg and "row(s): 2" in msg


def test_a_0_1_column_with_another_value_is_an_error(tmp_path, monkeypatch):
    def tamper(head, body):
        body[2][head.index("prac/channels/tv")] = "maybe"

    _project(tmp_path, monkeypatch, extra=[EACH], tamper=tamper, drop_header=lambda h: h == "prac/channels")
    with pytest.raises(CodebookError, match=r"prac/channels/tv.*other than 1, 0 or empty in 1 row\(s\): 4"):
        clean_campaign(load_params("fixture"))


def test_each_option_results_rows_recompute_from_raw_cells(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch, extra=[EACH])
    params = load_params("fixture")
    result = clean_campaign(params)
    # the fixture has a few pairs per choice: no small-cell suppression, so every row can be recomputed
    table = compare_indicators(result.responses, dataclasses.replace(params, min_cell_size=1))
    r = result.responses
    for choice in CHANNELS:
        row = table[(table["indicator"] == f"seen_{choice}") & (table["group"] == "all")].iloc[0]
        assert row["mode"] == "self_reported"
        # reference: plain pandas on the processed table's own booleans per wave (pairs matched by id)
        b = r[r.wave == "baseline"].set_index("respondent_id")[f"seen_{choice}"]
        e = r[r.wave == "endline"].set_index("respondent_id")[f"seen_{choice}"]
        both = b.index[b.notna()].intersection(e.index[e.notna()])
        assert len(both) > 0
        assert row["n"] == len(both)
        assert row["baseline_pct"] == pytest.approx(100 * b[both].astype(float).mean(), abs=1e-9)
        assert row["endline_pct"] == pytest.approx(100 * e[both].astype(float).mean(), abs=1e-9)


def test_each_option_with_positive_or_on_another_kind_is_refused(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch, extra=[EACH | {"positive": ["tv"]}])
    with pytest.raises(ConfigError, match=r"each_option"):
        load_params("fixture")


def test_numeric_dont_know_code_becomes_missing_with_a_reason_and_is_not_out_of_range(tmp_path, monkeypatch):
    rows = fx.baseline_rows()
    rows[0]["resp/grade"] = "98"  # R001 (kept by every rule); the range check is 1-10
    rows[4]["resp/grade"] = "7"  # R005
    grade = {"id": "grade", "label": "Grade", "theme": "practices", "question": "resp/grade", "type": "numeric",
             "dont_know_codes": [98, 9999], "population": ["parent_sen", "parent_nosen", "staff"]}
    _project(tmp_path, monkeypatch, extra=[grade], baseline_rows=rows)
    result = clean_campaign(load_params("fixture"))
    log = result.log[result.log.wave == "baseline"].set_index("rule")
    assert log.loc["range:resp/grade", "rows_dropped"] == 1  # only R013's grade 12, as before
    assert "codes 98, 9999 kept" in log.loc["range:resp/grade", "reason"]
    assert "grade: 98 = don't know, 9999 = don't know" in log.loc["dont_know_refused", "reason"]
    assert "count them as negative" not in log.loc["dont_know_refused", "reason"]
    base = result.responses[result.responses.wave == "baseline"]
    reasons = base["grade_missing_reason"].value_counts().to_dict()
    assert reasons.get("dont_know") == 1
    assert sorted(base["grade"].dropna().astype(float).tolist()) == [7.0]


def _with(tmp_path, monkeypatch, change, rows=None):
    _project(tmp_path, monkeypatch, extra=[], baseline_rows=rows)
    path = tmp_path / "params" / "fixture.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_params("fixture")


def test_group_derived_from_another_question_and_grade_bands(tmp_path, monkeypatch):
    rows = fx.baseline_rows()
    for k, g in zip(range(len(rows)), ["3", "8", "", "5", "6", "6", "", "", "", "", "2", "2", "", "12", "", ""]):
        rows[k]["resp/grade"] = g or None

    def change(d):
        d["derived"] = [
            {"name": "sen_parent", "question": "resp/has_sen_child", "map": {"yes": "sen", "no": "no_sen"}},
            {"name": "grade_band", "question": "resp/grade",
             "bands": [{"label": "lower", "max": 5}, {"label": "upper", "min": 6, "max": 10}]},
        ]
        d["columns"]["group"] = "sen_parent"
        d["groups"] = {"sen": "Has a child with SEN", "no_sen": "No child with SEN"}
        d["demographics"]["grade_band"] = "grade_band"
        d["subgroups"] = ["grade_band"]
        d["cleaning"]["consistency_checks"] = []
        for ind in d["indicators"]:
            ind["population"] = ["sen", "no_sen"]

    params = _with(tmp_path, monkeypatch, change, rows)
    result = clean_campaign(params)
    log = result.log[result.log.wave == "baseline"].set_index("rule")
    assert "0 answer(s) with no mapping" in log.loc["derived:sen_parent", "reason"]
    assert "answer(s) with no band left missing" in log.loc["derived:grade_band", "reason"]
    spreadsheet_rows, built = _kept_baseline(params)
    raw = pd.DataFrame(rows)  # spreadsheet row = position + 2

    def band(g):  # reference: the bands as written in params, both ends inclusive
        if g is None:
            return None
        return "lower" if float(g) <= 5 else "upper" if 6 <= float(g) <= 10 else None

    ref_group = [{"yes": "sen", "no": "no_sen"}[raw.loc[r - 2, "resp/has_sen_child"]] for r in spreadsheet_rows]
    ref_band = [band(raw.loc[r - 2, "resp/grade"]) for r in spreadsheet_rows]
    assert built["group"].tolist() == ref_group
    assert [None if pd.isna(v) else v for v in built["grade_band"]] == ref_band
    assert {"lower", "upper", None} <= set(ref_band) and {"sen", "no_sen"} <= set(ref_group)
    from evalkit.subgroups import subgroup_table

    subgroups = subgroup_table(result.responses, params)
    assert set(subgroups["subgroup"]) == {"grade_band"}


def test_derived_definitions_are_checked_against_the_codebook_in_one_message(tmp_path, monkeypatch):
    def change(d):
        d["derived"] = [
            {"name": "demo/sex", "question": "demo/sex", "map": {"male": "m"}},  # a codebook name
            {"name": "x", "question": "demo/sex", "map": {"man": "m"}},  # unknown choice
            {"name": "y", "question": "demo/location", "bands": [{"label": "a", "max": 3}]},  # bands on a select
            {"name": "z", "question": "nope", "map": {"a": "b"}},
        ]
        d["indicators"].append({"id": "is_m", "label": "M", "theme": "knowledge", "question": "x",
                                "positive": ["f"], "population": ["parent_sen"]})

    params = _with(tmp_path, monkeypatch, change)
    with pytest.raises(ConfigError) as err:
        clean_campaign(params)
    msg = str(err.value)
    for part in ["'demo/sex' is a question of the codebook", "'man' is not a choice of demo/sex",
                 "bands need a number question, but demo/location is select_one",
                 "'nope' is not a question", "'f' is not a value of the derived variable x (m)"]:
        assert part in msg, part


def _set_relevant(codebook_path, relevance: dict[str, str]) -> None:
    """Write XLSForm ``relevant`` cells (by question name) into the fixture codebook."""
    import openpyxl

    wb = openpyxl.load_workbook(codebook_path)
    ws = wb["survey"]
    col = [c.value for c in ws[1]].index("relevant") + 1
    for row in ws.iter_rows(min_row=2):
        if row[1].value in relevance:
            ws.cell(row=row[0].row, column=col, value=relevance[row[1].value])
    wb.save(codebook_path)


@pytest.mark.parametrize("relevant, kept_row", [
    (None, 12),  # no skip logic: R010's later interview lacks self_know_sen, so the earlier one (row 12) is kept
    ("${know_level} != 'poor'", 13),  # skipped for 'poor': the later interview is complete and kept
    ("string-length(${know_level}) > 99 or ${comments} = 'x'", 12),  # not understood: always asked, logged
])
def test_latest_complete_respects_the_forms_relevance(tmp_path, monkeypatch, relevant, kept_row):
    rows = fx.baseline_rows()
    rows[11]["know/know_level"] = "poor"  # R010's second interview (spreadsheet row 13), self_know_sen empty
    _project(tmp_path, monkeypatch, extra=[], baseline_rows=rows)
    if relevant:
        _set_relevant(tmp_path / "data" / "raw" / "fixture" / "kap_form.xlsx", {"self_know_sen": relevant})
    params = load_params("fixture")
    spreadsheet_rows, built = _kept_baseline(params)
    r010 = [r for r in spreadsheet_rows if rows[r - 2]["resp/resp_id"] == "R010"]
    assert r010 == [kept_row]
    log = clean_campaign(params).log.set_index(["wave", "rule"]).loc[("baseline", "duplicate_respondent"), "reason"]
    if relevant and "comments" in relevant:
        assert "relevance NOT APPLIED" in log and "know/self_know_sen" in log
    else:
        assert "NOT APPLIED" not in log


def test_every_indicator_problem_is_reported_at_once_before_any_export_is_read(tmp_path, monkeypatch):
    def change(d):
        d["indicators"] += [
            {"id": "a", "label": "A", "theme": "knowledge", "question": "know/nope", "positive": ["x"],
             "population": ["staff"]},
            {"id": "b", "label": "B", "theme": "knowledge", "question": "prac/give_info", "positive": ["si"],
             "population": ["staff"]},
            {"id": "c", "label": "C", "theme": "practices", "question": "prac/give_info", "type": "numeric",
             "population": ["staff"]},
            {"id": "d", "label": "D", "theme": "knowledge", "type": "score", "cut_off": 0.8,
             "items": [{"question": "know/know_level", "correct": ["excellent"]}], "population": ["staff"]},
            {"id": "e", "label": "E", "theme": "attitudes", "question": "know/self_know_sen", "type": "scale",
             "levels": ["disagree", "neutral", "agree"], "positive": ["agree"], "population": ["staff"]},
        ]

    params = _with(tmp_path, monkeypatch, change)
    (tmp_path / "data" / "raw" / "fixture" / "baseline.csv").write_bytes(b"\x00not an export")  # never opened
    with pytest.raises(ConfigError) as err:
        clean_campaign(params)
    msg = str(err.value)
    for part in ["'know/nope' is not a question", "'si' is not a choice of prac/give_info (yes, no, dont_know, refused)",
                 "numeric indicator needs a question of type integer or decimal or range, but prac/give_info is select_one",
                 "'excellent' is not a choice of know/know_level",
                 "strongly_disagree, strongly_agree of know/self_know_sen are neither a level"]:
        assert part in msg, part
    assert msg.count("\n  - ") == 5


def test_per_option_labels_in_another_report_language_come_from_the_forms_question_and_choice(tmp_path, monkeypatch):
    from evalkit.report.format import indicator_label
    from evalkit.report.i18n import use_language

    _project(tmp_path, monkeypatch, extra=[EACH])
    params = load_params("fixture")
    assert params.indicator("seen_tv").option == "tv"
    with use_language("mn"):
        # the fixture form's Mongolian labels (fixtures_raw.SURVEY / CHOICES)
        assert indicator_label(params, "seen_tv") == "Аяныг хаанаас харсан бэ?: Телевиз"
        assert indicator_label(params, "seen_school") == "Аяныг хаанаас харсан бэ?: Сургууль дээр"


def test_the_cleaning_log_says_which_indicators_count_dont_know_as_negative(tmp_path, monkeypatch):
    observed = {"id": "gives", "label": "Gives", "theme": "practices", "question": "prac/give_info",
                "positive": ["yes"], "denominator": {"dont_know": "negative"}, "population": ["parent_sen"]}
    _project(tmp_path, monkeypatch, extra=[observed])
    log = clean_campaign(load_params("fixture")).log.set_index(["wave", "rule"])
    assert "count them as negative (params denominator), the reason still kept: gives (dont_know)" in \
        log.loc[("endline", "dont_know_refused"), "reason"]


def test_evalkit_check_reports_indicator_problems_without_reading_an_export(tmp_path, monkeypatch, capsys):
    from evalkit.cli import main

    _project(tmp_path, monkeypatch, extra=[{"id": "x", "label": "X", "theme": "knowledge", "question": "prac/give_info",
                                            "positive": ["si"], "population": ["staff"]}])
    (tmp_path / "data" / "raw" / "fixture" / "baseline.csv").write_bytes(b"\x00not an export")
    assert main(["check", "fixture"]) == 2
    assert "'si' is not a choice of prac/give_info" in capsys.readouterr().err


def test_a_derived_group_follows_the_teams_corrections(tmp_path, monkeypatch):
    from evalkit import deid

    def change(d):
        d["derived"] = [{"name": "sen_parent", "question": "resp/has_sen_child", "map": {"yes": "sen", "no": "no_sen"}}]
        d["columns"]["group"] = "sen_parent"
        d["groups"] = {"sen": "Has a child with SEN", "no_sen": "No child with SEN"}
        d["cleaning"]["consistency_checks"] = []
        for ind in d["indicators"]:
            ind["population"] = ["sen", "no_sen"]

    params = _with(tmp_path, monkeypatch, change)
    raw = tmp_path / "data" / "raw" / "fixture"
    (raw / "corrections.csv").write_text("_uuid,question,current_value,corrected_value,reason,who,when\n"
                                         "uuid-0001,resp/has_sen_child,yes,no,back-check,Oyuna,2022-01-20\n",
                                         encoding="utf-8")
    result = clean_campaign(params)
    r001 = deid.pseudonymise(pd.Series(["R001"]), deid.pseudonym_key().key).iloc[0]
    base = result.responses[result.responses.wave == "baseline"].set_index("respondent_id")
    assert base.loc[r001, "group"] == "no_sen"  # the raw export says yes; the correction says no
    rules = result.log[result.log.wave == "baseline"]["rule"].tolist()
    assert rules.index("derived:sen_parent") > rules.index("correction")
