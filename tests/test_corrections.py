"""Tests for evalkit.corrections: the team's corrections, "other" recodes and duplicate resolutions.

Each path is run through the real cleaning step (:func:`evalkit.cleaning.clean_campaign`) on the
fixture project of ``fixtures_raw`` (baseline CSV with choice names, endline XLSX with Mongolian
labels), and the raw folder is hashed before and after: the decisions never edit a raw file.
"""

from __future__ import annotations

import csv
import hashlib
import io

import pandas as pd
import pytest

import fixtures_raw as fx
from evalkit import deid
from evalkit.cleaning import clean_campaign
from evalkit.errors import ConfigError, RawDataError
from evalkit.params import load_params

HEADER = "_uuid,question,current_value,corrected_value,reason,who,when\n"


def _project(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    monkeypatch.delenv(deid.KEY_ENV, raising=False)
    return fx.make_project(tmp_path)


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _pid(raw_id: str) -> str:
    return deid.pseudonymise(pd.Series([raw_id]), deid.pseudonym_key().key).iloc[0]


def _rows(log, rule):
    return log[log["rule"] == rule]


def test_corrections_applied_before_rules_logged_and_raw_untouched(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    (raw / "corrections.csv").write_text(
        HEADER
        + "uuid-0002,know/know_level,dont_know,good,back-check call,Oyuna,2022-01-20\n"  # baseline, choice names
        + "uuid-0023,know/know_level,Дунд,very_good,supervisor re-visit,Bat,2022-03-10\n"  # endline: a label works
        + "uuid-0009,end,2022-01-18T10:02:00.000+08:00,2022-01-18T10:25:00.000+08:00,tablet clock,Bat,2022-01-19\n"
        + "uuid-0011,resp/resp_id,R010,R011,id mistyped (call me on 99112233),Oyuna,2022-01-21\n",
        encoding="utf-8")
    before = _hashes(raw)
    result = clean_campaign(load_params("fixture"))
    assert _hashes(raw) == before  # raw files byte-identical, the decision file included
    log = result.log
    corr = _rows(log, "correction")
    assert len(corr) == 4 and (corr["rows_dropped"] == 0).all()
    assert list(corr["wave"]) == ["baseline"] * 3 + ["endline"]
    # corrections come right after reading, before the first rule
    base = log[log["wave"] == "baseline"]["rule"].tolist()
    assert base.index("correction") < base.index("duplicate_submission")
    text = " ".join(corr["reason"])
    assert "'dont_know' to 'good'" in text and "'average' to 'very_good'" in text
    assert "R010" not in text and "R011" not in text and "value not shown" in text  # ids never echoed
    assert "99112233" not in text and "back-check" not in text  # the reason is free text: it stays in data/raw
    assert "by Oyuna on 2022-01-20; reason in the file" in text
    assert "uuid-" not in " ".join(log["reason"])  # the log (shown in the report) names file rows, not submissions
    r = result.responses.set_index(["respondent_id", "wave"])
    assert bool(r.loc[(_pid("R002"), "baseline"), "good_knowledge"]) is True
    assert bool(r.loc[(_pid("R002"), "endline"), "good_knowledge"]) is True
    # the corrected end time makes R009 long enough; the corrected id makes R010 interviewed once
    assert (_pid("R009"), "baseline") in r.index and (_pid("R011"), "baseline") in r.index
    dropped = log[log["wave"] == "baseline"].set_index("rule")["rows_dropped"]
    assert dropped["short_interview"] == 0 and dropped["duplicate_respondent"] == 0
    files = result.raw_files.set_index("file")
    assert files.loc["corrections.csv", "sha256"] == before["corrections.csv"]


def test_correction_whose_current_value_differs_is_an_error(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    (raw / "corrections.csv").write_text(HEADER + "uuid-0002,know/know_level,poor,good,call,Oyuna,2022-01-20\n"
                                         + "uuid-0011,resp/resp_id,R999,R011,typo,Oyuna,2022-01-21\n",
                                         encoding="utf-8")
    before = _hashes(raw)
    with pytest.raises(RawDataError) as exc:
        clean_campaign(load_params("fixture"))
    msg = str(exc.value)
    assert "corrections.csv row 2" in msg and "'dont_know' in the export" in msg and "export changed" in msg
    assert "corrections.csv row 3" in msg and "R010" not in msg and "R999" not in msg  # identifiers not echoed
    assert _hashes(raw) == before


def test_correction_of_unknown_uuid_is_an_error(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    (raw / "corrections.csv").write_text(HEADER + "uuid-9999,know/know_level,good,poor,call,Oyuna,2022-01-20\n",
                                         encoding="utf-8")
    with pytest.raises(RawDataError, match=r"corrections.csv row 2: no export has a submission with _uuid uuid-9999"):
        clean_campaign(load_params("fixture"))


@pytest.mark.parametrize("row, expected", [
    ("uuid-0002,know/know_level,dont_know,excellent,x,y,z\n", "'excellent' is not a choice of know/know_level"),
    ("uuid-0013,resp/grade,12,twelve,x,y,z\n", "is not a number"),
    ("uuid-0002,know/no_such_question,a,b,x,y,z\n", "'know/no_such_question' is not in baseline.csv"),
    ("uuid-0002,_uuid,uuid-0002,uuid-9,x,y,z\n", "the _uuid itself cannot be corrected"),
])
def test_correction_to_an_impossible_value_is_an_error(tmp_path, monkeypatch, row, expected):
    raw = _project(tmp_path, monkeypatch)
    (raw / "corrections.csv").write_text(HEADER + row, encoding="utf-8")
    with pytest.raises(RawDataError, match=expected):
        clean_campaign(load_params("fixture"))


def test_decision_file_named_in_params_must_exist_and_have_its_columns(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    params = tmp_path / "params" / "fixture.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace(
        "cleaning:\n", "cleaning:\n  corrections: team/fixes.csv\n"), encoding="utf-8")
    with pytest.raises(RawDataError, match="does not exist"):
        clean_campaign(load_params("fixture"))
    (raw / "team").mkdir()
    (raw / "team" / "fixes.csv").write_text("_uuid,question\nuuid-0002,know/know_level\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="lacks the column"):
        clean_campaign(load_params("fixture"))
    params.write_text(params.read_text(encoding="utf-8").replace("team/fixes.csv", "../../x.csv"), encoding="utf-8")
    with pytest.raises(ConfigError):
        clean_campaign(load_params("fixture"))


# --------------------------------------------------------------------------- "other (specify)"


def _with_other_specify(raw):
    """Make prac/channels a select_multiple ... or_other, with its text column in the baseline export."""
    survey = [(("select_multiple channel or_other", *row[1:]) if row[1] == "channels" else row) for row in fx.SURVEY]
    fx.write_codebook(raw / "kap_form.xlsx", survey=survey)
    rows = list(csv.reader(io.StringIO((raw / "baseline.csv").read_text(encoding="utf-8"))))
    head = rows[0]
    i, u = head.index("prac/channels"), head.index("_uuid")
    head.insert(i + 1, "prac/channels_other")
    texts = {"uuid-0001": "My neighbour's child", "uuid-0002": "  my NEIGHBOUR's child ", "uuid-0003": "radio"}
    for r in rows[1:]:
        other = texts.get(r[u], "")
        if other:
            r[i] = "facebook other" if r[u] != "uuid-0003" else "other"
        r.insert(i + 1, other)
    fx.write_csv(raw / "baseline.csv", head, rows[1:])


def test_other_specify_recoded_to_existing_and_new_choices(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    _with_other_specify(raw)
    (raw / "other_recodes.csv").write_text(
        "question,other_text,recode_to,new_choice,reason,who,when\n"
        "prac/channels,my neighbour's child,neighbour,yes,word of mouth is a channel,Oyuna,2022-01-25\n"
        "prac/channels,Radio,tv,,broadcast media,Oyuna,2022-01-25\n"
        "prac/channels,a text nobody wrote,school,,,Oyuna,2022-01-25\n", encoding="utf-8")
    before = _hashes(raw)
    result = clean_campaign(load_params("fixture"))
    assert _hashes(raw) == before
    rec = _rows(result.log, "other_recode")
    base = rec[rec["wave"] == "baseline"]["reason"].tolist()
    assert "2 'other' answer(s) of prac/channels" in base[0] and "(a new choice)" in base[0]
    assert "1 'other' answer(s)" in base[1] and "0 'other' answer(s)" in base[2]  # no match is said, not hidden
    assert not any("neighbour's" in t.casefold() or "radio" in t.casefold() for t in rec["reason"])  # text not echoed
    # the endline export has no text column: said in the log too
    assert "nothing recoded" in rec[rec["wave"] == "endline"]["reason"].iloc[0]


def test_recode_to_an_unknown_choice_without_new_choice_is_an_error(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    _with_other_specify(raw)
    (raw / "other_recodes.csv").write_text("question,other_text,recode_to,reason,who,when\n"
                                           "prac/channels,radio,radio,,Oyuna,2022-01-25\n"
                                           "resp/resp_id,x,y,,Oyuna,2022-01-25\n", encoding="utf-8")
    with pytest.raises(RawDataError) as exc:
        clean_campaign(load_params("fixture"))
    assert "other_recodes.csv row 2: recode_to 'radio' is not a choice" in str(exc.value)
    assert "row 3: 'resp/resp_id' is not a select question" in str(exc.value)


def test_recodes_unit_select_one():
    """apply_recodes on a harmonised select_one column (other -> a choice), on a tiny frame."""
    from evalkit.corrections import Decisions, _empty, CORRECTION_COLUMNS, DUPLICATE_COLUMNS, apply_recodes
    from evalkit.xlsform import Codebook, Choice, Question

    cb = Codebook(path=__import__("pathlib").Path("form.xlsx"), form_id="f", version="1",
                  questions={"q": Question("q", "q", "select_one", "l", or_other=True),
                             "q_other": Question("q_other", "q_other", "text", None)},
                  choices={"l": [Choice("l", "a"), Choice("l", "b")]})
    df = pd.DataFrame({"q": pd.Categorical(["a", "other", "other", None], categories=["a", "b", "other"]),
                       "q_other": pd.array([None, " B thing", "else", None], dtype="str")}, index=[2, 3, 4, 5])
    rec = pd.DataFrame([{"question": "q", "other_text": "b THING", "recode_to": "b", "new_choice": None,
                         "reason": None, "who": None, "when": None}], index=[2])
    d = Decisions(_empty(CORRECTION_COLUMNS), rec, _empty(DUPLICATE_COLUMNS))
    out, applied = apply_recodes(df, d, codebook=cb, file="x.csv")
    assert out["q"].astype(object).tolist()[:3] == ["a", "b", "other"] and pd.isna(out["q"].iloc[3])
    assert df["q"].astype(object).tolist()[1] == "other"  # input not mutated
    assert "1 'other' answer(s) of q" in applied[0].reason


# --------------------------------------------------------------------------- duplicates


def test_duplicate_resolution_replaces_the_default_rule_and_is_logged(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    # Baseline R010: rows 11 (uuid-0010, complete) and 12 (uuid-0011, incomplete); the default rule
    # (latest_complete) keeps uuid-0010. The team keeps uuid-0011. Endline R001: default keeps the latest
    # (uuid-0022); the team keeps uuid-0021.
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\n"
                                        "uuid-0011,first visit was a neighbour answering,Bat,2022-01-22\n"
                                        "uuid-0021,second visit not consented properly,Bat,2022-03-12\n",
                                        encoding="utf-8")
    before = _hashes(raw)
    result = clean_campaign(load_params("fixture"))
    assert _hashes(raw) == before
    log = result.log
    res = _rows(log, "duplicate_resolution")
    assert res["wave"].tolist() == ["baseline", "endline"] and res["rows_dropped"].tolist() == [1, 1]
    assert "duplicates.csv row 2" in res["reason"].iloc[0] and "by Bat on 2022-01-22" in res["reason"].iloc[0]
    assert "uuid-" not in " ".join(log["reason"])
    default = _rows(log, "duplicate_respondent")
    assert default["rows_dropped"].tolist() == [0, 0]  # nothing left for the default rule
    r = result.responses.set_index(["respondent_id", "wave"])
    assert pd.isna(r.loc[(_pid("R010"), "baseline"), "know_well"])  # the incomplete interview was kept
    assert r.loc[(_pid("R001"), "endline"), "know_well_level"] == 5  # uuid-0021: strongly_agree


def test_duplicate_resolution_of_a_dropped_row_is_said_and_unknown_uuid_is_an_error(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0009,x,Bat,2022-01-22\n", encoding="utf-8")
    log = clean_campaign(load_params("fixture")).log
    line = _rows(log, "duplicate_resolution")["reason"].iloc[0]
    assert "already dropped by an earlier rule" in line
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0404,x,Bat,2022-01-22\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="duplicates.csv row 2: no export has a submission with _uuid uuid-0404"):
        clean_campaign(load_params("fixture"))


def test_contradicting_duplicate_resolutions_are_an_error(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0021,x,Bat,d\nuuid-0022,y,Bat,d\n"
                                        "uuid-0022,z,Bat,d\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="rows 3, 4 name the same submission"):
        clean_campaign(load_params("fixture"))
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0021,x,Bat,d\nuuid-0022,y,Bat,d\n",
                                        encoding="utf-8")
    with pytest.raises(RawDataError, match="rows 2 and 3 keep two different submissions of the same respondent"):
        clean_campaign(load_params("fixture"))


def test_recodes_unit_select_multiple_keeps_the_other_choices():
    """select_multiple: the 'other' word is replaced, the other mentions stay (sorted, no repeats)."""
    from pathlib import Path

    from evalkit.corrections import CORRECTION_COLUMNS, DUPLICATE_COLUMNS, Decisions, _empty, apply_recodes
    from evalkit.xlsform import Choice, Codebook, Question

    cb = Codebook(path=Path("form.xlsx"), form_id="f", version="1",
                  questions={"m": Question("m", "m", "select_multiple", "l", or_other=True),
                             "m_other": Question("m_other", "m_other", "text", None)},
                  choices={"l": [Choice("l", "tv"), Choice("l", "radio")]})
    df = pd.DataFrame({"m": pd.Categorical(["tv other", "other", "tv"]),
                       "m_other": pd.array(["Radio", "radio", "radio"], dtype="str")}, index=[2, 3, 4])
    rec = pd.DataFrame([{"question": "m", "other_text": "radio", "recode_to": "radio", "new_choice": None,
                         "reason": "r", "who": "w", "when": "d"}], index=[2])
    out, applied = apply_recodes(df, Decisions(_empty(CORRECTION_COLUMNS), rec, _empty(DUPLICATE_COLUMNS)),
                                 codebook=cb, file="x.csv")
    assert out["m"].astype(object).tolist() == ["radio tv", "radio", "tv"]  # row 4 did not answer 'other'
    assert "2 'other' answer(s) of m" in applied[0].reason


def test_two_resolutions_in_one_wave_after_a_correction_made_a_duplicate(tmp_path, monkeypatch):
    raw = _project(tmp_path, monkeypatch)
    # The back-check finds that uuid-0004 interviewed R003 (id mistyped as R004): now R003 has two interviews.
    (raw / "corrections.csv").write_text(HEADER + "uuid-0004,resp/resp_id,R004,R003,back-check,Oyuna,2022-01-20\n",
                                         encoding="utf-8")
    (raw / "duplicates.csv").write_text("_uuid,reason,who,when\nuuid-0004,x,Bat,2022-01-22\n"
                                        "uuid-0011,y,Bat,2022-01-22\n", encoding="utf-8")
    result = clean_campaign(load_params("fixture"))
    base = result.log[result.log["wave"] == "baseline"]
    res = base[base["rule"] == "duplicate_resolution"]
    assert res["rows_dropped"].tolist() == [1, 1]
    assert (res["rows_in"].iloc[1:].to_numpy() == res["rows_out"].iloc[:-1].to_numpy()).all()  # the chain holds
    assert base.set_index("rule").loc["duplicate_respondent", "rows_dropped"] == 0
    r = result.responses.set_index(["respondent_id", "wave"])
    assert (_pid("R004"), "baseline") not in r.index
    assert r.loc[(_pid("R003"), "baseline"), "group"] == "parent_sen"  # uuid-0004's interview was kept
