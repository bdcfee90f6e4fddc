"""Tests for evalkit.cleaning: every rule, the log invariant, the contract, de-identification, raw immutability."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

import fixtures_raw as fx
from evalkit import cleaning, cleaning_rules, deid, paths
from evalkit.cleaning import LOG_COLUMNS, clean_campaign, write_processed
from evalkit.errors import ConfigError, RawDataError
from evalkit.params import load_params



def _project(tmp_path, monkeypatch, **kw):
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    monkeypatch.delenv(deid.KEY_ENV, raising=False)
    raw = fx.make_project(tmp_path, **kw)
    return raw, load_params("fixture")


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def check_log_invariant(log: pd.DataFrame, responses: pd.DataFrame, raw_rows: dict[str, int]) -> None:
    """rows_in = rows_out + dropped per rule; rules chain; first rows_in = raw rows; last rows_out = output rows."""
    assert log.columns.tolist() == LOG_COLUMNS
    for wave, part in log.groupby("wave"):
        assert (part["rows_in"] - part["rows_dropped"] == part["rows_out"]).all()
        assert (part["rows_in"].iloc[1:].to_numpy() == part["rows_out"].iloc[:-1].to_numpy()).all()
        assert part["rows_in"].iloc[0] == raw_rows[wave]
        assert part["rows_out"].iloc[-1] == (responses["wave"] == wave).sum()
        assert part["step"].tolist() == list(range(1, len(part) + 1))


def check_contract(responses: pd.DataFrame, params) -> None:
    """Columns and dtypes of responses.parquet (docs/design.md, "Processed data contract")."""
    expected = ["respondent_id", "wave", "group", "interview_date", *params.demographics, "weight"]
    for ind in params.indicators:
        expected += [ind.id, f"{ind.id}_missing_reason"] + ([f"{ind.id}_level"] if ind.type == "likert" else [])
    assert responses.columns.tolist()[:len(expected)] == expected
    assert set(responses["wave"]) <= {"baseline", "endline"}
    assert set(responses["group"]) <= set(params.groups)
    assert responses["respondent_id"].str.fullmatch(r"r[0-9a-f]{16}").all()
    assert not responses[["respondent_id", "wave"]].duplicated().any()
    assert (responses["weight"] == 1.0).all() or params.columns.weight
    for ind in params.indicators:
        assert responses[ind.id].dtype == "boolean"
        reason = responses[f"{ind.id}_missing_reason"]
        assert set(reason.dropna()) <= {"dont_know", "refused", "not_asked"}
        assert (reason.isna() == responses[ind.id].notna()).all()  # missing exactly when a reason is given
        assert (reason[~responses["group"].isin(ind.population)] == "not_asked").all()
        if ind.type == "likert":
            level = responses[f"{ind.id}_level"]
            assert level.dtype == "Int8" and level.dropna().between(1, 5).all()
            assert (level.notna() == responses[ind.id].notna()).all()
    assert str(responses["interview_date"].dtype).startswith("date32")


def processed_text(folder) -> str:
    """Every value and column name of every processed file, as one text blob."""
    parts = []
    for p in sorted(folder.iterdir()):
        if p.suffix == ".parquet":
            df = pd.read_parquet(p)
            parts += [str(c) for c in df.columns]
            parts += [df[c].astype("str").str.cat(sep="\n") for c in df.columns]
        else:
            parts.append(p.read_text(encoding="utf-8"))
    return "\n".join(parts)


def test_fixture_campaign_end_to_end(tmp_path, monkeypatch):
    raw, params = _project(tmp_path, monkeypatch)
    before = _hashes(raw)
    result = clean_campaign(params)
    out = write_processed(result)
    assert out == paths.campaign_processed_dir("fixture")
    assert _hashes(raw) == before  # raw files byte-identical after a run
    assert sorted(p.name for p in out.iterdir()) == ["cleaning_log.csv", "panel.csv", "raw_files.csv",
                                                       "reach.parquet", "responses.parquet"]  # no temp files left
    log = pd.read_csv(out / "cleaning_log.csv")
    responses = pd.read_parquet(out / "responses.parquet")
    check_log_invariant(log, responses, {"baseline": 16, "endline": 6})
    check_contract(responses, params)
    for wave, drops in fx.EXPECTED_DROPS.items():
        got = log[log["wave"] == wave].set_index("rule")["rows_dropped"]
        for rule, n in drops.items():
            assert got[rule] == n, (wave, rule)
        assert got["dont_know_refused"] == 0 and got["deidentify"] == 0
    # Fixture: baseline keeps R001-R005 and R010; endline R001-R003, R020, R021 -> 3 matched.
    assert pd.read_csv(out / "panel.csv").iloc[0].tolist() == [3, 3, 2]
    raw_files = pd.read_csv(out / "raw_files.csv")
    assert raw_files["file"].tolist() == ["kap_form.xlsx", "baseline.csv", "endline.xlsx", "reach.csv"]
    assert raw_files["sha256"].tolist() == [before[f] for f in raw_files["file"]]
    assert raw_files.set_index("file").loc["baseline.csv", "rows"] == 16
    assert "WARNING: public demo key" in log.loc[log["rule"] == "deidentify", "reason"].iloc[-1]
    assert "left out: _notes, comments, resp/phone, resp/resp_name;" in log.loc[log["rule"] == "deidentify", "reason"].iloc[-1]
    assert (responses["interview_date"].astype("str").max()) == "2022-03-09"


def test_no_pii_in_processed(tmp_path, monkeypatch):
    raw, params = _project(tmp_path, monkeypatch)
    out = write_processed(clean_campaign(params))
    text = processed_text(out)
    for value in fx.PII_VALUES + ["R001", "R010", "Оюунаа", "99112233", "8811 4455", "95554433"]:
        assert value not in text, value


def test_demo_key_flagged_and_env_key_changes_ids(tmp_path, monkeypatch):
    _, params = _project(tmp_path, monkeypatch)
    demo = clean_campaign(params)
    assert demo.key_source == "demo" and deid.key_notice(demo.key_source).startswith("WARNING")
    monkeypatch.setenv(deid.KEY_ENV, "a real secret")
    keyed = clean_campaign(params)
    assert keyed.key_source == "env" and "EVALKIT_PSEUDONYM_KEY" in keyed.log.loc[keyed.log["rule"] == "deidentify", "reason"].iloc[-1]
    assert not set(demo.responses["respondent_id"]) & set(keyed.responses["respondent_id"])
    assert keyed.panel.iloc[0].tolist() == demo.panel.iloc[0].tolist()  # matching survives the key


@pytest.mark.parametrize("variant", [
    dict(baseline_format="xlsx"),
    dict(baseline_format="sav"),
    dict(encoding="cp1251"),
    dict(encoding="utf-8-sig", baseline_headers="label", baseline_values="label", baseline_language="mn",
         baseline_sep="-"),
    dict(baseline_values="label", baseline_language="en", baseline_sep="-"),
])
def test_every_reader_gives_the_same_result(tmp_path, monkeypatch, variant):
    _, params = _project(tmp_path / "ref", monkeypatch)
    reference = clean_campaign(params)
    _, params = _project(tmp_path / "variant", monkeypatch, **variant)
    result = clean_campaign(params)
    pd.testing.assert_frame_equal(result.responses, reference.responses)
    assert result.log["rows_dropped"].tolist() == reference.log["rows_dropped"].tolist()


@pytest.mark.parametrize(("keep", "expected_reason"), [("latest_complete", None), ("first", None),
                                                       ("latest", "not_asked")])
def test_duplicate_respondent_keep_rules(tmp_path, monkeypatch, keep, expected_reason):
    # R010 was interviewed twice: 09:00 (complete) and 11:00 (know_well left empty).
    _, params = _project(tmp_path, monkeypatch, keep=keep)
    result = clean_campaign(params)
    r010 = deid.pseudonymise(pd.Series(["R010"]), deid.DEMO_KEY).iloc[0]
    row = result.responses[(result.responses["respondent_id"] == r010)].iloc[0]
    reason = row["know_well_missing_reason"]
    assert (None if pd.isna(reason) else reason) == expected_reason


def test_free_text_kept_only_scrubbed(tmp_path, monkeypatch):
    _, params = _project(tmp_path, monkeypatch, free_text="keep_scrubbed")
    result = clean_campaign(params)
    text = result.responses["text_comments"].dropna().tolist()
    assert "call me on [phone]" in text and "[email]" in text
    assert "resp/resp_name" not in result.responses and "text_resp_resp_name" not in result.responses
    assert "text_resp_resp_id" not in result.responses  # the id question is never kept as text
    out = write_processed(result, tmp_path / "staging")
    assert "95554433" not in processed_text(out) and "saraa@example.mn" not in processed_text(out)


def test_params_must_match_codebook(tmp_path, monkeypatch):
    _, params = _project(tmp_path, monkeypatch)
    yaml_path = tmp_path / "params" / "fixture.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(text.replace("question: prac/give_info", "question: prac/give_info2")
                         .replace("  location: demo/location", "  location: demo/location\n  name: resp/resp_name"),
                         encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        clean_campaign(load_params("fixture"))
    message = str(exc.value)
    assert "'prac/give_info2' is not a question" in message and "demographics.name" in message


def test_unreadable_times_listed(tmp_path, monkeypatch):
    raw, params = _project(tmp_path, monkeypatch)
    path = raw / "baseline.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2022-01-18T10:00:00.000+08:00", "18/01/2022 10am", 2),
                    encoding="utf-8")
    with pytest.raises(RawDataError, match=r"baseline.csv.*\n.*'start'.*'18/01/2022 10am'.*row\(s\) 2-3"):
        clean_campaign(params)


def test_structural_column_missing(tmp_path, monkeypatch):
    raw, params = _project(tmp_path, monkeypatch)
    path = raw / "baseline.csv"
    # "_consent" is read as Kobo metadata, so the consent question is absent from the export.
    path.write_text(path.read_text(encoding="utf-8").replace(",consent,", ",_consent,", 1), encoding="utf-8")
    with pytest.raises(RawDataError, match=r"baseline.csv has no column for 'consent'.*renames.baseline"):
        clean_campaign(params)


def test_empty_wave_after_cleaning_is_an_error(tmp_path, monkeypatch):
    raw, params = _project(tmp_path, monkeypatch)
    path = raw / "baseline.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",yes,R0", ",no,R0").replace(",yes,,", ",no,,"), encoding="utf-8")  # consent
    with pytest.raises(RawDataError, match=r"No submission of .*baseline.csv is left after cleaning: rule 'consent'"):
        clean_campaign(params)
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")  # header only
    with pytest.raises(RawDataError, match=r"baseline.csv has a header row but no submissions"):
        clean_campaign(params)


def test_rules_on_small_frames():
    ts = pd.to_datetime(["2022-01-18T10:00:00+08:00"] * 3, utc=True)
    df = pd.DataFrame({"consent": ["yes", "no", None], cleaning_rules._START: ts,
                       cleaning_rules._END: ts + pd.to_timedelta([5, 1, None], unit="min"),
                       "_uuid": ["a", "a", None], "g": ["x", "y", None], "n": [1.0, 99.0, None]},
                      index=[2, 3, 4])
    assert cleaning.drop_refused_consent(df, consent="consent", consent_yes="yes").kept.index.tolist() == [2]
    assert cleaning.drop_short_interviews(df, min_minutes=3).kept.index.tolist() == [2]
    assert cleaning.drop_duplicate_submissions(df).kept.index.tolist() == [2, 4]
    assert cleaning.drop_unknown_groups(df, group_column="g", groups=["x", "y"]).log.rows_dropped == 1
    from evalkit.params import RangeCheck

    res = cleaning.drop_out_of_range(df, RangeCheck(question="n", min=0, max=10))
    assert res.kept.index.tolist() == [2, 4] and res.log == ("range:n", 3, 1, 2, "n outside 0-10")
    assert df.shape == (3, 6)  # input not modified


SHIPPED = [c for c in paths.available_campaigns() if (paths.raw_dir() / c).is_dir()]


def test_output_dir_confined(tmp_path, monkeypatch):
    from evalkit.cleaning import processed_output_dir
    from evalkit.errors import UnsafePathError

    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path / "project"))
    assert processed_output_dir("fixture", "") == tmp_path / "project" / "data" / "processed" / "fixture"
    assert processed_output_dir("fixture", "data/processed/fixture/.staging").name == ".staging"
    for bad in ["../x", "reports/../../x", str(tmp_path / "elsewhere"), "a\x00b", "x" * 300]:
        with pytest.raises(UnsafePathError):
            processed_output_dir("fixture", bad)


@pytest.mark.parametrize("campaign", SHIPPED or [pytest.param("none", marks=pytest.mark.skip("no shipped raw data"))])
def test_shipped_data_cleans(tmp_path, monkeypatch, campaign):
    from evalkit.codebook import harmonise
    from evalkit.readers import read_codebook, read_export

    # A scratch project that sees the shipped params and raw data, so outputs go to tmp_path.
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "params").symlink_to(paths.params_dir())
    (tmp_path / "data" / "raw" / campaign).symlink_to(paths.campaign_raw_dir(campaign))
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    params = load_params(campaign)
    raw_dir = paths.campaign_raw_dir(campaign)
    before = _hashes(raw_dir)
    result = clean_campaign(params)
    out = write_processed(result)
    assert out == tmp_path / "data" / "processed" / campaign
    assert _hashes(raw_dir) == before
    raw_rows = {w: int(result.raw_files.set_index("file").loc[params.wave_file(w).file, "rows"])
                for w in ("baseline", "endline")}
    check_log_invariant(pd.read_csv(out / "cleaning_log.csv"), pd.read_parquet(out / "responses.parquet"), raw_rows)
    check_contract(pd.read_parquet(out / "responses.parquet"), params)
    # No PII value of the raw exports (names, phones, schools, free text, ids) anywhere in processed data.
    codebook = read_codebook(params.raw_path(params.raw.codebook))
    pii_values = set()
    for wave in ("baseline", "endline"):
        wf = params.wave_file(wave)
        frame = harmonise(read_export(params.raw_path(wf.file), wf), codebook, wave_file=wf,
                          renames=params.renames.get(wave, {}))
        for col, kind in deid.detect_pii_columns(frame.columns, codebook).items():
            configured = {i.question for i in params.indicators} | set(params.demographics.values())
            if kind in ("name", "phone", "school", "email", "free_text", "address") and not col.startswith("_") \
                    and col not in configured:  # e.g. att/special_school_effective is an indicator, not PII
                pii_values |= {str(v) for v in frame[col].dropna().unique() if len(str(v).strip()) >= 6}
        pii_values |= {str(v) for v in frame[params.columns.respondent_id].dropna().unique() if len(str(v)) >= 5}
    assert pii_values, "the shipped raw data should contain identifiers to test against"
    text = processed_text(out)
    leaked = [v for v in pii_values if str(v) in text]
    assert not leaked[:10]


def test_sampling_design_columns_reach_processed_data_pseudonymised(tmp_path, monkeypatch):
    # params sampling: strata from a demographic question, the enumerator as cluster (stated).
    raw, _params = _project(tmp_path, monkeypatch)
    f = tmp_path / "params" / "fixture.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "sampling:\n  strata: demo/location\n  cluster_kind: enumerator\n",
                 encoding="utf-8")
    params = load_params("fixture")
    out = write_processed(clean_campaign(params))
    responses = pd.read_parquet(out / "responses.parquet")
    assert {"stratum", "cluster"} <= set(responses.columns)
    assert set(responses["stratum"].dropna()) <= {"urban", "rural"}
    assert responses["cluster"].str.fullmatch(r"r[0-9a-f]{16}").all()  # keyed pseudonyms, like respondent ids
    assert "enum1" not in processed_text(out)
    log = pd.read_csv(out / "cleaning_log.csv")
    pseudonymised = log["reason"].str.contains("respondent ids and clusters (params sampling) replaced by HMAC-SHA256",
                                               regex=False)
    assert pseudonymised.any()  # wherever later steps (k-anonymity) put their lines
