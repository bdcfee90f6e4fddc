"""Issue 13 end to end: a campaign using every indicator kind runs through make report (real notebooks)."""

from __future__ import annotations

import pandas as pd
import yaml
from bs4 import BeautifulSoup

import fixtures_raw as fx
from test_pipeline import make_project_copy, run

KINDS = [
    {"id": "seen", "label": "Saw the campaign on", "theme": "practices", "question": "prac/channels",
     "each_option": True, "population": ["parent_sen", "parent_nosen", "staff"]},
    {"id": "agree_scale", "label": "Knows well (as a scale)", "theme": "attitudes", "question": "know/self_know_sen",
     "type": "scale", "levels": ["strongly_disagree", "disagree", "neutral", "agree", "strongly_agree"],
     "positive": ["agree", "strongly_agree"], "population": ["parent_sen", "parent_nosen", "staff"]},
    {"id": "grade_num", "label": "Grade of the child", "theme": "practices", "question": "resp/grade",
     "type": "numeric", "dont_know_codes": [98], "population": ["parent_sen", "parent_nosen", "staff"]},
    {"id": "knows_score", "label": "Knowledge score", "theme": "knowledge", "type": "score", "cut_off": 0.5,
     "items": [{"question": "know/know_level", "correct": ["good", "very_good"]},
               {"question": "prac/channels", "correct": ["tv"]}],
     "population": ["parent_sen", "parent_nosen", "staff"]},
    {"id": "gives_observed", "label": "Gives information (observed)", "theme": "practices",
     "question": "prac/give_info", "positive": ["yes"], "mode": "observed",
     "denominator": {"dont_know": "negative"}, "population": ["parent_sen", "parent_nosen"]},
]


def test_every_kind_runs_through_the_notebooks_into_the_report(tmp_path):
    root = make_project_copy(tmp_path / "project")
    fx.make_project(root)
    path = root / "params" / "fixture.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["indicators"] += KINDS
    data["min_cell_size"] = 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    res = run(["make", "report", "CAMPAIGN=fixture"], root)
    assert res.returncode == 0, f"make report failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    results = pd.read_csv(root / "reports" / "fixture" / "results.csv")
    kinds = results.drop_duplicates("indicator").set_index("indicator")["indicator_type"].to_dict()
    assert {kinds[k] for k in ("seen_facebook", "seen_tv", "seen_school")} == {"binary"}
    assert (kinds["agree_scale"], kinds["grade_num"], kinds["knows_score"]) == ("scale", "numeric", "score")
    assert set(results.loc[results.indicator == "gives_observed", "mode"]) == {"observed"}
    assert results.loc[results.indicator == "grade_num", "baseline_pct"].isna().all()
    html = (root / "reports" / "fixture.html").read_text(encoding="utf-8")
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert "Knowledge scores by wave" in text and "Saw the campaign on: Television" in text
    assert "Grade of the child" in text and "mean " in text
