"""Tests for evalkit.report.index: stage list, shared indicators, joint reach, offline and deterministic HTML."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup
from test_report import CANARY, assert_no_injection, synthetic_claims, synthetic_responses, synthetic_results

from evalkit import paths
from evalkit.report import htmlexport, index
from evalkit.atomic import write_csv_atomic
from evalkit.params import load_params


@pytest.fixture(scope="module")
def stage_results():
    """Synthetic results.csv and claims.csv per shipped campaign (computed once)."""
    out = {}
    for c in paths.available_campaigns():
        p = load_params(c)
        res = synthetic_results(p, synthetic_responses(p, n=30, seed=len(c)))
        out[c] = (res, synthetic_claims(p, res))
    return out


@pytest.fixture
def project(tmp_path, monkeypatch, stage_results):
    """A project copy (params only) with results for the given campaigns."""
    shutil.copytree(paths.params_dir(), tmp_path / "params")
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))

    def write(*campaigns, report=()):
        for c in campaigns:
            res, claims = stage_results[c]
            write_csv_atomic(res, paths.campaign_reports_dir(c) / "results.csv")
            write_csv_atomic(claims, paths.campaign_reports_dir(c) / "claims.csv")
        for c in report:
            paths.report_html(c).write_text("<!DOCTYPE html><title>x</title>", encoding="utf-8")
        return tmp_path
    return write


def test_index_lists_only_stages_with_results(project):
    project("together", "differently-different-2019", report=["together"])
    out = index.build_index()
    assert out == paths.reports_dir() / "index.html"
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    cards = soup.select("li.ek-card")
    assert [c.h3.get_text() for c in cards] == [load_params("differently-different-2019").stage,
                                               load_params("together").stage]  # by campaign start date
    assert cards[1].find("a")["href"] == "together.html"
    assert cards[0].find("a") is None and "not built yet" in cards[0].get_text()


def test_shared_indicators_compare_stages(project, stage_results):
    project(*paths.available_campaigns())
    stages = index.load_stages()
    shared = index.shared_indicators(stages)
    # attend_regular is in all three params files; adapted_lesson only in together.yaml.
    attend = shared[shared["indicator"] == "attend_regular"]
    assert attend["year"].tolist() == [2019, 2020, 2022]
    assert "adapted_lesson" not in set(shared["indicator"])
    # Values are each stage's own results.csv values (pooled row).
    tog = stage_results["together"][0]
    expected = tog[(tog["indicator"] == "attend_regular") & (tog["group"] == "all")]["change_pp"].iloc[0]
    assert attend[attend["campaign"] == "together"]["change_pp"].iloc[0] == pytest.approx(expected, abs=1e-9)
    assert shared["indicator"].iloc[0] == "attend_regular"  # the indicator shared by most stages comes first


def test_stage_summary_counts(project, stage_results):
    project("together")
    summ = index.stage_summary(index.load_stages()).iloc[0]
    claims = stage_results["together"][1]
    assert summ["claims_consistent"] == int((claims["verdict"] == "consistent").sum())
    assert summ["claims_testable"] == int((claims["verdict"] != "not testable").sum())


def test_joint_reach_sums_stage_exports(project):
    root = project()
    for c, eng in (("differently-different-2019", [1_500_000, 1_000_000]), ("differently-different-2020", [2_000_000])):
        d = paths.campaign_processed_dir(c)
        d.mkdir(parents=True)
        pd.DataFrame({"post_id": [f"p{i}" for i in range(len(eng))], "engagements": eng}).to_parquet(d / "reach.parquet")
    # The published figure comes from params/differently-different-2020.yaml
    # (published_reach_across_stages: more than 4,000,000 for 2019 + 2020).
    stage = index.Stage(campaign="differently-different-2020", params=load_params("differently-different-2020"),
                        results=pd.DataFrame(), claims=None, report=root / "x.html")
    j = index.joint_reach([stage]).iloc[0]
    assert j["published_min"] == 4_000_000
    assert j["total"] == 4_500_000 and j["verdict"] == "consistent"  # 4.5 million > "more than 4 million"
    (paths.campaign_processed_dir("differently-different-2020") / "reach.parquet").unlink()
    assert index.joint_reach([stage]).iloc[0]["verdict"] == "not testable"
    assert index.joint_reach([]).empty
    assert root.is_dir()


def test_index_is_offline_deterministic_and_escaped(project, stage_results, monkeypatch):
    project(*paths.available_campaigns())
    first = index.build_index().read_bytes()
    assert index.render_index(index.load_stages()).encode("utf-8") == first
    text = first.decode("utf-8")
    assert htmlexport.external_references(text) == []
    soup = BeautifulSoup(text, "html.parser")
    assert soup.html["lang"] == "en" and soup.find("script") is None
    assert all(a["href"].startswith("#") for a in soup.select("nav.ek-toc a"))
    # Hostile text in a params file (stage name, indicator label) is shown as text.
    f = paths.params_dir() / "together.yaml"
    data = yaml.safe_load(f.read_text(encoding="utf-8"))
    data["stage"] = CANARY
    data["indicators"][3]["label"] = CANARY  # attend_regular, shared with the other stages
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    main = index.render_index(index.load_stages()).split("<main", 1)[1]
    assert_no_injection(main)
    assert "&lt;script&gt;" in main


def test_index_without_results(project):
    project()
    text = index.build_index().read_text(encoding="utf-8")
    assert "No stage has results yet" in text
